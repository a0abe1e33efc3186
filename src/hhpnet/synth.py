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

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hhpnet.convention import S_FLIP, angles_to_matrix
from hhpnet.keypoints import FLIP_PERMUTATION, blazeface_confidence

__all__ = [
    "DETECTOR_PROFILES",
    "GENERATOR_VERSION",
    "MEAN_HEAD_MM",
    "SynthBatch",
    "SynthConfig",
    "generate",
    "mirror",
    "project_head",
]

GENERATOR_VERSION = "synth-1.2"
DETECTOR_PROFILES: tuple[str, ...] = ("blazeface", "blazepose", "coco")
_BF, _BP, _COCO = 0, 1, 2

# Mean anatomical parameters (mm). Sources: adult anthropometry surveys (e.g. Gordon et al.,
# ANSUR II 2012; Farkas, Anthropometry of the Head and Face, 1994): inter-pupillary distance
# ≈ 63 mm (sd ≈ 3.5), bitragion breadth ≈ 143 mm (sd ≈ 6), the eye lies ≈ 80 mm in front of
# the tragion and ≈ 12 mm above it, the nose tip ≈ 40 mm below the eye line and ≈ 22 mm in
# front of the eyes' corneal plane; the middle of the auricle is ≈ 12 mm behind and ≈ 8 mm
# above the tragion and ≈ 6 mm further out.
_MEAN = {
    "ipd": (63.0, 3.5),
    "breadth": (143.0, 6.0),
    "eye_depth": (80.0, 5.0),
    "eye_height": (12.0, 4.0),
    "nose_drop": (40.0, 4.0),
    "nose_protrusion": (22.0, 3.5),
    "auricle_back": (12.0, 4.0),
    "auricle_up": (8.0, 4.0),
    "auricle_out": (6.0, 2.0),
}
# Detector-specific offsets of the reported nose point from the anatomical tip (y, z) in mm.
_NOSE_OFFSET = {_BF: (-5.0, -4.0), _BP: (-3.0, -3.0), _COCO: (-3.0, -3.0)}


def _head_points(p: dict[str, NDArray[np.float64]], profile: NDArray[np.int8]) -> NDArray:
    """(n, 5, 3) head-frame points in mm from per-person parameters and detector profile."""
    n = len(profile)
    pts = np.zeros((n, 5, 3))
    half_ipd = p["ipd"] / 2
    eye_y = -p["eye_height"]
    pts[:, 1] = np.stack([half_ipd, eye_y, p["eye_depth"]], -1)
    pts[:, 2] = np.stack([-half_ipd, eye_y, p["eye_depth"]], -1)
    nose_y = eye_y + p["nose_drop"]
    nose_z = p["eye_depth"] + p["nose_protrusion"]
    dy = np.select([profile == k for k in _NOSE_OFFSET], [v[0] for v in _NOSE_OFFSET.values()])
    dz = np.select([profile == k for k in _NOSE_OFFSET], [v[1] for v in _NOSE_OFFSET.values()])
    pts[:, 0] = np.stack([np.zeros(n), nose_y + dy, nose_z + dz], -1)
    half_b = p["breadth"] / 2
    auricle = profile != _BF
    ear_x = half_b + np.where(auricle, p["auricle_out"], 0.0)
    ear_y = np.where(auricle, -p["auricle_up"], 0.0)
    ear_z = np.where(auricle, -p["auricle_back"], 0.0)
    pts[:, 3] = np.stack([ear_x, ear_y, ear_z], -1)
    pts[:, 4] = np.stack([-ear_x, ear_y, ear_z], -1)
    return pts * p["scale"][:, None, None]


def _mean_head(profile: int) -> NDArray[np.float64]:
    params = {k: np.array([v[0]]) for k, v in _MEAN.items()}
    params["scale"] = np.ones(1)
    return _head_points(params, np.array([profile], np.int8))[0]


#: Mean 3-D keypoints (mm, head frame of convention.py) per detector profile.
MEAN_HEAD_MM: dict[str, NDArray[np.float64]] = {
    name: _mean_head(i) for i, name in enumerate(DETECTOR_PROFILES)
}

# Outward surface normals (head frame) used for self-occlusion: the facing side of each point.
_NORMALS = np.array(
    [[0.0, 0.15, 1.0], [0.35, -0.05, 1.0], [-0.35, -0.05, 1.0], [1.0, 0.0, 0.3], [-1.0, 0.0, 0.3]]
)
_NORMALS /= np.linalg.norm(_NORMALS, axis=1, keepdims=True)
# Visibility ramps from 0 to 1 as the normal's cosine to the viewer goes from lo to hi: the nose
# stays visible past profile, the far eye disappears behind the nose bridge from ≈ 50° yaw, the
# protruding auricle of the far ear from ≈ 20° and completely by ≈ 45°.
_VIS_LO = np.array([-0.3, 0.0, 0.0, -0.45, -0.45])
_VIS_HI = np.array([0.1, 0.45, 0.45, 0.1, 0.1])
# BlazeFace's far tragion (a face-contour point): in place up to ≈ 30° yaw, pulled in by ≈ 65°.
_BF_EAR_LO, _BF_EAR_HI = -0.75, -0.23


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
    pitch_sd: float = 16.0
    pitch_uniform_share: float = 0.2
    pitch_max: float = 80.0
    roll_sd: float = 12.0
    roll_uniform_share: float = 0.2
    roll_max: float = 60.0
    #: horizontal field of view range of the camera
    fov_deg: tuple[float, float] = (35.0, 100.0)
    #: head breadth in the image, log-uniform between these (px); capped at 0.95 × image height
    head_px: tuple[float, float] = (15.0, 700.0)
    #: closest camera distance from the ear midpoint (mm; the face is then ≈ 250 mm away): larger
    #: heads get a longer focal length instead (tele shot or crop of a larger photo)
    min_distance_mm: float = 350.0
    #: keypoint localisation noise sd as a fraction of the head breadth (median; log-normal
    #: spread), for nose/eyes and for ears; plus a pixel floor
    noise_face: float = 0.018
    noise_ear: float = 0.035
    noise_spread: float = 0.5
    noise_px: float = 0.6
    #: per-profile multiplier of that noise (blazeface, blazepose, coco): BlazePose locates head
    #: points in a whole-body crop, ≈ 1.5× coarser than BlazeFace on real close-ups (findings.md)
    noise_profile: tuple[float, float, float] = (1.0, 1.6, 1.0)
    #: probability that a point is dropped (set missing) for detectors that can miss points
    dropout: float = 0.03
    #: probability that one point of a sample is a confident outlier
    outlier: float = 0.01
    #: probability of swapped ears (left/right confusion) for |yaw| > 60 (COCO-style)
    ear_swap: float = 0.03
    #: share of samples mirrored
    mirror_share: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown SynthConfig keys: {sorted(unknown)}")
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
        }
        return cls(**values)


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

    def __getitem__(self, idx: Any) -> SynthBatch:
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
    return eye + s[:, None, None] * kx + (1 - c)[:, None, None] * (kx @ kx)


def project_head(
    points_mm: NDArray[np.float64],
    angles: NDArray[np.float64],
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
    return pts[..., :2] / pts[..., 2:3] * focal_px[:, None, None] + principal_px[:, None, :]


def _sample_angles(
    rng: np.random.Generator, profile: NDArray[np.int8], cfg: SynthConfig
) -> NDArray:
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

    def tail(sd: float, share: float, lim_: float) -> NDArray:
        v = np.where(rng.random(n) < share, rng.uniform(-lim_, lim_, n), rng.normal(0, sd, n))
        return np.clip(v, -lim_, lim_)

    pitch = tail(cfg.pitch_sd, cfg.pitch_uniform_share, cfg.pitch_max)
    roll = tail(cfg.roll_sd, cfg.roll_uniform_share, cfg.roll_max)
    return np.stack([yaw, pitch, roll], -1)


def _smoothstep(x: NDArray, lo: Any, hi: Any) -> NDArray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3 - 2 * t)


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


def generate(n: int, seed: int, config: SynthConfig | None = None) -> SynthBatch:
    """Generate ``n`` synthetic people, deterministically from ``seed`` (see module docstring)."""
    cfg = config or SynthConfig()
    rng = np.random.default_rng(seed)
    w = np.asarray(cfg.detector_weights, float)
    profile = rng.choice(3, size=n, p=w / w.sum()).astype(np.int8)
    angles = _sample_angles(rng, profile, cfg)

    # anthropometry
    params = {k: rng.normal(m, s, n) for k, (m, s) in _MEAN.items()}
    params["scale"] = np.clip(rng.normal(1.0, 0.05, n), 0.85, 1.15)
    head = _head_points(params, profile)

    # camera and placement
    width = rng.choice(np.array([320, 480, 640, 960, 1280, 1920]), size=n).astype(float)
    height = np.round(width * np.where(rng.random(n) < 0.5, 0.75, 0.5625))
    fov = np.deg2rad(rng.uniform(*cfg.fov_deg, n))
    focal = width / (2 * np.tan(fov / 2))
    lo, hi = np.log(cfg.head_px[0]), np.log(cfg.head_px[1])
    head_px = np.minimum(np.exp(rng.uniform(lo, hi, n)), 0.95 * height)
    breadth = params["breadth"] * params["scale"]
    dist = focal * breadth / head_px
    # no camera inside the head: a head too large for the field of view at the closest distance
    # is a tele shot or a crop of a larger photo (narrower field of view, same head size)
    near = dist < cfg.min_distance_mm
    dist = np.where(near, cfg.min_distance_mm, dist)
    focal = np.where(near, head_px * dist / breadth, focal)
    margin = np.minimum(head_px / 2, 0.45 * width)[:, None]
    size = np.stack([width, height], -1)
    center = rng.uniform(0, 1, (n, 2)) * np.maximum(size - 2 * margin, 1) + margin
    principal = size / 2
    xy = project_head(head, angles, center, dist, focal, principal)

    # self-occlusion: cosine between each point's outward normal and the direction to the viewer
    rot = angles_to_matrix(*angles.T)  # viewer frame, relative to the ray
    facing = np.einsum("nij,kj->nki", rot, _NORMALS)[..., 2]  # (n, 5)
    vis = _smoothstep(facing, _VIS_LO, _VIS_HI)

    # localisation noise, ears noisier, log-normal spread of the per-sample quality
    quality = np.exp(rng.normal(0, cfg.noise_spread, n))
    sd = np.array([cfg.noise_face] * 3 + [cfg.noise_ear] * 2)[None, :] * head_px[:, None]
    quality = quality * np.asarray(cfg.noise_profile, float)[profile]
    sd = sd * quality[:, None] * (1 + 1.5 * (1 - vis)) + cfg.noise_px
    xy = xy + rng.normal(size=xy.shape) * sd[..., None]

    conf = np.zeros((n, 5))
    # --- BlazeFace: hidden-side points pushed into the face; confidence from the geometry
    bf = profile == _BF
    if bf.any():
        left_far = angles[:, 0] < 0  # negative yaw: nose to the image right, subject's left hidden
        near_eye = np.where(left_far[:, None], xy[:, 2], xy[:, 1])
        nose = xy[:, 0]
        # BlazeFace regresses a face-like template: the far tragion stays on the face contour
        # (≈ its true place) up to ≈ 30° yaw, then moves into the face; the far eye follows from
        # ≈ 45°. Targets as observed on profiles (docs/detectors.md): far eye between the nose
        # and the near eye, far ear between (or just past) the far and the near eye, slightly
        # below the eye line.
        v_eye = vis[:, 1:3]
        v_ear = _smoothstep(facing[:, 3:5], _BF_EAR_LO, _BF_EAR_HI)
        far_eye = nose + rng.uniform(0.15, 0.45, (n, 1)) * (near_eye - nose)
        for k, far in ((1, left_far), (2, ~left_far)):
            v = v_eye[:, k - 1][:, None]
            moved = v * xy[:, k] + (1 - v) * far_eye
            xy[:, k] = np.where((bf & far)[:, None], moved, xy[:, k])
        far_eye = np.where(left_far[:, None], xy[:, 1], xy[:, 2])  # after the move
        down = nose - 0.5 * (far_eye + near_eye)
        far_ear = (
            far_eye
            + rng.uniform(-0.3, 0.7, (n, 1)) * (near_eye - far_eye)
            + rng.uniform(0.1, 0.4, (n, 1)) * down
        )
        for k, far in ((3, left_far), (4, ~left_far)):
            v = v_ear[:, k - 3][:, None]
            moved = v * xy[:, k] + (1 - v) * far_ear
            xy[:, k] = np.where((bf & far)[:, None], moved, xy[:, k])
        score = np.clip(
            0.95 - 0.35 * (np.abs(angles[:, 0]) / 90) ** 2 + rng.normal(0, 0.05, n), 0.5, 1.0
        )
    # --- BlazePose: every point present, visibility near 1 even when hidden
    bp = profile == _BP
    conf[bp] = np.clip(rng.normal(0.985, 0.015, (int(bp.sum()), 5)) - 0.1 * (1 - vis[bp]), 0.5, 1.0)
    # --- COCO-style heat-map detector: confidence follows visibility, thresholded
    co = profile == _COCO
    peak = np.clip(rng.normal(0.85, 0.1, (n, 5)), 0.2, 1.0) / quality[:, None] ** 0.3
    heat = np.clip(peak * (0.15 + 0.85 * vis) + rng.normal(0, 0.05, (n, 5)), 0.0, 1.0)
    thr = rng.choice(np.array([0.2, 0.3, 0.47]), size=n)
    drop = rng.random((n, 5)) < cfg.dropout
    conf[co] = np.where((heat[co] >= thr[co, None]) & ~drop[co], heat[co], 0.0)

    # confident outliers: one point of the sample displaced by 20-60 % of the head breadth
    out = rng.random(n) < cfg.outlier
    which = rng.integers(0, 5, n)
    disp = rng.normal(size=(n, 2))
    disp *= (rng.uniform(0.2, 0.6, n) * head_px / np.linalg.norm(disp, axis=1))[:, None]
    xy[np.arange(n)[out], which[out]] += disp[out]
    # left/right ear swap on profiles (COCO-style)
    swap = co & (np.abs(angles[:, 0]) > 60) & (rng.random(n) < cfg.ear_swap)
    xy[swap, 3:5] = xy[swap, 4:2:-1]
    conf[swap, 3:5] = conf[swap, 4:2:-1]

    # BlazeFace confidences from the final (noisy, possibly outlying) points, as at inference
    # (computed on the float32 coordinates that are returned, so inference reproduces them exactly)
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
