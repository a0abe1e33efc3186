"""Regenerate the bundled example images in ``src/hhpnet/examples/`` (see LICENSES.md there).

Sources are images shipped inside PyPI wheels with permissive terms (no download):
scikit-image's ``astronaut`` (public domain, NASA) and ``camera`` (CC0, Lav Varshney), and
matplotlib's ``grace_hopper.jpg`` (U.S. Navy photograph, public domain). Run::

    .venv/bin/python tools/make_examples.py
"""

from __future__ import annotations

from pathlib import Path

import cv2
import matplotlib.cbook as cbook
import numpy as np
from PIL import Image
from skimage import data

OUT = Path(__file__).resolve().parents[1] / "src" / "hhpnet" / "examples"
QUALITY = 85


def _save(name: str, rgb: np.ndarray) -> Path:
    path = OUT / name
    Image.fromarray(np.ascontiguousarray(rgb)).save(path, quality=QUALITY, optimize=True)
    return path


def _crop_resize(rgb: np.ndarray, x0: int, x1: int, y0: int, y1: int, size: tuple[int, int]):
    return cv2.resize(rgb[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    astronaut = data.astronaut()  # (512, 512, 3), faces the camera
    camera = data.camera()  # (512, 512) grayscale, a man in near profile facing image right
    hopper_path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    hopper = np.asarray(Image.open(hopper_path).convert("RGB"))  # (600, 512, 3)

    paths = [
        _save("astronaut.jpg", astronaut),
        _save("grace_hopper.jpg", hopper),
        _save("camera.jpg", camera),  # kept grayscale: exercises the gray → RGB path
    ]
    # Two people facing each other, 640×480: the cameraman (facing right) on the left and
    # Grace Hopper mirrored (so that she turns towards him) on the right.
    left = _crop_resize(np.dstack([camera] * 3), 90, 362, 20, 428, (320, 480))
    right = _crop_resize(hopper, 76, 436, 40, 580, (320, 480))[:, ::-1]
    paths.append(_save("pair_640x480.jpg", np.hstack([left, right])))
    total = sum(p.stat().st_size for p in paths)
    for p in paths:
        print(f"{p.name:22s} {p.stat().st_size / 1024:6.1f} KB")
    print(f"total {total / 1024:.1f} KB")


if __name__ == "__main__":
    main()
