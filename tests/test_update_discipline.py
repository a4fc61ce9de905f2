"""The update discipline of docs/rules.md ("How novelty is decided"), one test per row: a
report is an update only when it moves its development forward; saying less, the same, an
earlier stage or another wording is known."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from watcher.decide import decide
from watcher.facts.dates import DateFact
from watcher.facts.places import place
from watcher.rules.loader import load_ruleset
from watcher.types import Finding, Known

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rules():
    ruleset, errors = load_ruleset(ROOT / "rules")
    assert not errors
    return ruleset.rules


def when(start: str, end: str | None = None, precision: str = "day") -> dict:
    return DateFact(date.fromisoformat(start), date.fromisoformat(end or start), precision).to_json()


def where(*names: str) -> list[dict]:
    return [place(n).to_json() for n in names]


def trip(w=(), d=None, status="announced") -> dict:
    return {"who": "Mike Pompeo", "where": where(*w), "when": d, "status": status}


def summit(w=(), d=None, status="announced") -> dict:
    return {"who": "Donald Trump and Kim Jong Un", "where": where(*w), "when": d,
            "status": status}


def judge(rule, new: dict, *known_facts: dict) -> str:
    known = [Known(id=i, rule_id=rule.id, key="k", facts=f, origin="article")
             for i, f in enumerate(known_facts, 1)]
    return decide(Finding(rule_id=rule.id, key="k", facts=new, evidence=""), known, rule).kind


MAY = when("2019-05-06", "2019-05-12", "week")
MONTH = when("2019-02-01", "2019-02-28", "month")
END_FEB = when("2019-02-21", "2019-02-28", "part-of-month")


# -- status ------------------------------------------------------------------------------------

def test_a_status_further_along_is_an_update(rules):
    s = rules["summit-announcement"]
    assert judge(s, summit(["Hanoi"], END_FEB, "announced"),
                 summit(["Hanoi"], END_FEB, "rumored")) == "update"
    assert judge(s, summit(["Hanoi"], END_FEB, "postponed"), summit(["Hanoi"], END_FEB)) == \
        "update"
    assert judge(s, summit(["Hanoi"], END_FEB, "cancelled"),
                 summit(["Hanoi"], END_FEB), summit(["Hanoi"], END_FEB, "postponed")) == "update"
    assert judge(s, summit(["Hanoi"], END_FEB, "resumed"),
                 summit(["Hanoi"], END_FEB), summit(["Hanoi"], END_FEB, "cancelled")) == "update"


def test_an_earlier_stage_is_known(rules):
    t = rules["pompeo-trip"]
    assert judge(t, trip(["Berlin"], MAY, "planned"), trip(["Berlin"], MAY, "announced")) == \
        "known"
    # a plan repeated after it was called off: only "back on" words make it news again
    assert judge(t, trip(["Berlin"], MAY, "announced"), trip(["Berlin"], MAY),
                 trip(["Berlin"], MAY, "cancelled")) == "known"
    # a postponement of what is already called off says less
    assert judge(t, trip(["Berlin"], MAY, "postponed"), trip(["Berlin"], MAY, "cancelled")) == \
        "known"


# -- dates -------------------------------------------------------------------------------------

def test_a_date_stated_for_the_first_time_is_an_update(rules):
    s = rules["summit-announcement"]
    undated = {"start": "2019-01-18", "end": "2020-01-18", "precision": "none", "text": ""}
    assert judge(s, summit(["Hanoi"], END_FEB), summit(["Hanoi"], undated)) == "update"


def test_a_date_set_where_only_a_vaguer_one_was_known_is_an_update(rules):
    s = rules["summit-announcement"]
    feb27 = when("2019-02-27", "2019-02-28", "range")
    assert judge(s, summit(["Hanoi"], feb27), summit(["Hanoi"], END_FEB)) == "update"
    assert judge(s, summit(["Hanoi"], MONTH), summit(
        ["Hanoi"], when("2019-01-01", "2019-12-31", "year"))) == "update"


def test_a_vaguer_date_or_a_detail_of_a_known_week_is_known(rules):
    t = rules["pompeo-trip"]
    assert judge(t, trip(["Berlin"], MAY), trip(["Berlin"], when("2019-05-07"))) == "known"
    assert judge(t, trip(["Berlin"], when("2019-05-07")), trip(["Berlin"], MAY)) == "known"


def test_a_moved_date_is_an_update(rules):
    s = rules["summit-announcement"]
    later = when("2019-10-01", "2019-10-31", "month")
    assert judge(s, summit(["Ulaanbaatar"], later, "postponed"),
                 summit(["Ulaanbaatar"], when("2019-09-10"))) == "update"


# -- places ------------------------------------------------------------------------------------

def test_a_stop_added_is_an_update(rules):
    t = rules["pompeo-trip"]
    # places: any -- London on May 8 is the same trip as Berlin on May 7, and a stop added
    assert judge(t, trip(["London"], when("2019-05-08")), trip(["Berlin"], when("2019-05-07"))) \
        == "update"


def test_a_city_inside_a_known_country_is_known_for_an_itinerary(rules):
    t = rules["pompeo-trip"]
    assert judge(t, trip(["Berlin"], MAY), trip(["Germany", "United Kingdom"], MAY)) == "known"


def test_a_venue_inside_a_known_country_is_an_update_when_places_identify(rules):
    s = rules["summit-announcement"]
    assert s.places == "overlap"
    assert judge(s, summit(["Hanoi"], END_FEB), summit(["Vietnam"], END_FEB)) == "update"


def test_the_same_or_fewer_facts_are_known(rules):
    t = rules["pompeo-trip"]
    full = trip(["Berlin", "London"], MAY)
    assert judge(t, full, full) == "known"
    assert judge(t, trip(["Berlin"], MAY), full) == "known"
    assert judge(t, trip([], MAY), full) == "known"


# -- held --------------------------------------------------------------------------------------

def test_taking_place_as_known_is_known_unless_it_adds_a_stop(rules):
    t = rules["pompeo-trip"]
    plan = trip(["Berlin"], when("2019-05-07"))
    assert judge(t, trip(["Berlin"], when("2019-05-07"), "held"), plan) == "known"
    # a surprise stop on the same trip is news
    assert judge(t, trip(["Baghdad"], when("2019-05-07"), "held"), plan) == "update"


def test_what_happened_at_a_place_absorbs_later_reports_of_it_only_there(rules):
    t = rules["pompeo-trip"]
    baghdad = trip(["Baghdad"], when("2019-05-07"), "held")
    assert judge(t, trip(["Baghdad"], when("2019-05-07")), baghdad) == "known"
    # the trip's Greenland stop is not over because Baghdad happened
    greenland = trip(["Nuuk"], when("2019-05-09"))
    assert judge(t, trip(["Nuuk"], when("2019-05-09"), "cancelled"), greenland, baghdad) == \
        "update"


# -- identity ----------------------------------------------------------------------------------

def test_one_off_events_a_day_or_more_apart_are_different(rules):
    m = rules["nk-missile-test"]
    first = {"what": "ICBM", "where": [], "when": when("2022-10-04"), "status": "held"}
    assert judge(m, dict(first, when=when("2022-10-06")), first) == "new"
    assert judge(m, dict(first, what="ballistic missile"), first) == "known"


def test_an_alias_keeps_a_renamed_rules_findings(rules):
    t = replace(rules["pompeo-trip"], id="diplomat-trip", aliases=("pompeo-trip",))
    known = [Known(id=1, rule_id="pompeo-trip", key="k", facts=trip(["Berlin"], MAY),
                   origin="article")]
    new = Finding(rule_id="diplomat-trip", key="k", facts=trip(["Berlin"], MAY), evidence="")
    assert decide(new, known, t).kind == "known"
    assert decide(new, known, replace(t, aliases=())).kind == "new"
