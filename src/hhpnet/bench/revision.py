"""A module of the repository as it was at a git revision, imported next to the installed one
(for before/after timings in one process: ``benchmarks/ab_stages.py``, ``ab_precise.py``)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

__all__ = ["module_at_revision"]


def module_at_revision(root: str | Path, rev: str, path: str, name: str) -> ModuleType:
    """Import ``path`` (e.g. ``src/hhpnet/model.py``) of git revision ``rev`` of the checkout
    at ``root`` as module ``name`` (registered in ``sys.modules``); its own imports resolve to
    the installed package."""
    src = subprocess.run(
        ["git", "-C", str(root), "show", f"{rev}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / f"{name.rsplit('.', 1)[-1]}.py"
        file.write_text(src)
        spec = importlib.util.spec_from_file_location(name, file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module
