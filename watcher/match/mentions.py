"""Mentions: the parts of a matched sentence that report the rule's development.

    mentions(rule, sentence, hits, anchors_lexicon) -> [Mention]

A sentence where a rule's ``match`` holds may report the rule's development, recall it, deny it
or only name it in passing; it may also tell other events. A *mention* is one clause holding
one of the rule's event words (``event:`` in the rule; see ``watcher.facts.scope`` for
clauses and anchors), with what the clause says about it:

- its **status**, from the rule's status words in the clause (rumor words anywhere in the
  sentence's own clauses), else from its tense: it happened (``held``) or it is planned;
- its **mode**: ``report``; ``recollection`` (a retrospective cue, or a clause about an
  earlier event: "after Pompeo cancelled his trip", "who visited Seoul last month");
  ``denial`` (a negation cue, or a negator right before the event word: "did not launch");
  ``hypothetical`` ("if", "unless");
- the **places and dates** it governs: those whose governing anchor is one of the rule's own
  events. An event word is the rule's own when it is one of the rule's event terms, or when the
  nearest party before it in its clause is one of the rule's actors ("Trump will travel to
  Hanoi" is the summit's travel; "Pompeo will travel to Pyongyang" is not).

Only the words of the sentence are read; each step is a pass over them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from watcher.facts import dates as dates_mod
from watcher.facts import places as places_mod
from watcher.facts.lexicon import STATUS_ORDER, Cue, Lexicon, Words
from watcher.facts.scope import (
    Anchor,
    Inside,
    Segment,
    anchors,
    governor,
    segment_of,
    segments,
)
from watcher.match.conditions import holds
from watcher.match.prefilter import Hit
from watcher.rules.schema import Parties, Rule

# An event noun this close after one of the rule's event words is the same event ("attend
# meetings", "make a visit", "hold talks").
JOIN_WORDS = 3
# A negator this close before an event word voids it ("did not launch", "has not visited").
NEGATOR_WORDS = 3
# The most words of a sentence that are read (a longer one is cut there).
MAX_WORDS = 200
# Words that stand for the actor a sentence names elsewhere.
ANAPHORS = frozenset(("he", "she", "his", "her", "they", "their", "it", "its", "him", "them"))


@dataclass(frozen=True)
class Mention:
    clause: Segment
    triggers: tuple[int, ...]  # word numbers of the rule's event words in the clause
    status: str
    mode: str  # report | recollection | denial | hypothetical
    past: bool | None  # the clause's tense: True past, False future, None untold
    places: tuple[tuple[int, int, places_mod.Place], ...] = ()  # (start, end) in the sentence
    dates: tuple[tuple[int, int, dates_mod.DateFact], ...] = ()
    terms: dict[str, list[str]] = field(default_factory=dict)  # term list -> entries found
    reason: str = ""  # why a non-report is not one, in words
    cued: bool = True  # a status word or the tense says how it stands ("missile tests" does not)


@dataclass
class SentenceReading:
    """One sentence, read once for every rule that matched it."""

    text: str
    offset: int  # where the sentence starts in its document
    words: Words
    segs: list[Segment]
    marks: list[Anchor]
    places: list[tuple[int, int, places_mod.Place]]  # venues, offsets in the sentence

    published: datetime | None = None
    dated: frozenset[int] = frozenset()  # words inside date phrases ("May 31" is not "may")
    chunks: tuple[int, ...] = ()  # for each word, the number of its comma-delimited piece
    _dates: dict[bool | None, list[tuple[int, int, dates_mod.DateFact]]] = field(
        default_factory=dict)

    @classmethod
    def read(cls, text: str, offset: int, anchor_lexicon: Lexicon,
             published: datetime | None) -> SentenceReading:
        """Read a sentence (up to ``MAX_WORDS`` words: no news sentence is longer, and what a
        sentence has past them is not read, so every step stays within a bound)."""
        words = Words.of(text)
        if len(words.tokens) > MAX_WORDS:
            text = text[:words.spans[MAX_WORDS - 1][1]]
            words = Words(words.tokens[:MAX_WORDS], words.spans[:MAX_WORDS])
        venues = places_mod.venue_spans(text)
        date_spans = [(s, e) for s, e, _ in dates_mod.find_dates(text, _ANY_DAY, None)]
        keep = _lists(text, [(s, e) for s, e, _ in venues]) + date_spans
        segs = segments(text, words, keep)
        dated = {i for s, e in date_spans for i in range(words.index_at(s),
                                                         words.index_at(e - 1) + 1)}
        chunks, n = [], 0
        kept = Inside(keep)
        for i in range(len(words.tokens)):
            if i and "," in text[words.spans[i - 1][1]:words.spans[i][0]] and \
                    not kept(words.spans[i][0]):
                n += 1
            chunks.append(n)
        return cls(text, offset, words, segs, anchors(words, anchor_lexicon), venues,
                   published, frozenset(dated), tuple(chunks))

    def word(self, char: int) -> int:
        return self.words.index_at(char)

    def dates(self, past: bool | None) -> list[tuple[int, int, dates_mod.DateFact]]:
        """The date phrases, resolved looking back (``past``) or ahead: read once each way."""
        if past not in self._dates:
            self._dates[past] = dates_mod.find_dates(self.text, self.published, past)
        return self._dates[past]


_ANY_DAY = date(2000, 1, 1)  # where date phrases are, whatever they resolve to


def _lists(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Runs of places named as a list ("Jordan, Egypt and Bahrain"): their commas join."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and places_mod.is_list_gap(text[out[-1][1]:s]):
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def mentions(rule: Rule, sentence: SentenceReading, hits: Sequence[Hit], *, baseline: bool = False
             ) -> list[Mention]:
    """The rule's mentions in a sentence whose ``hits`` (offsets in the document) matched."""
    parties = rule.parties
    lexicon = rule.lexicon
    words, segs = sentence.words, sentence.segs
    if not segs:
        return []
    end = len(sentence.text)  # hits past the words read do not count
    located = [(sentence.word(h.start - sentence.offset), sentence.word(h.end - 1 -
                sentence.offset), h) for h in hits if h.end - sentence.offset <= end]
    # An event word inside a hyphenated compound describes a thing, not the event:
    # "submarine-launched missiles", "a Pompeo-led visit".
    triggers = [(a, b) for a, b, h in located if h.term in parties.event
                and not _compound(sentence.text, h.start - sentence.offset)]
    if not triggers:
        return []
    cues = [c for c in lexicon.scan(words) if c.first not in sentence.dated]
    own = _own_anchors(sentence, located, parties)
    by_clause: dict[int, list[int]] = {}
    for a, _b in triggers:
        by_clause.setdefault(segment_of(segs, a), []).append(a)
    out = []
    for index, trig in sorted(by_clause.items()):
        clause = segs[index]
        if not _matches_here(rule, clause, segs, located, words, parties):
            continue
        out.append(_mention(rule, sentence, index, tuple(trig), cues, own, located, baseline))
    return out


def _compound(text: str, start: int) -> bool:
    return start > 0 and text[start - 1] == "-"


def _own_anchors(sentence: SentenceReading, located: list[tuple[int, int, Hit]], parties: Parties
                 ) -> set[int]:
    """First words of the anchors that are the rule's own events."""
    segs = sentence.segs
    event_words = {a for a, _b, h in located if h.term in parties.event}
    party = sorted((a, h.term in parties.actors) for a, _b, h in located
                   if h.term in parties.actors or h.term in parties.others)
    own: set[int] = set()
    last_own_event = -10
    for mark in sentence.marks:
        if mark.kind != "event":
            continue
        if any(mark.first <= w <= mark.last for w in event_words):
            own.add(mark.first)
            last_own_event = mark.last
            continue
        if 0 < mark.first - last_own_event <= JOIN_WORDS and \
                segment_of(segs, mark.first) == segment_of(segs, last_own_event):
            own.add(mark.first)  # "attend meetings", "hold talks"
            last_own_event = mark.last
            continue
        seg = segs[segment_of(segs, mark.first)]
        before = [is_actor for w, is_actor in party if seg.first <= w < mark.first]
        if before and before[-1]:
            own.add(mark.first)  # its subject is one of the rule's actors
    return own


def _matches_here(rule: Rule, clause: Segment, segs: list[Segment],
                  located: list[tuple[int, int, Hit]], words: Words, parties: Parties) -> bool:
    """Is this clause about the rule's actors? The rule's match holds on it (with the clause
    it hangs from), or it names no other party and names an actor or stands for one with a
    pronoun or "the two": "..., Axios reported that the two might meet again"."""
    span = [clause]
    if clause.parent is not None and clause.role in ("relative", "aside"):
        span.append(segs[clause.parent])
    occ: dict[str, list[int]] = {}
    for a, _b, h in located:
        if any(a in s for s in span):
            occ.setdefault(h.term, []).append(a)
    if holds(rule.match, occ):
        return True
    if any(t in parties.others for t in occ):
        return False
    if any(t in parties.actors for t in occ):
        return True
    return any(words.tokens[i] in ANAPHORS or (words.tokens[i] in ("#", "both") and i + 1 <=
               s.last and words.tokens[i + 1] in ("leaders", "men", "sides", "presidents"))
               for s in span for i in range(s.first, s.last + 1))


def _mention(rule: Rule, sentence: SentenceReading, index: int, triggers: tuple[int, ...],
             cues: list[Cue], own: set[int], located: list[tuple[int, int, Hit]],
             baseline: bool) -> Mention:
    segs = sentence.segs
    clause = segs[index]
    reach = _reach(segs, index)
    inside = [c for c in cues if any(c.first in segs[i] for i in reach)]
    past = _tense(inside, segs, index, cues, sentence.words, triggers)
    status = _status(inside, cues, segs, past)
    mode, reason = _mode(clause, inside, triggers, cues, past, sentence.chunks)
    places = []
    for s, e, p in sentence.places:
        w = sentence.word(s)
        if segment_of(segs, w) in reach and _governed(sentence, own, w, sentence.word(e - 1),
                                                      index):
            places.append((s, e, p))
    found_dates = []
    for s, e, d in sentence.dates(past):
        w = sentence.word(s)
        if segment_of(segs, w) in reach and _governed(sentence, own, w, sentence.word(e - 1),
                                                      index):
            found_dates.append((s, e, d))
    terms: dict[str, list[str]] = {}
    for a, _b, h in located:
        if segment_of(segs, a) in reach:
            terms.setdefault(h.term, []).append(
                sentence.text[h.start - sentence.offset:h.end - sentence.offset])
    cued = past is not None or any(c.kind in STATUS_ORDER for c in inside)
    return Mention(clause, triggers, status, mode, past, tuple(places), tuple(found_dates),
                   terms, reason, cued)



def _reach(segs: list[Segment], index: int) -> list[int]:
    """The clauses whose facts a mention in clause ``index`` may take: its own, the asides and
    relative clauses hanging from it, and the clauses looking ahead with it ("before heading
    to Seoul", "where he will attend")."""
    out = [index]
    for j, seg in enumerate(segs):
        if j == index:
            continue
        hangs = seg.parent == index and seg.role in ("relative", "aside")
        if hangs or (j == index + 1 and seg.role == "later"):
            out.append(j)
    return out


def _tense(inside: list[Cue], segs: list[Segment], index: int, cues: list[Cue], words: Words,
           triggers: tuple[int, ...] = ()) -> bool | None:
    """True for the past, False for the future, None when the clause does not tell. A clause
    without a verb of its own takes the tense of the sentence ("after scrapping his stop"),
    except an earlier event told as a noun: "after North Korea's claimed H-bomb blast" is past
    whatever comes next. "to" right before the event word looks ahead ("Pompeo to tour Asia",
    "preparing to launch")."""
    if any(c.kind == "future" for c in inside) or any(
            t > 0 and words.tokens[t - 1] == "to" for t in triggers):
        return False
    if any(c.kind == "past" for c in inside) or any(c.kind == "held" for c in inside) or \
            any(_past_form(words, t) for t in triggers):
        return True
    own = {c.kind for c in inside}
    if own & {"planned", "announced", "rumored"}:
        return False
    clause = segs[index]
    if clause.role == "prior" and not any(words.tokens[i].endswith("ing")
                                          for i in range(clause.first, clause.last + 1)):
        return True
    whole = {c.kind for c in cues}
    if "future" in whole:
        return False
    if "past" in whole or "held" in whole:
        return True
    return None


_PASSIVE = frozenset(("is", "are", "be", "been", "being", "will", "would", "to", "was", "were"))


def _past_form(words: Words, t: int) -> bool:
    """The event word is a verb in the past tense ("launched", "visited"), not a participle
    after a form of "be" ("is expected", "was scheduled") or a plan ("to be held")."""
    tok = words.tokens[t]
    return len(tok) > 4 and tok.endswith("ed") and (t == 0 or words.tokens[t - 1] not in _PASSIVE)


def _status(inside: list[Cue], cues: list[Cue], segs: list[Segment], past: bool | None) -> str:
    kinds = {c.kind for c in inside}
    # Hedging anywhere in the sentence's own clauses makes the report tentative ("according
    # to", "sources said"), unless the clause says it is on, off or happened.
    hedged = any(c.kind == "rumored" and segs[segment_of(segs, c.first)].role in
                 ("main", "later", "relative") for c in cues)
    for status in STATUS_ORDER:
        if status == "held" and "held" in kinds and past is False:
            continue  # "will be in Seoul": a plan
        if status == "rumored" and hedged:
            return "rumored"
        if status in kinds:
            return status
    if hedged:
        return "rumored"
    return "held" if past else "planned"


def _mode(clause: Segment, inside: list[Cue], triggers: tuple[int, ...], cues: list[Cue],
          past: bool | None, chunks: tuple[int, ...]) -> tuple[str, str]:
    """How the clause tells the development. A denial or a look back counts when it stands in
    the same comma-delimited piece as every one of the clause's event words: in "Trump and Kim
    plan to meet in April, in what would be their first meeting in years" the plan stands."""
    if clause.role == "condition" or any(c.kind == "hypothetical" for c in cues):
        return "hypothetical", "a condition or hypothetical ('if', 'unless')"

    def voiding(kind: str) -> Cue | None:
        found = [c for c in inside if c.kind == kind]
        if found and all(any(chunks[c.first] == chunks[t] for c in found) for t in triggers):
            return found[0]
        return None

    denial = voiding("negation")
    if denial is not None:
        return "denial", f"a denial ('{denial.phrase}')"
    for c in inside:
        if c.kind == "negator" and any(0 < t - c.last <= NEGATOR_WORDS for t in triggers):
            return "denial", f"negated ('{c.phrase}')"
    memory = voiding("retrospective")
    if memory is not None:
        return "recollection", f"looks back ('{memory.phrase}')"
    if clause.role in ("prior", "other", "relative", "aside") and past:
        return "recollection", f"an earlier or other event, in passing ('{clause.opener}')"
    return "report", ""


def _governed(sentence: SentenceReading, own: set[int], first: int, last: int, index: int) -> bool:
    """Is a place or date at words ``first..last`` the mention's? Its governing anchor is one
    of the rule's own events; in a clause of the mention's reach with no anchor at all ("—
    Tokyo, Seoul and Beijing —"), it is the mention's."""
    g = governor(sentence.segs, sentence.marks, first, last)
    if g is None:
        return segment_of(sentence.segs, first) != index
    return g.first in own
