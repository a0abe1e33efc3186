"""Honest σ where the points cannot tell: a heavier-tailed σ and the ``ambiguous`` flag.

The network's σ is calibrated so that about 68 % of real errors fall within 1σ, but its errors
are heavier-tailed than a Gaussian: on the real dev photos 3 % of the angles of the default
pipeline were off by more than 3σ (0.3 % for a Gaussian), and fusing more readings
(:mod:`hhpnet.fusion`) narrows σ faster than it removes those tails. Two corrections follow the
fusion of a person's readings (docs/model.md, "Honest σ"):

1. **Tail map**, per angle: σ' = σ · exp(Σ_j β_j φ_j) with the features φ of
   :func:`tail_features` — the |yaw| range of the estimate (one indicator per bin of
   :data:`YAW_EDGES`: near-profile errors are heavier), the readings' disagreement
   log(1 + χ²/(K − 1)) (readings that contradict each other mean a failure σ does not know
   about), a single-reading indicator, log(σ / 5°) (a slope on σ itself) and the fusion's gain
   log(σ / the smallest σ of the readings) (how much the readings' σ agree). Two sets of β:
   :data:`TAIL_MAP` where several readings were possible (``expected`` ≥ 2: the ``auto``
   detector, ``precise``) — a head only one of them read is then a hard one (the other
   detector missed it: 11° mean error on the dev photos against 4.8° for the heads both read),
   which the single-reading indicator widens —, and :data:`TAIL_MAP_SINGLE` where one reading
   is all there could be (one detector, keypoints given by the caller). Both were fitted on
   the real dev photos by a Student-t likelihood (ν = :data:`TAIL_NU`) and rescaled to a 1σ
   coverage of :data:`TAIL_COVERAGE` (the first on the estimator's two configurations, the
   second on each reading alone); the bin beyond 90° (no real photo there) is the 60–90° one,
   the single map's two last bins widened until the generator's full-range views' gross errors
   are covered (:func:`hhpnet.training.fusion_fit.fit_profile_bins`). Cost: a few numpy
   operations per image.
2. **Back views** (|yaw| > :data:`BACK_VIEW_YAW`): the face points are hidden and the
   detectors guess them, so the points cannot tell how far the head is turned from the back
   or to which side; the network then pulls the estimate towards ±180°. σ_yaw is widened in
   quadrature by :data:`BACK_VIEW_SIGMA` (the scatter of rendered back views), and the
   person is flagged ``ambiguous``.

``ambiguous`` (:func:`ambiguous`): a back view, or σ_yaw ≥ :data:`AMBIGUOUS_SIGMA` (the points
do not pin the yaw down, e.g. a near-profile whose front and back sides look alike).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "AMBIGUOUS_SIGMA",
    "BACK_VIEW_SIGMA",
    "BACK_VIEW_YAW",
    "TAIL_FEATURES",
    "TAIL_MAP",
    "TAIL_MAP_SINGLE",
    "YAW_EDGES",
    "ambiguous",
    "honest_sigma",
    "tail_features",
]

#: |yaw| bin edges (degrees) of the tail map's range indicators: 0–15, 15–30, 30–45, 45–60,
#: 60–90 and beyond 90
YAW_EDGES: tuple[float, ...] = (15.0, 30.0, 45.0, 60.0, 90.0)
#: names of the features of :func:`tail_features`, in order
TAIL_FEATURES: tuple[str, ...] = (
    "yaw_0_15",
    "yaw_15_30",
    "yaw_30_45",
    "yaw_45_60",
    "yaw_60_90",
    "yaw_90_180",
    "disagreement",
    "single_reading",
    "log_sigma",
    "fusion_gain",
)
#: σ of reference of the ``log_sigma`` feature (degrees)
SIGMA_REF = 5.0
#: Student-t degrees of freedom of the likelihood the map was fitted with
TAIL_NU = 3.0
#: 1σ coverage the map was rescaled to on the training folds
TAIL_COVERAGE = 0.73
#: β of a fused pose per angle (yaw, pitch, roll) × :data:`TAIL_FEATURES` (all zero = σ
#: unchanged), fitted on all 962 dev photos by ``python benchmarks/cv_real.py fit`` (the
#: cross-validated figures of docs/model.md refit it without the scored fold)
TAIL_MAP: tuple[tuple[float, ...], ...] = (
    (0.270, 0.254, 0.190, -0.007, -0.266, -0.266, 0.429, 0.209, 0.489, 0.509),
    (0.076, 0.029, 0.037, 0.149, 0.481, 0.481, 0.344, 0.635, -0.112, 1.551),
    (0.377, 0.265, 0.298, 0.209, 0.230, 0.230, 0.296, 0.179, 0.275, 1.092),
)
#: the same for a single reading
TAIL_MAP_SINGLE: tuple[tuple[float, ...], ...] = (
    (-0.075, 0.222, 0.306, 0.278, 0.473, 0.473, 0.000, 0.013, -0.013, 0.000),
    (0.206, 0.059, -0.098, 0.004, 0.418, 0.418, 0.000, 0.000, -0.025, 0.000),
    (0.074, 0.019, -0.118, -0.154, -0.160, -0.160, 0.000, 0.000, 0.205, 0.000),
)
#: |yaw| beyond which a head is seen from behind (its face points hidden)
BACK_VIEW_YAW = 120.0
#: σ_yaw added in quadrature for a back view (degrees)
BACK_VIEW_SIGMA = 25.0
#: σ_yaw from which the yaw counts as ambiguous (degrees)
AMBIGUOUS_SIGMA = 30.0


def tail_features(
    angles: ArrayLike,
    sigma: ArrayLike,
    chi2: ArrayLike,
    count: ArrayLike,
    sigma_min: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """The features ``(N, 3, F)`` (:data:`TAIL_FEATURES`) of N fused poses: ``angles`` and
    ``sigma`` (N, 3) degrees, ``chi2``, ``count`` and ``sigma_min`` (N, 3) from
    :func:`hhpnet.fusion.fuse` (``sigma_min`` None: σ itself, no fusion gain). Rows with a
    non-finite angle or σ get zeros."""
    a = np.asarray(angles, np.float64).reshape(-1, 3)
    s = np.asarray(sigma, np.float64).reshape(-1, 3)
    c = np.asarray(count, np.float64).reshape(-1, 3)
    x2 = np.nan_to_num(np.asarray(chi2, np.float64).reshape(-1, 3), nan=0.0, posinf=1e12)
    n = len(a)
    ok = np.isfinite(a).all(axis=1, keepdims=True) & np.isfinite(s) & (s > 0)
    ay = np.abs(np.nan_to_num(a[:, 0]))
    bins = np.zeros((n, len(YAW_EDGES) + 1))
    bins[np.arange(n), np.digitize(ay, YAW_EDGES)] = 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        disagreement = np.where(c >= 2, np.log1p(np.maximum(x2, 0.0) / (c - 1)), 0.0)
        log_sigma = np.where(ok, np.log(np.where(ok, s, SIGMA_REF) / SIGMA_REF), 0.0)
        best = s if sigma_min is None else np.asarray(sigma_min, np.float64).reshape(-1, 3)
        gain = np.where(ok & np.isfinite(best) & (best > 0), np.log(s / best), 0.0)
    out = np.concatenate(
        [
            np.broadcast_to(bins[:, None], (n, 3, bins.shape[1])),
            disagreement[..., None],
            (c == 1).astype(np.float64)[..., None],
            log_sigma[..., None],
            np.minimum(gain, 0.0)[..., None],
        ],
        axis=-1,
    )
    return np.where(ok[..., None], out, 0.0)


def honest_sigma(
    angles: ArrayLike,
    sigma: ArrayLike,
    chi2: ArrayLike,
    count: ArrayLike,
    sigma_min: ArrayLike | None = None,
    tail_map: ArrayLike = TAIL_MAP,
    single_map: ArrayLike = TAIL_MAP_SINGLE,
    expected: ArrayLike = 1,
) -> NDArray[np.float32]:
    """σ (N, 3) after the tail map and the back-view widening (module docstring): per person
    and angle the fused map where ``count`` ≥ 2 or ``expected`` (N,) or scalar, how many
    readings the run could have given that person, is ≥ 2; else the single map. Infinite and
    invalid σ stay as they are."""
    s = np.asarray(sigma, np.float64).reshape(-1, 3)
    a = np.asarray(angles, np.float64).reshape(-1, 3)
    fused = np.asarray(tail_map, np.float64).reshape(3, len(TAIL_FEATURES))
    single = np.asarray(single_map, np.float64).reshape(3, len(TAIL_FEATURES))
    c = np.asarray(count).reshape(-1, 3)
    many = ((c >= 2) | (np.broadcast_to(np.asarray(expected), (len(c),))[:, None] >= 2))[..., None]
    beta = np.where(many, fused[None], single[None])  # (N, 3, F)
    phi = tail_features(a, s, chi2, count, sigma_min)
    out = s * np.exp((phi * beta).sum(axis=-1))
    back = np.abs(a[:, 0]) > BACK_VIEW_YAW
    out[:, 0] = np.where(back, np.hypot(out[:, 0], BACK_VIEW_SIGMA), out[:, 0])
    out = np.where(np.isfinite(s), out, s)
    return out.astype(np.float32)


def ambiguous(angles: ArrayLike, sigma: ArrayLike) -> NDArray[np.bool_]:
    """Per person: the yaw is not pinned down (a back view, or σ_yaw ≥ :data:`AMBIGUOUS_SIGMA`);
    False for invalid poses."""
    a = np.asarray(angles, np.float64).reshape(-1, 3)
    s = np.asarray(sigma, np.float64).reshape(-1, 3)
    ok = np.isfinite(a).all(axis=1) & np.isfinite(s).all(axis=1)
    with np.errstate(invalid="ignore"):
        flag = (np.abs(a[:, 0]) > BACK_VIEW_YAW) | (s[:, 0] >= AMBIGUOUS_SIGMA)
    return np.asarray(ok & flag, bool)
