"""Hostile feeds and pages against the whole service: `watcher run --once` in a subprocess,
the feeds and pages on 127.0.0.1, the process tree watched through /proc."""

from __future__ import annotations

import functools
import gzip
import os
import sqlite3
import sys
import zlib

from tests.conftest import ROOT, rss, write_config
from tests.httpserver import Reply
from tests.proctree import run_watched

MB = 1024 * 1024


@functools.cache
def gzip_gzip_bomb(inflated: int = 800 * MB) -> bytes:
    """``inflated`` zero bytes, gzipped twice: about 1.5 KB on the wire."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip header
    zeros = b"\0" * MB
    parts = [inner.compress(zeros) for _ in range(inflated // MB)]
    parts.append(inner.flush())
    return gzip.compress(b"".join(parts), compresslevel=9)


def watcher_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "WATCHER_CONFIG")}
    env.update(extra or {})
    return env


def run_once(cfg, tmp_path, env=None):  # type: ignore[no-untyped-def]
    return run_watched([sys.executable, "-m", "watcher.cli", "run", "--once", "--config",
                        str(cfg)], watcher_env(env), ROOT, tmp_path)


def test_stacked_gzip_page_and_feed_stay_within_memory(http_server, tmp_path):
    bomb = gzip_gzip_bomb()
    assert len(bomb) < 4096
    headers = {"Content-Encoding": "gzip, gzip"}
    page = http_server.route("/bomb.html", Reply(body=bomb, headers=headers))
    bomb_feed = http_server.route("/bomb.rss", Reply(body=bomb, headers=headers,
                                                     content_type="application/rss+xml"))
    feed = http_server.route("/news.rss", Reply(body=rss([{
        "title": "Pompeo to visit Jakarta next week", "link": page,
        "summary": "Secretary of State Mike Pompeo will travel to Jakarta on August 4."}]),
        content_type="application/rss+xml"))
    cfg = write_config(tmp_path, feeds=[bomb_feed, feed])

    result = run_once(cfg, tmp_path)

    assert result.returncode == 0, result.stderr
    db = sqlite3.connect(tmp_path / "watcher.db")
    feeds = dict(db.execute("SELECT url, last_status FROM feeds"))
    assert feeds == {bomb_feed: "too_large", feed: "ok"}
    [(status, error)] = db.execute("SELECT status, error FROM entries WHERE link = ?", (page,))
    assert status == "too_large"
    assert error == "body exceeds 5000000 bytes after decompression (gzip, step 2 of 2)"
    peak = result.peak_bytes
    print(f"peak memory of the process tree: {peak / MB:.1f} MB "
          f"(largest sampled sum {result.watch.peak_sampled_bytes / MB:.1f} MB, "
          f"{len(result.watch.hwm_kb)} processes)")
    # the service (its extraction worker starts with the first page to extract: the bomb
    # never gets that far)
    assert len(result.watch.hwm_kb) >= 1
    assert peak <= 400 * MB


def test_a_feed_of_20000_items_does_not_become_20000_page_fetches(http_server, tmp_path):
    from datetime import UTC, datetime, timedelta

    base = datetime(2026, 1, 1, tzinfo=UTC)
    items = [{"title": f"Item {i}", "link": http_server.url(f"/p/{i}.html"),
              "summary": f"story number {i}", "published": base + timedelta(minutes=i)}
             for i in range(20_000)]
    body = rss(items)
    assert len(body) > 1_000_000
    feed = http_server.route("/flood.rss", Reply(body=body, content_type="application/rss+xml"))
    cfg = write_config(tmp_path, feeds=[feed])

    result = run_once(cfg, tmp_path)

    assert result.returncode == 0, result.stderr
    pages = [r.path for r in http_server.requests if r.path.startswith("/p/")]
    print(f"page requests in the cycle: {len(pages)}")
    assert 0 < len(pages) <= 1000
    assert len(pages) == 200  # [fetch] max_entries_per_poll, the default
    newest = {f"/p/{i}.html" for i in range(19_800, 20_000)}
    assert set(pages) == newest  # the newest by published date
    db = sqlite3.connect(tmp_path / "watcher.db")
    assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == 200


def _two_feeds(http_server, tag: str, entity_text: str, summary: str) -> list[str]:  # type: ignore[no-untyped-def]
    big = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title><item>'
           f"<title>Entities</title><guid>{tag}-big</guid>"
           f"<link>{http_server.url(f'/{tag}/big.html')}</link>"
           f"<description>{entity_text}</description></item></channel></rss>").encode()
    small = rss([{"title": "Pompeo to travel", "link": http_server.url(f"/{tag}/gone.html"),
                  "summary": summary}])
    return [http_server.route(f"/{tag}/big.rss", Reply(body=big, content_type="application/rss+xml")),
            http_server.route(f"/{tag}/small.rss", Reply(body=small,
                                                         content_type="application/rss+xml"))]


def test_quadratic_inputs_do_not_stall_the_cycle(http_server, tmp_path):
    """A 600 KB feed of `&lt;` entities and a 60 KB "A. A. A." summary whose page 404s, against
    the same cycle over ordinary text of the same sizes (the reference, measured here)."""
    import time

    runs = {}
    for tag, entities, summary in (("plain", "word " * 120_000, "Word of the day. " * 3530),
                                   ("hostile", "&lt;" * 150_000, "A. " * 20_000)):
        feeds = _two_feeds(http_server, tag, entities, summary)
        assert 590_000 < len(entities) <= 600_000 and 59_000 < len(summary) <= 60_010
        folder = tmp_path / tag
        folder.mkdir()
        cfg = write_config(folder, feeds=feeds)
        started = time.monotonic()
        result = run_once(cfg, folder)
        runs[tag] = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        db = sqlite3.connect(folder / "watcher.db")
        states = dict(db.execute("SELECT link, status FROM entries"))
        assert states[http_server.url(f"/{tag}/gone.html")] == "not_found"
        assert len(states) == 2 and set(db.execute("SELECT state FROM entries")) == {("done",)}
    print(f"cycle over ordinary text {runs['plain']:.1f}s, over the hostile inputs "
          f"{runs['hostile']:.1f}s")
    assert runs["hostile"] < 3 * runs["plain"]


def test_control_characters_never_reach_the_terminal(http_server, tmp_path):
    from tests.conftest import run_watcher

    esc = "&#27;[2J&#27;]0;owned&#7;"
    page = http_server.url("/gone.html")  # 404: the alert is matched on the feed's own text
    body = ('<?xml version="1.0"?><rss version="2.0"><channel>'
            f"<title>Wire{esc}</title>"
            f"<item><title>Pompeo to visit Jakarta{esc} next week</title>"
            f"<guid>bell{esc}</guid><link>{page}</link>"
            f"<description>Secretary of State Mike Pompeo will travel to Jakarta on August 4"
            f"{esc}, officials said.</description>"
            "<pubDate>Tue, 31 Jul 2018 14:00:00 GMT</pubDate></item>"
            f"<item><title>Link with a bell</title><guid>b2</guid>"
            f"<link>{http_server.url('/x')}&#7;</link></item></channel></rss>").encode()
    feed = http_server.route("/esc.rss", Reply(body=body, content_type="application/rss+xml"))
    cfg = write_config(tmp_path, feeds=[feed])
    outputs = {"run": run_watcher("run", "--once", "--log-format", "human",
                                  "--log-level", "debug", "--config", str(cfg))}
    for name, args in (("alerts", ["alerts"]), ("replay", ["replay", "--since", "30d",
                                                           "--dry-run"]),
                       ("feeds", ["feeds"]), ("status", ["status"])):
        outputs[name] = run_watcher(*args, "--log-format", "human", "--config", str(cfg))
    assert outputs["run"].returncode == 0, outputs["run"].stderr
    assert "Jakarta" in outputs["run"].stdout  # the alert, printed in console mode
    for name, result in outputs.items():
        text = result.stdout + result.stderr
        for bad in ("\x1b", "\x07", "\x9b"):
            assert bad not in text, (name, text)
    db = sqlite3.connect(tmp_path / "watcher.db")
    stored = [v for row in db.execute("SELECT key, title, summary, link FROM entries")
              for v in row if v] + [v for row in db.execute("SELECT title, text FROM articles")
                                    for v in row if v]
    assert stored and not any(c in v for v in stored for c in "\x1b\x07")
    assert dict(db.execute("SELECT title, link FROM entries"))["Link with a bell"] is None
