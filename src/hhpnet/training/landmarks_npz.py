"""Real readings of labelled photos *and of their mirror images* in one ``.npz`` file.

The development file ``aflw2000-dev-landmarks.npz`` (``../shared/data/README.md``) holds, per
photo, what this project's detectors returned on the photo and on its mirror image, with the
photo's head-pose labels — no images. :func:`load_landmarks_npz` reads it once as a
:class:`LandmarkSet`; :meth:`LandmarkSet.keypoint_set` gives one five-point reading as a
:class:`~hhpnet.training.keypoints_csv.KeypointSet` (the rows of the keypoints CSV loader, so the
same evaluation code scores both files), :meth:`LandmarkSet.reading` any raw array (the face
mesh's 468 landmarks).

Keys (n photos; NaN where a detector found nothing):

* ``files`` (n,) str, ``labels_ypr`` (n, 3) degrees (hhpnet's convention), ``size_wh`` (n, 2)
  — the only required keys;
* ``facemesh`` (n, 468, 3): face-mesh landmarks x, y pixels and the mesh's depth in pixels
  (:class:`hhpnet.detectors.facemesh.FaceMesh`); ``facemesh_box`` (n, 4),
  ``facemesh_face_score`` (n,): the BlazeFace face it was read from;
* ``blazeface5`` (n, 5, 3): BlazeFace's five points in hhpnet's order with the confidence the
  API derives; ``blazeface_box``, ``blazeface_score`` (n,);
* ``movenet17`` (n, 17, 3): MoveNet's raw COCO-17 points and scores (no threshold);
  ``movenet_score`` (n,);
* the same keys with the suffix ``_flip``: read on the mirror image, coordinates in the mirrored
  photo (x' = width − 1 − x), labels those of the original photo.

Sources (:data:`LANDMARK_SOURCES`) are named as the pipeline's readings (:mod:`hhpnet.fusion`):
``facemesh``, ``blazeface``, ``movenet`` (the photo) and the same with ``_mirror`` (the mirror
image); :data:`NPZ_SOURCES` are the five-point ones. A mirror source's set is
*self-consistent*: its points are those of the mirror image and its labels the mirror image's
pose (−yaw, pitch, −roll), so any model scores it as it is; the reading of the photo is its
prediction with yaw and roll negated (:func:`unmirror_angles`). MoveNet's points go through the
detector's own rule (a head point scoring below :data:`MOVENET_KEYPOINT_THRESHOLD` is missing),
so the keypoints are those the pipeline reads. Malformed files raise a one-line
:class:`hhpnet.errors.InputError` naming the key.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.errors import InputError
from hhpnet.fusion import MIRROR_SUFFIX, unmirror
from hhpnet.keypoints import validate_keypoints
from hhpnet.training.keypoints_csv import KeypointSet, fold_ids

__all__ = [
    "LANDMARK_READINGS",
    "LANDMARK_SOURCES",
    "MOVENET_KEYPOINT_THRESHOLD",
    "NPZ_SOURCES",
    "LandmarkSet",
    "load_landmarks_npz",
    "unmirror_angles",
]

#: array name → (points, columns) of a reading
LANDMARK_READINGS: dict[str, tuple[int, int]] = {
    "facemesh": (468, 3),
    "blazeface5": (5, 3),
    "movenet17": (17, 3),
}
#: five-point readings a landmarks file holds, photo first, then mirror image
NPZ_SOURCES: tuple[str, ...] = ("blazeface", "movenet", "blazeface_mirror", "movenet_mirror")
#: every reading (the face mesh's and the five-point ones)
LANDMARK_SOURCES: tuple[str, ...] = ("facemesh", "facemesh_mirror", *NPZ_SOURCES)
#: MoveNetDetector's default ``keypoint_threshold``: a head point scoring below is missing
MOVENET_KEYPOINT_THRESHOLD = 0.1
#: five-point source → (points array, score array)
_KEYS = {"blazeface": ("blazeface5", "blazeface_score"), "movenet": ("movenet17", "movenet_score")}
_REQUIRED = ("files", "labels_ypr", "size_wh")


def unmirror_angles(angles: ArrayLike) -> NDArray[np.float32]:
    """The pose of the photo from that of its mirror image (or back): yaw and roll negated."""
    out: NDArray[np.float32] = unmirror(np.asarray(angles, np.float32)).astype(np.float32)
    return out


def _split(source: str) -> tuple[str, bool]:
    """(base reading, mirror?) of a source name."""
    if source not in LANDMARK_SOURCES:
        raise InputError(
            f"unknown landmarks source {source!r}; choose from {', '.join(LANDMARK_SOURCES)}"
        )
    return source.removesuffix(MIRROR_SUFFIX), source.endswith(MIRROR_SUFFIX)


@dataclass
class LandmarkSet:
    """Readings of ``n`` labelled photos (see the module docstring).

    ``angles`` (n, 3) float32 labels yaw, pitch, roll; ``image_size`` (n, 2) int32 width,
    height; ``readings[name]`` and ``readings[name + "_flip"]`` (n, K, 3) float32 (NaN where
    not found); ``extras``: the other per-photo numeric arrays of the file (boxes, scores).
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

    def sources(self) -> tuple[str, ...]:
        """The :data:`LANDMARK_SOURCES` this file holds."""
        keys = {"facemesh": "facemesh", **{b: k[0] for b, k in _KEYS.items()}}
        have = []
        for source in LANDMARK_SOURCES:
            base, mirror = source.removesuffix(MIRROR_SUFFIX), source.endswith(MIRROR_SUFFIX)
            if keys[base] + ("_flip" if mirror else "") in self.readings:
                have.append(source)
        return tuple(have)

    def labels(self, mirror: bool = False) -> NDArray[np.float32]:
        """Labels of the photos, or of their mirror images (yaw and roll negated)."""
        return unmirror_angles(self.angles) if mirror else self.angles

    def keypoint_set(self, source: str = "blazeface") -> KeypointSet:
        """A five-point reading (:data:`NPZ_SOURCES`) as a :class:`KeypointSet`: hhpnet's five
        keypoints, all zeros where nothing was found; a mirror source with the mirror image's
        labels. Confidences outside [0, 1] or malformed points raise :class:`InputError`."""
        base, mirror = _split(source)
        if base not in _KEYS:
            raise InputError(f"{source} is not a five-point reading ({', '.join(NPZ_SOURCES)})")
        points_key, score_key = _KEYS[base]
        points = np.asarray(self.reading(points_key, mirror), np.float64)
        score_key += "_flip" if mirror else ""
        if score_key not in self.extras:
            raise InputError(f"{self.name}: no array {score_key!r}")
        score = self.extras[score_key]
        if score.shape != (len(self),):
            raise InputError(f"{self.name}: {score_key} must have shape ({len(self)},)")
        head = points[:, :5].copy()
        found: NDArray[np.bool_] = np.asarray(np.isfinite(head).all(axis=(1, 2)), bool)
        conf = head[found, :, 2]
        if ((conf < 0) | (conf > 1)).any():
            raise InputError(f"{self.name}: {source} confidences must be in [0, 1]")
        if base == "movenet":
            low = head[..., 2] < MOVENET_KEYPOINT_THRESHOLD
            head[low & found[:, None]] = 0.0
            found &= (head[..., 2] > 0).any(axis=1)
        kp = np.zeros((len(self), 5, 3), np.float32)
        if found.any():
            kp[found] = validate_keypoints(head[found], name=f"{self.name}: {source} keypoints")
        return KeypointSet(
            name=f"{self.name} ({source})",
            source=source,
            files=self.files,
            angles=self.labels(mirror),
            keypoints=kp,
            found=found,
            image_size=self.image_size,
            score=np.where(found, score, np.nan).astype(np.float32),
        )

    def keypoints5(self, name: str, mirror: bool = False) -> NDArray[np.float32]:
        """hhpnet's five keypoints (n, 5, 3) of the ``blazeface`` or ``movenet`` reading as the
        pipeline hands them to the model (:meth:`keypoint_set`, then
        :meth:`KeypointSet.cleaned_keypoints`); all zeros where nothing was found."""
        source = name + (MIRROR_SUFFIX if mirror else "")
        return self.keypoint_set(source).cleaned_keypoints()[0]

    def mirrored_angles(self) -> NDArray[np.float32]:
        """Labels of the mirrored photos: yaw and roll negated."""
        return self.labels(mirror=True)

    def folds(self, k: int = 5, seed: int = 0) -> NDArray[np.int64]:
        """Cross-validation folds stratified by |yaw|
        (:func:`hhpnet.training.datasets.fold_ids`): the same folds as the keypoints CSV of the
        same photos in the same order."""
        return fold_ids(len(self), k, seed, yaw=self.angles[:, 0])


def load_landmarks_npz(path: str | Path) -> LandmarkSet:
    """Read a readings file (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: not a readable .npz file (not found)")
    try:
        with np.load(p, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{p}: not a readable .npz file ({exc})".splitlines()[0]) from None
    missing = [k for k in _REQUIRED if k not in arrays]
    if missing:
        raise InputError(f"{p}: missing array(s) {', '.join(missing)}")
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
    if not (np.isfinite(size).all() and (size > 0).all()):
        raise InputError(f"{p}: size_wh must be finite and positive")
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
        and arrays[key].ndim >= 1
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
