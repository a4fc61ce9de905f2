"""Accuracy of the whole pipeline on the shared dev corpus: feed, page, extraction, rules,
decision and Slack delivery, all real (bench/accuracy.py). Run with ``-s`` to see the figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import accuracy

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "corpus" / "dev.yaml"


def test_pipeline_precision_and_recall_on_dev_corpus():
    if not DEV.exists():
        pytest.skip(f"dev corpus not found at {DEV} (it lives in the shared folder beside the "
                    "repo)")
    result = accuracy.run(DEV)  # oldest first, one new case per poll
    accuracy.report(result)
    s = result.score
    wrong = [f"{o.case.id}: expected {o.case.expect}, {o.verdict} {s.first_line(o)}"
             for o in s.outcomes if o.verdict not in ("ok", "free")]
    assert len(s.outcomes) > 0 and result.polls == len(s.outcomes)
    assert not result.warnings, result.warnings
    assert s.precision == 1.0, wrong
    assert s.recall == 1.0, wrong
    assert s.duplicates == ()


CORPUS = """
cases:
  - id: t1-pompeo-lima
    expect: alert
    group: pompeo-peru
    published: 2019-04-10T12:00:00Z
    title: Pompeo to visit Chile, Paraguay, Peru and Colombia
    body: |
      Secretary of State Mike Pompeo will travel to Santiago, Asuncion, Lima and Cucuta from April 11 to 14, the State Department said on Wednesday.
  - id: t2-pompeo-lima-copy
    expect: alert
    group: pompeo-peru
    published: 2019-04-10T13:00:00Z
    title: Pompeo heads to South America
    body: |
      Mike Pompeo will visit Chile, Paraguay, Peru and Colombia from April 11 to 14, officials said.
  - id: t3-everest
    expect: quiet
    published: 2019-04-10T14:00:00Z
    title: Climbers reach the summit of Everest
    body: |
      A team of climbers reached the summit of Mount Everest on Wednesday.
  - id: t4-judge
    expect: judge
    published: 2019-04-10T15:00:00Z
    title: Weather in Lima
    body: |
      It was sunny in Lima on Wednesday.
  - id: t5-weather
    expect: quiet
    published: 2019-04-10T16:00:00Z
    title: Rain in Oslo
    body: |
      It rained in Oslo on Wednesday.
"""


def test_newest_first_batches_over_several_feeds_reach_the_pipeline(tmp_path):
    corpus = tmp_path / "tiny.yaml"
    corpus.write_text(CORPUS, encoding="utf-8")
    mode = accuracy.Mode(order="newest-first", batch=2, feeds=2)
    result = accuracy.run(corpus, mode)
    accuracy.report(result)
    assert result.polls == 3  # 2 + 2 + 1 cases
    assert not result.warnings, result.warnings  # every poll brought its cases as new articles
    s = result.score
    assert [o.case.id for o in s.outcomes] == ["t1-pompeo-lima", "t2-pompeo-lima-copy",
                                               "t3-everest", "t4-judge", "t5-weather"]
    assert s.alert_groups == ("pompeo-peru",) and s.found == ("pompeo-peru",)
    assert s.quiet_posted == ()
    assert result.as_dict()["batch"] == 2 and result.as_dict()["feeds"] == 2


def test_batch_all_is_one_poll_and_json_gives_the_figures(tmp_path, capsys):
    corpus = tmp_path / "tiny.yaml"
    corpus.write_text(CORPUS, encoding="utf-8")
    assert accuracy.main([str(corpus), "--order", "newest-first", "--batch", "all", "--json"]) == 0
    [figures] = json.loads(capsys.readouterr().out)
    assert figures["polls"] == 1 and figures["warnings"] == []
    assert figures["batch"] == "all" and figures["order"] == "newest-first"
    assert figures["cases"] == {"alert": 2, "quiet": 2, "judge": 1}
    assert figures["alert_groups"] == 1
