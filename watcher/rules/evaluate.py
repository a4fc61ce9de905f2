"""Replay labelled cases through match and decide: for tests, benchmarks and ``rules test``.

    run_cases(ruleset, seeds, cases) -> [(article, [(finding, decision)])]

The seeds are matched with ``baseline=True`` and become Known (origin "baseline"); then each case
is matched and decided in order, and its findings join the known list (origin "article") so a
later reprint of the same development is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from watcher.decide import decide
from watcher.match import match_article
from watcher.rules.schema import RuleSet
from watcher.types import Article, Decision, Finding, Known


def to_known(finding: Finding, ident: int, origin: Literal["baseline", "article"]) -> Known:
    return Known(id=ident, rule_id=finding.rule_id, key=finding.key, facts=finding.facts,
                 origin=origin, display=dict(finding.display))


def run_cases(ruleset: RuleSet, seeds: list[Article], cases: list[Article]
              ) -> list[tuple[Article, list[tuple[Finding, Decision]]]]:
    known: list[Known] = []
    for seed in seeds:
        for finding in match_article(seed, ruleset, baseline=True):
            known.append(to_known(finding, len(known) + 1, "baseline"))
    out = []
    for article in cases:
        results = []
        for finding in match_article(article, ruleset):
            decision = decide(finding, known, ruleset.rules.get(finding.rule_id))
            results.append((finding, decision))
        for finding, _ in results:
            known.append(to_known(finding, len(known) + 1, "article"))
        out.append((article, results))
    return out


def alerted(results: list[tuple[Finding, Decision]]) -> bool:
    return any(d.kind in ("new", "update") for _, d in results)


def parse_datetime(value: Any) -> datetime | None:
    """A YAML timestamp or ISO string as an aware UTC datetime (a bare date is midnight UTC)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    else:
        dt = datetime.fromisoformat(str(value))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def load_dev_cases(path: Path) -> list[tuple[str, str, Article]]:
    """Read a dev.yaml-style corpus: ``[(case_id, expect, Article)]`` in file order."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out = []
    for case in data.get("cases", []):
        article = Article(url=f"https://example.test/{case['id']}", title=case.get("title", ""),
                          text=case.get("body", ""),
                          published=parse_datetime(case.get("published")),
                          outlet=case.get("outlet"))
        out.append((case["id"], case["expect"], article))
    return out


# Publication dates of the shipped seed documents (seeds/README.md).
SEED_DATES = {"000": "2018-07-02", "001": "2018-08-06", "002": "2018-07-02", "003": "2020-07-15",
              "004": "2019-01-18"}


def load_seed_folder(folder: Path, dates: dict[str, str] | None = None) -> list[Article]:
    """Seed ``*.txt`` files as Articles; the first line of a file is not treated as a title."""
    dates = dates or SEED_DATES
    out = []
    for path in sorted(Path(folder).glob("*.txt")):
        published = parse_datetime(dates.get(path.name[:3]))
        out.append(Article(url=f"seed:{path.name}", title="",
                           text=path.read_text(encoding="utf-8"), published=published))
    return out


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    tp: int
    fp: int
    fn: int
    wrong: tuple[str, ...]


def score(ruleset: RuleSet, seeds: list[Article], cases: list[tuple[str, str, Article]]) -> Score:
    results = run_cases(ruleset, seeds, [a for _, _, a in cases])
    tp = fp = fn = 0
    wrong = []
    for (case_id, expect, _), (_, res) in zip(cases, results, strict=True):
        got = alerted(res)
        if got and expect == "alert":
            tp += 1
        elif got:
            fp += 1
            wrong.append(f"{case_id}: alerted, expected quiet")
        elif expect == "alert":
            fn += 1
            wrong.append(f"{case_id}: quiet, expected alert")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return Score(precision, recall, tp, fp, fn, tuple(wrong))
