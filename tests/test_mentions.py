"""The event model (docs/rules.md, "Events"): facts come only from the part of a sentence that
reports the rule's development. One test per general cause: a fact read from another clause, a
date that belongs to a word of saying, a development named in the background of another, a
denial or a look back scoped to its own piece of the sentence, a date word read as a cue."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.facts.lexicon import Lexicon, Words
from watcher.facts.scope import segments
from watcher.match.matcher import match_article
from watcher.rules.loader import load_ruleset
from watcher.types import Article

RULES = Path(__file__).parent.parent / "rules"


@pytest.fixture(scope="module")
def ruleset():
    rs, errors = load_ruleset(RULES)
    assert not errors
    return rs


def found(ruleset, text: str, rule: str, title: str = "",
          when=datetime(2019, 5, 8, 12, tzinfo=UTC)):
    a = Article(url="https://example.test/x", title=title, text=text, published=when)
    return [f for f in match_article(a, ruleset) if f.rule_id == rule]


def roles(text: str) -> list[tuple[str, str]]:
    words = Words.of(text)
    return [(s.role, text[words.spans[s.first][0]:words.spans[s.last][1]])
            for s in segments(text, words)]


def test_clauses_and_their_roles():
    assert roles("Hours after scrapping his stop in Germany, Pompeo turned up in Baghdad.") == [
        ("main", "Hours"), ("prior", "after scrapping his stop in Germany"),
        ("main", "Pompeo turned up in Baghdad")]
    assert [r for r, _ in roles("Pompeo, who has been to Pyongyang three times, will travel "
                                "to Beijing if talks go well.")] == \
        ["main", "relative", "main", "condition"]


def test_a_place_from_an_earlier_event_in_the_same_sentence_does_not_leak(ruleset):
    [f] = found(ruleset, "Hours after scrapping his stop in Germany, Mike Pompeo turned up in "
                         "Baghdad on Tuesday on a visit kept secret until he had left.",
                "pompeo-trip")
    assert [p["name"] for p in f.facts["where"]] == ["Baghdad"]
    assert f.facts["status"] == "held"  # "turned up in": it happened, not "cancelled"


def test_a_date_said_is_not_the_event_date(ruleset):
    [f] = found(ruleset, "The State Department said on Friday that Mike Pompeo will visit "
                         "Jordan and Egypt next week.", "pompeo-trip",
                when=datetime(2019, 1, 4, 12, tzinfo=UTC))
    assert f.facts["when"]["precision"] == "week" and f.facts["when"]["start"] == "2019-01-07"


def test_a_development_in_the_background_takes_no_facts_of_the_foreground(ruleset):
    text = ("Mike Pompeo will travel to Pyongyang next week to prepare for a second summit "
            "between President Trump and Kim Jong Un.")
    summits = found(ruleset, text, "summit-announcement")
    assert summits and all(not f.facts["where"] for f in summits)
    assert all(f.facts["when"]["precision"] == "none" for f in summits)
    [trip] = found(ruleset, text, "pompeo-trip")
    assert trip.facts["where"][0]["name"] == "Pyongyang"


def test_an_event_whose_subject_is_the_rules_actor_is_the_rules(ruleset):
    [f] = found(ruleset, "President Trump will travel to Hanoi for his second summit with Kim "
                         "Jong Un.", "summit-announcement")
    assert f.facts["where"][0]["name"] == "Hanoi"


def test_another_travellers_clause_is_not_the_rules(ruleset):
    [f] = found(ruleset, "Vice President Mike Pence will travel to Tokyo, while Mike Pompeo "
                         "heads to Seoul.", "pompeo-trip")
    assert [p["name"] for p in f.facts["where"]] == ["Seoul"]


def test_a_trip_cancelled_in_passing_in_a_story_about_another_leader_is_no_finding(ruleset):
    assert found(ruleset, "Sergei Lavrov arrived in Washington on Tuesday, weeks after Mike "
                          "Pompeo cancelled a trip to Moscow.", "pompeo-trip") == []


def test_a_look_back_counts_only_in_its_own_piece_of_the_sentence(ruleset):
    fs = found(ruleset, "President Trump and Kim Jong Un plan to meet at the demilitarized zone "
                        "in April, officials said, in what would be their first meeting in "
                        "years.", "summit-announcement", when=datetime(2027, 3, 2, tzinfo=UTC))
    assert fs and fs[0].facts["status"] in ("planned", "announced")
    assert found(ruleset, "Mike Pompeo, who has visited Pyongyang three times, spoke in "
                          "Washington on Tuesday.", "pompeo-trip") == []


def test_a_negator_right_before_the_event_word_is_a_denial(ruleset):
    text = "North Korea did not launch a ballistic missile on Tuesday."
    assert found(ruleset, text, "nk-missile-test") == []
    assert found(ruleset, text.replace("did not launch", "launched"), "nk-missile-test")


def test_a_tally_is_not_a_launch(ruleset):
    assert found(ruleset, "North Korea has launched more than 30 ballistic missiles so far this "
                          "year.", "nk-missile-test") == []


def test_the_month_may_is_not_a_rumor_word():
    lexicon = Lexicon.default()
    text = "North Korea plans to launch a satellite rocket between May 31 and June 11."
    from watcher.match.mentions import SentenceReading
    sentence = SentenceReading.read(text, 0, lexicon, datetime(2023, 5, 29, tzinfo=UTC))
    cues = [c for c in lexicon.scan(sentence.words) if c.first not in sentence.dated]
    assert "rumored" not in {c.kind for c in cues}


def test_a_headline_naming_the_topic_is_read_as_its_body(ruleset):
    tally = "North Korea has launched more than 70 ballistic missiles so far this year."
    assert found(ruleset, tally, "nk-missile-test",
                 title="A record year of North Korean missile tests") == []
    launch = "North Korea fired a ballistic missile into the sea on Sunday."
    assert found(ruleset, launch, "nk-missile-test",
                 title="North Korean missile tests", when=datetime(2022, 1, 3, tzinfo=UTC))


def test_an_undated_report_of_what_just_happened_is_not_dated_by_publication(ruleset):
    [f] = found(ruleset, "North Korea fired a ballistic missile, South Korea's military said.",
                "nk-missile-test", when=datetime(2022, 1, 5, 1, tzinfo=UTC))
    assert f.facts["when"]["precision"] == "none"
    # the days before, and the next: it may already be tomorrow where it happened
    assert f.facts["when"]["start"] == "2022-01-03" and f.facts["when"]["end"] == "2022-01-06"


def test_a_weekday_in_a_late_utc_report_of_an_east_asian_event_is_the_next_day(ruleset):
    # 3:17 a.m. Wednesday in Pyongyang is Tuesday 18:17 UTC
    [f] = found(ruleset, "North Korea launched an intercontinental ballistic missile at 3:17 a.m. "
                         "on Wednesday, the Joint Chiefs of Staff said.", "nk-missile-test",
                when=datetime(2017, 11, 28, 19, 30, tzinfo=UTC))
    assert f.facts["when"]["start"] == "2017-11-29"


def test_an_event_word_inside_a_compound_is_a_description(ruleset):
    assert found(ruleset, "North Korea staged a parade on Saturday, rolling out land-based and "
                          "submarine-launched ballistic missiles.", "nk-missile-test") == []


def test_a_trip_at_home_counts_only_for_talks_with_foreign_officials(ruleset):
    [f] = found(ruleset, "Mike Pompeo will meet Kim Yong Chol, a vice chairman of North Korea's "
                         "ruling party, in New York later this week.", "pompeo-trip")
    assert f.facts["where"][0]["name"] == "New York"
    assert found(ruleset, "Mike Pompeo will travel to New York on Friday to speak to "
                          "veterans.", "pompeo-trip") == []
    assert found(ruleset, "Mike Pompeo met the Japanese foreign minister in Washington on "
                          "Tuesday.", "pompeo-trip") == []


def test_a_headline_to_before_the_event_word_is_a_plan(ruleset):
    [f] = found(ruleset, "", "pompeo-trip",
                title="Pompeo to tour Ukraine, Belarus and Cyprus, Jan. 3-7",
                when=datetime(2019, 12, 27, tzinfo=UTC))
    assert f.facts["status"] == "planned" and f.facts["when"]["precision"] == "range"


def test_a_sentence_is_read_up_to_its_word_limit():
    from watcher.match.mentions import MAX_WORDS, SentenceReading

    long = "Pompeo will travel to Hanoi, " * 100
    reading = SentenceReading.read(long, 0, Lexicon.default(), datetime(2019, 1, 1, tzinfo=UTC))
    assert len(reading.words.tokens) == MAX_WORDS
    assert long.startswith(reading.text) and len(reading.text) < len(long)
