"""Tests for hhpnet.pipeline: Poses container/export and HeadPoseEstimator plumbing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hhpnet.errors import InputError
from hhpnet.pipeline import HeadPoseEstimator
from hhpnet.poses import CSV_COLUMNS, Poses
from tests.helpers.fakes import FixedDetector, GeometricModel, face

PERSON_KEYS = {
    "box", "score", "detector", "keypoints", "yaw", "pitch", "roll", "sigma", "valid", "ambiguous"
}  # fmt: skip


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


# --------------------------------------------------------------------------- end to end
# Real detector (BlazeFace) on the bundled photos, with two real pose methods: the shipped
# hhpnet-1.0 weights and the solvePnP baseline.

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "hhpnet" / "examples"


class PnPModel:
    """The solvePnP baseline behind the model interface (needs the image size)."""

    def __init__(self, image_size: tuple[int, int]) -> None:
        self.image_size = image_size

    def predict(self, keypoints: np.ndarray):
        from hhpnet.training.baseline import solve_pnp
        from tests.helpers.fakes import FakeOutput

        ang, valid = solve_pnp(keypoints, self.image_size)
        sigma = np.where(valid[:, None], 5.0, np.inf) * np.ones((len(ang), 3))
        a = ang.astype(np.float32)
        return FakeOutput(a[:, 0], a[:, 1], a[:, 2], sigma.astype(np.float32), valid)


def _estimator(kind: str, image_size: tuple[int, int]) -> HeadPoseEstimator:
    if kind == "pnp":
        return HeadPoseEstimator(model=PnPModel(image_size))
    return HeadPoseEstimator(model=kind)


def _bgr(name: str) -> np.ndarray:
    import cv2

    return cv2.imread(str(EXAMPLES / name))


METHODS = ["hhpnet-1.0", "pnp"]


@pytest.mark.parametrize("kind", METHODS)
def test_e2e_faces_found_where_they_are(kind: str) -> None:
    img = _bgr("astronaut.jpg")
    poses = _estimator(kind, (512, 512))(img)
    assert len(poses) == 1 and poses.valid.all()
    x1, y1, x2, y2 = poses.boxes[0]
    assert 170 < (x1 + x2) / 2 < 280 and 60 < (y1 + y2) / 2 < 180  # her face
    assert abs(poses.yaw[0]) < 25 and abs(poses.pitch[0]) < 25 and abs(poses.roll[0]) < 15
    pair = _estimator(kind, (640, 480))(_bgr("pair_640x480.jpg"))
    assert len(pair) == 2
    left, right = np.argsort(pair.centroid[:, 0])
    # the cameraman (left, near profile) looks towards the image right: clearly negative yaw;
    # Grace (right, mirrored) is nearly frontal, turned a little towards him
    assert pair.yaw[left] < -25 and pair.yaw[left] < pair.yaw[right] - 20


@pytest.mark.parametrize("kind", METHODS)
@pytest.mark.parametrize("name", ["astronaut.jpg", "grace_hopper.jpg", "pair_640x480.jpg"])
def test_e2e_mirror_equivariance(kind: str, name: str) -> None:
    img = _bgr(name)
    size = (img.shape[1], img.shape[0])
    a = _estimator(kind, size)(img)
    b = _estimator(kind, size)(np.ascontiguousarray(img[:, ::-1]))
    assert len(a) == len(b) >= 1
    # match people by mirrored centroid
    mirrored_x = (size[0] - 1) - b.centroid[:, 0]
    order = [int(np.argmin(np.abs(mirrored_x - cx))) for cx in a.centroid[:, 0]]
    b = b[order]
    # the detector itself is not exactly mirror-symmetric (most on the near-profile cameraman):
    # its points move by a few pixels, and the pose with them. hhpnet: within 1.5 × the σ of
    # the difference (measured: astronaut pitch −13.0 vs −5.2 with σ 6.0, i.e. 0.9 σ_diff); the
    # model itself is mirror-symmetric to ≈ 1° on the very same points (test_fuzz_core).
    # solvePnP to the detector's fitted frontal head, whose eyes sit only ≈ 40 mm in front of
    # its ear points, amplifies the asymmetry (measured: pitch 8°, roll 10.6°).
    tol = np.full((len(a), 3), 10.0 if name.startswith("pair") else 6.0)
    if kind == "pnp":
        tol += 6.0
    else:
        tol = np.maximum(tol, 1.5 * np.hypot(a.sigma, b.sigma))
    assert (np.abs(b.yaw + a.yaw) <= tol[:, 0]).all(), (a.yaw, b.yaw)
    assert (np.abs(b.pitch - a.pitch) <= tol[:, 1]).all(), (a.pitch, b.pitch)
    assert (np.abs(b.roll + a.roll) <= tol[:, 2]).all(), (a.roll, b.roll)


@pytest.mark.parametrize("kind", METHODS)
@pytest.mark.parametrize("theta", [-20.0, 20.0])
def test_e2e_in_plane_rotation_changes_roll(kind: str, theta: float) -> None:
    import cv2

    img = _bgr("grace_hopper.jpg")
    h, w = img.shape[:2]
    est = _estimator(kind, (w, h))
    base = est(img)
    centre = tuple(float(v) for v in base.centroid[0])
    # cv2 angle > 0 turns the picture counter-clockwise on screen; roll > 0 is clockwise
    m = cv2.getRotationMatrix2D(centre, -theta, 1.0)
    rotated = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
    after = est(rotated)
    assert len(after) == 1
    assert after.roll[0] - base.roll[0] == pytest.approx(theta, abs=5.0)
    assert after.yaw[0] == pytest.approx(base.yaw[0], abs=6.0)


def test_out_of_frame_keypoints_never_make_a_pose() -> None:
    est = HeadPoseEstimator(detector=None)
    kp = np.zeros((1, 17, 3))
    kp[0, :5] = [
        [-3000, 100, 0.9],
        [110, -4000, 0.9],
        [90, 90, 0.9],
        [1e6, 95, 0.9],
        [80, 9e5, 0.9],
    ]
    poses = est.from_keypoints(kp, layout="coco17", image_size=(640, 480))
    assert not poses.valid[0] and np.isnan(poses.yaw[0])  # one point left: no pose
    assert (poses.keypoints[0, [0, 1, 3, 4], 2] == 0).all()


def test_detector_tag_per_person_reaches_json_csv_and_back() -> None:
    from hhpnet.detectors.base import Detections

    kp = np.stack([face(60, 60), face(200, 60, turn=0.6)])
    tagged = Detections(
        np.tile([[10, 10, 60, 60]], (2, 1)), kp, [0.9, 0.4], ["blazeface", "movenet"]
    )
    est = HeadPoseEstimator(model=GeometricModel(), detector=lambda image: tagged)
    poses = est(np.zeros((120, 400, 3), np.uint8))
    assert poses.detector.tolist() == ["blazeface", "movenet"]
    assert poses[1].detector.tolist() == ["movenet"]
    rec = json.loads(poses.to_json())
    assert [p["detector"] for p in rec["people"]] == ["blazeface", "movenet"]
    assert Poses.from_dict(rec).detector.tolist() == ["blazeface", "movenet"]
    assert [r["detector"] for r in poses.to_rows()] == ["blazeface", "movenet"]
    # keypoints given by the caller carry no detector name; JSON null, CSV empty
    given = est.from_keypoints(kp, layout="hhpnet5")
    assert given.detector.tolist() == ["", ""]
    assert json.loads(given.to_json())["people"][0]["detector"] is None
    with pytest.raises(ValueError, match="detector"):
        Poses.empty().__class__(**{**vars(poses), "detector": ["a"]})
