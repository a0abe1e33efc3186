"""The shapes of a batch's JSON files and messages, written down (annotations only).

``OUT/_batch/batch.json`` is a :class:`Marker`; ``OUT/_batch/records/<name>.json`` a
:class:`Record` (one per input, the commit point of its results; ``input`` is its
:class:`Fingerprint`, ``outputs`` its :class:`OutputFile` by format); ``OUT/summary.csv`` has one
:class:`SummaryRow` per input (columns :data:`~hhpnet.batch.constants.SUMMARY_COLUMNS`). A Ray task
gets a :class:`Job` and yields :class:`Progress` messages, then one :class:`Result`.
Files read back are checked where they are read (a foreign or damaged file is ignored).
"""

from __future__ import annotations

from typing import Literal, TypedDict, final

__all__ = [
    "Fatal",
    "Fingerprint",
    "Job",
    "Marker",
    "Message",
    "OutputFile",
    "Processing",
    "Progress",
    "Record",
    "Result",
    "SummaryRow",
]


class _Processing(TypedDict):
    hhpnet: str
    model: str
    model_sha256: str | None
    detector: str
    kpt_thr: float
    interact: bool
    method: str
    stride: int
    max_frames: int | None
    fps: float | None
    smooth_accel: float | None
    jsonl: bool
    save_video: bool
    timeline_png: bool


class Processing(_Processing, total=False):
    """The options that make the results (:meth:`BatchOptions.processing`), kept in
    ``batch.json`` and in every record; their hash is the record's ``config``."""

    #: only when set (results made before the option existed keep their hash)
    precise: bool


class Marker(TypedDict):
    """``OUT/_batch/batch.json``: the run that owns the folder (its ``token``) and its options."""

    config: str
    processing: Processing
    token: str


class Fingerprint(TypedDict, total=False):
    """How an input looked when it was processed: a file's ``size``, ``mtime_ns`` (and
    ``sha256`` with ``--check hash``), a URL's ``url``, or ``missing``."""

    size: int
    mtime_ns: int
    sha256: str
    url: str
    missing: bool


class OutputFile(TypedDict):
    """One committed file of an input: its path relative to OUT, size in bytes and SHA-256."""

    path: str
    size: int
    sha256: str


class _RecordStart(TypedDict):
    version: int
    source: str
    name: str
    config: str
    processing: Processing
    input: Fingerprint
    attempts: int | None
    host: str | None


@final
class Record(_RecordStart, total=False):
    """``OUT/_batch/records/<name>.json``: what became of one input. The fields up to ``host``
    are there from the start of an attempt; ``status`` (done, damaged, failed), ``error``,
    ``outputs`` and ``finished_at`` when it ended; the counts and timings when it ran."""

    pid: int
    status: str
    error: str | None
    frames: int
    rows: int
    people: int
    video_s: float
    elapsed_s: float
    cpu_s: float
    fps: float
    warnings: list[str]
    #: resident memory samples: [video time (s), MiB or None]
    rss_mib: list[list[float | None]]
    mutual_s: float | None
    mutual_intervals: int | None
    one_way_s: float | None
    one_way_intervals: int | None
    outputs: dict[str, OutputFile]
    finished_at: str


class SummaryRow(TypedDict):
    """One row of ``OUT/summary.csv`` and of :attr:`BatchReport.rows` (None: not known; an
    empty cell in the CSV). ``status`` is ``pending`` until the input has a record."""

    input: str
    name: str
    status: str
    error: str | None
    frames: int | None
    rows: int | None
    people: int | None
    video_s: float | None
    mutual_s: float | None
    mutual_intervals: int | None
    one_way_s: float | None
    one_way_intervals: int | None
    elapsed_s: float | None
    cpu_s: float | None
    fps: float | None
    attempts: int | None
    skipped: int
    host: str | None
    finished_at: str | None


class Job(TypedDict):
    """What a Ray task is given (:func:`hhpnet.batch.worker.process_input`)."""

    source: str
    kind: str
    name: str
    out: str
    token: str
    processing: Processing
    config: str
    threads: int
    check: str


@final
class Progress(TypedDict):
    """A task's message about once a second: the frames processed so far."""

    kind: Literal["progress"]
    frames: int


@final
class Fatal(TypedDict):
    """A task's record when the worker cannot see OUT (the run stops)."""

    fatal: Literal[True]
    error: str


@final
class Result(TypedDict):
    """A task's last message: the input's record (or :class:`Fatal`)."""

    kind: Literal["result"]
    record: Record | Fatal


#: what a task yields
Message = Progress | Result
