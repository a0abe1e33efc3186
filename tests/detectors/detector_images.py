"""Test images built from permissive sample photos (scikit-image's astronaut, NASA, public domain;
matplotlib's grace_hopper, public domain): single faces, mirrored, rotated, shrunk, composed."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

Image = NDArray[np.uint8]


def astronaut() -> Image:
    import skimage.data

    return np.ascontiguousarray(skimage.data.astronaut())


def grace_hopper() -> Image:
    from matplotlib import cbook
    from PIL import Image as PILImage

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.asarray(PILImage.open(f).convert("RGB")).copy()


def head_crops() -> list[Image]:
    """Head-and-shoulders crops with the face in the middle (astronaut, Grace Hopper)."""
    return [astronaut()[10:290, 100:350], grace_hopper()[90:420, 110:410]]


def compose(n: int, width: int = 640, height: int = 480, seed: int = 0) -> Image:
    """``n`` head crops (alternately astronaut / Grace Hopper, every second one mirrored) laid on a
    grey canvas in a grid of ``ceil(n / rows)`` columns."""
    rng = np.random.default_rng(seed)
    canvas = np.full((height, width, 3), 120, np.uint8)
    rows = 1 if n <= 3 else 2
    cols = int(np.ceil(n / rows))
    cw, ch = width // cols, height // rows
    crops = head_crops()
    for i in range(n):
        crop = crops[i % 2]
        if (i // 2) % 2 == 1:
            crop = crop[:, ::-1]
        scale = min(cw / crop.shape[1], ch / crop.shape[0]) * rng.uniform(0.85, 0.95)
        c = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        r, q = divmod(i, cols)
        y0 = r * ch + (ch - c.shape[0]) // 2
        x0 = q * cw + (cw - c.shape[1]) // 2
        canvas[y0 : y0 + c.shape[0], x0 : x0 + c.shape[1]] = c
    return canvas


def rotate(image: Image, degrees: float) -> tuple[Image, NDArray[np.float64]]:
    """Rotate clockwise (in the image, y down) by ``degrees`` about the centre, keeping the size;
    returns the image and the 2×3 map from old to new pixel coordinates."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), -degrees, 1.0)
    out = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(120, 120, 120))
    return out, m


def example_grid() -> Image:
    """640×480 RGB: 3×2 grid of head-and-shoulders crops of the bundled examples (astronaut,
    Grace Hopper, camera; top row as is, bottom row mirrored), as benchmarks/bench_pipeline.py."""
    from hhpnet.commands.demo import EXAMPLES_DIR

    crops = {
        "astronaut.jpg": (90, 20, 402, 372),
        "grace_hopper.jpg": (60, 60, 460, 511),
        "camera.jpg": (120, 60, 340, 308),
    }
    cells = []
    for name, (x0, y0, x1, y1) in crops.items():
        bgr = cv2.imread(str(EXAMPLES_DIR / name))
        cell = cv2.resize(bgr[y0:y1, x0:x1], (213, 240), interpolation=cv2.INTER_AREA)
        cells += [cell, cell[:, ::-1]]
    grid = np.vstack([np.hstack(cells[0:6:2]), np.hstack(cells[1:6:2])])
    out = np.full((480, 640, 3), 90, np.uint8)
    out[:, : grid.shape[1]] = grid
    return np.ascontiguousarray(out[..., ::-1])
