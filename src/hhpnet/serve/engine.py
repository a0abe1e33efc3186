"""The estimation side of the server: request options, the shared models and detectors, and the
bounded thread pool every image and stream frame goes through.

One :class:`~hhpnet.pipeline.HeadPoseEstimator` is thread-safe (README "Threads"), so the
server loads each model and each detector once and shares them between all requests;
:class:`Engine` hands out light estimators that combine a request's options with those shared
objects. The pool has ``workers`` threads; at most ``workers + queue`` requests are admitted
at once, the next one is refused at once with :class:`Busy` (HTTP 503 + ``Retry-After``)
instead of waiting in an unbounded queue.
"""

from __future__ import annotations

import asyncio
import io
import re
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from hhpnet.detectors.base import Detector
    from hhpnet.interaction import Interaction
    from hhpnet.model import HeadPoseModel
    from hhpnet.pipeline import HeadPoseEstimator
    from hhpnet.poses import Poses

from hhpnet.errors import InputError
from hhpnet.mesh_reading import MeshReader
from hhpnet.serve.settings import ServeSettings

__all__ = ["Busy", "Engine", "PoseOptions", "TooLarge", "image_size_from_header"]

T = TypeVar("T")


class Busy(Exception):
    """The bounded queue is full: answer 503 with ``Retry-After``."""


class TooLarge(InputError):
    """Over a size limit (bytes or pixels): answer 413."""


@dataclass(frozen=True)
class PoseOptions:
    """What a request may choose (query parameters ``model``, ``detector``, ``tile``,
    ``kpt_thr``, ``precise``; interaction: ``method``, ``params``). None = the server's default.
    ``precise``: the estimator's accuracy-first mode (the mirror image read as well,
    :class:`hhpnet.HeadPoseEstimator`), as ``--precise`` on the command line.
    """

    model: str | None = None
    detector: str | None = None
    tile: bool = False
    kpt_thr: float = 0.0
    method: str = "hhpnet"
    params: tuple[tuple[str, Any], ...] = field(default_factory=tuple)
    precise: bool = False

    def analysis(self) -> Callable[[Poses], Interaction]:
        """``poses -> Interaction`` with this method and these parameters."""
        from hhpnet.interaction import analyze

        params = dict(self.params)
        return lambda poses: analyze(poses, method=self.method, **params)

    def check_analysis(self) -> None:
        """A bad method parameter raises InputError now (before the image is read)."""
        from hhpnet.poses import Poses

        self.analysis()(Poses.empty())


def image_size_from_header(data: bytes, max_pixels: int) -> tuple[int, int]:
    """Width and height from the image's header, decoding no pixel (Pillow opens lazily).

    Raises :class:`TooLarge` over ``max_pixels`` and :class:`InputError` for bytes that are not
    an image; the pixels are decoded later by :func:`hhpnet.io.read_image`.
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise InputError("empty upload (0 bytes): send the image file as the request body")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as img:
                w, h = img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise InputError("not a readable image (unknown or corrupt format)") from None
    except Image.DecompressionBombError as exc:
        # Pillow refuses sizes far above its own limit in open(): the message has the count
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f" ({int(found.group(1)) / 1e6:g} megapixels)" if found else ""
        raise TooLarge(f"image too large{size}: at most {max_pixels / 1e6:g} megapixels") from None
    if w * h > max_pixels:
        raise TooLarge(f"image too large: {w}×{h} px > {max_pixels / 1e6:g} megapixels")
    return int(w), int(h)


class Engine:
    """Shared models/detectors + the bounded pool (see the module docstring)."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="hhpnet-est")
        self.limit = settings.workers + settings.queue
        self.inflight = 0
        self._models: dict[str, HeadPoseModel] = {}
        self._detectors: dict[tuple[str, bool], Detector] = {}
        # the face-mesh reading of every estimator (hhpnet.mesh_reading), loaded on first use
        self.mesh = MeshReader()
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()

    # ------------------------------------------------------------------ models
    def model(self, name: str | None) -> HeadPoseModel:
        """The shared model ``name`` (the server's default for None), loaded once."""
        from hhpnet.model import load_model

        key = name or self.settings.model
        with self._lock:
            if key not in self._models:
                self._models[key] = load_model(key)
            return self._models[key]

    def detector(self, name: str | None, tile: bool) -> Detector:
        """The shared detector ``name`` (with image tiles or not), created once."""
        from hhpnet.detectors import create_detector

        key = (name or self.settings.detector, bool(tile))
        with self._lock:
            if key not in self._detectors:
                options = {"tile": True} if key[1] else {}
                self._detectors[key] = create_detector(key[0], **options)
            return self._detectors[key]

    def estimator(self, opts: PoseOptions, *, with_detector: bool = True) -> HeadPoseEstimator:
        """A :class:`~hhpnet.pipeline.HeadPoseEstimator` on the shared objects (cheap)."""
        from hhpnet.pipeline import HeadPoseEstimator

        det = self.detector(opts.detector, opts.tile) if with_detector else None
        return HeadPoseEstimator(
            model=self.model(opts.model),
            detector=det,
            kpt_thr=opts.kpt_thr,
            precise=opts.precise,
            mesh=self.mesh,
        )

    def warm(self) -> None:
        """Load the default model and detector and run them once on a bundled example."""
        from hhpnet.commands.demo import EXAMPLES_DIR

        est = self.estimator(PoseOptions())
        est((EXAMPLES_DIR / "pair_640x480.jpg").read_bytes())

    # ------------------------------------------------------------------ the pool
    async def run(self, fn: Callable[[], T], *, admit: bool = True) -> T:
        """``fn()`` on the pool. ``admit``: count it against ``workers + queue`` and raise
        :class:`Busy` when full (stream frames, one in flight per WebSocket, are not counted)."""
        if not admit:
            return await asyncio.get_running_loop().run_in_executor(self.pool, fn)
        with self._count_lock:
            if self.inflight >= self.limit:
                raise Busy()
            self.inflight += 1

        def counted() -> T:
            # released when the work ends, not when the client stops waiting for it: a
            # disconnected client's image still occupies its place until it is done
            try:
                return fn()
            finally:
                with self._count_lock:
                    self.inflight -= 1

        try:
            future = asyncio.get_running_loop().run_in_executor(self.pool, counted)
        except BaseException:
            with self._count_lock:
                self.inflight -= 1
            raise
        return await future

    def image_record(
        self, opts: PoseOptions, data: bytes, source: str | None, *, interact: bool
    ) -> str:
        """One uploaded image → its JSON record line, exactly as ``hhpnet predict --json``
        (``interact``: ``hhpnet interact --json``) writes it: decode, estimate, analyse."""
        from hhpnet.io import read_image
        from hhpnet.records import record_line

        est = self.estimator(opts)
        poses = est(read_image(data), rgb=True, source=source)
        return record_line(poses, opts.analysis()(poses) if interact else None)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
