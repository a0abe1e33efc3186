"""Kalman smoothing of per-frame angles: jitter, lag, wrap, σ weighting, gating, invalid frames."""

from __future__ import annotations

import numpy as np
import pytest

from hhpnet.video.smoothing import PoseSmoother, SmootherParams, wrap180

FPS = 30.0


def run(truth: np.ndarray, sigma: float | np.ndarray, seed: int = 0, **kw: float):
    """Feed truth + Gaussian noise (σ) for one track; return (measurements, smoothed, σ_s)."""
    rng = np.random.default_rng(seed)
    n = len(truth)
    sig = np.broadcast_to(np.asarray(sigma, float), (n, 3)) if np.ndim(sigma) < 2 else sigma
    z = wrap180(truth + rng.normal(0, 1, (n, 3)) * sig)
    sm = PoseSmoother(**kw)
    out, out_s = [], []
    for k in range(n):
        s, ss = sm.update([3], z[k : k + 1], sig[k : k + 1], k / FPS)
        out.append(s[0])
        out_s.append(ss[0])
    return z, np.array(out, float), np.array(out_s, float)


def test_static_head_jitter_is_reduced():
    truth = np.tile([20.0, -10.0, 5.0], (300, 1))
    z, s, ss = run(truth, 5.0)
    raw_rmse = np.sqrt(np.mean((z[30:] - truth[30:]) ** 2, axis=0))
    sm_rmse = np.sqrt(np.mean((s[30:] - truth[30:]) ** 2, axis=0))
    assert (sm_rmse < 0.7 * raw_rmse).all()
    # frame-to-frame jitter falls much more than the error
    assert (np.std(np.diff(s[30:], axis=0), 0) < 0.4 * np.std(np.diff(z[30:], axis=0), 0)).all()
    # the filter is more certain than one measurement
    assert (ss[-1] < 5.0).all()


def test_turning_head_lag_is_small_and_wrap_is_handled():
    t = np.arange(240) / FPS
    truth = np.zeros((240, 3))
    truth[:, 0] = wrap180(150.0 + 60.0 * t)  # crosses +180 → −180 at t = 0.5 s
    _z, s, _ = run(truth, 3.0)
    err = wrap180(s[:, 0] - truth[:, 0])
    assert np.abs(err[60:]).max() < 8.0
    assert abs(err[60:].mean()) < 1.0  # no systematic lag once the rate is learnt
    assert np.all(np.abs(s[:, 0]) <= 180.0)


def test_sigma_weights_each_frame():
    sm = PoseSmoother()
    sm.update([1], [[0.0, 0.0, 0.0]], [[2.0, 2.0, 2.0]], 0.0)
    for k in range(1, 10):
        sm.update([1], [[0.0, 0.0, 0.0]], [[2.0, 2.0, 2.0]], k / FPS)
    a = PoseSmoother()
    a._tracks = {1: type(sm._tracks[1])(sm._tracks[1].x.copy(), sm._tracks[1].p.copy(), 9 / FPS)}
    confident, _ = sm.update([1], [[10.0, 10.0, 10.0]], [[1.0, 1.0, 1.0]], 10 / FPS)
    vague, _ = a.update([1], [[10.0, 10.0, 10.0]], [[30.0, 30.0, 30.0]], 10 / FPS)
    assert (confident[0] > 3 * vague[0]).all()
    assert (vague[0] < 1.5).all()


def test_each_frame_moves_the_estimate_by_the_kalman_gain_of_its_sigma():
    """Two frames, by hand. Frame 0 (t = 0): 10° with σ 2 starts the track: angle 10, rate 0,
    P = diag(2², 90²). Frame 1 (t = 0.1 s) measures 20°, with σ 1 (yaw), 10 (pitch), 3 (roll).
    Prediction with q = 100² deg²/s³: P₀₀ = 4 + 0.1²·8100 + q·0.1³/3 = 88.333333. Gain
    K = P₀₀ / (P₀₀ + σ²) = 0.988806, 0.469027, 0.907534; the angle moves by K × the 10°
    innovation to 19.888060, 14.690265, 19.075342, and its σ becomes √(P₀₀ σ² / (P₀₀ + σ²)) =
    0.994387, 6.848551, 2.857938: the uncertain frame moves the estimate least."""
    sm = PoseSmoother()
    first, first_s = sm.update([1], [[10.0, 10.0, 10.0]], [[2.0, 2.0, 2.0]], 0.0)
    np.testing.assert_allclose(first[0], [10.0, 10.0, 10.0])
    np.testing.assert_allclose(first_s[0], [2.0, 2.0, 2.0])
    s, ss = sm.update([1], [[20.0, 20.0, 20.0]], [[1.0, 10.0, 3.0]], 0.1)
    np.testing.assert_allclose(s[0], [19.888060, 14.690265, 19.075342], atol=1e-4)
    np.testing.assert_allclose(ss[0], [0.994387, 6.848551, 2.857938], atol=1e-4)


def test_invalid_frame_gives_nan_and_keeps_state():
    sm = PoseSmoother()
    for k in range(5):
        sm.update([1], [[10.0, 0.0, 0.0]], [[3.0, 3.0, 3.0]], k / FPS)
    s, ss = sm.update([1], [[np.nan] * 3], [[np.inf] * 3], 5 / FPS)
    assert np.isnan(s).all() and np.isnan(ss).all()
    s, _ = sm.update([1], [[10.0, 0.0, 0.0]], [[3.0, 3.0, 3.0]], 6 / FPS, valid=[True])
    assert abs(s[0, 0] - 10.0) < 1.0


def test_single_glitch_is_gated_and_real_jump_restarts():
    sm = PoseSmoother()
    for k in range(20):
        sm.update([1], [[0.0, 0.0, 0.0]], [[2.0, 2.0, 2.0]], k / FPS)
    s, _ = sm.update([1], [[120.0, 0.0, 0.0]], [[2.0, 2.0, 2.0]], 20 / FPS)
    assert abs(s[0, 0]) < 2.0  # one-frame glitch ignored
    s, _ = sm.update([1], [[0.0, 0.0, 0.0]], [[2.0, 2.0, 2.0]], 21 / FPS)
    assert abs(s[0, 0]) < 2.0
    sm.update([1], [[120.0, 0.0, 0.0]], [[2.0, 2.0, 2.0]], 22 / FPS)
    s, _ = sm.update([1], [[120.0, 0.0, 0.0]], [[2.0, 2.0, 2.0]], 23 / FPS)
    assert abs(s[0, 0] - 120.0) < 1e-3  # second consecutive frame: restart


def test_tracks_are_independent_and_forgotten():
    sm = PoseSmoother(SmootherParams(max_age=0.5))
    s, _ = sm.update([1, 2], [[10.0, 0, 0], [-50.0, 0, 0]], np.full((2, 3), 3.0), 0.0)
    assert s[0, 0] == pytest.approx(10.0) and s[1, 0] == pytest.approx(-50.0)
    sm.update([1], [[10.0, 0, 0]], [[3.0, 3.0, 3.0]], 1.0)
    sm.prune(1.0)
    assert sm.track_ids == [1]
    sm.forget([1])
    assert len(sm) == 0
    with pytest.raises(ValueError):
        sm.update([4, 4], np.zeros((2, 3)), np.ones((2, 3)), 2.0)
