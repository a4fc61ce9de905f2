"""Places named in a sentence, from the gazetteer, with containment (Hanoi is in Vietnam).

A place used as an adjective or owner ("North Korea's foreign minister", "Washington-based")
is not where something happens and is skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from watcher.facts.gazetteer import ALL


@dataclass(frozen=True)
class Place:
    name: str
    kind: str  # city | site | country | region
    country: str | None  # the country (itself for a country), None for a region

    def to_json(self) -> dict[str, str | None]:
        return {"name": self.name, "kind": self.kind, "country": self.country}

    @property
    def label(self) -> str:
        if self.kind in ("city", "site") and self.country and self.country != self.name:
            return f"{self.name}, {self.country}"
        return self.name


def chain(name: str) -> tuple[str, ...]:
    """The place and everything containing it: Hanoi -> (Hanoi, Vietnam, Southeast Asia)."""
    out: list[str] = []
    current: str | None = name
    while current and current not in out:
        out.append(current)
        entry = ALL.get(current)
        current = entry[1] if entry else None
    return tuple(out)


def place(name: str) -> Place:
    kind, parent, _ = ALL[name]
    if kind == "region":
        country = None
    elif kind == "country":
        country = name
    else:
        country = parent
    return Place(name, kind, country)


@lru_cache(maxsize=1)
def _pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    alias_to_name: dict[str, str] = {}
    for name, (_, _, aliases) in ALL.items():
        for alias in aliases:
            alias_to_name[alias] = name
    alternation = "|".join(re.escape(a) for a in sorted(alias_to_name, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-]|'s\b|’s\b|-based)"), alias_to_name


def find_places(text: str) -> list[tuple[int, int, Place]]:
    """Every gazetteer place in ``text`` as ``(start, end, Place)``, in text order."""
    pattern, names = _pattern()
    out = []
    for m in pattern.finditer(text):
        out.append((m.start(), m.end(), place(names[m.group(0)])))
    return out


def within(inner: str, outer: str) -> bool:
    """True when ``inner`` is ``outer`` or lies inside it (Hanoi within Vietnam)."""
    return outer in chain(inner)


def related(a: str, b: str) -> bool:
    """One place contains the other: the same development seen at two precisions."""
    return within(a, b) or within(b, a)


def rank(kind: str | None) -> int:
    """Lower is more precise."""
    return {"site": 0, "city": 0, "country": 1, "region": 2}.get(kind or "", 3)


def describe(places: list[dict] | None) -> str:
    if not places:
        return "place not announced"
    return "; ".join(place(p["name"]).label if p["name"] in ALL else p["name"] for p in places)


_PREPS = {"in", "at", "to", "for", "into", "visit", "visits", "visiting", "visited", "toward",
          "towards", "via", "inside", "near", "host", "hosts", "hosting", "hosted", "reach",
          "reached", "reaches", "tour", "touring", "toured", "arrive", "arrives", "land", "lands"}
_SOURCES = {"officials", "official", "sources", "diplomats", "analysts", "spokesman",
            "spokeswoman", "spokesperson", "envoy", "embassy", "both", "between"}
_SAID = re.compile(r"^\W*(?:said|says|announced|spokes\w*|press|officials?|statement|aides?|"
                   r"correspondent|reported|confirmed|told|has said|have said)\b", re.IGNORECASE)
_HOST = re.compile(r"^\W*(?:will host|to host|would host|hosts|hosted|is hosting|"
                   r"summit|meeting|talks|visit|trip)\b", re.IGNORECASE)
_LIST_GAP = re.compile(r"^\s*(?:,|(?:,?\s*(?:and|or|then(?:\s+to)?)(?:\s+the)?)|/)?\s*$")
_WORD = re.compile(r"[A-Za-z][\w'’.-]*")


def venues(text: str) -> list[Place]:
    """The places where something happens in ``text``: named after "in", "to", "at", "visit"...

    A place named as a source ("officials in Washington said", "the White House said") or as a
    party ("talks between Washington and Pyongyang") is not a venue. A country named right after
    one of its cities ("Hanoi, Vietnam") is folded into the city.
    """
    return fold([p for _, _, p in venue_spans(text)])


def venue_spans(text: str) -> list[tuple[int, int, Place]]:
    """``venues`` with where each was named: ``(start, end, Place)`` in text order, unfolded."""
    accepted: list[tuple[int, int, Place]] = []
    previous_end = 0
    for start, end, p in find_places(text):
        window = text[max(previous_end, start - 40):start]
        previous_end = end
        before = [w.lower().rstrip(",.") for w in _WORD.findall(window)]
        before = before[-3:]
        after = text[end:end + 40]
        if _SAID.match(after) or any(w in _SOURCES for w in before):
            continue
        ok = any(w in _PREPS for w in before) or bool(_HOST.match(after))
        if not ok and accepted and _LIST_GAP.match(text[accepted[-1][1]:start]):
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
        if p in out:
            continue
        out.append(p)
    cities_countries = {p.country for p in out if p.kind in ("city", "site")}
    return [p for p in out if not (p.kind == "country" and p.name in cities_countries)]
