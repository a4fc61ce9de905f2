"""The incoming-webhook notifier: posts only. It cannot reply in threads, edit a message or
read history, so updates arrive as separate messages and a crash may cause a repeat.

The webhook URL is a secret: it never reaches a log line or a ``SendResult`` (the SDK's logger
is kept at WARNING so its debug line with the URL is never emitted).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.webhook import WebhookClient

from watcher.notify.base import SendResult, failed, retry, sent
from watcher.notify.render import render_message
from watcher.notify.slack import HINTS, RETRYABLE_ERRORS, _retry_after, classify_exception

_sdk_logger = logging.getLogger("watcher.notify.webhook_sdk")
_sdk_logger.setLevel(logging.WARNING)

WEBHOOK_HINTS = {
    "no_service": "the webhook was removed or disabled; create a new one (SLACK_WEBHOOK_URL)",
    "invalid_token": "the webhook URL is not valid; check SLACK_WEBHOOK_URL",
    "no_team": "the workspace of the webhook no longer exists",
    "team_disabled": "the workspace of the webhook is disabled",
    "no_active_hooks": "the webhook is disabled",
    "channel_not_found": "the webhook's channel was deleted",
    "channel_is_archived": "the webhook's channel is archived",
    "action_prohibited": "a workspace admin restricted posting to this channel",
    "posting_to_general_channel_denied": "only admins may post in this channel",
    "invalid_payload": "Slack rejected the message (a watcher rendering bug)",
    "user_not_found": "the webhook's channel was deleted",
}


class WebhookNotifier:
    name = "webhook"
    supports_threads = False

    def __init__(self, url: str, timeout: float = 10.0):
        self._url = url
        self._client = WebhookClient(url, timeout=timeout,  # type: ignore[arg-type]
                                     logger=_sdk_logger, retry_handlers=[])

    def __repr__(self) -> str:  # never show the URL
        return "WebhookNotifier(url=[hidden])"

    def render(self, alert: Any) -> dict[str, Any]:
        message = render_message(alert)
        return {
            "text": message["text"],
            "blocks": message["blocks"],
            "unfurl_links": False,
            "unfurl_media": False,
            "metadata": message["metadata"],
        }

    def send(self, alert: Any) -> SendResult:
        try:
            response = self._client.send(**self.render(alert))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a value
            result = classify_exception(exc)
            if result.reason and self._url in result.reason:  # defence in depth
                result = failed(result.code or "error", "webhook error (details hidden)")
            return result
        status = response.status_code
        body = (response.body or "").strip()
        if status == 200:
            return sent()
        code = body if body and len(body) < 60 and body.isidentifier() else f"http_{status}"
        if status == 429 or code in RETRYABLE_ERRORS:
            wait = _retry_after(response.headers)
            return retry(code, f"rate limited by Slack; retry after {wait or 'a while'} s", wait)
        if status >= 500:
            return retry(code, "Slack is busy or unavailable; a later attempt may succeed",
                         _retry_after(response.headers))
        hint = WEBHOOK_HINTS.get(code) or HINTS.get(code) or "Slack refused the webhook message"
        return failed(code, hint)

    def update_sources(self, alert: Any, channel: str, ts: str) -> SendResult:
        return failed("not_supported", "not supported: a webhook cannot edit messages")

    def find_sent(self, alert: Any, channel: str, oldest: float | None) -> SendResult | None:
        return None
