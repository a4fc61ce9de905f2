"""Follow-on sentences: an itinerary that carries on in the next sentence.

    "Pompeo will travel to Pyongyang on Sunday, the State Department said.
     He will also stop in Tokyo, Seoul and Beijing."

The second sentence is part of the same development: its subject is the first sentence's actor
(a pronoun, "He"/"She", or the rule's own words for that actor again: "The secretary",
"Pompeo"), and with that subject it would match the rule by itself ("He" + "stop in" is a Pompeo
word near a travel word). Nothing here is specific to one rule: the actor is whichever of the
rule's positive term lists ("Pompeo words") the matched sentence has and the follow-on lacks.

``candidates`` only reads the words; whether the follow-on's tense, status and dates agree with
the matched sentence is checked in ``extract``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from watcher.match.conditions import holds, occurrences
from watcher.match.prefilter import Hit
from watcher.match.text import Document
from watcher.rules.schema import Rule, positive_terms

# How many sentences an itinerary may carry on for.
MAX_FOLLOW = 3
# The subject must come this early in the follow-on ("From there, the secretary ...").
SUBJECT_WORDS = 4
# The travel word must follow the subject this closely ("He will then go on to ...").
VERB_WORDS = 6

_PRONOUN = re.compile(r"^[\"'“‘]?(?:(?:From there|Afterwards|After that|Then|Later|Next),?\s+)?"
                      r"(?:He|She)\b")


def follow_on(rule: Rule, doc: Document, index: int, j: int,
              by_sentence: Mapping[int, Sequence[Hit]]) -> bool:
    """Does sentence ``j`` carry on the development matched in sentence ``index``?"""
    positive = positive_terms(rule.match)
    actor_lists = {h.term for h in by_sentence.get(index, ()) if h.term in positive}
    hits = sorted(by_sentence.get(j, ()), key=lambda h: h.start)
    start, _ = doc.spans[j]
    first_word = doc.word_of(start)
    sentence = doc.sentence(j)
    pronoun = _PRONOUN.match(sentence)
    if pronoun:
        subject_word = doc.word_of(start + pronoun.end() - 1)
        own = {h.term for h in hits}
        stand_in = actor_lists - own
        if len(stand_in) != 1:
            return False  # "He" must stand for one actor ("Trump and Kim ... He" is ambiguous)
        subject_end = subject_word
    else:
        if not hits:
            return False
        head = hits[0]
        subject_word = doc.word_of(head.start)
        if subject_word - first_word > SUBJECT_WORDS or head.term not in actor_lists:
            return False  # not about the same actor ("Pence will travel to Tokyo")
        stand_in = {head.term}
        end = head.end
        for h in hits:  # the longest name: "Secretary of State Mike Pompeo"
            if h.term == head.term and h.start <= end:
                end = max(end, h.end)
        subject_end = doc.word_of(end - 1)
    # the verb: a hit of another positive list right after the subject
    verb = [h for h in hits if h.term in positive and h.term not in stand_in
            and 0 < doc.word_of(h.start) - subject_end <= VERB_WORDS]
    if not verb:
        return False
    # One actor and what it does, nothing else: a sentence that names a second party ("Trump
    # also met with Kim in the DMZ") is another encounter, not the next leg of an itinerary.
    if len(stand_in | {h.term for h in hits if h.term in positive}) != 2:
        return False
    occ = occurrences(doc, hits)
    for term in stand_in:
        occ[term].append(subject_word)
    if not holds(rule.match, occ):
        return False
    for check in rule.require:
        if check.scope == "sentence" and not holds(check.condition, occ):
            return False
    for check in rule.exclude:
        if check.scope == "sentence" and holds(check.condition, occ):
            return False
    return True


def candidates(rule: Rule, doc: Document, index: int,
               by_sentence: Mapping[int, Sequence[Hit]] | None) -> Iterator[int]:
    """The sentences after ``index`` that carry on its development, in order (stops at the
    first that does not). Only for body sentences and rules with a ``neighbours`` place fact."""
    spec = next((f for f in rule.facts if f.type == "place"), None)
    if by_sentence is None or spec is None or spec.scope != "neighbours" or \
            index < doc.title_sentences:
        return
    for j in range(index + 1, min(index + 1 + MAX_FOLLOW, len(doc.spans))):
        if not follow_on(rule, doc, index, j, by_sentence):
            return
        yield j
