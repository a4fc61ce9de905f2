"""The rule language as values: what a validated rule file turns into.

See docs/rules.md for the operator's view. A ``Rule`` is immutable; a ``RuleSet`` is the set of
rules live at one time, with the Aho-Corasick prefilter over all their terms built once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from watcher.facts.lexicon import Lexicon
from watcher.facts.places import EMPTY, Overlay
from watcher.facts.scope import anchor_lexicon
from watcher.facts.status import STATUSES
from watcher.match.prefilter import Prefilter

SEVERITIES = ("info", "warning", "critical")
FACT_TYPES = ("constant", "place", "date", "status", "ordinal", "term")
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
    terms: str | None = None  # term: the term list whose matched entry is the value
    home: tuple[str, ...] = ()  # place: venues inside these count only with a home_needs word
    home_needs: str | None = None  # a term list


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
    # The event model (docs/rules.md, "Events"): which term lists name the development itself
    # (facts are read around them), the rule's own status words and cues (the defaults of
    # ``watcher.facts.lexicon`` for the lists it does not give), and what makes two reports the
    # same development.
    event: tuple[str, ...] = ()
    status_words: tuple[tuple[str, tuple[str, ...]], ...] = ()
    cue_words: tuple[tuple[str, tuple[str, ...]], ...] = ()
    date_slack: int = 2  # days: two dates this close are the same development
    places: str = "overlap"  # "overlap": places must overlap; "any": only dates tell
    aliases: tuple[str, ...] = ()  # earlier ids of this rule: their findings are its findings
    # term list -> normalised phrase -> the entry's name ("intercontinental ballistic missile"
    # -> "ICBM"), for term lists written with named entries.
    canonical: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Days without a match before the operators are told the rule went silent (None: the
    # config's [rules] silence_days; 0: never).
    silence_days: int | None = None

    def fact(self, name: str) -> FactSpec | None:
        return next((f for f in self.facts if f.name == name), None)

    @property
    def lexicon(self) -> Lexicon:
        return rule_lexicon(self.status_words, self.cue_words)

    @cached_property
    def parties(self) -> Parties:
        """Its event lists, actors and the others it names (``watcher.match.mentions``)."""
        return Parties.of(self)

    @property
    def ids(self) -> tuple[str, ...]:
        """This rule's id and its earlier ids."""
        return (self.id, *self.aliases)


@dataclass
class RuleSet:
    rules: dict[str, Rule] = field(default_factory=dict)
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fingerprint: str = ""
    places: Overlay = EMPTY  # the operator's places file (rules/places.yaml)

    @cached_property
    def prefilter(self) -> Prefilter:
        return Prefilter(self.rules.values())

    @cached_property
    def anchors(self) -> Lexicon:
        """Event words of every rule (and generic ones) and words of saying: what governs a
        place or a date in a sentence (``watcher.facts.scope``)."""
        return anchor_lexicon(phrase for rule in self.rules.values() for name in rule.event
                              for phrase in rule.terms.get(name, ()))


@dataclass(frozen=True)
class Parties:
    """Who is who for one rule: the term lists naming its development (``event``), its actors
    (the other lists its ``match`` needs), and the others it rules out (under ``none``)."""

    event: frozenset[str]
    actors: frozenset[str]
    others: frozenset[str]

    @classmethod
    def of(cls, rule: Rule) -> Parties:
        positive = positive_terms(rule.match)
        event = frozenset(rule.event) or frozenset(positive)
        return cls(event, frozenset(positive - event),
                   frozenset(_negative(rule.match) - positive))


def positive_terms(cond: Condition) -> set[str]:
    """Term lists whose presence can make ``cond`` hold (everything not under ``none``)."""
    if cond.op == "none":
        return set()
    if cond.op == "term":
        return {cond.term} if cond.term else set()
    out = set(cond.terms)
    for child in cond.children:
        out |= positive_terms(child)
    return out


def _negative(cond: Condition) -> set[str]:
    out: set[str] = set()
    if cond.op == "none":
        for child in cond.children:
            out |= child.term_names()
        return out
    for child in cond.children:
        out |= _negative(child)
    return out


@lru_cache(maxsize=256)
def rule_lexicon(status: tuple[tuple[str, tuple[str, ...]], ...],
                 cues: tuple[tuple[str, tuple[str, ...]], ...]) -> Lexicon:
    """A rule's status words and cues over the defaults (shared by rules that give the same)."""
    return Lexicon.for_rule(dict(status), dict(cues))
