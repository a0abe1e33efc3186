import numpy as np
import pytest

from hhpnet.convention import wrap_degrees
from hhpnet.keypoints import blazeface_confidence, normalize, validate_keypoints
from hhpnet.training.synth import (
    DETECTOR_PROFILES,
    MEAN_HEAD_MM,
    SynthConfig,
    detector_shape,
    generate,
    mirror,
    project_head,
)


def _project(angles, profile="blazeface"):
    a = np.atleast_2d(np.asarray(angles, float))
    n = len(a)
    head = np.repeat(MEAN_HEAD_MM[profile][None], n, 0)
    c = np.array([[320.0, 240.0]] * n)
    return project_head(head, a, c, np.full(n, 800.0), np.full(n, 500.0), c)


def test_projection_signs_follow_the_convention():
    origin = np.array([320.0, 240.0])
    nose_yaw = _project([40, 0, 0])[0, 0]
    assert nose_yaw[0] < origin[0] - 10  # positive yaw: nose to the image's left
    up = _project([0, 30, 0])[0, 0, 1]
    level = _project([0, 0, 0])[0, 0, 1]
    assert up < level - 10  # positive pitch: nose goes up
    eyes = _project([0, 0, 20])[0, 1:3]
    assert eyes[0, 1] > eyes[1, 1]  # positive roll: the (image-right) left eye goes down
    frontal = _project([0, 0, 0])[0]
    assert frontal[1, 0] > frontal[2, 0]  # the subject's left eye is on the image right


def test_deterministic_and_in_range():
    a, b = generate(5000, 3), generate(5000, 3)
    np.testing.assert_array_equal(a.keypoints, b.keypoints)
    assert not np.array_equal(a.keypoints, generate(5000, 4).keypoints)
    assert a.keypoints.shape == (5000, 5, 3) and a.keypoints.dtype == np.float32
    yaw, pitch, roll = a.angles.T
    assert yaw.min() >= -180 and yaw.max() <= 180 and np.abs(yaw).max() > 150
    assert np.abs(pitch).max() <= 89 and np.abs(roll).max() <= 95  # roll: along the gimbal ridge
    conf = a.keypoints[..., 2]
    assert conf.min() >= 0 and conf.max() <= 1
    np.testing.assert_array_equal(a.keypoints[conf == 0], 0)
    assert a.head_px.min() >= 15 and (a.head_px <= 0.95 * a.image_size[:, 1] + 1e-3).all()
    assert set(np.unique(a.detector)) == set(range(len(DETECTOR_PROFILES)))


def test_blazeface_profile_stays_in_range_and_uses_the_detector_confidence():
    cfg = SynthConfig(detector_weights=(1.0, 0.0, 0.0))
    b = generate(4000, 1, cfg)
    assert np.abs(b.angles[:, 0]).max() <= cfg.blazeface_max_yaw + 1e-4
    assert (b.keypoints[..., 2] > 0).all()  # BlazeFace always reports every point
    # confidences are blazeface_confidence(xy, score) with one score per face
    ratio = b.keypoints[..., 2] / blazeface_confidence(b.keypoints[..., :2], np.ones(len(b)))
    np.testing.assert_allclose(ratio, ratio.max(1, keepdims=True) * np.ones((1, 5)), rtol=1e-6)


def test_coco_back_views_report_hidden_face_points_with_lower_scores():
    cfg = SynthConfig(detector_weights=(0.0, 0.0, 1.0), dropout=0.0, outlier=0.0)
    b = generate(20000, 2, cfg)
    yaw = np.abs(b.angles[:, 0])
    conf = b.keypoints[..., 2]
    back, front = yaw > 150, yaw < 15
    assert back.sum() > 100 and front.sum() > 100
    # behind the head the face points score lower than the ears; facing the camera they do not
    face_back = conf[back][:, :3].mean()
    ears_back = conf[back][:, 3:].mean()
    assert face_back < 0.8 * ears_back
    assert conf[front][:, :3].mean() > conf[front][:, 3:].mean()
    # every point present when facing the camera (above the thresholds) most of the time
    assert (conf[front] > 0).mean() > 0.8


def test_fitted_shapes_are_left_right_symmetric():
    yaw = np.array([-40.0, 40.0])
    for profile in DETECTOR_PROFILES:
        pts = detector_shape(profile, yaw, np.zeros(2))
        mirrored = pts[0][[0, 2, 1, 4, 3]] * np.array([-1.0, 1.0, 1.0])
        np.testing.assert_allclose(mirrored, pts[1], atol=0.5)
        head = MEAN_HEAD_MM[profile]
        assert np.linalg.norm(head[3] - head[4]) == pytest.approx(143.0, abs=0.5)
        assert head[0, 2] > head[1, 2] > head[3, 2]  # the nose in front of the eyes, ears behind


def test_label_spread_along_the_gimbal_ridge_near_profile():
    cfg = SynthConfig(detector_weights=(1.0, 0.0, 0.0))
    a = generate(40000, 11, cfg).angles.astype(float)
    yaw, pitch, roll = a.T
    u = (pitch + np.sign(yaw) * roll) / 2  # the direction that barely changes the rotation
    profile, frontal = np.abs(yaw) > 70, np.abs(yaw) < 20
    assert u[profile].std() > 1.5 * u[frontal].std()
    assert np.corrcoef(pitch[profile], np.sign(yaw[profile]) * roll[profile])[0, 1] > 0.5
    assert np.abs(pitch).max() <= 89 and np.abs(roll).max() <= 95


def test_simulated_labels_and_head_sizes_are_used_as_given():
    angles = np.array([[10.0, -5.0, 3.0], [-70.0, 12.0, -8.0]] * 50)
    size = np.full(100, 200.0)
    cfg = SynthConfig(detector_weights=(0.0, 1.0, 0.0), mirror_share=0.0)
    b = generate(100, 4, cfg, angles=angles, head_px=size)
    np.testing.assert_allclose(b.angles, angles, atol=1e-4)
    np.testing.assert_allclose(b.head_px, np.minimum(size, 0.95 * b.image_size[:, 1]), rtol=1e-5)


def test_mirror_flips_labels_and_swaps_sides():
    b = generate(2000, 5)
    m = mirror(b)
    np.testing.assert_allclose(m.angles[:, 0], wrap_degrees(-b.angles[:, 0]), atol=1e-5)
    np.testing.assert_allclose(m.angles[:, 2], -b.angles[:, 2])
    np.testing.assert_allclose(m.angles[:, 1], b.angles[:, 1])
    # twice is the identity
    mm = mirror(m)
    np.testing.assert_allclose(mm.keypoints, b.keypoints, atol=1e-3)


def test_mirroring_a_projection_equals_projecting_the_mirrored_pose():
    angles = np.array([[35.0, 10.0, -12.0], [-70.0, -5.0, 8.0]])
    left = _project(angles)
    right = _project(angles * [-1, 1, -1])
    flipped = (640 - 1) - left[:, [0, 2, 1, 4, 3], 0]
    np.testing.assert_allclose(flipped, right[..., 0] - 1, atol=1e-6)
    np.testing.assert_allclose(left[:, [0, 2, 1, 4, 3], 1], right[..., 1], atol=1e-6)


def test_most_samples_are_valid_network_input():
    b = generate(10000, 6)
    _, valid = normalize(validate_keypoints(b.keypoints))
    assert valid.mean() > 0.97


def test_config_round_trip():
    cfg = SynthConfig(yaw_sd=20.0)
    assert SynthConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown"):
        SynthConfig.from_dict({"nope": 1})


def test_blazeface_far_side_points_stay_inside_the_face_on_profiles():
    cfg = SynthConfig(detector_weights=(1.0, 0.0, 0.0), outlier=0.0)
    b = generate(20000, 8, cfg)
    yaw = b.angles[:, 0]
    kp = b.keypoints
    # positive yaw: the subject's right side (eye 2, ear 4) is the far side, the nose points
    # to the image left; sign-normalise so that the far side is the image left.
    sign = np.where(yaw > 0, 1.0, -1.0)
    far_ear = np.where(yaw > 0, kp[:, 4, 0], kp[:, 3, 0]) * sign
    near_eye = np.where(yaw > 0, kp[:, 1, 0], kp[:, 2, 0]) * sign
    near_ear = np.where(yaw > 0, kp[:, 3, 0], kp[:, 4, 0]) * sign
    profile = (np.abs(yaw) > 70) & (np.abs(yaw) < 90) & (np.abs(b.angles[:, 2]) < 20)
    assert profile.sum() > 200
    # the true far tragion would be hidden behind the face; BlazeFace (fitted on its real
    # output) puts it on the near side of the nose's far neighbourhood, between the near eye
    # and near ear more often than not
    between = (far_ear > near_eye - 0.1 * b.head_px) & (far_ear < near_ear)
    assert between[profile].mean() > 0.5
    frontal = (np.abs(yaw) < 10) & (np.abs(b.angles[:, 2]) < 20)
    assert (near_ear[frontal] > near_eye[frontal]).mean() > 0.97
    assert (far_ear[frontal] < near_eye[frontal]).mean() > 0.97
    far_c = np.where(yaw > 0, kp[:, 4, 2], kp[:, 3, 2]) / kp[..., 2].max(1)
    assert np.median(far_c[profile]) < 0.5 and np.median(far_c[frontal]) > 0.99


def test_large_heads_keep_the_camera_in_front_of_the_face():
    quiet = SynthConfig(
        detector_weights=(0.0, 1.0, 0.0),
        noise_scale=0.0,
        noise_px=0.0,
        small_head_noise=0.0,
        outlier=0.0,
        distance_mm=(400.0, 500.0),
    )
    b = generate(20000, 9, quiet)
    frontal = (np.abs(b.angles) < 15).all(1)
    kp = b.keypoints[frontal]
    big = b.head_px[frontal] > 300
    assert big.sum() > 50
    # frontal: nose between the eyes, eye distance ≈ half the head breadth (perspective
    # enlarges the nearer eyes a little, never by a factor of several)
    ratio = np.linalg.norm(kp[:, 1, :2] - kp[:, 2, :2], axis=1) / b.head_px[frontal]
    assert ratio.min() > 0.3 and ratio.max() < 0.9
    assert ((kp[:, 0, 0] - kp[:, 1, 0]) * (kp[:, 0, 0] - kp[:, 2, 0]) < 0).all()


def test_generate_is_bit_identical_to_the_pinned_checksum():
    """``generate(2000, 123)`` pinned before the structure refactor (issue 15): moving code must
    not change a single bit of the training data (arrays in field order, raw bytes, sha256)."""
    import hashlib

    b = generate(2000, 123)
    h = hashlib.sha256()
    for a in (b.keypoints, b.angles, b.image_size, b.detector, b.head_px):
        h.update(np.ascontiguousarray(a).tobytes())
    assert h.hexdigest() == "5cafa9d7a613fdf16ee81816553e080aaa578aec0b3304443e97c187668b41df"
