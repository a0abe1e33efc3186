"""Tests for hhpnet.io.read_image: formats, channel order, bad files."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from hhpnet.errors import InputError
from hhpnet.io import read_image


def _rgb(h: int = 24, w: int = 32) -> np.ndarray:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    img[0, 0] = (255, 0, 0)  # pure red in RGB
    return img


def test_png_path_is_rgb(tmp_path: Path) -> None:
    rgb = _rgb()
    p = tmp_path / "a.png"
    Image.fromarray(rgb).save(p)
    out = read_image(p)
    assert out.dtype == np.uint8 and out.shape == (24, 32, 3)
    np.testing.assert_array_equal(out, rgb)
    np.testing.assert_array_equal(read_image(str(p)), rgb)
    np.testing.assert_array_equal(read_image(p.read_bytes()), rgb)


def test_numpy_bgr_default_and_rgb_flag() -> None:
    rgb = _rgb()
    bgr = rgb[..., ::-1].copy()
    np.testing.assert_array_equal(read_image(bgr), rgb)
    np.testing.assert_array_equal(read_image(rgb, rgb=True), rgb)
    # a BGR array written by OpenCV and read back from disk gives the same RGB image
    assert read_image(bgr)[0, 0].tolist() == [255, 0, 0]


def test_cv2_written_jpeg_matches_cv2_decode(tmp_path: Path) -> None:
    bgr = cv2.GaussianBlur(_rgb(64, 80), (5, 5), 0)
    p = tmp_path / "a.jpg"
    cv2.imwrite(str(p), bgr)
    ours = read_image(p).astype(int)
    ref = cv2.imread(str(p))[..., ::-1].astype(int)
    assert np.abs(ours - ref).mean() < 2.0  # decoders may differ by rounding only


def test_gray_rgba_palette_16bit(tmp_path: Path) -> None:
    gray = np.tile(np.arange(32, dtype=np.uint8) * 8, (16, 1))
    Image.fromarray(gray, mode="L").save(tmp_path / "g.png")
    out = read_image(tmp_path / "g.png")
    assert out.shape == (16, 32, 3)
    np.testing.assert_array_equal(out[..., 0], gray)
    np.testing.assert_array_equal(out[..., 1], out[..., 2])

    rgba = np.dstack([_rgb(16, 32), np.full((16, 32), 7, np.uint8)])
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), rgba[..., :3])
    # BGRA numpy: alpha dropped, channels swapped
    np.testing.assert_array_equal(read_image(rgba[..., [2, 1, 0, 3]]), rgba[..., :3])

    pal = Image.fromarray(gray, mode="L").convert("P")
    pal.save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").shape == (16, 32, 3)

    v = np.tile(np.arange(32, dtype=np.uint16) * 8, (16, 1))
    cv2.imwrite(str(tmp_path / "g16.png"), v * 257)
    np.testing.assert_array_equal(read_image(tmp_path / "g16.png")[..., 0], v)
    c16 = _rgb(16, 32).astype(np.uint16) * 257
    cv2.imwrite(str(tmp_path / "c16.png"), c16[..., ::-1])
    np.testing.assert_array_equal(read_image(tmp_path / "c16.png"), _rgb(16, 32))
    np.testing.assert_array_equal(read_image(c16, rgb=True), _rgb(16, 32))


def test_float_and_pil_inputs() -> None:
    rgb = _rgb()
    np.testing.assert_array_equal(read_image(rgb.astype(np.float32) / 255.0, rgb=True), rgb)
    np.testing.assert_array_equal(read_image(Image.fromarray(rgb)), rgb)
    np.testing.assert_array_equal(
        read_image(Image.fromarray(rgb).convert("L"))[..., 1],
        np.asarray(Image.fromarray(rgb).convert("L")),
    )
    with pytest.raises(InputError, match="NaN"):
        read_image(np.full((10, 10), np.nan))


def test_exif_orientation_applied(tmp_path: Path) -> None:
    rgb = _rgb(16, 40)
    img = Image.fromarray(rgb)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise for display
    img.save(tmp_path / "o.jpg", exif=exif, quality=95)
    assert read_image(tmp_path / "o.jpg").shape == (40, 16, 3)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(InputError, match="0 bytes"):
        read_image(tmp_path / "empty.jpg")
    (tmp_path / "text.jpg").write_bytes(b"this is not an image at all")
    with pytest.raises(InputError, match="not a readable image"):
        read_image(tmp_path / "text.jpg")
    with pytest.raises(InputError, match="folder"):
        read_image(tmp_path)
    buf = io.BytesIO()
    Image.fromarray(_rgb(120, 160)).save(buf, format="JPEG")
    (tmp_path / "trunc.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(InputError, match="truncated"):
        read_image(tmp_path / "trunc.jpg")
    buf = io.BytesIO()
    Image.fromarray(_rgb(120, 160)).save(buf, format="PNG")
    (tmp_path / "trunc.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(InputError):
        read_image(tmp_path / "trunc.png")


def test_absurd_sizes(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="too small"):
        read_image(np.zeros((4, 100, 3), np.uint8))
    with pytest.raises(InputError, match="empty"):
        read_image(np.zeros((0, 100, 3), np.uint8))
    with pytest.raises(InputError, match="shape"):
        read_image(np.zeros((10, 10, 2), np.uint8))
    # a huge image is rejected from its header alone (the file is tiny, nothing is decoded)
    Image.new("1", (12_000, 10_000)).save(tmp_path / "huge.png")
    with pytest.raises(InputError, match="too large"):
        read_image(tmp_path / "huge.png")
    with pytest.raises(InputError, match="unsupported image input"):
        read_image(42)
