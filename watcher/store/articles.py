"""Stored articles read in bulk and read-only: what ``watcher rules diff`` runs rules over.

``read_only_engine`` opens the database so that nothing can be written through it (SQLite:
``mode=ro``; PostgreSQL: read-only transactions); ``stored_articles`` streams the feed
articles whose text is still stored, oldest first by publication, as the pipeline analyses
them; ``reprints_of`` says which of them the service took for reprints (``duplicate_of``),
with their similarity, so a diff decides them as the service did.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import SQLAlchemyError

from watcher.dedup import similarity
from watcher.errors import WatcherError
from watcher.store.db import CONNECT_TIMEOUT
from watcher.store.models import ArticleRow, utc
from watcher.types import Article, Reprint

BATCH = 500  # rows fetched at a time while streaming


@dataclass(frozen=True)
class StoredArticle:
    id: int
    article: Article


def read_only_engine(url: str) -> Engine:
    """An engine that cannot write: a SQLite file opened ``mode=ro`` (no migration, no
    checkpoint on close), or PostgreSQL with every transaction read-only."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if not path or path == ":memory:" or path.startswith("file:"):
            return create_engine(url)
        if not Path(path).exists():
            raise WatcherError(f"no database at {path}: nothing is stored yet")
        uri = f"file:{Path(path).resolve()}?mode=ro"
        return create_engine("sqlite://", creator=lambda: _sqlite_ro(uri))
    args: dict[str, object] = {}
    if parsed.get_backend_name() == "postgresql":
        args = {"options": "-c default_transaction_read_only=on",
                "connect_timeout": CONNECT_TIMEOUT}
    return create_engine(url, connect_args=args)


def _sqlite_ro(uri: str) -> object:
    import sqlite3

    conn = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA query_only = ON")
    return conn


_T: Any = ArticleRow.__table__  # type: ignore[attr-defined]  # Core: plain rows
_C = _T.c


def _window(since: datetime) -> tuple[Any, ...]:
    return (_C.origin == "feed", _C.text.is_not(None), _C.fetched_at >= since)


def count_articles(engine: Engine, since: datetime) -> tuple[int, int]:
    """(articles with their text, articles whose text was pruned) stored since ``since``."""
    try:
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(_T).where(
                _C.origin == "feed", _C.fetched_at >= since)).scalar_one()
            kept = conn.execute(select(func.count()).select_from(_T).where(
                *_window(since))).scalar_one()
    except SQLAlchemyError as exc:
        raise WatcherError(f"cannot read stored articles ({type(exc).__name__}); is the "
                           "database migrated (watcher migrate)?") from exc
    return int(kept), int(total) - int(kept)


def stored_articles(engine: Engine, since: datetime) -> Iterator[StoredArticle]:
    """Feed articles stored since ``since`` whose text is kept, oldest first by publication
    (stored time when undated), as the pipeline takes entries."""
    q = (select(_C.id, _C.url, _C.title, _C.text, _C.published, _C.outlet)
         .where(*_window(since))
         .order_by(func.coalesce(_C.published, _C.fetched_at), _C.id))
    with engine.connect() as conn:
        for ident, url, title, text, published, outlet in conn.execution_options(
                yield_per=BATCH).execute(q):
            yield StoredArticle(int(ident), Article(
                url=url, title=title or "", text=text or "", published=utc(published),
                outlet=outlet))


def reprints_of(engine: Engine, since: datetime) -> dict[int, Reprint]:
    """The articles of the window the service stored as reprints, with what they reprint
    (seed or feed article) and how similar the two are."""
    with engine.connect() as conn:
        pairs = conn.execute(select(_C.id, _C.duplicate_of, _C.signature).where(
            *_window(since), _C.duplicate_of.is_not(None))).all()
        originals = {int(i): (origin, sig) for i, origin, sig in conn.execute(
            select(_C.id, _C.origin, _C.signature).where(
                _C.id.in_([d for _, d, _ in pairs])))} if pairs else {}
    out: dict[int, Reprint] = {}
    for ident, dup, sig in pairs:
        if dup not in originals:
            continue
        origin, other = originals[dup]
        try:
            score = similarity(sig, other) if sig and other else 1.0
        except ValueError:
            score = 1.0
        out[int(ident)] = Reprint(int(dup), "seed" if origin == "seed" else "feed", score)
    return out


def seed_ids(engine: Engine) -> dict[str, int]:
    """The stored id of each seed document, by its ``seed:`` URL."""
    with engine.connect() as conn:
        return {str(url): int(i) for i, url in conn.execute(
            select(_C.id, _C.url).where(_C.origin == "seed"))}
