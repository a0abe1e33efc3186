"""Synthetic inputs for tests, export checks and benchmarks: a pose model with random weights of
the shipped shapes, head crops of the bundled example photos, and test scenes built from them.

Not used by inference; nothing here is imported by ``import hhpnet`` or a prediction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

if TYPE_CHECKING:
    from hhpnet._types import U8
    from hhpnet.model import HeadPoseModel

__all__ = ["face_crops", "face_tiles", "make_scene", "synthetic_model"]


# --------------------------------------------------------------------------- pose network
def synthetic_model(alpha: float, seed: int = 0) -> HeadPoseModel:
    """A :class:`hhpnet.model.HeadPoseModel` with random weights of the contract's shapes
    (timings do not depend on the weight values; used when no trained file is shipped)."""
    import numpy as np

    from hhpnet.model import HeadPoseModel, tensor_shapes

    rng = np.random.default_rng(seed)
    t = {
        k: rng.normal(0.0, 1.0 / math.sqrt(shape[-1]), shape).astype(np.float32)
        for k, shape in tensor_shapes(alpha).items()
    }
    t["head.weight"] *= 30.0
    t["head.bias"][1::2] = 3.0
    return HeadPoseModel(t, {"alpha": f"{alpha:g}", "name": f"hhpnet-{alpha:g} (random weights)"})


def face_crops(
    size: int = 110,
    names: Sequence[str] = ("astronaut.jpg", "grace_hopper.jpg"),
    mirrored: bool = True,
) -> list[U8]:
    """Square BGR crops (``size`` px) around the most confident BlazeFace face of each bundled
    example photo in ``names`` (side 1.8 × the face box, cut at the image border; a photo without
    a face is skipped), each followed by its mirror image when ``mirrored`` (a different person
    for the detector) — the faces of the synthetic test and benchmark videos."""
    import cv2

    from hhpnet.detectors import create_detector
    from hhpnet.io import read_image

    det = create_detector("blazeface")
    crops: list[U8] = []
    for name in names:
        rgb = read_image(Path(__file__).parent / "examples" / name)
        d = det(rgb)
        if len(d) == 0:
            continue
        x1, y1, x2, y2 = d.boxes[int(np.argmax(d.scores))]
        cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, 0.9 * max(x2 - x1, y2 - y1)
        a, b = int(max(cx - half, 0)), int(max(cy - half, 0))
        crop = np.ascontiguousarray(rgb[b : int(cy + half), a : int(cx + half), ::-1])
        square = cast("U8", cv2.resize(crop, (size, size)))  # (OpenCV types any depth)
        crops += [square, square[:, ::-1].copy()] if mirrored else [square]
    return crops


def face_tiles() -> list[U8]:
    """Square BGR head crops from the bundled example photos (public domain / CC0), found with
    BlazeFace: the faces of ``astronaut``, ``grace_hopper`` and ``pair_640x480``, plus mirrors."""
    import cv2

    from hhpnet.detectors import create_detector
    from hhpnet.io import bgr_to_rgb

    root = Path(__file__).parent / "examples"
    det = create_detector("blazeface", num_threads=1)
    tiles: list[U8] = []
    for fname in ("astronaut.jpg", "grace_hopper.jpg", "pair_640x480.jpg"):
        bgr = cv2.imread(str(root / fname))
        if bgr is None:
            continue
        found = det(bgr_to_rgb(bgr))
        for x1, y1, x2, y2 in found.boxes:
            side = 1.9 * max(x2 - x1, y2 - y1)
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 - 0.05 * side
            m = np.array([[1, 0, side / 2 - cx], [0, 1, side / 2 - cy]], np.float32)
            s = round(side)
            tile = cv2.warpAffine(bgr, m, (s, s), borderMode=cv2.BORDER_REPLICATE)
            tiles.append(cast("U8", tile))
    tiles += [t[:, ::-1].copy() for t in tiles[:2]]
    return tiles


def make_scene(n_people: int, width: int = 640, height: int = 480) -> U8:
    """A BGR test image with ``n_people`` heads from :func:`face_tiles` on a textured background."""
    import cv2

    tiles = face_tiles()
    if not tiles:
        raise RuntimeError("no example faces found (hhpnet/examples missing?)")
    rng = np.random.default_rng(n_people)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    bg = np.stack([90 + 60 * xx / width, 110 + 40 * yy / height, 130 - 50 * xx / width], -1)
    img = np.clip(bg + rng.normal(0, 6, bg.shape), 0, 255).astype(np.uint8)
    cols = 1 if n_people == 1 else math.ceil(math.sqrt(n_people * width / height))
    rows = math.ceil(n_people / cols)
    cell_w, cell_h = width // cols, height // rows
    side = int(min(cell_w, cell_h) * (0.9 if n_people > 1 else 0.6))
    for i in range(n_people):
        r, c = divmod(i, cols)
        tile = cv2.resize(tiles[i % len(tiles)], (side, side), interpolation=cv2.INTER_AREA)
        x0 = c * cell_w + (cell_w - side) // 2
        y0 = r * cell_h + (cell_h - side) // 2
        img[y0 : y0 + side, x0 : x0 + side] = tile
    return img
