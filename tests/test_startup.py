"""Workers starting at the same instant on an empty PostgreSQL database: migrate, config feed
sync and baseline load are each done once, and every worker starts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import psycopg

from tests.conftest import ROOT, rss, write_config
from tests.httpserver import Reply

# Imports everything first, then waits for the gate file: the workers then start within a
# millisecond of each other, not a second apart as their imports would spread them.
GATED = """
import os, sys, time
import watcher.cli, watcher.service, watcher.pipeline, watcher.store.db
gate = sys.argv[1]
while not os.path.exists(gate):
    time.sleep(0.0005)
sys.exit(watcher.cli.main(sys.argv[2:]))
"""


def _query(pg_url: str, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(sql).fetchall()


def test_three_workers_started_at_once_on_an_empty_database(pg_url, http_server, tmp_path):
    published = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    feeds = [http_server.route(f"/f{i}.rss", Reply(body=rss([{
        "title": f"Council meets {i}", "link": http_server.url(f"/p{i}.html"),
        "summary": "The council met.", "published": published}]),
        content_type="application/rss+xml")) for i in range(6)]
    cfg = write_config(tmp_path, feeds=feeds + feeds[:1], db_url=pg_url)  # one listed twice
    gate = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    procs = []
    for i in range(3):
        log = open(tmp_path / f"w{i}.log", "w")
        procs.append((subprocess.Popen(
            [sys.executable, "-c", GATED, str(gate), "run", "--once", "--config", str(cfg)],
            cwd=ROOT, env={**env, "WATCHER_WORKER_ID": f"w{i}"}, stdout=log,
            stderr=subprocess.STDOUT), log))
    time.sleep(3)  # every worker has imported and waits at the gate
    gate.write_text("go")
    codes = [p.wait(timeout=300) for p, _ in procs]
    logs = [(tmp_path / f"w{i}.log").read_text() for i in range(3)]
    for _, log in procs:
        log.close()
    assert codes == [0, 0, 0], "\n\n".join(logs)
    rows = _query(pg_url, "SELECT url, count(*) FROM feeds GROUP BY url")
    assert sorted(rows) == sorted((url, 1) for url in feeds)
    assert _query(pg_url, "SELECT count(*), count(DISTINCT key) FROM entries") == [(6, 6)]
    assert _query(pg_url, "SELECT count(*) FROM alembic_version") == [(1,)]
    baseline = _query(pg_url, "SELECT count(*) FROM findings WHERE origin = 'baseline'")[0][0]
    seeds = _query(pg_url, "SELECT count(*), count(DISTINCT url) FROM articles "
                           "WHERE origin = 'seed'")
    assert baseline > 0 and seeds[0][0] == seeds[0][1] == 5
