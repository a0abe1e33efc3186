"""BlazePose (mediapipe 0.10.14 ``pose_detection.tflite`` + ``pose_landmark_full.tflite``).

Stage 1, person detector: 224×224 RGB in [−1, 1], letterboxed; 2254 anchors (28×28 and 14×14
grids with 2 anchors per cell, a 7×7 grid with 6; strides 8, 16, 32, 32, 32; fixed anchor size)
× 12 regressors: a box (the **head/face** box) centre offset x, y and size w, h, then 4 alignment
points — hip centre, a point fixing the full-body circle, shoulder centre, a point fixing the
upper-body circle — in input pixels relative to the anchor centre; one score logit per anchor.

Stage 2, landmarks, per person: a square crop of side 2.5 × |hip centre → circle point|, centred
on the hip centre and rotated so that this vector points up, resampled to 256×256 RGB in [0, 1].
Output 39×5 (x, y in crop pixels, z, visibility logit, presence logit) and a pose-presence
score. The 5 head points are landmarks 0 (nose), 2 (left eye), 5 (right eye), 7 (left ear),
8 (right ear); their confidence is sigmoid(visibility). All crops of an image go through the
landmark model in one batched call.

Boxes: the person detector's own box (``box="detection"``) is face-sized but observed clearly off
the face (centred near the chin on frontal photos, beside the head on a profile), so by default
(``box="keypoints"``) the box is a square around the 5 head landmarks: centred on their bounding
box, side = 1.2 × their largest pairwise distance.
"""

from __future__ import annotations

from functools import partial

import cv2
import numpy as np
from numpy.typing import NDArray

from hhpnet.boxes import square_boxes
from hhpnet.detectors.base import (
    BatchRunner,
    Detections,
    Detector,
    SquareView,
    check_image,
    decode_ssd,
    load_interpreter,
    sigmoid,
    ssd_anchors,
    weighted_nms,
)
from hhpnet.errors import InputError

__all__ = ["BLAZEPOSE_TO_HHPNET", "BlazePoseDetector"]

DETECTOR_FILE = "pose_detection.tflite"
LANDMARK_FILE = "pose_landmark_full.tflite"
DETECTOR_SIZE = 224
LANDMARK_SIZE = 256
#: BlazePose-33 indices for nose, left eye, right eye, left ear, right ear.
BLAZEPOSE_TO_HHPNET = np.array([0, 2, 5, 7, 8])
#: Crop side relative to the hip-centre → circle-point distance (2 × radius × 1.25 margin).
CROP_SCALE = 2.5


class BlazePoseDetector(Detector):
    """Multi-person BlazePose: person detector, then the landmark model per person (batched).

    Options: ``score_threshold`` (person detector, default 0.5), ``iou_threshold`` (weighted NMS,
    default 0.3), ``presence_threshold`` (landmark model's pose-presence score, default 0.5),
    ``min_visibility`` (a head point whose confidence is below this is reported missing,
    default 0.0 = keep all), ``box`` ("keypoints" or "detection", see the module docstring),
    ``max_people`` (default no limit), ``num_threads`` (default 2).
    """

    name = "blazepose"

    def __init__(
        self,
        *,
        score_threshold: float = 0.5,
        iou_threshold: float = 0.3,
        presence_threshold: float = 0.5,
        min_visibility: float = 0.0,
        box: str = "keypoints",
        max_people: int | None = None,
        num_threads: int = 2,
    ) -> None:
        if not 0.0 < score_threshold < 1.0:
            raise InputError(f"score_threshold must be in (0, 1), got {score_threshold}")
        if not 0.0 <= min_visibility < 1.0:
            raise InputError(f"min_visibility must be in [0, 1), got {min_visibility}")
        if max_people is not None and max_people < 1:
            raise InputError(f"max_people must be ≥ 1 or None, got {max_people}")
        if box not in ("keypoints", "detection"):
            raise InputError(f"box must be 'keypoints' or 'detection', got {box!r}")
        self.box = box
        self.score_threshold = float(score_threshold)
        self.iou_threshold = float(iou_threshold)
        self.presence_threshold = float(presence_threshold)
        self.min_visibility = float(min_visibility)
        self.max_people = max_people
        self.num_threads = int(num_threads)
        self._detect = BatchRunner(partial(load_interpreter, DETECTOR_FILE), self.num_threads)
        self._landmarks = BatchRunner(partial(load_interpreter, LANDMARK_FILE), self.num_threads)
        self._anchors = ssd_anchors(DETECTOR_SIZE, (8, 16, 32, 32, 32), 2)

    def __repr__(self) -> str:
        return f"BlazePoseDetector(score_threshold={self.score_threshold})"

    def detect_people(
        self, image: NDArray[np.uint8]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        """Stage 1: head boxes (M, 4), alignment points (M, 4, 2) in image pixels, scores (M,)."""
        h, w = image.shape[:2]
        view = SquareView.letterbox(w, h, DETECTOR_SIZE)
        x = view.render(image).astype(np.float32)[None] / 127.5 - 1.0
        raw, logits = self._detect(x)
        b, k, s = decode_ssd(raw[0], logits[0], self._anchors, 4, self.score_threshold)
        b, k, s = weighted_nms(b, k, s, self.iou_threshold)
        if self.max_people is not None:
            b, k, s = b[: self.max_people], k[: self.max_people], s[: self.max_people]
        return view.to_image(b.reshape(-1, 2)).reshape(-1, 4), view.to_image(k), s

    @staticmethod
    def crop_transforms(align: NDArray[np.float32]) -> NDArray[np.float64]:
        """Affine maps (M, 2, 3) from landmark-crop pixels to image pixels for each person.

        The crop is centred on the hip centre, of side 2.5 × |hip → circle point|, with the
        hip → circle-point direction pointing up in the crop.
        """
        hip = align[:, 0].astype(np.float64)
        vec = align[:, 1].astype(np.float64) - hip
        dist = np.maximum(np.linalg.norm(vec, axis=1), 1e-6)
        down = -vec / dist[:, None]  # crop +y in image coordinates
        right = np.stack([down[:, 1], -down[:, 0]], axis=1)  # crop +x (a proper rotation)
        s = CROP_SCALE * dist / LANDMARK_SIZE  # image pixels per crop pixel
        m = np.empty((len(align), 2, 3))
        m[:, :, 0] = right * s[:, None]
        m[:, :, 1] = down * s[:, None]
        m[:, :, 2] = hip - (right + down) * (s * LANDMARK_SIZE / 2.0)[:, None]
        return m

    def __call__(self, image: NDArray[np.uint8]) -> Detections:
        """Detect people in an RGB uint8 (H, W, 3) image; returns their 5 head keypoints."""
        image = check_image(image)
        boxes, align, scores = self.detect_people(image)
        if len(scores) == 0:
            return Detections.empty()
        maps = self.crop_transforms(align)
        crops = (
            np.stack(
                [
                    cv2.warpAffine(
                        image,
                        m,
                        (LANDMARK_SIZE, LANDMARK_SIZE),
                        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                        borderMode=cv2.BORDER_CONSTANT,
                        borderValue=(0, 0, 0),
                    )
                    for m in maps
                ]
            ).astype(np.float32)
            / 255.0
        )
        outs = self._landmarks(crops)
        lm = outs[0].reshape(len(crops), 39, 5)[:, BLAZEPOSE_TO_HHPNET]
        presence = outs[1].reshape(-1)
        xy_crop = lm[..., :2].astype(np.float64)
        xy = np.einsum("nij,nkj->nki", maps[:, :, :2], xy_crop) + maps[:, None, :, 2]
        conf = sigmoid(lm[..., 3])
        conf = np.where(conf >= self.min_visibility, conf, 0.0)
        kps = np.concatenate([xy, conf[..., None]], axis=-1).astype(np.float32)
        kps[conf == 0] = 0.0
        if self.box == "keypoints":
            boxes = head_boxes(xy)
        keep = presence >= self.presence_threshold
        return Detections(boxes[keep], kps[keep], scores[keep], "blazepose")


#: square boxes around head points (one rule with MoveNet and the tracker: hhpnet.boxes)
head_boxes = square_boxes
