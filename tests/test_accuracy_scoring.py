"""The accuracy benchmark's scoring, serving plan and corpus loading, on plain values
(bench/accuracy_scoring.py); the pipeline run itself is tests/test_accuracy_pipeline.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bench.accuracy import Mode, Result, build_parser, report
from bench.accuracy_scoring import (
    Case,
    Posted,
    chronological,
    figures,
    listing,
    parse_cases,
    plan,
    score,
)

ROOT = Path(__file__).resolve().parents[1]


def case(cid: str, expect: str, group: str | None = None, day: int = 1) -> Case:
    return Case(cid, expect, f"title {cid}", ("body",), datetime(2019, 1, day, tzinfo=UTC),
                group=group)


def url(cid: str) -> str:
    return f"http://127.0.0.1:1/news/{cid}.html"


def post(*cids: str, thread: str | None = None, text: str = "Update") -> Posted:
    return Posted(text + " " + " ".join(url(c) for c in cids), thread, text)


def run_score(cases: list[Case], messages: list[Posted]):
    return score(cases, {c.id: url(c.id) for c in cases}, messages)


def test_group_found_through_a_thread_reply_naming_a_later_article():
    cases = [case("a1", "alert", "trip"), case("a2", "alert", "trip"), case("q", "quiet")]
    s = run_score(cases, [post("a2", thread="111.0001")])
    assert s.found == ("trip",)
    assert s.recall == 1.0 and s.precision == 1.0
    assert [o.verdict for o in s.outcomes] == ["ok", "ok", "ok"]
    assert not s.outcomes[0].posted and s.outcomes[1].posted


def test_missed_group_lowers_recall_and_is_listed_with_its_cases():
    cases = [case("a1", "alert", "trip"), case("a2", "alert", "trip"), case("b", "alert")]
    s = run_score(cases, [post("b")])
    assert s.alert_groups == ("trip", "b")
    assert s.missed == ("trip",)
    assert s.cases_of("trip") == ["a1", "a2"]
    assert s.recall == 0.5 and s.precision == 1.0
    assert [o.verdict for o in s.outcomes] == ["MISS", "MISS", "ok"]


def test_duplicate_is_more_than_one_top_level_post_per_group_replies_are_not():
    cases = [case("a1", "alert", "trip"), case("a2", "alert", "trip"), case("a3", "alert", "trip"),
             case("b", "alert", "summit")]
    messages = [post("a1"), post("a2", thread="1.1"), post("a3"),  # trip: 2 top-level
                post("b"), post("b", thread="1.4")]  # summit: 1 top-level and a reply
    s = run_score(cases, messages)
    assert s.duplicates == (("trip", 2),)
    assert figures(s)["duplicates"] == [{"group": "trip", "top_level_posts": 2}]


def test_one_article_posted_twice_top_level_is_a_duplicate():
    s = run_score([case("a", "alert")], [post("a", text="Pompeo trip"), post("a", text="Summit")])
    assert s.duplicates == (("a", 2),)
    assert s.precision == 1.0  # the group still counts once


def test_judge_cases_count_for_nothing_posted_or_not():
    cases = [case("a", "alert"), case("j1", "judge", "a"), case("j2", "judge")]
    s = run_score(cases, [post("a"), post("j1"), post("j2")])
    assert s.alert_groups == ("a",)
    assert s.precision == 1.0 and s.recall == 1.0 and s.duplicates == ()
    assert [o.verdict for o in s.outcomes] == ["ok", "free", "free"]
    # a judge case posted alone does not find the group it names
    s = run_score(cases, [post("j1")])
    assert s.found == () and s.recall == 0.0 and s.precision is None


def test_each_quiet_case_posted_counts_once_as_noise():
    cases = [case("a", "alert"), case("q1", "quiet"), case("q2", "quiet"), case("q3", "quiet")]
    messages = [post("a"), post("q1", text="Update: known trip"), post("q1", thread="1.2"),
                post("q2", thread="1.1", text="reply")]
    s = run_score(cases, messages)
    assert [o.case.id for o in s.quiet_posted] == ["q1", "q2"]
    assert s.precision == pytest.approx(1 / 3)
    assert s.first_line(s.quiet_posted[0]) == "Update: known trip"
    assert [o.verdict for o in s.outcomes] == ["ok", "NOISE", "NOISE", "ok"]
    assert figures(s)["quiet_posted"] == [{"case": "q1", "message": "Update: known trip"},
                                          {"case": "q2", "message": "reply"}]


def test_dev_style_alert_without_group_is_its_own_group_and_quiet_group_is_ignored():
    cases = [case("d04", "alert"), case("d12", "quiet", "d04"), case("d05", "alert")]
    s = run_score(cases, [post("d04"), post("d05")])
    assert s.alert_groups == ("d04", "d05")
    assert s.precision == 1.0 and s.recall == 1.0
    s = run_score(cases, [post("d12")])  # only the quiet copy: noise, and d04 is missed
    assert s.found == () and len(s.quiet_posted) == 1 and s.precision == 0.0


def test_url_of_one_case_is_not_found_inside_another_cases_url():
    cases = [case("a", "alert"), case("xa", "quiet")]
    s = run_score(cases, [post("xa")])
    assert s.found == () and [o.case.id for o in s.quiet_posted] == ["xa"]


def test_nothing_to_measure_gives_no_ratio_rather_than_a_perfect_one():
    s = run_score([case("q", "quiet")], [])
    assert s.precision is None and s.recall is None


def test_posted_from_slack_message_reads_text_blocks_and_thread():
    m = {"text": "Pompeo trip (planned)\nmore", "thread_ts": None,
         "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"<{url('a')}|x>"}}]}
    p = Posted.from_slack(m)
    assert p.top_level and p.first_line == "Pompeo trip (planned)" and url("a") in p.text
    assert not Posted.from_slack({**m, "thread_ts": "12.5"}).top_level


# --- serving plan -----------------------------------------------------------------------------

def test_plan_batches_cases_in_order_and_deals_them_over_feeds():
    assert plan(5, 1, 1) == [[(0, 0)], [(1, 0)], [(2, 0)], [(3, 0)], [(4, 0)]]
    assert plan(5, 2, 2) == [[(0, 0), (1, 1)], [(2, 0), (3, 1)], [(4, 0)]]
    assert plan(5, None, 3) == [[(0, 0), (1, 1), (2, 2), (3, 0), (4, 1)]]
    assert plan(0, None, 1) == []
    with pytest.raises(ValueError):
        plan(3, 0, 1)
    with pytest.raises(ValueError):
        plan(3, 1, 0)


def test_listing_order():
    assert listing([1, 2, 3], "oldest-first") == [1, 2, 3]
    assert listing([1, 2, 3], "newest-first") == [3, 2, 1]
    with pytest.raises(ValueError):
        listing([1], "random")


def test_chronological_is_stable_and_keeps_undated_cases_in_place():
    a, b, c = case("a", "quiet", day=3), case("b", "quiet", day=1), case("c", "quiet", day=3)
    undated = Case("u", "quiet", "t", (), None)
    assert [x.id for x in chronological([a, b, c])] == ["b", "a", "c"]
    assert [x.id for x in chronological([b, undated, a])] == ["b", "u", "a"]


# --- corpus loading ---------------------------------------------------------------------------

def _raw(**extra):
    return {"id": "x", "expect": "alert", "published": "2019-01-01T10:00:00Z", "title": "T",
            "body": "One.\n\n  Two.  \n", **extra}


def test_parse_cases_reads_all_labels_and_paragraphs():
    cases = parse_cases({"cases": [_raw(group="g", source="s", reason="r"),
                                   _raw(id="y", expect="judge", published="2019-01-02"),
                                   _raw(id="z", expect="quiet")]})
    assert [c.expect for c in cases] == ["alert", "judge", "quiet"]
    assert cases[0].paragraphs == ("One.", "Two.") and cases[0].group_key == "g"
    assert cases[1].published == datetime(2019, 1, 2, tzinfo=UTC)
    assert cases[2].group_key == "z"


@pytest.mark.parametrize("data, message", [
    ({"cases": [_raw(expect="maybe")]}, "expect must be one of alert, quiet, judge"),
    ({"cases": [_raw(expected="alert")]}, "unknown key(s) expected"),
    ({"cases": [_raw(), _raw()]}, "appears twice"),
    ({"cases": [_raw(published="yesterday")]}, "published"),
    ({"cases": [{"expect": "alert"}]}, "case #1 has no id"),
    ({"nothing": 1}, "a 'cases' list"),
])
def test_parse_cases_names_the_problem(data, message):
    with pytest.raises(ValueError, match="corpus") as err:
        parse_cases(data)
    assert message in str(err.value)


def test_shipped_corpora_load():
    for path in sorted((ROOT / "bench" / "corpora").glob("*.yaml")):
        cases = parse_cases(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))
        assert cases, path
        assert all(c.published for c in cases), path
        assert [c.id for c in chronological(cases)] == [c.id for c in cases], path
        assert "\n# split:" in path.read_text(encoding="utf-8"), f"{path}: no split note"


def test_report_prints_figures_noise_misses_and_duplicates(capsys):
    cases = [case("a1", "alert", "trip"), case("a2", "alert", "trip"), case("b", "alert"),
             case("q", "quiet"), case("j", "judge")]
    s = run_score(cases, [post("a1", text="Trip"), post("a2", text="Trip again"),
                          post("q", text="Update: known")])
    report(Result(Path("c.yaml"), Mode("newest-first", None, 2), s, 1.25, 1))
    out = capsys.readouterr().out
    assert "5 cases (newest-first, batch all, 2 feed(s)), 3 Slack message(s)" in out
    assert "quiet posted: q  | Update: known" in out
    assert "missed group: b (b)" in out
    assert "duplicate: trip: 2 top-level posts" in out
    assert "precision 0.500  recall 0.500  duplicates 1" in out
    assert "  free  j " in out and "  MISS  b " in out and "  NOISE q " in out


def test_every_option_of_the_bench_is_in_its_readme():
    readme = (ROOT / "bench" / "README.md").read_text()
    for action in build_parser()._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert f"`{flag}" in readme, f"{flag} is missing from bench/README.md"
