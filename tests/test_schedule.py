"""The Runner's parts, one at a time, on real services (SQLite, and a database that does not
answer): the cycle records failures on /healthz instead of ending the loop, the wait until the
next cycle follows the feeds' schedule, wake-ups, and start-up retries."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import write_config
from tests.httpserver import Reply
from watcher import schedule
from watcher.schedule import MIN_GAP, Runner
from watcher.service import build
from watcher.settings import load_settings
from watcher.store import repo

NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:1/none"  # nothing listens on port 1


@pytest.fixture
def runner(tmp_path):
    service = build(load_settings(write_config(tmp_path, feeds=[])), env={})
    r = Runner(service, threading.Event())
    yield r
    if r.sched.running:
        r.sched.shutdown(wait=False)
    service.close()


@pytest.fixture
def unreachable(tmp_path):
    service = build(load_settings(write_config(tmp_path, feeds=[], db_url=NOWHERE)), env={})
    r = Runner(service, threading.Event())
    yield r
    if r.sched.running:
        r.sched.shutdown(wait=False)
    service.close()


def test_a_cycle_records_its_success_and_metrics(runner, http_server):
    from tests.conftest import rss

    runner.pipeline.start()
    feed = http_server.route("/f.rss", Reply(body=rss([], title="Quiet"),
                                             content_type="application/rss+xml"))
    repo.add_feed(runner.service.engine, feed, "cli", 60)
    runner.cycle()
    assert runner.health.last_cycle_ok is not None and runner.health.last_error is None
    assert http_server.hits("/f.rss") == 1
    sample = runner.metrics.registry.get_sample_value
    assert sample("watcher_feeds_polled_total") == 1
    assert sample("watcher_rules_loaded") == 3  # the shipped rules


def test_a_failing_cycle_is_recorded_and_does_not_raise(unreachable):
    unreachable.cycle()
    assert unreachable.health.last_cycle_ok is None
    assert "OperationalError" in (unreachable.health.last_error or "")


def test_the_wait_follows_the_next_feed_due(runner):
    runner.pipeline.start()
    engine = runner.service.engine
    assert runner.until_next_cycle() == runner.tick  # no feed at all
    repo.add_feed(engine, "http://127.0.0.1:9/a.rss", "cli", 60)
    [(feed_id, state)] = repo.list_feeds(engine)

    def due_in(seconds: float) -> float:
        when = datetime.now(UTC) + timedelta(seconds=seconds)
        repo.save_feed_state(engine, feed_id, replace(state, next_check_at=when), when)
        return runner.until_next_cycle()

    assert due_in(-60) == MIN_GAP  # overdue: after the gap, so feeds falling due join it
    assert 2 < due_in(3) <= 3  # sooner than the tick (5 s)
    assert due_in(3600) == runner.tick


def test_without_a_database_the_wait_is_the_tick(unreachable):
    assert unreachable.until_next_cycle() == unreachable.tick


def test_wake_ups_start_a_cycle_or_bring_delivery_forward(runner):
    runner.on_wake("entries")
    assert runner.wake.is_set()
    runner.sched.start()
    far = datetime.now(UTC) + timedelta(hours=1)
    runner.sched.add_job(runner.deliver, "interval", seconds=3600, id="deliver",
                         next_run_time=far)
    runner.on_wake("alerts")
    job = runner.sched.get_job("deliver")
    assert job.next_run_time <= datetime.now(UTC) + timedelta(seconds=schedule.ALERT_SETTLE + 1)
    runner.delivering.set()  # while a delivery runs, it will see the new alerts itself
    runner.sched.modify_job("deliver", next_run_time=far)
    runner.on_wake("alerts")
    assert runner.sched.get_job("deliver").next_run_time == far


def test_a_failed_start_up_is_retried_and_reported(unreachable):
    unreachable.sched.start()
    unreachable.startup()
    retry = unreachable.sched.get_job("startup")
    assert retry is not None and retry.next_run_time > datetime.now(UTC)
    assert (unreachable.health.last_error or "").startswith("start-up failed: OperationalError")
    assert not unreachable.cycler.is_alive()  # no cycle before the start-up succeeds


def test_a_start_up_adds_the_jobs_and_starts_the_cycle_loop(runner):
    runner.sched.start()
    runner.startup()
    try:
        assert {j.id for j in runner.sched.get_jobs()} >= {"deliver", "rules", "retention"}
        assert runner.cycler.is_alive()
    finally:
        runner.stop.set()
        runner.wake.set()
        runner.cycler.join(30)
    assert not runner.cycler.is_alive()


def test_run_starts_the_parts_and_stops_cleanly_when_asked(runner):
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(runner.run()))
    thread.start()
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while runner.health.last_cycle_ok is None and datetime.now(UTC) < deadline:
            threading.Event().wait(0.1)
        assert runner.health.last_cycle_ok is not None, "no cycle within 60 s"
        assert runner.cycler.is_alive() and runner.sched.get_job("deliver") is not None
    finally:
        runner.stop.set()
        thread.join(60)
    assert result == [0] and not runner.cycler.is_alive() and not runner.sched.running
