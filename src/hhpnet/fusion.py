"""Several head-pose readings of the same person → one, per angle (yaw on the circle).

A *reading* is the network's pose and σ from one set of keypoints of a head: BlazeFace's or
MoveNet's points of the photo (detector ``"auto"``), the same detectors' points of the mirrored
photo (``precise=True``, yaw and roll negated back), and whatever further source a later
version adds (a face-mesh reading). Their errors are correlated — they share the person, the
photo and the label noise — so they are combined as correlated Gaussian estimates.

**The combination** (:func:`fuse`), for one person and one angle, with K valid readings θ_k of
standard deviation σ_k and the correlation R_kl of their errors in σ units (covariance
Σ_kl = R_kl σ_k σ_l), is the minimum-variance unbiased one (the BLUE, generalised least squares
of a constant)::

    w = Σ⁻¹ 1 / (1ᵀ Σ⁻¹ 1),     θ = Σ_k w_k θ_k,     σ² = 1 / (1ᵀ Σ⁻¹ 1)

Yaw is combined on the circle: the readings' differences to the surest reading are wrapped to
(−180, 180] first, the result wrapped again. For K = 2 this is :func:`combine`, the fusion of the
default pipeline since hhpnet 1.0 (same numbers).

**Sane corners**, documented because the plain formula has them:

* *Negative weights.* Two strongly correlated readings of unequal σ give the weaker one a
  negative weight (the BLUE extrapolates past the better reading). That is optimal only if R and
  both σ are exact; ours are estimates, and an extrapolation amplifies their errors. The weights
  are therefore constrained to w ≥ 0 (a convex combination): among all subsets of the valid
  readings whose own BLUE weights are all positive, the one with the smallest variance is
  taken — the exact solution of min wᵀΣw subject to Σw = 1, w ≥ 0 (its support is such a
  subset). For K = 2 that is the old clip of w to [0, 1], with σ of the better reading.
* *Near-singular R* (readings almost perfectly correlated): the eigenvalues of each angle's R are
  floored at :data:`MIN_EIGENVALUE` and the matrix is rescaled to a unit diagonal. Correlations
  up to ±0.95 between two readings are left exactly as given.
* *Missing readings* (a detector did not see the head, or a reading is invalid: non-finite angle
  or σ): the others are fused; none valid → NaN with infinite σ.
* *Gross outliers* (:func:`fuse_robust`, what the estimator uses): with three or more readings,
  one that contradicts the others far beyond their σ is dropped before the result is taken.

**Disagreement.** Besides the fused angle and σ, :func:`fuse` returns χ² = rᵀ Σ⁻¹ r of the
residuals r_k = θ_k − θ of all valid readings (K − 1 degrees of freedom): readings that disagree
far more than their σ allow mean a failure that σ does not know about (a mirrored back view, a
detector that confused the eyes). :func:`disagreement_inflation` turns it into a σ factor; the
estimator applies it (docs/model.md, "Honest σ").

**Correlations** are named: :data:`CORRELATIONS` maps a pair of reading names to the per-angle
correlation of their errors, measured out-of-fold on the real dev photos (docs/model.md);
:func:`correlation_matrix` assembles R for the readings at hand. A new source is one more entry
per pair it forms (``("blazeface", "facemesh")``, ...). The mirror reading of source ``s`` is
named :func:`mirror_name` ``(s)``. A pair that was never measured gets
:data:`UNMEASURED_CORRELATION`: strongly correlated, so an unknown reading barely narrows σ.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.convention import wrap_degrees

__all__ = [
    "CORRELATIONS",
    "ERROR_CORRELATION",
    "MIN_EIGENVALUE",
    "OUTLIER_CHI2",
    "PAIRED",
    "PRIMARY",
    "UNMEASURED_CORRELATION",
    "Fused",
    "combine",
    "correlation_matrix",
    "disagreement_inflation",
    "fuse",
    "fuse_robust",
    "mirror_name",
    "reading_names",
    "unmirror",
    "unused_readings",
]

#: correlation of the errors (in σ units) of the BlazeFace- and MoveNet-based readings of one
#: head, per angle (yaw, pitch, roll): the default of :func:`combine`, the entry of
#: :data:`CORRELATIONS` (hhpnet ≤ 1.0 used (0.4, 0.5, 0.55), measured on the keypoints CSV's
#: MoveNet; re-measured on the project's own MoveNet of the landmarks file, docs/model.md)
ERROR_CORRELATION: tuple[float, float, float] = (0.33, 0.41, 0.42)

#: the mirror reading of a source: the detector run on the mirrored image, pose mapped back
MIRROR_SUFFIX = "_mirror"


#: in the "auto" detector's "both" mode, the detector whose points, box and score are the
#: person's own (:mod:`hhpnet.detectors.fused`; its tag: ``"blazeface+movenet"``)
PRIMARY = "movenet"


def reading_names(tags: object, n: int) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """Per person, the names of the readings of its keypoints and of its second keypoints
    (``alt_keypoints``) from the detector tags: ``"blazeface+movenet"`` → the ``"auto"``
    detector's primary (MoveNet) and the other one; a single name → itself and ``""``."""
    first = np.full(n, "", dtype=object)
    second = np.full(n, "", dtype=object)
    if tags is None:
        return first, second
    for i, tag in enumerate(np.asarray(tags, dtype=object).reshape(-1)[:n]):
        parts = str(tag or "").split("+")
        if len(parts) == 2:
            main = PRIMARY if PRIMARY in parts else parts[0]
            first[i], second[i] = main, parts[1 - parts.index(main)]
        else:
            first[i] = parts[0]
    return first, second


def mirror_name(source: str) -> str:
    """Name of the mirror reading of ``source`` (``"blazeface"`` → ``"blazeface_mirror"``)."""
    return f"{source}{MIRROR_SUFFIX}"


def unmirror(angles: ArrayLike) -> NDArray[np.floating]:
    """The pose (…, 3) of a head in the photo from its pose in the mirror image (or back):
    (−yaw, pitch, −roll), a yaw of 180° kept at 180° (the range is (−180, 180]); a new array
    of the same float type."""
    a = np.array(angles, copy=True)
    a = a if np.issubdtype(a.dtype, np.floating) else a.astype(np.float64)
    a[..., 0] = np.where(a[..., 0] == 180.0, 180.0, -a[..., 0])
    a[..., 2] = -a[..., 2]
    return a


#: per-angle (yaw, pitch, roll) error correlation of two readings, in σ units, keyed by the pair
#: of reading names (order does not matter). Measured on the 962 real dev photos of the
#: landmarks file (``python benchmarks/cv_real.py fit``; its cross-validation fits them without
#: the scored fold, docs/model.md "Fusion of readings"), symmetric under photo ↔ mirror so that
#: an image and its mirror image are fused alike.
CORRELATIONS: dict[tuple[str, str], tuple[float, float, float]] = {
    ("blazeface", "movenet"): ERROR_CORRELATION,
    ("blazeface", "blazeface_mirror"): (0.44, 0.64, 0.56),
    ("blazeface", "movenet_mirror"): (0.31, 0.44, 0.45),
    ("blazeface", "facemesh"): (0.43, 0.55, 0.56),
    ("blazeface", "facemesh_mirror"): (0.35, 0.52, 0.48),
    ("movenet", "blazeface_mirror"): (0.31, 0.44, 0.45),
    ("movenet", "movenet_mirror"): (0.74, 0.75, 0.62),
    ("movenet", "facemesh"): (0.34, 0.45, 0.33),
    ("movenet", "facemesh_mirror"): (0.35, 0.45, 0.39),
    ("blazeface_mirror", "movenet_mirror"): (0.33, 0.41, 0.42),
    ("blazeface_mirror", "facemesh"): (0.35, 0.52, 0.48),
    ("blazeface_mirror", "facemesh_mirror"): (0.43, 0.55, 0.56),
    ("movenet_mirror", "facemesh"): (0.35, 0.45, 0.39),
    ("movenet_mirror", "facemesh_mirror"): (0.34, 0.45, 0.33),
    ("facemesh", "facemesh_mirror"): (0.68, 0.82, 0.68),
}

#: readings used only together where a person has both slots (one missing drops the other): a
#: photo and its mirror image then get the same set of readings, so ``precise`` reads them alike
#: even when a gate (the face mesh's presence or face size) passes on one side only
PAIRED: tuple[tuple[str, str], ...] = (("facemesh", "facemesh_mirror"),)


def unused_readings(names: Sequence[str | ArrayLike], valid: ArrayLike) -> NDArray[np.bool_]:
    """Which of K readings of N people (``names``: K reading names, each a string or (N,)
    per-person names; ``valid`` (K, N)) are left out of the fusion: a valid reading whose
    :data:`PAIRED` partner's slot the person has but is invalid. (K, N) booleans."""
    ok = np.asarray(valid, bool)
    k, n = ok.shape
    per = [np.broadcast_to(np.asarray(x, dtype=object), (n,)) for x in names]
    out = np.zeros((k, n), bool)
    for a, b in PAIRED:
        slots = {x: [j for j in range(k) if (per[j] == x).any()] for x in (a, b)}
        for x, y in ((a, b), (b, a)):
            has_y = np.zeros(n, bool)
            ok_y = np.zeros(n, bool)
            for j in slots[y]:
                has_y |= per[j] == y
                ok_y |= (per[j] == y) & ok[j]
            for j in slots[x]:
                out[j] |= (per[j] == x) & ok[j] & has_y & ~ok_y
    return out


#: correlation assumed for a pair of readings that was never measured (e.g. a user's own
#: detector): high, so that an unknown reading adds little and σ stays honest
UNMEASURED_CORRELATION: tuple[float, float, float] = (0.9, 0.9, 0.9)

#: readings disagreeing beyond this χ²/(K − 1) lose their most discordant member
#: (:func:`fuse_robust`; with three or more readings)
OUTLIER_CHI2 = 4.0

#: eigenvalue floor of a correlation matrix before it is inverted (then rescaled to a unit
#: diagonal); leaves any 2 × 2 matrix with |ρ| ≤ 0.95 unchanged
MIN_EIGENVALUE = 0.05


def correlation_matrix(
    names: Sequence[str],
    table: Mapping[tuple[str, str], Sequence[float]] = CORRELATIONS,
) -> NDArray[np.float64]:
    """The ``(3, K, K)`` per-angle error correlation of the readings ``names`` (unit diagonal).

    Pairs are looked up in ``table`` in either order; a pair not in it gets
    :data:`UNMEASURED_CORRELATION`.
    """
    k = len(names)
    out = np.zeros((3, k, k))
    for i, j in itertools.product(range(k), range(k)):
        if i == j:
            out[:, i, j] = 1.0
            continue
        pair = (names[i], names[j])
        rho = table.get(pair, table.get(pair[::-1], UNMEASURED_CORRELATION))
        out[:, i, j] = np.broadcast_to(np.asarray(rho, np.float64), (3,))
    return out


def _regularise(corr: NDArray[np.float64]) -> NDArray[np.float64]:
    """Symmetric, eigenvalues ≥ :data:`MIN_EIGENVALUE`, unit diagonal (per angle)."""
    r = (corr + np.swapaxes(corr, -1, -2)) / 2
    vals, vecs = np.linalg.eigh(r)
    if (vals >= MIN_EIGENVALUE).all():
        return r
    vals = np.maximum(vals, MIN_EIGENVALUE)
    r = (vecs * vals[..., None, :]) @ np.swapaxes(vecs, -1, -2)
    d = np.sqrt(np.diagonal(r, axis1=-2, axis2=-1))
    out: NDArray[np.float64] = r / d[..., :, None] / d[..., None, :]
    return out


@dataclass
class Fused:
    """The fusion of K readings of N people: ``angles`` (N, 3) degrees (NaN where no reading is
    valid), ``sigma`` (N, 3) degrees (inf there), ``chi2`` (N, 3) the disagreement rᵀΣ⁻¹r of
    the valid readings with the result, ``count`` (N, 3) how many readings were valid,
    ``weights`` (K, N, 3) each reading's weight (0 for invalid or excluded readings),
    ``sigma_min`` (N, 3) the smallest σ among the valid readings (inf where none)."""

    angles: NDArray[np.float32]
    sigma: NDArray[np.float32]
    chi2: NDArray[np.float64]
    count: NDArray[np.int64]
    weights: NDArray[np.float64]
    sigma_min: NDArray[np.float64]


def fuse(
    angles: ArrayLike,
    sigma: ArrayLike,
    correlation: ArrayLike,
) -> Fused:
    """Minimum-variance fusion of K readings (module docstring).

    ``angles`` and ``sigma``: ``(K, N, 3)`` yaw, pitch, roll and their σ in degrees (a reading
    is invalid for a person and angle where its angle or σ is not finite or σ ≤ 0);
    ``correlation``: ``(K, K)`` for all angles or ``(3, K, K)`` per angle, unit diagonal.
    """
    a = np.asarray(angles, np.float64)
    s = np.asarray(sigma, np.float64)
    if a.ndim != 3 or a.shape[-1] != 3 or s.shape != a.shape:
        raise ValueError(
            f"fuse: angles and sigma must both be (K, N, 3); got {a.shape} and {s.shape}"
        )
    k, n = a.shape[:2]
    r = np.asarray(correlation, np.float64)
    r = np.broadcast_to(r, (3, k, k)) if r.shape == (k, k) else r
    if r.shape != (3, k, k):
        raise ValueError(f"fuse: correlation must be ({k}, {k}) or (3, {k}, {k}); got {r.shape}")
    r = _regularise(r)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(a) & np.isfinite(s) & (s > 0)
    a = np.where(ok, a, 0.0)
    s = np.where(ok, s, 1.0)
    # differences to the surest valid reading (yaw wrapped): the fusion is a weighted mean of them
    ref_k = np.argmin(np.where(ok, s, np.inf), axis=0)  # (N, 3)
    ref = np.take_along_axis(a, ref_k[None], axis=0)[0]
    d = a - ref[None]
    d[..., 0] = wrap_degrees(d[..., 0])
    # covariance (N, 3, K, K) and the best convex BLUE over the subsets of valid readings
    sk = np.moveaxis(s, 0, -1)  # (N, 3, K)
    cov = r[None] * sk[..., :, None] * sk[..., None, :]
    okk = np.moveaxis(ok, 0, -1)  # (N, 3, K)
    best_var, best_w = _best_convex_blue(cov.reshape(-1, k, k), okk.reshape(-1, k))
    best_var, best_w = best_var.reshape(n, 3), best_w.reshape(n, 3, k)
    w = np.moveaxis(best_w, -1, 0)  # (K, N, 3)
    fused = ref + (w * d).sum(axis=0)
    fused[:, 0] = wrap_degrees(fused[:, 0])
    any_ok = ok.any(axis=0)
    out = np.where(any_ok, fused, np.nan)
    sig = np.where(any_ok, np.sqrt(best_var), np.inf)
    # disagreement of all valid readings with the result
    res = np.where(ok, d - (fused - ref)[None], 0.0)
    res[..., 0] = wrap_degrees(res[..., 0])
    resk = np.moveaxis(res, 0, -1)  # (N, 3, K)
    cov_ok = np.where(okk[..., :, None] & okk[..., None, :], cov, 0.0)
    eye = np.eye(k)[None, None]
    cov_ok = cov_ok + eye * (~okk)[..., None]  # invalid readings: a unit variance, zero residual
    chi2 = (resk * np.linalg.solve(cov_ok, resk[..., None])[..., 0]).sum(axis=-1)
    return Fused(
        angles=out.astype(np.float32),
        sigma=sig.astype(np.float32),
        chi2=np.where(any_ok, chi2, np.nan),
        count=ok.sum(axis=0),
        weights=np.where(ok, w, 0.0),
        sigma_min=np.where(ok, s, np.inf).min(axis=0),
    )


def _best_convex_blue(
    cov: NDArray[np.float64], ok: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Variance (M,) and weights (M, K) of the minimum-variance convex combination of the valid
    readings (``ok`` (M, K)) of M items with covariances ``cov`` (M, K, K): the smallest
    variance among the subsets whose unconstrained BLUE weights are all ≥ 0 (inf, 0 where no
    reading is valid)."""
    m, k = ok.shape
    best_var = np.full(m, np.inf)
    best_w = np.zeros((m, k))
    for size in range(1, k + 1):
        for subset in itertools.combinations(range(k), size):
            idx = np.array(subset, np.intp)
            rows = np.flatnonzero(ok[:, idx].all(axis=-1))
            if not len(rows):
                continue
            sub: NDArray[np.float64] = cov[np.ix_(rows, idx, idx)]
            x = np.linalg.solve(sub, np.ones((len(rows), size, 1)))[..., 0]
            total = x.sum(axis=-1)
            with np.errstate(divide="ignore", invalid="ignore"):
                w = x / total[:, None]
                var = 1.0 / total
            better = (w >= 0).all(axis=-1) & (total > 0) & (var < best_var[rows])
            rows = rows[better]
            best_var[rows] = var[better]
            best_w[rows] = 0.0
            best_w[np.ix_(rows, idx)] = w[better]
    return best_var, best_w


def fuse_robust(
    angles: ArrayLike,
    sigma: ArrayLike,
    correlation: ArrayLike,
    max_chi2: float = OUTLIER_CHI2,
    min_count: int = 3,
) -> Fused:
    """:func:`fuse`, then, per person and angle, while at least ``min_count`` readings are
    valid and they disagree beyond χ²/(K − 1) > ``max_chi2``, the reading whose removal
    leaves the most consistent rest is dropped (e.g. a face "found" on the hair of a head seen
    from behind, read as a front view, among back-view readings). Two readings cannot outvote
    each other: with K = 2 this is :func:`fuse`. The returned χ² and count are those of the
    readings kept."""
    a = np.array(angles, np.float64, copy=True)
    s = np.array(sigma, np.float64, copy=True)
    out = fuse(a, s, correlation)
    for _ in range(max(a.shape[0] - min_count + 1, 0)):
        with np.errstate(invalid="ignore", divide="ignore"):
            bad = (out.count >= min_count) & (out.chi2 / (out.count - 1) > max_chi2)
        if not bad.any():
            break
        best_k = np.full(bad.shape, -1)
        best_chi = np.full(bad.shape, np.inf)
        for k in range(a.shape[0]):
            trial_a = a.copy()
            trial_a[k][bad] = np.nan
            trial = fuse(trial_a, s, correlation)
            with np.errstate(invalid="ignore", divide="ignore"):
                score = trial.chi2 / np.maximum(trial.count - 1, 1)
            better = bad & np.isfinite(a[k]) & np.isfinite(s[k]) & (score < best_chi)
            best_k[better], best_chi[better] = k, score[better]
        for k in range(a.shape[0]):
            a[k][bad & (best_k == k)] = np.nan
        out = fuse(a, s, correlation)
    return out


def disagreement_inflation(
    chi2: ArrayLike, count: ArrayLike, scale: float | ArrayLike = 1.0
) -> NDArray[np.float64]:
    """σ factor ≥ 1 from the readings' disagreement: √(max(1, scale · χ² / (K − 1))), 1 where
    fewer than two readings were valid (the Birge ratio of a weighted mean)."""
    c = np.asarray(count, np.float64)
    x = np.asarray(chi2, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.asarray(scale, np.float64) * x / (c - 1)
    return np.where((c >= 2) & np.isfinite(ratio), np.sqrt(np.maximum(ratio, 1.0)), 1.0)


def combine(
    angles_a: NDArray[np.floating],
    sigma_a: NDArray[np.floating],
    angles_b: NDArray[np.floating],
    sigma_b: NDArray[np.floating],
    rho: tuple[float, float, float] | NDArray[np.floating] = ERROR_CORRELATION,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Combine two (N, 3) yaw/pitch/roll estimates (degrees) with their σ (N, 3) degrees:
    :func:`fuse` of K = 2 readings with correlation ``rho`` per angle.

    In closed form: w = (σ_b² − ρ σ_a σ_b) / (σ_a² + σ_b² − 2 ρ σ_a σ_b) clipped to [0, 1],
    θ = θ_b + w (θ_a − θ_b), σ² = σ_a² σ_b² (1 − ρ²) / (σ_a² + σ_b² − 2 ρ σ_a σ_b) (the better
    σ where w is clipped). Rows where one estimate is invalid (non-finite angle or σ) take the
    other; where both are, the result is NaN with infinite σ. Yaw is wrapped to (−180, 180].
    """
    a = np.asarray(angles_a, np.float64).reshape(-1, 3)
    b = np.asarray(angles_b, np.float64).reshape(-1, 3)
    sa = np.asarray(sigma_a, np.float64).reshape(-1, 3)
    sb = np.asarray(sigma_b, np.float64).reshape(-1, 3)
    r = np.broadcast_to(np.asarray(rho, np.float64), (3,))
    corr = np.ones((3, 2, 2))
    corr[:, 0, 1] = corr[:, 1, 0] = r
    out = fuse(np.stack([a, b]), np.stack([sa, sb]), corr)
    return out.angles, out.sigma
