"""Word lists that say how a sentence talks about a development: status words and cues.

A rule's *status words* say which wording means the development is ``rumored``, ``planned``,
``announced``, ``postponed``, ``cancelled``, back on (``resumed``) or that it happened
(``held``). Its *cues* mark wording that makes a sentence no report at all: ``negation``
("did not launch", "no plans to visit"), ``retrospective`` ("so far this year", "who has been to
Pyongyang three times") and ``hypothetical`` ("if", "unless"). Rumor words are the hedging
cues: they make a report tentative (status ``rumored``), not void.

Every list is words and phrases, never patterns. A number in a phrase stands for any number
("more than 10 missiles" also matches "more than 30 missiles"). A rule may replace any list
in its file (``status:``, ``cues:``); the lists it does not name keep the defaults below, which
are written for trips, meetings and summits and read well for most announced events.

Matching is one Aho-Corasick pass over the sentence's words (``Lexicon.scan``): linear in the
length of the text whatever the number of phrases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import ahocorasick

# The order is the precedence when a sentence holds words of several statuses: a sentence that
# says a plan is back on, or off, says so whatever else it says.
STATUS_ORDER = ("resumed", "cancelled", "postponed", "held", "rumored", "announced", "planned")
CUE_KINDS = ("negation", "retrospective", "hypothetical")
# Not for operators: the grammar words that tell tense and clause structure.
GRAMMAR_KINDS = ("future", "past", "negator")

_WORD = re.compile(r"\w+")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_NUMBER_WORDS = frozenset(_words("""
one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
sixteen seventeen eighteen nineteen twenty thirty forty fifty hundred dozen dozens several
multiple numerous
"""))


def _forms(*stems: str) -> list[str]:
    return [s for stem in stems for s in stem.split("|")]


DEFAULT_STATUS: dict[str, tuple[str, ...]] = {
    "resumed": tuple(_forms(
        "back on|go ahead|goes ahead|going ahead|will go ahead|after all|reinstated|revived",
        "rescheduled for|will proceed|is on again|back on track|on track|rescheduled to")),
    "cancelled": tuple(_forms(
        "call off|calls off|called off|calling off|cancel|cancels|cancelled|canceled|cancelling",
        "canceling|cancellation|scrap|scraps|scrapped|scrapping|pull out of|pulls out of",
        "pulled out of|will not take place|won t take place|is off|was off|abandon|abandons",
        "abandoned|scuttle|scuttles|scuttled|walk away from|walks away from|walked away from",
        "nix|nixes|nixed|axe|axes|axed|skip|skips|skipped|skipping|drop|drops|dropped",
        "dropping|will not travel to|won t travel to|will not go to|won t go to|not to travel",
        "not to go|not to visit|no longer travel|no longer visit|no longer go|grounds|grounded",
        "withdrew|withdrawn|off for now|will not visit|won t visit")),
    "postponed": tuple(_forms(
        "postpone|postpones|postponed|postponing|postponement|delay|delays|delayed|delaying",
        "push back|pushes back|pushed back|put off|puts off|putting off|reschedule",
        "reschedules|rescheduled|rescheduling|move back|moved back|moved to a later date",
        "pushed to|defer|defers|deferred|on hold|shelve|shelves|shelved")),
    "held": tuple(_forms(
        "met|held|arrived|arrives in|arriving in|landed|lands in|landing in|visited|concluded",
        "ended|took place|was in|were in|is in|are in|has arrived|have arrived|flew to",
        "traveled to|travelled to|went to|returned from|shook hands|sat down|is visiting",
        "are visiting|on a visit to|touched down|made a trip|paid a visit|speaking in",
        "speaking to reporters in|spoke in|spoke to reporters in|told reporters in",
        "news conference in|press conference in|speech in|began a tour|began his tour",
        "began a visit|began his visit|began a trip|began his trip|wraps up|wrapped up",
        "turned up in|showed up in|stopped in|is on a visit|was on a visit|kicked off")),
    "rumored": tuple(_forms(
        "may|might|could|possibility|possible|possibly|considering|considered|consider",
        "discussing|talk of|speculation|speculate|speculated|speculating|reportedly|rumor",
        "rumors|rumored|rumour|rumours|rumoured|mulling|floated|floats|weighing|according to",
        "sources said|source said|sources say|source says|is said to|would like|hope to",
        "hopes to|hoping to|in the works|exploring|strong possibility|is reporting",
        "are reporting|reports say|report says|media reports|media report|news reports",
        "citing unnamed|citing anonymous|citing people|citing sources|citing officials",
        "did not rule out|does not rule out|do not rule out|has not ruled out",
        "have not ruled out|not ruling out|didn t rule out|won t rule out")),
    "announced": tuple(_forms(
        "announced|announces|confirmed|confirms|white house said|white house says",
        "state department said|state department says|state department announced",
        "spokesman said|spokeswoman said|spokesperson said|press secretary said",
        "ministry said|ministry says|department said|officials said|official said",
        "officially|formally|accepted an invitation|has accepted|agreed to",
        "said on monday|said on tuesday|said on wednesday|said on thursday|said on friday",
        "said on saturday|said on sunday|said monday|said tuesday|said wednesday",
        "said thursday|said friday|said saturday|said sunday")),
    "planned": tuple(_forms(
        "will|to hold|to meet|to visit|to travel|set to|scheduled|plans to|plan to|planning",
        "planned|is to|are to|going to|leaves|leaving|heads|heading|departs|departing",
        "bound for|to attend|would be held|would take place|preparations|to be held",
        "to take place|invitation|invited|invites|due to|is due|are due|upcoming|next week")),
}

DEFAULT_CUES: dict[str, tuple[str, ...]] = {
    "negation": tuple(_forms(
        "no plan|no plans|not plan|not planning|not planned|not going to|ruled out",
        "rules out|rule out|downplay|downplays|downplayed|downplaying|unlikely",
        "not expected|declined another|no intention|won t meet|will not meet|not meet",
        "denied|denies|deny|not travel|not visit|no sign of|no signs of|refused to",
        "no such")),
    "retrospective": tuple(_forms(
        "previously|has been to|have been to|had been to|had visited|has visited|have visited",
        "last year|year ago|years ago|months ago|weeks ago|earlier this year|earlier last year",
        "first summit|first meeting|since their first|since the first|since their last",
        "since the last|since the summit|since the meeting|in the past|since then|after then",
        "twice before|three times|four times|five times|several times|many times",
        "the last time|at their first|at their previous|at their last|historic summit",
        "ended suddenly|ended abruptly|ended without|collapsed|broke down|made at their",
        "so far this year|this year alone|so far|in total|a total of|more than 10|at least 10",
        "dozens of|a string of|a series of|a spate of|since 2000|in 2000 and 2001|record number",
        "anniversary|recalled|recalls|remembered|history of")),
    "hypothetical": tuple(_forms(
        "if|unless|would have to|provided that|as long as|in exchange for|whether or not",
        "only if|depend on|depends on|depending on|dependent on|would only")),
}

# Grammar, not vocabulary: the words that tell tense and negation, for every rule.
GRAMMAR: dict[str, tuple[str, ...]] = {
    "future": tuple(_forms(
        "will|ll|shall|would|is to|are to|set to|expected to|due to|scheduled to|plans to",
        "plan to|planning to|going to|intends to|aims to|hopes to|to be held|to take place",
        "next week|next month|next year|upcoming|tomorrow|later this|to visit|to travel",
        "to meet|to launch|to hold|will be|is expected|are expected|is scheduled",
        "are scheduled|is set|are set|is due|are due|preparing to|prepares to|ready to")),
    "past": tuple(_forms(
        "was|were|had|did|went|met|flew|came|left|made|took|held|began|spoke|told|said|gave",
        "saw|sent|fired|ran|brought|kept|led|won|lost|got|became|stood|sat|fell|rose|drew",
        "wrote|chose|shook|struck|threw|yesterday|last week|last month|earlier")),
    # A negator voids a development only right before its own word ("did not launch").
    "negator": tuple(_forms(
        "not|never|did not|does not|do not|didn t|doesn t|don t|has not|have not|hasn t",
        "haven t|had not|hadn t|no|nor|neither|without|failed to|fail to|fails to")),
}


def phrase_tokens(text: str) -> tuple[str, ...]:
    """A phrase or text as the words matching compares: lower case, numbers as ``#``."""
    return tuple(_token(w) for w in _WORD.findall(text))


def _token(word: str) -> str:
    low = word.lower()
    if low.isdigit() or low in _NUMBER_WORDS:
        return "#"
    return low


@dataclass(frozen=True)
class Words:
    """A text's words, ready for phrase matching: tokens and their character spans."""

    tokens: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]

    @classmethod
    def of(cls, text: str) -> Words:
        toks, spans = [], []
        for m in _WORD.finditer(text):
            toks.append(_token(m.group(0)))
            spans.append(m.span())
        return cls(tuple(toks), tuple(spans))

    def index_at(self, offset: int) -> int:
        """The number of the word at (or first after) a character offset."""
        lo, hi = 0, len(self.spans)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.spans[mid][1] <= offset:
                lo = mid + 1
            else:
                hi = mid
        return lo


@dataclass(frozen=True)
class Cue:
    kind: str  # a status, a cue kind or a tense kind
    first: int  # word numbers, inclusive
    last: int
    phrase: str


class Lexicon:
    """Status words, cues and tense words as one automaton; build once, scan many texts."""

    def __init__(self, lists: Mapping[str, Iterable[str]]):
        self.lists = {kind: tuple(phrases) for kind, phrases in lists.items()}

    @classmethod
    def default(cls) -> Lexicon:
        return _DEFAULT

    @classmethod
    def for_rule(cls, status: Mapping[str, Iterable[str]] | None = None,
                 cues: Mapping[str, Iterable[str]] | None = None) -> Lexicon:
        """The defaults with the lists a rule replaces."""
        if not status and not cues:
            return _DEFAULT
        lists: dict[str, Iterable[str]] = {**DEFAULT_STATUS, **DEFAULT_CUES, **GRAMMAR}
        lists.update(status or {})
        lists.update(cues or {})
        return cls(lists)

    @cached_property
    def _automaton(self) -> ahocorasick.Automaton | None:
        owners: dict[str, list[tuple[str, str]]] = {}
        for kind, phrases in self.lists.items():
            for phrase in phrases:
                key = " ".join(phrase_tokens(phrase))
                if key:
                    owners.setdefault(key, []).append((kind, phrase))
        if not owners:
            return None
        automaton = ahocorasick.Automaton()
        for key, who in owners.items():
            automaton.add_word(f" {key} ", (key.count(" ") + 1, tuple(who)))
        automaton.make_automaton()
        return automaton

    def scan(self, words: Words, first: int = 0, last: int | None = None) -> list[Cue]:
        """Every phrase found among words ``first..last`` (inclusive), in text order."""
        last = len(words.tokens) - 1 if last is None else last
        automaton = self._automaton
        if automaton is None or last < first:
            return []
        tokens = words.tokens[first:last + 1]
        joined = " " + " ".join(tokens) + " "
        starts, pos = [], 1
        for tok in tokens:
            starts.append(pos)
            pos += len(tok) + 1
        out: list[Cue] = []
        for end, (length, who) in automaton.iter(joined):
            # ``end`` is the trailing space of the match: the word before it is the last one.
            last_word = _count_before(starts, end) - 1
            first_word = last_word - length + 1
            for kind, phrase in who:
                out.append(Cue(kind, first + first_word, first + last_word, phrase))
        return _longest(out)


def _longest(cues: list[Cue]) -> list[Cue]:
    """Drop a word or negator that is part of a longer phrase: "did not rule out" is a rumor,
    not a denial; "called off" is not "off". Tense words always count. One sweep in text order
    (the phrase reaching furthest so far covers what ends before it)."""
    cues.sort(key=lambda c: (c.first, -c.last))
    kept: list[Cue] = []
    reach: tuple[int, int] = (-1, -1)  # the span of the phrase reaching furthest so far
    for c in cues:
        if c.kind in ("future", "past"):
            kept.append(c)
            continue
        if reach[1] >= c.last and reach != (c.first, c.last):
            continue
        kept.append(c)
        if c.last > reach[1]:
            reach = (c.first, c.last)
    kept.sort(key=lambda c: (c.first, c.last))
    return kept


def _count_before(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts)
    while lo < hi:
        mid = (lo + hi) // 2
        if starts[mid] < offset:
            lo = mid + 1
        else:
            hi = mid
    return lo


_DEFAULT = Lexicon({**DEFAULT_STATUS, **DEFAULT_CUES, **GRAMMAR})
