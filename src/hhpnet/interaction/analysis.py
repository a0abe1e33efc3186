"""The analysis of one frame (:func:`analyze`): input checks and exclusions, the method's scores,
and the derived outputs (pairs, mutual, targets, groups, engagement)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from hhpnet.errors import InputError
from hhpnet.interaction.params import METHODS, HhpnetParams, _make_params
from hhpnet.interaction.poses import _field
from hhpnet.interaction.result import Interaction, Pair
from hhpnet.keypoints import check_image_size

if TYPE_CHECKING:
    from hhpnet.protocols import PoseFields


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
        from hhpnet.interaction.paper import _paper
        from hhpnet.interaction.scores import _hhpnet

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
