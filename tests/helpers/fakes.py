"""Small stand-ins injected through HeadPoseEstimator's constructor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FakeOutput:
    yaw: np.ndarray
    pitch: np.ndarray
    roll: np.ndarray
    sigma: np.ndarray
    valid: np.ndarray


class GeometricModel:
    """Pose by plane geometry (roll: eye line; yaw: nose offset); counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.batch_sizes: list[int] = []

    def predict(self, keypoints: np.ndarray) -> FakeOutput:
        self.calls += 1
        kp = np.asarray(keypoints, np.float64).reshape(-1, 5, 3)
        self.batch_sizes.append(len(kp))
        valid = (kp[..., 2] > 0).sum(axis=1) >= 2
        eye = kp[:, 1, :2] - kp[:, 2, :2]  # right eye -> left eye
        roll = np.degrees(np.arctan2(eye[:, 1], eye[:, 0]))
        mid = 0.5 * (kp[:, 1, :2] + kp[:, 2, :2])
        d = np.linalg.norm(eye, axis=1)
        along = ((kp[:, 0, :2] - mid) * eye).sum(axis=1) / np.maximum(d, 1e-9) ** 2
        yaw = -np.degrees(np.arcsin(np.clip(2 * along, -1, 1)))
        n = len(kp)
        sigma = np.tile([4.0, 6.0, 3.0], (n, 1))
        out = FakeOutput(
            yaw.astype(np.float32),
            np.zeros(n, np.float32),
            roll.astype(np.float32),
            sigma.astype(np.float32),
            valid,
        )
        out.yaw[~valid] = out.pitch[~valid] = out.roll[~valid] = np.nan
        out.sigma[~valid] = np.inf
        return out


@dataclass
class FakeDetections:
    boxes: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray


class FixedDetector:
    """Returns the same detections for any image and records what it was given."""

    def __init__(self, keypoints: np.ndarray) -> None:
        self.keypoints = np.asarray(keypoints, np.float32).reshape(-1, 5, 3)
        self.seen: list[np.ndarray] = []

    def __call__(self, image: np.ndarray) -> FakeDetections:
        self.seen.append(image)
        n = len(self.keypoints)
        boxes = np.tile(np.array([[10, 10, 60, 60]], np.float32), (n, 1))
        return FakeDetections(boxes, self.keypoints.copy(), np.full(n, 0.9, np.float32))


def face(cx: float, cy: float, size: float = 40.0, turn: float = 0.0) -> np.ndarray:
    """Five points of a head centred at (cx, cy); turn in [-1, 1] moves the nose to image right."""
    s = size / 2
    return np.array(
        [
            [cx + turn * s * 0.6, cy + 0.2 * s, 0.9],  # nose
            [cx + 0.4 * s, cy - 0.2 * s, 0.9],  # left eye (image right)
            [cx - 0.4 * s, cy - 0.2 * s, 0.9],  # right eye
            [cx + s, cy, 0.8],  # left ear
            [cx - s, cy, 0.8],  # right ear
        ],
        np.float32,
    )


def random_model_file(path, alpha: float = 0.2, sd: float = 0.3, seed: int = 0) -> str:
    """Save an untrained HHP-Net of width ``alpha`` (the real numpy model, random N(0, sd)
    weights) at ``path``; for tests of commands, not of accuracy."""
    from hhpnet.model import HeadPoseModel, tensor_shapes

    rng = np.random.default_rng(seed)
    tensors = {k: rng.normal(0, sd, s).astype(np.float32) for k, s in tensor_shapes(alpha).items()}
    HeadPoseModel(tensors, {"alpha": str(alpha), "name": "tiny"}).save(path)
    return str(path)
