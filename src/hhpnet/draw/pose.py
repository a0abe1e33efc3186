"""Drawing head poses: stateless annotators (style in ``__init__``, ``annotate(scene, poses)``).

``scene`` is a uint8 ``(H, W, 3)`` image, **BGR** (OpenCV order) unless ``rgb=True`` is given to
``annotate``; a copy is returned, the input is never modified. ``poses`` is any object with the
fields of :class:`hhpnet.poses.Poses`. Colours are given as RGB tuples.

* :class:`AxisAnnotator` — the head's three axes at the keypoint centroid, x red (towards the
  subject's left ear), y green (towards the chin), z blue (facing direction), as HopeNet's
  ``draw_axis`` and :func:`hhpnet.convention.axes_2d`; length ∝ head size.
* :class:`KeypointAnnotator` — the five keypoints (nose, subject's left side, right side).
* :class:`UncertaintyAnnotator` — a translucent fan around the facing direction whose half-width
  (degrees) is √((σ_yaw² + σ_pitch²) / 2), clipped to [3°, 80°]; a disc when the face looks
  into the camera (facing direction nearly perpendicular to the image).
* :class:`LabelAnnotator` — "Y +12±3  P -4±5  R +2±1" (yaw, pitch, roll ± σ, degrees) above
  each head, scaled to the image so it stays readable at any size.

Invalid people (fewer than two keypoints) get grey keypoints and a grey "no pose" label and no
axes or fan. :func:`annotate` applies all four.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.convention import axes_2d
from hhpnet.draw.style import AXIS_COLORS, GREY, RGB, U8, outlined_text
from hhpnet.draw.style import FONT as _FONT
from hhpnet.draw.style import colour as _col
from hhpnet.draw.style import point as _pt

if TYPE_CHECKING:
    from hhpnet.protocols import PoseLike

__all__ = [
    "AxisAnnotator",
    "KeypointAnnotator",
    "LabelAnnotator",
    "UncertaintyAnnotator",
    "annotate",
    "outlined_text",
]


def _prepare(scene: ArrayLike) -> U8:
    img = np.asarray(scene)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"scene must be a uint8 (H, W, 3) image; got {img.dtype} {img.shape}")
    return np.ascontiguousarray(img).copy()


def _lengths(poses: PoseLike, scale: float) -> NDArray[np.float64]:
    """Drawing length per person, pixels: head size (box width if unknown) × scale."""
    size = np.asarray(poses.head_size, np.float64)
    box_w = np.asarray(poses.boxes, np.float64)[:, 2] - np.asarray(poses.boxes, np.float64)[:, 0]
    size = np.where(np.isfinite(size) & (size > 0), size, box_w)
    return np.nan_to_num(size, nan=0.0) * scale


def _thickness(length: float, image_side: int) -> int:
    return int(max(1, min(round(length / 35.0), max(2, image_side // 150))))


class AxisAnnotator:
    """The three head axes at the keypoint centroid (x red, y green, z blue)."""

    def __init__(
        self,
        scale: float = 1.0,
        thickness: int | None = None,
        colors: tuple[RGB, RGB, RGB] = AXIS_COLORS,
    ) -> None:
        self.scale = scale
        self.thickness = thickness
        self.colors = colors

    def annotate(self, scene: ArrayLike, poses: PoseLike, *, rgb: bool = False) -> U8:
        img = _prepare(scene)
        ok = np.asarray(poses.valid, bool) & np.isfinite(poses.centroid).all(axis=1)
        if not ok.any():
            return img
        idx = np.flatnonzero(ok)
        axes = axes_2d(poses.yaw[idx], poses.pitch[idx], poses.roll[idx])  # (M, 3, 2)
        lengths = _lengths(poses, self.scale)[idx]
        side = min(img.shape[:2])
        for m, i in enumerate(idx):
            origin = np.asarray(poses.centroid[i], np.float64)
            t = self.thickness or _thickness(lengths[m], side)
            for a in (1, 0, 2):  # z last so the facing direction is on top
                end = origin + axes[m, a] * lengths[m]
                cv2.line(img, _pt(origin), _pt(end), _col(self.colors[a], rgb), t, cv2.LINE_AA)
        return img


class KeypointAnnotator:
    """The five keypoints: nose yellow, subject's left points magenta, right points cyan."""

    def __init__(
        self,
        radius: int | None = None,
        colors: tuple[RGB, RGB, RGB] = ((255, 220, 0), (230, 0, 200), (0, 200, 230)),
        invalid_color: RGB = GREY,
    ) -> None:
        self.radius = radius
        self.colors = colors
        self.invalid_color = invalid_color

    def annotate(self, scene: ArrayLike, poses: PoseLike, *, rgb: bool = False) -> U8:
        img = _prepare(scene)
        kp = np.asarray(poses.keypoints, np.float64)
        lengths = _lengths(poses, 1.0)
        for i in range(len(kp)):
            r = self.radius or int(max(2, min(round(lengths[i] / 25.0), 12)))
            for j in range(5):
                x, y, c = kp[i, j]
                if c <= 0:
                    continue
                if not poses.valid[i]:
                    colour = self.invalid_color
                else:
                    colour = self.colors[0 if j == 0 else 1 if j in (1, 3) else 2]
                cv2.circle(img, _pt((x, y)), r, _col(colour, rgb), -1, cv2.LINE_AA)
                cv2.circle(img, _pt((x, y)), r, (0, 0, 0), max(1, r // 4), cv2.LINE_AA)
        return img


class UncertaintyAnnotator:
    """A translucent fan around the facing direction; half-width grows with σ of yaw and pitch."""

    def __init__(
        self,
        scale: float = 1.6,
        color: RGB = (255, 170, 0),
        alpha: float = 0.35,
        min_deg: float = 3.0,
        max_deg: float = 80.0,
    ) -> None:
        self.scale = scale
        self.color = color
        self.alpha = alpha
        self.min_deg = min_deg
        self.max_deg = max_deg

    def half_width(self, sigma: NDArray[np.floating]) -> NDArray[np.float64]:
        """Fan half-width in degrees from σ (N, 3): √((σ_yaw² + σ_pitch²)/2), clipped."""
        s = np.asarray(sigma, np.float64)
        hw = np.sqrt(0.5 * (s[:, 0] ** 2 + s[:, 1] ** 2))
        result: NDArray[np.float64] = np.clip(
            np.nan_to_num(hw, nan=self.max_deg, posinf=self.max_deg), self.min_deg, self.max_deg
        )
        return result

    def annotate(self, scene: ArrayLike, poses: PoseLike, *, rgb: bool = False) -> U8:
        img = _prepare(scene)
        ok = np.asarray(poses.valid, bool) & np.isfinite(poses.centroid).all(axis=1)
        if not ok.any():
            return img
        idx = np.flatnonzero(ok)
        facing = axes_2d(poses.yaw[idx], poses.pitch[idx], poses.roll[idx])[:, 2]  # (M, 2)
        hw = np.deg2rad(self.half_width(np.asarray(poses.sigma)[idx]))
        lengths = _lengths(poses, self.scale)[idx]
        overlay = img.copy()
        colour = _col(self.color, rgb)
        for m, i in enumerate(idx):
            origin = np.asarray(poses.centroid[i], np.float64)
            norm = float(np.hypot(*facing[m]))
            if norm < 0.2:  # looking into the camera: the in-plane direction is undefined
                radius = lengths[m] * (0.15 + 0.5 * np.sin(hw[m]))
                cv2.circle(overlay, _pt(origin), round(float(radius)), colour, -1, cv2.LINE_AA)
                continue
            base = float(np.arctan2(facing[m, 1], facing[m, 0]))
            theta = base + np.linspace(-hw[m], hw[m], 24)
            reach = lengths[m] * max(norm, 0.35)
            arc = origin + reach * np.stack([np.cos(theta), np.sin(theta)], axis=1)
            poly = np.vstack([origin[None], arc]).round().astype(np.int32)
            cv2.fillPoly(overlay, [poly], colour, cv2.LINE_AA)
        blended = cv2.addWeighted(overlay, self.alpha, img, 1.0 - self.alpha, 0.0)
        return np.asarray(blended, dtype=np.uint8)


class LabelAnnotator:
    """Yaw/pitch/roll ± σ (degrees) above each head on a dark background; size ∝ image, but at
    most ≈ 2.5 head widths wide (small heads in large images), unless ``font_scale`` is set."""

    def __init__(
        self,
        text_color: RGB = (255, 255, 255),
        background: RGB = (20, 20, 20),
        invalid_color: RGB = GREY,
        font_scale: float | None = None,
        show_sigma: bool = True,
    ) -> None:
        self.text_color = text_color
        self.background = background
        self.invalid_color = invalid_color
        self.font_scale = font_scale
        self.show_sigma = show_sigma

    def text(self, poses: PoseLike, i: int) -> str:
        """The label of person ``i``."""
        if not poses.valid[i]:
            return "no pose"
        parts = []
        for k, key in enumerate("ypr"):
            angle = float((poses.yaw, poses.pitch, poses.roll)[k][i])
            s = float(poses.sigma[i, k])
            t = f"{key.upper()} {round(angle):+d}"  # an int: −0.4° reads "+0", not "-0"
            if self.show_sigma and np.isfinite(s):
                t += f"±{s:.0f}"
            parts.append(t)
        return "  ".join(parts)

    def annotate(self, scene: ArrayLike, poses: PoseLike, *, rgb: bool = False) -> U8:
        img = _prepare(scene)
        h, w = img.shape[:2]
        image_scale = self.font_scale or float(np.clip(min(h, w) / 900.0, 0.4, 3.0))
        boxes = np.asarray(poses.boxes, np.float64)
        for i in range(len(poses)):
            text = self.text(poses, i)
            scale = image_scale
            box_w = boxes[i, 2] - boxes[i, 0]
            if self.font_scale is None and np.isfinite(box_w) and box_w > 0:
                # small heads in a large image: the label at most ~2.5 head widths wide
                tw0 = _text_size(text, image_scale, max(1, round(image_scale * 1.6)))[0]
                scale = float(np.clip(image_scale * 2.5 * box_w / max(tw0, 1), 0.35, image_scale))
            thick = max(1, round(scale * 1.6))
            tw, th, base = _text_size(text, scale, thick)
            anchor = boxes[i, :2] if np.isfinite(boxes[i, :2]).all() else poses.centroid[i]
            if not np.isfinite(anchor).all():
                continue
            pad = max(2, int(3 * scale))
            x = int(np.clip(anchor[0], 0, max(0, w - tw - 2 * pad)))
            y = int(anchor[1]) - pad - base
            if y - th - pad < 0:  # no room above the box: put the label just inside it
                y = int(anchor[1]) + th + 2 * pad
            y = int(np.clip(y, th + pad, h - base - 1))
            cv2.rectangle(
                img, (x, y - th - pad), (x + tw + 2 * pad, y + base), _col(self.background, rgb), -1
            )
            colour = self.text_color if poses.valid[i] else self.invalid_color
            _put_text(img, text, (x + pad, y), scale, _col(colour, rgb), thick)
        return img


def _text_size(text: str, scale: float, thick: int) -> tuple[int, int, int]:
    """Width, height and baseline of ``text`` in pixels (± is drawn as + with a bar)."""
    (tw, th), base = cv2.getTextSize(text.replace("±", "+"), _FONT, scale, thick)
    return tw, th, base


def _put_text(
    img: U8, text: str, org: tuple[int, int], scale: float, colour: tuple[int, int, int], thick: int
) -> None:
    """``cv2.putText`` that also draws "±" (Hershey fonts are ASCII only)."""
    x, y = org
    for k, part in enumerate(text.split("±")):
        if k > 0:  # a "+" with a bar under it
            (pw, ph), _ = cv2.getTextSize("+", _FONT, scale, thick)
            cv2.putText(
                img, "+", (x, y - max(1, ph // 6)), _FONT, scale, colour, thick, cv2.LINE_AA
            )
            cv2.line(img, (x + 1, y + thick), (x + pw - 1, y + thick), colour, thick, cv2.LINE_AA)
            x += pw
        if part:
            cv2.putText(img, part, (x, y), _FONT, scale, colour, thick, cv2.LINE_AA)
            x += cv2.getTextSize(part, _FONT, scale, thick)[0][0]


def annotate(scene: ArrayLike, poses: PoseLike, *, rgb: bool = False, labels: bool = True) -> U8:
    """Fan, axes, keypoints and (optionally) labels in one call; returns an annotated copy."""
    img = UncertaintyAnnotator().annotate(scene, poses, rgb=rgb)
    img = AxisAnnotator().annotate(img, poses, rgb=rgb)
    img = KeypointAnnotator().annotate(img, poses, rgb=rgb)
    if labels:
        img = LabelAnnotator().annotate(img, poses, rgb=rgb)
    return img
