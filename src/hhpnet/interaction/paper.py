"""The HHP-Net paper's image-plane LAEO (``method="paper"`` / ``"paper-v1"``).

``g_i = (sin(−yaw), −cos(−yaw)·sin(pitch))`` normalised; δ = angle between ``O_j − O_i``
(keypoint centroids) and ``g_i``, set to 0 inside a cone; ``A = M = max(cos δ, 0)``;
``matrix = LAEO = (M + Mᵀ)/2``. Uncertainty ``u = clip(mean(σ_yaw, σ_pitch) / sigma_max_deg,
0, 1)`` (non-finite σ → 1); "paper": cone 3° if u < 0.4, 6° if u ≤ 0.6, else 9°;
"paper-v1": fixed 5° cone and ``M[i, j] ·= ((1 − u_i) + (1 − u_j)) / 2``. A face looking
straight into the camera (|g| ≈ 0 before normalising) looks at nobody. Converging attention
uses the same 2-D rays (C = 1 when they cross in range, else 0).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.interaction.params import PaperParams
from hhpnet.interaction.scores import People, Scores, _ray_closest, _reach, _unit

F64 = NDArray[np.float64]


# --------------------------------------------------------------------------- σ mapping
def paper_uncertainty(sigma: ArrayLike, sigma_max_deg: float = 30.0) -> F64:
    """Our σ → the paper's u ∈ [0, 1]: ``clip(mean(σ_yaw, σ_pitch) / sigma_max_deg, 0, 1)``;
    ``sigma`` (N, 3) or (N, 2) degrees; non-finite σ → 1 (fully uncertain)."""
    s = np.asarray(sigma, np.float64).reshape(-1, np.shape(sigma)[-1])
    m = (s[:, 0] + s[:, 1]) / 2.0
    return np.where(np.isfinite(m), np.clip(m / sigma_max_deg, 0.0, 1.0), 1.0)


def _paper(yaw: F64, pitch: F64, sigma: F64, cen: F64, p: PaperParams, v1: bool) -> Scores:
    ry, rp = np.deg2rad(yaw), np.deg2rad(pitch)
    g_raw = np.stack([np.sin(-ry), -np.cos(-ry) * np.sin(rp)], axis=1)
    g, gn = _unit(g_raw)
    has_dir = gn > 1e-9
    diff, dist = _unit(cen[None, :, :] - cen[:, None, :])  # (m, m, 2): O_j − O_i
    cos_d = np.clip(np.sum(g[:, None, :] * diff, axis=-1), -1.0, 1.0)
    delta = np.rad2deg(np.arccos(cos_d))
    u = paper_uncertainty(sigma, p.sigma_max_deg)
    if v1:
        cone = np.full(len(yaw), p.v1_cone_deg)
    else:
        c0, c1, c2 = p.cones_deg
        cone = np.where(u < p.u_thresholds[0], c0, np.where(u <= p.u_thresholds[1], c1, c2))
    delta = np.where(np.abs(delta) < cone[:, None], 0.0, delta)
    m = np.maximum(np.cos(np.deg2rad(delta)), 0.0)
    if v1:
        m = m * (((1.0 - u)[:, None] + (1.0 - u)[None, :]) / 2.0)
    m = np.where(has_dir[:, None] & (dist > 0), m, 0.0)
    np.fill_diagonal(m, 0.0)
    laeo = (m + m.T) / 2.0
    reach = _reach(m, dist, p.threshold, 0.05 * dist)
    _, ok = _ray_closest(cen, g, dist, *p.converge_range, reach)
    ok &= has_dir[:, None] & has_dir[None, :]
    conv = ok.astype(np.float64)
    np.fill_diagonal(conv, 0.0)
    return Scores(m, laeo, conv, None)


def paper_scores(people: People, p: PaperParams) -> Scores:
    """The registered scoring function of ``"paper"``."""
    return _paper(people.yaw, people.pitch, people.sigma, people.centroid, p, False)


def paper_v1_scores(people: People, p: PaperParams) -> Scores:
    """The registered scoring function of ``"paper-v1"``."""
    return _paper(people.yaw, people.pitch, people.sigma, people.centroid, p, True)
