"""``--body-every K`` (hhpnet.video.cadence): MoveNet on every K-th frame and on scene cuts,
BlazeFace on every frame, MoveNet's last people merged with the fresh faces in between."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from hhpnet.detectors.fused import FusedDetector
from hhpnet.errors import InputError
from hhpnet.pipeline import HeadPoseEstimator
from hhpnet.video.cadence import BodyCadence, with_body_cadence
from tests.helpers.cli import run_cli

PAIR = Path(__file__).resolve().parents[2] / "src" / "hhpnet" / "examples" / "pair_640x480.jpg"


@pytest.fixture(scope="module")
def fused() -> FusedDetector:
    return FusedDetector(num_threads=1)


def frames() -> list[np.ndarray]:
    """The pair photo shifted by a few pixels per frame, then a cut to another picture."""
    rgb = cv2.imread(str(PAIR))[..., ::-1]
    shifted = [np.ascontiguousarray(np.roll(rgb, 3 * k, axis=1)) for k in range(5)]
    cut = np.ascontiguousarray(rgb[::-1])  # upside down: a different scene
    return [*shifted, cut]


def test_body_detector_runs_every_k_frames_and_on_a_cut(fused):
    cad = BodyCadence(fused, 3)
    calls: list[int] = []
    body_call = fused.body.detect_coco

    def counting(image: np.ndarray):  # type: ignore[no-untyped-def]
        calls.append(len(calls))
        return body_call(image)

    seq = frames()
    fused.body.detect_coco = counting  # type: ignore[method-assign]
    try:
        runs = []
        for img in seq:
            before = cad.body_runs
            cad(img)
            runs.append(cad.body_runs > before)
    finally:
        del fused.body.detect_coco
    assert runs == [True, False, False, True, False, True]  # frames 0, 3 and the cut
    assert len(calls) == 3


def test_frames_with_the_body_detector_equal_plain_auto(fused):
    cad = BodyCadence(fused, 2)
    seq = frames()
    for k, img in enumerate(seq[:4]):
        got, ref = cad(img), fused(img)
        if k % 2 == 0:
            np.testing.assert_array_equal(got.keypoints, ref.keypoints)
            assert list(got.detector) == list(ref.detector)
        else:  # MoveNet's points of the previous frame, BlazeFace's of this one
            assert len(got) == len(ref) == 2
            assert list(got.detector) == ["blazeface+movenet"] * 2
            np.testing.assert_array_equal(got.alt_keypoints, ref.alt_keypoints)
            moved = np.abs(got.keypoints[..., 0] - ref.keypoints[..., 0]).max()
            assert 0 < moved < 10  # 3 px of motion


def test_every_one_is_plain_auto_and_other_detectors_are_refused(fused):
    est = HeadPoseEstimator(detector=fused)
    assert with_body_cadence(est, 1) is est
    with pytest.raises(InputError, match="'auto' detector only"):
        with_body_cadence(HeadPoseEstimator(detector="blazeface"), 2)
    with pytest.raises(InputError, match="integer ≥ 1"):
        BodyCadence(fused, 0)


def test_cli_option_errors_are_usage_errors(tmp_path, monkeypatch, capsys):
    clip = tmp_path / "c.mp4"
    w = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, (64, 48))
    for _ in range(3):
        w.write(np.zeros((48, 64, 3), np.uint8))
    w.release()
    args = ["video", str(clip), "--no-progress", "--no-interact"]
    assert run_cli([*args, "--body-every", "2", "--detector", "blazeface"], monkeypatch) == 2
    assert "'auto' detector only" in capsys.readouterr().err
    assert run_cli([*args, "--body-every", "0"], monkeypatch) == 2
    assert "body_every must be an integer ≥ 1" in capsys.readouterr().err
    assert run_cli([*args, "--body-every", "2"], monkeypatch) == 0


def test_carried_people_follow_the_image_motion(fused):
    rgb = cv2.imread(str(PAIR))[..., ::-1]
    seq = [np.ascontiguousarray(np.roll(rgb, 6 * k, axis=1)) for k in range(2)]
    moved, still = BodyCadence(fused, 2), BodyCadence(fused, 2, track=False)
    first = moved(seq[0])
    still(seq[0])
    a, b = moved(seq[1]), still(seq[1])
    assert moved.body_runs == still.body_runs == 1  # frame 1 carries frame 0's people
    np.testing.assert_array_equal(b.keypoints, first.keypoints)  # not moved
    shift = a.keypoints[..., 0] - first.keypoints[..., 0]
    np.testing.assert_allclose(shift[first.keypoints[..., 2] > 0], 6.0, atol=0.5)
    np.testing.assert_allclose(a.keypoints[..., 1], first.keypoints[..., 1], atol=0.5)


def test_restore_equals_an_uninterrupted_run(fused):
    rgb = cv2.imread(str(PAIR))[..., ::-1]
    seq = [np.ascontiguousarray(np.roll(rgb, 4 * k, axis=1)) for k in range(7)]
    whole = BodyCadence(fused, 3)
    ref = [whole(img) for img in seq]
    for stop in (3, 4, 5):  # the next frame is a 3rd frame, one after it, two after it
        resumed = BodyCadence(fused, 3)
        resumed.restore(stop, seq[max(0, stop - 3) : stop])
        for k in range(stop, len(seq)):
            got = resumed(seq[k])
            np.testing.assert_array_equal(got.keypoints, ref[k].keypoints)
            assert list(got.detector) == list(ref[k].detector)
    with pytest.raises(ValueError, match="last 2 frames"):
        BodyCadence(fused, 3).restore(5, seq[:1])


def test_resumed_video_with_a_cadence_equals_an_uninterrupted_run(tmp_path):
    from hhpnet.video import process_video

    clip = tmp_path / "pair.mp4"
    bgr = cv2.imread(str(PAIR))
    w = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, (640, 480))
    for k in range(8):
        w.write(np.ascontiguousarray(np.roll(bgr, 5 * k, axis=1)))
    w.release()
    est = HeadPoseEstimator(detector=FusedDetector(num_threads=1))

    def run(out: Path, **kw):  # type: ignore[no-untyped-def]
        out.mkdir(exist_ok=True)
        return process_video(str(clip), est, progress=False, csv=out / "p.csv", body_every=3, **kw)

    run(tmp_path / "ref")

    def stop(result):  # type: ignore[no-untyped-def]
        if result.index == 4:  # frames 0-3 kept; frame 3 was a 3rd frame, frame 4 is after it
            raise KeyboardInterrupt

    assert run(tmp_path / "res", on_frame=stop).interrupted
    s = run(tmp_path / "res", resume=True)
    assert s.ok and s.replayed == 4
    ref = (tmp_path / "ref" / "p.csv").read_bytes()
    assert (tmp_path / "res" / "p.csv").read_bytes() == ref
