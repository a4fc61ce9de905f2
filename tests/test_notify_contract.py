"""Every notifier that talks to Slack passes the same tests for retry codes and secret leaks
(after Alertmanager's notify/test): only the transport differs."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from tests.slack_standin import SlackStandIn, slack  # noqa: F401 - slack is the fixture
from tests.test_notify_slack import make_alert
from watcher.notify import Notifier, SlackNotifier, WebhookNotifier, make_slack_client

SECRET_TOKEN = "xoxb-contract-secret"
SECRET_HOOK = "contract-hook-secret"

Factory = Callable[[SlackStandIn], Notifier]


def slack_notifier(standin: SlackStandIn) -> Notifier:
    return SlackNotifier(make_slack_client(SECRET_TOKEN, standin.base_url, 2))


def webhook_notifier(standin: SlackStandIn) -> Notifier:
    return WebhookNotifier(standin.webhook_url.replace("hooksecret", SECRET_HOOK), timeout=2)


FACTORIES = pytest.mark.parametrize("make", [slack_notifier, webhook_notifier],
                                    ids=["web-api", "webhook"])


@FACTORIES
def test_sends(slack, make: Factory):  # noqa: F811
    assert make(slack).send(make_alert()).outcome == "sent"
    assert len(slack.messages) == 1


@FACTORIES
@pytest.mark.parametrize("error, status, retry_after, outcome", [
    ("ratelimited", 429, 12, "retry"),
    ("rate_limited", 429, 2, "retry"),
    ("internal_error", 500, None, "retry"),
    ("service_unavailable", 503, None, "retry"),
    ("bad_gateway", 502, None, "retry"),
    ("channel_not_found", 404, None, "failed"),
    ("invalid_token", 403, None, "failed"),
])
def test_classifies_answers(slack, make: Factory, error, status, retry_after,  # noqa: F811
                            outcome):
    slack.fail_next(1, error=error, status=status, retry_after=retry_after)
    result = make(slack).send(make_alert())
    assert result.outcome == outcome, result
    assert result.retry_after == (float(retry_after) if retry_after else None)
    assert result.reason and result.code
    assert len(slack.requests) == 1  # the notifier never retries by itself


@FACTORIES
@pytest.mark.parametrize("mode", ["close", "503"])
def test_outage_is_retry(slack, make: Factory, mode):  # noqa: F811
    slack.down_mode = mode
    slack.set_down(True)
    assert make(slack).send(make_alert()).outcome == "retry"


@FACTORIES
def test_secrets_never_reach_logs_or_results(slack, make: Factory, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    notifier = make(slack)
    results = [notifier.send(make_alert())]
    slack.fail_next(1, error="internal_error", status=500)
    results.append(notifier.send(make_alert()))
    slack.fail_next(1, error="invalid_auth")
    results.append(notifier.send(make_alert()))
    slack.set_down(True)
    results.append(notifier.send(make_alert()))
    results.append(notifier.update_sources(make_alert(), "#news-alerts", "1.000001"))
    results.append(notifier.find_sent(make_alert(), "#news-alerts", None))
    shown = caplog.text + repr(results) + repr(notifier)
    assert SECRET_TOKEN not in shown and SECRET_HOOK not in shown
