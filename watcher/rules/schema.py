"""The rule language as values: what a validated rule file turns into.

See docs/rules.md for the operator's view. A ``Rule`` is immutable; a ``RuleSet`` is the set of
rules live at one time, with the Aho-Corasick prefilter over all their terms built once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from watcher.facts.places import EMPTY, Overlay
from watcher.facts.status import STATUSES
from watcher.match.prefilter import Prefilter

SEVERITIES = ("info", "warning", "critical")
FACT_TYPES = ("constant", "place", "date", "status", "ordinal")
SCOPES = ("title", "article", "sentence")
FACT_SCOPES = ("sentence", "neighbours")
CONDITION_OPS = ("all", "any", "none", "near")
__all__ = [
    "CONDITION_OPS",
    "FACT_SCOPES",
    "FACT_TYPES",
    "SCOPES",
    "SEVERITIES",
    "STATUSES",
    "Check",
    "Condition",
    "FactSpec",
    "Rule",
    "RuleSet",
]


@dataclass(frozen=True)
class Condition:
    """A term name (``op == "term"``), or all/any/none of children, or two terms near each other.

    ``near``: some occurrence of ``terms[0]`` within ``words`` words of one of ``terms[1]``
    (``ordered``: the first term comes first).
    """

    op: str
    term: str | None = None
    children: tuple[Condition, ...] = ()
    terms: tuple[str, ...] = ()
    words: int = 0
    ordered: bool = False

    def term_names(self) -> set[str]:
        names = {self.term} if self.term else set()
        names.update(self.terms)
        for child in self.children:
            names |= child.term_names()
        return names

    def required_terms(self) -> set[str]:
        """Terms that must occur for the condition to hold (for the prefilter)."""
        if self.op == "term" and self.term:
            return {self.term}
        if self.op == "near":
            return set(self.terms)
        if self.op == "all":
            out: set[str] = set()
            for child in self.children:
                out |= child.required_terms()
            return out
        return set()


@dataclass(frozen=True)
class Check:
    """An article-level condition: ``require`` (must hold) or ``exclude`` (must not)."""

    condition: Condition
    scope: str  # title | article | sentence
    because: str = ""


@dataclass(frozen=True)
class FactSpec:
    name: str
    type: str
    required: bool = False
    scope: str = "neighbours"
    value: str | None = None  # constant
    outside: tuple[str, ...] = ()  # place: venues inside these do not count


@dataclass(frozen=True)
class Rule:
    id: str
    file: str
    line: int
    description: str
    terms: Mapping[str, tuple[str, ...]]
    match: Condition
    facts: tuple[FactSpec, ...]
    channel: str | None = None
    severity: str = "info"
    summary: str = ""
    ignore: tuple[str, ...] = ()
    require: tuple[Check, ...] = ()
    exclude: tuple[Check, ...] = ()
    key: tuple[str, ...] = ()
    alert_on: tuple[str, ...] = STATUSES
    recent_days: int = 14  # a dated event older than this at publication is a recollection

    def fact(self, name: str) -> FactSpec | None:
        return next((f for f in self.facts if f.name == name), None)


@dataclass
class RuleSet:
    rules: dict[str, Rule] = field(default_factory=dict)
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fingerprint: str = ""
    places: Overlay = EMPTY  # the operator's places file (rules/places.yaml)

    @cached_property
    def prefilter(self) -> Prefilter:
        return Prefilter(self.rules.values())
