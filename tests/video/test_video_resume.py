"""``--resume``: an interrupted and resumed run writes exactly the files of an uninterrupted one.

The estimator is the blob detector + geometric model of ``_fakes``/``_video_fakes`` (fast,
deterministic); the interaction analysis is the real :func:`hhpnet.interaction.analyze`, whose
result depends on the image size (the cause of issue 13's lost timelines). The clip has one-way
and mutual gaze and three frames without anybody (frames without CSV rows).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hhpnet.errors import InputError
from hhpnet.pipeline import HeadPoseEstimator
from hhpnet.video import FrameClock, journal_poses, process_video
from hhpnet.video.sinks import journal_values, read_csv_rows
from tests.helpers.fakes import GeometricModel
from tests.helpers.video_fakes import BlobDetector, conversation_scene, write_video

N = 60
OUTPUTS = ("p.csv", "p.jsonl", "t.csv", "t_people.csv")


def estimator() -> HeadPoseEstimator:
    return HeadPoseEstimator(model=GeometricModel(), detector=BlobDetector())


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> str:
    return write_video(str(tmp_path_factory.mktemp("r") / "conv.mp4"), conversation_scene(N))


def run(clip: str, out: Path, **kw):
    return process_video(
        clip,
        estimator(),
        progress=False,
        csv=out / "p.csv",
        jsonl=out / "p.jsonl",
        timeline_csv=out / "t.csv",
        **kw,
    )


@pytest.fixture(scope="module")
def reference(clip, tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("ref")
    s = run(clip, out)
    assert s.ok and s.frames == N
    kinds = {iv.kind for iv in s.timeline.intervals}
    assert kinds == {"mutual", "one-way"}  # the clip exercises both
    return {name: (out / name).read_bytes() for name in OUTPUTS}


def interrupted_then_resumed(clip: str, out: Path, stop_at: int, cut: str | None = None):
    def stop(result):
        if result.index == stop_at:
            raise KeyboardInterrupt

    s1 = run(clip, out, on_frame=stop)
    assert s1.interrupted
    if cut is not None:  # a hard kill in the middle of a write
        with open(out / "p.csv", "a") as fh:
            fh.write(cut)
        with open(out / "p.jsonl", "a") as fh:
            fh.write('{"frame": 99, "peo')
    return run(clip, out, resume=True)


@pytest.mark.parametrize("stop_at", [0, 1, 12, 25, 45, 52, 53, 55, 59])
def test_resume_files_identical_to_an_uninterrupted_run(clip, reference, tmp_path, stop_at):
    s = interrupted_then_resumed(clip, tmp_path, stop_at, cut="31,1.0333,0,1")
    assert s.ok
    for name in OUTPUTS:
        assert (tmp_path / name).read_bytes() == reference[name], name


@pytest.mark.slow
def test_resume_identical_after_an_interruption_at_every_frame(clip, reference, tmp_path):
    for stop_at in range(N):
        out = tmp_path / str(stop_at)
        out.mkdir()
        assert interrupted_then_resumed(clip, out, stop_at).ok
        for name in OUTPUTS:
            assert (out / name).read_bytes() == reference[name], (stop_at, name)


def test_resume_twice_and_interrupted_during_the_replay(clip, reference, tmp_path):
    def stop(at):
        def f(result):
            if result.index == at:
                raise KeyboardInterrupt

        return f

    assert run(clip, tmp_path, on_frame=stop(30)).interrupted
    assert run(clip, tmp_path, resume=True, on_frame=stop(44)).interrupted
    s = run(clip, tmp_path, resume=True)
    assert s.ok and s.resumed_from is not None and s.replayed > 0
    for name in OUTPUTS:
        assert (tmp_path / name).read_bytes() == reference[name], name


def test_resume_of_a_finished_run_rewrites_the_same_files(clip, reference, tmp_path):
    run(clip, tmp_path)
    s = run(clip, tmp_path, resume=True)
    assert s.ok and s.frames == 1 and s.resumed_from == N - 1
    for name in OUTPUTS:
        assert (tmp_path / name).read_bytes() == reference[name], name


def test_resume_with_other_options_is_refused_before_touching_the_files(clip, tmp_path):
    def stop(result):
        if result.index == 30:
            raise KeyboardInterrupt

    run(clip, tmp_path, on_frame=stop)
    before = (tmp_path / "p.csv").read_bytes()
    with pytest.raises(InputError, match="does not match"):
        run(clip, tmp_path, resume=True, stride=2)
    with pytest.raises(InputError, match="does not match"):
        run(clip, tmp_path, resume=True, start=0.5)
    assert (tmp_path / "p.csv").read_bytes() == before


def test_journal_poses_round_trip_exactly_through_the_csv(clip, tmp_path):
    """What the pipeline tracks equals what a resumed run reads back, bit for bit."""
    seen = []
    process_video(
        clip,
        estimator(),
        progress=False,
        interact=False,
        csv=tmp_path / "p.csv",
        on_frame=lambda r: seen.append(r.poses),
    )
    rows = read_csv_rows(tmp_path / "p.csv")
    yaw = np.concatenate([p.yaw for p in seen])
    kp = np.concatenate([p.keypoints for p in seen])
    assert np.array_equal(yaw, rows["yaw"].astype(np.float32))
    assert np.array_equal(kp[:, 0, 0], rows["nose_x"].astype(np.float32))
    # rounding is idempotent: journal poses of journal poses are the same
    again = journal_poses(seen[5], seen[5].image_size)
    assert np.array_equal(again.keypoints, seen[5].keypoints)
    assert np.array_equal(again.sigma, seen[5].sigma)
    assert journal_values("yaw", [12.34567, np.nan, np.inf]).tolist()[0] == 12.346


def test_frame_clock_keeps_good_timestamps_and_repairs_bad_ones():
    clock = FrameClock(25.0)
    raw = [0.08, 0.12, 0.16, None, 0.24, 0.20, 0.24, 0.32, 0.32, -1.0, -0.96, float("nan")]
    got = [round(clock(r), 6) for r in raw]
    # rebased to 0; missing → +1/fps; 0.20 after 0.24 → held; duplicate kept; restart 1.32 s
    # back → continues at +1/fps and follows the new timestamps; NaN → +1/fps
    assert got == [0.0, 0.04, 0.08, 0.12, 0.16, 0.16, 0.16, 0.24, 0.24, 0.28, 0.32, 0.36]
    assert clock.repaired == 4
    vfr = FrameClock(30.0)
    ts = [0.0, 0.033, 0.066, 0.166, 0.266, 0.283]  # a variable frame rate is kept
    assert [round(vfr(t), 6) for t in ts] == ts and vfr.repaired == 0


def test_resume_with_the_paper_method_keeps_its_threshold(clip, tmp_path):
    """The replay sets the timeline threshold from the analyzer too (0.95 for "paper")."""
    ref = tmp_path / "ref"
    ref.mkdir()
    s = run(clip, ref, interaction_method="paper")
    assert s.timeline.params["threshold"] == 0.95

    def stop(result):
        if result.index == 25:
            raise KeyboardInterrupt

    out = tmp_path / "out"
    out.mkdir()
    run(clip, out, interaction_method="paper", on_frame=stop)
    s2 = run(clip, out, interaction_method="paper", resume=True)
    assert s2.ok and s2.timeline.params["threshold"] == 0.95
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name


def test_journal_values_equal_the_csv_text_round_trip():
    """The vectorised rounding equals formatting the CSV cell and parsing it back."""
    from hhpnet.video.sinks import _parse_cell, format_cells

    rng = np.random.default_rng(0)
    vals = np.concatenate([rng.normal(0, s, 4000) for s in (1e-3, 1.0, 100.0, 1e4, 1e7)])
    edge = [0.0005, -0.0005, 0.0015, 2.5e-4, 1.0005, np.inf, -np.inf, np.nan, 3.4e38, -0.0]
    vals = np.concatenate([vals, edge]).astype(np.float32)
    for name in ("yaw", "score"):  # 3 and 4 decimals
        text = np.array([_parse_cell(c) for c in format_cells(name, vals)])
        got = journal_values(name, vals)
        assert np.array_equal(got, text, equal_nan=True)
        assert np.array_equal(np.signbit(got), np.signbit(text))


def test_detector_column_is_written_and_survives_resume(clip, reference, tmp_path):
    s = interrupted_then_resumed(clip, tmp_path, 25)
    assert s.ok
    rows = read_csv_rows(tmp_path / "p.csv")
    tags = set(rows["detector"].tolist())
    assert tags == {"blob", "blob;right"}  # per person, the comma made safe for the CSV
    assert rows["detector"].dtype.kind == "U"
    assert (tmp_path / "p.csv").read_bytes() == reference["p.csv"]
