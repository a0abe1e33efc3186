"""The keypoint detectors, each registered once by name: what
:func:`hhpnet.detectors.create_detector` and ``HeadPoseEstimator(detector=...)`` accept, and what
the commands' ``--detector`` help and ``hhpnet serve``'s ``?detector=`` list.

Cheap to import (no numpy, no TFLite: the CLI builds its help from it): a detector names its
class as ``"module:attribute"``, imported when one is created. Adding a detector is one module
and one :func:`register` line: the module holds a :class:`hhpnet.detectors.base.Detector`
subclass (a callable ``detector(rgb_image) -> Detections`` whose constructor takes keyword
options such as ``num_threads``; tiled detectors derive from
:class:`hhpnet.detectors.base.TiledDetector` and share its tile-border filter), and the line
below names it with a summary for the help texts (docs/detectors.md, "Adding a detector").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from hhpnet.errors import InputError

if TYPE_CHECKING:
    from hhpnet.detectors.base import Detector

__all__ = ["DEFAULT", "DetectorInfo", "cli_help", "create", "get", "names", "register"]


@dataclass(frozen=True)
class DetectorInfo:
    """A registered detector: ``name`` (for ``detector=`` and ``--detector``), ``summary`` (a
    phrase of the help, may be empty) and ``factory`` ("module:attribute" of its class, or of
    any callable taking the detector's keyword options)."""

    name: str
    summary: str
    factory: str

    def load(self) -> type[Detector]:
        """The detector class (imported now)."""
        module, _, attr = self.factory.partition(":")
        return cast("type[Detector]", getattr(importlib.import_module(module), attr))


_REGISTRY: dict[str, DetectorInfo] = {}


def register(info: DetectorInfo) -> DetectorInfo:
    """Add ``info`` under its (lower-case) name; registering a name twice is a programming
    error."""
    if info.name != info.name.lower() or not info.name:
        raise ValueError(f"a detector name is lower-case and not empty; got {info.name!r}")
    if info.name in _REGISTRY:
        raise ValueError(f"detector {info.name!r} is already registered")
    _REGISTRY[info.name] = info
    return info


def names() -> tuple[str, ...]:
    """The registered detector names, in registration order (the default first)."""
    return tuple(_REGISTRY)


def get(name: object) -> DetectorInfo:
    """The detector called ``name`` (any case); a one-line :class:`InputError` naming the
    choices otherwise."""
    info = _REGISTRY.get(str(name).lower())
    if info is None:
        raise InputError(f"unknown detector {name!r}; choose one of {', '.join(_REGISTRY)}")
    return info


def create(name: object, **options: object) -> Detector:
    """A new instance of the detector ``name`` with its keyword ``options``; an unknown name or
    option is a one-line :class:`InputError`."""
    info = get(name)
    cls = info.load()
    try:
        return cls(**options)
    except TypeError as exc:
        raise InputError(f"detector {info.name!r}: {exc}") from None


def cli_help(*, summaries: bool = True, last: str = ", ") -> str:
    """The detectors for a help text, the default last: ``"a (summary), b, c (summary),
    default (summary)"`` (``summaries=False``: the names only; ``last``: what joins the last
    two, e.g. ``" or "``)."""
    ordered = [*list(_REGISTRY.values())[1:], *list(_REGISTRY.values())[:1]]
    items = [f"{d.name} ({d.summary})" if summaries and d.summary else d.name for d in ordered]
    return last.join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)


_HERE = "hhpnet.detectors."
register(DetectorInfo("auto", "blazeface + movenet merged", _HERE + "fused:FusedDetector"))
register(DetectorInfo("blazeface", "faces", _HERE + "blazeface:BlazeFaceDetector"))
register(DetectorInfo("blazepose", "", _HERE + "blazepose:BlazePoseDetector"))
register(DetectorInfo("movenet", "bodies: profiles, backs", _HERE + "movenet:MoveNetDetector"))

#: the default detector (the first registered): BlazeFace for faces and MoveNet for bodies
DEFAULT: str = names()[0]
