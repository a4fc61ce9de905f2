"""The gazetteer (GeoNames + the curated layer), venues in a sentence, and place containment."""

from __future__ import annotations

import pytest

from watcher.facts.places import chain, find_places, related, venues, within


@pytest.mark.parametrize("name,country", [
    ("Pyongyang", "North Korea"), ("Hanoi", "Vietnam"), ("Singapore", "Singapore"),
    ("Ulaanbaatar", "Mongolia"), ("New York", "United States"), ("Washington", "United States"),
    ("Kuala Lumpur", "Malaysia"), ("Jakarta", "Indonesia"), ("Bangkok", "Thailand"),
    ("New Delhi", "India"), ("Tokyo", "Japan"), ("Seoul", "South Korea"), ("Beijing", "China"),
    ("Moscow", "Russia"), ("Vladivostok", "Russia"), ("Sydney", "Australia"),
])
def test_gazetteer_knows_the_country(name, country):
    assert within(name, country)


@pytest.mark.parametrize("alias,name", [
    ("the DMZ", "Korean DMZ"), ("White House", "Washington"), ("Ulan Bator", "Ulaanbaatar"),
    ("Kiev", "Kyiv"), ("DPRK", "North Korea"),
])
def test_aliases(alias, name):
    [(_, _, p)] = find_places(f"They met at {alias} yesterday.")
    assert p.name == name


def test_containment_chain_and_relation():
    assert chain("Hanoi") == ("Hanoi", "Vietnam", "Southeast Asia", "Asia")
    assert related("Vietnam", "Hanoi") and related("Hanoi", "Vietnam")
    assert not related("Hanoi", "Thailand")
    assert within("Korean DMZ", "Korean Peninsula") and within("Pyongyang", "Korean Peninsula")


@pytest.mark.parametrize("sentence,expected", [
    ("Mike Pompeo will travel to Kuala Lumpur, Singapore and Jakarta from August 2 to 5.",
     ["Kuala Lumpur", "Singapore", "Jakarta"]),
    ("Trump and Kim will hold a summit in Ulaanbaatar, Mongolia, in September, the White House said.",
     ["Ulaanbaatar"]),
    ("Mongolia will host the meeting in its capital, officials in both Washington and Ulaanbaatar said.",
     ["Mongolia"]),
    ("He may cross paths with North Korea's foreign minister.", []),
    ("Talks between Washington and Pyongyang have stalled.", []),
    ("Pompeo leaves Tuesday for Bangkok.", ["Bangkok"]),
    ("Pompeo arrived in Pyongyang on his second trip to North Korea.", ["Pyongyang"]),
    ("Kim accepted an invitation to visit Washington in April.", ["Washington"]),
    ("met in Singapore, the Washington rumor mill says", ["Singapore"]),
])
def test_venues(sentence, expected):
    assert [p.name for p in venues(sentence)] == expected


def test_lower_case_words_are_not_places():
    assert find_places("a turkey for china plates in jordan") == []


def test_curated_layer_is_consistent():
    from watcher.facts import curated
    from watcher.facts.places import gazetteer

    entries = gazetteer().entries
    for name, (_kind, parent) in entries.items():  # everything lies in something known
        assert parent is None or parent in entries, (name, parent)
    for region, (parent, _) in curated.REGIONS.items():
        assert entries[region][0] == "region" and (parent is None or parent in curated.REGIONS)
    for name, (_kind, parent, _) in curated.PLACES.items():
        assert parent in entries, name
    assert all(name in entries for name in curated.ALIASES)
    assert all(new in entries for new in curated.OLD_NAMES.values())
    assert not curated.STOP & curated.KEEP
    # every country lies in a region, and every chain ends in a region or a country
    countries = [n for n, (k, _) in entries.items() if k == "country"]
    assert len(countries) > 190
    assert all(entries[chain(n)[-1]][0] in ("region", "country") for n in entries)
    assert [n for n in countries if len(chain(n)) < 2] == ["Antarctica"]
