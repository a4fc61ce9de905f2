from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.pagetext import ExtractorPool, decode_html, extract_article
from watcher.types import Entry

PAGES = Path(__file__).parent / "fixtures" / "pages"
ARTICLE = (PAGES / "article.html").read_bytes()
URL = "https://gazette.example/news/crane"
BARE = ("<html><body><div><p>" + "A plain paragraph about the harbour strike. " * 12 +
        "</p></div></body></html>").encode()
ENTRY = Entry(feed_url="https://gazette.example/feed.xml", key="g-7", link=URL,
              title="Feed title", summary="s",
              published=datetime(2024, 3, 14, 7, 45, tzinfo=UTC), outlet="Feed Outlet")


# Extractors that misbehave, for the pool (module-level so a worker process can import them).
def hang(html, url, fallback=None, content_type=None):
    if b"HANG" in html:
        time.sleep(3600)
    return extract_article(html, url, fallback=fallback, content_type=content_type)


def die(html, url, fallback=None, content_type=None):
    if b"DIE" in html:
        os.kill(os.getpid(), signal.SIGKILL)
    if b"RAISE" in html:
        raise ValueError("broken page")
    return extract_article(html, url, fallback=fallback, content_type=content_type)


def test_extract_article_text_and_metadata():
    article = extract_article(ARTICLE, URL)
    assert article.url == URL
    assert article.title == "Port of Rotterdam halts container traffic after crane collapse"
    assert article.outlet == "Harbour Gazette"
    assert "ship-to-shore crane collapsed" in article.text
    assert "Dutch Safety Board" in article.text
    assert "All rights reserved" not in article.text and "Most read" not in article.text
    assert article.published == datetime(2024, 3, 14, 9, 30, tzinfo=UTC)  # time and zone kept


def test_feed_entry_fills_gaps_and_sharpens_the_date():
    day_only = ARTICLE.replace(b'property="article:published_time" content="2024-03-14T09:30:00+00:00"',
                               b'name="date" content="2024-03-14"')
    assert extract_article(day_only, URL).published == datetime(2024, 3, 14, tzinfo=UTC)
    article = extract_article(day_only, URL, fallback=ENTRY)
    assert article.published == ENTRY.published  # same day as the page says, and with a time
    other_day = replace(ENTRY, published=datetime(2024, 3, 16, 8, 0, tzinfo=UTC))
    assert extract_article(day_only, URL, fallback=other_day).published == datetime(
        2024, 3, 14, tzinfo=UTC)  # the page's own date wins
    article = extract_article(BARE, URL, fallback=ENTRY)
    assert article.title == "Feed title" and article.published == ENTRY.published
    assert article.outlet == "Feed Outlet"


def test_no_text_gives_none():
    assert extract_article(b"", URL) is None
    assert extract_article(b"<html><body></body></html>", URL) is None
    assert extract_article(bytes(range(256)) * 20, URL) is None


def test_invalid_utf8_is_tolerated():
    article = extract_article((PAGES / "invalid-utf8.html").read_bytes(), URL,
                              content_type="text/html; charset=utf-8")
    assert article is not None and "\ufffd" in article.text and "harbour authority" in article.text


@pytest.mark.parametrize("data, content_type, expected", [
    ("Zürich".encode("iso-8859-1"), "text/html; charset=ISO-8859-1", "Zürich"),
    (b'<meta charset="windows-1252"><p>caf\xe9</p>', None, '<meta charset="windows-1252"><p>café</p>'),
    (b"\xef\xbb\xbfhi", "text/html; charset=iso-8859-1", "hi"),
    (b"caf\xc3\xa9", None, "café"),
    (b"bad \xff", "text/html; charset=no-such-charset", "bad \ufffd"),
])
def test_decode_html(data, content_type, expected):
    assert decode_html(data, content_type) == expected


def test_in_process_pool():
    with ExtractorPool(workers=0, reset_every=1) as pool:
        result = pool.extract(ARTICLE, URL, ENTRY)
        empty = pool.extract(b"<html></html>", URL)
    assert result.status == "ok" and result.article.title.startswith("Port of Rotterdam")
    assert empty.status == "no_text" and empty.article is None


def test_pool_kills_a_hanging_worker_and_keeps_working():
    with ExtractorPool(workers=1, timeout=2, extractor=hang) as pool:
        before = pool.extract(ARTICLE, URL)
        stuck = pool.extract(ARTICLE.replace(b"<body>", b"<body>HANG"), URL)
        after = pool.extract(BARE, URL, ENTRY)
    assert before.status == "ok"
    assert stuck.status == "timeout" and stuck.article is None and "2s" in stuck.error
    assert after.status == "ok" and after.article.published == ENTRY.published
    assert after.article.title == "Feed title" and after.article.outlet == "Feed Outlet"


def test_pool_survives_a_crashing_worker_and_errors():
    with ExtractorPool(workers=1, timeout=30, extractor=die) as pool:
        crashed = pool.extract(ARTICLE.replace(b"<body>", b"<body>DIE"), URL)
        raised = pool.extract(ARTICLE.replace(b"<body>", b"<body>RAISE"), URL)
        after = pool.extract(ARTICLE, URL)
    assert crashed.status == "crashed" and "signal 9" in crashed.error
    assert raised.status == "error" and raised.error == "ValueError: broken page"
    assert after.status == "ok"


def test_pool_is_thread_safe_and_resets_caches():
    with ExtractorPool(workers=2, timeout=30, reset_every=2) as pool:
        with ThreadPoolExecutor(4) as threads:
            results = list(threads.map(lambda i: pool.extract(ARTICLE, f"{URL}/{i}"), range(8)))
        pool.reset_caches()
        assert pool.extract(ARTICLE, URL).status == "ok"
    assert [r.article.url for r in results] == [f"{URL}/{i}" for i in range(8)]
    with pytest.raises(RuntimeError):
        pool.extract(ARTICLE, URL)
