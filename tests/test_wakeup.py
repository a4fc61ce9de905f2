"""Work is taken when it appears, not at the scheduler's next tick: idle workers are woken
(PostgreSQL NOTIFY) when another worker stores entries or alerts, and a feed is polled when
it falls due."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from tests.conftest import article_page, write_config
from tests.httpserver import Reply
from tests.slack_standin import SlackStandIn
from tests.test_end_to_end import POMPEO_NEW
from watcher import schedule
from watcher.service import build
from watcher.settings import load_settings
from watcher.store import findings, repo
from watcher.store.db import make_engine, migrate
from watcher.store.wakeup import Wakeup
from watcher.types import AlertDraft, AlertKind, Article, Decision, Entry, Finding, Novelty, Outcome

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _wait(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_wake_ups_are_sent_at_commit_and_never_for_a_rolled_back_transaction(pg_url):
    engine = make_engine(pg_url)
    migrate(engine)
    heard: list[str] = []
    wakeup = Wakeup(engine, heard.append).start()
    try:
        assert repo.add_feed(engine, "http://127.0.0.1:9/f.rss", "cli", 300)
        [(feed_id, state)] = repo.list_feeds(engine)
        assert wakeup.listening.wait(30)
        entry = Entry(feed_url=state.url, key="k1", link="http://127.0.0.1:9/a", title="t",
                      summary="", published=NOW)
        try:
            with engine.begin() as conn:  # a poll whose transaction fails: no wake-up
                repo.save_feed_state(conn, feed_id, state, NOW, [entry])
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        art_id, _ = repo.save_article(engine, Article("https://a.test/1", "t", "x", NOW),
                                      "feed", NOW)
        finding = Finding(rule_id="r", key="k", facts={}, evidence="e", summary="s")
        draft = AlertDraft(AlertKind.NEW, "r", "#c", "s", "https://a.test/1", "t")
        findings.record_findings(engine, art_id, [Outcome(finding, Decision(Novelty.NEW, "x"),
                                                      draft)], NOW)
        assert repo.save_feed_state(engine, feed_id, state, NOW, [entry]) == 1
        assert repo.save_feed_state(engine, feed_id, state, NOW, [entry]) == 0  # seen: quiet
        _wait(lambda: len(heard) >= 2, 30, "two wake-ups")
        time.sleep(0.5)  # nothing else arrives
        assert heard == ["alerts", "entries"]  # in commit order; the rolled-back one never
    finally:
        wakeup.close()
        engine.dispose()


def test_the_listener_comes_back_after_losing_its_connection(pg_url, caplog):
    engine = make_engine(pg_url)
    migrate(engine)
    heard: list[str] = []
    wakeup = Wakeup(engine, heard.append).start()
    try:
        assert wakeup.listening.wait(30)
        with engine.connect() as conn:  # e.g. PostgreSQL restarted, or a proxy's idle timeout
            killed = conn.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                "datname = current_database() AND query LIKE 'LISTEN%%'").scalar()
        assert killed == 1
        _wait(lambda: not wakeup.listening.is_set(), 30, "the listener to notice")
        assert "wake-ups unavailable" in caplog.text
        assert wakeup.listening.wait(30)  # reconnected
        assert repo.add_feed(engine, "http://127.0.0.1:9/f.rss", "cli", 300)
        [(feed_id, state)] = repo.list_feeds(engine)
        entry = Entry(feed_url=state.url, key="k1", link="http://127.0.0.1:9/a", title="t",
                      summary="", published=NOW)
        repo.save_feed_state(engine, feed_id, state, NOW, [entry])
        _wait(lambda: heard == ["entries"], 30, "a wake-up after the reconnection")
    finally:
        wakeup.close()
        engine.dispose()


def test_an_idle_worker_takes_new_entries_at_once_not_at_its_next_tick(
        pg_url, http_server, tmp_path, monkeypatch):
    """A worker whose next tick is 5 minutes away processes the entries another worker
    stored, and delivers their alert, as soon as they are committed."""
    monkeypatch.setattr(schedule, "MAX_TICK", 3600)  # the tick is the feed interval: 300 s
    title, paragraphs, published = POMPEO_NEW
    http_server.route("/a.html", Reply(body=article_page(title, paragraphs, published)))
    with SlackStandIn() as slack:
        cfg = write_config(tmp_path, feeds=[], slack_base_url=slack.base_url, db_url=pg_url,
                           extra="[schedule]\ninterval = 300")
        service = build(load_settings(cfg), env={"SLACK_BOT_TOKEN": "xoxb-test"})
        assert schedule.tick_seconds_for(service.settings) == 300
        stop = threading.Event()
        runner = threading.Thread(target=schedule.run_forever, args=(service, stop))
        runner.start()
        try:
            _wait(lambda: service.health.last_cycle_ok is not None, 60, "the first cycle")
            # Another worker polls a feed and stores a new entry.
            engine = make_engine(pg_url)
            assert repo.add_feed(engine, "http://127.0.0.1:9/other.rss", "cli", 300)
            [(feed_id, state)] = repo.list_feeds(engine)
            entry = Entry(feed_url=state.url, key="wake-1", link=http_server.url("/a.html"),
                          title=title, summary="", published=published)
            repo.save_feed_state(engine, feed_id, state, NOW, [entry])

            def done() -> bool:
                with engine.connect() as conn:
                    return conn.exec_driver_sql(
                        "SELECT state FROM entries WHERE key = 'wake-1'").scalar() == "done"

            _wait(done, 60, "the entry to be processed (the next tick is 300 s away)")
            _wait(lambda: len(slack.messages) == 1, 60, "its alert")
            assert "Kuala Lumpur" in str(slack.messages[0])
            engine.dispose()
        finally:
            stop.set()
            runner.join(60)
    assert not runner.is_alive()


def test_a_feed_is_polled_when_it_falls_due_not_at_the_next_tick(http_server, tmp_path,
                                                                  monkeypatch):
    """With a 300 s tick, a feed whose own interval is 2 s is still polled every ~2 s."""
    from tests.conftest import rss

    monkeypatch.setattr(schedule, "MAX_TICK", 3600)
    http_server.route("/f.rss", Reply(body=rss([], title="Quiet"),
                                      content_type="application/rss+xml"))
    cfg = write_config(tmp_path, feeds=[], extra="[schedule]\ninterval = 300")
    service = build(load_settings(cfg), env={})
    assert schedule.tick_seconds_for(service.settings) == 300
    migrate(service.engine)
    repo.add_feed(service.engine, http_server.url("/f.rss"), "cli", 2)
    stop = threading.Event()
    runner = threading.Thread(target=schedule.run_forever, args=(service, stop))
    runner.start()
    try:
        _wait(lambda: http_server.hits("/f.rss") >= 4, 60,
              "four polls of the feed (the tick alone would take 15 minutes)")
    finally:
        stop.set()
        runner.join(60)
    assert not runner.is_alive()
