"""Real containers (B-frames, variable frame rate, odd timestamps): processed whole, never a
crash, times that never go backwards — through ``process_video`` and ``hhpnet video``."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from hhpnet.cli import main
from hhpnet.pipeline import HeadPoseEstimator
from hhpnet.video import open_source, process_video
from hhpnet.video.sinks import read_csv_rows
from tests.helpers.fakes import GeometricModel
from tests.helpers.real_videos import CLIPS, FPS, _dup_ms, _vfr_ms, container_times, make_clip
from tests.helpers.video_fakes import BlobDetector, facing_analyzer


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, tuple[str, int]]:
    folder = tmp_path_factory.mktemp("real")
    return {name: make_clip(folder, name) for name in CLIPS}


def expected_times(name: str, n: int) -> np.ndarray:
    k = np.arange(n)
    if name == "vfr_mkv":
        return np.array([_vfr_ms(i) for i in k]) / 1000
    if name == "dup_mkv":
        return np.array([_dup_ms(i) for i in k]) / 1000  # duplicates kept (0-s frames)
    t = k / FPS
    if name == "backwards_mkv":
        t[10] = t[9]  # the frame stamped two frames back is held at the previous time
    return t


@pytest.mark.parametrize("name", sorted(CLIPS))
def test_real_container_processed_whole_with_time_never_going_back(clips, tmp_path, name):
    path, n = clips[name]
    est = HeadPoseEstimator(model=GeometricModel(), detector=BlobDetector())
    s = process_video(
        path,
        est,
        analyzer=facing_analyzer,
        progress=False,
        csv=tmp_path / "p.csv",
        timeline_csv=tmp_path / "t.csv",
    )
    assert s.ok and s.error is None and s.frames == n
    rows = read_csv_rows(tmp_path / "p.csv")
    assert sorted(set(rows["frame"].tolist())) == list(range(n))
    assert set(rows["track_id"].tolist()) == {0, 1}
    times = rows["time_s"][rows["track_id"] == 0]
    assert np.all(np.diff(times) >= 0)
    np.testing.assert_allclose(times, expected_times(name, n), atol=1e-3)
    assert len(s.timeline.intervals) >= 1


def test_the_clips_really_have_the_timestamps_they_claim(clips):
    """The fixtures are what their names say (checked on the packets, not through OpenCV)."""
    back = container_times(clips["backwards_mkv"][0])
    assert back[10] < back[9] and back[30] < back[29] - 1.0
    dup = container_times(clips["dup_mkv"][0])
    assert dup[3] == dup[2]
    assert min(container_times(clips["negative_mkv"][0])) < 0
    gaps = np.diff(container_times(clips["vfr_mkv"][0]))
    assert gaps.min() < 0.02 and gaps.max() > 0.09
    avi = open_source(clips["bframes_avi"][0])
    assert avi.grab() is not None
    t = [avi.grab() for _ in range(70)]
    assert t[-1] is None  # 60 frames and no damage reported
    assert avi.error is None and avi.repaired_times >= 1  # the delayed frames lost their stamp


def test_video_command_on_a_b_frame_avi_exits_0(clips, tmp_path, monkeypatch, capsys, fakes):
    """Issue 13, item 1: a real AVI died with 'timeline frames must be in time order'."""
    path, n = clips["bframes_avi"]
    args = [path, "--no-progress", "--csv", str(tmp_path / "p.csv")]
    monkeypatch.setattr(sys, "argv", ["hhpnet", "video", *args, "--timeline-csv", "t.csv"])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main()
        raise SystemExit(0)
    err = capsys.readouterr().err
    assert exc.value.code in (0, None), err
    assert "Traceback" not in err and f"{n} frames" in err
    assert "repaired" in err  # the user is told that timestamps were fixed
