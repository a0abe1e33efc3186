"""The mirror pass of ``precise=True``: the detector run on the mirrored image as well.

A detector is not mirror-symmetric: on a mirrored photo it places the points slightly
differently (the network itself is symmetric to < 1°; a photo and its mirror image differ by
~5° of yaw + roll through the detectors alone). The people of the mirror image are therefore a
second, partly independent look at the same heads. :func:`merge_mirror_pass`:

1. mirrors the people of the mirror image back (x → width − 1 − x, left and right points
   swapped, boxes mirrored);
2. matches them one to one with the people of the photo, by the same rule that matches a
   BlazeFace face with a MoveNet person in ``"auto"`` (:func:`hhpnet.detectors.fused.match_heads`:
   median distance of corresponding head points below half the photo person's box side;
   a missing point counts at its box centre);
3. returns, per person of the photo, the mirror-image keypoints of its match (both detectors'
   sets when the detector gave two) *in the mirror image's own frame*: the estimator reads them
   with the same network and negates yaw and roll (the pose of a mirrored head is
   (−yaw, pitch, −roll)), then fuses them as further correlated readings
   (:func:`hhpnet.fusion.mirror_name`). People found only in the mirror image are added after
   the photo's, with their points mirrored back — unless their box covers more than
   :data:`SAME_HEAD_OVERLAP` of a photo person's box or the other way round (the same head,
   boxed differently: e.g. a face box on the neck of a profile that MoveNet boxes on the head).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from hhpnet.boxes import box_iou
from hhpnet.keypoints import flip_keypoints

if TYPE_CHECKING:
    from hhpnet.detectors.base import Detections

ScalarT = TypeVar("ScalarT", bound=np.generic)

__all__ = ["MirrorPass", "merge_mirror_pass", "mirror_boxes", "mirror_image"]

F32 = NDArray[np.float32]
#: a mirror-only person whose box shares more than this share of the smaller of its box and a
#: photo person's box is that person's head seen differently, not another person
SAME_HEAD_OVERLAP = 0.5


def mirror_image(image: NDArray[ScalarT]) -> NDArray[ScalarT]:
    """The image mirrored left to right (a contiguous copy)."""
    return np.ascontiguousarray(np.asarray(image)[:, ::-1])


def mirror_boxes(boxes: NDArray[np.floating], width: int) -> F32:
    """Boxes (N, 4) x1, y1, x2, y2 mirrored in an image ``width`` pixels wide."""
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    return np.stack([(width - 1) - b[:, 2], b[:, 1], (width - 1) - b[:, 0], b[:, 3]], axis=1)


def _overlap_of_smaller(a: F32, b: F32) -> NDArray[np.float64]:
    """(A, B) intersection area / the smaller box's area, from :func:`hhpnet.boxes.box_iou`
    (intersection = IoU · (area_a + area_b) / (1 + IoU))."""
    iou = box_iou(a, b, np.float64)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=1).astype(np.float64)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=1).astype(np.float64)
    total = area_a[:, None] + area_b[None, :]
    smaller = np.minimum(area_a[:, None], area_b[None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(smaller > 0, iou * total / (1 + iou) / smaller, 0.0)
    return np.nan_to_num(share)


def _points_for_matching(keypoints: F32, boxes: F32) -> NDArray[np.float64]:
    """(N, 5, 2) head points with missing ones at their box centre (NaN boxes: the mean of
    the present points)."""
    kp = np.asarray(keypoints, np.float64)
    present = kp[..., 2] > 0
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (kp[..., :2] * present[..., None]).sum(1) / present.sum(1)[:, None]
    centre = np.where(np.isfinite(centre), centre, np.nan_to_num(mean))
    return np.where(present[..., None], kp[..., :2], centre[:, None, :])


@dataclass
class MirrorPass:
    """The merged people of a photo and of its mirror image (:func:`merge_mirror_pass`).

    ``people``: the photo's people followed by the mirror-only ones (mirrored back): a
    :class:`hhpnet.detectors.base.Detections`; ``keypoints`` / ``alt_keypoints`` (N, 5, 3):
    each person's mirror-image points in the mirror image's frame (zeros: no match);
    ``detector`` (N,): the mirror match's detector tag (``""``: no match); ``photo_count``: how
    many of ``people`` are the photo's; ``index`` (N,): the mirror match's row in the mirror
    image's detections (−1: no match), e.g. for the face mesh of the mirror image.
    """

    people: Any
    keypoints: F32
    alt_keypoints: F32
    detector: Any
    photo_count: int
    index: NDArray[np.intp]


def merge_mirror_pass(photo: Detections, mirrored: Detections, width: int) -> MirrorPass:
    """Match the people of the mirror image ``mirrored`` (detections in its own frame) to those
    of ``photo`` (both :class:`hhpnet.detectors.base.Detections`; module docstring)."""
    from hhpnet.detectors.base import Detections
    from hhpnet.detectors.fused import match_heads

    back = Detections(
        mirror_boxes(mirrored.boxes, width),
        flip_keypoints(mirrored.keypoints, width),
        mirrored.scores,
        mirrored.detector,
        None if mirrored.alt_keypoints is None else flip_keypoints(mirrored.alt_keypoints, width),
        None if mirrored.alt_boxes is None else mirror_boxes(mirrored.alt_boxes, width),
    )
    photo_boxes = np.asarray(photo.boxes, np.float32)
    pairs = match_heads(
        _points_for_matching(photo.keypoints, photo_boxes),
        np.nan_to_num(photo_boxes),  # no box (no point either): never matched
        _points_for_matching(back.keypoints, back.boxes),
    )
    n, m = len(photo), len(back)
    matched = {j for _, j in pairs}
    same = _overlap_of_smaller(back.boxes, photo_boxes).reshape(m, n) > SAME_HEAD_OVERLAP
    extra = np.array([j for j in range(m) if j not in matched and not same[j].any()], np.intp)
    people = Detections.concatenate([photo, back[extra]]) if len(extra) else photo
    total = n + len(extra)
    kp = np.zeros((total, 5, 3), np.float32)
    alt = np.zeros((total, 5, 3), np.float32)
    tags = np.full(total, "", dtype=object)
    index = np.full(total, -1, np.intp)
    rows = np.array([i for i, _ in pairs] + list(range(n, total)), np.intp)
    cols = np.array([j for _, j in pairs] + extra.tolist(), np.intp)
    if len(rows):
        kp[rows] = mirrored.keypoints[cols]
        alt[rows] = mirrored.alt_or_zeros()[cols]
        tags[rows] = mirrored.detector[cols]
        index[rows] = cols
    return MirrorPass(people, kp, alt, tags, n, index)
