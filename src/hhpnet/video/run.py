"""One video run (:func:`process_video`): options, resume, outputs (CSV / JSONL / Parquet,
annotated video, window, timelines), the frame loop and teardown; :class:`VideoSummary`."""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from hhpnet.errors import HhpnetError, InputError
from hhpnet.video.processor import FrameResult, VideoProcessor
from hhpnet.video.readers import DEFAULT_FPS, Frame, FrameReader, _select_frames, open_source
from hhpnet.video.resume import _mismatch, _replay

if TYPE_CHECKING:
    from hhpnet.protocols import Estimator


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
    timeline: Any = None

    @property
    def ok(self) -> bool:
        """True if the whole source was read without error or interruption."""
        return self.error is None and not self.interrupted

    def to_dict(self) -> dict[str, Any]:
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


def _annotate(result: FrameResult, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    from hhpnet.draw import annotate, outlined_text

    poses = result.smoothed_poses()
    out = annotate(image, poses) if len(result.track_ids) else image.copy()
    side = min(out.shape[:2])
    scale = max(side / 900.0, 0.4)
    thick = max(round(scale * 2), 1)
    boxes = np.asarray(poses.boxes, np.float64).reshape(-1, 4)
    for k, tid in enumerate(result.track_ids):
        if tid < 0 or not np.isfinite(boxes[k]).all():
            continue
        x1, _y1, _x2, y2 = boxes[k]
        org = (int(x1), int(min(y2 + 22 * scale, out.shape[0] - 4)))
        outlined_text(out, f"#{tid}", org, scale * 0.8, (255, 255, 255), thick)
    return out


def _segment_path(path: str, frame: int) -> str:
    stem, ext = os.path.splitext(path)
    return f"{stem}.from{frame}{ext or '.mp4'}"


@dataclass(frozen=True)
class VideoSettings:
    """The options of one :func:`process_video` run (see its docstring for each).

    Outputs: ``csv``, ``parquet``, ``jsonl``, ``save_video``, ``timeline_csv``,
    ``timeline_png``; analysis: ``interact``, ``interaction_method``, ``interaction_params``;
    frame selection: ``stride``, ``max_frames``, ``start``, ``end``, ``fps``; the run itself:
    ``resume``, ``show``, ``progress``, ``flush_every``, ``name``; ``precise``: the default
    estimator (when none is given) reads every frame mirrored as well
    (``HeadPoseEstimator(precise=True)``); a given estimator must then have ``precise`` set.
    """

    csv: str | None = None
    parquet: str | None = None
    jsonl: str | os.PathLike[str] | None = None
    save_video: str | os.PathLike[str] | None = None
    timeline_csv: str | os.PathLike[str] | None = None
    timeline_png: str | os.PathLike[str] | None = None
    interact: bool = True
    interaction_method: str = "hhpnet"
    interaction_params: dict[str, Any] | None = None
    stride: int = 1
    max_frames: int | None = None
    start: float = 0.0
    end: float | None = None
    fps: float | None = None
    resume: bool = False
    show: bool = False
    progress: bool | None = None
    flush_every: int = 1
    name: str | None = None
    #: MoveNet on every K-th frame only (``auto`` detector; :mod:`hhpnet.video.cadence`)
    body_every: int = 1
    precise: bool = False

    def check(self) -> None:
        """Raise a one-line :class:`InputError` for settings a run refuses."""
        check_options(
            stride=self.stride,
            max_frames=self.max_frames,
            start=self.start,
            end=self.end,
            fps=self.fps,
            save_video=self.save_video,
            timeline_png=self.timeline_png,
        )
        if (self.timeline_csv or self.timeline_png) and not self.interact:
            raise InputError("a timeline needs the interaction analysis (remove --no-interact)")
        if self.resume and self.csv is None:
            raise InputError("--resume needs --csv: the CSV is the journal a run resumes from")
        if self.flush_every < 1:
            raise InputError(f"flush_every must be ≥ 1; got {self.flush_every}")
        if not isinstance(self.body_every, int) or self.body_every < 1:
            raise InputError(f"body_every must be an integer ≥ 1; got {self.body_every!r}")
        if self.body_every > 1 and self.precise:
            # the cadence keeps the last frame's bodies; the mirror pass would mix in the
            # mirrored frame's
            raise InputError("--body-every and --precise cannot be combined")


def process_video(
    source: Any,
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
    interaction_params: dict[str, Any] | None = None,
    stride: int = 1,
    max_frames: int | None = None,
    start: float = 0.0,
    end: float | None = None,
    fps: float | None = None,
    resume: bool = False,
    show: bool = False,
    progress: bool | None = None,
    smoothing: Any = None,
    tracker: Any = None,
    timeline: Any = None,
    flush_every: int = 1,
    analyzer: Callable[..., Any] | None = None,
    on_frame: Callable[[FrameResult], Any] | None = None,
    name: str | None = None,
    settings: VideoSettings | None = None,
    body_every: int = 1,
    precise: bool = False,
) -> VideoSummary:
    """Process a video / webcam / stream / image sequence / frame iterable; see the module doc.

    Outputs (each optional, written while processing): ``csv`` and ``parquet`` (one row per
    person per frame, columns :data:`hhpnet.video.sinks.VIDEO_COLUMNS`), ``jsonl`` (one record per
    frame), ``save_video`` (annotated mp4, 'mp4v'), ``timeline_csv`` (+ ``<stem>_people.csv``)
    and ``timeline_png`` (written at the end; need ``interact``).

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
    if settings is None:
        settings = VideoSettings(
            csv=os.fspath(csv) if csv is not None else None,
            parquet=os.fspath(parquet) if parquet is not None else None,
            jsonl=jsonl,
            save_video=save_video,
            timeline_csv=timeline_csv,
            timeline_png=timeline_png,
            interact=interact,
            interaction_method=interaction_method,
            interaction_params=interaction_params,
            stride=stride,
            max_frames=max_frames,
            start=start,
            end=end,
            fps=fps,
            resume=resume,
            show=show,
            progress=progress,
            flush_every=flush_every,
            name=name,
            body_every=body_every,
            precise=precise,
        )
    settings.check()
    run = _VideoRun(settings, source, on_frame)
    run.build_processor(estimator, smoothing, tracker, timeline, analyzer)
    return run.run()


class _VideoRun:
    """The steps of one :func:`process_video` run, in order: :meth:`build_processor`, then
    :meth:`run` = progress bar → resume replay → open outputs → frame loop (:meth:`_frame`) →
    teardown (:meth:`_close`) → summary and timelines (:meth:`_finish`)."""

    def __init__(
        self, settings: VideoSettings, source: Any, on_frame: Callable[[FrameResult], Any] | None
    ) -> None:
        self.s = settings
        self.on_frame = on_frame
        self.reader = open_source(source, fps=settings.fps, name=settings.name)
        self.summary = VideoSummary(source=self.reader.name)
        self.summary.warnings.extend(self.reader.warnings)
        self.sinks: list[Any] = []
        self.jsonl_sink: Any = None
        self.writer: Any = None
        self.vid_path: str | None = None
        self.video_size = (0, 0)
        self.window = False
        self.bar: Any = None
        self.t_first = 0.0
        self.src_fps = self.reader.fps or DEFAULT_FPS

    def build_processor(
        self,
        estimator: Estimator | None,
        smoothing: Any,
        tracker: Any,
        timeline: Any,
        analyzer: Callable[..., Any] | None,
    ) -> None:
        """The per-frame :class:`VideoProcessor` (the source is closed if this fails)."""
        from hhpnet.video.smoothing import PoseSmoother, SmootherParams

        s = self.s
        try:
            if s.resume and self.reader.live:
                raise InputError(f"{self.reader.name}: a live source cannot be resumed")
            if estimator is None:
                from hhpnet.pipeline import HeadPoseEstimator

                estimator = HeadPoseEstimator(precise=s.precise)
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
                smoother = PoseSmoother(
                    smoothing if isinstance(smoothing, SmootherParams) else None
                )
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

        csv = self.s.csv
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
        from hhpnet.video.sinks import PARQUET_GROUP_FRAMES, CsvSink, JsonlSink, ParquetSink

        s, outputs = self.s, self.summary.outputs
        if s.csv is not None:
            self.sinks.append(CsvSink(s.csv, resume_frame=resume_frame, flush_every=s.flush_every))
            outputs["csv"] = s.csv
        if s.parquet is not None:
            initial = None
            if resume_frame is not None:
                initial = (
                    ParquetSink.read_before(s.parquet, resume_frame)
                    if os.path.isfile(s.parquet)
                    else None
                )
                if initial is None and journal is not None:
                    initial = {k: v[journal["frame"] < resume_frame] for k, v in journal.items()}
                    for c in ("valid", "ambiguous"):
                        initial[c] = initial[c].astype(bool)
            group = max(s.flush_every, PARQUET_GROUP_FRAMES)  # large groups: flat memory
            self.sinks.append(ParquetSink(s.parquet, initial=initial, flush_every=group))
            outputs["parquet"] = s.parquet
        if s.jsonl is not None:
            self.jsonl_sink = JsonlSink(
                s.jsonl, resume_frame=resume_frame, flush_every=s.flush_every
            )
            outputs["jsonl"] = os.fspath(s.jsonl)
        if s.show:
            self.window = display_available()
            if not self.window:
                print("hhpnet: no display available, running headless", file=sys.stderr)
        if s.save_video is not None:
            self.vid_path = os.fspath(s.save_video)
            if resume_frame is not None and os.path.exists(self.vid_path):
                self.vid_path = _segment_path(self.vid_path, resume_frame)
            outputs["video"] = self.vid_path

    def _frame(self, frame: Frame) -> bool:
        """Process and write one live frame; False when the user closed the window."""
        result = self.proc.step(frame)
        result.source = self.reader.name
        if self.sinks:
            cols = result.columns()
            if self.s.parquet is not None:  # the CSV's values, so a rebuild from it is the same
                cols = {c: _as_journal(c, v) for c, v in cols.items()}
            for sink in self.sinks:
                sink.write(cols)
        if self.jsonl_sink is not None:
            self.jsonl_sink.write(result.record())
        if (self.vid_path is not None or self.window) and not self._draw(result, frame):
            return False
        if self.on_frame is not None:
            self.on_frame(result)
        self._count(result, frame)
        return True

    def _draw(self, result: FrameResult, frame: Frame) -> bool:
        """Annotated frame to the video file and/or the window; False when the user quit."""
        import cv2

        annotated = _annotate(result, frame.image)
        if self.vid_path is not None:
            if self.writer is None:
                fps = self.src_fps / self.s.stride
                self.writer = _open_writer(self.vid_path, fps, annotated.shape)
                self.video_size = (annotated.shape[1], annotated.shape[0])
            if (annotated.shape[1], annotated.shape[0]) != self.video_size:
                # the source changed resolution: keep the video's size
                self.writer.write(cv2.resize(annotated, self.video_size))
            else:
                self.writer.write(annotated)
        if self.window:
            cv2.imshow("hhpnet", annotated)
            if cv2.waitKey(1) & 0xFF in (27, ord("q")):
                return False
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
        for sink in self.sinks:
            sink.close()
        if self.jsonl_sink is not None:
            self.jsonl_sink.close()
        if self.writer is not None:
            self.writer.release()
        if self.window:
            import cv2

            cv2.destroyAllWindows()
        self.reader.close()

    def _finish(self) -> None:
        """Rate, the reader's problems and warnings, tracks, and the timeline outputs."""
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
        if not self.s.interact:
            return
        tl = self.proc.timeline.finish()
        summary.timeline = tl
        if self.s.timeline_csv is not None:
            paths = tl.write_csv(self.s.timeline_csv)
            summary.outputs["timeline_csv"] = paths[0]
            summary.outputs["timeline_people_csv"] = paths[1]
        if self.s.timeline_png is not None:
            summary.outputs["timeline_png"] = tl.plot(
                self.s.timeline_png, title=f"Who looks at whom — {os.path.basename(reader.name)}"
            )


#: file name endings of the annotated video (the 'mp4v' codec) and of the timeline picture
VIDEO_OUT_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv")
PICTURE_OUT_EXTENSIONS = (".png", ".jpg", ".jpeg", ".svg", ".pdf")


def check_options(
    *,
    stride: Any = 1,
    max_frames: Any = None,
    start: Any = 0.0,
    end: Any = None,
    fps: Any = None,
    save_video: Any = None,
    timeline_png: Any = None,
) -> None:
    """Raise a one-line :class:`InputError` for options that :func:`process_video` would
    refuse (frame selection, output file types), so a caller can check before opening
    anything."""
    _check_selection(stride, max_frames, start, end)
    if fps is not None and not (
        isinstance(fps, (int, float, np.number)) and math.isfinite(fps) and 0 < fps <= 1000
    ):
        raise InputError(f"fps must be a number in (0, 1000]; got {fps}")
    for path, ok, what in (
        (save_video, VIDEO_OUT_EXTENSIONS, "the annotated video"),
        (timeline_png, PICTURE_OUT_EXTENSIONS, "the timeline picture"),
    ):
        if path is not None and os.path.splitext(os.fspath(path))[1].lower() not in ok:
            raise InputError(f"{os.fspath(path)}: {what} needs a name ending {', '.join(ok)}")


def _as_journal(name: str, values: NDArray[Any]) -> NDArray[Any]:
    from hhpnet.video.sinks import TEXT_COLUMNS, journal_values, text_values

    if name in TEXT_COLUMNS:
        return text_values(values)
    return values if values.dtype.kind in "iub" else journal_values(name, values)


def _check_selection(stride: Any, max_frames: Any, start: Any, end: Any) -> None:
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise InputError(f"stride must be an integer ≥ 1; got {stride}")
    if max_frames is not None and (
        isinstance(max_frames, bool)
        or not isinstance(max_frames, (int, np.integer))
        or max_frames < 1
    ):
        raise InputError(f"max_frames must be an integer ≥ 1; got {max_frames}")
    if not (isinstance(start, (int, float, np.number)) and math.isfinite(start) and start >= 0):
        raise InputError(f"start must be a finite number of seconds ≥ 0; got {start}")
    if end is not None and not (
        isinstance(end, (int, float, np.number)) and not math.isnan(end) and end > start
    ):
        raise InputError(f"end must be a number of seconds after start ({start}); got {end}")


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


def _open_writer(path: str, fps: float, shape: tuple[int, ...]) -> Any:
    import cv2

    from hhpnet.video.sinks import _make_parent

    _make_parent(path)
    h, w = shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*"mp4v"), float(fps), (w, h))
    if not writer.isOpened():
        raise HhpnetError(f"{path}: cannot write an mp4 video here")
    return writer
