"""Head-pose angle convention (the one of 300W-LP / AFLW2000-3D, HopeNet, 6DRepNet, HHP-Net).

All public angles are **degrees**, ordered ``(yaw, pitch, roll)``.

Seen on a photo (image coordinates: x to the right, y down):

* **positive yaw** turns the nose towards the **image's left** (the subject turns to *their* right);
* **positive pitch** raises the nose (the subject looks **up**);
* **positive roll** tilts the head **clockwise** in the image (the top of the head goes right).

Rotation matrix. We use the *head frame* ``H``: x towards the subject's left ear (image right
at rest), y towards the chin (image down at rest), z out of the face towards the viewer. At zero
pose it coincides with the *viewer frame* ``V`` (x right, y down, z towards the viewer).
With ``ψ = −yaw``::

    R = Rx(pitch) @ Ry(ψ) @ Rz(roll)          (maps H coordinates to V coordinates)

with the standard right-handed elementary rotations. The projections onto the image of the three
columns of ``R`` are exactly what ``draw_axis`` of HopeNet/HHP-Net draws (red x, green y, blue z =
facing direction). :func:`axes_2d` returns them.

OpenCV camera frame ``C`` (x right, y down, z *away* from the viewer, as used by ``solvePnP``): a
point ``h`` in head coordinates with the face looking towards the camera maps to
``C = S @ R @ h``, ``S = diag(1, 1, −1)``; :func:`matrix_opencv` gives the proper rotation
``S @ R @ S`` that acts on head points expressed with S applied (nose tip at negative z).

Euler angles are not unique: ``(yaw, pitch, roll)`` and ``(180° − yaw, pitch + 180°, roll + 180°)``
(wrapped) give the same matrix. :func:`matrix_to_angles` returns the representative with
``|pitch| ≤ 90°``; yaw then covers (−180°, 180°], back views included. At ``|yaw| = 90°`` pitch and
roll rotate about the same axis (gimbal lock): only their combination is defined there.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ANGLE_NAMES",
    "S_FLIP",
    "angle_difference",
    "angles_to_matrix",
    "axes_2d",
    "facing_direction",
    "matrix_opencv",
    "matrix_to_angles",
    "wrap_degrees",
]

#: the three angles, in the order of every (…, 3) angle and σ array of the package
ANGLE_NAMES: tuple[str, str, str] = ("yaw", "pitch", "roll")

S_FLIP = np.diag([1.0, 1.0, -1.0])


def wrap_degrees(angle: ArrayLike) -> NDArray[np.float64]:
    """Wrap angles in degrees to the interval (−180, 180]."""
    a = np.asarray(angle, dtype=np.float64)
    w = np.mod(a + 180.0, 360.0) - 180.0
    return np.where(w == -180.0, 180.0, w)


def angle_difference(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """``a − b`` in degrees, wrapped like :func:`wrap_degrees` to (−180, 180]: the shortest way
    round, so a yaw of 180° and one of −179.99999° differ by 1e-5°, not 360° (NaN stays NaN)."""
    return wrap_degrees(np.asarray(a, np.float64) - np.asarray(b, np.float64))


def angles_to_matrix(yaw: ArrayLike, pitch: ArrayLike, roll: ArrayLike) -> NDArray[np.float64]:
    """Rotation matrices ``(..., 3, 3)`` (head frame → viewer frame) from angles in degrees."""
    y, p, r = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (yaw, pitch, roll)))
    psi = np.deg2rad(-y)
    a = np.deg2rad(p)
    c = np.deg2rad(r)
    ca, sa = np.cos(a), np.sin(a)
    cb, sb = np.cos(psi), np.sin(psi)
    cc, sc = np.cos(c), np.sin(c)
    m = np.empty((*y.shape, 3, 3))
    m[..., 0, 0] = cb * cc
    m[..., 0, 1] = -cb * sc
    m[..., 0, 2] = sb
    m[..., 1, 0] = ca * sc + sa * sb * cc
    m[..., 1, 1] = ca * cc - sa * sb * sc
    m[..., 1, 2] = -sa * cb
    m[..., 2, 0] = sa * sc - ca * sb * cc
    m[..., 2, 1] = sa * cc + ca * sb * sc
    m[..., 2, 2] = ca * cb
    return m


def matrix_to_angles(matrix: ArrayLike) -> NDArray[np.float64]:
    """Inverse of :func:`angles_to_matrix`: ``(..., 3)`` = (yaw, pitch, roll) in degrees.

    Returns the representative with |pitch| ≤ 90°, yaw in (−180, 180], roll in (−180, 180].
    At gimbal lock (|yaw| = 90°) pitch is set to 0 and the whole in-plane rotation goes to roll.
    """
    m = np.asarray(matrix, dtype=np.float64)
    r02, r12, r22 = m[..., 0, 2], m[..., 1, 2], m[..., 2, 2]
    cos_psi_abs = np.hypot(r12, r22)
    locked = cos_psi_abs < 1e-9
    s = np.where(r22 < 0, -1.0, 1.0)
    pitch = np.arctan2(-r12 * s, r22 * s)
    psi = np.arctan2(r02, s * cos_psi_abs)
    roll = np.arctan2(-m[..., 0, 1] * s, m[..., 0, 0] * s)
    # Gimbal lock (cos ψ = 0): choose pitch = 0, then R = Ry(ψ) Rz(roll) and row 1 = (sin, cos, 0).
    roll_locked = np.arctan2(m[..., 1, 0], m[..., 1, 1])
    pitch = np.where(locked, 0.0, pitch)
    roll = np.where(locked, roll_locked, roll)
    out = np.stack([-np.rad2deg(psi), np.rad2deg(pitch), np.rad2deg(roll)], axis=-1)
    return wrap_degrees(out)


def matrix_opencv(yaw: ArrayLike, pitch: ArrayLike, roll: ArrayLike) -> NDArray[np.float64]:
    """Proper rotation in the OpenCV camera frame (z away from the viewer): ``S R S``."""
    return S_FLIP @ angles_to_matrix(yaw, pitch, roll) @ S_FLIP


def axes_2d(yaw: ArrayLike, pitch: ArrayLike, roll: ArrayLike) -> NDArray[np.float64]:
    """Image-plane projections of the head axes, ``(..., 3, 2)``: rows x (red), y (green), z (blue).

    Unit-length 3-D axes projected orthographically; multiply by a length in pixels and add the
    head centre to draw them (y grows downwards). Matches HopeNet's ``draw_axis``.
    """
    m = angles_to_matrix(yaw, pitch, roll)
    return np.swapaxes(m[..., :2, :], -1, -2)


def facing_direction(yaw: ArrayLike, pitch: ArrayLike) -> NDArray[np.float64]:
    """3-D unit facing (gaze) direction in the viewer frame (x right, y down, z to the viewer)."""
    y, p = np.broadcast_arrays(np.asarray(yaw, float), np.asarray(pitch, float))
    psi = np.deg2rad(-y)
    a = np.deg2rad(p)
    return np.stack([np.sin(psi), -np.sin(a) * np.cos(psi), np.cos(a) * np.cos(psi)], axis=-1)
