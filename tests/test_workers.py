"""Several `watcher run` workers on one PostgreSQL database split the work through row leases:
one is killed mid-run, and still every entry is processed once and every alert posted once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import psycopg

from tests.conftest import ROOT, article_page, rss, write_config
from tests.httpserver import Reply
from tests.slack_standin import SlackStandIn

FEEDS = 300
CITIES = ["Tokyo", "Seoul", "Beijing", "Hanoi", "Jakarta", "Manila", "Canberra", "New Delhi",
          "Bangkok", "Kuala Lumpur", "Moscow", "Berlin", "Paris", "London", "Brussels", "Ottawa"]
MONTHS = ["March", "April", "May", "June", "September", "October", "November", "December"]


def _stories(http_server):  # type: ignore[no-untyped-def]
    """300 feeds of 2 items: 16 distinct new Pompeo trips, the rest unrelated news."""
    expected = []
    for f in range(FEEDS):
        items = []
        for i in range(2):
            n = f * 2 + i
            path = f"/p/{f}/{i}.html"
            published = datetime(2019, 2, 1, 9, 0, tzinfo=UTC)
            if n % 37 == 0 and len(expected) < len(CITIES):
                k = len(expected)
                title = f"Pompeo to visit {CITIES[k]}"
                paras = [f"Secretary of State Mike Pompeo will travel to {CITIES[k]} on "
                         f"{MONTHS[k % len(MONTHS)]} {k + 3}, the State Department said on "
                         f"Friday.", "Officials said the visit would focus on trade and "
                         "regional security."]
                expected.append(http_server.url(path))
            else:
                title = f"City council approves budget number {n}"
                paras = [f"The city council approved budget number {n} on Friday after a long "
                         "debate about parks, roads and school buildings.",
                         "The mayor said the spending plan would be reviewed next spring."]
            http_server.route(path, Reply(body=article_page(title, paras, published)))
            items.append({"title": title, "link": http_server.url(path),
                          "published": published})
        http_server.route(f"/f/{f}.rss", Reply(body=rss(items, title=f"Outlet {f}"),
                                               content_type="application/rss+xml"))
    return [http_server.url(f"/f/{f}.rss") for f in range(FEEDS)], expected


def _query(pg_url: str, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()


def test_three_workers_one_killed_every_entry_once_every_alert_once(http_server, tmp_path,
                                                                    pg_url):
    feeds, expected = _stories(http_server)
    assert len(expected) == len(CITIES)
    with SlackStandIn() as slack:
        cfg = write_config(tmp_path, feeds=feeds, slack_base_url=slack.base_url, db_url=pg_url,
                           slack_extra="digest_after = 0",
                           extra="[schedule]\ninterval = 3600\nlease = 8")
        procs = {}
        logs = {}
        for name in ("w1", "w2", "w3"):
            env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test", "WATCHER_WORKER_ID": name}
            logs[name] = open(tmp_path / f"{name}.log", "w")
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "watcher.cli", "run", "--config", str(cfg)], cwd=ROOT,
                env=env, stdout=logs[name], stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 240
            killed = False
            while time.monotonic() < deadline:
                time.sleep(0.5)
                done = _query(pg_url, "SELECT count(*) FROM entries WHERE state <> 'pending'") \
                    if _tables_exist(pg_url) else [(0,)]
                holding = _query(pg_url, "SELECT count(*) FROM entries WHERE "
                                         "lease_owner = 'w2'")[0][0] if done[0][0] else 0
                if not killed and done[0][0] >= 60 and holding:
                    stranded_feeds = _query(pg_url, "SELECT count(*) FROM feeds WHERE "
                                                    "lease_owner = 'w2'")[0][0]
                    stranded_entries = _query(pg_url, "SELECT count(*) FROM entries WHERE "
                                                      "lease_owner = 'w2'")[0][0]
                    procs["w2"].send_signal(signal.SIGKILL)  # mid-run, work in hand
                    killed = True
                if killed and done[0][0] == 2 * FEEDS and len(slack.messages) >= len(expected):
                    pending = _query(pg_url, "SELECT count(*) FROM alerts WHERE state <> 'sent'")
                    if pending[0][0] == 0:
                        break
            else:
                raise AssertionError("workers did not finish: " + _tail(tmp_path))
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs.values():
                p.wait(timeout=60)
            for f in logs.values():
                f.close()
        messages = list(slack.messages)

    assert killed, "w2 never held work to be killed with"
    print(f"w2 killed holding {stranded_entries} entries and {stranded_feeds} feeds")
    assert stranded_entries > 0
    # Every entry processed exactly once: one entry row per item, one article per entry.
    assert _query(pg_url, "SELECT count(*), count(DISTINCT key) FROM entries") == \
        [(2 * FEEDS, 2 * FEEDS)]
    assert _query(pg_url, "SELECT count(*) FROM entries WHERE state = 'done' "
                          "AND article_id IS NOT NULL")[0][0] == 2 * FEEDS
    assert _query(pg_url, "SELECT count(*) FROM articles WHERE origin = 'feed'")[0][0] == \
        2 * FEEDS
    # Every expected alert posted exactly once, and nothing else.
    posted = Counter(url for m in messages for url in expected
                     if url in json.dumps(m["blocks"]))
    assert posted == Counter(expected), posted
    assert len(messages) == len(expected)
    # The survivors did the work, including what the killed worker held.
    owners = dict(_query(pg_url, "SELECT lease_owner, count(*) FROM entries GROUP BY 1"))
    assert owners == {None: 2 * FEEDS}
    # No feed was polled twice in its interval (one poll each, a killed worker's at most twice).
    polls = Counter(r.path for r in http_server.requests if r.path.startswith("/f/"))
    assert len(polls) == FEEDS and max(polls.values()) <= 2
    assert sum(1 for n in polls.values() if n == 2) <= stranded_feeds


def _tables_exist(pg_url: str) -> bool:
    return bool(_query(pg_url, "SELECT 1 FROM information_schema.tables "
                               "WHERE table_name = 'entries'"))


def _tail(folder) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in folder.glob("w*.log"))
