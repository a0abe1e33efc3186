"""Many videos at once on Ray: every input through :func:`hhpnet.video.process_video`.

::

    from hhpnet.batch import BatchOptions, run_batch, read_dataset
    report = run_batch(["videos/", "more.txt"], "results/", BatchOptions(workers=2))
    report.exit_code, report.counts()          # 0 / 1 (an input failed or was damaged) / 130
    table = read_dataset("results/")           # every person-frame row, column "input" added

``hhpnet batch`` (:mod:`hhpnet.commands.batch`) is the command-line front end.

Inputs (:func:`collect_inputs`): video or image files, folders and globs (expanded to their
media files, one input each), ``http(s)://`` URLs (downloaded by the worker to a temporary file,
then processed as a file), other stream URLs, and manifests — ``.txt``/``.lst``/``.list`` files
with one input per line, ``.csv``/``.tsv`` files with a ``path`` (or ``url``, ``source``,
``input``, ``file``, ``video``) column and an optional ``name`` column.

Layout of the output folder ``OUT``::

    OUT/inputs/<name>/poses.csv             per-frame rows (the files `hhpnet video` writes)
    OUT/inputs/<name>/timeline.csv, timeline_people.csv   (+ poses.jsonl, annotated.mp4,
                                                           timeline.png when asked for)
    OUT/dataset/input=<name>/part-0.parquet  the same rows: one Hive-partitioned Parquet dataset
    OUT/summary.csv                          one line per input: status, frames, people, gaze
    OUT/_batch/records/<name>.json           the commit record of each input (see below)

**One task per input.** A Ray task processes one input into a private temporary folder
(``OUT/_batch/tmp``), then commits: it deletes the input's old record, moves each finished file
into place with an atomic rename, and writes the new record last (itself atomically). A file
under ``inputs/`` or ``dataset/`` is therefore always complete, and an input counts as finished
only when its record exists, names the same source and options, and the files it lists have the
recorded sizes (``check="hash"``: SHA-256; the input's own size and mtime — or hash — too).
Files without a finished record (an interrupted commit, a failed redo) are removed, so the
dataset holds exactly the finished inputs, each once.

**Failures.** A bad input (missing, unreadable, not a video) gets a ``failed`` record with its
one-line reason; a video that breaks in the middle is processed up to the damage (``damaged``,
files kept, like ``hhpnet video``). A worker process that dies (killed, out of memory) or an
unexpected exception is retried by Ray up to ``retries`` times; the partial files of a dead
attempt are never committed. Re-running the same command skips finished inputs and redoes the
others.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hhpnet.errors import HhpnetError, InputError

__all__ = [
    "MANIFEST_EXTENSIONS",
    "SUMMARY_COLUMNS",
    "BatchInput",
    "BatchOptions",
    "BatchReport",
    "collect_inputs",
    "read_dataset",
    "read_manifest",
    "run_batch",
]

#: files given as INPUTS with these extensions are manifests (lists of inputs), not media
MANIFEST_EXTENSIONS: frozenset[str] = frozenset({".txt", ".lst", ".list", ".csv", ".tsv"})
_PATH_COLUMNS = ("path", "url", "source", "input", "file", "video")
_DOWNLOAD_PREFIXES = ("http://", "https://")
_STATUS_FINISHED = ("done", "damaged")
#: columns of OUT/summary.csv (one row per input)
SUMMARY_COLUMNS: tuple[str, ...] = (
    "input",
    "name",
    "status",
    "error",
    "frames",
    "rows",
    "people",
    "video_s",
    "mutual_s",
    "mutual_intervals",
    "one_way_s",
    "one_way_intervals",
    "elapsed_s",
    "cpu_s",
    "fps",
    "attempts",
    "skipped",
    "host",
    "finished_at",
)
_RECORD_VERSION = 1
_PROGRESS_EVERY_S = 1.0
_RSS_EVERY_S = 60.0  # memory sample every minute of video time
# Parquet row group size (frames). `hhpnet video` writes one every 30 frames so that a crash keeps
# most rows; a batch task commits its files whole, and large groups compress far better (a
# 600-frame clip: 60 instead of 359 bytes per row, the same table).
_FLUSH_FRAMES = 3000


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class BatchInput:
    """One input of a batch: ``source`` (absolute path or URL), ``kind`` ("file", "url" for
    http(s) downloads, "stream" for other URLs) and an optional ``name`` given by a manifest."""

    source: str
    kind: str = "file"
    name: str | None = None


def _is_url(text: str) -> bool:
    return "://" in text and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text) is not None


def _url_input(text: str, name: str | None = None) -> BatchInput:
    kind = "url" if text.lower().startswith(_DOWNLOAD_PREFIXES) else "stream"
    return BatchInput(text, kind, name)


def _expand(spec: str, where: str) -> list[BatchInput]:
    """A folder or glob → its media files; a plain path → itself (even if it does not exist:
    inside a manifest a missing file is a failed input, not a usage error)."""
    from hhpnet.video.sources import resolve

    path = os.path.expanduser(spec)
    if os.path.isdir(path) or (not os.path.exists(path) and any(c in path for c in "*?[")):
        try:
            found = resolve([path])
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
        return [BatchInput(os.path.abspath(str(s.value))) for s in found]
    return [BatchInput(os.path.abspath(path))]


def read_manifest(path: str | os.PathLike[str]) -> list[BatchInput]:
    """Inputs listed in a manifest file.

    Text (``.txt``, ``.lst``, ``.list``): one path or URL per line; blank lines and lines starting
    with ``#`` are skipped. CSV/TSV: a header naming a ``path`` column (or ``url``, ``source``,
    ``input``, ``file``, ``video``; case-insensitive) and optionally a ``name`` column (the
    output name of that input); a file with a single column and no such header is read as a
    text list. Relative paths are relative to the manifest's folder; folders and globs expand
    to their media files. Raises :class:`InputError` (one line) on an unreadable manifest.
    """
    path = os.fspath(path)
    base = os.path.dirname(os.path.abspath(path))
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the manifest ({exc})") from None
    ext = os.path.splitext(path)[1].lower()
    entries: list[tuple[int, str, str | None]] = []  # (line number, spec, name)
    if ext in (".csv", ".tsv"):
        rows = list(csv.reader(text.splitlines(), delimiter="\t" if ext == ".tsv" else ","))
        numbered = [(k + 1, r) for k, r in enumerate(rows) if any(c.strip() for c in r)]
        numbered = [(k, r) for k, r in numbered if not r[0].lstrip().startswith("#")]
        if numbered:
            header = [c.strip().lower() for c in numbered[0][1]]
            col = next((header.index(c) for c in _PATH_COLUMNS if c in header), None)
            if col is not None:
                name_col = header.index("name") if "name" in header else None
                for k, r in numbered[1:]:
                    spec = r[col].strip() if col < len(r) else ""
                    if not spec:
                        raise InputError(f"{path} line {k}: no {header[col]!r} value")
                    nm = None
                    if name_col is not None and name_col < len(r) and r[name_col].strip():
                        nm = r[name_col].strip()
                    entries.append((k, spec, nm))
            elif all(len(r) == 1 for _, r in numbered):
                entries = [(k, r[0].strip(), None) for k, r in numbered]
            else:
                raise InputError(
                    f"{path}: no path column (header needs one of {', '.join(_PATH_COLUMNS)})"
                )
    else:
        for k, line in enumerate(text.splitlines(), 1):
            s = line.strip()
            if s and not s.startswith("#"):
                entries.append((k, s, None))
    out: list[BatchInput] = []
    for k, spec, nm in entries:
        if nm is not None and _safe_name(nm) != nm:
            raise InputError(
                f"{path} line {k}: name {nm!r} may only use letters, digits, '.', '_' and '-' "
                "and must not start with '.', '_' or '-'"
            )
        if _is_url(spec):
            out.append(_url_input(spec, nm))
            continue
        p = spec if os.path.isabs(os.path.expanduser(spec)) else os.path.join(base, spec)
        found = _expand(p, f"{path} line {k}")
        if nm is not None:
            if len(found) != 1:
                raise InputError(f"{path} line {k}: a name needs a single file, not {spec!r}")
            found = [BatchInput(found[0].source, found[0].kind, nm)]
        out.extend(found)
    return out


def collect_inputs(specs: Sequence[str]) -> list[BatchInput]:
    """Expand INPUTS (files, folders, globs, URLs, manifests) into a list of inputs.

    Duplicates (the same absolute path or URL) are kept once, in first-seen order. Raises
    :class:`InputError` on no inputs, a missing path given directly, a folder or glob without
    media files, a webcam index, or a manifest that cannot be read.
    """
    from hhpnet.video.sources import resolve

    if not specs:
        raise InputError("give at least one INPUT (video, image, folder, glob, URL or manifest)")
    found: list[BatchInput] = []
    for spec in specs:
        text = str(spec).strip()
        if not text:
            raise InputError("empty INPUT argument")
        if _is_url(text):
            found.append(_url_input(text))
        elif text.isdigit():
            raise InputError(f"{text!r}: webcams are not batch inputs (use `hhpnet video {text}`)")
        elif (
            os.path.isfile(os.path.expanduser(text))
            and os.path.splitext(text)[1].lower() in MANIFEST_EXTENSIONS
        ):
            found.extend(read_manifest(os.path.expanduser(text)))
        else:
            found.extend(BatchInput(os.path.abspath(str(s.value))) for s in resolve([text]))
    out = _unique(found)
    if not out:
        raise InputError("the INPUTS hold no video or image")
    return out


def _unique(inputs: Sequence[BatchInput]) -> list[BatchInput]:
    """Each source once, at its first place."""
    seen: set[str] = set()
    out: list[BatchInput] = []
    for inp in inputs:
        if inp.source not in seen:
            seen.add(inp.source)
            out.append(inp)
    return out


def _safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).lstrip("._-")[:100]
    return name or "input"


def _base_name(inp: BatchInput) -> str:
    if inp.name is not None:
        return inp.name
    tail = inp.source.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    return _safe_name(os.path.splitext(tail)[0] or tail)


def _assign_names(
    inputs: Sequence[BatchInput], records: dict[str, dict[str, Any]]
) -> dict[str, str]:
    """source → output name: the recorded name for known sources, else the file stem made
    unique (``clip``, ``clip-2``, …) against the names of every record in OUT and this run."""
    by_source = {r["source"]: r["name"] for r in records.values()}
    taken = {name: r["source"] for name, r in records.items()}
    names: dict[str, str] = {}
    for inp in inputs:
        if inp.source in by_source and (inp.name is None or inp.name == by_source[inp.source]):
            names[inp.source] = by_source[inp.source]
            continue
        base = _base_name(inp)
        if inp.name is not None:
            if taken.get(base, inp.source) != inp.source:
                raise InputError(f"name {base!r} is already used by {taken[base]}")
            name = base
        else:
            name, k = base, 1
            while taken.get(name, inp.source) != inp.source:
                k += 1
                name = f"{base}-{k}"
        taken[name] = inp.source
        names[inp.source] = name
    return names


# --------------------------------------------------------------------------- options
@dataclass
class BatchOptions:
    """Options of a batch run.

    Processing (as ``hhpnet video``; they make the results, so an output folder keeps them):
    ``model``, ``detector``, ``kpt_thr``, ``interact``, ``method``, ``stride``, ``max_frames``,
    ``fps``, ``smooth_accel``, and the optional per-input files ``jsonl``, ``save_video``,
    ``timeline_png``.

    Running: ``address`` (None: start a local Ray instance; else ``ray.init(address)``, e.g.
    ``"auto"`` or ``"head:6379"``), ``num_cpus`` (CPUs of the local instance, default all),
    ``workers`` (inputs processed at once; default local CPUs, or cluster CPUs, ÷ ``threads``),
    ``threads`` (CPUs per task = detector threads, default 1), ``retries`` (per task, for dead
    workers and unexpected errors), ``check`` ("size" or "hash", how finished inputs are
    verified), ``force`` (redo this run's inputs, and drop the results in OUT made with other
    processing options instead of refusing to run), ``progress`` (progress bar on stderr;
    None: only on a terminal), ``ray_logs`` (show Ray's and the workers' own log lines).
    """

    model: str = "hhpnet-1.0"
    detector: str = "auto"
    kpt_thr: float = 0.0
    interact: bool = True
    method: str = "hhpnet"
    stride: int = 1
    max_frames: int | None = None
    fps: float | None = None
    smooth_accel: float | None = None
    jsonl: bool = False
    save_video: bool = False
    timeline_png: bool = False
    address: str | None = None
    num_cpus: int | None = None
    workers: int | None = None
    threads: int = 1
    retries: int = 2
    check: str = "size"
    force: bool = False
    progress: bool | None = None
    ray_logs: bool = False

    def validate(self) -> None:
        """Raise :class:`InputError` (one line) on an impossible combination."""
        if self.stride < 1:
            raise InputError(f"--stride must be ≥ 1; got {self.stride}")
        if self.max_frames is not None and self.max_frames < 1:
            raise InputError(f"--max-frames must be ≥ 1; got {self.max_frames}")
        if self.threads < 1:
            raise InputError(f"--threads must be ≥ 1; got {self.threads}")
        if self.retries < 0:
            raise InputError(f"--retries must be ≥ 0; got {self.retries}")
        if self.workers is not None and self.workers < 1:
            raise InputError(f"--workers must be ≥ 1; got {self.workers}")
        if self.num_cpus is not None and self.num_cpus < 1:
            raise InputError(f"--num-cpus must be ≥ 1; got {self.num_cpus}")
        if self.num_cpus is not None and self.address is not None:
            raise InputError(
                "--num-cpus sizes the local Ray instance; with --address the cluster's CPUs "
                "are used (limit them with --workers)"
            )
        if self.check not in ("size", "hash"):
            raise InputError(f"--check must be 'size' or 'hash'; got {self.check!r}")
        if self.timeline_png and not self.interact:
            raise InputError("a timeline needs the interaction analysis (remove --no-interact)")
        if not 0.0 <= self.kpt_thr <= 1.0:
            raise InputError(f"--kpt-thr must be in [0, 1]; got {self.kpt_thr}")

    def processing(self) -> dict[str, Any]:
        """The options that determine the results (recorded with every input)."""
        import hhpnet

        model_file = os.path.isfile(self.model)
        return {
            "hhpnet": hhpnet.__version__,
            "model": os.path.abspath(self.model) if model_file else self.model,
            "model_sha256": _sha256(self.model) if model_file else None,
            "detector": self.detector,
            "kpt_thr": self.kpt_thr,
            "interact": self.interact,
            "method": self.method,
            "stride": self.stride,
            "max_frames": self.max_frames,
            "fps": self.fps,
            "smooth_accel": self.smooth_accel,
            "jsonl": self.jsonl,
            "save_video": self.save_video,
            "timeline_png": self.timeline_png,
        }


def _config_hash(processing: dict[str, Any]) -> str:
    blob = json.dumps(processing, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


# --------------------------------------------------------------------------- files
def _sha256(path: str, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            b = fh.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_json_atomic(path: str, data: Any) -> None:
    """Write JSON to ``path`` via a temporary file, fsync and rename (never half-written)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, allow_nan=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path))


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class _Layout:
    """Paths inside the output folder."""

    out: str

    @property
    def control(self) -> str:
        return os.path.join(self.out, "_batch")

    @property
    def records(self) -> str:
        return os.path.join(self.control, "records")

    @property
    def running(self) -> str:
        return os.path.join(self.control, "running")

    @property
    def tmp(self) -> str:
        return os.path.join(self.control, "tmp")

    @property
    def marker(self) -> str:
        return os.path.join(self.control, "batch.json")

    @property
    def dataset(self) -> str:
        return os.path.join(self.out, "dataset")

    @property
    def summary(self) -> str:
        return os.path.join(self.out, "summary.csv")

    def record(self, name: str) -> str:
        return os.path.join(self.records, f"{name}.json")

    def input_dir(self, name: str) -> str:
        return os.path.join(self.out, "inputs", name)

    def partition(self, name: str) -> str:
        return os.path.join(self.dataset, f"input={name}")


# (key in the record, file name in the temp folder, final path relative to OUT)
def _output_plan(name: str, opts: dict[str, Any]) -> list[tuple[str, str, str]]:
    plan = [
        ("csv", "poses.csv", f"inputs/{name}/poses.csv"),
        ("parquet", "part-0.parquet", f"dataset/input={name}/part-0.parquet"),
    ]
    if opts["interact"]:
        plan.append(("timeline_csv", "timeline.csv", f"inputs/{name}/timeline.csv"))
        plan.append(
            ("timeline_people_csv", "timeline_people.csv", f"inputs/{name}/timeline_people.csv")
        )
    if opts["jsonl"]:
        plan.append(("jsonl", "poses.jsonl", f"inputs/{name}/poses.jsonl"))
    if opts["save_video"]:
        plan.append(("video", "annotated.mp4", f"inputs/{name}/annotated.mp4"))
    if opts["timeline_png"]:
        plan.append(("timeline_png", "timeline.png", f"inputs/{name}/timeline.png"))
    return plan


def _input_fingerprint(inp: BatchInput, with_hash: bool) -> dict[str, Any]:
    if inp.kind != "file":
        return {"url": inp.source}
    try:
        st = os.stat(inp.source)
    except OSError:
        return {"missing": True}
    fp: dict[str, Any] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if with_hash:
        fp["sha256"] = _sha256(inp.source)
    return fp


def _verify_finished(
    layout: _Layout, rec: dict[str, Any] | None, inp: BatchInput, config: str, check: str
) -> bool:
    """True if ``rec`` is a finished result of ``inp`` with these options and its files are
    intact (sizes, or SHA-256 with ``check="hash"``)."""
    if not rec or rec.get("status") not in _STATUS_FINISHED:
        return False
    if rec.get("source") != inp.source or rec.get("config") != config:
        return False
    old = rec.get("input") or {}
    if inp.kind == "file":
        now = _input_fingerprint(inp, with_hash=False)
        if now.get("size") != old.get("size") or now.get("mtime_ns") != old.get("mtime_ns"):
            return False
        if check == "hash" and "sha256" in old and _sha256(inp.source) != old["sha256"]:
            return False
    for info in (rec.get("outputs") or {}).values():
        p = os.path.join(layout.out, info["path"])
        try:
            if os.path.getsize(p) != info["size"]:
                return False
        except OSError:
            return False
        if check == "hash" and _sha256(p) != info["sha256"]:
            return False
    return bool(rec.get("outputs"))


def _load_records(layout: _Layout) -> dict[str, dict[str, Any]]:
    """name → record (unreadable or foreign files are ignored)."""
    out: dict[str, dict[str, Any]] = {}
    if not os.path.isdir(layout.records):
        return out
    for fn in sorted(os.listdir(layout.records)):
        if not fn.endswith(".json"):
            continue
        rec = _read_json(os.path.join(layout.records, fn))
        if isinstance(rec, dict) and rec.get("name") == fn[:-5] and "source" in rec:
            out[rec["name"]] = rec
    return out


def _remove_orphans(layout: _Layout, records: dict[str, dict[str, Any]]) -> list[str]:
    """Delete per-input folders and dataset partitions that no finished record owns."""
    keep = {n for n, r in records.items() if r.get("status") in _STATUS_FINISHED}
    removed = []
    for parent, prefix in ((os.path.join(layout.out, "inputs"), ""), (layout.dataset, "input=")):
        if not os.path.isdir(parent):
            continue
        for entry in os.listdir(parent):
            if not entry.startswith(prefix):
                continue
            name = entry[len(prefix) :]
            if name not in keep:
                shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
                removed.append(entry)
    return removed


# --------------------------------------------------------------------------- worker side
_ESTIMATORS: dict[tuple[Any, ...], Any] = {}


def _estimator(opts: dict[str, Any], threads: int) -> Any:
    """One HeadPoseEstimator per worker process and options (reused by the following tasks)."""
    from hhpnet.pipeline import HeadPoseEstimator

    key = (opts["model"], opts["detector"], opts["kpt_thr"], threads)
    est = _ESTIMATORS.get(key)
    if est is None:
        est = HeadPoseEstimator(
            model=opts["model"],
            detector=opts["detector"],
            kpt_thr=opts["kpt_thr"],
            num_threads=threads,
        )
        est.model  # noqa: B018 - load now: a bad model name fails before any video is opened
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


def _timeline_totals(timeline: Any) -> dict[str, Any]:
    """Gaze totals over all pairs; None without the interaction analysis."""
    keys = ("mutual_s", "mutual_intervals", "one_way_s", "one_way_intervals")
    if timeline is None:
        return dict.fromkeys(keys)
    totals = {"mutual_s": 0.0, "mutual_intervals": 0, "one_way_s": 0.0, "one_way_intervals": 0}
    for iv in timeline.intervals:
        key = "mutual" if iv.kind == "mutual" else "one_way"
        totals[f"{key}_s"] += float(iv.duration_s)
        totals[f"{key}_intervals"] += 1
    totals["mutual_s"] = round(totals["mutual_s"], 3)
    totals["one_way_s"] = round(totals["one_way_s"], 3)
    return totals


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def process_input(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Process one input and commit its files (runs inside a Ray task; a generator).

    ``job``: ``source``, ``kind``, ``name``, ``out``, ``token``, ``processing`` (options),
    ``config`` (their hash), ``threads``, ``check``. Yields ``{"kind": "progress", "frames": n}``
    about once a second, then ``{"kind": "result", "record": {...}}``. A bad input gives a
    ``failed`` record; unexpected exceptions propagate (Ray retries the task).
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
    running = os.path.join(layout.running, f"{name}.json")
    prev = _read_json(running)
    attempts = int(prev.get("attempts", 0)) + 1 if isinstance(prev, dict) else 1
    tmp = os.path.join(layout.tmp, f"{name}.{uuid.uuid4().hex[:12]}")
    os.makedirs(tmp, exist_ok=True)
    _write_json_atomic(
        running, {"pid": os.getpid(), "host": host, "attempts": attempts, "tmp": tmp}
    )
    record: dict[str, Any] = {
        "version": _RECORD_VERSION,
        "source": inp.source,
        "name": name,
        "config": job["config"],
        "processing": opts,
        "input": _input_fingerprint(inp, with_hash=job["check"] == "hash"),
        "attempts": attempts,
        "host": host,
        "pid": os.getpid(),
    }
    state: dict[str, float] = {"frames": 0, "next_rss": 0.0}
    rss: list[list[float | None]] = [[0.0, _rss_mib()]]

    def on_frame(result: Any) -> None:
        state["frames"] += 1
        if result.time_s >= state["next_rss"] + _RSS_EVERY_S:
            state["next_rss"] = result.time_s
            rss.append([round(float(result.time_s), 1), _rss_mib()])

    plan = _output_plan(name, opts)
    t0, cpu0 = time.perf_counter(), time.process_time()
    try:
        src = _download(inp.source, tmp) if inp.kind == "url" else inp.source
        est = _estimator(opts, job["threads"])
        paths = {key: os.path.join(tmp, fn) for key, fn, _ in plan}
        outcome: dict[str, Any] = {}

        def work() -> None:
            from hhpnet.video import process_video
            from hhpnet.video.smoothing import SmootherParams

            try:
                outcome["summary"] = process_video(
                    src,
                    est,
                    csv=paths["csv"],
                    parquet=paths["parquet"],
                    jsonl=paths.get("jsonl"),
                    save_video=paths.get("video"),
                    timeline_csv=paths.get("timeline_csv"),
                    timeline_png=paths.get("timeline_png"),
                    interact=opts["interact"],
                    interaction_method=opts["method"],
                    stride=opts["stride"],
                    max_frames=opts["max_frames"],
                    fps=opts["fps"],
                    progress=False,
                    show=False,
                    smoothing=(
                        SmootherParams(accel_std=opts["smooth_accel"])
                        if opts["smooth_accel"]
                        else None
                    ),
                    on_frame=on_frame,
                    flush_every=_FLUSH_FRAMES,
                )
            except BaseException as exc:  # handed to the task's thread below
                outcome["error"] = exc

        thread = threading.Thread(target=work, name=f"hhpnet-{name}", daemon=True)
        thread.start()
        sent = 0
        while thread.is_alive():
            thread.join(_PROGRESS_EVERY_S)
            if int(state["frames"]) != sent:
                sent = int(state["frames"])
                yield {"kind": "progress", "frames": sent}
        if "error" in outcome:
            raise outcome["error"]
        summary = outcome["summary"]
        if summary.interrupted:
            raise RuntimeError("processing was interrupted")
        if summary.frames == 0:  # e.g. an image that cannot be read (the reader only warns)
            reason = summary.error or (summary.warnings or ["no frame could be read"])[0]
            raise InputError(reason.replace(src, inp.source))
        rss.append([round(float(summary.video_time_s), 1), _rss_mib()])
        error = summary.error
        if error and src != inp.source:
            error = error.replace(src, inp.source)
        record.update(
            status="damaged" if error else "done",
            error=error,
            frames=summary.frames,
            rows=summary.rows,
            people=summary.tracks,
            video_s=round(float(summary.video_time_s), 3),
            elapsed_s=round(time.perf_counter() - t0, 3),
            cpu_s=round(time.process_time() - cpu0, 3),
            fps=round(float(summary.fps), 2),
            warnings=[w.replace(src, inp.source) for w in summary.warnings[:20]],
            rss_mib=rss,
            **_timeline_totals(summary.timeline),
        )
        record["outputs"] = _commit(layout, name, tmp, plan)
        record["finished_at"] = _now()
        _write_json_atomic(layout.record(name), record)  # the commit point
    except HhpnetError as exc:  # a bad input: recorded, not retried
        record.update(
            status="failed",
            error=_one_line(exc),
            elapsed_s=round(time.perf_counter() - t0, 3),
            outputs={},
        )
        record["finished_at"] = _now()
        with contextlib.suppress(FileNotFoundError):
            os.remove(layout.record(name))
        _write_json_atomic(layout.record(name), record)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        os.remove(running)
    yield {"kind": "result", "record": record}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _commit(
    layout: _Layout, name: str, tmp: str, plan: list[tuple[str, str, str]]
) -> dict[str, dict[str, Any]]:
    """Move the finished files into place and write the record last (the commit point)."""
    outputs: dict[str, dict[str, Any]] = {}
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


# --------------------------------------------------------------------------- driver side
@dataclass
class BatchReport:
    """What a batch run did: ``rows`` (one summary row per input of this run, in input order,
    keys :data:`SUMMARY_COLUMNS`), ``interrupted`` (Ctrl-C), ``elapsed_s`` (wall time of the
    whole run), ``ray_start_s`` (of it, starting or joining Ray), ``workers``, ``mode``,
    ``out``."""

    out: str
    rows: list[dict[str, Any]] = field(default_factory=list)
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


def _summary_row(
    source: str, name: str, rec: dict[str, Any] | None, skipped: bool
) -> dict[str, Any]:
    row: dict[str, Any] = {c: None for c in SUMMARY_COLUMNS}
    row.update(input=source, name=name, status="pending", skipped=int(skipped))
    if rec:
        for c in SUMMARY_COLUMNS:
            if c in rec and c not in ("input", "skipped"):
                row[c] = rec[c]
    return row


def _write_summary(layout: _Layout, rows: list[dict[str, Any]]) -> None:
    tmp = f"{layout.summary}.{uuid.uuid4().hex[:8]}.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(SUMMARY_COLUMNS), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r[k]) for k in SUMMARY_COLUMNS})
    os.replace(tmp, layout.summary)


class _Lock:
    """An exclusive lock on OUT (one batch driver per output folder)."""

    def __init__(self, layout: _Layout) -> None:
        self.path = os.path.join(layout.control, "lock")
        self.warning: str | None = None
        self._fh: Any = None

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


def _cpu_count() -> int:
    """CPUs this process may use (its affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _import_ray() -> Any:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError as exc:
        raise HhpnetError("hhpnet batch needs Ray: pip install 'hhpnet[ray]'") from exc
    return ray


def _probe(address: str, timeout: float = 10.0) -> None:
    """Fail fast (one line) when a ``host:port`` cluster address does not answer: Ray itself
    keeps retrying an unreachable address for minutes."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "://" in address:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise HhpnetError(
            f"no Ray cluster answers at {address} ({exc.strerror or exc}); start one with "
            "`ray start --head`, or leave out --address for a local instance"
        ) from None


@contextlib.contextmanager
def _stderr_to(path: str | None) -> Iterator[None]:
    """Send file descriptor 2 to ``path`` (Ray's C++ start-up messages bypass sys.stderr)."""
    if path is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(fd, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)


@contextlib.contextmanager
def _no_api_server(ray: Any) -> Iterator[None]:
    """While starting a local instance: skip Ray's head "API server" process.

    With the dashboard off, Ray still starts it for usage statistics, and even with those
    disabled it asks the cloud metadata services whether it runs on Azure, GCP or AWS (HTTP to
    169.254.169.254, a DNS lookup of metadata.google.internal). Our private instance needs none
    of its services (dashboard, job submission, state API). Without this hook (another Ray
    version) the instance works the same, those requests included.
    """
    services: Any = getattr(getattr(ray, "_private", None), "services", None)
    original = getattr(services, "start_api_server", None)
    if original is None:
        yield
        return
    services.start_api_server = lambda *args, **kwargs: (None, None)
    try:
        yield
    finally:
        services.start_api_server = original


def start_ray(
    address: str | None = None,
    num_cpus: int | None = None,
    ray_logs: bool = False,
    log_file: str | None = None,
) -> bool:
    """Start (or join) Ray unless this process is already connected; True if started here.

    Local (``address`` None): a private instance with ``num_cpus`` CPUs, no dashboard, usage
    statistics off, listening on the loopback interface only (when Ray is first imported here),
    no head API server (see :func:`_no_api_server`), its log lines kept in its session folder
    unless ``ray_logs``. ``address``: join that
    cluster (``"auto"`` or ``"host:port"``). ``log_file``: where Ray's own start-up messages go
    (unless ``ray_logs``; default: they are discarded).
    """
    import logging

    if address is None and "ray" not in sys.modules:
        # an embedded instance serves this process only: bind it to the loopback interface
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = _import_ray()
    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": ray_logs,
        "logging_level": logging.INFO if ray_logs else logging.ERROR,
        "configure_logging": True,
    }
    if address is None:
        kwargs.update(
            address="local",
            num_cpus=num_cpus or _cpu_count(),
            object_store_memory=128 * 2**20,
        )
    else:
        _probe(address)
        kwargs["address"] = address
        kwargs.pop("include_dashboard")
    try:
        with (
            _stderr_to(None if ray_logs else (log_file or os.devnull)),
            _no_api_server(ray if address is None else None),
        ):
            ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        hint = (
            " (with token authentication set RAY_AUTH_MODE=token, or use --address auto on a "
            "node of the cluster)"
            if address not in (None, "auto")
            else ""
        )
        raise HhpnetError(f"cannot start or join {where}: {_one_line(exc)}{hint}") from None
    if not ray_logs:
        # Ray prints worker deaths and retries itself; we report them in one line per input
        with contextlib.suppress(Exception):
            ray._private.worker._worker_logs_enabled = False
    return True


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
    """
    opts = options or BatchOptions()
    opts.validate()
    t_start = time.perf_counter()
    given = [i for i in inputs if isinstance(i, BatchInput)]
    specs = [str(i) for i in inputs if not isinstance(i, BatchInput)]
    batch_inputs = _unique([*given, *(collect_inputs(specs) if specs or not given else [])])
    processing = opts.processing()
    config = _config_hash(processing)
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
    emit = log or _Emitter()
    report = BatchReport(out=layout.out)
    with _Lock(layout) as lock:
        if lock.warning:
            emit(f"hhpnet: warning: {lock.warning}")
        marker = _read_json(layout.marker)
        if isinstance(marker, dict) and marker.get("config") != config and not opts.force:
            changed = [
                k for k in processing if (marker.get("processing") or {}).get(k) != processing[k]
            ]
            raise InputError(
                f"{layout.out} holds results made with other options "
                f"({', '.join(changed) or 'hhpnet version'}); use another --out, or --force to "
                "redo them"
            )
        token = uuid.uuid4().hex
        _write_json_atomic(
            layout.marker, {"config": config, "processing": processing, "token": token}
        )
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
        names = _assign_names(batch_inputs, records)
        rows: dict[str, dict[str, Any]] = {}
        todo: list[BatchInput] = []
        for inp in batch_inputs:
            name = names[inp.source]
            known = records.get(name)
            finished = _verify_finished(layout, known, inp, config, opts.check)
            rows[inp.source] = _summary_row(inp.source, name, known if finished else None, finished)
            if not finished:
                todo.append(inp)
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


def _all_rows(
    records: dict[str, dict[str, Any]], rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """This run's rows, then the finished inputs of earlier runs (they are in the dataset)."""
    seen = {r["name"] for r in rows}
    extra = [
        _summary_row(rec["source"], name, rec, True)
        for name, rec in sorted(records.items())
        if name not in seen and rec.get("status") in _STATUS_FINISHED
    ]
    return [*rows, *extra]


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
    rows: dict[str, dict[str, Any]]
    earlier: dict[str, dict[str, Any]]  # records at the start (for the summary table)
    opts: BatchOptions
    processing: dict[str, Any]
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
        from collections import deque

        from tqdm import tqdm

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
        t0 = t_bar = t_summary = time.perf_counter()
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
                now = time.perf_counter()
                if now - t_bar >= 0.5:
                    live = self.frames_done + sum(self.frames_live.values())
                    bar.set_postfix_str(f"{live} frames, {live / (now - t0):.0f} frames/s")
                    t_bar = now
                if now - t_summary >= 30.0:  # long runs: the table follows along
                    _write_summary(self.layout, _all_rows(self.earlier, report.rows))
                    t_summary = now
        except BaseException:
            for gen in running:
                with contextlib.suppress(Exception):
                    ray.cancel(gen, force=True)
            raise
        finally:
            bar.close()

    def _job(self, inp: BatchInput) -> dict[str, Any]:
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

    def _next(self, ray: Any, gen: Any, inp: BatchInput) -> dict[str, Any] | None:
        """Read the task's next message: None after a progress update, else its final record
        (the worker's, or a failure record written here when the task failed for good)."""
        try:
            msg = ray.get(next(gen))
        except StopIteration:
            return self._failure(inp, RuntimeError("the task ended without a result"))
        except ray.exceptions.RayError as exc:
            return self._failure(inp, exc)
        if msg["kind"] == "progress":
            self.frames_live[inp.source] = int(msg["frames"])
            return None
        record: dict[str, Any] = msg["record"]
        if record.get("fatal"):
            raise HhpnetError(record["error"])
        return record

    def _finished(self, inp: BatchInput, record: dict[str, Any], bar_shown: bool) -> None:
        self.frames_live.pop(inp.source, None)
        self.frames_done += int(record.get("frames") or 0)
        self.rows[inp.source].update(_summary_row(inp.source, record["name"], record, False))
        _report_input(self.emit, record, bar_shown)

    def _failure(self, inp: BatchInput, exc: BaseException) -> dict[str, Any]:
        return _driver_failure(
            self.layout, inp, self.names, self.config, self.processing, exc, self.opts
        )


def _driver_failure(
    layout: _Layout,
    inp: BatchInput,
    names: dict[str, str],
    config: str,
    processing: dict[str, Any],
    exc: BaseException,
    opts: BatchOptions,
) -> dict[str, Any]:
    """The record of a task that failed for good (retries used up): written by the driver."""
    name = names[inp.source]
    run = _read_json(os.path.join(layout.running, f"{name}.json"))
    record = {
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


def _report_input(emit: Callable[[str], None], rec: dict[str, Any], bar_shown: bool) -> None:
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


def read_dataset(out: str | os.PathLike[str], columns: Sequence[str] | None = None) -> Any:
    """The merged person-frame table of a batch output folder as a ``pyarrow.Table``.

    One row per person per frame (columns :data:`hhpnet.sinks.VIDEO_COLUMNS`) plus ``input``
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
