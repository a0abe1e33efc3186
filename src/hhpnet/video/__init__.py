"""Video, webcam and stream processing: frames → poses → tracks → smoothing → interaction → files.

Library entry point::

    from hhpnet import HeadPoseEstimator
    from hhpnet.video import process_video
    summary = process_video("meeting.mp4", HeadPoseEstimator(),
                            csv="meeting.csv", save_video="meeting_annotated.mp4",
                            timeline_png="meeting_timeline.png")

Sources (:func:`open_source`): a video file (decoded with OpenCV's FFmpeg backend, timestamps
from the container), a folder / glob / list of images (an image sequence at ``fps``, default
30), a webcam index (``0``), an ``rtsp://`` / ``http(s)://`` stream, or any iterable of BGR
``uint8`` frames (generator source, timestamps index / ``fps``).

Per frame: the estimator gives the people's poses; :class:`~.tracking.Tracker` gives each a
persistent ``track_id``; :class:`~.smoothing.PoseSmoother` filters their angles with σ as
measurement noise; :func:`hhpnet.interaction.analyze` gives who looks at whom, aggregated by
:class:`hhpnet.video.timeline.TimelineBuilder` into intervals. Outputs are written while processing
(:mod:`hhpnet.video.sinks`), so Ctrl-C or a damaged file keeps everything computed so far.

A truncated or corrupt video is processed up to the damage; the problem is returned in
``VideoSummary.error`` (one line) and the CLI exits non-zero. A source that cannot be opened
raises :class:`~hhpnet.errors.InputError` at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hhpnet.video.outputs import PICTURE_OUT_EXTENSIONS, VIDEO_OUT_EXTENSIONS
    from hhpnet.video.processor import (
        FrameResult,
        VideoProcessor,
        journal_poses,
    )
    from hhpnet.video.readers import (
        DEFAULT_FPS,
        CaptureReader,
        Frame,
        FrameClock,
        FrameReader,
        ImageSequenceReader,
        IterableReader,
        VideoFileReader,
        open_source,
    )
    from hhpnet.video.run import VideoSummary, display_available, process_video
    from hhpnet.video.settings import VideoSettings, check_options

# public name -> submodule that defines it (imported on first access: ``import hhpnet.video``
# and the sub-modules that only need one part stay light)
_WHERE = {
    "FrameResult": "processor",
    "VideoProcessor": "processor",
    "journal_poses": "processor",
    "DEFAULT_FPS": "readers",
    "CaptureReader": "readers",
    "Frame": "readers",
    "FrameClock": "readers",
    "FrameReader": "readers",
    "ImageSequenceReader": "readers",
    "IterableReader": "readers",
    "VideoFileReader": "readers",
    "open_source": "readers",
    "PICTURE_OUT_EXTENSIONS": "outputs",
    "VIDEO_OUT_EXTENSIONS": "outputs",
    "VideoSettings": "settings",
    "VideoSummary": "run",
    "check_options": "settings",
    "display_available": "run",
    "process_video": "run",
}

__all__ = [
    "DEFAULT_FPS",
    "PICTURE_OUT_EXTENSIONS",
    "VIDEO_OUT_EXTENSIONS",
    "CaptureReader",
    "Frame",
    "FrameClock",
    "FrameReader",
    "FrameResult",
    "ImageSequenceReader",
    "IterableReader",
    "VideoFileReader",
    "VideoProcessor",
    "VideoSettings",
    "VideoSummary",
    "check_options",
    "display_available",
    "journal_poses",
    "open_source",
    "process_video",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'hhpnet.video' has no attribute {name!r}")
    return getattr(importlib.import_module(f"hhpnet.video.{module}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
