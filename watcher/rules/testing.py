"""Rule unit tests written by operators in YAML (promtool style), and their runner.

A test file (``rules/tests/*.yaml``)::

    tests:
      - name: Hanoi date and place announced
        published: 2019-02-06T12:00:00Z
        title: Trump and Kim to meet in Hanoi on Feb. 27-28
        text: President Trump said he will meet Kim Jong Un in Hanoi on Feb. 27-28.
        baseline:                       # optional: texts known before this one
          - published: 2019-01-18
            text: |
              A second summit between Trump and Kim Jong Un will take place at the end of
              February.
        expect:                         # findings that must be news; [] means: nothing is news
          - rule: summit-announcement
            kind: update                # new | update | known
            facts:
              where: Hanoi               # text the fact's display must contain
              when: {start: 2019-02-27, end: 2019-02-28, precision: range}

``expect: []`` passes when no finding is new or update (known findings are allowed).
``rules: [rule-id, ...]`` limits a case to the findings of those rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from watcher.errors import RuleError
from watcher.rules.evaluate import parse_datetime, run_cases
from watcher.rules.schema import RuleSet
from watcher.types import Article, Decision, Finding, Novelty

# url, finding and marked_by only inform (the inbox's cases: ``watcher.rules.inbox``)
CASE_KEYS = {"name", "published", "title", "text", "baseline", "expect", "rules", "url",
             "finding", "marked_by"}
EXPECT_KEYS = {"rule", "kind", "facts"}


@dataclass(frozen=True)
class CaseResult:
    file: str
    name: str
    ok: bool
    problems: tuple[str, ...]
    got: tuple[str, ...]


def _article(item: dict[str, Any], file: str, index: int) -> Article:
    return Article(url=str(item.get("url") or f"test:{Path(file).name}#{index}"),
                   title=str(item.get("title") or ""),
                   text=str(item.get("text") or ""),
                   published=parse_datetime(item.get("published")))


def load_test_file(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleError(str(path), None, f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise RuleError(str(path), 1, "a rule test file needs a 'tests' list", key="tests")
    for i, case in enumerate(data["tests"]):
        if not isinstance(case, dict):
            raise RuleError(str(path), None, f"test #{i + 1} must be a mapping", key="tests")
        unknown = set(case) - CASE_KEYS
        if unknown:
            first = min(unknown)
            raise RuleError(str(path), None, f"unknown key '{first}' in test #{i + 1}",
                            key=first,
                            hint=f"known keys: {', '.join(sorted(CASE_KEYS))}")
        if "expect" not in case or "published" not in case:
            raise RuleError(str(path), None, f"test #{i + 1} needs 'published' and 'expect'")
    tests: list[dict[str, Any]] = data["tests"]
    return tests


def _fact_matches(finding: Finding, name: str, want: Any) -> bool:
    have = finding.facts.get(name)
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return False
        return all(str(have.get(k)) == (v.isoformat() if isinstance(v, (date, datetime))
                                        else str(v)) for k, v in want.items())
    text = finding.display.get(name, "")
    if want is None:
        return not text or "not announced" in text
    return str(want).lower() in text.lower() or str(want).lower() == str(have).lower()


def _describe(finding: Finding, decision: Decision) -> str:
    facts = ", ".join(f"{k}={v!r}" for k, v in finding.display.items() if v)
    return f"{decision.kind} {finding.rule_id}: {facts}"


def run_case(ruleset: RuleSet, case: dict[str, Any], file: str, index: int) -> CaseResult:
    seeds = [_article(b, file, 1000 + j) for j, b in enumerate(case.get("baseline") or [])]
    article = _article(case, file, index)
    [analysis] = run_cases(ruleset, seeds, [article])
    results = [(o.finding, o.decision) for o in analysis.outcomes]
    if case.get("rules"):
        results = [(f, d) for f, d in results if f.rule_id in case["rules"]]
    got = tuple(_describe(f, d) for f, d in results)
    news = [(f, d) for f, d in results if d.kind in (Novelty.NEW, Novelty.UPDATE)]
    problems: list[str] = []
    expected = case.get("expect") or []
    if not expected and news:
        problems.extend(f"unexpected: {_describe(f, d)}" for f, d in news)
    for want in expected:
        rule, kind = want.get("rule"), want.get("kind", "new")
        facts = want.get("facts") or {}
        ok = any(f.rule_id == rule and d.kind == kind
                 and all(_fact_matches(f, n, v) for n, v in facts.items())
                 for f, d in results)
        if not ok:
            shown = ", ".join(f"{k}={v!r}" for k, v in facts.items())
            problems.append(f"missing: {kind} {rule}: {shown}")
    name = str(case.get("name") or f"test #{index + 1}")
    return CaseResult(file, name, not problems, tuple(problems), got)


def run_test_files(ruleset: RuleSet, paths: list[Path]) -> list[CaseResult]:
    out = []
    for path in paths:
        for i, case in enumerate(load_test_file(path)):
            out.append(run_case(ruleset, case, str(path), i))
    return out
