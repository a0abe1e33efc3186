"""The five head keypoints: order, validation, and the network's input normalisation.

Order (index 0..4): nose, left eye, right eye, left ear, right ear — "left" is the **subject's**
left (image right when the subject faces the camera). This is COCO-17's order for indices 0..4.

A person's keypoints are an ``(N, 5, 3)`` float array of ``(x, y, c)``: pixel coordinates and a
detector confidence in [0, 1]. A point is *missing* when its confidence is 0 (or NaN); its
coordinates are then ignored. Everything that turns keypoints into network input lives here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.errors import InputError

__all__ = [
    "FLIP_PERMUTATION",
    "KEYPOINT_NAMES",
    "MIN_POINTS",
    "InvalidKeypointsError",
    "blazeface_confidence",
    "drop_implausible_points",
    "flip_keypoints",
    "head_size",
    "normalize",
    "validate_keypoints",
]

KEYPOINT_NAMES: tuple[str, ...] = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
#: Index permutation that swaps left and right points (used for mirroring).
FLIP_PERMUTATION = np.array([0, 2, 1, 4, 3])
#: Fewer present points than this: the person is returned as invalid (no pose from nothing).
MIN_POINTS = 2


class InvalidKeypointsError(InputError):
    """A keypoint array is malformed (shape, dtype, non-finite or out-of-range values)."""


def validate_keypoints(keypoints: ArrayLike, *, name: str = "keypoints") -> NDArray[np.float32]:
    """Check and convert to a float32 ``(N, 5, 3)`` array; a single ``(5, 3)`` person is promoted.

    Raises :class:`InvalidKeypointsError` with a one-line message on a wrong shape, a non-numeric
    dtype, negative or > 1 confidences, or non-finite coordinates of present points. A point with
    confidence 0 or NaN is missing: it is returned with ``(0, 0, 0)``.
    """
    arr = np.asarray(keypoints)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise InvalidKeypointsError(f"{name}: expected a numeric array, got dtype {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != (5, 3):
        raise InvalidKeypointsError(
            f"{name}: expected shape (N, 5, 3) = (x, y, confidence) for nose, left eye, right eye, "
            f"left ear, right ear; got {tuple(np.shape(keypoints))}"
        )
    out = arr.astype(np.float32, copy=True)
    conf = out[..., 2]
    missing = np.isnan(conf) | (conf == 0)
    bad_conf = ~missing & ((conf < 0) | (conf > 1) | ~np.isfinite(conf))
    if bad_conf.any():
        raise InvalidKeypointsError(
            f"{name}: confidences must be in [0, 1] (0 = missing); found {conf[bad_conf][:3]}"
        )
    bad_xy = ~missing & ~np.isfinite(out[..., :2]).all(axis=-1)
    if bad_xy.any():
        raise InvalidKeypointsError(
            f"{name}: non-finite coordinates for {int(bad_xy.sum())} point(s) with confidence > 0"
        )
    out[missing] = 0.0
    return out


def normalize(keypoints: NDArray[np.float32]) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Per-person normalisation of HHP-Net (the only place it is done).

    For each person: subtract the centroid of the present points, then divide x by the largest
    |dx| and y by the largest |dy| among present points, so coordinates lie in [−1, 1]. Missing
    points stay ``(0, 0, 0)``. Expects the output of :func:`validate_keypoints`.

    Returns ``(x, valid)``: the ``(N, 15)`` float32 network input ``[x1, y1, c1, …, x5, y5, c5]``
    and a boolean ``(N,)``: at least :data:`MIN_POINTS` points present and a non-zero extent.
    Rows of invalid people are all zeros.
    """
    kp = np.asarray(keypoints, dtype=np.float32)
    present = kp[..., 2] > 0
    count = present.sum(axis=1)
    w = present.astype(np.float32)
    centroid = (kp[..., :2] * w[..., None]).sum(axis=1) / np.maximum(count, 1)[:, None]
    d = (kp[..., :2] - centroid[:, None, :]) * w[..., None]
    extent = np.abs(d).max(axis=1)  # (N, 2)
    valid = (count >= MIN_POINTS) & (extent.max(axis=1) > 0)
    scale = np.where(extent > 0, extent, 1.0).astype(np.float32)
    out = np.empty_like(kp)
    out[..., :2] = d / scale[:, None, :]
    out[..., 2] = kp[..., 2] * w
    out[~valid] = 0.0
    return out.reshape(len(kp), 15), valid


#: a point further than this share of the image's longer side outside the frame is dropped
FRAME_MARGIN = 0.25
#: a point further from the median of a person's points than this many times the median
#: distance between the person's points is dropped (absurd coordinates, not head geometry)
FAR_POINT_FACTOR = 20.0


def drop_implausible_points(
    keypoints: NDArray[np.float32], image_size: tuple[int, int] | None = None
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Mark points that cannot belong to the person as missing (confidence and coordinates 0).

    Expects :func:`validate_keypoints` output. A point is dropped when it lies more than
    :data:`FRAME_MARGIN` × the longer image side outside the frame (if ``image_size`` =
    (width, height) pixels is known), or further from the median of the person's present points
    than :data:`FAR_POINT_FACTOR` × their median pairwise distance (needs ≥ 3 points). Detector
    points slightly outside the frame (a face cut by the border) are kept. Returns the cleaned
    copy and the number of points dropped per person.
    """
    kp = np.array(keypoints, dtype=np.float32, copy=True)
    present = kp[..., 2] > 0
    bad = np.zeros(present.shape, bool)
    if image_size is not None and len(kp):
        w, h = float(image_size[0]), float(image_size[1])
        m = FRAME_MARGIN * max(w, h)
        x, y = kp[..., 0], kp[..., 1]
        bad |= present & ((x < -m) | (x > w + m) | (y < -m) | (y > h + m))
    use = present & ~bad
    rows = np.flatnonzero(use.sum(axis=1) >= 3)
    if len(rows):
        xy = kp[rows, :, :2].astype(np.float64)
        u = use[rows]
        iu = np.triu_indices(kp.shape[1], 1)
        pair = np.linalg.norm(xy[:, :, None] - xy[:, None], axis=-1)[:, iu[0], iu[1]]
        pair_ok = u[:, iu[0]] & u[:, iu[1]]
        # cheap screen: no point can be far when the extent of the points is within
        # FAR_POINT_FACTOR × their smallest spacing (a lower bound of the median spacing)
        lo = np.where(u[..., None], xy, np.inf).min(axis=1)
        hi = np.where(u[..., None], xy, -np.inf).max(axis=1)
        extent = np.linalg.norm(hi - lo, axis=1)
        closest = np.where(pair_ok, pair, np.inf).min(axis=1)
        check = np.flatnonzero(extent > FAR_POINT_FACTOR * closest)
        if len(check):  # the full test, NaN marking points that do not take part
            pts = np.where(u[check, :, None], xy[check], np.nan)
            scale = _median_ignoring_nan(np.where(pair_ok[check], pair[check], np.nan), axis=1)
            centre = _median_ignoring_nan(pts, axis=1)
            dist = np.linalg.norm(pts - centre[:, None], axis=-1)
            with np.errstate(invalid="ignore"):
                far = (dist > FAR_POINT_FACTOR * scale[:, None]) & (scale[:, None] > 0)
            bad[rows[check]] |= far
    kp[bad] = 0.0
    return kp, bad.sum(axis=1)


def _median_ignoring_nan(a: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """``np.nanmedian`` for small arrays without its per-call overhead (NaN sorts last)."""
    srt = np.sort(np.moveaxis(a, axis, -1), axis=-1)
    count = np.sum(~np.isnan(srt), axis=-1, keepdims=True)
    lo = np.take_along_axis(srt, np.maximum((count - 1) // 2, 0), axis=-1)
    hi = np.take_along_axis(srt, count // 2 - (count == 0), axis=-1)
    return ((lo + hi) / 2)[..., 0]


def flip_keypoints(keypoints: NDArray[np.floating], width: float) -> NDArray[np.floating]:
    """Mirror keypoints horizontally in an image of ``width`` pixels (swaps left/right points).

    The pose of the mirrored person is ``(−yaw, pitch, −roll)``. Missing points stay missing.
    """
    kp = np.array(keypoints, dtype=np.float32, copy=True)[..., FLIP_PERMUTATION, :]
    present = kp[..., 2] > 0
    kp[..., 0] = np.where(present, (width - 1) - kp[..., 0], 0.0)
    return kp


def blazeface_confidence(
    xy: NDArray[np.floating], score: NDArray[np.floating]
) -> NDArray[np.float32]:
    """Per-point confidences for detectors without them (BlazeFace), shape ``(N, 5)``.

    BlazeFace always returns all points; on a turned head the far-side eye and ear are pushed to
    the face edge and are unreliable. We estimate how turned the head is from the nose's position
    along the ear-to-ear axis: ``t`` = signed offset of the nose from the midpoint of the two ear
    points, in units of half the extent of all five points along that axis (≈ 0 frontal, → ±1 in
    profile; t > 0 means the nose is on the left-ear side, i.e. the left side is the far side).
    Far-side ear visibility falls linearly from 1 at |t| = 0.45 to 0.1 at |t| = 1.0 (≈ 20°–40°
    yaw on noise-free synthetic heads), far-side eye visibility from 1 at |t| = 0.7 to 0.1 at
    |t| = 1.1 (≈ 25°–60°); |t| saturates near 1.05 beyond ≈ 40° yaw, so this flags unreliable
    points rather than measuring yaw. Confidence = face score × visibility.
    The synthetic generator calls this same function, so training and inference agree.
    """
    p = np.asarray(xy, dtype=np.float64)
    s = np.asarray(score, dtype=np.float64).reshape(-1)
    axis = p[:, 3] - p[:, 4]  # right ear -> left ear
    norm = np.linalg.norm(axis, axis=1, keepdims=True)
    # Degenerate ear axis (ears on top of each other): fall back to the eye axis, then to +x.
    eye_axis = p[:, 1] - p[:, 2]
    eye_norm = np.linalg.norm(eye_axis, axis=1, keepdims=True)
    u = np.where(
        norm > 1e-6, axis / np.maximum(norm, 1e-12), eye_axis / np.maximum(eye_norm, 1e-12)
    )
    u = np.where((norm > 1e-6) | (eye_norm > 1e-6), u, np.array([1.0, 0.0]))
    proj = np.einsum("nkd,nd->nk", p, u)
    half = 0.5 * (proj.max(axis=1) - proj.min(axis=1))
    t = (proj[:, 0] - 0.5 * (proj[:, 3] + proj[:, 4])) / np.maximum(half, 1e-6)
    a = np.abs(t)
    ear_far = np.clip(1.0 - 0.9 * (a - 0.45) / 0.55, 0.1, 1.0)
    eye_far = np.clip(1.0 - 0.9 * (a - 0.7) / 0.4, 0.1, 1.0)
    vis = np.ones((len(p), 5))
    left_far = t > 0
    vis[:, 1] = np.where(left_far, eye_far, 1.0)
    vis[:, 3] = np.where(left_far, ear_far, 1.0)
    vis[:, 2] = np.where(~left_far, eye_far, 1.0)
    vis[:, 4] = np.where(~left_far, ear_far, 1.0)
    return (vis * s[:, None]).astype(np.float32)


def head_size(keypoints: NDArray[np.floating]) -> NDArray[np.float32]:
    """Apparent head size in pixels, ``(N,)``: the largest distance between two present points.

    Roughly the ear-to-ear span on a frontal face and the nose-to-ear span on a profile; NaN when
    fewer than :data:`MIN_POINTS` points are present. Consumers that need a pose-independent size
    (e.g. depth from size) correct it with the estimated yaw.
    """
    kp = np.asarray(keypoints, dtype=np.float32)
    present = kp[..., 2] > 0
    diff = kp[:, :, None, :2] - kp[:, None, :, :2]
    dist = np.linalg.norm(diff, axis=-1)
    pair = present[:, :, None] & present[:, None, :]
    size = np.where(pair, dist, 0.0).max(axis=(1, 2))
    return np.where(present.sum(axis=1) >= MIN_POINTS, size, np.nan).astype(np.float32)
