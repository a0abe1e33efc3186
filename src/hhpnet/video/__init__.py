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

Per frame: the estimator gives the people's poses; :class:`hhpnet.tracking.Tracker` gives each a
persistent ``track_id``; :class:`hhpnet.smoothing.PoseSmoother` filters their angles with σ as
measurement noise; :func:`hhpnet.interaction.analyze` gives who looks at whom, aggregated by
:class:`hhpnet.timeline.TimelineBuilder` into intervals. Outputs are written while processing
(:mod:`hhpnet.sinks`), so Ctrl-C or a damaged file keeps everything computed so far.

A truncated or corrupt video is processed up to the damage; the problem is returned in
``VideoSummary.error`` (one line) and the CLI exits non-zero. A source that cannot be opened
raises :class:`~hhpnet.errors.InputError` at once.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hhpnet.errors import HhpnetError, InputError
from hhpnet.keypoints import KEYPOINT_NAMES

# quiet FFmpeg's own messages ("overread", "moov atom not found"): we report problems ourselves
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

__all__ = [
    "DEFAULT_FPS",
    "Frame",
    "FrameClock",
    "FrameReader",
    "FrameResult",
    "VideoProcessor",
    "VideoSummary",
    "check_options",
    "display_available",
    "journal_poses",
    "open_source",
    "process_video",
]

#: frame rate assumed for image sequences, generators, and videos that do not state one
DEFAULT_FPS = 30.0
_ANG = ("yaw", "pitch", "roll")


def _open_capture(value: int | str, backend: int | None = None) -> Any:
    """``cv2.VideoCapture`` with OpenCV's own warnings silenced while opening (an unopenable
    source is reported by our one-line error instead of a backend log line)."""
    import cv2

    log = getattr(getattr(cv2, "utils", None), "logging", None)
    old = log.getLogLevel() if log is not None else None
    if log is not None:
        log.setLogLevel(log.LOG_LEVEL_ERROR)
    try:
        return cv2.VideoCapture(value) if backend is None else cv2.VideoCapture(value, backend)
    finally:
        if log is not None:
            log.setLogLevel(old)


# --------------------------------------------------------------------------- frame sources
@dataclass
class Frame:
    """One decoded frame: index in the source, timestamp (s), BGR uint8 image (H, W, 3)."""

    index: int
    time_s: float
    image: NDArray[Any]


class FrameClock:
    """Frame times in seconds that never go backwards, from container timestamps that may.

    Real files have B-frames, variable frame rates and missing, duplicated, negative or
    backwards timestamps. Called once per decoded frame, in decoding order, with the container
    timestamp in seconds (None when the frame has none); returns the frame's time:

    * the first frame is at 0 s; later frames keep their distance to it, so a variable frame
      rate is kept;
    * a missing or non-finite timestamp: the previous time + 1/fps;
    * a timestamp before the previous one by at most ``jump_s`` (reordering jitter) or equal
      to it (a duplicate): the previous time — the frame lasts 0 s;
    * a jump back by more than ``jump_s`` (timestamps restarting: joined recordings, a
      wrapped counter): a discontinuity; time continues at the previous time + 1/fps and
      follows the new timestamps from there on.

    ``repaired`` counts the frames whose timestamp was replaced or clamped.
    """

    def __init__(self, fps: float, jump_s: float | None = None) -> None:
        self.step = 1.0 / fps
        self.jump_s = max(0.5, 4.0 * self.step) if jump_s is None else float(jump_s)
        self.offset = 0.0
        self.prev: float | None = None
        self.repaired = 0

    def __call__(self, raw_s: float | None) -> float:
        ok = raw_s is not None and math.isfinite(raw_s)
        if self.prev is None:
            self.offset = -float(raw_s) if ok else 0.0  # type: ignore[arg-type]
            t = 0.0
        elif not ok:
            t = self.prev + self.step
            self.repaired += 1
        else:
            t = float(raw_s) + self.offset  # type: ignore[arg-type]
            if t < self.prev - self.jump_s:
                self.offset += self.prev + self.step - t
                t = self.prev + self.step
                self.repaired += 1
            elif t < self.prev:
                t = self.prev
                self.repaired += 1
        self.prev = t
        return t


class FrameReader:
    """Base class of frame sources: :meth:`grab` advances one frame and gives its index and
    time without converting it; :meth:`retrieve` converts the grabbed frame; :meth:`read` does
    both. All return None at the end (or on damage: then ``error`` is set).

    Attributes: ``name``, ``kind`` ("video", "images", "webcam", "stream", "frames"), ``fps``
    (None if unknown), ``frame_count`` (None if unknown), ``live`` (no resume), ``error``
    (one-line message if reading stopped on damage), ``warnings``, ``repaired_times`` (frames
    whose timestamp was repaired, see :class:`FrameClock`).
    """

    name: str = "frames"
    kind: str = "frames"
    live: bool = False

    def __init__(self) -> None:
        self.fps: float | None = None
        self.frame_count: int | None = None
        self.error: str | None = None
        self.warnings: list[str] = []
        self.next_index = 0
        self.repaired_times = 0

    def grab(self) -> tuple[int, float] | None:
        """Advance one frame: its (index, time in s), or None at the end."""
        raise NotImplementedError

    def retrieve(self) -> Frame | None:
        """The last grabbed frame with its image, or None if it cannot be decoded."""
        raise NotImplementedError

    def read(self) -> Frame | None:
        """Next frame, or None at the end. An undecodable frame is skipped (images) or ends
        the source (videos: ``error`` set)."""
        while self.grab() is not None:
            frame = self.retrieve()
            if frame is not None:
                return frame
            if self.error is not None:
                return None
        return None

    def skip(self) -> bool:
        """Advance one frame without converting it; False at the end."""
        return self.grab() is not None

    def seek(self, index: int) -> None:
        """Continue at frame ``index`` by grabbing the frames before it (decoded, so frame
        numbers and times are those of reading from the start)."""
        if index < self.next_index:
            raise InputError(f"{self.name}: cannot seek backwards")
        while self.next_index < index:
            if not self.skip():
                raise InputError(f"{self.name}: frame {index} is past the end of the source")

    def close(self) -> None:
        """Release the source."""

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VideoFileReader(FrameReader):
    """A video file through ``cv2.VideoCapture`` (FFmpeg); times from the container's
    timestamps (``CAP_PROP_POS_MSEC``) made monotonic by :class:`FrameClock`."""

    kind = "video"

    def __init__(self, path: str, fps: float | None = None) -> None:
        import cv2

        super().__init__()
        self.name = path
        if not os.path.isfile(path):
            raise InputError(f"{path}: no such video file")
        if os.path.getsize(path) == 0:
            raise InputError(f"{path}: empty file (0 bytes)")
        self._cap = _open_capture(path, cv2.CAP_FFMPEG)
        if not self._cap.isOpened():
            raise InputError(f"{path}: cannot open as a video (unreadable, truncated or corrupt)")
        got = _finite(self._cap.get(cv2.CAP_PROP_FPS))
        self.fps = got if 0.0 < got < 1000.0 else None
        if self.fps is None:
            self.fps = fps or DEFAULT_FPS
            self.warnings.append(f"{path}: no frame rate in the file, assuming {self.fps:g}")
        count = _finite(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = int(count) if 0 < count < 2**40 else None
        self._clock = FrameClock(self.fps)
        self._current: tuple[int, float] | None = None
        self._first: Frame | None = None
        first = self.read()
        if first is None:
            self._cap.release()
            raise InputError(f"{path}: no decodable frame (unreadable or corrupt video)")
        # replayed by the first grab()/retrieve()
        self._first, self.next_index, self._current = first, 0, None

    def _damage(self, detail: str = "") -> None:
        what = f"; {detail}" if detail else ""
        of = f" of {self.frame_count} announced" if self.frame_count else ""
        self.error = (
            f"{self.name}: decoding stopped at frame {self.next_index}{of} (truncated or "
            f"corrupt video{what}); results up to there are kept"
        )

    def _ended(self) -> None:
        # fewer frames than the container announces: damage (the count can be wrong, e.g. an
        # mp4 edit list hiding frames; docs/video.md "Damaged input")
        if self.frame_count is not None and self.next_index < self.frame_count - 1:
            self._damage()

    def grab(self) -> tuple[int, float] | None:
        import cv2

        if self._first is not None and self.next_index == 0:
            self._current = (0, self._first.time_s)
            self.next_index = 1
            return self._current
        self._first = None  # grabbed and not retrieved
        try:
            ok = self._cap.grab()
        except Exception as exc:  # cv2.error from a broken stream
            self._damage(f"decoder error ({_first_line(exc)})")
            return None
        if not ok:
            self._current = None
            self._ended()
            return None
        ms = _finite(self._cap.get(cv2.CAP_PROP_POS_MSEC), math.nan)
        # OpenCV reports a frame without timestamp as 0 ms
        raw = None if (ms == 0.0 and self.next_index > 0) or not math.isfinite(ms) else ms / 1e3
        t = self._clock(raw)
        self.repaired_times = self._clock.repaired
        self._current = (self.next_index, t)
        self.next_index += 1
        return self._current

    def retrieve(self) -> Frame | None:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        if self._current is None:
            return None
        index, t = self._current
        try:
            ok, img = self._cap.retrieve()
        except Exception as exc:
            ok, img = False, None
            self._damage(f"decoder error ({_first_line(exc)})")
        if not ok or img is None or img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            if self.error is None:
                self._damage("a frame could not be converted")
            return None
        return Frame(index, t, img)

    def close(self) -> None:
        self._cap.release()


def _finite(value: Any, default: float = 0.0) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class ImageSequenceReader(FrameReader):
    """Images read in the given order as frames at ``fps``; unreadable images are skipped
    (a warning each) and make the run's ``error`` (exit code 1, as ``hhpnet predict``)."""

    kind = "images"

    def __init__(self, paths: list[str], fps: float | None = None, name: str | None = None):
        super().__init__()
        if not paths:
            raise InputError("image sequence is empty")
        self.paths = list(paths)
        self.name = name or os.path.dirname(self.paths[0]) or self.paths[0]
        self.fps = fps or DEFAULT_FPS
        self.frame_count = len(self.paths)
        self.unreadable = 0

    def grab(self) -> tuple[int, float] | None:
        if self.next_index >= len(self.paths):
            return None
        k = self.next_index
        self.next_index += 1
        return k, k / (self.fps or DEFAULT_FPS)

    def retrieve(self) -> Frame | None:
        from hhpnet.io import bgr_to_rgb, read_image

        k = self.next_index - 1
        if k < 0:
            return None
        try:
            rgb = read_image(self.paths[k])
        except InputError as exc:
            self.warnings.append(str(exc))
            self.unreadable += 1
            return None
        return Frame(k, k / (self.fps or DEFAULT_FPS), bgr_to_rgb(rgb))  # frames are BGR

    def seek(self, index: int) -> None:
        self.next_index = max(0, min(int(index), len(self.paths)))


class CaptureReader(FrameReader):
    """A webcam (index) or a network stream (URL); timestamps from the wall clock."""

    live = True

    def __init__(self, value: int | str, fps: float | None = None) -> None:
        import cv2

        super().__init__()
        self.kind = "webcam" if isinstance(value, int) else "stream"
        self.name = f"webcam {value}" if isinstance(value, int) else str(value)
        self._cap = _open_capture(value)
        if not self._cap.isOpened():
            raise InputError(f"cannot open {self.name} (not connected, busy, or unreachable)")
        got = _finite(self._cap.get(cv2.CAP_PROP_FPS))
        self.fps = fps or (got if 0.0 < got < 1000.0 else None)
        self._t0: float | None = None
        self._current: tuple[int, float] | None = None

    def grab(self) -> tuple[int, float] | None:
        try:
            ok = self._cap.grab()
        except Exception:
            ok = False
        if not ok:
            if self.kind == "stream" and self.next_index > 0:
                self.error = f"{self.name}: stream lost after {self.next_index} frames"
            elif self.next_index == 0:
                self.error = f"{self.name}: no frame received"
            return None
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        self._current = (self.next_index, now - self._t0)
        self.next_index += 1
        return self._current

    def retrieve(self) -> Frame | None:
        if self._current is None:
            return None
        try:
            ok, img = self._cap.retrieve()
        except Exception:
            ok, img = False, None
        if not ok or img is None:
            self.error = f"{self.name}: a frame could not be decoded"
            return None
        return Frame(self._current[0], self._current[1], img)

    def close(self) -> None:
        self._cap.release()


class IterableReader(FrameReader):
    """Frames from any iterable of BGR uint8 arrays (e.g. a generator); time = index / fps."""

    def __init__(self, frames: Iterable[Any], fps: float | None = None, name: str = "frames"):
        super().__init__()
        self._it: Iterator[Any] = iter(frames)
        self.fps = fps or DEFAULT_FPS
        self.name = name
        self.frame_count = len(frames) if hasattr(frames, "__len__") else None  # type: ignore[arg-type]
        self._current: Any = None

    def grab(self) -> tuple[int, float] | None:
        try:
            self._current = next(self._it)
        except StopIteration:
            self._current = None
            return None
        self.next_index += 1
        k = self.next_index - 1
        return k, k / (self.fps or DEFAULT_FPS)

    def retrieve(self) -> Frame | None:
        if self._current is None:
            return None
        k = self.next_index - 1
        arr: NDArray[np.uint8] = np.asarray(self._current)
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
            raise InputError(
                f"frame {k}: expected a BGR uint8 (H, W, 3) array, got {arr.dtype} {arr.shape}"
            )
        return Frame(k, k / (self.fps or DEFAULT_FPS), arr)


def open_source(source: Any, *, fps: float | None = None, name: str | None = None) -> FrameReader:
    """Open ``source`` as a :class:`FrameReader`.

    ``source``: a :class:`hhpnet.sources.Source`, a SOURCE string (video file, folder or glob of
    images, webcam index, stream URL), a path, an int (webcam), a list of image paths, or an
    iterable of BGR frames. ``fps`` overrides the frame rate of image sequences and generators
    (and of videos that do not state one); ``name`` names an image sequence or iterable in
    messages. Raises :class:`InputError` at once if it cannot open.
    """
    from hhpnet.video.sources import Source, resolve

    if isinstance(source, FrameReader):
        return source
    if fps is not None and not (math.isfinite(fps) and 0 < fps <= 1000):
        raise InputError(f"fps must be a number in (0, 1000]; got {fps}")
    if isinstance(source, bool):
        raise InputError(f"unsupported video source {source!r}")
    if isinstance(source, (int, np.integer)):
        return CaptureReader(int(source), fps)
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if isinstance(source, Source):
        srcs = [source]
    elif isinstance(source, str):
        srcs = resolve([source])
    elif isinstance(source, (list, tuple)) and all(isinstance(s, (str, Source)) for s in source):
        srcs = [s if isinstance(s, Source) else Source("image", s) for s in source]
    elif isinstance(source, Iterable):
        return IterableReader(source, fps, name=name or "frames")
    else:
        raise InputError(f"unsupported video source of type {type(source).__name__}")
    if len(srcs) == 1 and srcs[0].kind != "image":
        s = srcs[0]
        if s.kind == "video":
            return VideoFileReader(str(s.value), fps)
        if s.kind == "webcam":
            return CaptureReader(int(s.value), fps)
        return CaptureReader(str(s.value), fps)
    if any(s.kind != "image" for s in srcs):
        raise InputError(f"{source}: mixes videos and images; give each video as its own SOURCE")
    if name is None:
        name = source if isinstance(source, str) else f"{len(srcs)} images"
    return ImageSequenceReader([str(s.value) for s in srcs], fps, name=name)


# --------------------------------------------------------------------------- processing
@dataclass
class FrameResult:
    """Everything computed for one frame (given to ``on_frame`` callbacks)."""

    index: int
    time_s: float
    poses: Any
    track_ids: NDArray[np.int64]
    smooth: NDArray[np.float32]  # (N, 3) degrees, NaN where invalid
    sigma_smooth: NDArray[np.float32]  # (N, 3) degrees
    interaction: Any = None
    source: str | None = None  # the source's name (for the JSON record)

    def columns(self) -> dict[str, NDArray[Any]]:
        """The rows of this frame as columns of :data:`hhpnet.sinks.VIDEO_COLUMNS`."""
        p = self.poses
        n = len(self.track_ids)
        kp = np.asarray(p.keypoints, np.float32).reshape(n, 5, 3)
        box = np.asarray(p.boxes, np.float32).reshape(n, 4)
        sig = np.asarray(p.sigma, np.float32).reshape(n, 3)
        cols: dict[str, NDArray[Any]] = {
            "frame": np.full(n, self.index, np.int64),
            "time_s": np.full(n, self.time_s, np.float64),
            "track_id": self.track_ids,
            "x1": box[:, 0],
            "y1": box[:, 1],
            "x2": box[:, 2],
            "y2": box[:, 3],
            "score": np.asarray(p.scores, np.float32).reshape(n),
        }
        for k, name in enumerate(KEYPOINT_NAMES):
            for c, comp in enumerate(("x", "y", "c")):
                cols[f"{name}_{comp}"] = kp[:, k, c]
        for a, ang in enumerate(_ANG):
            cols[ang] = np.asarray(getattr(p, ang), np.float32).reshape(n)
            cols[f"sigma_{ang}"] = sig[:, a]
            cols[f"{ang}_smooth"] = self.smooth[:, a]
            cols[f"sigma_{ang}_smooth"] = self.sigma_smooth[:, a]
        cols["valid"] = np.asarray(p.valid, bool).reshape(n).astype(np.int64)
        return cols

    def smoothed_poses(self) -> Any:
        """The poses with the smoothed angles and σ where available (for drawing)."""
        if not dataclasses.is_dataclass(self.poses) or len(self.track_ids) == 0:
            return self.poses
        p: Any = self.poses
        ok = np.asarray(np.isfinite(self.smooth).all(axis=1))[:, None]
        raw = np.stack([np.asarray(getattr(p, a), np.float32) for a in _ANG], 1)
        angles = np.where(ok, self.smooth, raw)
        sigma = np.where(ok, self.sigma_smooth, np.asarray(p.sigma, np.float32))
        return dataclasses.replace(
            p,
            yaw=angles[:, 0].astype(np.float32),
            pitch=angles[:, 1].astype(np.float32),
            roll=angles[:, 2].astype(np.float32),
            sigma=sigma.astype(np.float32),
        )

    def record(self) -> dict[str, Any]:
        """JSON record: the image record of ``Poses.to_dict()`` + frame, time, ids, smoothed."""
        rec: dict[str, Any] = {"frame": self.index, "time_s": round(self.time_s, 4)}
        base = self.poses.to_dict() if hasattr(self.poses, "to_dict") else {"people": []}
        rec.update(base)
        if rec.get("source") is None and self.source is not None:
            rec["source"] = self.source
        for k, person in enumerate(rec.get("people", [])):
            person["track_id"] = int(self.track_ids[k])
            person["smooth"] = {
                **{a: _num(self.smooth[k, i]) for i, a in enumerate(_ANG)},
                "sigma": {a: _num(self.sigma_smooth[k, i]) for i, a in enumerate(_ANG)},
            }
        if self.interaction is not None and hasattr(self.interaction, "to_dict"):
            rec["interaction"] = self.interaction.to_dict()
        return rec


def _num(v: Any, nd: int = 3) -> float | None:
    f = float(v)
    return round(f, nd) if np.isfinite(f) else None


class VideoProcessor:
    """Stateful per-frame processing: estimate → track → smooth → interact → timeline.

    ``estimator``: callable ``estimator(bgr_image) -> Poses`` (a
    :class:`hhpnet.pipeline.HeadPoseEstimator`). Interaction needs :mod:`hhpnet.interaction`.
    """

    def __init__(
        self,
        estimator: Callable[[Any], Any],
        *,
        interact: bool = True,
        interaction_method: str = "hhpnet",
        interaction_params: dict[str, Any] | None = None,
        smoother: Any = None,
        tracker: Any = None,
        timeline: Any = None,
        analyzer: Callable[..., Any] | None = None,
    ) -> None:
        from hhpnet.video.smoothing import PoseSmoother
        from hhpnet.video.timeline import TimelineBuilder
        from hhpnet.video.tracking import Tracker

        self.estimator = estimator
        self.tracker = tracker if tracker is not None else Tracker()
        self.smoother = smoother if smoother is not None else PoseSmoother()
        self.interact = interact
        self.interaction_method = interaction_method
        self.interaction_params = dict(interaction_params or {})
        self.timeline = timeline if timeline is not None else TimelineBuilder()
        # our own timeline follows the analyzer's decision threshold (read on the first frame)
        self._auto_threshold = timeline is None
        self.track_ids_seen: set[int] = set()
        self._analyze: Callable[..., Any] | None = analyzer if interact else None
        if interact and analyzer is None:
            try:
                from hhpnet.interaction import analyze
            except ImportError as exc:
                raise HhpnetError(
                    "interaction analysis is not available in this installation (--no-interact)"
                ) from exc
            self._analyze = analyze

    def step(self, frame: Frame) -> FrameResult:
        """Process one frame: estimate, round to the journal's precision (see
        :func:`journal_poses`), then :meth:`process_poses`."""
        poses = self.estimator(frame.image)
        h, w = frame.image.shape[:2]
        return self.process_poses(frame.index, frame.time_s, journal_poses(poses, (w, h)))

    def process_poses(self, index: int, t: float, poses: Any) -> FrameResult:
        """Track, smooth and analyse already-estimated poses of one frame."""
        n = len(poses)
        kp = np.asarray(poses.keypoints, np.float32).reshape(n, 5, 3)
        ids = self.tracker.update(np.asarray(poses.boxes, np.float32).reshape(n, 4), kp, t)
        self.smoother.forget(self.tracker.ended)
        self.smoother.prune(t)
        angles = np.stack([np.asarray(getattr(poses, a), np.float32).reshape(n) for a in _ANG], 1)
        sig = np.asarray(poses.sigma, np.float32).reshape(n, 3)
        valid = np.asarray(poses.valid, bool).reshape(n) & (ids >= 0)
        smooth = np.full((n, 3), np.nan, np.float32)
        sig_s = np.full((n, 3), np.nan, np.float32)
        keep = ids >= 0
        if keep.any():
            s, ss = self.smoother.update(ids[keep], angles[keep], sig[keep], t, valid[keep])
            smooth[keep], sig_s[keep] = s, ss
        self.track_ids_seen.update(int(i) for i in ids[keep])
        inter = None
        if self._analyze is not None:
            inter = self._analyze(poses, method=self.interaction_method, **self.interaction_params)
            att = _matrix(getattr(inter, "attention", None), n)
            thr = (getattr(inter, "params", None) or {}).get("threshold")
            if self._auto_threshold and isinstance(thr, (int, float)):
                self.timeline.threshold = float(thr)
                self._auto_threshold = False
            if att is not None:
                self.timeline.add(
                    t,
                    ids,
                    att,
                    matrix=_matrix(getattr(inter, "matrix", None), n),
                    mutual=_mutual_mask(getattr(inter, "mutual", None), n),
                    valid=np.asarray(poses.valid, bool).reshape(n),
                )
        return FrameResult(index, t, poses, ids, smooth, sig_s, inter)


def _matrix(value: Any, n: int) -> NDArray[np.float64] | None:
    if value is None:
        return None
    a = np.asarray(value, dtype=np.float64)
    return a if a.shape == (n, n) else None


def _mutual_mask(value: Any, n: int) -> NDArray[np.bool_] | None:
    """Interaction ``mutual`` as an (n, n) mask: accepts a bool matrix or a list of index pairs."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
    if arr.shape == (n, n) and arr.dtype != object:
        return arr.astype(bool)
    mask = np.zeros((n, n), bool)
    try:
        for pair in value:
            if isinstance(pair, dict):
                d: dict[str, Any] = pair
                i, j = int(d.get("i", d.get("a", -1))), int(d.get("j", d.get("b", -1)))
            else:
                i, j = int(pair[0]), int(pair[1])
            if 0 <= i < n and 0 <= j < n:
                mask[i, j] = mask[j, i] = True
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    return mask


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


def _rows_by_frame(rows: dict[str, NDArray[Any]]) -> dict[int, NDArray[np.int64]]:
    """Row indices of every frame of the journal, in file order."""
    frames = rows["frame"]
    order = np.argsort(frames, kind="stable")
    uniq, starts = np.unique(frames[order], return_index=True)
    bounds = [*starts.tolist(), len(order)]
    return {int(f): order[bounds[k] : bounds[k + 1]] for k, f in enumerate(uniq)}


_POSE_COLUMNS = (
    "x1",
    "y1",
    "x2",
    "y2",
    "score",
    *(f"{k}_{c}" for k in KEYPOINT_NAMES for c in ("x", "y", "c")),
    *_ANG,
    *(f"sigma_{a}" for a in _ANG),
)


def _poses_from_rows(
    rows: dict[str, NDArray[Any]], idx: Any, image_size: tuple[int, int] | None
) -> Any:
    """A Poses of one frame from journal columns (rows ``idx``)."""
    from hhpnet.keypoints import head_size
    from hhpnet.pipeline import Poses, _centroids

    kp = np.stack(
        [np.stack([rows[f"{k}_{c}"][idx] for c in ("x", "y", "c")], -1) for k in KEYPOINT_NAMES],
        1,
    ).astype(np.float32)
    kp = np.nan_to_num(kp, nan=0.0)
    return Poses(
        boxes=np.stack([rows[c][idx] for c in ("x1", "y1", "x2", "y2")], 1).astype(np.float32),
        scores=np.asarray(rows["score"][idx], np.float32),
        keypoints=kp,
        yaw=np.asarray(rows["yaw"][idx], np.float32),
        pitch=np.asarray(rows["pitch"][idx], np.float32),
        roll=np.asarray(rows["roll"][idx], np.float32),
        sigma=np.stack([rows[f"sigma_{a}"][idx] for a in _ANG], 1).astype(np.float32),
        valid=np.asarray(rows["valid"][idx]).astype(bool),
        centroid=_centroids(kp),
        head_size=head_size(kp),
        image_size=image_size,
    )


def journal_poses(poses: Any, image_size: tuple[int, int] | None) -> Any:
    """``poses`` as they read back from the CSV journal: every value rounded to the CSV's
    decimals (0.001 px / 0.001° / 1e-4 for scores), centroid and head size recomputed.

    The video pipeline tracks, smooths and analyses these values, so that ``--resume``, which
    replays the CSV, continues from the very same tracker, smoother and timeline state as an
    uninterrupted run (identical rows and timeline, not just close)."""
    from hhpnet.keypoints import head_size
    from hhpnet.pipeline import Poses, _centroids
    from hhpnet.video.sinks import journal_values

    n = len(poses)
    if n == 0:
        return Poses.empty(image_size)

    def q(name: str, value: Any, shape: tuple[int, ...]) -> NDArray[np.float32]:
        a = np.asarray(value, np.float32).reshape(shape)
        return journal_values(name, a).astype(np.float32)

    kp = np.asarray(poses.keypoints, np.float32).reshape(n, 5, 3)
    kp = np.concatenate(
        [q("nose_x", kp[..., :2], (n, 5, 2)), q("nose_c", kp[..., 2:], (n, 5, 1))], -1
    )
    kp = np.nan_to_num(kp, nan=0.0)
    return Poses(
        boxes=q("x1", poses.boxes, (n, 4)),
        scores=q("score", poses.scores, (n,)),
        keypoints=kp,
        yaw=q("yaw", poses.yaw, (n,)),
        pitch=q("pitch", poses.pitch, (n,)),
        roll=q("roll", poses.roll, (n,)),
        sigma=q("sigma_yaw", poses.sigma, (n, 3)),
        valid=np.asarray(poses.valid, bool).reshape(n).copy(),
        centroid=_centroids(kp),
        head_size=head_size(kp),
        image_size=image_size,
        detector=getattr(poses, "detector", None),
    )


def _select_frames(
    reader: FrameReader,
    *,
    start: float,
    end: float | None,
    stride: int,
    max_frames: int | None,
) -> Iterator[Frame]:
    """The frames a run processes: time in [start, end] (seconds of the repaired clock), then
    every ``stride``-th, at most ``max_frames``. Frames not taken are grabbed, not converted."""
    taken = 0
    while max_frames is None or taken < max_frames:
        got = reader.grab()
        if got is None:
            return
        _index, t = got
        if t < start - 1e-6:
            continue
        if end is not None and t > end + 1e-6:
            return
        frame = reader.retrieve()
        if frame is None:
            if reader.error is not None:
                return
            continue  # an unreadable image of a sequence (warned): the next one
        yield frame
        taken += 1
        for _ in range(stride - 1):
            if reader.grab() is None:
                return


def _replay(
    proc: VideoProcessor,
    frames: Iterator[Frame],
    journal: dict[str, NDArray[Any]],
    resume_frame: int,
    csv: str,
    on_step: Callable[[], None] | None = None,
) -> tuple[int, Frame | None]:
    """Re-run the frames before ``resume_frame`` with the poses of the CSV journal instead of
    the estimator: tracker, smoother and timeline end in the state of an uninterrupted run.

    Returns (frames replayed, the first frame at or after the restart point or None)."""
    from hhpnet.pipeline import Poses

    by_frame = {f: ix for f, ix in _rows_by_frame(journal).items() if f < resume_frame}
    count = 0
    pending: Frame | None = None
    for frame in frames:
        if frame.index >= resume_frame:
            pending = frame
            break
        h, w = frame.image.shape[:2]
        ix = by_frame.pop(frame.index, None)
        poses = Poses.empty((w, h)) if ix is None else _poses_from_rows(journal, ix, (w, h))
        result = proc.process_poses(frame.index, frame.time_s, poses)
        if ix is not None and result.track_ids.tolist() != journal["track_id"][ix].tolist():
            raise InputError(_mismatch(csv, frame.index))
        count += 1
        if on_step is not None:
            on_step()
    if by_frame:  # frames of the journal that this run does not process
        raise InputError(_mismatch(csv, min(by_frame)))
    return count, pending


def _mismatch(csv: str, frame: int) -> str:
    return (
        f"{csv}: cannot resume: the CSV does not match this source and these options at frame "
        f"{frame} (use the SOURCE, --stride, --start and --end of the first run, or run "
        "again without --resume)"
    )


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
