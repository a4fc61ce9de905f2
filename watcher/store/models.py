"""Database rows. Only ``watcher.store`` imports these; stages exchange ``watcher.types`` values.

The schema itself is created by the Alembic migrations in ``migrations/``; these models must
match them (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

from watcher.types import AlertKind, AlertState, EntryState, Novelty


def utc(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: everything stored is UTC."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def stored_id(value: int | None) -> int:
    """A stored row's id (never None once stored)."""
    assert value is not None
    return value


def _ts(**kw: Any) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), **kw))


class Feed(SQLModel, table=True):
    __tablename__ = "feeds"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    title: str | None = None
    origin: str = "config"  # config | cli | opml
    interval: int = 300
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    next_check_at: datetime | None = _ts(index=True)
    last_success_at: datetime | None = _ts()
    last_polled_at: datetime | None = _ts()
    last_status: str | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    consecutive_errors: int = 0
    disabled_reason: str | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = _ts()


class EntryRow(SQLModel, table=True):
    """A feed item seen once, ever (unique on its key), and what became of it."""

    __tablename__ = "entries"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    feed_id: int | None = Field(default=None, foreign_key="feeds.id", index=True)
    link: str | None = Field(default=None, sa_column=Column(Text))
    title: str = Field(default="", sa_column=Column(Text))
    summary: str = Field(default="", sa_column=Column(Text))
    outlet: str | None = None
    published: datetime | None = _ts()
    seen_at: datetime | None = _ts()
    # The order entries are processed in: fresh before backlog, then by ``queue_at`` (when it
    # was published, else when it was seen), then id (``repo.claim_pending_entries``).
    queue_at: datetime | None = _ts()
    backlog: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                          server_default=false()))
    state: str = Field(default=EntryState.PENDING, index=True)  # an EntryState
    status: str | None = None  # extraction / page fetch status kind
    error: str | None = Field(default=None, sa_column=Column(Text))
    article_id: int | None = Field(default=None, foreign_key="articles.id")
    lease_owner: str | None = None
    lease_until: datetime | None = _ts()

    __table_args__ = (Index("ix_entries_queue", "state", "backlog", "queue_at", "id"),)


class ArticleRow(SQLModel, table=True):
    __tablename__ = "articles"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    origin: str = "feed"  # feed | seed
    title: str = Field(default="", sa_column=Column(Text))
    text: str | None = Field(default=None, sa_column=Column(Text))  # pruned by retention
    outlet: str | None = None
    published: datetime | None = _ts()
    fetched_at: datetime | None = _ts()
    signature: Any | None = Field(default=None, sa_column=Column(JSON(none_as_null=True)))
    duplicate_of: int | None = Field(default=None, foreign_key="articles.id")


class FindingRow(SQLModel, table=True):
    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("rule_id", "key", "article_id", name="uq_finding"),)
    id: int | None = Field(default=None, primary_key=True)
    rule_id: str = Field(index=True)
    key: str = Field(sa_column=Column(Text, nullable=False))
    article_id: int = Field(foreign_key="articles.id", index=True)
    origin: str = "article"  # article | baseline
    kind: str = Novelty.KNOWN  # a Novelty (baseline rows: known)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    facts: Any = Field(default=None, sa_column=Column(JSON))
    display: Any = Field(default=None, sa_column=Column(JSON))
    changes: Any = Field(default=None, sa_column=Column(JSON))
    matched: Any = Field(default=None, sa_column=Column(JSON))
    evidence: str = Field(default="", sa_column=Column(Text))
    summary: str = Field(default="", sa_column=Column(Text))
    status: str | None = None
    development_id: int | None = Field(default=None, index=True)
    created_at: datetime | None = _ts()


class AlertRow(SQLModel, table=True):
    """The outbox: one row per message to deliver, written with its finding."""

    __tablename__ = "alerts"
    id: int | None = Field(default=None, primary_key=True)
    finding_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("findings.id"), unique=True, nullable=True),
    )
    development_id: int | None = Field(default=None, index=True)
    kind: str = AlertKind.NEW  # an AlertKind
    rule_id: str = ""
    channel: str = ""
    state: str = Field(default=AlertState.PENDING, index=True)  # an AlertState
    attempts: int = 0
    next_attempt_at: datetime | None = _ts()
    error: str | None = Field(default=None, sa_column=Column(Text))
    ts: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    payload: Any = Field(default=None, sa_column=Column(JSON))  # outbox.to_payload(draft)
    created_at: datetime | None = _ts()
    sent_at: datetime | None = _ts()
    lease_owner: str | None = None
    lease_until: datetime | None = _ts()


class RuleStateRow(SQLModel, table=True):
    """Which rule set the stored baseline findings were computed with."""

    __tablename__ = "rule_state"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(Text, unique=True, nullable=False))
    value: str = Field(default="", sa_column=Column(Text))


class ChannelPaceRow(SQLModel, table=True):
    """When a channel may next receive a message: Slack pacing shared by every worker."""

    __tablename__ = "channel_pace"
    channel: str = Field(sa_column=Column(Text, primary_key=True))
    next_post: float = Field(default=0.0, sa_column=Column(Float, nullable=False))  # unix time


class CoverageRow(SQLModel, table=True):
    """What the service watching itself has told the operators, shared by every worker:
    a rule gone silent or a feed gone empty (``kind`` rule | feed, ``name`` its id or URL),
    and the day the daily summary was last sent (``kind`` summary). See
    ``watcher.store.coverage``."""

    __tablename__ = "coverage"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_coverage"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(Text, nullable=False))
    name: str = Field(sa_column=Column(Text, nullable=False))
    first_seen_at: datetime | None = _ts()  # a rule: when it first went live
    reported_at: datetime | None = _ts()  # when the operators were told; None: not (now)
    note: str | None = Field(default=None, sa_column=Column(Text))  # summary: the day sent


class StoryRow(SQLModel, table=True):
    """A development's Slack thread: its current state, where its message is, and what the
    team did about it (mute, not news). ``version`` counts changes of what the message shows;
    ``shown_version`` is the one Slack shows (an edit is due while they differ)."""

    __tablename__ = "stories"
    development_id: int = Field(sa_column=Column(Integer, primary_key=True,
                                                 autoincrement=False))
    rule_id: str = ""
    channel: str = ""
    state: Any = Field(default=None, sa_column=Column(JSON))  # watcher.store.stories codec
    channel_id: str | None = None
    thread_ts: str | None = Field(default=None, index=True)  # its thread's first message
    message_ts: str | None = None  # the message showing its state: that one, or its card
    alert_id: int | None = None  # the outbox row that posts its first message
    version: int = 1
    shown_version: int = 0
    mute_until: datetime | None = _ts()
    muted_by: str | None = None
    muted_at: datetime | None = _ts()
    dismissed: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                            server_default="0"))
    dismissed_by: str | None = None
    dismissed_at: datetime | None = _ts()
    inbox_file: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()
