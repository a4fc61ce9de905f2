"""The outbox sender against the real slack_sdk client and a Slack Web API stand-in: outages,
rate limits, permanent errors, threads, digests, and kill -9 at random points."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ROOT, write_config
from tests.slack_standin import SlackStandIn
from watcher.deliver import Delivery
from watcher.notify.slack import SlackNotifier, make_slack_client
from watcher.settings import SlackSettings
from watcher.store import findings, outbox, repo, stories
from watcher.store.db import make_engine, migrate
from watcher.types import (
    AlertDraft,
    AlertKind,
    Article,
    Change,
    Decision,
    Finding,
    Known,
    Novelty,
    Outcome,
)

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def engine(tmp_path):  # type: ignore[no-untyped-def]
    eng = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(eng)
    yield eng
    eng.dispose()


def add_alert(engine, n: int, *, rule: str = "pompeo-trip", kind: str = "new",  # type: ignore[no-untyped-def]
              outlet: str | None = None, matched: Known | None = None,
              channel: str = "#news-alerts") -> int:
    art = Article(f"https://news.test/{rule}/{n}", f"Story {n} & <b>more</b>", "text", T0,
                  outlet=outlet or f"Outlet {n}")
    art_id, _ = repo.save_article(engine, art, "feed", T0)
    f = Finding(rule_id=rule, key=f"k{n}", facts={}, evidence=f"Pompeo will visit place {n}.",
                matched=("Pompeo",), summary=f"Pompeo to visit place {n}")
    d = Decision(Novelty(kind) if kind in ("new", "update") else Novelty.KNOWN, "test",
                 matched=matched, changes=(Change("where", f"place {n}", "not known"),))
    draft = AlertDraft(AlertKind(kind), rule, channel, f.summary, art.url, art.title,
                       evidence=f.evidence, matched=("Pompeo",), changes=d.changes,
                       outlet=art.outlet, published=T0, severity="info", reason="test")
    [alert_id] = findings.record_findings(engine, art_id, [Outcome(f, d, draft)], T0)
    return alert_id


def delivery(engine, slack: SlackStandIn, clock: Clock, **settings) -> Delivery:  # type: ignore[no-untyped-def]
    notifier = SlackNotifier(make_slack_client("xoxb-test", slack.base_url, 5.0))
    return Delivery(engine, notifier, SlackSettings(pace=0, **settings), clock=clock,
                    owner="test", sleep=lambda s: None)


def ids_posted(slack: SlackStandIn) -> list[int]:
    return [m["metadata"]["event_payload"]["alert_id"] for m in slack.messages]


def test_outage_queues_alerts_until_it_ends_and_order_is_kept(engine):
    clock = Clock()
    ids = [add_alert(engine, n) for n in range(4)]
    with SlackStandIn() as slack:
        d = delivery(engine, slack, clock, digest_after=0)
        slack.set_down(True)
        for _ in range(3):  # the outage lasts three delivery rounds
            d.deliver()
            clock.advance(700)
        assert slack.messages == []
        counts = outbox.alert_counts(engine)  # the first one may have been posted: "sending"
        assert counts.get("pending", 0) + counts.get("sending", 0) == 4
        slack.set_down(False)
        d.deliver()
        assert ids_posted(slack) == ids
        d.deliver()
        assert ids_posted(slack) == ids  # nothing twice


def test_rate_limit_honours_retry_after_and_server_errors_back_off(engine):
    clock = Clock()
    ids = [add_alert(engine, n) for n in range(2)]
    with SlackStandIn() as slack:
        d = delivery(engine, slack, clock, digest_after=0)
        slack.fail_next(1, "ratelimited", status=429, retry_after=30)
        d.deliver()
        assert slack.messages == []
        [row] = [r for r in outbox.list_alerts(engine) if r.id == ids[0]]
        assert repo.utc(row.next_attempt_at) == T0 + timedelta(seconds=30)
        clock.advance(10)
        d.deliver()
        assert slack.messages == []  # still waiting, as Slack asked
        clock.advance(21)
        slack.fail_next(1, "internal_error", status=500)
        d.deliver()
        assert slack.messages == []
        clock.advance(600)
        d.deliver()
        assert ids_posted(slack) == ids


def test_a_lost_answer_is_checked_in_history_before_sending_again(engine):
    clock = Clock()
    ids = [add_alert(engine, n) for n in range(2)]
    with SlackStandIn() as slack:
        d = delivery(engine, slack, clock, digest_after=0)
        slack.lose_next_response(1)  # Slack posts the first message, the answer never comes
        d.deliver()
        assert ids_posted(slack) == ids[:1]
        clock.advance(600)
        d.deliver()
        d.deliver()
        assert ids_posted(slack) == ids  # the first one was found in history, not re-posted
        assert {r.state for r in outbox.list_alerts(engine)} == {"sent"}


def test_permanent_error_is_recorded_and_retry_resends(engine):
    clock = Clock()
    alert_id = add_alert(engine, 1, channel="#nowhere")
    with SlackStandIn() as slack:
        slack.missing_channels.add("nowhere")
        d = delivery(engine, slack, clock)
        d.deliver()
        [row] = outbox.list_alerts(engine, ["failed"])
        assert row.id == alert_id and row.error.startswith("channel_not_found")
        clock.advance(3600)
        d.deliver()
        assert slack.messages == []  # failed for good: not retried by itself
        slack.missing_channels.clear()
        assert outbox.retry_alert(engine, alert_id, clock())
        d.deliver()
        assert ids_posted(slack) == [alert_id]


def test_update_is_a_thread_reply_and_a_new_outlet_edits_the_source_count(engine):
    clock = Clock()
    parent = add_alert(engine, 1, outlet="Meridian Post")
    with SlackStandIn() as slack:
        d = delivery(engine, slack, clock)
        d.deliver()
        [first] = slack.messages
        [finding] = findings.known_findings(engine)
        update_id = add_alert(engine, 2, kind="update", matched=finding)
        sources_id = add_alert(engine, 3, kind="sources", matched=finding,
                               outlet="Lakeside Herald")
        d.deliver()
        assert len(slack.messages) == 2
        reply = slack.messages[1]
        assert reply["thread_ts"] == first["ts"]
        assert reply["metadata"]["event_payload"]["alert_id"] == update_id
        assert len(slack.updates) == 1 and slack.updates[0]["ts"] == first["ts"]
        states = {r.id: r.state for r in outbox.list_alerts(engine)}
        assert states == {parent: "sent", update_id: "sent", sources_id: "sent"}


def test_updates_can_be_broadcast_to_the_channel(engine):
    from watcher.notify import make_notifier

    clock = Clock()
    add_alert(engine, 1)
    with SlackStandIn() as slack:
        settings = SlackSettings(pace=0, base_url=slack.base_url, broadcast_updates=True)
        notifier, _ = make_notifier(settings, {"SLACK_BOT_TOKEN": "xoxb-test"})
        d = Delivery(engine, notifier, settings, clock=clock, owner="test")
        d.deliver()
        [finding] = findings.known_findings(engine)
        add_alert(engine, 2, kind="update", matched=finding)
        d.deliver()
        assert slack.messages[1]["thread_ts"] == slack.messages[0]["ts"]
        assert slack.messages[1]["reply_broadcast"] is True


def test_a_flood_of_alerts_for_one_rule_becomes_one_digest(engine):
    clock = Clock()
    ids = [add_alert(engine, n) for n in range(8)]
    other = add_alert(engine, 99, rule="summit-announcement")
    with SlackStandIn() as slack:
        d = delivery(engine, slack, clock, digest_after=5)
        d.deliver()
        top = [m for m in slack.messages if not m["thread_ts"]]
        assert len(top) == 2  # one digest for pompeo-trip, one summit alert
        digest = top[0]
        for n in range(8):
            assert f"https://news.test/pompeo-trip/{n}" in str(digest["blocks"])
        assert [m["metadata"]["event_payload"]["alert_id"] for m in top][1] == other
        # each story has its own message (its card, with its state) in the digest's thread,
        # and the digest links to each
        cards = [m for m in slack.messages if m["thread_ts"] == digest["ts"]]
        assert [c["metadata"]["event_payload"]["alert_id"] for c in cards] == ids
        for card in cards:
            assert f"p{card['ts'].replace('.', '')}?thread_ts={digest['ts']}" in str(
                digest["blocks"])
        states = {r.id: r.state for r in outbox.list_alerts(engine, limit=100)}
        assert all(states[i] == "sent" for i in ids)
        d.deliver()
        assert len(slack.messages) == 10  # nothing twice


def test_sender_killed_at_random_points_loses_nothing_and_posts_nothing_twice(tmp_path):
    """kill -9 the sender at a random point of 20 runs, then let it finish: each alert once."""
    db = tmp_path / "watcher.db"
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    ids = [add_alert(engine, n) for n in range(80)]
    engine.dispose()
    rules = tmp_path / "rules"
    rules.mkdir()
    rng = random.Random(1234)
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "WATCHER_WORKER_ID": "sender"}
    env.pop("SLACK_WEBHOOK_URL", None)
    with SlackStandIn() as slack:
        slack.delay = 0.05  # each Slack call takes a moment: kills land mid-flight
        cfg = write_config(tmp_path, feeds=[], slack_base_url=slack.base_url, rules=rules,
                           slack_extra="digest_after = 0")
        cmd = [sys.executable, "-m", "watcher.cli", "run", "--once", "--config", str(cfg)]
        kills = 0
        for _ in range(20):
            before = len(slack.messages)
            proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 60
            while len(slack.messages) == before and proc.poll() is None \
                    and time.monotonic() < deadline:
                time.sleep(0.005)  # wait until this run is posting
            time.sleep(rng.uniform(0, 0.15))  # then kill it anywhere in a send or a commit
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        posted = ids_posted(slack)
    assert kills == 20, "a run finished before it could be killed: add alerts"
    assert sorted(posted) == ids  # none lost, none twice
    assert posted == ids  # and in order


def test_killed_after_slack_posted_but_before_the_commit_is_not_posted_again(tmp_path):
    """The dangerous window, hit on purpose: Slack has the message, the sender dies before it
    hears so. The restarted sender finds the alert in the channel's history."""
    engine = make_engine(f"sqlite:///{tmp_path / 'watcher.db'}")
    migrate(engine)
    ids = [add_alert(engine, n) for n in range(3)]
    engine.dispose()
    rules = tmp_path / "rules"
    rules.mkdir()
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "WATCHER_WORKER_ID": "sender"}
    with SlackStandIn() as slack:
        cfg = write_config(tmp_path, feeds=[], slack_base_url=slack.base_url, rules=rules,
                           slack_extra="digest_after = 0")
        cmd = [sys.executable, "-m", "watcher.cli", "run", "--once", "--config", str(cfg)]
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        post = slack._post

        def post_then_kill(params):  # type: ignore[no-untyped-def]
            answer = post(params)
            if len(slack.messages) == 2:  # the second alert is in Slack; its sender dies now
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
            return answer

        slack._post = post_then_kill  # the stand-in's hook, not watcher's code
        proc.wait(timeout=120)
        slack._post = post
        assert proc.returncode == -signal.SIGKILL
        assert ids_posted(slack) == ids[:2]
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        assert "was already posted" in done.stderr
        assert ids_posted(slack) == ids
        # the story of the message found in history has its thread: an update is a reply
        engine = make_engine(f"sqlite:///{tmp_path / 'watcher.db'}")
        threads = {s.development: s.thread_ts for s in stories.of(engine, range(1, 4))}
        assert threads == {i: m["ts"] for i, m in enumerate(slack.messages, 1)}
        engine.dispose()


def test_two_workers_sending_at_once_keep_each_channel_in_order(pg_url):
    import threading

    engine = make_engine(pg_url)
    migrate(engine)
    # more than one claim (50 rows) holds, so both workers get some of each channel
    ids = [add_alert(engine, n, channel="#a" if n % 2 else "#b") for n in range(120)]
    with SlackStandIn() as slack:
        slack.delay = 0.01
        workers = []
        for name in ("w1", "w2"):
            notifier = SlackNotifier(make_slack_client("xoxb-test", slack.base_url, 5.0))
            workers.append(Delivery(engine, notifier, SlackSettings(pace=0, digest_after=0),
                                    owner=name, sleep=lambda s: None))
        barrier = threading.Barrier(2)

        def run(d: Delivery) -> None:
            barrier.wait()
            for _ in range(5):
                d.deliver()

        threads = [threading.Thread(target=run, args=(d,)) for d in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        posted = ids_posted(slack)
        in_a = [m["metadata"]["event_payload"]["alert_id"] for m in slack.messages_in("a")]
        in_b = [m["metadata"]["event_payload"]["alert_id"] for m in slack.messages_in("b")]
    engine.dispose()
    assert sorted(posted) == ids  # each once
    assert in_a == sorted(in_a) and in_b == sorted(in_b)  # each channel in order
