"""The head-pose pipelines users pick offline today, re-built for side-by-side timing.

* :mod:`alternatives.dlib_pnp`: dlib HOG face detector + 68-landmark shape predictor (model from
  the ``face-recognition-models`` wheel, loaded from the installed package, never copied) +
  OpenCV ``solvePnP`` (SQPnP) of six classic landmarks to the same points of MediaPipe's
  canonical face;
* :mod:`alternatives.facemesh_pnp`: BlazeFace (hhpnet's detector) + MediaPipe face mesh
  (:class:`hhpnet.detectors.facemesh.FaceMesh`, the packaged ``face_landmark.tflite``) +
  ``solvePnP`` (SQPnP) of all 468 landmarks to MediaPipe's canonical face
  (:func:`hhpnet.training.mesh_geometry.canonical_face`);
* :mod:`alternatives.pnp5`: BlazeFace + a geometric 5-point ``solvePnP`` on hhpnet's own five
  keypoints (``hhpnet.training.baseline.solve_pnp`` when present).

Pose from landmarks: ``SOLVEPNP_SQPNP`` (a global solver), not the tutorials'
``SOLVEPNP_ITERATIVE`` from a zero start: on real close-ups the latter often lands in a mirrored
or behind-the-camera minimum (issue 11: 28.5° mean error, roll 44.7°, on real labelled photos where
face mesh + SQPnP gives 6.3°). Solutions behind the camera are rejected (NaN).
``tests/test_alternatives.py`` checks every competitor's angles on rendered faces at known poses.

Each module has ``make(threads) -> hhpnet.bench.Candidate``. They are benchmark code only
(the ``[bench]`` extra), never imported by the package.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from hhpnet.convention import S_FLIP, matrix_to_angles
from hhpnet.training.mesh_geometry import canonical_face

__all__ = ["MESH6", "camera_matrix", "canonical_face", "pnp_angles", "ray_rotation"]

#: face-mesh indices of nose tip, chin, outer eye corners (image left, right), mouth corners
#: (image left, right) — the points of the classic six-landmark head-pose fit
MESH6 = [1, 152, 33, 263, 61, 291]


def camera_matrix(width: int, height: int) -> NDArray[np.float64]:
    """Pinhole camera of the tutorials: focal length = image width (pixels), centre = middle."""
    return np.array([[width, 0.0, width / 2.0], [0.0, width, height / 2.0], [0.0, 0.0, 1.0]])


def pnp_angles(
    points2d: NDArray[np.floating],
    model3d: NDArray[np.floating],
    width: int,
    height: int,
    flags: int = cv2.SOLVEPNP_SQPNP,
) -> NDArray[np.float64]:
    """(yaw, pitch, roll) degrees per face from ``(N, K, 2)`` image points by ``cv2.solvePnP``
    (default SQPnP, no distortion) to ``model3d`` (K, 3) in the OpenCV-style head frame,
    converted to hhpnet's convention and, like hhpnet's angles, taken relative to the viewing
    ray through the head (the same pose reads the same anywhere in the frame); NaN rows where
    the fit fails or the head would be behind the camera."""
    cam = camera_matrix(width, height)
    dist = np.zeros(4)
    out = np.full((len(points2d), 3), np.nan)
    obj = np.ascontiguousarray(model3d, np.float64)
    for i, pts in enumerate(points2d):
        try:
            ok, rvec, tvec = cv2.solvePnP(
                obj, np.ascontiguousarray(pts, np.float64), cam, dist, flags=flags
            )
        except cv2.error:  # degenerate points (e.g. all on one spot)
            continue
        if ok and tvec[2, 0] > 0:
            rot_cv, _ = cv2.Rodrigues(rvec)
            rot = ray_rotation(tvec[:, 0]).T @ rot_cv
            out[i] = matrix_to_angles(S_FLIP @ rot @ S_FLIP)
    return out


def ray_rotation(t: NDArray[np.floating]) -> NDArray[np.float64]:
    """Rotation (3, 3) taking the optical axis onto the ray towards ``t`` (OpenCV frame)."""
    d = np.asarray(t, np.float64) / np.linalg.norm(t)
    axis = np.cross([0.0, 0.0, 1.0], d)
    s = float(np.linalg.norm(axis))
    if s < 1e-12:
        return np.eye(3)
    k = axis / s
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + s * kx + (1.0 - d[2]) * (kx @ kx)
