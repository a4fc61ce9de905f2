"""The GeoNames gazetteer: cities the old hand-kept list lacked, the common-word policy, names
shared by several places, and matching that stays linear in the text."""

from __future__ import annotations

import time

import pytest

from watcher.facts import places
from watcher.facts.places import chain, find_places, place, rank, related, venues, within


@pytest.fixture(autouse=True)
def _no_operator_places():
    """These tests are about the gazetteer alone, whatever places file was loaded before."""
    previous = places.current()
    places.use(places.EMPTY)
    yield
    places.use(previous)


@pytest.mark.parametrize("sentence,name,country", [
    ("Trump and Kim will meet in Da Nang next month.", "Da Nang", "Vietnam"),
    ("The summit will be held in Ulaanbaatar in September.", "Ulaanbaatar", "Mongolia"),
    ("Kim inspected a shipyard in Wonsan on Tuesday.", "Wonsan", "North Korea"),
    ("Pompeo will travel to Kuala Lumpur on Thursday.", "Kuala Lumpur", "Malaysia"),
    ("The ministers will meet in Cartagena next week.", "Cartagena", "Colombia"),
    ("Kim will not go to Busan for the summit.", "Busan", "South Korea"),
    ("Leaders of China, Japan and South Korea meet in Chengdu on Monday.", "Chengdu", "China"),
    ("The North destroyed the liaison office in Kaesong.", "Kaesong", "North Korea"),
    ("Missiles were fired near Hamhung early on Saturday.", "Hamhung", "North Korea"),
    ("Kushner will speak at the Bilderberg meeting in Montreux, Switzerland.", "Montreux",
     "Switzerland"),
    ("He then flies to Odessa for talks.", "Odesa", "Ukraine"),  # not Odessa, Texas
])
def test_geonames_cities_the_old_list_lacked(sentence, name, country):
    [p] = venues(sentence)
    assert (p.name, p.kind, p.country) == (name, "city", country)


def test_names_from_geonames_are_folded_and_romanised():
    """Wŏnsan is Wonsan; Korean apostrophes and suffixes go (Namp'o is Nampo, Kusŏng-si Kusong)."""
    assert [p.name for _, _, p in find_places("Wŏnsan, Wonsan, Namp’o, Nampo and Kusong")] == \
        ["Wonsan", "Wonsan", "Nampo", "Nampo", "Kusong"]
    assert find_places("in P’yongyang")[0][2].name == "Pyongyang"


def test_a_name_shared_by_several_cities():
    assert place("Cartagena").country == "Colombia"  # the most populous
    [(_, _, spain)] = find_places("The ministers met in Cartagena, Spain, on Monday.")
    assert (spain.name, spain.country, spain.label) == ("Cartagena, Spain", "Spain",
                                                         "Cartagena, Spain")
    assert [p.name for p in venues("A cat lost in Portland, Maine, turned up in Portland, "
                                   "Oregon.")] == ["Portland, Maine", "Portland"]
    assert place("New Delhi").name == "New Delhi" and place("Delhi").name == "New Delhi"


@pytest.mark.parametrize("text,expected", [
    ("Kim may visit Seoul.", ["Seoul"]),  # lower case "may": never a place
    ("Reading the statement, he said the talks would go on.", []),
    ("He spent a week in Reading last year.", []),
    ("Mobile phones were banned in the hall.", []),
    ("Nice to meet you, he told the press.", []),
    ("Split decisions are common in boxing.", []),
    ("It was a March of protest.", []),
    ("Of all the options, talks are best.", []),
    ("He sent the report to Vladimir Putin.", []),  # a first name, not the Russian city
    ("The United States lost to Canada in the Davis Cup.", ["Canada"]),
    ("She is a professor at Columbia University.", []),
])
def test_common_words_and_longer_names_are_not_places(text, expected):
    assert [p.name for p in venues(text)] == expected
    assert [p.name for _, _, p in find_places(text)] == [n for n in ("United States", *expected)
                                                         if n in text]


def test_a_source_is_not_a_venue():
    assert venues("It gets 90 miles per gallon, according to Toyota.") == []


def test_a_title_case_headline_keeps_its_cities():
    assert [p.name for p in venues("Pompeo To Visit Sochi Next Week")] == ["Sochi"]
    assert [p.name for p in venues("Pompeo will visit Sochi Next week.")] == []


def test_what_lies_in_what():
    assert within("Portland", "Oregon") and within("Portland", "United States")
    assert chain("Manhattan")[:3] == ("Manhattan", "New York", "New York State")
    assert within("Guam", "United States") and within("Hong Kong", "China")
    assert within("Pyongyang", "Korean Peninsula") and within("Pyongyang", "Asia")
    assert within("Washington", "North America") and not related("Washington", "Europe")
    assert related("Greenland", "Denmark")
    assert [p.name for p in venues("He will speak in Yorba Linda, California.")] == ["Yorba Linda"]


def test_names_of_earlier_versions_still_resolve():
    """Findings stored before the GeoNames gazetteer name "Israel/Palestinian territories"."""
    old = {"name": "Israel/Palestinian territories", "kind": "region", "country": None}
    assert within("Ramallah", old["name"])
    assert places.describe([old]) == "Palestinian territories"


def test_rank_orders_precision():
    assert rank("site") < rank("city") < rank("country") == rank("region") == rank("sea") < \
        rank(None)


def test_matching_grows_linearly_with_the_text():
    """Doubling the text about doubles the time (8 times the text, about 8 times the time, where
    quadratic work would take 64): names everywhere, long gaps between them (the list-separator
    check) and long runs of letters (the longer-name check). Sizes are timed in turn, best of 9."""
    place("Hanoi")  # build the index first
    unit = ("Pompeo will travel to Kuala Lumpur, Singapore and Jakarta, then to Wonsan Tuesday "
            "and Cartagena, Spain;" + " " * 300 + "and Hanoi " + "x" * 300 + " in Busan. ")
    texts = {n: unit * n for n in (40, 80, 320)}
    best = dict.fromkeys(texts, float("inf"))
    for _ in range(9):
        for n, text in texts.items():
            start = time.perf_counter()
            venues(text)
            best[n] = min(best[n], time.perf_counter() - start)
    assert best[80] / best[40] < 3.0, best
    assert best[320] / best[40] < 16.0, best
