"""No import cycles in watcher/, and the checker `make check` runs finds the ones that hide."""

from __future__ import annotations

from pathlib import Path

from tools import import_cycles

ROOT = Path(__file__).resolve().parents[1]


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_watcher_has_no_import_cycles(capsys):
    assert import_cycles.main([str(ROOT / "watcher")]) == 0, capsys.readouterr().out


def test_a_lazy_import_inside_a_function_is_still_a_cycle(tmp_path, capsys):
    root = _package(tmp_path, {
        "a.py": "from pkg.b import g\n\ndef f():\n    return g()\n",
        "b.py": "def g():\n    from pkg.a import f  # hidden\n    return f\n",
    })
    assert import_cycles.main([str(root)]) == 1
    out = capsys.readouterr().out
    assert "import cycle: pkg.a -> pkg.b -> pkg.a" in out
    assert "pkg/b.py:2" in out  # where the lazy import is


def test_type_checking_imports_do_not_count(tmp_path):
    root = _package(tmp_path, {
        "a.py": "from pkg.b import g\n",
        "b.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                 "    from pkg.a import f\ndef g(): ...\n"),
    })
    assert import_cycles.main([str(root)]) == 0


def test_importing_a_submodule_runs_its_package_init(tmp_path, capsys):
    """``pkg.sub.__init__`` imports ``pkg.x``, which imports ``pkg.sub.leaf``: importing the leaf
    runs ``pkg.sub``'s ``__init__`` first, so this is a cycle."""
    root = _package(tmp_path, {
        "sub/__init__.py": "from pkg.x import X\n",
        "sub/leaf.py": "L = 1\n",
        "x.py": "from pkg.sub.leaf import L\nX = L\n",
    })
    assert import_cycles.main([str(root)]) == 1
    assert "pkg.sub -> pkg.x -> pkg.sub" in capsys.readouterr().out


def test_a_package_importing_its_own_modules_is_fine(tmp_path):
    root = _package(tmp_path, {
        "sub/__init__.py": "from pkg.sub.a import A\n",
        "sub/a.py": "from pkg.sub.b import B\nA = B\n",
        "sub/b.py": "B = 1\n",
    })
    assert import_cycles.main([str(root)]) == 0


def test_relative_imports_are_resolved(tmp_path):
    root = _package(tmp_path, {
        "a.py": "from . import b\n",
        "b.py": "from .a import x\n",
    })
    assert import_cycles.cycles(import_cycles.edges(root))
