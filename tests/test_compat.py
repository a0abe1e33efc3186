"""Old import paths of moved modules (hhpnet._compat): each imports the new module itself with a
DeprecationWarning naming the new path, and nothing in the repository uses them any more."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import hhpnet
from hhpnet import _compat
from hhpnet._compat import MOVED

ROOT = Path(__file__).resolve().parents[1]


def _forget(monkeypatch: pytest.MonkeyPatch, old: str) -> None:
    """Make the next import of ``old`` go through the finder again (as in a fresh process)."""
    monkeypatch.delitem(sys.modules, old, raising=False)
    monkeypatch.delattr(hhpnet, old.rpartition(".")[2], raising=False)


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_path_is_the_new_module_with_a_warning_naming_it(old, monkeypatch) -> None:
    new = MOVED[old]
    _forget(monkeypatch, old)
    with pytest.warns(DeprecationWarning) as rec:
        exec(compile(f"import {old}", "<user code>", "exec"), {})
    assert len(rec) == 1
    assert str(rec[0].message) == f"{old} is deprecated: import {new} instead"
    assert rec[0].filename == "<user code>"  # attributed to the importing line
    module = sys.modules[old]
    assert module is importlib.import_module(new)
    assert module.__name__ == new and module.__spec__ is not None and module.__spec__.name == new
    assert getattr(hhpnet, old.rpartition(".")[2]) is module
    assert not (ROOT / "src" / (old.replace(".", "/") + ".py")).exists()  # no alias file


def test_from_imports_and_monkeypatching_go_to_the_same_objects(monkeypatch) -> None:
    import hhpnet.training.datasets as datasets
    import hhpnet.training.synth as synth

    for old in ("hhpnet.datasets", "hhpnet.synth"):
        _forget(monkeypatch, old)
    with pytest.warns(DeprecationWarning, match="import hhpnet.training.datasets instead"):
        from hhpnet.datasets import fold_ids
    assert fold_ids is datasets.fold_ids
    with pytest.warns(DeprecationWarning, match="import hhpnet.training.synth instead"):
        from hhpnet import synth as old_synth
    assert old_synth is synth
    monkeypatch.setattr(old_synth, "generate", "patched")
    assert synth.generate == "patched"


def test_other_names_are_left_to_the_normal_import(monkeypatch) -> None:
    finder = _compat._OldPaths()
    assert finder.find_spec("hhpnet.training.synth") is None
    assert finder.find_spec("numpy") is None
    with pytest.raises(ModuleNotFoundError, match=r"hhpnet\.no_such_module"):
        importlib.import_module("hhpnet.no_such_module")
    _compat.install()  # idempotent
    assert sum(isinstance(f, _compat._OldPaths) for f in sys.meta_path) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        importlib.import_module("hhpnet.video.sinks")  # new paths never warn


def test_a_script_using_an_old_path_shows_the_warning() -> None:
    """Python's default filters show DeprecationWarnings of __main__: a user's script sees it."""
    proc = subprocess.run(
        [sys.executable, "-c", "import hhpnet.sinks"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "<string>:1: DeprecationWarning: hhpnet.sinks is deprecated: import hhpnet.video.sinks"
        in (proc.stderr)
    )


def _repo_files() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        files = [ROOT / f for f in out]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        skip = {".git", ".venv", "__pycache__", "node_modules", "build", "dist"}
        files = [p for p in ROOT.rglob("*") if not skip & set(p.relative_to(ROOT).parts)]
    suffixes = {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".ini"}
    return [f for f in files if f.is_file() and (f.suffix in suffixes or f.name == "Makefile")]


def test_no_file_uses_an_old_name() -> None:
    old = re.compile(r"\b(" + "|".join(k.rpartition(".")[2] for k in _compat.OLD_NAMES) + r")\b")
    own = {ROOT / "src" / "hhpnet" / "_compat.py", Path(__file__).resolve()}
    own.add(ROOT / "src" / "hhpnet" / "interaction" / "poses.py")  # the deprecated constructor
    hits = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in _repo_files()
        if path.resolve() not in own
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if old.search(line)
    ]
    assert hits == []


def test_no_file_uses_an_old_path() -> None:
    names = "|".join(sorted((old.split(".", 1)[1] for old in MOVED), key=len, reverse=True))
    patterns = [
        re.compile(rf"(?<![\w.])hhpnet\.({names})\b"),  # hhpnet.synth, hhpnet.synth.generate
        re.compile(rf"from hhpnet import \(?([\w, ]*\b({names})\b)"),  # from hhpnet import synth
        re.compile(rf"(?<![0-9a-f]:)src/hhpnet/({names})\.py"),  # a file path (not `git show`'s)
    ]
    own = {ROOT / "src" / "hhpnet" / "_compat.py", Path(__file__).resolve()}
    hits = []
    for path in _repo_files():
        if path.resolve() in own:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(p.search(line) for p in patterns):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert hits == []


@pytest.mark.parametrize("module", ["hhpnet.interaction", "hhpnet.interaction.poses"])
def test_old_name_pose_arrays_builds_poses_with_a_warning_naming_from_arrays(
    module, monkeypatch
) -> None:
    from hhpnet.interaction import analyze, from_arrays
    from hhpnet.poses import Poses

    monkeypatch.delitem(vars(importlib.import_module(module)), "PoseArrays", raising=False)
    scope: dict[str, object] = {}
    with pytest.warns(DeprecationWarning) as rec:
        exec(compile(f"from {module} import PoseArrays", "<user code>", "exec"), scope)
    assert len(rec) == 1 and rec[0].filename == "<user code>"
    assert str(rec[0].message) == (
        f"{module}.PoseArrays is deprecated: use hhpnet.interaction.from_arrays, which returns a "
        "hhpnet.poses.Poses"
    )
    old = scope["PoseArrays"]
    assert callable(old)
    yaw, pitch, sigma, cen, hs = (
        [10.0, -20.0],
        [0.0, 5.0],
        np.full((2, 3), 4.0),
        [[9, 9], [90, 9]],
        [8, 9],
    )
    got = old(yaw, pitch, sigma, cen, hs, [True, False])  # the old order: σ before centroid
    assert isinstance(got, Poses) and got.valid.tolist() == [True, False]
    want = from_arrays(yaw, pitch, cen, hs, sigma, [True, False])
    assert analyze(got).to_dict() == analyze(want).to_dict()
    with pytest.raises(AttributeError, match="has no attribute 'PoseArray'"):
        _ = importlib.import_module(module).PoseArray
