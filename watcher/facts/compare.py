"""How two sets of facts compare: the same development? which one says more?

Facts are the JSON dicts a Finding carries. A fact's kind is read off its shape, so any rule's
facts compare the same way:

- a date window ``{"start", "end", "precision"}``: two windows are the same development when one
  lies inside the other (a couple of days of slack), or, when either is undated (``none``: the
  year after the report), when they overlap. Windows are anchored in time, so a 2026 summit is
  never the 2018 one.
- a list of places ``[{"name", "kind", "country"}]``: the same when a place of one lies inside a
  place of the other (Hanoi inside Vietnam); no place is "not announced" and fits any place.
- ``status``: not part of identity; a move that changes the plan (rumored -> announced, to
  postponed or cancelled, or back on) is a change; taking place as planned is not.
- anything else (who, ordinal): equal when both are given.

A postponement or cancellation at a known place is the known development whatever its new date
("the Ulaanbaatar summit is delayed until October").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from watcher.facts import dates, places

SLACK = timedelta(days=2)
MOVE_WINDOW = timedelta(days=45)
# Facts that identify a development but are not news by themselves: learning that a known trip
# is "his fourth" changes nothing about the trip.
NOT_NEWS = ("who", "ordinal")
# Which known statuses already cover a new one. Only a move that changes the plan is news:
# rumor -> official announcement, postponed, cancelled, back on after either. A development
# taking place as announced ("held") is not a new development.
STATUS_COVERED_BY = {
    "rumored": ("rumored", "planned", "announced", "held"),
    "planned": ("rumored", "planned", "announced", "held"),
    "announced": ("planned", "announced", "held"),
    "postponed": ("postponed", "held"),
    "cancelled": ("cancelled", "held"),
    "held": ("rumored", "planned", "announced", "postponed", "cancelled", "held"),
}
Facts = Mapping[str, Any]


def kind_of(value: Any) -> str:
    if isinstance(value, dict) and "precision" in value:
        return "date"
    if isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value):
        return "place"
    return "scalar"


def present(value: Any) -> bool:
    return value not in (None, "", [], {})


def _window(value: Any) -> dates.DateFact:
    return dates.date_from_json(value)


def _dates_compatible(a: Any, b: Any) -> bool:
    A, B = _window(a), _window(b)
    if "none" in (A.precision, B.precision):
        return A.start <= B.end and B.start <= A.end
    return _inside(A, B) or _inside(B, A)


def _inside(inner: dates.DateFact, outer: dates.DateFact) -> bool:
    return inner.start >= outer.start - SLACK and inner.end <= outer.end + SLACK


def _places_compatible(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    if not a or not b:
        return True
    return any(places.related(x["name"], y["name"]) for x in a for y in b)


def _moved(a: Facts, b: Facts) -> bool:
    """``a`` postpones or calls off a development at the place ``b`` has: its date may move."""
    if a.get("status") not in ("postponed", "cancelled") or b.get("status") == "held":
        return False
    pa = next((v for v in a.values() if kind_of(v) == "place" and v), None)
    pb = next((v for v in b.values() if kind_of(v) == "place" and v), None)
    if not (pa and pb and _places_compatible(pa, pb)):
        return False
    da = next((v for v in a.values() if kind_of(v) == "date" and v), None)
    db = next((v for v in b.values() if kind_of(v) == "date" and v), None)
    if da and db:  # the known date must not be long past when the new one starts
        return _window(db).end >= _window(da).start - MOVE_WINDOW
    return True


def compatible(a: Facts, b: Facts) -> bool:
    """Could ``a`` (the new finding) and ``b`` (a known one) describe the same development?"""
    moved = _moved(a, b)
    for name in set(a) & set(b):
        if name == "status":
            continue
        x, y = a[name], b[name]
        if not (present(x) and present(y)):
            continue
        kind = kind_of(x)
        if kind == "date" and kind_of(y) == "date":
            if not moved and not _dates_compatible(x, y):
                return False
        elif kind == "place":
            if not _places_compatible(x, y):
                return False
        elif str(x).lower() != str(y).lower():
            return False
    return True


def _covers_fact(name: str, known: Any, new: Any) -> bool:
    if not present(new):
        return True
    if name == "status":
        return present(known) and known in STATUS_COVERED_BY.get(new, ())
    if not present(known):
        return kind_of(new) == "date" and _window(new).precision == "none"
    kind = kind_of(new)
    if kind == "date":
        K, N = _window(known), _window(new)
        if N.precision == "none":
            return True
        return K.precision != "none" and K.days <= N.days + 2 * SLACK.days and _inside(K, N)
    if kind == "place":
        return all(any(places.within(k["name"], n["name"]) for k in known) for n in new)
    return str(known).lower() == str(new).lower()


def covers(known: Facts, new: Facts) -> bool:
    """Does ``known`` already say everything ``new`` says (at least as precisely)?"""
    return all(_covers_fact(name, known.get(name), new[name]) for name in new
               if name not in NOT_NEWS)


def specificity(facts: Facts) -> tuple[int, int, int]:
    """Sort key, most specific first: date window width, place precision, facts given."""
    width, rank = 100_000, 3
    for value in facts.values():
        kind = kind_of(value)
        if kind == "date" and present(value):
            w = _window(value)
            width = min(width, 100_000 if w.precision == "none" else w.days)
        elif kind == "place" and value:
            rank = min(rank, min(places.rank(p.get("kind")) for p in value))
    given = -sum(1 for v in facts.values() if present(v))
    return width, rank, given


def describe(value: Any) -> str:
    """Human text for one fact value, whatever its kind."""
    kind = kind_of(value)
    if kind == "date":
        return dates.describe(value)
    if kind == "place":
        return places.describe(value)
    if not present(value):
        return "not announced"
    return str(value)


def changed(new: Facts, known: Facts) -> list[tuple[str, str, str]]:
    """``(fact, now, was)`` for each fact ``new`` adds or changes compared with ``known``."""
    out = []
    for name, value in new.items():
        if name in NOT_NEWS or _covers_fact(name, known.get(name), value):
            continue
        was = known.get(name)
        was_text = describe(was) if present(was) else "not announced"
        out.append((name, describe(value), was_text))
    return out
