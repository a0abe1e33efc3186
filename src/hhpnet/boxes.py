"""Box geometry shared by the detectors, the pipeline and the tracker (boxes are x1, y1, x2, y2
in pixels).

:func:`box_iou` is the one intersection-over-union. Two rules build a box from keypoints, for
two jobs:

* :func:`square_boxes` — a head box from points that only locate the head (a body detector's
  head points; the tracker's stand-in when a person has no box): square, centred on the
  points' bounding box, side = ``factor`` × the largest distance between two of them, so the
  size does not change when the head rolls;
* :func:`padded_boxes` — the box :class:`hhpnet.poses.Poses` reports when the detector gave
  none: the points' bounding box, padded on each side by a quarter of the head size.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from hhpnet.keypoints import head_size

__all__ = ["box_iou", "padded_boxes", "square_boxes"]


def box_iou(a: ArrayLike, b: ArrayLike, dtype: DTypeLike = np.float32) -> NDArray[np.floating]:
    """Intersection over union of every box in ``a`` (N, 4) with every box in ``b`` (M, 4) →
    (N, M), computed in ``dtype``; 0 where the union is empty or a box is NaN."""
    a = np.asarray(a, dtype=dtype).reshape(-1, 4)
    b = np.asarray(b, dtype=dtype).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=-1)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(axis=-1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(axis=-1)
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0).astype(dtype)


def square_boxes(
    xy: ArrayLike,
    factor: float = 1.2,
    present: ArrayLike | None = None,
    min_span: float = 0.0,
) -> NDArray[np.float32]:
    """Square boxes (N, 4) around points (N, K, 2): centred on their bounding box, side =
    ``factor`` × max(largest distance between two points, ``min_span``).

    ``present`` (N, K) bool: use only these points (NaN rows for people with none); without it
    every point counts.
    """
    p = np.asarray(xy, dtype=np.float64)
    n = len(p)
    if n == 0:
        return np.zeros((0, 4), np.float32)
    p = p.reshape(n, -1, 2)
    if present is None:
        centre = 0.5 * (p.min(axis=1) + p.max(axis=1))
        span = np.linalg.norm(p[:, :, None] - p[:, None], axis=-1).max(axis=(1, 2))
        half = 0.5 * factor * np.maximum(span, min_span)[:, None]
        return np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)
    ok = np.asarray(present, bool).reshape(n, -1)
    out = np.full((n, 4), np.nan)
    has = ok.any(axis=1)
    if has.any():
        q = np.where(ok[has, :, None], p[has], np.nan)
        centre = 0.5 * (np.nanmin(q, axis=1) + np.nanmax(q, axis=1))
        span = np.nanmax(np.linalg.norm(q[:, :, None] - q[:, None], axis=-1), axis=(1, 2))
        half = 0.5 * factor * np.maximum(span, min_span)[:, None]
        out[has] = np.concatenate([centre - half, centre + half], axis=1)
    return out.astype(np.float32)


def padded_boxes(keypoints: ArrayLike) -> NDArray[np.float32]:
    """Boxes (N, 4) around the present points of (N, 5, 3) keypoints, padded by a quarter of the
    head size (:func:`hhpnet.keypoints.head_size`) on each side; NaN rows for no present point."""
    kp = np.asarray(keypoints, np.float32)
    present = kp[..., 2] > 0
    x = np.where(present, kp[..., 0], np.nan)
    y = np.where(present, kp[..., 1], np.nan)
    out = np.full((len(kp), 4), np.nan, np.float32)
    has = present.any(axis=1)
    if has.any():
        size = np.nan_to_num(head_size(kp[has]), nan=0.0)
        pad = 0.25 * size
        out[has] = np.stack(
            [
                np.nanmin(x[has], axis=1) - pad,
                np.nanmin(y[has], axis=1) - pad,
                np.nanmax(x[has], axis=1) + pad,
                np.nanmax(y[has], axis=1) + pad,
            ],
            axis=1,
        )
    return out
