"""Storage: the migrations build exactly the models' schema, on SQLite and PostgreSQL, and the
uniqueness that matters is enforced by constraints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from watcher.store import findings, outbox, repo
from watcher.store.db import current_revision, make_engine, migrate
from watcher.store.models import AlertRow, ArticleRow, FindingRow
from watcher.types import AlertDraft, AlertKind, Article, Decision, Finding, Novelty, Outcome

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'w.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    eng = make_engine(url)
    migrate(eng)
    yield eng
    eng.dispose()


def test_migrations_match_models_and_are_idempotent(engine):
    migrate(engine)  # a second upgrade is a no-op
    assert current_revision(engine) == "0004"
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_the_head_read_from_the_migration_files_is_alembics():
    """`migrate` skips Alembic when the stored revision is the head it reads off the files."""
    from alembic.script import ScriptDirectory

    from watcher.store.db import MIGRATIONS, head_revision

    assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head() == "0004"


def _finding(key: str = "k1") -> Finding:
    return Finding(rule_id="r", key=key, facts={"where": "Hanoi"}, evidence="e", summary="s")


def _new(key: str = "k1", alert: bool = False) -> Outcome:
    draft = AlertDraft(AlertKind.NEW, "r", "#c", "s", "https://a.test/1", "t") if alert else None
    return Outcome(_finding(key), Decision(Novelty.NEW, "no known fact"), draft)


def test_one_finding_per_rule_key_article_and_one_alert_per_finding(engine):
    art_id, inserted = repo.save_article(engine, Article("https://a.test/1", "t", "x", NOW),
                                         "feed", NOW)
    assert inserted
    assert repo.save_article(engine, Article("https://a.test/1", "t", "x", NOW), "feed",
                             NOW) == (art_id, False)
    first = findings.record_findings(engine, art_id, [_new(alert=True)], NOW)
    again = findings.record_findings(engine, art_id, [_new(alert=True)], NOW)  # a replay
    assert len(first) == 1 and again == []
    with Session(engine) as s:
        s.add(FindingRow(rule_id="r", key="k1", article_id=art_id))
        with pytest.raises(IntegrityError):
            s.commit()
        s.rollback()
        finding = s.exec(__import__("sqlmodel").select(FindingRow)).first()
        s.add(AlertRow(finding_id=finding.id, rule_id="r", channel="#c"))
        with pytest.raises(IntegrityError):
            s.commit()


def test_leases_divide_work_and_expire(engine):
    from watcher.settings import FeedSettings

    repo.sync_feeds(engine, [FeedSettings(url=f"https://f.test/{i}") for i in range(5)], 60)
    a = repo.claim_due_feeds(engine, NOW, "worker-a", 60, limit=3)
    b = repo.claim_due_feeds(engine, NOW, "worker-b", 60)
    assert len(a) == 3 and len(b) == 2
    assert not {i for i, _ in a} & {i for i, _ in b}
    assert repo.claim_due_feeds(engine, NOW, "worker-c", 60) == []
    later = NOW + timedelta(seconds=61)  # worker-a died: its leases expire
    assert {i for i, _ in repo.claim_due_feeds(engine, later, "worker-c", 60)} == \
        {i for i, _ in a} | {i for i, _ in b}


def test_article_text_is_stored_and_loaded(engine):
    art = Article("https://a.test/2", "Title", "Body text", NOW, outlet="Outlet")
    art_id, _ = repo.save_article(engine, art, "feed", NOW)
    assert repo.load_article(engine, art_id) == art
    with Session(engine) as s:
        assert s.get(ArticleRow, art_id).origin == "feed"


def test_channel_pacing_slots_are_shared_by_concurrent_workers(engine):
    from concurrent.futures import ThreadPoolExecutor

    waits = [outbox.reserve_post_slot(engine, "#a", 1.0, NOW) for _ in range(3)]
    assert waits == [0.0, 1.0, 2.0]
    assert outbox.reserve_post_slot(engine, "#b", 1.0, NOW) == 0.0  # channels are independent
    later = NOW + timedelta(seconds=10)
    with ThreadPoolExecutor(4) as pool:  # four workers asking at the same moment
        concurrent = sorted(pool.map(lambda _: outbox.reserve_post_slot(engine, "#c", 1.5, later),
                                     range(4)))
    assert concurrent == [0.0, 1.5, 3.0, 4.5]


def test_retention_prunes_old_article_text_and_keeps_findings(engine):
    old = Article("https://a.test/old", "Old", "old text", NOW)
    new = Article("https://a.test/new", "New", "new text", NOW)
    old_id, _ = repo.save_article(engine, old, "feed", NOW - timedelta(days=100))
    new_id, _ = repo.save_article(engine, new, "feed", NOW)
    findings.record_findings(engine, old_id, [_new()], NOW)
    assert repo.prune_article_text(engine, NOW - timedelta(days=90)) == 1
    assert repo.load_article(engine, old_id) is None  # text gone
    assert repo.load_article(engine, new_id) == new
    assert [f.key for f in findings.list_findings(engine, article_id=old_id)] == ["k1"]  # kept
    assert repo.article_ids_since(engine, NOW - timedelta(days=365)) == [new_id]


def test_a_feed_removed_from_the_config_is_disabled_and_comes_back(engine):
    from watcher.settings import FeedSettings

    a, b = FeedSettings(url="https://f.test/a"), FeedSettings(url="https://f.test/b")
    repo.sync_feeds(engine, [a, b], 60)
    repo.add_feed(engine, "https://f.test/cli", "cli", 60)
    repo.sync_feeds(engine, [a], 60)
    states = {st.url: st.disabled_reason for _, st in repo.list_feeds(engine)}
    assert states == {"https://f.test/a": None, "https://f.test/b": repo.REMOVED_FROM_CONFIG,
                      "https://f.test/cli": None}  # feeds added by CLI are not the config's
    assert {st.url for _, st in repo.claim_due_feeds(engine, NOW, "w", 60)} == \
        {"https://f.test/a", "https://f.test/cli"}
    repo.sync_feeds(engine, [a, b], 60)
    assert all(st.disabled_reason is None for _, st in repo.list_feeds(engine))


def test_a_feed_is_due_when_never_polled_or_its_check_time_came_and_not_disabled(engine):
    from dataclasses import replace

    for name in ("new", "now", "later", "disabled"):
        repo.add_feed(engine, f"https://f.test/{name}", "cli", 60)
    states = {st.url.rsplit("/", 1)[1]: (i, st) for i, st in repo.list_feeds(engine)}
    for name, change in (("now", {"next_check_at": NOW}),
                         ("later", {"next_check_at": NOW + timedelta(seconds=1)}),
                         ("disabled", {"disabled_reason": "gone (HTTP 410)"})):
        feed_id, st = states[name]
        repo.save_feed_state(engine, feed_id, replace(st, **change), NOW)
    due = {st.url.rsplit("/", 1)[1] for _, st in repo.claim_due_feeds(engine, NOW, "w", 60)}
    assert due == {"new", "now"}


@pytest.mark.parametrize("order", ["same", "reversed"])
def test_the_same_items_from_two_feeds_saved_at_once_are_stored_once(engine, order):
    """Two workers polling two feeds that carry the same items must not fail each other,
    whether the feeds list them in the same order or in opposite orders (which, inserted as
    listed, would make each wait for the other on PostgreSQL: a deadlock)."""
    import threading

    from watcher.settings import FeedSettings
    from watcher.types import Entry, FeedState

    repo.sync_feeds(engine, [FeedSettings(url="https://f.test/1"),
                             FeedSettings(url="https://f.test/2")], 60)
    (id1, st1), (id2, st2) = repo.list_feeds(engine)
    items = 300 if order == "same" else 4000  # enough for the two INSERTs to overlap
    entries = [Entry(feed_url="x", key=f"guid-{n}", link=f"https://n.test/{n}", title="t",
                     summary="s", published=NOW) for n in range(items)]
    barrier, counts, errors = threading.Barrier(2), [], []

    def save(feed_id: int, state: FeedState) -> None:
        listed = entries[::-1] if order == "reversed" and feed_id == id2 else entries
        barrier.wait()
        try:
            counts.append(repo.save_feed_state(engine, feed_id, state, NOW, listed))
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=save, args=a) for a in ((id1, st1), (id2, st2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(counts) == items  # each item counted new once, by whichever worker won
    assert len(repo.claim_pending_entries(engine, NOW, "w", 60, limit=10_000)) == items


def test_a_worker_renews_the_leases_of_entries_it_is_still_on(engine):
    from watcher.settings import FeedSettings
    from watcher.types import Entry

    repo.sync_feeds(engine, [FeedSettings(url="https://f.test/x")], 60)
    [(feed_id, state)] = repo.list_feeds(engine)
    repo.save_feed_state(engine, feed_id, state, NOW, [
        Entry(feed_url="x", key=f"k{n}", link=None, title="t", summary="s", published=NOW)
        for n in range(3)])
    batch = [i for i, _ in repo.claim_pending_entries(engine, NOW, "slow", 60)]
    later = NOW + timedelta(seconds=50)
    repo.renew_entry_leases(engine, batch[1:], "slow", later + timedelta(seconds=60))
    expired = NOW + timedelta(seconds=61)
    taken = [i for i, _ in repo.claim_pending_entries(engine, expired, "other", 60)]
    assert taken == batch[:1]  # only the entry whose lease was not renewed


def test_the_known_findings_cache_follows_the_database(engine):
    """Each worker's cache of known findings: findings stored later (by anyone) are added,
    one committed after a higher id still appears, and a replaced baseline is reloaded; at
    every step it answers what reading every finding would."""
    from watcher.store.known import KnownFindings

    def stored(rule: str) -> list[tuple[int, str, str]]:
        return [(k.id, k.key, k.origin) for k in findings.known_findings(engine, [rule])]

    def cached(cache: KnownFindings, rule: str) -> list[tuple[int, str, str]]:
        return [(k.id, k.key, k.origin) for k in cache.of_rules(engine, [rule])]

    seed = Article("seed:1", "s", "x", NOW)
    findings.replace_baseline(engine, "fp1", [(seed, None, [_finding("b1")])], NOW)
    cache = KnownFindings()
    assert cached(cache, "r") == stored("r") and len(stored("r")) == 1
    art_id, _ = repo.save_article(engine, Article("https://a.test/1", "t", "x", NOW), "feed", NOW)
    if engine.dialect.name == "postgresql":
        with engine.begin() as slow:  # the lower id commits after a higher one is seen
            findings.record_findings(slow, art_id, [_new("late")], NOW)
            findings.record_findings(engine, art_id, [_new("k2")], NOW)
            assert [k for _, k, _ in cached(cache, "r")] == ["b1", "k2"]
    else:
        findings.record_findings(engine, art_id, [_new("late")], NOW)
        findings.record_findings(engine, art_id, [_new("k2")], NOW)
    assert cached(cache, "r") == stored("r")
    assert [k for _, k, _ in cached(cache, "r")] == ["b1", "late", "k2"]
    assert cache.of_rules(engine, ["other"]) == []
    findings.replace_baseline(engine, "fp2", [(seed, None, [_finding("b2")])], NOW)
    assert cached(cache, "r") == stored("r")
    assert sorted(k for _, k, _ in cached(cache, "r")) == ["b2", "k2", "late"]
    mine = cache.of_rules(engine, ["r"])
    mine.append(mine[0])  # the caller's list is its own
    assert len(cache.of_rules(engine, ["r"])) == 3


def test_entries_commit_without_waiting_for_the_disk_and_nothing_else_does(pg_url):
    """Only the entry engine's connections (entries' transactions) relax durability; feed
    polls and every delivery step use the main engine, which keeps it."""
    from watcher.store.db import entry_engine

    engine = make_engine(pg_url)
    relaxed = entry_engine(engine)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
        with relaxed.connect() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        sqlite = make_engine("sqlite://")
        assert entry_engine(sqlite) is sqlite
    finally:
        relaxed.dispose()
        engine.dispose()


def test_the_next_feed_due_counts_a_lease_held_by_another_worker(engine):
    """A worker waits for the next feed it could claim: one leased by another worker (alive
    or dead) is free when its lease ends, not when it fell due."""
    from watcher.store.models import Feed

    assert repo.next_feed_due(engine) is None
    repo.add_feed(engine, "http://a.test/f.rss", "cli", 300)
    repo.add_feed(engine, "http://b.test/f.rss", "cli", 300)
    with Session(engine) as s:
        a, b = s.exec(select(Feed).order_by(Feed.id)).all()
        a.next_check_at = NOW
        a.lease_owner, a.lease_until = "other", NOW + timedelta(seconds=200)
        b.next_check_at = NOW + timedelta(seconds=100)
        s.add(a)
        s.add(b)
        s.commit()
    assert repo.next_feed_due(engine) == NOW + timedelta(seconds=100)
    repo.release_all(engine, "other")
    assert repo.next_feed_due(engine) == NOW


def test_the_outbox_codec_round_trips_a_draft_and_returns_values(engine):
    from watcher.types import Change

    draft = AlertDraft(AlertKind.UPDATE, "r", "#c", "Summit moved", "https://a.test/1", "t & <b>",
                       evidence="e", matched=("Hanoi",), changes=(Change("when", "May", "April"),),
                       outlet="Meridian Post", published=NOW, severity="warning", reason="why")
    assert outbox.from_payload(draft.kind, draft.rule_id, draft.channel,
                               outbox.to_payload(draft)) == draft
    art_id, _ = repo.save_article(engine, Article("https://a.test/1", "t", "x", NOW), "feed", NOW)
    [alert_id] = findings.record_findings(
        engine, art_id, [Outcome(_finding(), Decision(Novelty.UPDATE, "why"), draft)], NOW)
    [queued] = outbox.claim_alerts(engine, NOW, "w", 60)
    assert isinstance(queued, outbox.QueuedAlert) and queued.id == alert_id
    assert queued.draft == draft and queued.state == "pending" and queued.created_at == NOW


def test_an_unreadable_outbox_row_is_marked_failed_not_sent_as_something_else(engine):
    with Session(engine) as s:
        s.add(AlertRow(kind="bogus", rule_id="r", channel="#c", state="pending", payload={},
                       created_at=NOW, next_attempt_at=NOW))
        s.commit()
    ok = add_draft(engine)
    assert [q.id for q in outbox.claim_alerts(engine, NOW, "w", 60)] == [ok]
    with Session(engine) as s:
        [bad] = [r for r in s.exec(select(AlertRow)) if r.kind == "bogus"]
    assert bad.state == "failed" and "cannot be read" in bad.error and "bogus" in bad.error


def add_draft(engine) -> int:  # type: ignore[no-untyped-def]
    draft = AlertDraft(AlertKind.NEW, "r", "#c", "s", "https://a.test/2", "t")
    art_id, _ = repo.save_article(engine, Article("https://a.test/2", "t", "x", NOW), "feed", NOW)
    [alert_id] = findings.record_findings(
        engine, art_id, [Outcome(_finding("k9"), Decision(Novelty.NEW, "x"), draft)], NOW)
    return alert_id
