"""What is already known: every stored finding, kept in memory and in step with the database.

Deciding whether a finding is news compares it with every known finding of its rule (the
baseline's and every earlier article's, from any worker). Reading them all for each article
costs more as findings accumulate; this cache reads each finding once, then only the ones
stored since its last look (``watcher.store.tail``). Findings are never changed once stored;
the only ones ever deleted are the baseline's, all together, when the rules or seeds change:
a new baseline fingerprint reloads everything.
"""

from __future__ import annotations

import threading
from bisect import insort
from collections.abc import Iterable

from watcher.store import findings
from watcher.store.repo import Bind
from watcher.store.tail import Tail
from watcher.types import Known


class KnownFindings:
    def __init__(self) -> None:
        self._by_rule: dict[str, list[Known]] = {}  # by id, as decide expects
        self._baseline: str | None = None
        self._tail = Tail()
        self._lock = threading.Lock()

    def of_rules(self, bind: Bind, rule_ids: Iterable[str]) -> list[Known]:
        """The known findings of these rules, oldest first (a new list: the caller may add to
        it)."""
        with self._lock:
            self._refresh(bind)
            out: list[Known] = []
            for rule_id in sorted(set(rule_ids)):
                out += self._by_rule.get(rule_id, ())
            out.sort(key=_stored_id)
            return out

    def _refresh(self, bind: Bind) -> None:
        baseline = findings.baseline_fingerprint(bind)  # first: see below
        if baseline != self._baseline:
            # Rows are read after the fingerprint, so a baseline replaced in between shows
            # as new rows now and as a changed fingerprint at the next look, which reloads.
            self._by_rule.clear()
            self._tail.reset()
            self._baseline = baseline
        rows = findings.findings_after(bind, self._tail.last, self._tail.gaps())
        for k in rows:
            insort(self._by_rule.setdefault(k.rule_id, []), k, key=_stored_id)
        self._tail.saw(_stored_id(k) for k in rows)


def _stored_id(k: Known) -> int:
    assert k.id is not None  # read from the database: stored
    return k.id
