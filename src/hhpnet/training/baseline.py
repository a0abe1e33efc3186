"""Geometric baseline: ``cv2.solvePnP`` of the five keypoints to a generic mean 3-D head.

The classic alternative to a learned model. The mean head is :data:`hhpnet.headmodel.MEAN_HEAD_MM`
for the chosen detector placement (BlazeFace marks the ear tragion, COCO/BlazePose the auricle).
The camera is a pinhole with the principal point at the image centre and, by default, a focal
length equal to the image width (≈ 53° horizontal field of view). The returned angles follow
:mod:`hhpnet.convention` and, like the labels of the synthetic data, are relative to the viewing
ray through the head (the fitted rotation is composed with the inverse ray rotation).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.convention import S_FLIP, matrix_to_angles
from hhpnet.keypoints import validate_keypoints

__all__ = ["MIN_PNP_POINTS", "solve_pnp"]

#: fewer present points than this: the fit is under-determined and the person is invalid
MIN_PNP_POINTS = 4


def _ray_rotation(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rotation (3, 3) taking the optical axis onto the unit ray towards ``t`` (OpenCV frame)."""
    d = t / np.linalg.norm(t)
    z = np.array([0.0, 0.0, 1.0])
    axis = np.cross(z, d)
    s = float(np.linalg.norm(axis))
    if s < 1e-12:
        return np.eye(3)
    k = axis / s
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    result: NDArray[np.float64] = np.eye(3) + s * kx + (1 - d[2]) * (kx @ kx)
    return result


def solve_pnp(
    keypoints: ArrayLike,
    image_size: ArrayLike,
    focal: float | None = None,
    head: str | ArrayLike = "blazeface",
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Head pose by perspective-n-point fitting, one person at a time.

    Args:
        keypoints: (N, 5, 3) or (5, 3) pixels + confidence (missing = confidence 0).
        image_size: (width, height) for all, or (N, 2) per person, in pixels.
        focal: focal length in pixels; default: the image width.
        head: detector placement name of :data:`hhpnet.headmodel.MEAN_HEAD_MM` or a (5, 3)
            array (mm, head frame of :mod:`hhpnet.convention`).

    Returns:
        ``(angles, valid)``: (N, 3) yaw, pitch, roll in degrees (NaN where invalid) and (N,) bool.
    """
    import cv2

    from hhpnet.headmodel import MEAN_HEAD_MM

    kp = validate_keypoints(keypoints)
    n = len(kp)
    size = np.broadcast_to(np.asarray(image_size, dtype=np.float64).reshape(-1, 2), (n, 2))
    model = MEAN_HEAD_MM[head] if isinstance(head, str) else np.asarray(head, dtype=np.float64)
    model_cv = model @ S_FLIP  # OpenCV frame: the face looks towards the camera (-z)
    angles = np.full((n, 3), np.nan)
    valid = np.zeros(n, dtype=bool)
    for i in range(n):
        present = kp[i, :, 2] > 0
        if present.sum() < MIN_PNP_POINTS:
            continue
        w, h = size[i]
        f = float(focal) if focal is not None else w
        cam = np.array([[f, 0, w / 2], [0, f, h / 2], [0, 0, 1]])
        obj = np.ascontiguousarray(model_cv[present])
        img = np.ascontiguousarray(kp[i, present, :2], dtype=np.float64)
        try:
            ok, rvec, tvec = cv2.solvePnP(obj, img, cam, None, flags=cv2.SOLVEPNP_SQPNP)
        except cv2.error:  # degenerate configuration (e.g. nearly coincident points)
            continue
        if not ok or tvec[2, 0] <= 0:
            continue
        r_cv, _ = cv2.Rodrigues(rvec)
        r_app = _ray_rotation(np.asarray(tvec[:, 0], dtype=np.float64)).T @ r_cv
        angles[i] = matrix_to_angles(S_FLIP @ r_app @ S_FLIP)
        valid[i] = True
    return angles, valid
