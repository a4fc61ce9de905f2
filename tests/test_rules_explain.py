"""`watcher rules explain`: what matched, what was extracted, the key and the decision."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from watcher.analyse import KnownList
from watcher.rules import commands
from watcher.rules.evaluate import run_cases
from watcher.rules.loader import load_ruleset
from watcher.types import Article

RULES = Path(__file__).parent.parent / "rules"


def _article(text: str, title: str = "", when=datetime(2019, 2, 8, tzinfo=UTC)):
    return Article(url="https://example.test/e", title=title, text=text, published=when)


def test_explain_shows_terms_facts_key_and_decision(capsys):
    ruleset, _ = load_ruleset(RULES)
    seed = _article("A second summit between President Trump and Kim Jong Un will take place "
                    "near the end of February.", when=datetime(2019, 1, 18, tzinfo=UTC))
    memory = KnownList()
    memory.add_seed(seed, ruleset)
    article = _article("Trump said on Friday he will meet Kim Jong Un in Hanoi on Feb. 27-28.")
    assert commands.explain(ruleset, "summit-announcement", article, memory.items,
                            date_source="from --date") == 0
    out = capsys.readouterr().out
    assert "publication date: 2019-02-08 00:00Z (from --date)" in out
    assert "MATCH" in out and "trump='Trump'" in out
    assert "'where': 'Hanoi, Vietnam'" in out
    sentence = "[0] Trump said on Friday he will meet Kim Jong Un in Hanoi on Feb. 27-28."
    assert f"where: Hanoi, Vietnam  <- {sentence}" in out  # each fact with its sentence
    assert "key: summit-announcement|" in out
    assert "compared with: known #1 (baseline)" in out  # the known development
    assert "=> update" in out and "where: Hanoi, Vietnam (was: not announced)" in out


def test_explain_says_why_nothing_matched(capsys):
    ruleset, _ = load_ruleset(RULES)
    assert commands.explain(ruleset, "pompeo-trip", _article("Nothing to see."), []) == 0
    assert "required terms" in capsys.readouterr().out
    assert commands.explain(ruleset, "no-such-rule", _article("x"), []) == 1


def test_explain_says_when_a_match_is_not_an_event(capsys):
    ruleset, _ = load_ruleset(RULES)
    text = "Pompeo, who has visited Pyongyang four times, said talks would continue."
    commands.explain(ruleset, "pompeo-trip", _article(text), [])
    assert "not a reportable event" in capsys.readouterr().out


def test_run_cases_adds_each_case_to_the_known_list():
    ruleset, _ = load_ruleset(RULES)
    a = _article("Pompeo will travel to Tokyo on March 3.", when=datetime(2019, 2, 20,
                                                                            tzinfo=UTC))
    b = _article("Secretary of State Mike Pompeo will visit Tokyo on March 3, officials said.",
                 when=datetime(2019, 2, 21, tzinfo=UTC))
    ra, rb = run_cases(ruleset, [], [a, b])
    assert [o.decision.kind for o in ra.outcomes] == ["new"]
    [known] = rb.outcomes
    assert known.decision.kind == "known" and known.decision.matched.origin == "article"


def test_missing_rules_folder_is_an_error(tmp_path):
    ruleset, errors = load_ruleset(tmp_path / "nope")
    assert ruleset.rules == {} and "rules folder not found" in str(errors[0])
