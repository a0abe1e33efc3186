"""The writers of a video run's output formats (:mod:`hhpnet.video.outputs` registers them):
the per-frame table (CSV, Parquet), JSON Lines, the annotated video and the timelines.

A :class:`Writer` is opened with its file's path and the run's :class:`RunInfo` (a resumed run
gives the frame it restarts at and the CSV journal's rows), gets every processed frame as a
:class:`FrameOutput` (:meth:`Writer.write`), is closed (also on Ctrl-C or an error) and then
asked for its end-of-run files (:meth:`Writer.finish`, given the interaction timeline).
``outputs`` holds the files written so far, summary key → path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from hhpnet.errors import HhpnetError

if TYPE_CHECKING:
    import cv2

    from hhpnet.poses import Column
    from hhpnet.video.processor import FrameResult
    from hhpnet.video.timeline import Timeline


@dataclass(frozen=True)
class RunInfo:
    """What a writer knows of its run: ``source`` (the source's name), ``fps`` (frames per
    second of the output: the source's rate ÷ stride), ``flush_every`` (frames per flush),
    ``resume_frame`` (a resumed run restarts at this source frame; None otherwise) and
    ``journal`` (then the CSV journal's columns, :func:`hhpnet.video.sinks.read_csv_rows`)."""

    source: str = ""
    fps: float = 30.0
    flush_every: int = 1
    resume_frame: int | None = None
    journal: Mapping[str, NDArray[Any]] | None = None


@dataclass
class FrameOutput:
    """One processed frame as the writers take it: ``result`` and the BGR ``image``; the
    table's columns, the JSON record and the annotated picture are computed once, when a
    writer first asks."""

    result: FrameResult
    image: NDArray[np.uint8]

    @cached_property
    def columns(self) -> dict[str, Column]:
        """The frame's rows (:data:`hhpnet.video.sinks.VIDEO_COLUMNS`)."""
        return self.result.columns()

    @cached_property
    def journal_columns(self) -> dict[str, Column]:
        """The rows as they read back from the CSV journal (what a resumed run replays)."""
        return {c: _as_journal(c, v) for c, v in self.columns.items()}

    @cached_property
    def record(self) -> dict[str, object]:
        """The frame's JSON record (:meth:`hhpnet.video.FrameResult.record`)."""
        return self.result.record()

    @cached_property
    def annotated(self) -> NDArray[np.uint8]:
        """The frame with the smoothed axes, σ fans and track ids drawn (BGR)."""
        return annotate_frame(self.result, self.image)


class Writer:
    """One output of a run (see the module docstring); the defaults do nothing."""

    def __init__(self, path: str, run: RunInfo) -> None:
        self.path = path
        self.run = run
        self.outputs: dict[str, str] = {}

    def write(self, frame: FrameOutput) -> None:
        """Write one processed frame."""

    def close(self) -> None:
        """Flush and close (called once, also after an interruption or an error)."""

    def finish(self, timeline: Timeline | None) -> dict[str, str]:
        """Write the end-of-run files (after :meth:`close`; ``timeline``: the interaction
        timeline, None without the analysis); returns them, summary key → path."""
        return {}


class CsvOutput(Writer):
    """The per-person-per-frame CSV (:class:`hhpnet.video.sinks.CsvSink`), the run's journal."""

    def __init__(self, path: str, run: RunInfo) -> None:
        from hhpnet.video.sinks import CsvSink

        super().__init__(path, run)
        self.sink = CsvSink(path, resume_frame=run.resume_frame, flush_every=run.flush_every)
        self.outputs["csv"] = path

    def write(self, frame: FrameOutput) -> None:
        self.sink.write(frame.columns)

    def close(self) -> None:
        self.sink.close()


class ParquetOutput(Writer):
    """The same rows as Parquet (:class:`hhpnet.video.sinks.ParquetSink`), with the CSV's
    values, so a rebuild from the journal is the same; resumed: the rows before the restart
    from the old file if it is readable, else from the journal."""

    def __init__(self, path: str, run: RunInfo) -> None:
        from hhpnet.video.sinks import PARQUET_GROUP_FRAMES, ParquetSink

        super().__init__(path, run)
        initial = None
        if run.resume_frame is not None:
            start = run.resume_frame
            initial = ParquetSink.read_before(path, start) if os.path.isfile(path) else None
            if initial is None and run.journal is not None:
                initial = {k: v[run.journal["frame"] < start] for k, v in run.journal.items()}
                for c in ("valid", "ambiguous"):
                    initial[c] = initial[c].astype(bool)
        group = max(run.flush_every, PARQUET_GROUP_FRAMES)  # large groups: flat memory
        self.sink = ParquetSink(path, initial=initial, flush_every=group)
        self.outputs["parquet"] = path

    def write(self, frame: FrameOutput) -> None:
        self.sink.write(frame.journal_columns)

    def close(self) -> None:
        self.sink.close()


class JsonlOutput(Writer):
    """One JSON record per frame (:class:`hhpnet.video.sinks.JsonlSink`)."""

    def __init__(self, path: str, run: RunInfo) -> None:
        from hhpnet.video.sinks import JsonlSink

        super().__init__(path, run)
        self.sink = JsonlSink(path, resume_frame=run.resume_frame, flush_every=run.flush_every)
        self.outputs["jsonl"] = path

    def write(self, frame: FrameOutput) -> None:
        self.sink.write(frame.record)

    def close(self) -> None:
        self.sink.close()


class VideoOutput(Writer):
    """The annotated video ('mp4v', the output frame rate, the first frame's size; a later
    frame of another size is resized). A resumed run whose video exists continues in
    ``<stem>.from<frame>.mp4``."""

    def __init__(self, path: str, run: RunInfo) -> None:
        super().__init__(path, run)
        if run.resume_frame is not None and os.path.exists(path):
            stem, ext = os.path.splitext(path)
            self.path = f"{stem}.from{run.resume_frame}{ext or '.mp4'}"
        self.writer: Any = None
        self.size = (0, 0)
        self.outputs["video"] = self.path

    def write(self, frame: FrameOutput) -> None:
        import cv2

        annotated = frame.annotated
        if self.writer is None:
            self.writer = _open_video(self.path, self.run.fps, annotated.shape)
            self.size = (annotated.shape[1], annotated.shape[0])
        if (annotated.shape[1], annotated.shape[0]) != self.size:
            # the source changed resolution: keep the video's size
            self.writer.write(cv2.resize(annotated, self.size))
        else:
            self.writer.write(annotated)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()


class TimelineCsvOutput(Writer):
    """The interaction intervals (+ ``<stem>_people.csv`` totals), written at the end."""

    def finish(self, timeline: Timeline | None) -> dict[str, str]:
        if timeline is None:
            return {}
        paths = timeline.write_csv(self.path)
        return {"timeline_csv": paths[0], "timeline_people_csv": paths[1]}


class TimelinePngOutput(Writer):
    """The timeline picture, one row per pair, written at the end."""

    def finish(self, timeline: Timeline | None) -> dict[str, str]:
        if timeline is None:
            return {}
        title = f"Who looks at whom — {os.path.basename(self.run.source)}"
        return {"timeline_png": timeline.plot(self.path, title=title)}


def annotate_frame(result: FrameResult, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """``image`` with the frame's smoothed poses and track ids (``#id`` under each box)."""
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


def _as_journal(name: str, values: Column) -> Column:
    from hhpnet.video.sinks import TEXT_COLUMNS, journal_values, text_values

    if name in TEXT_COLUMNS:
        return text_values(values)
    return values if values.dtype.kind in "iub" else journal_values(name, values)


def _open_video(path: str, fps: float, shape: tuple[int, ...]) -> cv2.VideoWriter:
    import cv2

    from hhpnet.video.sinks import _make_parent

    _make_parent(path)
    h, w = shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*"mp4v"), float(fps), (w, h))
    if not writer.isOpened():
        raise HhpnetError(f"{path}: cannot write an mp4 video here")
    return writer
