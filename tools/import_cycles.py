"""Fail on import cycles inside a package: ``python tools/import_cycles.py [watcher]``.

Every import counts, at module level or inside a function (a lazy import only hides a cycle),
except those under ``if TYPE_CHECKING:`` (annotations only: never run).

An edge goes from the importing module to the module it imports. Importing ``a.b.c`` also runs
the ``__init__`` of ``a.b`` and ``a``, so it is an edge to those packages too, unless the
importing module lives inside them (a package importing its own submodules is the normal case).
``from a.b import x`` imports ``a.b.x`` when that is a module, else the name ``x`` of ``a.b``.

Prints each cycle found as a path of modules with the line of each import; exit status 1 when
there is any.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int


def modules(root: Path) -> dict[str, Path]:
    """Module name -> file, for every ``.py`` file of the package at ``root``."""
    base = root.parent
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, skipping the bodies of ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        if isinstance(node, ast.If) and _type_checking_only(node):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def edges(root: Path) -> list[Edge]:
    known = modules(root)
    out: list[Edge] = []
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    package = _package_of(name, path).split(".")
                    package = package[:len(package) - node.level + 1]
                    base = ".".join(package + ([base] if base else []))
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in known else base)
            for target in targets:
                for module in _with_parents(target, name):
                    if module in known and module != name:
                        out.append(Edge(name, module, node.lineno))
    return out


def _with_parents(target: str, importer: str) -> list[str]:
    """``target`` and the packages whose ``__init__`` importing it runs."""
    parts = target.split(".")
    out = [target]
    for i in range(1, len(parts)):
        package = ".".join(parts[:i])
        if importer != package and not importer.startswith(package + "."):
            out.append(package)
    return out


def cycles(found: list[Edge]) -> list[tuple[set[str], list[Edge]]]:
    """Each strongly connected group of modules, with one cycle through it (as its edges)."""
    graph: dict[str, list[Edge]] = {}
    for e in found:
        graph.setdefault(e.source, []).append(e)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for e in graph.get(v, []):
            if e.target not in index:
                visit(e.target)
                low[v] = min(low[v], low[e.target])
            elif e.target in on_stack:
                low[v] = min(low[v], index[e.target])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [(group, _path_in(graph, group)) for group in groups]


def _path_in(graph: dict[str, list[Edge]], group: set[str]) -> list[Edge]:
    """A shortest cycle through the group's first module (breadth first)."""
    start = min(group)
    came: dict[str, Edge] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for e in graph.get(v, []):
                if e.target not in group:
                    continue
                if e.target == start:
                    path = [e]
                    while path[0].source != start:
                        path.insert(0, came[path[0].source])
                    return path
                if e.target not in came:
                    came[e.target] = e
                    nxt.append(e.target)
        frontier = nxt
    raise AssertionError("a strongly connected group has a cycle")


def describe(group: set[str], cycle: list[Edge], root: Path) -> str:
    known = modules(root)
    steps = [f"  {e.source} -> {e.target}  ({known[e.source].relative_to(root.parent)}:{e.line})"
             for e in cycle]
    names = " -> ".join([cycle[0].source] + [e.target for e in cycle])
    among = f"\n  (modules in cycles with each other: {', '.join(sorted(group))})" \
        if len(group) > len(cycle) else ""
    return f"import cycle: {names}\n" + "\n".join(steps) + among


def main(argv: list[str]) -> int:
    root = Path(argv[0] if argv else "watcher")
    if not (root / "__init__.py").exists():
        print(f"{root}: not a package", file=sys.stderr)
        return 2
    found = cycles(edges(root))
    for group, cycle in found:
        print(describe(group, cycle, root))
    if found:
        print(f"{len(found)} import cycle(s) in {root}")
        return 1
    print(f"no import cycles in {root} ({len(modules(root))} modules)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
