"""Webhook mode (real slack_sdk WebhookClient against the stand-in), console mode, and the
choice of notifier from the environment."""

from __future__ import annotations

import io
import logging
import socket

import pytest

from tests.slack_standin import (  # noqa: F401 - slack is the fixture
    NASTY_TEXT,
    SlackStandIn,
    all_text,
    assert_no_injection,
    slack,
)
from tests.test_notify_slack import make_alert
from watcher.notify import (
    ConsoleNotifier,
    Notifier,
    SlackNotifier,
    WebhookNotifier,
    make_notifier,
)
from watcher.settings import SlackSettings

# -- webhook ---------------------------------------------------------------------------------


def test_webhook_posts_blocks_and_text(slack):  # noqa: F811
    notifier = WebhookNotifier(slack.webhook_url)
    result = notifier.send(make_alert(id=8))
    assert result.outcome == "sent" and result.ts is None
    assert len(slack.webhook_messages) == 1
    msg = slack.webhook_messages[0]
    assert msg["via"] == "webhook" and msg["blocks"] and msg["text"]
    assert msg["unfurl_links"] is False and msg["unfurl_media"] is False
    assert "Second summit to be held in Hanoi" in all_text(msg)
    assert slack.messages == [msg]


def test_webhook_cannot_thread_edit_or_look_up(slack):  # noqa: F811
    notifier = WebhookNotifier(slack.webhook_url)
    assert notifier.supports_threads is False
    assert notifier.find_sent(make_alert(), "#news-alerts", None) is None
    result = notifier.update_sources(make_alert(), "#news-alerts", "1.2")
    assert result.outcome == "failed" and "not supported" in result.reason
    assert slack.requests == []


def test_webhook_escapes_feed_text(slack):  # noqa: F811
    url = "https://e.example/a&b"
    notifier = WebhookNotifier(slack.webhook_url)
    notifier.send(make_alert(summary=NASTY_TEXT, article_title=NASTY_TEXT, article_url=url,
                             evidence=NASTY_TEXT))
    assert_no_injection(slack.webhook_messages[0], {url})


def test_webhook_rate_limit_and_server_errors_are_retry(slack):  # noqa: F811
    notifier = WebhookNotifier(slack.webhook_url)
    slack.fail_next(1, error="rate_limited", status=429, retry_after=3)
    result = notifier.send(make_alert())
    assert result.outcome == "retry" and result.retry_after == 3.0
    slack.fail_next(1, error="internal_error", status=500)
    assert notifier.send(make_alert()).outcome == "retry"
    assert slack.requests == ["webhook", "webhook"]  # no hidden retries
    assert notifier.send(make_alert()).outcome == "sent"


def test_webhook_permanent_errors_fail(slack):  # noqa: F811
    slack.revoked_webhooks.add("T0001/B0001/hooksecret")
    result = WebhookNotifier(slack.webhook_url).send(make_alert())
    assert result.outcome == "failed" and result.code == "no_service"
    slack.revoked_webhooks.clear()
    slack.fail_next(1, error="channel_is_archived", status=410)
    result = WebhookNotifier(slack.webhook_url).send(make_alert())
    assert result.outcome == "failed" and result.code == "channel_is_archived"


def test_webhook_connection_refused_is_retry_and_url_is_never_shown(caplog):
    caplog.set_level(logging.DEBUG)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/webhook/T1/B1/very-secret-path"
    notifier = WebhookNotifier(url)
    result = notifier.send(make_alert())
    assert result.outcome == "retry"
    assert "very-secret-path" not in repr(result) and "very-secret-path" not in repr(notifier)
    assert "very-secret-path" not in caplog.text


def test_webhook_url_is_not_logged_at_debug(slack, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    WebhookNotifier(slack.webhook_url).send(make_alert())
    assert "hooksecret" not in caplog.text


# -- console ---------------------------------------------------------------------------------


def test_console_prints_a_readable_message():
    out = io.StringIO()
    notifier = ConsoleNotifier(out)
    first = notifier.send(make_alert(summary="Talks <!here> & more"))
    second = notifier.send(make_alert(kind="update", thread_ts=first.ts))
    assert (first.outcome, first.ts, second.ts) == ("sent", "1", "2")
    text = out.getvalue()
    assert "[NEW] Talks <!here> & more" in text  # plain text: nothing to escape on a terminal
    assert "place: Hanoi (was: not announced)" in text
    assert "[UPDATE]" in text and "https://news.example.com/a/1?x=1&y=2" in text
    assert notifier.update_sources(make_alert(sources=5), "#news-alerts", "1").ok
    assert "reported by 5 outlets" in out.getvalue()
    assert notifier.find_sent(make_alert(), "#news-alerts", None) is None


def test_console_prints_digests():
    out = io.StringIO()
    items = tuple(make_alert(id=i, summary=f"Item {i}") for i in range(3))
    ConsoleNotifier(out).send(make_alert(kind="digest", summary="", items=items))
    assert out.getvalue().startswith("[DIGEST] 3 new developments for us-nk-summit")
    assert "Item 2" in out.getvalue()


# -- choosing a notifier ---------------------------------------------------------------------


def test_make_notifier_without_slack_prints_to_stdout():
    notifier, warning = make_notifier(SlackSettings(), {})
    assert isinstance(notifier, ConsoleNotifier)
    assert warning == "no SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL set: alerts are printed to stdout"


def test_make_notifier_with_a_token_uses_the_web_api(slack):  # noqa: F811
    settings = SlackSettings(base_url=slack.base_url, timeout=3)
    notifier, warning = make_notifier(settings, {"SLACK_BOT_TOKEN": "xoxb-1"})
    assert isinstance(notifier, SlackNotifier) and warning is None
    assert notifier.client.base_url == slack.base_url
    assert notifier.client.retry_handlers == []
    assert notifier.send(make_alert()).outcome == "sent"


def test_make_notifier_prefers_the_webhook(slack):  # noqa: F811
    env = {"SLACK_WEBHOOK_URL": slack.webhook_url, "SLACK_BOT_TOKEN": "xoxb-secret"}
    notifier, warning = make_notifier(SlackSettings(), env)
    assert isinstance(notifier, WebhookNotifier)
    assert warning and "cannot reply in threads" in warning
    assert "xoxb-secret" not in warning and "hooksecret" not in warning


@pytest.mark.parametrize("notifier", [ConsoleNotifier(io.StringIO()),
                                      WebhookNotifier("http://127.0.0.1:9/webhook/x")])
def test_notifiers_follow_the_protocol(notifier):
    assert isinstance(notifier, Notifier)
    assert isinstance(notifier.name, str)
