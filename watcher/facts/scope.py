"""Which words of a sentence belong to one reported development.

A news sentence often tells more than one event: "Hours after scrapping his stop in Germany,
Pompeo turned up in Baghdad on Tuesday" reports a surprise visit to Baghdad and recalls a
cancelled stop in Germany; "Pompeo will travel to Pyongyang next week to prepare for a second
summit" dates the trip, not the summit. Facts must come only from the part of the sentence
that reports the development a rule found. Two mechanisms, both over the sentence's words:

**Clauses.** ``segments`` cuts a sentence at semicolons, colons, dashes and brackets, and at the
words that open a subordinate clause ("after", "since", "when", "who", "if", ...). A clause
opened by such a word has a *role*:

- ``prior`` (after, since, following, once): an earlier event, background unless it looks ahead;
- ``later`` (before, until, when, ahead of): part of the same plan when it looks ahead;
- ``other`` (as, while, because, amid, despite, although, but, whereas): another event;
- ``condition`` (if, unless): a hypothetical;
- ``relative`` (who, which, whose, where): says more about the word before it;
- ``aside`` (between dashes or brackets), ``main`` (everything else).

**Anchors.** Every event word (the rules' event terms and a built-in list of event nouns and
verbs: visit, summit, launch...) and every word of saying (said, told, announcement...) is an
anchor. A place or a date belongs to the anchor that governs it: the nearest anchor before it
in its clause, else the nearest after it. So "said on Friday" dates the saying, and "travel to
Pyongyang next week to prepare for a summit" gives Pyongyang and next week to the travel.

All of it is a single pass over the words: linear in the length of the sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from watcher.facts.lexicon import Lexicon, Words, _words

ROLES = ("main", "prior", "later", "other", "condition", "relative", "aside")

OPENERS: dict[str, str] = {
    **dict.fromkeys(("after", "since", "following", "once"), "prior"),
    **dict.fromkeys(("before", "until", "till", "when", "whenever"), "later"),
    **dict.fromkeys(("while", "because", "amid", "amidst", "despite", "although", "though",
                     "whereas", "but"), "other"),
    **dict.fromkeys(("if", "unless"), "condition"),
    **dict.fromkeys(("who", "whom", "whose", "which", "where"), "relative"),
}
# "as" opens a clause only after a comma or at the start ("..., as Pompeo prepares to travel"),
# and not in "as well as", "as part of", "as soon as"...
_AS_NOT_CLAUSE = frozenset(("well", "part", "much", "many", "long", "soon", "of", "a", "an",
                            "to", "if", "though", "such", "far", "yet", "expected", "planned",
                            "scheduled", "usual", "before", "ever", "early", "late"))

# Event nouns and verbs of any kind: a place or date next to one of them is that event's.
GENERIC_EVENTS: tuple[str, ...] = _words("""
visit visits visiting visited trip trips travel travels traveling travelling traveled
travelled tour tours touring toured journey meet meets meeting meetings met summit summits
talks conference conferences forum session sessions ceremony ceremonies election elections
vote launch launches launched launching test tests tested testing fired fires firing drill
drills exercise exercises attack attacks strike strikes speech speeches hearing hearings
interview interviews call calls rally rallies parade parades funeral funerals inauguration
stop stops stopover flight flights fly flies flew flying go goes went going head heads
headed heading return returns returned returning leave leaves left leaving arrive arrives
arrived arriving attend attends attended attending host hosts hosted hosting dialogue
negotiations
""")
SPEECH: tuple[str, ...] = _words("""
said says say saying told tells tell announced announces announcement announcements stated
statement statements added noted reported reports tweeted tweet wrote writes confirmed
confirms confirmation disclosed revealed briefing briefed remarks comments commented
explained according
""")


@dataclass(frozen=True)
class Segment:
    first: int  # word numbers, inclusive
    last: int
    role: str  # one of ROLES
    opener: str = ""
    parent: int | None = None  # the clause a ``relative``/``aside`` clause hangs from

    def __contains__(self, word: int) -> bool:
        return self.first <= word <= self.last


@dataclass(frozen=True)
class Anchor:
    first: int
    last: int
    kind: str  # "event" | "speech"


def segments(text: str, words: Words, keep: Sequence[tuple[int, int]] = ()) -> list[Segment]:
    """The sentence's clauses in order; every word belongs to exactly one. A comma inside one
    of the ``keep`` spans (a list of places, a date "Feb. 28, 2019") ends no clause."""
    n = len(words.tokens)
    if n == 0:
        return []
    out: list[Segment] = []
    stack: list[tuple[int, str, str, int | None]] = []  # clauses interrupted by an aside
    kept = Inside(keep)
    start, role, opener, parent = 0, "main", "", None
    dashes = _count_dashes(text, words)

    def close(before: int) -> None:
        if before - 1 >= start:
            out.append(Segment(start, before - 1, role, opener, parent))

    for i in range(n):
        gap = text[words.spans[i - 1][1]:words.spans[i][0]] if i else ""
        tok = words.tokens[i]
        if gap:
            if "(" in gap or (dashes >= 2 and _dash(gap) and not stack):
                close(i)
                stack.append((len(out), role, opener, parent))
                start, role, opener, parent = i, "aside", "", _last_index(out)
                continue
            if (")" in gap or (_dash(gap) and stack)) and stack:
                close(i)
                _, role, opener, parent = stack.pop()
                start = i
                role, opener = ("main", "") if role in ("prior", "later", "other", "condition",
                                                         "relative") else (role, opener)
                continue
            if _dash(gap) and dashes == 1:
                # one dash: what follows it says more about what precedes it ("... may meet
                # again - this time in New York")
                close(i)
                start, role, opener, parent = i, "aside", "", _last_index(out)
                continue
            colon = ":" in gap and not (tok == "#" and words.tokens[i - 1] == "#")  # not 7:55
            if ";" in gap or colon or _dash(gap):
                close(i)
                start, role, opener, parent = i, "main", "", None
                continue
            if "," in gap and role in ("prior", "later", "other", "condition", "relative") \
                    and tok not in OPENERS and not kept(words.spans[i][0]):
                # a subordinate clause ends at the next comma: "After X, Y ..."
                close(i)
                start, role, opener, parent = i, "main", "", None
        kind = _opener(words, i, gap)
        if kind is not None:
            close(i)
            start, role, opener = i, kind, tok
            parent = _last_index(out) if kind == "relative" else None
    close(n)
    return out


def _opener(words: Words, i: int, gap: str) -> str | None:
    tok = words.tokens[i]
    nxt = words.tokens[i + 1] if i + 1 < len(words.tokens) else ""
    if tok == "as":
        if (i == 0 or "," in gap) and nxt and nxt not in _AS_NOT_CLAUSE:
            return "other"
        return None
    if tok == "ahead" and nxt == "of":
        return "later"
    kind = OPENERS.get(tok)
    if kind is None:
        return None
    if tok == "but" and nxt in ("also", "not"):
        return None
    if tok in ("since", "before", "after", "until") and nxt in ("#",):
        return None  # "since 2017", "before 2020": a date, not a clause
    if kind == "relative" and i == 0:
        return None
    return kind


class Inside:
    """Is a character inside one of some spans? For offsets asked in increasing order: one
    pass over the sorted spans for all the questions (linear, not spans x questions)."""

    def __init__(self, spans: Sequence[tuple[int, int]]):
        self.spans = sorted(spans)
        self.i = 0
        self.reach = -1  # the furthest end of the spans starting before the last question

    def __call__(self, char: int) -> bool:
        while self.i < len(self.spans) and self.spans[self.i][0] < char:
            self.reach = max(self.reach, self.spans[self.i][1])
            self.i += 1
        return char < self.reach


def _dash(gap: str) -> bool:
    return "—" in gap or "–" in gap or " - " in gap or "--" in gap


def _count_dashes(text: str, words: Words) -> int:
    return sum(1 for i in range(1, len(words.spans))
               if _dash(text[words.spans[i - 1][1]:words.spans[i][0]]))


def _last_index(out: list[Segment]) -> int | None:
    return len(out) - 1 if out else None


def segment_of(segs: Sequence[Segment], word: int) -> int:
    """The number of the clause holding a word (clauses are in order and cover every word)."""
    lo, hi = 0, len(segs) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if segs[mid].first <= word:
            lo = mid
        else:
            hi = mid - 1
    return lo


def anchors(words: Words, lexicon: Lexicon) -> list[Anchor]:
    """Event and saying words of a sentence (longest phrases first, no overlaps)."""
    found = [Anchor(c.first, c.last, c.kind) for c in lexicon.scan(words)
             if c.kind in ("event", "speech")]
    found.sort(key=lambda a: (a.first, -(a.last - a.first)))
    out: list[Anchor] = []
    for a in found:
        if out and a.first <= out[-1].last:
            continue
        out.append(a)
    return out


def anchor_lexicon(event_phrases: Iterable[str]) -> Lexicon:
    """The anchors of a rule set: its rules' event terms, generic event words, saying words."""
    return Lexicon({"event": tuple(dict.fromkeys((*GENERIC_EVENTS, *event_phrases))),
                    "speech": SPEECH})


def governor(segs: Sequence[Segment], marks: Sequence[Anchor], first: int, last: int
             ) -> Anchor | None:
    """The anchor that governs the words ``first..last`` (a place or a date): the nearest
    anchor before them in their clause, else the nearest after them in their clause."""
    seg = segs[segment_of(segs, first)]
    before = [a for a in marks if seg.first <= a.first and a.last < first]
    if before:
        return before[-1]
    after = [a for a in marks if last < a.first and a.last <= seg.last]
    return after[0] if after else None
