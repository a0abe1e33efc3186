"""``"auto"``: BlazeFace (close-ups, small faces) and MoveNet (profiles, backs, bodies) together.

Both detectors run on the image; their people are merged into one list without duplicates. A
BlazeFace face and a MoveNet person are the same head when MoveNet's five head points lie close
to BlazeFace's (median distance below ``match_threshold`` × the face box side; MoveNet's raw
point positions are used, whatever their scores, so a back view with low-scoring face points
still matches a face found there). Pairs are matched one to one (smallest distances first).
A face left unmatched whose box centre lies in a MoveNet head box that it overlaps (IoU > 0.2)
is the same head seen differently — on real close-ups this never happens (the median point
distance is 0.05 face box sides, 99.7 % of 885 pairs are below 0.5), on a rendered back view
BlazeFace with tiles put a "face" on the hair — and MoveNet's person is kept.

Which keypoints a matched head keeps is :data:`PREFER` (``prefer=``): measured on the 885 real
dev photos both detectors found (``benchmarks/movenet_dev_csv.py``, hhpnet-1.0), BlazeFace's
points give 8.80° mean MAE against 10.64° from MoveNet's (5.68° vs 8.41° at |yaw| < 30°,
11.05° vs 12.02° at 30–60°, 23.60° vs 21.56° at 60–90°); choosing per head the source the model
is surer of (smaller predicted σ) gave 8.82°. Every person carries the name of the detector
whose keypoints it has (``Detections.detector``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from hhpnet.detectors.base import Detections, Detector, box_iou, check_image
from hhpnet.detectors.blazeface import BlazeFaceDetector
from hhpnet.detectors.movenet import COCO_HEAD, MoveNetDetector, head_boxes
from hhpnet.errors import InputError
from hhpnet.fusion import PRIMARY

__all__ = ["PREFER", "PRIMARY", "FusedDetector", "match_heads", "overlapping_heads"]

#: what a head seen by both detectors keeps: "both" (MoveNet's points, with BlazeFace's as
#: ``alt_keypoints``: the estimator reads both and combines the two poses, hhpnet.fusion),
#: "blazeface" or "movenet" (only that detector's points)
PREFER = "both"
#: a face and a body are the same head when the median distance between their corresponding
#: head points is below this share of the face box side
MATCH_THRESHOLD = 0.5
#: a face left unmatched by points is still the same head as a MoveNet person when its box
#: centre lies in that person's head box and the boxes overlap by more than this IoU
BOX_IOU_THRESHOLD = 0.2


def _attach_second(
    faces: Detections, bodies: Detections, pairs: list[tuple[int, int]], primary: str
) -> tuple[Detections, Detections]:
    """Give each matched head of the ``primary`` detector the other one's points and box as
    ``alt_keypoints``, ``alt_boxes`` and the tag ``"blazeface+movenet"``."""
    faces = faces[np.arange(len(faces))]  # copies
    bodies = bodies[np.arange(len(bodies))]
    keep, other = (bodies, faces) if primary == "movenet" else (faces, bodies)
    alt = keep.alt_or_zeros().copy()
    alt_boxes = keep.alt_boxes_or_nan().copy()
    for i, j in pairs:
        k, o = (j, i) if primary == "movenet" else (i, j)
        alt[k] = other.keypoints[o]
        alt_boxes[k] = other.boxes[o]
        keep.detector[k] = "blazeface+movenet"
    keep.alt_keypoints = alt
    keep.alt_boxes = alt_boxes
    return (faces, keep) if primary == "movenet" else (keep, bodies)


def match_heads(
    face_points: NDArray[np.floating],
    face_boxes: NDArray[np.floating],
    body_points: NDArray[np.floating],
    threshold: float = MATCH_THRESHOLD,
) -> list[tuple[int, int]]:
    """One-to-one pairs (face index, body index) of the same head.

    ``face_points`` (F, 5, 2) and ``body_points`` (B, 5, 2): head points in hhpnet's order, in
    image pixels; ``face_boxes`` (F, 4). The cost of a pair is the median distance between
    corresponding points divided by the face box side (the larger of width and height); pairs
    below ``threshold`` are taken greedily, cheapest first.
    """
    f = np.asarray(face_points, np.float64).reshape(-1, 5, 2)
    b = np.asarray(body_points, np.float64).reshape(-1, 5, 2)
    if len(f) == 0 or len(b) == 0:
        return []
    boxes = np.asarray(face_boxes, np.float64).reshape(-1, 4)
    side = np.maximum(np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]), 1e-6)
    dist = np.linalg.norm(f[:, None] - b[None], axis=-1)  # (F, B, 5)
    cost = np.median(dist, axis=-1) / side[:, None]
    pairs: list[tuple[int, int]] = []
    used_f: set[int] = set()
    used_b: set[int] = set()
    for flat in np.argsort(cost, axis=None, kind="stable"):
        i, j = divmod(int(flat), cost.shape[1])
        if cost[i, j] >= threshold:
            break
        if i in used_f or j in used_b:
            continue
        pairs.append((i, j))
        used_f.add(i)
        used_b.add(j)
    return pairs


def overlapping_heads(
    face_boxes: NDArray[np.floating],
    body_head_boxes: NDArray[np.floating],
    pairs: list[tuple[int, int]],
    iou_threshold: float = BOX_IOU_THRESHOLD,
) -> list[tuple[int, int]]:
    """(face, body) pairs left unmatched by points whose boxes still cover one head: the face
    box centre lies inside the body's head box and their IoU exceeds ``iou_threshold``."""
    fb = np.asarray(face_boxes, np.float32).reshape(-1, 4)
    hb = np.asarray(body_head_boxes, np.float32).reshape(-1, 4)
    if len(fb) == 0 or len(hb) == 0:
        return []
    used_f = {i for i, _ in pairs}
    used_b = {j for _, j in pairs}
    iou = box_iou(fb, hb)
    cx, cy = (fb[:, 0] + fb[:, 2]) / 2, (fb[:, 1] + fb[:, 3]) / 2
    inside = (
        (cx[:, None] > hb[None, :, 0])
        & (cx[:, None] < hb[None, :, 2])
        & (cy[:, None] > hb[None, :, 1])
        & (cy[:, None] < hb[None, :, 3])
    )
    out = []
    for i, j in zip(*np.nonzero(inside & (iou > iou_threshold)), strict=True):
        if int(i) not in used_f and int(j) not in used_b:
            out.append((int(i), int(j)))
            used_f.add(int(i))
            used_b.add(int(j))
    return out


class FusedDetector(Detector):
    """BlazeFace + MoveNet merged into one person list (see the module docstring).

    Options: ``prefer`` ("blazeface" or "movenet": whose keypoints a head seen by both keeps,
    default :data:`PREFER`), ``match_threshold`` (default :data:`MATCH_THRESHOLD`), ``tile``
    (tiles for both detectors), ``num_threads`` (each detector's interpreter, default 2),
    ``face`` / ``body``: dicts of further options for :class:`BlazeFaceDetector` /
    :class:`MoveNetDetector` (e.g. ``body={"score_threshold": 0.3}``), ``max_people``.

    One instance may be shared by several threads.
    """

    name = "auto"

    def __init__(
        self,
        *,
        prefer: str = PREFER,
        match_threshold: float = MATCH_THRESHOLD,
        tile: bool = False,
        num_threads: int = 2,
        face: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        max_people: int | None = None,
    ) -> None:
        if prefer not in ("both", "blazeface", "movenet"):
            raise InputError(f"prefer must be 'both', 'blazeface' or 'movenet', got {prefer!r}")
        if not 0.0 < match_threshold:
            raise InputError(f"match_threshold must be > 0, got {match_threshold}")
        if max_people is not None and max_people < 1:
            raise InputError(f"max_people must be ≥ 1 or None, got {max_people}")
        self.prefer = prefer
        self.match_threshold = float(match_threshold)
        self.max_people = max_people
        common: dict[str, Any] = {"tile": bool(tile), "num_threads": int(num_threads)}
        try:
            self.face = BlazeFaceDetector(**{**common, **(face or {})})
            self.body = MoveNetDetector(**{**common, **(body or {})})
        except TypeError as exc:
            raise InputError(f"detector 'auto': {exc}") from None

    def __repr__(self) -> str:
        return f"FusedDetector(prefer={self.prefer!r}, face={self.face!r}, body={self.body!r})"

    def __call__(self, image: NDArray[np.uint8]) -> Detections:
        """Detect people in an RGB uint8 (H, W, 3) image with both detectors and merge them."""
        image = check_image(image)
        faces = self.face(image)  # both detectors are safe to share between threads
        people = self.body.detect_coco(image)
        bodies = self.body.to_detections(people)
        # raw MoveNet head points of the people kept by to_detections, for matching
        raw = people.keypoints[self.body.kept(people)][:, COCO_HEAD, :2]
        return self.merge(faces, bodies, raw)

    def merge(
        self, faces: Detections, bodies: Detections, body_points: NDArray[np.floating]
    ) -> Detections:
        """Faces and bodies → one list: matched heads keep the :attr:`prefer` detector's
        keypoints, box and score; unmatched ones are kept as they are, except faces inside a
        body's head box (:func:`overlapping_heads`). ``body_points`` (B, 5, 2) are the bodies'
        raw head positions used for matching (MoveNet's positions whatever their scores)."""
        pairs = match_heads(
            faces.keypoints[..., :2], faces.boxes, body_points, self.match_threshold
        )
        keep_side = PRIMARY if self.prefer == "both" else self.prefer
        drop_f = {i for i, _ in pairs} if keep_side == "movenet" else set()
        drop_b = {j for _, j in pairs} if keep_side == "blazeface" else set()
        if self.prefer == "both" and pairs:
            faces, bodies = _attach_second(faces, bodies, pairs, keep_side)
        # a face inside a MoveNet head whose points disagree with it (e.g. BlazeFace finding a
        # "face" in the hair of a back view): one head, and the body detector's reading wins
        for i, _ in overlapping_heads(faces.boxes, head_boxes(body_points), pairs):
            drop_f.add(i)
        keep_f = np.array([i for i in range(len(faces)) if i not in drop_f], np.intp)
        keep_b = np.array([j for j in range(len(bodies)) if j not in drop_b], np.intp)
        out = Detections.concatenate([faces[keep_f], bodies[keep_b]])
        order = np.argsort(-out.scores, kind="stable")
        if self.max_people is not None:
            order = order[: self.max_people]
        return out[order]
