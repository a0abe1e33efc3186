import json

import numpy as np
import pytest
from scipy.io import savemat

from hhpnet.convention import angles_to_matrix
from hhpnet.errors import InputError
from hhpnet.training.datasets import (
    BIWI_TO_VIEWER,
    attach_keypoints,
    detect_keypoints,
    keypoints_from_landmarks,
    load_biwi_dir,
    load_keypoints_json,
    load_mat_dir,
    read_biwi_pose,
    read_mat_pose,
)

KP = [[100, 120, 0.9], [115, 105, 0.9], [85, 105, 0.9], [135, 112, 0.8], [65, 112, 0.8]]


def write_mat(path, pitch, yaw, roll, key="pt3d_68"):
    lm = np.zeros((3 if key == "pt3d_68" else 2, 68))
    lm[0] = np.arange(68) + 10.0
    lm[1] = 50.0
    savemat(path, {"Pose_Para": np.array([[pitch, yaw, roll, 0, 0, 0, 1.0]]), key: lm})


def test_mat_pose_is_pitch_yaw_roll_radians(tmp_path):
    write_mat(tmp_path / "image00002.mat", 0.1, -0.5, 0.25)
    angles, lm = read_mat_pose(tmp_path / "image00002.mat")
    np.testing.assert_allclose(angles, np.rad2deg([-0.5, 0.1, 0.25]))
    assert lm.shape == (68, 2) and lm[30, 0] == 40.0


def test_mat_dir_filters_large_angles_and_pairs_images(tmp_path):
    write_mat(tmp_path / "a.mat", 0.1, 0.2, 0.0)
    write_mat(tmp_path / "b.mat", 0.0, np.deg2rad(120.0), 0.0, key="pt2d")
    write_mat(tmp_path / "c.mat", 0.0, np.deg2rad(-60.0), 0.1, key="pt2d")
    (tmp_path / "a.jpg").write_bytes(b"x")
    ds = load_mat_dir(tmp_path)
    assert [p.split("/")[-1] for p in ds.images] == ["a.jpg", "c.jpg"]
    np.testing.assert_allclose(ds.angles[1, 0], -60.0, rtol=1e-5)
    assert ds.landmarks.shape == (2, 68, 2) and not ds.found.any()
    assert len(load_mat_dir(tmp_path, max_angle=None)) == 3


def test_mat_errors(tmp_path):
    with pytest.raises(InputError, match=r"no \.mat"):
        load_mat_dir(tmp_path)
    savemat(tmp_path / "x.mat", {"other": np.zeros(3)})
    with pytest.raises(InputError, match="Pose_Para"):
        read_mat_pose(tmp_path / "x.mat")
    (tmp_path / "y.mat").write_bytes(b"garbage")
    with pytest.raises(InputError):
        read_mat_pose(tmp_path / "y.mat")


def hopenet_biwi_angles(m):
    """The community BIWI protocol formulas, written from their description."""
    pitch = np.degrees(np.arctan2(m[1, 2], m[2, 2]))
    yaw = -np.degrees(np.arctan2(-m[0, 2], np.hypot(m[1, 2], m[2, 2])))
    roll = -np.degrees(np.arctan2(m[0, 1], m[0, 0]))
    return np.array([yaw, pitch, roll])


@pytest.mark.parametrize("angles", [(30.0, 0.0, 0.0), (-20.0, 15.0, 5.0), (50.0, -30.0, -25.0)])
def test_biwi_pose_file_conversion(tmp_path, angles):
    m = BIWI_TO_VIEWER @ angles_to_matrix(*angles) @ BIWI_TO_VIEWER
    d = tmp_path / "01"
    d.mkdir()
    lines = [" ".join(f"{v:.9f}" for v in row) + " " for row in m] + ["", "12.5 -3.0 950.0 "]
    (d / "frame_00004_pose.txt").write_text("\n".join(lines) + "\n")
    got = read_biwi_pose(d / "frame_00004_pose.txt")
    np.testing.assert_allclose(got, angles, atol=1e-5)
    np.testing.assert_allclose(got, hopenet_biwi_angles(m), atol=1e-5)
    ds = load_biwi_dir(tmp_path)
    assert ds.images[0].endswith("01/frame_00004_rgb.png")
    np.testing.assert_allclose(ds.angles[0], angles, atol=1e-4)


def test_biwi_errors(tmp_path):
    (tmp_path / "frame_00001_pose.txt").write_text("1 0 0\n0 1 0\n")
    with pytest.raises(InputError, match="3×3"):
        read_biwi_pose(tmp_path / "frame_00001_pose.txt")
    (tmp_path / "frame_00002_pose.txt").write_text("2 0 0\n0 1 0\n0 0 1\n\n0 0 0\n")
    with pytest.raises(InputError, match="not a rotation"):
        read_biwi_pose(tmp_path / "frame_00002_pose.txt")
    with pytest.raises(InputError, match="not a folder"):
        load_biwi_dir(tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no BIWI"):
        load_biwi_dir(tmp_path / "empty")


def test_keypoints_json_forms(tmp_path):
    simple = tmp_path / "a.json"
    simple.write_text(json.dumps([{"image": "dir/img1.jpg", "keypoints": KP}]))
    assert load_keypoints_json(simple)["dir/img1.jpg"].shape == (5, 3)

    far = [[x + 300, y, c] for x, y, c in KP]
    records = [
        {
            "source": "img2.jpg",
            "width": 240,
            "height": 240,
            "people": [{"keypoints": far, "score": 0.99}, {"keypoints": KP, "score": 0.5}],
        },
        {"source": "img3.jpg", "width": 240, "height": 240, "people": []},
    ]
    lines = tmp_path / "b.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in records))
    got = load_keypoints_json(lines)
    assert set(got) == {"img2.jpg"}
    assert got["img2.jpg"][0, 0] == 100.0  # the person nearest the image centre

    mapping = tmp_path / "c.json"
    mapping.write_text(json.dumps({"img4.png": KP}))
    assert "img4.png" in load_keypoints_json(mapping)


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps([{"keypoints": KP}]),
        json.dumps({"a.jpg": [[1, 2, 3]]}),
        json.dumps([{"image": "a.jpg", "keypoints": [[1, 2, -1]] * 5}]),
        json.dumps(3),
    ],
)
def test_keypoints_json_errors(tmp_path, content):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(InputError):
        load_keypoints_json(p)


def test_attach_keypoints_matches_path_name_and_stem(tmp_path):
    for name in ("a", "b", "c"):
        write_mat(tmp_path / f"{name}.mat", 0.0, 0.1, 0.0)
    ds = load_mat_dir(tmp_path)
    kp = np.asarray(KP, np.float32)
    one_point = np.zeros((5, 3), np.float32)
    one_point[0] = [1, 1, 1]
    n = attach_keypoints(ds, {ds.images[0]: kp, "b.jpg": kp * [1, 1, 0.5], "c": one_point})
    assert n == 2
    np.testing.assert_array_equal(ds.found, [True, True, False])
    assert ds.keypoints[1, 0, 2] == pytest.approx(0.45)


def test_keypoints_from_landmarks_order():
    lm = np.zeros((1, 68, 2))
    lm[0, 30] = [50, 60]
    lm[0, 36:42] = [30, 40]  # subject's right eye: image left
    lm[0, 42:48] = [70, 40]
    lm[0, 0] = [10, 45]
    lm[0, 16] = [90, 45]
    kp = keypoints_from_landmarks(lm)[0]
    np.testing.assert_allclose(kp[:, :2], [[50, 60], [70, 40], [30, 40], [90, 45], [10, 45]])
    assert (kp[:, 2] == 1).all()


def test_detect_keypoints_with_a_callable_detector(tmp_path):
    import cv2

    img = np.zeros((60, 80, 3), np.uint8)
    cv2.imwrite(str(tmp_path / "f.png"), img)

    class Found:
        def __init__(self, kps):
            self.keypoints = kps

        def __len__(self):
            return len(self.keypoints)

    def fake(image):
        assert image.shape == (60, 80, 3) and image.dtype == np.uint8
        near = np.asarray(KP, np.float32) * [0.4, 0.3, 1]
        return Found(np.stack([near + np.array([500.0, 0, 0], np.float32), near]))

    got = detect_keypoints([str(tmp_path / "f.png")], detector=fake)
    np.testing.assert_allclose(got[str(tmp_path / "f.png")][0, 0], 40.0)
    with pytest.raises(InputError):
        detect_keypoints([str(tmp_path / "missing.png")], detector=fake)
