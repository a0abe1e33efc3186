"""Tests for hhpnet.pipeline: Poses container/export and HeadPoseEstimator plumbing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _fakes import FixedDetector, GeometricModel, face
from hhpnet.errors import InputError
from hhpnet.pipeline import CSV_COLUMNS, HeadPoseEstimator, Poses

PERSON_KEYS = {"box", "score", "keypoints", "yaw", "pitch", "roll", "sigma", "valid"}


def _three_people() -> np.ndarray:
    one_point = np.zeros((5, 3), np.float32)
    one_point[0] = (300, 40, 0.9)  # a single point: no pose can be made
    return np.stack([face(60, 50, turn=-0.5), face(200, 80, 60), one_point])


def test_estimator_batches_people_and_reads_bgr() -> None:
    model = GeometricModel()
    det = FixedDetector(_three_people())
    est = HeadPoseEstimator(model=model, detector=det)
    bgr = np.zeros((120, 400, 3), np.uint8)
    bgr[..., 0] = 255  # blue in OpenCV order
    poses = est(bgr)
    assert model.calls == 1 and model.batch_sizes == [3]  # one predict call per image
    assert det.seen[0][0, 0].tolist() == [0, 0, 255]  # the detector received RGB
    est(bgr[..., ::-1], rgb=True)
    assert det.seen[1][0, 0].tolist() == [0, 0, 255]
    assert len(poses) == 3 and poses.image_size == (400, 120)
    assert poses.valid.tolist() == [True, True, False]
    assert poses.yaw[0] > 20 and abs(poses.yaw[1]) < 1e-3  # nose left of centre → positive yaw
    assert np.isnan(poses.yaw[2]) and np.isinf(poses.sigma[2]).all()
    np.testing.assert_allclose(
        poses.centroid[1], [200, 80 - 0.2 * 30 * 2 / 5 + 0.2 * 30 / 5], atol=1e-4
    )
    np.testing.assert_allclose(poses.centroid[2], [300, 40])
    assert poses.head_size[1] == pytest.approx(60.0)
    assert np.isnan(poses.head_size[2])


def test_path_pil_and_source(tmp_path: Path) -> None:
    est = HeadPoseEstimator(model=GeometricModel(), detector=FixedDetector(face(30, 30)))
    p = tmp_path / "img.png"
    Image.fromarray(np.full((50, 70, 3), 128, np.uint8)).save(p)
    assert est(p).source == str(p)
    assert est(Image.open(p)).image_size == (70, 50)
    assert est(str(p), source="named").source == "named"
    with pytest.raises(InputError, match="no such file"):
        est(tmp_path / "missing.jpg")


def test_no_detection_gives_empty_poses() -> None:
    model = GeometricModel()
    est = HeadPoseEstimator(model=model, detector=FixedDetector(np.zeros((0, 5, 3))))
    poses = est(np.zeros((40, 40, 3), np.uint8))
    assert len(poses) == 0 and model.calls == 0
    rec = poses.to_dict()
    assert rec == {"source": None, "width": 40, "height": 40, "people": []}


def test_from_keypoints_layouts_and_objects() -> None:
    est = HeadPoseEstimator(model=GeometricModel(), detector=None)
    coco = np.zeros((2, 17, 3), np.float32)
    coco[:, :5] = np.stack([face(50, 50), face(150, 50, turn=0.5)])
    poses = est.from_keypoints(coco, image_size=(200, 100))
    assert len(poses) == 2 and poses.valid.all() and poses.yaw[1] < -20
    # padded box around the present points
    np.testing.assert_allclose(poses.boxes[0], [30 - 10, 46 - 10, 70 + 10, 54 + 10], atol=1e-4)
    assert poses.scores[0] == pytest.approx((0.9 * 3 + 0.8 * 2) / 5)
    op = {"people": [{"pose_keypoints_2d": np.zeros((25, 3)).ravel().tolist()}]}
    assert est.from_keypoints(op).valid.tolist() == [False]  # all points missing
    with pytest.raises(InputError, match=r"expected shape \(N, 17"):
        est.from_keypoints(np.zeros((1, 25, 3)), layout="coco17")
    with pytest.raises(InputError, match="no detector"):
        est(np.zeros((20, 20, 3), np.uint8))


def test_kpt_thr_drops_low_confidence_points() -> None:
    kp = face(50, 50)
    kp[3:, 2] = 0.2  # ears
    est = HeadPoseEstimator(model=GeometricModel(), detector=None, kpt_thr=0.5)
    poses = est.from_keypoints(kp, layout="hhpnet5")
    assert poses.keypoints[0, 3:, 2].tolist() == [0, 0]
    with pytest.raises(InputError, match="kpt_thr"):
        HeadPoseEstimator(kpt_thr=2.0)


def test_poses_indexing_and_export() -> None:
    est = HeadPoseEstimator(model=GeometricModel(), detector=FixedDetector(_three_people()))
    poses = est(np.zeros((120, 400, 3), np.uint8), source="x.jpg")
    assert len(poses[poses.valid]) == 2
    assert poses[1].yaw.shape == (1,) and poses[-1].valid.tolist() == [False]
    assert len(poses[[0, 2]]) == 2 and len(poses[:0]) == 0
    with pytest.raises(IndexError):
        poses[3]
    rec = json.loads(poses.to_json())
    assert set(rec) == {"source", "width", "height", "people"}
    assert rec["source"] == "x.jpg" and (rec["width"], rec["height"]) == (400, 120)
    for p in rec["people"]:
        assert set(p) == PERSON_KEYS
        assert len(p["box"]) == 4 and len(p["keypoints"]) == 5
        assert all(len(k) == 3 for k in p["keypoints"]) and set(p["sigma"]) == {
            "yaw",
            "pitch",
            "roll",
        }
    assert rec["people"][2]["yaw"] is None and rec["people"][2]["sigma"]["roll"] is None
    assert rec["people"][0]["yaw"] == pytest.approx(float(poses.yaw[0]), abs=1e-3)
    back = Poses.from_dict(rec)
    np.testing.assert_allclose(back.yaw, poses.yaw, atol=1e-3)
    np.testing.assert_allclose(back.keypoints, poses.keypoints, atol=1e-2)
    assert back.valid.tolist() == poses.valid.tolist() and back.image_size == (400, 120)
    rows = poses.to_rows()
    assert len(rows) == 3 and tuple(rows[0]) == CSV_COLUMNS
    df = poses.to_pandas()
    assert list(df.columns) == list(CSV_COLUMNS) and len(df) == 3
    assert df["valid"].tolist() == [True, True, False]
