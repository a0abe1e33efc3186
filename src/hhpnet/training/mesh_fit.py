"""Fit the face-mesh reading's synthetic generator to real face-mesh readings with labels.

The mesh network is trained on synthetic landmarks only (:mod:`hhpnet.training.mesh_synth`:
MediaPipe's canonical face, posed and projected); this module fits, from the real readings it is
given (cross-validation passes the training folds only: the photos and their mirror images), how
the real readings differ from that projection:

* **frame offset** — a constant pitch rotation between the labels' head frame and the canonical
  face's (the labels' pitch 0 is their 3-D model's frontal direction): the value that minimises
  the trimmed mean residual. Yaw and roll offsets are zero by symmetry (the photos and their
  mirror images are fitted together);
* **depth scale** — the mesh's depth column over the canonical depth of the posed face (one
  number);
* **placement bias** — the mean residual of every landmark (x, y in the face's roll-aligned image
  frame, depth) in canonical centimetres as a function of pose:
  ``B(yaw, pitch) = Σ_j h_j(yaw) (D_j + (pitch − p̄)/30 · P_j)``, linear interpolation weights
  ``h_j`` on yaw knots every 15° (:data:`hhpnet.training.generator_fit.KNOTS`), ridge-penalised
  towards zero and to vary smoothly across knots (contour points sliding on profiles, the
  mesh's flattening of turned faces);
* **noise** — what remains (face-to-face shape variation, expression, mesh scatter, label
  noise): per yaw knot (Gaussian kernel of 15° in yaw) a covariance of all 468 × 3 residuals as
  its ``components`` leading principal components plus a per-coordinate remainder variance
  (fitted on the readings kept by ``trim``), times a per-reading level sqrt(ν / χ²_ν) (a
  multivariate Student t) whose ν makes the simulated residual sizes match the real ones,
  tails (the trimmed readings: mesh failures, label errors) included;
* **pose prior** — the labels' pitch mean and spread along the gimbal ridge
  (:func:`hhpnet.training.generator_fit.fit_pose_prior`).

Each photo's residual is taken against a weak-perspective projection (the labels' own camera
model): scale and shift fitted per reading on x, y. The fit is a dict of numpy arrays and
numbers (:class:`MeshFit`); it is kept next to the weights it trained, never in the repository
(it derives from the development rows), and summarised in the weights' metadata.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np
from numpy.typing import NDArray

from hhpnet._types import Array, FloatArray, IntArray
from hhpnet.convention import angles_to_matrix
from hhpnet.headmodel import PosePrior
from hhpnet.training.generator_fit import KNOTS, fit_pose_prior, hat_weights
from hhpnet.training.mesh_geometry import canonical_head, mirror_permutation

__all__ = [
    "MESH_FIT_OPTIONS",
    "MeshFit",
    "fit_mesh_generator",
    "mirror_landmarks",
    "pose_residuals",
    "posed_face",
]


#: fitting options (defaults; configs may override them)
class MeshFitOptions(TypedDict, total=False):
    """Options of :func:`fit_mesh_generator` (see :data:`MESH_FIT_OPTIONS`)."""

    lam_bias: float
    lam_smooth: float
    lam_pitch: float
    kernel_deg: float
    components: int
    trim: float
    offset_range: tuple[float, float]


MESH_FIT_OPTIONS: MeshFitOptions = {
    "lam_bias": 0.05,  # pull of the per-knot bias towards 0 (in units of the knot's weight sum)
    "lam_smooth": 2.0,  # smoothness of the bias and pitch slopes across knots
    "lam_pitch": 0.5,  # pull of the pitch slopes towards 0
    "kernel_deg": 15.0,  # yaw kernel of the noise model
    "components": 24,  # principal components of the noise per knot
    "trim": 0.98,  # share of readings (smallest residuals) kept for offset, bias and noise
    "offset_range": (-12.0, 8.0),  # pitch offsets searched (degrees)
}
PITCH_UNIT = 30.0


@dataclass
class MeshFit:
    """Fitted generator parameters (see the module docstring); arrays over all 468 landmarks,
    coordinates flattened as (landmark, x / y / depth)."""

    pitch_offset: float
    depth_scale: float
    pitch_ref: float
    bias: NDArray[np.float64]  # (knots, 468, 3) cm
    pitch_slope: NDArray[np.float64]  # (knots, 468, 3) cm per 30° of pitch
    basis: NDArray[np.float32]  # (knots, components, 1404): principal axes × their sd (cm)
    remainder_sd: NDArray[np.float32]  # (knots, 1404) cm
    level_dof: float
    pose: PosePrior
    info: dict[str, Any] = field(default_factory=dict)

    def bias_at(self, yaw: FloatArray, pitch: FloatArray) -> NDArray[np.float64]:
        """Mean residual (n, 468, 3) cm at the given poses (degrees)."""
        h = hat_weights(np.asarray(yaw, np.float64))
        u = (np.asarray(pitch, np.float64) - self.pitch_ref) / PITCH_UNIT
        result: NDArray[np.float64] = np.einsum("nj,jkd->nkd", h, self.bias) + np.einsum(
            "nj,jkd->nkd", h * u[:, None], self.pitch_slope
        )
        return result

    def to_arrays(self) -> dict[str, FloatArray]:
        """The fit as named arrays (``np.savez``); :meth:`from_arrays` reads them back."""
        import json

        scalars = {
            "pitch_offset": self.pitch_offset,
            "depth_scale": self.depth_scale,
            "pitch_ref": self.pitch_ref,
            "level_dof": self.level_dof,
        }
        return {
            "bias": self.bias,
            "pitch_slope": self.pitch_slope,
            "basis": self.basis,
            "remainder_sd": self.remainder_sd,
            "meta": np.array(json.dumps({**scalars, "pose": self.pose, "info": self.info})),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Array]) -> MeshFit:
        import json

        meta = json.loads(str(arrays["meta"]))
        return cls(
            pitch_offset=float(meta["pitch_offset"]),
            depth_scale=float(meta["depth_scale"]),
            pitch_ref=float(meta["pitch_ref"]),
            bias=np.asarray(arrays["bias"], np.float64),
            pitch_slope=np.asarray(arrays["pitch_slope"], np.float64),
            basis=np.asarray(arrays["basis"], np.float32),
            remainder_sd=np.asarray(arrays["remainder_sd"], np.float32),
            level_dof=float(meta["level_dof"]),
            pose=meta["pose"],
            info=meta.get("info", {}),
        )

    def summary(self) -> dict[str, object]:
        """What was fitted, in a few numbers (for a weight file's metadata)."""
        return {
            "pitch_offset_deg": round(self.pitch_offset, 3),
            "depth_scale": round(self.depth_scale, 4),
            "bias_rms_cm_by_knot": [
                round(float(v), 3) for v in np.sqrt((self.bias**2).mean(axis=(1, 2)))
            ],
            "noise_rms_cm_by_knot": [
                round(float(v), 3)
                for v in np.sqrt(
                    ((self.basis.astype(np.float64) ** 2).sum(axis=1) + self.remainder_sd**2).mean(
                        axis=1
                    )
                )
            ],
            "components": int(self.basis.shape[1]),
            "level_dof": self.level_dof,
            "pose_prior": self.pose,
            **self.info,
        }


def mirror_landmarks(landmarks: FloatArray, width: FloatArray | float) -> FloatArray:
    """Landmarks of the mirrored image (x' = width − 1 − x, left/right partners swapped);
    ``width`` per face or one number (use 1 for coordinates centred on 0: x' = −x)."""
    m = np.asarray(landmarks)[:, mirror_permutation()].copy()
    w = np.asarray(width, np.float64).reshape(-1)
    m[..., 0] = (w[:, None] - 1.0) - m[..., 0] if w.size > 1 else (w[0] - 1.0) - m[..., 0]
    return m


def posed_face(
    angles: FloatArray, pitch_offset: float, points: IntArray | None = None
) -> NDArray[np.float64]:
    """The canonical face (n, K, 3) in the viewer frame (x right, y down, z towards the viewer)
    at the labels ``angles`` (n, 3), with the fitted pitch offset of the labels' frame."""
    a = np.asarray(angles, np.float64)
    rot = angles_to_matrix(a[:, 0], a[:, 1], a[:, 2]) @ angles_to_matrix(0.0, pitch_offset, 0.0)
    head = canonical_head() if points is None else canonical_head()[points]
    result: NDArray[np.float64] = np.matmul(head[None], rot.transpose(0, 2, 1))
    return result


def _rotate_xy(v: FloatArray, deg: FloatArray) -> FloatArray:
    """Turn the x, y columns of (n, k, ≥2) clockwise (image, y down) by ``deg`` (n,)."""
    t = np.radians(np.asarray(deg, np.float64))[:, None]
    c, s = np.cos(t), np.sin(t)
    out = np.array(v, np.float64)
    out[..., 0] = c * v[..., 0] - s * v[..., 1]
    out[..., 1] = s * v[..., 0] + c * v[..., 1]
    return out


def pose_residuals(
    landmarks: FloatArray, angles: FloatArray, pitch_offset: float, depth_scale: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Residuals (n, 468, 3) in canonical cm of readings against the posed canonical face
    (weak perspective, scale and shift fitted per reading on x, y; depth centred), x, y turned
    into the face's roll-aligned frame; and the fitted scales (n,) in pixels per cm."""
    lm = np.asarray(landmarks, np.float64)
    v = posed_face(angles, pitch_offset)
    p = v[..., :2] - v[..., :2].mean(axis=1, keepdims=True)
    q = lm[..., :2] - lm[..., :2].mean(axis=1, keepdims=True)
    s = (p * q).sum(axis=(1, 2)) / (p * p).sum(axis=(1, 2))
    res = np.empty_like(lm)
    res[..., :2] = q / s[:, None, None] - p
    vz = -(v[..., 2] - v[..., 2].mean(axis=1, keepdims=True))  # depth away from the viewer
    qz = lm[..., 2] - lm[..., 2].mean(axis=1, keepdims=True)
    res[..., 2] = qz / s[:, None] - depth_scale * vz
    res[..., :2] = _rotate_xy(res, -np.asarray(angles, np.float64)[:, 2])[..., :2]
    return res, s


def _rms(res: FloatArray) -> NDArray[np.float64]:
    result: NDArray[np.float64] = np.sqrt((res[..., :2] ** 2).sum(-1).mean(-1))
    return result


def _trimmed(values: FloatArray, share: float) -> NDArray[np.bool_]:
    result: NDArray[np.bool_] = values <= np.quantile(values, share)
    return result


def _trimmed_by_yaw(values: FloatArray, yaw: FloatArray, share: float) -> NDArray[np.bool_]:
    """:func:`_trimmed` within each 15° band of |yaw| (residuals grow with yaw: a global
    threshold would trim mostly profiles)."""
    band = np.minimum(np.abs(yaw) // 15, 6)
    keep = np.ones(len(values), bool)
    for b in np.unique(band):
        rows = band == b
        keep[rows] = _trimmed(values[rows], share)
    return keep


def _fit_offset(lm: FloatArray, angles: FloatArray, opts: MeshFitOptions) -> float:
    """Pitch offset minimising the trimmed mean x, y residual (grid, then a parabola)."""
    lo, hi = opts["offset_range"]
    grid = np.arange(lo, hi + 1e-9, 2.0)

    def cost(dp: float) -> float:
        r = _rms(pose_residuals(lm, angles, dp, 1.0)[0])
        return float(r[_trimmed_by_yaw(r, angles[:, 0], opts["trim"])].mean())

    costs = np.array([cost(g) for g in grid])
    i = int(np.clip(np.argmin(costs), 1, len(grid) - 2))
    c0, c1, c2 = costs[i - 1 : i + 2]
    den = c0 - 2 * c1 + c2
    step = 0.5 * (c0 - c2) / den if den > 0 else 0.0
    return float(grid[i] + 2.0 * np.clip(step, -1.0, 1.0))


def _fit_bias(
    res: FloatArray, yaw: FloatArray, pitch: FloatArray, p_ref: float, opts: MeshFitOptions
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-knot bias D and pitch slopes P (knots, 468, 3) by penalised least squares."""
    h = hat_weights(yaw)
    u = (pitch - p_ref) / PITCH_UNIT
    design = np.concatenate([h, h * u[:, None]], axis=1)  # (n, 2J)
    j = h.shape[1]
    diff = np.diff(np.eye(j), axis=0)
    smooth = diff.T @ diff
    mass = np.maximum(h.sum(axis=0), 1.0)
    pen = np.zeros((2 * j, 2 * j))
    pen[:j, :j] = opts["lam_bias"] * np.diag(mass) + opts["lam_smooth"] * smooth * mass.mean()
    pen[j:, j:] = opts["lam_pitch"] * np.diag(mass) + opts["lam_smooth"] * smooth * mass.mean()
    target = res.reshape(len(res), -1)
    coef = np.linalg.solve(design.T @ design + pen, design.T @ target)
    return coef[:j].reshape(j, -1, 3), coef[j:].reshape(j, -1, 3)


def _leading_axes(m: FloatArray, k: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """The ``k`` leading right singular vectors of ``m`` times their singular values
    (randomised range finder with 3 power iterations: ~100× faster than a full SVD of the
    (n, 1404) matrix, same leading axes to ~1e-3); an exact SVD for small matrices."""
    if len(m) <= 400:  # eigenvectors u of the small Gram matrix: axes × sd = uᵀ m
        _, u = np.linalg.eigh(m @ m.T)
        small: NDArray[np.float64] = u[:, ::-1][:, :k].T @ m
        return small
    q, _ = np.linalg.qr(m @ rng.normal(size=(m.shape[1], min(k + 16, min(m.shape)))))
    for _ in range(3):
        q, _ = np.linalg.qr(m.T @ q)
        q, _ = np.linalg.qr(m @ q)
    _, sv, vt = np.linalg.svd(q.T @ m, full_matrices=False)
    result: NDArray[np.float64] = vt[:k] * sv[:k, None]
    return result


def _fit_noise(
    dev: FloatArray, yaw: FloatArray, opts: MeshFitOptions, seed: int = 0
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Per-knot principal components (scaled by their sd) and remainder sd of residuals."""
    flat = dev.reshape(len(dev), -1)
    kernel = np.exp(-0.5 * ((yaw[:, None] - KNOTS[None]) / opts["kernel_deg"]) ** 2)
    k = int(opts["components"])
    rng = np.random.default_rng(seed)
    bases, rems = [], []
    for jj in range(len(KNOTS)):
        w = kernel[:, jj] / kernel[:, jj].sum()
        use = w > 1e-6 * w.max()
        m = np.sqrt(w[use])[:, None] * flat[use]
        comps = _leading_axes(m, k, rng)  # principal axes × their sd
        var = (m * m).sum(axis=0) - (comps**2).sum(axis=0)
        bases.append(comps)
        rems.append(np.sqrt(np.maximum(var, 0.0)))
    return np.asarray(bases, np.float32), np.asarray(rems, np.float32)


#: degrees of freedom tried for the residual level (inf: Gaussian)
LEVEL_DOF = (2.5, 3.0, 4.0, 5.0, 7.0, 10.0, 20.0, 50.0, float("inf"))
#: quantile levels at which real and simulated residual sizes are compared
LEVEL_QUANTILES = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995])


def sample_level(rng: np.random.Generator, dof: float, n: int) -> NDArray[np.float64]:
    """Per-reading noise levels: sqrt(ν / χ²_ν) (a multivariate Student t of the Gaussian
    noise model; 1 for ν = inf)."""
    if not np.isfinite(dof):
        return np.ones(n)
    result: NDArray[np.float64] = np.sqrt(dof / rng.chisquare(dof, n))
    return result


def _level_dof(
    dev: FloatArray, yaw: FloatArray, basis: FloatArray, rem: FloatArray, seed: int
) -> float:
    """Tail weight ν of the residual size: the Student-t level whose simulated
    log‖residual‖ quantiles (relative to the Gaussian model's expected size at each reading's
    yaw) are closest to those of all real readings, the trimmed ones included."""
    rng = np.random.default_rng(seed)
    h = hat_weights(yaw)
    expected = np.sqrt(h @ ((basis.astype(np.float64) ** 2).sum(axis=(1, 2)) + (rem**2).sum(1)))
    real = np.quantile(
        np.log(np.linalg.norm(dev.reshape(len(dev), -1), axis=1) / expected), LEVEL_QUANTILES
    )
    cum = np.cumsum(h, axis=1)
    j = np.minimum((rng.random(len(h))[:, None] > cum).sum(axis=1), len(KNOTS) - 1)
    sim = np.einsum("nc,ncd->nd", rng.normal(size=(len(j), basis.shape[1])), basis[j])
    sim += rng.normal(size=sim.shape) * rem[j]
    base = np.log(np.linalg.norm(sim, axis=1) / expected)
    costs = []
    for dof in LEVEL_DOF:
        scaled = base + np.log(sample_level(rng, dof, len(base)))
        costs.append(float(np.abs(np.quantile(scaled, LEVEL_QUANTILES) - real).mean()))
    return float(LEVEL_DOF[int(np.argmin(costs))])


def fit_mesh_generator(
    landmarks: FloatArray,
    angles: FloatArray,
    photo_angles: FloatArray | None = None,
    options: MeshFitOptions | None = None,
    seed: int = 0,
) -> MeshFit:
    """Fit the generator to real readings (see the module docstring).

    ``landmarks`` (n, 468, 3) pixels (found readings only: photos and mirror images pooled),
    ``angles`` (n, 3) their labels (mirror images: yaw and roll negated); ``photo_angles``: the
    labels of the photos once each, for the pose prior (default: ``angles``).
    """
    opts: MeshFitOptions = {**MESH_FIT_OPTIONS, **(options or {})}
    lm = np.asarray(landmarks, np.float64)
    ang = np.asarray(angles, np.float64)
    if lm.ndim != 3 or lm.shape[1:] != (468, 3) or len(ang) != len(lm) or len(lm) < 20:
        raise ValueError(f"fit_mesh_generator: need (n ≥ 20, 468, 3) readings, got {lm.shape}")
    offset = _fit_offset(lm, ang, opts)
    res, _ = pose_residuals(lm, ang, offset, 1.0)
    keep = _trimmed_by_yaw(_rms(res), ang[:, 0], opts["trim"])
    v = posed_face(ang, offset)
    vz = -(v[..., 2] - v[..., 2].mean(axis=1, keepdims=True))
    qz = res[..., 2] + vz  # the reading's depth / scale, centred
    depth_scale = float((qz[keep] * vz[keep]).sum() / (vz[keep] ** 2).sum())
    res[..., 2] = qz - depth_scale * vz
    yaw, pitch = ang[:, 0], ang[:, 1]
    p_ref = float(np.mean(pitch[keep]))
    bias, slope = _fit_bias(res[keep], yaw[keep], pitch[keep], p_ref, opts)
    h = hat_weights(yaw)
    u = (pitch - p_ref) / PITCH_UNIT
    dev = res - np.einsum("nj,jkd->nkd", h, bias) - np.einsum("nj,jkd->nkd", h * u[:, None], slope)
    basis, rem = _fit_noise(dev[keep], yaw[keep], opts, seed)
    dof = _level_dof(dev, yaw, basis, rem, seed)
    pose = fit_pose_prior(ang if photo_angles is None else photo_angles, seed=seed)
    digest = hashlib.sha256(np.ascontiguousarray(lm[keep], np.float32).tobytes()).hexdigest()
    info = {
        "readings": len(lm),
        "readings_kept": int(keep.sum()),
        "readings_sha256": digest[:16],
        "options": {k: list(v) if isinstance(v, tuple) else v for k, v in opts.items()},
    }
    return MeshFit(offset, depth_scale, p_ref, bias, slope, basis, rem, dof, pose, info)
