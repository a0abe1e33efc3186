import numpy as np
import pytest

from hhpnet.convention import wrap_degrees
from hhpnet.keypoints import blazeface_confidence, normalize, validate_keypoints
from hhpnet.synth import (
    DETECTOR_PROFILES,
    MEAN_HEAD_MM,
    SynthConfig,
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
    assert np.abs(pitch).max() <= 90 and np.abs(roll).max() <= 60
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


def test_coco_backs_of_heads_show_ears_only_and_frontal_shows_all():
    cfg = SynthConfig(detector_weights=(0.0, 0.0, 1.0), dropout=0.0, outlier=0.0)
    b = generate(20000, 2, cfg)
    yaw = np.abs(b.angles[:, 0])
    present = b.keypoints[..., 2] > 0
    back = yaw > 150
    assert back.sum() > 100
    assert present[back][:, :3].mean() < 0.05 and present[back][:, 3:].mean() > 0.3
    front = yaw < 15
    assert present[front].mean() > 0.9


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


def test_blazeface_pulls_far_side_points_into_the_face_on_profiles_only():
    cfg = SynthConfig(detector_weights=(1.0, 0.0, 0.0), outlier=0.0)
    b = generate(20000, 8, cfg)
    yaw = b.angles[:, 0]
    kp = b.keypoints
    # positive yaw: the subject's right side (eye 2, ear 4) is the far side, the nose points
    # to the image left; the near eye is eye 1. Sign-normalise so that the far side is image left.
    sign = np.where(yaw > 0, 1.0, -1.0)
    far_ear = np.where(yaw > 0, kp[:, 4, 0], kp[:, 3, 0]) * sign
    near_eye = np.where(yaw > 0, kp[:, 1, 0], kp[:, 2, 0]) * sign
    far_eye = np.where(yaw > 0, kp[:, 2, 0], kp[:, 1, 0]) * sign
    near_ear = np.where(yaw > 0, kp[:, 3, 0], kp[:, 4, 0]) * sign
    profile = (np.abs(yaw) > 70) & (np.abs(yaw) < 90) & (np.abs(b.angles[:, 2]) < 20)
    # the true far tragion would project between the near eye and the near ear; BlazeFace puts
    # it inside the face, on the far side of the near eye
    assert profile.sum() > 200
    gap = (far_ear - near_eye) / b.head_px  # (true profile projection: ≈ +0.25)
    assert np.median(gap[profile]) < -0.02 and (gap[profile] < 0.1).mean() > 0.9
    frontal = (np.abs(yaw) < 10) & (np.abs(b.angles[:, 2]) < 20)
    assert (far_ear[frontal] < far_eye[frontal]).mean() > 0.97  # still outside the far eye
    # the confidence says so: far ear well below the face score on profiles, equal when frontal
    far_c = np.where(yaw > 0, kp[:, 4, 2], kp[:, 3, 2]) / kp[..., 2].max(1)
    assert np.median(far_c[profile]) < 0.3 and np.median(far_c[frontal]) > 0.99
    assert (near_ear[frontal] > near_eye[frontal]).mean() > 0.97


def test_large_heads_keep_the_camera_in_front_of_the_face():
    quiet = SynthConfig(
        detector_weights=(0.0, 1.0, 0.0), noise_face=0.0, noise_ear=0.0, noise_px=0.0, outlier=0.0
    )
    b = generate(20000, 9, quiet)
    frontal = (np.abs(b.angles) < 15).all(1)
    kp = b.keypoints[frontal]
    big = b.head_px[frontal] > 300
    assert big.sum() > 50
    # frontal: nose between the eyes, eye distance ≈ 0.44 of the head breadth (perspective
    # enlarges the nearer eyes a little, never by a factor of several)
    ratio = np.linalg.norm(kp[:, 1, :2] - kp[:, 2, :2], axis=1) / b.head_px[frontal]
    assert ratio.min() > 0.3 and ratio.max() < 0.9
    assert ((kp[:, 0, 0] - kp[:, 1, 0]) * (kp[:, 0, 0] - kp[:, 2, 0]) < 0).all()
