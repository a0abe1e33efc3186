"""MoveNet MultiPose: output decoding, views and tiles, NMS across views, real photos, threads."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from hhpnet.commands.demo import EXAMPLES_DIR
from hhpnet.detectors import create_detector
from hhpnet.detectors.base import SquareView
from hhpnet.detectors.movenet import (
    INPUT_SIZE,
    MoveNetDetector,
    MoveNetPeople,
    decode_output,
    head_boxes,
    merge_views,
    render_top_left,
)
from hhpnet.errors import InputError
from hhpnet.io import read_image
from tests.detectors.detector_images import compose

NOSE, LEYE, REYE, LEAR, REAR = range(5)


@pytest.fixture(scope="module")
def movenet() -> MoveNetDetector:
    det = create_detector("movenet", num_threads=1)
    assert isinstance(det, MoveNetDetector)
    return det


@pytest.fixture(scope="module")
def pair() -> np.ndarray:
    return read_image(EXAMPLES_DIR / "pair_640x480.jpg")


def _row(points_yx: np.ndarray, scores: np.ndarray, box: tuple, person: float) -> np.ndarray:
    kp = np.concatenate([points_yx, scores[:, None]], axis=1).reshape(-1)
    return np.concatenate([kp, box, [person]]).astype(np.float32)


def test_decode_hand_made_output_maps_to_image_pixels() -> None:
    rng = np.random.default_rng(0)
    out = np.zeros((6, 56), np.float32)
    yx = rng.uniform(0.1, 0.6, (17, 2))
    sc = rng.uniform(0.0, 1.0, 17)
    out[0] = _row(yx, sc, (0.1, 0.2, 0.7, 0.5), 0.8)
    out[1] = _row(yx * 0.5, sc, (0.0, 0.0, 0.3, 0.3), 0.1)  # below the threshold
    # whole 640×480 image padded at the top-left: normalised coordinates × 640
    view = SquareView(0.0, 0.0, 640.0, INPUT_SIZE)
    kp, boxes, scores = decode_output(out, view, 0.15)
    assert kp.shape == (1, 17, 3) and boxes.shape == (1, 4)
    np.testing.assert_allclose(scores, [0.8])
    np.testing.assert_allclose(kp[0, :, 0], yx[:, 1] * 640, rtol=1e-5)  # x from column 1
    np.testing.assert_allclose(kp[0, :, 1], yx[:, 0] * 640, rtol=1e-5)
    np.testing.assert_allclose(kp[0, :, 2], sc, rtol=1e-6)
    np.testing.assert_allclose(boxes[0], [0.2 * 640, 0.1 * 640, 0.5 * 640, 0.7 * 640], rtol=1e-5)
    # a tile at (100, 50) of side 400: offset + normalised × side
    kp, boxes, _ = decode_output(out, SquareView(100.0, 50.0, 400.0, INPUT_SIZE), 0.15)
    np.testing.assert_allclose(kp[0, 0, :2], [100 + yx[0, 1] * 400, 50 + yx[0, 0] * 400], rtol=1e-5)
    np.testing.assert_allclose(boxes[0, :2], [100 + 0.2 * 400, 50 + 0.1 * 400], rtol=1e-5)
    assert len(decode_output(np.zeros((6, 56)), view, 0.15)[2]) == 0


def test_render_top_left_is_the_reference_preprocessing() -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    x = render_top_left(img)
    canvas = np.zeros((640, 640, 3), np.uint8)
    canvas[:480] = img
    ref = cv2.resize(canvas, (256, 256), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(x, ref)
    assert x[200:].max() == 0 and x[:190].mean() > 50  # image at the top, black below
    tall = render_top_left(img.transpose(1, 0, 2).copy())
    assert tall[:, 200:].max() == 0 and tall[:, :190].mean() > 50
    # a very wide image is not padded at full size; the same picture up to resampling
    wide = cv2.resize(img[:60], (8000, 600), interpolation=cv2.INTER_NEAREST)
    ref = cv2.resize(
        np.vstack([wide, np.zeros((7400, 8000, 3), np.uint8)]),
        (256, 256),
        interpolation=cv2.INTER_AREA,
    )
    got = render_top_left(wide)
    assert got[20:].max() == 0 and np.abs(got[:18].astype(int) - ref[:18]).mean() < 8


def test_views_whole_image_then_tiles_covering_it(movenet: MoveNetDetector) -> None:
    views = movenet.views(640, 480)
    assert views == [SquareView(0.0, 0.0, 640.0, INPUT_SIZE)]
    tiled = MoveNetDetector(tile=True, num_threads=1)
    v = tiled.views(1920, 1080)
    assert v[0] == SquareView(0.0, 0.0, 1920.0, INPUT_SIZE)
    assert tiled.scales_for(1920, 1080) == (1, 4)
    tiles = v[1:]
    assert len(tiles) >= 8
    # every image pixel is inside some tile; tiles stay inside the image horizontally
    xs, ys = np.meshgrid(np.arange(0, 1920, 37), np.arange(0, 1080, 37))
    covered = np.zeros(xs.shape, bool)
    for t in tiles:
        assert t.x0 >= 0 and t.x0 + t.side <= 1920 + 1
        covered |= (xs >= t.x0) & (xs < t.x0 + t.side) & (ys >= t.y0) & (ys < t.y0 + t.side)
    assert covered.all()


def test_merge_views_suppresses_duplicates_across_views_only() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.5, 0.9, 0.4, 0.3], np.float32)
    view = np.array([0, 1, 0, 2])
    keep = merge_views(boxes, scores, view, 0.3)
    # 1 (view 1) beats 0 and 2 (view 0); 3 does not overlap anything
    assert keep.tolist() == [1, 3]
    # people of one view never suppress each other
    assert sorted(merge_views(boxes, scores, np.zeros(4, np.intp), 0.3).tolist()) == [0, 1, 2, 3]
    # a small head seen by two views: boxes overlap little (IoU 0.2), the points agree
    small = np.array([[400, 112, 419, 131], [405, 115, 414, 124]], np.float32)
    pts = np.array([[[410, 123], [413, 120], [406, 119], [417, 121], [402, 123]]], np.float32)
    shift = np.array([[0, -2], [-1, -2], [4, -2], [-4, -1], [4, -4]], np.float32)
    pts = np.concatenate([pts, pts + shift])
    assert len(merge_views(small, np.array([0.6, 0.3]), np.array([1, 0]), 0.3)) == 2
    assert merge_views(small, np.array([0.6, 0.3]), np.array([1, 0]), 0.3, pts).tolist() == [0]


def test_head_boxes_square_around_points() -> None:
    b = head_boxes(np.array([[[0, 0], [10, 0], [0, 5], [10, 5], [5, 2]]], np.float32))
    side = 1.2 * np.hypot(10, 5)
    np.testing.assert_allclose(b[0], [5 - side / 2, 2.5 - side / 2, 5 + side / 2, 2.5 + side / 2])
    assert head_boxes(np.zeros((0, 5, 2))).shape == (0, 4)


def test_astronaut_head_points_in_place(movenet: MoveNetDetector, astro: np.ndarray) -> None:
    det = movenet(astro)
    assert len(det) == 1 and det.detector.tolist() == ["movenet"]
    kp = det.keypoints[0]
    assert kp[REAR, 0] < kp[REYE, 0] < kp[NOSE, 0] < kp[LEYE, 0] < kp[LEAR, 0]
    assert kp[NOSE, 1] > max(kp[LEYE, 1], kp[REYE, 1])
    assert ((kp[:, 2] >= movenet.keypoint_threshold) & (kp[:, 2] <= 1)).all()
    x1, y1, x2, y2 = det.boxes[0]
    assert x1 < kp[NOSE, 0] < x2 and y1 < kp[NOSE, 1] < y2
    # the body box of the same person contains the head box
    body = movenet.detect_coco(astro).body_boxes[0]
    assert body[0] <= x1 + 5 and body[1] <= y1 + 5 and body[2] >= x2 - 5


def test_pair_two_people_and_the_same_face_as_blazeface(
    movenet: MoveNetDetector, blazeface, pair: np.ndarray
) -> None:  # type: ignore[no-untyped-def]
    a = movenet(pair)
    b = blazeface(pair)
    assert len(a) == 2 and len(b) == 2
    for kp in b.keypoints:
        eye = float(np.linalg.norm(kp[LEYE, :2] - kp[REYE, :2]))
        d = np.linalg.norm(a.keypoints[:, [NOSE, LEYE, REYE], :2] - kp[[0, 1, 2], :2], axis=-1)
        assert d.max(axis=1).min() < 0.6 * eye  # nose and eyes agree on one MoveNet person


def test_keypoint_threshold_and_min_points(movenet: MoveNetDetector, astro: np.ndarray) -> None:
    people = movenet.detect_coco(astro)
    scores = people.keypoints[0, :5, 2]
    thr = float(np.sort(scores)[2])  # the two lowest-scoring head points fall below it
    strict = MoveNetDetector(keypoint_threshold=thr, num_threads=1)
    det = strict.to_detections(people)
    missing = det.keypoints[0, :, 2] == 0
    assert missing.tolist() == (scores < thr).tolist() and missing.sum() == 2
    assert (det.keypoints[0][missing] == 0).all()
    assert len(MoveNetDetector(keypoint_threshold=thr, min_points=4).to_detections(people)) == 0


def test_no_people_in_noise_blank_and_non_person_pictures(movenet: MoveNetDetector) -> None:
    import skimage.data

    rng = np.random.default_rng(2)
    images = [
        rng.integers(0, 256, (480, 640, 3), dtype=np.uint8),
        np.zeros((300, 300, 3), np.uint8),
        np.full((1, 1, 3), 255, np.uint8),
        skimage.data.coffee(),
        skimage.data.chelsea(),
        np.ascontiguousarray(skimage.data.rocket()),
    ]
    for img in images:
        assert len(movenet(img)) == 0


def test_tiles_find_small_people_in_a_large_frame(pair: np.ndarray) -> None:
    canvas = np.full((1080, 1920, 3), 110, np.uint8)
    canvas[700:940, 1400:1720] = cv2.resize(pair, (320, 240), interpolation=cv2.INTER_AREA)
    assert len(MoveNetDetector(num_threads=1)(canvas)) == 0  # 43 px wide people at 256
    det = MoveNetDetector(tile=True, num_threads=1)(canvas)
    assert len(det) == 2
    assert (det.keypoints[:, 0, 0] > 1400).all() and (det.keypoints[:, 0, 1] > 700).all()


def test_tiles_on_a_six_person_composition() -> None:
    img = compose(6)
    assert len(MoveNetDetector(tile=True, num_threads=1)(img)) == 6


def test_shared_instance_is_thread_safe(movenet: MoveNetDetector, astro, pair) -> None:  # type: ignore[no-untyped-def]
    images = [astro, pair, compose(4)]
    expected = [movenet(img).keypoints for img in images]
    results: dict[tuple[int, int], np.ndarray] = {}

    def work(t: int) -> None:
        for r in range(3):
            i = (t + r) % len(images)
            results[(t, r)] = movenet(images[i]).keypoints

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for (t, r), kp in results.items():
        np.testing.assert_array_equal(kp, expected[(t + r) % len(images)])


def test_bad_options_and_images() -> None:
    for kw, match in (
        ({"score_threshold": 0.0}, "score_threshold"),
        ({"keypoint_threshold": 1.0}, "keypoint_threshold"),
        ({"min_points": 6}, "min_points"),
        ({"box": "face"}, "box"),
        ({"scales": (0,)}, "scales"),
        ({"max_people": 0}, "max_people"),
        ({"not_an_option": 1}, "movenet"),
    ):
        with pytest.raises(InputError, match=match):
            create_detector("movenet", **kw)
    with pytest.raises(InputError, match="uint8"):
        MoveNetDetector.__call__(create_detector("movenet"), np.zeros((10, 10, 3), np.float32))


def test_people_container() -> None:
    empty = MoveNetPeople.empty()
    assert len(empty) == 0 and empty.head_boxes.shape == (0, 4)


@pytest.mark.parametrize(
    ("h", "w"), [(720, 1280), (1280, 720), (1080, 1920), (352, 624), (300, 301), (96, 800)]
)
def test_render_top_left_equals_the_padded_square_for_every_size(h: int, w: int) -> None:
    """With or without building the padded square (it is skipped when the image covers whole
    output pixels, e.g. 720p), the input is the padded square's area resize, pixel for pixel."""
    img = np.random.default_rng(h * w).integers(0, 256, (h, w, 3), dtype=np.uint8)
    side = max(h, w)
    canvas = np.zeros((side, side, 3), np.uint8)
    canvas[:h, :w] = img
    ref = cv2.resize(canvas, (256, 256), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(render_top_left(img), ref)
