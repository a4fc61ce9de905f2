"""The Slack Web API notifier (bot token): post, reply in threads, edit, find what was posted.

Only renders, sends and classifies: the client is built with ``retry_handlers=[]`` so the SDK
never sleeps or retries behind the delivery stage's back, and every outcome is a ``SendResult``.
The token never reaches a log line or a result (the SDK's own logger is kept at WARNING, and
reasons are scrubbed of the token as a last line of defence).
"""

from __future__ import annotations

import http.client
import logging
import re
import socket
import urllib.error
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from watcher.notify.base import SendResult, failed, retry, sent
from watcher.notify.render import EVENT_TYPE, escape, render_message
from watcher.notify.story import render as render_story

__all__ = [
    "BOT_SCOPES",
    "SlackNotifier",
    "classify_api_error",
    "classify_exception",
    "escape",
    "make_slack_client",
    "render_message",
]

# The bot scopes the calls below need (deploy/slack-app-manifest.yaml asks for exactly these):
# chat.postMessage and chat.update (chat:write); conversations.history and .replies, the
# exactly-once check (channels:history, groups:history); conversations.list, a channel name to
# its id (channels:read, groups:read). chat.getPermalink needs none.
BOT_SCOPES = ("chat:write", "channels:history", "groups:history", "channels:read",
              "groups:read")

RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "service_unavailable", "internal_error", "fatal_error",
     "request_timeout", "timeout"}
)

HINTS: Mapping[str, str] = {
    "channel_not_found": "the channel does not exist or the bot cannot see it; check [slack] "
    "channel and invite the bot",
    "not_in_channel": "the bot is not a member of the channel; invite it (/invite @bot)",
    "is_archived": "the channel is archived; unarchive it or configure another channel",
    "invalid_auth": "the Slack token is not valid; check SLACK_BOT_TOKEN",
    "not_authed": "no Slack token was sent; set SLACK_BOT_TOKEN",
    "account_inactive": "the token belongs to a deactivated user or app; reinstall the app",
    "token_revoked": "the Slack token was revoked; create a new one and set SLACK_BOT_TOKEN",
    "token_expired": "the Slack token expired; refresh it and set SLACK_BOT_TOKEN",
    "missing_scope": "the token lacks a scope (watcher needs chat:write, channels:history, "
    "groups:history, channels:read, groups:read: deploy/slack-app-manifest.yaml)",
    "msg_too_long": "Slack rejected the message as too long (a watcher rendering bug)",
    "invalid_blocks": "Slack rejected the message blocks (a watcher rendering bug)",
    "no_text": "the message had no text (a watcher rendering bug)",
    "restricted_action": "a workspace setting prevents the bot from posting in this channel",
    "message_not_found": "the message to edit no longer exists",
    "cant_update_message": "the message was not posted by this bot and cannot be edited",
    "edit_window_closed": "the message is too old to be edited",
    "thread_not_found": "the parent message of the thread no longer exists",
}
_RETRY_HINT = "Slack is busy or unavailable; a later attempt may succeed"
_UNKNOWN_HINT = "Slack refused the request"
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")

_sdk_logger = logging.getLogger("watcher.notify.slack_sdk")
_sdk_logger.setLevel(logging.WARNING)


def make_slack_client(token: str, base_url: str, timeout: float) -> WebClient:
    """A WebClient that never retries or sleeps by itself (watcher's delivery stage does)."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,  # type: ignore[arg-type]  # urllib accepts a float
        retry_handlers=[],
        logger=_sdk_logger,
    )


def _retry_after(headers: Mapping[str, Any] | None) -> float | None:
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            value = value[0] if isinstance(value, (list, tuple)) and value else value
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                return None
    return None


def classify_api_error(status: int, error: str | None, headers: Mapping[str, Any] | None,
                       needed: str | None = None) -> SendResult:
    """One Slack answer (HTTP status + ``error`` code) -> sent/retry/failed."""
    code = error or (f"http_{status}" if status else "unknown_error")
    if status == 429 or code in ("ratelimited", "rate_limited"):
        wait = _retry_after(headers)
        return retry(code, f"rate limited by Slack; retry after {wait or 'a while'} s", wait)
    if status >= 500 or code in RETRYABLE_ERRORS:
        return retry(code, _RETRY_HINT, _retry_after(headers))
    hint = HINTS.get(code, _UNKNOWN_HINT)
    if code == "missing_scope" and needed:
        hint = f"the token lacks the scope {needed}"
    return failed(code, hint)


def classify_exception(exc: BaseException) -> SendResult:
    """A transport-level error (nothing usable came back) or an SDK error -> a result."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        data = response.data if isinstance(response.data, dict) else {}
        return classify_api_error(
            int(response.status_code or 0),
            data.get("error"),
            response.headers,
            data.get("needed"),
        )
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return retry("timeout", "Slack did not answer in time")
    if isinstance(exc, urllib.error.URLError):
        inner = exc.reason
        if isinstance(inner, (TimeoutError, socket.timeout)):
            return retry("timeout", "Slack did not answer in time")
        return retry("connection_error", f"cannot reach Slack ({type(inner).__name__})")
    if isinstance(exc, (ConnectionError, http.client.HTTPException, OSError)):
        return retry("connection_error", f"cannot reach Slack ({type(exc).__name__})")
    if isinstance(exc, SlackClientError):
        return failed("client_error",
                      f"the Slack client refused the request ({type(exc).__name__})")
    return failed("unexpected_error",
                  f"unexpected error while calling Slack ({type(exc).__name__})")


class SlackNotifier:
    """Posts alerts with the Slack Web API; see ``watcher.notify.base`` for the contract."""

    name = "slack"
    supports_threads = True

    def __init__(self, client: WebClient, reply_broadcast: bool = False,
                 history_pages: int = 5, page_size: int = 200,
                 mute_hours: float | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.client = client
        self.clock = clock  # whether a mute still runs, as a message shows it
        self.reply_broadcast = reply_broadcast
        self.mute_hours = mute_hours  # story buttons (None: no buttons, nobody to press them)
        self.history_pages = history_pages
        self.page_size = page_size
        self._channel_ids: dict[str, str] = {}

    # -- rendering --------------------------------------------------------------------------

    def render(self, alert: Any) -> dict[str, Any]:
        return render_story(alert, reply_broadcast=self.reply_broadcast,
                            mute_hours=self.mute_hours, now=self.clock())

    # -- sending ----------------------------------------------------------------------------

    def _call(self, method: Callable[..., Any], **kwargs: Any) -> tuple[Any, SendResult | None]:
        try:
            return method(**kwargs), None
        except Exception as exc:  # noqa: BLE001 - every failure becomes a value
            return None, self._scrub(classify_exception(exc))

    def _scrub(self, result: SendResult) -> SendResult:
        token = self.client.token
        if token and result.reason and token in result.reason:
            from dataclasses import replace

            return replace(result, reason=result.reason.replace(token, "[token]"))
        return result

    def send(self, alert: Any) -> SendResult:
        kwargs = {k: v for k, v in self.render(alert).items() if v is not None}
        response, error = self._call(self.client.chat_postMessage, **kwargs)
        if error:
            return error
        channel_id = response.get("channel")
        if channel_id and not _CHANNEL_ID.match(alert.channel):
            self._channel_ids.setdefault(alert.channel.lstrip("#"), channel_id)
        return sent(ts=response.get("ts"), channel=channel_id)

    def update_sources(self, alert: Any, channel: str, ts: str) -> SendResult:
        message = self.render(alert)
        response, error = self._call(
            self.client.chat_update,
            channel=self._resolve(channel)[0] or channel,
            ts=ts,
            text=message["text"],
            blocks=message["blocks"],
            metadata=message["metadata"],
        )
        if error:
            return error
        return sent(ts=response.get("ts") or ts, channel=response.get("channel") or channel)

    def permalink(self, channel: str, ts: str) -> str | None:
        """A link to the message at ``ts`` (``chat.getPermalink``), None when Slack says no."""
        response, error = self._call(self.client.chat_getPermalink,
                                     channel=self._resolve(channel)[0] or channel,
                                     message_ts=ts)
        return None if error else response.get("permalink")

    # -- finding what was already posted ---------------------------------------------------

    def find_sent(self, alert: Any, channel: str, oldest: float | None) -> SendResult | None:
        """A "sent" result for the message carrying ``alert.id`` in its metadata, None when the
        last ``history_pages`` pages of history (and the alert's thread) do not hold it, or a
        retry/failed result when Slack could not be asked."""
        channel_id, error = self._resolve(channel)
        if channel_id is None:
            return error
        params = {"oldest": f"{oldest:.6f}"} if oldest is not None else {}
        result = self._search(self.client.conversations_history, alert, channel_id, **params)
        if result is not None or not alert.thread_ts:
            return result
        return self._search(self.client.conversations_replies, alert, channel_id,
                            missing="thread_not_found", ts=alert.thread_ts)

    def _search(self, method: Any, alert: Any, channel_id: str, missing: str = "",
                **params: Any) -> SendResult | None:
        """Page through ``method`` (history or a thread's replies) for the alert's message:
        "sent" when found, None when not there, an error result when the search failed."""
        cursor = None
        for _ in range(self.history_pages):
            kwargs: dict[str, Any] = {"channel": channel_id, "limit": self.page_size,
                                      "include_all_metadata": True, **params}
            if cursor:
                kwargs["cursor"] = cursor
            response, error = self._call(method, **kwargs)
            if error:
                return None if missing and error.code == missing else error
            found = _find(response.get("messages") or [], alert.id)
            if found:
                return sent(ts=found, channel=channel_id)
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None

    def _resolve(self, channel: str) -> tuple[str, None] | tuple[None, SendResult]:
        """Channel ids pass through; names ("#news-alerts") are looked up once with
        conversations.list (history and edits need an id)."""
        if _CHANNEL_ID.match(channel):
            return channel, None
        name = channel.lstrip("#")
        if name in self._channel_ids:
            return self._channel_ids[name], None
        cursor = None
        for _ in range(20):
            kwargs: dict[str, Any] = {"limit": 1000, "exclude_archived": True,
                                      "types": "public_channel,private_channel"}
            if cursor:
                kwargs["cursor"] = cursor
            response, error = self._call(self.client.conversations_list, **kwargs)
            if error:
                return None, error
            for ch in response.get("channels") or []:
                self._channel_ids[ch.get("name", "")] = ch.get("id", "")
            if name in self._channel_ids:
                return self._channel_ids[name], None
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None, failed("channel_not_found", HINTS["channel_not_found"])


def _find(messages: list[dict[str, Any]], alert_id: Any) -> str | None:
    for message in messages:
        meta = message.get("metadata") or {}
        if meta.get("event_type") != EVENT_TYPE:
            continue
        if str((meta.get("event_payload") or {}).get("alert_id")) == str(alert_id):
            return message.get("ts")
    return None
