"""`watcher run --once` finishes its delivery: it waits out Slack's Retry-After within
[slack] once_wait, and says with its exit code when alerts are left pending."""

from __future__ import annotations

import sqlite3

from tests.conftest import run_watcher, write_config
from tests.slack_standin import SlackStandIn
from tests.test_end_to_end import POMPEO_NEW, SUMMIT_NEW, TOKEN, _serve_news
from watcher.cli import EXIT_PENDING, build_parser


def _states(tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    db = sqlite3.connect(tmp_path / "watcher.db")
    return sorted(state for (state,) in db.execute("SELECT state FROM alerts"))


def test_a_429_on_the_first_post_is_waited_out(http_server, tmp_path):
    feed = _serve_news(http_server, [POMPEO_NEW, SUMMIT_NEW])
    with SlackStandIn() as slack:
        slack.fail_next(1, "ratelimited", retry_after=1, method="chat.postMessage")
        cfg = write_config(tmp_path, feeds=[feed], slack_base_url=slack.base_url)
        result = run_watcher("run", "--once", "--config", str(cfg), env=TOKEN)
        assert result.returncode == 0, result.stderr
        posts = [r for r in slack.requests if r == "chat.postMessage"]
        assert len(posts) == 3  # the refused one, then both alerts
        assert len(slack.messages) == 2
    assert _states(tmp_path) == ["sent", "sent"]
    assert "0 pending" in result.stderr


def test_slack_that_stays_away_leaves_alerts_pending_with_exit_code_3(http_server, tmp_path):
    feed = _serve_news(http_server, [POMPEO_NEW, SUMMIT_NEW])
    with SlackStandIn() as slack:
        slack.set_down(True)
        cfg = write_config(tmp_path, feeds=[feed], slack_base_url=slack.base_url,
                           slack_extra="once_wait = 3.0")
        result = run_watcher("run", "--once", "--config", str(cfg), env=TOKEN)
    assert result.returncode == EXIT_PENDING == 3, result.stderr
    assert "2 alert(s) still pending" in result.stderr
    assert set(_states(tmp_path)) <= {"pending", "sending"} and len(_states(tmp_path)) == 2


def test_a_retry_after_beyond_the_bound_is_not_waited_for(http_server, tmp_path):
    feed = _serve_news(http_server, [POMPEO_NEW])
    with SlackStandIn() as slack:
        slack.fail_next(1, "ratelimited", retry_after=600, method="chat.postMessage")
        cfg = write_config(tmp_path, feeds=[feed], slack_base_url=slack.base_url)
        result = run_watcher("run", "--once", "--config", str(cfg), env=TOKEN)
        assert slack.requests.count("chat.postMessage") == 1
    assert result.returncode == EXIT_PENDING, result.stderr
    assert _states(tmp_path) == ["pending"]


def test_the_exit_codes_are_in_the_help():
    run = build_parser()._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    assert "3 alerts left pending" in " ".join(run.format_help().split())
