"""Import cycles among the modules of a package, its over-long modules and its long functions
(``ast`` and ``tokenize`` only: the code is read, never imported).

Usage::

    python tools/import_graph.py                     # src/hhpnet, modules over 650 lines
    python tools/import_graph.py --max-lines 500 --root src/hhpnet
    python tools/import_graph.py --check             # exit 1: a module-level cycle, a long module
                                                     # or more than 8 functions over 60 code lines
    python tools/import_graph.py --functions         # list every function over 60 code lines

Two graphs, each edge "module A imports module B" (B is the most specific module the statement
names: ``from hhpnet.video import sinks`` → ``hhpnet.video.sinks``, ``from hhpnet.video import
process_video`` → ``hhpnet.video``; relative imports resolved; only modules of the package):

* **module level**: statements that run when A is imported (top level, class bodies, ``if`` /
  ``try`` blocks), except those under ``if TYPE_CHECKING:`` (never run);
* **all**: module level plus the lazy imports inside functions.

A *cycle* is a strongly connected component of more than one module (or a module importing
itself); each is printed with its members and one shortest cycle through them. Module-level
cycles are the ones that matter for import order; cycles of the second graph that are not
module-level cycles come only from lazy imports (they work, but two modules then know each other).

A function's *code lines* (:func:`code_lines`) are the lines from its ``def`` (or first
decorator) to its end that hold a token other than a comment: blank lines, comment lines and
docstrings do not count; a nested function's lines count in the enclosing function too.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
import tokenize
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
Graph = dict[str, set[str]]


@dataclass
class Imports:
    """Edges of one package: ``module`` (import time) and ``lazy`` (inside functions)."""

    modules: dict[str, Path]
    module: Graph = field(default_factory=dict)
    lazy: Graph = field(default_factory=dict)

    def all(self) -> Graph:
        return {m: self.module.get(m, set()) | self.lazy.get(m, set()) for m in self.modules}


def module_names(root: Path) -> dict[str, Path]:
    """Dotted name → file for every ``.py`` file under the package folder ``root``."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, lazy: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Import statements under ``node`` with whether they run lazily (inside a function)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, lazy
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.orelse:  # the ``else`` of ``if TYPE_CHECKING`` does run
                yield from _walk(stmt, lazy)
        else:
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            yield from _walk(child, inner)


def _targets(
    stmt: ast.Import | ast.ImportFrom, name: str, is_pkg: bool, known: dict[str, Path]
) -> set[str]:
    """Modules of ``known`` that ``stmt`` (in module ``name``) imports."""
    if isinstance(stmt, ast.Import):
        bases = [a.name for a in stmt.names]
        return {b for b in bases if b in known}
    if stmt.level:
        package = name if is_pkg else name.rpartition(".")[0]
        for _ in range(stmt.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{stmt.module}" if stmt.module else package
    else:
        base = stmt.module or ""
    out = set()
    for alias in stmt.names:
        sub = f"{base}.{alias.name}"
        if sub in known:
            out.add(sub)
        elif base in known:
            out.add(base)
    return out


def read_imports(root: Path) -> Imports:
    """The two import graphs of the package folder ``root``."""
    known = module_names(root)
    imp = Imports(known)
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_pkg = path.name == "__init__.py"
        for stmt, lazy in _walk(tree, False):
            targets = _targets(stmt, name, is_pkg, known) - {name}
            graph = imp.lazy if lazy else imp.module
            graph.setdefault(name, set()).update(targets)
    return imp


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    nodes = sorted(set(graph) | {t for ts in graph.values() for t in ts})
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        comp.append(m)
                        if m == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
            elif nxt not in index:
                index[nxt] = low[nxt] = len(index)
                stack.append(nxt)
                on_stack.add(nxt)
                work.append((nxt, iter(sorted(graph.get(nxt, ())))))
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
    return sorted(out)


def shortest_cycle(graph: Graph, members: list[str]) -> list[str]:
    """A shortest cycle through the first member of a component (breadth-first search)."""
    start = members[0]
    inside = set(members)
    prev: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph.get(node, set()) & inside):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return [*reversed(path), start]
            if nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    return [start]


def long_modules(modules: dict[str, Path], max_lines: int) -> list[tuple[str, int]]:
    """(module, line count) of the modules longer than ``max_lines``, longest first."""
    counts = [(m, len(p.read_text(encoding="utf-8").splitlines())) for m, p in modules.items()]
    return sorted(((m, n) for m, n in counts if n > max_lines), key=lambda x: (-x[1], x[0]))


_NOT_CODE = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENDMARKER,
    tokenize.ENCODING,
}
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


def code_lines(text: str) -> tuple[ast.Module, set[int]]:
    """The module's syntax tree and the numbers of its lines that hold code: a token other
    than a comment or a line break, outside the docstrings of the module, its classes and its
    functions."""
    tree = ast.parse(text)
    docs: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, *_DEFS)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                docs.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type not in _NOT_CODE:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return tree, lines - docs


def long_functions(modules: dict[str, Path], max_code_lines: int) -> list[tuple[str, int]]:
    """(``module:function`` with its line, code lines) of the functions with more than
    ``max_code_lines`` code lines, longest first."""
    out = []
    for name, path in modules.items():
        tree, lines = code_lines(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, _DEFS):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                end = node.end_lineno or node.lineno
                n = sum(1 for k in lines if start <= k <= end)
                if n > max_code_lines:
                    out.append((f"{name}:{node.name} (line {node.lineno})", n))
    return sorted(out, key=lambda x: (-x[1], x[0]))


def report(root: Path, max_lines: int) -> tuple[str, int, int, int]:
    """Text report, and the numbers of module-level cycles, lazy-only cycles and long modules."""
    imp = read_imports(root)
    at_import = cycles(imp.module)
    everything = cycles(imp.all())
    lazy_only = [c for c in everything if c not in at_import]
    longs = long_modules(imp.modules, max_lines)
    lines = [f"{len(imp.modules)} modules under {root}"]
    for title, comps, graph in (
        ("module-level import cycles", at_import, imp.module),
        ("cycles through function-level (lazy) imports", lazy_only, imp.all()),
    ):
        lines.append(f"{title}: {len(comps)}")
        for comp in comps:
            lines.append(f"  {len(comp)} modules: {', '.join(comp)}")
            lines.append(f"    e.g. {' -> '.join(shortest_cycle(graph, comp))}")
    lines.append(f"modules over {max_lines} lines: {len(longs)}")
    lines += [f"  {n:5d}  {m}" for m, n in longs]
    return "\n".join(lines), len(at_import), len(lazy_only), len(longs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--root", type=Path, default=ROOT / "src" / "hhpnet", help="package folder")
    ap.add_argument("--max-lines", type=int, default=650)
    ap.add_argument("--function-lines", type=int, default=60, help="a long function has more")
    ap.add_argument("--max-long-functions", type=int, default=8)
    ap.add_argument("--functions", action="store_true", help="list the long functions")
    ap.add_argument("--check", action="store_true", help="exit 1 on cycles, long modules or …")
    args = ap.parse_args(argv)
    text, n_module, _, n_long = report(args.root, args.max_lines)
    funcs = long_functions(module_names(args.root), args.function_lines)
    print(text)
    print(
        f"functions over {args.function_lines} code lines: {len(funcs)} "
        f"(at most {args.max_long_functions})"
    )
    if args.functions:
        print("\n".join(f"  {n:5d}  {f}" for f, n in funcs))
    too_many = len(funcs) > args.max_long_functions
    return 1 if args.check and (n_module or n_long or too_many) else 0


if __name__ == "__main__":
    sys.exit(main())
