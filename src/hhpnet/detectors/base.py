"""Shared pieces of the embedded detectors: their result ``Detections`` (defined in
:mod:`hhpnet.poses`, with the record it derives from), image checks, square crops
(letterbox, padded canvas, tiles), SSD anchors, box/keypoint decoding and non-maximum suppression.

Coordinates are pixels of the original image (x right, y down). Keypoints follow hhpnet's order:
nose, left eye, right eye, left ear, right ear (the subject's left/right).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hhpnet.boxes import box_iou
from hhpnet.errors import InputError
from hhpnet.poses import Detections

__all__ = [
    "MODEL_DIR",
    "Detections",
    "Detector",
    "SquareView",
    "TiledDetector",
    "box_iou",
    "check_image",
    "decode_ssd",
    "load_interpreter",
    "nms",
    "sigmoid",
    "ssd_anchors",
    "tile_views",
    "weighted_nms",
]

MODEL_DIR = Path(__file__).parent / "models"
#: Largest accepted image side in pixels (beyond this the input is almost surely a mistake).
MAX_SIDE = 20000

F32 = NDArray[np.float32]


class Detector:
    """A callable ``detector(image) -> Detections``; ``image`` is RGB uint8 (H, W, 3)."""

    name: str = ""

    def __call__(self, image: NDArray[np.uint8]) -> Detections:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class TiledDetector(Detector):
    """A :class:`Detector` run on the whole image and on k × k tiles for each level k of
    ``scales``; in the automatic mode (``auto_tile``) the levels follow the image size
    (:func:`auto_scales` with the subclass's ``tile_side_px``). ``repr`` shows the attributes
    named in ``repr_fields`` (``scales`` as "auto" in the automatic mode)."""

    tile_side_px: float
    repr_fields: tuple[str, ...] = ("score_threshold", "scales")
    auto_tile: bool
    scales: tuple[int, ...]

    def __repr__(self) -> str:
        scales = "auto" if self.auto_tile else self.scales
        shown = [f"{k}={scales if k == 'scales' else getattr(self, k)}" for k in self.repr_fields]
        return f"{type(self).__name__}({', '.join(shown)})"

    def _set_tiling(self, tile: bool, scales: Sequence[int] | None, tile_overlap: float) -> None:
        """Check and keep the constructor options ``tile``, ``scales`` and ``tile_overlap``."""
        self.auto_tile = bool(tile) and scales is None
        if scales is None:
            scales = (1, 2) if tile else (1,)
        levels = tuple(int(s) for s in scales)
        if not levels or min(levels) < 1 or max(levels) > 8:
            raise InputError(f"scales must be integers in 1..8, got {levels}")
        if not 0.0 <= tile_overlap < 1.0:
            raise InputError(f"tile_overlap must be in [0, 1), got {tile_overlap}")
        self.scales = levels
        self.tile_overlap = float(tile_overlap)

    def scales_for(self, width: int, height: int) -> tuple[int, ...]:
        """Tiling levels used on an image of this size (pixels)."""
        if not self.auto_tile:
            return self.scales
        return auto_scales(width, height, self.tile_side_px)

    @staticmethod
    def not_cut(
        boxes: NDArray[np.floating], view: SquareView, width: int, height: int
    ) -> NDArray[np.bool_]:
        """Which of the head ``boxes`` (N, 4; x1, y1, x2, y2 in image pixels) found in the tile
        ``view`` of a ``width`` × ``height`` image to keep: False for a box within 2 % of the
        tile's side of a tile border that is not an image border (the head is cut there; the
        whole-image view or a neighbouring tile sees it complete). A view as large as the
        image's long side (the whole image) cuts nothing."""
        cut = np.zeros(len(boxes), bool)
        if view.side >= max(width, height):
            return ~cut
        margin = 0.02 * view.side
        if view.x0 > 0:
            cut |= boxes[:, 0] < view.x0 + margin
        if view.y0 > 0:
            cut |= boxes[:, 1] < view.y0 + margin
        if view.x0 + view.side < width:
            cut |= boxes[:, 2] > view.x0 + view.side - margin
        if view.y0 + view.side < height:
            cut |= boxes[:, 3] > view.y0 + view.side - margin
        return ~cut


def check_image(image: object) -> NDArray[np.uint8]:
    """Return ``image`` as a C-contiguous RGB uint8 (H, W, 3) array or raise :class:`InputError`."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"detector input must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InputError(
            f"detector input must be uint8 RGB (H, W, 3), got dtype {image.dtype}; "
            "use hhpnet.io.read_image to convert"
        )
    if image.ndim != 3 or image.shape[2] != 3:
        raise InputError(
            f"detector input must be RGB (H, W, 3), got shape {image.shape}; "
            "use hhpnet.io.read_image to convert grayscale/RGBA"
        )
    h, w = image.shape[:2]
    if h < 1 or w < 1 or max(h, w) > MAX_SIDE:
        raise InputError(f"detector input has an unusable size {w}×{h} pixels")
    return np.ascontiguousarray(image)


@dataclass(frozen=True)
class SquareView:
    """A square region of an image (may extend beyond it) resampled to ``size``×``size`` pixels.

    ``x0, y0``: top-left corner of the region in image pixels; ``side``: its side in image pixels.
    Parts outside the image are black. Maps network-input pixels back to image pixels.
    """

    x0: float
    y0: float
    side: float
    size: int

    @classmethod
    def letterbox(cls, width: int, height: int, size: int, pad: float = 1.0) -> SquareView:
        """The whole image centred in a square of side ``pad`` × its long side."""
        side = pad * max(width, height)
        s = size / side
        # Snap the borders to whole network-input pixels so that the mapping back is exact.
        px, py = round((side - width) / 2.0 * s), round((side - height) / 2.0 * s)
        return cls(-px / s, -py / s, side, size)

    @property
    def scale(self) -> float:
        """Network-input pixels per image pixel."""
        return self.size / self.side

    def render(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """Cut and resample the region (area interpolation when shrinking)."""
        h, w = image.shape[:2]
        s = self.scale
        out = np.zeros((self.size, self.size, 3), np.uint8)
        # Image pixels inside the region, and where they land in the output.
        ix0, iy0 = max(0, int(np.floor(self.x0))), max(0, int(np.floor(self.y0)))
        ix1 = min(w, int(np.ceil(self.x0 + self.side)))
        iy1 = min(h, int(np.ceil(self.y0 + self.side)))
        if ix1 <= ix0 or iy1 <= iy0:
            return out
        ox0 = max(0, round((ix0 - self.x0) * s))
        oy0 = max(0, round((iy0 - self.y0) * s))
        ox1 = min(self.size, round((ix1 - self.x0) * s))
        oy1 = min(self.size, round((iy1 - self.y0) * s))
        if ox1 <= ox0 or oy1 <= oy0:
            return out
        import cv2

        interp = cv2.INTER_AREA if s < 1.0 else cv2.INTER_LINEAR
        out[oy0:oy1, ox0:ox1] = cv2.resize(
            image[iy0:iy1, ix0:ix1], (ox1 - ox0, oy1 - oy0), interpolation=interp
        )
        return out

    def to_image(self, xy: NDArray[np.floating]) -> NDArray[np.float32]:
        """Network-input pixel coordinates (..., 2) → image pixel coordinates."""
        p = np.asarray(xy, dtype=np.float64) / self.scale
        result: NDArray[np.float32] = (p + np.array([self.x0, self.y0])).astype(np.float32)
        return result


def tile_views(width: int, height: int, k: int, overlap: float, size: int) -> list[SquareView]:
    """The tiles of tiling level ``k`` > 1 on a ``width`` × ``height`` image: squares of side
    ``min(long side, long side / k × (1 + overlap))`` on an even grid from edge to edge (one
    centred square along an axis it already spans), each resampled to ``size`` pixels."""
    long = max(width, height)
    side = min(long, long / k * (1.0 + overlap))
    step = side * (1.0 - overlap)
    nx = max(1, int(np.ceil((width - side) / step)) + 1)
    ny = max(1, int(np.ceil((height - side) / step)) + 1)
    xs = np.linspace(0.0, width - side, nx) if nx > 1 else [(width - side) / 2]
    ys = np.linspace(0.0, height - side, ny) if ny > 1 else [(height - side) / 2]
    return [SquareView(float(round(x)), float(round(y)), side, size) for y in ys for x in xs]


def auto_scales(width: int, height: int, tile_side_px: float) -> tuple[int, int]:
    """Tiling levels of the detectors' automatic mode: the whole image, then a k × k grid with
    k = long side / ``tile_side_px`` rounded, within 2..8."""
    return (1, int(np.clip(round(max(width, height) / tile_side_px), 2, 8)))


def ssd_anchors(input_size: int, strides: Sequence[int], per_layer: int) -> F32:
    """Anchor centres (A, 2) in network-input pixels for a fixed-size SSD anchor grid.

    Consecutive layers with the same stride share one feature map; each layer contributes
    ``per_layer`` anchors per cell (all with the same centre, since the anchor size is fixed).
    Order: feature map by feature map, row-major cells, anchors of a cell consecutive.
    """
    out = []
    i = 0
    while i < len(strides):
        stride = strides[i]
        j = i
        while j < len(strides) and strides[j] == stride:
            j += 1
        n = (j - i) * per_layer
        cells = int(np.ceil(input_size / stride))
        c = (np.arange(cells, dtype=np.float32) + 0.5) * (input_size / cells)
        gy, gx = np.meshgrid(c, c, indexing="ij")
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
        out.append(np.repeat(grid, n, axis=0))
        i = j
    return np.concatenate(out).astype(np.float32)


def sigmoid(x: NDArray[np.floating]) -> NDArray[np.float64]:
    """Logistic function of logits clipped to ±100 (as mediapipe's score clipping)."""
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(x, dtype=np.float64), -100.0, 100.0)))


def decode_ssd(
    raw: NDArray[np.float32],
    logits: NDArray[np.float32],
    anchors: F32,
    num_keypoints: int,
    score_threshold: float,
) -> tuple[F32, F32, F32]:
    """Decode SSD regressors relative to anchor centres (all in network-input pixels).

    ``raw`` (A, 4 + 2K): box centre offset x, y, box width, height, then K keypoint offsets x, y.
    ``logits`` (A,): score logits (clipped to ±100, then sigmoid). Returns the anchors scoring at
    least ``score_threshold``: boxes (M, 4) x1, y1, x2, y2, keypoints (M, K, 2), scores (M,).
    """
    scores = sigmoid(logits.reshape(-1))
    keep = np.flatnonzero(scores >= score_threshold)
    r = raw[keep]
    a = anchors[keep]
    centre = r[:, 0:2] + a
    half = 0.5 * r[:, 2:4]
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    kps = r[:, 4 : 4 + 2 * num_keypoints].reshape(-1, num_keypoints, 2) + a[:, None, :]
    return boxes.astype(np.float32), kps.astype(np.float32), scores[keep].astype(np.float32)


def nms(
    boxes: NDArray[np.floating], scores: NDArray[np.floating], iou_threshold: float
) -> NDArray[np.intp]:
    """Greedy IoU non-maximum suppression; indices of the kept boxes, best score first."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    iou = box_iou(boxes, boxes)
    keep: list[int] = []
    suppressed = np.zeros(len(order), bool)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        suppressed |= iou[i] > iou_threshold
    return np.asarray(keep, dtype=np.intp)


def weighted_nms(
    boxes: F32, keypoints: F32, scores: F32, iou_threshold: float
) -> tuple[F32, F32, F32]:
    """Weighted non-maximum suppression (BlazeFace/BlazePose style).

    Boxes are clustered around the best remaining box (IoU > ``iou_threshold``); each cluster is
    replaced by the score-weighted mean of its boxes and keypoints, with the best score.
    """
    if len(scores) == 0:
        return boxes, keypoints, scores
    order = np.argsort(-scores, kind="stable")
    iou = box_iou(boxes, boxes)
    remaining = np.ones(len(scores), bool)
    out_b, out_k, out_s = [], [], []
    for i in order:
        if not remaining[i]:
            continue
        members = np.flatnonzero(remaining & (iou[i] > iou_threshold))
        members = np.union1d(members, [i])
        remaining[members] = False
        w = scores[members] / scores[members].sum()
        out_b.append((boxes[members] * w[:, None]).sum(axis=0))
        out_k.append((keypoints[members] * w[:, None, None]).sum(axis=0))
        out_s.append(scores[i])
    return (
        np.asarray(out_b, np.float32),
        np.asarray(out_k, np.float32),
        np.asarray(out_s, np.float32),
    )


def load_interpreter(
    filename: str, num_threads: int, input_shape: Sequence[int] | None = None
) -> Any:
    """An ai-edge-litert interpreter for a model file shipped in ``hhpnet/detectors/models``
    (``input_shape``: for a model with a dynamic input size, the shape to allocate it for)."""
    from ai_edge_litert.interpreter import Interpreter

    path = MODEL_DIR / filename
    if not path.is_file():
        raise FileNotFoundError(f"missing model file {path} (broken installation?)")
    if num_threads < 1:
        raise InputError(f"num_threads must be ≥ 1, got {num_threads}")
    # TFLite prints "INFO: Created ... XNNPACK delegate" on fd 2. One creation at a time: fd 2
    # is process-wide, and two overlapping save/redirect/restore sequences (interpreters made
    # for concurrent calls) could leave it pointing at /dev/null.
    with _CREATE_LOCK, _native_stderr_silenced():
        interp = Interpreter(model_path=str(path), num_threads=int(num_threads))
        if input_shape is not None:
            interp.resize_tensor_input(interp.get_input_details()[0]["index"], list(input_shape))
        interp.allocate_tensors()
    return interp


_CREATE_LOCK = threading.Lock()
_VERIFIED: set[str] = set()


def verify_model_file(filename: str) -> Path:
    """Path of a model file shipped in ``hhpnet/detectors/models`` after checking its sha256
    against ``SHA256SUMS`` there (once per process); a missing or altered file raises
    ``RuntimeError`` naming it (a broken installation, not a user error)."""
    import hashlib

    path = MODEL_DIR / filename
    if filename in _VERIFIED:
        return path
    if not path.is_file():
        raise RuntimeError(f"missing model file {path} (broken installation?)")
    sums = {}
    for line in (MODEL_DIR / "SHA256SUMS").read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1]] = parts[0]
    if hashlib.sha256(path.read_bytes()).hexdigest() != sums.get(filename):
        raise RuntimeError(f"model file {path} does not match its SHA256SUMS entry")
    _VERIFIED.add(filename)
    return path


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the block (native-library chatter); Python
    exceptions raised inside still propagate normally. A no-op where fd 2 cannot be duplicated."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):
        yield
        return
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class _Slot:
    """One interpreter with its current input shape and output details."""

    def __init__(self, interpreter: Any) -> None:
        self.interpreter = interpreter
        self.input = interpreter.get_input_details()[0]
        self.outputs = interpreter.get_output_details()
        self.shape = tuple(int(s) for s in self.input["shape"])
        self.dtype = self.input["dtype"]  # float32 for BlazeFace/BlazePose, int32 for MoveNet

    def run(self, x: NDArray[np.number[Any]]) -> list[NDArray[np.float32]]:
        b = len(x)
        if x.shape != self.shape:  # another batch size (or input size, for MoveNet)
            self.interpreter.resize_tensor_input(self.input["index"], list(x.shape))
            self.interpreter.allocate_tensors()
            self.outputs = self.interpreter.get_output_details()
            self.shape = tuple(x.shape)
        self.interpreter.set_tensor(self.input["index"], np.ascontiguousarray(x, self.dtype))
        self.interpreter.invoke()
        outs = []
        for d in self.outputs:
            t = self.interpreter.get_tensor(d["index"])
            outs.append(t.reshape(b, -1, *t.shape[2:]) if t.shape[0] != b else t.copy())
        return outs


class BatchRunner:
    """Runs a TFLite model on batches of (B, S, S, 3) inputs (cast to the model's input dtype),
    resizing only when needed.

    Safe to share between threads: a TFLite interpreter holds its input and output tensors, so
    two threads must never use one at the same time (one thread's ``set_tensor`` would feed the
    other's ``invoke``, or raise). Each call borrows an idle interpreter and returns it
    afterwards; no call ever waits for another.

    ``factory(n)`` makes an interpreter with ``n`` threads. The main one (made here, so a broken
    model file fails at construction) has ``num_threads`` and serves calls that run alone — the
    usual one-stream case, where TFLite's own threads cut the latency. Calls made while another
    one is running get an interpreter with :attr:`extra_threads` (1) from a second pool that
    grows to the largest number of simultaneous calls: the calls already keep the cores busy,
    and a second TFLite thread costs ~60 % more CPU per call for BlazeFace (8.6 vs 5.2 ms,
    measured). Thread counts do not change the results (bit-identical, tested).
    """

    #: threads of the interpreters made for concurrent calls
    extra_threads = 1

    def __init__(self, factory: Callable[[int], Any], num_threads: int = 2) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._main: _Slot | None = _Slot(factory(num_threads))  # None while in use
        self._main_slot = self._main
        self._extras: list[_Slot] = []  # idle extra interpreters
        self._busy = 0
        self.created = 1  # interpreters made so far

    def __call__(self, x: NDArray[Any]) -> list[NDArray[np.float32]]:
        """Outputs in the model's order, each reshaped to a leading batch dimension."""
        slot: _Slot | None
        with self._lock:
            alone = self._busy == 0
            self._busy += 1
            if alone and self._main is not None:
                slot, self._main = self._main, None
            elif self._extras:
                slot = self._extras.pop()
            else:
                slot = None
                self.created += 1
        try:
            if slot is None:
                slot = _Slot(self._factory(self.extra_threads))
            return slot.run(x)
        finally:
            with self._lock:
                self._busy -= 1
                if slot is self._main_slot:
                    self._main = slot
                elif slot is not None:
                    self._extras.append(slot)
