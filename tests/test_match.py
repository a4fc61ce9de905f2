"""match_article: prefilter, conditions, extraction of facts, baseline mode, keys."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.facts.status import mode, ordinal, status, strip_recollections
from watcher.match.matcher import match_article
from watcher.match.text import Document, normalize, sentences
from watcher.rules.loader import load_ruleset
from watcher.types import Article

RULES = Path(__file__).parent.parent / "rules"


@pytest.fixture(scope="module")
def ruleset():
    rs, errors = load_ruleset(RULES)
    assert not errors
    return rs


def art(text: str, title: str = "", when=datetime(2019, 1, 18, 12, tzinfo=UTC)):
    return Article(url="https://example.test/x", title=title, text=text, published=when)


@pytest.mark.parametrize("sentence,expected", [
    ("The White House said the summit will take place at the end of February.", "announced"),
    ("Trump and Kim could meet again in New York, according to a report.", "rumored"),
    ("Trump and Kim will meet in Hanoi.", "planned"),
    ("The summit has been postponed until next year.", "postponed"),
    ("Trump called off the summit with Kim.", "cancelled"),
    ("Trump said the summit will go ahead after all, a week after he called it off.", "announced"),
    ("Pompeo arrived in Pyongyang on Wednesday.", "held"),
    ("Officials did not rule out a meeting between Trump and Kim.", "rumored"),
    ("Trump asked Pompeo not to travel to North Korea next week.", "cancelled"),
    ("The summit in Ulaanbaatar has been delayed until October.", "postponed"),
])
def test_status(sentence, expected):
    assert status(sentence) == expected


@pytest.mark.parametrize("sentence,expected", [
    ("Pompeo, who has been to Pyongyang three times, said little.", "recollection"),
    ("Kim and Trump met for a first summit in 2018 in Singapore.", "recollection"),
    ("If Kim shows progress, a summit could follow.", "hypothetical"),
    ("Trump has no plans to meet Kim this year.", "denial"),
    ("Trump will meet Kim in Hanoi.", "report"),
    ("Trump will meet Kim in Hanoi, though a date has not been set.", "report"),
    ("Officials did not rule out a meeting between Trump and Kim.", "report"),
    ("Trump ruled out a meeting with Kim this year.", "denial"),
])
def test_mode(sentence, expected):
    assert mode(sentence) == expected


def test_recollection_asides_are_stripped():
    s = "Pompeo, who has been to Pyongyang three times, will travel to Beijing next week."
    assert "Pyongyang" not in strip_recollections(s) and "Beijing" in strip_recollections(s)


def test_ordinal():
    assert ordinal("his fourth trip to Pyongyang") == 4
    assert ordinal("for a second time") == 2
    assert ordinal("the 3rd visit") == 3
    assert ordinal("no count") is None


def test_normalize_keeps_offsets():
    text = "Kim Jong-un’s “summit” – in Hanoi"
    assert len(normalize(text)) == len(text)
    assert normalize(text).startswith("kim jong un's")


def test_sentences_respect_abbreviations():
    text = "Mr. Trump met Kim in the U.S. on Feb. 27. Then he left."
    spans = sentences(text)
    assert [text[s:e] for s, e in spans] == ["Mr. Trump met Kim in the U.S. on Feb. 27.",
                                             "Then he left."]


def test_title_is_sentence_zero():
    doc = Document.build("Title here", "Body one. Body two.")
    assert doc.title_sentences == 1 and doc.sentence(0) == "Title here"


def test_prefilter_skips_rules_without_their_terms(ruleset):
    doc = Document.build("", "Nothing about anyone travelling.")
    assert ruleset.prefilter.scan(doc.norm) == {}
    doc = Document.build("", "Pompeo will travel to Tokyo.")
    assert set(ruleset.prefilter.scan(doc.norm)) == {"pompeo-trip"}


def test_prefilter_is_built_once_per_ruleset(ruleset):
    assert ruleset.prefilter is ruleset.prefilter


def test_summit_finding_has_facts_display_summary_and_key(ruleset):
    a = art("President Trump said on Friday he will meet Kim Jong Un in Hanoi on Feb. 27-28.",
            when=datetime(2019, 2, 8, 12, tzinfo=UTC))
    [f] = match_article(a, ruleset)
    assert f.rule_id == "summit-announcement"
    assert f.facts["when"] == {"start": "2019-02-27", "end": "2019-02-28", "precision": "range",
                               "text": "Feb. 27-28"}
    assert f.facts["where"][0]["name"] == "Hanoi"
    assert f.display["where"] == "Hanoi, Vietnam" and f.display["when"] == "Feb 27-28, 2019"
    assert f.summary == "Trump-Kim summit announced: Hanoi, Vietnam, Feb 27-28, 2019"
    assert f.key == ("summit-announcement|who=donald trump and kim jong un|where=vietnam|"
                     "when=2019-02")
    assert "Trump" in f.matched and "Kim Jong Un" in f.matched
    assert f.evidence.startswith("President Trump said")


def test_reprints_share_a_key(ruleset):
    a = art("President Trump and Kim Jong Un will hold a summit in Ulaanbaatar in the second "
            "week of September.", when=datetime(2026, 7, 1, tzinfo=UTC))
    b = art("Mongolia will host a meeting between President Trump and Kim Jong Un in "
            "Ulaanbaatar in September.", when=datetime(2026, 7, 1, 13, tzinfo=UTC))
    [fa], [fb] = match_article(a, ruleset), match_article(b, ruleset)
    assert fa.key == fb.key


@pytest.mark.parametrize("text", [
    "North Korean leader Kim Jong Un met Russian President Vladimir Putin in Vladivostok.",
    "President Trump met Kim Yong Chol in the Oval Office to discuss a summit.",
    "Trump will attend the G20 summit in Osaka, where Kim is not expected.",
    "Kim Jong Un and Moon Jae-in will hold an inter-Korean summit in Pyongyang.",
])
def test_look_alikes_do_not_match_the_summit_rule(ruleset, text):
    assert [f for f in match_article(art(text), ruleset)
            if f.rule_id == "summit-announcement"] == []


def test_opinion_pieces_are_excluded(ruleset):
    a = art("Trump will meet Kim in Hanoi next month.", title="Opinion: Trump should not meet Kim")
    assert match_article(a, ruleset) == []


def test_pompeo_trip_needs_a_venue_abroad(ruleset):
    assert match_article(art("Pompeo will travel to New York next week."), ruleset) == []
    [f] = match_article(art("Pompeo will travel to Tokyo next week."), ruleset)
    assert f.facts["where"][0]["name"] == "Tokyo" and f.facts["when"]["precision"] == "week"


def test_other_travellers_are_not_pompeo(ruleset):
    assert match_article(art("Bolton will travel to Moscow next week, Pompeo said."),
                         ruleset) == []


def test_baseline_mode_keeps_history(ruleset):
    a = art("Kim and Trump met for a first summit in 2018 in Singapore.",
            when=datetime(2020, 7, 15, tzinfo=UTC))
    assert match_article(a, ruleset) == []
    [f] = match_article(a, ruleset, baseline=True)
    assert f.status == "held" and f.facts["when"]["start"] == "2018-01-01"


def test_baseline_mode_splits_two_dated_visits(ruleset):
    a = art("Pompeo previously visited North Korea in early April and then again for a second "
            "time in early May.", when=datetime(2018, 7, 2, tzinfo=UTC))
    found = match_article(a, ruleset, baseline=True)
    assert [f.facts["when"]["start"] for f in found] == ["2018-04-01", "2018-05-01"]


def test_one_finding_per_development_in_an_article(ruleset):
    a = art("Pompeo will travel to Pyongyang on Sunday, the State Department said.",
            title="Pompeo to visit Pyongyang", when=datetime(2018, 10, 2, tzinfo=UTC))
    [f] = match_article(a, ruleset)
    assert f.facts["when"]["start"] == "2018-10-07"


def test_facts_are_json_serialisable(ruleset):
    import json
    a = art("Pompeo will travel to Kuala Lumpur, Singapore and Jakarta from August 2 to 5.",
            when=datetime(2018, 7, 31, tzinfo=UTC))
    for f in match_article(a, ruleset):
        json.dumps(f.facts)


def test_facts_from_the_next_sentence_when_it_carries_on(ruleset):
    a = art("The two leaders will meet on Feb. 27-28 in the Vietnamese capital.",
            title="Trump-Kim summit set for Hanoi", when=datetime(2019, 2, 6, tzinfo=UTC))
    [f] = match_article(a, ruleset)
    assert f.display["where"] == "Hanoi, Vietnam" and f.display["when"] == "Feb 27-28, 2019"
    b = art("Trump will meet Kim in Hanoi. Officials met in Seoul on Feb. 27-28.",
            when=datetime(2019, 2, 6, tzinfo=UTC))
    [g] = match_article(b, ruleset)
    assert g.display["when"] == "date not announced"


# -- follow-on sentences: an itinerary that carries on after a pronoun or the same person ---------

TRIP = ("U.S. Secretary of State Mike Pompeo will travel to Pyongyang on Sunday for his fourth "
        "visit to North Korea, the State Department said.")
OCT = datetime(2018, 10, 2, 10, tzinfo=UTC)


def _trip(ruleset, text: str, when=OCT):
    found = [f for f in match_article(art(text, when=when), ruleset)
             if f.rule_id == "pompeo-trip"]
    assert len(found) == 1, found
    return found[0]


def _names(finding) -> list[str]:
    return [p["name"] for p in finding.facts["where"]]


@pytest.mark.parametrize("follow", [
    "He will also stop in Tokyo, Seoul and Beijing.",
    "He will then travel to Tokyo, Seoul and Beijing.",
    "She will go on to Tokyo, Seoul and Beijing.",
    "The secretary then heads to Tokyo, Seoul and Beijing.",
    "Pompeo will also stop in Tokyo, Seoul and Beijing.",
    "From there, Pompeo will go on to Tokyo, Seoul and Beijing.",
])
def test_follow_on_sentence_adds_the_itinerary(ruleset, follow):
    f = _trip(ruleset, f"{TRIP}\n{follow}")
    assert _names(f) == ["Pyongyang", "Tokyo", "Seoul", "Beijing"]
    assert f.facts["when"]["start"] == "2018-10-07" and f.facts["ordinal"] == 4


def test_follow_on_itinerary_spans_several_sentences(ruleset):
    f = _trip(ruleset, f"{TRIP} He will then travel to Tokyo. He will go on to Seoul and Beijing.")
    assert _names(f) == ["Pyongyang", "Tokyo", "Seoul", "Beijing"]


def test_follow_on_gives_the_date_when_the_trip_sentence_has_none(ruleset):
    f = _trip(ruleset, "Mike Pompeo will travel to Pyongyang for talks with Kim Jong Un, the State "
                       "Department said. He will then go on to Tokyo on Oct. 8.")
    assert _names(f) == ["Pyongyang", "Tokyo"]
    assert f.facts["when"]["start"] == "2018-10-08" and f.facts["when"]["precision"] == "day"


def test_a_reprint_naming_every_stop_is_known_after_the_follow_on(ruleset):
    from watcher.decide import decide
    from watcher.types import Known, KnownOrigin
    first = _trip(ruleset, f"{TRIP}\nHe will also stop in Tokyo, Seoul and Beijing.")
    later = _trip(ruleset, "Mike Pompeo will visit Pyongyang on Sunday, his fourth trip there, the "
                           "State Department announced, with stops in Tokyo, Seoul and Beijing.",
                  when=datetime(2018, 10, 2, 18, tzinfo=UTC))
    known = Known(id=1, rule_id=first.rule_id, key=first.key, facts=first.facts,
                  origin=KnownOrigin.ARTICLE)
    assert decide(later, [known]).kind == "known"


@pytest.mark.parametrize("follow", [
    "He met Kim Yong Chol in Washington.",              # past, and at home
    "He will meet Kim Yong Chol in Washington on Monday.",  # at home: the rule's outside
    "He met Kim Yong Chol in Seoul in July.",           # history, not this trip
    "Pence will travel to Tokyo.",                      # another traveller
    "Vice President Mike Pence will then go on to Tokyo.",
    "He will not travel to Tokyo, officials said.",     # a denial
    "He will travel to Tokyo in December.",             # another date: another trip
    "Trump will also visit Tokyo.",                     # not the same person
    "Tokyo is also on the itinerary of the president.",  # no subject standing for Pompeo
])
def test_follow_on_negatives_add_nothing(ruleset, follow):
    found = [f for f in match_article(art(f"{TRIP}\n{follow}", when=OCT), ruleset)
             if f.rule_id == "pompeo-trip" and f.facts["where"][0]["name"] == "Pyongyang"]
    assert len(found) == 1 and _names(found[0]) == ["Pyongyang"], found


def test_a_summit_is_not_an_itinerary(ruleset):
    """Two named parties meeting somewhere: a later meeting is another development."""
    text = ("Trump will meet Kim Jong Un in Hanoi on Feb. 27-28, the White House said. "
            "Trump will also meet Kim at the DMZ next month.")
    found = [f for f in match_article(art(text, when=datetime(2019, 2, 8, tzinfo=UTC)), ruleset)
             if f.rule_id == "summit-announcement"]
    assert all(len(f.facts["where"]) == 1 for f in found), found


def test_follow_on_respects_scope_sentence(ruleset):
    from dataclasses import replace as dc_replace

    from watcher.rules.schema import RuleSet
    rule = ruleset.rules["pompeo-trip"]
    facts = tuple(dc_replace(s, scope="sentence") if s.type == "place" else s for s in rule.facts)
    narrow = RuleSet(rules={rule.id: dc_replace(rule, facts=facts)})
    [f] = match_article(art(f"{TRIP}\nHe will also stop in Tokyo.", when=OCT), narrow)
    assert _names(f) == ["Pyongyang"]
