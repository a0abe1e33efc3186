"""Combining two readings of one head (hhpnet.fusion) and its use by the estimator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from hhpnet import HeadPoseEstimator
from hhpnet.fusion import (
    CORRELATIONS,
    ERROR_CORRELATION,
    UNMEASURED_CORRELATION,
    combine,
    correlation_matrix,
    fuse,
    fuse_robust,
    mirror_name,
)
from hhpnet.tails import honest_sigma
from tests.helpers.fakes import FakeOutput, GeometricModel, face


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
#: their fusion at ρ = ERROR_CORRELATION = (0.33, 0.41, 0.42), by hand (test below)
FUSED_READ, FUSED_SIG = [12.234513, 2.0, -1.710843], [3.767561, 2.518928, 1.992274]


def test_the_measured_error_correlation_sets_the_fused_angle_and_sigma() -> None:
    """Closed form at ρ = ERROR_CORRELATION = (0.33, 0.41, 0.42), by hand:

    yaw, σ 4 and 6, ρ 0.33: den = 16 + 36 − 2·0.33·24 = 36.16; w = (36 − 7.92)/36.16 = 0.776549;
    θ = 20 − 10 w = 12.234513; σ² = 16·36·(1 − 0.1089)/36.16 = 14.194513, σ = 3.767561.
    pitch, σ 3 and 3, ρ 0.41: den = 10.62; w = 0.5; θ = 2; σ² = 81·0.8319/10.62, σ = 2.518928.
    roll, σ 2 and 4, ρ 0.42: den = 13.28; w = (16 − 3.36)/13.28 = 0.951807; θ = 4 − 6 w =
    −1.710843; σ² = 64·0.8236/13.28 = 3.969157, σ = 1.992274.

    Uncorrelated (ρ = 0) the same readings would give yaw 13.076923 (σ 3.328201), pitch σ
    2.121320 and roll −0.8 (σ 1.788854): the correlation constant decides every figure.
    """
    ang, sig = combine(np.array([A_READ]), np.array([A_SIG]), np.array([B_READ]), np.array([B_SIG]))
    np.testing.assert_allclose(ang[0], FUSED_READ, atol=1e-4)
    np.testing.assert_allclose(sig[0], FUSED_SIG, atol=1e-4)
    ang0, sig0 = combine(
        np.array([A_READ]), np.array([A_SIG]), np.array([B_READ]), np.array([B_SIG]), rho=(0, 0, 0)
    )
    np.testing.assert_allclose(ang0[0], [13.076923, 2.0, -0.8], atol=1e-4)
    np.testing.assert_allclose(sig0[0], [3.328201, 2.121320, 1.788854], atol=1e-4)
    # re-measured on the project's own detectors' readings in tests/test_real_accuracy.py
    assert ERROR_CORRELATION == (0.33, 0.41, 0.42)
    assert CORRELATIONS[("blazeface", "movenet")] == ERROR_CORRELATION


def test_estimator_combines_a_second_detectors_points_of_the_same_head() -> None:
    """The estimator reads both detectors' points of a head and fuses them with the measured
    ρ: the hand-computed angles of the test above, end to end through the pipeline; the σ it
    reports is that fusion's σ through the tail map (hhpnet.tails, pinned in test_tails.py)."""
    first = np.stack([face(100, 100, turn=0.2), face(300, 100, turn=-0.4)])
    second = np.zeros_like(first)
    second[0] = face(101, 99, turn=0.5)  # only the first head was seen twice
    nose_x = [float(first[0, 0, 0]), float(first[1, 0, 0]), float(second[0, 0, 0])]
    single_read, single_sig = [-30.0, 5.0, 1.0], [5.0, 5.0, 5.0]
    model = _TableModel(
        {
            nose_x[0]: (A_READ, A_SIG),
            nose_x[1]: (single_read, single_sig),
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
    np.testing.assert_allclose(poses.angles[0], FUSED_READ, atol=1e-4)
    fused = fuse(
        np.array([[A_READ], [B_READ]]),
        np.array([[A_SIG], [B_SIG]]),
        correlation_matrix(["movenet", "blazeface"]),
    )
    np.testing.assert_allclose(fused.sigma[0], FUSED_SIG, atol=1e-4)
    honest = honest_sigma(fused.angles, fused.sigma, fused.chi2, fused.count, fused.sigma_min)
    np.testing.assert_allclose(poses.sigma[0], honest[0], rtol=1e-5)
    # the other head keeps its single reading; the person keeps the first detector's points
    np.testing.assert_allclose(poses.angles[1], single_read, atol=1e-6)
    single = honest_sigma(
        np.array([single_read]), np.array([single_sig]), np.zeros((1, 3)), np.ones((1, 3))
    )
    np.testing.assert_allclose(poses.sigma[1], single[0], rtol=1e-5)
    np.testing.assert_array_equal(poses.keypoints, first)
    assert poses.detector.tolist() == ["blazeface+movenet", "movenet"]


# ----------------------------------------------------------------- K readings (hhpnet.fusion.fuse)
def _closed_form_two(a, sa, b, sb, rho):  # type: ignore[no-untyped-def]
    """The two-reading formula of hhpnet ≤ 1.0 (module docstring of hhpnet.fusion), written out."""
    den = sa**2 + sb**2 - 2 * rho * sa * sb
    w = np.clip((sb**2 - rho * sa * sb) / den, 0.0, 1.0)
    d = a - b
    d[:, 0] = (d[:, 0] + 180) % 360 - 180
    ang = b + w * d
    ang[:, 0] = (ang[:, 0] + 180) % 360 - 180
    var = np.where((w <= 0) | (w >= 1), np.minimum(sa, sb) ** 2, sa**2 * sb**2 * (1 - rho**2) / den)
    return ang, np.sqrt(var)


@pytest.mark.parametrize("rho", [(0.0, 0.0, 0.0), (0.33, 0.41, 0.42), (0.9, -0.3, 0.6)])
def test_two_readings_are_the_closed_form(rho: tuple[float, float, float]) -> None:
    rng = np.random.default_rng(3)
    a = rng.uniform(-179, 179, (400, 3))
    b = a + rng.normal(0, 20, (400, 3))
    b[:, 0] = (b[:, 0] + 180) % 360 - 180
    sa, sb = rng.uniform(1, 30, (400, 3)), rng.uniform(1, 30, (400, 3))
    want_ang, want_sig = _closed_form_two(a, sa, b, sb, np.array(rho)[None])
    r = np.ones((3, 2, 2))
    r[:, 0, 1] = r[:, 1, 0] = rho
    got = fuse(np.stack([a, b]), np.stack([sa, sb]), r)
    diff = np.abs(got.angles - want_ang)
    diff[:, 0] = np.minimum(diff[:, 0], 360 - diff[:, 0])
    assert diff.max() < 1e-3
    np.testing.assert_allclose(got.sigma, want_sig, rtol=1e-5)
    assert (got.count == 2).all()
    ang2, sig2 = combine(a, sa, b, sb, rho)  # the wrapper: the very same numbers
    np.testing.assert_array_equal(ang2, got.angles)
    np.testing.assert_array_equal(sig2, got.sigma)


def test_three_readings_hand_computed_blue() -> None:
    # σ = 2, 3, 6; ρ12 = 0.5, the third independent: Σ = [[4, 3, 0], [3, 9, 0], [0, 0, 36]],
    # Σ⁻¹1 = (6/27, 1/27, 1/36), 1ᵀΣ⁻¹1 = 31/108 → w = (24, 4, 3) / 31, σ² = 108/31
    r = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    ang = np.array([[[10.0, 10, 10]], [[20.0, 20, 20]], [[40.0, 40, 40]]])
    sig = np.array([[[2.0, 2, 2]], [[3.0, 3, 3]], [[6.0, 6, 6]]])
    out = fuse(ang, sig, r)
    np.testing.assert_allclose(out.angles, np.full((1, 3), 440 / 31), rtol=1e-6)
    np.testing.assert_allclose(out.sigma, np.full((1, 3), np.sqrt(108 / 31)), rtol=1e-6)
    np.testing.assert_allclose(out.weights[:, 0, 0], np.array([24, 4, 3]) / 31, rtol=1e-9)
    # yaw on the circle: the same readings around ±180 give the same result there
    ang[:, 0, 0] = [170.0, 180.0, -160.0]  # 160° on from 10, 20, 40: 160 + 440/31
    out = fuse(ang, sig, r)
    assert out.angles[0, 0] == pytest.approx(160 + 440 / 31, abs=1e-4)


def test_negative_weights_give_the_best_convex_combination() -> None:
    # two strongly correlated readings of unequal σ: the unconstrained BLUE would weigh the
    # worse one negatively; the result is the minimum-variance convex combination
    r = np.array([[1.0, 0.9, 0.2], [0.9, 1.0, 0.1], [0.2, 0.1, 1.0]])
    sig = np.array([1.0, 3.0, 2.5])
    cov = r * sig[:, None] * sig[None]
    out = fuse(np.zeros((3, 1, 3)), np.tile(sig[:, None, None], (1, 1, 3)), r)
    w = out.weights[:, 0, 0]
    assert (w >= 0).all() and w.sum() == pytest.approx(1.0)
    best = float(w @ cov @ w)
    assert out.sigma[0, 0] ** 2 == pytest.approx(best, rel=1e-5)
    trials = np.random.default_rng(0).dirichlet(np.ones(3), 20000)
    assert best <= np.einsum("ti,ij,tj->t", trials, cov, trials).min() + 1e-9
    assert w[1] == 0.0  # the worse of the correlated pair adds nothing


def test_missing_readings_and_a_near_singular_correlation() -> None:
    ang = np.array([[[5.0, 1, 2], [np.nan] * 3]], np.float64).repeat(3, axis=0)
    sig = np.full((3, 2, 3), 4.0)
    ang[1, 0] = ang[0, 0]  # identical readings, correlation 1: no division by zero
    ang[2, 0] = np.nan
    r = np.ones((3, 3))
    out = fuse(ang, sig, r)
    np.testing.assert_allclose(out.angles[0], [5.0, 1.0, 2.0], atol=1e-6)
    assert np.isfinite(out.sigma[0]).all() and (out.sigma[0] <= 4.0 + 1e-6).all()
    assert (out.sigma[0] > 3.5).all()  # ~no gain from a perfectly correlated copy
    assert np.isnan(out.angles[1]).all() and np.isinf(out.sigma[1]).all()
    assert out.count[0].tolist() == [2, 2, 2] and out.count[1].tolist() == [0, 0, 0]


def test_correlations_are_looked_up_by_name_in_either_order() -> None:
    r = correlation_matrix(["movenet", "blazeface", "blazeface_mirror", "someone_elses"])
    assert r.shape == (3, 4, 4)
    np.testing.assert_allclose(r[:, 0, 1], CORRELATIONS[("blazeface", "movenet")])
    np.testing.assert_allclose(r, np.swapaxes(r, 1, 2))
    np.testing.assert_allclose(r[:, 3, 0], UNMEASURED_CORRELATION)
    assert mirror_name("blazeface") == "blazeface_mirror"
    # photo ↔ mirror symmetric, so an image and its mirror image are fused alike
    for (a, b), rho in CORRELATIONS.items():
        twin = (a.removesuffix("_mirror") if a.endswith("_mirror") else mirror_name(a),
                b.removesuffix("_mirror") if b.endswith("_mirror") else mirror_name(b))  # fmt: skip
        other = CORRELATIONS.get(twin, CORRELATIONS.get(twin[::-1]))
        assert other is not None and np.allclose(other, rho)


def test_robust_fusion_drops_a_reading_that_contradicts_the_others() -> None:
    # a back view read at ±180 by two readings and as a front view by a third (a "face" on the
    # hair): the plain fusion lands in between, the robust one keeps the two that agree
    ang = np.array([[[-178.0, -3, 0]], [[179.0, -2, 1]], [[25.0, -10, 2]]])
    sig = np.full((3, 1, 3), 7.0)
    r = np.full((3, 3), 0.4) + 0.6 * np.eye(3)
    plain = fuse(ang, sig, r)
    robust = fuse_robust(ang, sig, r)
    assert abs(abs(plain.angles[0, 0]) - 180) > 30
    assert abs(abs(robust.angles[0, 0]) - 180) < 3 and robust.count[0, 0] == 2
    assert robust.count[0, 1] == 3  # pitch agreed: all three kept
    # two readings cannot outvote each other: K = 2 is the plain fusion
    two = fuse_robust(ang[[0, 2]], sig[[0, 2]], r[:2, :2])
    np.testing.assert_array_equal(two.angles, fuse(ang[[0, 2]], sig[[0, 2]], r[:2, :2]).angles)


def test_a_reading_from_another_model_is_one_more_slot() -> None:
    """The extension point for a source with its own model (the face mesh of issue 20):
    pipeline._Readings.add_poses, fused with the pair's measured correlation (an unmeasured
    pair would get UNMEASURED_CORRELATION)."""
    from hhpnet.pipeline import _Readings

    est = HeadPoseEstimator(model=GeometricModel(), detector=None)
    kp = np.stack([face(100, 100, turn=0.2), face(300, 100, turn=-0.4)])
    readings = _Readings.collect(est, kp, ["movenet", "movenet"], None, None, None)
    mesh = np.array([[20.0, -3.0, 4.0], [np.nan] * 3], np.float32)  # read for the first only
    mesh_sigma = np.full((2, 3), 3.0, np.float32)
    readings.add_poses("facemesh", mesh, mesh_sigma, np.ones(2, bool))
    out, _ = readings.fuse(est.model)
    one = est.model.predict(kp)
    a1 = np.stack([one.yaw, one.pitch, one.roll], 1)
    want = fuse(
        np.stack([a1[:1], mesh[:1]]),
        np.stack([one.sigma[:1], mesh_sigma[:1]]),
        correlation_matrix(["movenet", "facemesh"]),
    )
    np.testing.assert_allclose(
        correlation_matrix(["movenet", "facemesh"])[:, 0, 1], CORRELATIONS[("movenet", "facemesh")]
    )
    np.testing.assert_allclose(correlation_matrix(["movenet", "dlib68"])[:, 0, 1], 0.9)
    np.testing.assert_allclose(out.angles[0], want.angles[0], atol=1e-4)
    np.testing.assert_allclose(out.angles[1], a1[1], atol=1e-4)  # no mesh reading: unchanged


def test_a_mesh_reading_without_its_mirror_twin_is_left_out() -> None:
    """hhpnet.fusion.PAIRED: where a person has both face-mesh slots and one is invalid (a gate
    passed on one side only), the other is left out too, so a photo and its mirror image are
    fused from the same set of readings; a person without a mirror slot keeps its mesh."""
    from hhpnet.fusion import unused_readings

    names = ["movenet", "facemesh", np.array(["facemesh_mirror", "facemesh_mirror", ""], object)]
    valid = np.array([[True, True, True], [True, True, True], [True, False, False]])
    out = unused_readings(names, valid)
    assert out.tolist() == [[False] * 3, [False, True, False], [False] * 3]
    valid[1, 0] = False  # the photo's mesh gated out: its mirror twin goes too
    assert unused_readings(names, valid)[2].tolist() == [True, False, False]
