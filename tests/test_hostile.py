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
    assert len(result.watch.hwm_kb) >= 2  # the service and its extraction worker
    assert peak <= 400 * MB
