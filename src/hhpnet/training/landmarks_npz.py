"""Real readings of photos *and of their mirror images* from a landmarks file (``.npz``).

The development file ``aflw2000-dev-landmarks.npz`` (``../shared/data/README.md``) holds, per
photo, what this project's detectors returned on the photo and on its mirror image, with the
photo's head-pose labels — no images. :func:`load_landmarks_npz` turns one of its readings into
a :class:`~hhpnet.training.keypoints_csv.KeypointSet`, the rows of the keypoints CSV loader, so
the same evaluation code scores both files.

Keys read (N photos; NaN where the detector found nothing):

* ``files`` (N,), ``labels_ypr`` (N, 3) degrees (hhpnet's convention), ``size_wh`` (N, 2);
* ``blazeface5`` (N, 5, 3): BlazeFace's five points in hhpnet's order with the confidence the
  API derives; ``blazeface_score`` (N,);
* ``movenet17`` (N, 17, 3): MoveNet's raw COCO-17 points and scores (no threshold);
  ``movenet_score`` (N,);
* the same keys with the suffix ``_flip``: read on the mirror image, coordinates in the mirrored
  photo (x' = width − 1 − x).

Sources (:data:`NPZ_SOURCES`): ``blazeface``, ``movenet`` (the photo) and
``blazeface_mirror``, ``movenet_mirror`` (the mirror image). A mirror source's set is
*self-consistent*: its keypoints are those of the mirror image and its labels the mirror
image's pose (−yaw, pitch, −roll), so any model scores it as it is; the reading of the photo is
its prediction with yaw and roll negated (:func:`unmirror_angles`). MoveNet's points go through
the detector's own rule (a head point scoring below :data:`MOVENET_KEYPOINT_THRESHOLD` is
missing), so the keypoints are those the pipeline reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.errors import InputError
from hhpnet.fusion import MIRROR_SUFFIX
from hhpnet.keypoints import validate_keypoints
from hhpnet.training.keypoints_csv import KeypointSet

__all__ = ["MOVENET_KEYPOINT_THRESHOLD", "NPZ_SOURCES", "load_landmarks_npz", "unmirror_angles"]

#: readings a landmarks file holds, photo first, then mirror image
NPZ_SOURCES: tuple[str, ...] = ("blazeface", "movenet", "blazeface_mirror", "movenet_mirror")
#: MoveNetDetector's default ``keypoint_threshold``: a head point scoring below is missing
MOVENET_KEYPOINT_THRESHOLD = 0.1
_KEYS = {"blazeface": ("blazeface5", "blazeface_score"), "movenet": ("movenet17", "movenet_score")}


def unmirror_angles(angles: ArrayLike) -> NDArray[np.float32]:
    """The pose of the photo from that of its mirror image (or back): yaw and roll negated."""
    a = np.array(angles, np.float32, copy=True)
    a[..., 0] *= -1
    a[..., 2] *= -1
    return a


def _array(data: np.lib.npyio.NpzFile, key: str, path: Path) -> NDArray[np.float64]:
    if key not in data.files:
        raise InputError(f"{path}: missing array {key!r}")
    try:
        return np.asarray(data[key], np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{path}: array {key!r} is not numeric") from None


def load_landmarks_npz(path: str | Path, source: str = "blazeface") -> KeypointSet:
    """One reading (:data:`NPZ_SOURCES`) of a landmarks file as a :class:`KeypointSet`.

    Malformed files (not an npz, missing arrays, wrong shapes, labels not finite, confidences
    outside [0, 1]) raise :class:`hhpnet.errors.InputError`.
    """
    if source not in NPZ_SOURCES:
        raise InputError(f"unknown npz source {source!r}; choose from {', '.join(NPZ_SOURCES)}")
    p = Path(path)
    mirror = source.endswith(MIRROR_SUFFIX)
    base = source.removesuffix(MIRROR_SUFFIX)
    suffix = "_flip" if mirror else ""
    try:
        data = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{p}: not a readable .npz file ({exc})") from None
    with data:
        if "files" not in data.files:
            raise InputError(f"{p}: missing array 'files'")
        files = [str(f) for f in data["files"]]
        labels = _array(data, "labels_ypr", p)
        size = _array(data, "size_wh", p)
        points = _array(data, _KEYS[base][0] + suffix, p)
        score = _array(data, _KEYS[base][1] + suffix, p)
    n = len(files)
    want = {"labels_ypr": (n, 3), "size_wh": (n, 2), "score": (n,)}
    for name, arr in (("labels_ypr", labels), ("size_wh", size), ("score", score)):
        if arr.shape != want[name]:
            raise InputError(f"{p}: {name} has shape {arr.shape}, expected {want[name]}")
    if points.ndim != 3 or points.shape[0] != n or points.shape[2] != 3 or points.shape[1] < 5:
        raise InputError(f"{p}: {source} points have shape {points.shape}, expected ({n}, K≥5, 3)")
    if not np.isfinite(labels).all() or not (np.isfinite(size).all() and (size > 0).all()):
        raise InputError(f"{p}: labels and image sizes must all be finite (sizes positive)")
    head = points[:, :5].copy()
    found: NDArray[np.bool_] = np.asarray(np.isfinite(head).all(axis=(1, 2)), bool)
    conf = head[found, :, 2]
    if ((conf < 0) | (conf > 1)).any():
        raise InputError(f"{p}: {source} confidences must be in [0, 1]")
    if base == "movenet":
        low = head[..., 2] < MOVENET_KEYPOINT_THRESHOLD
        head[low & found[:, None]] = 0.0
        found &= (head[..., 2] > 0).any(axis=1)
    kp = np.zeros((n, 5, 3), np.float32)
    if found.any():
        kp[found] = validate_keypoints(head[found], name=f"{p}: {source} keypoints")
    angles = labels.astype(np.float32)
    return KeypointSet(
        name=f"{p.name} ({source})",
        source=source,
        files=files,
        angles=unmirror_angles(angles) if mirror else angles,
        keypoints=kp,
        found=found,
        image_size=size.astype(np.int32),
        score=np.where(found, score, np.nan).astype(np.float32),
    )
