"""Notifiers: render an alert, send it, and say whether a retry can help.

    make_notifier(settings, env) -> (notifier, warning)

    SLACK_WEBHOOK_URL   -> WebhookNotifier (posts only: no threads, edits or history)
    SLACK_BOT_TOKEN     -> SlackNotifier (Web API at settings.base_url)
    neither             -> ConsoleNotifier (stdout), with a warning
"""

from __future__ import annotations

from collections.abc import Mapping

from watcher.notify.base import Notifier, SendResult
from watcher.notify.console import ConsoleNotifier
from watcher.notify.render import escape, render_message, render_plain
from watcher.notify.slack import SlackNotifier, make_slack_client
from watcher.notify.webhook import WebhookNotifier
from watcher.settings import SlackSettings

__all__ = [
    "ConsoleNotifier",
    "Notifier",
    "SendResult",
    "SlackNotifier",
    "WebhookNotifier",
    "escape",
    "make_notifier",
    "make_slack_client",
    "render_message",
    "render_plain",
]

INTERACTIVE = ("SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")
NO_SLACK_WARNING = "no SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL set: alerts are printed to stdout"
WEBHOOK_WARNING = (
    "SLACK_WEBHOOK_URL is set: webhook mode cannot reply in threads, edit source counts or look"
    " up already-posted alerts after a crash"
)


def make_notifier(settings: SlackSettings, env: Mapping[str, str]) -> tuple[Notifier, str | None]:
    """Pick the notifier from the environment; the second value is a warning for the operator
    (never containing the token or the URL), or None."""
    webhook = (env.get("SLACK_WEBHOOK_URL") or "").strip()
    token = (env.get("SLACK_BOT_TOKEN") or "").strip()
    if webhook:
        warning = WEBHOOK_WARNING
        if token:
            warning += " (SLACK_BOT_TOKEN is ignored while SLACK_WEBHOOK_URL is set)"
        return WebhookNotifier(webhook, timeout=settings.timeout), warning
    if token:
        client = make_slack_client(token, settings.base_url, settings.timeout)
        # Buttons only when someone can press them: an interactivity endpoint or Socket Mode.
        interactive = any((env.get(k) or "").strip() for k in INTERACTIVE)
        return SlackNotifier(client, reply_broadcast=settings.broadcast_updates,
                             mute_hours=settings.mute_hours if interactive else None), None
    return ConsoleNotifier(), NO_SLACK_WARNING
