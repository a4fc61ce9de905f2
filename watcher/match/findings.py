"""From a matched sentence to a Finding: the development's facts, its key and its summary."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, NamedTuple

from watcher.facts import compare, dates, places
from watcher.facts import status as st
from watcher.facts.lexicon import Lexicon
from watcher.facts.scope import anchor_lexicon
from watcher.match import follow
from watcher.match.conditions import holds_somewhere, occurrences
from watcher.match.mentions import Mention, SentenceReading, mentions
from watcher.match.prefilter import Hit, phrase_key
from watcher.match.text import Document
from watcher.rules.schema import Rule
from watcher.types import Article, Finding, Sentence

_REPORTED = re.compile(r"(?:said|says|announced|announces|reported|reports|confirmed|told "
                       r"\w+(?: \w+)?|statement|briefing|tweeted|wrote|added)\s*(?:on\s+|late\s+|"
                       r"early\s+|earlier\s+|later\s+|last\s+)?$", re.IGNORECASE)


def event_dates(text: str, article: Article, past: bool | None) -> list[dates.DateFact]:
    """Dates of the event in ``text``: the day something was said is not the event's date."""
    out = []
    for start, _, fact in dates.find_dates(text, article.published, past):
        if _REPORTED.search(text[max(0, start - 30):start]):
            continue
        out.append(fact)
    return out


_ANAPHOR = re.compile(r"^[\"'“]?(?:(?:The|This|That|Such|Their|His|Her|Its)\s+(?:\w+\s+)?"
                     r"(?:summit|meeting|talks|trip|visit|tour|journey|encounter|session)|"
                     r"(?:The|Both)\s+(?:two\s+)?leaders|(?:He|She|They|It)\s)")


def _neighbours(doc: Document, index: int) -> list[int]:
    """The next sentence, when it carries on about the same thing ("The summit will be...").

    For the title, the next sentence is the first of the body.
    """
    j = max(index + 1, doc.title_sentences)
    if index >= doc.title_sentences - 1 and j < len(doc.spans) and \
            _ANAPHOR.match(doc.sentence(j)):
        return [j]
    return []


class Extracted(NamedTuple):
    findings: list[Finding]
    skipped: str = ""  # why the sentence gave no finding


def extract(rule: Rule, doc: Document, index: int, article: Article,
            baseline: bool, by_sentence: Mapping[int, Sequence[Hit]] | None = None,
            anchors: Lexicon | None = None, weak: list[Finding] | None = None
            ) -> Extracted:
    """The findings of ``rule`` in sentence ``index`` (none when it reports no development,
    and then the reason).

    The sentence is read into mentions (``watcher.match.mentions``): the clauses holding the
    rule's event words, each with its status, mode, and the places and dates its own events
    govern. A mention that recalls, denies or imagines the development is no finding (the
    baseline keeps them all: everything a seed tells is known). Report mentions of one status
    in one sentence are one finding.

    With the rule's term hits by sentence (``by_sentence``), follow-on sentences that carry the
    itinerary on ("He will also stop in Tokyo") add their places, and their date when the
    matched sentence has none (see ``watcher.match.follow``). Each fact records the sentences
    it was read from.

    With a ``weak`` list, findings whose words say nothing of how the development stands (no
    status word, no tense: "It is the North's fifth launch in ten days") go there instead: they
    count only when the article reports the development nowhere else.
    """
    raw = doc.sentence(index)
    if anchors is None:
        anchors = anchor_lexicon(p for n in rule.event for p in rule.terms.get(n, ()))
    reading = SentenceReading.read(raw, doc.spans[index][0], anchors, article.published)
    hits = (by_sentence or {}).get(index, ())
    found = mentions(rule, reading, hits, baseline=baseline)
    if not found:
        return Extracted([], "no clause holds one of the rule's event words about its actors")
    if not baseline and index < doc.title_sentences and not any(m.cued for m in found) and \
            not _body_reports(rule, doc, article, by_sentence or {}, anchors):
        return Extracted([], "a headline naming the topic; the body says it is no report")
    groups: dict[str, list[Mention]] = {}
    why: list[str] = []
    for m in found:
        status = m.status
        if baseline and (m.mode == "recollection" or (m.past and status != "cancelled")):
            status = "held"
        if not baseline and m.mode != "report":
            why.append(f"{m.mode}: {m.reason}")
            continue
        if not baseline and status not in rule.alert_on:
            why.append(f"status {status} is not alerted on (novelty.alert_on)")
            continue
        groups.setdefault(status, []).append(m)
    findings: list[Finding] = []
    for status, group in groups.items():
        got = _findings(rule, doc, index, article, baseline, by_sentence, reading, status,
                        group)
        why += [got.skipped] if got.skipped else []
        if weak is not None and not baseline and not any(m.cued for m in group):
            weak += got.findings
        else:
            findings += got.findings
    return Extracted(findings, "" if findings else "; ".join(why))


def _body_reports(rule: Rule, doc: Document, article: Article,
                  by_sentence: Mapping[int, Sequence[Hit]], anchors: Lexicon) -> bool:
    """Does the first body sentence where the rule matches report its development (or does no
    body sentence match)? A headline such as "A record year of missile tests" says nothing of
    how it stands; the body tells: here, a tally."""
    for j in sorted(by_sentence):
        if j < doc.title_sentences:
            continue
        if not holds_somewhere(rule.match, occurrences(doc, by_sentence[j])):
            continue
        body = SentenceReading.read(doc.sentence(j), doc.spans[j][0], anchors,
                                    article.published)
        return any(m.mode == "report" for m in mentions(rule, body, by_sentence[j]))
    return True


def _findings(rule: Rule, doc: Document, index: int, article: Article, baseline: bool,
              by_sentence: Mapping[int, Sequence[Hit]] | None, reading: SentenceReading,
              status: str, group: list[Mention]) -> Extracted:
    raw = reading.text
    past = group[0].past
    pub = article.published
    when_list = [d for m in group for _, _, d in m.dates]
    if not baseline and pub is not None and when_list:
        horizon = pub.date() - timedelta(days=rule.recent_days)
        recent = [d for d in when_list if d.end >= horizon]
        if not recent:
            return Extracted([], f"only dates more than {rule.recent_days} days before "
                                 "publication: a recollection")
        when_list = recent
    if not baseline and pub is not None and len(when_list) > 1 and status != "held":
        # "on Friday called off a trip next week": the report's own day is not the event's
        # (what happened may well have happened on it)
        later = [d for d in when_list if not (d.precision == "day" and d.start == pub.date())]
        when_list = later or when_list
    when_from = index if when_list else None  # the sentence the dates were read from
    named = [p for m in group for _, _, p in m.places]
    said = {h.term for h in (by_sentence or {}).get(index, ())}
    where = _outside(rule, places.fold(named), said)
    where_from = [index] * len(where)  # the sentence of each place
    date_spec = next((f for f in rule.facts if f.type == "date"), None)
    place_spec = next((f for f in rule.facts if f.type == "place"), None)
    for j in _neighbours(doc, index):
        if not when_list and date_spec and date_spec.scope == "neighbours":
            when_list = [d for d in event_dates(doc.sentence(j), article, past)
                         if pub is None or baseline or
                         d.end >= pub.date() - timedelta(days=rule.recent_days)]
            when_from = j if when_list else None
        if not where and place_spec and place_spec.scope == "neighbours":
            where = _places(rule, doc.sentence(j))
            where_from = [j] * len(where)
    for j in follow.candidates(rule, doc, index, by_sentence):
        more = _follow_on(rule, doc.sentence(j), article, past, status, when_list, baseline)
        if more is None:
            break  # not the same development: the itinerary stops here
        extra_where, extra_when = more
        added = [p for p in extra_where if p not in where]
        where += added
        where_from += [j] * len(added)
        if not when_list and date_spec and date_spec.scope == "neighbours":
            when_list = extra_when
            when_from = j if when_list else None
    if not baseline and not where and named and place_spec and \
            (place_spec.outside or place_spec.home):
        return Extracted([], "every place named is at home (the place fact's 'outside' or "
                             "'home' places)")
    choices: list[dates.DateFact | None] = list(when_list if baseline else when_list[:1])
    terms: dict[str, list[str]] = {}
    for m in group:
        for name, words in m.terms.items():
            terms.setdefault(name, []).extend(words)
    sources = _Sources(doc, index, where_from, when_from)
    findings = []
    for when in choices or [None]:
        facts = _facts(rule, raw, where, when, status, article, past, terms, baseline)
        if facts is None:
            continue
        findings.append(_finding(rule, facts, raw, status, sources.of(rule, when)))
    if not findings:
        required = ", ".join(f.name for f in rule.facts if f.required)
        return Extracted([], f"a required fact is missing ({required})")
    return Extracted(findings)


def _outside(rule: Rule, found: list[places.Place], named: set[str] | None = None
             ) -> list[places.Place]:
    """The venues that count: none inside the place fact's ``outside`` places, and one inside
    its ``home`` places only when the sentence names a word of ``home_needs`` (the term lists
    it ``named``): "talks with North Korean officials in New York" is a trip, "a speech in
    Kansas" is not."""
    spec = next((f for f in rule.facts if f.type == "place"), None)
    if spec is None:
        return found
    if spec.outside:
        found = [p for p in found if not any(places.within(p.name, o) for o in spec.outside)]
    if spec.home and not (spec.home_needs and spec.home_needs in (named or set())):
        found = [p for p in found if not any(places.within(p.name, h) for h in spec.home)]
    return found


class _Sources:
    """Which sentences each fact was read from."""

    def __init__(self, doc: Document, index: int, where_from: list[int],
                 when_from: int | None):
        self.doc, self.index = doc, index
        self.where_from, self.when_from = where_from, when_from
        self._text: dict[int, Sentence] = {}

    def _sentence(self, i: int) -> Sentence:
        if i not in self._text:
            self._text[i] = Sentence(i, " ".join(self.doc.sentence(i).split()))
        return self._text[i]

    def of(self, rule: Rule, when: dates.DateFact | None) -> dict[str, tuple[Sentence, ...]]:
        out: dict[str, tuple[Sentence, ...]] = {}
        for spec in rule.facts:
            if spec.type == "place":
                out[spec.name] = tuple(map(self._sentence, dict.fromkeys(self.where_from)))
            elif spec.type == "date":  # none: the publication date stood in
                out[spec.name] = (self._sentence(self.when_from),) \
                    if when is not None and self.when_from is not None else ()
            elif spec.type in ("status", "ordinal"):
                out[spec.name] = (self._sentence(self.index),)
            else:  # a constant: from the rule
                out[spec.name] = ()
        return out


def _follow_on(rule: Rule, sentence: str, article: Article, past: bool | None, status: str,
               when_list: list[dates.DateFact], baseline: bool
               ) -> tuple[list[places.Place], list[dates.DateFact]] | None:
    """What a follow-on sentence adds (its venues and event dates), or None when it is not the
    same development after all: another tense ("He met Kim Yong Chol in Washington" after a
    planned trip), a denial or a move of its own, or a date that is not the trip's."""
    text = st.strip_recollections(sentence)
    if not baseline and st.mode(text) != "report":
        return None
    if st.is_past(text) != bool(past):
        return None
    own = st.status(text)
    if own in ("postponed", "cancelled") and own != status:
        return None
    found = event_dates(text, article, bool(past))
    pub = article.published
    if not baseline and pub is not None:
        horizon = pub.date() - timedelta(days=rule.recent_days)
        found = [d for d in found if d.end >= horizon]
    if found and when_list and not any(
            compare.compatible({"when": d.to_json()}, {"when": w.to_json()})
            for d in found for w in when_list):
        return None  # another leg on another date, or another trip
    return _places(rule, text), found


def _places(rule: Rule, text: str) -> list[places.Place]:
    return _outside(rule, places.venues(text))


def _facts(rule: Rule, text: str, where: list[places.Place], when: dates.DateFact | None,
           status: str, article: Article, past: bool | None,
           terms: Mapping[str, list[str]] | None = None, baseline: bool = False
           ) -> dict[str, Any] | None:
    facts: dict[str, Any] = {}
    for spec in rule.facts:
        value: Any
        if spec.type == "constant":
            value = spec.value
        elif spec.type == "place":
            value = [p.to_json() for p in where]
        elif spec.type == "date":
            if when is None and article.published is not None:
                # a report that it just happened, not a memory (the baseline's are memories)
                fresh = status == "held" and not baseline
                value = dates.open_window(article.published, bool(past), fresh).to_json()
                if spec.required:
                    return None
            else:
                value = when.to_json() if when else None
        elif spec.type == "status":
            value = status
        elif spec.type == "term":
            value = _entry(rule, spec.terms or "", (terms or {}).get(spec.terms or "", []))
        else:  # ordinal
            value = st.ordinal(text)
        if spec.required and not compare.present(value):
            return None
        facts[spec.name] = value
    return facts


def _entry(rule: Rule, name: str, found: list[str]) -> str | None:
    """The entry of term list ``name`` the mention names; several named, the one the list
    gives first (operators list specific entries before general ones)."""
    if not found:
        return None
    names = rule.canonical.get(name, {})
    order = {phrase_key(p): i for i, p in enumerate(rule.terms.get(name, ()))}
    first = min(found, key=lambda w: order.get(phrase_key(w), len(order)))
    return names.get(phrase_key(first), first)


def key_of(rule: Rule, facts: dict[str, Any]) -> str:
    """The novelty key: the identity facts at a coarse grain, so reprints share a key."""
    parts = [rule.id]
    for name in rule.key:
        value = facts.get(name)
        kind = compare.kind_of(value)
        if kind == "date" and value:
            w = dates.date_from_json(value)
            part = f"undated-{w.start.year}" if w.precision == "none" else \
                w.start.strftime("%Y-%m") if w.precision in ("day", "range", "week",
                                                             "part-of-month", "month") \
                else f"{w.start.year}"
        elif kind == "place" and value:
            part = "+".join(sorted({(p.get("country") or p["name"]).lower() for p in value}))
        elif compare.present(value):
            part = str(value).lower()
        else:
            part = "?"
        parts.append(f"{name}={part}")
    return "|".join(parts)


def display_of(facts: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name, value in facts.items():
        if name == "ordinal":
            out[name] = st.describe_ordinal(value) if value else ""
        else:
            out[name] = compare.describe(value)
    return out


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render(template: str, display: dict[str, str]) -> str:
    if not template:
        return ""
    text = template.format_map(_Blank(display))
    return " ".join(text.split())


def _finding(rule: Rule, facts: dict[str, Any], sentence: str, status: str,
             sources: Mapping[str, tuple[Sentence, ...]]) -> Finding:
    display = display_of(facts)
    return Finding(rule_id=rule.id, key=key_of(rule, facts), facts=facts,
                   evidence=" ".join(sentence.split()), matched=(), status=status,
                   summary=render(rule.summary, display), display=display, sources=sources)
