"""The five head keypoints: order, validation, and the network's input normalisation.

Order (index 0..4): nose, left eye, right eye, left ear, right ear — "left" is the **subject's**
left (image right when the subject faces the camera). This is COCO-17's order for indices 0..4.

A person's keypoints are an ``(N, 5, 3)`` float array of ``(x, y, c)``: pixel coordinates and a
detector confidence in [0, 1]. A point is *missing* when its confidence is 0 (or NaN); its
coordinates are then ignored. Everything that turns keypoints into network input lives here.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "FLIP_PERMUTATION",
    "KEYPOINT_NAMES",
    "MIN_POINTS",
    "InvalidKeypointsError",
    "blazeface_confidence",
    "check_image_size",
    "drop_implausible_points",
    "flip_keypoints",
    "head_size",
    "implausible_points",
    "normalize",
    "plausible",
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
    try:
        arr = np.asarray(keypoints)
    except (ValueError, TypeError, OverflowError) as exc:  # ragged nested lists and the like
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidKeypointsError(f"{name}: not a regular numeric array ({msg})") from None
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
    with np.errstate(over="ignore"):  # values beyond float32 become inf and are refused below
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

    Arithmetic: float64 from the float32 coordinates (no overflow for any float32 input), the
    centroid summed over the points in the order 0..4, each coordinate rounded to float32 once
    at the end — the single-face path of :mod:`hhpnet.model` and the ONNX graph do exactly the
    same operations, so a person's input does not depend on the batch it is in.

    Returns ``(x, valid)``: the ``(N, 15)`` float32 network input ``[x1, y1, c1, …, x5, y5, c5]``
    and a boolean ``(N,)``: at least :data:`MIN_POINTS` points present and a non-zero extent.
    Rows of invalid people are all zeros. (Implausible geometry is judged separately by
    :func:`plausible`.)
    """
    kp = np.asarray(keypoints, dtype=np.float32)
    n = len(kp)
    # (5, N) planes: every reduction over the points runs along contiguous rows
    kpt = kp.transpose(2, 1, 0)
    present = kpt[2] > 0
    count = present.sum(axis=0)
    out = np.zeros((3, 5, n), np.float32)
    valid = count >= MIN_POINTS
    extent_any = np.zeros(n, bool)
    for axis in (0, 1):
        v = np.where(present, kpt[axis], np.float32(0.0)).astype(np.float64)
        total = v[0] + 0.0
        for k in range(1, 5):
            total = total + v[k]  # one point at a time: the order of the single-face path
        d = v - total / np.maximum(count, 1)
        d[~present] = 0.0
        extent = np.abs(d).max(axis=0, initial=0.0)
        extent_any |= extent > 0
        np.divide(d, np.where(extent > 0, extent, 1.0), out=out[axis], casting="same_kind")
    valid &= extent_any
    out[2] = np.where(present, kpt[2], np.float32(0.0))
    out = out.transpose(2, 1, 0)
    out[~valid] = 0.0
    return np.ascontiguousarray(out).reshape(n, 15), valid


#: a present point with a coordinate beyond ± this many pixels is implausible: no image is that
#: large (the detectors refuse sides over 20,000 px, gigapixel panoramas stay below ~200,000)
MAX_COORD = 1e6
#: a point further than this share of the image's longer side outside the frame is dropped
FRAME_MARGIN = 0.25
#: a group of points further from the rest of the person than this many times the rest's spread
#: is implausible (see :func:`implausible_points`); real detector output stays below 3.3
FAR_POINT_FACTOR = 20.0


def _splits(k: int = 5) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """All ways to split ≥ 4 of ``k`` point slots into a core A and a rest B, |A| ≥ |B| ≥ 1:
    boolean masks ``(S, k)`` for A and for B (the 4|1, 3|2 splits of 5 points and the 3|1, 2|2
    splits of every 4 points; a 2|2 split appears once)."""
    a_list, b_list = [], []
    for used in range(1, 1 << k):
        n = bin(used).count("1")
        if n < 4:
            continue
        slots = [i for i in range(k) if used >> i & 1]
        for sub in range(1, 1 << n):
            a = [slots[i] for i in range(n) if sub >> i & 1]
            b = [i for i in slots if i not in a]
            if not b or len(a) < len(b) or (len(a) == len(b) and slots[0] not in a):
                continue
            a_list.append(np.isin(np.arange(k), a))
            b_list.append(np.isin(np.arange(k), b))
    return np.array(a_list), np.array(b_list)


_SPLIT_A, _SPLIT_B = _splits()
_PAIR_I, _PAIR_J = np.triu_indices(5, 1)
_PAIR_OF = np.full((5, 5), 10)
_PAIR_OF[_PAIR_I, _PAIR_J] = _PAIR_OF[_PAIR_J, _PAIR_I] = np.arange(10)


def _pair_index(mask_a: NDArray[np.bool_], mask_b: NDArray[np.bool_] | None) -> NDArray[np.intp]:
    """Per split, the indices (into the 10 point pairs; 10 = padding) of the pairs within A (if
    ``mask_b`` is None) or between A and B, padded to a common length."""
    rows = []
    for s in range(len(mask_a)):
        a = np.flatnonzero(mask_a[s])
        b = a if mask_b is None else np.flatnonzero(mask_b[s])
        rows.append(sorted({int(_PAIR_OF[i, j]) for i in a for j in b if i != j}))
    width = max(len(r) for r in rows)
    return np.array([r + [10] * (width - len(r)) for r in rows], np.intp)


_WITHIN_A = _pair_index(_SPLIT_A, None)
_WITHIN_B = _pair_index(_SPLIT_B, None)
_BETWEEN = _pair_index(_SPLIT_A, _SPLIT_B)
_SPLIT_USED = (_SPLIT_A | _SPLIT_B) @ (1 << np.arange(5))  # bit code of the points a split uses
_SPLIT_TIE = _SPLIT_A.sum(axis=1) == _SPLIT_B.sum(axis=1)


def implausible_points(
    keypoints: NDArray[np.float32], image_size: tuple[int, int] | None = None
) -> NDArray[np.bool_]:
    """``(N, 5)`` flags: present points that cannot be keypoints of the person's head.

    Expects :func:`validate_keypoints` output. A present point is implausible when

    1. a coordinate lies beyond ± :data:`MAX_COORD` pixels, or
    2. (only with ``image_size`` = (width, height) pixels) it lies more than
       :data:`FRAME_MARGIN` × the longer image side outside the frame, or
    3. it belongs to a far group: the person's other present points (1 and 2 set aside) can be
       split into a core A and a rest B with |A| ≥ |B| ≥ 1 and |A| + |B| ≥ 4 such that every
       point of B is more than :data:`FAR_POINT_FACTOR` × *s* away from every point of A, where
       *s* is A's spread (largest distance between two of its points) — or, for a 2|2 split,
       the larger spread of the two pairs, and then all four points are flagged (no majority
       tells which pair is the head).

    Rule 3 is translation-, rotation- and scale-invariant: it needs no image size and judges
    people with four or five points; two or three points carry no internal scale and are judged
    by rules 1 and 2 only. Distances are computed in float64 (exact for any float32 input).
    """
    kp = np.asarray(keypoints, dtype=np.float32)
    # (5, N) planes: the per-point steps run along contiguous rows
    kpt = kp.transpose(2, 1, 0)
    present = kpt[2] > 0
    x = kpt[0].astype(np.float64)
    y = kpt[1].astype(np.float64)
    bad = present & ((np.abs(x) > MAX_COORD) | (np.abs(y) > MAX_COORD))
    if image_size is not None and len(kp):
        w, h = float(image_size[0]), float(image_size[1])
        m = FRAME_MARGIN * max(w, h)
        bad |= present & ((x < -m) | (x > w + m) | (y < -m) | (y > h + m))
    use = present & ~bad
    rows = np.flatnonzero(use.sum(axis=0) >= 4)
    if not len(rows):
        return np.ascontiguousarray(bad.T)
    u = use[:, rows]
    xr, yr = x[:, rows], y[:, rows]
    dx = xr[_PAIR_I] - xr[_PAIR_J]
    dy = yr[_PAIR_I] - yr[_PAIR_J]
    d2 = dx * dx + dy * dy  # (10, R) squared distances
    pair_ok = u[_PAIR_I] & u[_PAIR_J]
    # cheap screen: no group can be far when the largest distance is within FAR_POINT_FACTOR ×
    # the smallest one (a lower bound of every spread s of rule 3)
    f2 = FAR_POINT_FACTOR * FAR_POINT_FACTOR
    largest = np.where(pair_ok, d2, 0.0).max(axis=0)
    smallest = np.where(pair_ok, d2, np.inf).min(axis=0)
    check = np.flatnonzero(largest > f2 * smallest)
    bad = np.ascontiguousarray(bad.T)
    if len(check):
        bad[rows[check]] |= _far_groups(d2[:, check].T, u[:, check].T)
    return bad


def _far_groups(d2: NDArray[np.float64], use: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Rule 3 of :func:`implausible_points` on ``(R, 10)`` squared pair distances and the
    ``(R, 5)`` points taking part; returns ``(R, 5)`` flags."""
    code = use @ (1 << np.arange(5))
    applies = _SPLIT_USED[None, :] == code[:, None]  # (R, S)
    zero = np.concatenate([d2, np.zeros((len(d2), 1))], axis=1)  # pad index 10 → 0 / inf
    inf = np.concatenate([d2, np.full((len(d2), 1), np.inf)], axis=1)
    spread_a = zero[:, _WITHIN_A].max(axis=2)  # (R, S)
    spread_b = zero[:, _WITHIN_B].max(axis=2)
    gap = inf[:, _BETWEEN].min(axis=2)
    spread = np.where(_SPLIT_TIE, np.maximum(spread_a, spread_b), spread_a)
    far = applies & (gap > FAR_POINT_FACTOR * FAR_POINT_FACTOR * spread)
    flag = np.where(_SPLIT_TIE[:, None], _SPLIT_A | _SPLIT_B, _SPLIT_B)  # (S, 5)
    result: NDArray[np.bool_] = (far[:, :, None] & flag[None]).any(axis=1)
    return result


def plausible(keypoints: NDArray[np.float32]) -> NDArray[np.bool_]:
    """``(N,)``: no present point is implausible (:func:`implausible_points` without an image
    size). :meth:`hhpnet.model.HeadPoseModel.predict` marks the other people invalid."""
    return np.asarray(~implausible_points(keypoints).any(axis=1))


def drop_implausible_points(
    keypoints: NDArray[np.float32], image_size: tuple[int, int] | None = None
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Mark the points of :func:`implausible_points` as missing (confidence and coordinates 0).

    Repeated until nothing more is flagged (setting a far group aside can reveal another one),
    so the result passes :func:`plausible`. Detector points slightly outside the frame (a face
    cut by the border) are kept. Returns the cleaned copy and the number of points dropped per
    person.
    """
    kp = np.array(keypoints, dtype=np.float32, copy=True)
    dropped = np.zeros(len(kp), np.int64)
    while True:
        bad = implausible_points(kp, image_size)
        if not bad.any():
            return kp, dropped
        kp[bad] = 0.0
        dropped += bad.sum(axis=1)


_NUMBER = (int, float, np.integer, np.floating)


def check_image_size(image_size: object, name: str = "image_size") -> tuple[int, int] | None:
    """``image_size`` as ``(width, height)`` whole pixels, or None if None.

    Accepts two finite positive numbers (ints, floats, numpy scalars; rounded to whole pixels,
    at least 1, at most :data:`MAX_COORD`). Anything else — NaN, inf, strings, booleans, a
    scalar, the wrong length, zero or negative sizes — raises a one-line :class:`InputError`.
    """
    if image_size is None:
        return None
    want = f"{name} must be (width, height) in pixels, two positive numbers"
    if isinstance(image_size, (str, bytes)) or not hasattr(image_size, "__len__"):
        raise InputError(f"{want}; got {image_size!r}"[:200])
    try:
        values = list(cast("Iterable[object]", image_size))  # a TypeError is caught
    except TypeError:
        raise InputError(f"{want}; got {image_size!r}"[:200]) from None
    if len(values) != 2:
        raise InputError(f"{want}; got {len(values)} value(s)")
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, _NUMBER):
            raise InputError(f"{want}; got {image_size!r}"[:200])
        f = float(v)
        if not (math.isfinite(f) and 0.5 <= f <= MAX_COORD):
            raise InputError(f"{want} (1 to {MAX_COORD:.0e}); got {tuple(values)!r}"[:200])
        out.append(round(f))
    return out[0], out[1]


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
