"""The Slack notifier with the real slack_sdk WebClient against the stand-in (tests/slack_standin.py)."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.slack_standin import (  # noqa: F401 - slack is the fixture
    NASTY_TEXT,
    SlackStandIn,
    all_text,
    assert_no_injection,
    slack,
    texts_of,
)
from watcher.notify import SlackNotifier, make_slack_client
from watcher.types import Alert, Change

TOKEN = "xoxb-secret-token-123"


def make_alert(**overrides: Any) -> Alert:
    values: dict[str, Any] = dict(  # noqa: C408 - reads like the Alert call
        id=1,
        kind="new",
        rule_id="us-nk-summit",
        channel="#news-alerts",
        summary="Second summit to be held in Hanoi",
        article_url="https://news.example.com/a/1?x=1&y=2",
        article_title="Summit will be in Hanoi",
        evidence="The second summit will take place in Hanoi on February 27 and 28.",
        matched=("summit", "Hanoi"),
        changes=(Change("place", "Hanoi", "not announced"),
                 Change("date", "Feb 27-28, 2019", "end of February")),
        outlet="Example News",
        published=datetime(2019, 2, 6, 8, 30, tzinfo=UTC),
        severity="high",
        sources=2,
    )
    values.update(overrides)
    return Alert(**values)


@pytest.fixture
def notifier(slack: SlackStandIn) -> SlackNotifier:  # noqa: F811
    return SlackNotifier(make_slack_client(TOKEN, slack.base_url, timeout=5))


def only_message(slack: SlackStandIn) -> dict:  # noqa: F811
    assert len(slack.messages) == 1, slack.messages
    return slack.messages[0]


# -- the message kinds -----------------------------------------------------------------------


def test_new_alert_is_posted_with_blocks_text_and_metadata(slack, notifier):  # noqa: F811
    result = notifier.send(make_alert(id=42))
    assert result.outcome == "sent"
    assert result.ts and result.channel == slack.channel_id("#news-alerts")
    msg = only_message(slack)
    assert msg["ts"] == result.ts and msg["thread_ts"] is None
    assert msg["metadata"] == {"event_type": "watcher_alert",
                               "event_payload": {"alert_id": 42, "rule_id": "us-nk-summit",
                                                 "kind": "new"}}
    assert msg["unfurl_links"] is False and msg["unfurl_media"] is False
    assert msg["blocks"][0]["type"] == "header"
    assert msg["blocks"][0]["text"]["text"] == "Second summit to be held in Hanoi"
    body = "\n".join(texts_of(msg))
    assert "• *place:* Hanoi _(was: not announced)_" in body
    assert "*date:* Feb 27-28, 2019 _(was: end of February)_" in body
    assert "The second *summit* will take place in *Hanoi*" in body
    assert "<https://news.example.com/a/1?x=1&amp;y=2|Summit will be in Hanoi>" in body
    assert "Example News · 2019-02-06 08:30 UTC" in body
    assert "`us-nk-summit`" in body and "*high*" in body and "Reported by 2 outlets" in body
    assert msg["text"].startswith("Second summit to be held in Hanoi")


def test_update_is_a_thread_reply(slack, notifier):  # noqa: F811
    parent = notifier.send(make_alert(id=1))
    update = make_alert(id=2, kind="update", thread_ts=parent.ts, summary="Venue named",
                        changes=(Change("venue", "Metropole", ""),))
    result = notifier.send(update)
    assert result.outcome == "sent" and result.ts != parent.ts
    reply = slack.messages[1]
    assert reply["thread_ts"] == parent.ts and reply["reply_broadcast"] is False
    assert reply["blocks"][0]["text"]["text"] == "Update: Venue named"
    assert "*venue:* Metropole _(was: not known before)_" in reply["text"]


def test_update_can_be_broadcast(slack):  # noqa: F811
    notifier = SlackNotifier(make_slack_client(TOKEN, slack.base_url, 5), reply_broadcast=True)
    parent = notifier.send(make_alert(id=1))
    notifier.send(make_alert(id=2, kind="update", thread_ts=parent.ts))
    assert slack.messages[1]["reply_broadcast"] is True
    assert slack.messages[0]["reply_broadcast"] is False


def test_digest_lists_each_item(slack, notifier):  # noqa: F811
    items = tuple(make_alert(id=10 + i, summary=f"Development {i}",
                             article_url=f"https://e.example/{i}", article_title=f"Title {i}")
                  for i in range(3))
    result = notifier.send(make_alert(id=9, kind="digest", summary="", items=items))
    assert result.outcome == "sent"
    msg = only_message(slack)
    assert msg["blocks"][0]["text"]["text"] == "3 new developments for us-nk-summit"
    body = "\n".join(texts_of(msg))
    for i in range(3):
        assert f"• *Development {i}* — <https://e.example/{i}|Title {i}>" in body
    assert msg["metadata"]["event_payload"]["alert_id"] == 9


def test_update_sources_edits_the_parent(slack, notifier):  # noqa: F811
    alert = make_alert(id=5, sources=1)
    first = notifier.send(alert)
    result = notifier.update_sources(make_alert(id=5, sources=4), first.channel, first.ts)
    assert result.outcome == "sent" and result.ts == first.ts
    assert len(slack.updates) == 1 and len(slack.messages) == 1
    assert "Reported by 4 outlets" in "\n".join(texts_of(slack.messages[0]))
    assert slack.messages[0]["metadata"]["event_payload"]["alert_id"] == 5


def test_update_sources_accepts_a_channel_name(slack, notifier):  # noqa: F811
    first = notifier.send(make_alert(id=5, sources=1))
    result = notifier.update_sources(make_alert(id=5, sources=3), "#news-alerts", first.ts)
    assert result.outcome == "sent"
    assert "Reported by 3 outlets" in slack.messages[0]["text"]


def test_update_sources_of_a_vanished_message_fails(slack, notifier):  # noqa: F811
    result = notifier.update_sources(make_alert(), "#news-alerts", "123.456")
    assert result.outcome == "failed" and result.code == "message_not_found"


# -- find_sent -------------------------------------------------------------------------------


def test_find_sent_finds_a_posted_alert_by_metadata(slack, notifier):  # noqa: F811
    posted = notifier.send(make_alert(id=77))
    for i in range(5):
        notifier.send(make_alert(id=100 + i))
    found = notifier.find_sent(make_alert(id=77), "#news-alerts", oldest=None)
    assert found is not None and found.outcome == "sent"
    assert found.ts == posted.ts and found.channel == posted.channel
    assert "conversations.history" in slack.requests


def test_find_sent_returns_none_for_an_alert_never_posted(slack, notifier):  # noqa: F811
    notifier.send(make_alert(id=1))
    assert notifier.find_sent(make_alert(id=2), "#news-alerts", oldest=None) is None
    assert notifier.find_sent(make_alert(id=2), slack.channel_id("news-alerts"), None) is None


def test_find_sent_paginates(slack):  # noqa: F811
    notifier = SlackNotifier(make_slack_client(TOKEN, slack.base_url, 5), page_size=2)
    posted = notifier.send(make_alert(id=1))
    for i in range(6):
        notifier.send(make_alert(id=10 + i))
    found = notifier.find_sent(make_alert(id=1), "#news-alerts", None)
    assert found is not None and found.ts == posted.ts
    assert slack.requests.count("conversations.history") == 4


def test_find_sent_gives_up_after_a_few_pages(slack):  # noqa: F811
    notifier = SlackNotifier(make_slack_client(TOKEN, slack.base_url, 5), page_size=1,
                             history_pages=2)
    notifier.send(make_alert(id=1))
    for i in range(4):
        notifier.send(make_alert(id=10 + i))
    assert notifier.find_sent(make_alert(id=1), "#news-alerts", None) is None
    assert slack.requests.count("conversations.history") == 2


def test_channel_names_are_resolved_once(slack, notifier):  # noqa: F811
    notifier.find_sent(make_alert(id=1), "#news-alerts", None)
    notifier.find_sent(make_alert(id=1), "news-alerts", None)
    assert slack.requests.count("conversations.list") == 1
    fresh = SlackNotifier(make_slack_client(TOKEN, slack.base_url, 5))
    fresh.send(make_alert(id=2))  # the answer of chat.postMessage names the channel id
    assert fresh.find_sent(make_alert(id=2), "#news-alerts", None) is not None
    assert slack.requests.count("conversations.list") == 1


def test_find_sent_without_channels_read_scope_is_not_none(slack, notifier):  # noqa: F811
    slack.fail_next(1, error="missing_scope", method="conversations.list")
    result = notifier.find_sent(make_alert(id=1), "#news-alerts", None)
    assert result is not None and result.outcome == "failed" and result.code == "missing_scope"
    assert notifier.find_sent(make_alert(id=1), slack.channel_id("news-alerts"), None) is None


def test_find_sent_respects_oldest(slack, notifier):  # noqa: F811
    posted = notifier.send(make_alert(id=3))
    assert notifier.find_sent(make_alert(id=3), "#news-alerts", float(posted.ts) - 1) is not None
    assert notifier.find_sent(make_alert(id=3), "#news-alerts", float(posted.ts)) is None


def test_find_sent_looks_in_the_thread_of_an_update(slack, notifier):  # noqa: F811
    parent = notifier.send(make_alert(id=1))
    update = make_alert(id=2, kind="update", thread_ts=parent.ts)
    reply = notifier.send(update)
    found = notifier.find_sent(update, "#news-alerts", None)
    assert found is not None and found.ts == reply.ts
    assert "conversations.replies" in slack.requests
    other = make_alert(id=3, kind="update", thread_ts=parent.ts)
    assert notifier.find_sent(other, "#news-alerts", None) is None


def test_a_lost_answer_is_retry_and_find_sent_then_finds_the_message(slack, notifier):  # noqa: F811
    slack.lose_next_response(1)
    result = notifier.send(make_alert(id=31))
    assert result.outcome == "retry"  # we cannot know...
    assert len(slack.messages) == 1  # ...that Slack posted it
    found = notifier.find_sent(make_alert(id=31), "#news-alerts", None)
    assert found is not None and found.ts == slack.messages[0]["ts"]


def test_find_sent_when_slack_is_unavailable_is_not_none(slack, notifier):  # noqa: F811
    notifier.send(make_alert(id=1))
    slack.fail_next(1, error="internal_error", status=500, method="conversations.history")
    result = notifier.find_sent(make_alert(id=1), "#news-alerts", None)
    assert result is not None and result.outcome == "retry"


def test_find_sent_in_an_unknown_channel_fails(slack, notifier):  # noqa: F811
    slack.missing_channels.add("gone")
    result = notifier.find_sent(make_alert(id=1), "#gone", None)
    assert result is not None and result.outcome == "failed"
    assert result.code == "channel_not_found"


# -- classification --------------------------------------------------------------------------


def test_rate_limit_is_retry_with_retry_after(slack, notifier):  # noqa: F811
    slack.fail_next(1, error="ratelimited", status=429, retry_after=7)
    result = notifier.send(make_alert())
    assert result.outcome == "retry" and result.retry_after == 7.0
    assert result.code == "ratelimited" and result.reason.startswith("ratelimited")
    assert slack.messages == []
    assert slack.requests == ["chat.postMessage"]  # no hidden retry by the SDK
    assert notifier.send(make_alert()).outcome == "sent"


def test_server_error_is_retry(slack, notifier):  # noqa: F811
    slack.fail_next(1, error="internal_error", status=500)
    result = notifier.send(make_alert())
    assert result.outcome == "retry" and result.retry_after is None
    assert slack.requests == ["chat.postMessage"]


@pytest.mark.parametrize("error", ["service_unavailable", "fatal_error", "request_timeout",
                                   "internal_error", "ratelimited"])
def test_retryable_slack_errors_with_status_200(slack, notifier, error):  # noqa: F811
    slack.fail_next(1, error=error, status=200)
    assert notifier.send(make_alert()).outcome == "retry"


def test_connection_refused_is_retry():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    notifier = SlackNotifier(make_slack_client(TOKEN, f"http://127.0.0.1:{port}/api/", 2))
    result = notifier.send(make_alert())
    assert result.outcome == "retry" and result.code == "connection_error"
    assert TOKEN not in (result.reason or "")


def test_connection_dropped_is_retry(slack, notifier):  # noqa: F811
    slack.set_down(True)
    assert notifier.send(make_alert()).outcome == "retry"
    slack.set_down(False)
    assert notifier.send(make_alert()).outcome == "sent"


def test_503_page_is_retry(slack, notifier):  # noqa: F811
    slack.down_mode = "503"
    slack.set_down(True)
    assert notifier.send(make_alert()).outcome == "retry"


def test_timeout_is_retry(slack):  # noqa: F811
    slack.delay = 1.0
    notifier = SlackNotifier(make_slack_client(TOKEN, slack.base_url, timeout=0.2))
    result = notifier.send(make_alert())
    assert result.outcome == "retry" and result.code in ("timeout", "connection_error")


@pytest.mark.parametrize("error", ["channel_not_found", "invalid_auth", "not_in_channel",
                                   "is_archived", "account_inactive", "token_revoked",
                                   "missing_scope", "msg_too_long", "invalid_blocks",
                                   "no_text", "not_authed", "some_new_error"])
def test_permanent_errors_fail_with_the_code(slack, notifier, error):  # noqa: F811
    slack.fail_next(1, error=error)
    result = notifier.send(make_alert())
    assert result.outcome == "failed" and result.code == error
    assert result.reason.startswith(f"{error}: ") and len(result.reason) > len(error) + 5


def test_unknown_channel_fails(slack, notifier):  # noqa: F811
    slack.missing_channels.add("nowhere")
    result = notifier.send(make_alert(channel="#nowhere"))
    assert result.outcome == "failed" and result.code == "channel_not_found"
    assert "invite" in result.reason


def test_not_in_channel_fails(slack, notifier):  # noqa: F811
    slack.not_in_channels.add("private")
    result = notifier.send(make_alert(channel="#private"))
    assert result.outcome == "failed" and result.code == "not_in_channel"


def test_bad_token_fails_and_is_never_shown(slack, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    slack.bad_token = True
    notifier = SlackNotifier(make_slack_client(TOKEN, slack.base_url, 5))
    result = notifier.send(make_alert())
    assert result.outcome == "failed" and result.code == "invalid_auth"
    assert "SLACK_BOT_TOKEN" in result.reason
    assert TOKEN not in repr(result) and TOKEN not in caplog.text


def test_token_never_logged_even_at_debug(slack, notifier, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    notifier.send(make_alert())
    slack.fail_next(1, error="internal_error", status=500)
    notifier.send(make_alert())
    notifier.find_sent(make_alert(), "#news-alerts", None)
    assert TOKEN not in caplog.text


# -- size limits: cut, never rejected ----------------------------------------------------------


def test_huge_texts_are_cut_not_rejected(slack, notifier):  # noqa: F811
    alert = make_alert(
        summary="S" * 400,
        evidence=("word & <b> " * 1000)[:10_000],
        matched=("word",),
        article_title="T" * 500,
        outlet="O" * 300,
        changes=tuple(Change(f"fact {i}", "v" * 200 + "&", "w" * 200) for i in range(80)),
    )
    result = notifier.send(alert)
    assert result.outcome == "sent", result
    msg = only_message(slack)
    assert "more change" in "\n".join(texts_of(msg))
    for text in texts_of(msg):
        assert "&am…" not in text and not text.rstrip("…").endswith("&")


def test_digest_of_200_items_is_accepted(slack, notifier):  # noqa: F811
    items = tuple(make_alert(id=1000 + i, summary=f"Development number {i} " + "x" * 150,
                             article_url=f"https://e.example/{i}", article_title="A title " * 10)
                  for i in range(200))
    result = notifier.send(make_alert(id=999, kind="digest", summary="", items=items))
    assert result.outcome == "sent", result
    msg = only_message(slack)
    assert len(msg["blocks"]) <= 50
    body = "\n".join(texts_of(msg))
    assert "Development number 0 " in body
    assert "_…and 100 more_" in body


def test_digest_of_long_items_stays_within_50_blocks(slack, notifier):  # noqa: F811
    items = tuple(make_alert(id=1000 + i, summary=f"Item {i} " + "x & y " * 200,
                             article_url=f"https://e.example/{i}", article_title="T " * 200)
                  for i in range(100))
    result = notifier.send(make_alert(id=999, kind="digest", summary="", items=items))
    assert result.outcome == "sent", result
    msg = only_message(slack)
    assert len(msg["blocks"]) <= 50
    body = all_text(msg)
    assert all(f"Item {i} x" in body for i in range(100))


def test_long_emoji_texts_are_cut_by_utf16_length(slack, notifier):  # noqa: F811
    result = notifier.send(make_alert(summary="🚨" * 200, evidence="😀" * 5000))
    assert result.outcome == "sent", result


# -- escaping --------------------------------------------------------------------------------


def test_feed_text_cannot_mention_or_forge_links(slack, notifier):  # noqa: F811
    url = "https://news.example.com/a?b=1&c=2"
    alert = make_alert(
        summary=f"Summary {NASTY_TEXT}",
        article_title=f"Title {NASTY_TEXT} | x > y",
        article_url=url,
        evidence=f"Evidence {NASTY_TEXT} about the summit",
        matched=("summit", "<!here>"),
        changes=(Change(f"fact {NASTY_TEXT}", f"now {NASTY_TEXT}", f"was {NASTY_TEXT}"),),
        outlet=f"Outlet {NASTY_TEXT}",
        rule_id="rule-<!channel>",
        severity="<!here>",
    )
    items = (make_alert(id=3, summary=NASTY_TEXT, article_title=NASTY_TEXT, article_url=url,
                        outlet=NASTY_TEXT),)
    digest = make_alert(id=4, kind="digest", summary=NASTY_TEXT, items=items)
    assert notifier.send(alert).outcome == "sent"
    assert notifier.send(digest).outcome == "sent"
    assert notifier.update_sources(alert, "#news-alerts", slack.messages[0]["ts"]).ok
    for msg in slack.messages + slack.updates:
        assert_no_injection(msg, {url})
        body = "\n".join(texts_of(msg))
        assert "&amp;amp;" in body  # a literal "&amp;" from the feed stays literal
        assert "&lt;!channel&gt;" in body and "&lt;@U123&gt;" in body


def test_unsafe_urls_are_not_linked(slack, notifier):  # noqa: F811
    for i, url in enumerate(["javascript:alert(1)", "https://x|evil", "ftp://x/y",
                             "https://ex ample.com/", "https://a.example/<!here>"]):
        notifier.send(make_alert(id=i, article_url=url, article_title="Title"))
    for msg in slack.messages:
        for text in texts_of(msg):
            assert "javascript:" not in text and "ftp:" not in text
            assert "<!" not in text and "|evil" not in text
    last = "\n".join(texts_of(slack.messages[-1]))
    assert "<https://a.example/%3C!here%3E|Title>" in last
