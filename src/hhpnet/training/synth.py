"""Synthetic head-keypoint generator: the training and test data of hhpnet.

Every sample is a person's five head keypoints as a detector would report them in a photo, with
the true head pose. Deterministic from a seed, vectorised (about a million samples in seconds).

Pipeline per sample (details and sources of the numbers in ``docs/synthetic-data.md``):

1. **Head** — 3-D points in millimetres in the head frame of :mod:`hhpnet.convention` (x to the
   subject's left ear, y down, z out of the face), origin at the mid-point of the two tragions.
   Anthropometric variation: inter-pupillary distance, bitragion breadth, eye depth in front of
   the tragion, eye height above it, nose drop and protrusion, drawn per person, and a global
   scale. Each detector marks different anatomy: BlazeFace gives the ear **tragion**, COCO-style
   heat-map detectors and BlazePose the middle of the **auricle** (behind and above it); the
   "nose" of a detector sits a few millimetres above/behind the anatomical tip.
2. **Pose** — the label (yaw, pitch, roll) in degrees is the head's rotation relative to the
   viewing ray through the head (what a weak-perspective 3-D model fit such as 300W-LP/AFLW2000
   reports): the head is rotated by the label, then the whole head by the rotation that takes the
   optical axis onto the ray. Distribution: a mixture of frontal-heavy normal, uniform over
   ±100° and (for detectors that see backs of heads) uniform over ±180° yaw; pitch and roll
   normal with uniform tails (:class:`SynthConfig`).
3. **Camera** — pinhole, horizontal field of view 35–100°, image 4:3 or 16:9 from 320 to 1920
   px wide, head breadth 15 px to about full frame (log-uniform), head centre anywhere in the
   frame (wide-angle off-centre views are distorted as in real photos); the camera is never
   closer than 350 mm to the ear midpoint (large heads get a longer focal length instead).
4. **Detector** — per profile (:data:`DETECTOR_PROFILES`): localisation noise proportional to
   head size (ears noisier), self-occlusion from each point's surface normal, its effect on
   confidence and on missing points, BlazeFace's far-side eye and ear pulled into the face,
   random drop-outs, confident outliers and left/right swaps on profiles. BlazeFace
   confidences come from :func:`hhpnet.keypoints.blazeface_confidence`, exactly as at inference.
5. **Mirroring** — half of the samples are mirrored (keypoints flipped, left/right swapped,
   yaw and roll negated), which makes the set exactly left/right balanced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from hhpnet._types import BoolArray, FloatArray, IntArray
from hhpnet.convention import S_FLIP, angles_to_matrix
from hhpnet.headmodel import (
    BREADTH_MM,
    DETECTOR_PROFILES,
    FIT_FILE,
    MEAN_HEAD_MM,
    PosePrior,
    detector_shape,
    load_fit,
    profile_arrays,
    smoothstep,
    yaw_hat,
)
from hhpnet.keypoints import FLIP_PERMUTATION, blazeface_confidence

__all__ = [
    "DETECTOR_PROFILES",
    "FIT_FILE",
    "GENERATOR_VERSION",
    "MEAN_HEAD_MM",
    "SynthBatch",
    "SynthConfig",
    "detector_shape",
    "generate",
    "load_fit",
    "mirror",
    "project_head",
]

GENERATOR_VERSION = "synth-2.0"
_BF, _BP, _COCO = 0, 1, 2
# Outward surface normals (head frame) used for self-occlusion beyond the fitted range (back
# views): the facing side of each point.
_NORMALS = np.array(
    [[0.0, 0.15, 1.0], [0.35, -0.05, 1.0], [-0.35, -0.05, 1.0], [1.0, 0.0, 0.3], [-1.0, 0.0, 0.3]]
)
_NORMALS /= np.linalg.norm(_NORMALS, axis=1, keepdims=True)
_VIS_LO = np.array([-0.3, 0.0, 0.0, -0.45, -0.45])
_VIS_HI = np.array([0.1, 0.45, 0.45, 0.1, 0.1])


@dataclass(frozen=True)
class SynthConfig:
    """Distribution parameters of :func:`generate` (angles in degrees, sizes in pixels)."""

    #: mixture weights of the detector profiles (blazeface, blazepose, coco)
    detector_weights: tuple[float, float, float] = (0.5, 0.2, 0.3)
    #: yaw mixture: share of N(0, yaw_sd) / uniform ±yaw_wide / uniform ±180 (the last only for
    #: profiles that see backs of heads; BlazeFace samples stay within ±blazeface_max_yaw)
    yaw_mix: tuple[float, float, float] = (0.35, 0.5, 0.15)
    yaw_sd: float = 35.0
    yaw_wide: float = 100.0
    blazeface_max_yaw: float = 100.0
    #: pitch prior: mean (None: the fitted label mean; the labels' pitch 0 is their model's
    #: frontal direction, people in photos look down a little on average) and spread
    pitch_mean: float | None = None
    pitch_sd: float = 16.0
    pitch_uniform_share: float = 0.2
    pitch_max: float = 80.0
    roll_sd: float = 12.0
    roll_uniform_share: float = 0.2
    roll_max: float = 60.0
    #: multiplier of the fitted spread of labels along the gimbal ridge near |yaw| = 90°
    ridge_scale: float = 1.0
    #: camera distance from the ear midpoint, log-uniform between these (mm): independent of
    #: the head's size in the image (a large face is a close shot, a zoom or a crop)
    distance_mm: tuple[float, float] = (400.0, 6000.0)
    #: widest horizontal field of view (degrees): a closer head gets a longer focal length
    max_fov_deg: float = 110.0
    #: head breadth in the image, log-uniform between these (px); capped at 0.95 × image height
    head_px: tuple[float, float] = (15.0, 700.0)
    #: multiplier of the fitted residual noise (detector scatter, shape variation, label noise)
    noise_scale: float = 1.0
    #: log-normal spread of the per-sample noise level; None: the fitted value
    noise_spread: float | None = None
    #: pixel noise floor (sd, px)
    noise_px: float = 0.6
    #: extra noise on small heads (the fit saw close-ups only): sd = small_head_noise × head
    #: breadth, fading out linearly from 15 px to small_head_px
    small_head_noise: float = 0.03
    small_head_px: float = 80.0
    #: noise multiplier for points hidden in back views (beyond the fitted yaw range)
    back_noise: float = 1.5
    #: COCO-style scores are raised to a power log-uniform in this range (detectors differ in
    #: how confident they are; the fitted MoveNet scores on close-ups are low)
    score_gamma: tuple[float, float] = (0.5, 2.0)
    #: share of COCO-style samples with generic instead of MoveNet's fitted scores (half
    #: following visibility, half flat): keypoints from other COCO detectors (ultralytics,
    #: MMPose, OpenPose) score hidden points differently, and the pose must not hinge on it
    generic_score_share: float = 0.3
    #: COCO-style keypoint thresholds (points below are missing), one drawn per sample
    coco_thresholds: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.3)
    #: fitted detector models to use (a JSON of hhpnet fit-generator); "" = the packaged one
    fit: str = ""
    #: probability that a point is dropped (set missing) for detectors that can miss points
    dropout: float = 0.03
    #: probability that one point of a sample is a confident outlier
    outlier: float = 0.01
    #: probability of swapped ears (left/right confusion) for |yaw| > 60 (COCO-style)
    ear_swap: float = 0.03
    #: share of samples mirrored
    mirror_share: float = 0.5

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SynthConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown SynthConfig keys: {sorted(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**cast(Any, values))


@dataclass
class SynthBatch:
    """A batch of synthetic people (see module docstring)."""

    keypoints: NDArray[np.float32]  # (n, 5, 3) x, y pixels + confidence; missing = (0, 0, 0)
    angles: NDArray[np.float32]  # (n, 3) yaw, pitch, roll degrees
    image_size: NDArray[np.int32]  # (n, 2) width, height
    detector: NDArray[np.int8]  # (n,) index into DETECTOR_PROFILES
    head_px: NDArray[np.float32]  # (n,) apparent head breadth (px)

    def __len__(self) -> int:
        return len(self.angles)

    def __getitem__(self, idx: int | slice | BoolArray | IntArray) -> SynthBatch:
        return SynthBatch(*(np.asarray(getattr(self, f.name))[idx] for f in fields(self)))


def _rot_to_ray(ray: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rotations (n, 3, 3) taking the optical axis (0, 0, 1) onto unit rays (OpenCV frame)."""
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(z, ray)
    s = np.linalg.norm(axis, axis=1)
    c = ray[:, 2]
    k = axis / np.maximum(s, 1e-12)[:, None]
    kx = np.zeros((len(ray), 3, 3))
    kx[:, 0, 1], kx[:, 0, 2] = -k[:, 2], k[:, 1]
    kx[:, 1, 0], kx[:, 1, 2] = k[:, 2], -k[:, 0]
    kx[:, 2, 0], kx[:, 2, 1] = -k[:, 1], k[:, 0]
    eye = np.broadcast_to(np.eye(3), kx.shape)
    result: NDArray[np.float64] = eye + s[:, None, None] * kx + (1 - c)[:, None, None] * (kx @ kx)
    return result


def project_head(
    points_mm: NDArray[np.float64],
    angles: FloatArray,
    center_px: NDArray[np.float64],
    distance_mm: NDArray[np.float64],
    focal_px: NDArray[np.float64],
    principal_px: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Perspective projection (n, 5, 2) of head points posed by ``angles`` relative to the ray.

    ``center_px`` is where the head origin (mid-tragion) projects; ``distance_mm`` its depth.
    """
    r_app = S_FLIP @ angles_to_matrix(*angles.T) @ S_FLIP  # OpenCV frame, relative to the ray
    ray = np.concatenate(
        [(center_px - principal_px) / focal_px[:, None], np.ones((len(angles), 1))], 1
    )
    ray /= np.linalg.norm(ray, axis=1, keepdims=True)
    r_cam = _rot_to_ray(ray) @ r_app
    t = ray * (distance_mm / ray[:, 2])[:, None]
    pts = np.einsum("nij,nkj->nki", r_cam, points_mm @ S_FLIP) + t[:, None, :]
    result: NDArray[np.float64] = (
        pts[..., :2] / pts[..., 2:3] * focal_px[:, None, None] + principal_px[:, None, :]
    )
    return result


def ridge_sd(abs_yaw: FloatArray, pose: PosePrior) -> NDArray[np.float64]:
    """Extra spread (degrees) along the gimbal ridge at |yaw| (fitted; largest at 90°)."""
    a = 90.0 - np.abs(np.abs(np.asarray(abs_yaw, np.float64)) - 90.0)
    result: NDArray[np.float64] = np.interp(a, pose["ridge_abs_yaw"], pose["ridge_sd"], left=0.0)
    return result


def _sample_angles(
    rng: np.random.Generator, profile: NDArray[np.int8], cfg: SynthConfig, pose: PosePrior
) -> FloatArray:
    """Sample labels; ``pose`` = the fitted pose prior of the fit file (pitch mean, ridge)."""
    n = len(profile)
    comp = rng.choice(3, size=n, p=np.asarray(cfg.yaw_mix) / np.sum(cfg.yaw_mix))
    yaw = np.select(
        [comp == 0, comp == 1],
        [rng.normal(0, cfg.yaw_sd, n), rng.uniform(-cfg.yaw_wide, cfg.yaw_wide, n)],
        rng.uniform(-180, 180, n),
    )
    bf = profile == _BF
    lim = cfg.blazeface_max_yaw
    # BlazeFace never reports backs of heads: resample its out-of-range yaws uniformly within range
    yaw = np.where(bf & (np.abs(yaw) > lim), rng.uniform(-lim, lim, n), yaw)
    yaw = np.where(yaw > 180, yaw - 360, np.where(yaw <= -180, yaw + 360, yaw))

    def tail(sd: float, share: float, lim_: float) -> FloatArray:
        v = np.where(rng.random(n) < share, rng.uniform(-lim_, lim_, n), rng.normal(0, sd, n))
        return np.clip(v, -lim_, lim_)

    mean = float(pose["pitch_mean"]) if cfg.pitch_mean is None else cfg.pitch_mean
    pitch = np.clip(mean + tail(cfg.pitch_sd, cfg.pitch_uniform_share, cfg.pitch_max), -89, 89)
    roll = tail(cfg.roll_sd, cfg.roll_uniform_share, cfg.roll_max)
    # near |yaw| = 90° pitch and roll rotate about the same axis: (pitch + t, roll + sgn(yaw) t)
    # is nearly the same rotation, and labels of this convention spread along that ridge
    t = rng.normal(size=n) * ridge_sd(yaw, pose) * cfg.ridge_scale
    sgn = np.where(yaw >= 0, 1.0, -1.0)
    ok = (np.abs(pitch + t) <= 89) & (np.abs(roll + sgn * t) <= 95)
    t = np.where(ok, t, 0.0)
    return np.stack([yaw, pitch + t, roll + sgn * t], -1)


def mirror(batch: SynthBatch, mask: NDArray[np.bool_] | None = None) -> SynthBatch:
    """Mirror samples horizontally (all, or where ``mask``): flip x, swap sides, negate yaw/roll."""
    m = np.ones(len(batch), bool) if mask is None else np.asarray(mask, bool)
    kp = batch.keypoints.copy()
    ang = batch.angles.copy()
    sub = kp[m][:, FLIP_PERMUTATION]
    width = batch.image_size[m, 0].astype(np.float32)
    present = sub[..., 2] > 0
    sub[..., 0] = np.where(present, (width[:, None] - 1) - sub[..., 0], 0.0)
    kp[m] = sub
    ang[m, 0] = np.where(ang[m, 0] == 180, 180, -ang[m, 0])
    ang[m, 2] = -ang[m, 2]
    return SynthBatch(kp, ang, batch.image_size.copy(), batch.detector.copy(), batch.head_px.copy())


def _sample_scores(
    rng: np.random.Generator, h: FloatArray, arr: dict[str, FloatArray], n: int
) -> NDArray[np.float64]:
    """Scores ``(n, k)`` from the fitted quantile tables (Gaussian copula across points)."""
    from scipy.special import ndtr

    table = np.einsum("nj,jkl->nkl", h, arr["table"])  # (n, k, levels)
    k = table.shape[1]
    rho = float(arr["rho"])
    z = np.sqrt(rho) * rng.normal(size=(n, 1)) + np.sqrt(1 - rho) * rng.normal(size=(n, k))
    u = ndtr(z)
    levels = arr["levels"]
    # inverse CDF by linear interpolation between the stored quantiles (clamped at the ends)
    pos = np.clip(np.interp(u, levels, np.arange(len(levels))), 0, len(levels) - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(levels) - 1)
    f = pos - lo
    take = np.take_along_axis
    result: NDArray[np.float64] = (1 - f) * take(table, lo[..., None], -1)[..., 0] + f * take(
        table, hi[..., None], -1
    )[..., 0]
    return result


def _noise_mm(
    rng: np.random.Generator, h: FloatArray, root: FloatArray, roll: FloatArray
) -> NDArray[np.float64]:
    """Fitted residual noise ``(n, 5, 2)`` in head mm, rotated from the face frame by ``roll``."""
    n = len(h)
    z = rng.normal(size=(n, root.shape[-1]))
    # interpolating the square roots keeps a valid covariance between knots
    v = np.einsum("nj,jab,nb->na", h, root, z).reshape(n, 5, 2)
    a = np.deg2rad(roll)[:, None]
    c, s_ = np.cos(a), np.sin(a)
    return np.stack([c * v[..., 0] - s_ * v[..., 1], s_ * v[..., 0] + c * v[..., 1]], -1)


def generate(
    n: int,
    seed: int,
    config: SynthConfig | None = None,
    angles: FloatArray | None = None,
    head_px: FloatArray | None = None,
) -> SynthBatch:
    """Generate ``n`` synthetic people, deterministically from ``seed`` (see module docstring).

    ``angles`` (n, 3) degrees and ``head_px`` (n,) apparent head breadths: use these instead of
    sampling them (to simulate a labelled data set; mirroring then negates yaw and roll of the
    mirrored half as usual).

    The steps below draw from one random stream in a fixed order (the order fixes the data set
    of a seed): profile, pose, head scale, camera, noise, confidences, outliers, mirroring.
    """
    cfg = config or SynthConfig()
    fit = load_fit(cfg.fit)
    knots = np.asarray(fit["knots_yaw"], np.float64)
    rng = np.random.default_rng(seed)
    w = np.asarray(cfg.detector_weights, float)
    profile = rng.choice(3, size=n, p=w / w.sum()).astype(np.int8)
    angles = (
        _sample_angles(rng, profile, cfg, fit["pose"])
        if angles is None
        else np.asarray(angles, np.float64).reshape(n, 3).copy()
    )
    yaw = angles[:, 0]
    h = yaw_hat(yaw, knots)
    arrs = [profile_arrays(fit, name) for name in DETECTOR_PROFILES]
    head, scale = _detector_heads(rng, profile, angles, cfg)
    size, head_px, xy = _photograph(rng, cfg, head, angles, scale, head_px)

    # visibility from the surface normals: used beyond the fitted yaw range (back views)
    rot = angles_to_matrix(*angles.T)
    facing = np.einsum("nij,kj->nki", rot, _NORMALS)[..., 2]
    vis = smoothstep(facing, _VIS_LO, _VIS_HI)
    back = smoothstep(np.abs(yaw), knots[-1], knots[-1] + 30.0)  # 0 inside the fitted range

    xy = _add_noise(rng, cfg, xy, profile, arrs, h, angles[:, 2], head_px, back, vis)
    # scores beyond the fitted yaw range (back views): the frontal tables, hidden points lowered
    mid = len(knots) // 2
    h = (1 - back[:, None]) * h + back[:, None] * (np.arange(len(knots)) == mid)
    conf, score = _confidences(rng, cfg, profile, arrs, h, back, vis)
    _outliers_and_ear_swaps(rng, cfg, xy, conf, head_px, yaw, profile == _COCO)

    # BlazeFace confidences from the final (noisy, possibly outlying) points, as at inference
    # (computed on the float32 coordinates that are returned, so inference reproduces them exactly)
    bf = profile == _BF
    xy = xy.astype(np.float32)
    if bf.any():
        conf[bf] = blazeface_confidence(xy[bf], score[bf])
    kp = np.concatenate([xy, conf[..., None]], -1).astype(np.float32)
    kp[conf <= 0] = 0.0
    batch = SynthBatch(
        kp,
        angles.astype(np.float32),
        size.astype(np.int32),
        profile,
        head_px.astype(np.float32),
    )
    batch = mirror(batch, rng.random(n) < cfg.mirror_share)
    if bf.any():  # again on the mirrored float32 coordinates, bit-exact with inference
        batch.keypoints[bf, :, 2] = blazeface_confidence(batch.keypoints[bf, :, :2], score[bf])
    return batch


def _detector_heads(
    rng: np.random.Generator, profile: NDArray[np.int8], angles: FloatArray, cfg: SynthConfig
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The detector's points ``(n, 5, 3)`` mm on a head of each pose (fitted shapes), scaled by
    a per-sample head scale (returned too)."""
    n = len(profile)
    yaw, pitch = angles[:, 0], angles[:, 1]
    head = np.zeros((n, 5, 3))
    for i, name in enumerate(DETECTOR_PROFILES):
        m = profile == i
        if m.any():
            head[m] = detector_shape(name, yaw[m], pitch[m], cfg.fit)
    scale = np.clip(rng.normal(1.0, 0.05, n), 0.85, 1.15)
    head *= scale[:, None, None]
    return head, scale


def _photograph(
    rng: np.random.Generator,
    cfg: SynthConfig,
    head: NDArray[np.float64],
    angles: FloatArray,
    scale: NDArray[np.float64],
    head_px: FloatArray | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Image sizes ``(n, 2)``, apparent head breadths ``(n,)`` px (drawn unless given) and the
    points ``(n, 5, 2)`` px: a camera at a random distance and placement in the image."""
    n = len(head)
    width = rng.choice(np.array([320, 480, 640, 960, 1280, 1920]), size=n).astype(float)
    height = np.round(width * np.where(rng.random(n) < 0.5, 0.75, 0.5625))
    lo, hi = np.log(cfg.head_px[0]), np.log(cfg.head_px[1])
    if head_px is None:
        px = np.exp(rng.uniform(lo, hi, n))
    else:
        px = np.asarray(head_px, np.float64).reshape(n).copy()
    px = np.minimum(px, 0.95 * height)
    breadth = BREADTH_MM * scale
    dist = np.exp(rng.uniform(np.log(cfg.distance_mm[0]), np.log(cfg.distance_mm[1]), n))
    focal = px * dist / breadth
    # a field of view wider than max_fov_deg: the camera moves back (longer focal length)
    min_focal = width / (2 * np.tan(np.deg2rad(cfg.max_fov_deg) / 2))
    wide = focal < min_focal
    focal = np.where(wide, min_focal, focal)
    dist = focal * breadth / px
    margin = np.minimum(px / 2, 0.45 * width)[:, None]
    size = np.stack([width, height], -1)
    center = rng.uniform(0, 1, (n, 2)) * np.maximum(size - 2 * margin, 1) + margin
    principal = size / 2
    return size, px, project_head(head, angles, center, dist, focal, principal)


def _add_noise(
    rng: np.random.Generator,
    cfg: SynthConfig,
    xy: NDArray[np.float64],
    profile: NDArray[np.int8],
    arrs: list[dict[str, FloatArray]],
    h: NDArray[np.float64],
    roll: FloatArray,
    head_px: NDArray[np.float64],
    back: FloatArray,
    vis: FloatArray,
) -> NDArray[np.float64]:
    """``xy`` plus noise: the fitted residual model (head mm → px) at a per-sample level, small-
    head and pixel floors; hidden points (visibility ``vis``) of back views (weight ``back``)
    noisier."""
    n = len(xy)
    px_per_mm = head_px / BREADTH_MM
    spread = np.array(
        [a["spread"] if cfg.noise_spread is None else cfg.noise_spread for a in arrs]
    )[profile]
    level = np.exp(rng.normal(0, 1, n) * spread - spread**2) * cfg.noise_scale
    noise = np.zeros((n, 5, 2))
    for i in range(3):
        m = profile == i
        if m.any():
            noise[m] = _noise_mm(rng, h[m], arrs[i]["root"], roll[m])
    hidden = 1 + (cfg.back_noise - 1) * back[:, None] * (1 - vis)
    xy = xy + noise * (level * px_per_mm)[:, None, None] * hidden[..., None]
    small = (
        cfg.small_head_noise
        * head_px
        * np.clip((cfg.small_head_px - head_px) / (cfg.small_head_px - 15.0), 0, 1)
    )
    return xy + rng.normal(size=xy.shape) * (small[:, None, None] + cfg.noise_px)


def _confidences(
    rng: np.random.Generator,
    cfg: SynthConfig,
    profile: NDArray[np.int8],
    arrs: list[dict[str, FloatArray]],
    h: FloatArray,
    back: FloatArray,
    vis: FloatArray,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-point confidences ``(n, 5)`` (0 = missing) of the BlazePose and COCO-style samples
    and the face score ``(n,)`` of the BlazeFace samples (its per-point confidences are
    derived from the final points)."""
    n = len(profile)
    conf = np.zeros((n, 5))
    score = np.ones(n)
    # --- BlazeFace: all points, one face score; per-point confidences derived below
    bf = profile == _BF
    if bf.any():
        score[bf] = np.clip(_sample_scores(rng, h[bf], arrs[_BF], int(bf.sum()))[:, 0], 0.3, 1)
    # --- BlazePose: all points present with its (high) visibility; hidden ones of back views lower
    bp = profile == _BP
    if bp.any():
        v = _sample_scores(rng, h[bp], arrs[_BP], int(bp.sum()))
        v[:, :3] *= 1 - back[bp, None] * 0.3 * (1 - vis[bp, :3])
        conf[bp] = np.clip(v, 0.05, 1.0)
    co = profile == _COCO
    if co.any():
        conf[co] = _coco_confidences(rng, cfg, h[co], arrs[_COCO], back[co], vis[co])
    return conf, score


def _coco_confidences(
    rng: np.random.Generator,
    cfg: SynthConfig,
    h: FloatArray,
    arr: dict[str, FloatArray],
    back: FloatArray,
    vis: FloatArray,
) -> NDArray[np.float64]:
    """COCO-style heat-map detector (fitted on MoveNet): scores raised to a random power,
    hidden face points of back views score lower (MoveNet still reports them,
    docs/detectors.md), random threshold and drop-outs."""
    m = len(h)
    sc = np.clip(_sample_scores(rng, h, arr, m), 1e-3, 1.0)
    g = np.exp(rng.uniform(np.log(cfg.score_gamma[0]), np.log(cfg.score_gamma[1]), m))
    sc = sc ** g[:, None]
    # other COCO detectors score differently: a share of samples gets generic scores,
    # half following visibility (hidden points lower), half flat (every point 0.6–1)
    share = cfg.generic_score_share
    if share > 0:  # (no draws otherwise: simulations of the fit stay reproducible)
        kind = rng.random(m)
        peak = np.clip(rng.normal(0.85, 0.1, (m, 5)), 0.3, 1.0)
        noise = rng.normal(0, 0.05, (m, 5))
        follow = np.clip(peak * (0.2 + 0.8 * vis) + noise, 0.01, 1.0)
        flat = rng.uniform(0.6, 1.0, (m, 5))
        sc = np.where((kind < share / 2)[:, None], follow, sc)
        sc = np.where(((kind >= share / 2) & (kind < share))[:, None], flat, sc)
    sc[:, :3] *= 1 - back[:, None] * 0.5 * (1 - vis[:, :3])  # ears stay visible
    thr = rng.choice(np.asarray(cfg.coco_thresholds, float), size=m)
    drop = rng.random((m, 5)) < cfg.dropout
    return np.where((sc > thr[:, None]) & (sc > 0) & ~drop, sc, 0.0)


def _outliers_and_ear_swaps(
    rng: np.random.Generator,
    cfg: SynthConfig,
    xy: NDArray[np.float64],
    conf: NDArray[np.float64],
    head_px: NDArray[np.float64],
    yaw: FloatArray,
    coco: NDArray[np.bool_],
) -> None:
    """In place: confident outliers (one point of a sample displaced by 20–60 % of the head
    breadth) and left/right ear swaps of COCO-style samples on profiles."""
    n = len(xy)
    out = rng.random(n) < cfg.outlier
    which = rng.integers(0, 5, n)
    disp = rng.normal(size=(n, 2))
    disp *= (rng.uniform(0.2, 0.6, n) * head_px / np.linalg.norm(disp, axis=1))[:, None]
    xy[np.arange(n)[out], which[out]] += disp[out]
    swap = coco & (np.abs(yaw) > 60) & (rng.random(n) < cfg.ear_swap)
    xy[swap, 3:5] = xy[swap, 4:2:-1]
    conf[swap, 3:5] = conf[swap, 4:2:-1]
