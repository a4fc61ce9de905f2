"""Stories through `watcher run`: a real feed and real pages on 127.0.0.1, the real slack_sdk
against the Slack stand-in, and button presses sent the way Slack sends them: a signed,
form-encoded ``payload`` of type ``block_actions`` to ``POST /slack/actions``, or an envelope
over the Socket Mode stand-in."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

from tests.conftest import ROOT, article_page, rss, write_config
from tests.httpserver import Reply
from tests.slack_standin import SlackStandIn
from tests.socket_standin import SocketStandIn

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ALICE, BOB = "U0ALICE", "U0BOB"

# (id, outlet, title, text, published)
SUMMIT = ("summit", "Outlet A", "Trump and Kim to meet in Ulaanbaatar in September",
          "President Trump and North Korean leader Kim Jong Un will hold a summit in "
          "Ulaanbaatar, Mongolia, in the second week of September, the White House said on "
          "Wednesday.", datetime(2026, 7, 1, 9, tzinfo=UTC))
SUMMIT_AGAIN = ("summit-again", "Outlet D", "Trump and Kim to meet in Ulaanbaatar, says Mongolia",
                "President Trump and North Korean leader Kim Jong Un will hold a summit in "
                "Ulaanbaatar, Mongolia, in the second week of September, Mongolia's foreign "
                "ministry said on Thursday.", datetime(2026, 7, 2, 9, tzinfo=UTC))
SUMMIT_POSTPONED = ("summit-postponed", "Outlet B", "Trump-Kim summit in Mongolia postponed",
                    "The planned summit between President Trump and Kim Jong Un in Ulaanbaatar "
                    "has been postponed, the White House said on Thursday.",
                    datetime(2026, 8, 20, 10, tzinfo=UTC))
SUMMIT_OCTOBER = ("summit-october", "Outlet C",
                  "Postponed Trump-Kim summit in Mongolia set for October",
                  "The postponed summit between President Trump and Kim Jong Un in Ulaanbaatar "
                  "will now take place in October, the White House said on Monday.",
                  datetime(2026, 8, 24, 10, tzinfo=UTC))
TRIP = ("trip", "Outlet E", "Pompeo to visit Malaysia and Indonesia next week",
        "Secretary of State Mike Pompeo will travel to Kuala Lumpur and Jakarta from August 2 "
        "to 5, the State Department said on Tuesday.", datetime(2026, 7, 28, 9, tzinfo=UTC))
TRIP_POSTPONED = ("trip-postponed", "Outlet F", "Pompeo postpones trip to Malaysia and Indonesia",
                  "Secretary of State Mike Pompeo has postponed his trip to Kuala Lumpur and "
                  "Jakarta, the State Department said on Wednesday.",
                  datetime(2026, 7, 29, 9, tzinfo=UTC))
TRIP_CANCELLED = ("trip-cancelled", "Outlet G", "Pompeo trip to Malaysia and Indonesia called off",
                  "Secretary of State Mike Pompeo has cancelled his trip to Kuala Lumpur and "
                  "Jakarta, the State Department said on Thursday.",
                  datetime(2026, 7, 30, 9, tzinfo=UTC))
TOKYO = ("tokyo", "Outlet H", "Pompeo to visit Tokyo and Seoul in October",
         "Secretary of State Mike Pompeo will travel to Tokyo and Seoul on October 6, the State "
         "Department said on Friday.", datetime(2026, 7, 31, 9, tzinfo=UTC))
TOKYO_CANCELLED = ("tokyo-cancelled", "Outlet J", "Pompeo cancels Tokyo and Seoul trip",
                   "Secretary of State Mike Pompeo has cancelled his trip to Tokyo and Seoul, "
                   "the State Department said on Monday.", datetime(2026, 8, 3, 12, tzinfo=UTC))
TWO_STORIES = ("two-stories", "Outlet K", "Trump and Kim to meet in Ulaanbaatar; Pompeo to visit "
               "Vienna", "President Trump and North Korean leader Kim Jong Un will hold a summit "
               "in Ulaanbaatar, Mongolia, in the second week of November, the White House said "
               "on Wednesday. Separately, Secretary of State Mike Pompeo will travel to Vienna on "
               "August 20, the State Department said.", datetime(2026, 8, 4, 9, tzinfo=UTC))


class News:
    """A feed on the test server whose items can be added while the service runs."""

    def __init__(self, http_server: Any):
        self.server = http_server
        self.items: list[dict[str, Any]] = []
        self.url = http_server.route("/news.rss", Reply(body=rss([])))

    def add(self, *stories: tuple[str, str, str, str, datetime]) -> None:
        for sid, outlet, title, text, published in stories:
            path = f"/news/{sid}.html"
            self.server.route(path, Reply(body=article_page(title, [text], published,
                                                            outlet=outlet)))
            self.items.append({"title": title, "link": self.server.url(path),
                               "published": published, "summary": text[:100]})
        self.server.route("/news.rss", Reply(body=rss(self.items),
                                             content_type="application/rss+xml"))

    def link(self, sid: str) -> str:
        return self.server.url(f"/news/{sid}.html")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def service(tmp_path: Path, slack: SlackStandIn, feed: str, env: dict[str, str]
            ) -> Iterator[tuple[int, Path]]:
    """`watcher run` with a copy of the rules, feeds polled every second, /slack/actions."""
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    for f in (ROOT / "rules").glob("*.yaml"):
        shutil.copy(f, rules / f.name)
    port = _free_port()
    cfg = write_config(tmp_path, feeds=[feed], slack_base_url=slack.base_url, rules=rules,
                       slack_extra="digest_after = 0",
                       extra=f'[schedule]\ninterval = 1\n[http]\nlisten = "127.0.0.1:{port}"')
    full = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    full.update({"SLACK_BOT_TOKEN": "xoxb-test", **env})
    log = open(tmp_path / "service.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "watcher.cli", "run", "--config", str(cfg)],
                            cwd=ROOT, env=full, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield port, rules
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        log.close()
        assert code == 0, (tmp_path / "service.log").read_text()[-3000:]


def top_level(slack: SlackStandIn) -> list[dict[str, Any]]:
    return [m for m in slack.messages if not m["thread_ts"]]


def replies(slack: SlackStandIn, parent: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in slack.messages if m["thread_ts"] == parent["ts"]]


def text_of(message: dict[str, Any]) -> str:
    return message["text"] + json.dumps(message["blocks"], ensure_ascii=False)


def naming(slack: SlackStandIn, url: str) -> dict[str, Any] | None:
    return next((m for m in top_level(slack) if url in text_of(m)), None)


def button(message: dict[str, Any], action_id: str, development: int | None = None
           ) -> tuple[str, str]:
    """(block_id, value) of a button of the message, as Slack would send them back."""
    for block in message["blocks"]:
        if block["type"] != "actions":
            continue
        for element in block["elements"]:
            if element["action_id"] == action_id and (
                    development is None or block["block_id"] == f"story-{development}"):
                return block["block_id"], element["value"]
    raise AssertionError(f"no {action_id} button in {message['text'][:80]!r}")


def block_actions(message: dict[str, Any], action_id: str, user: str,
                  development: int | None = None) -> dict[str, Any]:
    """The payload Slack sends when ``user`` presses a button of ``message``."""
    block_id, value = button(message, action_id, development)
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0001"},
        "api_app_id": "A0WATCHER", "token": "verification-token-deprecated",
        "container": {"type": "message", "message_ts": message["ts"],
                      "channel_id": message["channel"], "is_ephemeral": False},
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "team": {"id": "T0001", "domain": "standin"}, "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": message["channel"], "name": "news-alerts"},
        "message": {"type": "message", "user": "U0WATCHER", "ts": message["ts"],
                    "bot_id": "B0WATCHER", "text": message["text"], "blocks": message["blocks"]},
        "state": {"values": {}},
        "response_url": "https://hooks.slack.test/actions/T0001/1/standin",
        "actions": [{"action_id": action_id, "block_id": block_id,
                     "text": {"type": "plain_text", "text": "x", "emoji": True},
                     "value": value, "type": "button", "action_ts": f"{time.time():.6f}"}],
    }


def post_action(port: int, payload: dict[str, Any], *, secret: str = SECRET,
                age: float = 0) -> tuple[int, float]:
    """Sign and POST a payload as Slack does; (status, seconds until the answer)."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    stamp = str(int(time.time() - age))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body,
                      hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    started = time.monotonic()
    try:
        conn.request("POST", "/slack/actions", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    finally:
        conn.close()


def alert_errors(tmp_path: Path) -> dict[str, str]:
    """Article URL -> the state and error of its outbox row."""
    db = sqlite3.connect(tmp_path / "watcher.db")
    try:
        rows = db.execute("SELECT a.payload, a.state, a.error FROM alerts a").fetchall()
    finally:
        db.close()
    return {json.loads(p)["article_url"]: f"{state}: {error}" for p, state, error in rows}


def story_rows(tmp_path: Path) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(tmp_path / "watcher.db")
    try:
        return db.execute("SELECT development_id, mute_until, muted_by, dismissed, dismissed_by "
                          "FROM stories ORDER BY development_id").fetchall()
    finally:
        db.close()


def test_a_story_is_one_thread_whose_first_message_shows_its_state(http_server, tmp_path):
    news = News(http_server)
    with SlackStandIn() as slack, service(tmp_path, slack, news.url, {}):
        news.add(SUMMIT)
        wait_for(lambda: top_level(slack), "the new summit")
        news.add(SUMMIT_AGAIN)  # another outlet, nothing new: the count goes up, no post
        wait_for(lambda: "Reported by 2 outlets" in text_of(top_level(slack)[0]),
                 "the count to go up")
        assert len(slack.messages) == 1
        news.add(SUMMIT_POSTPONED)
        wait_for(lambda: len(slack.messages) == 2, "the postponement")
        news.add(SUMMIT_OCTOBER)
        wait_for(lambda: len(slack.messages) == 3, "the new date")
        [first] = top_level(slack)
        wait_for(lambda: "October 2026" in text_of(first), "the first message to show the date")

        thread = replies(slack, first)
        assert len(thread) == 2  # one top-level message, two replies saying what changed
        assert news.link("summit-postponed") in text_of(thread[0])
        assert "*status:* postponed _(was: announced)_" in text_of(thread[0])
        assert news.link("summit-october") in text_of(thread[1])
        assert "October 2026" in text_of(thread[1]) and "Sep 8-14" in text_of(thread[1])
        state = first["blocks"][1]["text"]["text"]  # the state line, edited in place
        assert state.startswith("*Status:* postponed · *When:* October 2026 · *Where:* "
                                "Ulaanbaatar, Mongolia"), state
        assert state.endswith("Reported by 4 outlets"), state
        header = first["blocks"][0]["text"]["text"]
        assert header == "Trump-Kim summit postponed: Ulaanbaatar, Mongolia, October 2026"
        assert news.link("summit") in text_of(first)  # the first report stays its source
        assert news.link("summit-again") not in json.dumps(slack.messages)  # counted, not named
        # no buttons: nobody could press them (no signing secret, no Socket Mode)
        assert not any(b["type"] == "actions" for b in first["blocks"])
        assert slack.updates and all(u["ts"] == first["ts"] for u in slack.updates)


def test_buttons_pressed_with_signed_requests(http_server, tmp_path):
    news = News(http_server)
    with SlackStandIn() as slack, \
            service(tmp_path, slack, news.url, {"SLACK_SIGNING_SECRET": SECRET}) as (port, rules):
        news.add(SUMMIT, TRIP, TOKYO)
        wait_for(lambda: len(top_level(slack)) == 3, "three stories")
        summit, trip = naming(slack, news.link("summit")), naming(slack, news.link("trip"))
        assert summit is not None and trip is not None
        assert button(summit, "mute")[1] == button(summit, "not_news")[1]

        # Forged or stale: 401, and nothing changes.
        before = (len(slack.updates), story_rows(tmp_path))
        press = block_actions(summit, "mute", BOB)
        assert post_action(port, press, secret="not-the-secret")[0] == 401
        assert post_action(port, press, age=600)[0] == 401  # valid, but 10 minutes old
        tampered = json.loads(json.dumps(press))
        tampered["actions"][0]["value"] = button(trip, "mute")[1]
        body = urlencode({"payload": json.dumps(tampered)}).encode()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/slack/actions", body=body, headers={
            "X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"})
        assert conn.getresponse().status == 401
        conn.close()
        time.sleep(1.5)
        assert (len(slack.updates), story_rows(tmp_path)) == before

        # Mute the summit: answered at once, the message names who pressed.
        status, took = post_action(port, block_actions(summit, "mute", ALICE))
        assert status == 200 and took < 3.0, took
        print(f"\nmute press answered in {took * 1000:.1f} ms")
        edited = wait_for(lambda: [u for u in slack.updates if u["ts"] == summit["ts"]
                                   and f"<@{ALICE}>" in text_of(u)], "the mute to show")
        assert "Muted by <@U0ALICE> until" in text_of(edited[-1])
        assert button(summit, "undo")[1] == f"mute:{button(summit, 'not_news')[1]}"

        # The muted story's update is not posted; an untouched story's update and a new
        # story (two rules in one article: one top-level message) are.
        tokyo = naming(slack, news.link("tokyo"))
        assert tokyo is not None
        news.add(SUMMIT_POSTPONED, TOKYO_CANCELLED, TWO_STORIES)
        wait_for(lambda: replies(slack, tokyo) and naming(slack, news.link("two-stories")),
                 "the untouched story's update and the new stories")
        wait_for(lambda: news.link("summit-postponed") in alert_errors(tmp_path),
                 "the muted story's update to be stored")
        wait_for(lambda: alert_errors(tmp_path)[news.link("summit-postponed")].startswith(
            "folded"), "the muted update to be dealt with")
        assert "muted by U0ALICE" in alert_errors(tmp_path)[news.link("summit-postponed")]
        assert replies(slack, summit) == []
        # (no message names it; the muted story's own message, edited in place, may)
        assert not [m for m in slack.messages if m["ts"] != summit["ts"]
                    and news.link("summit-postponed") in text_of(m)]
        both = naming(slack, news.link("two-stories"))
        assert both is not None
        assert len([m for m in top_level(slack) if news.link("two-stories") in text_of(m)]) == 1
        assert "Vienna" in text_of(both) and "Nov 8-14" in text_of(both)
        assert len([b for b in both["blocks"] if b["type"] == "actions"]) == 2  # one per story

        # Not news: the article goes to the inbox, follow-ups stay quiet.
        assert post_action(port, block_actions(trip, "not_news", BOB))[0] == 200
        inbox = rules / "tests" / "inbox"
        [case_file] = wait_for(lambda: list(inbox.glob("*.yaml")), "the inbox file")
        case = yaml.safe_load(case_file.read_text())["tests"][0]
        assert case["url"] == news.link("trip") and case["expect"] == []
        assert "Kuala Lumpur" in case["text"] and case["rules"] == ["pompeo-trip"]
        assert case["finding"]["rule"] == "pompeo-trip" and case["finding"]["kind"] == "new"
        wait_for(lambda: any(f"<@{BOB}>" in text_of(u) for u in slack.updates
                             if u["ts"] == trip["ts"]), "not news to show")
        news.add(TRIP_POSTPONED)
        wait_for(lambda: alert_errors(tmp_path).get(news.link("trip-postponed"), "").startswith(
            "folded"), "the dismissed story's follow-up")
        assert "marked not news by U0BOB" in alert_errors(tmp_path)[news.link("trip-postponed")]
        assert replies(slack, trip) == []
        listed = subprocess.run([sys.executable, "-m", "watcher.cli", "rules", "test", "--inbox",
                                 str(rules)], cwd=ROOT, capture_output=True, text=True,
                                timeout=120)
        assert "not news (story #" in listed.stdout, listed.stdout

        # Undo restores both: the file is gone, follow-ups post again.
        assert post_action(port, block_actions(trip, "undo", BOB))[0] == 200
        wait_for(lambda: not list(inbox.glob("*.yaml")), "the inbox file to go")
        wait_for(lambda: not any(row[3] for row in story_rows(tmp_path)), "the undo")
        news.add(TRIP_CANCELLED)
        reply = wait_for(lambda: replies(slack, trip), "the follow-up after undo")
        assert news.link("trip-cancelled") in text_of(reply[0])
        assert "Marked *not news*" not in text_of(wait_for(
            lambda: [u for u in slack.updates if u["ts"] == trip["ts"]], "")[-1])


def test_socket_mode_delivers_the_same_press(http_server, tmp_path):
    news = News(http_server)
    with SlackStandIn() as slack, SocketStandIn() as ws, \
            service(tmp_path, slack, news.url, {"SLACK_APP_TOKEN": "xapp-1-A0WATCHER-1-x"}):
        slack.socket_url = ws.url
        assert ws.wait_connected(60), "the service did not open a Socket Mode connection"
        assert "apps.connections.open" in slack.requests
        news.add(SUMMIT)
        [summit] = wait_for(lambda: top_level(slack), "the new summit")
        envelope = ws.send_interactive(block_actions(summit, "mute", ALICE))
        took = ws.wait_ack(envelope, 3.0)
        assert took is not None, "no acknowledgement within 3 s"
        print(f"\nSocket Mode press acknowledged in {took * 1000:.1f} ms")
        wait_for(lambda: any(f"<@{ALICE}>" in text_of(u) for u in slack.updates),
                 "the press to show")
        [(_, mute_until, muted_by, _, _)] = story_rows(tmp_path)
        assert mute_until and muted_by == ALICE
        news.add(SUMMIT_POSTPONED)
        wait_for(lambda: alert_errors(tmp_path).get(news.link("summit-postponed"), "")
                 .startswith("folded"), "the muted update")
        assert replies(slack, summit) == []
