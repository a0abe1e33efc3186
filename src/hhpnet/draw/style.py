"""Shared drawing style of :mod:`hhpnet.draw.pose` and :mod:`hhpnet.draw.interaction`: colour
type and order, the grey of invalid people, the head-axis colours, the font, pixel points and
outlined text.

Colours are RGB tuples everywhere in the API; :func:`colour` turns one into the scene's channel
order (BGR for OpenCV images unless ``rgb=True``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import SupportsFloat

import cv2
import numpy as np
from numpy.typing import NDArray

from hhpnet._types import FloatArray

__all__ = ["AXIS_COLORS", "FONT", "GREY", "RGB", "U8", "colour", "outlined_text", "point"]

RGB = tuple[int, int, int]
U8 = NDArray[np.uint8]
#: invalid people, excluded heads
GREY: RGB = (150, 150, 150)
#: the head axes x (to the subject's left ear), y (to the chin), z (facing direction)
AXIS_COLORS: tuple[RGB, RGB, RGB] = ((230, 30, 30), (30, 200, 30), (40, 90, 255))
FONT = cv2.FONT_HERSHEY_SIMPLEX


def colour(rgb_colour: RGB, rgb: bool) -> tuple[int, int, int]:
    """An RGB colour in the scene's channel order (reversed for BGR scenes)."""
    r, g, b = rgb_colour
    return (r, g, b) if rgb else (b, g, r)


def point(p: Sequence[SupportsFloat] | FloatArray) -> tuple[int, int]:
    """Integer pixel of an (x, y) point (rounded)."""
    return round(float(p[0])), round(float(p[1]))


def outlined_text(
    img: U8, text: str, org: tuple[int, int], scale: float, colour: RGB, thick: int
) -> None:
    """``cv2.putText`` with a black outline (readable on any background), in place."""
    cv2.putText(img, text, org, FONT, scale, (0, 0, 0), thick + 2, cv2.LINE_AA)
    cv2.putText(img, text, org, FONT, scale, colour, thick, cv2.LINE_AA)
