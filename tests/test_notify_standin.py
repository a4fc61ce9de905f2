"""The Slack stand-in itself: it enforces Slack's limits and behaves like the API the notifier
and the end-to-end tests rely on, in-process and as a separate process."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.slack_standin import SlackStandIn, slack  # noqa: F401 - slack is the fixture

STANDIN = Path(__file__).with_name("slack_standin.py")


def client(standin: SlackStandIn, token: str = "xoxb-t") -> WebClient:
    return WebClient(token=token, base_url=standin.base_url, retry_handlers=[])


def error_of(call, **kwargs) -> str:
    with pytest.raises(SlackApiError) as info:
        call(**kwargs)
    return info.value.response["error"]


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.mark.filterwarnings("ignore:The top-level `text`")
def test_limits_are_enforced(slack):  # noqa: F811
    c = client(slack)
    post = c.chat_postMessage
    assert error_of(post, channel="#news-alerts", blocks=[section("x")] * 51, text="t") == \
        "invalid_blocks"
    assert error_of(post, channel="#news-alerts", blocks=[section("x" * 3001)], text="t") == \
        "invalid_blocks"
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    assert error_of(post, channel="#news-alerts", blocks=[header], text="t") == "invalid_blocks"
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}
    assert error_of(post, channel="#news-alerts", blocks=[context], text="t") == "invalid_blocks"
    assert error_of(post, channel="#news-alerts", text="x" * 40001) == "msg_too_long"
    assert error_of(post, channel="#news-alerts", text="") == "no_text"
    assert slack.messages == []
    ok = post(channel="#news-alerts", blocks=[section("x" * 3000)] * 50, text="x" * 40000)
    assert ok["ok"] and len(slack.messages) == 1


def test_form_encoded_calls_and_history_pagination(slack):  # noqa: F811
    c = client(slack)
    # api_call with params= sends a form-encoded body (blocks and metadata as JSON strings)
    for i in range(5):
        c.api_call("chat.postMessage", params={
            "channel": "news-alerts", "text": f"m{i}", "blocks": json.dumps([section(f"m{i}")]),
            "metadata": json.dumps({"event_type": "e", "event_payload": {"i": i}})})
    channel = slack.channel_id("#news-alerts")
    assert [m["channel"] for m in slack.messages] == [channel] * 5
    seen, cursor = [], None
    while True:
        page = c.conversations_history(channel=channel, limit=2, cursor=cursor,
                                       include_all_metadata=True)
        seen += [m["metadata"]["event_payload"]["i"] for m in page["messages"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == [4, 3, 2, 1, 0]  # newest first
    page = c.conversations_history(channel=channel)
    assert "metadata" not in page["messages"][0]


def test_ts_increase_and_threads(slack):  # noqa: F811
    c = client(slack)
    a = c.chat_postMessage(channel="#news-alerts", text="a")
    b = c.chat_postMessage(channel="#news-alerts", text="b", thread_ts=a["ts"])
    d = c.chat_postMessage(channel="#news-alerts", text="d")
    assert float(a["ts"]) < float(b["ts"]) < float(d["ts"])
    history = c.conversations_history(channel=a["channel"])["messages"]
    assert [m["text"] for m in history] == ["d", "a"]  # replies stay in the thread
    replies = c.conversations_replies(channel=a["channel"], ts=a["ts"])["messages"]
    assert [m["text"] for m in replies] == ["a", "b"]
    assert error_of(c.chat_postMessage, channel="#news-alerts", text="x",
                    thread_ts="1.1") == "thread_not_found"


def test_update_auth_and_channels(slack):  # noqa: F811
    c = client(slack)
    a = c.chat_postMessage(channel="#news-alerts", text="a")
    c.chat_update(channel=a["channel"], ts=a["ts"], text="a2")
    assert slack.messages[0]["text"] == "a2" and slack.updates[0]["text"] == "a2"
    assert c.auth_test()["ok"]
    names = {ch["name"] for ch in c.conversations_list()["channels"]}
    assert "news-alerts" in names
    slack.missing_channels.add("gone")
    assert error_of(c.chat_postMessage, channel="#gone", text="x") == "channel_not_found"
    slack.bad_token = True
    assert error_of(c.auth_test) == "invalid_auth"
    assert error_of(client(slack, token="").auth_test) == "not_authed"


def test_failure_controls(slack):  # noqa: F811
    c = client(slack)
    slack.fail_next(1, error="ratelimited", status=429, retry_after=5)
    with pytest.raises(SlackApiError) as info:
        c.chat_postMessage(channel="#news-alerts", text="x")
    assert info.value.response.status_code == 429
    assert info.value.response.headers.get("Retry-After") == "5"
    slack.fail_next(1, error="internal_error", status=500, method="auth.test")
    c.chat_postMessage(channel="#news-alerts", text="not affected")
    assert error_of(c.auth_test) == "internal_error"
    assert slack.requests == ["chat.postMessage", "chat.postMessage", "auth.test"]


def test_down_for_a_while_then_back(slack):  # noqa: F811
    c = client(slack)
    slack.down(3600)
    assert slack.is_down
    with pytest.raises(OSError):  # the connection is closed without an answer
        c.auth_test()
    slack.down(0)
    assert not slack.is_down and c.auth_test()["ok"]


def test_standin_as_a_separate_process(tmp_path):
    state = tmp_path / "state.jsonl"
    proc = subprocess.Popen([sys.executable, str(STANDIN), "--port", "0",
                             "--state-file", str(state)], stdout=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline().split()
        assert ready[0] == "READY"
        base_url, webhook_url = ready[1], ready[2]
        c = WebClient(token="xoxb-t", base_url=base_url, retry_handlers=[])
        posted = c.chat_postMessage(channel="#news-alerts", text="hello",
                                    metadata={"event_type": "watcher_alert",
                                              "event_payload": {"alert_id": 1}})
        control = base_url.replace("/api/", "/_control")
        request = urllib.request.Request(
            control, data=json.dumps({"action": "fail_next", "n": 1,
                                      "error": "internal_error", "status": 500}).encode(),
            headers={"Content-Type": "application/json"})
        assert json.load(urllib.request.urlopen(request))["ok"]
        with pytest.raises(SlackApiError):
            c.chat_postMessage(channel="#news-alerts", text="fails")
        lines = [json.loads(line) for line in state.read_text().splitlines()]
        assert [(x["type"], x["text"], x["ts"]) for x in lines] == \
            [("message", "hello", posted["ts"])]
        assert lines[0]["metadata"]["event_payload"]["alert_id"] == 1
        remote = json.load(urllib.request.urlopen(base_url.replace("/api/", "/_state")))
        assert [m["text"] for m in remote["messages"]] == ["hello"]
        assert webhook_url.startswith(base_url.replace("/api/", "/webhook/"))
    finally:
        proc.terminate()
        proc.wait()
        proc.stdout.close()
