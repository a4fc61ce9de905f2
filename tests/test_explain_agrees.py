"""`watcher rules explain` and the pipeline agree: one code path, so for every text the findings,
keys and decisions explain prints are the ones the pipeline stores (with the same known
findings: the baseline, then each earlier text). Opinion and analysis pieces included: explain
used to skip `require`/`exclude` and call them news."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.conftest import write_config
from watcher.rules import commands
from watcher.service import build
from watcher.settings import load_settings
from watcher.store import findings
from watcher.types import Article

D = datetime(2019, 2, 8, 15, tzinfo=UTC)
TEXTS = [  # (title, body, outlet): analysed in this order
    ("Pompeo to visit Australia",
     "Secretary of State Mike Pompeo will travel to Canberra and Sydney next week for talks on "
     "trade, the State Department said on Friday.", "Meridian Post"),
    ("Pompeo heads Down Under",
     "Mike Pompeo will visit Canberra next week, officials said.", "Lakeside Herald"),
    ("Opinion: Pompeo should go to Pyongyang next week",
     "Secretary of State Mike Pompeo should travel to Pyongyang next week and meet Kim Jong Un "
     "himself.", "Meridian Post"),
    ("Why the next summit matters",
     "Mike Pompeo will travel to Beijing on Feb. 20, aides say. The views expressed are the "
     "author's own; she is a columnist.", "Other Daily"),
    ("Analysis: a summit in Hanoi",
     "President Trump will meet Kim Jong Un in Hanoi on Feb. 27-28.", "Other Daily"),
    ("Trump and Kim to meet in Hanoi",
     "President Trump said he will meet Kim Jong Un in Hanoi on Feb. 27-28, the White House "
     "said.", "Meridian Post"),
    ("Hanoi summit set",
     "Trump and Kim Jong Un will hold their second summit in Hanoi on Feb. 27-28.",
     "Lakeside Herald"),
    ("Pompeo recalls his trips",
     "Pompeo, who visited Pyongyang four times last year, said talks would continue.",
     "Other Daily"),
]


def _explained(out: str) -> set[tuple[str, str, str]]:
    """(rule, key, kind) of each finding explain printed."""
    found = set()
    rule = ""
    key = ""
    for line in out.splitlines():
        if m := re.match(r"^([a-z0-9-]+): prefilter passed", line):
            rule = m.group(1)
        elif m := re.match(r"^\s+key: (.+)$", line):
            key = m.group(1)
        elif m := re.match(r"^\s+=> (new|update|known): ", line):
            found.add((rule, key, m.group(1)))
    return found


@pytest.fixture
def pipeline(tmp_path):
    service = build(load_settings(write_config(tmp_path, feeds=[])), env={})
    service.pipeline.start()
    yield service.pipeline
    service.close()


def test_explain_prints_what_the_pipeline_stores(pipeline, capsys):
    rules = pipeline.rules
    for i, (title, body, outlet) in enumerate(TEXTS):
        article = Article(f"https://news.test/{i}", title, body, D, outlet=outlet)
        known = findings.known_findings(pipeline.engine)  # what `rules explain` reads
        explained: set[tuple[str, str, str]] = set()
        for rule_id in sorted(rules.rules):
            capsys.readouterr()
            assert commands.explain(rules, rule_id, article, known,
                                    default_channel="#news-alerts") == 0
            explained |= _explained(capsys.readouterr().out)
        article_id = pipeline.analyse(article)
        stored = {(f.rule_id, f.key, f.kind) for f in
                  findings.list_findings(pipeline.engine, article_id=article_id)}
        assert explained == stored, (title, explained, stored)


def test_the_texts_cover_news_updates_known_and_excluded_pieces(pipeline):
    kinds = []
    for i, (title, body, outlet) in enumerate(TEXTS):
        article_id = pipeline.analyse(Article(f"https://news.test/{i}", title, body, D,
                                              outlet=outlet))
        kinds.append(sorted(f.kind for f in findings.list_findings(pipeline.engine,
                                                                article_id=article_id)))
    assert kinds[0] == ["new"] and kinds[1] == ["known"]
    assert kinds[2] == kinds[3] == kinds[4] == []  # opinion, column, analysis: nothing
    assert "update" in kinds[5] and kinds[6] == ["known"]
    assert kinds[7] == []  # a recollection


def test_explain_shows_why_an_opinion_piece_finds_nothing(pipeline, capsys):
    title, body, _ = TEXTS[2]
    article = Article("https://news.test/op", title, body, D)
    commands.explain(pipeline.rules, "pompeo-trip", article, [])
    out = capsys.readouterr().out
    assert "exclude in title (opinion and analysis pieces are not announcements): FAILS" in out
    assert "opinion: found" in out
    assert "=> the rule finds nothing in this article" in out and "=> new" not in out
