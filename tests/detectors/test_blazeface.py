"""BlazeFace on permissive sample photos and compositions of them."""

from __future__ import annotations

import numpy as np
import pytest

from hhpnet.detectors.base import box_iou
from hhpnet.detectors.blazeface import BlazeFaceDetector
from hhpnet.errors import InputError
from hhpnet.keypoints import FLIP_PERMUTATION, blazeface_confidence
from tests.detectors.detector_images import compose, head_crops, rotate

NOSE, LEYE, REYE, LEAR, REAR = range(5)


def _eye_distance(kp: np.ndarray) -> float:
    return float(np.linalg.norm(kp[LEYE, :2] - kp[REYE, :2]))


def test_astronaut_one_frontal_face_with_points_in_place(
    blazeface: BlazeFaceDetector, astro: np.ndarray
) -> None:
    det = blazeface(astro)
    assert len(det) == 1
    kp = det.keypoints[0]
    x1, y1, x2, y2 = det.boxes[0]
    # The face is in the upper middle of the photo (about x 170..280, y 60..180).
    assert 150 < x1 < x2 < 300 and 40 < y1 < y2 < 200
    assert 0.8 < det.scores[0] <= 1.0
    # Subject's left eye/ear are on the image's right for a face looking at the camera.
    assert kp[REAR, 0] < kp[REYE, 0] < kp[NOSE, 0] < kp[LEYE, 0] < kp[LEAR, 0]
    assert kp[NOSE, 1] > max(kp[LEYE, 1], kp[REYE, 1])  # nose below the eyes
    assert 30 < _eye_distance(kp) < 70
    # Frontal: every point gets the face score as confidence (blazeface_confidence).
    np.testing.assert_allclose(kp[:, 2], det.scores[0], rtol=1e-6)
    np.testing.assert_allclose(kp[:, 2], blazeface_confidence(kp[None, :, :2], det.scores)[0])


@pytest.mark.parametrize("which", [0, 1])
def test_mirror_gives_mirrored_keypoints_with_sides_swapped(
    blazeface: BlazeFaceDetector, which: int
) -> None:
    img = head_crops()[which]
    w = img.shape[1]
    a = blazeface(img)
    b = blazeface(np.ascontiguousarray(img[:, ::-1]))
    assert len(a) == len(b) == 1
    mirrored = b.keypoints[0][FLIP_PERMUTATION]
    mirrored[:, 0] = w - mirrored[:, 0]  # continuous coordinates: x -> w - x
    err = np.abs(mirrored[:, :2] - a.keypoints[0][:, :2]).max()
    # BlazeFace's points jitter by up to ~15 % of the eye distance between a photo and its mirror
    # image (measured); a left/right mix-up would give errors of about one eye distance.
    assert err < 0.2 * _eye_distance(a.keypoints[0])
    assert b.scores[0] == pytest.approx(a.scores[0], abs=0.1)


def _eye_line_degrees(kp: np.ndarray) -> float:
    d = kp[LEYE, :2] - kp[REYE, :2]
    return float(np.degrees(np.arctan2(d[1], d[0])))


def test_keypoints_rotate_with_the_image(blazeface: BlazeFaceDetector) -> None:
    errors = []
    for img0 in head_crops():
        ref = blazeface(img0).keypoints[0]
        for degrees in (-30.0, -15.0, 15.0, 30.0):
            img, m = rotate(img0, degrees)
            det = blazeface(img)
            assert len(det) == 1
            kp = det.keypoints[0]
            expected = ref[:, :2] @ m[:, :2].T + m[:, 2]
            # Measured: up to ~25 % of the eye distance (the network is not rotation invariant).
            assert np.abs(kp[:, :2] - expected).max() < 0.35 * _eye_distance(ref)
            # The eye line (right eye -> left eye) turns clockwise by about the angle.
            errors.append(_eye_line_degrees(kp) - _eye_line_degrees(ref) - degrees)
    # Measured on these photos: single errors up to ~10°, mean |error| ~3°.
    assert np.abs(errors).max() < 12.0
    assert np.abs(errors).mean() < 5.0


def test_shifted_image_gives_shifted_coordinates(
    blazeface: BlazeFaceDetector, astro: np.ndarray
) -> None:
    canvas = np.full((700, 900, 3), 120, np.uint8)
    canvas[150:662, 300:812] = astro
    a = blazeface(astro).keypoints[0]
    b = blazeface(canvas)
    assert len(b) == 1
    shifted = b.keypoints[0, :, :2] - [300, 150]
    assert np.abs(shifted - a[:, :2]).max() < 0.2 * _eye_distance(a)


def test_two_people_side_by_side(blazeface: BlazeFaceDetector) -> None:
    img = compose(2)
    det = blazeface(img)
    assert len(det) == 2
    centres = det.keypoints[:, NOSE, 0]
    assert min(centres) < 320 < max(centres)
    assert box_iou(det.boxes, det.boxes)[0, 1] == 0


def test_tiling_finds_all_six_small_faces_without_duplicates(
    blazeface: BlazeFaceDetector, blazeface_tiled: BlazeFaceDetector
) -> None:
    img = compose(6)
    plain = blazeface(img)
    tiled = blazeface_tiled(img)
    assert len(tiled) == 6 >= len(plain) >= 4
    # One face per grid cell (3 columns × 2 rows of 213×240 pixels).
    cells = {(int(x // (640 / 3)), int(y // 240)) for x, y in tiled.keypoints[:, NOSE, :2]}
    assert len(cells) == 6
    iou = box_iou(tiled.boxes, tiled.boxes)
    np.fill_diagonal(iou, 0)
    assert iou.max() < 0.3


def test_tiles_cover_the_image(blazeface_tiled: BlazeFaceDetector) -> None:
    views = blazeface_tiled.views(640, 480)
    assert len(views) == 5  # letterbox + 2×2 tiles
    tiles = views[1:]
    assert min(v.x0 for v in tiles) == 0 and min(v.y0 for v in tiles) == 0
    assert max(v.x0 + v.side for v in tiles) >= 639 and max(v.y0 + v.side for v in tiles) >= 479


def test_small_faces_in_a_large_image_need_more_scales(
    blazeface: BlazeFaceDetector, blazeface_tiled: BlazeFaceDetector
) -> None:
    big = np.full((1440, 1920, 3), 120, np.uint8)
    big[500:980, 640:1280] = compose(6)
    n_plain = len(blazeface(big))
    n_tiled = len(blazeface_tiled(big))
    n_three = len(BlazeFaceDetector(scales=(1, 2, 3), num_threads=1)(big))
    assert n_plain < n_tiled <= n_three == 6


def test_tile_sizes_its_grid_to_the_image(blazeface: BlazeFaceDetector) -> None:
    det = BlazeFaceDetector(tile=True, num_threads=2)
    assert det.scales_for(640, 480) == (1, 2)
    assert det.scales_for(4000, 3000) == (1, 6)
    assert det.scales_for(20000, 100) == (1, 8)
    assert BlazeFaceDetector(scales=(1, 3), num_threads=1).scales_for(4000, 3000) == (1, 3)
    # a 12-megapixel frame with six 80–145 px faces: invisible to the whole-image pass
    big = np.full((3000, 4000, 3), 120, np.uint8)
    big[1200:1680, 1700:2340] = compose(6)
    assert len(blazeface(big)) == 0
    assert len(det(big)) >= 5


def test_close_up_missed_at_first_is_found_on_a_padded_canvas(
    blazeface: BlazeFaceDetector, astro: np.ndarray
) -> None:
    close = np.ascontiguousarray(astro[80:165, 180:270])  # the face fills the frame
    no_retry = BlazeFaceDetector(retry_padded=False, num_threads=1)
    assert len(no_retry(close)) == 0
    det = blazeface(close)
    assert len(det) == 1
    kp = det.keypoints[0]
    assert kp[REYE, 0] < kp[NOSE, 0] < kp[LEYE, 0]
    assert 30 < kp[NOSE, 0] < 60 and 40 < kp[NOSE, 1] < 70


@pytest.mark.parametrize("kind", ["noise", "blank", "tiny"])
def test_no_face_gives_empty(blazeface: BlazeFaceDetector, kind: str) -> None:
    rng = np.random.default_rng(1)
    img = {
        "noise": rng.integers(0, 256, (480, 640, 3), dtype=np.uint8),
        "blank": np.full((300, 300, 3), 255, np.uint8),
        "tiny": np.zeros((1, 1, 3), np.uint8),
    }[kind]
    det = blazeface(img)
    assert len(det) == 0 and det.keypoints.shape == (0, 5, 3)


def test_bad_arrays_are_rejected(blazeface: BlazeFaceDetector, astro: np.ndarray) -> None:
    with pytest.raises(InputError, match="uint8"):
        blazeface(astro.astype(np.float32))
    with pytest.raises(InputError, match="RGB"):
        blazeface(astro[..., 0])


def test_profile_face_far_side_points_get_lower_confidence(blazeface: BlazeFaceDetector) -> None:
    # Squeezing the face horizontally around a point off the face centre moves the nose towards
    # one ear, like a turned head; the far-side points must lose confidence, the near side not.
    img = head_crops()[0]
    det = blazeface(img)
    kp = det.keypoints[0]
    xy = kp[:, :2].copy()
    xy[:, 0] = kp[REAR, 0] + (xy[:, 0] - kp[REAR, 0]) * np.array([1.0, 0.45, 1.0, 0.5, 1.0])
    conf = blazeface_confidence(xy[None], det.scores)[0]
    assert conf[LEAR] < conf[REAR] and conf[LEAR] < 0.5 * det.scores[0]


def test_max_faces_keeps_the_best(blazeface_tiled: BlazeFaceDetector) -> None:
    img = compose(6)
    all_faces = blazeface_tiled(img)
    best = BlazeFaceDetector(tile=True, max_faces=2, num_threads=1)(img)
    assert len(best) == 2
    np.testing.assert_allclose(best.scores, np.sort(all_faces.scores)[::-1][:2])


@pytest.mark.parametrize("shape", [(1, 3000, 3), (3000, 1, 3), (2, 2, 3)])
def test_degenerate_sizes_give_empty(blazeface_tiled: BlazeFaceDetector, shape: tuple) -> None:
    img = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    assert len(blazeface_tiled(img)) == 0


def test_retry_pad_sequence_tries_larger_canvases(astro: np.ndarray) -> None:
    # A crop tighter than the face: missed plainly and on a 2× canvas, found on a 3× canvas.
    tight = np.ascontiguousarray(astro[79:149, 189:259])
    assert len(BlazeFaceDetector(retry_pad=2.0, num_threads=1)(tight)) == 0
    det = BlazeFaceDetector(retry_pad=(2.0, 3.0), num_threads=1)(tight)
    assert len(det) == 1
    kp = det.keypoints[0]
    assert kp[REYE, 0] < kp[NOSE, 0] < kp[LEYE, 0]
    with pytest.raises(InputError, match="retry_pad"):
        BlazeFaceDetector(retry_pad=(2.0, 0.5))
