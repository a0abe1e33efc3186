"""Video jobs of ``hhpnet serve``: an uploaded video → :func:`hhpnet.video.process_video` in a
bounded worker pool → files to download.

A job lives in its own folder under the run's data folder, named by a random id (the only
thing a request names; it is checked against :data:`JOB_ID` before any use). The files a
client may fetch are a fixed list (:data:`OUTPUT_FILES`) plus the preview frames the job wrote
(``frame-<index>.jpg``, downscaled, at most :data:`MAX_PREVIEWS` per video) for the page's
frame scrubber. Limits: ``max_jobs`` queued + running, ``max_disk_mb`` for all job files,
``keep_hours`` after a job ends (then its folder is removed), and the oldest finished jobs are
dropped beyond :data:`MAX_KEPT`. :meth:`Jobs.close` cancels everything and removes the folder.
"""

from __future__ import annotations

import logging
import math
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from hhpnet.errors import HhpnetError, InputError
from hhpnet.serve.engine import Busy, Engine, PoseOptions, TooLarge
from hhpnet.serve.settings import ServeSettings

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from hhpnet.pipeline import HeadPoseEstimator
    from hhpnet.poses import Poses
    from hhpnet.video import FrameResult, VideoSummary
    from hhpnet.video.settings import VideoSettings

__all__ = [
    "JOB_ID",
    "MAX_PREVIEWS",
    "OUTPUT_FILES",
    "Job",
    "Jobs",
    "VideoOptions",
    "display_name",
]

log = logging.getLogger("hhpnet.serve")

#: a job id: 32 lowercase hex digits (128 random bits)
JOB_ID = re.compile(r"[0-9a-f]{32}")
#: a preview frame's file name
PREVIEW_NAME = re.compile(r"frame-(\d{1,9})\.jpg")
#: file name (as registered, :mod:`hhpnet.video.outputs`) → media type; the files a job may
#: write and a client download
OUTPUT_FILES: dict[str, str] = {
    "poses.csv": "text/csv",
    "poses.jsonl": "application/jsonl",
    "poses.parquet": "application/vnd.apache.parquet",
    "timeline.csv": "text/csv",
    "timeline_people.csv": "text/csv",
    "timeline.png": "image/png",
    "annotated.mp4": "video/mp4",
}
#: preview frames written per video (evenly spread), their width at most
MAX_PREVIEWS = 300
PREVIEW_WIDTH = 640
#: finished jobs kept at most (the oldest go first)
MAX_KEPT = 100
#: free disk space a job never eats into, bytes
_FREE_MARGIN = 200 * 1024 * 1024
_STATES = ("queued", "running", "done", "failed", "cancelled")


class _Cancelled(Exception):
    pass


@dataclass(frozen=True)
class VideoOptions:
    """A video job's options: the estimator's (:class:`PoseOptions`), the frame selection of
    ``hhpnet video`` and whether to write the annotated mp4 (``annotated``)."""

    pose: PoseOptions = field(default_factory=PoseOptions)
    stride: int = 1
    max_frames: int | None = None
    start: float = 0.0
    end: float | None = None
    annotated: bool = False

    def settings(self, folder: Path, name: str | None = None) -> VideoSettings:
        """The job's run (:class:`hhpnet.video.VideoSettings`) writing into ``folder`` the
        formats whose file (their registered name) is one of :data:`OUTPUT_FILES`: the Parquet
        rows when pyarrow is installed, the annotated video when asked for."""
        from hhpnet.video import outputs
        from hhpnet.video.settings import VideoSettings

        skip = {"save_video"} if not self.annotated else set()
        if not _has_pyarrow():
            skip.add("parquet")
        paths = {
            f.name: str(folder / f.files[0][1]) for f in outputs.formats() if f.name not in skip
        }
        return VideoSettings(
            interact=True,
            interaction_method=self.pose.method,
            interaction_params=dict(self.pose.params),
            stride=self.stride,
            max_frames=self.max_frames,
            start=self.start,
            end=self.end,
            progress=False,
            name=name,
            kpt_thr=self.pose.kpt_thr,
        ).with_paths(paths)

    def check(self) -> None:
        """A one-line InputError for options a run refuses (:meth:`VideoSettings.check`)."""
        self.settings(Path()).check()


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Job:
    """One video job (what ``GET /v1/videos/{id}`` reports, see :meth:`to_dict`)."""

    id: str
    folder: Path
    name: str
    options: VideoOptions
    state: str = "queued"
    frames: int = 0
    total_frames: int | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    outputs: list[str] = field(default_factory=list)
    previews: list[int] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    size: int = 0
    cancel: threading.Event = field(default_factory=threading.Event)
    input_path: Path | None = None

    @property
    def ended(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    def to_dict(self) -> dict[str, object]:
        progress = None
        if self.state == "done":
            progress = 1.0
        elif self.total_frames:
            progress = round(min(self.frames / self.total_frames, 1.0), 4)
        base = f"/v1/videos/{self.id}"
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "progress": progress,
            "frames": self.frames,
            "total_frames": self.total_frames,
            "error": self.error,
            "warnings": list(self.warnings),
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "files": {name: f"{base}/{name}" for name in self.outputs},
            "previews": list(self.previews),
            "summary": self.summary,
        }


class _Watch:
    """The estimator of a job, keeping the last frame it saw (for the preview pictures)."""

    def __init__(self, est: HeadPoseEstimator) -> None:
        self.est = est
        self.last: NDArray[np.uint8] | None = None

    def __call__(self, image: object) -> Poses:
        self.last = cast("NDArray[np.uint8]", image)  # the video readers give uint8 BGR frames
        return self.est(image)


class Jobs:
    """The video jobs of one server run (see the module docstring)."""

    def __init__(self, settings: ServeSettings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        if settings.data_dir is None:
            self.root = Path(tempfile.mkdtemp(prefix="hhpnet-serve-"))
        else:
            parent = Path(settings.data_dir)
            parent.mkdir(parents=True, exist_ok=True)
            self.root = Path(tempfile.mkdtemp(prefix="hhpnet-serve-", dir=parent))
        self.pool = ThreadPoolExecutor(settings.video_workers, thread_name_prefix="hhpnet-video")
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        self.closed = False

    # ------------------------------------------------------------------ bookkeeping
    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None (also for anything that is not a job id)."""
        if not JOB_ID.fullmatch(job_id):
            return None
        with self.lock:
            return self.jobs.get(job_id)

    def disk_used(self) -> int:
        with self.lock:
            return sum(j.size for j in self.jobs.values())

    def reserve(self, name: str, options: VideoOptions, expected: int | None) -> Job:
        """A new queued job with an empty folder, or :class:`Busy` / :class:`TooLarge` when the
        job slots or the disk budget do not allow it. ``expected``: the upload's size if known."""
        self.sweep()
        if expected is not None and expected > self.settings.max_disk_bytes:
            raise TooLarge(
                f"video too large for this server's job storage "
                f"({self.settings.max_disk_mb:g} MB in all; --max-disk-mb)"
            )
        with self.lock:
            if self.closed:
                raise Busy()
            active = sum(1 for j in self.jobs.values() if not j.ended)
            if active >= self.settings.max_jobs:
                raise Busy()
            job = Job(secrets.token_hex(16), Path(), display_name(name), options)
            job.folder = self.root / job.id
            job.folder.mkdir()
            self.jobs[job.id] = job
        try:
            self.charge(job, expected or 0)
        except BaseException:
            self.remove(job.id)
            raise
        return job

    def charge(self, job: Job, size: int) -> None:
        """Count ``size`` bytes of ``job``'s files; :class:`Busy` if the budget or the free disk
        space would be exceeded (the job's files are then removed by the caller)."""
        with self.lock:
            others = sum(j.size for j in self.jobs.values() if j is not job)
            if others + size > self.settings.max_disk_bytes:
                raise Busy()
            growth = max(size - job.size, 0)
            job.size = max(job.size, size)
        if growth and shutil.disk_usage(self.root).free < growth + _FREE_MARGIN:
            raise Busy()

    def remove(self, job_id: str) -> bool:
        """Cancel the job (if it runs) and delete it with its files; False if unknown."""
        with self.lock:
            job = self.jobs.pop(job_id, None)
        if job is None:
            return False
        job.cancel.set()
        if job.state in ("queued", "running"):
            # a running job stops at its next frame; its thread removes what is left
            job.state = "cancelled"
            if job.started is not None:
                return True
        shutil.rmtree(job.folder, ignore_errors=True)
        return True

    def sweep(self, now: float | None = None) -> int:
        """Remove jobs that ended more than ``keep_hours`` ago, and the oldest ended jobs
        beyond :data:`MAX_KEPT`. Returns how many were removed."""
        now = time.time() if now is None else now
        limit = now - self.settings.keep_hours * 3600.0
        with self.lock:
            ended = sorted(
                (j for j in self.jobs.values() if j.ended and j.finished is not None),
                key=lambda j: j.finished or 0.0,
            )
        old = [j for j in ended if (j.finished or 0.0) < limit]
        old += [j for j in ended[: max(len(ended) - MAX_KEPT, 0)] if j not in old]
        for job in old:
            self.remove(job.id)
        return len(old)

    # ------------------------------------------------------------------ running
    def probe(self, job: Job, path: Path) -> None:
        """Open the uploaded file as a video (header only): :class:`InputError` if it is not
        one. Sets the expected number of frames."""
        from hhpnet.video import open_source

        job.input_path = path
        try:
            reader = open_source(str(path))
        except InputError as exc:
            raise InputError(_scrub(str(exc), job)) from None
        try:
            count = reader.frame_count
            fps = reader.fps or 30.0
            o = job.options
            if count is not None and count > 0:
                n = count
                if o.end is not None and math.isfinite(o.end):
                    n = min(n, math.floor(o.end * fps) + 1)
                n -= min(round(o.start * fps), n)
                n = -(-n // o.stride)
                job.total_frames = min(n, o.max_frames) if o.max_frames else n
            elif o.max_frames:
                job.total_frames = o.max_frames
        finally:
            reader.close()

    def submit(self, job: Job) -> None:
        self.pool.submit(self._run, job)

    def _run(self, job: Job) -> None:
        if job.cancel.is_set() or self.closed:
            self._end(job, "cancelled")
            return
        job.state, job.started = "running", time.time()
        try:
            summary = self._process(job)
        except _Cancelled:
            self._end(job, "cancelled")
            return
        except HhpnetError as exc:
            job.error = _scrub(str(exc).splitlines()[0], job)
            self._end(job, "failed")
            return
        except Exception:  # a bug: logged here, one line for the client
            log.exception("video job %s failed", job.id)
            job.error = "internal error while processing the video"
            self._end(job, "failed")
            return
        if summary.error:
            job.warnings.append(_scrub(summary.error, job))
        job.warnings.extend(_scrub(w, job) for w in summary.warnings)
        d = summary.to_dict()
        keep = ("frames", "video_time_s", "elapsed_s", "fps", "rows", "tracks", "timeline")
        job.summary = {k: d[k] for k in keep}
        job.outputs = [n for n in OUTPUT_FILES if (job.folder / n).is_file()]
        self._end(job, "done")

    def _process(self, job: Job) -> VideoSummary:
        from hhpnet.video import open_source, process_video

        assert job.input_path is not None
        o = job.options
        est = _Watch(self.engine.estimator(o.pose))
        previews = job.folder / "frames"
        previews.mkdir(exist_ok=True)
        every = max(1, math.ceil((job.total_frames or MAX_PREVIEWS) / MAX_PREVIEWS))
        checked = [time.monotonic()]

        def on_frame(result: FrameResult) -> None:
            if job.cancel.is_set() or self.closed:
                raise _Cancelled()
            job.frames += 1
            if (job.frames - 1) % every == 0 and len(job.previews) < MAX_PREVIEWS:
                _write_preview(previews / f"frame-{result.index}.jpg", est.last)
                job.previews.append(int(result.index))
            if time.monotonic() - checked[0] > 2.0:  # the files grow: keep within the budget
                checked[0] = time.monotonic()
                self.charge(job, _folder_size(job.folder))

        reader = open_source(str(job.input_path))
        reader.name = job.name  # messages and records name the upload, not a server path
        try:
            return process_video(
                reader, est, settings=o.settings(job.folder, job.name), on_frame=on_frame
            )
        except Busy:
            raise HhpnetError("the server's job storage is full (--max-disk-mb)") from None

    def _end(self, job: Job, state: str) -> None:
        job.finished = time.time()
        if job.input_path is not None:  # the upload is not an output: free its space now
            job.input_path.unlink(missing_ok=True)
        with self.lock:
            gone = job.id not in self.jobs
        if gone or state == "cancelled":
            job.state = "cancelled"
            shutil.rmtree(job.folder, ignore_errors=True)
            return
        job.size = _folder_size(job.folder)
        job.state = state

    def close(self) -> None:
        """Cancel every job, wait for the running one(s), remove all job files."""
        self.closed = True
        with self.lock:
            jobs = list(self.jobs.values())
        for job in jobs:
            job.cancel.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.root, ignore_errors=True)


def display_name(name: str) -> str:
    """A client's file name reduced to a short, harmless label (never used as a path)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^\w.\- ()]+", "_", base).strip(" .")[:80]
    return base or "video"


def _scrub(message: str, job: Job) -> str:
    """``message`` with the server's paths replaced: the upload's by its name, others by …"""
    if job.input_path is not None:
        message = message.replace(str(job.input_path), job.name)
    return message.replace(str(job.folder), "…")


def _folder_size(folder: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(dirpath, f))
            except OSError:
                pass
    return total


def _write_preview(path: Path, bgr: NDArray[np.uint8] | None) -> None:
    import cv2

    if bgr is None:
        return
    img: NDArray[np.integer | np.floating] = np.asarray(bgr)
    h, w = img.shape[:2]
    if w > PREVIEW_WIDTH:
        img = cv2.resize(
            img, (PREVIEW_WIDTH, round(h * PREVIEW_WIDTH / w)), interpolation=cv2.INTER_AREA
        )
    cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 80])
