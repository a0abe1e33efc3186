"""The mirror pass of ``precise=True`` (hhpnet.mirror) and its use by the estimator."""

from __future__ import annotations

import numpy as np
import pytest

from hhpnet import HeadPoseEstimator
from hhpnet.detectors.base import Detections
from hhpnet.keypoints import flip_keypoints
from hhpnet.mirror import merge_mirror_pass, mirror_boxes, mirror_image
from tests.helpers.fakes import GeometricModel, face

W = 400


def _dets(points: list[np.ndarray], tags: list[str], alt: np.ndarray | None = None) -> Detections:
    kp = np.stack(points).astype(np.float32)
    xy = kp[..., :2]
    boxes = np.concatenate([xy.min(1) - 10, xy.max(1) + 10], axis=1)
    return Detections(boxes, kp, np.full(len(kp), 0.8, np.float32), tags, alt)


def test_people_of_the_mirror_image_are_matched_one_to_one() -> None:
    photo = _dets([face(100, 100, turn=0.3), face(300, 110, turn=-0.2)], ["movenet", "blazeface"])
    # the mirror image holds the same two people in the other order, slightly displaced, and
    # a third one only the mirror pass found
    shift = np.array([2.0, 1.0, 0.0])
    seen = [face(300, 110, turn=-0.2) + shift, face(100, 100, turn=0.3) - shift]
    extra = face(200, 300, turn=0.0)
    mirrored = _dets(
        [flip_keypoints(p[None], W)[0] for p in [*seen, extra]], ["blazeface", "movenet", "movenet"]
    )
    out = merge_mirror_pass(photo, mirrored, W)
    assert out.photo_count == 2 and len(out.people) == 3
    assert out.detector.tolist() == ["movenet", "blazeface", "movenet"]
    # each person gets its match's points in the mirror image's own frame
    np.testing.assert_array_equal(out.keypoints[0], mirrored.keypoints[1])
    np.testing.assert_array_equal(out.keypoints[1], mirrored.keypoints[0])
    assert out.index.tolist() == [1, 0, 2]  # each match's row among the mirror's detections
    # the mirror-only person is added with its points mirrored back
    np.testing.assert_allclose(out.people.keypoints[2], extra, atol=1e-4)
    np.testing.assert_allclose(out.people.boxes[2], mirror_boxes(mirrored.boxes[2:], W)[0])
    assert (out.alt_keypoints == 0).all()


def test_a_mirror_only_box_over_a_known_head_is_not_another_person() -> None:
    photo = _dets([face(100, 100, turn=0.3)], ["movenet"])
    other = face(100, 100, turn=0.3)
    other[:, :2] = (other[:, :2] - 100) * 0.3 + [100, 140]  # a small "face" low on that head
    mirrored = _dets([flip_keypoints(other[None], W)[0]], ["blazeface"])
    mirrored.boxes[0] = mirror_boxes(photo.boxes + np.array([0, 5, 0, 5]), W)[0]
    out = merge_mirror_pass(photo, mirrored, W)
    assert len(out.people) == 1 and out.detector.tolist() == [""]


class _MirrorAware:
    """A detector reporting the same person in an image and (mirrored) in its mirror image,
    with a different small error each way, as real detectors do."""

    def __init__(self, kp: np.ndarray) -> None:
        self.kp = kp
        self.calls = 0

    def __call__(self, image: np.ndarray) -> Detections:
        self.calls += 1
        mirrored = bool(image[0, -1, 0] == 255)  # a marker pixel at the top right
        kp = flip_keypoints(self.kp[None], W)[0] if mirrored else self.kp.copy()
        if mirrored:
            kp[0, 0] += 4.0  # the nose placed a little differently
        return _dets([kp], ["movenet"])


def test_precise_fuses_the_mirror_reading_and_stays_mirror_consistent() -> None:
    image = np.zeros((240, W, 3), np.uint8)
    image[0, 0] = 255  # the mirror image has the marker at the top right
    det = _MirrorAware(face(150, 100, turn=0.35))
    model = GeometricModel()
    est = HeadPoseEstimator(model=model, detector=det)
    default = est(image, rgb=True)
    precise = est(image, rgb=True, precise=True)
    assert det.calls == 3  # one pass, then the photo and its mirror image
    assert model.batch_sizes[-1] == 2  # both readings in one batched call
    assert len(precise) == 1 and precise.keypoints.tolist() == default.keypoints.tolist()
    second = model.predict(det(mirror_image(image))[0].keypoints)
    assert float(default.yaw[0]) != pytest.approx(-float(second.yaw[0]), abs=0.5)
    # the fused yaw lies between the photo's reading and the mirror's (negated)
    lo, hi = sorted([float(default.yaw[0]), -float(second.yaw[0])])
    assert lo < float(precise.yaw[0]) < hi
    assert HeadPoseEstimator(model=model, detector=det, precise=True)(image, rgb=True).yaw[
        0
    ] == pytest.approx(float(precise.yaw[0]))
    with pytest.raises(Exception, match="precise must be True or False"):
        HeadPoseEstimator(model=model, detector=det, precise="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["camera.jpg", "pair_640x480.jpg"])
def test_precise_reads_an_image_and_its_mirror_image_alike(name: str) -> None:
    """A photo and its mirror image: yaw and roll should come out negated. The detectors are
    not mirror-symmetric, so the default differs by degrees; precise reads both orientations
    of each and agrees with itself."""
    from pathlib import Path

    import hhpnet
    from hhpnet.io import read_image

    img = read_image(Path(hhpnet.__file__).parent / "examples" / name, rgb=True)
    est = HeadPoseEstimator(num_threads=1)
    gaps = {}
    for precise in (False, True):
        a = est(img, rgb=True, precise=precise)
        b = est(mirror_image(img), rgb=True, precise=precise)
        assert len(a) == len(b) and a.valid.all()
        cx = img.shape[1] - 1 - a.centroid[:, 0]
        match = [int(np.argmin(np.abs(b.centroid[:, 0] - x))) for x in cx]
        yaw = np.abs((a.yaw + b.yaw[match] + 180) % 360 - 180)
        gaps[precise] = float((yaw + np.abs(a.roll + b.roll[match])).sum())
    assert gaps[True] < 0.1 * gaps[False] and gaps[True] < 0.5
