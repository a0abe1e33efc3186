"""The record of head poses that every path returns: :class:`Poses`, the N people of one image.

``Poses`` holds per person the box, score and five keypoints (pixels), yaw / pitch / roll and
their σ (degrees), validity, centroid and head size (pixels), the detector whose points it has
and whether the pose is ambiguous; :data:`CSV_COLUMNS` names its flat columns (CSV, pandas).
Built by :class:`hhpnet.pipeline.HeadPoseEstimator`, :meth:`Poses.from_dict` (the JSON record of
the README) or :meth:`Poses.empty`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hhpnet.columns import CSV_COLUMNS
from hhpnet.convention import ANGLE_NAMES
from hhpnet.keypoints import KEYPOINT_NAMES, head_size

__all__ = ["CSV_COLUMNS", "Poses", "centroids"]

F32 = NDArray[np.float32]


def centroids(kp: F32) -> F32:
    """(N, 2) mean x, y of each person's present points (c > 0), pixels; NaN without any."""
    present = kp[..., 2] > 0
    count = present.sum(axis=1)
    total = (kp[..., :2] * present[..., None]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = total / count[:, None]
    return np.where(count[:, None] > 0, c, np.nan).astype(np.float32)


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
    points do not pin the yaw down (a back view, or σ_yaw ≥ 30°; :mod:`hhpnet.tails`).
    """

    boxes: F32
    scores: F32
    keypoints: F32
    yaw: F32
    pitch: F32
    roll: F32
    sigma: F32
    valid: NDArray[np.bool_]
    centroid: F32
    head_size: F32
    image_size: tuple[int, int] | None = None
    source: str | None = None
    detector: Any = None
    ambiguous: Any = None

    def __post_init__(self) -> None:
        n = len(self.keypoints)
        if self.detector is None or isinstance(self.detector, str):
            self.detector = np.full(n, self.detector or "", dtype=object)
        else:
            self.detector = np.asarray(self.detector, dtype=object).reshape(-1)
        if self.ambiguous is None:
            self.ambiguous = np.zeros(n, bool)
        else:
            self.ambiguous = np.asarray(self.ambiguous, bool).reshape(-1)
        names = (
            "boxes",
            "scores",
            "yaw",
            "pitch",
            "roll",
            "sigma",
            "valid",
            "centroid",
            "detector",
            "ambiguous",
        )
        for name in names:
            if len(getattr(self, name)) != n:
                raise ValueError(f"Poses: {name} has {len(getattr(self, name))} rows, expected {n}")

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

        def arr(values: Any, fill: float = np.nan) -> F32:
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

    def __getitem__(self, index: Any) -> Poses:
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
        )

    def __repr__(self) -> str:
        return (
            f"Poses(n={len(self)}, valid={int(self.valid.sum())}, image_size={self.image_size}, "
            f"source={self.source!r})"
        )

    @property
    def angles(self) -> F32:
        """``(N, 3)`` yaw, pitch, roll in degrees."""
        return np.stack([self.yaw, self.pitch, self.roll], axis=1).astype(np.float32)

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

    def to_rows(self) -> list[dict[str, Any]]:
        """One flat dict per person with the keys of :data:`CSV_COLUMNS` (NaN/inf → None)."""
        from hhpnet.io import json_number as _num

        width, height = self.image_size if self.image_size is not None else (None, None)
        rows = []
        for i in range(len(self)):
            row: dict[str, Any] = {
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

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame``, one row per person, columns :data:`CSV_COLUMNS`."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "Poses.to_pandas() needs pandas: pip install 'hhpnet[parquet]' (or pandas)"
            ) from exc
        return pd.DataFrame(self.to_rows(), columns=list(CSV_COLUMNS))
