"""The interaction methods, each registered once by name: what ``analyze(method=...)`` accepts
and what ``hhpnet interact --method`` lists in its help.

Cheap to import (no numpy: the CLI builds its help from it): a method names its parameter class
and its scoring function as ``"module:attribute"``, imported on first use. Adding a method is
one module and one :func:`register` call: the module holds a frozen dataclass of parameters
(with at least ``threshold`` and ``converge_range``, checked by
:func:`hhpnet.interaction.params.make_params`) and a scoring function
``scores(people: People, params) -> Scores`` (:mod:`hhpnet.interaction.scores`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from hhpnet.errors import InputError

if TYPE_CHECKING:
    from hhpnet.interaction.params import HhpnetParams, PaperParams
    from hhpnet.interaction.scores import People, Scores

__all__ = ["METHODS", "Method", "get", "names", "register"]


@dataclass(frozen=True)
class Method:
    """An interaction method: ``name`` (for ``method=`` and ``--method``), ``summary`` (one
    phrase of the CLI help), ``params`` / ``scores`` ("module:attribute" of its parameter class
    and scoring function) and ``defaults``: parameter defaults that differ from the class's
    (applied when the parameter is missing or None)."""

    name: str
    summary: str
    params: str
    scores: str
    defaults: tuple[tuple[str, Any], ...] = ()

    def params_class(self) -> type[HhpnetParams] | type[PaperParams]:
        """The parameter dataclass (imported now)."""
        return cast("type[HhpnetParams] | type[PaperParams]", _load(self.params))

    def scorer(self) -> Callable[[People, Any], Scores]:
        """The scoring function (imported now)."""
        return cast("Callable[[People, Any], Scores]", _load(self.scores))


def _load(ref: str) -> object:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


_REGISTRY: dict[str, Method] = {}


def register(method: Method) -> Method:
    """Add ``method`` under its name (registering a name twice is a programming error)."""
    if method.name in _REGISTRY:
        raise ValueError(f"interaction method {method.name!r} is already registered")
    _REGISTRY[method.name] = method
    return method


def names() -> tuple[str, ...]:
    """The registered method names, in registration order."""
    return tuple(_REGISTRY)


def get(name: str) -> Method:
    """The method called ``name``; a one-line :class:`InputError` naming the choices otherwise."""
    method = _REGISTRY.get(name) if isinstance(name, str) else None
    if method is None:
        raise InputError(
            f"unknown interaction method {name!r} (choose from {', '.join(_REGISTRY)})"
        )
    return method


def cli_help() -> str:
    """The help of ``--method``: "a (summary), b (summary) or c (summary)."."""
    items = [f"{m.name} ({m.summary})" for m in _REGISTRY.values()]
    return " or ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items) + "."


_PARAMS = "hhpnet.interaction.params:"
register(
    Method(
        "hhpnet",
        "3-D, depth from head size, σ → probability",
        _PARAMS + "HhpnetParams",
        "hhpnet.interaction.scores:hhpnet_scores",
    )
)
register(
    Method(
        "paper",
        "HHP-Net's image-plane LAEO",
        _PARAMS + "PaperParams",
        "hhpnet.interaction.paper:paper_scores",
    )
)
register(
    Method(
        "paper-v1",
        "fixed 5° cone, (1 − u) weighting",
        _PARAMS + "PaperParams",
        "hhpnet.interaction.paper:paper_v1_scores",
        defaults=(("threshold", 0.5),),
    )
)

#: the built-in methods (:func:`names` also lists methods registered later)
METHODS: tuple[str, ...] = names()
