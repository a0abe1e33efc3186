"""The head-pose pipelines users pick offline today, re-built for side-by-side timing.

* :mod:`alternatives.dlib_pnp`: dlib HOG face detector + 68-landmark shape predictor (model from
  the ``face-recognition-models`` wheel, loaded from the installed package, never copied) +
  OpenCV ``solvePnP`` of six classic landmarks to a generic 3-D face;
* :mod:`alternatives.facemesh_pnp`: BlazeFace (hhpnet's detector) + MediaPipe face-mesh
  ``face_landmark.tflite`` (mediapipe 0.10.14 wheel, Apache-2.0, ``benchmarks/models``) on
  ai-edge-litert + the same ``solvePnP``;
* :mod:`alternatives.pnp5`: BlazeFace + a geometric 5-point ``solvePnP`` on hhpnet's own five
  keypoints (``hhpnet.baseline.solve_pnp`` when present).

Each module has ``make(threads) -> hhpnet.bench.Candidate``. They are benchmark code only
(the ``[bench]`` extra), never imported by the package.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from hhpnet.convention import S_FLIP, matrix_to_angles

#: Generic 3-D face for the six classic landmarks, arbitrary units (≈ 0.1 mm), in the OpenCV-style
#: head frame: x to the image right, y down, z away from the viewer (nose tip nearest, z = 0).
#: Order: nose tip, chin, outer corner of the eye on the image left, of the eye on the image right,
#: mouth corner on the image left, on the image right. The classic tutorial values, y and z flipped.
FACE6_3D = np.array(
    [
        [0.0, 0.0, 0.0],
        [0.0, 330.0, 65.0],
        [-225.0, -170.0, 135.0],
        [225.0, -170.0, 135.0],
        [-150.0, 150.0, 125.0],
        [150.0, 150.0, 125.0],
    ]
)


def camera_matrix(width: int, height: int) -> NDArray[np.float64]:
    """Pinhole camera of the tutorials: focal length = image width (pixels), centre = middle."""
    return np.array([[width, 0.0, width / 2.0], [0.0, width, height / 2.0], [0.0, 0.0, 1.0]])


def pnp_angles(
    points2d: NDArray[np.floating],
    model3d: NDArray[np.floating],
    width: int,
    height: int,
    flags: int = cv2.SOLVEPNP_ITERATIVE,
) -> NDArray[np.float64]:
    """(yaw, pitch, roll) degrees per face from ``(N, K, 2)`` image points by ``cv2.solvePnP``
    (default: iterative as in the tutorials, ≥ 6 points; no distortion), converted to hhpnet's
    convention; NaN rows where it fails."""
    cam = camera_matrix(width, height)
    dist = np.zeros(4)
    out = np.full((len(points2d), 3), np.nan)
    obj = np.ascontiguousarray(model3d, np.float64)
    for i, pts in enumerate(points2d):
        ok, rvec, _ = cv2.solvePnP(
            obj, np.ascontiguousarray(pts, np.float64), cam, dist, flags=flags
        )
        if ok:
            rot_cv, _ = cv2.Rodrigues(rvec)
            out[i] = matrix_to_angles(S_FLIP @ rot_cv @ S_FLIP)
    return out
