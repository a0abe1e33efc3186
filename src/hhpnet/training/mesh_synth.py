"""Synthetic face-mesh readings: MediaPipe's canonical face, posed, projected and given the
placement bias and noise fitted to real readings (:mod:`hhpnet.training.mesh_fit`).

One sample: labels (yaw, pitch, roll) from the fitted pose prior (:mod:`hhpnet.training.synth`'s
BlazeFace prior: the mesh runs on BlazeFace faces, |yaw| ≤ ``max_yaw``); the canonical face
turned by the labels and the fitted pitch offset of the labels' frame; weak perspective (the
labels' camera model): x, y = scale · (posed x, y + residual) + shift, depth = scale ·
(depth_scale · posed depth + residual); the residual = fitted bias at that pose + level ×
(principal-component noise + remainder noise) of the pose's yaw knots (covariances
interpolated between knots), x, y turned by the roll; level sqrt(ν / χ²_ν) with the fitted ν
(× ``noise_scale``). Half the samples are mirrored (landmarks of the mirror image, yaw and roll
negated). Face size is log-uniform in ``face_px`` (it does not change the normalised input) and
the face is placed anywhere in a 2000-pixel frame. Vectorised; deterministic from the seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from hhpnet._types import FloatArray
from hhpnet.training.generator_fit import KNOTS, hat_weights
from hhpnet.training.mesh_fit import (
    PITCH_UNIT,
    MeshFit,
    _rotate_xy,
    posed_face,
    sample_level,
)
from hhpnet.training.mesh_geometry import mirror_permutation

__all__ = ["MeshSynthConfig", "generate_mesh"]

#: samples generated at a time (bounds the memory of the intermediates)
CHUNK = 16_384

MESH_GENERATOR_VERSION = "mesh-synth-1.0"


@dataclass
class MeshSynthConfig:
    """Options of :func:`generate_mesh` (angles in degrees)."""

    #: largest |yaw| (BlazeFace's range; the mesh runs on BlazeFace faces)
    max_yaw: float = 100.0
    #: multiplier of the fitted noise (bias unchanged)
    noise_scale: float = 1.0
    #: face width range in pixels (log-uniform); does not change the normalised input
    face_px: tuple[float, float] = (60.0, 600.0)
    #: share of mirrored samples
    mirror_share: float = 0.5

    @classmethod
    def from_dict(cls, data: Mapping[str, object] | None) -> MeshSynthConfig:
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in (data or {}).items()}
        return cls(**cast(Any, values))


def _angles(rng: np.random.Generator, n: int, fit: MeshFit, cfg: MeshSynthConfig) -> FloatArray:
    from hhpnet.training import synth

    prior = synth.SynthConfig(blazeface_max_yaw=cfg.max_yaw, yaw_wide=cfg.max_yaw)
    result: FloatArray = synth._sample_angles(rng, np.zeros(n, np.int8), prior, fit.pose)
    return result


def generate_mesh(
    fit: MeshFit,
    n: int,
    seed: int,
    points: FloatArray | None = None,
    config: MeshSynthConfig | None = None,
    angles: FloatArray | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """``n`` synthetic readings: landmarks (n, K, 3) float32 pixels (x, y, depth) of the
    landmark indices ``points`` (all 468 by default), in that order, and labels (n, 3) float32
    yaw, pitch, roll (see the module docstring).

    ``angles`` (n, 3): read faces at these labels instead of drawing them from the prior (a
    synthetic *twin* of real readings). Only ``points`` and their mirror partners are
    generated (cost and memory scale with them), in chunks of :data:`CHUNK` from one seeded
    stream.
    """
    cfg = config or MeshSynthConfig()
    rng = np.random.default_rng(seed)
    want = np.arange(468) if points is None else np.asarray(points, np.intp).reshape(-1)
    perm = mirror_permutation()
    gen = np.union1d(want, perm[want])  # closed under mirroring
    local = np.searchsorted(gen, perm[gen])  # mirror permutation within ``gen``
    cols = (gen[:, None] * 3 + np.arange(3)).reshape(-1)
    part = _Subset(
        gen,
        local,
        fit.bias[:, gen],
        fit.pitch_slope[:, gen],
        np.ascontiguousarray(fit.basis[:, :, cols]),
        np.ascontiguousarray(fit.remainder_sd[:, cols]),
    )
    given = None if angles is None else np.asarray(angles, np.float64).reshape(n, 3)
    parts = [
        _chunk(fit, part, min(CHUNK, n - i), rng, cfg, None if given is None else given[i:])
        for i in range(0, n, CHUNK)
    ]
    pick = np.searchsorted(gen, want)
    if not parts:
        return np.zeros((0, len(want), 3), np.float32), np.zeros((0, 3), np.float32)
    return (
        np.concatenate([p[0][:, pick] for p in parts]),
        np.concatenate([p[1] for p in parts]),
    )


@dataclass
class _Subset:
    """The fit restricted to the generated landmarks ``index`` (mirror permutation ``mirror``
    within them)."""

    index: NDArray[np.intp]
    mirror: NDArray[np.intp]
    bias: NDArray[np.float64]
    pitch_slope: NDArray[np.float64]
    basis: NDArray[np.float32]
    remainder_sd: NDArray[np.float32]


def _chunk(
    fit: MeshFit,
    sub: _Subset,
    n: int,
    rng: np.random.Generator,
    cfg: MeshSynthConfig,
    given: FloatArray | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    angles = _angles(rng, n, fit, cfg) if given is None else given[:n]
    mirrored = rng.random(n) < cfg.mirror_share
    # a mirrored sample is the mirror image of a face at the mirrored pose
    gen_angles = np.where(mirrored[:, None], angles * np.array([-1.0, 1.0, -1.0]), angles)
    yaw, pitch, roll = gen_angles.T
    v = posed_face(gen_angles, fit.pitch_offset, sub.index)
    # residual: bias + level × noise of a yaw knot drawn with the interpolation weights
    # (a mixture over the two neighbouring knots: their covariances interpolated)
    h = hat_weights(yaw)
    u = (pitch - fit.pitch_ref) / PITCH_UNIT
    res = np.einsum("nj,jkd->nkd", h, sub.bias) + np.einsum(
        "nj,jkd->nkd", h * u[:, None], sub.pitch_slope
    )
    cum = np.cumsum(h, axis=1)
    knot = np.minimum((rng.random(n)[:, None] > cum).sum(axis=1), len(KNOTS) - 1)
    level = sample_level(rng, fit.level_dof, n) * cfg.noise_scale
    coeff = rng.normal(size=(n, sub.basis.shape[1])).astype(np.float32)
    noise = np.empty((n, sub.basis.shape[2]), np.float32)
    for j in np.unique(knot):
        rows = np.flatnonzero(knot == j)
        noise[rows] = coeff[rows] @ sub.basis[j]
        noise[rows] += (
            rng.standard_normal((len(rows), noise.shape[1]), np.float32) * (sub.remainder_sd[j])
        )
    res += level[:, None, None] * noise.reshape(n, -1, 3)
    res[..., :2] = _rotate_xy(res, roll)[..., :2]
    lo, hi = (float(v) for v in np.log(cfg.face_px))
    scale = np.exp(rng.uniform(lo, hi, n)) / 15.5  # pixels per cm
    shift = rng.uniform(200.0, 1800.0, (n, 1, 3)) * np.array([1.0, 1.0, 0.0])
    lm = np.empty_like(v)
    lm[..., :2] = v[..., :2] + res[..., :2]
    lm[..., 2] = -fit.depth_scale * v[..., 2] + res[..., 2]
    lm = lm * scale[:, None, None] + shift
    if mirrored.any():
        m = lm[mirrored][:, sub.mirror]
        m[..., 0] = 1999.0 - m[..., 0]
        lm[mirrored] = m
    return lm.astype(np.float32), angles.astype(np.float32)
