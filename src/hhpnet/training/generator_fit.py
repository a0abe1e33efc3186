"""Fit the synthetic generator's detector models to real labelled detector keypoints.

The network is trained on synthetic keypoints only; this module fits the *generator* to real
data (the development file of ``../shared/data``: real BlazeFace, BlazePose and MoveNet keypoints
with ground-truth angles, no images). Per detector profile it fits, from the rows it is given
(cross-validation passes the training folds only):

* **shape** — where the detector puts its five points on a head, as a 3-D shape in the head
  frame of :mod:`hhpnet.convention` (mm, bitragion-like breadth fixed to 143 mm) that may change
  smoothly with yaw and pitch: ``H(yaw, pitch) = Σ_j h_j(yaw) (S + D_j + pitch/90 · P_j)``, with
  linear interpolation weights ``h_j`` on yaw knots every 15° from −105° to 105°, a rigid shape
  ``S``, per-knot deformations ``D_j`` (penalised towards 0 and to be smooth across knots) and
  per-knot pitch slopes ``P_j``. Fitted under weak perspective (the labels' own model): for each
  photo the projection of the posed shape is matched to the detector's points up to a scale and
  a translation, with a Huber loss on the residuals. Because the shape is fitted in the labels'
  frame, any constant rotation between an anatomical head frame and the labels' frame (e.g.
  the pitch-0 convention of the 3-D morphable model behind the labels) is part of the fit; so
  is where the detector puts hidden far-side points on turned heads (``D_j`` at large |yaw|).
* **noise** — the residuals left by that shape (detector scatter, face-to-face shape variation,
  label noise), in the face's roll-aligned image frame and in head millimetres: a covariance
  per yaw knot (Gaussian kernel of 15° in yaw, after trimming the 2 % largest residuals), stored
  as symmetric square roots, plus a per-photo log-normal quality spread matched to the spread of
  the residual size.
* **scores** — the detector's confidence values by point and yaw knot, as quantiles, with a
  Gaussian-copula correlation between the points of one photo (BlazeFace: its face score).

The data are mirrored (x flipped, left/right swapped, yaw and roll negated) before fitting, so
the fitted models are left/right symmetric. ``hhpnet fit-generator`` writes the JSON file that
:mod:`hhpnet.training.synth` reads; it records what it was fitted on.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from hhpnet._types import FloatArray
from hhpnet.convention import angles_to_matrix
from hhpnet.headmodel import (
    BREADTH_MM,
    GeneratorFit,
    NoiseFit,
    PosePrior,
    ProfileFit,
    ScoreFit,
)
from hhpnet.keypoints import FLIP_PERMUTATION

if TYPE_CHECKING:
    from torch import Tensor

    from hhpnet.training.keypoints_csv import KeypointSet

__all__ = [
    "FIT_OPTIONS",
    "KNOTS",
    "ShapeFit",
    "fit_generator",
    "fit_noise",
    "fit_scores",
    "fit_shape",
    "hat_weights",
    "shape_residuals",
]

#: yaw knots of the fitted shape, noise and score models (degrees)
KNOTS = np.arange(-105.0, 105.1, 15.0)
#: quantile levels of the fitted score tables
SCORE_LEVELS = np.linspace(0.02, 0.98, 25)
#: fitting options (chosen by 5-fold cross-validation of held-out residuals on the dev file)
FIT_OPTIONS: dict[str, float] = {
    "lam_deform": 0.03,  # pull of the per-knot deformations towards the rigid shape
    "lam_smooth": 0.3,  # smoothness of deformations and pitch slopes across knots
    "lam_pitch": 0.1,  # pull of the pitch slopes towards 0
    "huber": 0.02,  # Huber threshold, in units of the photo's keypoint RMS size
    "iters": 500,
    "kernel_deg": 15.0,  # yaw kernel of the noise and score models
    "trim": 0.98,  # share of photos kept for the noise covariance
}
#: source name of the dev file → generator profile it fits
SOURCE_PROFILE = {"blazeface": "blazeface", "blazepose": "blazepose", "movenet": "coco"}


def hat_weights(yaw: NDArray[np.floating], knots: NDArray[np.floating] = KNOTS) -> FloatArray:
    """Linear interpolation weights ``(n, len(knots))`` of yaw (clipped to the knot range)."""
    y = np.clip(np.asarray(yaw, np.float64), knots[0], knots[-1])
    step = knots[1] - knots[0]
    result: FloatArray = np.clip(1.0 - np.abs(y[:, None] - knots[None]) / step, 0.0, 1.0)
    return result


def mirror_rows(
    xy: FloatArray, angles: FloatArray, weight: FloatArray, width: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Append the mirrored copy of every row (x flipped in its image, sides swapped)."""
    m = xy[:, FLIP_PERMUTATION].copy()
    m[..., 0] = (np.asarray(width, np.float64)[:, None] - 1) - m[..., 0]
    a = angles.copy()
    a[:, 0] *= -1
    a[:, 2] *= -1
    return (
        np.concatenate([xy, m]),
        np.concatenate([angles, a]),
        np.concatenate([weight, weight[:, FLIP_PERMUTATION]]),
    )


@dataclass
class ShapeFit:
    """Fitted detector head shape: ``shape`` (knots, 5, 3) mm and ``pitch_slope`` (knots, 5, 3)."""

    shape: NDArray[np.float64]
    pitch_slope: NDArray[np.float64]

    def at(self, yaw: FloatArray, pitch: FloatArray) -> NDArray[np.float64]:
        """Head-frame points ``(n, 5, 3)`` mm at the given poses (degrees)."""
        h = hat_weights(yaw)
        base = np.einsum("nj,jkd->nkd", h, self.shape)
        slope = np.einsum("nj,jkd->nkd", h, self.pitch_slope)
        result: NDArray[np.float64] = (
            base + (np.asarray(pitch, np.float64) / 90.0)[:, None, None] * slope
        )
        return result


def _similarity_residual(q: Tensor, u: Tensor, w: Tensor) -> tuple[Tensor, Tensor]:
    """Residual of the best scale + translation of projections ``q`` onto points ``u`` (torch)."""
    wk = w[..., None]
    ws = wk.sum(1, keepdim=True).clamp(min=1e-9)
    qc = q - (q * wk).sum(1, keepdim=True) / ws
    uc = u - (u * wk).sum(1, keepdim=True) / ws
    s = (qc * uc * wk).sum((1, 2)) / (qc * qc * wk).sum((1, 2)).clamp(min=1e-9)
    return s[:, None, None] * qc - uc, s


def fit_shape(
    xy: FloatArray,
    angles: FloatArray,
    weight: FloatArray,
    init: FloatArray,
    options: Mapping[str, float] | None = None,
) -> ShapeFit:
    """Fit the pose-dependent detector shape (module docstring) to pixel points ``(n, 5, 2)``."""
    import torch

    opt_ = {**FIT_OPTIONS, **(options or {})}
    dt = torch.float64
    u = torch.tensor(xy, dtype=dt)
    w = torch.tensor(weight, dtype=dt)
    h = torch.tensor(hat_weights(angles[:, 0]), dtype=dt)
    p = torch.tensor(angles[:, 1] / 90.0, dtype=dt)
    rot = torch.tensor(angles_to_matrix(angles[:, 0], angles[:, 1], angles[:, 2]), dtype=dt)
    wk = w[..., None]
    centre = (u * wk).sum(1, keepdim=True) / wk.sum(1, keepdim=True).clamp(min=1e-9)
    size = torch.sqrt(((u - centre) ** 2 * wk).sum((1, 2)) / w.sum(1).clamp(min=1e-9))
    nk = len(KNOTS)
    rigid = torch.tensor(init, dtype=dt, requires_grad=True)
    deform = torch.zeros((nk, 5, 3), dtype=dt, requires_grad=True)
    slope = torch.zeros((nk, 5, 3), dtype=dt, requires_grad=True)
    optim = torch.optim.Adam([rigid, deform, slope], lr=1.0)
    iters = int(opt_["iters"])
    delta = float(opt_["huber"])
    mid = nk // 2
    for it in range(iters):
        if it == iters // 2:
            for g in optim.param_groups:
                g["lr"] = 0.2
        optim.zero_grad()
        shape = rigid[None] + deform
        pts = torch.einsum("nj,jkd->nkd", h, shape) + p[:, None, None] * torch.einsum(
            "nj,jkd->nkd", h, slope
        )
        q = torch.einsum("nij,nkj->nki", rot, pts)[..., :2]
        res, _ = _similarity_residual(q, u, w)
        r = torch.linalg.norm(res, dim=-1) / size[:, None]
        loss_pt = torch.where(r < delta, 0.5 * r**2, delta * (r - 0.5 * delta))
        data = (loss_pt * w).sum() / w.sum()
        d2 = shape[2:] - 2 * shape[1:-1] + shape[:-2]
        d2p = slope[2:] - 2 * slope[1:-1] + slope[:-2]
        breadth = torch.linalg.norm(shape[mid, 3] - shape[mid, 4])
        ear_mid = (shape[:, 3] + shape[:, 4]) / 2
        reg = (
            1e-7 * opt_["lam_deform"] * (deform**2).sum()
            + 1e-7 * opt_["lam_smooth"] * ((d2**2).sum() + (d2p**2).sum())
            + 1e-8 * opt_["lam_pitch"] * (slope**2).sum()
            + 1e-6 * (breadth - BREADTH_MM) ** 2
            + 1e-8 * (ear_mid**2).sum()
        )
        (data + reg).backward()
        optim.step()
    shape_np: NDArray[np.float64] = (rigid[None] + deform).detach().numpy()
    slope_np: NDArray[np.float64] = slope.detach().numpy()
    # exact gauge: breadth 143 mm at yaw 0, ear mid-point of the rigid part at the origin
    scale = BREADTH_MM / float(np.linalg.norm(shape_np[mid, 3] - shape_np[mid, 4]))
    origin = (shape_np[mid, 3] + shape_np[mid, 4]) / 2
    return ShapeFit((shape_np - origin) * scale, slope_np * scale)


def shape_residuals(
    fit: ShapeFit, xy: FloatArray, angles: FloatArray, weight: FloatArray
) -> tuple[FloatArray, NDArray[np.float64]]:
    """Residuals ``(n, 5, 2)`` in head millimetres, rotated into the face's roll-aligned frame,
    and the fitted image scale ``(n,)`` in pixels per head millimetre."""
    import torch

    pts = fit.at(angles[:, 0], angles[:, 1])
    rot = angles_to_matrix(angles[:, 0], angles[:, 1], angles[:, 2])
    q = np.einsum("nij,nkj->nki", rot, pts)[..., :2]
    res_t, s_t = _similarity_residual(
        torch.tensor(q), torch.tensor(xy, dtype=torch.float64), torch.tensor(weight)
    )
    res = -(res_t / s_t[:, None, None]).numpy()  # observed − model, in head mm
    res = res * (weight > 0)[..., None]
    return _rotate(res, -np.asarray(angles[:, 2], np.float64)), s_t.numpy()


def _rotate(v: FloatArray, roll_deg: FloatArray) -> FloatArray:
    """Rotate 2-D vectors ``(n, k, 2)`` (image frame, y down) clockwise by ``roll_deg``."""
    a = np.deg2rad(roll_deg)[:, None]
    c, s = np.cos(a), np.sin(a)
    x, y = v[..., 0], v[..., 1]
    return np.stack([c * x - s * y, s * x + c * y], -1)


def _kernel(yaw: FloatArray, width: float) -> NDArray[np.float64]:
    result: NDArray[np.float64] = np.exp(
        -0.5 * ((np.asarray(yaw)[:, None] - KNOTS[None]) / width) ** 2
    )
    return result


def fit_noise(
    res: FloatArray,
    weight: FloatArray,
    yaw: FloatArray,
    options: Mapping[str, float] | None = None,
) -> NoiseFit:
    """Per-knot residual covariance square roots ``(knots, 10, 10)`` (head mm) + quality spread."""
    opt_ = {**FIT_OPTIONS, **(options or {})}
    n = len(res)
    present = np.repeat(weight > 0, 2, axis=1)
    flat = np.where(present, res.reshape(n, 10), 0.0)
    norm = np.sqrt((flat**2).sum(1) / np.maximum(present.sum(1), 1))
    keep = norm <= np.quantile(norm, opt_["trim"])
    kern = _kernel(yaw, opt_["kernel_deg"]) * keep[:, None]
    roots = []
    for j in range(len(KNOTS)):
        w = kern[:, j]
        num = (flat * w[:, None]).T @ flat
        den = (present * w[:, None]).T.astype(np.float64) @ present.astype(np.float64)
        cov = num / np.maximum(den, 1e-9)
        cov = 0.5 * (cov + cov.T)
        val, vec = np.linalg.eigh(cov)
        roots.append((vec * np.sqrt(np.clip(val, 0, None))) @ vec.T)
    root = np.asarray(roots)
    # quality spread: var(log z) of the real residual size beyond what the Gaussian gives
    h = hat_weights(yaw)
    var_pred = np.einsum("nj,jab,jcb->nac", h, root, root)
    exp_sq = np.einsum("naa->n", var_pred * present[:, :, None] * present[:, None, :])
    z = (flat**2).sum(1) / np.maximum(exp_sq, 1e-9)
    rng = np.random.default_rng(0)
    sims = np.einsum("nab,nb->na", np.einsum("nj,jab->nab", h, root), rng.normal(size=(n, 10)))
    z_sim = ((sims * present) ** 2).sum(1) / np.maximum(exp_sq, 1e-9)
    ok = keep & (z > 0) & (z_sim > 0)
    extra = np.var(np.log(z[ok])) - np.var(np.log(z_sim[ok]))
    spread = float(np.sqrt(max(extra, 0.0) / 4.0))
    return {
        "root": root.round(4).tolist(),
        "quality_spread": round(spread, 4),
        "outlier_share": round(float(1 - keep.mean()), 4),
    }


def _weighted_quantiles(v: FloatArray, w: FloatArray, levels: FloatArray) -> FloatArray:
    order = np.argsort(v)
    cw = np.cumsum(w[order])
    cw = (cw - 0.5 * w[order]) / max(cw[-1], 1e-12)
    result: FloatArray = np.interp(levels, cw, v[order])
    return result


def fit_scores(
    scores: FloatArray, yaw: FloatArray, options: Mapping[str, float] | None = None
) -> ScoreFit:
    """Score quantile tables ``(knots, k, levels)`` and their Gaussian-copula correlation."""
    from scipy.stats import norm, rankdata

    opt_ = {**FIT_OPTIONS, **(options or {})}
    s = np.asarray(scores, np.float64).reshape(len(yaw), -1)
    kern = _kernel(yaw, opt_["kernel_deg"])
    table = np.array(
        [
            [_weighted_quantiles(s[:, k], kern[:, j], SCORE_LEVELS) for k in range(s.shape[1])]
            for j in range(len(KNOTS))
        ]
    )
    rho = 0.0
    if s.shape[1] > 1:
        gz = norm.ppf((rankdata(s, axis=0) - 0.5) / len(s))
        c = np.corrcoef(gz.T)
        rho = float(np.clip(c[np.triu_indices(s.shape[1], 1)].mean(), 0.0, 0.95))
    return {"levels": SCORE_LEVELS.round(4).tolist(), "table": table.round(4).tolist(), "rho": rho}


#: where the fit starts (mm): a rough anatomical head, nose, eyes, ears
_INIT = np.array(
    [[0.0, 23.0, 98.0], [31.5, -12.0, 80.0], [-31.5, -12.0, 80.0], [71.5, 0, 0], [-71.5, 0, 0]]
)


def _source_rows(kset: KeypointSet) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Points, angles, weights and image widths of the rows where the detector found a face."""
    found = kset.found
    kp = kset.keypoints[found].astype(np.float64)
    ang = kset.angles[found].astype(np.float64)
    width = kset.image_size[found, 0].astype(np.float64)
    return kp, ang, _weights(kp, kset.profile), width


def _weights(kp: FloatArray, profile: str) -> NDArray[np.float64]:
    if profile == "coco":  # low-score heat-map points are unreliable: weight by score
        return np.clip((kp[..., 2] - 0.05) / 0.25, 0.0, 1.0)
    return (kp[..., 2] > 0).astype(np.float64)


def _knot_rms(
    res: FloatArray, weight: FloatArray, yaw: FloatArray, width: float, trim: float = 0.95
) -> FloatArray:
    """Kernel-weighted RMS residual per yaw knot (head mm), without the largest ``1 − trim``."""
    sq = ((res**2).sum(-1) * (weight > 0)).sum(1)
    cnt = (weight > 0).sum(1)
    per = sq / np.maximum(cnt, 1)
    keep = per <= np.quantile(per, trim)
    sq, cnt = sq * keep, cnt * keep
    k = _kernel(yaw, width)
    result: FloatArray = np.sqrt(
        (k * sq[:, None]).sum(0) / np.maximum((k * cnt[:, None]).sum(0), 1e-9)
    )
    return result


def _direct_fit(
    kp: FloatArray,
    ang: FloatArray,
    weight: FloatArray,
    width: FloatArray,
    profile: str,
    options: Mapping[str, float] | None,
) -> tuple[ProfileFit, dict[str, FloatArray]]:
    xy, angm, wm = mirror_rows(kp[..., :2], ang, weight, width)
    shape = fit_shape(xy, angm, wm, _INIT, options)
    res, scale = shape_residuals(shape, xy, angm, wm)
    out: ProfileFit = {
        "rows": len(kp),
        "shape": shape.shape.tolist(),
        "pitch_slope": shape.pitch_slope.tolist(),
        "noise": fit_noise(res, wm, angm[:, 0], options),
    }
    if profile == "blazeface":
        sc = np.concatenate([kp[:, 0, 2], kp[:, 0, 2]])[:, None]  # placeholder, set by caller
    else:
        sc = np.concatenate([kp[..., 2], kp[:, FLIP_PERMUTATION, 2]])
    out["scores"] = fit_scores(sc, angm[:, 0], options)
    stats = {
        "shape": shape.shape,
        "slope": shape.pitch_slope,
        "rms": _knot_rms(res, wm, angm[:, 0], FIT_OPTIONS["kernel_deg"]),
        "head_px": scale[: len(kp)] * BREADTH_MM,
    }
    return out, stats


def _simulate(
    profile: str,
    ang: FloatArray,
    head_px: FloatArray,
    fit: GeneratorFit,
    copies: int,
    seed: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The generator's keypoints at these labels and head sizes (no outliers, no mirroring)."""
    import tempfile

    from hhpnet.training import synth

    with tempfile.TemporaryDirectory() as tmp:
        path = write_fit(fit, Path(tmp) / "fit.json")
        w = [0.0, 0.0, 0.0]
        w[synth.DETECTOR_PROFILES.index(profile)] = 1.0
        cfg = synth.SynthConfig(
            detector_weights=(w[0], w[1], w[2]),
            mirror_share=0.0,
            outlier=0.0,
            dropout=0.0,
            ear_swap=0.0,
            score_gamma=(1.0, 1.0),
            generic_score_share=0.0,
            coco_thresholds=(0.0,),
            fit=str(path),
        )
        a = np.tile(ang, (copies, 1))
        b = synth.generate(len(a), seed, cfg, angles=a, head_px=np.tile(head_px, copies))
        synth.load_fit.cache_clear()
    kp = b.keypoints.astype(np.float64)
    return kp, b.angles.astype(np.float64), b.image_size[:, 0].astype(np.float64)


def _fit_source(
    kset: KeypointSet,
    options: Mapping[str, float] | None,
    refine: int,
    copies: int,
    pose: PosePrior,
) -> ProfileFit:
    """Direct fit, then ``refine`` rounds of indirect inference (module docstring)."""
    kp, ang, weight, width = _source_rows(kset)
    profile = kset.profile
    out, real = _direct_fit(kp, ang, weight, width, profile, options)
    if profile == "blazeface":  # the face score is the only score of BlazeFace
        sc = kset.score[kset.found].astype(np.float64)
        out["scores"] = fit_scores(np.concatenate([sc, sc])[:, None], np.r_[ang[:, 0], -ang[:, 0]])
    out["refined"] = 0
    for it in range(refine):
        fit = _single_profile_fit(profile, out, pose)
        skp, sang, swidth = _simulate(profile, ang, real["head_px"], fit, copies, 1000 + it)
        _, sim = _direct_fit(skp, sang, _weights(skp, profile), swidth, profile, options)
        shape = np.asarray(out["shape"]) + (real["shape"] - sim["shape"])
        slope = np.asarray(out["pitch_slope"]) + (real["slope"] - sim["slope"])
        gain = real["rms"] / np.maximum(sim["rms"], 1e-9)
        root = np.asarray(out["noise"]["root"]) * gain[:, None, None]
        out["shape"], out["pitch_slope"] = shape.tolist(), slope.tolist()
        out["noise"]["root"] = root.tolist()
        out["refined"] = it + 1
        out.setdefault("refine_log", []).append(
            {
                "shape_change_mm": round(float(np.abs(real["shape"] - sim["shape"]).max()), 2),
                "noise_gain": [round(float(g), 3) for g in gain],
            }
        )
    return symmetrize(out)


def _single_profile_fit(profile: str, params: ProfileFit, pose: PosePrior) -> GeneratorFit:
    """A complete fit file where every profile uses ``params`` (for simulating one profile)."""
    from hhpnet.training import synth

    return {
        "format": "hhpnet-generator-fit-1",
        "knots_yaw": KNOTS.tolist(),
        "breadth_mm": BREADTH_MM,
        "pose": pose,
        "profiles": {name: params for name in synth.DETECTOR_PROFILES},
    }


#: |yaw| bins of the pose-prior fit (degrees)
RIDGE_BINS = ((0.0, 30.0), (30.0, 60.0), (60.0, 75.0), (75.0, 100.0))


def fit_pose_prior(angles: FloatArray, seed: int = 0) -> PosePrior:
    """Pitch mean of the labels and the extra label spread along the gimbal ridge by |yaw|.

    Near |yaw| = 90° the labels' pitch and roll trade off: ``(pitch + t, roll + sgn(yaw) t)`` is
    nearly the same rotation. ``ridge_sd`` is the spread of ``(pitch + sgn(yaw) roll) / 2`` in
    the labels beyond what the generator's base prior already has, per |yaw| bin.
    """
    from hhpnet.training import synth

    a = np.asarray(angles, np.float64)
    base_fit: PosePrior = {"pitch_mean": 0.0, "ridge_abs_yaw": [0.0, 90.0], "ridge_sd": [0.0, 0.0]}
    rng = np.random.default_rng(seed)
    prof = np.zeros(200_000, np.int8)
    base = synth._sample_angles(rng, prof, synth.SynthConfig(pitch_mean=0.0), base_fit)

    def ridge(x: FloatArray) -> tuple[FloatArray, FloatArray]:
        ay = np.abs(x[:, 0])
        u = (x[:, 1] + np.sign(x[:, 0]) * x[:, 2]) / 2
        return ay, u

    ay, u = ridge(a)
    bay, bu = ridge(base)
    centres, extra = [0.0], [0.0]
    for lo, hi in RIDGE_BINS:
        m, bm = (ay >= lo) & (ay < hi), (bay >= lo) & (bay < hi)
        if m.sum() < 10:
            continue
        centres.append(float(ay[m].mean()))
        extra.append(float(np.sqrt(max(float(np.var(u[m]) - np.var(bu[bm])), 0.0))))
    centres.append(90.0)
    extra.append(extra[-1])
    return {
        "pitch_mean": round(float(np.mean(a[:, 1])), 3),
        "ridge_abs_yaw": [round(c, 2) for c in centres],
        "ridge_sd": [round(e, 2) for e in extra],
    }


def fit_generator(
    csv_path: str | Path,
    rows: NDArray[np.bool_] | None = None,
    options: Mapping[str, float] | None = None,
    note: str = "",
    refine: int = 2,
    copies: int = 2,
) -> GeneratorFit:
    """Fit every profile on the rows of the dev file selected by ``rows`` (default: all)."""
    from hhpnet.training.datasets import load_keypoints_csv

    path = Path(csv_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    profiles: dict[str, ProfileFit] = {}
    n_rows = 0
    labels = load_keypoints_csv(path, "blazeface").angles
    pose = fit_pose_prior(labels if rows is None else labels[np.asarray(rows, bool)])
    for source, profile in SOURCE_PROFILE.items():
        kset = load_keypoints_csv(path, source)
        n_rows = len(kset)
        if rows is not None:
            kset = kset.subset(np.asarray(rows, bool))
        profiles[profile] = _fit_source(kset, options, refine, copies, pose)
    return {
        "format": "hhpnet-generator-fit-1",
        "knots_yaw": KNOTS.tolist(),
        "breadth_mm": BREADTH_MM,
        "options": {**FIT_OPTIONS, **(options or {}), "refine": refine, "copies": copies},
        "fitted_on": {
            "file": path.name,
            "sha256": digest,
            "rows_total": n_rows,
            "rows_used": int(n_rows if rows is None else np.asarray(rows, bool).sum()),
            "note": note,
            "date": _dt.date.today().isoformat(),
        },
        "pose": pose,
        "profiles": profiles,
    }


def symmetrize(profile_fit: ProfileFit) -> ProfileFit:
    """Make one profile's fitted models exactly left/right symmetric (the fit is only nearly so).

    Knot j (yaw y) and knot −j (yaw −y) are averaged after mirroring: shapes with x negated and
    sides swapped, noise covariances with the same flip of the residual coordinates, score
    tables with the sides swapped.
    """
    out = profile_fit.copy()
    perm = FLIP_PERMUTATION
    flip = np.array([-1.0, 1.0, 1.0])
    for key in ("shape", "pitch_slope"):
        a = np.asarray(out[key], np.float64)
        out[key] = (0.5 * (a + a[::-1][:, perm] * flip)).round(3).tolist()
    root = np.asarray(out["noise"]["root"], np.float64)
    p2 = np.zeros((10, 10))
    for k in range(5):
        p2[2 * k, 2 * perm[k]] = -1.0
        p2[2 * k + 1, 2 * perm[k] + 1] = 1.0
    cov = np.einsum("jab,jcb->jac", root, root)
    cov = 0.5 * (cov + np.einsum("ab,jbc,dc->jad", p2, cov[::-1], p2))
    roots = []
    for c in cov:
        val, vec = np.linalg.eigh(0.5 * (c + c.T))
        roots.append((vec * np.sqrt(np.clip(val, 0, None))) @ vec.T)
    out["noise"] = {**out["noise"], "root": np.round(np.asarray(roots), 4).tolist()}
    table = np.asarray(out["scores"]["table"], np.float64)
    if table.shape[1] == 5:
        table = 0.5 * (table + table[::-1][:, perm])
    else:
        table = 0.5 * (table + table[::-1])
    out["scores"] = {**out["scores"], "table": table.round(4).tolist()}
    return out


def write_fit(fit: GeneratorFit, path: str | Path) -> Path:
    """Write a fit as compact JSON."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(fit, separators=(",", ":")) + "\n")
    return p
