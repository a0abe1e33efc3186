"""The input of an analysis as a :class:`hhpnet.poses.Poses`: from plain arrays
(:func:`from_arrays`) or from heads placed in 3-D in front of a pinhole camera
(:func:`scene_from_3d`). ``PoseArrays``, the container these returned before, is a deprecated
name of :func:`from_arrays`'s argument order (:mod:`hhpnet._compat`)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.convention import S_FLIP
from hhpnet.errors import InputError
from hhpnet.interaction.scores import _nominal_span, _rot_optical_to, _unit
from hhpnet.keypoints import check_image_size
from hhpnet.poses import Poses

F64 = NDArray[np.float64]


# --------------------------------------------------------------------------- input
def _poses(
    yaw: F64,
    pitch: F64,
    sigma: F64,
    centroid: F64,
    head_size: F64,
    valid: NDArray[np.bool_],
    keypoints: NDArray[np.float32] | None,
    image_size: tuple[int, int] | None,
) -> Poses:
    """The :class:`Poses` of checked arrays: the float64 values kept as given, no box or
    score (NaN), a level head (roll 0: the analysis does not read it, drawings do); without
    ``keypoints`` every point is present at an unknown position (x, y NaN, confidence 1), as
    the analysis reads them."""
    n = len(yaw)
    if keypoints is None:
        keypoints = np.full((n, 5, 3), np.nan, np.float32)
        keypoints[..., 2] = 1.0
    return Poses(
        boxes=np.full((n, 4), np.nan, np.float32),
        scores=np.full(n, np.nan, np.float32),
        keypoints=keypoints,
        yaw=yaw,
        pitch=pitch,
        roll=np.zeros(n),
        sigma=sigma,
        valid=valid,
        centroid=centroid,
        head_size=head_size,
        image_size=image_size,
    )


def from_arrays(
    yaw: ArrayLike,
    pitch: ArrayLike,
    centroid: ArrayLike,
    head_size: ArrayLike | None = None,
    sigma: ArrayLike | None = None,
    valid: ArrayLike | None = None,
    *,
    keypoints: ArrayLike | None = None,
    image_size: tuple[int, int] | None = None,
) -> Poses:
    """A :class:`~hhpnet.poses.Poses` from plain arrays: yaw, pitch (N,) degrees, centroid
    (N, 2) pixels, head_size (N,) pixels (default: all equal, 100), sigma (N, 3) or (N,) degrees
    (default 0: certain), valid (N,) (default: finite angles), keypoints (N, 5, 3) pixels +
    confidence (default: all five present). The arrays are kept in float64; the poses have no
    box or score (NaN) and roll 0. Raises :class:`InputError` on inconsistent shapes."""
    y = np.atleast_1d(np.asarray(yaw, np.float64)).ravel()
    n = y.size
    p = np.atleast_1d(np.asarray(pitch, np.float64)).ravel()
    c = np.asarray(centroid, np.float64)
    if c.size == 0:
        c = c.reshape(0, 2)
    hs = np.full(n, 100.0) if head_size is None else np.atleast_1d(np.asarray(head_size, float))
    if sigma is None:
        s = np.zeros((n, 3))
    else:
        s = np.asarray(sigma, np.float64)
        if s.ndim <= 1:
            s = np.repeat(np.broadcast_to(s, (n,))[:, None], 3, axis=1)
    v = np.isfinite(y) & np.isfinite(p) if valid is None else np.asarray(valid, bool).ravel()
    shapes = {
        "pitch": (p.shape, (n,)),
        "centroid": (c.shape, (n, 2)),
        "head_size": (hs.ravel().shape, (n,)),
        "sigma": (s.shape, (n, 3)),
        "valid": (v.shape, (n,)),
    }
    for name, (got, want) in shapes.items():
        if got != want:
            raise InputError(f"{name} has shape {got}, expected {want} for {n} people")
    kp = None
    if keypoints is not None:
        kp = np.asarray(keypoints, np.float32)
        if kp.shape != (n, 5, 3):
            raise InputError(f"keypoints has shape {kp.shape}, expected {(n, 5, 3)}")
    return _poses(y, p, s, c, hs.ravel(), v, kp, check_image_size(image_size))


def _camera_from_size(image_size: tuple[int, int], fov_deg: float) -> tuple[float, F64]:
    w, h = float(image_size[0]), float(image_size[1])
    return (w / 2.0) / math.tan(math.radians(fov_deg / 2.0)), np.array([w / 2.0, h / 2.0])


def scene_from_3d(
    positions_mm: ArrayLike,
    gaze: ArrayLike,
    *,
    image_size: tuple[int, int] = (1280, 720),
    fov_deg: float = 65.0,
    sigma: ArrayLike = 5.0,
    head_model: str = "blazeface",
) -> Poses:
    """Poses of heads seen by a pinhole camera — for tests, demos and what-if analyses.

    ``positions_mm`` (N, 3) head centres in the camera frame (x right, y down, z away from the
    camera, mm, z > 0); ``gaze`` (N, 3) facing directions in the same frame (any length).
    Returns the centroids (pixels), head sizes (the nominal keypoint span of ``head_model``,
    pixels) and the ray-relative yaw/pitch (degrees, |pitch| ≤ 90°) that the model reports,
    with ``sigma`` (scalar, (N,) or (N, 3) degrees).
    """
    pos = np.asarray(positions_mm, np.float64).reshape(-1, 3)
    g = np.asarray(gaze, np.float64).reshape(-1, 3)
    if g.shape != pos.shape:
        raise InputError(f"gaze has shape {g.shape}, expected {pos.shape}")
    if (pos[:, 2] <= 0).any():
        raise InputError("every head must be in front of the camera (z > 0)")
    n = len(pos)
    image_size = check_image_size(image_size) or (1280, 720)
    f, pp = _camera_from_size(image_size, fov_deg)
    cen = pp + f * pos[:, :2] / pos[:, 2:3]
    ray, _ = _unit(pos)
    rot = _rot_optical_to(ray) @ S_FLIP  # viewer frame → camera frame along the ray
    g_v = np.einsum("nji,nj->ni", rot, _unit(g)[0])  # rot⁻¹ = rotᵀ (S_FLIP is its own inverse)
    sgn = np.where(g_v[:, 2] < 0, -1.0, 1.0)
    cos_psi = sgn * np.hypot(g_v[:, 1], g_v[:, 2])
    psi = np.arctan2(g_v[:, 0], cos_psi)
    pitch = np.rad2deg(np.arctan2(-g_v[:, 1] * sgn, g_v[:, 2] * sgn))
    yaw = -np.rad2deg(psi)
    span = _nominal_span(yaw, pitch, np.ones((n, 5), bool), head_model)
    hs = f * span / pos[:, 2]
    s = np.asarray(sigma, np.float64)
    s = np.broadcast_to(s[:, None] if s.ndim == 1 else s, (n, 3)).astype(np.float64)
    return _poses(yaw, pitch, s, cen, hs, np.ones(n, bool), None, image_size)


def _pose_arrays(
    yaw: ArrayLike,
    pitch: ArrayLike,
    sigma: ArrayLike,
    centroid: ArrayLike,
    head_size: ArrayLike,
    valid: ArrayLike,
    keypoints: ArrayLike | None = None,
    image_size: tuple[int, int] | None = None,
) -> Poses:
    """The deprecated ``PoseArrays(...)``: its argument order, :func:`from_arrays`'s checks."""
    return from_arrays(
        yaw, pitch, centroid, head_size, sigma, valid, keypoints=keypoints, image_size=image_size
    )


def __getattr__(name: str) -> object:
    from hhpnet._compat import old_name

    return old_name(__name__, name)
