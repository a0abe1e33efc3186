"""One video run (:func:`process_video`): resume, the outputs (the registered formats of
:mod:`hhpnet.video.outputs`, their writers in :mod:`hhpnet.video.writers`) and the window, the
frame loop and teardown; :class:`VideoSummary`. Its options: :mod:`hhpnet.video.settings`."""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from numpy.typing import NDArray

from hhpnet.errors import InputError
from hhpnet.video import outputs
from hhpnet.video.outputs import PICTURE_OUT_EXTENSIONS, VIDEO_OUT_EXTENSIONS
from hhpnet.video.processor import FrameResult, VideoProcessor
from hhpnet.video.readers import DEFAULT_FPS, Frame, FrameReader, _select_frames, open_source
from hhpnet.video.resume import _mismatch, _replay
from hhpnet.video.settings import VideoSettings, check_options
from hhpnet.video.writers import FrameOutput, RunInfo, Writer

__all__ = [
    "PICTURE_OUT_EXTENSIONS",
    "VIDEO_OUT_EXTENSIONS",
    "VideoSettings",
    "VideoSummary",
    "check_options",
    "display_available",
    "process_video",
]

if TYPE_CHECKING:
    import numpy as np

    from hhpnet.interaction import Interaction
    from hhpnet.protocols import Estimator
    from hhpnet.video.smoothing import PoseSmoother, SmootherParams
    from hhpnet.video.timeline import Timeline, TimelineBuilder
    from hhpnet.video.tracking import Tracker

    #: replaces :func:`hhpnet.interaction.analyze` (same signature)
    Analyzer = Callable[..., Interaction]


@dataclass
class VideoSummary:
    """What :func:`process_video` did.

    ``frames``: frames processed in this run; ``first_frame``/``last_frame``: their source
    indices; ``video_time_s``: span of source time covered; ``elapsed_s`` and ``fps``: wall-clock
    processing; ``rows``: person rows written in this run; ``tracks``: distinct track ids;
    ``outputs``: written files; ``error``: one-line problem (damaged video, lost stream) or
    None; ``interrupted``: stopped by Ctrl-C; ``resumed_from``: the frame a ``resume`` run
    restarted at, ``replayed`` the frames before it read again with their poses from the
    CSV; ``timeline``: the interaction timeline (None without interaction).
    """

    source: str
    frames: int = 0
    first_frame: int | None = None
    last_frame: int | None = None
    video_time_s: float = 0.0
    elapsed_s: float = 0.0
    fps: float = 0.0
    rows: int = 0
    tracks: int = 0
    outputs: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    interrupted: bool = False
    resumed_from: int | None = None
    replayed: int = 0
    warnings: list[str] = field(default_factory=list)
    timeline: Timeline | None = None

    @property
    def ok(self) -> bool:
        """True if the whole source was read without error or interruption."""
        return self.error is None and not self.interrupted

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (timeline included as intervals and totals)."""
        d = {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "timeline"
        }
        d["timeline"] = self.timeline.to_dict() if self.timeline is not None else None
        return d


def display_available() -> bool:
    """True if OpenCV can open a window here (a GUI build and a display)."""
    import cv2

    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    try:
        cv2.namedWindow("hhpnet-probe", cv2.WINDOW_AUTOSIZE)
        cv2.destroyWindow("hhpnet-probe")
    except cv2.error:
        return False
    return True


def process_video(
    source: object,
    estimator: Estimator | None = None,
    *,
    csv: str | os.PathLike[str] | None = None,
    parquet: str | os.PathLike[str] | None = None,
    jsonl: str | os.PathLike[str] | None = None,
    save_video: str | os.PathLike[str] | None = None,
    timeline_csv: str | os.PathLike[str] | None = None,
    timeline_png: str | os.PathLike[str] | None = None,
    interact: bool = True,
    interaction_method: str = "hhpnet",
    interaction_params: dict[str, object] | None = None,
    stride: int = 1,
    max_frames: int | None = None,
    start: float = 0.0,
    end: float | None = None,
    fps: float | None = None,
    resume: bool = False,
    show: bool = False,
    progress: bool | None = None,
    smoothing: SmootherParams | PoseSmoother | None = None,
    tracker: Tracker | None = None,
    timeline: TimelineBuilder | None = None,
    flush_every: int = 1,
    analyzer: Analyzer | None = None,
    on_frame: Callable[[FrameResult], object] | None = None,
    name: str | None = None,
    settings: VideoSettings | None = None,
    body_every: int = 1,
    precise: bool = False,
    outputs: Mapping[str, str | os.PathLike[str]] | None = None,
) -> VideoSummary:
    """Process a video / webcam / stream / image sequence / frame iterable; see the module doc.

    Outputs (each optional, written while processing): ``csv`` and ``parquet`` (one row per
    person per frame, columns :data:`hhpnet.video.sinks.VIDEO_COLUMNS`), ``jsonl`` (one record per
    frame), ``save_video`` (annotated mp4, 'mp4v'), ``timeline_csv`` (+ ``<stem>_people.csv``)
    and ``timeline_png`` (written at the end; need ``interact``); ``outputs``: {name: path} of
    any registered format (:mod:`hhpnet.video.outputs`).

    Frame selection: frames whose time is in [``start``, ``end``] seconds, then every
    ``stride``-th, at most ``max_frames`` (counted from the first selected frame, also over a
    resume). ``fps`` overrides the frame rate of image sequences/generators. ``resume``:
    continue an interrupted run from its ``csv`` (required; see :mod:`~.sinks`): the frames
    before the restart point are read again and their poses taken from the CSV, so the tracker,
    smoother and timeline continue exactly as in an uninterrupted run; the annotated video
    continues in ``<stem>.from<frame>.mp4``. ``show``: a live window if a display exists (else a
    one-line notice and headless). ``progress``: a progress bar on stderr (None: only if stderr
    is a terminal). ``smoothing``: a :class:`hhpnet.video.smoothing.SmootherParams` or PoseSmoother;
    ``tracker``: a Tracker; ``timeline``: a TimelineBuilder; ``analyzer``: replaces
    :func:`hhpnet.interaction.analyze` (same signature). ``on_frame``: called with every
    :class:`FrameResult` of this run. ``name``: the source's name in messages. ``precise``:
    without ``estimator``, the default one reads every frame mirrored as well (accuracy first;
    see :class:`hhpnet.HeadPoseEstimator`).
    ``settings``: a :class:`VideoSettings` instead of the option keywords (which are then
    ignored). ``body_every``: with the ``auto`` detector, MoveNet on every K-th frame and on
    scene changes only (:mod:`hhpnet.video.cadence`; off by default). Ctrl-C stops cleanly:
    files are closed and ``interrupted`` is set.
    """
    keywords = locals()  # the first statement: exactly the parameters, as given
    if settings is None:
        settings = VideoSettings.of_keywords(keywords)
    settings.check()
    run = _VideoRun(settings, source, on_frame)
    run.build_processor(estimator, smoothing, tracker, timeline, analyzer)
    return run.run()


class _VideoRun:
    """The steps of one :func:`process_video` run, in order: :meth:`build_processor`, then
    :meth:`run` = progress bar → resume replay → open the writers → frame loop (:meth:`_frame`)
    → teardown (:meth:`_close`) → summary and the writers' end-of-run files (:meth:`_finish`)."""

    def __init__(
        self,
        settings: VideoSettings,
        source: object,
        on_frame: Callable[[FrameResult], object] | None,
    ) -> None:
        self.s = settings
        self.paths = settings.paths()
        self.on_frame = on_frame
        self.reader = open_source(source, fps=settings.fps, name=settings.name)
        self.summary = VideoSummary(source=self.reader.name)
        self.summary.warnings.extend(self.reader.warnings)
        self.writers: list[Writer] = []
        self.window = False
        self.bar: Any = None
        self.t_first = 0.0
        self.src_fps = self.reader.fps or DEFAULT_FPS

    def build_processor(
        self,
        estimator: Estimator | None,
        smoothing: SmootherParams | PoseSmoother | None,
        tracker: Tracker | None,
        timeline: TimelineBuilder | None,
        analyzer: Analyzer | None,
    ) -> None:
        """The per-frame :class:`VideoProcessor` (the source is closed if this fails)."""
        from hhpnet.video.smoothing import PoseSmoother, SmootherParams

        s = self.s
        try:
            if s.resume and self.reader.live:
                raise InputError(f"{self.reader.name}: a live source cannot be resumed")
            if estimator is None:
                estimator = s.estimator()
            elif s.precise and not getattr(estimator, "precise", False):
                raise InputError(
                    "precise=True: pass an estimator made with HeadPoseEstimator(precise=True) "
                    "(or none)"
                )
            if s.body_every > 1:
                from hhpnet.video.cadence import with_body_cadence

                estimator = with_body_cadence(estimator, s.body_every)
            if isinstance(smoothing, PoseSmoother):
                smoother = smoothing
            else:
                params = smoothing if isinstance(smoothing, SmootherParams) else None
                smoother = PoseSmoother(params or s.smoother_params())
            self.proc = VideoProcessor(
                estimator,
                interact=s.interact,
                interaction_method=s.interaction_method,
                interaction_params=s.interaction_params,
                smoother=smoother,
                tracker=tracker,
                timeline=timeline,
                analyzer=analyzer,
            )
        except BaseException:
            self.reader.close()
            raise
        self.proc.timeline.frame_dt = s.stride / self.src_fps

    def run(self) -> VideoSummary:
        s = self.s
        frames = _select_frames(
            self.reader, start=s.start, end=s.end, stride=s.stride, max_frames=s.max_frames
        )
        t_wall = time.perf_counter()
        try:
            self._open_progress()
            resume_frame, journal, pending = self._resume(frames)
            # the outputs are opened (a resumed file cut at the restart point) only now that the
            # source and the journal have been checked
            self._open_outputs(resume_frame, journal)
            live = frames if pending is None else itertools.chain([pending], frames)
            for frame in live:
                if not self._frame(frame):
                    break
        except KeyboardInterrupt:
            self.summary.interrupted = True
        finally:
            self._close()
        self.summary.elapsed_s = time.perf_counter() - t_wall
        self._finish()
        return self.summary

    def _open_progress(self) -> None:
        progress = self.s.progress
        if progress is None:
            progress = _stderr_is_terminal()
        if progress:
            from tqdm import tqdm

            s = self.s
            self.bar = tqdm(
                total=_expected_frames(
                    self.reader, self.src_fps, s.start, s.end, s.stride, s.max_frames
                ),
                unit="frame",
                desc=os.path.basename(self.reader.name) or "video",
                dynamic_ncols=True,
                file=sys.stderr,
            )

    def _resume(
        self, frames: Iterator[Frame]
    ) -> tuple[int | None, dict[str, NDArray[Any]] | None, Frame | None]:
        """Replay the CSV journal's frames (``resume``): (restart frame, journal, the first
        frame to process live), all None when there is nothing to resume."""
        from hhpnet.video.sinks import csv_resume_point, read_csv_rows

        csv = self.paths.get("csv")
        if not (self.s.resume and csv is not None and os.path.isfile(csv)):
            return None, None, None
        resume_frame = csv_resume_point(csv)
        if resume_frame is None:
            return None, None, None
        journal = read_csv_rows(csv)
        bar = self.bar
        self.summary.replayed, pending = _replay(
            self.proc,
            frames,
            journal,
            resume_frame,
            csv,
            on_step=(lambda: bar.update(1)) if bar is not None else None,
        )
        if pending is None:  # the source ends before the CSV's last frame
            raise InputError(_mismatch(csv, resume_frame))
        self.summary.resumed_from = resume_frame
        return resume_frame, journal, pending

    def _open_outputs(
        self, resume_frame: int | None, journal: dict[str, NDArray[Any]] | None
    ) -> None:
        """Open a writer per output, in the registry's order, and the window."""
        s = self.s
        info = RunInfo(
            self.reader.name, self.src_fps / s.stride, s.flush_every, resume_frame, journal
        )
        for name, path in self.paths.items():
            writer = outputs.get(name).load()(path, info)
            self.writers.append(writer)
            self.summary.outputs.update(writer.outputs)
        if s.show:
            self.window = display_available()
            if not self.window:
                print("hhpnet: no display available, running headless", file=sys.stderr)

    def _frame(self, frame: Frame) -> bool:
        """Process and write one live frame; False when the user closed the window."""
        result = self.proc.step(frame)
        result.source = self.reader.name
        out = FrameOutput(result, frame.image)
        for writer in self.writers:
            writer.write(out)
        if self.window and not _show(out.annotated):
            return False
        if self.on_frame is not None:
            self.on_frame(result)
        self._count(result, frame)
        return True

    def _count(self, result: FrameResult, frame: Frame) -> None:
        summary = self.summary
        summary.frames += 1
        summary.rows += len(result.track_ids)
        if summary.first_frame is None:
            summary.first_frame = frame.index
            self.t_first = frame.time_s
        summary.last_frame = frame.index
        summary.video_time_s = frame.time_s - self.t_first + self.s.stride / self.src_fps
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(people=len(result.track_ids), refresh=False)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        for writer in self.writers:
            writer.close()
        if self.window:
            import cv2

            cv2.destroyAllWindows()
        self.reader.close()

    def _finish(self) -> None:
        """Rate, the reader's problems and warnings, tracks, and the writers' end-of-run files
        (the timelines)."""
        summary, reader = self.summary, self.reader
        summary.fps = summary.frames / summary.elapsed_s if summary.elapsed_s > 0 else 0.0
        summary.error = reader.final_error()
        summary.warnings.extend(w for w in reader.warnings if w not in summary.warnings)
        if reader.repaired_times:
            summary.warnings.append(
                f"{reader.name}: {reader.repaired_times} frame timestamp(s) missing or out of "
                "order were repaired (time_s never goes backwards; see docs/video.md)"
            )
        summary.tracks = len(self.proc.track_ids_seen)
        if self.s.interact:
            summary.timeline = self.proc.timeline.finish()
        for writer in self.writers:
            summary.outputs.update(writer.finish(summary.timeline))


def _show(annotated: NDArray[np.uint8]) -> bool:
    """The annotated frame in the window; False when the user quit (Esc or q)."""
    import cv2

    cv2.imshow("hhpnet", annotated)
    return cv2.waitKey(1) & 0xFF not in (27, ord("q"))


def _stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


def _expected_frames(
    reader: FrameReader,
    fps: float,
    start: float,
    end: float | None,
    stride: int,
    max_frames: int | None,
) -> int | None:
    """Frames a run will process, for the progress bar (an estimate: container counts and
    variable frame rates are approximate)."""
    total = None
    if reader.frame_count is not None:
        n = reader.frame_count
        if end is not None and math.isfinite(end):
            n = min(n, math.floor(end * fps) + 1)
        n -= min(round(start * fps), n)
        total = -(-n // stride)
    if max_frames is not None:
        total = max_frames if total is None else min(total, max_frames)
    return total
