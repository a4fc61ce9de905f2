"""The operator's tools: ``watcher rules check|test|explain`` (explain: ``rules.explain``).

Each prints what it found and returns an exit code.
"""

from __future__ import annotations

from pathlib import Path

from watcher.errors import RuleError, RuleErrors
from watcher.rules.explain import explain
from watcher.rules.inbox import FOLDER as INBOX
from watcher.rules.loader import load_rule_file, load_ruleset
from watcher.rules.places_file import PLACES_FILE, load_places_file
from watcher.rules.testing import run_test_files

__all__ = ["check", "explain", "test"]


def _rule_files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(p for p in path.glob("*.yaml") if p.is_file())


def check(path: Path) -> int:
    """Validate a rule file, or every rule file in a folder (duplicate ids across files too):
    every error of every file, then the warnings. Exit 1 on any error; warnings alone pass."""
    path = Path(path)
    if not path.exists():
        print(f"{path}: no such file or folder")
        return 1
    errors: list[RuleError] = []
    warnings: list[RuleError] = []
    count = 0
    if path.is_dir():
        ruleset, errors = load_ruleset(path, warnings=warnings)
        count = len(ruleset.rules)
    else:
        try:
            if path.name == PLACES_FILE:
                load_places_file(path)
            else:
                count = len(load_rule_file(path, warnings))
        except RuleError as exc:
            errors.extend(exc.errors if isinstance(exc, RuleErrors) else [exc])
    for err in errors:
        print(str(err))
    for warning in warnings:
        print(f"warning: {warning}")
    files = len(_rule_files(path))
    if errors:
        print(f"{len(errors)} error(s) in {files} file(s)")
        return 1
    print(f"ok: {count} rule(s) in {files} file(s)" +
          (f", {len(warnings)} warning(s)" if warnings else ""))
    return 0


def test(path: Path, run: str | None = None, inbox: bool = False) -> int:
    """Run the rule unit tests in ``<rules>/tests/*.yaml`` against the rules in ``<rules>``
    (with ``run``, only the tests whose name contains it; with ``inbox``, the cases in
    ``<rules>/tests/inbox/``: articles marked "not news" in Slack, ``watcher.rules.inbox``)."""
    path = Path(path)
    rules_dir = path if path.is_dir() and path.name != "tests" else \
        (path.parent.parent if path.is_file() else path.parent)
    tests_dir = path if path.is_dir() and path.name == "tests" else rules_dir / "tests"
    if inbox:
        tests_dir = tests_dir / INBOX
        if path.is_file() or not tests_dir.is_dir() or not any(tests_dir.glob("*.yaml")):
            print(f"no cases in the inbox ({tests_dir}): nothing was marked not news")
            return 0
        path = tests_dir
    test_files = [path] if path.is_file() else sorted(tests_dir.glob("*.yaml"))
    ruleset, errors = load_ruleset(rules_dir)
    for err in errors:
        print(str(err))
    if errors:
        return 1
    if not test_files:
        print(f"no rule tests found in {tests_dir}")
        return 1
    try:
        results = run_test_files(ruleset, test_files)
    except RuleError as exc:
        print(str(exc))
        return 1
    if run is not None:
        results = [r for r in results if run.lower() in r.name.lower()]
        if not results:
            print(f"no rule test named like {run!r}")
            return 1
    failed = 0
    for r in results:
        print(f"{'PASS' if r.ok else 'FAIL'} {Path(r.file).name}: {r.name}")
        if not r.ok:
            failed += 1
            for p in r.problems:
                print(f"    - {p}")
            for g in r.got or ("(no findings)",):
                print(f"    + got: {g}")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0
