"""Face-mesh landmarks made from MediaPipe's canonical face at known poses (no real data), and a
tiny landmarks ``.npz`` with the keys and shapes of the development file
(``aflw2000-dev-landmarks.npz``), written by the tests that need one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hhpnet.training.mesh_fit import mirror_landmarks, posed_face

#: mesh indices used as stand-ins for the five head keypoints (nose tip, left eye outer corner,
#: right eye outer corner, left and right face-contour points at ear height)
FIVE = [1, 263, 33, 454, 234]


def project(
    angles: np.ndarray,
    face_px: float = 200.0,
    centre: tuple[float, float] = (225.0, 225.0),
    noise_px: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """(n, 468, 3) landmarks (x, y pixels, depth pixels away from the viewer) of the canonical
    face at ``angles`` (n, 3) yaw, pitch, roll degrees under weak perspective."""
    v = posed_face(np.asarray(angles, np.float64).reshape(-1, 3), 0.0)
    s = face_px / 15.5
    out = np.empty_like(v)
    out[..., 0] = s * v[..., 0] + centre[0]
    out[..., 1] = s * v[..., 1] + centre[1]
    out[..., 2] = -s * v[..., 2]
    if noise_px:
        out += np.random.default_rng(seed).normal(0.0, noise_px, out.shape)
    return out.astype(np.float32)


def write_tiny_landmarks(path: Path, n: int = 40, seed: int = 0, missing: int = 3) -> Path:
    """A landmarks file of ``n`` made-up photos (450 × 450) at random poses; the first
    ``missing`` rows have no reading (NaN), as photos where nothing was found."""
    rng = np.random.default_rng(seed)
    angles = np.stack(
        [rng.uniform(-80, 80, n), rng.normal(-5, 12, n), rng.normal(0, 10, n)], axis=1
    ).astype(np.float32)
    mesh = project(angles, noise_px=1.0, seed=seed)
    flip = mirror_landmarks(project(angles * [-1, 1, -1], noise_px=1.0, seed=seed + 1), 1.0)
    flip[..., 0] += 449.0  # mirror of the photo: x' = width − 1 − x
    flip = np.asarray(flip, np.float32)
    arrays: dict[str, np.ndarray] = {
        "files": np.array([f"image{i:05d}.jpg" for i in range(n)]),
        "labels_ypr": angles,
        "size_wh": np.full((n, 2), 450, np.int32),
    }
    for suffix, lm in (("", mesh), ("_flip", flip)):
        five = np.concatenate([lm[:, FIVE, :2], np.full((n, 5, 1), 0.9, np.float32)], axis=2)
        coco = np.zeros((n, 17, 3), np.float32)  # body points: unsure guesses at the top-left
        coco[:, :, 2] = 0.02
        coco[:, :5] = five
        box = np.concatenate([lm[..., :2].min(axis=1), lm[..., :2].max(axis=1)], axis=1)
        score = np.full(n, 0.8, np.float32)
        for key, value in (
            ("facemesh", lm),
            ("facemesh_box", box),
            ("facemesh_face_score", score),
            ("blazeface5", five),
            ("blazeface_box", box),
            ("blazeface_score", score),
            ("movenet17", coco),
            ("movenet_score", score),
        ):
            v = np.array(value, np.float32)
            v[:missing] = np.nan
            arrays[key + suffix] = v
    np.savez(path, **arrays)
    return path
