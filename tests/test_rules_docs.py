"""docs/rules.md cannot rot: its example rule loads, its example test passes, its keys exist."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from watcher.rules import commands
from watcher.rules.loader import ALERT_KEYS, NOVELTY_KEYS, RULE_KEYS, load_rule_file
from watcher.rules.schema import FACT_TYPES

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC, re.DOTALL)


def test_the_complete_example_rule_is_valid(tmp_path):
    example = next(b for b in BLOCKS if b.startswith("id: pompeo-trip"))
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    [rule] = load_rule_file(path)
    assert rule.id == "pompeo-trip" and rule.ignore == ("deputies",)


def test_the_example_rule_test_passes_against_the_shipped_rules(tmp_path, capsys):
    example = next(b for b in BLOCKS if b.startswith("tests:"))
    rules = tmp_path / "rules"
    (rules / "tests").mkdir(parents=True)
    for shipped in (ROOT / "rules").glob("*.yaml"):
        (rules / shipped.name).write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    (rules / "tests" / "doc.yaml").write_text(example, encoding="utf-8")
    assert yaml.safe_load(example)["tests"]
    assert commands.test(rules) == 0, capsys.readouterr().out


def test_every_key_and_fact_type_is_documented():
    for key in RULE_KEYS:
        assert f"`{key}`" in DOC, key
    for key in ALERT_KEYS:
        assert f"`alert.{key}`" in DOC, key
    for key in NOVELTY_KEYS:
        assert f"`novelty.{key}`" in DOC, key
    for ftype in FACT_TYPES:
        assert f"`{ftype}`" in DOC, ftype
    for tool in ("check", "test", "explain"):
        assert f"watcher rules {tool}" in DOC
