"""Who looks at whom: interaction analysis of the head poses of one frame.

:func:`analyze` takes the poses of the N people of one image (any object with ``yaw``, ``pitch``
(N,) degrees, ``sigma`` (N, 3) degrees, ``centroid`` (N, 2) pixels, ``head_size`` (N,) pixels and
``valid`` (N,) bool — a :class:`hhpnet.pipeline.Poses`, or :func:`from_arrays`) and returns an
:class:`Interaction`. Two families of methods (details and parameters in ``docs/interaction.md``):

``method="hhpnet"`` (default) — 3-D, probabilistic.
    1. *Camera*: pinhole, focal length ``f = (W / 2) / tan(fov_deg / 2)`` pixels from the image
       width W (``focal_px`` overrides it); principal point at the image centre. Without an image
       size, the heads' bounding box (padded by one head size) is taken as the central half of
       the image width, centred on the principal point.
    2. *Depth from apparent size*: the keypoint span a head would have at 1 mm distance·f is
       computed from a mean 3-D head (``head_model``, :func:`hhpnet.headmodel.detector_shape`) posed
       with the person's yaw and pitch, over the keypoints actually present; depth
       ``Z = f · span_mm / head_size_px`` (mm, nominal: an adult head). ``depth="none"`` puts
       everybody at the same depth (image-plane positions, 3-D gaze).
    3. *Gaze*: the facing direction of :func:`hhpnet.convention.facing_direction` is relative to
       the viewing ray through the head (the convention of the model's labels), so it is rotated
       by the rotation taking the optical axis onto that ray (``ray_relative``).
    4. *Attention* ``A[i, j]`` = probability that i's head points at j's head: the angle between
       i's gaze and the direction to j, split into its components along the yaw and the pitch
       directions of the gaze, each Gaussian with std σ_yaw resp. σ_pitch·|cos yaw| (σ of the
       model, floored at ``sigma_floor_deg``); "points at" = both components within the
       tolerance ``tolerance_deg`` (eye-in-head freedom) + the angular radius of j's head
       (``head_radius_mm``) seen from i. ``A = Π_axis [Φ((τ − d)/s) − Φ((−τ − d)/s)]``.
       Depth errors (relative std ``depth_noise``) move the direction i → j; their effect on each
       component is added to its variance, so a pair separated mostly in depth is uncertain.
    5. *Matrix* ``M[i, j] = √(A[i, j] · A[j, i])`` (looking at *each other*); *mutual* pairs have
       both ``A`` ≥ ``threshold``.
    6. *Converging attention* ``C[i, j]``: the gaze rays of i and j pass close to a common point X
       in front of both, between ``converge_range[0]`` and ``converge_range[1]`` times their
       distance away from each (an F-formation's shared space); ``C = P_i(X) · P_j(X)`` with the
       same Gaussian model and tolerance ``tolerance_deg`` (X is a point, no head radius). X
       must not lie beyond a person that i or j looks at (that head blocks the view).

``method="paper"`` / ``"paper-v1"`` — the HHP-Net paper's image-plane LAEO.
    ``g_i = (sin(−yaw), −cos(−yaw)·sin(pitch))`` normalised; δ = angle between ``O_j − O_i``
    (keypoint centroids) and ``g_i``, set to 0 inside a cone; ``A = M = max(cos δ, 0)``;
    ``matrix = LAEO = (M + Mᵀ)/2``. Uncertainty ``u = clip(mean(σ_yaw, σ_pitch) / sigma_max_deg,
    0, 1)`` (non-finite σ → 1); "paper": cone 3° if u < 0.4, 6° if u ≤ 0.6, else 9°;
    "paper-v1": fixed 5° cone and ``M[i, j] ·= ((1 − u_i) + (1 − u_j)) / 2``. A face looking
    straight into the camera (|g| ≈ 0 before normalising) looks at nobody. Converging attention
    uses the same 2-D rays (C = 1 when they cross in range, else 0).

Derived outputs (all methods), θ = ``threshold``:

* ``pairs``: every pair i < j of valid people ranked by ``matrix`` (descending);
* ``mutual``: pairs with ``A[i, j] ≥ θ`` and ``A[j, i] ≥ θ``;
* ``targets[i]``: ``argmax_j A[i, j]`` if it is ≥ θ, else None;
* ``groups``: connected components (≥ 2 people) of the graph whose edges are mutual pairs and
  pairs with ``C ≥ θ``; then a person outside every group whose target is in a group joins it
  (a listener attending to a member). A bystander looking elsewhere stays out.
* ``engagement[i] = max_j max(A[i, j], C[i, j])``; ``scene_score`` = mean engagement of the
  valid people (0 with fewer than two): the expected share of people attending to someone or
  sharing a focus with someone.
* ``excluded``: people that are invalid (flag, NaN angles or centroid; for ``hhpnet`` with depth
  also a missing head size); their rows and columns are 0 and they never look anywhere.

Matrices are (N, N) over *all* N people (indices of the input), diagonal 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hhpnet.convention import S_FLIP
from hhpnet.errors import InputError
from hhpnet.keypoints import check_image_size

if TYPE_CHECKING:
    from hhpnet.protocols import PoseFields

__all__ = [
    "METHODS",
    "HhpnetParams",
    "Interaction",
    "Pair",
    "PaperParams",
    "PoseArrays",
    "analyze",
    "from_arrays",
    "paper_uncertainty",
    "scene_from_3d",
]

F64 = NDArray[np.float64]

#: accepted values of ``method``
METHODS: tuple[str, ...] = ("hhpnet", "paper", "paper-v1")


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


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _typed_param(name: str, value: Any, default: Any) -> Any:
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


def _make_params(method: str, params: dict[str, Any]) -> HhpnetParams | PaperParams:
    cls: type[HhpnetParams] | type[PaperParams] = (
        HhpnetParams if method == "hhpnet" else PaperParams
    )
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(params) - known)
    if unknown:
        raise InputError(
            f"unknown parameter(s) for method {method!r}: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"
        )
    kw: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    if method == "paper-v1" and kw.get("threshold") is None:
        kw["threshold"] = 0.5
    elif kw.get("threshold", 0.0) is None:
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


# --------------------------------------------------------------------------- input
@dataclass
class PoseArrays:
    """Minimal pose container for :func:`analyze` (see :func:`from_arrays`)."""

    yaw: F64
    pitch: F64
    sigma: F64
    centroid: F64
    head_size: F64
    valid: NDArray[np.bool_]
    keypoints: NDArray[np.float32] | None = None
    image_size: tuple[int, int] | None = None

    def __len__(self) -> int:
        return len(self.yaw)


def from_arrays(
    yaw: ArrayLike,
    pitch: ArrayLike,
    centroid: ArrayLike,
    head_size: ArrayLike | None = None,
    sigma: ArrayLike | None = None,
    valid: ArrayLike | None = None,
    *,
    keypoints: ArrayLike | None = None,
    image_size: tuple[int, int] | None = None,
) -> PoseArrays:
    """Poses from plain arrays: yaw, pitch (N,) degrees, centroid (N, 2) pixels, head_size (N,)
    pixels (default: all equal, 100), sigma (N, 3) or (N,) degrees (default 0: certain), valid
    (N,) (default: finite angles). Raises :class:`InputError` on inconsistent shapes."""
    y = np.atleast_1d(np.asarray(yaw, np.float64)).ravel()
    n = y.size
    p = np.atleast_1d(np.asarray(pitch, np.float64)).ravel()
    c = np.asarray(centroid, np.float64)
    if c.size == 0:
        c = c.reshape(0, 2)
    hs = np.full(n, 100.0) if head_size is None else np.atleast_1d(np.asarray(head_size, float))
    if sigma is None:
        s = np.zeros((n, 3))
    else:
        s = np.asarray(sigma, np.float64)
        if s.ndim <= 1:
            s = np.repeat(np.broadcast_to(s, (n,))[:, None], 3, axis=1)
    v = np.isfinite(y) & np.isfinite(p) if valid is None else np.asarray(valid, bool).ravel()
    shapes = {
        "pitch": (p.shape, (n,)),
        "centroid": (c.shape, (n, 2)),
        "head_size": (hs.ravel().shape, (n,)),
        "sigma": (s.shape, (n, 3)),
        "valid": (v.shape, (n,)),
    }
    for name, (got, want) in shapes.items():
        if got != want:
            raise InputError(f"{name} has shape {got}, expected {want} for {n} people")
    kp = None
    if keypoints is not None:
        kp = np.asarray(keypoints, np.float32)
        if kp.shape != (n, 5, 3):
            raise InputError(f"keypoints has shape {kp.shape}, expected {(n, 5, 3)}")
    return PoseArrays(y, p, s, c, hs.ravel(), v, kp, check_image_size(image_size))


def _field(poses: Any, name: str, n: int, shape: tuple[int, ...]) -> F64:
    if not hasattr(poses, name):
        raise InputError(
            f"poses has no {name!r} (need yaw, pitch, sigma, centroid, head_size, valid)"
        )
    a = np.asarray(getattr(poses, name), np.float64)
    if a.size == 0 and n == 0:
        return a.reshape((0, *shape))
    try:
        return a.reshape((n, *shape))
    except ValueError:
        raise InputError(f"poses.{name} has shape {a.shape}, expected {(n, *shape)}") from None


def _camera_from_size(image_size: tuple[int, int], fov_deg: float) -> tuple[float, F64]:
    w, h = float(image_size[0]), float(image_size[1])
    return (w / 2.0) / math.tan(math.radians(fov_deg / 2.0)), np.array([w / 2.0, h / 2.0])


def scene_from_3d(
    positions_mm: ArrayLike,
    gaze: ArrayLike,
    *,
    image_size: tuple[int, int] = (1280, 720),
    fov_deg: float = 65.0,
    sigma: ArrayLike = 5.0,
    head_model: str = "blazeface",
) -> PoseArrays:
    """Poses of heads seen by a pinhole camera — for tests, demos and what-if analyses.

    ``positions_mm`` (N, 3) head centres in the camera frame (x right, y down, z away from the
    camera, mm, z > 0); ``gaze`` (N, 3) facing directions in the same frame (any length).
    Returns the centroids (pixels), head sizes (the nominal keypoint span of ``head_model``,
    pixels) and the ray-relative yaw/pitch (degrees, |pitch| ≤ 90°) that the model reports,
    with ``sigma`` (scalar, (N,) or (N, 3) degrees).
    """
    from hhpnet.interaction_scores import _nominal_span, _rot_optical_to, _unit

    pos = np.asarray(positions_mm, np.float64).reshape(-1, 3)
    g = np.asarray(gaze, np.float64).reshape(-1, 3)
    if g.shape != pos.shape:
        raise InputError(f"gaze has shape {g.shape}, expected {pos.shape}")
    if (pos[:, 2] <= 0).any():
        raise InputError("every head must be in front of the camera (z > 0)")
    n = len(pos)
    image_size = check_image_size(image_size) or (1280, 720)
    f, pp = _camera_from_size(image_size, fov_deg)
    cen = pp + f * pos[:, :2] / pos[:, 2:3]
    ray, _ = _unit(pos)
    rot = _rot_optical_to(ray) @ S_FLIP  # viewer frame → camera frame along the ray
    g_v = np.einsum("nji,nj->ni", rot, _unit(g)[0])  # rot⁻¹ = rotᵀ (S_FLIP is its own inverse)
    sgn = np.where(g_v[:, 2] < 0, -1.0, 1.0)
    cos_psi = sgn * np.hypot(g_v[:, 1], g_v[:, 2])
    psi = np.arctan2(g_v[:, 0], cos_psi)
    pitch = np.rad2deg(np.arctan2(-g_v[:, 1] * sgn, g_v[:, 2] * sgn))
    yaw = -np.rad2deg(psi)
    span = _nominal_span(yaw, pitch, np.ones((n, 5), bool), head_model)
    hs = f * span / pos[:, 2]
    s = np.asarray(sigma, np.float64)
    s = np.broadcast_to(s[:, None] if s.ndim == 1 else s, (n, 3)).astype(np.float64)
    return PoseArrays(yaw, pitch, s, cen, hs, np.ones(n, bool), None, image_size)


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class Pair:
    """A pair of people i < j: symmetric ``score`` and the two directional attentions."""

    i: int
    j: int
    score: float
    attention_ij: float
    attention_ji: float
    mutual: bool


@dataclass
class Interaction:
    """Result of :func:`analyze` for N people (see the module docstring for the definitions).

    ``matrix`` (N, N) symmetric score; ``attention`` (N, N) directional, row i = how much i
    looks at each j; ``converge`` (N, N) converging-attention score; ``engagement`` (N,);
    ``pairs`` ranked by score; ``mutual`` [(i, j)]; ``targets`` per person (int or None);
    ``groups`` lists of indices; ``scene_score`` in [0, 1]; ``excluded`` indices with
    ``excluded_reasons``; ``depth_mm`` (N,) nominal depths (hhpnet, NaN otherwise).
    """

    method: str
    params: dict[str, Any]
    matrix: F64
    attention: F64
    converge: F64
    engagement: F64
    pairs: list[Pair]
    mutual: list[tuple[int, int]]
    targets: list[int | None]
    groups: list[list[int]]
    scene_score: float
    excluded: list[int]
    excluded_reasons: dict[int, str] = field(default_factory=dict)
    depth_mm: F64 | None = None

    def __len__(self) -> int:
        return len(self.matrix)

    def __repr__(self) -> str:
        return (
            f"Interaction(method={self.method!r}, n={len(self)}, mutual={self.mutual}, "
            f"groups={self.groups}, scene_score={self.scene_score:.3f}, excluded={self.excluded})"
        )

    @property
    def best_pair(self) -> Pair | None:
        """The most interacting pair (highest score), or None without pairs."""
        return self.pairs[0] if self.pairs else None

    def to_dict(self, ndigits: int = 4) -> dict[str, Any]:
        """JSON-ready dict: matrices as nested lists, pairs, mutual, targets, groups, ..."""
        from hhpnet.io import json_number

        def r(x: float) -> float | None:
            return json_number(x, ndigits)

        def mat(a: F64) -> list[list[float | None]]:
            return [[r(v) for v in row] for row in a]

        depth = None if self.depth_mm is None else [r(v) for v in self.depth_mm]
        return {
            "method": self.method,
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()},
            "n": len(self),
            "matrix": mat(self.matrix),
            "attention": mat(self.attention),
            "converge": mat(self.converge),
            "pairs": [
                {
                    "i": p.i,
                    "j": p.j,
                    "score": r(p.score),
                    "attention_ij": r(p.attention_ij),
                    "attention_ji": r(p.attention_ji),
                    "mutual": p.mutual,
                }
                for p in self.pairs
            ],
            "mutual": [list(m) for m in self.mutual],
            "targets": list(self.targets),
            "groups": [list(g) for g in self.groups],
            "engagement": [r(v) for v in self.engagement],
            "scene_score": r(self.scene_score),
            "excluded": list(self.excluded),
            "excluded_reasons": {str(k): v for k, v in self.excluded_reasons.items()},
            "depth_mm": depth,
        }


# --------------------------------------------------------------------------- σ mapping
def paper_uncertainty(sigma: ArrayLike, sigma_max_deg: float = 30.0) -> F64:
    """Our σ → the paper's u ∈ [0, 1]: ``clip(mean(σ_yaw, σ_pitch) / sigma_max_deg, 0, 1)``;
    ``sigma`` (N, 3) or (N, 2) degrees; non-finite σ → 1 (fully uncertain)."""
    s = np.asarray(sigma, np.float64).reshape(-1, np.shape(sigma)[-1])
    m = (s[:, 0] + s[:, 1]) / 2.0
    return np.where(np.isfinite(m), np.clip(m / sigma_max_deg, 0.0, 1.0), 1.0)


# --------------------------------------------------------------------------- derived outputs
def _components(n: int, edges: NDArray[np.bool_]) -> list[list[int]]:
    label = np.arange(n)
    for _ in range(n):  # label propagation: min label over neighbours until stable
        nb = np.where(edges, label[None, :], n).min(axis=1)
        new = np.minimum(label, nb)
        if np.array_equal(new, label):
            break
        label = new
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(label):
        groups.setdefault(int(lab), []).append(i)
    return [g for g in groups.values() if len(g) >= 2]


def _empty_targets(n: int) -> list[int | None]:
    return [None] * n


def analyze(poses: PoseFields, method: str = "hhpnet", **params: Any) -> Interaction:
    """Who looks at whom among the people of one frame (module docstring for definitions).

    ``poses``: a :class:`hhpnet.pipeline.Poses` or :class:`PoseArrays` (:func:`from_arrays`);
    ``method``: "hhpnet" (default, 3-D + σ → probability), "paper" or "paper-v1";
    ``params``: fields of :class:`HhpnetParams` or :class:`PaperParams`. Zero or one valid
    person gives an all-zero result without pairs or groups (not an error).

    Long: input checks and exclusions, the method call and the derived outputs (pairs, mutual,
    targets, groups, engagement) all index the same (N, N) matrices; the scoring itself lives in
    :mod:`hhpnet.interaction_scores`.
    """
    if method not in METHODS:
        raise InputError(
            f"unknown interaction method {method!r} (choose from {', '.join(METHODS)})"
        )
    prm = _make_params(method, params)
    n = len(poses.yaw) if hasattr(poses, "yaw") else -1
    if n < 0:
        raise InputError("poses must have yaw, pitch, sigma, centroid, head_size and valid")
    yaw = _field(poses, "yaw", n, ())
    pitch = _field(poses, "pitch", n, ())
    sigma = _field(poses, "sigma", n, (3,))
    cen = _field(poses, "centroid", n, (2,))
    hs = _field(poses, "head_size", n, ())
    valid = np.asarray(getattr(poses, "valid", np.ones(n, bool)), bool).reshape(n)
    kp = getattr(poses, "keypoints", None)
    present = (
        np.asarray(kp, np.float32).reshape(n, 5, 3)[..., 2] > 0
        if kp is not None
        else np.ones((n, 5), bool)
    )
    image_size = check_image_size(getattr(poses, "image_size", None), "poses.image_size")

    reasons: dict[int, str] = {}
    checks: list[tuple[Any, str]] = [
        (~valid, "invalid pose"),
        (~(np.isfinite(yaw) & np.isfinite(pitch)), "no angles (NaN)"),
        (~np.isfinite(cen).all(axis=1), "no position (NaN centroid)"),
    ]
    if isinstance(prm, HhpnetParams) and prm.depth == "size":
        checks.append((~(np.isfinite(hs) & (hs > 0)), "no head size"))
    for bad, why in checks:
        for i in np.flatnonzero(bad):
            reasons.setdefault(int(i), why)
    excluded = sorted(reasons)
    keep = np.setdiff1d(np.arange(n), np.array(excluded, int))

    att = np.zeros((n, n))
    mat = np.zeros((n, n))
    conv = np.zeros((n, n))
    depth_full = np.full(n, np.nan)
    if len(keep) >= 2:
        from hhpnet.interaction_scores import _hhpnet, _paper

        ix = np.ix_(keep, keep)
        # absurd but finite inputs (a head size of 1e-300 px) overflow to inf / NaN on the way;
        # the probabilities are sanitised, so no warning reaches the caller
        with np.errstate(over="ignore", invalid="ignore"):
            if isinstance(prm, HhpnetParams):
                sc = _hhpnet(
                    yaw[keep],
                    pitch[keep],
                    sigma[keep],
                    cen[keep],
                    hs[keep],
                    present[keep],
                    image_size,
                    prm,
                )
            else:
                sc = _paper(
                    yaw[keep], pitch[keep], sigma[keep], cen[keep], prm, method == "paper-v1"
                )
        att[ix], mat[ix], conv[ix] = sc.attention, sc.matrix, sc.converge
        if sc.depth is not None:
            depth_full[keep] = sc.depth
    theta = prm.threshold
    look = att >= theta
    mutual_m = look & look.T
    mutual = [(int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(mutual_m, 1)), strict=True)]

    targets = _empty_targets(n)
    if n:
        best = np.argmax(att, axis=1)
        for i in keep:
            if att[i, best[i]] >= theta:
                targets[int(i)] = int(best[i])

    groups = _components(n, mutual_m | (conv >= theta))
    member = {i: g for g, grp in enumerate(groups) for i in grp}
    joiners = [(i, member[t]) for i, t in enumerate(targets) if t in member and i not in member]
    for person, g in joiners:
        groups[g].append(person)
    groups = sorted((sorted(g) for g in groups), key=lambda g: (-len(g), g[0]))

    pairs: list[Pair] = []
    if len(keep) >= 2:
        ii, jj = np.triu_indices(len(keep), 1)
        pi, pj = keep[ii], keep[jj]
        order = np.lexsort((pj, pi, -mat[pi, pj]))
        for k in order:
            a, b = int(pi[k]), int(pj[k])
            pairs.append(
                Pair(
                    a, b, float(mat[a, b]), float(att[a, b]), float(att[b, a]), bool(mutual_m[a, b])
                )
            )
    engagement = np.maximum(att, conv).max(axis=1) if n else np.zeros(0)
    scene = float(engagement[keep].mean()) if len(keep) >= 2 else 0.0
    return Interaction(
        method=method,
        params=asdict(prm),
        matrix=mat,
        attention=att,
        converge=conv,
        engagement=engagement,
        pairs=pairs,
        mutual=mutual,
        targets=targets,
        groups=groups,
        scene_score=scene,
        excluded=excluded,
        excluded_reasons=reasons,
        depth_mm=depth_full if isinstance(prm, HhpnetParams) else None,
    )
