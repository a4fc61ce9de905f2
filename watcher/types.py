"""Values passed between pipeline stages.

    Entry (parse) -> Article (extract) -> Finding (match) -> Decision (decide) -> Alert (deliver)

Each is a small frozen dataclass. Only ``watcher.store`` knows about database rows; stages take
and return these values and never touch a session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

NoveltyKind = Literal["new", "update", "known"]


@dataclass(frozen=True)
class Entry:
    """One item of a feed, as the parser saw it."""

    feed_url: str
    key: str  # stable identity: guid, else canonical link, else a content hash
    link: str | None
    title: str
    summary: str
    published: datetime | None  # timezone-aware UTC, or None when the feed gives none
    outlet: str | None = None  # the feed's own title


@dataclass(frozen=True)
class Article:
    """The text a rule is matched against: an extracted page, a feed entry or a seed."""

    url: str
    title: str
    text: str
    published: datetime | None  # timezone-aware UTC; dates in the text resolve against it
    outlet: str | None = None


@dataclass(frozen=True)
class Finding:
    """One development a rule found in one article.

    ``facts`` is JSON-serialisable and rule-specific (who/where/when/status...); ``key`` is the
    novelty key built from it, a stable string. ``matched`` holds the surface words that matched,
    so a message can show them in bold inside ``evidence``.
    """

    rule_id: str
    key: str
    facts: Mapping[str, Any]
    evidence: str
    matched: tuple[str, ...] = ()
    summary: str = ""
    status: str = ""
    display: Mapping[str, str] = field(default_factory=dict)  # fact name -> human text


@dataclass(frozen=True)
class Known:
    """A finding already on record: from the baseline or from an earlier article."""

    id: int
    rule_id: str
    key: str
    facts: Mapping[str, Any]
    origin: Literal["baseline", "article"]
    development_id: int | None = None  # the first finding of the same development
    display: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    fact: str
    now: str
    was: str


@dataclass(frozen=True)
class Decision:
    """Whether a finding is news, and why."""

    kind: NoveltyKind
    reason: str
    matched: Known | None = None  # the known finding of the same development, if any
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class FeedState:
    """What the poller remembers about a feed between polls (stored on the feed's row)."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None  # for servers that send neither validator
    interval: int = 300  # seconds
    next_check_at: datetime | None = None
    last_success_at: datetime | None = None
    last_status: str | None = None  # a fetch/parse status kind, e.g. "ok", "timeout"
    last_error: str | None = None  # in words
    consecutive_errors: int = 0
    disabled_reason: str | None = None
    title: str | None = None


AlertKind = Literal["new", "update", "digest"]


@dataclass(frozen=True)
class Alert:
    """One message to deliver: rendered by a notifier, recorded by the delivery stage."""

    id: int  # outbox row id; also the idempotency id carried in the message metadata
    kind: AlertKind
    rule_id: str
    channel: str
    summary: str  # the development in one line (header)
    article_url: str
    article_title: str
    evidence: str = ""
    matched: tuple[str, ...] = ()  # words to show in bold in the evidence
    changes: tuple[Change, ...] = ()  # what is new compared with what was known
    outlet: str | None = None
    published: datetime | None = None
    severity: str = "info"
    sources: int = 1  # outlets reporting this development
    thread_ts: str | None = None  # parent message when this is a follow-up
    items: tuple[Alert, ...] = ()  # the alerts a digest stands for
