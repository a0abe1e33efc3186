"""Old import paths of moved modules, through one import hook instead of one alias file each.

``hhpnet/__init__`` calls :func:`install`, which appends a finder to :data:`sys.meta_path` that
answers only the old dotted paths of :data:`MOVED` (a module-level ``__getattr__`` could not
serve ``import hhpnet.synth``). Importing an old path imports the new module, emits a
:class:`DeprecationWarning` naming the new path (attributed to the line that imports), and
binds the old name to the **same module object**: ``hhpnet.synth is hhpnet.training.synth``, so
every name, and monkeypatching through either path, is shared. The warning is emitted once per
process per old path (the next imports find the module in :data:`sys.modules`).

Old *names* inside a module (:data:`OLD_NAMES`) go through :func:`old_name`, which the module's
``__getattr__`` calls: it returns the replacement and warns once, naming the new way.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

# ``import hhpnet`` runs this module: nothing more is imported until an old path is used
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.abc import Loader as _LoaderBase
    from importlib.machinery import ModuleSpec
    from types import ModuleType
else:  # importlib.abc costs ~35 ms at import (importlib.resources): duck typing at run time
    _LoaderBase = object

#: old dotted path → the module that now holds the code
MOVED: dict[str, str] = {
    "hhpnet.baseline": "hhpnet.training.baseline",
    "hhpnet.datasets": "hhpnet.training.datasets",
    "hhpnet.evaluate": "hhpnet.training.evaluate",
    "hhpnet.generator_fit": "hhpnet.training.generator_fit",
    "hhpnet.interaction_draw": "hhpnet.draw.interaction",
    "hhpnet.interaction_scores": "hhpnet.interaction.scores",
    "hhpnet.nn": "hhpnet.training.nn",
    "hhpnet.sinks": "hhpnet.video.sinks",
    "hhpnet.smoothing": "hhpnet.video.smoothing",
    "hhpnet.sources": "hhpnet.video.sources",
    "hhpnet.synth": "hhpnet.training.synth",
    "hhpnet.timeline": "hhpnet.video.timeline",
    "hhpnet.tracking": "hhpnet.video.tracking",
    "hhpnet.train": "hhpnet.training.train",
}

#: old public name → (the replacement, as "module:attribute"; what to use instead)
OLD_NAMES: dict[str, tuple[str, str]] = {
    "hhpnet.interaction.PoseArrays": (
        "hhpnet.interaction.poses:_pose_arrays",
        "hhpnet.interaction.from_arrays, which returns a hhpnet.poses.Poses",
    ),
    "hhpnet.interaction.poses.PoseArrays": (
        "hhpnet.interaction.poses:_pose_arrays",
        "hhpnet.interaction.from_arrays, which returns a hhpnet.poses.Poses",
    ),
}


def old_name(module: str, name: str) -> object:
    """The replacement of the deprecated ``module.name`` (:data:`OLD_NAMES`), with a
    :class:`DeprecationWarning` naming the new way (attributed to the line that reads the
    name), then bound in ``module``; the usual AttributeError for any other name. Called by a
    module's ``__getattr__``."""
    entry = OLD_NAMES.get(f"{module}.{name}")
    if entry is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    import warnings

    target, advice = entry
    new_module, attribute = target.split(":")
    # stacklevel 3: old_name ← the module's __getattr__ ← the line that reads the name
    warnings.warn(f"{module}.{name} is deprecated: use {advice}", DeprecationWarning, stacklevel=3)
    value: object = getattr(importlib.import_module(new_module), attribute)
    setattr(sys.modules[module], name, value)  # warned once per process, as an old path
    return value


class _Alias(_LoaderBase):
    """Loader of one old path: the module it creates is the new module itself."""

    def __init__(self, new: str) -> None:
        self.new = new
        self.new_spec: ModuleSpec | None = None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        import warnings

        module = importlib.import_module(self.new)
        self.new_spec = module.__spec__
        # stacklevel 2: the first frame outside importlib's machinery, i.e. the importing line
        warnings.warn(
            f"{spec.name} is deprecated: import {self.new} instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return module

    def exec_module(self, module: ModuleType) -> None:
        # the import system set the old path's spec on the module: give it back its own
        module.__spec__ = self.new_spec


class _OldPaths:
    """Meta-path finder of the old dotted paths of :data:`MOVED` (None for any other name)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(fullname, _Alias(new))


def install() -> None:
    """Add the finder to :data:`sys.meta_path` (once per process)."""
    if not any(isinstance(f, _OldPaths) for f in sys.meta_path):
        sys.meta_path.append(_OldPaths())
