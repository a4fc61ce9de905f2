"""Places named in a sentence, what lies in what (Hanoi is in Vietnam), and venues.

The names come from the gazetteer (``watcher.facts.gazetteer``: GeoNames data, CC BY 4.0, plus a
curated layer), built once per process on first use, and from the operator's places file
(``rules/places.yaml``), loaded with the rules as an ``Overlay`` that ``use`` makes current. The
overlay wins over the gazetteer for the same name.

Matching is linear in the text: one Aho-Corasick pass per layer gives every candidate name; the
longest whole-word name wins where names overlap, so "into the Sea of Japan" is the sea and the
"Japan" inside it does not count. A place used as an adjective or owner ("North Korea's foreign
minister", "Washington-based") is not where something happens and is skipped.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import ahocorasick

from watcher.facts.gazetteer import Entry, Gazetteer, build, spellings

KINDS = ("site", "city", "region", "country", "sea")


@dataclass(frozen=True)
class Place:
    name: str
    kind: str  # site | city | region | country | sea
    country: str | None  # the country it lies in (itself for a country), None if none

    def to_json(self) -> dict[str, str | None]:
        return {"name": self.name, "kind": self.kind, "country": self.country}

    @property
    def label(self) -> str:
        if self.kind in ("city", "site", "region") and self.country and \
                self.country != self.name and not self.name.endswith(", " + self.country):
            return f"{self.name}, {self.country}"
        return self.name


@dataclass(frozen=True)
class PlaceDef:
    """One place of the operator's places file."""

    name: str
    kind: str
    parent: str | None  # canonical name of what it lies in
    aliases: tuple[str, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class Overlay:
    """The operator's places, over the gazetteer. Built by ``watcher.rules.places_file``."""

    places: tuple[PlaceDef, ...] = ()
    source: str = ""

    @cached_property
    def entries(self) -> dict[str, Entry]:
        return {p.name: (p.kind, p.parent) for p in self.places}

    @cached_property
    def automaton(self) -> Any:
        if not self.places:
            return None
        automaton = ahocorasick.Automaton()
        for p in self.places:
            for name in (p.name, *p.aliases):
                for s in spellings(name):
                    automaton.add_word(s, (len(s), p.name, False))
        automaton.make_automaton()
        return automaton

    def resolve(self, name: str) -> str | None:
        if name in self.entries:
            return name
        value = self.automaton.get(name, None) if self.automaton is not None else None
        return value[1] if value else None


EMPTY = Overlay()
_current: list[Overlay] = [EMPTY]


def use(overlay: Overlay) -> None:
    """Make ``overlay`` the operator's places from now on (the rules loader and the matcher
    call this with the RuleSet's places)."""
    _current[0] = overlay


def current() -> Overlay:
    return _current[0]


_built: list[Gazetteer] = []
_building = threading.Lock()


def gazetteer() -> Gazetteer:
    """The GeoNames-based index, built on first use (once per process, whatever the threads)."""
    if not _built:
        with _building:
            if not _built:
                _built.append(build())
    return _built[0]


def forget() -> None:
    """Drop the index; the next use builds it again (``bench/gazetteer.py`` times the build)."""
    with _building:
        _built.clear()


def _entry(name: str) -> Entry | None:
    return current().entries.get(name) or gazetteer().entries.get(name)


def resolve(name: str) -> str | None:
    """The canonical name for a name or alias ("DPRK" -> "North Korea"), None if unknown."""
    return current().resolve(name) or gazetteer().resolve(name)


def known(name: str) -> bool:
    return resolve(name) is not None


def chain(name: str) -> tuple[str, ...]:
    """The place and everything containing it: Hanoi -> (Hanoi, Vietnam, Southeast Asia, Asia)."""
    out: list[str] = []
    current_name: str | None = resolve(name) or name
    while current_name and current_name not in out:
        out.append(current_name)
        entry = _entry(current_name)
        current_name = entry[1] if entry else None
    return tuple(out)


def place(name: str) -> Place:
    """The Place for a known name or alias (KeyError when unknown)."""
    canonical = resolve(name)
    entry = _entry(canonical) if canonical else None
    if canonical is None or entry is None:
        raise KeyError(name)
    country = next((n for n in chain(canonical) if (_entry(n) or ("",))[0] == "country"), None)
    return Place(canonical, entry[0], country)


_PREPS = {"in", "at", "to", "for", "into", "visit", "visits", "visiting", "visited", "toward",
          "towards", "via", "inside", "near", "host", "hosts", "hosting", "hosted", "reach",
          "reached", "reaches", "tour", "touring", "toured", "arrive", "arrives", "land", "lands"}
# Capitalised words that do not make a longer name with the city name next to them.
_NOT_NAMES = _PREPS | {"the", "a", "an", "and", "or", "but", "from", "of", "on", "by", "with",
                       "off", "outside", "over", "across", "north", "south", "east", "west",
                       "northern", "southern", "eastern", "western", "central", "downtown",
                       "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                       "sunday", "january", "february", "march", "april", "may", "june", "july",
                       "august", "september", "october", "november", "december", "jan", "feb",
                       "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec"}
_LOOKAROUND = 40  # characters: the longest neighbouring word looked at


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_-"


def _whole(text: str, start: int, end: int) -> bool:
    """A whole name, not part of a word, a compound ("Washington-based") or an owner ("'s")."""
    if start > 0 and _word_char(text[start - 1]):
        return False
    if end < len(text):
        if _word_char(text[end]):
            return False
        if text[end] in "'’" and text[end + 1:end + 2] == "s" and \
                not (end + 2 < len(text) and _word_char(text[end + 2])):
            return False
    return True


def _name_word(word: str) -> bool:
    word = word.rstrip(".")
    return bool(word) and word[0].isupper() and word.lower() not in _NOT_NAMES


def _in_longer_name(text: str, start: int, end: int) -> bool:
    """A capitalised word right before or after, other than "In", "To", "Monday"...: the name
    is part of a longer one ("John Bolton", "Vladimir Putin", "Davis Cup")."""
    if start >= 2 and text[start - 1] == " ":
        j = start - 2
        while j >= max(0, start - _LOOKAROUND) and (text[j].isalpha() or text[j] in ".'’"):
            j -= 1
        if _name_word(text[j + 1:start - 1]):
            return True
    if end + 1 < len(text) and text[end] == " ":
        k = end + 1
        while k < min(len(text), end + _LOOKAROUND) and text[k].isalpha():
            k += 1
        return _name_word(text[end + 1:k])
    return False


def _title_case(text: str) -> bool:
    """A headline in title case ("Pompeo To Visit Sochi Next Week"): most words of four letters
    or more are capitalised, so a capitalised neighbour says nothing."""
    words = capitalised = 0
    for word in text.split():
        if len(word) >= 4 and word[0].isalpha():
            words += 1
            capitalised += word[0].isupper()
    return words >= 3 and capitalised >= 0.75 * words


def find_places(text: str) -> list[tuple[int, int, Place]]:
    """Every known place in ``text`` as ``(start, end, Place)``, in text order."""
    found: list[tuple[int, int, int, int, str, bool]] = []
    for layer, automaton in enumerate((current().automaton, gazetteer().automaton)):
        if automaton is None:
            continue
        for last, (length, name, guarded) in automaton.iter(text):
            found.append((last + 1 - length, -length, layer, last + 1, name, guarded))
    found.sort()  # by start, longest first, the operator's layer first
    out: list[tuple[int, int, Place]] = []
    taken = 0
    title: bool | None = None
    for start, _, _, end, name, guarded in found:
        if start < taken or not _whole(text, start, end):
            continue
        if guarded:
            title = _title_case(text) if title is None else title
            if not title and _in_longer_name(text, start, end):
                continue
        out.append((start, end, place(name)))
        taken = end
    return out


def within(inner: str, outer: str) -> bool:
    """True when ``inner`` is ``outer`` or lies inside it (Hanoi within Vietnam)."""
    return (resolve(outer) or outer) in chain(inner)


def related(a: str, b: str) -> bool:
    """One place contains the other: the same development seen at two precisions."""
    return within(a, b) or within(b, a)


def rank(kind: str | None) -> int:
    """Lower is more precise: a site, then a city, then a country, region or sea."""
    return {"site": 0, "city": 1, "country": 2, "region": 2, "sea": 2}.get(kind or "", 3)


def describe(places: list[dict] | None) -> str:
    if not places:
        return "place not announced"
    return "; ".join(place(p["name"]).label if known(p["name"]) else p["name"] for p in places)


_SOURCES = {"officials", "official", "sources", "diplomats", "analysts", "spokesman",
            "spokeswoman", "spokesperson", "envoy", "embassy", "both", "between", "according"}
# These patterns only ever see a window of at most _WINDOW characters next to a name.
_SAID = re.compile(r"^\W*(?:said|says|announced|spokes\w*|press|officials?|statement|aides?|"
                   r"correspondent|reported|confirmed|told|has said|have said)\b", re.IGNORECASE)
_HOST = re.compile(r"^\W*(?:will host|to host|would host|hosts|hosted|is hosting|"
                   r"summit|meeting|talks|visit|trip)\b", re.IGNORECASE)
_LIST_GAP = re.compile(r"^\s*(?:,|(?:,?\s*(?:and|or|then(?:\s+to)?)(?:\s+the)?)|/)?\s*$")
_WORD = re.compile(r"[A-Za-z][\w'’.-]*")
_WINDOW = 40


def venues(text: str) -> list[Place]:
    """The places where something happens in ``text``: named after "in", "to", "at", "visit"...

    A place named as a source ("officials in Washington said", "the White House said") or as a
    party ("talks between Washington and Pyongyang") is not a venue. A place that contains
    another venue is folded into it ("Hanoi, Vietnam" is Hanoi).
    """
    return fold([p for _, _, p in venue_spans(text)])


def venue_spans(text: str) -> list[tuple[int, int, Place]]:
    """``venues`` with where each was named: ``(start, end, Place)`` in text order, unfolded."""
    accepted: list[tuple[int, int, Place]] = []
    previous_end = 0
    for start, end, p in find_places(text):
        window = text[max(previous_end, start - _WINDOW):start]
        previous_end = end
        before = [w.lower().rstrip(",.") for w in _WORD.findall(window)][-3:]
        after = text[end:end + _WINDOW]
        if _SAID.match(after) or any(w in _SOURCES for w in before):
            continue
        ok = any(w in _PREPS for w in before) or bool(_HOST.match(after))
        gap_start = accepted[-1][1] if accepted else start
        if not ok and accepted and start - gap_start <= _WINDOW and \
                _LIST_GAP.match(text[gap_start:start]):
            ok = True
        if ok:
            accepted.append((start, end, p))
    return accepted


def is_list_gap(gap: str) -> bool:
    """The text between two items of a list of places: ", ", " and ", ", or the "..."."""
    return len(gap) < 16 and bool(_LIST_GAP.match(gap))


def fold(found: list[Place]) -> list[Place]:
    """Distinct places in order; a country named with one of its cities is folded into it."""
    out: list[Place] = []
    for p in found:
        if p not in out:
            out.append(p)
    return [p for p in out if not any(q.name != p.name and within(q.name, p.name) for q in out)]


__all__ = ["EMPTY", "KINDS", "Overlay", "Place", "PlaceDef", "chain", "current", "describe",
           "find_places", "fold", "forget", "gazetteer", "is_list_gap", "known", "place", "rank",
           "related", "resolve", "use", "venue_spans", "venues", "within"]
