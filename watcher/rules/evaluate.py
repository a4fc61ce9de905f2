"""Replay labelled cases through the pipeline's analysis, storing nothing: for ``rules test``,
the accuracy tests and benchmarks.

    run_cases(ruleset, seeds, cases) -> [Analysis]

The seeds make the baseline known (``KnownList.add_seed``, as the pipeline loads it); then each
case is analysed in order (``watcher.analyse.analyse``, the pipeline's own code) and its
findings join the known list as the database would keep them, so a later report of the same
development is known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from watcher.analyse import Analysis, KnownList, analyse
from watcher.rules.schema import RuleSet
from watcher.types import Article, Novelty

DEFAULT_CHANNEL = "#alerts"  # the channel of rules that name none (no message is sent)


def run_cases(ruleset: RuleSet, seeds: Sequence[Article], cases: Sequence[Article]
              ) -> list[Analysis]:
    memory = KnownList()
    for seed in seeds:
        memory.add_seed(seed, ruleset)
    out = []
    for article in cases:
        result = analyse(article, ruleset, memory.items, default_channel=DEFAULT_CHANNEL)
        memory.add(result)
        out.append(result)
    return out


def alerted(result: Analysis) -> bool:
    return any(o.decision.kind in (Novelty.NEW, Novelty.UPDATE) for o in result.outcomes)


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


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    tp: int
    fp: int
    fn: int
    wrong: tuple[str, ...]


def score(ruleset: RuleSet, seeds: Sequence[Article], cases: list[tuple[str, str, Article]]
          ) -> Score:
    results = run_cases(ruleset, seeds, [a for _, _, a in cases])
    tp = fp = fn = 0
    wrong = []
    for (case_id, expect, _), res in zip(cases, results, strict=True):
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
