"""Worker side: one input through :func:`hhpnet.video.process_video` into a private folder,
then committed (:func:`process_input`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, TypedDict

from hhpnet.batch.constants import (
    _PROGRESS_EVERY_S,
    _RECORD_VERSION,
    _RSS_EVERY_S,
)
from hhpnet.batch.files import (
    _fsync_dir,
    _fsync_file,
    _input_fingerprint,
    _Layout,
    _read_json,
    _sha256,
    _write_json_atomic,
)
from hhpnet.batch.inputs import (
    BatchInput,
)
from hhpnet.batch.options import _output_plan, input_formats, video_settings
from hhpnet.errors import HhpnetError, InputError

if TYPE_CHECKING:
    from hhpnet.batch.schema import Job, Message, OutputFile, Processing, Record
    from hhpnet.pipeline import HeadPoseEstimator
    from hhpnet.video import FrameResult, VideoSummary
    from hhpnet.video.settings import VideoSettings
    from hhpnet.video.timeline import Timeline

# --------------------------------------------------------------------------- worker side
_ESTIMATORS: dict[tuple[object, ...], HeadPoseEstimator] = {}


def _estimator(opts: Processing, threads: int) -> HeadPoseEstimator:
    """One HeadPoseEstimator per worker process and options (reused by the following tasks),
    loaded now: a bad model name fails before any video is opened."""
    precise = bool(opts.get("precise", False))
    key = (opts["model"], opts["detector"], opts["kpt_thr"], precise, threads)
    est = _ESTIMATORS.get(key)
    if est is None:
        est = video_settings(opts, {}).estimator(num_threads=threads)
        _ESTIMATORS[key] = est
    return est


def _rss_mib() -> float | None:
    """Resident memory of this process (MiB, one decimal); None where /proc is missing."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)
    except (OSError, ValueError, IndexError):
        return None


def _download(url: str, folder: str) -> str:
    """Fetch an http(s) URL into ``folder`` (keeping its extension); the local path."""
    import urllib.error
    import urllib.request

    tail = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    ext = os.path.splitext(tail)[1].lower() or ".mp4"
    target = os.path.join(folder, "download" + ext)
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, open(target, "wb") as fh:
            shutil.copyfileobj(resp, fh, 1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise InputError(f"{url}: download failed ({reason})") from None
    return target


class _Totals(TypedDict):
    mutual_s: float | None
    mutual_intervals: int | None
    one_way_s: float | None
    one_way_intervals: int | None


def _timeline_totals(timeline: Timeline | None) -> _Totals:
    """Gaze totals over all pairs; None without the interaction analysis."""
    if timeline is None:
        return {
            "mutual_s": None,
            "mutual_intervals": None,
            "one_way_s": None,
            "one_way_intervals": None,
        }
    mutual = [float(iv.duration_s) for iv in timeline.intervals if iv.kind == "mutual"]
    one_way = [float(iv.duration_s) for iv in timeline.intervals if iv.kind != "mutual"]
    return {
        "mutual_s": round(sum(mutual, 0.0), 3),
        "mutual_intervals": len(mutual),
        "one_way_s": round(sum(one_way, 0.0), 3),
        "one_way_intervals": len(one_way),
    }


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def process_input(job: Job) -> Iterator[Message]:
    """Process one input and commit its files (runs inside a Ray task; a generator).

    ``job``: ``source``, ``kind``, ``name``, ``out``, ``token``, ``processing`` (options),
    ``config`` (their hash), ``threads``, ``check``. Yields ``{"kind": "progress", "frames": n}``
    about once a second, then ``{"kind": "result", "record": {...}}``. A bad input gives a
    ``failed`` record; unexpected exceptions propagate (Ray retries the task).

    One Ray task is one transaction: owner check, temporary folder (:func:`_start`), the run
    with its progress (:func:`_run`), commit of the files and the record, or a failure record.
    """
    layout = _Layout(job["out"])
    name = job["name"]
    host = socket.gethostname()
    marker = _read_json(layout.marker)
    if not isinstance(marker, dict) or marker.get("token") != job["token"]:
        yield {
            "kind": "result",
            "record": {
                "fatal": True,
                "error": f"a worker on host {host} does not see {layout.marker}: --out must be "
                "a folder every node mounts at the same path",
            },
        }
        return
    inp = BatchInput(job["source"], job["kind"], name)
    opts = job["processing"]
    record, running, tmp = _start(layout, job, inp, host)
    meter = _FrameMeter()
    plan = _output_plan(name, opts)
    t0, cpu0 = time.perf_counter(), time.process_time()
    try:
        src = _download(inp.source, tmp) if inp.kind == "url" else inp.source
        est = _estimator(opts, job["threads"])
        paths = {f.name: os.path.join(tmp, f.files[0][1]) for f in input_formats(opts)}
        summary = yield from _run(src, est, video_settings(opts, paths), meter, name)
        _set_done(record, summary, src, inp.source, meter, t0, cpu0)
        record["outputs"] = _commit(layout, name, tmp, plan)
        record["finished_at"] = _now()
        _write_json_atomic(layout.record(name), record)  # the commit point
    except HhpnetError as exc:  # a bad input: recorded, not retried
        record["status"] = "failed"
        record["error"] = _one_line(exc)
        record["elapsed_s"] = round(time.perf_counter() - t0, 3)
        record["outputs"] = {}
        record["finished_at"] = _now()
        with contextlib.suppress(FileNotFoundError):
            os.remove(layout.record(name))
        _write_json_atomic(layout.record(name), record)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        os.remove(running)
    yield {"kind": "result", "record": record}


def _start(layout: _Layout, job: Job, inp: BatchInput, host: str) -> tuple[Record, str, str]:
    """Count the attempt, make the temporary folder and mark the input running; the record so
    far, the running marker's path and the temporary folder."""
    name = job["name"]
    running = os.path.join(layout.running, f"{name}.json")
    prev = _read_json(running)
    attempts = int(prev.get("attempts", 0)) + 1 if isinstance(prev, dict) else 1
    tmp = os.path.join(layout.tmp, f"{name}.{uuid.uuid4().hex[:12]}")
    os.makedirs(tmp, exist_ok=True)
    _write_json_atomic(
        running, {"pid": os.getpid(), "host": host, "attempts": attempts, "tmp": tmp}
    )
    record: Record = {
        "version": _RECORD_VERSION,
        "source": inp.source,
        "name": name,
        "config": job["config"],
        "processing": job["processing"],
        "input": _input_fingerprint(inp, with_hash=job["check"] == "hash"),
        "attempts": attempts,
        "host": host,
        "pid": os.getpid(),
    }
    return record, running, tmp


class _FrameMeter:
    """The frames a run has processed and its resident memory, sampled every
    :data:`_RSS_EVERY_S` seconds of video (``[video time, MiB]``); :meth:`on_frame` is the
    run's ``on_frame``."""

    def __init__(self) -> None:
        self.frames = 0
        self.next_rss = 0.0
        self.rss: list[list[float | None]] = [[0.0, _rss_mib()]]

    def on_frame(self, result: FrameResult) -> None:
        self.frames += 1
        if result.time_s >= self.next_rss + _RSS_EVERY_S:
            self.next_rss = result.time_s
            self.rss.append([round(float(result.time_s), 1), _rss_mib()])


def _run(
    src: str, est: HeadPoseEstimator, settings: VideoSettings, meter: _FrameMeter, name: str
) -> Generator[Message, None, VideoSummary]:
    """:func:`hhpnet.video.process_video` in a thread of its own, yielding the frame count
    about once a second (``{"kind": "progress", "frames": n}``); its summary. Its exception is
    raised here; an interrupted run is an error, a run that read no frame an InputError."""
    summaries: list[VideoSummary] = []
    errors: list[BaseException] = []

    def work() -> None:
        from hhpnet.video import process_video

        try:
            summaries.append(process_video(src, est, settings=settings, on_frame=meter.on_frame))
        except BaseException as exc:  # handed to the task's thread below
            errors.append(exc)

    thread = threading.Thread(target=work, name=f"hhpnet-{name}", daemon=True)
    thread.start()
    sent = 0
    while thread.is_alive():
        thread.join(_PROGRESS_EVERY_S)
        if meter.frames != sent:
            sent = meter.frames
            yield {"kind": "progress", "frames": sent}
    if errors:
        raise errors[0]
    summary = summaries[0]
    if summary.interrupted:
        raise RuntimeError("processing was interrupted")
    return summary


def _set_done(
    record: Record,
    summary: VideoSummary,
    src: str,
    source: str,
    meter: _FrameMeter,
    t0: float,
    cpu0: float,
) -> None:
    """Set the record's fields of a finished run (``done``, or ``damaged`` with its error; the
    messages name ``source``, not the downloaded copy ``src``); a run that read no frame is an
    InputError."""
    if summary.frames == 0:  # e.g. an image that cannot be read (the reader only warns)
        reason = summary.error or (summary.warnings or ["no frame could be read"])[0]
        raise InputError(reason.replace(src, source))
    meter.rss.append([round(float(summary.video_time_s), 1), _rss_mib()])
    error = summary.error
    if error and src != source:
        error = error.replace(src, source)
    record["status"] = "damaged" if error else "done"
    record["error"] = error
    record["frames"] = summary.frames
    record["rows"] = summary.rows
    record["people"] = summary.tracks
    record["video_s"] = round(float(summary.video_time_s), 3)
    record["elapsed_s"] = round(time.perf_counter() - t0, 3)
    record["cpu_s"] = round(time.process_time() - cpu0, 3)
    record["fps"] = round(float(summary.fps), 2)
    record["warnings"] = [w.replace(src, source) for w in summary.warnings[:20]]
    record["rss_mib"] = meter.rss
    totals = _timeline_totals(summary.timeline)
    record["mutual_s"] = totals["mutual_s"]
    record["mutual_intervals"] = totals["mutual_intervals"]
    record["one_way_s"] = totals["one_way_s"]
    record["one_way_intervals"] = totals["one_way_intervals"]


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _commit(
    layout: _Layout, name: str, tmp: str, plan: list[tuple[str, str, str]]
) -> dict[str, OutputFile]:
    """Move the finished files into place and write the record last (the commit point)."""
    outputs: dict[str, OutputFile] = {}
    for key, fn, rel in plan:
        src = os.path.join(tmp, fn)
        if os.path.isfile(src):
            _fsync_file(src)
            outputs[key] = {"path": rel, "size": os.path.getsize(src), "sha256": _sha256(src)}
    # the old record goes first: a commit cut short leaves no record, so the input is redone
    with contextlib.suppress(FileNotFoundError):
        os.remove(layout.record(name))
    for key, fn, rel in plan:
        if key in outputs:
            dst = os.path.join(layout.out, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.replace(os.path.join(tmp, fn), dst)
    for d in {os.path.dirname(os.path.join(layout.out, rel)) for _, _, rel in plan}:
        _fsync_dir(d)
    return outputs
