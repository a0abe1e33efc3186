"""The column schema of every table hhpnet writes, in one place.

Two tables share these names: the image table (:data:`CSV_COLUMNS`, one row per person of an
image: ``hhpnet predict/interact --csv``, :meth:`hhpnet.poses.Poses.to_rows`,
:meth:`~hhpnet.poses.Poses.to_pandas`) and the video table (:data:`VIDEO_COLUMNS`, one row per
person per frame: CSV, Parquet and the ``--resume`` journal of :mod:`hhpnet.video.sinks`).
Angles and σ in degrees, positions in pixels, times in seconds. The JSON records
(:meth:`~hhpnet.poses.Poses.to_dict`) hold the same quantities, nested per person.

How the video table stores a column: :data:`INT_COLUMNS` as integers (:data:`BOOL_COLUMNS` 0/1,
bool in Parquet), :data:`TEXT_COLUMNS` as text, every other column as a float rounded to
:func:`digits` decimals in the CSV.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from hhpnet.convention import ANGLE_NAMES
from hhpnet.keypoints import KEYPOINT_NAMES

__all__ = [
    "BOOL_COLUMNS",
    "BOX_COLUMNS",
    "CSV_COLUMNS",
    "INT_COLUMNS",
    "KEYPOINT_COLUMNS",
    "POSE_COLUMNS",
    "SIGMA_COLUMNS",
    "TEXT_COLUMNS",
    "VIDEO_COLUMNS",
    "digits",
    "text_cell",
    "text_values",
]

#: a person's box: x1, y1, x2, y2 (pixels)
BOX_COLUMNS: tuple[str, ...] = ("x1", "y1", "x2", "y2")
#: the five keypoints: ``<point>_x``, ``_y`` (pixels), ``_c`` (confidence, 0 = missing)
KEYPOINT_COLUMNS: tuple[str, ...] = tuple(
    f"{k}_{c}" for k in KEYPOINT_NAMES for c in ("x", "y", "c")
)
#: σ of yaw, pitch, roll (degrees; inf = invalid)
SIGMA_COLUMNS: tuple[str, ...] = tuple(f"sigma_{a}" for a in ANGLE_NAMES)

#: columns of the image table (:meth:`hhpnet.poses.Poses.to_rows`; one row per person)
CSV_COLUMNS: tuple[str, ...] = (
    "source",
    "width",
    "height",
    "person",
    "valid",
    *ANGLE_NAMES,
    *SIGMA_COLUMNS,
    "score",
    "detector",
    *BOX_COLUMNS,
    "centroid_x",
    "centroid_y",
    "head_size",
    *KEYPOINT_COLUMNS,
    "ambiguous",
)

#: the columns of one person's pose in the video table (:meth:`hhpnet.poses.Poses.to_columns`)
POSE_COLUMNS: tuple[str, ...] = (
    "track_id",
    *BOX_COLUMNS,
    "score",
    *KEYPOINT_COLUMNS,
    *ANGLE_NAMES,
    *SIGMA_COLUMNS,
    "valid",
    "detector",
    "ambiguous",
)

#: columns of the video table (one row per person per frame; :mod:`hhpnet.video.sinks`)
VIDEO_COLUMNS: tuple[str, ...] = (
    "frame",
    "time_s",
    "track_id",
    *BOX_COLUMNS,
    "score",
    *KEYPOINT_COLUMNS,
    *ANGLE_NAMES,
    *SIGMA_COLUMNS,
    *(f"{a}_smooth" for a in ANGLE_NAMES),
    *(f"sigma_{a}_smooth" for a in ANGLE_NAMES),
    "valid",
    "detector",
    "ambiguous",
)

#: 0/1 columns (bool in Parquet)
BOOL_COLUMNS = frozenset({"valid", "ambiguous"})
#: integer columns
INT_COLUMNS = frozenset({"frame", "track_id", *BOOL_COLUMNS})
#: columns of text (written as is, commas and line breaks replaced; read back as str)
TEXT_COLUMNS = frozenset({"detector"})
_DIGITS = {"time_s": 4, "score": 4, **{f"{k}_c": 4 for k in KEYPOINT_NAMES}}


def digits(name: str) -> int:
    """Decimals of a float column of the video table's CSV (4 for times, scores and keypoint
    confidences, 3 for everything else)."""
    return _DIGITS.get(name, 3)


def text_cell(value: object) -> str:
    """A text cell: None → empty; commas and line breaks (which would break the row) → ';'/' '."""
    text = "" if value is None else str(value)
    return text.replace(",", ";").replace("\r", " ").replace("\n", " ")


def text_values(values: object) -> NDArray[np.str_]:
    """Text column values exactly as they read back from the CSV (``str`` array)."""
    return np.array([text_cell(v) for v in np.asarray(values, dtype=object).reshape(-1)], str)
