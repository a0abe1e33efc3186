"""MediaPipe face mesh (mediapipe 0.10.14 ``face_landmark.tflite``): 468 face landmarks on the
faces BlazeFace found.

Region of interest as MediaPipe builds it from a BlazeFace detection: the detection box's
centre, rotated so that the eyes are level (the angle of the line from the subject's right eye
to their left eye), a square of 1.5 × the box's longer side. The crop is resampled to 192×192
RGB in [0, 1] (bilinear, black outside the image); all faces of an image go through the network
in one batch. Outputs per face: 468 × (x, y, z) in crop pixels and one face-presence logit.
Landmarks are mapped back to image pixels; z (the mesh's own depth, relative to the face,
larger = farther from the camera) is scaled by the same crop-to-image factor, so all three
columns are in image pixels.

This reproduces ``benchmarks/alternatives/facemesh_pnp.py``, which read the landmarks of the
development file (``aflw2000-dev-landmarks.npz``), on the same input (tested).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.detectors.base import (
    BatchRunner,
    Detections,
    check_image,
    load_interpreter,
    sigmoid,
    verify_model_file,
)
from hhpnet.errors import InputError

__all__ = ["FaceMesh", "FaceMeshResult", "mesh_rois"]

MODEL_FILE = "face_landmark.tflite"
INPUT_SIZE = 192
MESH_POINTS = 468
#: side of the region of interest / longer side of the detection box (MediaPipe's value)
ROI_SCALE = 1.5
#: eye indices (right, left: the subject's) in BlazeFace's raw 6-point order and in hhpnet's
#: 5-point order
_EYES = {6: (0, 1), 5: (2, 1)}


@dataclass
class FaceMeshResult:
    """Face-mesh readings of N faces.

    ``landmarks`` (N, 468, 3) float32: x, y in image pixels and the mesh's depth z in pixels
    (same scale as x and y; relative to the face, larger = farther from the camera);
    ``presence`` (N,) float32: the mesh's face-presence score in [0, 1] (low when the crop holds
    no face); ``rois`` (N, 2, 3) float64: the affine maps from crop pixels to image pixels.
    """

    landmarks: NDArray[np.float32]
    presence: NDArray[np.float32]
    rois: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.presence)


def _as_faces(
    boxes: ArrayLike, keypoints: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Check the faces: boxes (N, 4) and keypoints (N, 5 or 6, ≥ 2), all finite."""
    try:
        b = np.asarray(boxes, np.float64)
        k = np.asarray(keypoints, np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"face mesh: boxes and keypoints must be numeric arrays ({exc})") from None
    if b.ndim == 1 and b.shape == (4,):
        b = b[None]
    if k.ndim == 2:
        k = k[None]
    if b.ndim != 2 or b.shape[1] != 4:
        raise InputError(f"face mesh: boxes must be (N, 4) x1, y1, x2, y2; got shape {b.shape}")
    if k.ndim != 3 or k.shape[1] not in _EYES or k.shape[2] < 2:
        raise InputError(
            "face mesh: keypoints must be (N, 6, 2+) in BlazeFace's raw order or (N, 5, 2+) in "
            f"hhpnet's order; got shape {k.shape}"
        )
    if len(k) != len(b):
        raise InputError(f"face mesh: {len(b)} boxes but {len(k)} keypoint sets")
    right, left = _EYES[k.shape[1]]
    eyes = k[:, [right, left], :2]
    if not (np.isfinite(b).all() and np.isfinite(eyes).all()):
        raise InputError("face mesh: boxes and eye keypoints must be finite")
    side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    if (side <= 0).any():
        raise InputError("face mesh: every box needs x2 > x1 or y2 > y1")
    return b, eyes


def mesh_rois(boxes: ArrayLike, keypoints: ArrayLike) -> NDArray[np.float64]:
    """Affine maps (N, 2, 3) from 192×192 crop pixels to image pixels of the faces' regions of
    interest: image = A[:, :2] @ (u, v) + A[:, 2].

    ``boxes`` (N, 4) x1, y1, x2, y2 pixels; ``keypoints`` (N, 6, 2+) in BlazeFace's raw order
    (right eye, left eye, nose, mouth, right ear, left ear; the subject's) or (N, 5, 2+) in
    hhpnet's order (nose, left eye, right eye, left ear, right ear). Only the eyes are used.
    """
    b, eyes = _as_faces(boxes, keypoints)
    # float32 box and eye arithmetic (the detectors' precision), float64 rotation: the exact
    # steps of the benchmark that read the development file's landmarks
    b32, e32 = b.astype(np.float32), eyes.astype(np.float32)
    d = (e32[:, 1] - e32[:, 0]).astype(np.float64)
    angle = np.arctan2(d[:, 1], d[:, 0])
    side = np.float32(ROI_SCALE) * np.maximum(b32[:, 2] - b32[:, 0], b32[:, 3] - b32[:, 1])
    centre = np.stack([(b32[:, 0] + b32[:, 2]) / 2, (b32[:, 1] + b32[:, 3]) / 2], axis=1)
    k = side / np.float32(INPUT_SIZE)
    c = (np.cos(angle).astype(np.float32) * k).astype(np.float64)
    s = (np.sin(angle).astype(np.float32) * k).astype(np.float64)
    out = np.empty((len(b), 2, 3))
    out[:, 0, 0], out[:, 0, 1] = c, -s
    out[:, 1, 0], out[:, 1, 1] = s, c
    half = INPUT_SIZE / 2
    out[:, :, 2] = centre - (out[:, :, 0] * half + out[:, :, 1] * half)
    return out


class FaceMesh:
    """The MediaPipe face-mesh model: ``mesh(image, boxes, keypoints) -> FaceMeshResult``.

    ``image``: RGB uint8 (H, W, 3); ``boxes`` and ``keypoints``: the BlazeFace faces (see
    :func:`mesh_rois`; :meth:`from_detections` takes a :class:`Detections`). Options:
    ``num_threads`` (TFLite threads of the interpreter used by calls that run alone, default 2).
    Safe to share between threads (an interpreter pool, as the detectors). The model file's
    sha256 is checked when the first instance is made.
    """

    name = "facemesh"

    def __init__(self, *, num_threads: int = 2) -> None:
        if isinstance(num_threads, bool) or not isinstance(num_threads, (int, np.integer)):
            raise InputError(f"num_threads must be an integer ≥ 1, got {num_threads!r}")
        verify_model_file(MODEL_FILE)
        self.num_threads = int(num_threads)
        self._run = BatchRunner(partial(load_interpreter, MODEL_FILE), self.num_threads)

    def __repr__(self) -> str:
        return f"FaceMesh(num_threads={self.num_threads})"

    def crops(self, image: NDArray[np.uint8], rois: NDArray[np.float64]) -> NDArray[np.float32]:
        """The (N, 192, 192, 3) float32 network inputs in [0, 1] of the regions ``rois``."""
        import cv2

        batch = np.empty((len(rois), INPUT_SIZE, INPUT_SIZE, 3), np.float32)
        for i, a in enumerate(rois):
            crop = cv2.warpAffine(
                image,
                a,
                (INPUT_SIZE, INPUT_SIZE),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
            )
            batch[i] = crop * np.float32(1.0 / 255.0)
        return batch

    def __call__(
        self, image: NDArray[np.uint8], boxes: ArrayLike, keypoints: ArrayLike
    ) -> FaceMeshResult:
        """Landmarks of every face in one batch (see the class docstring)."""
        image = check_image(image)
        rois = mesh_rois(boxes, keypoints)
        n = len(rois)
        if n == 0:
            return FaceMeshResult(
                np.zeros((0, MESH_POINTS, 3), np.float32), np.zeros(0, np.float32), rois
            )
        outs = self._run(self.crops(image, rois))
        mesh = next(o for o in outs if o.size == n * MESH_POINTS * 3).reshape(n, MESH_POINTS, 3)
        logit = next(o for o in outs if o.size == n).reshape(n)
        xy = np.einsum("nij,nkj->nki", rois[:, :, :2], mesh[..., :2]) + rois[:, None, :, 2]
        scale = np.hypot(rois[:, 0, 0], rois[:, 1, 0])
        z = mesh[..., 2] * scale[:, None]
        landmarks = np.concatenate([xy, z[..., None]], axis=-1).astype(np.float32)
        return FaceMeshResult(landmarks, sigmoid(logit).astype(np.float32), rois)

    def from_detections(self, image: NDArray[np.uint8], faces: Detections) -> FaceMeshResult:
        """:meth:`__call__` on the boxes and (hhpnet-order) keypoints of BlazeFace detections."""
        return self(image, faces.boxes, faces.keypoints)
