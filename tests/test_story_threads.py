"""One thread per story, one top-level message per article: ``analyse.plan_messages`` as a
table, then the outbox and the delivery stage against the Slack stand-in (real SQLite, the
real slack_sdk), and the story message's limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.slack_standin import SlackStandIn, check_message
from watcher.analyse import plan_messages
from watcher.deliver import Delivery
from watcher.notify.slack import SlackNotifier, make_slack_client
from watcher.notify.story import render
from watcher.settings import SlackSettings
from watcher.store import findings, repo, stories
from watcher.store.db import make_engine, migrate
from watcher.types import (
    Alert,
    AlertDraft,
    AlertKind,
    Article,
    Change,
    Decision,
    Finding,
    Known,
    KnownOrigin,
    MessagePlan,
    Novelty,
    Outcome,
    Story,
)

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def outcome(kind: str, rule: str = "r1", channel: str = "#a", development: int | None = None,
            n: int = 0) -> Outcome:
    f = Finding(rule_id=rule, key=f"{rule}-{n}", facts={}, evidence="e", summary=f"{rule} {n}",
                display={"status": "announced", "where": f"Place {n}"})
    matched = Known(id=development, rule_id=rule, key="k", facts={},
                    origin=KnownOrigin.ARTICLE, development_id=development) \
        if development is not None else None
    novelty = {"new": Novelty.NEW, "update": Novelty.UPDATE}.get(kind, Novelty.KNOWN)
    changes = (Change("status", "postponed", "announced"),) if kind == "update" else ()
    draft = None if kind == "known" else AlertDraft(
        AlertKind(kind), rule, channel, f.summary, f"https://news.test/{n}", f"Title {n}",
        evidence="e", changes=changes, facts=f.display, template="{status}: {where}")
    return Outcome(f, Decision(novelty, "test", matched, changes), draft)


@pytest.mark.parametrize("outcomes, threaded, plans", [
    # two rules' new developments: one message, whose thread is both stories'
    ([outcome("new", "r1"), outcome("new", "r2")], set(), [MessagePlan(0, (1,))]),
    # an update of a story with a thread, and a new development: into that thread
    ([outcome("new", "r2"), outcome("update", "r1", development=7)], {7},
     [MessagePlan(1, (0,))]),
    # an update of a development with no story yet (the baseline's) goes with the new one
    ([outcome("update", "r1", development=7), outcome("new", "r2")], set(),
     [MessagePlan(0, (1,))]),
    # updates of two stories: a reply in each thread
    ([outcome("update", "r1", development=7), outcome("update", "r2", development=9)], {7, 9},
     [MessagePlan(0), MessagePlan(1)]),
    # two findings updating one story: one reply
    ([outcome("update", "r1", development=7, n=1), outcome("update", "r1", development=7, n=2)],
     {7}, [MessagePlan(0, (1,))]),
    # another channel is another message; a known finding none; another outlet its own row
    ([outcome("new", "r1", "#a"), outcome("new", "r2", "#b"), outcome("known"),
      outcome("sources", development=7)], {7},
     [MessagePlan(0), MessagePlan(1), MessagePlan(3)]),
])
def test_one_article_makes_at_most_one_top_level_message_per_channel(outcomes, threaded, plans):
    assert plan_messages(outcomes, threaded) == plans


@pytest.fixture
def engine(tmp_path):  # type: ignore[no-untyped-def]
    eng = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(eng)
    yield eng
    eng.dispose()


def record(engine, n: int, outcomes: list[Outcome]) -> None:  # type: ignore[no-untyped-def]
    art = Article(f"https://news.test/{n}", f"Title {n}", "text", T0, outlet=f"Outlet {n}")
    art_id, _ = repo.save_article(engine, art, "feed", T0)
    findings.record_findings(engine, art_id, outcomes, T0)


def known(engine, rule: str) -> Known:  # type: ignore[no-untyped-def]
    return next(k for k in findings.known_findings(engine) if k.rule_id == rule)


def test_two_new_developments_of_one_article_are_one_message_with_two_stories(engine):
    with SlackStandIn() as slack:
        notifier = SlackNotifier(make_slack_client("xoxb-test", slack.base_url, 5.0),
                                 mute_hours=24)
        d = Delivery(engine, notifier, SlackSettings(pace=0), owner="t", sleep=lambda s: None)
        record(engine, 1, [outcome("new", "trip", n=1), outcome("new", "summit", n=2)])
        d.deliver()
        [message] = slack.messages
        actions = [b for b in message["blocks"] if b["type"] == "actions"]
        assert [b["block_id"] for b in actions] == ["story-1", "story-2"]
        assert message["blocks"][0]["text"]["text"].startswith("2 developments: ")
        both = stories.of(engine, [1, 2])
        assert {(s.thread_ts, s.channel_id) for s in both} == {(message["ts"],
                                                                  message["channel"])}

        # later: an article updates the trip and reports a new development: no top-level
        # message; a reply in the trip's thread naming it, and the thread's first message
        # shows it from then on
        record(engine, 2, [outcome("update", "trip", development=known(engine, "trip").id, n=3),
                           outcome("new", "visit", n=4)])
        d.deliver()
        assert len(slack.messages) == 2
        reply = slack.messages[1]
        assert reply["thread_ts"] == message["ts"]
        assert "Also in this report" in reply["text"] and "visit 4" in reply["text"]
        assert "postponed" in reply["text"]
        assert [b["block_id"] for b in message["blocks"] if b["type"] == "actions"] == \
            ["story-1", "story-2", "story-4"]  # edited in place
        assert "*Status:* postponed" in message["text"]
        [visit] = stories.of(engine, [4])
        assert visit.thread_ts == message["ts"]

        # an update of the new development is a reply in that same thread
        record(engine, 3, [outcome("update", "visit", development=4, n=5)])
        d.deliver()
        assert len(slack.messages) == 3 and slack.messages[2]["thread_ts"] == message["ts"]


def test_an_update_of_a_baseline_development_starts_its_story(engine):
    with SlackStandIn() as slack:
        notifier = SlackNotifier(make_slack_client("xoxb-test", slack.base_url, 5.0))
        d = Delivery(engine, notifier, SlackSettings(pace=0), owner="t", sleep=lambda s: None)
        art_id, _ = repo.save_article(engine, Article("seed:1", "Seed", "t", T0), "seed", T0)
        findings.replace_baseline(engine, "fp", [(Article("seed:1", "Seed", "t", T0), None, [
            Finding(rule_id="trip", key="b", facts={}, evidence="", summary="")])], T0)
        base = known(engine, "trip")
        record(engine, 1, [outcome("update", "trip", development=base.id, n=1)])
        d.deliver()
        [message] = slack.messages
        assert message["thread_ts"] is None  # the story's first message
        assert "*Latest change*" in message["text"] and "_(was: announced)_" in message["text"]
        assert stories.get(engine, base.id or 0).thread_ts == message["ts"]  # type: ignore[union-attr]


def test_a_story_message_stays_within_slacks_limits():
    many = tuple(Story(development=i, rule_id="r", channel="#a", summary="x" * 400,
                       facts={f"fact{j}": "y" * 500 for j in range(8)},
                       changes=tuple(Change(f"f{j}", "n" * 400, "w" * 400) for j in range(12)),
                       latest_url="https://a.test/" + "p" * 1900, article_url="https://a.test/",
                       muted_until=T0, muted_by="U1", dismissed_by="U2", dismissed_at=T0)
                 for i in range(40))
    alert = Alert(id=1, kind=AlertKind.NEW, rule_id="r", channel="#a", summary="s",
                  article_url="https://a.test/", article_title="t", evidence="e " * 3000,
                  stories=many)
    for hours in (24.0, None):
        message = render(alert, mute_hours=hours)
        assert check_message(message["text"], message["blocks"]) is None
        assert len(message["blocks"]) <= 50
        assert message["blocks"][-1]["type"] == "context"  # nothing cut off the end
        assert len([b for b in message["blocks"] if b["type"] == "actions"]) == (
            8 if hours else 0)
