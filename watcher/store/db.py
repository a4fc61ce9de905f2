"""Engine creation and schema migration (Alembic, run programmatically)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
CONNECT_TIMEOUT = 10  # seconds to open a PostgreSQL connection (libpq waits forever by default)


def make_engine(url: str, *, synchronous: str = "FULL") -> Engine:
    """An engine with the settings watcher relies on (SQLite: WAL, busy timeout, FKs).

    SQLite runs with ``synchronous=FULL``: a commit is on disk when it returns, so a power
    loss cannot roll back a committed ``sending`` mark in the outbox (with NORMAL, in WAL
    mode, the last commits can be lost). ``bench/durability.py`` measures what it costs;
    ``synchronous`` is there for that bench only.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    args = {"connect_timeout": CONNECT_TIMEOUT} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                         connect_args=args)


def entry_engine(engine: Engine) -> Engine:
    """The engine for entries' transactions (an article, its findings and alerts, the entry
    marked done). On PostgreSQL: a small pool of its own whose connections commit with
    ``synchronous_commit = off``, i.e. without waiting for the WAL to reach the disk (one
    round trip and a disk flush less per article). Elsewhere: ``engine`` itself.

    Safe for these transactions only: if PostgreSQL itself crashes within a fraction of a
    second of such a commit, the entry is pending again and is processed again, to the same
    result. No alert can have been sent from a lost transaction: delivery uses the main
    engine, whose commits are synchronous, and a synchronous commit writes all earlier WAL
    to disk first. Feed polls (the record that an item was seen) use the main engine too.
    """
    if engine.dialect.name != "postgresql":
        return engine
    return create_engine(engine.url, pool_pre_ping=True, pool_size=1, max_overflow=2,
                         connect_args={"options": "-c synchronous_commit=off",
                                       "connect_timeout": CONNECT_TIMEOUT})


if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(engine: Engine) -> Config:
    """Alembic's config for ``migrate``: the migrations folder only. No URL goes in: Alembic
    is handed an open connection (``Config`` would read ``%`` in a URL as interpolation, and
    a password must not sit in a config object whose errors quote it)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


MIGRATE_LOCK = 7135004  # advisory lock key: one migration at a time (PostgreSQL)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent). On PostgreSQL, workers starting at the
    same moment take turns (an advisory lock held by the migration's transaction): the first
    creates the schema, the others find it done. A schema already at the head costs one
    query, without Alembic (which takes a quarter of a second to import)."""
    head = head_revision() if revision == "head" else None
    if head is not None and stored_revision(engine) == head:
        return
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def head_revision() -> str | None:
    """The newest migration's id, from the migration files' own ``revision`` and
    ``down_revision`` lines: the one no other revises (None if that is not exactly one)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition("=")
            key = name.split(":")[0].strip()
            if key in ("revision", "down_revision"):
                (revisions if key == "revision" else revised).add(value.strip().strip("'\""))
    heads = revisions - revised
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The schema's revision as stored, None when there is none yet (one query)."""
    try:
        with engine.connect() as conn:
            row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    except Exception:  # noqa: BLE001 - no such table yet: a new database
        return None
    return str(row[0]) if row else None


def current_revision(engine: Engine) -> str | None:
    if "alembic_version" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as conn:
        row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        return row[0] if row else None
