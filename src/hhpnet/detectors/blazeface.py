"""BlazeFace full range (mediapipe 0.10.14 ``face_detection_full_range_sparse.tflite``), multi-face.

Network: 192×192 RGB in [−1, 1]; 2304 anchors (48×48 grid, stride 4, one anchor per cell, fixed
size) × 16 regressors: box centre offset x, y and size w, h, then 6 keypoints x, y, all in input
pixels relative to the anchor centre; one score logit per anchor. Decoded here, then merged with
weighted non-maximum suppression.

BlazeFace's 6 keypoints, from the subject's view: right eye, left eye, nose tip, mouth centre,
right ear tragion, left ear tragion. We keep nose tip, left eye, right eye, left tragion, right
tragion (checked on photos: BlazeFace's "right eye" lies on the image's left for a frontal face).
BlazeFace gives no per-point confidence; :func:`hhpnet.keypoints.blazeface_confidence` derives
one from the face score and how turned the head is (far-side eye and ear get low confidence).

Recall aids (see docs/detectors.md):

* ``retry_padded`` (default on): when nothing is found, retry once with the image shrunk to half
  size on a black canvas — close-up faces that fill the frame, often missed at large yaw, are
  found this way.
* ``tile`` / ``scales``: small faces in large images; scale ``k`` runs the detector on a k×k grid
  of overlapping square tiles besides the whole image. Detections cut by a tile border are
  dropped and the same face seen by several views is merged (IoU NMS).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
from numpy.typing import NDArray

from hhpnet.detectors.base import (
    BatchRunner,
    Detections,
    SquareView,
    TiledDetector,
    check_image,
    decode_ssd,
    load_interpreter,
    nms,
    ssd_anchors,
    tile_views,
    weighted_nms,
)
from hhpnet.errors import InputError
from hhpnet.keypoints import blazeface_confidence

__all__ = ["BLAZEFACE_TO_HHPNET", "BlazeFaceDetector"]

MODEL_FILE = "face_detection_full_range_sparse.tflite"
INPUT_SIZE = 192
#: BlazeFace keypoint indices for nose, left eye, right eye, left ear, right ear.
BLAZEFACE_TO_HHPNET = np.array([2, 1, 0, 5, 4])

#: with ``tile=True``, tiles are about this many pixels wide before the 25 % overlap (≈ 800 px
#: with it): a 50 px face then spans 12 px of the 192 px network input
TILE_SIDE_PX = 640.0


class BlazeFaceDetector(TiledDetector):
    """Multi-face BlazeFace detector returning hhpnet's 5 head keypoints.

    Options: ``score_threshold`` (face score, default 0.6), ``iou_threshold`` (weighted NMS within
    one view, default 0.3), ``retry_padded`` (default True) with ``retry_pad`` (canvas side / image
    long side, default 2; a sequence such as (2, 3) tries each in turn until a face is found),
    ``tile`` (tiling sized to the image: the whole image plus a k×k grid, k = long side /
    :data:`TILE_SIDE_PX` rounded, within 2..8; ``scales=(1, 2)`` up to ≈ 1600 px),
    ``scales`` (explicit tiling levels, default ``(1,)``),
    ``tile_overlap`` (fraction, default 0.25),
    ``max_faces`` (keep the best N, default no limit), ``num_threads`` (default 2).
    """

    name = "blazeface"
    tile_side_px = TILE_SIDE_PX
    repr_fields = ("score_threshold", "scales", "retry_padded")

    def __init__(
        self,
        *,
        score_threshold: float = 0.6,
        iou_threshold: float = 0.3,
        retry_padded: bool = True,
        retry_pad: float | Sequence[float] = 2.0,
        tile: bool = False,
        scales: Sequence[int] | None = None,
        tile_overlap: float = 0.25,
        max_faces: int | None = None,
        num_threads: int = 2,
    ) -> None:
        if not 0.0 < score_threshold < 1.0:
            raise InputError(f"score_threshold must be in (0, 1), got {score_threshold}")
        self._set_tiling(tile, scales, tile_overlap)
        if max_faces is not None and max_faces < 1:
            raise InputError(f"max_faces must be ≥ 1 or None, got {max_faces}")
        self.score_threshold = float(score_threshold)
        self.iou_threshold = float(iou_threshold)
        pads = (retry_pad,) if isinstance(retry_pad, (int, float)) else tuple(retry_pad)
        if not pads or min(pads) <= 1.0:
            raise InputError(f"retry_pad must be > 1 (or a sequence of such), got {retry_pad}")
        self.retry_padded = bool(retry_padded)
        self.retry_pads = tuple(float(p) for p in pads)
        self.max_faces = max_faces
        self.num_threads = int(num_threads)
        self._run = BatchRunner(partial(load_interpreter, MODEL_FILE), self.num_threads)
        # One anchor per cell of a 48×48 grid (stride 4), in input pixels.
        self._anchors = ssd_anchors(INPUT_SIZE, (4,), 1)

    def views(self, width: int, height: int) -> list[SquareView]:
        """The square views run on an image: the letterboxed image, then tiles per scale > 1."""
        out: list[SquareView] = []
        for k in self.scales_for(width, height):
            if k == 1:
                out.append(SquareView.letterbox(width, height, INPUT_SIZE))
                continue
            out += tile_views(width, height, k, self.tile_overlap, INPUT_SIZE)
        return out

    def detect_views(
        self, image: NDArray[np.uint8], views: Sequence[SquareView]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        """Raw faces from several views in one batched call: boxes (M, 4), 6 keypoints (M, 6, 2)
        and scores (M,) in image pixels, before merging across views."""
        h, w = image.shape[:2]
        batch = np.stack([v.render(image) for v in views]).astype(np.float32)
        batch = batch / 127.5 - 1.0
        raw, logits = self._run(batch)
        boxes, kps, scores = [], [], []
        for i, v in enumerate(views):
            b, k, s = decode_ssd(raw[i], logits[i], self._anchors, 6, self.score_threshold)
            b, k, s = weighted_nms(b, k, s, self.iou_threshold)
            if len(s) == 0:
                continue
            b = v.to_image(b.reshape(-1, 2)).reshape(-1, 4)
            k = v.to_image(k)
            keep = self.not_cut(b, v, w, h)  # faces cut by a tile border are dropped
            b, k, s = b[keep], k[keep], s[keep]
            boxes.append(b)
            kps.append(k)
            scores.append(s)
        if not scores:
            return (
                np.zeros((0, 4), np.float32),
                np.zeros((0, 6, 2), np.float32),
                np.zeros(0, np.float32),
            )
        return np.concatenate(boxes), np.concatenate(kps), np.concatenate(scores)

    def __call__(self, image: NDArray[np.uint8]) -> Detections:
        """Detect faces in an RGB uint8 (H, W, 3) image."""
        image = check_image(image)
        h, w = image.shape[:2]
        boxes, kps, scores = self.detect_views(image, self.views(w, h))
        for pad in self.retry_pads if self.retry_padded else ():
            if len(scores):
                break
            boxes, kps, scores = self.detect_views(
                image, [SquareView.letterbox(w, h, INPUT_SIZE, pad=pad)]
            )
        if len(scores) == 0:
            return Detections.empty()
        keep = nms(boxes, scores, self.iou_threshold)
        if self.max_faces is not None:
            keep = keep[: self.max_faces]
        return self._to_detections(boxes[keep], kps[keep], scores[keep])

    @staticmethod
    def _to_detections(
        boxes: NDArray[np.float32], kps6: NDArray[np.float32], scores: NDArray[np.float32]
    ) -> Detections:
        xy = kps6[:, BLAZEFACE_TO_HHPNET]
        conf = blazeface_confidence(xy, scores)
        return Detections(
            boxes, np.concatenate([xy, conf[..., None]], axis=-1), scores, "blazeface"
        )
