"""Who looks at whom: interaction analysis of the head poses of one frame.

:func:`analyze` takes the poses of the N people of one image (any object with ``yaw``, ``pitch``
(N,) degrees, ``sigma`` (N, 3) degrees, ``centroid`` (N, 2) pixels, ``head_size`` (N,) pixels and
``valid`` (N,) bool — a :class:`hhpnet.poses.Poses`, which :func:`from_arrays` and
:func:`scene_from_3d` also build) and returns an
:class:`Interaction`. Two families of methods (details and parameters in ``docs/interaction.md``):

* ``method="hhpnet"`` (default) — 3-D, probabilistic: depth from apparent head size under a
  pinhole camera, gaze relative to the viewing ray, σ → probability that i's head points at j
  (:mod:`hhpnet.interaction.scores`).
* ``method="paper"`` / ``"paper-v1"`` — the HHP-Net paper's image-plane LAEO
  (:mod:`hhpnet.interaction.paper`).

The derived outputs (pairs, mutual, targets, groups, engagement, exclusions) are defined in
:mod:`hhpnet.interaction.analysis`. The modules, each importing only those before it:

* :mod:`~hhpnet.interaction.registry` — the methods by name (what ``--method`` lists);
* :mod:`~hhpnet.interaction.params` — :class:`HhpnetParams`, :class:`PaperParams` and their checks;
* :mod:`~hhpnet.interaction.scores` — the ``"hhpnet"`` formula and the shared geometry;
* :mod:`~hhpnet.interaction.paper` — the paper's formulas, :func:`paper_uncertainty`;
* :mod:`~hhpnet.interaction.poses` — the input as :class:`~hhpnet.poses.Poses`: :func:`from_arrays`,
  :func:`scene_from_3d`;
* :mod:`~hhpnet.interaction.result` — :class:`Interaction`, :class:`Pair`;
* :mod:`~hhpnet.interaction.analysis` — :func:`analyze`.

The public names below are imported on first use, so the CLI reads the registry without numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hhpnet.interaction.analysis import analyze
    from hhpnet.interaction.paper import paper_uncertainty
    from hhpnet.interaction.params import HhpnetParams, PaperParams
    from hhpnet.interaction.poses import from_arrays, scene_from_3d
    from hhpnet.interaction.registry import METHODS
    from hhpnet.interaction.result import Interaction, Pair

# public name -> module that defines it
_LAZY = {
    "METHODS": "hhpnet.interaction.registry",
    "HhpnetParams": "hhpnet.interaction.params",
    "Interaction": "hhpnet.interaction.result",
    "Pair": "hhpnet.interaction.result",
    "PaperParams": "hhpnet.interaction.params",
    "analyze": "hhpnet.interaction.analysis",
    "from_arrays": "hhpnet.interaction.poses",
    "paper_uncertainty": "hhpnet.interaction.paper",
    "scene_from_3d": "hhpnet.interaction.poses",
}

__all__ = [
    "METHODS",
    "HhpnetParams",
    "Interaction",
    "Pair",
    "PaperParams",
    "analyze",
    "from_arrays",
    "paper_uncertainty",
    "scene_from_3d",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:  # an old name (hhpnet._compat.OLD_NAMES) or the usual AttributeError
        from hhpnet._compat import old_name

        return old_name(__name__, name)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
