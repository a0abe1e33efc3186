"""Real readings of labelled photos in one ``.npz`` file (the development file
``aflw2000-dev-landmarks.npz`` of ``../shared/data``): face-mesh landmarks, BlazeFace and MoveNet
keypoints of each photo and of its mirror image, with ground-truth angles; no images.

Keys (n photos; NaN where a detector found nothing; ``*_flip``: the same reading of the mirrored
photo, coordinates in the mirrored image x' = width − 1 − x, labels those of the original):

* ``files`` (n,) str, ``labels_ypr`` (n, 3) degrees in hhpnet's convention, ``size_wh`` (n, 2);
* ``facemesh`` (n, 468, 3): face-mesh landmarks x, y pixels and the mesh's depth in pixels
  (:class:`hhpnet.detectors.facemesh.FaceMesh`); ``facemesh_box`` (n, 4),
  ``facemesh_face_score`` (n,): the BlazeFace face it was read from;
* ``blazeface5`` (n, 5, 3): hhpnet's five BlazeFace keypoints + derived confidence;
  ``blazeface_box``, ``blazeface_score``;
* ``movenet17`` (n, 17, 3): MoveNet's COCO-17 keypoints x, y, score (raw, no threshold);
  ``movenet_score``.

Only ``files``, ``labels_ypr``, ``size_wh`` and ``facemesh`` are required.
:func:`load_landmarks_npz` checks shapes and raises :class:`hhpnet.errors.InputError` naming
the key.
"""

from __future__ import annotations

import inspect
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hhpnet.errors import InputError
from hhpnet.training.keypoints_csv import fold_ids

__all__ = ["LANDMARK_READINGS", "LandmarkSet", "load_landmarks_npz"]

#: reading name → (points, columns) of its array
LANDMARK_READINGS: dict[str, tuple[int, int]] = {
    "facemesh": (468, 3),
    "blazeface5": (5, 3),
    "movenet17": (17, 3),
}
_REQUIRED = ("files", "labels_ypr", "size_wh", "facemesh")


@dataclass
class LandmarkSet:
    """Readings of ``n`` labelled photos (see the module docstring).

    ``angles`` (n, 3) float32 labels yaw, pitch, roll; ``image_size`` (n, 2) int32 width,
    height; ``readings[name]`` and ``readings[name + "_flip"]`` (n, K, 3) float32 (NaN where
    not found); ``extras``: the other per-photo arrays of the file (boxes, scores).
    """

    name: str
    files: list[str]
    angles: NDArray[np.float32]
    image_size: NDArray[np.int32]
    readings: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    extras: dict[str, NDArray[np.float32]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.files)

    def reading(self, name: str, mirror: bool = False) -> NDArray[np.float32]:
        """The (n, K, 3) array of a reading (``mirror``: of the mirrored photos)."""
        key = f"{name}_flip" if mirror else name
        if key not in self.readings:
            have = ", ".join(sorted(self.readings)) or "none"
            raise InputError(f"{self.name}: no reading {key!r} (the file has: {have})")
        return self.readings[key]

    def found(self, name: str, mirror: bool = False) -> NDArray[np.bool_]:
        """Photos where the reading exists (some point with finite x, y; the file has NaN
        everywhere where a detector found nothing)."""
        xy = self.reading(name, mirror)[..., :2]
        return np.asarray(np.any(np.isfinite(xy).all(axis=2), axis=1), bool)

    def keypoints5(self, name: str, mirror: bool = False) -> NDArray[np.float32]:
        """hhpnet's five keypoints (n, 5, 3) of the ``blazeface`` or ``movenet`` reading, as the
        pipeline hands them to the model: MoveNet's COCO head points with scores below the
        detector's keypoint threshold missing; implausible points dropped
        (:func:`hhpnet.keypoints.drop_implausible_points`); all zeros where nothing was found."""
        from hhpnet.detectors.movenet import COCO_HEAD, MoveNetDetector
        from hhpnet.keypoints import drop_implausible_points

        if name not in ("blazeface", "movenet"):
            raise InputError(f"keypoints5: reading must be blazeface or movenet, got {name!r}")
        key = "blazeface5" if name == "blazeface" else "movenet17"
        kp = np.nan_to_num(self.reading(key, mirror), nan=0.0)
        if name == "movenet":
            kp = kp[:, COCO_HEAD]
            thr = inspect.signature(MoveNetDetector).parameters["keypoint_threshold"].default
            kp[kp[..., 2] < thr] = 0.0
        kp[~self.found(key, mirror)] = 0.0
        for size in np.unique(self.image_size, axis=0):
            rows = (self.image_size == size).all(axis=1)
            kp[rows] = drop_implausible_points(kp[rows], (int(size[0]), int(size[1])))[0]
        result: NDArray[np.float32] = kp.astype(np.float32)
        return result

    def mirrored_angles(self) -> NDArray[np.float32]:
        """Labels of the mirrored photos: yaw and roll negated."""
        return (self.angles * np.array([-1.0, 1.0, -1.0], np.float32)).astype(np.float32)

    def folds(self, k: int = 5, seed: int = 0) -> NDArray[np.int64]:
        """Cross-validation folds stratified by |yaw| (:func:`hhpnet.datasets.fold_ids`): the
        same folds as the keypoints CSV of the same photos in the same order."""
        return fold_ids(len(self), k, seed, yaw=self.angles[:, 0])


def load_landmarks_npz(path: str | Path) -> LandmarkSet:
    """Read a readings file (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"landmarks file not found: {p}")
    try:
        with np.load(p, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{p}: not a readable .npz file ({exc})".splitlines()[0]) from None
    missing = [k for k in _REQUIRED if k not in arrays]
    if missing:
        raise InputError(f"{p}: missing key(s) {', '.join(missing)}")
    n = len(arrays["files"])

    def check(key: str, shape: tuple[int, ...]) -> NDArray[np.float32]:
        a = arrays[key]
        if a.shape != shape or not np.issubdtype(a.dtype, np.number):
            raise InputError(f"{p}: {key} must be numeric of shape {shape}, got {a.shape}")
        return a.astype(np.float32)

    if arrays["files"].ndim != 1 or n == 0:
        raise InputError(f"{p}: files must be a non-empty 1-D array")
    angles = check("labels_ypr", (n, 3))
    if not np.isfinite(angles).all():
        raise InputError(f"{p}: labels_ypr must be finite")
    size = check("size_wh", (n, 2))
    if not (size > 0).all():
        raise InputError(f"{p}: size_wh must be positive")
    readings: dict[str, NDArray[np.float32]] = {}
    for name, (k, c) in LANDMARK_READINGS.items():
        for key in (name, f"{name}_flip"):
            if key in arrays:
                readings[key] = check(key, (n, k, c))
    extras = {
        key: arrays[key].astype(np.float32)
        for key in arrays
        if key not in readings
        and key not in _REQUIRED
        and len(arrays[key]) == n
        and np.issubdtype(arrays[key].dtype, np.number)
    }
    return LandmarkSet(
        name=p.name,
        files=[str(f) for f in arrays["files"]],
        angles=angles,
        image_size=size.astype(np.int32),
        readings=readings,
        extras=extras,
    )
