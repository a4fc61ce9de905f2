"""analyse(): from an article's text to its outcomes and alert drafts, with plain values only
(no database): what the pipeline stores, rules test replays and rules explain prints."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.analyse import KnownList, Matched, analyse, conclude
from watcher.rules.loader import load_ruleset
from watcher.types import AlertKind, Article, Finding, Known, KnownOrigin, Novelty, Reprint

RULES = Path(__file__).parent.parent / "rules"
WHEN = datetime(2019, 2, 8, 15, tzinfo=UTC)
TRIP = "Secretary of State Mike Pompeo will travel to Canberra and Sydney on Feb. 20, aides said."


@pytest.fixture(scope="module")
def rules():
    ruleset, errors = load_ruleset(RULES)
    assert not errors
    return ruleset


def _article(text: str = TRIP, outlet: str = "Meridian Post", url: str = "https://m.test/1",
             title: str = "") -> Article:
    return Article(url, title, text, WHEN, outlet=outlet)


def _stored(rules, text: str = TRIP, outlet: str = "Meridian Post", article_id: int = 7
            ) -> list[Known]:
    """The known list after the article was analysed and stored (as the database keeps it)."""
    memory = KnownList()
    memory.add(analyse(_article(text, outlet), rules, [], default_channel="#c"), article_id)
    return memory.items


def test_a_new_development_drafts_a_new_alert_with_the_rule_severity(rules):
    result = analyse(_article(), rules, [], default_channel="#news")
    [o] = result.outcomes
    assert o.decision.kind == Novelty.NEW and o.decision.matched is None
    assert o.development is None  # it starts a development of its own
    assert o.alert is not None and o.alert.kind == AlertKind.NEW
    assert o.alert.channel == "#news"  # the rule names none: the config's channel
    assert o.alert.severity == "info" and o.alert.summary.startswith("Pompeo trip (planned)")
    assert o.alert.article_url == "https://m.test/1" and o.alert.outlet == "Meridian Post"
    assert o.alert.reason == o.decision.reason


def test_the_rule_channel_wins_over_the_config(rules):
    rule = rules.rules["pompeo-trip"]
    rules = replace(rules, rules={**rules.rules, "pompeo-trip": replace(rule, channel="#trips")})
    [o] = analyse(_article(), rules, [], default_channel="#news").outcomes
    assert o.alert.channel == "#trips"


def test_two_findings_of_one_article_are_one_story(rules):
    """Plain values: the second finding is decided against the first, not stored yet."""
    from tests.test_decide import HANOI, facts, when, where

    vaguer = facts(where("Vietnam"), when("2019-02-01", "2019-02-28", "month"))
    first = Finding(rule_id="summit-announcement", key="k1", facts=HANOI, evidence="a")
    second = Finding(rule_id="summit-announcement", key="k2", facts=vaguer, evidence="b")
    result = conclude(Matched(_article(), (first, second)), rules, [], default_channel="#c")
    a, b = result.outcomes
    assert a.decision.kind == Novelty.NEW and a.alert.kind == AlertKind.NEW
    assert b.decision.kind == Novelty.KNOWN and b.alert is None
    assert b.decision.matched.origin == KnownOrigin.THIS_ARTICLE
    assert "another finding of this article" in b.decision.reason
    assert b.development is None  # both start the same new story once stored


def test_another_outlet_on_a_known_development_drafts_a_sources_alert(rules):
    known = _stored(rules)
    same = analyse(_article(outlet="Meridian Post", url="https://m.test/2"), rules, known,
                   default_channel="#c")
    [o] = same.outcomes
    assert o.decision.kind == Novelty.KNOWN and o.alert is None  # the same outlet again
    other = analyse(_article(outlet="Lakeside Herald", url="https://l.test/1"), rules, known,
                    default_channel="#c")
    [o] = other.outcomes
    assert o.decision.kind == Novelty.KNOWN
    assert o.alert is not None and o.alert.kind == AlertKind.SOURCES
    assert o.development == known[0].development


def test_a_reprint_is_known_and_tied_to_the_original_story(rules):
    known = _stored(rules, article_id=7)
    text = TRIP.replace("Canberra and Sydney", "Canberra, Sydney and Wellington")
    plain = analyse(_article(text, "Other Daily"), rules, known, default_channel="#c")
    assert [o.decision.kind for o in plain.outcomes] == [Novelty.UPDATE]
    reprint = Reprint(article_id=7, origin="feed", similarity=0.93)
    result = analyse(_article(text, "Other Daily"), rules, known, default_channel="#c",
                     reprint=reprint)
    [o] = result.outcomes
    assert o.decision.kind == Novelty.KNOWN and o.decision.changes == ()
    assert o.decision.reason == "reprint of article #7 (93% similar)"
    assert o.decision.matched == known[0]  # the original's finding
    assert o.alert is not None and o.alert.kind == AlertKind.SOURCES  # a new outlet for it
    seed = analyse(_article(text, "Other Daily"), rules, [], default_channel="#c",
                   reprint=Reprint(article_id=3, origin="seed", similarity=0.9))
    assert seed.outcomes[0].decision.reason.startswith("reprint of a seed")


def test_rule_ids_limit_the_analysis_and_explain_adds_a_trace(rules):
    text = f"{TRIP} Trump will meet Kim Jong Un in Hanoi on Feb. 27-28."
    both = analyse(_article(text), rules, [], default_channel="#c")
    assert {o.finding.rule_id for o in both.outcomes} == {"pompeo-trip", "summit-announcement"}
    assert both.traces == ()
    one = analyse(_article(text), rules, [], default_channel="#c", rule_ids=["pompeo-trip"],
                  explain=True)
    assert {o.finding.rule_id for o in one.outcomes} == {"pompeo-trip"}
    [trace] = one.traces
    assert trace.rule_id == "pompeo-trip" and trace.examined
    assert [f.key for f in trace.findings] == [o.finding.key for o in one.outcomes]


def test_known_findings_kept_in_memory_carry_developments_as_the_database_does(rules):
    memory = KnownList()
    first = analyse(_article(), rules, memory.items, default_channel="#c")
    memory.add(first, 11)
    text = TRIP.replace("Canberra and Sydney", "Canberra, Sydney and Wellington")
    later = analyse(_article(text, "Lakeside Herald", "https://l.test/2"), rules, memory.items,
                    default_channel="#c")
    assert [o.decision.kind for o in later.outcomes] == [Novelty.UPDATE]
    memory.add(later, 12)
    a, b = memory.items
    assert a.development == a.id and b.development == a.id  # the update joined the story
    assert (a.article_id, a.source) == (11, "Meridian Post")
    assert (b.article_id, b.source) == (12, "Lakeside Herald")


def test_a_known_finding_has_an_id_exactly_when_it_is_stored():
    with pytest.raises(ValueError):
        Known(id=None, rule_id="r", key="k", facts={}, origin=KnownOrigin.ARTICLE)
    with pytest.raises(ValueError):
        Known(id=3, rule_id="r", key="k", facts={}, origin=KnownOrigin.THIS_ARTICLE)
