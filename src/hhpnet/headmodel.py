"""Head shapes in millimetres: where each detector puts the five points on a mean head.

A runtime module: the depth-from-size of :mod:`hhpnet.interaction` and the export checks
(:mod:`hhpnet.export`) read the head from here, and so do the training family's synthetic
generator (:mod:`hhpnet.training.synth`) and solvePnP baseline (:mod:`hhpnet.training.baseline`);
nothing here imports the training family.

The shapes come from ``synth_fit.json`` next to this file (:data:`FIT_FILE`, written by
``hhpnet fit-generator`` / :mod:`hhpnet.training.generator_fit` from real detector output).
Coordinates are in the head frame of :mod:`hhpnet.convention` (x to the subject's left ear,
y down, z out of the face), origin at the mid-point of the two tragions; points in the order of
:data:`hhpnet.keypoints.KEYPOINT_NAMES`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TypedDict

import numpy as np
from numpy.typing import NDArray

from hhpnet._types import FloatArray
from hhpnet.keypoints import FLIP_PERMUTATION

__all__ = [
    "BREADTH_MM",
    "DETECTOR_PROFILES",
    "FIT_FILE",
    "GENERIC_HEAD_MM",
    "MEAN_HEAD_MM",
    "GeneratorFit",
    "PosePrior",
    "ProfileFit",
    "detector_shape",
    "load_fit",
    "profile_arrays",
    "smoothstep",
    "yaw_hat",
]

#: detector placement profiles of the fit file (index = ``SynthBatch.detector``)
DETECTOR_PROFILES: tuple[str, ...] = ("blazeface", "blazepose", "coco")
#: the fitted detector models shipped with the package (``hhpnet fit-generator`` writes it)
FIT_FILE = Path(__file__).with_name("synth_fit.json")
#: bitragion breadth (mm) of the mean head: the scale of the fitted shapes
BREADTH_MM = 143.0


# --------------------------------------------------------------------------- fit file
# The JSON of :mod:`hhpnet.training.generator_fit` (numbers as JSON lists; ``knots`` = the yaw
# knots of ``knots_yaw``, ``k`` = points scored: 1 for BlazeFace's face score, else 5).
class NoiseFit(TypedDict):
    """Residual noise: covariance square roots (knots, 10, 10) head mm, quality spread."""

    root: list[list[list[float]]]
    quality_spread: float
    outlier_share: float


class ScoreFit(TypedDict):
    """Score quantiles (knots, k, levels) at ``levels`` and their copula correlation."""

    levels: list[float]
    table: list[list[list[float]]]
    rho: float


class ProfileFit(TypedDict, total=False):
    """One detector profile: shape and pitch slope (knots, 5, 3) mm, noise and scores."""

    rows: int
    shape: list[list[list[float]]]
    pitch_slope: list[list[list[float]]]
    noise: NoiseFit
    scores: ScoreFit
    refined: int
    refine_log: list[dict[str, object]]


class PosePrior(TypedDict):
    """Pitch mean of the labels and extra spread along the gimbal ridge by |yaw| (degrees)."""

    pitch_mean: float
    ridge_abs_yaw: list[float]
    ridge_sd: list[float]


class GeneratorFit(TypedDict, total=False):
    """A fit file: format, yaw knots, head breadth, options, provenance, pose prior, profiles."""

    format: str
    knots_yaw: list[float]
    breadth_mm: float
    options: dict[str, float]
    fitted_on: dict[str, object]
    pose: PosePrior
    profiles: dict[str, ProfileFit]


@functools.lru_cache(maxsize=8)
def load_fit(path: str = "") -> GeneratorFit:
    """Fitted detector models (:mod:`hhpnet.training.generator_fit`) from ``path`` or
    :data:`FIT_FILE`."""
    p = Path(path) if path else FIT_FILE
    if not p.is_file():
        raise FileNotFoundError(f"generator fit file not found: {p}")
    data: GeneratorFit = json.loads(p.read_text())
    missing = set(DETECTOR_PROFILES) - set(data.get("profiles", {}))
    if missing:
        raise ValueError(f"generator fit {p}: no model for profile(s) {sorted(missing)}")
    return data


def smoothstep(x: FloatArray, lo: float | FloatArray, hi: float | FloatArray) -> FloatArray:
    """0 below ``lo``, 1 above ``hi``, the cubic ``3t² − 2t³`` between."""
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    result: FloatArray = t * t * (3 - 2 * t)
    return result


def yaw_hat(yaw: FloatArray, knots: FloatArray) -> NDArray[np.float64]:
    """Linear interpolation weights ``(n, len(knots))`` of yaw (clipped to the knot range)."""
    y = np.clip(np.asarray(yaw, np.float64), knots[0], knots[-1])
    step = knots[1] - knots[0]
    result: NDArray[np.float64] = np.clip(1.0 - np.abs(y[:, None] - knots[None]) / step, 0.0, 1.0)
    return result


def _symmetric(points: FloatArray) -> NDArray[np.float64]:
    """Left/right average of a (5, 3) head-frame shape."""
    m = np.asarray(points, np.float64)[FLIP_PERMUTATION] * np.array([-1.0, 1.0, 1.0])
    result: NDArray[np.float64] = 0.5 * (np.asarray(points, np.float64) + m)
    return result


def profile_arrays(fit: GeneratorFit, name: str) -> dict[str, FloatArray]:
    """One profile of a fit file as float64 arrays (shape, pitch slope, noise and score models)."""
    prof = fit["profiles"][name]
    return {
        "shape": np.asarray(prof["shape"], np.float64),
        "slope": np.asarray(prof["pitch_slope"], np.float64),
        "root": np.asarray(prof["noise"]["root"], np.float64),
        "levels": np.asarray(prof["scores"]["levels"], np.float64),
        "table": np.asarray(prof["scores"]["table"], np.float64),
        "rho": np.asarray(prof["scores"]["rho"], np.float64),
        "spread": np.asarray(prof["noise"]["quality_spread"], np.float64),
    }


def detector_shape(
    profile: str, yaw: FloatArray, pitch: FloatArray, fit_path: str = ""
) -> NDArray[np.float64]:
    """Where ``profile``'s detector puts the five points on a mean head, ``(n, 5, 3)`` mm.

    Head frame of :mod:`hhpnet.convention` (in the labels' frame, so any convention offset is
    included), as fitted by :mod:`hhpnet.training.generator_fit`; beyond the fitted yaw range
    (back views, body detectors only) the shape blends into the left/right-symmetric frontal
    shape, i.e. the rigid head seen from behind.
    """
    fit = load_fit(fit_path)
    arr = profile_arrays(fit, profile)
    knots = np.asarray(fit["knots_yaw"], np.float64)
    yaw = np.asarray(yaw, np.float64)
    h = yaw_hat(yaw, knots)
    base = np.einsum("nj,jkd->nkd", h, arr["shape"])
    slope = np.einsum("nj,jkd->nkd", h, arr["slope"])
    mid = len(knots) // 2
    t = smoothstep(np.abs(yaw), knots[-1], knots[-1] + 30.0)[:, None, None]
    base = (1 - t) * base + t * _symmetric(arr["shape"][mid])[None]
    slope = (1 - t) * slope + t * _symmetric(arr["slope"][mid])[None]
    result: NDArray[np.float64] = (
        base + (np.asarray(pitch, np.float64) / 90.0)[:, None, None] * slope
    )
    return result


#: Mean 3-D keypoints (mm, head frame of convention.py, frontal pose) per detector profile, as
#: fitted on real detector output (:func:`detector_shape` at yaw = pitch = 0).
MEAN_HEAD_MM: dict[str, NDArray[np.float64]] = {
    name: detector_shape(name, np.zeros(1), np.zeros(1))[0] for name in DETECTOR_PROFILES
}

#: A fixed round-number head (nose tip, eyes, ears), NOT read from the fit file: the export
#: checks (:func:`hhpnet.export.sample_inputs`) and the ``pnp5`` benchmark alternative need test
#: inputs that stay the same when ``synth_fit.json`` is refitted (the export tolerances were
#: measured on them); it is only a plausible head, not a detector's placement.
GENERIC_HEAD_MM: NDArray[np.float64] = np.array(
    [
        [0.0, 12.0, 98.0],
        [32.0, -22.0, 68.0],
        [-32.0, -22.0, 68.0],
        [76.0, 5.0, -5.0],
        [-76.0, 5.0, -5.0],
    ]
)
