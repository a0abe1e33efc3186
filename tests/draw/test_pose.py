"""Tests for hhpnet.draw: axis directions in the angle convention, fan width, invalid people."""

from __future__ import annotations

import numpy as np
import pytest

from hhpnet.draw import (
    AxisAnnotator,
    KeypointAnnotator,
    LabelAnnotator,
    UncertaintyAnnotator,
    annotate,
)
from hhpnet.poses import Poses


def _poses(yaw, pitch, roll, sigma=5.0, valid=True, centre=(100.0, 100.0), size=60.0) -> Poses:
    n = len(yaw)
    cx, cy = centre
    kp = np.zeros((n, 5, 3), np.float32)
    kp[:, :, 2] = 0.9
    kp[:, :, 0] = cx + np.array([0, 15, -15, 30, -30])
    kp[:, :, 1] = cy
    kp[:, 0, 1] = cy + 5  # nose slightly lower
    kp[:, 1:3, 1] = cy - 5
    return Poses(
        boxes=np.tile([[cx - 40, cy - 40, cx + 40, cy + 40]], (n, 1)).astype(np.float32),
        scores=np.full(n, 0.9, np.float32),
        keypoints=kp,
        yaw=np.asarray(yaw, np.float32),
        pitch=np.asarray(pitch, np.float32),
        roll=np.asarray(roll, np.float32),
        sigma=np.full((n, 3), sigma, np.float32),
        valid=np.broadcast_to(np.asarray(valid), (n,)).copy(),
        centroid=np.tile([[cx, cy]], (n, 1)).astype(np.float32),
        head_size=np.full(n, size, np.float32),
        image_size=(200, 200),
    )


def _blank() -> np.ndarray:
    return np.zeros((200, 200, 3), np.uint8)


def test_axes_follow_the_convention() -> None:
    scene = _blank()
    out = AxisAnnotator().annotate(scene, _poses([0.0], [0.0], [0.0]), rgb=True)
    assert scene.max() == 0  # input untouched
    # at zero pose: x axis (red) to the image right, y axis (green) down
    assert out[100, 130, 0] > 150 and out[100, 130, 1] < 100
    assert out[130, 100, 1] > 150 and out[130, 100, 0] < 100
    # positive yaw turns the facing direction (blue) to the image's left
    yawed = AxisAnnotator().annotate(scene, _poses([60.0], [0.0], [0.0]), rgb=True)
    assert yawed[100, 70, 2] > 150 and yawed[100, 130, 2] < 50
    # positive pitch (looking up) points the facing direction up in the image
    up = AxisAnnotator().annotate(scene, _poses([0.0], [45.0], [0.0]), rgb=True)
    assert up[75, 100, 2] > 150 and up[125, 100, 2] < 50
    # BGR scenes (default): red lands in channel 2
    bgr = AxisAnnotator().annotate(scene, _poses([0.0], [0.0], [0.0]))
    assert bgr[100, 130, 2] > 150 and bgr[100, 130, 0] < 100


def test_positive_roll_is_clockwise() -> None:
    out = AxisAnnotator().annotate(_blank(), _poses([0.0], [0.0], [30.0]), rgb=True)
    # x axis rotated clockwise on screen (y down): its end lies below the centroid
    red = (out[..., 0] > 150) & (out[..., 1] < 100)
    ys, xs = np.nonzero(red)
    far = np.argmax(xs)
    assert ys[far] > 100 + 10


def test_fan_grows_with_sigma() -> None:
    def painted(sigma: float) -> int:
        out = UncertaintyAnnotator().annotate(_blank(), _poses([50.0], [0.0], [0.0], sigma))
        return int((out.sum(axis=2) > 0).sum())

    assert painted(30.0) > 2 * painted(5.0) > 0
    hw = UncertaintyAnnotator().half_width(np.array([[1.0, 1.0, 0], [3, 4, 0], [np.inf] * 3]))
    np.testing.assert_allclose(hw, [3.0, np.sqrt(12.5), 80.0])


def test_invalid_people_get_no_axes_and_a_grey_label() -> None:
    poses = _poses([np.nan], [np.nan], [np.nan], np.inf, valid=False)
    assert AxisAnnotator().annotate(_blank(), poses).max() == 0
    assert UncertaintyAnnotator().annotate(_blank(), poses).max() == 0
    kp = KeypointAnnotator().annotate(_blank(), poses, rgb=True)
    drawn = kp[kp.sum(axis=2) > 0]
    assert len(drawn) and (np.ptp(drawn.astype(int), axis=1) < 40).mean() > 0.9  # grey
    assert LabelAnnotator().text(poses, 0) == "no pose"


def test_label_text_and_any_size() -> None:
    poses = _poses([12.4, -3.0], [-4.0, 0.0], [1.0, 0.0], sigma=3.0)
    assert LabelAnnotator().text(poses, 0) == "Y +12±3  P -4±3  R +1±3"
    small = _poses([-0.4], [0.3], [-1.6], sigma=3.0)
    assert LabelAnnotator().text(small, 0) == "Y +0±3  P +0±3  R -2±3"  # never "-0"
    for h, w in [(16, 16), (60, 900), (2000, 3000)]:
        scene = np.zeros((h, w, 3), np.uint8)
        out = annotate(scene, poses)
        assert out.shape == scene.shape and out.dtype == np.uint8 and out.max() > 0
    assert annotate(_blank(), Poses.empty()).max() == 0


def test_many_people_and_bad_scene() -> None:
    n = 40
    rng = np.random.default_rng(0)
    poses = _poses(rng.uniform(-90, 90, n), rng.uniform(-40, 40, n), rng.uniform(-40, 40, n))
    out = annotate(_blank(), poses)
    assert out.max() > 0
    with pytest.raises(ValueError, match="uint8"):
        annotate(np.zeros((10, 10), np.float32), poses)
