"""Every feed of feedparser's own test suite, served over HTTP and polled: the poller survives.

The files live in ../shared/corpora/feedparser-tests/ (relative to the repository root). Each is
served with the headers its comment names (``Header: Content-type: ...``), else ``text/xml``.
"""

from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.httpserver import Reply, serve
from watcher.fetch import Fetcher, FetchStatus
from watcher.poll import poll_feed
from watcher.settings import FetchSettings
from watcher.types import FeedState

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "feedparser-tests"
NOW = datetime(2024, 3, 14, 12, 0, tzinfo=UTC)
HEADER = re.compile(rb"^\s*Header:\s*([A-Za-z-]+):[ \t]*(.*?)\s*$", re.MULTILINE)
KINDS = {s.value for s in FetchStatus} | {"empty", "not_a_feed", "unchanged"}

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(),
                                reason=f"feedparser test corpus not found at {CORPUS}")


def reply_for(path: Path) -> Reply:
    body = path.read_bytes()
    headers = {}
    for name, value in HEADER.findall(body[:2000]):
        headers[name.decode("latin-1").title()] = value.decode("latin-1")
    content_type = headers.pop("Content-Type", "text/xml")
    headers.pop("Content-Length", None)
    headers = {k: v for k, v in headers.items() if v}
    return Reply(body=body, content_type=content_type, headers=headers)


def test_poller_survives_every_feedparser_test_feed():
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "LICENSE")
    assert len(files) > 2000
    with serve() as server, Fetcher(FetchSettings(timeout=10),
                                    allow_hosts={server.host_port}) as fetcher:
        urls = {}
        for path in files:
            rel = path.relative_to(CORPUS).as_posix()
            urls[rel] = server.route("/" + quote(rel), reply_for(path))

        def poll(rel: str):
            return rel, poll_feed(fetcher, FeedState(url=urls[rel]), NOW)

        with ThreadPoolExecutor(4) as pool:
            outcomes = dict(pool.map(poll, urls))

    assert len(outcomes) == len(files)
    kinds = Counter(o.status for o in outcomes.values())
    for rel, out in outcomes.items():
        assert out.status in KINDS, (rel, out.status)
        assert out.state.last_status == out.status, rel
        assert out.status in ("ok", "empty") or out.state.last_error, rel
        assert (out.parsed is not None) == (out.status in ("ok", "empty")), rel
    assert not kinds.keys() - {"ok", "empty", "not_a_feed"}, kinds  # no fetch failed
    well = [o for rel, o in outcomes.items() if rel.startswith("wellformed/")]
    assert sum(o.status == "ok" for o in well) > 0.6 * len(well), kinds
