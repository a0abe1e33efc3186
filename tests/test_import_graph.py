"""The package's import graph (tools/import_graph.py): no module-level import cycle, the modules of
hhpnet.interaction import one way, and the tool finds the cycles it is there to find."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "hhpnet"


@pytest.fixture(scope="module")
def tool() -> Iterator[ModuleType]:
    path = ROOT / "tools" / "import_graph.py"
    spec = importlib.util.spec_from_file_location("import_graph", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules["import_graph"]


@pytest.fixture(scope="module")
def imp(tool: ModuleType) -> object:
    return tool.read_imports(PACKAGE)  # the package's two import graphs, read once


def test_no_module_level_import_cycle_and_no_module_over_650_lines(tool, imp) -> None:
    assert "hhpnet.interaction.analysis" in imp.modules and len(imp.modules) > 50
    assert tool.cycles(imp.module) == []
    assert tool.long_modules(imp.modules, 650) == []


def test_at_most_eight_functions_over_60_code_lines(tool, imp) -> None:
    """Issue 22's budget; today there are none (``python tools/import_graph.py --functions``)."""
    longs = tool.long_functions(imp.modules, 60)
    assert len(longs) <= 8, longs


def test_interaction_modules_import_in_the_documented_order(imp) -> None:
    order = ["registry", "params", "scores", "paper", "poses", "result", "analysis"]
    graph = imp.all()  # lazy imports too
    for k, name in enumerate(order):
        mine = {
            t for t in graph[f"hhpnet.interaction.{name}"] if t.startswith("hhpnet.interaction")
        }
        later = {f"hhpnet.interaction.{n}" for n in order[k:]} | {"hhpnet.interaction"}
        assert mine & later == set(), name


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_the_tool_separates_module_level_lazy_and_type_only_imports(tool, tmp_path) -> None:
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from pkg import b\n",
            "b.py": "import pkg.c\n",
            "c.py": "from . import a\n",  # a -> b -> c -> a at import time
            "d.py": "def f():\n    from pkg.e import x\n",
            "e.py": "from pkg import d\n",  # d -> e lazily, e -> d at import time
            "f.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import g\n",
            "g.py": "from pkg.f import y\n",  # f -> g only for type checkers
            "sub/__init__.py": "from .h import z\n",
            "sub/h.py": "class K:\n    from ..sub import z\n",  # class bodies run at import
        },
    )
    text, n_module, n_lazy, n_long = tool.report(pkg, max_lines=1)
    imp = tool.read_imports(pkg)
    assert tool.cycles(imp.module) == [["pkg.a", "pkg.b", "pkg.c"], ["pkg.sub", "pkg.sub.h"]]
    assert tool.cycles(imp.all())[1] == ["pkg.d", "pkg.e"]
    assert (n_module, n_lazy, n_long) == (2, 1, 3)  # d.py, f.py, sub/h.py: over 1 line
    assert "e.g. pkg.a -> pkg.b -> pkg.c -> pkg.a" in text
    assert tool.main(["--root", str(pkg), "--check"]) == 1
    assert tool.main(["--root", str(pkg)]) == 0


def test_long_functions_count_code_lines_only(tool, tmp_path) -> None:
    body = "".join(f"    x{k} = {k}\n" for k in range(5))
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "",
            # decorator + def + 5 statements + return = 8 code lines; the docstring, the
            # comment and the blank lines do not count
            "m.py": f'@staticmethod\ndef f():\n    """Doc.\n\n    more\n    """\n\n'
            f"    # a comment\n{body}\n    return x0\n\n\ndef g():\n    return 1\n",
        },
    )
    modules = tool.module_names(pkg)
    assert tool.long_functions(modules, 7) == [("pkg.m:f (line 2)", 8)]
    assert tool.long_functions(modules, 8) == []
    args = ["--root", str(pkg), "--function-lines", "7", "--max-long-functions"]
    assert tool.main([*args, "1"]) == 0
    assert tool.main([*args, "0", "--check"]) == 1
