"""Combining two readings of one head (hhpnet.fusion) and its use by the estimator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from hhpnet import HeadPoseEstimator
from hhpnet.fusion import combine
from tests.helpers.fakes import GeometricModel, face


def test_equal_uncorrelated_readings_average_and_gain_sqrt2() -> None:
    a = np.array([[10.0, 4.0, -2.0]])
    b = np.array([[20.0, 0.0, 2.0]])
    s = np.array([[4.0, 4.0, 4.0]])
    ang, sig = combine(a, s, b, s, rho=(0.0, 0.0, 0.0))
    np.testing.assert_allclose(ang, [[15.0, 2.0, 0.0]], atol=1e-5)
    np.testing.assert_allclose(sig, s / np.sqrt(2), rtol=1e-6)


def test_the_surer_reading_weighs_more_and_correlation_shrinks_the_gain() -> None:
    a, sa = np.array([[0.0, 0.0, 0.0]]), np.array([[2.0, 2.0, 2.0]])
    b, sb = np.array([[10.0, 10.0, 10.0]]), np.array([[6.0, 6.0, 6.0]])
    ang0, sig0 = combine(a, sa, b, sb, rho=(0.0, 0.0, 0.0))
    assert (ang0 < 2.0).all() and (sig0 < 2.0).all()
    ang5, sig5 = combine(a, sa, b, sb, rho=(0.5, 0.5, 0.5))
    assert (ang5 <= ang0).all()  # the weaker reading pulls less: correlated, less new information
    assert (sig5 > sig0).all() and (sig5 <= 2.0 + 1e-6).all()
    # with a strong correlation the weaker reading adds nothing: weight clipped, σ of the better
    ang9, sig9 = combine(a, sa, b, sb, rho=(0.9, 0.9, 0.9))
    np.testing.assert_allclose(ang9, a, atol=1e-6)
    np.testing.assert_allclose(sig9, sa, atol=1e-6)


def test_yaw_is_combined_on_the_circle() -> None:
    s = np.full((1, 3), 5.0)
    ang, _ = combine(np.array([[179.0, 0, 0]]), s, np.array([[-179.0, 0, 0]]), s)
    assert ang[0, 0] == pytest.approx(180.0, abs=1e-4)
    ang, _ = combine(np.array([[170.0, 0, 0]]), s, np.array([[-160.0, 0, 0]]), s)
    assert ang[0, 0] == pytest.approx(-175.0, abs=1e-4)


def test_an_invalid_reading_gives_way_to_the_other() -> None:
    good, sg = np.array([[5.0, 1.0, 2.0]]), np.array([[3.0, 3.0, 3.0]])
    bad, sbad = np.full((1, 3), np.nan), np.full((1, 3), np.inf)
    for args in ((good, sg, bad, sbad), (bad, sbad, good, sg)):
        ang, sig = combine(*args)
        np.testing.assert_allclose(ang, good)
        np.testing.assert_allclose(sig, sg)
    ang, sig = combine(bad, sbad, bad, sbad)
    assert np.isnan(ang).all() and np.isinf(sig).all()


@dataclass
class _TwoReadings:
    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    detector: list[str]
    alt_keypoints: np.ndarray


def test_estimator_combines_a_second_detectors_points_of_the_same_head() -> None:
    first = np.stack([face(100, 100, turn=0.2), face(300, 100, turn=-0.4)])
    second = np.zeros_like(first)
    second[0] = face(101, 99, turn=0.5)  # only the first head was seen twice
    dets = _TwoReadings(
        np.tile(np.array([[50, 50, 150, 150]], np.float32), (2, 1)),
        first,
        np.array([0.9, 0.8], np.float32),
        ["blazeface+movenet", "movenet"],
        second,
    )
    model = GeometricModel()
    est = HeadPoseEstimator(model=model, detector=lambda image: dets)
    poses = est(np.zeros((240, 400, 3), np.uint8))
    one, two = model.predict(first), model.predict(second[:1])
    expected, sig = combine(
        np.stack([one.yaw, one.pitch, one.roll], 1)[:1], one.sigma[:1],
        np.stack([two.yaw, two.pitch, two.roll], 1), two.sigma,
    )  # fmt: skip
    np.testing.assert_allclose(poses.yaw[0], expected[0, 0], atol=1e-4)
    np.testing.assert_allclose(poses.sigma[0], sig[0], atol=1e-4)
    assert poses.sigma[0, 0] < one.sigma[0, 0]
    # the other head keeps its single reading; the person keeps the first detector's points
    np.testing.assert_allclose(poses.yaw[1], one.yaw[1], atol=1e-5)
    np.testing.assert_array_equal(poses.keypoints, first)
    assert poses.detector.tolist() == ["blazeface+movenet", "movenet"]
