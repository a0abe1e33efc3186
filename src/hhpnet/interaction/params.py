"""Parameters of the interaction methods (:class:`HhpnetParams`, :class:`PaperParams`) and their
checks (:func:`make_params`): every value typed and range-checked once, a one-line
:class:`~hhpnet.errors.InputError` otherwise. Which method uses which class:
:mod:`hhpnet.interaction.registry`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard

import numpy as np

from hhpnet.errors import InputError

if TYPE_CHECKING:
    from hhpnet.interaction.registry import Method

#: a checked parameter value: a flag, a word, a number, a tuple of numbers or None
ParamValue: TypeAlias = bool | str | float | tuple[float, ...] | None


# --------------------------------------------------------------------------- parameters
@dataclass(frozen=True)
class HhpnetParams:
    """Parameters of ``method="hhpnet"`` (angles in degrees, lengths in mm or pixels)."""

    #: base tolerance around the target's head (eye-in-head freedom), degrees
    tolerance_deg: float = 20.0
    #: decision threshold on probabilities (mutual, targets, groups)
    threshold: float = 0.5
    #: "size": depth from apparent head size; "none": everybody at the same depth
    depth: str = "size"
    #: horizontal field of view used to guess the focal length from the image width, degrees
    fov_deg: float = 65.0
    #: focal length in pixels (overrides fov_deg)
    focal_px: float | None = None
    #: detector whose fitted head (hhpnet.headmodel.detector_shape) gives the nominal keypoint span
    head_model: str = "blazeface"
    #: radius of a head as a target, mm
    head_radius_mm: float = 80.0
    #: the angles are relative to the viewing ray through the head (the model's convention)
    ray_relative: bool = True
    #: converging attention: the common point lies this many inter-person distances in front
    converge_range: tuple[float, float] = (0.25, 1.5)
    #: minimum gaze std, degrees (also used when σ is 0)
    sigma_floor_deg: float = 1.0
    #: relative std of the depths from head size (head breadths vary, keypoints are noisy);
    #: propagated into the direction i → j (0: trust depths exactly)
    depth_noise: float = 0.1


@dataclass(frozen=True)
class PaperParams:
    """Parameters of ``method="paper"`` / ``"paper-v1"`` (degrees)."""

    #: σ (mean of yaw and pitch, degrees) mapped to u = 1; u = clip(σ / sigma_max_deg, 0, 1)
    sigma_max_deg: float = 30.0
    #: cones for u < u_thresholds[0], u ≤ u_thresholds[1], otherwise ("paper")
    cones_deg: tuple[float, float, float] = (3.0, 6.0, 9.0)
    u_thresholds: tuple[float, float] = (0.4, 0.6)
    #: fixed cone of "paper-v1"
    v1_cone_deg: float = 5.0
    #: decision threshold on M = cos δ (0.95 ⇔ δ < 18.2° outside the cone); "paper-v1",
    #: whose M is scaled by the certainty, defaults to 0.5 instead
    threshold: float = 0.95
    #: converging attention range (inter-person distances in front of both)
    converge_range: tuple[float, float] = (0.25, 1.5)


def _is_number(v: object) -> TypeGuard[float | np.integer | np.floating]:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _typed_param(name: str, value: object, default: object) -> ParamValue:
    """``value`` of the type of the parameter's default (one-line InputError otherwise)."""
    if isinstance(default, bool):
        if not isinstance(value, (bool, np.bool_)):
            raise InputError(f"{name} must be true or false, got {value!r}")
        return bool(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise InputError(f"{name} must be a word, got {value!r}")
        return value
    if isinstance(default, tuple):
        if not (
            isinstance(value, tuple)
            and len(value) == len(default)
            and all(_is_number(v) and math.isfinite(v) for v in value)
        ):
            raise InputError(
                f"{name} must be {len(default)} comma-separated numbers, got {value!r}"
            )
        return tuple(float(v) for v in value)
    if value is None and default is None:
        return None
    if not (_is_number(value) and math.isfinite(value)):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def make_params(method: Method, params: Mapping[str, object]) -> HhpnetParams | PaperParams:
    """``method``'s parameter object from keyword ``params`` (lists become tuples; a missing or
    None parameter takes the method's default, a None threshold the class's)."""
    cls = method.params_class()
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise InputError(
            f"unknown parameter(s) for method {method.name!r}: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"
        )
    kw: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    for key, value in method.defaults:
        if kw.get(key) is None:
            kw[key] = value
    if kw.get("threshold", 0.0) is None:
        del kw["threshold"]
    for f in fields(cls):
        if f.name in kw:
            kw[f.name] = _typed_param(f.name, kw[f.name], f.default)
    p = cls(**kw)
    if not 0.0 < p.threshold <= 1.0:
        raise InputError(f"threshold must be in (0, 1], got {p.threshold}")
    lo, hi = p.converge_range
    if not 0.0 <= lo < hi:
        raise InputError(f"converge_range must be (lo, hi) with 0 ≤ lo < hi, got {(lo, hi)}")
    if isinstance(p, HhpnetParams):
        if p.depth not in ("size", "none"):
            raise InputError(f"depth must be 'size' or 'none', got {p.depth!r}")
        if not 0.0 < p.fov_deg < 180.0:
            raise InputError(f"fov_deg must be in (0, 180), got {p.fov_deg}")
        if p.focal_px is not None and not p.focal_px > 0:
            raise InputError(f"focal_px must be > 0, got {p.focal_px}")
        if min(p.tolerance_deg, p.head_radius_mm, p.sigma_floor_deg, p.depth_noise) < 0:
            raise InputError(
                "tolerance_deg, head_radius_mm, sigma_floor_deg and depth_noise must be ≥ 0"
            )
        from hhpnet.headmodel import MEAN_HEAD_MM

        if p.head_model not in MEAN_HEAD_MM:
            raise InputError(
                f"head_model must be one of {', '.join(MEAN_HEAD_MM)}, got {p.head_model!r}"
            )
    elif p.sigma_max_deg <= 0:
        raise InputError(f"sigma_max_deg must be > 0, got {p.sigma_max_deg}")
    return p
