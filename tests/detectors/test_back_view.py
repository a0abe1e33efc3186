"""A whole person seen from every side, including from behind (CC0 renderings of the MakeHuman
mesh, ``data/LICENSES.md``): MoveNet and the fused detector find them; BlazeFace cannot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hhpnet.detectors.movenet import MoveNetDetector
from hhpnet.io import read_image

DATA = Path(__file__).parent / "data"
NOSE, LEYE, REYE, LEAR, REAR = range(5)


def figure(yaw: int) -> np.ndarray:
    return read_image(DATA / f"figure_yaw{yaw:+04d}.png")


@pytest.fixture(scope="module")
def movenet() -> MoveNetDetector:
    return MoveNetDetector(num_threads=1)


@pytest.mark.parametrize("yaw", [0, 45, 90, 135, 180, -90])
def test_movenet_finds_the_figure_from_every_side(movenet: MoveNetDetector, yaw: int) -> None:
    det = movenet(figure(yaw))
    assert len(det) == 1
    kp = det.keypoints[0]
    assert (kp[:, 2] > 0).all()  # all five head points reported, also those hidden
    x1, y1, x2, y2 = det.boxes[0]
    assert 120 < (x1 + x2) / 2 < 200 and 20 < (y1 + y2) / 2 < 100  # on the head


def test_back_view_points_and_scores(movenet: MoveNetDetector, blazeface) -> None:  # type: ignore[no-untyped-def]
    front, back = movenet(figure(0)).keypoints[0], movenet(figure(180)).keypoints[0]
    # from the front the subject's left is on the image's right; from behind on its left
    assert front[REAR, 0] < front[REYE, 0] < front[LEYE, 0] < front[LEAR, 0]
    assert back[LEAR, 0] < back[LEYE, 0] < back[REYE, 0] < back[REAR, 0]
    # the hidden nose is put between the ears, below the eyes, with a lower score than the ears
    assert back[LEAR, 0] < back[NOSE, 0] < back[REAR, 0]
    assert back[NOSE, 1] > max(back[LEYE, 1], back[REYE, 1])
    assert back[NOSE, 2] < max(back[LEAR, 2], back[REAR, 2])
    # a back view is no face
    assert len(blazeface(figure(180))) == 0 and len(blazeface(figure(135))) == 0


def test_fused_detector_takes_the_back_view_from_movenet() -> None:
    from hhpnet.detectors import create_detector

    auto = create_detector("auto", num_threads=1)
    assert auto(figure(180)).detector.tolist() == ["movenet"]
    assert auto(figure(0)).detector.tolist() == ["blazeface+movenet"]  # seen by both
    # with tiles BlazeFace puts a "face" on the hair; still one person, MoveNet's
    tiled = create_detector("auto", tile=True, num_threads=1)
    assert tiled(figure(180)).detector.tolist() == ["movenet"]


def test_four_people_scene_profiles_and_back(movenet: MoveNetDetector, blazeface) -> None:  # type: ignore[no-untyped-def]
    from hhpnet.detectors import create_detector

    img = read_image(DATA / "scene_four_people.png")
    heads_x = [128, 320, 512, 410]  # left profile, back, right profile, small one at the back
    det = movenet(img)
    assert len(det) == 4
    assert sorted(np.round(det.keypoints[:, 0, 0] / 64).tolist()) == sorted(
        np.round(np.array(heads_x) / 64).tolist()
    )
    faces = blazeface(img)
    assert len(faces) < 4  # the back and at least one profile are no faces for BlazeFace
    auto = create_detector("auto", num_threads=1)(img)
    assert len(auto) == 4 and auto.detector.tolist().count("movenet") == 4 - len(faces)


@pytest.mark.parametrize("yaw", [135, 180])
def test_back_view_pose_is_beyond_90_degrees(yaw: int) -> None:
    # MODEL-DEPENDENT: this asserts the pose network (hhpnet-1.0 today), not the detector.
    # Retrained models must keep it; tighten to the true yaw when they can.
    from hhpnet.pipeline import HeadPoseEstimator

    poses = HeadPoseEstimator(detector="movenet", num_threads=1)(figure(yaw), rgb=True)
    assert len(poses) == 1 and poses.valid[0]
    assert abs(float(poses.yaw[0])) > 90


@pytest.fixture(scope="module")
def estimator():  # type: ignore[no-untyped-def]
    from hhpnet.pipeline import HeadPoseEstimator

    return HeadPoseEstimator(num_threads=1)


@pytest.mark.parametrize("yaw", [0, 45, 90, 135, 150, 180, -90, -135, -150])
def test_sigma_is_honest_from_every_side(estimator, yaw: int) -> None:  # type: ignore[no-untyped-def]
    # MODEL-DEPENDENT (hhpnet-1.0 and the tail map of hhpnet.tails). Seen from behind, the face
    # points are hidden and guessed: the network alone pulls the yaw towards ±180 with σ ~6°
    # (off by up to 5σ here); the estimator widens σ_yaw and flags the person ambiguous.
    from hhpnet.tails import BACK_VIEW_SIGMA

    poses = estimator(figure(yaw), rgb=True)
    assert len(poses) == 1 and poses.valid[0]
    err = abs((float(poses.yaw[0]) - yaw + 180) % 360 - 180)
    sigma = float(poses.sigma[0, 0])
    assert err <= 3 * sigma
    network = float(estimator.model.predict(poses.keypoints).sigma[0, 0])
    if abs(yaw) >= 135:
        assert poses.ambiguous[0] and sigma >= BACK_VIEW_SIGMA and sigma > 3 * network
    else:
        assert not poses.ambiguous[0] and sigma < 25
