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
