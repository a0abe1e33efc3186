"""One video run (:func:`process_video`): options, resume, outputs (CSV / JSONL / Parquet,
annotated video, window, timelines), the frame loop and teardown; :class:`VideoSummary`."""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hhpnet.errors import HhpnetError, InputError
from hhpnet.video.processor import FrameResult, VideoProcessor
from hhpnet.video.readers import DEFAULT_FPS, Frame, FrameReader, _select_frames, open_source
from hhpnet.video.resume import _mismatch, _replay


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


def process_video(
    source: Any,
    estimator: Any = None,
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
) -> VideoSummary:
    """Process a video / webcam / stream / image sequence / frame iterable; see the module doc.

    Outputs (each optional, written while processing): ``csv`` and ``parquet`` (one row per
    person per frame, columns :data:`hhpnet.sinks.VIDEO_COLUMNS`), ``jsonl`` (one record per
    frame), ``save_video`` (annotated mp4, 'mp4v'), ``timeline_csv`` (+ ``<stem>_people.csv``)
    and ``timeline_png`` (written at the end; need ``interact``).

    Frame selection: frames whose time is in [``start``, ``end``] seconds, then every
    ``stride``-th, at most ``max_frames`` (counted from the first selected frame, also over a
    resume). ``fps`` overrides the frame rate of image sequences/generators. ``resume``:
    continue an interrupted run from its ``csv`` (required; see :mod:`hhpnet.sinks`): the frames
    before the restart point are read again and their poses taken from the CSV, so the tracker,
    smoother and timeline continue exactly as in an uninterrupted run; the annotated video
    continues in ``<stem>.from<frame>.mp4``. ``show``: a live window if a display exists (else a
    one-line notice and headless). ``progress``: a progress bar on stderr (None: only if stderr
    is a terminal). ``smoothing``: a :class:`hhpnet.smoothing.SmootherParams` or PoseSmoother;
    ``tracker``: a Tracker; ``timeline``: a TimelineBuilder; ``analyzer``: replaces
    :func:`hhpnet.interaction.analyze` (same signature). ``on_frame``: called with every
    :class:`FrameResult` of this run. ``name``: the source's name in messages.
    Ctrl-C stops cleanly: files are closed and ``interrupted`` is set.
    """
    from hhpnet.video.sinks import CsvSink, JsonlSink, ParquetSink, csv_resume_point, read_csv_rows
    from hhpnet.video.smoothing import PoseSmoother, SmootherParams

    check_options(
        stride=stride,
        max_frames=max_frames,
        start=start,
        end=end,
        fps=fps,
        save_video=save_video,
        timeline_png=timeline_png,
    )
    if (timeline_csv or timeline_png) and not interact:
        raise InputError("a timeline needs the interaction analysis (remove --no-interact)")
    if resume and csv is None:
        raise InputError("--resume needs --csv: the CSV is the journal a run resumes from")
    if flush_every < 1:
        raise InputError(f"flush_every must be ≥ 1; got {flush_every}")
    csv = os.fspath(csv) if csv is not None else None
    parquet = os.fspath(parquet) if parquet is not None else None

    reader = open_source(source, fps=fps, name=name)
    summary = VideoSummary(source=reader.name)
    summary.warnings.extend(reader.warnings)
    try:
        if resume and reader.live:
            raise InputError(f"{reader.name}: a live source cannot be resumed")
        if estimator is None:
            from hhpnet.pipeline import HeadPoseEstimator

            estimator = HeadPoseEstimator()
        if isinstance(smoothing, PoseSmoother):
            smoother = smoothing
        else:
            smoother = PoseSmoother(smoothing if isinstance(smoothing, SmootherParams) else None)
        proc = VideoProcessor(
            estimator,
            interact=interact,
            interaction_method=interaction_method,
            interaction_params=interaction_params,
            smoother=smoother,
            tracker=tracker,
            timeline=timeline,
            analyzer=analyzer,
        )
    except BaseException:
        reader.close()
        raise
    src_fps = reader.fps or DEFAULT_FPS
    proc.timeline.frame_dt = stride / src_fps
    frames = _select_frames(reader, start=start, end=end, stride=stride, max_frames=max_frames)

    sinks: list[Any] = []
    jsonl_sink = None
    t_first = 0.0
    writer = None
    video_size = (0, 0)
    window = False
    bar = None
    t_wall = time.perf_counter()
    try:
        if progress is None:
            progress = _stderr_is_terminal()
        if progress:
            from tqdm import tqdm

            bar = tqdm(
                total=_expected_frames(reader, src_fps, start, end, stride, max_frames),
                unit="frame",
                desc=os.path.basename(reader.name) or "video",
                dynamic_ncols=True,
                file=sys.stderr,
            )
        resume_frame: int | None = None
        journal: dict[str, NDArray[Any]] | None = None
        pending: Frame | None = None
        if resume and csv is not None and os.path.isfile(csv):
            resume_frame = csv_resume_point(csv)
            if resume_frame is not None:
                journal = read_csv_rows(csv)
                summary.replayed, pending = _replay(
                    proc,
                    frames,
                    journal,
                    resume_frame,
                    csv,
                    on_step=(lambda: bar.update(1)) if bar is not None else None,
                )
                if pending is None:  # the source ends before the CSV's last frame
                    raise InputError(_mismatch(csv, resume_frame))
                summary.resumed_from = resume_frame
        # the outputs are opened (a resumed file cut at the restart point) only now that the
        # source and the journal have been checked
        if csv is not None:
            sinks.append(CsvSink(csv, resume_frame=resume_frame, flush_every=flush_every))
            summary.outputs["csv"] = csv
        if parquet is not None:
            initial = None
            if resume_frame is not None:
                initial = (
                    ParquetSink.read_before(parquet, resume_frame)
                    if os.path.isfile(parquet)
                    else None
                )
                if initial is None and journal is not None:
                    initial = {k: v[journal["frame"] < resume_frame] for k, v in journal.items()}
                    initial["valid"] = initial["valid"].astype(bool)
            # one row group per 1,000 frames: the writer keeps every group's metadata until the
            # footer, so 30-frame groups grew an hour of 2-person 30 fps video by 106 MiB of RSS
            # (and 57 vs 41 MiB of file); 1,000-frame groups: 5 MiB (pyarrow 2026-11, measured)
            sinks.append(ParquetSink(parquet, initial=initial, flush_every=max(flush_every, 1000)))
            summary.outputs["parquet"] = parquet
        if jsonl is not None:
            jsonl_sink = JsonlSink(jsonl, resume_frame=resume_frame, flush_every=flush_every)
            summary.outputs["jsonl"] = os.fspath(jsonl)
        if show:
            window = display_available()
            if not window:
                print("hhpnet: no display available, running headless", file=sys.stderr)
        vid_path = None
        if save_video is not None:
            vid_path = os.fspath(save_video)
            if resume_frame is not None and os.path.exists(vid_path):
                vid_path = _segment_path(vid_path, resume_frame)
            summary.outputs["video"] = vid_path

        live = frames if pending is None else itertools.chain([pending], frames)
        for frame in live:
            result = proc.step(frame)
            result.source = reader.name
            if sinks:
                cols = result.columns()
                if parquet is not None:  # the CSV's values, so a rebuild from it is the same
                    cols = {c: _as_journal(c, v) for c, v in cols.items()}
                for s in sinks:
                    s.write(cols)
            if jsonl_sink is not None:
                jsonl_sink.write(result.record())
            if vid_path is not None or window:
                annotated = _annotate(result, frame.image)
                if vid_path is not None:
                    if writer is None:
                        writer = _open_writer(vid_path, src_fps / stride, annotated.shape)
                        video_size = (annotated.shape[1], annotated.shape[0])
                    if (annotated.shape[1], annotated.shape[0]) != video_size:
                        import cv2  # the source changed resolution: keep the video's size

                        writer.write(cv2.resize(annotated, video_size))
                    else:
                        writer.write(annotated)
                if window:
                    import cv2

                    cv2.imshow("hhpnet", annotated)
                    if cv2.waitKey(1) & 0xFF in (27, ord("q")):
                        break
            if on_frame is not None:
                on_frame(result)
            summary.frames += 1
            summary.rows += len(result.track_ids)
            if summary.first_frame is None:
                summary.first_frame = frame.index
                t_first = frame.time_s
            summary.last_frame = frame.index
            summary.video_time_s = frame.time_s - t_first + stride / src_fps
            if bar is not None:
                bar.update(1)
                bar.set_postfix(people=len(result.track_ids), refresh=False)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        if bar is not None:
            bar.close()
        for s in sinks:
            s.close()
        if jsonl_sink is not None:
            jsonl_sink.close()
        if writer is not None:
            writer.release()
        if window:
            import cv2

            cv2.destroyAllWindows()
        reader.close()
    summary.elapsed_s = time.perf_counter() - t_wall
    summary.fps = summary.frames / summary.elapsed_s if summary.elapsed_s > 0 else 0.0
    summary.error = reader.error
    unreadable = getattr(reader, "unreadable", 0)
    if unreadable and summary.error is None:  # skipped images: the run did not read everything
        total = getattr(reader, "frame_count", 0)
        summary.error = f"{reader.name}: {unreadable} of {total} image(s) unreadable (skipped)"
    summary.warnings.extend(w for w in reader.warnings if w not in summary.warnings)
    if reader.repaired_times:
        summary.warnings.append(
            f"{reader.name}: {reader.repaired_times} frame timestamp(s) missing or out of order "
            "were repaired (time_s never goes backwards; see docs/video.md)"
        )
    summary.tracks = len(proc.track_ids_seen)
    if interact:
        tl = proc.timeline.finish()
        summary.timeline = tl
        if timeline_csv is not None:
            paths = tl.write_csv(timeline_csv)
            summary.outputs["timeline_csv"] = paths[0]
            summary.outputs["timeline_people_csv"] = paths[1]
        if timeline_png is not None:
            summary.outputs["timeline_png"] = tl.plot(
                timeline_png, title=f"Who looks at whom — {os.path.basename(reader.name)}"
            )
    return summary


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
    from hhpnet.video.sinks import journal_values

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
