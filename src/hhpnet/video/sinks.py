"""Incremental writers for per-frame results: CSV, Parquet and JSON Lines, with resume.

Every writer takes one frame at a time (:meth:`write` with a dict of equal-length columns) and
flushes to disk every ``flush_every`` frames, so an interrupted run keeps what it computed.

Resume (``--resume``): the **CSV is the journal**. :func:`csv_resume_point` reads it and returns
the last frame index that has rows; that frame may be incomplete (a hard kill in the middle of a
write), so its rows are dropped and processing restarts *at* that frame. Frames without people
have no rows, so nothing is lost or duplicated by restarting at the last frame with rows. The
other writers are cut at the same frame: JSON Lines by parsing the ``frame`` of each line,
Parquet by rewriting the rows before that frame (from the old Parquet file if it is readable,
otherwise from the CSV journal). :func:`hhpnet.video.process_video` replays the frames before
the restart point with the CSV's poses (:func:`journal_values`: the values as they read back),
so the resumed files equal those of an uninterrupted run.

Columns of the per-person-per-frame table (:data:`VIDEO_COLUMNS`), angles in degrees, positions in
pixels, times in seconds:

=====================  ======================================================================
``frame``              frame index in the source (0-based, counts every decoded frame)
``time_s``             frame time from the first frame (repaired container timestamp, or
                       index / fps; never decreasing)
``track_id``           persistent person id (−1: could not be tracked)
``x1 y1 x2 y2``        detector box
``score``              detection score
``<point>_x/_y/_c``    five keypoints (nose, left_eye, right_eye, left_ear, right_ear): pixels and
                       confidence (0 = missing)
``yaw pitch roll``     per-frame estimate (empty = invalid)
``sigma_*``            per-frame σ of each angle (``inf`` = invalid)
``*_smooth``           temporally filtered angle (Kalman, :mod:`hhpnet.video.smoothing`)
``sigma_*_smooth``     posterior σ of the filtered angle
``valid``              1 if the per-frame pose is valid, else 0
``detector``           whose readings: ``blazeface``, ``movenet``, ``blazeface+movenet``
                       (both, combined), ``blazepose``, or empty; ``+facemesh`` where the
                       face mesh read the face too
``ambiguous``          1 if the points do not pin the yaw down (a back view, σ_yaw ≥ 30°;
                       :mod:`hhpnet.tails`), else 0
=====================  ======================================================================
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.columns import (
    BOOL_COLUMNS,
    INT_COLUMNS,
    TEXT_COLUMNS,
    VIDEO_COLUMNS,
    digits,
    text_cell,
    text_values,
)
from hhpnet.errors import HhpnetError, InputError

__all__ = [
    "TEXT_COLUMNS",
    "VIDEO_COLUMNS",
    "CsvSink",
    "JsonlSink",
    "ParquetSink",
    "csv_resume_point",
    "format_cells",
    "journal_values",
    "read_csv_rows",
    "text_values",
]


def _fmt_float(v: float, digits: int) -> str:
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.{digits}f}"


def format_cells(name: str, values: ArrayLike) -> list[str]:
    """The CSV cells of column ``name`` for ``values`` (integers; floats rounded to the
    column's decimals; NaN → empty; ±inf → ``inf``/``-inf``)."""
    a = np.asarray(values).reshape(-1)
    if name in TEXT_COLUMNS:
        return [text_cell(v) for v in a]
    if name in INT_COLUMNS:
        return [str(int(v)) for v in a]
    d = digits(name)
    return [_fmt_float(float(v), d) for v in a]


def _parse_cell(text: str) -> float:
    return float(text) if text else math.nan


def journal_values(name: str, values: ArrayLike) -> NDArray[np.float64]:
    """``values`` exactly as they read back from the CSV (float64): what a resumed run replays.

    The video pipeline tracks, smooths and analyses these quantised values, so a resumed run
    that replays the CSV continues from the very same state as an uninterrupted run. For
    float32 input (every pose column) this is vectorised and exact: x·10ᵈ is exact in float64
    (24 + 14 bits), ``rint`` rounds half to even as ``format`` does, and the division is
    correctly rounded as ``float()`` parsing is (equal to the text round trip on 10⁶ values;
    tests/test_video_resume.py checks 20,000 and the edge cases)."""
    a = np.asarray(values)
    if a.dtype.kind in "iub" or a.dtype == np.float32 or a.dtype == np.float16:
        if name in INT_COLUMNS:
            return a.astype(np.float64)
        scale = 10.0 ** digits(name)
        with np.errstate(invalid="ignore"):
            return np.rint(a.astype(np.float64) * scale) / scale
    return np.array([_parse_cell(c) for c in format_cells(name, a)], dtype=np.float64)


def _columns_len(cols: Mapping[str, ArrayLike], names: Sequence[str]) -> int:
    lengths = {len(np.atleast_1d(cols[c])) for c in names}
    if len(lengths) > 1:
        raise ValueError(f"columns have different lengths: {sorted(lengths)}")
    return lengths.pop() if lengths else 0


class _Sink:
    path: str

    def __enter__(self) -> _Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class _LineSink(_Sink):
    """A text file written line by line and flushed every ``flush_every`` frames. On resume the
    lines to keep are rewritten atomically (temporary file + rename) and the file is appended to.
    """

    _newline: str | None = None

    def _open(self, kept: list[str] | None, header: str | None, flush_every: int) -> None:
        """Open ``self.path``: with ``kept`` lines (resume) or fresh with an optional header."""
        self.flush_every = max(int(flush_every), 1)
        self._pending = 0
        nl = self._newline
        try:
            if kept is not None:
                tmp = self.path + ".tmp"
                with open(tmp, "w", encoding="utf-8", newline=nl) as fh:
                    fh.write("".join(ln + "\n" for ln in kept))
                os.replace(tmp, self.path)
                self._fh = open(self.path, "a", encoding="utf-8", newline=nl)
            else:
                _make_parent(self.path)
                self._fh = open(self.path, "w", encoding="utf-8", newline=nl)
                if header is not None:
                    self._fh.write(header + "\n")
                    self._fh.flush()
        except OSError as exc:
            raise InputError(f"{self.path}: cannot write here ({exc.strerror or exc})") from None

    def _frame_done(self) -> None:
        self._pending += 1
        if self._pending >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Push buffered lines to disk."""
        if not self._fh.closed:
            self._fh.flush()
        self._pending = 0

    def close(self) -> None:
        """Flush and close."""
        if not self._fh.closed:
            self._fh.flush()
            self._fh.close()


def _complete_lines(path: str) -> list[str]:
    """Lines of a text file that end with a newline (a cut last line is dropped)."""
    with open(path, encoding="utf-8", newline="") as fh:
        data = fh.read()
    lines = data.split("\n")
    return [ln for ln in lines[:-1]]  # the piece after the last "\n" is incomplete or empty


def read_csv_rows(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read a per-frame CSV written by :class:`CsvSink` back into numpy columns.

    Integer columns come back as int64, text columns (:data:`TEXT_COLUMNS`) as str, the others
    as float64 (empty cell → NaN); a cut last line is ignored. Raises :class:`InputError` if
    the file is not such a CSV.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such CSV file")
    lines = _complete_lines(path)
    if not lines:
        raise InputError(f"{path}: empty CSV (no header)")
    header = lines[0].strip().split(",")
    if "frame" not in header:
        raise InputError(f"{path}: not a hhpnet video CSV (no 'frame' column)")
    body = [ln.split(",") for ln in lines[1:] if ln.strip()]
    body = [r for r in body if len(r) == len(header)]
    out: dict[str, np.ndarray] = {}
    for k, name in enumerate(header):
        cells = [r[k] for r in body]
        if name in TEXT_COLUMNS:
            out[name] = np.array(cells, dtype=str)
            continue
        try:
            vals = np.array([_parse_cell(c) for c in cells], dtype=np.float64)
        except ValueError:
            msg = f"{path}: column {name!r} holds a value that is not a number"
            raise InputError(msg) from None
        if name in INT_COLUMNS:
            if not np.isfinite(vals).all():
                raise InputError(f"{path}: column {name!r} has empty or non-finite cells")
            vals = vals.astype(np.int64)
        out[name] = vals
    return out


def csv_resume_point(path: str | os.PathLike[str]) -> int | None:
    """Frame index to restart from (the last frame with rows), or None if the CSV has no rows."""
    rows = read_csv_rows(path)
    frames = rows["frame"]
    return int(frames.max()) if frames.size else None


class CsvSink(_LineSink):
    """Append rows frame by frame to a CSV file (header once, ``flush_every`` frames per flush).

    ``resume_frame``: keep the existing file but drop its rows with ``frame ≥ resume_frame`` (and a
    cut last line); the header must match ``columns``.
    """

    _newline = ""  # the csv convention: "\n" written as is

    def __init__(
        self,
        path: str | os.PathLike[str],
        columns: Sequence[str] = VIDEO_COLUMNS,
        *,
        resume_frame: int | None = None,
        flush_every: int = 1,
    ) -> None:
        self.path = os.fspath(path)
        self.columns = tuple(columns)
        self.rows_written = 0
        header = ",".join(self.columns)
        if resume_frame is not None and os.path.isfile(self.path):
            lines = _complete_lines(self.path)
            if not lines or lines[0].strip() != header:
                raise InputError(
                    f"{self.path}: cannot resume, its columns differ from this version"
                )
            fi = self.columns.index("frame")
            kept = [
                ln
                for ln in lines[1:]
                if ln.strip()
                and len(ln.split(",")) == len(self.columns)
                and _frame_of(ln.split(",")[fi]) < resume_frame
            ]
            self.rows_before = len(kept)
            self._open([lines[0], *kept], None, flush_every)
        else:
            self.rows_before = 0
            self._open(None, header, flush_every)

    def write(self, cols: Mapping[str, ArrayLike]) -> None:
        """Write one frame's rows: ``cols`` maps every column name to an (n,) array."""
        n = _columns_len(cols, self.columns)
        if n:
            fmts = [format_cells(c, np.asarray(cols[c]).reshape(n)) for c in self.columns]
            lines = [",".join(row) for row in zip(*fmts, strict=True)]
            self._fh.write("\n".join(lines) + "\n")
            self.rows_written += n
        self._frame_done()


def _frame_of(cell: str) -> float:
    try:
        return float(cell)
    except ValueError:
        return math.inf  # not a row of ours: dropped


def _make_parent(path: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{path}: cannot create its folder ({exc.strerror or exc})") from exc


def _require_pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise HhpnetError("Parquet output needs pyarrow: pip install 'hhpnet[parquet]'") from exc
    return pyarrow


#: frames per Parquet row group by default: the writer keeps every group's metadata until the
#: footer, so 30-frame groups grew an hour of 2-person 30 fps video by 106 MiB of RSS (and 57 vs
#: 41 MiB of file), 1,000-frame groups by 5 MiB (pyarrow ParquetWriter, measured 2026-11-26)
PARQUET_GROUP_FRAMES = 1000


class ParquetSink(_Sink):
    """Write rows to a Parquet file, one row group every ``flush_every`` frames (needs pyarrow).

    ``initial``: columns written first (rows kept from an interrupted run). A Parquet file is
    only readable once closed (its footer comes last): close the sink, also on Ctrl-C.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        columns: Sequence[str] = VIDEO_COLUMNS,
        *,
        initial: Mapping[str, ArrayLike] | None = None,
        flush_every: int = PARQUET_GROUP_FRAMES,
    ) -> None:
        pa = _require_pyarrow()
        self._pa = pa
        self.path = os.fspath(path)
        self.columns = tuple(columns)
        self.flush_every = max(int(flush_every), 1)
        self.rows_written = 0
        fields = []
        for c in self.columns:
            if c in BOOL_COLUMNS:
                t = pa.bool_()
            elif c in INT_COLUMNS:
                t = pa.int64()
            elif c == "time_s":
                t = pa.float64()
            elif c in TEXT_COLUMNS:
                t = pa.string()
            else:
                t = pa.float32()
            fields.append(pa.field(c, t))
        self.schema = pa.schema(fields)
        _make_parent(self.path)
        try:
            self._writer = pa.parquet.ParquetWriter(self.path, self.schema)
        except OSError as exc:
            raise InputError(f"{self.path}: cannot write here ({exc})") from None
        self._buffer: list[dict[str, np.ndarray]] = []
        self.rows_before = 0
        if initial is not None:
            n = _columns_len(initial, self.columns)
            if n:
                self._buffer.append({c: np.asarray(initial[c]).reshape(n) for c in self.columns})
                self.rows_before = n
                self.flush()

    @staticmethod
    def read_before(path: str | os.PathLike[str], frame: int) -> dict[str, np.ndarray] | None:
        """Rows of an existing Parquet file with ``frame < frame``, or None if unreadable."""
        pa = _require_pyarrow()
        try:
            table = pa.parquet.read_table(os.fspath(path))
        except Exception:
            return None
        cols = {c: table.column(c).to_numpy(zero_copy_only=False) for c in table.column_names}
        keep = cols["frame"] < frame
        return {c: v[keep] for c, v in cols.items()}

    def write(self, cols: Mapping[str, ArrayLike]) -> None:
        """Buffer one frame's rows; a row group is written every ``flush_every`` frames."""
        n = _columns_len(cols, self.columns)
        self._buffer.append({c: np.asarray(cols[c]).reshape(n) for c in self.columns})
        if len(self._buffer) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        """Write the buffered frames as one row group."""
        if not self._buffer:
            return
        pa = self._pa
        arrays = []
        for f in self.schema:
            v = np.concatenate([b[f.name] for b in self._buffer])
            if f.name in BOOL_COLUMNS:
                v = v.astype(bool)
            elif f.name in INT_COLUMNS:
                v = v.astype(np.int64)
            elif f.name in TEXT_COLUMNS:
                v = text_values(v).astype(object)
            arrays.append(pa.array(v, type=f.type, from_pandas=True))
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        self._buffer = []
        if table.num_rows:
            self._writer.write_table(table)
            self.rows_written += table.num_rows

    def close(self) -> None:
        """Flush and write the footer."""
        if self._writer is not None:
            self.flush()
            self._writer.close()
            self._writer = None


class JsonlSink(_LineSink):
    """One JSON record per frame and line (``record["frame"]`` required), flushed per frame.

    ``resume_frame``: keep the existing lines with ``frame < resume_frame`` (a cut last line or a
    line that does not parse is dropped).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        resume_frame: int | None = None,
        flush_every: int = 1,
    ) -> None:
        self.path = os.fspath(path)
        self.records_written = 0
        kept: list[str] | None = None
        if resume_frame is not None and os.path.isfile(self.path):
            kept = []
            for ln in _complete_lines(self.path):
                try:
                    rec = json.loads(ln)
                except ValueError:
                    continue
                if isinstance(rec, dict) and int(rec.get("frame", -1)) < resume_frame:
                    kept.append(ln)
        self._open(kept, None, flush_every)

    def write(self, record: Mapping[str, object]) -> None:
        """Append one record (NaN/inf must already be None)."""
        self._fh.write(json.dumps(record, allow_nan=False, separators=(",", ":")) + "\n")
        self.records_written += 1
        self._frame_done()
