"""Feeds, entries and articles in SQL (findings: ``store.findings``; alerts: ``store.outbox``).
Functions take an engine and values, and return values.

Transactions end where correctness needs them to: a finding and its alert are written in one
transaction (the outbox); an alert's state changes are each committed before the next step.
The functions an entry's processing uses take a ``Bind``: an engine (each call is its own
transaction) or a connection inside ``engine.begin()`` (the caller's one transaction, which
the call joins: its ``commit`` is then the caller's).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, case, func, or_, text, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from watcher.settings import FeedSettings
from watcher.store.lease import claim, renew
from watcher.store.models import AlertRow, ArticleRow, EntryRow, Feed, stored_id, utc
from watcher.types import Article, Entry, EntryState, FeedState

REMOVED_FROM_CONFIG = "not in the config any more"
WAKE_CHANNEL = "watcher_work"  # PostgreSQL NOTIFY channel: new entries, new alerts

Bind = Engine | Connection

# --- feeds -------------------------------------------------------------------------------------

SYNC_LOCK = 7135003  # advisory lock key: one config feed sync at a time (PostgreSQL)


def sync_feeds(engine: Engine, feeds: Sequence[FeedSettings], default_interval: int) -> None:
    """Make sure every feed of the config has a row (feeds added by CLI are left alone).

    Workers starting together take turns (PostgreSQL advisory lock), and a row is inserted
    only if no row has its URL (``ON CONFLICT DO NOTHING``): each feed is stored once."""
    with Session(engine) as s:
        if engine.dialect.name == "postgresql":
            s.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(  # type: ignore[call-overload]
                key=SYNC_LOCK))
        existing = {f.url: f for f in s.exec(select(Feed))}
        for fs in feeds:
            interval = fs.interval or default_interval
            row = existing.get(fs.url)
            if row is None:
                s.connection().execute(_insert_feed(engine, fs.url, "config", interval, fs.name))
                continue
            row.interval = interval
            if row.disabled_reason == REMOVED_FROM_CONFIG:
                row.disabled_reason = None  # back in the config: watched again
            s.add(row)
        wanted = {fs.url for fs in feeds}
        for url, row in existing.items():
            if row.origin == "config" and url not in wanted and not row.disabled_reason:
                row.disabled_reason = REMOVED_FROM_CONFIG  # kept for its history
                s.add(row)
        s.commit()


def add_feed(engine: Engine, url: str, origin: str, interval: int,
             title: str | None = None) -> bool:
    """Add a feed unless its URL is already watched; True when it was added."""
    with engine.begin() as conn:
        return conn.execute(_insert_feed(engine, url, origin, interval, title)
                            .returning(Feed.id)).first() is not None


def _insert_feed(bind: Bind, url: str, origin: str, interval: int, title: str | None) -> Any:
    """INSERT of a new feed row that does nothing when the URL is already there."""
    return _insert(bind, Feed).values(
        url=url, title=title, origin=origin, interval=interval, consecutive_errors=0,
    ).on_conflict_do_nothing(index_elements=["url"])


def enable_feed(engine: Engine, url: str, now: datetime) -> bool:
    """Poll a disabled (or failing) feed again, its error count forgotten."""
    with Session(engine) as s:
        row = s.exec(select(Feed).where(Feed.url == url)).first()
        if row is None:
            return False
        row.disabled_reason, row.consecutive_errors, row.next_check_at = None, 0, now
        s.add(row)
        s.commit()
        return True


def remove_feed(engine: Engine, url: str) -> bool:
    with Session(engine) as s:
        row = s.exec(select(Feed).where(Feed.url == url)).first()
        if row is None:
            return False
        s.exec(update(EntryRow).where(col(EntryRow.feed_id) == row.id).values(feed_id=None))
        s.delete(row)
        s.commit()
        return True


def _feed_state(row: Feed) -> FeedState:
    return FeedState(
        url=row.url, etag=row.etag, last_modified=row.last_modified, body_hash=row.body_hash,
        interval=row.interval, next_check_at=utc(row.next_check_at),
        last_success_at=utc(row.last_success_at), last_status=row.last_status,
        last_error=row.last_error, consecutive_errors=row.consecutive_errors,
        disabled_reason=row.disabled_reason, title=row.title,
    )


def list_feeds(engine: Engine) -> list[tuple[int, FeedState]]:
    with Session(engine) as s:
        return [(stored_id(r.id), _feed_state(r))
                for r in s.exec(select(Feed).order_by(col(Feed.id)))]


def claim_due_feeds(engine: Engine, now: datetime, owner: str, lease_seconds: int,
                    limit: int = 1000) -> list[tuple[int, FeedState]]:
    """Feeds whose next check is due, leased to ``owner`` so no other worker polls them."""
    rows = claim(engine, Feed, now, owner, lease_seconds, limit, where=_due(now),
                 order_by=Feed.next_check_at)
    return [(stored_id(r.id), _feed_state(r)) for r in rows]


def _due(now: datetime) -> list[Any]:
    """Feeds due for a poll at ``now`` (whoever holds them)."""
    return [col(Feed.disabled_reason).is_(None),
            or_(col(Feed.next_check_at).is_(None), col(Feed.next_check_at) <= now)]


def next_feed_due(engine: Engine) -> datetime | None:
    """When the next enabled feed is due for a poll and free to claim (a feed leased by
    another worker, even a dead one, is free when its lease ends). None: no feed."""
    free_at = case((col(Feed.lease_until) > col(Feed.next_check_at), col(Feed.lease_until)),
                   else_=col(Feed.next_check_at))
    with Session(engine) as s:
        return utc(s.exec(select(func.min(free_at)).where(
            col(Feed.disabled_reason).is_(None))).one())


class Poll(NamedTuple):
    """One feed's poll, to store: its new state and the entries it listed (newest first)."""

    feed_id: int
    state: FeedState
    entries: Sequence[Entry] = ()


def any_feed_due(engine: Engine, now: datetime) -> bool:
    """Whether a feed is due for a poll and free to claim now (``claim_due_feeds`` would take
    it)."""
    with engine.connect() as conn:
        return conn.execute(select(col(Feed.id)).where(
            *_due(now), or_(col(Feed.lease_until).is_(None), col(Feed.lease_until) < now)
        ).limit(1)).first() is not None


def save_feed_state(bind: Bind, feed_id: int, state: FeedState, polled_at: datetime,
                    entries: Iterable[Entry] = (), backlog_after: timedelta | None = None) -> int:
    """Record one poll (``save_polls``). Returns how many of its entries were new."""
    return save_polls(bind, [Poll(feed_id, state, tuple(entries))], polled_at, backlog_after)


_FEED_STATE = ("etag", "last_modified", "body_hash", "next_check_at", "last_success_at",
               "last_status", "last_error", "consecutive_errors", "disabled_reason")


def save_polls(bind: Bind, polls: Sequence[Poll], polled_at: datetime,
               backlog_after: timedelta | None = None) -> int:
    """Record a batch of polls in one transaction: each feed's new state (one UPDATE for the
    batch) and the entries not seen before (one INSERT). Returns how many entries were new.

    An entry published more than ``backlog_after`` before ``polled_at`` is *backlog*: it is
    processed after every fresher entry (``claim_entries``)."""
    if not polls:
        return 0
    feeds = Feed.__table__  # type: ignore[attr-defined]
    states = [{"fid": p.feed_id, "title_": p.state.title, "polled": polled_at,
               **{f"s_{name}": getattr(p.state, name) for name in _FEED_STATE}} for p in polls]
    update_state = update(feeds).where(feeds.c.id == bindparam("fid")).values(
        last_polled_at=bindparam("polled"), lease_owner=None, lease_until=None,
        title=func.coalesce(feeds.c.title, bindparam("title_")),
        **{name: bindparam(f"s_{name}") for name in _FEED_STATE})
    with _transaction(bind) as conn:
        conn.execute(update_state, states)
        # A feed removed while it was being polled: its entries are not stored.
        alive = set(conn.execute(select(feeds.c.id).where(
            feeds.c.id.in_([p.feed_id for p in polls]))).scalars())
        return _insert_entries(conn, [p for p in polls if p.feed_id in alive], polled_at,
                               backlog_after)


def _insert_entries(conn: Connection, polls: Sequence[Poll], polled_at: datetime,
                    backlog_after: timedelta | None) -> int:
    rows: dict[str, dict[str, Any]] = {}
    for p in polls:
        for e in p.entries:
            rows.setdefault(e.key, {
                "key": e.key, "feed_id": p.feed_id, "link": e.link, "title": e.title,
                "summary": e.summary, "outlet": e.outlet, "published": e.published,
                "seen_at": polled_at, "queue_at": e.published or polled_at,
                "backlog": bool(backlog_after is not None and e.published is not None
                                and e.published < polled_at - backlog_after),
                "state": EntryState.PENDING})
    if not rows:
        return 0
    # The same item may arrive through two feeds polled by two workers at once: the unique
    # key decides, and the loser skips it instead of failing its cycle. Rows go in key order,
    # so two such transactions wait for each other's keys in one order, never in a circle.
    stmt = _insert(conn, EntryRow).on_conflict_do_nothing(index_elements=["key"])
    new = len(conn.execute(stmt.returning(col(EntryRow.id)),
                           [rows[k] for k in sorted(rows)]).all())
    if new:
        wake(conn, "entries")
    return new


@contextmanager
def _transaction(bind: Bind) -> Iterator[Connection]:
    """A connection in a transaction: the engine's own (committed at the end of the block), or
    the caller's connection, whose transaction (begun here if none is) the block joins."""
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            yield conn
        return
    if bind.in_transaction():
        yield bind
        return
    with bind.begin():
        yield bind


def _insert(bind: Bind, model: Any) -> Any:
    """INSERT with ON CONFLICT support for the database in use."""
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model)


# --- entries and articles ----------------------------------------------------------------------

class Claimed(NamedTuple):
    id: int
    entry: Entry
    backlog: bool


def claim_entries(engine: Engine, now: datetime, owner: str, lease_seconds: int,
                  limit: int = 200, besides: Sequence[int] = ()) -> list[Claimed]:
    """Lease the next pending entries: fresh ones first, newest first by publication (when it
    was seen, for an entry without a date): the current news comes out first; then backlog,
    oldest first, whatever order the feeds list them in. (The order never makes an older
    report news over a newer one: ``watcher.decide``.) One index serves both orders
    (``ix_entries_queue``), however many entries are pending. ``besides``: entries the worker
    holds already (the batch it is on), not to be claimed twice."""
    where: list[Any] = [EntryRow.state == EntryState.PENDING]
    if besides:
        where.append(col(EntryRow.id).not_in(list(besides)))
    rows = claim(engine, EntryRow, now, owner, lease_seconds, limit,
                 where=[*where, col(EntryRow.backlog).is_(False)],
                 order_by=(EntryRow.state, EntryRow.backlog, col(EntryRow.queue_at).desc(),
                           col(EntryRow.id).desc()))
    if len(rows) < limit:
        rows += claim(engine, EntryRow, now, owner, lease_seconds, limit - len(rows),
                      where=[*where, col(EntryRow.backlog).is_(True)],
                      order_by=(EntryRow.state, EntryRow.backlog, EntryRow.queue_at,
                                EntryRow.id))
    return [Claimed(stored_id(r.id), Entry(
        feed_url="", key=r.key, link=r.link, title=r.title or "", summary=r.summary or "",
        published=utc(r.published), outlet=r.outlet), bool(r.backlog)) for r in rows]


def claim_pending_entries(engine: Engine, now: datetime, owner: str, lease_seconds: int,
                          limit: int = 200) -> list[tuple[int, Entry]]:
    """``claim_entries``, as (id, entry) pairs."""
    return [(c.id, c.entry) for c in claim_entries(engine, now, owner, lease_seconds, limit)]


def pending_entries(bind: Bind) -> tuple[int, int]:
    """How many entries wait to be processed: (fresh, backlog)."""
    with _transaction(bind) as conn:
        counts = dict(conn.execute(select(col(EntryRow.backlog), func.count()).where(
            col(EntryRow.state) == EntryState.PENDING).group_by(col(EntryRow.backlog))).all())
    return int(counts.get(False, 0)), int(counts.get(True, 0))


def renew_entry_leases(engine: Engine, entry_ids: Sequence[int], owner: str,
                       until: datetime) -> None:
    renew(engine, EntryRow, entry_ids, owner, until)


class Finished(NamedTuple):
    """What became of a claimed entry."""

    entry_id: int
    state: EntryState
    status: str | None
    error: str | None = None
    article_id: int | None = None


def finish_entry(bind: Bind, entry_id: int, state: EntryState, status: str | None,
                 error: str | None = None, article_id: int | None = None) -> None:
    finish_entries(bind, [Finished(entry_id, state, status, error, article_id)])


def finish_entries(bind: Bind, done: Sequence[Finished]) -> None:
    """Close entries (one UPDATE for all), their leases dropped."""
    if not done:
        return
    entries = EntryRow.__table__  # type: ignore[attr-defined]
    stmt = update(entries).where(entries.c.id == bindparam("eid")).values(
        state=bindparam("st"), status=bindparam("stat"), error=bindparam("err"),
        article_id=bindparam("aid"), lease_owner=None, lease_until=None)
    with _transaction(bind) as conn:
        conn.execute(stmt, [{"eid": f.entry_id, "st": f.state, "stat": f.status,
                             "err": f.error, "aid": f.article_id} for f in done])


def save_article(bind: Bind, article: Article, origin: str, now: datetime,
                 signature: Any = None, duplicate_of: int | None = None) -> tuple[int, bool]:
    """Insert an article, or find the one with its URL (stored earlier, or by another worker
    at the same moment: the unique URL decides). Returns (id, inserted)."""
    articles = ArticleRow.__table__  # type: ignore[attr-defined]
    with _transaction(bind) as conn:
        new = conn.execute(_insert(conn, ArticleRow).on_conflict_do_nothing(
            index_elements=["url"]).returning(articles.c.id), {
            "url": article.url, "origin": origin, "title": article.title,
            "text": article.text, "outlet": article.outlet, "published": article.published,
            "fetched_at": now, "signature": signature, "duplicate_of": duplicate_of}).scalar()
        if new is not None:
            return int(new), True
        found = conn.execute(select(articles.c.id).where(articles.c.url == article.url)).one()
        return stored_id(found[0]), False


def load_article(engine: Engine, article_id: int) -> Article | None:
    with Session(engine) as s:
        r = s.get(ArticleRow, article_id)
        if r is None or r.text is None:
            return None
        return Article(url=r.url, title=r.title, text=r.text, published=utc(r.published),
                       outlet=r.outlet)


def wake(conn: Connection, what: str) -> None:
    """Tell idle workers (``watcher.store.wakeup``) that there is work, when this transaction
    commits. PostgreSQL only: SQLite has a single worker."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:channel, :what)"),
                     {"channel": WAKE_CHANNEL, "what": what})


def release_all(engine: Engine, owner: str) -> None:
    """Drop every lease ``owner`` holds (a clean shutdown hands its work back)."""
    with Session(engine) as s:
        for model in (Feed, EntryRow, AlertRow):
            m: Any = model
            s.exec(update(m).where(m.lease_owner == owner)
                   .values(lease_owner=None, lease_until=None))
        s.commit()


def prune_article_text(engine: Engine, older_than: datetime) -> int:
    """Drop the full text of old feed articles; findings, alerts and titles stay."""
    with Session(engine) as s:
        res = s.connection().execute(update(ArticleRow).where(
            col(ArticleRow.origin) == "feed", col(ArticleRow.text).is_not(None),
            col(ArticleRow.fetched_at) < older_than).values(text=None))
        s.commit()
        return res.rowcount or 0


def last_poll(engine: Engine) -> datetime | None:
    with Session(engine) as s:
        return utc(s.exec(select(func.max(Feed.last_polled_at))).first())


def article_ids_since(engine: Engine, since: datetime) -> list[int]:
    """Feed articles with their text still stored, fetched since ``since``, oldest first."""
    with Session(engine) as s:
        return [stored_id(i) for i in s.exec(select(ArticleRow.id).where(
            ArticleRow.origin == "feed", col(ArticleRow.text).is_not(None),
            col(ArticleRow.fetched_at) >= since).order_by(col(ArticleRow.fetched_at),
                                                          col(ArticleRow.id)))]


def article_signatures(bind: Bind, after: int, among: Sequence[int] = (),
                       signed_since: datetime | None = None,
                       ) -> list[tuple[int, str, Any, datetime | None]]:
    """(id, origin, signature or None, stored at) of the articles with an id above ``after`` or
    in ``among``; with ``signed_since``, only seeds and articles stored since then that have a
    signature (a worker's first look, which skips what it would not index)."""
    with Session(bind) as s:
        which = col(ArticleRow.id) > after
        if among:
            which = or_(which, col(ArticleRow.id).in_(list(among)))
        q = select(ArticleRow.id, ArticleRow.origin, ArticleRow.signature,
                   ArticleRow.fetched_at).where(which)
        if signed_since is not None:
            q = q.where(col(ArticleRow.signature).is_not(None),
                        or_(col(ArticleRow.origin) == "seed",
                            col(ArticleRow.fetched_at) >= signed_since))
        return [(stored_id(i), o, sig, utc(t))
                for i, o, sig, t in s.exec(q.order_by(col(ArticleRow.id)))]
