"""The analysis of one frame, :func:`analyze`: input checks and exclusions, the method's scores
(:mod:`hhpnet.interaction.registry`), then the outputs every method shares.

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

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from hhpnet.errors import InputError
from hhpnet.interaction.params import HhpnetParams, PaperParams, make_params
from hhpnet.interaction.registry import get as get_method
from hhpnet.interaction.result import Interaction, Pair
from hhpnet.interaction.scores import People
from hhpnet.keypoints import check_image_size

if TYPE_CHECKING:
    from hhpnet.protocols import PoseFields

F64 = NDArray[np.float64]


def analyze(poses: PoseFields, method: str = "hhpnet", **params: object) -> Interaction:
    """Who looks at whom among the people of one frame (module docstring for the outputs).

    ``poses``: a :class:`hhpnet.poses.Poses` (also from :func:`~hhpnet.interaction.from_arrays`)
    or any object with its fields (:class:`hhpnet.protocols.PoseFields`); ``method``: a name of
    :mod:`hhpnet.interaction.registry`, "hhpnet" (default, 3-D + σ → probability), "paper" or
    "paper-v1"; ``params``: fields of the method's parameter class
    (:class:`~hhpnet.interaction.HhpnetParams` or :class:`~hhpnet.interaction.PaperParams`).
    Zero or one valid person gives an all-zero result without pairs or groups (not an error).
    """
    spec = get_method(method)
    prm = make_params(spec, params)
    people, valid = _read_poses(poses)
    n = len(valid)
    reasons = _exclusions(people, valid, prm)
    excluded = sorted(reasons)
    keep = np.setdiff1d(np.arange(n), np.array(excluded, int))

    att = np.zeros((n, n))
    mat = np.zeros((n, n))
    conv = np.zeros((n, n))
    depth_full = np.full(n, np.nan)
    if len(keep) >= 2:
        ix = np.ix_(keep, keep)
        kept = People(
            people.yaw[keep],
            people.pitch[keep],
            people.sigma[keep],
            people.centroid[keep],
            people.head_size[keep],
            people.present[keep],
            people.image_size,
        )
        # absurd but finite inputs (a head size of 1e-300 px) overflow to inf / NaN on the way;
        # the probabilities are sanitised, so no warning reaches the caller
        with np.errstate(over="ignore", invalid="ignore"):
            sc = spec.scorer()(kept, prm)
        att[ix], mat[ix], conv[ix] = sc.attention, sc.matrix, sc.converge
        if sc.depth is not None:
            depth_full[keep] = sc.depth
    theta = prm.threshold
    look = att >= theta
    mutual_m = look & look.T
    mutual = [(int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(mutual_m, 1)), strict=True)]
    targets = _targets(att, keep, theta)
    engagement = np.maximum(att, conv).max(axis=1) if n else np.zeros(0)
    return Interaction(
        method=method,
        params=asdict(prm),
        matrix=mat,
        attention=att,
        converge=conv,
        engagement=engagement,
        pairs=_pairs(mat, att, mutual_m, keep),
        mutual=mutual,
        targets=targets,
        groups=_groups(mutual_m | (conv >= theta), targets),
        scene_score=float(engagement[keep].mean()) if len(keep) >= 2 else 0.0,
        excluded=excluded,
        excluded_reasons=reasons,
        depth_mm=depth_full if isinstance(prm, HhpnetParams) else None,
    )


# --------------------------------------------------------------------------- input
def _field(poses: object, name: str, n: int, shape: tuple[int, ...]) -> F64:
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


def _read_poses(poses: PoseFields) -> tuple[People, NDArray[np.bool_]]:
    """All N people of ``poses`` as arrays (one-line InputError on a missing field or a wrong
    shape) and their ``valid`` flags."""
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
    return People(yaw, pitch, sigma, cen, hs, present, image_size), valid


def _exclusions(
    people: People, valid: NDArray[np.bool_], prm: HhpnetParams | PaperParams
) -> dict[int, str]:
    """Index → reason of every person the analysis leaves out (the first reason that applies)."""
    reasons: dict[int, str] = {}
    checks: list[tuple[Any, str]] = [
        (~valid, "invalid pose"),
        (~(np.isfinite(people.yaw) & np.isfinite(people.pitch)), "no angles (NaN)"),
        (~np.isfinite(people.centroid).all(axis=1), "no position (NaN centroid)"),
    ]
    if isinstance(prm, HhpnetParams) and prm.depth == "size":
        hs = people.head_size
        checks.append((~(np.isfinite(hs) & (hs > 0)), "no head size"))
    for bad, why in checks:
        for i in np.flatnonzero(bad):
            reasons.setdefault(int(i), why)
    return reasons


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


def _targets(att: F64, keep: NDArray[np.intp], theta: float) -> list[int | None]:
    """Per person: the one it attends to most if that attention is ≥ θ, else None."""
    n = len(att)
    targets: list[int | None] = [None] * n
    if n:
        best = np.argmax(att, axis=1)
        for i in keep:
            if att[i, best[i]] >= theta:
                targets[int(i)] = int(best[i])
    return targets


def _groups(edges: NDArray[np.bool_], targets: list[int | None]) -> list[list[int]]:
    """Connected people (``edges``: mutual or converging), joined by the listeners whose target
    is in a group; largest group first."""
    groups = _components(len(edges), edges)
    member = {i: g for g, grp in enumerate(groups) for i in grp}
    joiners = [(i, member[t]) for i, t in enumerate(targets) if t in member and i not in member]
    for person, g in joiners:
        groups[g].append(person)
    return sorted((sorted(g) for g in groups), key=lambda g: (-len(g), g[0]))


def _pairs(mat: F64, att: F64, mutual_m: NDArray[np.bool_], keep: NDArray[np.intp]) -> list[Pair]:
    """Every pair i < j of kept people, by ``mat`` descending (then i, then j)."""
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
    return pairs
