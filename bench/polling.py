"""Polling cost: 1,000 feeds on loopback, Fetcher + poll_feed with a small thread pool.

    .venv/bin/python bench/polling.py [--feeds 1000] [--items 50] [--threads 8]

One local HTTP server (tests/httpserver.py) serves every feed at its own path, with an ETag
(and answers If-None-Match with 304). Cycles:

1. first poll: every feed is new (fetched and parsed);
2. nothing changed: conditional GETs, 304s; must parse nothing;
3. every feed has 5 new items: fetched and parsed again;
4. nothing changed, server without validators: 200s whose body hash is unchanged; must parse
   nothing.

The server is Python's ThreadingHTTPServer on the same machine, so the wall times include its
cost as well as the poller's.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.httpserver import Reply, serve
from watcher.fetch import Fetcher
from watcher.poll import poll_feed
from watcher.settings import FetchSettings
from watcher.types import FeedState

BASE = datetime(2024, 3, 14, 12, 0, tzinfo=UTC)


def rss(feed: int, first_item: int, items: int) -> bytes:
    parts = [(f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
              f"<title>Feed {feed}</title><link>https://outlet{feed}.example/</link>"
              f"<description>Bench feed {feed}</description>")]
    for n in range(first_item + items - 1, first_item - 1, -1):
        when = format_datetime(BASE + timedelta(minutes=n))
        parts.append(
            f"<item><title>Story {n} of feed {feed}: port strike enters day {n % 30}</title>"
            f"<link>https://outlet{feed}.example/news/{n}.html?utm_source=rss</link>"
            f'<guid isPermaLink="false">feed{feed}-item{n}</guid><pubDate>{when}</pubDate>'
            f"<description>&lt;p&gt;Dock workers at terminal {n} walked out on "
            f"{when}, unions said, as talks over pay stalled for the {n}th time.&lt;/p&gt;"
            f"</description></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def publish(server, feeds: int, first_item: int, items: int, etag: bool) -> None:
    for f in range(feeds):
        body = rss(f, first_item, items)
        server.route(f"/feeds/{f}.xml", Reply(body=body, content_type="application/rss+xml",
                                              etag=f'"{f}-{first_item}"' if etag else None))


def cycle(name: str, fetcher: Fetcher, states: list[FeedState], now: datetime,
          threads: int) -> list[FeedState]:
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(lambda s: poll_feed(fetcher, s, now), states))
    wall = time.perf_counter() - start
    kinds = Counter(o.status for o in outcomes)
    parsed = sum(o.parsed is not None for o in outcomes)
    entries = sum(len(o.parsed.entries) for o in outcomes if o.parsed)
    print(f"{name:<38} {wall:7.2f} s  {len(states) / wall:7.0f} feeds/s  parsed {parsed:>5}  "
          f"entries {entries:>6}  {dict(kinds)}")
    return [o.state for o in outcomes]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--threads", type=int, default=8)
    args = ap.parse_args()
    # Every feed is on one loopback server: the per-host limit would measure the limit.
    with serve() as server, Fetcher(FetchSettings(timeout=20, max_per_host=args.threads),
                                    allow_hosts={server.host_port}) as fetcher:
        publish(server, args.feeds, 0, args.items, etag=True)
        size = len(rss(0, 0, args.items))
        print(f"{args.feeds} feeds of {args.items} items ({size / 1024:.0f} KiB each), "
              f"{args.threads} threads, one loopback server")
        states = [FeedState(url=server.url(f"/feeds/{f}.xml")) for f in range(args.feeds)]
        states = cycle("1. first poll (all new)", fetcher, states, BASE, args.threads)
        states = cycle("2. nothing changed (ETag -> 304)", fetcher, states, BASE, args.threads)
        publish(server, args.feeds, 5, args.items, etag=True)
        states = cycle("3. every feed has 5 new items", fetcher, states, BASE, args.threads)
        publish(server, args.feeds, 5, args.items, etag=False)
        states = [s.__class__(**{**s.__dict__, "etag": None}) for s in states]
        states = cycle("4. nothing changed, no validators", fetcher, states, BASE, args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
