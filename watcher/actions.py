"""The buttons of story messages: what a press is, and what it does.

    POST /slack/actions  (on [http] listen)   Slack's interactivity requests, signed
    Socket Mode (SLACK_APP_TOKEN)             the same payloads over a WebSocket
                                              (``watcher.socket_mode``)

A request is checked with slack_sdk's ``SignatureVerifier`` (``SLACK_SIGNING_SECRET``: the
signature ``v0=`` + HMAC-SHA256 of ``v0:<timestamp>:<body>``, compared in constant time; at
most 5 minutes old); a forged, stale or oversized request gets 401 (413 for the size) and
changes nothing. A press is parsed from Slack's documented ``block_actions`` payload
(``container.message_ts``, ``channel.id``, ``user.id``, ``actions[0].action_id`` and
``value``) into a ``Press``, queued, and acknowledged at once: Slack wants an answer within
3 seconds. A worker thread then carries it out: the effect is stored on the story
(``watcher.store.stories``), so every worker honours it, and the story's message is edited to
say who did it, with an undo button:

    mute       no posts for the story for [slack] mute_hours
    not_news   the story is dismissed (its follow-ups never post) and its first article is
               written as a negative rule test in rules/tests/inbox/ (``watcher.rules.inbox``)
    undo       reverses the press named in its value (``mute:<id>`` or ``not_news:<id>``)
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier
from sqlalchemy.engine import Engine

from watcher.deliver import Delivery
from watcher.rules import inbox
from watcher.settings import Settings
from watcher.store import findings, repo, stories
from watcher.types import Story

__all__ = ["MAX_BODY", "Actions", "PayloadError", "Press", "parse_press"]

log = logging.getLogger("watcher.actions")

MAX_BODY = 1_000_000  # bytes of a request (a payload carries the whole message, escaped)
MAX_ID = 32  # characters of a Slack id or timestamp
PRESSES = ("mute", "not_news")
UNDO = "undo"


class PayloadError(ValueError):
    """A payload that is not a press of one of our buttons (the reason in words)."""


@dataclass(frozen=True)
class Press:
    """One press of a story's button."""

    action: str  # mute | not_news | undo
    development: int  # the story
    user: str  # who pressed (a Slack user id)
    channel_id: str
    message_ts: str  # the message the button is on
    undo: str | None = None  # for undo: the press it reverses (mute | not_news)


def _id(value: Any, what: str, extra: str = "") -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID or not value.isascii() \
            or not all(c.isalnum() or c in extra for c in value):
        raise PayloadError(f"{what} is missing or not a Slack id")
    return value


def _development(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise PayloadError("the button's value is not a story id")
    return int(value)


def parse_press(payload: Any) -> Press:
    """The press in a ``block_actions`` payload (a dict, as Slack sends it)."""
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        raise PayloadError("not a block_actions payload")
    container, channel, user = (payload.get(k) for k in ("container", "channel", "user"))
    actions = payload.get("actions")
    if not isinstance(container, dict) or not isinstance(channel, dict) \
            or not isinstance(user, dict) or not isinstance(actions, list) or not actions \
            or not isinstance(actions[0], dict):
        raise PayloadError("container, channel, user or actions missing")
    action = actions[0]
    action_id, value = action.get("action_id"), action.get("value")
    if not isinstance(value, str) or len(value) > 64:
        raise PayloadError("the button has no value")
    undo = None
    if action_id == UNDO:
        undo, _, value = value.partition(":")
        if undo not in PRESSES:
            raise PayloadError("undo of an unknown press")
    elif action_id not in PRESSES:
        raise PayloadError(f"unknown action_id {str(action_id)[:40]!r}")
    return Press(action=str(action_id), development=_development(value),
                 user=_id(user.get("id"), "user.id"),
                 channel_id=_id(channel.get("id"), "channel.id"),
                 message_ts=_id(container.get("message_ts"), "container.message_ts", "."),
                 undo=undo)


class Actions:
    """Receives presses (HTTP or Socket Mode), acknowledges them, carries them out in order."""

    def __init__(self, engine: Engine, delivery: Delivery, settings: Settings,
                 env: Mapping[str, str], clock: Callable[[], datetime] | None = None):
        self.engine = engine
        self.delivery = delivery
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        secret = (env.get("SLACK_SIGNING_SECRET") or "").strip()
        self.verifier = SignatureVerifier(secret) if secret else None
        self.inbox = settings.rules_dir / "tests" / inbox.FOLDER
        self._queue: queue.Queue[Press | None] = queue.Queue(maxsize=1000)
        self._worker: threading.Thread | None = None
        self.done: deque[Press] = deque(maxlen=100)  # the latest carried out, last last

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="actions", daemon=True)
            self._worker.start()

    def close(self) -> None:
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(10)
            self._worker = None

    # -- receiving ------------------------------------------------------------------------------

    def http(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """``POST /slack/actions``: (status, body). Verified first; answered at once."""
        if self.verifier is None:
            return 404, b"interactivity is off: set SLACK_SIGNING_SECRET\n"
        if len(body) > MAX_BODY:
            return 413, b"too large\n"
        if not self._verified(body, headers):
            return 401, b"invalid or stale signature\n"
        try:
            form = parse_qs(body.decode("utf-8"), max_num_fields=20, strict_parsing=False)
            raw = form.get("payload") or []
            if len(raw) != 1:
                raise PayloadError("no payload field")
            error = self.submit(json.loads(raw[0]))
        except (ValueError, RecursionError) as exc:
            error = f"unreadable payload ({type(exc).__name__})"
        if error:
            log.warning("Slack action refused: %s", error)
            return 400, (error + "\n").encode()
        return 200, b""

    def _verified(self, body: bytes, headers: Mapping[str, str]) -> bool:
        assert self.verifier is not None
        lowered = {k.lower(): v for k, v in headers.items()}
        stamp = lowered.get("x-slack-request-timestamp") or ""
        signature = lowered.get("x-slack-signature") or ""
        if not (1 <= len(stamp) <= 12 and stamp.isascii() and stamp.isdigit()) \
                or len(signature) > 100:
            return False
        try:
            return self.verifier.is_valid(body, stamp, signature)
        except (ValueError, UnicodeDecodeError):
            return False

    def submit(self, payload: Any) -> str | None:
        """Queue the press in a payload; the reason it was refused, or None."""
        try:
            press = parse_press(payload)
        except PayloadError as exc:
            return str(exc)
        try:
            self._queue.put_nowait(press)
        except queue.Full:
            return "too many presses waiting"
        if self._worker is None:
            self.start()
        return None

    # -- carrying out ---------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            press = self._queue.get()
            if press is None:
                return
            try:
                self.apply(press)
            except Exception:  # noqa: BLE001 - one bad press must not stop the others
                log.exception("Slack action %s on story #%s failed", press.action,
                              press.development)

    def apply(self, press: Press) -> Story | None:
        """Store the press on its story, then show it on the story's message."""
        story = stories.get(self.engine, press.development)
        if story is None or story.channel_id != press.channel_id \
                or story.message_ts != press.message_ts:
            log.warning("Slack action %s by %s: story #%s is not on message %s", press.action,
                        press.user, press.development, press.message_ts)
            return None
        now = self.clock()
        which = press.undo if press.action == UNDO else press.action
        if press.action == "mute":
            until = now + timedelta(hours=self.settings.slack.mute_hours)
            story = stories.mute(self.engine, story.development, press.user, until, now)
        elif press.action == "not_news":
            path = self._write_case(story, press.user, now)
            story = stories.dismiss(self.engine, story.development, press.user, now,
                                    str(path) if path else None)
        elif which == "mute":
            story = stories.unmute(self.engine, story.development, now)
        else:
            story, written = stories.undismiss(self.engine, story.development, now)
            if written:
                inbox.remove_case(Path(written), self.inbox)
        log.info("Slack action: %s%s on story #%s by %s", press.action,
                 f" {press.undo}" if press.undo else "", press.development, press.user)
        if story is not None and story.channel_id and story.message_ts:
            result = self.delivery.edit(story.channel_id, story.message_ts)
            if result.outcome != "sent":
                log.warning("story #%s: its message could not be edited now (%s); the next "
                            "delivery does it", story.development, result.reason)
        self.done.append(press)
        return story

    def _write_case(self, story: Story, user: str, now: datetime) -> Path | None:
        """The story's first article as a negative rule test in the inbox."""
        found = findings.list_findings(self.engine, finding_id=story.development)
        if not found:
            return None
        first = found[0]
        article = repo.load_article(self.engine, first.article_id)
        try:
            return inbox.write_case(self.inbox, story, first, article, user, now)
        except OSError as exc:
            log.error("story #%s: cannot write its rule test to %s: %s", story.development,
                      self.inbox, exc)
            return None
