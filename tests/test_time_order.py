"""Entries are analysed in publication order, oldest first, whatever order a feed lists them
in (issue 12, "Time order"): a feed that lists a cancellation above the announcement it
cancels, as real feeds do, still gives the announcement first and the cancellation as its
update. Through `watcher run --once`, with a real feed, pages and the Slack stand-in."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import article_page, rss, run_watcher, write_config
from tests.httpserver import Reply
from tests.slack_standin import SlackStandIn

TOKEN = {"SLACK_BOT_TOKEN": "xoxb-test-token"}

ANNOUNCED = ("Pompeo to visit Canberra and Wellington next month",
             ["Secretary of State Mike Pompeo will travel to Canberra and Wellington on "
              "August 4 and 5, the State Department said on Monday."],
             datetime(2026, 7, 6, 14, 0, tzinfo=UTC))
CANCELLED = ("Pompeo calls off Canberra and Wellington trip",
             ["Secretary of State Mike Pompeo has called off his trip to Canberra and "
              "Wellington, planned for August 4 and 5, the State Department said on Tuesday."],
             datetime(2026, 7, 7, 9, 0, tzinfo=UTC))


def _feed(http_server, stories):  # type: ignore[no-untyped-def]
    items = []
    for i, (title, paras, published) in enumerate(stories):
        path = f"/news/{i}.html"
        http_server.route(path, Reply(body=article_page(title, paras, published)))
        items.append({"title": title, "link": http_server.url(path), "published": published,
                      "summary": paras[0][:120]})
    return http_server.route("/feed.rss", Reply(body=rss(items),
                                                content_type="application/rss+xml"))


def test_a_feed_listing_newest_first_is_analysed_oldest_first(http_server, tmp_path):
    feed = _feed(http_server, [CANCELLED, ANNOUNCED])  # as real feeds list them
    with SlackStandIn() as slack:
        cfg = write_config(tmp_path, feeds=[feed], slack_base_url=slack.base_url,
                           slack_extra="digest_after = 0")
        result = run_watcher("run", "--once", "--config", str(cfg), env=TOKEN)
        assert result.returncode == 0, result.stderr
        posts = [m for m in slack.messages if not m.get("thread_ts")]
        replies = [m for m in slack.messages if m.get("thread_ts")]
        # one story: the announcement on top, the cancellation as its update
        assert len(posts) == 1, slack.messages
        assert http_server.url("/news/1.html") in str(posts[0])
        assert len(replies) == 1 and http_server.url("/news/0.html") in str(replies[0])
        assert "cancelled" in str(replies[0])
