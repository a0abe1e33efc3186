"""The landmarks file's stored face-mesh landmarks in place of the face-mesh network.

The real development readings (``aflw2000-dev-landmarks.npz``) hold, per photo and per mirror
image, the face mesh's landmarks read in BlazeFace's box (``facemesh_box``). A
:class:`StoredFaceMesh` answers the estimator's face-mesh call with them, looked up by that
box, so that :class:`hhpnet.HeadPoseEstimator` runs its own face-mesh path — which faces it
asks for, the mesh model, the mirror mapping, the fusion — on the real readings without the
photos. The images it is given are blank apart from one marker pixel: value 1 at the top-left
for the photo, which the mirror image carries at the top-right (see :func:`blank`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hhpnet.detectors.facemesh import FaceMeshResult


def blank(width: int, height: int) -> np.ndarray:
    """A black RGB photo with the marker pixel (its mirror image has it at the other corner)."""
    img = np.zeros((height, width, 3), np.uint8)
    img[0, 0] = 1
    return img


def is_photo(image: np.ndarray) -> bool:
    """The photo (not its mirror image) of :func:`blank`."""
    return bool(image[0, 0, 0] == 1)


class StoredFaceMesh:
    """``mesh(image, boxes, keypoints)`` → the stored landmarks of the faces with these boxes in
    the photo (``photo``: boxes (N, 4), landmarks (N, 468, 3)) or in its mirror image
    (``mirror``), presence 1. A box it does not hold is a test failure (the estimator asked for
    a face that BlazeFace did not give)."""

    def __init__(self, photo: tuple[Any, Any], mirror: tuple[Any, Any] | None = None) -> None:
        self._sets = {True: self._index(*photo)}
        if mirror is not None:
            self._sets[False] = self._index(*mirror)
        self.calls = 0

    @staticmethod
    def _index(boxes: Any, landmarks: Any) -> dict[tuple[float, ...], np.ndarray]:
        b = np.asarray(boxes, np.float32)
        ok = np.isfinite(b).all(axis=1)
        return {
            tuple(b[i].tolist()): np.asarray(landmarks[i], np.float32) for i in np.flatnonzero(ok)
        }

    def __call__(self, image: np.ndarray, boxes: Any, keypoints: Any) -> FaceMeshResult:
        self.calls += 1
        table = self._sets[is_photo(image)]
        rows = []
        for b in boxes:
            key = tuple(np.asarray(b, np.float32).tolist())
            assert key in table, f"face mesh asked for a box BlazeFace did not give: {key}"
            rows.append(table[key])
        n = len(rows)
        landmarks = np.stack(rows) if n else np.zeros((0, 468, 3), np.float32)
        return FaceMeshResult(landmarks, np.ones(n, np.float32), np.zeros((n, 2, 3)))
