"""The estimator's face-mesh reading: MediaPipe's 468 face landmarks read by ``hhpnet-mesh-1.0``.

For every head BlazeFace found (detector tags ``blazeface`` and ``blazeface+movenet``: the
``"auto"`` detector keeps BlazeFace's box and points of a head it merged with a MoveNet person
as ``alt_boxes`` / ``alt_keypoints``), :class:`hhpnet.detectors.facemesh.FaceMesh` reads the
landmarks in BlazeFace's own box, rotated by its eyes (how MediaPipe crops, and how the
development readings the mesh model was calibrated on were made); all faces of an image go
through the network in one batch. :class:`hhpnet.mesh_model.MeshPoseModel` turns them into a
pose with σ, one more reading of the head for :mod:`hhpnet.fusion` (named ``"facemesh"``; its
mirror pass twin ``"facemesh_mirror"``).

Where it does not run, decided by measurement (docs/model.md, "The face mesh in the
estimator"):

* faces whose BlazeFace box is narrower than :data:`MIN_FACE_PX`: on bundled photos and renders
  downscaled step by step, the mesh's pose stays within 3.5° of its full-size reading down to
  55 px, and drifts by up to 11.6° at 40 px (while its σ does not grow);
* crops the mesh itself does not take for a face (presence below :data:`MIN_PRESENCE`: real
  faces score ≥ 0.99; a face BlazeFace found on a head turned far away scored 0.19, and its
  pose moved by 5–30° when the photo was downscaled).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from hhpnet.fusion import reading_names

if TYPE_CHECKING:
    from hhpnet.detectors.facemesh import FaceMeshResult
    from hhpnet.mesh_model import MeshPoseModel
    from hhpnet.poses import Poses

    #: ``face_mesh(rgb_image, boxes (N, 4), points (N, 5, 3)) -> landmarks and presence``
    FaceMeshFn = Callable[
        [NDArray[np.uint8], NDArray[np.float32], NDArray[np.float32]], FaceMeshResult
    ]

__all__ = ["MIN_FACE_PX", "MIN_PRESENCE", "MeshReader", "blazeface_faces"]

F32 = NDArray[np.float32]
#: the mesh reads faces whose BlazeFace box is at least this wide or high (pixels)
MIN_FACE_PX = 50.0
#: the mesh's face-presence score below which its reading is dropped
MIN_PRESENCE = 0.5
_LOCK = threading.Lock()


def blazeface_faces(dets: Poses) -> tuple[NDArray[np.bool_], F32, F32]:
    """Per person of a :class:`hhpnet.detectors.base.Detections`: whether BlazeFace saw the
    head, and its box (N, 4) and five points (N, 5, 3) there (the person's own where its tag is
    ``blazeface``, the second detector's where ``blazeface`` is the second part of a merged
    tag). Rows without them: False, NaN box, zero points."""
    n = len(dets.boxes)
    first, second = reading_names(dets.detector, n)
    own = first == "blazeface"
    boxes = np.full((n, 4), np.nan, np.float32)
    points = np.zeros((n, 5, 3), np.float32)
    boxes[own], points[own] = dets.boxes[own], dets.keypoints[own]
    alt_boxes, alt = getattr(dets, "alt_boxes", None), getattr(dets, "alt_keypoints", None)
    other = (second == "blazeface") & ~own
    if alt_boxes is not None and alt is not None and other.any():
        boxes[other], points[other] = alt_boxes[other], alt[other]
    found = np.isfinite(boxes).all(axis=1) & np.isfinite(points[:, 1:3, :2]).all(axis=(1, 2))
    return np.asarray(found, bool), boxes, points


class MeshReader:
    """Face mesh + mesh model, loaded on first use: ``reader(image, dets, rows)`` → angles and σ
    (N, 3) degrees of the people of ``dets`` (NaN / inf where there is no mesh reading).

    ``face_mesh``: None (the packaged :class:`~hhpnet.detectors.facemesh.FaceMesh` with
    ``num_threads`` TFLite threads: 1 by default — on two busy cores one thread ran the batch
    of the pair photo's two faces in 2.4 ms against 3.0–3.4 ms with two) or any callable
    ``(rgb_image, boxes, keypoints) -> result`` with ``landmarks`` (N, 468, 3) and ``presence``
    (N,); ``model``: a mesh model name or object (default ``hhpnet-mesh-1.0``).
    """

    def __init__(
        self,
        face_mesh: FaceMeshFn | None = None,
        model: str | MeshPoseModel = "hhpnet-mesh-1.0",
        *,
        num_threads: int = 1,
    ) -> None:
        self._face_mesh = face_mesh
        self._model = model
        self.num_threads = num_threads

    def __repr__(self) -> str:
        return f"MeshReader(face_mesh={self._face_mesh!r}, model={self._model!r})"

    def _load(self) -> tuple[FaceMeshFn, MeshPoseModel]:
        if self._face_mesh is None or isinstance(self._model, str):
            from hhpnet.mesh_model import load_mesh_model

            with _LOCK:  # threads sharing a fresh estimator load it once
                if self._face_mesh is None:
                    from hhpnet.detectors.facemesh import FaceMesh

                    self._face_mesh = FaceMesh(num_threads=self.num_threads)
                if isinstance(self._model, str):
                    self._model = load_mesh_model(self._model)
        return self._face_mesh, self._model

    def __call__(
        self, image: NDArray[np.uint8], dets: Poses, rows: NDArray[np.bool_] | None = None
    ) -> tuple[F32, F32]:
        found, boxes, points = blazeface_faces(dets)
        n = len(found)
        if rows is not None:
            found &= rows
        side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        read = np.flatnonzero(found & (np.nan_to_num(side) >= MIN_FACE_PX))
        angles = np.full((n, 3), np.nan, np.float32)
        sigma = np.full((n, 3), np.inf, np.float32)
        if not len(read):
            return angles, sigma
        face_mesh, model = self._load()
        mesh = face_mesh(image, boxes[read], points[read])
        seen = np.asarray(mesh.presence, np.float32).reshape(-1) >= MIN_PRESENCE
        if not seen.any():
            return angles, sigma
        out = model.predict(np.asarray(mesh.landmarks)[seen])
        ok = np.asarray(out.valid, bool)
        rows_ok = read[seen][ok]
        angles[rows_ok] = np.asarray(out.angles, np.float32)[ok]
        sigma[rows_ok] = np.asarray(out.sigma, np.float32)[ok]
        return angles, sigma
