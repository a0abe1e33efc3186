"""BlazePose (person detector + landmark model) on permissive sample photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hhpnet.detectors.blazepose import LANDMARK_SIZE, BlazePoseDetector, head_boxes
from hhpnet.errors import InputError
from hhpnet.keypoints import FLIP_PERMUTATION
from tests.detectors.detector_images import head_crops

NOSE, LEYE, REYE, LEAR, REAR = range(5)


@pytest.mark.parametrize("which", ["astro", "grace"])
def test_one_person_with_head_points_in_place(
    blazepose: BlazePoseDetector, which: str, request: pytest.FixtureRequest
) -> None:
    img = request.getfixturevalue(which)
    det = blazepose(img)
    assert len(det) == 1
    kp = det.keypoints[0]
    assert kp[REAR, 0] < kp[REYE, 0] < kp[NOSE, 0] < kp[LEYE, 0] < kp[LEAR, 0]
    assert kp[NOSE, 1] > max(kp[LEYE, 1], kp[REYE, 1])
    assert ((kp[:, 2] > 0.5) & (kp[:, 2] <= 1.0)).all()
    # The head box (around the head landmarks by default) contains the nose.
    x1, y1, x2, y2 = det.boxes[0]
    assert x1 < kp[NOSE, 0] < x2 and y1 - 0.5 * (y2 - y1) < kp[NOSE, 1] < y2


def test_the_same_face_as_blazeface(blazepose: BlazePoseDetector, blazeface, astro) -> None:  # type: ignore[no-untyped-def]
    a = blazepose(astro).keypoints[0, :, :2]
    b = blazeface(astro).keypoints[0, :, :2]
    eye = float(np.linalg.norm(b[LEYE] - b[REYE]))
    assert np.abs(a - b).max() < 0.4 * eye


def test_mirror_gives_mirrored_keypoints(blazepose: BlazePoseDetector) -> None:
    img = head_crops()[1]
    w = img.shape[1]
    a = blazepose(img)
    b = blazepose(np.ascontiguousarray(img[:, ::-1]))
    assert len(a) == len(b) == 1
    m = b.keypoints[0][FLIP_PERMUTATION]
    m[:, 0] = w - m[:, 0]
    eye = float(np.linalg.norm(a.keypoints[0, LEYE, :2] - a.keypoints[0, REYE, :2]))
    assert np.abs(m[:, :2] - a.keypoints[0, :, :2]).max() < 0.25 * eye


def test_crop_transform_puts_hip_in_the_middle_and_body_upwards() -> None:
    hip, top = np.array([300.0, 400.0]), np.array([340.0, 100.0])
    m = BlazePoseDetector.crop_transforms(np.array([[hip, top, hip, top]], np.float32))[0]

    def to_image(p: list[float]) -> np.ndarray:
        return m[:, :2] @ np.asarray(p) + m[:, 2]

    c = LANDMARK_SIZE / 2
    np.testing.assert_allclose(to_image([c, c]), hip, atol=1e-6)
    # The circle point sits straight above the centre, at 1/2.5 of the crop side.
    np.testing.assert_allclose(to_image([c, c - LANDMARK_SIZE / 2.5]), top, atol=1e-4)
    assert np.linalg.det(m[:, :2]) > 0  # a rotation, not a reflection


def test_landmark_batch_equals_single_calls(blazepose: BlazePoseDetector) -> None:
    crops = [cv2.resize(c, (LANDMARK_SIZE, LANDMARK_SIZE)) for c in head_crops()]
    x = np.stack(crops).astype(np.float32) / 255.0
    both = blazepose._landmarks(x)[0]
    singles = np.concatenate([blazepose._landmarks(x[i : i + 1])[0] for i in range(2)])
    np.testing.assert_allclose(both, singles, rtol=1e-4, atol=1e-3)


def test_noise_gives_empty_and_min_visibility_drops_points(
    blazepose: BlazePoseDetector, astro: np.ndarray
) -> None:
    rng = np.random.default_rng(2)
    assert len(blazepose(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8))) == 0
    strict = BlazePoseDetector(min_visibility=0.9999999, num_threads=1)
    det = strict(astro)
    assert len(det) == 1
    dropped = det.keypoints[0, :, 2] == 0
    assert dropped.all() and (det.keypoints[0][dropped] == 0).all()


def test_head_boxes_from_points_and_box_option(blazepose: BlazePoseDetector, astro) -> None:  # type: ignore[no-untyped-def]
    pts = np.array([[[10.0, 20.0], [40.0, 20.0], [10.0, 60.0]]])
    np.testing.assert_allclose(head_boxes(pts), [[-5.0, 10.0, 55.0, 70.0]])  # side 1.2 × 50
    det = blazepose(astro)
    np.testing.assert_allclose(det.boxes, head_boxes(det.keypoints[:, :, :2]), rtol=1e-5)
    raw = BlazePoseDetector(box="detection", num_threads=1)(astro)
    boxes, _, _ = blazepose.detect_people(astro)
    np.testing.assert_allclose(raw.boxes, boxes)
    with pytest.raises(InputError, match="box"):
        BlazePoseDetector(box="face")
