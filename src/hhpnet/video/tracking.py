"""Persistent person ids across video frames: Hungarian assignment on boxes and head keypoints.

Each frame, the live tracks are matched to the detections by minimising (scipy's
``linear_sum_assignment``) a cost mixing

* ``1 − IoU`` between the detection box and the track box moved by the track's velocity, and
* the mean distance between corresponding present keypoints, divided by the track's head size
  (a scale-free distance; clipped at 1),

weighted ``iou_weight`` / ``1 − iou_weight``. A pair is only allowed if IoU ≥ ``min_iou`` or the
normalised keypoint distance ≤ ``max_distance``. Unmatched detections start new tracks (ids
0, 1, 2, … in order of appearance, never reused); a track without a match keeps its id for
``max_age`` seconds (short occlusions, missed detections) and is then ended.

Why not ByteTrack (supervision)? Our scenes hold a handful of heads with five keypoints each: the
keypoint term separates people whose boxes overlap, which a box-only tracker cannot use; a
Hungarian assignment over ≤ tens of people costs microseconds, and it adds no dependency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.boxes import box_iou, square_boxes

__all__ = ["Track", "Tracker", "boxes_from_keypoints", "iou_matrix"]

_BIG = 1e6


def iou_matrix(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.float64]:
    """Intersection over union of boxes ``a`` (M, 4) and ``b`` (N, 4), x1, y1, x2, y2 → (M, N)
    (:func:`hhpnet.boxes.box_iou` in float64)."""
    return np.asarray(box_iou(a, b, np.float64), np.float64)


def boxes_from_keypoints(keypoints: NDArray[np.floating]) -> NDArray[np.float32]:
    """Square boxes (N, 4) around the present keypoints (:func:`hhpnet.boxes.square_boxes`:
    side = 1.2 × their largest distance apart, at least 8 px × 1.2); NaN rows for people with no
    present point."""
    kp = np.asarray(keypoints, dtype=np.float64).reshape(-1, 5, 3)
    return square_boxes(kp[..., :2], 1.2, present=kp[..., 2] > 0, min_span=8.0)


@dataclass
class Track:
    """One live track: last box and keypoints, box velocity (px/s), time of the last match (s)."""

    id: int
    box: NDArray[np.float64]
    keypoints: NDArray[np.float64]
    velocity: NDArray[np.float64]
    last_t: float
    first_t: float
    hits: int = 1

    def predicted_box(self, t: float, horizon: float) -> NDArray[np.float64]:
        """Box extrapolated to time ``t`` (velocity applied for at most ``horizon`` s)."""
        dt = min(max(t - self.last_t, 0.0), horizon)
        return self.box + self.velocity * dt


class Tracker:
    """Frame-to-frame identity assignment. ``update`` returns one id per detection.

    Times are in seconds (frame timestamps), so a stride or a variable frame rate is handled.
    """

    def __init__(
        self,
        *,
        max_age: float = 1.0,
        min_iou: float = 0.1,
        max_distance: float = 1.0,
        iou_weight: float = 0.5,
        velocity_smoothing: float = 0.5,
    ) -> None:
        self.max_age = max_age
        self.min_iou = min_iou
        self.max_distance = max_distance
        self.iou_weight = iou_weight
        self.velocity_smoothing = velocity_smoothing
        self.tracks: list[Track] = []
        self.next_id = 0
        #: ids ended by the last ``update`` (not seen for more than ``max_age``)
        self.ended: list[int] = []

    def reset(self) -> None:
        """Forget every track (ids keep counting up)."""
        self.tracks = []
        self.ended = []

    def seed(
        self,
        ids: ArrayLike,
        boxes: ArrayLike,
        keypoints: ArrayLike,
        times: ArrayLike,
        velocities: ArrayLike | None = None,
    ) -> None:
        """Restore live tracks (e.g. from the rows of an interrupted run, used by ``--resume``).

        One entry per track: its id, last box (4,), keypoints (5, 3), time of its last match
        (s) and optionally its box velocity (4,) px/s. ``next_id`` continues after the largest id.
        """
        ids_a = np.asarray(ids, dtype=np.int64).ravel()
        bx = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        kp = np.asarray(keypoints, dtype=np.float64).reshape(-1, 5, 3)
        ts = np.asarray(times, dtype=np.float64).ravel()
        vel = (
            np.zeros((ids_a.size, 4))
            if velocities is None
            else np.asarray(velocities, dtype=np.float64).reshape(-1, 4)
        )
        self.tracks = [
            Track(int(i), bx[k], kp[k], vel[k], float(ts[k]), float(ts[k]))
            for k, i in enumerate(ids_a)
        ]
        if ids_a.size:
            self.next_id = max(self.next_id, int(ids_a.max()) + 1)

    def _cost(
        self, boxes: NDArray[np.float64], kps: NDArray[np.float64], t: float
    ) -> NDArray[np.float64]:
        pred = np.stack([tr.predicted_box(t, self.max_age) for tr in self.tracks])
        iou = iou_matrix(pred, boxes)  # (T, D)
        shift = (pred[:, :2] + pred[:, 2:]) / 2 - np.stack(
            [(tr.box[:2] + tr.box[2:]) / 2 for tr in self.tracks]
        )
        tkp = np.stack([tr.keypoints for tr in self.tracks])  # (T, 5, 3)
        txy = tkp[..., :2] + shift[:, None, :]
        both = (tkp[:, None, :, 2] > 0) & (kps[None, :, :, 2] > 0)  # (T, D, 5)
        d = np.linalg.norm(txy[:, None] - kps[None, :, :, :2], axis=-1)  # (T, D, 5)
        n_both = both.sum(-1)
        mean_d = np.where(n_both > 0, np.where(both, d, 0).sum(-1) / np.maximum(n_both, 1), np.nan)
        # fall back to box-centre distance when no keypoint is shared
        pc = (pred[:, None, :2] + pred[:, None, 2:]) / 2
        dc = (boxes[None, :, :2] + boxes[None, :, 2:]) / 2
        centre_d = np.linalg.norm(pc - dc, axis=-1)
        mean_d = np.where(np.isfinite(mean_d), mean_d, centre_d)
        scale = np.maximum(np.hypot(pred[:, 2] - pred[:, 0], pred[:, 3] - pred[:, 1]), 1.0)
        dist = mean_d / scale[:, None]
        cost = self.iou_weight * (1 - iou) + (1 - self.iou_weight) * np.minimum(dist, 1.0)
        allowed = (iou >= self.min_iou) | (dist <= self.max_distance)
        allowed &= np.isfinite(cost)
        return np.where(allowed, cost, _BIG)

    def update(self, boxes: ArrayLike, keypoints: ArrayLike, t: float) -> NDArray[np.int64]:
        """Assign ids to this frame's detections: boxes (N, 4) px (NaN/empty → derived from the
        keypoints), keypoints (N, 5, 3), frame time ``t`` in seconds. Returns ids (N,) int64."""
        from scipy.optimize import linear_sum_assignment

        kps = np.asarray(keypoints, dtype=np.float64).reshape(-1, 5, 3)
        n = kps.shape[0]
        bx = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) if n else np.zeros((0, 4))
        if bx.shape[0] != n:
            raise ValueError(f"got {bx.shape[0]} boxes for {n} keypoint sets")
        bad = ~np.isfinite(bx).all(1) | (bx[:, 2] <= bx[:, 0]) | (bx[:, 3] <= bx[:, 1])
        if bad.any():
            bx = bx.copy()
            bx[bad] = boxes_from_keypoints(kps[bad])
        usable = np.isfinite(bx).all(1)

        ids = np.full(n, -1, dtype=np.int64)
        matched_tracks: set[int] = set()
        det_idx = np.flatnonzero(usable)
        if self.tracks and det_idx.size:
            cost = self._cost(bx[det_idx], kps[det_idx], t)
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] >= _BIG:
                    continue
                tr = self.tracks[r]
                d = det_idx[c]
                dt = t - tr.last_t
                if dt > 0:
                    v_new = (bx[d] - tr.box) / dt
                    a = self.velocity_smoothing
                    tr.velocity = a * tr.velocity + (1 - a) * v_new if tr.hits > 1 else v_new
                tr.box, tr.keypoints, tr.last_t = bx[d].copy(), kps[d].copy(), float(t)
                tr.hits += 1
                ids[d] = tr.id
                matched_tracks.add(r)
        for d in det_idx[ids[det_idx] < 0]:
            self.tracks.append(
                Track(self.next_id, bx[d].copy(), kps[d].copy(), np.zeros(4), float(t), float(t))
            )
            ids[d] = self.next_id
            self.next_id += 1
        alive = [tr for tr in self.tracks if t - tr.last_t <= self.max_age]
        self.ended = [tr.id for tr in self.tracks if t - tr.last_t > self.max_age]
        self.tracks = alive
        return ids
