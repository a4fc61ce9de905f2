"""What bench/accuracy.py measures, as pure functions of plain values: the corpus, the serving
plan (which cases each poll brings, in which feed, listed in which order) and the group score.

Labels (see the header of ../shared/corpus/real-dev.yaml):

* ``alert``: the case belongs to a development (its ``group``; without one the case is a group of
  its own, as in dev.yaml). A group is *found* when at least one Slack message, a top-level post
  or a thread reply, names the URL of one of its alert cases.
* ``quiet``: no message may name the case; each quiet case that is named counts once as noise.
* ``judge``: free, neither required nor penalised (a ``group`` on it is ignored).

recall = groups found / alert groups; precision = groups found / (groups found + quiet cases
posted). A group is *duplicated* when more than one top-level message (no ``thread_ts``) names
its alert cases.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml

LABELS = ("alert", "quiet", "judge")
ORDERS = ("oldest-first", "newest-first")
CASE_KEYS = {"id", "expect", "group", "published", "outlet", "title", "body", "source", "reason"}
T = TypeVar("T")


@dataclass(frozen=True)
class Case:
    id: str
    expect: str  # one of LABELS
    title: str
    paragraphs: tuple[str, ...]
    published: datetime | None
    outlet: str = "Test Outlet"
    group: str | None = None

    @property
    def group_key(self) -> str:
        """The development an alert case belongs to: its ``group``, else the case itself."""
        return self.group or self.id


def _datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def parse_cases(data: Any, where: str = "corpus") -> list[Case]:
    """Cases from a loaded corpus document; every problem is a ValueError naming the case."""
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise ValueError(f"{where}: expected a mapping with a 'cases' list")
    cases: list[Case] = []
    seen: set[str] = set()
    for n, raw in enumerate(data["cases"], 1):
        if not isinstance(raw, dict) or not raw.get("id"):
            raise ValueError(f"{where}: case #{n} has no id")
        cid = str(raw["id"])
        unknown = sorted(set(raw) - CASE_KEYS)
        if unknown:
            raise ValueError(f"{where}: case {cid!r}: unknown key(s) {', '.join(unknown)}")
        if raw.get("expect") not in LABELS:
            raise ValueError(f"{where}: case {cid!r}: expect must be one of {', '.join(LABELS)}, "
                             f"not {raw.get('expect')!r}")
        if cid in seen:
            raise ValueError(f"{where}: case {cid!r} appears twice")
        seen.add(cid)
        try:
            published = _datetime(raw.get("published"))
        except ValueError as exc:
            raise ValueError(f"{where}: case {cid!r}: published: {exc}") from None
        paragraphs = tuple(line.strip() for line in str(raw.get("body") or "").splitlines()
                           if line.strip())
        group = raw.get("group")
        cases.append(Case(id=cid, expect=raw["expect"], title=str(raw.get("title") or ""),
                          paragraphs=paragraphs, published=published,
                          outlet=str(raw.get("outlet") or "Test Outlet"),
                          group=str(group) if group is not None else None))
    return cases


def load_cases(path: Path) -> list[Case]:
    return parse_cases(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}, str(path))


def chronological(cases: Sequence[Case]) -> list[Case]:
    """Cases in publication order (stable: same-time cases keep their file order; a case without
    a date keeps its place after the cases before it)."""
    keyed, last = [], datetime.min.replace(tzinfo=UTC)
    for i, c in enumerate(cases):
        last = c.published or last
        keyed.append((last, i, c))
    return [c for _, _, c in sorted(keyed, key=lambda k: (k[0], k[1]))]


def plan(n_cases: int, batch: int | None, feeds: int) -> list[list[tuple[int, int]]]:
    """Poll steps: each a list of (case index, feed index) that appear before that poll. Cases
    are taken in the given (publication) order, ``batch`` at a time (None: all at once), and
    dealt round-robin over ``feeds`` feeds."""
    if feeds < 1:
        raise ValueError("feeds must be at least 1")
    if batch is not None and batch < 1:
        raise ValueError("batch must be at least 1 (or all)")
    size = batch or max(n_cases, 1)
    return [[(i, i % feeds) for i in range(start, min(start + size, n_cases))]
            for start in range(0, n_cases, size)]


def listing(items: Sequence[T], order: str) -> list[T]:
    """A feed's items as the feed lists them; ``items`` are in the order they appeared."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}")
    return list(items) if order == "oldest-first" else list(reversed(items))


# --- the score --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Posted:
    """One Slack message as the scorer sees it."""
    text: str  # everything it says: text and blocks
    thread_ts: str | None = None  # set on thread replies
    first_line: str = ""

    @property
    def top_level(self) -> bool:
        return not self.thread_ts

    @classmethod
    def from_slack(cls, message: Mapping[str, Any]) -> Posted:
        text = str(message.get("text") or "")
        blob = json.dumps({"text": text, "blocks": message.get("blocks") or []},
                          ensure_ascii=False)
        return cls(blob, message.get("thread_ts") or None, text.strip().split("\n", 1)[0][:160])


@dataclass(frozen=True)
class CaseOutcome:
    case: Case
    url: str
    messages: tuple[int, ...]  # indexes of the messages that name the case's URL
    group_found: bool  # alert cases: whether any case of the group was named

    @property
    def posted(self) -> bool:
        return bool(self.messages)

    @property
    def verdict(self) -> str:
        if self.case.expect == "judge":
            return "free"
        if self.case.expect == "quiet":
            return "NOISE" if self.posted else "ok"
        return "ok" if self.group_found else "MISS"


@dataclass(frozen=True)
class Score:
    outcomes: tuple[CaseOutcome, ...]
    messages: tuple[Posted, ...]
    alert_groups: tuple[str, ...]  # in order of first appearance
    found: tuple[str, ...]
    duplicates: tuple[tuple[str, int], ...]  # (group, top-level posts) with more than one

    @property
    def missed(self) -> tuple[str, ...]:
        return tuple(g for g in self.alert_groups if g not in self.found)

    @property
    def quiet_posted(self) -> tuple[CaseOutcome, ...]:
        return tuple(o for o in self.outcomes if o.case.expect == "quiet" and o.posted)

    @property
    def precision(self) -> float | None:
        posted = len(self.found) + len(self.quiet_posted)
        return len(self.found) / posted if posted else None

    @property
    def recall(self) -> float | None:
        return len(self.found) / len(self.alert_groups) if self.alert_groups else None

    def cases_of(self, group: str) -> list[str]:
        return [o.case.id for o in self.outcomes
                if o.case.expect == "alert" and o.case.group_key == group]

    def first_line(self, outcome: CaseOutcome) -> str:
        return self.messages[outcome.messages[0]].first_line if outcome.messages else ""


def score(cases: Sequence[Case], urls: Mapping[str, str], messages: Sequence[Posted]) -> Score:
    """Score the messages a run posted against the cases (``urls``: case id -> page URL)."""
    naming = {c.id: tuple(i for i, m in enumerate(messages) if urls[c.id] in m.text)
              for c in cases}
    groups: dict[str, list[Case]] = {}
    for c in cases:
        if c.expect == "alert":
            groups.setdefault(c.group_key, []).append(c)
    found = tuple(g for g, members in groups.items() if any(naming[c.id] for c in members))
    duplicates = []
    for g, members in groups.items():
        top = {i for c in members for i in naming[c.id] if messages[i].top_level}
        if len(top) > 1:
            duplicates.append((g, len(top)))
    outcomes = tuple(CaseOutcome(c, urls[c.id], naming[c.id],
                                 c.expect == "alert" and c.group_key in found) for c in cases)
    return Score(outcomes, tuple(messages), tuple(groups), found, tuple(duplicates))


def figures(s: Score) -> dict[str, Any]:
    """The score as plain data (for ``--json``)."""
    return {
        "precision": s.precision, "recall": s.recall,
        "alert_groups": len(s.alert_groups), "groups_found": len(s.found),
        "missed_groups": [{"group": g, "cases": s.cases_of(g)} for g in s.missed],
        "quiet_posted": [{"case": o.case.id, "message": s.first_line(o)}
                         for o in s.quiet_posted],
        "duplicates": [{"group": g, "top_level_posts": n} for g, n in s.duplicates],
        "cases": {label: sum(1 for o in s.outcomes if o.case.expect == label)
                  for label in LABELS},
        "messages": len(s.messages),
    }
