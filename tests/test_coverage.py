"""Coverage: a rule silent past its window and a feed without text for a day are told to the
operator channel once (across restarts and workers) and shown by `watcher status`; a match or
text again clears them. The heartbeat goes out after each successful cycle only. Real SQLite,
the real Runner, the real slack_sdk client against the Slack stand-in, a loopback monitor."""

from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ROOT, run_watcher, write_config
from tests.httpserver import Reply
from tests.slack_standin import SlackStandIn
from watcher import coverage
from watcher.observe import HumanFormatter
from watcher.rules.loader import load_ruleset
from watcher.schedule import Runner
from watcher.service import build
from watcher.settings import load_settings
from watcher.store import coverage as store
from watcher.store import repo
from watcher.types import Article, Entry, EntryState

TOKEN = {"SLACK_BOT_TOKEN": "xoxb-test"}
NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:1/none"
POMPEO = Article(
    "https://news.test/pompeo-kl", "Pompeo to visit Malaysia and Indonesia next week",
    "Secretary of State Mike Pompeo will travel to Kuala Lumpur and Jakarta from August 2 to 5, "
    "the State Department said on Tuesday.", datetime(2018, 7, 31, 14, 0, tzinfo=UTC), "Outlet A")
QUIET = Article("https://news.test/weather", "Storms across the plains",
                "Forecasters expect heavy storms across the plains on Thursday.",
                datetime.now(UTC), "Outlet D")


def _runner(tmp_path, slack, extra: str = "", rules=None, db_url=None):  # type: ignore[no-untyped-def]
    cfg = write_config(tmp_path, feeds=[], slack_base_url=slack.base_url if slack else
                       "http://127.0.0.1:9/api/", slack_extra='operator_channel = "#ops"',
                       rules=rules, db_url=db_url, extra=extra)
    service = build(load_settings(cfg), env=TOKEN)
    return Runner(service, threading.Event()), cfg


@pytest.fixture
def one_rule(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(ROOT / "rules" / "pompeo-trip.yaml", rules)
    return rules


def _ops(slack):  # type: ignore[no-untyped-def]
    return [m for m in slack.messages if m["channel"] == slack.channel_id("ops")]


def _arriving(engine, now):  # type: ignore[no-untyped-def]
    """A healthy intake: one feed polled fine, an article stored an hour ago."""
    repo.add_feed(engine, "http://127.0.0.1:9/feed.rss", "cli", 300)
    repo.save_article(engine, QUIET, "feed", now - timedelta(hours=1))


def test_a_silent_rule_is_told_once_shown_in_status_and_cleared_by_a_match(tmp_path, one_rule):
    with SlackStandIn() as slack:
        runner, cfg = _runner(tmp_path, slack, rules=one_rule)
        engine = runner.service.engine
        try:
            runner.pipeline.start()
            now = datetime.now(UTC)
            store.mark_live(engine, ["pompeo-trip"], now - timedelta(days=15))  # live 15 days
            _arriving(engine, now)
            runner.watch()
            runner.watch()  # checked again: not told again
            [told] = _ops(slack)
            assert "Rule pompeo-trip has matched nothing for 14 days" in str(told)
            assert runner.metrics.registry.get_sample_value("watcher_rules_silent") == 1
            assert runner.metrics.registry.get_sample_value(
                "watcher_rule_matches_total", {"rule": "pompeo-trip"}) == 0
        finally:
            runner.service.close()

        again, _ = _runner(tmp_path, slack, rules=one_rule)  # a restart, or another worker
        try:
            again.pipeline.start()
            again.watch()
            assert len(_ops(slack)) == 1
            status = run_watcher("status", "--config", str(cfg))
            line = next(x for x in status.stdout.splitlines() if "pompeo-trip " in x)
            assert "never matched" in line and "SILENT for 14+ days (operators told)" in line

            again.pipeline.analyse(POMPEO)  # it matches again
            again.watch()
            assert store.states(again.service.engine, store.RULE)["pompeo-trip"][1] is None
            status = run_watcher("status", "--config", str(cfg))
            line = next(x for x in status.stdout.splitlines() if "pompeo-trip " in x)
            assert "SILENT" not in line and "last match" in line
            assert "7 days: 1 new, 0 update, 0 known, 1 alert(s)" in line
            assert len(_ops(slack)) == 1
        finally:
            again.service.close()


def test_no_silence_while_nothing_arrives_and_per_rule_windows(tmp_path):
    rules, errors = load_ruleset(ROOT / "rules")
    assert not errors
    now = datetime.now(UTC)
    live = {r: now - timedelta(days=20) for r in rules.rules}
    healthy = coverage.Intake(articles_day=50, feeds=4, feeds_ok=3)
    found = coverage.silences(rules, {}, live, healthy, 14, now)
    assert [s.rule_id for s in found] == sorted(rules.rules)
    assert coverage.silences(rules, {}, live, replace(healthy, articles_day=0), 14, now) == []
    assert coverage.silences(rules, {}, live, replace(healthy, feeds_ok=2), 14, now) == []
    recent = {"pompeo-trip": coverage.RuleActivity("pompeo-trip", now - timedelta(days=3))}
    assert "pompeo-trip" not in {s.rule_id for s in coverage.silences(
        rules, recent, live, healthy, 14, now)}

    folder = tmp_path / "rules"
    folder.mkdir()
    text = (ROOT / "rules" / "pompeo-trip.yaml").read_text(encoding="utf-8")
    (folder / "pompeo-trip.yaml").write_text(text + "\nsilence_days: 30\n", encoding="utf-8")
    own, errors = load_ruleset(folder)
    assert not errors and own.rules["pompeo-trip"].silence_days == 30
    assert coverage.silences(own, {}, live, healthy, 14, now) == []  # 20 days < 30
    assert coverage.silences(own, {}, live, healthy, 14, now + timedelta(days=11))
    (folder / "pompeo-trip.yaml").write_text(text + "\nsilence_days: -1\n", encoding="utf-8")
    _, errors = load_ruleset(folder)
    assert errors and "silence_days must be 0" in str(errors[0]) and errors[0].line


def test_a_feed_without_text_for_a_day_is_told_once_and_cleared(tmp_path):
    with SlackStandIn() as slack:
        runner, _ = _runner(tmp_path, slack)
        engine = runner.service.engine
        try:
            runner.pipeline.start()
            now = datetime.now(UTC)
            url = "http://127.0.0.1:9/blocked.rss"
            repo.add_feed(engine, url, "cli", 300)
            [(feed_id, state)] = repo.list_feeds(engine)

            def entries(when, status, n):  # type: ignore[no-untyped-def]
                es = [Entry(url, f"{status}-{when:%s}-{i}", f"http://127.0.0.1:9/{i}", "t", "",
                            when) for i in range(n)]
                repo.save_feed_state(engine, feed_id, state, when, es)
                for entry_id, _ in repo.claim_pending_entries(engine, now, "t", 60, 100):
                    repo.finish_entry(engine, entry_id, EntryState.DONE, status)

            entries(now - timedelta(days=2), "ok", 2)  # it used to give text
            entries(now - timedelta(hours=30), "no_text", 3)
            entries(now - timedelta(hours=2), "no_text", 3)
            runner.watch()
            runner.watch()
            [told] = _ops(slack)
            assert "no article text for a day" in str(told) and url in str(told)
            entries(datetime.now(UTC), "ok", 1)  # text again, after the report
            runner.watch()
            assert store.states(engine, store.FEED)[url][1] is None
            assert len(_ops(slack)) == 1
        finally:
            runner.service.close()


def test_the_heartbeat_follows_each_successful_cycle_and_never_a_failed_one(
        tmp_path, http_server, caplog):
    ping = "/ping/6a1f0c4e-secret"
    http_server.route(ping, Reply(body=b"OK", content_type="text/plain"))
    beat = f'[heartbeat]\nurl = "{http_server.url(ping)}"\ninterval = 0\ntimeout = 2.0'
    runner, _ = _runner(tmp_path, None, extra=beat)
    try:
        runner.pipeline.start()
        runner.cycle()
        assert http_server.hits(ping) == 1
        runner.cycle()
        assert http_server.hits(ping) == 2
    finally:
        runner.service.close()

    (tmp_path / "down").mkdir()
    down, _ = _runner(tmp_path / "down", None, extra=beat, db_url=NOWHERE)
    try:
        down.cycle()  # the database does not answer: the cycle fails
        assert down.health.last_cycle_ok is None
        assert http_server.hits(ping) == 2  # no heartbeat after a failed cycle
    finally:
        down.service.close()

    http_server.route(ping, Reply(status=500, body=b"no"))
    (tmp_path / "err").mkdir()
    failing, _ = _runner(tmp_path / "err", None, extra=beat)
    try:
        failing.pipeline.start()
        with caplog.at_level(logging.INFO):
            failing.cycle()
        assert http_server.hits(ping) == 3
        assert "heartbeat request answered HTTP 500" in caplog.text
        # Every line as the service writes it (httpx's own request line included, were its
        # logger let through): the URL is hidden.
        lines = "\n".join(HumanFormatter().format(r) for r in caplog.records)
        assert "HTTP 500" in lines and "6a1f0c4e-secret" not in lines
    finally:
        failing.service.close()


def test_the_heartbeat_follows_every_successful_cycle_by_default(tmp_path, http_server):
    ping = "/ping/every"
    http_server.route(ping, Reply(body=b"OK", content_type="text/plain"))
    runner, _ = _runner(tmp_path, None, extra=f'[heartbeat]\nurl = "{http_server.url(ping)}"')
    try:
        runner.pipeline.start()
        runner.cycle()
        runner.cycle()
        assert http_server.hits(ping) == 2
    finally:
        runner.service.close()


def test_the_heartbeat_is_throttled_by_its_interval(tmp_path, http_server):
    ping = "/ping/throttled"
    http_server.route(ping, Reply(body=b"OK", content_type="text/plain"))
    runner, _ = _runner(tmp_path, None, extra=f'[heartbeat]\nurl = "{http_server.url(ping)}"\n'
                                               'interval = 60')
    try:
        runner.pipeline.start()
        runner.cycle()
        runner.cycle()
        assert http_server.hits(ping) == 1  # interval 60: at most one a minute
    finally:
        runner.service.close()


def test_the_daily_summary_is_sent_once_a_day_across_workers(tmp_path, one_rule):
    with SlackStandIn() as slack:
        extra = '[heartbeat]\ndaily_summary = "00:00"'
        first, _ = _runner(tmp_path, slack, extra=extra, rules=one_rule)
        second, _ = _runner(tmp_path, slack, extra=extra, rules=one_rule)
        try:
            first.pipeline.start()
            second.pipeline.start()
            _arriving(first.service.engine, datetime.now(UTC))
            first.pipeline.analyse(POMPEO)
            first.summary()
            second.summary()
            first.summary()
            [summary] = _ops(slack)
            text = str(summary)
            assert "watcher daily summary" in text and "2 articles read" in text
            assert "pompeo-trip: 1/0/0; 1 alert(s)" in text
        finally:
            first.service.close()
            second.service.close()


@pytest.mark.parametrize("toml, error", [
    ('[heartbeat]\ndaily_summary = "9am"\n[slack]\noperator_channel = "#ops"',
     "daily_summary must be a time of day, HH:MM"),
    ('[heartbeat]\ndaily_summary = "24:00"\n[slack]\noperator_channel = "#ops"',
     "daily_summary must be a time of day, HH:MM"),
    ('[heartbeat]\ndaily_summary = "09:00"', "daily_summary needs [slack] operator_channel"),
    ('[heartbeat]\nurl = "ftp://x"', "url must be an http:// or https:// URL"),
    ("[rules]\nsilence_days = -2", "silence_days must be 0 (never) or more"),
])
def test_bad_coverage_settings_are_clear_errors(tmp_path, toml, error):
    from watcher.errors import ConfigError

    path = tmp_path / "watcher.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=error.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]")):
        load_settings(path)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_coverage_state_on_both_databases(tmp_path, backend, request):
    """Told once: the second claim (another worker) loses; the reads run on both databases."""
    from watcher.store.db import make_engine, migrate

    url = request.getfixturevalue("pg_url") if backend == "postgresql" \
        else f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(url)
    try:
        migrate(engine)
        now = datetime.now(UTC)
        _arriving(engine, now)
        store.mark_live(engine, ["a", "b"], now - timedelta(days=20))
        store.mark_live(engine, ["a"], now)  # already live: its first sighting stays
        assert store.states(engine, store.RULE)["a"] == (now - timedelta(days=20), None)
        assert store.claim(engine, store.RULE, "a", now) is True
        assert store.claim(engine, store.RULE, "a", now) is False
        store.unclaim(engine, store.RULE, "a")
        assert store.claim(engine, store.RULE, "a", now) is True
        assert store.intake(engine, now) == coverage.Intake(1, 1, 1)
        assert store.rule_activity(engine, now) == {}
        [feed] = store.feed_text(engine, now)
        assert (feed.entries_day, feed.empty_day, feed.last_text) == (0, 0, None)
        assert store.claim_summary(engine, "2026-01-01") is True
        assert store.claim_summary(engine, "2026-01-01") is False
        assert store.last_summary(engine) == "2026-01-01"
        assert store.claim_summary(engine, "2026-01-02") is True
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_diff_engine_cannot_write(tmp_path, backend, request):
    from sqlalchemy import text

    from watcher.store import articles
    from watcher.store.db import make_engine, migrate

    url = request.getfixturevalue("pg_url") if backend == "postgresql" \
        else f"sqlite:///{tmp_path / 'r.db'}"
    engine = make_engine(url)
    migrate(engine)
    repo.save_article(engine, QUIET, "feed", datetime.now(UTC))
    engine.dispose()
    ro = articles.read_only_engine(url)
    try:
        assert articles.count_articles(ro, datetime.now(UTC) - timedelta(days=1)) == (1, 0)
        with pytest.raises(Exception, match="(?i)read-only|readonly"), ro.begin() as conn:
            conn.execute(text("UPDATE articles SET title = 'x'"))
    finally:
        ro.dispose()


def test_rule_metrics_come_from_the_cycle_report():
    from watcher.observe import Metrics
    from watcher.pipeline import CycleReport

    metrics = Metrics()
    report = CycleReport(articles=3)
    report.count("pompeo-trip", "new")
    report.count("pompeo-trip", "known")
    report.matches["pompeo-trip"] = 1
    metrics.know_rules(["pompeo-trip", "summit-announcement"], {"summit-announcement": 1000.0})
    metrics.record_cycle(report, 0.1)
    sample = metrics.registry.get_sample_value
    assert sample("watcher_rule_matches_total", {"rule": "pompeo-trip"}) == 1
    assert sample("watcher_rule_matches_total", {"rule": "summit-announcement"}) == 0
    assert sample("watcher_rule_findings_total", {"rule": "pompeo-trip", "kind": "known"}) == 1
    last = sample("watcher_rule_last_match_timestamp_seconds", {"rule": "pompeo-trip"})
    assert last is not None and abs(last - datetime.now(UTC).timestamp()) < 60
    assert sample("watcher_rule_last_match_timestamp_seconds",
                  {"rule": "summit-announcement"}) == 1000.0


def test_run_once_sends_the_heartbeat_after_its_cycle(tmp_path, http_server):
    ping = "/ping/cron-secret"
    http_server.route(ping, Reply(body=b"OK", content_type="text/plain"))
    cfg = write_config(tmp_path, feeds=[], extra=f'[heartbeat]\nurl = "{http_server.url(ping)}"')
    out = run_watcher("run", "--once", "--config", str(cfg))
    assert out.returncode == 0, out.stderr
    assert http_server.hits(ping) == 1
    assert "cron-secret" not in out.stderr + out.stdout
