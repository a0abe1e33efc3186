"""The formula of ``method="hhpnet"`` (3-D, probabilistic), the scores every method returns
(:class:`Scores` of the :class:`People` it scores) and the geometry helpers they share.

1. *Camera*: pinhole, focal length ``f = (W / 2) / tan(fov_deg / 2)`` pixels from the image
   width W (``focal_px`` overrides it); principal point at the image centre. Without an image
   size, the heads' bounding box (padded by one head size) is taken as the central half of
   the image width, centred on the principal point.
2. *Depth from apparent size*: the keypoint span a head would have at 1 mm distance·f is
   computed from a mean 3-D head (``head_model``, :func:`hhpnet.headmodel.detector_shape`) posed
   with the person's yaw and pitch, over the keypoints actually present; depth
   ``Z = f · span_mm / head_size_px`` (mm, nominal: an adult head). ``depth="none"`` puts
   everybody at the same depth (image-plane positions, 3-D gaze).
3. *Gaze*: the facing direction of :func:`hhpnet.convention.facing_direction` is relative to
   the viewing ray through the head (the convention of the model's labels), so it is rotated
   by the rotation taking the optical axis onto that ray (``ray_relative``).
4. *Attention* ``A[i, j]`` = probability that i's head points at j's head: the angle between
   i's gaze and the direction to j, split into its components along the yaw and the pitch
   directions of the gaze, each Gaussian with std σ_yaw resp. σ_pitch·|cos yaw| (σ of the
   model, floored at ``sigma_floor_deg``); "points at" = both components within the
   tolerance ``tolerance_deg`` (eye-in-head freedom) + the angular radius of j's head
   (``head_radius_mm``) seen from i. ``A = Π_axis [Φ((τ − d)/s) − Φ((−τ − d)/s)]``.
   Depth errors (relative std ``depth_noise``) move the direction i → j; their effect on each
   component is added to its variance, so a pair separated mostly in depth is uncertain.
5. *Matrix* ``M[i, j] = √(A[i, j] · A[j, i])`` (looking at *each other*); *mutual* pairs have
   both ``A`` ≥ ``threshold``.
6. *Converging attention* ``C[i, j]``: the gaze rays of i and j pass close to a common point X
   in front of both, between ``converge_range[0]`` and ``converge_range[1]`` times their
   distance away from each (an F-formation's shared space); ``C = P_i(X) · P_j(X)`` with the
   same Gaussian model and tolerance ``tolerance_deg`` (X is a point, no head radius). X
   must not lie beyond a person that i or j looks at (that head blocks the view).

The paper's formulas are in :mod:`hhpnet.interaction.paper`; which name runs which scoring
function: :mod:`hhpnet.interaction.registry`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from hhpnet.convention import S_FLIP, angles_to_matrix, facing_direction
from hhpnet.interaction.params import HhpnetParams

F64 = NDArray[np.float64]


# --------------------------------------------------------------------------- maths helpers
def _ndtr(x: F64) -> F64:
    from scipy.special import ndtr

    return np.asarray(ndtr(x), np.float64)


def _box_prob(d: F64, tol: F64, s: F64) -> F64:
    """P(|X| < tol) for X ~ N(d, s²) (element-wise; s may be inf → 0 unless tol is inf)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        p = _ndtr((tol - d) / s) - _ndtr((-tol - d) / s)
    return np.nan_to_num(p, nan=0.0)


def _unit(v: F64) -> tuple[F64, F64]:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(norm > 1e-12, v / norm, 0.0)
    return u, norm[..., 0]


def _ray_closest(
    pos: F64, gaze: F64, dist: F64, lo: float, hi: float, reach: F64
) -> tuple[F64, NDArray[np.bool_]]:
    """Closest-approach midpoint X[i, j] of the rays ``pos + t·gaze`` of i and j, and whether
    it lies in front of both at ``lo·dist ≤ t ≤ hi·dist`` (non-parallel rays only) and not
    beyond ``reach[i]`` (the person i looks at blocks the view further along the ray)."""
    gi, gj = gaze[:, None, :], gaze[None, :, :]
    w = pos[:, None, :] - pos[None, :, :]
    b = np.sum(gi * gj, axis=-1)
    d = np.sum(gi * w, axis=-1)
    e = np.sum(gj * w, axis=-1)
    den = 1.0 - b**2
    ok = den > 1e-6
    safe = np.where(ok, den, 1.0)
    ti = (b * e - d) / safe
    tj = (e - b * d) / safe
    x = 0.5 * (pos[:, None, :] + ti[..., None] * gi + pos[None, :, :] + tj[..., None] * gj)
    ok &= (ti >= lo * dist) & (ti <= hi * dist) & (tj >= lo * dist) & (tj <= hi * dist)
    ok &= (ti <= reach[:, None]) & (tj <= reach[None, :])
    return x, ok


def _reach(att: F64, dist: F64, threshold: float, margin: F64) -> F64:
    """How far along its gaze ray each person can attend: up to (the distance to) the nearest
    person it looks at (attention ≥ threshold) + ``margin``; inf if it looks at nobody."""
    blocked = np.where(att >= threshold, dist + margin, np.inf)
    return blocked.min(axis=1) if len(att) else np.zeros(0)


def _rot_optical_to(ray: F64) -> F64:
    """Rotations (N, 3, 3) taking the optical axis (0, 0, 1) onto the unit rays (Rodrigues)."""
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(np.broadcast_to(z, ray.shape), ray)
    s = np.linalg.norm(axis, axis=1)
    c = ray[:, 2]
    k = axis / np.maximum(s, 1e-12)[:, None]
    kx = np.zeros((len(ray), 3, 3))
    kx[:, 0, 1], kx[:, 0, 2], kx[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    kx[:, 1, 0], kx[:, 2, 0], kx[:, 2, 1] = k[:, 2], -k[:, 1], k[:, 0]
    result: F64 = np.eye(3) + s[:, None, None] * kx + (1.0 - c)[:, None, None] * (kx @ kx)
    return result


# --------------------------------------------------------------------------- methods
@dataclass(frozen=True)
class People:
    """The m people a method scores (the valid ones of an analysis)."""

    yaw: F64  # (m,) degrees
    pitch: F64  # (m,) degrees
    sigma: F64  # (m, 3) degrees
    centroid: F64  # (m, 2) pixels
    head_size: F64  # (m,) pixels
    present: NDArray[np.bool_]  # (m, 5) keypoints present (all True without keypoints)
    image_size: tuple[int, int] | None


@dataclass
class Scores:
    """What a method returns for its m people."""

    attention: F64  # (m, m) directional
    matrix: F64  # (m, m) symmetric
    converge: F64  # (m, m) symmetric
    depth: F64 | None


def _nominal_span(yaw: F64, pitch: F64, present: NDArray[np.bool_], head_model: str) -> F64:
    """Largest projected distance (mm) between present points of the detector's mean head posed
    by yaw and pitch (orthographic; roll does not change it) — what ``head_size`` measures, in
    mm. The head is where that detector puts its points at this pose
    (:func:`hhpnet.headmodel.detector_shape`, fitted on real detector output)."""
    from hhpnet.headmodel import detector_shape

    rot = angles_to_matrix(yaw, pitch, np.zeros_like(yaw))  # (m, 3, 3)
    head = detector_shape(head_model, np.asarray(yaw, float), np.asarray(pitch, float))
    pts = np.einsum("nij,nkj->nki", rot, head)[..., :2]  # (m, 5, 2)
    dist = np.linalg.norm(pts[:, :, None, :] - pts[:, None, :, :], axis=-1)
    pair = present[:, :, None] & present[:, None, :]
    span = np.where(pair, dist, 0.0).max(axis=(1, 2))
    full = dist.max(axis=(1, 2))
    result: F64 = np.where(span > 1e-6, span, full)
    return result


def _camera(
    cen: F64, hs: F64, image_size: tuple[int, int] | None, p: HhpnetParams
) -> tuple[float, F64]:
    """Focal length (px) and principal point (px)."""
    if image_size is not None and image_size[0] and image_size[1]:
        w = float(image_size[0])
        pp = np.array([w / 2.0, float(image_size[1]) / 2.0])
    else:
        pad = np.nanmax(np.where(np.isfinite(hs), hs, 0.0))
        lo, hi = cen.min(axis=0) - pad, cen.max(axis=0) + pad
        w = 2.0 * float(hi[0] - lo[0])  # the heads cover the central half of the image
        pp = (lo + hi) / 2.0
    f = p.focal_px if p.focal_px is not None else (w / 2.0) / math.tan(math.radians(p.fov_deg / 2))
    return float(max(f, 1e-6)), pp


def _gaze_probability(
    target_dir: F64, gaze: F64, e_yaw: F64, e_pitch: F64, tol: F64, s_yaw: F64, s_pitch: F64
) -> F64:
    """P(i's head points within ``tol`` degrees of unit directions ``target_dir`` (m, k, 3));
    ``s_yaw``, ``s_pitch`` (m, k) stds of the deviation components, degrees."""
    g = gaze[:, None, :]
    cos_d = np.clip(np.sum(g * target_dir, axis=-1), -1.0, 1.0)
    delta = np.rad2deg(np.arccos(cos_d))
    tang, tn = _unit(target_dir - cos_d[..., None] * g)
    cy = np.sum(tang * e_yaw[:, None, :], axis=-1)
    cp = np.sum(tang * e_pitch[:, None, :], axis=-1)
    # exactly behind: the whole deviation along yaw
    behind = (tn < 1e-9) & (cos_d < 0)
    cy = np.where(behind, 1.0, cy)
    d_yaw, d_pitch = delta * cy, delta * cp
    return _box_prob(d_yaw, tol, s_yaw) * _box_prob(d_pitch, tol, s_pitch)


def _hhpnet(
    yaw: F64,
    pitch: F64,
    sigma: F64,
    cen: F64,
    hs: F64,
    present: NDArray[np.bool_],
    image_size: tuple[int, int] | None,
    p: HhpnetParams,
) -> Scores:
    """Scores of the ``"hhpnet"`` method for the m kept people (module docstring, steps 1–6):
    positions in the camera frame, gaze frames, σ, attention, converging rays."""
    m = len(yaw)
    depth, pos, rot = _positions(yaw, pitch, cen, hs, present, image_size, p)
    psi, a = np.deg2rad(-yaw), np.deg2rad(pitch)
    gaze_v = facing_direction(yaw, pitch)
    e_yaw_v = np.stack([np.cos(psi), np.sin(a) * np.sin(psi), -np.cos(a) * np.sin(psi)], axis=1)
    e_pitch_v = np.stack([np.zeros(m), -np.cos(a), -np.sin(a)], axis=1)
    frame = _Frames(
        np.einsum("nij,nj->ni", rot, gaze_v),
        np.einsum("nij,nj->ni", rot, e_yaw_v),
        np.einsum("nij,nj->ni", rot, e_pitch_v),
    )
    floor = p.sigma_floor_deg
    sy = np.where(np.isnan(sigma[:, 0]), np.inf, sigma[:, 0])
    sp = np.where(np.isnan(sigma[:, 1]), np.inf, sigma[:, 1]) * np.abs(np.cos(psi))
    s_yaw = np.maximum(np.sqrt(sy**2 + floor**2), 1e-9)
    s_pitch = np.maximum(np.sqrt(sp**2 + floor**2), 1e-9)
    att, dist = _attention(pos, frame, s_yaw, s_pitch, p)
    matrix = np.sqrt(att * att.T)
    conv = _converging(pos, frame, s_yaw, s_pitch, att, dist, p)
    return Scores(att, matrix, conv, depth)


@dataclass(frozen=True)
class _Frames:
    """Per person, in the camera frame: the facing direction and the unit directions in which
    yaw and pitch errors move it, each (m, 3)."""

    gaze: F64
    e_yaw: F64
    e_pitch: F64


def _positions(
    yaw: F64,
    pitch: F64,
    cen: F64,
    hs: F64,
    present: NDArray[np.bool_],
    image_size: tuple[int, int] | None,
    p: HhpnetParams,
) -> tuple[F64, F64, F64]:
    """Depths (m,) mm, head positions (m, 3) mm in the OpenCV camera frame (x right, y down,
    z away from the camera) and the rotations (m, 3, 3) from the viewer frame to the camera
    frame turned onto each head's ray (``ray_relative``)."""
    m = len(yaw)
    f, pp = _camera(cen, hs, image_size, p)
    span = _nominal_span(yaw, pitch, present, p.head_model)
    if p.depth == "size":
        depth = f * span / hs
    else:  # one common depth, from the typical head size (100 px when none is known)
        known = hs[np.isfinite(hs) & (hs > 0)]
        depth = np.full(
            m, f * float(np.median(span)) / (float(np.median(known)) if len(known) else 100.0)
        )
    ray = np.concatenate([(cen - pp) / f, np.ones((m, 1))], axis=1)
    pos = ray * depth[:, None]
    ray_u, _ = _unit(ray)
    rot = _rot_optical_to(ray_u) if p.ray_relative else np.broadcast_to(np.eye(3), (m, 3, 3))
    return depth, pos, rot @ S_FLIP  # viewer frame (z towards the viewer) → camera frame


def _attention(
    pos: F64, frame: _Frames, s_yaw: F64, s_pitch: F64, p: HhpnetParams
) -> tuple[F64, F64]:
    """P(i looks at j) (m, m), zero on the diagonal, and the distances (m, m) mm."""
    m = len(pos)
    d_ij, dist = _unit(pos[None, :, :] - pos[:, None, :])  # direction i → j
    radius = np.rad2deg(np.arctan2(p.head_radius_mm, dist))
    tol = p.tolerance_deg + radius
    # depth errors ε·Z along each ray move the direction i → j by (δP)⊥ / dist (radians)
    var_y = np.zeros((m, m))
    var_p = np.zeros((m, m))
    if p.depth_noise > 0:
        for end in (pos[None, :, :], pos[:, None, :]):
            perp = end - np.sum(end * d_ij, axis=-1, keepdims=True) * d_ij
            var_y += np.sum(perp * frame.e_yaw[:, None, :], axis=-1) ** 2
            var_p += np.sum(perp * frame.e_pitch[:, None, :], axis=-1) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(dist > 0, (np.rad2deg(p.depth_noise) / dist) ** 2, 0.0)
        var_y, var_p = var_y * scale, var_p * scale
    sy_ij = np.sqrt(s_yaw[:, None] ** 2 + var_y)
    sp_ij = np.sqrt(s_pitch[:, None] ** 2 + var_p)
    att = _gaze_probability(d_ij, frame.gaze, frame.e_yaw, frame.e_pitch, tol, sy_ij, sp_ij)
    att = np.where(dist > 0, att, 0.0)
    np.fill_diagonal(att, 0.0)
    return att, dist


def _converging(
    pos: F64, frame: _Frames, s_yaw: F64, s_pitch: F64, att: F64, dist: F64, p: HhpnetParams
) -> F64:
    """P(i and j both look at the point X[i, j] where their rays nearly meet) (m, m)."""
    m = len(pos)
    reach = _reach(att, dist, p.threshold, np.full_like(dist, 2.0 * p.head_radius_mm))
    x, ok = _ray_closest(pos, frame.gaze, dist, *p.converge_range, reach)
    conv = np.zeros((m, m))
    if ok.any():
        to_x, _ = _unit(x - pos[:, None, :])  # i → X[i, j]
        tol_x = np.full((m, m), p.tolerance_deg)
        p_i = _gaze_probability(
            to_x,
            frame.gaze,
            frame.e_yaw,
            frame.e_pitch,
            tol_x,
            np.repeat(s_yaw[:, None], m, 1),
            np.repeat(s_pitch[:, None], m, 1),
        )
        conv = np.where(ok, p_i * p_i.T, 0.0)  # X is symmetric: X[i, j] = X[j, i]
    np.fill_diagonal(conv, 0.0)
    return conv


def hhpnet_scores(people: People, p: HhpnetParams) -> Scores:
    """The registered scoring function of ``"hhpnet"``."""
    return _hhpnet(
        people.yaw,
        people.pitch,
        people.sigma,
        people.centroid,
        people.head_size,
        people.present,
        people.image_size,
        p,
    )
