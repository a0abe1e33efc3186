"""Tests for hhpnet.video.sources.resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from hhpnet.errors import InputError
from hhpnet.video.sources import Source, resolve


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_single_image_and_video(tmp_path: Path) -> None:
    img = _touch(tmp_path / "a.JPG")
    vid = _touch(tmp_path / "clip.MP4")
    out = resolve([str(img), str(vid)])
    assert out == [Source("image", str(img)), Source("video", str(vid))]
    assert out[0].is_image and not out[1].is_image


def test_explicit_file_with_unknown_extension_is_an_image(tmp_path: Path) -> None:
    f = _touch(tmp_path / "frame.raw")
    assert resolve(str(f)) == [Source("image", str(f))]


def test_folder_sorted_media_only(tmp_path: Path) -> None:
    for name in ["b.png", "a.jpg", "c.mkv", "notes.txt", "z.webm"]:
        _touch(tmp_path / name)
    (tmp_path / "sub").mkdir()
    _touch(tmp_path / "sub" / "inner.png")
    out = resolve([str(tmp_path)])
    names = [Path(str(s.value)).name for s in out]
    assert names == ["a.jpg", "b.png", "c.mkv", "z.webm"]
    assert [s.kind for s in out] == ["image", "image", "video", "video"]


def test_glob_sorted_and_recursive(tmp_path: Path) -> None:
    for name in ["x2.png", "x1.png", "y.png", "d/x3.png"]:
        _touch(tmp_path / name)
    out = resolve([str(tmp_path / "x*.png")])
    assert [Path(str(s.value)).name for s in out] == ["x1.png", "x2.png"]
    deep = resolve([str(tmp_path / "**" / "x*.png")])
    assert {Path(str(s.value)).name for s in deep} == {"x1.png", "x2.png", "x3.png"}


def test_webcam_and_streams() -> None:
    out = resolve(["0", "2", "rtsp://cam/1", "HTTPS://host/live.m3u8"])
    assert out[0] == Source("webcam", 0)
    assert out[1] == Source("webcam", 2)
    assert out[2] == Source("stream", "rtsp://cam/1")
    assert out[3].kind == "stream"


def test_order_of_arguments_kept(tmp_path: Path) -> None:
    b = _touch(tmp_path / "b.png")
    a = _touch(tmp_path / "a.png")
    assert [s.value for s in resolve([str(b), str(a)])] == [str(b), str(a)]


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("does/not/exist.jpg", "no such file"),
        ("", "empty SOURCE"),
    ],
)
def test_errors(spec: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        resolve([spec])


def test_empty_folder_and_glob(tmp_path: Path) -> None:
    _touch(tmp_path / "readme.txt")
    with pytest.raises(InputError, match="no images or videos found in folder"):
        resolve([str(tmp_path)])
    with pytest.raises(InputError, match="no images or videos match"):
        resolve([str(tmp_path / "*.png")])
    with pytest.raises(InputError, match="no SOURCE"):
        resolve([])
