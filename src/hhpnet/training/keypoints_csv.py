"""Detector keypoints CSV: real detector keypoints with ground-truth angles, one row per photo
(:func:`load_keypoints_csv`, the column layout is in the docstring of
:mod:`hhpnet.training.datasets`), and cross-validation folds stratified by |yaw|
(:func:`fold_ids`). Re-exported by :mod:`hhpnet.training.datasets`, where it used to live."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.errors import InputError
from hhpnet.keypoints import KEYPOINT_NAMES, blazeface_confidence, validate_keypoints

__all__ = [
    "BLAZEFACE_POINTS",
    "FOLD_YAW_EDGES",
    "KEYPOINT_SOURCES",
    "SOURCE_PROFILES",
    "KeypointSet",
    "fold_ids",
    "load_keypoints_csv",
]

#: detector sources of a keypoints CSV (column prefixes ``bf_``, ``bp_``, ``mn_``)
KEYPOINT_SOURCES: tuple[str, ...] = ("blazeface", "blazepose", "movenet")
#: the synthetic detector profile (and solvePnP mean head) that models each source
SOURCE_PROFILES: dict[str, str] = {
    "blazeface": "blazeface",
    "blazepose": "blazepose",
    "movenet": "coco",
}
#: BlazeFace's six points in its own output order (subject's left/right)
BLAZEFACE_POINTS: tuple[str, ...] = (
    "right_eye",
    "left_eye",
    "nose",
    "mouth",
    "right_ear",
    "left_ear",
)
_PREFIX = {"blazeface": "bf", "blazepose": "bp", "movenet": "mn"}
_CONFIDENCE_SUFFIX = {"blazepose": "vis", "movenet": "score"}
_LABEL_COLUMNS = ("file", "width", "height", "yaw", "pitch", "roll")
#: |yaw| bin edges that :func:`fold_ids` stratifies by (0–30, 30–60, 60–90, beyond)
FOLD_YAW_EDGES: tuple[float, ...] = (30.0, 60.0, 90.0)


@dataclass
class KeypointSet:
    """Real detector keypoints of one source with ground-truth angles, one row per photo.

    ``keypoints`` (n, 5, 3) float32 pixels + confidence in hhpnet's order (nose, left eye,
    right eye, left ear, right ear), all zeros where the detector found nothing (``found``
    False); ``angles`` (n, 3) float32 labels yaw, pitch, roll in degrees; ``image_size`` (n, 2)
    int32 width, height; ``score`` (n,) float32 detector score (NaN where not found);
    ``mouth`` (n, 2) float32 BlazeFace's mouth point in pixels (NaN where not found), None for
    the other sources. ``profile`` is the synthetic detector profile that models the source.
    """

    name: str
    source: str
    files: list[str]
    angles: NDArray[np.float32]
    keypoints: NDArray[np.float32]
    found: NDArray[np.bool_]
    image_size: NDArray[np.int32]
    score: NDArray[np.float32]
    mouth: NDArray[np.float32] | None = None

    def __len__(self) -> int:
        return len(self.files)

    @property
    def profile(self) -> str:
        """The detector profile of the source (a mirror reading's is its detector's)."""
        return SOURCE_PROFILES[self.source.removesuffix("_mirror")]

    def subset(self, mask: NDArray[np.bool_] | NDArray[np.integer]) -> KeypointSet:
        """Rows where ``mask`` is true (or the given row indices)."""
        m = np.asarray(mask)
        idx = np.flatnonzero(m) if m.dtype == bool else m.astype(np.int64)
        return KeypointSet(
            self.name,
            self.source,
            [self.files[i] for i in idx],
            self.angles[idx],
            self.keypoints[idx],
            self.found[idx],
            self.image_size[idx],
            self.score[idx],
            None if self.mouth is None else self.mouth[idx],
        )

    def cleaned_keypoints(self) -> tuple[NDArray[np.float32], int]:
        """The keypoints as the pipeline hands them to the model: implausible points dropped
        (:func:`hhpnet.keypoints.drop_implausible_points` with each photo's size); and how
        many points were dropped."""
        from hhpnet.keypoints import drop_implausible_points

        kp = np.array(self.keypoints, np.float32)
        dropped = 0
        for size in np.unique(self.image_size, axis=0):
            rows = (self.image_size == size).all(axis=1)
            kp[rows], count = drop_implausible_points(kp[rows], (int(size[0]), int(size[1])))
            dropped += int(count.sum())
        return kp, dropped

    def folds(self, k: int = 5, seed: int = 0) -> NDArray[np.int64]:
        """:func:`fold_ids` of these rows, stratified by their |yaw| labels.

        Folds depend only on the labels and the row order, so every source of one file gets
        the same folds. Take them on the whole file, before any :meth:`subset`.
        """
        return fold_ids(len(self), k, seed, yaw=self.angles[:, 0])


def fold_ids(
    n: int, k: int = 5, seed: int = 0, *, yaw: ArrayLike | None = None
) -> NDArray[np.int64]:
    """Cross-validation fold (0 … k−1) of each of ``n`` rows, deterministic in ``seed``.

    With ``yaw`` (n,) labels in degrees the folds are stratified by |yaw| bin
    (:data:`FOLD_YAW_EDGES`): within each bin the rows are shuffled and dealt to the folds in
    turn, the count running on across bins, so each fold holds the same number of rows of every
    bin (± 1) and fold sizes differ by at most one. Without ``yaw`` there is one bin.
    Fit on ``fold != j``, score on ``fold == j``, for j = 0 … k−1.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise InputError(f"fold_ids: n must be a row count ≥ 0, got {n!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise InputError(f"fold_ids: k must be an integer ≥ 2, got {k!r}")
    if 0 < n < k:
        raise InputError(f"fold_ids: {k} folds need at least {k} rows, got {n}")
    if yaw is None:
        bins = np.zeros(n, np.int64)
    else:
        y = np.asarray(yaw, np.float64).reshape(-1)
        if len(y) != n:
            raise InputError(f"fold_ids: yaw has {len(y)} values for {n} rows")
        if not np.isfinite(y).all():
            raise InputError("fold_ids: yaw labels must be finite")
        bins = np.digitize(np.abs(y), FOLD_YAW_EDGES)
    rng = np.random.default_rng(seed)
    out = np.empty(n, np.int64)
    dealt = 0
    for b in np.unique(bins):
        rows = np.flatnonzero(bins == b)
        rows = rows[rng.permutation(len(rows))]
        out[rows] = (dealt + np.arange(len(rows))) % k
        dealt += len(rows)
    return out


def _read_csv_table(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and the non-blank rows (with their line numbers) of a CSV file."""
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            rows = [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]
    except OSError as exc:
        raise InputError(f"cannot read keypoints CSV {path}: {exc.strerror}") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from exc
    if header is None:
        raise InputError(f"{path}: empty file (expected a CSV header)")
    return [h.strip() for h in header], rows


def _numbers(
    path: Path, header: list[str], rows: list[tuple[int, list[str]]], names: Sequence[str]
) -> NDArray[np.float64]:
    """The named columns as floats ``(n, len(names))``; empty cells → NaN."""
    where = {h: i for i, h in reversed(list(enumerate(header)))}
    missing = [c for c in names if c not in where]
    if missing:
        more = f" (+{len(missing) - 3} more)" if len(missing) > 3 else ""
        raise InputError(f"{path}: missing column(s) {', '.join(missing[:3])}{more}")
    cols = [where[c] for c in names]
    out = np.empty((len(rows), len(cols)))
    for r, (line, cells) in enumerate(rows):
        if len(cells) != len(header):
            raise InputError(
                f"{path} line {line}: {len(cells)} cells for {len(header)} header columns"
            )
        for j, c in enumerate(cols):
            text = cells[c].strip()
            if not text:
                out[r, j] = np.nan
                continue
            try:
                out[r, j] = float(text)
            except ValueError:
                raise InputError(
                    f"{path} line {line}: column {names[j]}: not a number: {text[:20]!r}"
                ) from None
    return out


def _source_columns(source: str) -> list[str]:
    pre = _PREFIX[source]
    if source == "blazeface":
        return [f"{pre}_score"] + [f"{pre}_{p}_{c}" for p in BLAZEFACE_POINTS for c in "xy"]
    suffix = _CONFIDENCE_SUFFIX[source]
    return [f"{pre}_score"] + [f"{pre}_{p}_{c}" for p in KEYPOINT_NAMES for c in ("x", "y", suffix)]


def load_keypoints_csv(
    path: str | Path, source: str = "blazeface", *, kpt_thr: float = 0.0
) -> KeypointSet:
    """One detector source of a keypoints CSV (format in the module docstring).

    Confidences as hhpnet's own pipeline computes them: BlazeFace from the face score by
    :func:`hhpnet.keypoints.blazeface_confidence`, BlazePose = visibility, MoveNet = keypoint
    score; a point whose confidence is below ``kpt_thr`` is missing. Malformed files (missing
    columns, non-numbers, labels not finite, a detector block partly empty, confidences outside
    [0, 1]) raise :class:`hhpnet.errors.InputError` naming the line.
    """
    if source not in KEYPOINT_SOURCES:
        raise InputError(
            f"unknown keypoint source {source!r}; choose from {', '.join(KEYPOINT_SOURCES)}"
        )
    if not 0.0 <= float(kpt_thr) <= 1.0:
        raise InputError(f"kpt_thr must be in [0, 1]; got {kpt_thr}")
    p = Path(path)
    header, rows = _read_csv_table(p)
    files, labels, lines = _files_and_labels(p, header, rows)
    block, found = _detector_block(p, header, rows, lines, source)
    kp, mouth = _source_keypoints(p, source, block, found, lines, kpt_thr)
    score = np.where(found, block[:, 0], np.nan)
    return KeypointSet(
        name=f"{p.name} ({source})",
        source=source,
        files=files,
        angles=labels[:, 2:].astype(np.float32),
        keypoints=kp,
        found=found,
        image_size=labels[:, :2].astype(np.int32),
        score=score.astype(np.float32),
        mouth=mouth,
    )


def _files_and_labels(
    p: Path, header: list[str], rows: list[tuple[int, list[str]]]
) -> tuple[list[str], NDArray[np.float64], list[int]]:
    """The ``file`` column, the labels (width, height, yaw, pitch, roll) checked, and the
    line number of each row."""
    if not rows:
        raise InputError(f"{p}: no data rows")
    if "file" not in header:
        raise InputError(f"{p}: missing column(s) file")
    files = [
        cells[header.index("file")].strip() if len(cells) == len(header) else ""
        for _, cells in rows
    ]
    labels = _numbers(p, header, rows, _LABEL_COLUMNS[1:])
    lines = [line for line, _ in rows]
    bad = ~np.isfinite(labels).all(axis=1)
    if bad.any():
        raise InputError(
            f"{p} line {lines[int(np.argmax(bad))]}: width, height, yaw, pitch and "
            "roll must all be given"
        )
    bad = (labels[:, :2] <= 0).any(axis=1) | (labels[:, :2] != np.round(labels[:, :2])).any(axis=1)
    if bad.any():
        raise InputError(
            f"{p} line {lines[int(np.argmax(bad))]}: width and height must be positive whole pixels"
        )
    return files, labels, lines


def _detector_block(
    p: Path, header: list[str], rows: list[tuple[int, list[str]]], lines: list[int], source: str
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The source's columns (score, then its points; :func:`_source_columns`) and the rows
    where they are given (the detector found a face); a partly empty block is an error."""
    cols = _source_columns(source)
    block = _numbers(p, header, rows, cols)
    given = np.isfinite(block)
    found: NDArray[np.bool_] = np.asarray(given.all(axis=1), bool)
    partial = given.any(axis=1) & ~found
    if partial.any():
        i = int(np.argmax(partial))
        empty = [c for c, g in zip(cols, given[i], strict=True) if not g]
        raise InputError(
            f"{p} line {lines[i]}: {source} columns partly empty ({empty[0]} …); "
            "a detector block is either complete or empty"
        )
    return block, found


def _source_keypoints(
    p: Path,
    source: str,
    block: NDArray[np.float64],
    found: NDArray[np.bool_],
    lines: list[int],
    kpt_thr: float,
) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
    """The (n, 5, 3) keypoints with hhpnet's confidences (missing rows and points zero) and,
    for BlazeFace, its mouth point (n, 2) (NaN where not found)."""
    n = len(block)
    if source == "blazeface":
        pts = block[:, 1:].reshape(n, 6, 2)
        xy = pts[:, [BLAZEFACE_POINTS.index(k) for k in KEYPOINT_NAMES]]
        conf_check = block[:, :1]
    else:
        trip = block[:, 1:].reshape(n, 5, 3)
        xy = trip[..., :2]
        conf_check = np.concatenate([block[:, :1], trip[..., 2]], axis=1)
    out_of_range = found & ((conf_check < 0) | (conf_check > 1)).any(axis=1)
    if out_of_range.any():
        raise InputError(
            f"{p} line {lines[int(np.argmax(out_of_range))]}: {source} scores and "
            "confidences must be in [0, 1]"
        )
    kp = np.zeros((n, 5, 3), np.float32)
    if found.any():
        if source == "blazeface":
            conf = np.asarray(blazeface_confidence(xy[found], block[found, 0]), np.float64)
        else:
            conf = trip[found, :, 2]
        k = np.concatenate([xy[found], conf[..., None]], axis=-1)
        k[k[..., 2] < float(kpt_thr), 2] = 0.0
        kp[found] = validate_keypoints(k, name=f"{p}: {source} keypoints")
    if source != "blazeface":
        return kp, None
    at = BLAZEFACE_POINTS.index("mouth")
    return kp, np.asarray(np.where(found[:, None], pts[:, at], np.nan), np.float32)
