"""Rendered test faces at known poses: a frontal photo wrapped onto a 3-D head and turned.

The texture is the face of the bundled public-domain ``astronaut.jpg`` (Eileen Collins, NASA),
looking at the camera. It is projected from the front onto a head-shaped surface — an ellipsoid
with a nose ridge — which is rotated by (yaw, pitch, roll) in hhpnet's convention
(:mod:`hhpnet.convention`) about the head's centre and drawn with a pinhole camera (focal length
= image width, head centred) by forward splatting with a z-buffer. The photo's own pose is not
exactly zero and the surface is only head-like, so detectors see a plausible face whose pose is
the applied rotation to within a few degrees; what the renders pin is how each pipeline's
answer follows the rotation (signs, no mirrored or behind-the-camera solutions).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from hhpnet.convention import angles_to_matrix

PHOTO = Path(__file__).resolve().parents[2] / "src" / "hhpnet" / "examples" / "astronaut.jpg"
#: face centre (x, y) and half side of the square texture crop in the 512 × 512 photo, pixels
CROP_CENTRE, CROP_HALF = (224.0, 128.0), 100.0
TEXTURE = 640  # texture samples per side (3.2× the crop's pixels: few holes after turning)
#: head shape in units of the crop's half side: ellipsoid semi-axes (x, y, z), centre offset
#: below the crop centre, and a nose ridge (height, centre y, widths x and y)
AXES = (0.56, 0.78, 0.62)
CENTRE_Y = 0.0
NOSE = (0.14, 0.10, 0.09, 0.24)
DISTANCE = 3.2  # camera distance from the head centre, same units
SIZE = 480  # output image side, pixels; focal length = SIZE


@lru_cache(maxsize=1)
def _surface() -> tuple[np.ndarray, np.ndarray]:
    """Head-frame points ``(m, 3)`` (x right, y down, z towards the viewer) and BGR colours."""
    bgr = cv2.imread(str(PHOTO))
    if bgr is None:
        raise FileNotFoundError(PHOTO)
    cx, cy = CROP_CENTRE
    k = TEXTURE / (2 * CROP_HALF)
    m = np.array([[k, 0, TEXTURE / 2 - k * cx], [0, k, TEXTURE / 2 - k * cy]])
    tex = cv2.warpAffine(bgr, m, (TEXTURE, TEXTURE), flags=cv2.INTER_LINEAR)
    v, u = (np.mgrid[0:TEXTURE, 0:TEXTURE] + 0.5) / (TEXTURE / 2) - 1.0  # [-1, 1]
    a, b, c = AXES
    yy = v - CENTRE_Y
    inside = (u / a) ** 2 + (yy / b) ** 2 < 1.0
    z = c * np.sqrt(np.clip(1.0 - (u / a) ** 2 - (yy / b) ** 2, 0.0, None))
    h, ny, wx, wy = NOSE
    z = z + h * np.exp(-0.5 * ((u / wx) ** 2 + ((v - ny) / wy) ** 2))
    pts = np.stack([u, yy, z], axis=-1)[inside]
    return pts, tex[inside]


def render_face(yaw: float, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """An RGB uint8 ``(SIZE, SIZE, 3)`` image of the textured head at this pose."""
    pts, colours = _surface()
    rot = angles_to_matrix(yaw, pitch, roll)
    p = pts @ rot.T  # viewer frame: x right, y down, z towards the viewer
    depth = DISTANCE - p[:, 2]
    f = float(SIZE)
    px = np.round(f * p[:, 0] / depth + SIZE / 2).astype(np.int64)
    py = np.round(f * p[:, 1] / depth + SIZE / 2).astype(np.int64)
    ok = (px >= 0) & (px < SIZE) & (py >= 0) & (py < SIZE)
    flat = py[ok] * SIZE + px[ok]
    order = np.lexsort((depth[ok], flat))  # per pixel, the nearest sample first
    first = np.unique(flat[order], return_index=True)[1]
    chosen = order[first]
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    img = np.stack([70 + 40 * yy / SIZE, 80 + 30 * xx / SIZE, 95 + 0 * xx], -1).astype(np.uint8)
    filled = np.zeros(SIZE * SIZE, bool)
    out = img.reshape(-1, 3)
    out[flat[chosen]] = colours[ok][chosen]
    filled[flat[chosen]] = True
    # close the few one-pixel holes of the splatting inside the head
    mask = filled.reshape(SIZE, SIZE).astype(np.uint8)
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    holes = (closed > 0) & (mask == 0)
    if holes.any():
        img = cv2.inpaint(img, holes.astype(np.uint8), 2, cv2.INPAINT_TELEA)
    return np.ascontiguousarray(img[..., ::-1])
