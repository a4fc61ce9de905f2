"""`watcher rules explain`: what matched, what was extracted, the key and the decision."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from watcher.match import match_article
from watcher.rules import commands
from watcher.rules.evaluate import run_cases, to_known
from watcher.rules.loader import load_ruleset
from watcher.types import Article

RULES = Path(__file__).parent.parent / "rules"


def _article(text: str, title: str = "", when=datetime(2019, 2, 8, tzinfo=UTC)):
    return Article(url="https://example.test/e", title=title, text=text, published=when)


def test_explain_shows_terms_facts_key_and_decision(capsys):
    ruleset, _ = load_ruleset(RULES)
    seed = _article("A second summit between President Trump and Kim Jong Un will take place "
                    "near the end of February.", when=datetime(2019, 1, 18, tzinfo=UTC))
    known = [to_known(f, i, "baseline")
             for i, f in enumerate(match_article(seed, ruleset, baseline=True), 1)]
    article = _article("Trump said on Friday he will meet Kim Jong Un in Hanoi on Feb. 27-28.")
    assert commands.explain(ruleset, "summit-announcement", article, known) == 0
    out = capsys.readouterr().out
    assert "MATCH" in out and "trump='Trump'" in out
    assert "'where': 'Hanoi, Vietnam'" in out
    assert "key: summit-announcement|" in out
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
    [(_, ra), (_, rb)] = run_cases(ruleset, [], [a, b])
    assert [d.kind for _, d in ra] == ["new"]
    assert [d.kind for _, d in rb] == ["known"] and rb[0][1].matched.origin == "article"


def test_missing_rules_folder_is_an_error(tmp_path):
    ruleset, errors = load_ruleset(tmp_path / "nope")
    assert ruleset.rules == {} and "rules folder not found" in str(errors[0])
