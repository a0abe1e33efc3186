"""Synthetic videos whose truth is known, a blob "detector" that reads them, a fake analyzer.

Each person is a white disc (radius R) on a dark background with a black nose dot inside; the dot's
horizontal offset encodes the turn. :class:`BlobDetector` finds the discs and dots in the
*decoded* frames (a real computation on the video), so tests go through OpenCV encoding and
decoding, the real ``HeadPoseEstimator`` and the geometric fake model of ``tests.helpers.fakes``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

R = 24


def draw_people(width: int, height: int, people: list[tuple[float, float, float]]) -> np.ndarray:
    """BGR frame with one disc per (cx, cy, turn in [-1, 1]) (turn > 0: nose to image right)."""
    img = np.full((height, width, 3), 30, np.uint8)
    for cx, cy, turn in people:
        cv2.circle(img, (round(cx), round(cy)), R, (255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(img, (round(cx + turn * R * 0.6), round(cy + 0.2 * R)), 4, (0, 0, 0), -1)
    return img


def write_video(
    path: str, frames: list[np.ndarray], fps: float = 30.0, fourcc: str = "mp4v"
) -> str:
    """Encode BGR frames with cv2.VideoWriter."""
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*fourcc), fps, (w, h))
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def walking_scene(n: int = 30, width: int = 320, height: int = 240) -> list[np.ndarray]:
    """Two people: A walks right, B walks left below; they turn to face each other."""
    frames = []
    for k in range(n):
        a = (40 + 2 * k, 80, -0.5 + k / n)
        b = (280 - 2 * k, 170, 0.5 - k / n)
        frames.append(draw_people(width, height, [a, b]))
    return frames


def conversation_scene(n: int = 60, width: int = 320, height: int = 240) -> list[np.ndarray]:
    """Two people side by side: A (left) turns to B in frames 10–39, B turns to A in 20–49
    (one-way, mutual, one-way for the real interaction analysis); nobody in frames 52–54."""
    frames = []
    for k in range(n):
        if 52 <= k < 55:
            frames.append(draw_people(width, height, []))
            continue
        ta = 0.55 if 10 <= k < 40 else -0.3
        tb = -0.55 if 20 <= k < 50 else 0.3
        a = (80 + 0.5 * k, 120, ta)
        b = (240 - 0.5 * k, 125, tb)
        frames.append(draw_people(width, height, [a, b]))
    return frames


@dataclass
class Dets:
    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    detector: np.ndarray | None = None  # per person: which "detector" found it


class BlobDetector:
    """Finds the white discs of :func:`draw_people` in an RGB image; keypoints from disc + dot."""

    def __call__(self, image: np.ndarray) -> Dets:
        gray = image[..., 0].astype(np.int32) + image[..., 1] + image[..., 2]
        mask = (gray > 3 * 150).astype(np.uint8)
        n, _, stats, _cents = cv2.connectedComponentsWithStats(mask)
        boxes, kps = [], []
        for i in range(1, n):
            x, y, w, h, area = stats[i]
            if area < 300:
                continue
            cx, cy = x + w / 2, y + h / 2
            sub = gray[y : y + h, x : x + w]
            dark = (sub < 3 * 100) & (mask[y : y + h, x : x + w] == 0)
            # inner dark pixels only (ignore the corners outside the disc)
            yy, xx = np.mgrid[0:h, 0:w]
            inside = (xx + x - cx) ** 2 + (yy + y - cy) ** 2 < (0.8 * R) ** 2
            dark &= inside
            if dark.sum() == 0:
                continue
            nx, ny = xx[dark].mean() + x, yy[dark].mean() + y
            s = R
            kps.append(
                [
                    [nx, ny, 0.9],
                    [cx + 0.4 * s, cy - 0.2 * s, 0.9],
                    [cx - 0.4 * s, cy - 0.2 * s, 0.9],
                    [cx + s, cy, 0.8],
                    [cx - s, cy, 0.8],
                ]
            )
            boxes.append([x, y, x + w, y + h])
        k = len(kps)
        # a per-person tag, as the fused detector gives (a comma too: CSV cells must survive it)
        tags = ["blob" if b[0] < image.shape[1] / 2 else "blob,right" for b in boxes]
        return Dets(
            np.asarray(boxes, np.float32).reshape(k, 4),
            np.asarray(kps, np.float32).reshape(k, 5, 3),
            np.full(k, 0.9, np.float32),
            np.asarray(tags, dtype=object),
        )


@dataclass
class FakeInteraction:
    attention: np.ndarray
    matrix: np.ndarray
    mutual: list[tuple[int, int]]

    def to_dict(self) -> dict:
        return {"matrix": self.matrix.tolist(), "mutual": [list(p) for p in self.mutual]}


def facing_analyzer(poses, method: str = "hhpnet", **_: object) -> FakeInteraction:
    """i looks at j when j is on the side i's nose points to (yaw > 10° → image left)."""
    n = len(poses)
    cen = np.asarray(poses.centroid, np.float64)
    yaw = np.asarray(poses.yaw, np.float64)
    att = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j and np.isfinite(yaw[i]) and abs(yaw[i]) > 10:
                side = np.sign(cen[j, 0] - cen[i, 0])
                att[i, j] = 0.9 if side == -np.sign(yaw[i]) else 0.0
    mutual = [(i, j) for i in range(n) for j in range(i + 1, n) if att[i, j] and att[j, i]]
    return FakeInteraction(att, (att + att.T) / 2, mutual)
