"""Two head-pose estimates of the same person (from two detectors' keypoints) → one.

When BlazeFace and MoveNet both see a head (detector ``"auto"``), the network reads each
detector's five points and the two readings are combined per angle: the minimum-variance
weighted mean of two correlated Gaussian estimates,

    w = (σ_b² − ρ σ_a σ_b) / (σ_a² + σ_b² − 2 ρ σ_a σ_b)   (clipped to [0, 1])
    θ = θ_b + w (θ_a − θ_b)    (yaw on the circle)
    σ² = σ_a² σ_b² (1 − ρ²) / (σ_a² + σ_b² − 2 ρ σ_a σ_b)

``ρ`` is the correlation of the two readings' errors (in units of their σ): they share the
person and the label noise, so they are far from independent. :data:`ERROR_CORRELATION` was
measured on the real dev photos both detectors found (cross-validated held-out predictions,
docs/model.md); combining with it lowers the error on those photos well below either source
alone while σ keeps its coverage.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hhpnet.convention import wrap_degrees

__all__ = ["ERROR_CORRELATION", "combine"]

#: correlation of the errors (in σ units) of the BlazeFace- and MoveNet-based readings of one
#: head, per angle (yaw, pitch, roll); measured on held-out dev photos (docs/model.md)
ERROR_CORRELATION: tuple[float, float, float] = (0.4, 0.5, 0.55)


def combine(
    angles_a: NDArray[np.floating],
    sigma_a: NDArray[np.floating],
    angles_b: NDArray[np.floating],
    sigma_b: NDArray[np.floating],
    rho: tuple[float, float, float] | NDArray[np.floating] = ERROR_CORRELATION,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Combine two (N, 3) yaw/pitch/roll estimates (degrees) with their σ (N, 3) degrees.

    Rows where one estimate is invalid (non-finite angle or σ) take the other; where both are,
    the result is NaN with infinite σ. Yaw is combined on the circle and wrapped to (−180, 180].
    """
    a = np.asarray(angles_a, np.float64).reshape(-1, 3)
    b = np.asarray(angles_b, np.float64).reshape(-1, 3)
    sa = np.asarray(sigma_a, np.float64).reshape(-1, 3)
    sb = np.asarray(sigma_b, np.float64).reshape(-1, 3)
    r = np.broadcast_to(np.asarray(rho, np.float64), (3,))[None]
    ok_a = np.isfinite(a) & np.isfinite(sa) & (sa > 0)
    ok_b = np.isfinite(b) & np.isfinite(sb) & (sb > 0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        den = sa**2 + sb**2 - 2 * r * sa * sb
        w = np.clip((sb**2 - r * sa * sb) / den, 0.0, 1.0)
        w = np.where(np.isfinite(w), w, 0.5)
        d = a - b
        d[:, 0] = wrap_degrees(d[:, 0])
        both = b + w * d
        var = sa**2 * sb**2 * (1 - r**2) / den
        # the weighted mean can never be less certain than its better input when w is clipped
        var = np.where((w <= 0) | (w >= 1), np.minimum(sa, sb) ** 2, var)
        sig = np.sqrt(np.maximum(var, 0.0))
    out = np.where(ok_a & ok_b, both, np.where(ok_a, a, np.where(ok_b, b, np.nan)))
    sig = np.where(ok_a & ok_b, sig, np.where(ok_a, sa, np.where(ok_b, sb, np.inf)))
    out[:, 0] = wrap_degrees(out[:, 0])
    return out.astype(np.float32), sig.astype(np.float32)
