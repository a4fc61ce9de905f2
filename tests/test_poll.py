from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.httpserver import Reply
from watcher.fetch import Fetcher
from watcher.poll import BACKOFF_CAP, backoff, errors_spanning, poll_feed
from watcher.settings import FetchSettings
from watcher.types import FeedState

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
NOW = datetime(2024, 3, 14, 12, 0, tzinfo=UTC)
RSS = (FEEDS / "rss.xml").read_bytes()


@pytest.fixture
def fetcher(http_server):
    with Fetcher(FetchSettings(timeout=5), allow_hosts={http_server.host_port}) as f:
        yield f


def test_first_poll_parses_and_remembers(http_server, fetcher):
    url = http_server.route("/f", Reply(body=RSS, content_type="application/rss+xml", etag='"1"'))
    out = poll_feed(fetcher, FeedState(url=url, interval=300), NOW)
    assert out.status == "ok" and out.error is None and out.changed
    assert len(out.parsed.entries) == 4
    s = out.state
    assert s.etag == '"1"' and s.body_hash and s.title == "Harbour Gazette & Friends"
    assert s.next_check_at == NOW + timedelta(seconds=300) and s.last_success_at == NOW
    assert s.last_status == "ok" and s.last_error is None and s.consecutive_errors == 0


def test_etag_gives_not_modified_without_parse(http_server, fetcher):
    url = http_server.route("/f", Reply(body=RSS, etag='"1"'))
    first = poll_feed(fetcher, FeedState(url=url), NOW)
    second = poll_feed(fetcher, first.state, NOW + timedelta(minutes=5))
    assert second.status == "not_modified" and second.parsed is None
    assert second.state.etag == '"1"' and second.state.last_success_at == NOW + timedelta(minutes=5)
    assert http_server.requests[-1].headers["if-none-match"] == '"1"'


def test_body_hash_unchanged_means_no_parse(http_server, fetcher):
    url = http_server.route("/f", Reply(body=RSS, content_type="text/xml"))  # no validators
    first = poll_feed(fetcher, FeedState(url=url), NOW)
    assert first.changed and first.state.etag is None and first.state.last_modified is None
    second = poll_feed(fetcher, first.state, NOW + timedelta(minutes=5))
    assert second.status == "unchanged" and second.parsed is None
    assert second.state.consecutive_errors == 0
    http_server.route("/f", Reply(body=RSS.replace(b"Plain summary", b"New summary")))
    third = poll_feed(fetcher, second.state, NOW + timedelta(minutes=10))
    assert third.status == "ok" and third.changed and third.state.body_hash != first.state.body_hash


def test_backoff_doubles_and_is_capped(http_server, fetcher):
    url = http_server.route("/f", Reply(500, b"boom", "text/plain"))
    state = FeedState(url=url, interval=300)
    waits = []
    for _ in range(10):
        out = poll_feed(fetcher, state, NOW)
        state = out.state
        waits.append(state.next_check_at - NOW)
        assert out.status == "server_error" and out.parsed is None
    assert state.consecutive_errors == 10 and state.last_error == "server error (HTTP 500)"
    assert waits[:3] == [timedelta(seconds=600), timedelta(seconds=1200), timedelta(seconds=2400)]
    assert waits[-1] == BACKOFF_CAP == timedelta(hours=6)
    assert state.disabled_reason is None
    http_server.route("/f", Reply(body=RSS))
    ok = poll_feed(fetcher, state, NOW)
    assert ok.status == "ok" and ok.state.consecutive_errors == 0 and ok.state.last_error is None
    assert ok.state.next_check_at == NOW + timedelta(seconds=300)


def test_retry_after_is_respected(http_server, fetcher):
    url = http_server.route("/f", Reply(429, headers={"Retry-After": "7"}))
    out = poll_feed(fetcher, FeedState(url=url, interval=1), NOW)
    assert out.status == "rate_limited"
    assert out.state.next_check_at == NOW + timedelta(seconds=7)  # more than the 2s backoff
    http_server.route("/f", Reply(503, headers={"Retry-After": "3600"}))
    out = poll_feed(fetcher, FeedState(url=url, interval=300), NOW)
    assert out.status == "rate_limited" and out.state.next_check_at == NOW + timedelta(hours=1)
    http_server.route("/f", Reply(429, headers={"Retry-After": "9999999"}))
    out = poll_feed(fetcher, FeedState(url=url), NOW)
    assert out.state.next_check_at == NOW + timedelta(hours=24)  # capped


def test_gone_disables(http_server, fetcher):
    url = http_server.route("/f", Reply(410, b"gone"))
    out = poll_feed(fetcher, FeedState(url=url), NOW)
    assert out.status == "gone" and out.state.disabled_reason == "gone (HTTP 410)"
    again = poll_feed(fetcher, out.state, NOW)
    assert again.status == "disabled" and http_server.hits("/f") == 1


def test_failing_for_more_than_three_days_disables(http_server, fetcher):
    url = http_server.route("/f", Reply(502))
    n = errors_spanning(300)
    long_ago = FeedState(url=url, consecutive_errors=n - 1, last_success_at=NOW - timedelta(days=4))
    recent = FeedState(url=url, consecutive_errors=n - 1, last_success_at=NOW - timedelta(days=1))
    never = FeedState(url=url, consecutive_errors=n - 1)
    fresh = FeedState(url=url, consecutive_errors=0, last_success_at=NOW - timedelta(days=10))
    assert "more than 3 days" in poll_feed(fetcher, long_ago, NOW).state.disabled_reason
    assert "HTTP 502" in poll_feed(fetcher, never, NOW).state.disabled_reason
    assert poll_feed(fetcher, recent, NOW).state.disabled_reason is None
    assert poll_feed(fetcher, fresh, NOW).state.disabled_reason is None  # e.g. after downtime


def test_errors_spanning_three_days():
    n = errors_spanning(300)
    assert sum((backoff(300, k) for k in range(1, n + 1)), timedelta()) > timedelta(days=3)
    assert sum((backoff(300, k) for k in range(1, n)), timedelta()) <= timedelta(days=3)


def test_html_instead_of_feed_is_an_error_and_not_remembered(http_server, fetcher):
    page = b"<!DOCTYPE html><html><body><p>We moved!</p></body></html>"
    url = http_server.route("/f", Reply(body=page))
    out = poll_feed(fetcher, FeedState(url=url), NOW)
    assert out.status == "not_a_feed" and "HTML page" in out.error
    assert out.state.body_hash is None and out.state.consecutive_errors == 1
    again = poll_feed(fetcher, out.state, NOW)
    assert again.status == "not_a_feed" and again.state.consecutive_errors == 2


def test_fetch_errors_are_recorded_in_words(fetcher):
    out = poll_feed(fetcher, FeedState(url="ftp://example.com/feed"), NOW)
    assert out.status == "bad_url" and out.state.last_status == "bad_url"
    assert "ftp" in out.state.last_error


def test_empty_feed_is_a_success(http_server, fetcher):
    url = http_server.route("/f", Reply(body=(FEEDS / "empty.xml").read_bytes()))
    out = poll_feed(fetcher, FeedState(url=url, consecutive_errors=3), NOW)
    assert out.status == "empty" and out.parsed.entries == () and out.state.consecutive_errors == 0




def test_redirected_feed_keeps_its_identity(http_server, fetcher):
    http_server.route("/old.xml", Reply(301, headers={"Location": "/new/feed.xml"}))
    http_server.route("/new/feed.xml", Reply(body=RSS))
    url = http_server.url("/old.xml")
    out = poll_feed(fetcher, FeedState(url=url), NOW)
    assert out.status == "ok" and out.state.url == url
    assert {e.feed_url for e in out.parsed.entries} == {url}
