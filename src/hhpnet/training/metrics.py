"""Error and uncertainty metrics of an evaluation: wrapped angle errors, the sparsification
curve and σ's calibration figures. Used by :mod:`hhpnet.training.evaluate` (which re-exports
them) and :mod:`hhpnet.training.report`; imports neither (the two import it one way)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hhpnet._types import FloatArray, JSONObject
from hhpnet.convention import ANGLE_NAMES, wrap_degrees

SPARSE_FRACTIONS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def signed_errors(pred: NDArray[np.floating], target: NDArray[np.floating]) -> NDArray[np.float64]:
    """Signed errors ``pred − target`` ``(n, 3)`` in degrees, yaw wrapped into (−180, 180]
    (:func:`hhpnet.convention.wrap_degrees`)."""
    d = np.asarray(pred, np.float64) - np.asarray(target, np.float64)
    d[:, 0] = wrap_degrees(d[:, 0])
    return d


def angle_errors(pred: NDArray[np.floating], target: NDArray[np.floating]) -> NDArray[np.float64]:
    """Absolute errors ``(n, 3)`` in degrees, yaw wrapped."""
    return np.abs(signed_errors(pred, target))


def sparsification(
    err: NDArray[np.floating],
    sigma: NDArray[np.floating],
    fractions: Sequence[float] | FloatArray,
) -> NDArray[np.float64]:
    """MAE of the people left after removing the fraction with the largest ``sigma``."""
    err = np.asarray(err, np.float64)
    order = np.argsort(-np.asarray(sigma, np.float64), kind="stable")
    sorted_err = err[order]
    n = len(err)
    out = []
    for f in fractions:
        k = round(float(f) * n)
        out.append(float(sorted_err[k:].mean()) if k < n else float("nan"))
    return np.asarray(out)


def uncertainty_metrics(err: NDArray[np.floating], sigma: NDArray[np.floating]) -> JSONObject:
    """Spearman(σ, |e|), shares within 1σ / 2σ and sparsification per angle (``(n, 3)`` inputs).

    ``spearman_ideal``: Spearman(σ, |N(0, σ)|) on the same σ (seed 0), what an exactly right σ
    would score; the gap to ``spearman`` is what a better σ could still gain.
    """
    from scipy.stats import spearmanr

    out: dict[str, Any] = {"fractions": list(SPARSE_FRACTIONS)}
    rng = np.random.default_rng(0)
    for i, a in enumerate(ANGLE_NAMES):
        e, s = err[:, i], sigma[:, i]
        defined = len(e) > 2 and np.ptp(s) > 0 and np.ptp(e) > 0
        rho = float(spearmanr(s, e).statistic) if defined else float("nan")
        ideal = float("nan")
        if len(s) > 2 and np.ptp(s) > 0 and np.all(np.isfinite(s)):
            ideal = float(spearmanr(s, np.abs(rng.normal(0.0, s))).statistic)
        out[a] = {
            "spearman": rho,
            "spearman_ideal": ideal,
            "within_1sigma": float(np.mean(e <= s)) if len(e) else float("nan"),
            "within_2sigma": float(np.mean(e <= 2 * s)) if len(e) else float("nan"),
            "sparsification": sparsification(e, s, SPARSE_FRACTIONS).tolist(),
            "oracle": sparsification(e, e, SPARSE_FRACTIONS).tolist(),
        }
    return out
