"""Frame times of every kind of source, against the clock each one documents.

Generators, lists of frames and image sequences: frame k is at k / fps (``fps`` given, or 30 by
default); video files: the container's timestamps (here a constant frame rate: k / fps);
webcams and streams: the wall clock since the first frame (a fake capture and a scripted clock).
Each is checked where a run reads it: :meth:`grab` (the time that selects frames for
``start``/``end``, without decoding) and the decoded :class:`Frame`, and through
``process_video``'s time window.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import hhpnet.video.readers as readers
from hhpnet.video import open_source, process_video
from tests.helpers.video_fakes import draw_people, write_video

FPS = 12.5
N = 6


def _frames(n: int = N) -> list[np.ndarray]:
    return [draw_people(160, 120, [(40 + 5 * k, 60, 0.0)]) for k in range(n)]


def _grab_times(reader: Any) -> list[tuple[int, float]]:
    out = []
    while (got := reader.grab()) is not None:
        out.append((got[0], round(got[1], 6)))
    return out


def _read_times(reader: Any) -> list[tuple[int, float]]:
    out = []
    while (frame := reader.read()) is not None:
        out.append((frame.index, round(frame.time_s, 6)))
    return out


def _image_folder(tmp_path: Path) -> str:
    for k, f in enumerate(_frames()):
        cv2.imwrite(str(tmp_path / f"f{k:03d}.png"), f)
    return str(tmp_path)


SOURCES = {
    "generator": lambda tmp: (f for f in _frames()),
    "list of frames": lambda tmp: _frames(),
    "image folder": _image_folder,
    "video file": lambda tmp: write_video(str(tmp / "clip.avi"), _frames(), FPS, "MJPG"),
}


@pytest.mark.parametrize("kind", list(SOURCES))
def test_frame_k_is_at_k_over_fps_when_grabbed_and_when_decoded(kind, tmp_path):
    expected = [(k, round(k / FPS, 6)) for k in range(N)]
    fps = None if kind == "video file" else FPS  # a video states its own rate
    assert _grab_times(open_source(SOURCES[kind](tmp_path), fps=fps)) == expected
    assert _read_times(open_source(SOURCES[kind](tmp_path), fps=fps)) == expected


@pytest.mark.parametrize("kind", ["generator", "image folder"])
def test_default_rate_is_30_fps(kind, tmp_path):
    reader = open_source(SOURCES[kind](tmp_path))
    assert reader.fps == 30.0
    assert _read_times(reader) == [(k, round(k / 30.0, 6)) for k in range(N)]


@pytest.mark.parametrize("kind", list(SOURCES))
def test_the_time_window_selects_frames_by_their_time(kind, tmp_path, estimator):
    """start = 0.16 s, end = 0.33 s at 12.5 fps (frames every 0.08 s): frames 2, 3 and 4."""
    seen: list[tuple[int, float]] = []
    fps = None if kind == "video file" else FPS
    process_video(
        SOURCES[kind](tmp_path),
        estimator(),
        interact=False,
        progress=False,
        fps=fps,
        start=0.16,
        end=0.33,
        on_frame=lambda r: seen.append((r.index, round(r.time_s, 3))),
    )
    assert seen == [(2, 0.16), (3, 0.24), (4, 0.32)]


class _FakeCapture:
    """Stands in for ``cv2.VideoCapture`` of a webcam or stream: ``n`` frames, a stated fps."""

    def __init__(self, n: int, fps: float) -> None:
        self.frames = _frames(n)
        self.fps = fps
        self.k = -1

    def isOpened(self) -> bool:
        return True

    def get(self, prop: int) -> float:
        return self.fps if prop == cv2.CAP_PROP_FPS else 0.0

    def grab(self) -> bool:
        self.k += 1
        return self.k < len(self.frames)

    def retrieve(self) -> tuple[bool, np.ndarray]:
        return True, self.frames[self.k]

    def release(self) -> None:
        pass


@pytest.mark.parametrize("value", [0, "rtsp://camera.example/live"])
def test_webcam_and_stream_times_follow_the_wall_clock(value, monkeypatch):
    """A live source's frame time is the monotonic clock at grab minus that of the first frame
    (not k / fps: a camera drops and delays frames)."""
    clock = iter([500.0, 500.04, 500.10, 500.25, 500.26])
    monkeypatch.setattr(readers, "_open_capture", lambda v, backend=None: _FakeCapture(5, 25.0))
    monkeypatch.setattr(readers, "time", types.SimpleNamespace(monotonic=lambda: next(clock)))
    reader = open_source(value)
    assert reader.live and reader.kind == ("webcam" if value == 0 else "stream")
    assert reader.fps == 25.0
    times = _read_times(reader)
    assert times == [(0, 0.0), (1, 0.04), (2, 0.1), (3, 0.25), (4, 0.26)]
