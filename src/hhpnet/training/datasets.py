"""Real head-pose data sets for evaluation: AFLW2000-3D / 300W-LP ``.mat``, BIWI, keypoints JSON.

No data set ships with hhpnet (licences); these loaders read the files users have.

* **AFLW2000-3D / 300W-LP**: one ``NAME.mat`` per image ``NAME.jpg``. ``Pose_Para[0][:3]`` is
  (pitch, yaw, roll) in **radians**, already in hhpnet's convention (the one of HopeNet /
  HHP-Net: +yaw nose to the image left, +pitch nose up, +roll clockwise); we return degrees as
  (yaw, pitch, roll). ``pt3d_68`` (3 × 68, AFLW2000) or ``pt2d`` (2 × 68, 300W-LP) hold the
  68 landmarks in pixels. The usual protocol keeps images with all |angles| ≤ 99°.
* **BIWI Kinect Head Pose**: ``frame_XXXXX_pose.txt`` holds a 3 × 3 rotation ``M`` (rows) and a
  translation in mm; the image is ``frame_XXXXX_rgb.png``. BIWI's frame differs from our viewer
  frame (x right, y down, z towards the viewer) by a 180° turn about the optical axis, so
  ``R = D M D`` with ``D = diag(−1, −1, 1)`` and the angles are
  :func:`hhpnet.convention.matrix_to_angles` of R. This gives exactly the angles of the
  community's BIWI protocol (HopeNet / 6DRepNet: pitch = atan2(M12, M22),
  yaw = −atan2(−M02, √(M12² + M22²)), roll = −atan2(M01, M00)), tested in tests/test_datasets.py.
* **Keypoints JSON**: the five keypoints of each image, from another tool or from
  ``hhpnet predict --json``. Accepted forms: a list of ``{"image"|"source"|"file": path,
  "keypoints": [[x, y, c] × 5]}``; a list (or JSON lines) of hhpnet per-image records
  ``{"source", "width", "height", "people": [{"keypoints", "score", ...}]}`` (the person
  nearest to the image centre is used, as for a close-up data set); or a mapping
  ``{path: [[x, y, c] × 5]}``.
  Images are matched by path, then file name, then file stem.

* **Detector keypoints CSV** (:func:`load_keypoints_csv`, in :mod:`.keypoints_csv`): one row
  per photo with its labels and what up to three detectors returned on it — no images needed.
  Columns: ``file, width, height, yaw, pitch, roll`` (degrees, hhpnet's convention) and, per
  source, a prefix block (empty cells where the detector found nothing):

  - ``bf_``: BlazeFace ``bf_score``, box ``bf_x1, bf_y1, bf_x2, bf_y2`` and its six raw points
    ``bf_<p>_x, bf_<p>_y`` for ``right_eye, left_eye, nose, mouth, right_ear, left_ear``
    (subject's left/right). Confidences are derived as the detector does
    (:func:`hhpnet.keypoints.blazeface_confidence` of the face score); the mouth is kept apart.
  - ``bp_``: BlazePose ``bp_score``, head box, then ``bp_<p>_x, bp_<p>_y, bp_<p>_vis`` for the
    five points in hhpnet's order; confidence = visibility (our detector's default keeps all).
  - ``mn_``: MoveNet ``mn_score``, then ``mn_<p>_x, mn_<p>_y, mn_<p>_score``; confidence = the
    keypoint score.

* **Landmarks file** (:func:`load_landmarks_npz`, in :mod:`.landmarks_npz`): one ``.npz`` of
  face-mesh landmarks, BlazeFace and MoveNet keypoints of labelled photos and of their mirror
  images (the development file ``aflw2000-dev-landmarks.npz``); no images needed.

  A point whose confidence is below ``kpt_thr`` (default 0: keep all, as
  :class:`hhpnet.HeadPoseEstimator`) is missing. :func:`fold_ids` assigns rows to
  cross-validation folds (stratified by |yaw|) for fitting on some rows and scoring the rest.

Keypoints for the images come from such a JSON, or from our detector
(:func:`detect_keypoints`, needs the image files), or — an approximation for tests of the
protocol, not a detector — from the 68 landmarks (:func:`keypoints_from_landmarks`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, SupportsFloat

import numpy as np
from numpy.typing import NDArray

from hhpnet._types import F64, JSONObject
from hhpnet.convention import matrix_to_angles
from hhpnet.errors import InputError
from hhpnet.keypoints import validate_keypoints
from hhpnet.training.keypoints_csv import (
    BLAZEFACE_POINTS,
    FOLD_YAW_EDGES,
    KEYPOINT_SOURCES,
    SOURCE_PROFILES,
    KeypointSet,
    fold_ids,
    load_keypoints_csv,
)
from hhpnet.training.landmarks_npz import LANDMARK_READINGS, LandmarkSet, load_landmarks_npz

__all__ = [
    "BIWI_TO_VIEWER",
    "BLAZEFACE_POINTS",
    "FOLD_YAW_EDGES",
    "KEYPOINT_SOURCES",
    "LANDMARK_READINGS",
    "SOURCE_PROFILES",
    "KeypointSet",
    "LandmarkSet",
    "PoseDataset",
    "attach_keypoints",
    "detect_keypoints",
    "fold_ids",
    "keypoints_from_landmarks",
    "load_biwi_dir",
    "load_keypoints_csv",
    "load_keypoints_json",
    "load_landmarks_npz",
    "load_mat_dir",
    "read_biwi_pose",
    "read_mat_pose",
]

BIWI_TO_VIEWER = np.diag([-1.0, -1.0, 1.0])
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")


@dataclass
class PoseDataset:
    """Images with ground-truth angles and (once attached) five keypoints each.

    ``angles`` (n, 3) float32 yaw, pitch, roll in degrees; ``keypoints`` (n, 5, 3) float32
    pixels + confidence, all zeros where none were found; ``found`` (n,) bool;
    ``landmarks`` (n, 68, 2) float32 pixels or None.
    """

    name: str
    images: list[str]
    angles: NDArray[np.float32]
    keypoints: NDArray[np.float32]
    found: NDArray[np.bool_]
    landmarks: NDArray[np.float32] | None = None

    def __len__(self) -> int:
        return len(self.images)

    def subset(self, mask: NDArray[np.bool_]) -> PoseDataset:
        """Rows where ``mask`` is true."""
        idx = np.flatnonzero(mask)
        return PoseDataset(
            self.name,
            [self.images[i] for i in idx],
            self.angles[idx],
            self.keypoints[idx],
            self.found[idx],
            None if self.landmarks is None else self.landmarks[idx],
        )


# ---------------------------------------------------------------------------- AFLW2000 / 300W-LP
def read_mat_pose(path: str | Path) -> tuple[NDArray[np.float64], NDArray[np.float32] | None]:
    """(yaw, pitch, roll) in degrees and the 68 landmarks ``(68, 2)`` (or None) of a ``.mat``."""
    from scipy.io import loadmat

    try:
        mat = loadmat(str(path))
    except Exception as exc:  # scipy raises several types for broken files
        raise InputError(f"cannot read {path}: {str(exc).splitlines()[0]}") from exc
    if "Pose_Para" not in mat:
        raise InputError(f"{path}: no 'Pose_Para' (not an AFLW2000-3D / 300W-LP file)")
    para = np.asarray(mat["Pose_Para"], dtype=np.float64).reshape(-1)
    if para.size < 3 or not np.isfinite(para[:3]).all():
        raise InputError(f"{path}: Pose_Para must start with finite pitch, yaw, roll (radians)")
    pitch, yaw, roll = np.rad2deg(para[:3])
    lm = None
    for key in ("pt3d_68", "pt2d"):
        arr = np.asarray(mat.get(key, np.zeros((0, 0))), dtype=np.float32)
        if arr.ndim == 2 and arr.shape[0] in (2, 3) and arr.shape[1] == 68:
            lm = np.ascontiguousarray(arr[:2].T)
            break
    return np.array([yaw, pitch, roll]), lm


def _image_for(path: Path, stem: str) -> str:
    for suffix in IMAGE_SUFFIXES:
        cand = path.with_name(stem + suffix)
        if cand.is_file():
            return str(cand)
    return str(path.with_name(stem + ".jpg"))


def load_mat_dir(directory: str | Path, max_angle: float | None = 99.0) -> PoseDataset:
    """All ``*.mat`` files of a folder (sorted), keeping poses with all |angles| ≤ ``max_angle``."""
    d = Path(directory)
    if not d.is_dir():
        raise InputError(f"not a folder: {d}")
    files = sorted(d.glob("*.mat"))
    if not files:
        raise InputError(f"no .mat files in {d}")
    images, angles, lms = [], [], []
    for f in files:
        a, lm = read_mat_pose(f)
        if max_angle is not None and np.abs(a).max() > max_angle:
            continue
        images.append(_image_for(f, f.stem))
        angles.append(a)
        lms.append(lm if lm is not None else np.full((68, 2), np.nan, np.float32))
    n = len(images)
    return PoseDataset(
        name=d.name,
        images=images,
        angles=np.asarray(angles, np.float32).reshape(n, 3),
        keypoints=np.zeros((n, 5, 3), np.float32),
        found=np.zeros(n, bool),
        landmarks=np.asarray(lms, np.float32).reshape(n, 68, 2),
    )


# ---------------------------------------------------------------------------- BIWI
def biwi_matrix_to_angles(m: NDArray[np.floating]) -> NDArray[np.float64]:
    """(yaw, pitch, roll) in degrees from BIWI rotation matrices ``(..., 3, 3)``."""
    r = BIWI_TO_VIEWER @ np.asarray(m, np.float64) @ BIWI_TO_VIEWER
    return matrix_to_angles(r)


def read_biwi_pose(path: str | Path) -> NDArray[np.float64]:
    """(yaw, pitch, roll) in degrees of a BIWI ``frame_XXXXX_pose.txt``."""
    try:
        values = [float(v) for v in Path(path).read_text().split()]
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read BIWI pose {path}: {str(exc).splitlines()[0]}") from exc
    if len(values) < 9 or not np.isfinite(values[:9]).all():
        raise InputError(f"{path}: expected a 3×3 rotation (and a translation), got {len(values)}")
    m = np.array(values[:9]).reshape(3, 3)
    if not np.allclose(m @ m.T, np.eye(3), atol=1e-3):
        raise InputError(f"{path}: the 3×3 matrix is not a rotation")
    return biwi_matrix_to_angles(m)


def load_biwi_dir(directory: str | Path) -> PoseDataset:
    """All ``*_pose.txt`` below a folder (sorted); images are the matching ``*_rgb.png``."""
    d = Path(directory)
    if not d.is_dir():
        raise InputError(f"not a folder: {d}")
    files = sorted(d.rglob("*_pose.txt"))
    if not files:
        raise InputError(f"no BIWI *_pose.txt files below {d}")
    angles = np.array([read_biwi_pose(f) for f in files], np.float32).reshape(-1, 3)
    images = [str(f.with_name(f.name[: -len("_pose.txt")] + "_rgb.png")) for f in files]
    n = len(files)
    return PoseDataset(d.name, images, angles, np.zeros((n, 5, 3), np.float32), np.zeros(n, bool))


# ---------------------------------------------------------------------------- keypoints
def _nearest_to_centre(
    people: Sequence[JSONObject], record: Mapping[str, SupportsFloat | None]
) -> F64:
    kps = [np.asarray(p.get("keypoints"), np.float64).reshape(5, 3) for p in people]
    w, h = record.get("width"), record.get("height")
    if w is None or h is None:
        scores = [float(p.get("score", 0.0) or 0.0) for p in people]
        return kps[int(np.argmax(scores))]
    centre = np.array([float(w) / 2.0, float(h) / 2.0])
    dist = []
    for kp in kps:
        present = kp[:, 2] > 0
        c = kp[present, :2].mean(axis=0) if present.any() else np.array([np.inf, np.inf])
        dist.append(float(np.hypot(*(c - centre))))
    return kps[int(np.argmin(dist))]


def load_keypoints_json(path: str | Path) -> dict[str, NDArray[np.float32]]:
    """Five keypoints per image from a JSON file (forms in the module docstring).

    Returns ``{image path as written: (5, 3) float32}``; an image whose record has no person
    is left out (= not found).
    """
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise InputError(f"cannot read keypoints file {p}: {exc.strerror}") from exc
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError:
        try:  # JSON lines
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}: not JSON or JSON lines ({exc.msg})") from exc
    if isinstance(data, Mapping) and "people" in data:
        data = [data]
    out: dict[str, Any] = {}
    if isinstance(data, Mapping):
        for key, kp in data.items():
            out[str(key)] = kp
    elif isinstance(data, list):
        for i, rec in enumerate(data):
            if not isinstance(rec, Mapping):
                raise InputError(f"{p}: record {i} is not an object")
            name = rec.get("image", rec.get("source", rec.get("file")))
            if name is None:
                raise InputError(f"{p}: record {i} has no 'image', 'source' or 'file'")
            if "people" in rec:
                people = rec["people"] or []
                if people:
                    out[str(name)] = _nearest_to_centre(people, rec)
            elif "keypoints" in rec:
                out[str(name)] = rec["keypoints"]
            else:
                raise InputError(f"{p}: record {i} has neither 'keypoints' nor 'people'")
    else:
        raise InputError(f"{p}: expected a list of records or a mapping")
    result = {}
    for name, kp in out.items():
        arr = np.asarray(kp, dtype=np.float64)
        if arr.shape != (5, 3):
            raise InputError(f"{p}: keypoints of {name!r} must be 5 × [x, y, c], got {arr.shape}")
        result[name] = validate_keypoints(arr, name=f"keypoints of {name!r}")[0]
    return result


def attach_keypoints(dataset: PoseDataset, keypoints: Mapping[str, NDArray[np.float32]]) -> int:
    """Fill ``dataset.keypoints``/``found`` from a name → keypoints mapping; returns the count.

    Matching per image: its full path, then its file name, then its stem.
    """
    by_name: dict[str, NDArray[np.float32]] = {}
    by_stem: dict[str, NDArray[np.float32]] = {}
    for key, value in keypoints.items():
        by_name.setdefault(Path(key).name, value)
        by_stem.setdefault(Path(key).stem, value)
    count = 0
    for i, img in enumerate(dataset.images):
        kp: NDArray[np.float32] | None = keypoints.get(img)
        if kp is None:
            kp = by_name.get(Path(img).name)
        if kp is None:
            kp = by_stem.get(Path(img).stem)
        if kp is not None and (np.asarray(kp)[:, 2] > 0).sum() >= 2:
            dataset.keypoints[i] = kp
            dataset.found[i] = True
            count += 1
    return count


#: 68-landmark indices (iBUG order; 0..16 jaw from the subject's right to left)
_LM_NOSE_TIP = 30
_LM_RIGHT_EYE = slice(36, 42)
_LM_LEFT_EYE = slice(42, 48)
_LM_RIGHT_JAW_TOP, _LM_LEFT_JAW_TOP = 0, 16


def keypoints_from_landmarks(landmarks: NDArray[np.floating]) -> NDArray[np.float32]:
    """Approximate five keypoints ``(n, 5, 3)`` from 68 landmarks ``(n, 68, 2)``, confidence 1.

    Nose = tip (30), eyes = centres of the eye contours, ears = the top jaw-line points 0 / 16
    (at ear level, near the tragion). An approximation of a detector for protocol tests and
    sanity checks; real evaluations should use detector keypoints.
    """
    lm = np.asarray(landmarks, np.float64).reshape(-1, 68, 2)
    pts = np.stack(
        [
            lm[:, _LM_NOSE_TIP],
            lm[:, _LM_LEFT_EYE].mean(axis=1),
            lm[:, _LM_RIGHT_EYE].mean(axis=1),
            lm[:, _LM_LEFT_JAW_TOP],
            lm[:, _LM_RIGHT_JAW_TOP],
        ],
        axis=1,
    )
    ok = np.isfinite(pts).all(axis=2)
    out = np.zeros((len(lm), 5, 3), np.float32)
    out[..., :2] = np.where(ok[..., None], pts, 0.0)
    out[..., 2] = ok
    return out


class FoundFaces(Protocol):
    """What :func:`detect_keypoints` needs of a detector's result: the number of faces and
    their ``(N, 5, 3)`` keypoints."""

    def __len__(self) -> int: ...
    @property
    def keypoints(self) -> NDArray[np.float32]: ...


def detect_keypoints(
    images: Iterable[str],
    detector: str | Callable[[NDArray[np.uint8]], FoundFaces] = "blazeface",
    **options: object,
) -> dict[str, NDArray[np.float32]]:
    """Run a detector (contract 3) on image files; keep the face nearest to the image centre.

    Returns ``{image path: (5, 3)}`` for the images where a face was found; unreadable images
    raise :class:`hhpnet.errors.InputError`.
    """
    from hhpnet.io import read_image

    if isinstance(detector, str):
        from hhpnet.detectors import create_detector

        det: Callable[[NDArray[np.uint8]], FoundFaces] = create_detector(detector, **options)
    else:
        det = detector
    out: dict[str, NDArray[np.float32]] = {}
    for path in images:
        img = read_image(path)  # RGB uint8
        found = det(img)
        if len(found) == 0:
            continue
        h, w = img.shape[:2]
        people = [{"keypoints": kp} for kp in np.asarray(found.keypoints)]
        kp = _nearest_to_centre(people, {"width": w, "height": h})
        out[str(path)] = np.asarray(kp, np.float32)
    return out
