"""Tests for hhpnet.adapters: index tables, missing points, round trips, objects, files."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from hhpnet.adapters import (
    LAYOUTS,
    HeadKeypoints,
    convert,
    from_hhpnet,
    load_keypoints_file,
    to_hhpnet,
)
from hhpnet.errors import InputError
from hhpnet.keypoints import blazeface_confidence

# Written out by hand from the formats' documentation (not read from LAYOUTS):
# source index of nose, left eye, right eye, left ear, right ear.
EXPECTED_INDICES = {
    "coco17": (0, 1, 2, 3, 4),
    "openpose25": (0, 16, 15, 18, 17),
    # OpenPose COCO-18: 0 nose, 1 neck, 2-13 limbs, 14 r-eye, 15 l-eye, 16 r-ear, 17 l-ear
    "openpose18": (0, 15, 14, 17, 16),
    "blazepose33": (0, 2, 5, 7, 8),
    "hhpnet5": (0, 1, 2, 3, 4),
}
SIZES = {"coco17": 17, "openpose25": 25, "openpose18": 18, "blazepose33": 33, "hhpnet5": 5}


def _labelled(k: int) -> np.ndarray:
    """(2, k, 3) array whose point j sits at x = 10 j + 1 (+500 for person 2), y = 3 j + 2."""
    j = np.arange(k, dtype=np.float64)
    one = np.stack([10 * j + 1, 3 * j + 2, 0.2 + 0.7 * j / k], axis=-1)
    two = one.copy()
    two[:, 0] += 500
    return np.stack([one, two])


@pytest.mark.parametrize("layout", sorted(EXPECTED_INDICES))
def test_index_tables(layout: str) -> None:
    k = SIZES[layout]
    arr = _labelled(k)
    size = (1000, 1000)
    if layout == "blazepose33":  # normalised coordinates
        arr = arr.copy()
        arr[..., :2] /= 1000.0
    out = to_hhpnet(arr, layout, image_size=size)
    idx = np.array(EXPECTED_INDICES[layout])
    assert out.shape == (2, 5, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, :, 0], 10 * idx + 1, rtol=1e-6)
    np.testing.assert_allclose(out[1, :, 0], 10 * idx + 501, rtol=1e-6)
    np.testing.assert_allclose(out[0, :, 1], 3 * idx + 2, rtol=1e-6)
    np.testing.assert_allclose(out[0, :, 2], 0.2 + 0.7 * idx / k, rtol=1e-6)


def test_blazeface6_indices_and_confidence() -> None:
    # right eye, left eye, nose, mouth, right ear, left ear (normalised)
    six = np.array(
        [[[0.40, 0.40], [0.60, 0.40], [0.50, 0.50], [0.50, 0.60], [0.30, 0.45], [0.70, 0.45]]]
    )
    out = to_hhpnet(six, "blazeface6", image_size=(200, 100), scores=[0.9])
    np.testing.assert_allclose(
        out[0, :, :2], [[100, 50], [120, 40], [80, 40], [140, 45], [60, 45]], rtol=1e-6
    )
    np.testing.assert_allclose(out[0, :, 2], blazeface_confidence(out[:, :, :2], [0.9])[0])
    assert np.allclose(out[0, :, 2], 0.9)  # a frontal face: every point fully visible


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_round_trip(layout: str) -> None:
    rng = np.random.default_rng(1)
    kp = np.zeros((4, 5, 3), np.float32)
    kp[..., :2] = rng.uniform(10, 600, size=(4, 5, 2))
    kp[..., 2] = rng.uniform(0.3, 1.0, size=(4, 5))
    if layout != "blazeface6":
        kp[1, 3] = 0.0  # a missing point stays missing
    size = (640, 480)
    back = to_hhpnet(from_hhpnet(kp, layout, image_size=size), layout, image_size=size)
    np.testing.assert_allclose(back[..., :2], kp[..., :2], atol=1e-3)
    if layout == "blazeface6":
        expected = blazeface_confidence(kp[..., :2], np.ones(4))
        np.testing.assert_allclose(back[..., 2], expected, atol=1e-3)
    else:
        np.testing.assert_allclose(back[..., 2], kp[..., 2], atol=1e-6)


def test_missing_semantics() -> None:
    arr = _labelled(17)[:1].copy()
    arr[0, 1, 2] = 0.0  # confidence 0: missing, whatever its coordinates
    arr[0, 2, 2] = np.nan  # NaN confidence: missing
    arr[0, 3, 0] = np.nan  # NaN coordinate: missing
    arr[0, 0, :2] = 0.0  # (0, 0) with a confidence is a real point at the corner
    out = to_hhpnet(arr, "coco17")
    assert out[0, :, 2].tolist() == pytest.approx([0.2, 0.0, 0.0, 0.0, arr[0, 4, 2]])
    assert np.all(out[0, 1:4] == 0)
    # COCO visibility flags: 2 visible -> 1.0, 1 occluded-labelled -> 1.0, 0 -> missing
    flags = _labelled(17)[:1].copy()
    flags[0, :, 2] = 2
    flags[0, 4, 2] = 0
    flags[0, 3, 2] = 1
    assert to_hhpnet(flags, "coco17")[0, :, 2].tolist() == [1, 1, 1, 1, 0]
    # x, y only: every finite point present with confidence 1
    assert to_hhpnet(_labelled(17)[..., :2], "coco17")[..., 2].min() == 1.0


def test_flat_rows_and_single_person() -> None:
    arr = _labelled(25)
    np.testing.assert_array_equal(
        to_hhpnet(arr.reshape(2, 75), "openpose25"), to_hhpnet(arr, "openpose25")
    )
    assert to_hhpnet(arr[0], "openpose25").shape == (1, 5, 3)
    assert to_hhpnet(np.zeros((0, 17, 3)), "coco17").shape == (0, 5, 3)


@pytest.mark.parametrize(
    ("arr", "layout", "match"),
    [
        (np.zeros((2, 18, 3)), "coco17", r"expected shape \(N, 17, 2\) or \(N, 17, 3\)"),
        (np.zeros((2, 17, 4)), "coco17", r"got \(2, 17, 4\)"),
        (np.zeros((2, 17, 3)), "body99", "unknown keypoint layout"),
        (np.full((1, 17, 3), 5.0), "coco17", "confidences must be in"),
        (np.zeros((1, 33, 3)), "blazepose33", "image_size"),
        (np.zeros((1, 6, 3)), "blazeface6", r"\(N, 6, 2\)"),
    ],
)
def test_errors(arr: np.ndarray, layout: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        to_hhpnet(arr, layout)


def test_ultralytics_like_results() -> None:
    data = _labelled(17)
    kpts = SimpleNamespace(data=data, xy=data[..., :2], conf=data[..., 2])
    boxes = SimpleNamespace(
        xyxy=np.array([[0, 0, 50, 60], [500, 0, 560, 70]]), conf=np.array([0.9, 0.8])
    )
    res = SimpleNamespace(keypoints=kpts, boxes=boxes, orig_shape=(480, 640))
    hk = convert(res)
    np.testing.assert_allclose(hk.keypoints, to_hhpnet(data, "coco17"))
    assert hk.image_size == (640, 480)
    assert hk.boxes is not None and hk.boxes.shape == (2, 4)
    assert hk.scores is not None and hk.scores.tolist() == pytest.approx([0.9, 0.8])
    assert len(convert(SimpleNamespace(keypoints=None, boxes=None))) == 0


def test_supervision_like_keypoints() -> None:
    data = _labelled(33)
    sv = SimpleNamespace(xy=data[..., :2], confidence=data[..., 2], data={})
    hk = convert(sv)  # K = 33 -> BlazePose order, pixel coordinates
    np.testing.assert_allclose(hk.keypoints[0, :, 0], 10 * np.array([0, 2, 5, 7, 8]) + 1)
    sv17 = SimpleNamespace(xy=_labelled(17)[..., :2], confidence=None, data={})
    assert convert(sv17).keypoints[..., 2].min() == 1.0
    with pytest.raises(InputError, match="cannot tell the keypoint layout"):
        convert(SimpleNamespace(xy=np.zeros((1, 21, 2)), confidence=None))


def test_mmpose_dicts_and_datasample() -> None:
    data = _labelled(17)
    insts = [
        {
            "keypoints": d[:, :2].tolist(),
            "keypoint_scores": d[:, 2].tolist(),
            "bbox": [[1, 2, 30, 40]],
            "bbox_score": 0.7,
        }
        for d in data
    ]
    hk = convert(insts)
    np.testing.assert_allclose(hk.keypoints, to_hhpnet(data, "coco17"), rtol=1e-6)
    assert hk.boxes is not None and hk.boxes[0].tolist() == [1, 2, 30, 40]
    sample = SimpleNamespace(
        pred_instances=SimpleNamespace(
            keypoints=data[..., :2],
            keypoint_scores=data[..., 2],
            bboxes=np.zeros((2, 4)),
            bbox_scores=np.ones(2),
        )
    )
    np.testing.assert_allclose(convert(sample).keypoints, hk.keypoints)


def test_mediapipe_like_results() -> None:
    lm = [SimpleNamespace(x=j / 100, y=j / 200, z=0.0, visibility=0.9) for j in range(33)]
    legacy = SimpleNamespace(pose_landmarks=SimpleNamespace(landmark=lm))
    hk = convert(legacy, image_size=(1000, 400))
    np.testing.assert_allclose(hk.keypoints[0, :, 0], [0, 20, 50, 70, 80], atol=1e-4)
    np.testing.assert_allclose(hk.keypoints[0, :, 1], [0, 4, 10, 14, 16], atol=1e-4)
    tasks = SimpleNamespace(pose_landmarks=[lm, lm])
    assert len(convert(tasks, image_size=(1000, 400))) == 2
    pts = [
        SimpleNamespace(x=x, y=y)
        for x, y in [(0.4, 0.4), (0.6, 0.4), (0.5, 0.5), (0.5, 0.6), (0.3, 0.45), (0.7, 0.45)]
    ]
    face = SimpleNamespace(
        detections=[SimpleNamespace(keypoints=pts, categories=[SimpleNamespace(score=0.8)])]
    )
    hf = convert(face, image_size=(100, 100))
    np.testing.assert_allclose(hf.keypoints[0, 0], [50, 50, 0.8], rtol=1e-6)


def test_openpose_files_and_folder(tmp_path: Path) -> None:
    data = _labelled(25)
    for i in range(3):
        people = [{"pose_keypoints_2d": d.ravel().tolist()} for d in data[: i + 1]]
        frame = {"version": 1.3, "people": people}
        (tmp_path / f"clip_{i:012d}_keypoints.json").write_text(json.dumps(frame))
    recs = load_keypoints_file(tmp_path)
    assert [len(r) for r in recs] == [1, 2, 2]
    assert recs[0].source == "clip_000000000000"
    np.testing.assert_allclose(recs[2].keypoints, to_hhpnet(data, "openpose25"))
    one = convert(tmp_path / "clip_000000000001_keypoints.json")
    assert isinstance(one, HeadKeypoints) and len(one) == 2
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"people": []}))
    assert len(convert(empty)) == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"people": [{"pose_keypoints_2d": [1.0] * 60}]}))
    with pytest.raises(InputError, match="expected 75"):
        load_keypoints_file(bad)


def test_coco_annotation_and_results_files(tmp_path: Path) -> None:
    data = _labelled(17)
    ann = {
        "images": [
            {"id": 7, "file_name": "a.jpg", "width": 640, "height": 480},
            {"id": 8, "file_name": "b.jpg", "width": 320, "height": 240},
        ],
        "annotations": [
            {"image_id": 7, "keypoints": d.ravel().tolist(), "bbox": [10, 20, 30, 40]} for d in data
        ],
    }
    (tmp_path / "ann.json").write_text(json.dumps(ann))
    recs = load_keypoints_file(tmp_path / "ann.json")
    assert [(r.source, len(r), r.image_size) for r in recs] == [
        ("a.jpg", 2, (640, 480)),
        ("b.jpg", 0, (320, 240)),
    ]
    assert recs[0].boxes is not None and recs[0].boxes[0].tolist() == [10, 20, 40, 60]
    res = [
        {"image_id": i, "category_id": 1, "keypoints": d.ravel().tolist(), "score": 0.5}
        for i, d in zip([3, 4], data, strict=True)
    ]
    (tmp_path / "res.json").write_text(json.dumps(res))
    recs = load_keypoints_file(tmp_path / "res.json")
    assert [r.source for r in recs] == ["3", "4"]


def test_npy_and_bad_files(tmp_path: Path) -> None:
    np.save(tmp_path / "k.npy", _labelled(17))
    (rec,) = load_keypoints_file(tmp_path / "k.npy")
    assert rec.keypoints.shape == (2, 5, 3)
    with pytest.raises(InputError, match=r"expected shape \(N, 25"):
        load_keypoints_file(tmp_path / "k.npy", "openpose25")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(InputError, match="invalid JSON"):
        load_keypoints_file(tmp_path / "broken.json")
    with pytest.raises(InputError, match="no such keypoints file"):
        load_keypoints_file(tmp_path / "nope.json")
    (tmp_path / "odd.json").write_text(json.dumps({"foo": 1}))
    with pytest.raises(InputError, match="unrecognised keypoints JSON"):
        load_keypoints_file(tmp_path / "odd.json")
