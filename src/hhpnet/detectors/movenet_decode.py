"""MoveNet MultiPose's prediction heads and multi-person decoding, in numpy.

The published graph ends in six prediction heads on a 24-channel feature map at 1/4 of the
input resolution (stride 4) and a decoding tail that turns them into 6 candidate people. The
shipped TFLite file (``tools/convert_movenet.py``) stops at the feature map and the two dense
heat maps; this module does the rest, reproducing the graph's arithmetic (float32, its
float16-rounded constants), but only where the graph's result depends on it:

1. **People** — the centre heat map's local maxima (5×5 max-pool, ``|c − pool| < 1.0133e-6``),
   the 6 highest, ties to the lower cell index (TFLite's ``TOPK_V2``).
2. **Boxes and keypoint regression** — the box-size, box-offset and keypoint-regression heads
   (separable 3×3 → 96, ReLU → 1×1) evaluated at those 6 cells only, instead of at all
   64×64 (the graph computes them densely, then gathers 6 cells).
3. **Keypoints** — for person *p* and keypoint *k*, the cell maximising
   ``heat[y, x, k] · exp(−d² · c)`` (d: distance to *p*'s regressed keypoint in cells,
   c = 1 / (0.3 · min grid side) rounded to float16, as in the file) over the cells inside
   *p*'s box (first such cell in raster order; cell 0 when all are 0). The graph evaluates
   this on 64×64×6×17 cells; here it runs on each live person's box window. The keypoint's
   score is the largest weighted value of any of the 6 candidates at that cell, its position
   the cell plus the keypoint-offset head evaluated there (again only at those cells).
4. **Person score** — the centre peak × the mean of the keypoint scores above 0.126953125.

Rows of candidates whose centre score is 0 (fewer than 6 peaks) have their box and a score of
0 but no keypoints (the graph's rows there are never used: every caller drops scores ≤ 0).

Measured against the full graph (TFLite, the previous shipped file) on 60 inputs (bundled
photos, rendered figures, crops, mirror images, padding): keypoints within 1.5e-5 px of the
256-px input, scores within 1.3e-6, same people (docs/detectors.md).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

__all__ = ["HEADS", "SLOTS", "decode_heads", "dense_keypoint_cells"]

F32 = NDArray[np.float32]

#: candidate people (rows of the output)
SLOTS = 6
KEYPOINTS = 17
#: the sparse heads (name → output channels); the two heat maps stay in the TFLite graph
HEADS = {"box_scale": 2, "box_offset": 2, "kpt_regress": 34, "kpt_offset": 34}
#: a cell is a centre peak when it differs from the 5×5 max-pool by less than this
PEAK_EPS = np.float32(1.0132789611816406e-06)
#: keypoint scores above this count towards the person score
KEYPOINT_THRESHOLD = np.float32(0.126953125)
#: the weighting's spread, × the smaller grid side (float16 in the graph)
SPREAD = np.float32(0.300048828125)
#: output stride of the feature map (input pixels per cell)
STRIDE = 4

_NEIGHBOURS = np.array([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)], np.intp)


def _patches(feature: F32, cells: NDArray[np.intp]) -> F32:
    """(n, 9, C) 3×3 neighbourhoods of ``feature`` (H, W, C) around ``cells`` (n, 2) y, x, with
    zeros outside the map (the graph's SAME padding)."""
    h, w = feature.shape[:2]
    at = cells[:, None, :] + _NEIGHBOURS[None]
    inside = (at[..., 0] >= 0) & (at[..., 0] < h) & (at[..., 1] >= 0) & (at[..., 1] < w)
    out: F32 = feature[np.clip(at[..., 0], 0, h - 1), np.clip(at[..., 1], 0, w - 1)]
    out[~inside] = 0.0
    return out


def _head(weights: Mapping[str, F32], name: str, patches: F32) -> F32:
    """Head ``name`` (depthwise 3×3 → pointwise 96 + bias, ReLU → 1×1 + bias) at the centres of
    ``patches`` (n, 9, 24): (n, channels)."""
    x = np.einsum("nkc,kc->nc", patches, weights[f"{name}/depthwise"].reshape(9, -1))
    x = x @ weights[f"{name}/pointwise"] + weights[f"{name}/pointwise_bias"]
    np.maximum(x, 0.0, out=x)
    out: F32 = x @ weights[f"{name}/out"] + weights[f"{name}/out_bias"]
    return out


def _weighted(heat: F32, d2: F32, c: np.float32) -> F32:
    """The graph's keypoint weighting ``heat · exp((−d²) · c)`` in float32."""
    out: F32 = heat * np.exp((-d2) * c)
    return out


def dense_keypoint_cells(
    heat: F32, boxes: F32, ry: F32, rx: F32, c: np.float32
) -> NDArray[np.intp]:
    """Reference of step 3 as the graph computes it (every cell, every candidate): the flat cell
    index (SLOTS, 17) of each candidate's keypoints. For tests; :func:`decode_heads` gets the
    same cells from box windows."""
    h, w = heat.shape[:2]
    gy = np.arange(h, dtype=np.float32)[:, None, None, None]
    gx = np.arange(w, dtype=np.float32)[None, :, None, None]
    d2 = (gy - ry[None, None]) ** 2 + (gx - rx[None, None]) ** 2  # (H, W, SLOTS, 17)
    v = _weighted(heat[:, :, None, :], d2.astype(np.float32), c)
    inside = (
        (gy >= boxes[:, 0][:, None])
        & (gy < boxes[:, 2][:, None])
        & (gx >= boxes[:, 1][:, None])
        & (gx < boxes[:, 3][:, None])
    )
    v = v * inside
    return np.asarray(v.reshape(h * w, -1).argmax(axis=0).reshape(-1, KEYPOINTS), np.intp)


def _window_cells(heat: F32, box: F32, ry: F32, rx: F32, c: np.float32) -> NDArray[np.intp]:
    """One candidate's 17 keypoint cells (flat indices) from the cells inside its box."""
    h, w = heat.shape[:2]
    y0, y1 = (min(max(int(np.ceil(v)), 0), h) for v in (box[0], box[2]))
    x0, x1 = (min(max(int(np.ceil(v)), 0), w) for v in (box[1], box[3]))
    if y1 <= y0 or x1 <= x0:
        return np.zeros(KEYPOINTS, np.intp)
    gy = np.arange(y0, y1, dtype=np.float32)[:, None, None]
    gx = np.arange(x0, x1, dtype=np.float32)[None, :, None]
    v = _weighted(heat[y0:y1, x0:x1], (gy - ry) ** 2 + (gx - rx) ** 2, c).reshape(-1, KEYPOINTS)
    best = v.argmax(axis=0)
    cells = (best // (x1 - x0) + y0) * w + best % (x1 - x0) + x0
    # every weighted value 0 (far from the regressed point, or an empty box): the graph's
    # argmax over all cells then returns the first cell
    return np.where(v[best, np.arange(KEYPOINTS)] > 0, cells, 0).astype(np.intp)


def _boxes(ay: F32, ax: F32, size: F32, gh: int, gw: int) -> F32:
    """(SLOTS, 4) boxes ymin, xmin, ymax, xmax (cells) of sides ``size`` around the centres
    ``ay``, ``ax``, clipped to the ``gh`` × ``gw`` grid."""
    half = np.float32(0.5)
    return np.stack(
        [
            np.clip(ay - size[:, 0] * half, 0, gh),
            np.clip(ax - size[:, 1] * half, 0, gw),
            np.clip(ay + size[:, 0] * half, 0, gh),
            np.clip(ax + size[:, 1] * half, 0, gw),
        ],
        axis=1,
    ).astype(np.float32)


def _cell_scores(
    heat: F32,
    cells: tuple[NDArray[np.intp], NDArray[np.intp]],
    regressed: tuple[F32, F32],
    boxes: F32,
    c: np.float32,
) -> F32:
    """(SLOTS, 17) a keypoint's score: the best weighted value of any candidate at its cell
    (``cells``: the chosen cells' y, x; ``regressed``: every slot's regressed y, x)."""
    ky, kx = cells
    ry, rx = regressed
    fky, fkx = ky.astype(np.float32), kx.astype(np.float32)
    d2 = (fky[..., None] - ry.T[None]) ** 2 + (fkx[..., None] - rx.T[None]) ** 2
    inside = (
        (fky[..., None] >= boxes[:, 0])
        & (fky[..., None] < boxes[:, 2])
        & (fkx[..., None] >= boxes[:, 1])
        & (fkx[..., None] < boxes[:, 3])
    )
    k = np.arange(KEYPOINTS)
    score: F32 = (_weighted(heat[ky, kx, k][..., None], d2, c) * inside).max(axis=-1)
    return score


def decode_heads(
    feature: F32,
    center: F32,
    center_max: F32,
    heat: F32,
    weights: Mapping[str, F32],
    grid: tuple[int, int] | None = None,
) -> F32:
    """The graph's output (SLOTS, 56) from the backbone's outputs.

    ``feature`` (H, W, 24), ``center`` (H, W) the centre heat map (after its sigmoid),
    ``center_max`` (H, W) its 5×5 max-pool, ``heat`` (H, W, 17) the keypoint heat maps (after
    their sigmoid); ``weights`` the sparse heads' arrays (``{head}/depthwise`` (3, 3, 24),
    ``pointwise`` (24, 96), ``pointwise_bias``, ``out`` (96, k), ``out_bias``).

    ``grid`` (GH, GW): the cell grid of the square input the output refers to, when the
    network ran on its top-left H×W part only (H ≤ GH, W ≤ GW; default: H, W): boxes are
    clipped to it, the weighting's spread uses its smaller side and coordinates are normalised
    by its size, exactly as if the network had seen the whole square.

    Rows: 17 × (y, x, score) (y, x normalised to the square), box (ymin, xmin, ymax, xmax)
    normalised, person score.
    """
    h, w = heat.shape[:2]
    gh, gw = grid if grid is not None else (h, w)
    center = center.reshape(h * w)
    peaks = center * (np.abs(center - center_max.reshape(h * w)) < PEAK_EPS)
    cell = np.argsort(-peaks, kind="stable")[:SLOTS]  # TOPK_V2: ties to the lower index
    peak = peaks[cell].astype(np.float32)
    cy, cx = cell // w, cell % w
    patches = _patches(feature, np.stack([cy, cx], axis=1))
    size = np.maximum(_head(weights, "box_scale", patches), 0.0)
    shift = _head(weights, "box_offset", patches)
    reg = _head(weights, "kpt_regress", patches).reshape(SLOTS, KEYPOINTS, 2)
    fy, fx = cy.astype(np.float32), cx.astype(np.float32)
    boxes = _boxes(fy + shift[:, 0], fx + shift[:, 1], size, gh, gw)
    ry, rx = fy[:, None] + reg[..., 0], fx[:, None] + reg[..., 1]  # (SLOTS, 17)
    c = np.float32(np.float16(1.0 / (np.float32(min(gh, gw)) * SPREAD)))

    live = np.flatnonzero(peak > 0)
    cells = np.zeros((SLOTS, KEYPOINTS), np.intp)
    for p in live:
        cells[p] = _window_cells(heat, boxes[p], ry[p], rx[p], c)
    ky, kx = cells // w, cells % w
    fky, fkx = ky.astype(np.float32), kx.astype(np.float32)
    score = _cell_scores(heat, (ky, kx), (ry, rx), boxes, c)

    out = np.zeros((SLOTS, 56), np.float32)
    if len(live):
        lk, lx = ky[live].ravel(), kx[live].ravel()
        offset = _head(weights, "kpt_offset", _patches(feature, np.stack([lk, lx], axis=1)))
        kk = np.tile(np.arange(KEYPOINTS), len(live))
        oy, ox = offset[np.arange(len(kk)), 2 * kk], offset[np.arange(len(kk)), 2 * kk + 1]
        y = (fky[live].ravel() + oy) * np.float32(1.0 / gh)  # the graph: × 4 / input side
        x = (fkx[live].ravel() + ox) * np.float32(1.0 / gw)
        kp = np.stack([y, x, score[live].ravel()], axis=-1).reshape(len(live), -1)
        out[live, : 3 * KEYPOINTS] = kp
    out[:, 51:55] = np.clip(boxes / np.array([gh, gw, gh, gw], np.float32), 0.0, 1.0)
    counted = score > KEYPOINT_THRESHOLD
    n = np.maximum(counted.sum(axis=1).astype(np.float32), np.float32(1))
    total = (peak[:, None] * np.where(counted, score, np.float32(0))).sum(axis=1, dtype=np.float32)
    out[:, 55] = total * (np.float32(1) / n)
    return out
