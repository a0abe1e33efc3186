"""Combining two readings of one head (hhpnet.fusion) and its use by the estimator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from hhpnet import HeadPoseEstimator
from hhpnet.fusion import ERROR_CORRELATION, combine
from tests.helpers.fakes import FakeOutput, face


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


class _TableModel:
    """Answers a fixed reading per person, looked up by the x of the nose (whatever the other
    points): the pipeline's fusion is then checked against numbers computed by hand."""

    def __init__(self, table: dict[float, tuple[list[float], list[float]]]) -> None:
        self.table = table

    def predict(self, keypoints: np.ndarray) -> FakeOutput:
        kp = np.asarray(keypoints, np.float32).reshape(-1, 5, 3)
        ang = np.array([self.table[float(k[0, 0])][0] for k in kp], np.float32)
        sig = np.array([self.table[float(k[0, 0])][1] for k in kp], np.float32)
        return FakeOutput(ang[:, 0], ang[:, 1], ang[:, 2], sig, np.ones(len(kp), bool))


#: the two readings of one head (yaw, pitch, roll) and their σ
A_READ, A_SIG = [10.0, 4.0, -2.0], [4.0, 3.0, 2.0]
B_READ, B_SIG = [20.0, 0.0, 4.0], [6.0, 3.0, 4.0]


def test_the_measured_error_correlation_sets_the_fused_angle_and_sigma() -> None:
    """Closed form at ρ = ERROR_CORRELATION = (0.4, 0.5, 0.55), by hand:

    yaw, σ 4 and 6, ρ 0.4: den = 16 + 36 − 2·0.4·24 = 32.8; w = (36 − 9.6)/32.8 = 0.804878;
    θ = 20 − 10 w = 11.951220; σ² = 16·36·0.84/32.8 = 14.751220, σ = 3.840732.
    pitch, σ 3 and 3, ρ 0.5: den = 9; w = 0.5; θ = 2; σ² = 81·0.75/9 = 6.75, σ = 2.598076.
    roll, σ 2 and 4, ρ 0.55: w = (16 − 4.4)/11.2 = 1.0357 → clipped to 1: θ = −2, σ = 2.

    Uncorrelated (ρ = 0) the same readings would give yaw 13.076923 (σ 3.328201), pitch σ
    2.121320 and roll −0.8 (σ 1.788854): the correlation constant decides every figure.
    """
    ang, sig = combine(np.array([A_READ]), np.array([A_SIG]), np.array([B_READ]), np.array([B_SIG]))
    np.testing.assert_allclose(ang[0], [11.951220, 2.0, -2.0], atol=1e-4)
    np.testing.assert_allclose(sig[0], [3.840732, 2.598076, 2.0], atol=1e-4)
    ang0, sig0 = combine(
        np.array([A_READ]), np.array([A_SIG]), np.array([B_READ]), np.array([B_SIG]), rho=(0, 0, 0)
    )
    np.testing.assert_allclose(ang0[0], [13.076923, 2.0, -0.8], atol=1e-4)
    np.testing.assert_allclose(sig0[0], [3.328201, 2.121320, 1.788854], atol=1e-4)
    assert ERROR_CORRELATION == (0.4, 0.5, 0.55)  # re-measured in tests/test_real_accuracy.py


def test_estimator_combines_a_second_detectors_points_of_the_same_head() -> None:
    """The estimator reads both detectors' points of a head and fuses them with the default
    ρ: the hand-computed figures of the test above, end to end through the pipeline."""
    first = np.stack([face(100, 100, turn=0.2), face(300, 100, turn=-0.4)])
    second = np.zeros_like(first)
    second[0] = face(101, 99, turn=0.5)  # only the first head was seen twice
    nose_x = [float(first[0, 0, 0]), float(first[1, 0, 0]), float(second[0, 0, 0])]
    model = _TableModel(
        {
            nose_x[0]: (A_READ, A_SIG),
            nose_x[1]: ([-30.0, 5.0, 1.0], [5.0, 5.0, 5.0]),
            nose_x[2]: (B_READ, B_SIG),
        }
    )
    dets = _TwoReadings(
        np.tile(np.array([[50, 50, 150, 150]], np.float32), (2, 1)),
        first,
        np.array([0.9, 0.8], np.float32),
        ["blazeface+movenet", "movenet"],
        second,
    )
    est = HeadPoseEstimator(model=model, detector=lambda image: dets)
    poses = est(np.zeros((240, 400, 3), np.uint8))
    np.testing.assert_allclose(poses.angles[0], [11.951220, 2.0, -2.0], atol=1e-4)
    np.testing.assert_allclose(poses.sigma[0], [3.840732, 2.598076, 2.0], atol=1e-4)
    # the other head keeps its single reading; the person keeps the first detector's points
    np.testing.assert_allclose(poses.angles[1], [-30.0, 5.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(poses.sigma[1], [5.0, 5.0, 5.0], atol=1e-6)
    np.testing.assert_array_equal(poses.keypoints, first)
    assert poses.detector.tolist() == ["blazeface+movenet", "movenet"]
