"""One Aho-Corasick automaton over every term of every rule, built once per RuleSet.

Scanning an article once gives every term occurrence of every rule; a rule is examined only when
all the terms its match condition cannot do without occur in the article. With 1,000 rules the
scan costs about what it costs with 10: the automaton is walked once per article either way.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING

import ahocorasick

from watcher.match.text import normalize

if TYPE_CHECKING:  # the schema builds a RuleSet's prefilter: no import back at run time
    from watcher.rules.schema import Rule


@dataclass(frozen=True)
class Hit:
    start: int
    end: int  # exclusive
    term: str  # the rule's term list name


def unmask(hits: list[Hit], ignore: set[str]) -> list[Hit]:
    """Drop the hits of ``ignore`` lists and every hit inside one ("Kim" in "Kim Yong Chol")."""
    masks = sorted((h.start, h.end) for h in hits if h.term in ignore)
    if not masks:
        return hits
    starts = [start for start, _ in masks]
    reach = list(accumulate((end for _, end in masks), max))  # furthest end of masks so far
    out = []
    for h in hits:
        if h.term in ignore:
            continue
        i = bisect_right(starts, h.start)  # masks starting at or before the hit
        if i and reach[i - 1] >= h.end:
            continue  # inside one of them
        out.append(h)
    return out


def phrase_key(phrase: str) -> str:
    return " ".join(normalize(phrase).split())


class Prefilter:
    def __init__(self, rules: Iterable[Rule]):
        rules = tuple(rules)
        self.rules = {r.id: r for r in rules}
        owners: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for rule in rules:
            for name, phrases in rule.terms.items():
                for phrase in phrases:
                    key = phrase_key(phrase)
                    if (rule.id, name) not in owners[key]:
                        owners[key].append((rule.id, name))
        self.automaton = ahocorasick.Automaton()
        for key, who in owners.items():
            self.automaton.add_word(key, (key, tuple(who)))
        if owners:
            self.automaton.make_automaton()
        self.empty = not owners
        self.needed = {r.id: frozenset(r.match.required_terms()) for r in rules}

    def scan(self, norm: str) -> dict[str, list[Hit]]:
        """Term occurrences by rule id, for rules whose required terms all occur."""
        return {rid: hits for rid, hits in self.hits(norm).items()
                if self.needed[rid] <= {h.term for h in hits}}

    def hits(self, norm: str) -> dict[str, list[Hit]]:
        """Term occurrences by rule id, for every rule with at least one."""
        if self.empty:
            return {}
        found: dict[str, list[Hit]] = defaultdict(list)
        n = len(norm)
        for end, (key, who) in self.automaton.iter(norm):
            start = end - len(key) + 1
            if start > 0 and norm[start - 1].isalnum():
                continue
            if end + 1 < n and norm[end + 1].isalnum():
                continue
            for rule_id, term in who:
                found[rule_id].append(Hit(start, end + 1, term))
        return found
