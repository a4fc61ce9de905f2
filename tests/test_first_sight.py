"""A thousand feeds at once (issue 17): what makes a first sight fast and the news come first.

- entries are queued fresh before backlog ([schedule] backlog_after), each part in publication
  order, from one index; a poll batch is stored in one transaction;
- a batch of entries is analysed in one transaction, the next batch's pages fetched meanwhile,
  and never claimed twice;
- backlog gives way to feeds that are due; `run --once` delivers while it works, and loads the
  rules only when an entry needs them;
- an unwanted body (a 404 page) is read so its connection serves the next request; extraction
  workers start with the first page.

Real SQLite and PostgreSQL, a real HTTP server on 127.0.0.1, the real slack_sdk client against
the Slack stand-in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import ROOT, article_page, rss, write_config
from tests.httpserver import Reply
from tests.slack_standin import SlackStandIn
from watcher.fetch import Fetcher
from watcher.pagetext import ExtractorPool
from watcher.pipeline import CycleReport
from watcher.service import build
from watcher.settings import FeedSettings, FetchSettings, load_settings
from watcher.store import repo
from watcher.store.db import make_engine, migrate
from watcher.store.models import AlertRow, ArticleRow, EntryRow
from watcher.types import Entry, EntryState

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TOKEN = {"SLACK_BOT_TOKEN": "xoxb-test-token"}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):  # type: ignore[no-untyped-def]
    url = (f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    eng = make_engine(url)
    migrate(eng)
    yield eng
    eng.dispose()


def _entry(key: str, published: datetime | None) -> Entry:
    return Entry(feed_url="x", key=key, link=f"https://n.test/{key}", title=key, summary="s",
                 published=published)


def _feeds(engine, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    repo.sync_feeds(engine, [FeedSettings(url=f"https://f.test/{i}") for i in range(n)], 60)
    return [feed_id for feed_id, _ in repo.list_feeds(engine)]


def test_fresh_entries_come_newest_first_then_backlog_oldest_first(engine):
    a, b = _feeds(engine, 2)
    state = repo.list_feeds(engine)[0][1]
    polls = [  # as feeds list them: newest first
        repo.Poll(a, state, [_entry("a-new", NOW - timedelta(hours=1)),
                             _entry("a-older", NOW - timedelta(hours=5)),
                             _entry("a-archive", NOW - 30 * DAY)]),
        repo.Poll(b, state, [_entry("b-undated", None),
                             _entry("b-new", NOW - timedelta(hours=3)),
                             _entry("b-archive", NOW - 3 * DAY)]),
    ]
    assert repo.save_polls(engine, polls, NOW, backlog_after=DAY) == 6
    claimed = repo.claim_entries(engine, NOW, "w", 60, limit=10)
    assert [c.entry.key for c in claimed] == [
        "b-undated", "a-new", "b-new", "a-older",  # fresh, newest first; undated: when seen
        "a-archive", "b-archive"]  # backlog, oldest first
    assert [c.backlog for c in claimed] == [False] * 4 + [True] * 2
    assert repo.pending_entries(engine) == (4, 2)


def test_without_backlog_after_every_entry_is_fresh(engine):
    [a] = _feeds(engine, 1)
    state = repo.list_feeds(engine)[0][1]
    repo.save_polls(engine, [repo.Poll(a, state, [_entry("new", NOW),
                                                  _entry("old", NOW - 300 * DAY)])], NOW)
    claimed = repo.claim_entries(engine, NOW, "w", 60)
    assert [(c.entry.key, c.backlog) for c in claimed] == [("new", False), ("old", False)]


def test_a_poll_batch_is_stored_at_once_and_a_removed_feed_spoils_nothing(engine):
    ids = _feeds(engine, 3)
    states = dict(repo.list_feeds(engine))
    polled = [repo.Poll(i, states[i].__class__(**{**states[i].__dict__, "etag": f'"{i}"',
                                                 "next_check_at": NOW + DAY}),
                        [_entry(f"{i}-{n}", NOW) for n in range(3)]) for i in ids]
    assert repo.remove_feed(engine, states[ids[1]].url)  # removed while it was being polled
    assert repo.save_polls(engine, polled, NOW) == 6
    after = dict(repo.list_feeds(engine))
    assert [after[i].etag for i in (ids[0], ids[2])] == [f'"{ids[0]}"', f'"{ids[2]}"']
    assert after[ids[0]].next_check_at == NOW + DAY
    with engine.connect() as conn:
        keys = set(conn.execute(select(EntryRow.key)).scalars())
    assert keys == {f"{i}-{n}" for i in (ids[0], ids[2]) for n in range(3)}


def test_claiming_ahead_never_takes_the_batch_in_hand(engine):
    [a] = _feeds(engine, 1)
    state = repo.list_feeds(engine)[0][1]
    repo.save_polls(engine, [repo.Poll(a, state, [_entry(f"k{n}", NOW - timedelta(minutes=n))
                                                  for n in range(5)])], NOW)
    first = repo.claim_entries(engine, NOW, "w", 60, limit=3)
    ahead = repo.claim_entries(engine, NOW, "w", 60, limit=3, besides=[c.id for c in first])
    assert len(first) == 3 and len(ahead) == 2
    assert not {c.id for c in first} & {c.id for c in ahead}
    # the worker's own name still takes back its leases (a restart under the same name)
    assert len(repo.claim_entries(engine, NOW, "w", 60, limit=10)) == 5


def test_entries_are_finished_in_one_statement_and_their_leases_dropped(engine):
    [a] = _feeds(engine, 1)
    state = repo.list_feeds(engine)[0][1]
    repo.save_polls(engine, [repo.Poll(a, state, [_entry(f"k{n}", NOW) for n in range(3)])],
                    NOW)
    claimed = repo.claim_entries(engine, NOW, "w", 60)
    with engine.begin() as conn:
        repo.finish_entries(conn, [repo.Finished(c.id, EntryState.FAILED, "not_found", "404")
                                   for c in claimed])
    with engine.connect() as conn:
        rows = conn.execute(select(EntryRow.state, EntryRow.status, EntryRow.lease_owner)).all()
    assert sorted(rows) == [("failed", "not_found", None)] * 3
    assert repo.pending_entries(engine) == (0, 0)


def test_an_unwanted_body_is_read_so_the_connection_serves_the_next_request(http_server):
    http_server.route("/gone.html", Reply(status=404, body=b"<p>not here</p>" * 100))
    http_server.route("/page.html", Reply(body=b"<p>here</p>"))
    with Fetcher(FetchSettings(), allow_hosts={http_server.host_port}) as fetcher:
        assert fetcher.get(http_server.url("/gone.html")).status == "not_found"
        assert fetcher.get(http_server.url("/page.html")).ok
    ports = [r.handler.client_address[1] for r in http_server.requests]
    assert len(ports) == 2 and ports[0] == ports[1]  # one connection for both


def test_extraction_workers_start_with_the_first_page():
    with ExtractorPool(workers=2, timeout=30) as pool:
        assert pool._all == []  # a cycle with nothing new starts no process
        result = pool.extract(article_page("T", ["Some text here. " * 20]), "https://x.test/")
        assert result.status == "ok" and len(pool._all) == 2
        assert result.signature is not None  # made in the worker, not in the service


def _once(cfg) -> CycleReport:  # type: ignore[no-untyped-def]
    """What `watcher run --once` does, in this process (to look at its report)."""
    service = build(load_settings(cfg), env=TOKEN)
    try:
        service.pipeline.start(eager=False)
        return service.pipeline.run_cycle()
    finally:
        service.close()


def _items(http_server, stories):  # type: ignore[no-untyped-def]
    items = []
    for i, (title, body, published) in enumerate(stories):
        path = f"/news/{i}.html"
        http_server.route(path, Reply(body=article_page(title, [body], published)))
        items.append({"title": title, "link": http_server.url(path), "published": published,
                      "summary": body[:100]})
    return items


ARCHIVE = [(f"Port strike, day {n}", f"Dock workers stayed out for a {n}th day, unions said. "
            * 3, datetime.now(UTC) - (10 + n) * DAY) for n in range(40)]


def _trip(now: datetime) -> tuple[str, str, datetime]:
    day = (now + 20 * DAY).strftime("%B %-d")
    return ("Pompeo to visit Reykjavik",
            f"Secretary of State Mike Pompeo will travel to Reykjavik on {day}, the State "
            "Department said.", now - timedelta(hours=2))


def test_fresh_news_is_analysed_and_delivered_before_the_backlog(http_server, tmp_path):
    """A new feed with a 40-entry archive and one fresh report: the fresh report is analysed
    first, and `run --once` posts its alert before it works through the archive."""
    now = datetime.now(UTC)
    items = _items(http_server, [*ARCHIVE, _trip(now)])
    feed = http_server.route("/feed.rss", Reply(body=rss(items[::-1]),
                                                content_type="application/rss+xml"))
    with SlackStandIn() as slack:
        report = _once(write_config(tmp_path, feeds=[feed], slack_base_url=slack.base_url,
                                    extra="extract_workers = 1"))
        assert report.entries_new == 41 and report.articles == 41
        assert len(slack.messages) == 1 and "Reykjavik" in str(slack.messages[0])
    engine = make_engine(f"sqlite:///{tmp_path / 'watcher.db'}")
    with engine.connect() as conn:
        urls = list(conn.execute(select(ArticleRow.url).where(ArticleRow.origin == "feed")
                                 .order_by(ArticleRow.id)).scalars())
        sent_at = conn.execute(select(AlertRow.sent_at)).scalar_one()
        last_stored = conn.execute(select(ArticleRow.fetched_at)
                                   .order_by(ArticleRow.id.desc())).scalars().first()
    engine.dispose()
    assert urls[0] == http_server.url("/news/40.html")  # the fresh report first
    assert urls[1:] == [http_server.url(f"/news/{n}.html") for n in range(39, -1, -1)]
    assert sent_at is not None and last_stored is not None
    assert sent_at.replace(tzinfo=UTC) <= last_stored.replace(tzinfo=UTC)  # posted mid-cycle


def test_backlog_gives_way_to_due_feeds(http_server, tmp_path):
    """A feed's 70-entry archive is worked through a batch at a time, polls in between."""
    archive = [(f"Old {n}", "Archive text.", datetime.now(UTC) - (50 + n) * DAY)
               for n in range(70)]
    feed = http_server.route("/feed.rss", Reply(body=rss(_items(http_server, archive)),
                                                etag='"v1"', content_type="application/rss+xml"))
    other = http_server.route("/other.rss", Reply(body=rss([]), etag='"o1"',
                                                  content_type="application/rss+xml"))
    cfg = write_config(tmp_path, feeds=[feed, other], extra="extract_workers = 1")
    service = build(load_settings(cfg), env={})
    pipeline, report = service.pipeline, CycleReport()
    try:
        pipeline.start(eager=False)
        assert pipeline.poll(report) == 2
        assert repo.pending_entries(service.engine) == (0, 70)
        with service.engine.begin() as conn:  # both feeds due again
            conn.exec_driver_sql("UPDATE feeds SET next_check_at = NULL")
        assert pipeline.process(report) is True  # gave way after a batch of backlog
        fresh, backlog = repo.pending_entries(service.engine)
        assert fresh == 0 and 0 < backlog < 70
        polls = http_server.hits("/other.rss")
        whole = pipeline.run_cycle(deliver=False)  # polls first, then the rest
        assert http_server.hits("/other.rss") == polls + 1
        assert whole.articles == backlog and repo.pending_entries(service.engine) == (0, 0)
    finally:
        service.close()


def test_a_quiet_cycle_parses_nothing_and_loads_no_rules(http_server, tmp_path):
    """`run --once` twice: the first stores the baseline (so it loads the rules); the second
    finds nothing new, parses nothing and never builds the rules (nor their gazetteer)."""
    feed = http_server.route("/feed.rss", Reply(body=rss([]), etag='"v1"',
                                                content_type="application/rss+xml"))
    cfg = write_config(tmp_path, feeds=[feed])
    runs = []
    for _ in range(2):
        service = build(load_settings(cfg), env={})
        try:
            service.pipeline.start(eager=False)
            runs.append((service.pipeline.run_cycle(deliver=False), service.pipeline.rules))
            with service.engine.begin() as conn:  # due again for the next run
                conn.exec_driver_sql("UPDATE feeds SET next_check_at = NULL")
        finally:
            service.close()
    (first, first_rules), (again, again_rules) = runs
    assert (first.feeds_polled, first.feeds_parsed) == (1, 1)
    assert first_rules is not None  # the baseline had to be stored
    assert (again.feeds_polled, again.feeds_parsed) == (1, 0)  # a 304: not parsed
    assert again_rules is None  # nothing to analyse, baseline current: rules never loaded


def test_changed_rule_files_are_loaded_at_once(http_server, tmp_path):
    """A rule file edited between two runs: the next run loads the rules at start (and
    stores the baseline again), with nothing new to analyse."""
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    feed = http_server.route("/feed.rss", Reply(body=rss([]), etag='"v1"',
                                                content_type="application/rss+xml"))
    cfg = write_config(tmp_path, feeds=[feed], rules=rules)
    loaded = []
    for edit in (False, True):
        if edit:
            path = rules / "pompeo-trip.yaml"
            path.write_text(path.read_text() + "\n# edited\n")
        service = build(load_settings(cfg), env={})
        try:
            service.pipeline.start(eager=False)
            loaded.append(service.pipeline.rules is not None)
        finally:
            service.close()
    assert loaded == [True, True]


def test_fresh_news_newest_first_adds_no_noise(http_server, tmp_path):
    """A feed listing, within the hour, a trip and then its cancellation: analysed newest
    first, the cancellation is the one post; the older announcement is no news after it."""
    now = datetime.now(UTC)
    day = (now + 20 * DAY).strftime("%B %-d")
    announced = ("Pompeo to visit Reykjavik", f"Secretary of State Mike Pompeo will travel to "
                 f"Reykjavik on {day}, the State Department said.", now - timedelta(minutes=50))
    cancelled = ("Pompeo calls off Reykjavik trip", f"Secretary of State Mike Pompeo has called "
                 f"off his trip to Reykjavik, planned for {day}, the State Department said.",
                 now - timedelta(minutes=5))
    items = _items(http_server, [announced, cancelled])
    feed = http_server.route("/feed.rss", Reply(body=rss(items[::-1]),
                                                content_type="application/rss+xml"))
    with SlackStandIn() as slack:
        report = _once(write_config(tmp_path, feeds=[feed], slack_base_url=slack.base_url,
                                    slack_extra="digest_after = 0", extra="extract_workers = 1"))
        assert report.articles == 2
        assert len(slack.messages) == 1, slack.messages
        assert "cancelled" in str(slack.messages[0]) and "Reykjavik" in str(slack.messages[0])


def test_feeds_are_parsed_in_a_worker_isolated_and_time_limited_like_pages(http_server):
    import time

    from watcher.parse import parse_feed

    body = rss([{"title": "One", "link": "https://n.test/1", "summary": "s",
                 "published": NOW}])
    with ExtractorPool(workers=1, timeout=1) as pool:
        ran = pool.run(parse_feed, body, {}, "https://f.test/feed")
        assert ran.status == "ok" and [e.title for e in ran.value.entries] == ["One"]
        hung = pool.run(time.sleep, 30)  # a parser that never returns
        assert hung.status == "timeout" and "took longer than 1s" in (hung.error or "")
        again = pool.run(parse_feed, body, {}, "https://f.test/feed")  # a fresh worker
        assert again.status == "ok" and len(again.value.entries) == 1
