"""A stand-in for Slack: a real HTTP server on 127.0.0.1 that the real slack_sdk talks to.

    with SlackStandIn() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url, retry_handlers=[])
        ...
        slack.messages      # every accepted message, in order (dicts)
        slack.updates       # every accepted chat.update
        slack.requests      # every API method called, in order

Web API methods: auth.test, chat.postMessage, chat.update, chat.getPermalink,
conversations.history, conversations.replies, conversations.list, conversations.info, and
apps.connections.open (Socket Mode: answers ``socket_url``, see tests/socket_standin.py). Bodies may be JSON or form
encoded (blocks/metadata as JSON strings), parameters may also come in the query string.
Slack's limits are enforced like Slack does (invalid_blocks, msg_too_long, no_text), so a
message that passes here is not rejected for its size by Slack.

Incoming webhooks: ``POST /webhook/<id>`` with ``{"text", "blocks"}`` answers ``ok``;
``slack.webhook_url`` is one such URL. Webhook posts are recorded in ``messages`` too (with
``via="webhook"``) and in ``webhook_messages``.

Failure controls (thread-safe): ``fail_next(n, error, status, retry_after, method)``,
``lose_next_response(n)`` (the request is carried out, the answer never arrives),
``set_down(True/False)`` / ``down(seconds)`` (connections are closed without an answer, or
answered 503 with ``down_mode="503"``), ``bad_token`` (invalid_auth), ``delay`` (seconds per
request), ``missing_channels`` / ``not_in_channels`` / ``archived_channels`` (names or ids).

As a separate process (for tests that kill the sender):

    python tests/slack_standin.py --port 0 --state-file F

prints ``READY <base_url> <webhook_url>`` on stdout, and appends one JSON line per accepted
message or update to F. ``POST /_control`` with ``{"action": "fail_next"|"set_down"|...}``
drives the controls and ``GET /_state`` returns the recorded messages as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

try:
    import pytest
except ImportError:  # usable as a script without pytest
    pytest = None  # type: ignore[assignment]

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
CONTEXT_ELEMENTS = 10
TEXT_LIMIT = 40000
FIELDS_LIMIT = 10
FIELD_LIMIT = 2000


def _u16(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def check_message(text: Any, blocks: Any) -> str | None:
    """The Slack error code a message would get for its shape or size, or None."""
    if not text and not blocks:
        return "no_text"
    if text is not None and not isinstance(text, str):
        return "invalid_arguments"
    if text and _u16(text) > TEXT_LIMIT:
        return "msg_too_long"
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        if not isinstance(block, dict):
            return "invalid_blocks"
        kind = block.get("type")
        if kind == "header":
            t = block.get("text") or {}
            if t.get("type") != "plain_text" or not t.get("text") or _u16(t["text"]) > HEADER_LIMIT:
                return "invalid_blocks"
        elif kind == "section":
            t = block.get("text")
            fields = block.get("fields")
            if t is None and not fields:
                return "invalid_blocks"
            if t is not None and (not isinstance(t, dict) or t.get("type") not in
                                  ("mrkdwn", "plain_text") or not t.get("text")
                                  or _u16(t["text"]) > SECTION_LIMIT):
                return "invalid_blocks"
            if fields and (len(fields) > FIELDS_LIMIT or any(
                    not f.get("text") or _u16(f["text"]) > FIELD_LIMIT for f in fields)):
                return "invalid_blocks"
        elif kind == "context":
            elements = block.get("elements")
            if not elements or len(elements) > CONTEXT_ELEMENTS:
                return "invalid_blocks"
            for e in elements:
                if e.get("type") in ("mrkdwn", "plain_text") and (
                        not e.get("text") or _u16(e["text"]) > SECTION_LIMIT):
                    return "invalid_blocks"
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
                return "invalid_blocks"
            ids = [e.get("action_id") for e in elements if isinstance(e, dict)]
            if len(ids) != len(elements) or len(set(ids)) != len(ids) \
                    or len(block.get("block_id") or "") > 255:
                return "invalid_blocks"
            for e in elements:
                t = e.get("text") or {}
                if e.get("type") == "button" and (
                        t.get("type") != "plain_text" or not 1 <= len(t.get("text") or "") <= 75
                        or len(e.get("value") or "") > 2000
                        or not 1 <= len(e.get("action_id") or "") <= 255):
                    return "invalid_blocks"
        elif kind in ("divider", "image", "rich_text"):
            continue
        else:
            return "invalid_blocks"
    return None


class SlackStandIn:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str | None = None,
                 state_file: str | None = None):
        self.host = host
        self.port = port
        self.token = token  # None: any non-empty bearer token is accepted
        self.state_file = state_file
        self.lock = threading.RLock()
        self.messages: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.webhook_messages: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self.channels: dict[str, str] = {}  # name -> id
        self.missing_channels: set[str] = set()
        self.not_in_channels: set[str] = set()
        self.archived_channels: set[str] = set()
        self.revoked_webhooks: set[str] = set()
        self.bad_token = False
        self.socket_url: str | None = None  # apps.connections.open answers it (Socket Mode)
        self.delay = 0.0
        self.down_mode = "close"  # or "503"
        self._down = False
        self._down_until = 0.0
        self._failures: deque[dict[str, Any]] = deque()
        self._lose_responses = 0
        self._seq = 0
        self._last_sec = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.channel_id("news-alerts")

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Self:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True,
                                        name="slack-standin")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/"

    @property
    def webhook_url(self) -> str:
        return f"http://{self.host}:{self.port}/webhook/T0001/B0001/hooksecret"

    # -- controls ------------------------------------------------------------------------------

    def fail_next(self, n: int = 1, error: str = "ratelimited", status: int | None = None,
                  retry_after: float | None = None, method: str | None = None) -> None:
        """The next ``n`` requests (of ``method``, or any) answer ``error`` with ``status``
        (429 with Retry-After for ratelimited unless told otherwise)."""
        if status is None:
            status = 429 if error in ("ratelimited", "rate_limited") else 200
        if retry_after is None and status == 429:
            retry_after = 1
        with self.lock:
            for _ in range(n):
                self._failures.append({"error": error, "status": status,
                                       "retry_after": retry_after, "method": method})

    def lose_next_response(self, n: int = 1) -> None:
        """The next ``n`` API requests are carried out (a message IS posted) but the connection
        is closed before the answer: the sender cannot know it succeeded."""
        with self.lock:
            self._lose_responses += n

    def _take_lost_response(self) -> bool:
        with self.lock:
            if self._lose_responses > 0:
                self._lose_responses -= 1
                return True
        return False

    def set_down(self, down: bool) -> None:
        with self.lock:
            self._down = down
            self._down_until = 0.0

    def down(self, seconds: float) -> None:
        with self.lock:
            self._down_until = time.monotonic() + seconds

    @property
    def is_down(self) -> bool:
        with self.lock:
            return self._down or time.monotonic() < self._down_until

    def channel_id(self, name_or_id: str) -> str:
        name = name_or_id.lstrip("#")
        with self.lock:
            if name in self.channels.values():
                return name
            if name not in self.channels:
                self.channels[name] = f"C{len(self.channels) + 1:08d}"
            return self.channels[name]

    def channel_name(self, channel_id: str) -> str | None:
        with self.lock:
            for name, cid in self.channels.items():
                if cid == channel_id:
                    return name
        return None

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        cid = self.channel_id(channel)
        with self.lock:
            return [m for m in self.messages if m.get("channel") == cid]

    def _take_failure(self, method: str) -> dict[str, Any] | None:
        with self.lock:
            for i, f in enumerate(self._failures):
                if f["method"] in (None, method):
                    del self._failures[i]
                    return f
        return None

    def _next_ts(self) -> str:
        with self.lock:
            self._seq += 1
            self._last_sec = max(self._last_sec, int(time.time()))
            return f"{self._last_sec}.{self._seq:06d}"

    def _record(self, kind: str, entry: dict[str, Any]) -> None:
        if not self.state_file:
            return
        with self.lock, open(self.state_file, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"type": kind, **entry}) + "\n")
            fh.flush()

    # -- API methods (called with the lock NOT held; return (status, body, headers)) --------

    def _resolve(self, channel: Any) -> tuple[str | None, str | None]:
        if not channel or not isinstance(channel, str):
            return None, "channel_not_found"
        name = channel.lstrip("#")
        with self.lock:
            if name in self.missing_channels or channel in self.missing_channels:
                return None, "channel_not_found"
            cid = self.channel_id(name)
            cname = self.channel_name(cid) or name
            for bad, code in ((self.not_in_channels, "not_in_channel"),
                              (self.archived_channels, "is_archived")):
                if cid in bad or cname in bad or f"#{cname}" in bad:
                    return None, code
        return cid, None

    def api(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://standin.slack.test/", "team": "Stand-in",
                    "user": "watcher", "team_id": "T0001", "user_id": "U0WATCHER",
                    "bot_id": "B0WATCHER"}
        if method == "chat.postMessage":
            return self._post(params)
        if method == "chat.update":
            return self._update(params)
        if method == "chat.getPermalink":
            cid, err = self._resolve(params.get("channel"))
            ts = params.get("message_ts")
            with self.lock:
                found = next((m for m in self.messages if m["channel"] == cid
                              and m["ts"] == ts), None) if not err else None
            if found is None:
                return {"ok": False, "error": err or "message_not_found"}
            link = f"https://standin.slack.test/archives/{cid}/p{ts.replace('.', '')}"
            if found["thread_ts"]:
                link += f"?thread_ts={found['thread_ts']}&cid={cid}"
            return {"ok": True, "channel": cid, "permalink": link}
        if method == "apps.connections.open":
            return self._connections_open()
        if method == "conversations.history":
            return self._history(params)
        if method == "conversations.replies":
            return self._replies(params)
        if method == "conversations.list":
            with self.lock:
                chans = [{"id": cid, "name": name, "is_channel": True,
                          "is_archived": name in self.archived_channels}
                         for name, cid in self.channels.items()
                         if name not in self.missing_channels]
            return {"ok": True, "channels": chans, "response_metadata": {"next_cursor": ""}}
        if method == "conversations.info":
            cid, err = self._resolve(params.get("channel"))
            if err == "channel_not_found":
                return {"ok": False, "error": err}
            cid = cid or self.channel_id(params["channel"])
            return {"ok": True, "channel": {"id": cid, "name": self.channel_name(cid)}}
        return {"ok": False, "error": "unknown_method"}

    def _connections_open(self) -> dict[str, Any]:
        """Socket Mode: the WebSocket URL to connect to (``socket_url``; an app-level token)."""
        with self.lock:
            if not self.socket_url:
                return {"ok": False, "error": "not_allowed_token_type"}
            return {"ok": True, "url": self.socket_url}

    def _post(self, p: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._resolve(p.get("channel"))
        if err:
            return {"ok": False, "error": err}
        text, blocks = p.get("text"), p.get("blocks")
        err = check_message(text, blocks)
        if err:
            return {"ok": False, "error": err}
        thread_ts = p.get("thread_ts") or None
        with self.lock:
            if thread_ts and not any(m["ts"] == thread_ts and m["channel"] == cid
                                     for m in self.messages):
                return {"ok": False, "error": "thread_not_found"}
            message = {
                "via": "api",
                "channel": cid,
                "text": text or "",
                "blocks": blocks or [],
                "metadata": p.get("metadata"),
                "thread_ts": thread_ts,
                "reply_broadcast": bool(p.get("reply_broadcast")),
                "unfurl_links": p.get("unfurl_links"),
                "unfurl_media": p.get("unfurl_media"),
                "ts": self._next_ts(),
            }
            self.messages.append(message)
            self._record("message", message)
        return {"ok": True, "channel": cid, "ts": message["ts"], "message": _public(message, True)}

    def _update(self, p: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._resolve(p.get("channel"))
        if err:
            return {"ok": False, "error": err}
        err = check_message(p.get("text"), p.get("blocks"))
        if err:
            return {"ok": False, "error": err}
        with self.lock:
            for m in self.messages:
                if m["channel"] == cid and m["ts"] == p.get("ts"):
                    if p.get("text") is not None:
                        m["text"] = p["text"]
                    if p.get("blocks") is not None:
                        m["blocks"] = p["blocks"]
                    if p.get("metadata") is not None:
                        m["metadata"] = p["metadata"]
                    update = {"channel": cid, "ts": m["ts"], "text": m["text"],
                              "blocks": m["blocks"], "metadata": m["metadata"]}
                    self.updates.append(update)
                    self._record("update", update)
                    return {"ok": True, "channel": cid, "ts": m["ts"], "text": m["text"]}
        return {"ok": False, "error": "message_not_found"}

    def _page(self, items: list[dict[str, Any]], p: dict[str, Any]) -> dict[str, Any]:
        try:
            limit = max(1, min(int(p.get("limit") or 100), 1000))
            start = int(str(p.get("cursor") or "0").removeprefix("next:"))
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        page = items[start:start + limit]
        more = start + limit < len(items)
        meta = bool(p.get("include_all_metadata")) and str(p["include_all_metadata"]).lower() \
            not in ("0", "false")
        return {"ok": True, "messages": [_public(m, meta) for m in page], "has_more": more,
                "response_metadata": {"next_cursor": f"next:{start + limit}" if more else ""}}

    def _history(self, p: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._resolve(p.get("channel"))
        if err:
            return {"ok": False, "error": err}
        oldest = float(p.get("oldest") or 0)
        latest = float(p.get("latest") or "inf")
        with self.lock:
            items = [m for m in self.messages if m["channel"] == cid
                     and (not m["thread_ts"] or m["reply_broadcast"])
                     and oldest < float(m["ts"]) <= latest]
        return self._page(list(reversed(items)), p)

    def _replies(self, p: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._resolve(p.get("channel"))
        if err:
            return {"ok": False, "error": err}
        ts = p.get("ts")
        with self.lock:
            parent = [m for m in self.messages if m["channel"] == cid and m["ts"] == ts]
            if not parent:
                return {"ok": False, "error": "thread_not_found"}
            replies = [m for m in self.messages if m["channel"] == cid and m["thread_ts"] == ts]
        return self._page(parent + replies, p)

    def webhook(self, hook: str, p: dict[str, Any]) -> tuple[int, str]:
        if hook in self.revoked_webhooks:
            return 404, "no_service"
        err = check_message(p.get("text"), p.get("blocks"))
        if err:
            return 400, "invalid_blocks" if err == "invalid_blocks" else err
        with self.lock:
            message = {"via": "webhook", "channel": f"webhook:{hook}", "text": p.get("text") or "",
                       "blocks": p.get("blocks") or [], "metadata": p.get("metadata"),
                       "thread_ts": p.get("thread_ts"), "reply_broadcast": False,
                       "unfurl_links": p.get("unfurl_links"),
                       "unfurl_media": p.get("unfurl_media"), "ts": None}
            self.webhook_messages.append(message)
            self.messages.append(message)
            self._record("webhook", message)
        return 200, "ok"

    def control(self, p: dict[str, Any]) -> dict[str, Any]:
        action = p.pop("action", None)
        if action == "fail_next":
            self.fail_next(**p)
        elif action == "set_down":
            self.set_down(bool(p.get("down", True)))
        elif action == "down":
            self.down(float(p["seconds"]))
        elif action == "bad_token":
            self.bad_token = bool(p.get("value", True))
        elif action == "lose_next_response":
            self.lose_next_response(int(p.get("n", 1)))
        elif action == "delay":
            self.delay = float(p.get("seconds", 0))
        elif action == "missing_channel":
            self.missing_channels.add(p["channel"].lstrip("#"))
        else:
            return {"ok": False, "error": f"unknown action {action!r}"}
        return {"ok": True}

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"messages": list(self.messages), "updates": list(self.updates),
                    "requests": list(self.requests), "channels": dict(self.channels)}


def _public(m: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    out = {"type": "message", "user": "U0WATCHER", "bot_id": "B0WATCHER", "ts": m["ts"],
           "text": m["text"], "blocks": m["blocks"]}
    if m["thread_ts"]:
        out["thread_ts"] = m["thread_ts"]
    if with_metadata and m.get("metadata"):
        out["metadata"] = m["metadata"]
    return out


def _parse_body(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        data = json.loads(raw.decode("utf-8"))
        return data if isinstance(data, dict) else {}
    if content_type.startswith("multipart/form-data"):
        return _parse_multipart(content_type, raw)
    return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))


def _parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    boundary = content_type.split("boundary=", 1)[1].strip().encode()
    out: dict[str, Any] = {}
    for part in raw.split(b"--" + boundary):
        if b"\r\n\r\n" not in part:
            continue
        head, _, body = part.partition(b"\r\n\r\n")
        name = head.decode("utf-8", "replace").split('name="', 1)
        if len(name) == 2:
            out[name[1].split('"', 1)[0]] = body.removesuffix(b"\r\n").decode("utf-8", "replace")
    return out


def _decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    for key in ("blocks", "metadata", "attachments"):
        value = params.get(key)
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = "invalid"
    for key in ("reply_broadcast", "unfurl_links", "unfurl_media", "include_all_metadata"):
        value = params.get(key)
        if isinstance(value, str):
            params[key] = value.lower() in ("1", "true")
    return params


class _Handler(BaseHTTPRequestHandler):
    owner: SlackStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _reply(self, status: int, body: str | dict[str, Any],
               headers: dict[str, str] | None = None) -> None:
        if isinstance(body, dict):
            data = json.dumps(body).encode("utf-8")
            ctype = "application/json; charset=utf-8"
        else:
            data = body.encode("utf-8")
            ctype = "text/plain; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        owner = self.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        path = url.path

        if path == "/_state":
            return self._reply(200, owner.state())
        if path == "/_control":
            return self._reply(200, owner.control(json.loads(raw or b"{}")))

        if owner.delay:
            time.sleep(owner.delay)
        if owner.is_down:
            if owner.down_mode == "503":
                return self._reply(503, "Service Unavailable")
            return self._drop()

        if path.startswith("/webhook/"):
            hook = path.removeprefix("/webhook/")
            with owner.lock:
                owner.requests.append("webhook")
            failure = owner._take_failure("webhook")
            if failure:
                headers = {}
                if failure["retry_after"] is not None:
                    headers["Retry-After"] = str(failure["retry_after"])
                status = failure["status"] if failure["status"] != 200 else 400
                return self._reply(status, failure["error"], headers)
            try:
                params = _parse_body(self.headers.get("Content-Type", ""), raw)
            except ValueError:
                return self._reply(400, "invalid_payload")
            status, body = owner.webhook(hook, params)
            return self._reply(status, body)

        if not path.startswith("/api/"):
            return self._reply(404, "not found")
        method = path.removeprefix("/api/")
        with owner.lock:
            owner.requests.append(method)

        failure = owner._take_failure(method)
        if failure:
            headers = {}
            if failure["retry_after"] is not None:
                headers["Retry-After"] = str(failure["retry_after"])
            return self._reply(failure["status"], {"ok": False, "error": failure["error"]},
                               headers)

        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not token:
            return self._reply(200, {"ok": False, "error": "not_authed"})
        if owner.bad_token or (owner.token is not None and token != owner.token):
            return self._reply(200, {"ok": False, "error": "invalid_auth"})

        try:
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            params.update(_parse_body(self.headers.get("Content-Type", ""), raw))
        except (ValueError, UnicodeDecodeError):
            return self._reply(200, {"ok": False, "error": "invalid_json"})
        try:
            result = owner.api(method, _decode_json_fields(params))
        except Exception as exc:  # noqa: BLE001 - a stand-in bug must show, not hang the client
            return self._reply(500, {"ok": False, "error": "internal_error",
                                     "detail": repr(exc)})
        if owner._take_lost_response():
            return self._drop()
        return self._reply(200, result)

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(2)
        except OSError:
            pass


# -- helpers for tests that inspect what the stand-in received ---------------------------------

NASTY = ["<!channel>", "<!here>", "<@U123>", "<https://x|y>", "&amp;", "<#C123>",
         "<!subteam^S1>", "<!everyone>"]
NASTY_TEXT = " ".join(NASTY)  # feed text that must never become a mention or a link
_WRAPPER = re.compile(r"<([^<>]*)>")


def texts_of(message: dict[str, Any]) -> Iterator[str]:
    """Every text Slack would parse in a recorded message: ``text`` and every block text."""
    yield message.get("text") or ""
    for block in message.get("blocks") or []:
        if isinstance(block.get("text"), dict):
            yield block["text"]["text"]
        for element in block.get("elements") or []:
            if isinstance(element, dict) and "text" in element:
                yield element["text"]
        for field in block.get("fields") or []:
            yield field["text"]


def all_text(message: dict[str, Any]) -> str:
    return "\n".join(texts_of(message))


def control_sequences(text: str) -> list[str]:
    """The contents of every ``<...>`` in ``text`` (links, mentions, dates...)."""
    return _WRAPPER.findall(text)


def assert_no_injection(message: dict[str, Any], allowed_urls: set[str]) -> None:
    """Only links to ``allowed_urls`` (as escaped in a link) may be control sequences."""
    escaped = {u.replace("&", "&amp;") for u in allowed_urls}
    for text in texts_of(message):
        for seq in control_sequences(text):
            url, sep, title = seq.partition("|")
            assert sep and url in escaped, f"unexpected control sequence <{seq}> in {text!r}"
            assert "|" not in title and "<" not in title and ">" not in title
        stripped = _WRAPPER.sub("", text)
        assert "<" not in stripped and ">" not in stripped, f"stray < or > in {text!r}"
        for bad in ("<!", "<@", "<#"):
            assert bad not in text, f"{bad} in {text!r}"


if pytest is not None:

    @pytest.fixture
    def slack() -> Iterator[SlackStandIn]:
        """A running Slack stand-in; see the module docstring."""
        with SlackStandIn() as standin:
            yield standin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Slack stand-in as a process.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state-file", default=None)
    parser.add_argument("--token", default=None)
    args = parser.parse_args(argv)
    standin = SlackStandIn(args.host, args.port, token=args.token, state_file=args.state_file)
    standin.start()
    print(f"READY {standin.base_url} {standin.webhook_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
