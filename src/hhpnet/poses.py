"""The record of head poses that every path carries: :class:`Poses`, the N people of one image.

``Poses`` holds per person the box, score and five keypoints (pixels), yaw / pitch / roll and
their σ (degrees), validity, centroid and head size (pixels), the detector whose points it has,
whether the pose is ambiguous and its track in a video; :mod:`hhpnet.columns` names its flat
columns (:data:`CSV_COLUMNS` for images, ``POSE_COLUMNS`` in the video table).
Built by :class:`hhpnet.pipeline.HeadPoseEstimator`, :meth:`Poses.from_dict` (the JSON record of
the README), :meth:`Poses.from_columns` (a video table) or :meth:`Poses.empty`.

:class:`Detections` — what a detector returns — is a ``Poses`` whose poses are not known yet.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.columns import BOX_COLUMNS, CSV_COLUMNS, SIGMA_COLUMNS, text_values
from hhpnet.convention import ANGLE_NAMES
from hhpnet.errors import InputError
from hhpnet.keypoints import KEYPOINT_NAMES, head_size, validate_keypoints

if TYPE_CHECKING:
    from hhpnet.model import PoseOutput
    from hhpnet.protocols import PoseReadings

__all__ = [
    "CSV_COLUMNS",
    "POSE_FIELDS",
    "Detections",
    "HeadKeypoints",
    "Poses",
    "as_rows",
    "centroids",
]

F32 = NDArray[np.float32]
#: pose values: float32 along the pipeline, float64 from :func:`hhpnet.interaction.from_arrays`
Floats = NDArray[np.floating[Any]]


def centroids(kp: F32) -> F32:
    """(N, 2) mean x, y of each person's present points (c > 0), pixels; NaN without any."""
    present = kp[..., 2] > 0
    count = present.sum(axis=1)
    total = (kp[..., :2] * present[..., None]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = total / count[:, None]
    return np.where(count[:, None] > 0, c, np.nan).astype(np.float32)


#: a column of a table (:mod:`hhpnet.columns`): float32/float64, int64, bool or str values
Column = NDArray[Any]

#: the default of a pose field: "not known yet" (:meth:`Poses.unknown_field` fills it in)
_UNKNOWN: NDArray[Any] = np.empty(0, np.float32)
#: the fields a detection does not know yet (a detector finds people, not their poses)
POSE_FIELDS = (
    "yaw",
    "pitch",
    "roll",
    "sigma",
    "valid",
    "centroid",
    "head_size",
    "ambiguous",
    "track_id",
)


#: what selects people: an int, a slice, an index array or a boolean mask
Index = int | np.integer[Any] | slice | Sequence[int] | NDArray[np.integer[Any]] | NDArray[np.bool_]


def _unknown() -> Column:
    return _UNKNOWN


@dataclass
class Poses:
    """Head poses of the N people of one image (all arrays have N rows).

    ``boxes`` (N, 4) x1, y1, x2, y2 pixels (detector box, or a padded box around the keypoints;
    NaN if unknown); ``scores`` (N,) detection scores; ``keypoints`` (N, 5, 3) pixels +
    confidence; ``yaw``/``pitch``/``roll`` (N,) degrees (NaN when invalid); ``sigma`` (N, 3)
    degrees (inf when invalid); ``valid`` (N,) bool; ``centroid`` (N, 2) pixels (mean of the
    present keypoints); ``head_size`` (N,) pixels (largest distance between two present points);
    ``image_size`` (width, height) pixels or None; ``source``: file name or None;
    ``detector`` (N,) str: the detector whose keypoints each person has (``"blazeface"``,
    ``"movenet"``, ...; ``""`` for keypoints given by the caller); ``ambiguous`` (N,) bool: the
    points do not pin the yaw down (a back view, or σ_yaw ≥ 30°; :mod:`hhpnet.tails`);
    ``track_id`` (N,) int64: the person's track in a video (−1: not tracked, and in an image).

    The same record carries people along the whole path: a detector's people
    (:class:`Detections`) are poses whose angles are not known yet —
    a pose field left out (:data:`POSE_FIELDS`) is "not known": NaN angles, inf σ, not valid,
    centroid and head size from the keypoints, not ambiguous, not tracked.
    """

    boxes: F32
    scores: F32
    keypoints: F32
    yaw: Floats = field(default_factory=_unknown)
    pitch: Floats = field(default_factory=_unknown)
    roll: Floats = field(default_factory=_unknown)
    sigma: Floats = field(default_factory=_unknown)
    valid: NDArray[np.bool_] = field(default_factory=_unknown)
    centroid: Floats = field(default_factory=_unknown)
    head_size: Floats = field(default_factory=_unknown)
    image_size: tuple[int, int] | None = None
    source: str | None = None
    detector: Any = None
    ambiguous: Any = field(default_factory=_unknown)
    track_id: NDArray[np.int64] = field(default_factory=_unknown)

    def __post_init__(self) -> None:
        n = len(self.keypoints)
        if self.detector is None or isinstance(self.detector, str):
            self.detector = np.full(n, self.detector or "", dtype=object)
        else:
            self.detector = np.asarray(self.detector, dtype=object).reshape(-1)
        if self.ambiguous is not None and self.ambiguous is not _UNKNOWN:
            self.ambiguous = np.asarray(self.ambiguous, bool).reshape(-1)
        for name in POSE_FIELDS:
            value = getattr(self, name)
            if value is _UNKNOWN or value is None:
                setattr(self, name, self.unknown_field(name))
        names = (
            "boxes",
            "scores",
            *POSE_FIELDS,
            "detector",
        )
        for name in names:
            if len(getattr(self, name)) != n:
                raise ValueError(f"Poses: {name} has {len(getattr(self, name))} rows, expected {n}")

    def unknown_field(self, name: str) -> Column:
        """The value of pose field ``name`` (:data:`POSE_FIELDS`) before it is known."""
        n = len(self.keypoints)
        if name in ANGLE_NAMES:
            return np.full(n, np.nan, np.float32)
        if name == "sigma":
            return np.full((n, 3), np.inf, np.float32)
        if name in ("valid", "ambiguous"):
            return np.zeros(n, bool)
        if name == "centroid":
            return centroids(self.keypoints)
        if name == "head_size":
            return head_size(self.keypoints)
        if name == "track_id":
            return np.full(n, -1, np.int64)
        raise AttributeError(name)

    # ----------------------------------------------------------------- construction
    @classmethod
    def empty(cls, image_size: tuple[int, int] | None = None, source: str | None = None) -> Poses:
        """No person."""
        z = np.zeros(0, np.float32)
        return cls(
            boxes=np.zeros((0, 4), np.float32),
            scores=z,
            keypoints=np.zeros((0, 5, 3), np.float32),
            yaw=z.copy(),
            pitch=z.copy(),
            roll=z.copy(),
            sigma=np.zeros((0, 3), np.float32),
            valid=np.zeros(0, bool),
            centroid=np.zeros((0, 2), np.float32),
            head_size=z.copy(),
            image_size=image_size,
            source=source,
        )

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Poses:
        """Rebuild from a JSON record (:meth:`to_dict`); null numbers become NaN (σ: inf)."""

        people = record.get("people", [])
        if not people:
            size = (record["width"], record["height"]) if record.get("width") else None
            return cls.empty(size, record.get("source"))

        def arr(values: object, fill: float = np.nan) -> F32:
            a = np.array(values, dtype=object)
            a[a == None] = fill  # noqa: E711 - element-wise comparison on an object array
            return a.astype(np.float32)

        kp = arr([p["keypoints"] for p in people]).reshape(-1, 5, 3)
        kp = np.nan_to_num(kp, nan=0.0)
        sig = arr([[p["sigma"][a] for a in ANGLE_NAMES] for p in people], np.inf)
        width, height = record.get("width"), record.get("height")
        return cls(
            boxes=arr([p["box"] for p in people]).reshape(-1, 4),
            scores=arr([p["score"] for p in people]),
            keypoints=kp,
            yaw=arr([p["yaw"] for p in people]),
            pitch=arr([p["pitch"] for p in people]),
            roll=arr([p["roll"] for p in people]),
            sigma=sig.reshape(-1, 3),
            valid=np.array([bool(p["valid"]) for p in people]),
            centroid=centroids(kp),
            head_size=head_size(kp),
            image_size=(int(width), int(height)) if width and height else None,
            source=record.get("source"),
            detector=[p.get("detector") or "" for p in people],
            ambiguous=[bool(p.get("ambiguous", False)) for p in people],
        )

    # ----------------------------------------------------------------- container protocol
    def __len__(self) -> int:
        return len(self.keypoints)

    def __getitem__(self, index: Index) -> Poses:
        """Select people with an int, a slice, an index array or a boolean mask."""
        if isinstance(index, (int, np.integer)):
            n = len(self)
            if not -n <= int(index) < n:
                raise IndexError(f"person index {int(index)} out of range for {n} people")
            index = [int(index)]
        return Poses(
            boxes=self.boxes[index],
            scores=self.scores[index],
            keypoints=self.keypoints[index],
            yaw=self.yaw[index],
            pitch=self.pitch[index],
            roll=self.roll[index],
            sigma=self.sigma[index],
            valid=self.valid[index],
            centroid=self.centroid[index],
            head_size=self.head_size[index],
            image_size=self.image_size,
            source=self.source,
            detector=self.detector[index],
            ambiguous=self.ambiguous[index],
            track_id=self.track_id[index],
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n={len(self)}, valid={int(self.valid.sum())}, "
            f"image_size={self.image_size}, source={self.source!r})"
        )

    @property
    def angles(self) -> F32:
        """``(N, 3)`` yaw, pitch, roll in degrees."""
        return np.stack([self.yaw, self.pitch, self.roll], axis=1).astype(np.float32)

    @property
    def pose(self) -> PoseOutput:
        """The pose columns (yaw, pitch, roll, σ, valid) as a :class:`hhpnet.model.PoseOutput`
        sharing this record's arrays (a view: no copy)."""
        from hhpnet.model import PoseOutput

        return PoseOutput(self.yaw, self.pitch, self.roll, self.sigma, self.valid)

    def with_pose(self, reading: PoseReadings) -> Poses:
        """A copy of this record (a detection's boxes, keypoints, ... kept) holding the pose
        columns of ``reading`` (a :class:`hhpnet.model.PoseOutput`, N rows); its invalid rows
        get NaN angles and inf σ. Raises :class:`InputError` if the row counts differ."""
        n = len(self)
        valid = np.asarray(reading.valid, bool).reshape(-1)
        if len(valid) != n:
            raise InputError(f"the reading has {len(valid)} rows, the poses {n}")
        pose: dict[str, Column] = {
            a: np.array(getattr(reading, a), np.float32).reshape(n) for a in ANGLE_NAMES
        }
        pose["sigma"] = np.array(reading.sigma, np.float32).reshape(n, 3)
        for name, column in pose.items():
            column[~valid] = np.inf if name == "sigma" else np.nan
        kept = {f.name: getattr(self, f.name) for f in fields(Poses) if f.name not in pose}
        return Poses(**(kept | pose | {"valid": valid}))

    # ----------------------------------------------------------------- export
    def to_dict(self) -> dict[str, Any]:
        """The JSON record of one image (README "Output"); NaN and inf become null."""
        from hhpnet.io import json_number as _num

        width, height = self.image_size if self.image_size is not None else (None, None)
        people = []
        for i in range(len(self)):
            people.append(
                {
                    "box": [_num(v, 2) for v in self.boxes[i]],
                    "score": _num(self.scores[i], 4),
                    "detector": self.detector[i] or None,
                    "keypoints": [
                        [_num(x, 2), _num(y, 2), _num(c, 4)] for x, y, c in self.keypoints[i]
                    ],
                    "yaw": _num(self.yaw[i], 3),
                    "pitch": _num(self.pitch[i], 3),
                    "roll": _num(self.roll[i], 3),
                    "sigma": {a: _num(self.sigma[i, k], 3) for k, a in enumerate(ANGLE_NAMES)},
                    "valid": bool(self.valid[i]),
                    "ambiguous": bool(self.ambiguous[i]),
                }
            )
        return {"source": self.source, "width": width, "height": height, "people": people}

    def to_json(self, indent: int | None = None) -> str:
        """:meth:`to_dict` as a JSON string (one line unless ``indent``)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_rows(self) -> list[dict[str, object]]:
        """One flat dict per person with the keys of :data:`CSV_COLUMNS` (NaN/inf → None)."""
        from hhpnet.io import json_number as _num

        width, height = self.image_size if self.image_size is not None else (None, None)
        rows = []
        for i in range(len(self)):
            row: dict[str, object] = {
                "source": self.source,
                "width": width,
                "height": height,
                "person": i,
                "valid": bool(self.valid[i]),
            }
            for k, a in enumerate(ANGLE_NAMES):
                row[a] = _num(self.angles[i, k], 3)
            for k, a in enumerate(ANGLE_NAMES):
                row[f"sigma_{a}"] = _num(self.sigma[i, k], 3)
            row["score"] = _num(self.scores[i], 4)
            row["detector"] = self.detector[i]
            for k, b in enumerate(("x1", "y1", "x2", "y2")):
                row[b] = _num(self.boxes[i, k], 2)
            row["centroid_x"] = _num(self.centroid[i, 0], 2)
            row["centroid_y"] = _num(self.centroid[i, 1], 2)
            row["head_size"] = _num(self.head_size[i], 2)
            for j, name in enumerate(KEYPOINT_NAMES):
                x, y, c = self.keypoints[i, j]
                row[f"{name}_x"], row[f"{name}_y"], row[f"{name}_c"] = (
                    _num(x, 2),
                    _num(y, 2),
                    _num(c, 4),
                )
            row["ambiguous"] = bool(self.ambiguous[i])
            rows.append(row)
        return rows

    def to_columns(self) -> dict[str, Column]:
        """The people as the columns :data:`hhpnet.columns.POSE_COLUMNS` of the video table
        (float32 values; ``valid``, ``ambiguous`` and ``track_id`` int64; ``detector`` str)."""
        n = len(self)
        box = np.asarray(self.boxes, np.float32).reshape(n, 4)
        kp = np.asarray(self.keypoints, np.float32).reshape(n, 5, 3)
        sig = np.asarray(self.sigma, np.float32).reshape(n, 3)
        cols: dict[str, Column] = {"track_id": self.track_id}
        for k, name in enumerate(BOX_COLUMNS):
            cols[name] = box[:, k]
        cols["score"] = np.asarray(self.scores, np.float32).reshape(n)
        for j, point in enumerate(KEYPOINT_NAMES):
            for c, comp in enumerate(("x", "y", "c")):
                cols[f"{point}_{comp}"] = kp[:, j, c]
        for angle in ANGLE_NAMES:
            cols[angle] = np.asarray(getattr(self, angle), np.float32).reshape(n)
        for a, name in enumerate(SIGMA_COLUMNS):
            cols[name] = sig[:, a]
        cols["valid"] = self.valid.astype(np.int64)
        cols["detector"] = text_values(self.detector)
        cols["ambiguous"] = self.ambiguous.reshape(n).astype(np.int64)
        return cols

    @classmethod
    def from_columns(
        cls,
        cols: Mapping[str, Column],
        rows: NDArray[np.intp] | slice = slice(None),
        image_size: tuple[int, int] | None = None,
    ) -> Poses:
        """The people of the rows ``rows`` of a table with the columns
        :data:`hhpnet.columns.POSE_COLUMNS` (:meth:`to_columns`, a video CSV read back);
        missing keypoints (NaN) become 0; ``detector`` and ``ambiguous`` may be absent. The
        track ids are not read: a video run assigns its own."""

        def stack(names: Sequence[str]) -> F32:
            return np.stack([cols[c][rows] for c in names], -1).astype(np.float32)

        kp = np.stack([stack([f"{k}_{c}" for c in ("x", "y", "c")]) for k in KEYPOINT_NAMES], 1)
        kp = np.nan_to_num(kp, nan=0.0)
        return cls(
            boxes=stack(BOX_COLUMNS),
            scores=np.asarray(cols["score"][rows], np.float32),
            keypoints=kp,
            yaw=np.asarray(cols["yaw"][rows], np.float32),
            pitch=np.asarray(cols["pitch"][rows], np.float32),
            roll=np.asarray(cols["roll"][rows], np.float32),
            sigma=stack(SIGMA_COLUMNS),
            valid=np.asarray(cols["valid"][rows]).astype(bool),
            image_size=image_size,
            detector=cols["detector"][rows] if "detector" in cols else None,
            ambiguous=np.asarray(cols["ambiguous"][rows]).astype(bool)
            if "ambiguous" in cols
            else None,
        )

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame``, one row per person, columns :data:`CSV_COLUMNS`."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "Poses.to_pandas() needs pandas: pip install 'hhpnet[parquet]' (or pandas)"
            ) from exc
        return pd.DataFrame(self.to_rows(), columns=list(CSV_COLUMNS))


class Detections(Poses):
    """People found in one image: :class:`hhpnet.poses.Poses` whose poses are not known yet.

    ``boxes`` (N, 4) float32 x1, y1, x2, y2 in pixels; ``keypoints`` (N, 5, 3) float32 x, y in
    pixels and a confidence in [0, 1] (0 = missing, then x = y = 0), order nose, left eye, right
    eye, left ear, right ear; ``scores`` (N,) float32 detection scores in [0, 1];
    ``detector`` (N,) str: the name of the detector whose keypoints each person carries
    (e.g. ``"blazeface"``, ``"movenet"``; a single string is repeated, None gives ``""``);
    ``alt_keypoints`` (N, 5, 3) or None: a second detector's keypoints of the same head (all
    zeros where there is none), read and combined with the first by the estimator
    (:mod:`hhpnet.fusion`); ``alt_boxes`` (N, 4) or None: that detector's box of the head (NaN
    where there is none; the face mesh is read in BlazeFace's own box).

    The pose fields (:data:`hhpnet.poses.POSE_FIELDS`: angles, σ, validity, centroid, ...) are
    made on first access only — a detector builds, cuts and joins many of these per image.
    """

    alt_keypoints: F32 | None
    alt_boxes: F32 | None

    def __init__(
        self,
        boxes: ArrayLike,
        keypoints: ArrayLike,
        scores: ArrayLike,
        detector: str | Sequence[str | None] | NDArray[np.object_] | None = None,
        alt_keypoints: ArrayLike | None = None,
        alt_boxes: ArrayLike | None = None,
    ) -> None:
        self.boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        self.keypoints = np.asarray(keypoints, dtype=np.float32).reshape(-1, 5, 3)
        self.scores = np.asarray(scores, dtype=np.float32).reshape(-1)
        self.image_size = None
        self.source = None
        n = len(self.boxes)
        if len(self.keypoints) != n or len(self.scores) != n:
            raise ValueError(
                f"Detections: {n} boxes, {len(self.keypoints)} keypoint sets and "
                f"{len(self.scores)} scores; expected the same count"
            )
        if detector is None or isinstance(detector, str):
            self.detector = np.full(n, detector or "", dtype=object)
        else:
            self.detector = np.asarray(detector, dtype=object).reshape(-1)
            if len(self.detector) != n:
                raise ValueError(f"Detections: {len(self.detector)} detector names for {n} people")
        self.alt_keypoints = None
        if alt_keypoints is not None:
            self.alt_keypoints = np.asarray(alt_keypoints, np.float32).reshape(-1, 5, 3)
            if len(self.alt_keypoints) != n:
                raise ValueError(
                    f"Detections: {len(self.alt_keypoints)} second keypoint sets for {n}"
                )
        self.alt_boxes = None
        if alt_boxes is not None:
            self.alt_boxes = np.asarray(alt_boxes, np.float32).reshape(-1, 4)
            if len(self.alt_boxes) != n:
                raise ValueError(f"Detections: {len(self.alt_boxes)} second boxes for {n}")

    if not TYPE_CHECKING:  # (type checkers know the pose fields from Poses)

        def __getattr__(self, name: str) -> Column:
            """A pose field on first access (not known yet: :meth:`Poses.unknown_field`)."""
            if name not in POSE_FIELDS or "keypoints" not in self.__dict__:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            value = self.unknown_field(name)
            setattr(self, name, value)
            return value

    @classmethod
    def empty(
        cls, image_size: tuple[int, int] | None = None, source: str | None = None
    ) -> Detections:
        """No detection."""
        out = cls(
            np.zeros((0, 4), np.float32), np.zeros((0, 5, 3), np.float32), np.zeros(0, np.float32)
        )
        out.image_size, out.source = image_size, source
        return out

    @classmethod
    def concatenate(cls, parts: Sequence[Detections]) -> Detections:
        """The people of several results, in order."""
        if not parts:
            return cls.empty()
        alt = alt_boxes = None
        if any(p.alt_keypoints is not None for p in parts):
            alt = np.concatenate([p.alt_or_zeros() for p in parts])
        if any(p.alt_boxes is not None for p in parts):
            alt_boxes = np.concatenate([p.alt_boxes_or_nan() for p in parts])
        return cls(
            np.concatenate([p.boxes for p in parts]),
            np.concatenate([p.keypoints for p in parts]),
            np.concatenate([p.scores for p in parts]),
            np.concatenate([p.detector for p in parts]),
            alt,
            alt_boxes,
        )

    def alt_or_zeros(self) -> F32:
        """``alt_keypoints``, or all-zero (missing) points when there are none."""
        if self.alt_keypoints is None:
            return np.zeros_like(self.keypoints)
        return self.alt_keypoints

    def alt_boxes_or_nan(self) -> F32:
        """``alt_boxes``, or NaN boxes when there are none."""
        if self.alt_boxes is None:
            return np.full_like(self.boxes, np.nan)
        return self.alt_boxes

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index: Index) -> Detections:
        """Select people with an int, a slice, an index array or a boolean mask."""
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        alt = None if self.alt_keypoints is None else self.alt_keypoints[index]
        alt_boxes = None if self.alt_boxes is None else self.alt_boxes[index]
        return Detections(
            self.boxes[index],
            self.keypoints[index],
            self.scores[index],
            self.detector[index],
            alt,
            alt_boxes,
        )

    def is_empty(self) -> bool:
        return len(self) == 0


class HeadKeypoints(Detections):
    """The people of one image as another tool gives them (:mod:`hhpnet.adapters`): five head
    keypoints each, plus what the source format carried along — :class:`Detections` made from
    foreign keypoints.

    ``keypoints`` (N, 5, 3) float32 pixels + confidence; ``boxes`` (N, 4) float32 x1, y1, x2, y2
    pixels, NaN where the source gives none (``boxes_given`` False: the estimator then puts a box
    around the points); ``scores`` (N,) float32 person scores, NaN where the source gives none
    (``scores_given`` False: the estimator then uses the points' mean confidence); ``image_size``
    (width, height) in pixels or None; ``source``: the image name or id, if known.
    """

    def __init__(
        self,
        keypoints: ArrayLike,
        boxes: ArrayLike | None = None,
        scores: ArrayLike | None = None,
        image_size: tuple[int, int] | None = None,
        source: str | None = None,
    ) -> None:
        kp = np.asarray(keypoints, np.float32)
        if kp.ndim != 3 or kp.shape[1:] != (5, 3):
            kp = validate_keypoints(kp)  # the one-line error of a wrong shape
        n = len(kp)
        box = np.full((n, 4), np.nan, np.float32) if boxes is None else as_rows(boxes, 4, "boxes")
        score = np.full(n, np.nan, np.float32)
        if scores is not None:
            score = as_rows(scores, 1, "scores").reshape(-1)
        #: the source gave a box / a score per person (a wrong count counts as none)
        self.boxes_given = boxes is not None and len(box) == n
        self.scores_given = scores is not None and len(score) == n
        super().__init__(
            box if self.boxes_given else np.full((n, 4), np.nan, np.float32),
            kp,
            score if self.scores_given else np.full(n, np.nan, np.float32),
        )
        self.image_size, self.source = image_size, source


def as_rows(values: ArrayLike, width: int, name: str) -> F32:
    """``values`` as a float32 ``(N, width)`` array, or a one-line :class:`InputError`."""
    try:
        return np.asarray(values, np.float32).reshape(-1, width)
    except (ValueError, TypeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{name}: not a numeric array of {width} column(s) ({msg})") from None
