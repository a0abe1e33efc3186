"""MoveNet MultiPose Lightning (Google, Apache-2.0): whole-body COCO-17 keypoints of up to 6 people.

Network (``movenet_multipose_lightning_backbone.tflite`` + ``…_heads.npz``, converted by
``tools/convert_movenet.py``): the published graph up to its feature map and heat maps, input
1×H×W×3 int32 RGB in [0, 255] (H, W multiples of 32, at most 256); the prediction heads that
are only read at a few cells and the multi-person decoding run in numpy
(:mod:`hhpnet.detectors.movenet_decode`, the graph's arithmetic). A view's result is the
graph's output (6, 56), one row per candidate person: 17 × (y, x, score) with y, x normalised
to the 256-px input square, then the body box (ymin, xmin, ymax, xmax, normalised) and the
person score.

Preprocessing of the whole-image view is the reference one of ``shared/data``'s ``mn_*`` columns:
the image padded with black to a square **at the top-left** (image at the origin, black on the
right or bottom), area-resized to 256×256, int32 RGB. With ``trim=True`` (off by default) the
network reads only the top-left part of that square that holds the image plus at least
:data:`PAD_PX` black rows (columns), rounded up to a multiple of 32 (:func:`input_shape`;
224×256 for 4:3, 192×256 for 16:9): 0.87× / 0.75× the network's work, the same people and
head points within the ±1 grey level noise spread on our pictures, but person scores move
about twice as much as with that noise, which changed a 720p clip's interaction timeline
(docs/detectors.md). Optional tiles (``tile=True`` or ``scales``) add overlapping
square views for small people and wide frames; the people of all views are merged by
non-maximum suppression on their head boxes.

COCO-17 indices 0..4 are nose, left eye, right eye, left ear, right ear (subject's left/right),
hhpnet's order. A head point whose score is below ``keypoint_threshold`` is reported missing
(0, 0, 0); its raw position and score stay available from :meth:`MoveNetDetector.detect_coco`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np
from numpy.typing import NDArray

from hhpnet.boxes import square_boxes
from hhpnet.detectors.base import (
    MODEL_DIR,
    BatchRunner,
    Detections,
    SquareView,
    TiledDetector,
    box_iou,
    check_image,
    load_interpreter,
    tile_views,
)
from hhpnet.detectors.movenet_decode import decode_heads
from hhpnet.errors import InputError
from hhpnet.poses import Index

__all__ = [
    "COCO_HEAD",
    "MoveNetDetector",
    "MoveNetPeople",
    "decode_output",
    "head_boxes",
    "input_shape",
]

MODEL_FILE = "movenet_multipose_lightning_backbone.tflite"
HEADS_FILE = "movenet_multipose_lightning_heads.npz"
#: the backbone file's outputs, in its order
OUTPUTS = ("feature", "center", "center_max", "heat")
INPUT_SIZE = 256
#: feature-map cells per side of the input square (output stride 4)
GRID = INPUT_SIZE // 4
#: black input pixels kept below (right of) the image in the whole-image view, at least
PAD_PX = 32
#: the backbone's input sides are multiples of this (its coarsest stride)
ALIGN = 32
#: candidate people per view (rows of the network output)
SLOTS = 6
#: COCO-17 indices of nose, left eye, right eye, left ear, right ear
COCO_HEAD = np.array([0, 1, 2, 3, 4])
#: with ``tile=True`` tiles are about this many pixels wide before the overlap
TILE_SIDE_PX = 480.0
#: head box side relative to the largest distance between two head points
HEAD_BOX_FACTOR = 1.2

F32 = NDArray[np.float32]


@dataclass
class MoveNetPeople:
    """Raw MoveNet people in image pixels: ``keypoints`` (N, 17, 3) x, y, score (all points, no
    threshold), ``body_boxes`` (N, 4) x1, y1, x2, y2, ``scores`` (N,) person scores, ``view``
    (N,) index of the view each person came from."""

    keypoints: F32
    body_boxes: F32
    scores: F32
    view: NDArray[np.intp]

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index: Index) -> MoveNetPeople:
        return MoveNetPeople(
            self.keypoints[index], self.body_boxes[index], self.scores[index], self.view[index]
        )

    @classmethod
    def empty(cls) -> MoveNetPeople:
        return cls(
            np.zeros((0, 17, 3), np.float32),
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.float32),
            np.zeros(0, np.intp),
        )

    @property
    def head_boxes(self) -> F32:
        """Square head boxes (N, 4) around the 5 head points (raw positions, every score)."""
        return head_boxes(self.keypoints[:, COCO_HEAD, :2])


#: square boxes around head points (one rule with BlazePose and the tracker: hhpnet.boxes)
head_boxes = square_boxes


def load_heads() -> dict[str, F32]:
    """The sparse prediction heads' weights (float16 in the file, float32 here)."""
    path = MODEL_DIR / HEADS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"missing model file {path} (broken installation?)")
    with np.load(path, allow_pickle=False) as f:
        return {k: np.asarray(f[k], np.float32) for k in f.files}


def decode_output(
    out: NDArray[np.floating], view: SquareView, score_threshold: float
) -> tuple[F32, F32, F32]:
    """One view's network output (6, 56) → people scoring at least ``score_threshold``:
    keypoints (M, 17, 3) x, y in image pixels + score, body boxes (M, 4) x1, y1, x2, y2 in image
    pixels, person scores (M,)."""
    out = np.asarray(out, dtype=np.float32).reshape(-1, 56)
    keep = out[:, 55] >= score_threshold
    rows = out[keep]
    kp = rows[:, :51].reshape(-1, 17, 3)
    yx = kp[..., :2] * view.size
    xy = view.to_image(yx[..., ::-1])
    box_yx = rows[:, 51:55].reshape(-1, 2, 2) * view.size  # (ymin, xmin), (ymax, xmax)
    boxes = view.to_image(box_yx[..., ::-1]).reshape(-1, 4)
    keypoints = np.concatenate([xy, kp[..., 2:3]], axis=-1).astype(np.float32)
    return keypoints, boxes.astype(np.float32), rows[:, 55].astype(np.float32)


#: longest side up to which the whole-image view is made by padding the full-size image (the
#: reference preprocessing, exactly); beyond it the padded square would cost side² × 3 bytes,
#: so only the image region is resampled (:meth:`SquareView.render`, same geometry)
EXACT_PAD_MAX_SIDE = 4096


def input_shape(width: int, height: int, size: int = INPUT_SIZE) -> tuple[int, int]:
    """(rows, columns) of the whole-image view's square that the network reads: the image's
    part plus at least :data:`PAD_PX` black, up to a multiple of :data:`ALIGN`, at most
    ``size``."""
    side = max(width, height)

    def cut(n: int) -> int:
        return min(size, math.ceil((math.ceil(n * size / side) + PAD_PX) / ALIGN) * ALIGN)

    return cut(height), cut(width)


def render_top_left(image: NDArray[np.uint8], size: int = INPUT_SIZE) -> NDArray[np.uint8]:
    """The reference whole-image input: ``image`` padded with black to a square at the top-left,
    area-resized to ``size``×``size`` (the network reads its :func:`input_shape` part)."""
    h, w = image.shape[:2]
    side = max(h, w)
    if side > EXACT_PAD_MAX_SIDE:
        return SquareView(0.0, 0.0, float(side), size).render(image)
    if (h * size) % side == 0 and (w * size) % side == 0:
        # the image covers whole output pixels (4:3, 16:9 and square frames): each output
        # pixel's area lies inside the image or inside the black, so resampling the image
        # alone gives the padded square's pixels without building it (2.4 MB at 720p)
        out = np.zeros((size, size, 3), np.uint8)
        oh, ow = h * size // side, w * size // side
        out[:oh, :ow] = cv2.resize(image, (ow, oh), interpolation=cv2.INTER_AREA)
        return out
    padded = cv2.copyMakeBorder(image, 0, side - h, 0, side - w, cv2.BORDER_CONSTANT, value=0)
    return np.asarray(cv2.resize(padded, (size, size), interpolation=cv2.INTER_AREA), np.uint8)


def merge_views(
    boxes: F32,
    scores: F32,
    view: NDArray[np.intp],
    iou_threshold: float,
    points: NDArray[np.floating] | None = None,
    point_threshold: float = 0.5,
) -> NDArray[np.intp]:
    """Greedy NMS across views: indices of the kept people, best score first.

    A person is suppressed by a better one **from another view** that is the same head: their
    head boxes overlap by more than ``iou_threshold``, or (with ``points`` (N, K, 2), the head
    points) the median distance between corresponding points is below ``point_threshold`` ×
    the larger box side — small heads' boxes jitter too much for IoU alone. People of the same
    view never suppress each other (the network already separated them).
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    same = box_iou(boxes, boxes) > iou_threshold
    if points is not None and len(boxes):
        p = np.asarray(points, np.float64)
        dist = np.median(np.linalg.norm(p[:, None] - p[None], axis=-1), axis=-1)
        side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        same |= dist < point_threshold * np.maximum(side[:, None], side[None, :])
    keep: list[int] = []
    for i in order:
        if any(view[j] != view[i] and same[i, j] for j in keep):
            continue
        keep.append(int(i))
    return np.asarray(keep, dtype=np.intp)


class MoveNetDetector(TiledDetector):
    """Multi-person MoveNet MultiPose Lightning returning hhpnet's 5 head keypoints.

    Options: ``score_threshold`` (person score, default 0.15), ``keypoint_threshold`` (a head
    point scoring below it is missing, default 0.1), ``min_points`` (people with fewer present
    head points are dropped, default 1), ``box`` ("head": a square around the 5 head points, the
    default; "body": the network's body box), ``tile`` (whole image + a k×k grid of tiles, k =
    long side / :data:`TILE_SIDE_PX` rounded, within 2..8), ``scales`` (explicit tiling levels,
    default ``(1,)``), ``tile_overlap`` (default 0.25), ``iou_threshold`` (head-box NMS across
    views, default 0.3), ``max_people`` (keep the best N, default no limit), ``trim`` (the
    whole-image view reads only the image's part of its square, :func:`input_shape`; default
    False), ``num_threads`` (default 2).

    One instance may be shared by several threads: the interpreter is used under a lock.
    """

    name = "movenet"
    tile_side_px = TILE_SIDE_PX
    repr_fields = ("score_threshold", "keypoint_threshold", "scales")

    def __init__(
        self,
        *,
        score_threshold: float = 0.15,
        keypoint_threshold: float = 0.1,
        min_points: int = 1,
        box: str = "head",
        tile: bool = False,
        scales: Sequence[int] | None = None,
        tile_overlap: float = 0.25,
        iou_threshold: float = 0.3,
        max_people: int | None = None,
        trim: bool = False,
        num_threads: int = 2,
    ) -> None:
        if not 0.0 < score_threshold < 1.0:
            raise InputError(f"score_threshold must be in (0, 1), got {score_threshold}")
        if not 0.0 <= keypoint_threshold < 1.0:
            raise InputError(f"keypoint_threshold must be in [0, 1), got {keypoint_threshold}")
        if not 0 <= int(min_points) <= 5:
            raise InputError(f"min_points must be in 0..5, got {min_points}")
        if box not in ("head", "body"):
            raise InputError(f"box must be 'head' or 'body', got {box!r}")
        self._set_tiling(tile, scales, tile_overlap)
        if max_people is not None and max_people < 1:
            raise InputError(f"max_people must be ≥ 1 or None, got {max_people}")
        self.score_threshold = float(score_threshold)
        self.keypoint_threshold = float(keypoint_threshold)
        self.min_points = int(min_points)
        self.box = box
        self.iou_threshold = float(iou_threshold)
        self.max_people = max_people
        self.trim = bool(trim)
        self.num_threads = int(num_threads)
        self._heads = load_heads()
        # per input shape, one interpreter per concurrent call (base.BatchRunner): threads never
        # wait for each other; the square one is made now (a broken file fails here)
        self._runs: dict[tuple[int, int], BatchRunner] = {}
        self._runs_lock = threading.Lock()
        self._run = self._runner(INPUT_SIZE, INPUT_SIZE)  # the square views' runner

    def _runner(self, rows: int, cols: int) -> BatchRunner:
        with self._runs_lock:
            run = self._runs.get((rows, cols))
            if run is None:
                load = partial(load_interpreter, MODEL_FILE, input_shape=(1, rows, cols, 3))
                run = self._runs[(rows, cols)] = BatchRunner(load, self.num_threads)
            return run

    # ----------------------------------------------------------------- views
    def views(self, width: int, height: int) -> list[SquareView]:
        """The square views run on an image: first the whole image (padded at the top-left),
        then the tiles of each scale > 1 (squares of side ≈ long side / k × (1 + overlap))."""
        long = max(width, height)
        out = [SquareView(0.0, 0.0, float(long), INPUT_SIZE)]
        for k in self.scales_for(width, height):
            if k == 1:
                continue
            out += tile_views(width, height, k, self.tile_overlap, INPUT_SIZE)
        return out

    def infer(self, x: NDArray[np.uint8]) -> F32:
        """The graph's output (6, 56) for one RGB uint8 input: a 256×256 square or its
        top-left H×W part (H, W multiples of 32), coordinates normalised to the square
        (thread-safe)."""
        rows, cols = x.shape[:2]
        if rows % ALIGN or cols % ALIGN or max(rows, cols) > INPUT_SIZE:
            raise InputError(f"MoveNet input must be H×W multiples of {ALIGN} ≤ 256, got {x.shape}")
        batch = np.ascontiguousarray(x, dtype=np.int32).reshape(1, rows, cols, 3)
        out = dict(zip(OUTPUTS, self._runner(rows, cols)(batch), strict=True))
        return decode_heads(
            out["feature"][0],
            out["center"][0, ..., 0],
            out["center_max"][0, ..., 0],
            out["heat"][0],
            self._heads,
            grid=(GRID, GRID),
        )

    # ----------------------------------------------------------------- detection
    def detect_coco(self, image: NDArray[np.uint8]) -> MoveNetPeople:
        """All people of an RGB uint8 image with their 17 COCO keypoints (raw scores, no point
        threshold) and body boxes, in image pixels, merged across views; best score first."""
        image = check_image(image)
        h, w = image.shape[:2]
        views = self.views(w, h)
        kps, boxes, scores, ids = [], [], [], []
        for i, v in enumerate(views):
            if i > 0:
                x = v.render(image)
            elif self.trim:
                rows, cols = input_shape(w, h)
                x = render_top_left(image)[:rows, :cols]
            else:
                x = render_top_left(image)
            k, b, s = decode_output(self.infer(x), v, self.score_threshold)
            if i > 0 and len(s):  # people whose head is cut by a tile border are dropped
                whole = self.not_cut(head_boxes(k[:, COCO_HEAD, :2]), v, w, h)
                k, b, s = k[whole], b[whole], s[whole]
            kps.append(k)
            boxes.append(b)
            scores.append(s)
            ids.append(np.full(len(s), i, np.intp))
        people = MoveNetPeople(
            np.concatenate(kps), np.concatenate(boxes), np.concatenate(scores), np.concatenate(ids)
        )
        if len(people) == 0:
            return people
        keep = merge_views(
            people.head_boxes,
            people.scores,
            people.view,
            self.iou_threshold,
            people.keypoints[:, COCO_HEAD, :2],
        )
        return people[keep]

    def kept(self, people: MoveNetPeople) -> NDArray[np.intp]:
        """Indices of the people :meth:`to_detections` reports: at least ``min_points`` head
        points scoring ``keypoint_threshold`` or more; the best ``max_people``."""
        present = people.keypoints[:, COCO_HEAD, 2] >= self.keypoint_threshold
        rows = np.flatnonzero(present.sum(axis=1) >= self.min_points)
        return rows[: self.max_people] if self.max_people is not None else rows

    def to_detections(self, people: MoveNetPeople) -> Detections:
        """hhpnet's 5 head points (low-scoring ones missing), boxes and scores of the
        :meth:`kept` people."""
        rows = self.kept(people)
        head = people.keypoints[rows][:, COCO_HEAD].copy()
        head[head[..., 2] < self.keypoint_threshold] = 0.0
        boxes = people.head_boxes if self.box == "head" else people.body_boxes
        return Detections(boxes[rows], head, people.scores[rows], "movenet")

    def __call__(self, image: NDArray[np.uint8]) -> Detections:
        """Detect people in an RGB uint8 (H, W, 3) image; returns their 5 head keypoints."""
        return self.to_detections(self.detect_coco(image))
