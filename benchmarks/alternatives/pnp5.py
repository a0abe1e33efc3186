"""BlazeFace + a geometric 5-point ``solvePnP`` on hhpnet's five keypoints (the baseline).

Uses ``hhpnet.training.baseline.solve_pnp`` if the package has it; else an equivalent local fit:
SQPnP of the five points to a generic head.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from alternatives import pnp_angles
from hhpnet.bench import Candidate
from hhpnet.convention import S_FLIP
from hhpnet.headmodel import GENERIC_HEAD_MM as _GENERIC_HEAD_MM


def _local_solve(keypoints: np.ndarray, width: int, height: int) -> np.ndarray:
    head = _GENERIC_HEAD_MM @ S_FLIP  # z away from the viewer, as solvePnP's frame
    # 5 points: SQPnP (the iterative solver's DLT start needs 6)
    return pnp_angles(keypoints[..., :2], head, width, height, flags=cv2.SOLVEPNP_SQPNP)


def solver() -> tuple[Any, str]:
    """``(fn(keypoints (N,5,3), width, height) -> (N,3) degrees, description)``."""
    try:
        from hhpnet.training.baseline import solve_pnp
    except ImportError:
        return _local_solve, "local 5-point fit (hhpnet.training.baseline not available)"

    def fn(kp: np.ndarray, width: int, height: int) -> np.ndarray:
        angles, _valid = solve_pnp(kp, (width, height))  # NaN rows where invalid
        return np.asarray(angles, np.float64).reshape(len(kp), 3)

    return fn, "hhpnet.training.baseline.solve_pnp"


def make(threads: int = 2) -> Candidate:
    from hhpnet.detectors import create_detector

    det = create_detector("blazeface", num_threads=threads)
    solve, how = solver()

    def analyze(rgb: Any) -> int:
        kp = det(rgb).keypoints
        return int(np.isfinite(solve(kp, rgb.shape[1], rgb.shape[0])).all(axis=1).sum())

    def stages(rgb: Any) -> dict[str, Any]:
        kp = det(rgb).keypoints
        return {
            "detect": lambda: det(rgb),
            "5-point PnP": lambda: solve(kp, rgb.shape[1], rgb.shape[0]),
        }

    return Candidate("BlazeFace + 5-point solvePnP", analyze, stages, note=how)
