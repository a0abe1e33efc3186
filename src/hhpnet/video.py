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
    "FrameReader",
    "FrameResult",
    "VideoProcessor",
    "VideoSummary",
    "display_available",
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


class FrameReader:
    """Base class of frame sources. Iterate with :meth:`read` until it returns None.

    Attributes: ``name``, ``kind`` ("video", "images", "webcam", "stream", "frames"), ``fps``
    (None if unknown), ``frame_count`` (None if unknown), ``live`` (no seeking / resume),
    ``error`` (one-line message if reading stopped on damage), ``warnings``.
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

    def read(self) -> Frame | None:
        """Next frame, or None at the end (or on damage: then ``error`` is set)."""
        raise NotImplementedError

    def skip(self) -> bool:
        """Advance one frame without returning it (cheaper when the source allows)."""
        return self.read() is not None

    def seek(self, index: int) -> None:
        """Continue at frame ``index`` (default: read and drop frames)."""
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
    """A video file through ``cv2.VideoCapture`` (FFmpeg). Timestamps: ``CAP_PROP_POS_MSEC``."""

    kind = "video"

    def __init__(self, path: str) -> None:
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
        fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 0.0 < fps < 1000.0 else None
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frame_count = count if count > 0 else None
        first = self._read_raw()
        if first is None:
            self._cap.release()
            raise InputError(f"{path}: no decodable frame (unreadable or corrupt video)")
        self._buffered: Frame | None = first

    def _time(self, index: int) -> float:
        import cv2

        ms = float(self._cap.get(cv2.CAP_PROP_POS_MSEC) or 0.0)
        if ms > 0 or index == 0:
            return ms / 1000.0
        return index / (self.fps or DEFAULT_FPS)

    def _read_raw(self) -> Frame | None:
        try:
            ok, img = self._cap.read()
        except Exception as exc:  # cv2.error from a broken stream
            self._damage(f"decoder error ({str(exc).splitlines()[0] if str(exc) else exc})")
            return None
        if not ok or img is None:
            if self.frame_count is not None and self.next_index < self.frame_count - 1:
                self._damage("")
            return None
        frame = Frame(self.next_index, self._time(self.next_index), img)
        self.next_index += 1
        return frame

    def _damage(self, detail: str) -> None:
        what = f"; {detail}" if detail else ""
        self.error = (
            f"{self.name}: decoding stopped at frame {self.next_index} of {self.frame_count} "
            f"announced (truncated or corrupt video{what}); results up to there are kept"
        )

    def read(self) -> Frame | None:
        if self._buffered is not None:
            f, self._buffered = self._buffered, None
            return f
        return self._read_raw()

    def skip(self) -> bool:
        if self._buffered is not None:
            self._buffered = None
            return True
        if not self._cap.grab():
            if self.frame_count is not None and self.next_index < self.frame_count - 1:
                self._damage("")
            return False
        self.next_index += 1
        return True

    def seek(self, index: int) -> None:
        import cv2

        if index == self.next_index or (index == 0 and self._buffered is not None):
            return
        if index > 0 and self._cap.set(cv2.CAP_PROP_POS_FRAMES, float(index)):
            if round(self._cap.get(cv2.CAP_PROP_POS_FRAMES)) == index:
                self._buffered = None
                self.next_index = index
                return
        # imprecise container: reopen and decode up to the frame
        self._cap.release()
        self._cap = cv2.VideoCapture(self.name, cv2.CAP_FFMPEG)
        self._buffered = None
        self.next_index = 0
        super().seek(index)

    def close(self) -> None:
        self._cap.release()


class ImageSequenceReader(FrameReader):
    """Images read in the given order as frames at ``fps``; unreadable images are skipped."""

    kind = "images"

    def __init__(self, paths: list[str], fps: float | None = None, name: str | None = None):
        super().__init__()
        if not paths:
            raise InputError("image sequence is empty")
        self.paths = list(paths)
        self.name = name or os.path.dirname(self.paths[0]) or self.paths[0]
        self.fps = fps or DEFAULT_FPS
        self.frame_count = len(self.paths)

    def read(self) -> Frame | None:
        from hhpnet.io import read_image

        while self.next_index < len(self.paths):
            k = self.next_index
            self.next_index += 1
            try:
                rgb = read_image(self.paths[k])
            except InputError as exc:
                self.warnings.append(str(exc))
                continue
            return Frame(k, k / (self.fps or DEFAULT_FPS), np.ascontiguousarray(rgb[..., ::-1]))
        return None

    def skip(self) -> bool:
        if self.next_index >= len(self.paths):
            return False
        self.next_index += 1
        return True

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
        got = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps or (got if 0.0 < got < 1000.0 else None)
        self._t0: float | None = None

    def read(self) -> Frame | None:
        ok, img = self._cap.read()
        if not ok or img is None:
            if self.kind == "stream" and self.next_index > 0:
                self.error = f"{self.name}: stream lost after {self.next_index} frames"
            elif self.next_index == 0:
                self.error = f"{self.name}: no frame received"
            return None
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
        f = Frame(self.next_index, now - self._t0, img)
        self.next_index += 1
        return f

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

    def read(self) -> Frame | None:
        try:
            img = next(self._it)
        except StopIteration:
            return None
        arr: NDArray[np.uint8] = np.asarray(img)
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
            raise InputError(
                f"frame {self.next_index}: expected a BGR uint8 (H, W, 3) array, "
                f"got {arr.dtype} {arr.shape}"
            )
        f = Frame(self.next_index, self.next_index / (self.fps or DEFAULT_FPS), arr)
        self.next_index += 1
        return f


def open_source(source: Any, *, fps: float | None = None) -> FrameReader:
    """Open ``source`` as a :class:`FrameReader`.

    ``source``: a :class:`hhpnet.sources.Source`, a SOURCE string (video file, folder or glob of
    images, webcam index, stream URL), a path, an int (webcam), a list of image paths, or an
    iterable of BGR frames. ``fps`` overrides the frame rate of image sequences and generators
    (and of videos that do not state one). Raises :class:`InputError` at once if it cannot open.
    """
    from hhpnet.sources import Source, resolve

    if isinstance(source, FrameReader):
        return source
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
        return IterableReader(source, fps)
    else:
        raise InputError(f"unsupported video source of type {type(source).__name__}")
    if len(srcs) == 1 and srcs[0].kind != "image":
        s = srcs[0]
        if s.kind == "video":
            reader: FrameReader = VideoFileReader(str(s.value))
            if reader.fps is None:
                reader.fps = fps or DEFAULT_FPS
                reader.warnings.append(
                    f"{s.value}: no frame rate in the file, assuming {reader.fps}"
                )
            return reader
        if s.kind == "webcam":
            return CaptureReader(int(s.value), fps)
        return CaptureReader(str(s.value), fps)
    if any(s.kind != "image" for s in srcs):
        raise InputError(f"{source}: mixes videos and images; give each video as its own SOURCE")
    return ImageSequenceReader([str(s.value) for s in srcs], fps, name=str(source))


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
        from hhpnet.smoothing import PoseSmoother
        from hhpnet.timeline import TimelineBuilder
        from hhpnet.tracking import Tracker

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
        """Process one frame."""
        poses = self.estimator(frame.image)
        return self.process_poses(frame.index, frame.time_s, poses)

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
    restarted at; ``timeline``: the interaction timeline (None without interaction).
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


def _rows_by_frame(rows: dict[str, NDArray[Any]]) -> list[tuple[int, NDArray[np.int64]]]:
    frames = rows["frame"]
    order = np.argsort(frames, kind="stable")
    uniq, starts = np.unique(frames[order], return_index=True)
    bounds = [*starts.tolist(), len(order)]
    return [(int(f), order[bounds[k] : bounds[k + 1]]) for k, f in enumerate(uniq)]


def _poses_from_rows(rows: dict[str, NDArray[Any]], idx: NDArray[np.int64]) -> Any:
    """Rebuild a Poses of one frame from journal rows (for resuming the smoother/timeline)."""
    from hhpnet.keypoints import head_size
    from hhpnet.pipeline import Poses

    kp = np.stack(
        [np.stack([rows[f"{k}_{c}"][idx] for c in ("x", "y", "c")], -1) for k in KEYPOINT_NAMES],
        1,
    ).astype(np.float32)
    kp = np.nan_to_num(kp, nan=0.0)
    present = kp[..., 2] > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        cen = (kp[..., :2] * present[..., None]).sum(1) / present.sum(1)[:, None]
    return Poses(
        boxes=np.stack([rows[c][idx] for c in ("x1", "y1", "x2", "y2")], 1).astype(np.float32),
        scores=rows["score"][idx].astype(np.float32),
        keypoints=kp,
        yaw=rows["yaw"][idx].astype(np.float32),
        pitch=rows["pitch"][idx].astype(np.float32),
        roll=rows["roll"][idx].astype(np.float32),
        sigma=np.stack([rows[f"sigma_{a}"][idx] for a in _ANG], 1).astype(np.float32),
        valid=rows["valid"][idx].astype(bool),
        centroid=cen.astype(np.float32),
        head_size=head_size(kp),
    )


def _replay(proc: VideoProcessor, rows: dict[str, NDArray[Any]], before: int) -> None:
    """Re-warm tracker, smoother and timeline from the journal rows with ``frame < before``."""
    groups = [(f, ix) for f, ix in _rows_by_frame(rows) if f < before]
    if not groups:
        return
    tr = proc.tracker
    for _f, ix in groups:
        t = float(rows["time_s"][ix[0]])
        ids = rows["track_id"][ix]
        ang = np.stack([rows[a][ix] for a in _ANG], 1)
        sig = np.stack([rows[f"sigma_{a}"][ix] for a in _ANG], 1)
        ok = ids >= 0
        if ok.any():
            proc.smoother.update(ids[ok], ang[ok], sig[ok], t, rows["valid"][ix][ok].astype(bool))
        if proc._analyze is not None:
            poses = _poses_from_rows(rows, ix)
            inter = proc._analyze(poses, method=proc.interaction_method, **proc.interaction_params)
            att = _matrix(getattr(inter, "attention", None), len(ix))
            if att is not None:
                proc.timeline.add(
                    t,
                    ids,
                    att,
                    matrix=_matrix(getattr(inter, "matrix", None), len(ix)),
                    mutual=_mutual_mask(getattr(inter, "mutual", None), len(ix)),
                    valid=rows["valid"][ix].astype(bool),
                )
        proc.track_ids_seen.update(int(i) for i in ids[ok])
    # tracker: the last state of every id seen within its max_age before the restart point
    t_last = float(rows["time_s"][groups[-1][1][0]])
    all_ids = rows["track_id"][rows["frame"] < before]
    last_row: dict[int, int] = {}
    prev_row: dict[int, int] = {}
    for _f, ix in groups:
        for r in ix:
            tid = int(rows["track_id"][r])
            if tid >= 0:
                if tid in last_row:
                    prev_row[tid] = last_row[tid]
                last_row[tid] = int(r)
    keep = [tid for tid, r in last_row.items() if t_last - rows["time_s"][r] <= tr.max_age]
    if keep:
        rr = np.array([last_row[t] for t in keep])
        boxes = np.stack([rows[c][rr] for c in ("x1", "y1", "x2", "y2")], 1)
        kp = np.stack(
            [np.stack([rows[f"{k}_{c}"][rr] for c in ("x", "y", "c")], -1) for k in KEYPOINT_NAMES],
            1,
        )
        vel = np.zeros((len(keep), 4))
        for m, tid in enumerate(keep):
            if tid in prev_row:
                p, q = prev_row[tid], last_row[tid]
                dt = rows["time_s"][q] - rows["time_s"][p]
                if dt > 0:
                    pb = np.array([rows[c][p] for c in ("x1", "y1", "x2", "y2")])
                    vel[m] = (boxes[m] - pb) / dt
        tr.seed(keep, boxes, np.nan_to_num(kp), rows["time_s"][rr], np.nan_to_num(vel))
    if all_ids.size:
        tr.next_id = max(tr.next_id, int(all_ids.max()) + 1)


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
    progress: bool = True,
    smoothing: Any = None,
    tracker: Any = None,
    timeline: Any = None,
    flush_every: int = 1,
    analyzer: Callable[..., Any] | None = None,
    on_frame: Callable[[FrameResult], Any] | None = None,
) -> VideoSummary:
    """Process a video / webcam / stream / image sequence / frame iterable; see the module doc.

    Outputs (each optional, written while processing): ``csv`` and ``parquet`` (one row per
    person per frame, columns :data:`hhpnet.sinks.VIDEO_COLUMNS`), ``jsonl`` (one record per
    frame), ``save_video`` (annotated mp4, 'mp4v'), ``timeline_csv`` (+ ``<stem>_people.csv``)
    and ``timeline_png`` (written at the end; need ``interact``).

    Frame selection: ``start``/``end`` in seconds of source time, every ``stride``-th frame,
    at most ``max_frames`` processed frames. ``fps`` overrides the frame rate of image
    sequences/generators. ``resume``: continue an interrupted run from its ``csv`` (required; see
    :mod:`hhpnet.sinks`); the tracker, smoother and timeline are re-warmed from the CSV rows, the
    annotated video continues in ``<stem>.from<frame>.mp4``. ``show``: a live window if a display
    exists (else a one-line notice and headless). ``smoothing``: a
    :class:`hhpnet.smoothing.SmootherParams` or PoseSmoother; ``tracker``: a Tracker;
    ``timeline``: a TimelineBuilder; ``analyzer``: replaces :func:`hhpnet.interaction.analyze`
    (same signature). ``on_frame``: called with every :class:`FrameResult`.
    Ctrl-C stops cleanly: files are closed and ``interrupted`` is set.
    """
    from hhpnet.sinks import CsvSink, JsonlSink, ParquetSink, csv_resume_point, read_csv_rows
    from hhpnet.smoothing import PoseSmoother, SmootherParams

    if stride < 1:
        raise InputError(f"stride must be ≥ 1; got {stride}")
    if max_frames is not None and max_frames < 1:
        raise InputError(f"max_frames must be ≥ 1; got {max_frames}")
    if start < 0 or (end is not None and end <= start):
        raise InputError(f"need 0 ≤ start < end; got start={start}, end={end}")
    if (timeline_csv or timeline_png) and not interact:
        raise InputError("a timeline needs the interaction analysis (remove --no-interact)")
    if resume and csv is None:
        raise InputError("--resume needs --csv: the CSV is the journal a run resumes from")

    reader = open_source(source, fps=fps)
    summary = VideoSummary(source=reader.name)
    summary.warnings.extend(reader.warnings)
    if resume and reader.live:
        reader.close()
        raise InputError(f"{reader.name}: a live source cannot be resumed")

    if estimator is None:
        from hhpnet.pipeline import HeadPoseEstimator

        estimator = HeadPoseEstimator()
    if isinstance(smoothing, PoseSmoother):
        smoother = smoothing
    else:
        smoother = PoseSmoother(smoothing if isinstance(smoothing, SmootherParams) else None)
    src_fps = reader.fps or DEFAULT_FPS
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
    proc.timeline.frame_dt = stride / src_fps

    start_frame = round(start * src_fps) if start > 0 else 0
    resume_frame: int | None = None
    journal: dict[str, NDArray[Any]] | None = None
    if resume and csv is not None and os.path.isfile(csv):
        resume_frame = csv_resume_point(csv)
        if resume_frame is not None:
            journal = read_csv_rows(csv)
            _replay(proc, journal, resume_frame)
            summary.resumed_from = resume_frame
    first = resume_frame if resume_frame is not None else start_frame

    sinks: list[Any] = []
    jsonl_sink = None
    t_first = 0.0
    writer = None
    window = False
    bar = None
    t_wall = time.perf_counter()
    try:
        csv_sink = None
        if csv is not None:
            csv_sink = CsvSink(csv, resume_frame=resume_frame, flush_every=flush_every)
            sinks.append(csv_sink)
            summary.outputs["csv"] = os.fspath(csv)
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
            sinks.append(ParquetSink(parquet, initial=initial, flush_every=max(flush_every, 30)))
            summary.outputs["parquet"] = os.fspath(parquet)
        if jsonl is not None:
            jsonl_sink = JsonlSink(jsonl, resume_frame=resume_frame, flush_every=flush_every)
            summary.outputs["jsonl"] = os.fspath(jsonl)
        if show:
            window = display_available()
            if not window:
                print("hhpnet: no display available, running headless", file=sys.stderr)

        if first > 0:
            reader.seek(first)
        end_frame = int(np.floor(end * src_fps)) if end is not None else None
        total = None
        if reader.frame_count is not None:
            last = (
                reader.frame_count - 1
                if end_frame is None
                else min(end_frame, reader.frame_count - 1)
            )
            total = max((last - first) // stride + 1, 0)
        if max_frames is not None:
            total = max_frames if total is None else min(total, max_frames)
        if progress:
            from tqdm import tqdm

            bar = tqdm(
                total=total,
                unit="frame",
                desc=os.path.basename(reader.name) or "video",
                dynamic_ncols=True,
                file=sys.stderr,
            )
        vid_path = None
        if save_video is not None:
            vid_path = os.fspath(save_video)
            if resume_frame is not None and os.path.exists(vid_path):
                vid_path = _segment_path(vid_path, resume_frame)
            summary.outputs["video"] = vid_path

        while True:
            if max_frames is not None and summary.frames >= max_frames:
                break
            frame = reader.read()
            if frame is None:
                break
            if end_frame is not None and frame.index > end_frame:
                break
            if end is not None and reader.kind == "video" and frame.time_s > end + 1e-6:
                break
            result = proc.step(frame)
            if sinks:
                cols = result.columns()
                for s in sinks:
                    s.write(cols)
            if jsonl_sink is not None:
                rec = result.record()
                if rec.get("source") is None:
                    rec["source"] = reader.name
                jsonl_sink.write(rec)
            if vid_path is not None or window:
                annotated = _annotate(result, frame.image)
                if vid_path is not None:
                    if writer is None:
                        writer = _open_writer(vid_path, src_fps / stride, annotated.shape)
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
            # stride: skip frames without converting them
            for _ in range(stride - 1):
                if not reader.skip():
                    break
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
    summary.warnings.extend(w for w in reader.warnings if w not in summary.warnings)
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


def _open_writer(path: str, fps: float, shape: tuple[int, ...]) -> Any:
    import cv2

    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    h, w = shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*"mp4v"), float(fps), (w, h))
    if not writer.isOpened():
        raise HhpnetError(f"{path}: cannot write an mp4 video here")
    return writer
