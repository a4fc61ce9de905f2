"""`watcher rules check`: one broken fixture per kind of mistake, each named by file and line.

Each fixture in tests/fixtures/broken_rules/ starts with ``# expect: <message part>`` and marks
the offending line with ``# <-``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from watcher.errors import RuleError
from watcher.rules import commands
from watcher.rules.loader import load_rule_file, load_ruleset

BROKEN = Path(__file__).parent / "fixtures" / "broken_rules"
RULES = Path(__file__).parent.parent / "rules"
CASES = sorted(BROKEN.glob("*.yaml"))


def _expectation(path: Path) -> tuple[str, int | None]:
    lines = path.read_text(encoding="utf-8").splitlines()
    expect = lines[0].removeprefix("# expect:").strip() if lines[0].startswith("# expect:") \
        else ""
    marked = next((i + 1 for i, line in enumerate(lines) if "# <-" in line), None)
    return expect, marked


def test_the_fixtures_cover_at_least_fifteen_kinds_of_mistake():
    """Distinct mistakes, not files: each fixture names its own expected message, and each is
    reported with it (the test below); two fixtures may share a message (a zero and a negative
    proximity)."""
    kinds = {_expectation(path)[0] for path in CASES}
    assert "" not in kinds, "a fixture without '# expect:' on its first line"
    kinds.add("duplicate rule id")  # the duplicate-id folder (test_duplicate_id_across_files)
    assert len(kinds) >= 15, sorted(kinds)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_broken_file_is_reported_with_file_line_and_message(path, capsys):
    expect, marked = _expectation(path)
    with pytest.raises(RuleError) as info:
        load_rule_file(path)
    err = info.value
    assert expect in err.message
    assert err.file == str(path)
    assert err.line is not None and err.line >= 1
    if marked is not None:
        slack = 1 if "YAML" in expect else 0
        assert abs(err.line - marked) <= slack, str(err)
    assert commands.check(path) == 1
    out = capsys.readouterr().out
    assert f"{path}:{err.line}: " in out
    assert expect in out


def test_duplicate_id_across_files(capsys):
    folder = BROKEN / "duplicate-id"
    assert commands.check(folder) == 1
    out = capsys.readouterr().out
    assert "duplicate rule id 'test-rule'" in out
    assert f"{folder / 'b.yaml'}:2:" in out
    assert "[key: id]" in out and "hint: also defined in" in out


def test_shipped_rules_pass_check(capsys):
    assert commands.check(RULES) == 0
    assert "ok: 3 rule(s)" in capsys.readouterr().out


def test_shipped_rule_tests_pass(capsys):
    code = commands.test(RULES)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAIL" not in out and "PASS" in out


def test_failing_rule_test_prints_a_diff(tmp_path, capsys):
    rules = tmp_path / "rules"
    (rules / "tests").mkdir(parents=True)
    shutil.copy(RULES / "pompeo-trip.yaml", rules)
    (rules / "tests" / "t.yaml").write_text(
        "tests:\n"
        "  - name: wrong place expected\n"
        "    published: 2019-06-21T16:00:00Z\n"
        "    text: Mike Pompeo will travel to New Delhi from June 25 to 27.\n"
        "    expect:\n"
        "      - rule: pompeo-trip\n"
        "        kind: new\n"
        "        facts: {where: Tokyo}\n", encoding="utf-8")
    assert commands.test(rules) == 1
    out = capsys.readouterr().out
    assert "FAIL t.yaml: wrong place expected" in out
    assert "missing: new pompeo-trip: where='Tokyo'" in out
    assert "New Delhi" in out


def test_reload_keeps_last_good_version_of_a_broken_file(tmp_path):
    shutil.copy(RULES / "pompeo-trip.yaml", tmp_path)
    shutil.copy(RULES / "summit-announcement.yaml", tmp_path)
    first, errors = load_ruleset(tmp_path)
    assert not errors and set(first.rules) == {"pompeo-trip", "summit-announcement"}
    edited = tmp_path / "pompeo-trip.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("severity: info",
                                                                 "severity: loud"))
    second, errors = load_ruleset(tmp_path, previous=first)
    assert len(errors) == 1 and "unknown severity 'loud'" in str(errors[0])
    assert second.rules["pompeo-trip"] is first.rules["pompeo-trip"]
    assert set(second.rules) == {"pompeo-trip", "summit-announcement"}
    assert second.fingerprint != first.fingerprint
    third, errors = load_ruleset(tmp_path)  # no previous: the broken file's rules are gone
    assert set(third.rules) == {"summit-announcement"} and errors


def test_fingerprint_is_stable_when_nothing_changed(tmp_path):
    shutil.copy(RULES / "pompeo-trip.yaml", tmp_path)
    a, _ = load_ruleset(tmp_path)
    b, _ = load_ruleset(tmp_path, previous=a)
    assert a.fingerprint == b.fingerprint
    assert b.files == {str(tmp_path / "pompeo-trip.yaml"): ("pompeo-trip",)}


def test_tests_folder_is_not_loaded_as_rules(tmp_path):
    shutil.copytree(RULES, tmp_path / "rules")
    ruleset, errors = load_ruleset(tmp_path / "rules")
    assert not errors and len(ruleset.rules) == 3


def test_every_error_of_a_file_is_reported_with_its_line(tmp_path, capsys):
    path = tmp_path / "broken.yaml"
    path.write_text("""\
id: Bad_Rule
terms:
  nk: [North Korea]
  launch: [launched, fired]
match:
  all: [nk, launch, missing_list]
facts:
  where: {type: place, outsid: [Japan]}
  when: {type: dates}
novelty:
  date_slack: -1
""", encoding="utf-8")
    assert commands.check(path) == 1
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith(str(path))]
    assert [line.split(":")[1] for line in lines] == ["1", "6", "8", "9", "11"], out
    assert "5 error(s) in 1 file(s)" in out


def test_warnings_do_not_fail_a_check(tmp_path, capsys):
    path = tmp_path / "warned.yaml"
    path.write_text("""\
id: launches
terms:
  nk: [North Korea]
  launch: ["launch(es)?", fired]
  spare: [foo]
  answer: [yes, maybe]
match:
  all: [nk, launch, answer]
facts:
  when: {type: date}
""", encoding="utf-8")
    assert commands.check(path) == 0
    out = capsys.readouterr().out
    assert f"warning: {path}:4: term 'launch(es)?' in 'launch' looks like a pattern" in out
    assert f"warning: {path}:5: term list 'spare' is not used" in out
    assert f"warning: {path}:6: bare 'yes' in 'answer' is true/false to YAML" in out
    assert "ok: 1 rule(s) in 1 file(s), 3 warning(s)" in out


def test_rules_test_runs_one_test_by_name(capsys):
    assert commands.test(RULES, run="two launches two days apart") == 0
    out = capsys.readouterr().out
    assert out.count("PASS ") == 1 and "1 passed, 0 failed" in out
    assert commands.test(RULES, run="no such test") == 1
