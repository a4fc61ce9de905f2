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
    "resumed": ("resumed", "held"),
    "held": ("rumored", "planned", "announced", "postponed", "cancelled", "resumed", "held"),
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


def _dates_compatible(a: Any, b: Any, slack: timedelta = SLACK) -> bool:
    A, B = _window(a), _window(b)
    if "none" in (A.precision, B.precision):
        return A.start <= B.end and B.start <= A.end
    return _inside(A, B, slack) or _inside(B, A, slack)


def _inside(inner: dates.DateFact, outer: dates.DateFact, slack: timedelta = SLACK) -> bool:
    return inner.start >= outer.start - slack and inner.end <= outer.end + slack


def _places_compatible(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> bool:
    if not a or not b:
        return True
    return any(places.related(x["name"], y["name"]) for x in a for y in b)


def _memory(facts: Facts) -> bool:
    """Known to have happened, with no date at all: a memory ("where the missile was tested")."""
    if facts.get("status") != "held":
        return False
    return any(kind_of(v) == "date" and present(v) and _window(v).precision == "none"
               and _window(v).days > 31 for v in facts.values())


def _dated(facts: Facts) -> bool:
    """A date stated, or the few days of a report that something just happened."""
    return any(kind_of(v) == "date" and present(v) and (
        _window(v).precision != "none" or _window(v).days <= 7) for v in facts.values())


def _vague(facts: Facts) -> bool:
    """No date, or only the open horizon of an undated plan or memory."""
    dates_ = [_window(v) for v in facts.values() if kind_of(v) == "date" and present(v)]
    return not dates_ or all(d.precision == "none" and d.days > 7 for d in dates_)


def places_overlap(a: Facts, b: Facts) -> bool:
    """Do the places of two findings overlap (or does either name none)?"""
    pa = [v for v in a.values() if kind_of(v) == "place" and v]
    pb = [v for v in b.values() if kind_of(v) == "place" and v]
    return not (pa and pb) or any(_places_compatible(x, y) for x in pa for y in pb)


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


def compatible(a: Facts, b: Facts, slack_days: int = SLACK.days, places: str = "overlap",
               identity: tuple[str, ...] | None = None) -> bool:
    """Could ``a`` (the new finding) and ``b`` (a known one) describe the same development?

    ``slack_days``: how far apart two dates may be; ``places``: ``overlap`` (places must
    overlap) or ``any`` (only dates tell, unless either report is undated); ``identity``: the
    facts that identify a development (default: all but status).
    """
    if _memory(a) and _dated(b) or _memory(b) and _dated(a):
        return False  # "the missile was tested there" cannot tell which launch
    names = set(a) & set(b) if identity is None else set(identity)
    if not any(kind_of(a.get(n)) == "place" or kind_of(b.get(n)) == "place" for n in names) \
            and (_vague(a) and _dated(b) or _vague(b) and _dated(a)):
        return False  # a development only its date identifies: an undated report of one
        # ("will test again") is not a dated one ("tested on Sunday")
    moved = _moved(a, b)
    slack = timedelta(days=slack_days)
    undated = any(kind_of(v) == "date" and present(v) and _window(v).precision == "none"
                  for v in (*a.values(), *b.values()))
    for name in set(a) & set(b):
        if name == "status" or (identity is not None and name not in identity):
            continue
        x, y = a[name], b[name]
        if not (present(x) and present(y)):
            continue
        kind = kind_of(x)
        if kind == "date" and kind_of(y) == "date":
            if not moved and not _dates_compatible(x, y, slack):
                return False
        elif kind == "place":
            if (places == "overlap" or undated) and not _places_compatible(x, y):
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


# The lifecycle: a report is news only when it moves the story forward. A rumor may become an
# announced plan; a plan may be postponed or cancelled (and a postponed one cancelled); a plan
# postponed or cancelled may be back on ("resumed"); held ends it. A plan reported again ("will
# visit", "plans to") after it was announced, or after it was called off, is not news.
def status_moves(new: str | None, known: list[str]) -> bool:
    """Does status ``new`` move on a development whose known statuses are ``known`` (oldest
    report first)?"""
    if not new or not known:
        return bool(new) and not known
    latest = known[-1]
    if new == "resumed":
        return latest in ("postponed", "cancelled")
    if new in ("postponed", "cancelled"):
        return latest not in ("held", "cancelled", new)
    if new == "announced":
        return latest not in ("postponed", "cancelled", "held") and \
            all(k == "rumored" for k in known)
    return False  # rumored, planned: nothing beyond what is known; held: as planned


# A date is news when it is stated for the first time, or sharper than every known one across
# one of these lines: "end of February" -> "Feb 27-28" (a date set), "later this year" ->
# "in September" (a month set). "next week" -> "Tuesday" is a detail of a date already set.
SHARPER = (7, 31)


def date_news(new: Any, known: list[Any], slack_days: int = SLACK.days) -> bool:
    if not present(new) or _window(new).precision == "none":
        return False
    dated = [_window(k) for k in known if present(k) and _window(k).precision != "none"]
    if not dated:
        return True  # stated for the first time
    slack = timedelta(days=slack_days)
    N = _window(new)
    if not any(_inside(N, K, slack) or _inside(K, N, slack) for K in dated):
        return True  # changed (a development moved to another date)
    best = min(K.days for K in dated)
    return any(best > line >= N.days for line in SHARPER)


def place_news(new: Any, known: list[Any], refine: bool = True) -> list[str]:
    """The places of ``new`` that say more than the known ones: a place no known place is,
    contains or lies in (a stop added); with ``refine``, also a city or site named inside a
    known country or region (the venue set: Hanoi for "Vietnam")."""
    if not present(new):
        return []
    names = [k["name"] for places_ in known if present(places_) for k in places_]
    out = []
    for p in new:
        name = p["name"]
        added = not any(places.related(name, k) for k in names)
        # a venue inside a known country or region, and nothing known lies inside it
        venue = refine and places.rank(p.get("kind")) < places.rank("country") and \
            any(places.within(name, k) and k != name for k in names) and \
            not any(places.within(k, name) for k in names)
        if added or venue:
            out.append(name)
    return out


def news(new: Facts, same: list[Facts], slack_days: int = SLACK.days, refine: bool = True,
         here: list[Facts] | None = None) -> list[tuple[str, str, str]]:
    """``(fact, now, was)`` for what ``new`` adds to the known reports ``same`` of its
    development (oldest first): a status that moves the story on, a date stated or changed,
    places added (or, with ``refine``, a venue named within a known country). Anything else
    (less, the same, an earlier stage, another wording) adds nothing. The status is compared
    with the reports of the same place (``here``), when some exist: a trip's stop has its own
    history ("Greenland is off" after "Baghdad happened")."""
    out: list[tuple[str, str, str]] = []
    for name, value in new.items():
        if name in NOT_NEWS or not present(value):
            continue
        kind = kind_of(value)
        known_values = [k.get(name) for k in same if present(k.get(name))]
        was = _was(known_values, kind)
        if name == "status":
            history = [str(k.get(name)) for k in (here or same) if present(k.get(name))]
            if status_moves(value, history):
                out.append((name, describe(value), history[-1] if history else "not known"))
        elif kind == "date":
            if date_news(value, known_values, slack_days):
                out.append((name, describe(value), was))
        elif kind == "place":
            added = place_news(value, known_values, refine)
            if added:
                out.append((name, describe(value), was))
        elif not known_values:
            out.append((name, describe(value), "not known"))
    return out


def _was(values: list[Any], kind: str) -> str:
    if not values:
        return "not announced"
    if kind == "date":
        dated = [v for v in values if _window(v).precision != "none"]
        if not dated:
            return "not announced"
        return describe(min(dated, key=lambda v: _window(v).days))
    if kind == "place":
        seen: list[dict[str, Any]] = []
        for v in values:
            seen += [p for p in v if p not in seen]
        return describe(seen)
    return describe(values[-1])
