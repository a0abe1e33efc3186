"""The end of a video (issue 21; docs/errors.md, "The end of a video"): a container that holds
fewer frames than its header announces ends normally unless frames are really missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hhpnet.video import process_video
from hhpnet.video.readers import VideoFileReader, end_is_truncated, shortfall_tolerance
from hhpnet.video.sinks import read_csv_rows
from tests.helpers.cli import run_cli
from tests.helpers.video_ends import avi_count_plus, avi_with_dropped_frames, cut
from tests.helpers.video_fakes import walking_scene, write_video

pytest.importorskip("av")


def read_all(path: Path) -> tuple[int, VideoFileReader]:
    reader = VideoFileReader(str(path))
    n = 0
    while reader.read() is not None:
        n += 1
    reader.close()
    return n, reader


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("ends")
    frames = walking_scene(50)
    whole = Path(write_video(str(d / "whole.avi"), frames, fourcc="MJPG"))
    return {
        "dropped": avi_with_dropped_frames(d / "dropped.avi", frames, {10, 30}),
        "dropped_end": avi_with_dropped_frames(d / "dropped_end.avi", frames, {47, 48}),
        "plus2": avi_count_plus(whole, d / "plus2.avi", 2),
        "plus9": avi_count_plus(whole, d / "plus9.avi", 9),
        "half": cut(whole, d / "half.avi", 0.5),
        "whole": whole,
    }


def test_dropped_frame_entries_are_a_normal_end(clips):
    """48 frames of 50 announced (two dropped-frame chunks), timestamps to the end: no error,
    no note — the case of real TV-series AVI clips ("decoding stopped at frame 48 of 50")."""
    n, r = read_all(clips["dropped"])
    assert (n, r.frame_count) == (48, 50)
    assert r.error is None and r.final_error() is None and r.warnings == []
    n, r = read_all(clips["dropped_end"])  # the gap just before the last frame
    assert (n, r.frame_count, r.error) == (48, 50, None)


def test_a_header_that_overcounts_by_a_little_ends_normally_with_a_note(clips):
    n, r = read_all(clips["plus2"])
    assert (n, r.frame_count, r.error) == (50, 52, None)
    assert r.warnings == [
        f"{clips['plus2']}: the video ended at frame 50 of 52 announced (the container's count "
        "is off; treated as its normal end)"
    ]


def test_a_large_shortfall_is_truncation(clips):
    n, r = read_all(clips["plus9"])  # 9 of 59 missing, timestamps stop at frame 49
    assert r.error is not None and "decoding stopped at frame 50 of 59 announced" in r.error
    n, r = read_all(clips["half"])
    assert 5 < n < 40 and r.error is not None and "truncated or corrupt" in r.error


@pytest.mark.parametrize(
    ("decoded", "count", "fps", "span", "truncated"),
    [
        (50, 50, 30, 49.0, False),
        (48, 50, 25, 49.0, False),  # gaps in time: the timestamps reach the end
        (48, 50, 25, None, False),  # no timestamps: 2 frames short is within tolerance
        (47, 50, 25, None, True),
        (47, 50, 25, 47.0, True),  # 3 short and the timestamps stop 2 intervals early
        (980, 1000, 30, 979.0, False),  # 2 % of 1000
        (979, 1000, 30, 978.0, True),
        (107_970, 108_000, 30, None, False),  # an hour: at most one second (30 frames)
        (107_969, 108_000, 30, None, True),
        (10, 108_000, 30, 9.0, True),
    ],
)
def test_truncation_rule(decoded, count, fps, span, truncated):
    assert end_is_truncated(decoded, count, fps, span) is truncated


def test_tolerance_is_two_frames_two_percent_at_most_a_second_more():
    assert [shortfall_tolerance(n, 30) for n in (10, 50, 100, 1000, 5000, 10**6)] == [
        2, 2, 2, 20, 30, 30,
    ]  # fmt: skip
    assert shortfall_tolerance(1000, 10) == 10


def test_every_frame_of_a_normally_ended_clip_is_processed(clips, tmp_path, estimator):
    csv = tmp_path / "d.csv"
    s = process_video(str(clips["dropped"]), estimator(), interact=False, progress=False, csv=csv)
    assert s.ok and s.error is None and s.frames == 48
    assert read_csv_rows(csv)["frame"].max() == s.last_frame == 47


def test_hhpnet_video_exits_0_on_a_normal_end_and_1_on_truncation(clips, monkeypatch, capsys):
    args = ["--no-progress", "--no-interact", "--detector", "blazeface"]
    assert run_cli(["video", str(clips["dropped"]), *args], monkeypatch) == 0
    err = capsys.readouterr().err
    assert "error" not in err and "announced" not in err
    assert run_cli(["video", str(clips["plus2"]), *args], monkeypatch) == 0
    err = capsys.readouterr().err
    assert "hhpnet: warning:" in err and "50 of 52 announced" in err and "error" not in err
    assert run_cli(["video", str(clips["half"]), *args], monkeypatch) == 1
    assert "truncated or corrupt" in capsys.readouterr().err
