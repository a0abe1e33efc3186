"""Frame sources of the video pipeline: video files, image sequences, webcams and streams,
and iterables of frames, each with a repaired clock (:func:`open_source`); frame selection
(time range, stride, frame limit)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from hhpnet.errors import InputError

if TYPE_CHECKING:
    import cv2

# quiet FFmpeg's own messages ("overread", "moov atom not found"): we report problems ourselves
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

#: frame rate assumed for image sequences, generators, and videos that do not state one
DEFAULT_FPS = 30.0


def _open_capture(value: int | str, backend: int | None = None) -> cv2.VideoCapture:
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

    def final_error(self) -> str | None:
        """What the run must report as failed once the source is read (None: nothing):
        :attr:`error` (which also stops reading), or what a reader skipped and counted."""
        return self.error

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


#: decoded frames' times may fall this many frame intervals short of the announced end and
#: still count as reaching it (rounding of container timestamps)
SPAN_SLACK_FRAMES = 1.5


def shortfall_tolerance(count: int, fps: float) -> int:
    """How many of ``count`` announced frames may be missing at a normal end: 2 frames, or 2 %
    of the count, but no more than one second of video beyond those 2 frames."""
    return max(2, min(round(0.02 * count), round(fps)))


def end_is_truncated(decoded: int, count: int, fps: float, span: float | None) -> bool:
    """Whether a video whose decoder stopped without an error after ``decoded`` of ``count``
    announced frames is truncated (docs/errors.md, "The end of a video").

    It is not when the decoded frames' timestamps reach the announced end (``span`` = last −
    first frame time in frame intervals, None if unknown, at least ``count − 1 −``
    :data:`SPAN_SLACK_FRAMES`): the missing entries are gaps in time — AVI headers count
    dropped-frame chunks, variable-rate files hold fewer frames than duration × rate — and
    nothing after the last frame is lost. Otherwise it is when more than
    :func:`shortfall_tolerance` frames are missing: a file cut short loses frames in proportion
    to the bytes lost, while a header that merely miscounts (encoder delay, an edit list) is off
    by a frame or two.
    """
    if decoded >= count:
        return False
    if span is not None and span >= count - 1 - SPAN_SLACK_FRAMES:
        return False
    return count - decoded > shortfall_tolerance(count, fps)


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
        # container times (s) of the first and last decoded frames: they tell a normal end
        # with dropped-frame entries in the count from a truncated file (_ended)
        self._first_raw: float | None = None
        self._last_raw: float | None = None
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
        """The decoder found no further frame (no error raised): a normal end, or truncation
        when too many of the announced frames are missing (:func:`end_is_truncated`)."""
        decoded, count = self.next_index, self.frame_count
        if count is None or decoded >= count:
            return
        span = None
        if self._first_raw is not None and self._last_raw is not None and self.fps:
            span = (self._last_raw - self._first_raw) * self.fps  # in frame intervals
        if end_is_truncated(decoded, count, self.fps or DEFAULT_FPS, span):
            self._damage()
        elif span is None or span < count - 1 - SPAN_SLACK_FRAMES:
            # fewer frames and no time gaps to account for them: the count is off
            self.warnings.append(
                f"{self.name}: the video ended at frame {decoded} of {count} announced (the "
                "container's count is off; treated as its normal end)"
            )

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
        if raw is not None:
            if self._first_raw is None:
                self._first_raw = raw
            self._last_raw = raw
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


def _finite(value: float, default: float = 0.0) -> float:
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

    def final_error(self) -> str | None:
        """Skipped images make the run's error (exit 1, as ``hhpnet predict``)."""
        if self.error is None and self.unreadable:
            n, total = self.unreadable, self.frame_count
            return f"{self.name}: {n} of {total} image(s) unreadable (skipped)"
        return self.error

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

    def __init__(self, frames: Iterable[object], fps: float | None = None, name: str = "frames"):
        super().__init__()
        self._it: Iterator[object] = iter(frames)
        self.fps = fps or DEFAULT_FPS
        self.name = name
        self.frame_count = len(frames) if hasattr(frames, "__len__") else None  # type: ignore[arg-type]
        self._current: object = None

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


def open_source(
    source: object, *, fps: float | None = None, name: str | None = None
) -> FrameReader:
    """Open ``source`` as a :class:`FrameReader`.

    ``source``: a :class:`~.sources.Source`, a SOURCE string (video file, folder or glob of
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
