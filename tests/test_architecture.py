"""docs/architecture.md cannot rot: every path and value it names exists, every module of
watcher/ is named, every value of watcher/types.py is named, and what it says about imports
holds."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tools import import_cycles

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
CODE = set(re.findall(r"`([^`\n]+)`", DOC))
PACKAGE = ROOT / "watcher"
NAMED_WHOLE = {"facts", "notify"}  # packages named as a whole; the others module by module


def _classes(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}


def test_every_path_it_names_exists():
    paths = [c for c in CODE if c.startswith(("watcher/", "migrations/", "seeds/", "rules/",
                                              "tools/", "tests/"))]
    assert paths
    for path in paths:
        if "*" in path:
            assert list(ROOT.glob(path)), path
        else:
            assert (ROOT / path).exists(), f"docs/architecture.md names {path}: not found"


def test_every_module_of_watcher_is_named():
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if path.name in ("__init__.py", "__main__.py"):
            if path.parent != PACKAGE and f"`{path.parent.relative_to(ROOT)}/`" not in DOC:
                missing.append(f"{path.parent.relative_to(ROOT)}/")
            continue
        package = path.parent.relative_to(PACKAGE).as_posix()
        if package in NAMED_WHOLE:
            continue
        # by its path, or by its name in the row or sentence of its package
        if f"`{rel.as_posix()}`" not in DOC and not (
                package != "." and f"`{path.name}`" in DOC):
            missing.append(rel.as_posix())
    assert not missing, f"not in docs/architecture.md: {', '.join(missing)}"


def test_every_value_it_names_exists_and_every_value_type_is_named():
    defined = set()
    for path in PACKAGE.rglob("*.py"):
        defined |= _classes(path)
    named = {c for c in CODE if re.fullmatch(r"[A-Z][A-Za-z]+", c)}
    assert named - defined == set(), "named in docs/architecture.md but not defined"
    values = _classes(PACKAGE / "types.py")
    assert values - named == set(), "values of watcher/types.py missing from the doc"


def test_only_the_service_the_runner_and_the_cli_import_the_pipeline():
    importers = {e.source for e in import_cycles.edges(PACKAGE)
                 if e.target == "watcher.pipeline"}
    assert importers <= {"watcher.service", "watcher.schedule", "watcher.cli"}, importers
