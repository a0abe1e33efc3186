"""The face mesh (hhpnet.detectors.facemesh) on the faces BlazeFace finds in permissive sample
photos: landmarks on the face, in-plane rotation followed, one batch for all faces, the same
region of interest from BlazeFace's raw points and from hhpnet's five, bad input rejected."""

from __future__ import annotations

import numpy as np
import pytest

from hhpnet.detectors.base import verify_model_file
from hhpnet.detectors.blazeface import BlazeFaceDetector
from hhpnet.detectors.facemesh import FaceMesh, mesh_rois
from hhpnet.errors import InputError
from hhpnet.mesh_model import eye_line_angle
from tests.detectors.detector_images import compose, head_crops, rotate

NOSE_TIP, RIGHT_EYE_OUTER, LEFT_EYE_OUTER, CHIN, FOREHEAD = 1, 33, 263, 152, 10


@pytest.fixture(scope="module")
def mesh() -> FaceMesh:
    return FaceMesh(num_threads=1)


def test_landmarks_land_on_the_face(blazeface: BlazeFaceDetector, mesh: FaceMesh, astro) -> None:
    faces = blazeface(astro)
    out = mesh.from_detections(astro, faces)
    assert out.landmarks.shape == (1, 468, 3) and out.landmarks.dtype == np.float32
    assert out.presence[0] > 0.9
    lm, kp, box = out.landmarks[0], faces.keypoints[0], faces.boxes[0]
    eye_dist = np.linalg.norm(kp[1, :2] - kp[2, :2])
    # the mesh's nose tip and eye corners next to BlazeFace's nose and eyes
    assert np.linalg.norm(lm[NOSE_TIP, :2] - kp[0, :2]) < 0.25 * eye_dist
    assert np.linalg.norm(lm[[RIGHT_EYE_OUTER, 133], :2].mean(0) - kp[2, :2]) < 0.25 * eye_dist
    assert np.linalg.norm(lm[[LEFT_EYE_OUTER, 362], :2].mean(0) - kp[1, :2]) < 0.25 * eye_dist
    # inside the (enlarged) face box, chin below the nose below the forehead; the subject's
    # right eye on the image left; the nose tip nearest the camera (smallest depth)
    w = box[2] - box[0]
    assert (lm[:, 0] > box[0] - 0.3 * w).all() and (lm[:, 0] < box[2] + 0.3 * w).all()
    assert lm[CHIN, 1] > lm[NOSE_TIP, 1] > lm[FOREHEAD, 1]
    assert lm[RIGHT_EYE_OUTER, 0] < lm[NOSE_TIP, 0] < lm[LEFT_EYE_OUTER, 0]
    assert lm[NOSE_TIP, 2] < np.median(lm[:, 2]) - 0.1 * eye_dist


def test_landmarks_turn_with_the_image(blazeface: BlazeFaceDetector, mesh: FaceMesh) -> None:
    """A photo turned clockwise by δ: the landmarks' eye line turns by δ (the roll), and the
    landmarks follow the turned image."""
    errors = []
    for img0 in head_crops():
        ref = mesh.from_detections(img0, blazeface(img0)).landmarks[0]
        for degrees in (-25.0, 20.0):
            img, m = rotate(img0, degrees)
            lm = mesh.from_detections(img, blazeface(img)).landmarks[0]
            expected = ref[:, :2] @ m[:, :2].T + m[:, 2]
            scale = np.linalg.norm(ref[RIGHT_EYE_OUTER, :2] - ref[LEFT_EYE_OUTER, :2])
            assert np.median(np.linalg.norm(lm[:, :2] - expected, axis=1)) < 0.05 * scale
            errors.append(eye_line_angle(lm[None])[0] - eye_line_angle(ref[None])[0] - degrees)
    assert np.abs(errors).max() < 1.5, errors  # measured: ≤ 0.7°


def test_all_faces_of_an_image_in_one_batch(blazeface: BlazeFaceDetector, mesh: FaceMesh) -> None:
    img = compose(3)
    faces = blazeface(img)
    assert len(faces) == 3
    both = mesh.from_detections(img, faces)
    assert both.landmarks.shape == (3, 468, 3) and (both.presence > 0.9).all()
    for i in range(3):
        one = mesh.from_detections(img, faces[i])
        np.testing.assert_allclose(one.landmarks[0], both.landmarks[i], atol=1e-3)
    # each face's landmarks lie in its own box
    centre = both.landmarks[..., :2].mean(axis=1)
    boxes = faces.boxes
    assert ((centre[:, 0] > boxes[:, 0]) & (centre[:, 0] < boxes[:, 2])).all()


def test_raw_six_points_and_hhpnet_five_give_the_same_region(
    blazeface: BlazeFaceDetector, astro
) -> None:
    from hhpnet.detectors.base import SquareView
    from hhpnet.detectors.blazeface import INPUT_SIZE

    h, w = astro.shape[:2]
    boxes, raw6, _ = blazeface.detect_views(astro, [SquareView.letterbox(w, h, INPUT_SIZE)])
    five = BlazeFaceDetector._to_detections(boxes, raw6, np.ones(len(boxes), np.float32))
    np.testing.assert_array_equal(mesh_rois(boxes, raw6), mesh_rois(boxes, five.keypoints))
    roi = mesh_rois(boxes, raw6)[0]
    side = 1.5 * max(boxes[0, 2] - boxes[0, 0], boxes[0, 3] - boxes[0, 1])
    assert np.hypot(*roi[:, 0]) * 192 == pytest.approx(side, rel=1e-5)
    centre = roi[:, :2] @ [96.0, 96.0] + roi[:, 2]
    np.testing.assert_allclose(
        centre, [(boxes[0, 0] + boxes[0, 2]) / 2, (boxes[0, 1] + boxes[0, 3]) / 2], atol=1e-3
    )


def test_no_face_gives_empty_and_a_blank_crop_a_low_presence(mesh: FaceMesh) -> None:
    grey = np.full((200, 200, 3), 128, np.uint8)
    empty = mesh(grey, np.zeros((0, 4)), np.zeros((0, 6, 2)))
    assert empty.landmarks.shape == (0, 468, 3) and len(empty) == 0
    blank = mesh(
        grey,
        [[50, 50, 150, 150]],
        [[[80, 90], [120, 90], [100, 110], [100, 130], [60, 100], [140, 100]]],
    )
    assert blank.presence[0] < 0.2


@pytest.mark.parametrize(
    ("boxes", "keypoints", "message"),
    [
        (np.zeros((1, 3)), np.zeros((1, 6, 2)), r"boxes must be \(N, 4\)"),
        (np.zeros((1, 4)), np.zeros((1, 4, 2)), r"keypoints must be \(N, 6, 2\+\)"),
        (np.zeros((2, 4)), np.zeros((1, 6, 2)), "2 boxes but 1 keypoint sets"),
        ([[0, 0, np.nan, 10]], np.zeros((1, 6, 2)), "finite"),
        ([[10, 10, 10, 10]], np.zeros((1, 6, 2)), "x2 > x1"),
        ([["a", 0, 1, 1]], np.zeros((1, 6, 2)), "numeric"),
    ],
)
def test_bad_faces_raise_input_error(mesh: FaceMesh, boxes, keypoints, message) -> None:
    with pytest.raises(InputError, match=message):
        mesh(np.zeros((50, 50, 3), np.uint8), boxes, keypoints)


def test_bad_images_and_options_raise_input_error(mesh: FaceMesh) -> None:
    face = ([[10, 10, 40, 40]], np.zeros((1, 6, 2)))
    with pytest.raises(InputError, match="uint8"):
        mesh(np.zeros((50, 50, 3), np.float32), *face)
    with pytest.raises(InputError, match="RGB"):
        mesh(np.zeros((50, 50), np.uint8), *face)
    with pytest.raises(InputError, match="num_threads"):
        FaceMesh(num_threads=0)
    with pytest.raises(InputError, match="num_threads"):
        FaceMesh(num_threads="2")  # type: ignore[arg-type]


def test_altered_model_file_is_refused(tmp_path, monkeypatch) -> None:
    import hhpnet.detectors.base as base

    assert verify_model_file("face_landmark.tflite").is_file()
    (tmp_path / "SHA256SUMS").write_text((base.MODEL_DIR / "SHA256SUMS").read_text())
    (tmp_path / "face_landmark.tflite").write_bytes(b"not the model")
    monkeypatch.setattr(base, "MODEL_DIR", tmp_path)
    monkeypatch.setattr(base, "_VERIFIED", set())
    with pytest.raises(RuntimeError, match="does not match its SHA256SUMS"):
        verify_model_file("face_landmark.tflite")
    with pytest.raises(RuntimeError, match="missing model file"):
        verify_model_file("nothing.tflite")
