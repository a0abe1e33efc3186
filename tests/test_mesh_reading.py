"""The estimator's face-mesh reading (hhpnet.mesh_reading): which faces it reads, in which box,
its gates, the detector tag, and the mirror pass's mesh."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hhpnet import HeadPoseEstimator
from hhpnet.detectors.base import Detections
from hhpnet.detectors.facemesh import FaceMeshResult
from hhpnet.errors import InputError
from hhpnet.mesh_reading import MIN_FACE_PX, MIN_PRESENCE, MeshReader, blazeface_faces
from tests.helpers.fakes import GeometricModel, face


class RecordingMesh:
    """A face mesh that records the faces it is asked for and answers with landmarks that the
    mesh model reads as a frontal face (the model's own reference face, placed in the box)."""

    def __init__(self, presence: float = 1.0) -> None:
        self.presence = presence
        self.calls: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def __call__(self, image: np.ndarray, boxes: Any, keypoints: Any) -> FaceMeshResult:
        from hhpnet.training.mesh_geometry import canonical_face

        boxes = np.asarray(boxes, np.float32)
        self.calls.append((image, boxes, np.asarray(keypoints, np.float32)))
        ref = canonical_face()
        ref = (ref - ref.mean(0)) / np.ptp(ref[:, 0])
        out = []
        for b in boxes:
            side = b[2] - b[0]
            lm = ref * side * 0.8
            lm[:, :2] += (b[:2] + b[2:]) / 2
            out.append(lm)
        n = len(boxes)
        return FaceMeshResult(
            np.array(out, np.float32).reshape(n, 468, 3),
            np.full(n, self.presence, np.float32),
            np.zeros((n, 2, 3)),
        )


def _people() -> Detections:
    """A BlazeFace face (100 px), a merged head (MoveNet's box, BlazeFace's as the second), a
    MoveNet-only head and a small BlazeFace face."""
    kp = np.stack([face(100, 100), face(300, 100), face(500, 100), face(700, 100, size=12)])
    boxes = np.array(
        [[50, 50, 150, 150], [240, 30, 360, 170], [450, 50, 550, 150], [690, 90, 710, 110]],
        np.float32,
    )
    alt_boxes = np.full((4, 4), np.nan, np.float32)
    alt_boxes[1] = [250, 50, 350, 150]
    alt = np.zeros_like(kp)
    alt[1] = face(301, 101)
    tags = ["blazeface", "blazeface+movenet", "movenet", "blazeface"]
    return Detections(boxes, kp, np.full(4, 0.9, np.float32), tags, alt, alt_boxes)


def test_blazeface_faces_take_blazefaces_own_box_and_points() -> None:
    dets = _people()
    found, boxes, points = blazeface_faces(dets)
    assert found.tolist() == [True, True, False, True]
    np.testing.assert_array_equal(boxes[0], dets.boxes[0])
    np.testing.assert_array_equal(boxes[1], dets.alt_boxes[1])  # not MoveNet's box
    np.testing.assert_array_equal(points[1], dets.alt_keypoints[1])
    assert np.isnan(boxes[2]).all() and (points[2] == 0).all()
    # a merged head without BlazeFace's box (an old detector): no mesh for it
    dets.alt_boxes = None
    assert blazeface_faces(dets)[0].tolist() == [True, False, False, True]


def test_the_reader_gates_small_faces_and_faces_the_mesh_does_not_see() -> None:
    dets, image = _people(), np.zeros((200, 800, 3), np.uint8)
    mesh = RecordingMesh()
    angles, sigma = MeshReader(mesh)(image, dets)
    ((_, boxes, _),) = mesh.calls  # one batched call
    side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    assert len(boxes) == 2 and (side >= MIN_FACE_PX).all()  # the 20 px face is not read
    assert np.isfinite(angles[:2]).all() and np.isnan(angles[2:]).all()
    assert np.isinf(sigma[2:]).all()
    np.testing.assert_allclose(angles[:2], 0.0, atol=8.0)  # the reference face, frontal
    rows = np.array([False, True, True, True])
    angles, _ = MeshReader(RecordingMesh())(image, dets, rows)
    assert np.isnan(angles[0]).all() and np.isfinite(angles[1]).all()
    unseen = MeshReader(RecordingMesh(presence=MIN_PRESENCE - 0.01))(image, dets)[0]
    assert np.isnan(unseen).all()


def test_the_estimator_fuses_the_mesh_and_tags_the_heads_it_read() -> None:
    dets, image = _people(), np.zeros((200, 800, 3), np.uint8)
    mesh = RecordingMesh()
    est = HeadPoseEstimator(GeometricModel(), detector=lambda img: dets, mesh=MeshReader(mesh))
    poses = est(image, rgb=True)
    assert poses.detector.tolist() == [
        "blazeface+facemesh",
        "blazeface+movenet+facemesh",
        "movenet",
        "blazeface",
    ]
    without = HeadPoseEstimator(GeometricModel(), detector=lambda img: dets, mesh=False)(image)
    assert without.detector.tolist() == ["blazeface", "blazeface+movenet", "movenet", "blazeface"]
    # the mesh's reading moved the heads it read, and only those
    moved = np.abs(poses.angles - without.angles).max(axis=1)
    assert (moved[:2] > 0.01).all() and (moved[2:] == 0).all()
    with pytest.raises(InputError, match="mesh must be True, False or a MeshReader"):
        HeadPoseEstimator(GeometricModel(), detector=None, mesh="yes")  # type: ignore[arg-type]


def test_precise_reads_the_mirror_images_mesh_of_the_matched_face() -> None:
    from hhpnet.mirror import mirror_boxes

    dets, image = _people(), np.zeros((200, 800, 3), np.uint8)
    image[0, 0] = 1  # tells the photo from its mirror image

    def detector(img: np.ndarray) -> Detections:
        if img[0, 0, 0] == 1:
            return dets
        from hhpnet.keypoints import flip_keypoints

        w = img.shape[1]
        return Detections(
            mirror_boxes(dets.boxes, w),
            flip_keypoints(dets.keypoints, w),
            dets.scores,
            dets.detector,
            flip_keypoints(dets.alt_keypoints, w),
            mirror_boxes(dets.alt_boxes, w),
        )

    mesh = RecordingMesh()
    est = HeadPoseEstimator(GeometricModel(), detector=detector, mesh=MeshReader(mesh))
    est(image, rgb=True, precise=True)
    (photo_img, photo_boxes, _), (mirror_img, mirror_boxes_read, _) = mesh.calls
    assert photo_img[0, 0, 0] == 1 and mirror_img[0, -1, 0] == 1
    np.testing.assert_allclose(mirror_boxes_read, mirror_boxes(photo_boxes, 800))
