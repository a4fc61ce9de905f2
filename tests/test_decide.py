"""decide(): new / update / known, from facts alone, and the fact comparison under it."""

from __future__ import annotations

from datetime import date

from watcher.decide import decide
from watcher.facts import compare
from watcher.facts.dates import DateFact
from watcher.facts.places import place
from watcher.types import Finding, Known

RULE = "summit-announcement"


def when(start: str, end: str | None = None, precision: str = "day") -> dict:
    return DateFact(date.fromisoformat(start), date.fromisoformat(end or start), precision).to_json()


def where(*names: str) -> list[dict]:
    return [place(n).to_json() for n in names]


def facts(w=None, d=None, status="announced", **extra) -> dict:
    return {"who": "Donald Trump and Kim Jong Un", "where": w or [], "when": d,
            "status": status, **extra}


def finding(f: dict, rule: str = RULE) -> Finding:
    return Finding(rule_id=rule, key="k", facts=f, evidence="")


def known(f: dict, ident: int = 1, rule: str = RULE, origin="baseline") -> Known:
    return Known(id=ident, rule_id=rule, key="k", facts=f, origin=origin)


END_FEB = when("2019-02-21", "2019-02-28", "part-of-month")
HANOI = facts(where("Hanoi"), when("2019-02-27", "2019-02-28", "range"))


def test_nothing_known_is_new_with_every_fact_as_a_change():
    d = decide(finding(HANOI), [])
    assert d.kind == "new" and d.matched is None
    assert {c.fact for c in d.changes} >= {"where", "when", "status"}
    assert all(c.was == "not known" for c in d.changes)


def test_precise_date_and_place_update_a_vague_plan():
    d = decide(finding(HANOI), [known(facts(d=END_FEB))])
    assert d.kind == "update" and d.matched.id == 1
    changes = {c.fact: c for c in d.changes}
    assert changes["where"].now == "Hanoi, Vietnam" and changes["where"].was == "not announced"
    assert changes["when"].now == "Feb 27-28, 2019" and changes["when"].was == "late February 2019"


def test_a_vaguer_or_equal_report_is_known():
    assert decide(finding(facts(d=END_FEB)), [known(HANOI)]).kind == "known"
    assert decide(finding(HANOI), [known(HANOI)]).kind == "known"


def test_other_rules_are_ignored():
    assert decide(finding(HANOI), [known(HANOI, rule="pompeo-trip")]).kind == "new"


def test_date_outside_the_window_is_another_development():
    assert decide(finding(facts(d=when("2019-06-30"))), [known(facts(d=END_FEB))]).kind == "new"


def test_windows_are_anchored_in_time():
    sept_2018 = facts(where("New York"), when("2018-09-01", "2018-09-30", "month"))
    sept_2026 = facts(where("New York"), when("2026-09-01", "2026-09-30", "month"))
    assert decide(finding(sept_2026), [known(sept_2018)]).kind == "new"


def test_undated_known_does_not_swallow_a_dated_plan_years_later():
    invitation = facts(where("United States"), when("2018-08-06", "2019-08-06", "none"), "planned")
    april_2026 = facts(where("Washington"), when("2026-04-01", "2026-04-30", "month"))
    assert decide(finding(april_2026), [known(invitation)]).kind == "new"


def test_place_inside_a_known_region_refines_it():
    vietnam = facts(where("Vietnam"), END_FEB)
    d = decide(finding(HANOI), [known(vietnam)])
    assert d.kind == "update" and "where" in {c.fact for c in d.changes}


def test_another_country_is_another_development():
    bangkok = facts(where("Bangkok"), END_FEB)
    assert decide(finding(HANOI), [known(bangkok)]).kind == "new"


def test_a_held_development_is_never_news_again():
    held = facts(where("North Korea"), when("2018-05-01", "2018-05-10", "part-of-month"), "held")
    precise = facts(where("Pyongyang"), when("2018-05-09"), "held")
    d = decide(finding(precise), [known(held)])
    assert d.kind == "known" and "already happened" in d.reason


def test_a_vague_memory_does_not_hide_a_precise_plan():
    memory = facts(where("Vietnam"), when("2019-01-01", "2019-12-31", "year"), "held")
    plan = facts(d=END_FEB)
    d = decide(finding(HANOI), [known(memory, 1), known(plan, 2)])
    assert d.kind == "update" and d.matched.id == 2


def test_status_changes_are_updates():
    planned = facts(where("Ulaanbaatar"), when("2026-09-08", "2026-09-14", "week"))
    postponed = dict(planned, status="postponed")
    d = decide(finding(postponed), [known(planned)])
    assert d.kind == "update"
    assert [(c.fact, c.now, c.was) for c in d.changes] == [("status", "postponed", "announced")]
    rumor = dict(planned, status="rumored")
    assert decide(finding(planned), [known(rumor)]).kind == "update"
    assert decide(finding(rumor), [known(planned)]).kind == "known"


def test_taking_place_as_planned_is_not_news():
    plan = facts(where("Pyongyang"), when("2018-10-01", "2018-10-31", "month"), "planned")
    arrival = facts(where("Pyongyang"), when("2018-10-07"), "held")
    d = decide(finding(arrival), [known(plan)])
    assert d.kind == "known" and "taking place" in d.reason


def test_a_firmer_wording_of_the_same_plan_is_not_news():
    rumor = facts(where("New York"), when("2018-09-01", "2018-09-30", "month"), "rumored")
    assert decide(finding(dict(rumor, status="planned")), [known(rumor)]).kind == "known"
    cancelled = dict(rumor, status="cancelled")
    back_on = dict(rumor, status="resumed")
    d = decide(finding(back_on), [known(cancelled)])
    assert d.kind == "update" and d.changes[0].was == "cancelled"
    # a plan repeated after it was called off says nothing new: only "back on" words do
    repeated = dict(rumor, status="announced")
    assert decide(finding(repeated), [known(cancelled)]).kind == "known"


def test_different_ordinals_are_different_trips():
    third = {"who": "Mike Pompeo", "where": where("North Korea"), "ordinal": 3, "status": "held",
             "when": when("2018-01-01", "2018-12-31", "year")}
    fourth = dict(third, ordinal=4, when=when("2018-10-07"), status="announced")
    assert not compare.compatible(third, fourth)


def test_compare_helpers():
    assert compare.kind_of(END_FEB) == "date"
    assert compare.kind_of(where("Hanoi")) == "place"
    assert compare.covers(HANOI, facts(d=END_FEB))
    assert not compare.covers(facts(d=END_FEB), HANOI)
    assert compare.specificity(HANOI) < compare.specificity(facts(d=END_FEB))


def test_a_postponement_to_a_new_date_is_an_update_of_the_same_summit():
    planned = facts(where("Ulaanbaatar"), when("2026-09-08", "2026-09-14", "week"))
    delayed = facts(where("Ulaanbaatar"), when("2026-10-01", "2026-10-31", "month"), "postponed")
    d = decide(finding(delayed), [known(planned)])
    assert d.kind == "update"
    assert {c.fact: c.was for c in d.changes} == {"when": "Sep 8-14, 2026",
                                                  "status": "announced"}
    elsewhere = facts(where("Hanoi"), when("2026-10-01", "2026-10-31", "month"), "postponed")
    assert decide(finding(elsewhere), [known(planned)]).kind == "new"


def test_an_older_report_cannot_move_the_status_of_a_newer_one():
    """Reports are not always analysed in publication order (fresh news comes newest first):
    a status is news only against what was reported before it."""
    from datetime import UTC, datetime

    plan = facts(where("Ulaanbaatar"), when("2026-09-08", "2026-09-14", "week"))
    back_on = Known(id=1, rule_id=RULE, key="k", facts=dict(plan, status="resumed"),
                    origin="article", reported=datetime(2026, 8, 20, 9, tzinfo=UTC))
    called_off = finding(dict(plan, status="cancelled"))
    older = decide(called_off, [back_on], reported=datetime(2026, 8, 19, 9, tzinfo=UTC))
    assert older.kind == "known" and "older report" in older.reason
    newer = decide(called_off, [back_on], reported=datetime(2026, 8, 21, 9, tzinfo=UTC))
    assert newer.kind == "update" and newer.changes[0].fact == "status"
    # an older report still adds what nobody reported yet (a venue, a day)
    venue = finding(dict(plan, where=where("Ulaanbaatar", "Beijing"), status="cancelled"))
    d = decide(venue, [back_on], reported=datetime(2026, 8, 19, 9, tzinfo=UTC))
    assert d.kind == "update" and [c.fact for c in d.changes] == ["where"]


def test_the_baseline_is_known_whatever_its_date():
    """A seed dated after a report does not make the report old: the baseline is the start."""
    from datetime import UTC, datetime

    plan = facts(where("Ulaanbaatar"), when("2026-09-08", "2026-09-14", "week"))
    seed = Known(id=1, rule_id=RULE, key="k", facts=plan, origin="baseline",
                 reported=datetime(2026, 8, 30, tzinfo=UTC))
    d = decide(finding(dict(plan, status="postponed")), [seed],
               reported=datetime(2026, 8, 20, tzinfo=UTC))
    assert d.kind == "update" and d.changes[0].fact == "status"
