"""Keypoint adapters: other tools' keypoints → hhpnet's five head points ``(N, 5, 3)``.

Pure numpy, duck-typed: no pose library is imported. Our order is nose, left eye, right eye,
left ear, right ear (subject's left/right); the result of every adapter is an ``(N, 5, 3)`` float32
array of pixel ``x, y`` and confidence ``c`` in [0, 1], with missing points ``(0, 0, 0)``.

Layouts (:data:`LAYOUTS`; indices of our five points in the source layout):

============  ====  ===================  ==========================================================
name          K     our 5 points         what "missing" means / confidence
============  ====  ===================  ==========================================================
coco17        17    0, 1, 2, 3, 4        c (score) = 0, or COCO ``v = 0``; ``v = 2`` (visible) → 1.0
openpose25    25    0, 16, 15, 18, 17    c = 0 (OpenPose writes 0, 0, 0 for a missing point)
openpose18    18    0, 15, 14, 17, 16    c = 0 (COCO-18: reye 14, leye 15, rear 16, lear 17)
blazepose33   33    0, 2, 5, 7, 8        visibility; coordinates normalised to [0, 1] by default
blazeface6    6     2, 1, 0, 5, 4        no per-point confidence: :func:`blazeface_confidence`
hhpnet5       5     0, 1, 2, 3, 4        c = 0
============  ====  ===================  ==========================================================

Rules: a point is missing when its confidence is 0 or NaN, or a coordinate is NaN. Coordinates
(0, 0) alone never mark a point missing — except where the format defines it through c (COCO
``v = 0``, OpenPose ``c = 0``), which the rule above already covers. Arrays with only ``x, y``
(last dimension 2) get confidence 1 for every finite point. Confidences must lie in [0, 1]; the
value 2 (COCO "labelled and visible") is read as 1.0; anything else above 1 is an error (rescale
logit-like scores first).

Entry points: :func:`to_hhpnet` (array + layout name), :func:`from_hhpnet` (the inverse, to
export or test), :func:`convert` (any supported object: arrays, ultralytics ``Results`` /
``Keypoints``, supervision ``KeyPoints``-like objects with ``.xy``/``.confidence``, MMPose
instance dicts and ``PoseDataSample``, OpenPose and COCO JSON dicts, MediaPipe results) and
:func:`load_keypoints_file` (COCO / OpenPose / MMPose JSON files, OpenPose folders, ``.npy``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.errors import InputError
from hhpnet.keypoints import blazeface_confidence, check_image_size, validate_keypoints
from hhpnet.poses import HeadKeypoints

__all__ = [
    "LAYOUTS",
    "HeadKeypoints",
    "Layout",
    "convert",
    "from_hhpnet",
    "keypoints_from_json",
    "layout_for_count",
    "load_keypoints_file",
    "to_hhpnet",
]


@dataclass(frozen=True)
class Layout:
    """A keypoint layout: number of points, where our five points are, default normalisation."""

    name: str
    num_points: int
    indices: tuple[int, int, int, int, int]
    normalized: bool = False
    has_confidence: bool = True
    description: str = ""


LAYOUTS: dict[str, Layout] = {
    lay.name: lay
    for lay in (
        Layout("coco17", 17, (0, 1, 2, 3, 4), description="COCO-17 (ultralytics, MMPose, COCO)"),
        Layout("openpose25", 25, (0, 16, 15, 18, 17), description="OpenPose BODY_25"),
        Layout("openpose18", 18, (0, 15, 14, 17, 16), description="OpenPose COCO-18"),
        Layout(
            "blazepose33",
            33,
            (0, 2, 5, 7, 8),
            normalized=True,
            description="MediaPipe BlazePose-33 (x, y in [0, 1], visibility)",
        ),
        Layout(
            "blazeface6",
            6,
            (2, 1, 0, 5, 4),
            normalized=True,
            has_confidence=False,
            description="MediaPipe BlazeFace-6 (x, y in [0, 1], one face score)",
        ),
        Layout("hhpnet5", 5, (0, 1, 2, 3, 4), description="hhpnet's own five points"),
    )
}

#: an image size (width, height) in pixels, possibly fractional (normalised coordinates)
SizeWH = tuple[float, float]

_BY_COUNT = {17: "coco17", 25: "openpose25", 18: "openpose18", 33: "blazepose33", 5: "hhpnet5"}


def layout_for_count(num_points: int) -> str:
    """Layout name for a point count (17 → coco17, 25, 18, 33, 5); InputError otherwise."""
    try:
        return _BY_COUNT[int(num_points)]
    except KeyError:
        raise InputError(
            f"cannot tell the keypoint layout from {num_points} points per person "
            f"(known: 17 coco17, 25 openpose25, 18 openpose18, 33 blazepose33, 5 hhpnet5)"
        ) from None


def _get_layout(layout: str) -> Layout:
    key = str(layout).lower().replace("-", "").replace("_", "")
    if key not in LAYOUTS:
        raise InputError(f"unknown keypoint layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    return LAYOUTS[key]


def _as_numpy(value: object) -> NDArray[np.float64]:
    """numpy view of arrays, lists and tensor-like objects (torch: .detach().cpu().numpy())."""
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "cpu"):
        value = value.cpu()
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"keypoints: not a numeric array ({exc})") from exc
    return arr


def _image_wh(image_size: object) -> tuple[float, float]:
    size = check_image_size(image_size)
    if size is None:
        raise InputError(
            "normalised keypoints need image_size=(width, height) in pixels "
            "(or pass normalized=False if they are already pixels)"
        )
    return float(size[0]), float(size[1])


def _confidence(raw: NDArray[np.float64], name: str) -> NDArray[np.float64]:
    c = raw.astype(np.float64, copy=True)
    c[c == 2.0] = 1.0  # COCO visibility flag "labelled and visible"
    bad = np.isfinite(c) & ((c < 0) | (c > 1))
    if bad.any():
        raise InputError(
            f"{name}: confidences must be in [0, 1] (or COCO visibility flags 0/1/2); "
            f"found {c[bad][:3].tolist()} — rescale scores first"
        )
    return c


def to_hhpnet(
    array: ArrayLike,
    layout: str = "coco17",
    *,
    image_size: tuple[float, float] | None = None,
    scores: ArrayLike | None = None,
    normalized: bool | None = None,
) -> NDArray[np.float32]:
    """Convert an array in ``layout`` to hhpnet's ``(N, 5, 3)`` float32 pixels + confidence.

    Accepted shapes: ``(N, K, C)`` or one person ``(K, C)``, with C = 3 (x, y, confidence) or 2
    (x, y: confidence 1); blazepose33 also takes C = 4 (x, y, z, visibility) and C = 5 (x, y, z,
    visibility, presence: c = visibility × presence); blazeface6 takes C = 2 and the face
    ``scores`` (N,) (default 1). Flat rows ``(N, K·3)`` are accepted too. ``normalized`` (default:
    the layout's, True for blazepose33 and blazeface6) multiplies x by width and y by height of
    ``image_size``.
    """
    lay = _get_layout(layout)
    check_image_size(image_size)
    arr = _as_numpy(array)
    k = lay.num_points
    if arr.ndim == 2 and arr.shape[1] == 3 * k and arr.shape != (k, 3) and lay.has_confidence:
        arr = arr.reshape(len(arr), k, 3)
    if arr.ndim == 2:
        arr = arr[None]
    allowed = (
        (2,) if not lay.has_confidence else (2, 3, 4, 5) if lay.name == "blazepose33" else (2, 3)
    )
    if arr.ndim != 3 or arr.shape[1] != k or arr.shape[2] not in allowed:
        cols = " or ".join(f"(N, {k}, {c})" for c in allowed)
        raise InputError(
            f"layout {lay.name!r} ({lay.description}): expected shape {cols}; "
            f"got {tuple(np.shape(array))}"
        )
    n = len(arr)
    sel = arr[:, list(lay.indices), :]
    xy = sel[..., :2].copy()
    if sel.shape[2] == 2:
        c = np.ones((n, 5))
    elif sel.shape[2] == 3:
        c = sel[..., 2]
    elif sel.shape[2] == 4:
        c = sel[..., 3]
    else:
        with np.errstate(invalid="ignore"):  # inf × 0 → NaN: missing
            c = sel[..., 3] * sel[..., 4]
    c = _confidence(c, f"layout {lay.name!r}")
    if normalized if normalized is not None else lay.normalized:
        w, h = _image_wh(image_size)
        xy[..., 0] *= w
        xy[..., 1] *= h
    if not lay.has_confidence:
        s = np.ones(n) if scores is None else np.broadcast_to(_as_numpy(scores), (n,))
        s = _confidence(np.asarray(s, dtype=np.float64), "blazeface6 scores")
        finite = np.isfinite(xy).all(axis=(1, 2))
        c = np.zeros((n, 5))
        if finite.any():
            c[finite] = blazeface_confidence(xy[finite], s[finite])
    with np.errstate(over="ignore"):  # beyond float32: inf, then missing like inf itself
        out = np.concatenate([xy, c[..., None]], axis=-1).astype(np.float32)
    missing = ~np.isfinite(c) | (c == 0) | ~np.isfinite(out[..., :2]).all(axis=-1)
    out[missing] = 0.0
    return validate_keypoints(out, name=f"layout {lay.name!r}")


def from_hhpnet(
    keypoints: ArrayLike,
    layout: str = "coco17",
    *,
    image_size: tuple[float, float] | None = None,
) -> NDArray[np.float32]:
    """Inverse of :func:`to_hhpnet`: place our five points into a ``layout`` array.

    Returns ``(N, K, 3)`` (x, y, c) float32 with every other point missing (0, 0, 0); for
    blazepose33 (normalised) ``(N, 33, 4)`` x, y, z = 0, visibility; for blazeface6 ``(N, 6, 2)``
    (the sixth point, the mouth, is NaN: hhpnet has no mouth point). Normalised layouts need
    ``image_size``.
    """
    lay = _get_layout(layout)
    kp = validate_keypoints(keypoints)
    n = len(kp)
    xy = kp[..., :2].astype(np.float64)
    if lay.normalized:
        w, h = _image_wh(image_size)
        xy = xy / np.array([w, h])
    idx = list(lay.indices)
    if lay.name == "blazeface6":
        out6 = np.full((n, 6, 2), np.nan)
        out6[:, idx] = xy
        return out6.astype(np.float32)
    if lay.name == "blazepose33":
        out33 = np.zeros((n, 33, 4))
        out33[:, idx, :2] = xy
        out33[:, idx, 3] = kp[..., 2]
        return out33.astype(np.float32)
    out = np.zeros((n, lay.num_points, 3))
    out[:, idx, :2] = xy
    out[:, idx, 2] = kp[..., 2]
    return out.astype(np.float32)


# --------------------------------------------------------------------------- object adapters


def _boxes_xywh(values: Sequence[object]) -> NDArray[np.float32]:
    b = np.asarray(values, dtype=np.float32).reshape(-1, 4).copy()
    b[:, 2:] += b[:, :2]
    return b


def _from_instances(
    instances: Sequence[Mapping[str, Any]], image_size: tuple[int, int] | None, layout: str | None
) -> HeadKeypoints:
    """MMPose instance dicts (keypoints + keypoint_scores [+ bbox]) or COCO results (flat)."""
    if not instances:
        return HeadKeypoints(np.zeros((0, 5, 3), np.float32), image_size=image_size)
    first = instances[0]
    if "keypoint_scores" in first:  # MMPose
        xy = np.asarray([inst["keypoints"] for inst in instances], dtype=np.float64)
        sc = np.asarray([inst["keypoint_scores"] for inst in instances], dtype=np.float64)
        if xy.ndim != 3 or sc.shape != xy.shape[:2]:
            raise InputError(
                f"MMPose instances: expected keypoints (K, 2) and keypoint_scores (K,) per "
                f"instance; got {xy.shape[1:]} and {sc.shape[1:]}"
            )
        arr = np.concatenate([xy[..., :2], sc[..., None]], axis=-1)
        lay = layout or layout_for_count(arr.shape[1])
        kp = to_hhpnet(arr, lay, image_size=image_size, normalized=False)
        boxes = None
        if all("bbox" in inst for inst in instances):
            boxes = np.asarray([inst["bbox"] for inst in instances], np.float32).reshape(-1, 4)
        scores = None
        if all("bbox_score" in inst for inst in instances):
            scores = np.asarray([inst["bbox_score"] for inst in instances], np.float32).ravel()
        return HeadKeypoints(kp, boxes, scores, image_size)
    if "keypoints" in first:  # COCO annotations or results: flat [x, y, v] * K, bbox x, y, w, h
        flat = [inst["keypoints"] for inst in instances]
        lengths = {len(f) for f in flat}
        if len(lengths) != 1 or next(iter(lengths)) % 3:
            raise InputError(f"COCO keypoints: expected flat [x, y, v] * K lists; got {lengths}")
        arr = np.asarray(flat, dtype=np.float64).reshape(len(flat), -1, 3)
        lay = layout or layout_for_count(arr.shape[1])
        kp = to_hhpnet(arr, lay, image_size=image_size, normalized=False)
        boxes = (
            _boxes_xywh([inst["bbox"] for inst in instances])
            if all("bbox" in inst for inst in instances)
            else None
        )
        scores = (
            np.asarray([inst["score"] for inst in instances], np.float32)
            if all("score" in inst for inst in instances)
            else None
        )
        return HeadKeypoints(kp, boxes, scores, image_size)
    raise InputError("keypoint dicts need 'keypoints' (COCO) or 'keypoints' + 'keypoint_scores'")


def _from_openpose(
    frame: Mapping[str, Any], image_size: tuple[int, int] | None, layout: str | None
) -> HeadKeypoints:
    people = frame.get("people") or []
    flat = [p.get("pose_keypoints_2d") or [] for p in people]
    flat = [f for f in flat if len(f)]
    if not flat:
        return HeadKeypoints(np.zeros((0, 5, 3), np.float32), image_size=image_size)
    lengths = {len(f) for f in flat}
    if len(lengths) != 1 or next(iter(lengths)) not in (75, 54):
        raise InputError(
            f"OpenPose pose_keypoints_2d: expected 75 (BODY_25) or 54 (COCO-18) values; got "
            f"{sorted(lengths)}"
        )
    arr = np.asarray(flat, dtype=np.float64).reshape(len(flat), -1, 3)
    lay = layout or ("openpose25" if arr.shape[1] == 25 else "openpose18")
    return HeadKeypoints(to_hhpnet(arr, lay), image_size=image_size)


def _landmarks_array(lms: Any) -> NDArray[np.float64]:
    pts = getattr(lms, "landmark", lms)
    return np.asarray(
        [[p.x, p.y, getattr(p, "z", 0.0) or 0.0, getattr(p, "visibility", 1.0)] for p in pts],
        dtype=np.float64,
    )


def _from_mediapipe(obj: Any, image_size: Any) -> HeadKeypoints:
    if hasattr(obj, "pose_landmarks"):
        lms = obj.pose_landmarks
        if lms is None:
            people: list[Any] = []
        elif hasattr(lms, "landmark"):  # legacy solutions API: one person
            people = [lms]
        else:  # tasks API: a list of people, each a list of landmarks
            people = list(lms)
        if not people:
            return HeadKeypoints(np.zeros((0, 5, 3), np.float32), image_size=image_size)
        arr = np.stack([_landmarks_array(p) for p in people])
        return HeadKeypoints(
            to_hhpnet(arr, "blazepose33", image_size=image_size), None, None, _int_size(image_size)
        )
    dets = list(getattr(obj, "detections", None) or [])
    if not dets:
        return HeadKeypoints(np.zeros((0, 5, 3), np.float32), image_size=image_size)
    xy, sc = [], []
    for d in dets:
        if hasattr(d, "location_data"):  # legacy: relative_keypoints, score list
            pts = d.location_data.relative_keypoints
            s = d.score[0] if len(d.score) else 1.0
        else:  # tasks API: keypoints, categories[0].score
            pts = d.keypoints
            s = d.categories[0].score if d.categories else 1.0
        xy.append([[p.x, p.y] for p in pts])
        sc.append(s)
    kp = to_hhpnet(np.asarray(xy, np.float64), "blazeface6", image_size=image_size, scores=sc)
    return HeadKeypoints(kp, None, np.asarray(sc, np.float32), _int_size(image_size))


def _int_size(image_size: object) -> tuple[int, int] | None:
    return check_image_size(image_size)


def convert(
    obj: Any,
    layout: str | None = None,
    *,
    image_size: tuple[float, float] | None = None,
    normalized: bool | None = None,
) -> HeadKeypoints:
    """Convert keypoints of any supported kind to :class:`HeadKeypoints` (one image).

    ``layout`` names the layout for arrays (default coco17) and overrides the point-count
    guess for objects. ``image_size`` = (width, height) pixels is needed for normalised
    coordinates (MediaPipe) and is passed through. Raises :class:`InputError` on anything else.
    """
    size = _int_size(image_size)
    if isinstance(obj, HeadKeypoints):
        return obj
    try:
        with np.errstate(over="ignore"):  # values beyond float32 become inf (then missing)
            return _convert(obj, layout, image_size, size, normalized)
    except InputError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(_malformed(type(obj).__name__, exc)) from exc


def _malformed(what: str, exc: BaseException) -> str:
    """One-line message for a foreign keypoint object that does not have the expected shape."""
    detail = str(exc).splitlines()[0] if str(exc) else ""
    kind = "missing key" if isinstance(exc, KeyError) else type(exc).__name__
    return f"malformed keypoints ({what}): {kind} {detail}".rstrip()[:300]


def _convert(
    obj: Any,
    layout: str | None,
    image_size: tuple[float, float] | None,
    size: tuple[int, int] | None,
    normalized: bool | None,
) -> HeadKeypoints:
    """:func:`convert` without the error boundary.

    Long: one branch per supported input type (file, mapping, list of mappings, MediaPipe,
    MMPose, ultralytics, supervision, array), checked in this order on purpose.
    """
    if isinstance(obj, (str, os.PathLike)):
        frames = load_keypoints_file(obj, layout, image_size=image_size)
        if len(frames) != 1:
            raise InputError(
                f"{obj}: holds keypoints of {len(frames)} images; use load_keypoints_file()"
            )
        return frames[0]
    if isinstance(obj, Mapping):
        return _from_mapping(obj, size, layout)
    if isinstance(obj, (list, tuple)) and obj and isinstance(obj[0], Mapping):
        return _from_instances(list(obj), size, layout)
    if hasattr(obj, "pose_landmarks") or hasattr(obj, "detections"):
        return _from_mediapipe(obj, image_size)
    if hasattr(obj, "pred_instances"):  # MMPose PoseDataSample
        inst = obj.pred_instances
        xy = _as_numpy(inst.keypoints)
        sc = _as_numpy(inst.keypoint_scores)
        arr = np.concatenate([xy[..., :2], sc[..., None]], axis=-1)
        kp = to_hhpnet(arr, layout or layout_for_count(arr.shape[1]), normalized=False)
        boxes = _as_numpy(inst.bboxes).astype(np.float32) if hasattr(inst, "bboxes") else None
        scores = (
            _as_numpy(inst.bbox_scores).astype(np.float32).ravel()
            if hasattr(inst, "bbox_scores")
            else None
        )
        return HeadKeypoints(kp, boxes, scores, size)
    if hasattr(obj, "keypoints") and hasattr(obj, "boxes"):  # ultralytics Results
        return _from_ultralytics(obj, layout, image_size, size)
    if hasattr(obj, "data") and hasattr(obj, "xy") and not hasattr(obj, "confidence"):
        arr = _as_numpy(obj.data)  # ultralytics Keypoints: raw (N, 17, 3), no zeroed xy
        lay = layout or layout_for_count(arr.shape[-2])
        return HeadKeypoints(to_hhpnet(arr, lay, normalized=False), image_size=size)
    if hasattr(obj, "xy"):  # supervision KeyPoints and look-alikes: pixels
        xy = _as_numpy(obj.xy)
        conf = getattr(obj, "confidence", None)
        if xy.ndim != 3 or xy.shape[-1] != 2:
            raise InputError(f".xy: expected shape (N, K, 2); got {xy.shape}")
        arr = xy if conf is None else np.concatenate([xy, _as_numpy(conf)[..., None]], axis=-1)
        lay = layout or layout_for_count(xy.shape[1])
        return HeadKeypoints(to_hhpnet(arr, lay, normalized=False), image_size=size)
    arr = _as_numpy(obj)
    kp = to_hhpnet(arr, layout or "coco17", image_size=image_size, normalized=normalized)
    return HeadKeypoints(kp, image_size=size)


def _from_mapping(
    obj: Mapping[str, Any], size: tuple[int, int] | None, layout: str | None
) -> HeadKeypoints:
    """An OpenPose frame, a COCO file or annotation, or an MMPose instance."""
    if "people" in obj:
        return _from_openpose(obj, size, layout)
    if "annotations" in obj:
        return _from_instances(obj["annotations"], size, layout)
    if "keypoints" in obj:
        return _from_instances([obj], size, layout)
    raise InputError(
        "keypoints dict: expected OpenPose ('people'), COCO ('annotations' or 'keypoints') "
        f"or MMPose ('keypoints' + 'keypoint_scores'); got keys {sorted(obj)[:6]}"
    )


def _from_ultralytics(
    obj: Any, layout: str | None, image_size: SizeWH | None, size: tuple[int, int] | None
) -> HeadKeypoints:
    """An ultralytics ``Results``: its keypoints, boxes, box scores and image size."""
    if obj.keypoints is None:
        return HeadKeypoints(np.zeros((0, 5, 3), np.float32), image_size=size)
    inner = convert(obj.keypoints, layout, image_size=image_size)
    boxes = scores = None
    if obj.boxes is not None:
        boxes = _as_numpy(obj.boxes.xyxy).astype(np.float32).reshape(-1, 4)
        scores = _as_numpy(obj.boxes.conf).astype(np.float32).ravel()
    if size is None and getattr(obj, "orig_shape", None) is not None:
        h, w = obj.orig_shape[:2]
        size = (int(w), int(h))
    return HeadKeypoints(inner.keypoints, boxes, scores, size)


# --------------------------------------------------------------------------- files


def _read_json(path: Path) -> object:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON (line {exc.lineno}: {exc.msg})") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _openpose_name(path: Path) -> str:
    stem = path.stem
    return stem[: -len("_keypoints")] if stem.endswith("_keypoints") else stem


def load_keypoints_file(
    path: str | os.PathLike[str],
    layout: str | None = None,
    *,
    image_size: tuple[float, float] | None = None,
) -> list[HeadKeypoints]:
    """Read a keypoints file or folder into one :class:`HeadKeypoints` per image, in file order.

    * OpenPose: one JSON per frame (``{"people": [...]}``) or a folder of them (sorted); the
      record's ``source`` is the file stem without ``_keypoints``.
    * COCO annotations (``{"images", "annotations"}``): one record per image, ``source`` =
      ``file_name``, ``image_size`` from the image entry; COCO results (a list of
      ``{"image_id", "keypoints", "score"}``): one record per ``image_id`` (first-seen order).
    * MMPose predictions: a list of instance dicts with ``keypoints`` and ``keypoint_scores``
      (one image) or ``{"instance_info": [{"frame_id", "instances"}]}``.
    * ``.npy``: an array ``(N, K, C)`` in ``layout`` (default coco17), one image.
    """
    p = Path(path)
    size = _int_size(image_size)
    if not p.exists():
        raise InputError(f"{p}: no such keypoints file or folder")
    if p.is_dir():
        files = sorted(p.glob("*.json"))
        if not files:
            raise InputError(f"{p}: no .json keypoint files in this folder")
        out: list[HeadKeypoints] = []
        for f in files:
            for rec in load_keypoints_file(f, layout, image_size=image_size):
                out.append(rec)
        return out
    if p.suffix.lower() == ".npy":
        try:
            arr = np.load(p, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputError(f"{p}: not a readable .npy array ({exc})") from exc
        kp = to_hhpnet(arr, layout or "coco17", image_size=image_size)
        return [HeadKeypoints(kp, image_size=size, source=p.stem)]
    return keypoints_from_json(_read_json(p), layout, image_size=image_size, name=str(p))


def keypoints_from_json(
    data: object,
    layout: str | None = None,
    *,
    image_size: tuple[float, float] | None = None,
    name: str = "keypoints",
) -> list[HeadKeypoints]:
    """Parsed keypoints JSON of any format :func:`load_keypoints_file` reads → one
    :class:`HeadKeypoints` per image. ``name`` stands for the file: it prefixes the one-line
    errors and gives the ``source`` of formats that name no image (its stem)."""
    try:
        return _records_from_json(data, Path(name), layout, _int_size(image_size), image_size)
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from exc
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"{name}: {_malformed('JSON', exc)}") from exc


def _records_from_json(
    data: object,
    p: Path,
    layout: str | None,
    size: tuple[int, int] | None,
    image_size: SizeWH | None,
) -> list[HeadKeypoints]:
    if isinstance(data, Mapping) and "people" in data:
        rec = _from_openpose(data, size, layout)
        rec.source = _openpose_name(p)
        return [rec]
    if isinstance(data, Mapping) and "annotations" in data:
        images = {img["id"]: img for img in data.get("images", [])}
        by_image: dict[Any, list[Mapping[str, Any]]] = {i: [] for i in images}
        for ann in data["annotations"]:
            if "keypoints" in ann:
                by_image.setdefault(ann["image_id"], []).append(ann)
        recs = []
        for image_id, anns in by_image.items():
            img = images.get(image_id, {})
            isize = (
                check_image_size((img["width"], img.get("height")), f"image {image_id} size")
                if "width" in img
                else size
            )
            rec = _from_instances(anns, isize, layout)
            rec.source = str(img.get("file_name", image_id))
            recs.append(rec)
        return recs
    if isinstance(data, Mapping) and "instance_info" in data:
        recs = []
        for frame in data["instance_info"]:
            rec = _from_instances(frame.get("instances", []), size, layout)
            rec.source = str(frame.get("frame_id", len(recs)))
            recs.append(rec)
        return recs
    if isinstance(data, list) and (not data or isinstance(data[0], Mapping)):
        if data and "image_id" in data[0] and "keypoint_scores" not in data[0]:
            groups: dict[Any, list[Mapping[str, Any]]] = {}
            for inst in data:
                groups.setdefault(inst["image_id"], []).append(inst)
            recs = []
            for image_id, insts in groups.items():
                rec = _from_instances(insts, size, layout)
                rec.source = str(image_id)
                recs.append(rec)
            return recs
        rec = _from_instances(data, size, layout)
        rec.source = p.stem
        return [rec]
    if isinstance(data, list):
        rec = convert(data, layout or "coco17", image_size=image_size)
        rec.source = p.stem
        return [rec]
    raise InputError(
        "unrecognised keypoints JSON (expected OpenPose, COCO annotations/results or MMPose)"
    )
