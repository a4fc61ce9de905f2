"""Values passed between pipeline stages.

    Entry (parse) -> Article (pagetext) -> Finding (match) -> Decision (decide)
      -> Outcome (finding, decision, AlertDraft) (analyse) -> outbox -> Alert (deliver)

Each is a small frozen dataclass. Only ``watcher.store`` knows about database rows; stages take
and return these values and never touch a session. The enums are ``str``-valued: their values
are what the database stores and what logs and the CLI print.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Novelty(StrEnum):
    """What a finding is, compared with what is known (``decide``)."""

    NEW = "new"  # no known development matches
    UPDATE = "update"  # a known development, and this report adds or changes a fact
    KNOWN = "known"  # nothing new


class KnownOrigin(StrEnum):
    """Where a known finding comes from."""

    BASELINE = "baseline"  # the seeds
    ARTICLE = "article"  # an earlier article (stored)
    THIS_ARTICLE = "this_article"  # another finding of the article being analysed (not stored)


class AlertKind(StrEnum):
    NEW = "new"  # a new development: a top-level message
    UPDATE = "update"  # a known development moved on: a reply in its thread
    SOURCES = "sources"  # another outlet reports a known development: its message is edited
    DIGEST = "digest"  # several new alerts of one rule in one message (flood control)


class AlertState(StrEnum):
    """An outbox row's state (``watcher.deliver``)."""

    PENDING = "pending"  # waiting to be sent
    SENDING = "sending"  # being sent, or may have been: history is checked before a resend
    SENT = "sent"
    FAILED = "failed"  # for good, until ``watcher alerts retry``
    FOLDED = "folded"  # replaced by a digest, or nothing to update


class EntryState(StrEnum):
    """A feed entry's state: each entry is processed once."""

    PENDING = "pending"
    DONE = "done"  # an article was analysed (its ``status`` says whether the page was read)
    FAILED = "failed"  # no text at all


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
class Sentence:
    """A sentence of an article: ``index`` counts from the title's first sentence."""

    index: int
    text: str


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
    # fact name -> the sentences it was read from (none: from the rule, or the publication date)
    sources: Mapping[str, tuple[Sentence, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Known:
    """A finding already on record: from the baseline, an earlier article, or (not stored yet)
    another finding of the article being analysed: two findings of one article are one story.
    """

    id: int | None  # the stored finding's id; None exactly when origin is THIS_ARTICLE
    rule_id: str
    key: str
    facts: Mapping[str, Any]
    origin: KnownOrigin
    development_id: int | None = None  # the first finding of the same development
    display: Mapping[str, str] = field(default_factory=dict)
    article_id: int | None = None  # the article it was found in
    source: str = ""  # that article's outlet, else its URL
    reported: datetime | None = None  # when that article was published, if known

    def __post_init__(self) -> None:
        if (self.id is None) != (self.origin == KnownOrigin.THIS_ARTICLE):
            raise ValueError(f"a known finding has an id exactly when it is stored "
                             f"(id {self.id}, origin {self.origin})")

    @property
    def stored(self) -> bool:
        return self.id is not None

    @property
    def development(self) -> int | None:
        """The stored development this finding belongs to (the id of its first finding); None
        for a finding of this article that matched nothing stored."""
        return self.development_id if self.development_id is not None else self.id


@dataclass(frozen=True)
class Change:
    fact: str
    now: str
    was: str


@dataclass(frozen=True)
class Decision:
    """Whether a finding is news, and why."""

    kind: Novelty
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


@dataclass(frozen=True)
class Reprint:
    """The article an article is a near-duplicate of (``watcher.reprints``)."""

    article_id: int
    origin: str  # "seed" or "feed"
    similarity: float


@dataclass(frozen=True)
class AlertDraft:
    """The message ``analyse`` wants sent for one finding, as the outbox stores it
    (``watcher.store.outbox`` has the codec). Channel and severity come from the rule, else
    the config."""

    kind: AlertKind
    rule_id: str
    channel: str
    summary: str  # the development in one line (header)
    article_url: str
    article_title: str
    evidence: str = ""
    matched: tuple[str, ...] = ()  # words to show in bold in the evidence
    changes: tuple[Change, ...] = ()
    outlet: str | None = None
    published: datetime | None = None
    severity: str = "info"
    reason: str = ""  # the decision's reason
    facts: Mapping[str, str] = field(default_factory=dict)  # fact name -> shown value
    template: str = ""  # the rule's summary template, to re-render the story's current state


@dataclass(frozen=True)
class MessagePlan:
    """Which of an article's outcomes go out in one message (``analyse.plan_messages``): the
    ``lead`` outcome's message, carrying the ``joined`` outcomes' new developments too. One
    article makes at most one top-level message per channel; a development that has a thread
    gets its reply there, and the article's new developments join the first such thread."""

    lead: int  # index in the outcomes
    joined: tuple[int, ...] = ()


@dataclass(frozen=True)
class Story:
    """A development as its Slack thread shows it (``watcher.store.stories``): the current
    state (facts as shown, the first report, the latest change), where its message is, and
    what the team did about it (muted until, dismissed as not news, by whom)."""

    development: int  # the id of its first finding
    rule_id: str
    channel: str
    summary: str  # the rule's summary over the current facts
    facts: Mapping[str, str] = field(default_factory=dict)  # fact name -> shown value, current
    severity: str = "info"
    article_url: str = ""  # the first report
    article_title: str = ""
    outlet: str | None = None
    published: datetime | None = None
    evidence: str = ""
    matched: tuple[str, ...] = ()
    latest_url: str | None = None  # the report of the latest change, if any
    latest_title: str = ""
    changes: tuple[Change, ...] = ()  # the latest change
    updates: int = 0
    outlets: int = 1
    channel_id: str | None = None  # where its thread is, once posted
    thread_ts: str | None = None
    message_ts: str | None = None  # the message showing its state (a card, in a digest's thread)
    alert_id: int | None = None  # the outbox row of its first message (its metadata's id)
    version: int = 0  # of what its message shows (each change counts one)
    muted_until: datetime | None = None
    muted_by: str | None = None  # a Slack user id
    dismissed_by: str | None = None  # a Slack user id: "not news"
    dismissed_at: datetime | None = None

    def muted(self, now: datetime) -> bool:
        return self.muted_until is not None and self.muted_until > now

    @property
    def dismissed(self) -> bool:
        return self.dismissed_by is not None


@dataclass(frozen=True)
class Outcome:
    """One finding of an article, what it is, and the message it calls for (if any)."""

    finding: Finding
    decision: Decision
    alert: AlertDraft | None = None

    @property
    def development(self) -> int | None:
        """The stored development the finding joins; None: it starts a new one."""
        matched = self.decision.matched
        return matched.development if matched is not None else None


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
    # A story message (top-level): the stories of its thread, in their current state; a reply:
    # the new developments that join the thread with it.
    stories: tuple[Story, ...] = ()
    permalink: str | None = None  # a digest's item: its story's card, in the digest's thread
