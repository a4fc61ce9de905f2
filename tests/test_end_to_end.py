"""The whole pipeline as a user runs it: `watcher run --once` in a subprocess, a real feed and
real pages on 127.0.0.1, the real slack_sdk client talking to a Slack Web API stand-in."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from tests.conftest import ROOT, article_page, rss, run_watcher, write_config
from tests.httpserver import Reply
from tests.slack_standin import SlackStandIn

TOKEN = {"SLACK_BOT_TOKEN": "xoxb-test-token"}

POMPEO_NEW = (
    "Pompeo to visit Malaysia and Indonesia next week",
    ["Secretary of State Mike Pompeo will travel to Kuala Lumpur and Jakarta from August 2 to 5, "
     "the State Department said on Tuesday.",
     "Officials said the trip would highlight the administration's new economic initiatives for "
     "Southeast Asia, and that he would meet regional foreign ministers."],
    datetime(2018, 7, 31, 14, 0, tzinfo=UTC),
)
SUMMIT_NEW = (
    "Trump and Kim to meet in Ulaanbaatar in September",
    ["President Trump and North Korean leader Kim Jong Un will hold a summit in Ulaanbaatar, "
     "Mongolia, in the second week of September, the White House said on Wednesday.",
     "Mongolia's foreign ministry confirmed that it had offered to host the meeting and said "
     "preparations were under way."],
    datetime(2026, 7, 1, 9, 0, tzinfo=UTC),
)
SEED_REPRINT = (
    "Second Trump-Kim meeting could come in New York in September",
    ["U.S. officials are discussing a second meeting between President Trump and Kim Jong Un in "
     "New York in September, when world leaders gather for the United Nations General Assembly, "
     "according to a news report on Monday.",
     "Kim would have to show progress on denuclearization first, the officials said."],
    datetime(2018, 7, 2, 17, 0, tzinfo=UTC),
)
SEED_POMPEO_REPRINT = (
    "Pompeo to leave for North Korea on July 5",
    ["The White House said on Monday that Secretary of State Mike Pompeo will be leaving for "
     "North Korea on July 5, his third visit to the country.",
     "He will also meet Japanese and South Korean officials in Tokyo on July 7 and 8."],
    datetime(2018, 7, 2, 19, 0, tzinfo=UTC),
)


def _serve_news(http_server, stories, extra_items=()):  # type: ignore[no-untyped-def]
    items = []
    for i, (title, paras, published) in enumerate(stories):
        path = f"/news/{i}.html"
        http_server.route(path, Reply(body=article_page(title, paras, published)))
        items.append({"title": title, "link": http_server.url(path), "published": published,
                      "summary": paras[0][:120]})
    items.extend(extra_items)
    return http_server.route("/world.rss", Reply(body=rss(items),
                                                 content_type="application/rss+xml"))


def test_new_developments_reach_slack_and_known_ones_do_not(http_server, tmp_path):
    feed = _serve_news(http_server, [POMPEO_NEW, SUMMIT_NEW, SEED_REPRINT, SEED_POMPEO_REPRINT])
    with SlackStandIn() as slack:
        cfg = write_config(tmp_path, feeds=[feed], slack_base_url=slack.base_url)
        first = run_watcher("run", "--once", "--config", str(cfg), env=TOKEN)
        assert first.returncode == 0, first.stderr

        texts = {m["ts"]: _all_text(m) for m in slack.messages}
        posted = "\n".join(texts.values())
        assert http_server.url("/news/0.html") in posted  # the new Pompeo trip
        assert http_server.url("/news/1.html") in posted  # the new summit plan
        assert http_server.url("/news/2.html") not in posted  # reprint of a seed fact
        assert http_server.url("/news/3.html") not in posted  # reprint of a seed fact
        assert len(slack.messages) == 2, posted
        assert any("pompeo-trip" in t for t in texts.values())
        assert any("summit-announcement" in t for t in texts.values())
        assert all(m["channel"] == slack.channel_id("news-alerts") for m in slack.messages)

        second = run_watcher("run", "--once", "--config", str(cfg), env=TOKEN)
        assert second.returncode == 0, second.stderr
        assert len(slack.messages) == 2  # nothing new: nothing posted


def test_broken_feed_missing_page_and_slack_error_are_recorded(http_server, tmp_path):
    good = _serve_news(http_server, [POMPEO_NEW], extra_items=[{
        "title": "Pompeo to visit Tokyo and Seoul, State Department says",
        "link": http_server.url("/gone.html"),
        "summary": "Secretary of State Mike Pompeo will travel to Tokyo and Seoul on October 6.",
        "published": datetime(2018, 10, 2, 9, 0, tzinfo=UTC)}])
    broken = http_server.route("/broken.rss", Reply(status=500, body=b"oops"))
    junk = http_server.route("/junk.rss", Reply(body=b"\x00\x01\x02 not a feed",
                                                content_type="application/octet-stream"))
    with SlackStandIn() as slack:
        slack.missing_channels.add("news-alerts")
        cfg = write_config(tmp_path, feeds=[broken, junk, good], slack_base_url=slack.base_url)
        result = run_watcher("run", "--once", "--config", str(cfg), env=TOKEN)
        assert result.returncode == 0, result.stderr
        assert slack.messages == []

    db = sqlite3.connect(tmp_path / "watcher.db")
    feeds = dict(db.execute("SELECT url, last_status FROM feeds"))
    assert feeds[broken] == "server_error"
    assert feeds[junk] == "not_a_feed"
    assert feeds[good] == "ok"
    entries = dict(db.execute("SELECT link, status FROM entries"))
    assert entries[http_server.url("/gone.html")] == "not_found"
    assert entries[http_server.url("/news/0.html")] == "ok"
    alerts = db.execute("SELECT state, error FROM alerts").fetchall()
    assert len(alerts) == 2  # the page that 404s was still matched on the feed's own text
    assert all(state == "failed" and "channel_not_found" in error for state, error in alerts)

    listing = run_watcher("alerts", "--config", str(cfg))
    assert "channel_not_found" in listing.stdout
    feeds_out = run_watcher("feeds", "--config", str(cfg))
    assert "FAILING" in feeds_out.stdout and "server_error" in feeds_out.stdout


def test_console_mode_prints_alerts_and_warns(http_server, tmp_path):
    feed = _serve_news(http_server, [SUMMIT_NEW])
    cfg = write_config(tmp_path, feeds=[feed])
    result = run_watcher("run", "--once", "--config", str(cfg))
    assert result.returncode == 0, result.stderr
    assert "no SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL set" in result.stderr
    assert "Ulaanbaatar" in result.stdout
    assert http_server.url("/news/0.html") in result.stdout


@pytest.mark.parametrize("bad, message", [
    ("[database]\nurl = 5\n", "'database.url' must be str"),
    ("[slack]\nchanel = 'x'\n", "unknown key 'chanel' in [slack]"),
    ("[feeds]\nurl = 'x'\n", "'feeds' must be an array of tables"),
    ("[database\n", "not valid TOML"),
])
def test_bad_config_is_a_clear_error(tmp_path, bad, message):
    cfg = tmp_path / "watcher.toml"
    cfg.write_text(bad)
    result = run_watcher("run", "--once", "--config", str(cfg))
    assert result.returncode == 2
    assert message in result.stderr


def _all_text(message: dict) -> str:  # type: ignore[type-arg]
    import json

    return message.get("text", "") + json.dumps(message.get("blocks") or [])


def test_feed_text_cannot_ping_the_channel_or_forge_links(http_server, tmp_path):
    from tests.slack_standin import NASTY_TEXT, assert_no_injection

    nasty = "<!channel> <!here> <@U123> <https://evil.test|click me> &amp; <#C123> <!subteam^S1>"
    title = f"Pompeo to visit Jakarta {nasty}"
    paras = [f"Secretary of State Mike Pompeo will travel to Jakarta on August 4, officials said "
             f"{nasty}.", f"Readers wrote: {NASTY_TEXT}"]
    published = datetime(2018, 7, 31, 14, 0, tzinfo=UTC)
    http_server.route("/n.html", Reply(body=article_page(title, paras, published,
                                                         outlet=f"Outlet {nasty}")))
    feed = http_server.route("/n.rss", Reply(body=rss([{
        "title": title, "link": http_server.url("/n.html"), "published": published,
        "summary": nasty}], title=f"Feed {nasty}"), content_type="application/rss+xml"))
    with SlackStandIn() as slack:
        cfg = write_config(tmp_path, feeds=[feed], slack_base_url=slack.base_url)
        result = run_watcher("run", "--once", "--config", str(cfg), env=TOKEN)
        assert result.returncode == 0, result.stderr
        [message] = slack.messages
        assert_no_injection(message, {http_server.url("/n.html")})
        assert "&lt;!channel&gt;" in _all_text(message)  # shown as text, not acted on
        assert message["unfurl_links"] is False and message["unfurl_media"] is False


def test_a_rule_with_its_own_channel_posts_there(http_server, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    text = (ROOT / "rules" / "pompeo-trip.yaml").read_text()
    (rules / "pompeo-trip.yaml").write_text(text.replace("alert:\n", "alert:\n  channel: '#pompeo'\n"))
    (rules / "summit-announcement.yaml").write_text(
        (ROOT / "rules" / "summit-announcement.yaml").read_text())
    feed = _serve_news(http_server, [POMPEO_NEW, SUMMIT_NEW])
    with SlackStandIn() as slack:
        cfg = write_config(tmp_path, feeds=[feed], slack_base_url=slack.base_url, rules=rules,
                           channel="#world")
        assert run_watcher("run", "--once", "--config", str(cfg), env=TOKEN).returncode == 0
        [pompeo] = slack.messages_in("pompeo")
        [summit] = slack.messages_in("world")  # no channel in the rule: the config's
        assert http_server.url("/news/0.html") in _all_text(pompeo)
        assert http_server.url("/news/1.html") in _all_text(summit)
