"""Driver side: Ray start/connect, the task loop with retries and progress, the summary and
the report (:func:`run_batch`), and :func:`read_dataset`."""

from __future__ import annotations

import contextlib
import csv
import errno
import os
import shutil
import socket
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from hhpnet.batch.cluster import (
    start_ray,
)
from hhpnet.batch.constants import (
    _RECORD_VERSION,
    _STATUS_FINISHED,
    SUMMARY_COLUMNS,
)
from hhpnet.batch.files import (
    _input_fingerprint,
    _Layout,
    _load_records,
    _read_json,
    _remove_orphans,
    _verify_finished,
    _write_json_atomic,
)
from hhpnet.batch.inputs import (
    BatchInput,
    _assign_names,
    _unique,
    collect_inputs,
)
from hhpnet.batch.options import (
    BatchOptions,
    _config_hash,
)
from hhpnet.batch.worker import (
    _now,
    _one_line,
    process_input,
)
from hhpnet.errors import HhpnetError, InputError

if TYPE_CHECKING:
    import pyarrow
    from tqdm import tqdm

    from hhpnet.batch.schema import Job, Marker, Message, Processing, Record, SummaryRow


# --------------------------------------------------------------------------- driver side
@dataclass
class BatchReport:
    """What a batch run did: ``rows`` (one summary row per input of this run, in input order,
    keys :data:`SUMMARY_COLUMNS`), ``interrupted`` (Ctrl-C), ``elapsed_s`` (wall time of the
    whole run), ``ray_start_s`` (of it, starting or joining Ray), ``workers``, ``mode``,
    ``out``."""

    out: str
    rows: list[SummaryRow] = field(default_factory=list)
    interrupted: bool = False
    elapsed_s: float = 0.0
    workers: int = 0
    mode: str = "local"
    ray_start_s: float = 0.0

    def counts(self) -> dict[str, int]:
        """Number of inputs per status (done, damaged, failed, pending) and skipped."""
        c = {"done": 0, "damaged": 0, "failed": 0, "pending": 0, "skipped": 0}
        for r in self.rows:
            c[r["status"]] = c.get(r["status"], 0) + 1
            c["skipped"] += int(bool(r.get("skipped")))
        return c

    @property
    def exit_code(self) -> int:
        """130 if interrupted, 1 if an input failed or was damaged, else 0."""
        if self.interrupted:
            return 130
        c = self.counts()
        return 1 if c["failed"] or c["damaged"] else 0

    def summary_line(self) -> str:
        """One line: inputs per status, frames, wall time, where the results are."""
        c = self.counts()
        parts = [
            f"{c['done']} done" + (f" ({c['skipped']} already finished)" if c["skipped"] else "")
        ]
        parts += [f"{c[k]} {k}" for k in ("damaged", "failed", "pending") if c[k]]
        frames = sum(int(r.get("frames") or 0) for r in self.rows if not r.get("skipped"))
        rate = f" ({frames / self.elapsed_s:.0f} frames/s)" if self.elapsed_s > 0 and frames else ""
        return (
            f"hhpnet batch: {len(self.rows)} inputs: {', '.join(parts)}; {frames} frames "
            f"processed in {self.elapsed_s:.1f} s{rate} → {os.path.join(self.out, 'summary.csv')}"
        )


def _summary_row(source: str, name: str, rec: Record | None, skipped: bool) -> SummaryRow:
    """The summary row of ``source``: its record's fields (those it has), else pending."""
    r: Record | dict[str, None] = rec or {}
    return {
        "input": source,
        "name": rec["name"] if rec else name,
        "status": rec.get("status", "pending") if rec else "pending",
        "error": r.get("error"),
        "frames": r.get("frames"),
        "rows": r.get("rows"),
        "people": r.get("people"),
        "video_s": r.get("video_s"),
        "mutual_s": r.get("mutual_s"),
        "mutual_intervals": r.get("mutual_intervals"),
        "one_way_s": r.get("one_way_s"),
        "one_way_intervals": r.get("one_way_intervals"),
        "elapsed_s": r.get("elapsed_s"),
        "cpu_s": r.get("cpu_s"),
        "fps": r.get("fps"),
        "attempts": r.get("attempts"),
        "skipped": int(skipped),
        "host": r.get("host"),
        "finished_at": r.get("finished_at"),
    }


def _write_summary(layout: _Layout, rows: list[SummaryRow]) -> None:
    tmp = f"{layout.summary}.{uuid.uuid4().hex[:8]}.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(SUMMARY_COLUMNS), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    os.replace(tmp, layout.summary)


class _Lock:
    """An exclusive lock on OUT (one batch driver per output folder)."""

    def __init__(self, layout: _Layout) -> None:
        self.path = os.path.join(layout.control, "lock")
        self.warning: str | None = None
        self._fh: IO[str] | None = None

    def __enter__(self) -> _Lock:
        import fcntl

        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):  # no locks on this file system
                self.warning = f"cannot lock {self.path} ({exc.strerror}): run one batch at a time"
                self._fh = fh
                return self
            fh.seek(0)
            who = fh.read().strip() or "another process"
            fh.close()
            raise InputError(
                f"{os.path.dirname(os.path.dirname(self.path))}: another hhpnet batch is "
                f"writing there ({who})"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _failure_message(exc: BaseException, retries: int) -> str:
    ray = sys.modules.get("ray")
    if ray is not None:
        rex = ray.exceptions
        if isinstance(exc, getattr(rex, "OutOfMemoryError", ())):
            return "killed by Ray's memory monitor (out of memory)"
        if isinstance(exc, (rex.WorkerCrashedError, getattr(rex, "NodeDiedError", ()))):
            return f"the worker process died {retries + 1} times (killed, or out of memory)"
        if isinstance(exc, rex.RayTaskError):
            cause = getattr(exc, "cause", None)
            if cause is not None and not isinstance(cause, rex.RayTaskError):
                return f"{type(cause).__name__}: {_one_line(cause)} (after {retries + 1} tries)"
        if isinstance(exc, rex.TaskCancelledError):
            return "cancelled"
    return f"{type(exc).__name__}: {_one_line(exc)}"


def run_batch(
    inputs: Sequence[str] | Sequence[BatchInput],
    out: str | os.PathLike[str],
    options: BatchOptions | None = None,
    *,
    log: Callable[[str], None] | None = None,
) -> BatchReport:
    """Run every input through the video pipeline on Ray; see the module docstring.

    ``inputs``: INPUT strings (files, folders, globs, URLs, manifests) or :class:`BatchInput`
    objects. ``log``: where one-line messages go (default: stderr, through the progress bar).
    Raises :class:`InputError` / :class:`HhpnetError` (one line) on a usage problem: no inputs,
    OUT locked by another run or made with other processing options, Ray missing or
    unreachable. Problems with single inputs are recorded, not raised.

    The steps, each raising its one-line usage error in this order: the options, the inputs
    (:func:`_batch_inputs`), the OUT folder (:func:`_open_out`), under its lock the marker and
    the earlier results (:func:`_claim`), what is left to do (:func:`_plan`), the Ray run, and
    the summary table.
    """
    opts = options or BatchOptions()
    opts.validate()
    t_start = time.perf_counter()
    batch_inputs = _batch_inputs(inputs)
    processing = opts.processing()
    config = _config_hash(processing)
    layout = _open_out(out)
    emit = log or _Emitter()
    report = BatchReport(out=layout.out)
    with _Lock(layout) as lock:
        if lock.warning:
            emit(f"hhpnet: warning: {lock.warning}")
        token, records = _claim(layout, opts, processing, config, batch_inputs)
        names = _assign_names(batch_inputs, records)
        rows, todo = _plan(layout, batch_inputs, names, records, config, opts.check)
        report.rows = [rows[i.source] for i in batch_inputs]
        driver = _Driver(
            layout, names, rows, records, opts, processing, config, token, emit, report
        )
        try:
            if todo:
                driver.run(todo)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            records = _load_records(layout)
            if not report.interrupted:
                shutil.rmtree(layout.tmp, ignore_errors=True)
                _remove_orphans(layout, records)
            _write_summary(layout, _all_rows(records, report.rows))
    report.elapsed_s = time.perf_counter() - t_start
    return report


def _batch_inputs(inputs: Sequence[str] | Sequence[BatchInput]) -> list[BatchInput]:
    """The given :class:`BatchInput` objects, then the inputs the INPUT strings name
    (:func:`collect_inputs`; also when nothing at all is given: its usage error), each once."""
    given = [i for i in inputs if isinstance(i, BatchInput)]
    specs = [str(i) for i in inputs if not isinstance(i, BatchInput)]
    return _unique([*given, *(collect_inputs(specs) if specs or not given else [])])


def _open_out(out: str | os.PathLike[str]) -> _Layout:
    """OUT's layout, its control folder made; pyarrow is checked first (the merged dataset
    is Parquet)."""
    try:
        import pyarrow  # noqa: F401  - the merged dataset is Parquet
    except ImportError as exc:
        raise HhpnetError("hhpnet batch needs pyarrow: pip install 'hhpnet[ray]'") from exc
    layout = _Layout(os.path.abspath(os.fspath(out)))
    try:
        os.makedirs(layout.control, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"{layout.out}: cannot create the output folder ({exc.strerror})"
        ) from None
    return layout


def _claim(
    layout: _Layout,
    opts: BatchOptions,
    processing: Processing,
    config: str,
    batch_inputs: list[BatchInput],
) -> tuple[str, dict[str, Record]]:
    """Under OUT's lock: refuse results made with other options (unless ``--force``), write
    this run's marker (its token), clear what interrupted runs left and, with ``--force``, the
    records this run redoes. The token and the records kept."""
    marker = _read_json(layout.marker)
    if isinstance(marker, dict) and marker.get("config") != config and not opts.force:
        before = marker.get("processing") or {}
        changed = [k for k, v in processing.items() if before.get(k) != v]
        raise InputError(
            f"{layout.out} holds results made with other options "
            f"({', '.join(changed) or 'hhpnet version'}); use another --out, or --force to "
            "redo them"
        )
    token = uuid.uuid4().hex
    new: Marker = {"config": config, "processing": processing, "token": token}
    _write_json_atomic(layout.marker, new)
    for d in (layout.tmp, layout.running):
        shutil.rmtree(d, ignore_errors=True)
    records = _load_records(layout)
    if opts.force:  # this run's inputs, and results made with other options, start over
        ours = {i.source for i in batch_inputs}
        for name, rec in list(records.items()):
            if rec["source"] in ours or rec.get("config") != config:
                os.remove(layout.record(name))
                del records[name]
    _remove_orphans(layout, records)
    return token, records


def _plan(
    layout: _Layout,
    batch_inputs: list[BatchInput],
    names: dict[str, str],
    records: dict[str, Record],
    config: str,
    check: str,
) -> tuple[dict[str, SummaryRow], list[BatchInput]]:
    """The summary row of every input (by source) and the inputs still to process (those
    without a verified finished record)."""
    rows: dict[str, SummaryRow] = {}
    todo: list[BatchInput] = []
    for inp in batch_inputs:
        name = names[inp.source]
        known = records.get(name)
        finished = _verify_finished(layout, known, inp, config, check)
        rows[inp.source] = _summary_row(inp.source, name, known if finished else None, finished)
        if not finished:
            todo.append(inp)
    return rows, todo


def _all_rows(records: dict[str, Record], rows: list[SummaryRow]) -> list[SummaryRow]:
    """This run's rows, then the finished inputs of earlier runs (they are in the dataset)."""
    seen = {r["name"] for r in rows}
    extra = [
        _summary_row(rec["source"], name, rec, True)
        for name, rec in sorted(records.items())
        if name not in seen and rec.get("status") in _STATUS_FINISHED
    ]
    return [*rows, *extra]


@dataclass
class _Clock:
    """When a run's loop started and last updated the bar and the summary table
    (``time.perf_counter``)."""

    start: float = field(default_factory=time.perf_counter)
    bar: float = 0.0
    summary: float = 0.0

    def __post_init__(self) -> None:
        self.bar = self.summary = self.start


class _Emitter:
    """One-line messages on stderr that do not break a tqdm bar."""

    def __call__(self, line: str) -> None:
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)


@dataclass
class _Driver:
    """Submits the inputs as Ray tasks (at most ``workers`` at once), follows their progress
    and collects their records into the summary rows."""

    layout: _Layout
    names: dict[str, str]
    rows: dict[str, SummaryRow]
    earlier: dict[str, Record]  # records at the start (for the summary table)
    opts: BatchOptions
    processing: Processing
    config: str
    token: str
    emit: Callable[[str], None]
    report: BatchReport
    frames_done: int = 0
    frames_live: dict[str, int] = field(default_factory=dict)

    def run(self, todo: list[BatchInput]) -> None:
        t_ray = time.perf_counter()
        started = start_ray(
            self.opts.address,
            self.opts.num_cpus,
            self.opts.ray_logs,
            log_file=os.path.join(self.layout.control, "ray-start.log"),
        )
        self.report.ray_start_s = time.perf_counter() - t_ray
        ray = sys.modules["ray"]
        try:
            self._loop(ray, todo, started)
        finally:
            if started:
                ray.shutdown()

    def _loop(self, ray: Any, todo: list[BatchInput], started: bool) -> None:
        """Submit the inputs to Ray and collect their progress and results, at most
        ``workers`` at a time (:meth:`_announce`); the bar and, every 30 s, the summary table
        follow along (:meth:`_tick`); on any error the running tasks are cancelled."""
        from collections import deque

        from tqdm import tqdm

        opts = self.opts
        workers = self._announce(ray, todo, started)
        task = ray.remote(process_input).options(
            num_cpus=opts.threads,
            max_retries=opts.retries,
            retry_exceptions=True,
            num_returns="streaming",
        )
        show = opts.progress if opts.progress is not None else sys.stderr.isatty()
        bar = tqdm(
            total=len(todo), unit="input", disable=not show, file=sys.stderr, dynamic_ncols=True
        )
        queue = deque(todo)
        running: dict[Any, BatchInput] = {}
        clock = _Clock()
        try:
            while queue or running:
                while queue and len(running) < workers:
                    inp = queue.popleft()
                    running[task.remote(self._job(inp))] = inp
                ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
                for gen in ready:
                    record = self._next(ray, gen, running[gen])
                    if record is not None:
                        inp = running.pop(gen)
                        self._finished(inp, record, show)
                        bar.update(1)
                self._tick(bar, clock)
        except BaseException:
            for gen in running:
                with contextlib.suppress(Exception):
                    ray.cancel(gen, force=True)
            raise
        finally:
            bar.close()

    def _announce(self, ray: Any, todo: list[BatchInput], started: bool) -> int:
        """The number of inputs processed at once (``--workers``, else the cluster's CPUs by
        ``--threads``), kept in the report and told in one line with the Ray instance."""
        opts, report = self.opts, self.report
        report.mode = "local" if opts.address is None else f"cluster {opts.address}"
        cpus = int(ray.cluster_resources().get("CPU", 1))
        workers = report.workers = opts.workers or max(cpus // opts.threads, 1)
        done_before = len(self.rows) - len(todo)
        where = (
            f"Ray at {opts.address}"
            if opts.address is not None
            else ("a local Ray instance" if started else "the connected Ray instance")
        )
        self.emit(
            f"hhpnet batch: {len(self.rows)} inputs, {len(todo)} to process"
            + (f" ({done_before} already finished)" if done_before else "")
            + f"; {workers} at once on {where} with {cpus} CPUs"
            + (
                f" ({'started' if opts.address is None else 'joined'} in "
                f"{report.ray_start_s:.1f} s)"
                if started
                else ""
            )
        )
        return workers

    def _tick(self, bar: tqdm[None], clock: _Clock) -> None:
        """Every 0.5 s the frames and frames/s on the bar; every 30 s the summary table."""
        now = time.perf_counter()
        if now - clock.bar >= 0.5:
            live = self.frames_done + sum(self.frames_live.values())
            bar.set_postfix_str(f"{live} frames, {live / (now - clock.start):.0f} frames/s")
            clock.bar = now
        if now - clock.summary >= 30.0:  # long runs: the table follows along
            _write_summary(self.layout, _all_rows(self.earlier, self.report.rows))
            clock.summary = now

    def _job(self, inp: BatchInput) -> Job:
        return {
            "source": inp.source,
            "kind": inp.kind,
            "name": self.names[inp.source],
            "out": self.layout.out,
            "token": self.token,
            "processing": self.processing,
            "config": self.config,
            "threads": self.opts.threads,
            "check": self.opts.check,
        }

    def _next(self, ray: Any, gen: Any, inp: BatchInput) -> Record | None:
        """Read the task's next message: None after a progress update, else its final record
        (the worker's, or a failure record written here when the task failed for good)."""
        try:
            msg: Message = ray.get(next(gen))
        except StopIteration:
            return self._failure(inp, RuntimeError("the task ended without a result"))
        except ray.exceptions.RayError as exc:
            return self._failure(inp, exc)
        if msg["kind"] == "progress":
            self.frames_live[inp.source] = int(msg["frames"])
            return None
        record = msg["record"]
        if "fatal" in record:
            raise HhpnetError(record["error"])
        return record

    def _finished(self, inp: BatchInput, record: Record, bar_shown: bool) -> None:
        self.frames_live.pop(inp.source, None)
        self.frames_done += int(record.get("frames") or 0)
        self.rows[inp.source].update(_summary_row(inp.source, record["name"], record, False))
        _report_input(self.emit, record, bar_shown)

    def _failure(self, inp: BatchInput, exc: BaseException) -> Record:
        return _driver_failure(
            self.layout, inp, self.names, self.config, self.processing, exc, self.opts
        )


def _driver_failure(
    layout: _Layout,
    inp: BatchInput,
    names: dict[str, str],
    config: str,
    processing: Processing,
    exc: BaseException,
    opts: BatchOptions,
) -> Record:
    """The record of a task that failed for good (retries used up): written by the driver."""
    name = names[inp.source]
    run = _read_json(os.path.join(layout.running, f"{name}.json"))
    record: Record = {
        "version": _RECORD_VERSION,
        "source": inp.source,
        "name": name,
        "config": config,
        "processing": processing,
        "input": _input_fingerprint(inp, with_hash=False),
        "status": "failed",
        "error": _failure_message(exc, opts.retries),
        "attempts": int(run.get("attempts", 0)) if isinstance(run, dict) else None,
        "host": run.get("host") if isinstance(run, dict) else None,
        "outputs": {},
        "finished_at": _now(),
    }
    with contextlib.suppress(FileNotFoundError):
        os.remove(layout.record(name))
    _write_json_atomic(layout.record(name), record)
    return record


def _report_input(emit: Callable[[str], None], rec: Record, bar_shown: bool) -> None:
    """One line per failed or damaged input; without a progress bar also one per finished one."""
    src = rec["source"]
    err = str(rec.get("error"))
    if rec["status"] == "failed":
        emit(f"hhpnet: error: {err if src in err else f'{src}: {err}'}")
    elif rec["status"] == "damaged":
        emit(f"hhpnet: warning: {err if src in err else f'{src}: {err}'}")
    attempts = rec.get("attempts") or 1
    if attempts > 1 and rec["status"] != "failed":
        emit(f"hhpnet: warning: {src}: finished on attempt {attempts} (a worker died)")
    if not bar_shown and rec["status"] != "failed":
        emit(
            f"{src}: {rec['status']}, {rec.get('frames', 0)} frames, {rec.get('people', 0)} "
            f"people, {rec.get('elapsed_s', 0):.1f} s"
        )


def read_dataset(
    out: str | os.PathLike[str], columns: Sequence[str] | None = None
) -> pyarrow.Table:
    """The merged person-frame table of a batch output folder as a ``pyarrow.Table``.

    One row per person per frame (columns :data:`hhpnet.video.sinks.VIDEO_COLUMNS`) plus ``input``
    (the input's output name, a string). ``.to_pandas()`` gives a DataFrame.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    root = os.path.join(os.fspath(out), "dataset")
    if not os.path.isdir(root):
        raise InputError(f"{out}: no dataset/ folder (not a hhpnet batch output?)")
    part = ds.partitioning(pa.schema([("input", pa.string())]), flavor="hive")
    data = ds.dataset(root, format="parquet", partitioning=part)
    return data.to_table(columns=list(columns) if columns is not None else None)
