"""The head-pose pipelines users pick offline today, re-built for side-by-side timing.

* :mod:`alternatives.dlib_pnp`: dlib HOG face detector + 68-landmark shape predictor (model from
  the ``face-recognition-models`` wheel, loaded from the installed package, never copied) +
  OpenCV ``solvePnP`` (SQPnP) of six classic landmarks to the same points of MediaPipe's
  canonical face;
* :mod:`alternatives.facemesh_pnp`: BlazeFace (hhpnet's detector) + MediaPipe face-mesh
  ``face_landmark.tflite`` (mediapipe 0.10.14 wheel, Apache-2.0, ``benchmarks/models``) on
  ai-edge-litert + ``solvePnP`` (SQPnP) of all 468 landmarks to MediaPipe's canonical face;
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

import hashlib
import struct
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from hhpnet.convention import S_FLIP, matrix_to_angles

MODELS = Path(__file__).resolve().parents[1] / "models"
#: MediaPipe's face-geometry metadata (canonical face mesh), unchanged from the npm package
#: ``@mediapipe/face_mesh`` 0.4.1657299874 (Apache-2.0; see ``benchmarks/models/NOTICE``)
CANONICAL_FILE = MODELS / "geometry_pipeline_metadata_landmarks.binarypb"
CANONICAL_SHA256 = "bdbcda96dfcb7da883da124aaa2c55dee49770d934f0fcc71747f8c21bdc75b4"
#: face-mesh indices of nose tip, chin, outer eye corners (image left, right), mouth corners
#: (image left, right) — the points of the classic six-landmark head-pose fit
MESH6 = [1, 152, 33, 263, 61, 291]


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _proto_fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    """``(field number, wire type, value)`` of a protobuf message (the wire types it uses)."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i : i + n], i + n
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


@lru_cache(maxsize=1)
def canonical_face() -> NDArray[np.float64]:
    """MediaPipe's canonical face: (468, 3) vertices in cm in the OpenCV-style head frame of
    :func:`pnp_angles` (x to the image right, y down, z away from the viewer).

    Read from ``GeometryPipelineMetadata.canonical_mesh`` (field 1), a ``Mesh3d`` whose
    ``vertex_buffer`` (field 3) holds x, y, z, u, v per vertex, x to the image right, y up,
    z towards the viewer; the face looks along +z at zero pose.
    """
    data = CANONICAL_FILE.read_bytes()
    if hashlib.sha256(data).hexdigest() != CANONICAL_SHA256:
        raise RuntimeError(f"{CANONICAL_FILE}: unexpected checksum")
    values: list[float] = []
    for number, _, mesh in _proto_fields(data):
        if number != 1:
            continue
        for field, wire, value in _proto_fields(mesh):
            if field == 3:
                fmt = "<f" if wire == 5 else f"<{len(value) // 4}f"
                values.extend(struct.unpack(fmt, value))
    vertices = np.asarray(values, np.float64).reshape(-1, 5)[:, :3]
    if vertices.shape != (468, 3):
        raise RuntimeError(f"{CANONICAL_FILE}: expected 468 vertices, got {len(vertices)}")
    return vertices * np.array([1.0, -1.0, -1.0])


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
