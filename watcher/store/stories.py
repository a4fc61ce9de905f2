"""Stories: one Slack thread per development, its current state, and what the team did about it.

A story is created with its development's first alert (``store.findings.record_findings``
calls ``start``/``advance``/``touch`` in its transaction), so its state always matches the
findings: the facts as shown, moved on by each update's changes; the first report; the latest
change. Delivery puts it in a thread (``set_thread``) and keeps that thread's first message
showing the current state: every change bumps ``version``, and ``stale_threads`` lists the
threads whose message shows an older one. A button pressed in Slack (``watcher.actions``) is
stored here (``mute``, ``dismiss`` and their undo), so every worker honours it. Reads return
``Story`` values (``watcher.types``), never rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from watcher.match.findings import render
from watcher.store.models import ArticleRow, FindingRow, StoryRow, utc
from watcher.types import AlertDraft, Change, Story

__all__ = ["advance", "dismiss", "first_message", "get", "message_stories",
           "move_first_message", "mute", "of", "set_card", "set_thread", "shown",
           "stale_messages", "start", "thread_stories", "threaded", "touch", "undismiss",
           "unmute"]


# --- the state codec: what a story shows, as the row's JSON --------------------------------

def _first(draft: AlertDraft) -> dict[str, Any]:
    return {"summary": draft.summary, "facts": dict(draft.facts), "template": draft.template,
            "severity": draft.severity, "article_url": draft.article_url,
            "article_title": draft.article_title, "outlet": draft.outlet,
            "published": draft.published.isoformat() if draft.published else None,
            "evidence": draft.evidence, "matched": list(draft.matched),
            "latest_url": None, "latest_title": "", "changes": [], "updates": 0}


def _moved_on(state: Mapping[str, Any], draft: AlertDraft) -> dict[str, Any]:
    """The state after an update: its changes applied to the facts, the summary re-rendered."""
    out = dict(state)
    facts = dict(out.get("facts") or {})
    for c in draft.changes:
        facts[c.fact] = c.now
    template = out.get("template") or draft.template
    out.update(facts=facts, summary=render(template, facts) or draft.summary,
               latest_url=draft.article_url, latest_title=draft.article_title,
               changes=[asdict(c) for c in draft.changes],
               updates=int(out.get("updates") or 0) + 1)
    return out


def _story(row: StoryRow, outlets: int) -> Story:
    s = row.state if isinstance(row.state, dict) else {}
    published = s.get("published")
    return Story(
        development=row.development_id, rule_id=row.rule_id, channel=row.channel,
        summary=str(s.get("summary") or row.rule_id), facts=dict(s.get("facts") or {}),
        severity=str(s.get("severity") or "info"), article_url=str(s.get("article_url") or ""),
        article_title=str(s.get("article_title") or ""), outlet=s.get("outlet"),
        published=datetime.fromisoformat(published) if published else None,
        evidence=str(s.get("evidence") or ""), matched=tuple(s.get("matched") or ()),
        latest_url=s.get("latest_url"), latest_title=str(s.get("latest_title") or ""),
        changes=tuple(Change(**c) for c in s.get("changes") or ()),
        updates=int(s.get("updates") or 0), outlets=max(outlets, 1),
        channel_id=row.channel_id, thread_ts=row.thread_ts, message_ts=row.message_ts,
        alert_id=row.alert_id, version=row.version,
        muted_until=utc(row.mute_until), muted_by=row.muted_by,
        dismissed_by=row.dismissed_by if row.dismissed else None,
        dismissed_at=utc(row.dismissed_at) if row.dismissed else None)


# --- written with the findings (the caller's transaction) -----------------------------------

def threaded(session: Session, developments: Iterable[int]) -> set[int]:
    """The developments among these that have a story."""
    ids = list(set(developments))
    if not ids:
        return set()
    return set(session.exec(select(StoryRow.development_id).where(
        col(StoryRow.development_id).in_(ids))))


def start(session: Session, development: int, draft: AlertDraft, now: datetime) -> None:
    """A story for a development's first message (its first report is ``draft``)."""
    if session.get(StoryRow, development) is not None:
        return
    state = _first(draft)
    if draft.changes:  # a development of the baseline, first shown with what changed
        state["changes"] = [asdict(c) for c in draft.changes]
    session.add(StoryRow(development_id=development, rule_id=draft.rule_id,
                         channel=draft.channel, state=state, created_at=now, updated_at=now))


def advance(session: Session, development: int, draft: AlertDraft, now: datetime) -> None:
    """An update moved the story on (a story starts here when it has none yet)."""
    row = session.get(StoryRow, development)
    if row is None:
        start(session, development, draft, now)
        return
    row.state = _moved_on(row.state if isinstance(row.state, dict) else {}, draft)
    row.version += 1
    row.updated_at = now
    session.add(row)


def touch(session: Session, development: int, now: datetime) -> None:
    """What the story shows changed without a message of its own (another outlet)."""
    session.exec(update(StoryRow).where(col(StoryRow.development_id) == development)
                 .values(version=StoryRow.version + 1, updated_at=now))


# --- delivery ---------------------------------------------------------------------------

def _outlets(s: Session, developments: Sequence[int]) -> dict[int, int]:
    """How many outlets (else URLs) report each development."""
    if not developments:
        return {}
    dev = func.coalesce(FindingRow.development_id, FindingRow.id)
    name = func.coalesce(ArticleRow.outlet, ArticleRow.url)
    q = (select(dev, func.count(func.distinct(name)))
         .join(ArticleRow, col(ArticleRow.id) == FindingRow.article_id)
         .where(or_(col(FindingRow.development_id).in_(list(developments)),
                    col(FindingRow.id).in_(list(developments))))
         .group_by(dev))
    return {int(d): int(n) for d, n in s.exec(q)}


def get(engine: Engine, development: int) -> Story | None:
    with Session(engine) as s:
        row = s.get(StoryRow, development)
        return _story(row, _outlets(s, [development]).get(development, 1)) if row else None


def message_stories(engine: Engine, channel_id: str, message_ts: str) -> list[Story]:
    """The stories one message shows, oldest development first."""
    return _where(engine, StoryRow.channel_id == channel_id, StoryRow.message_ts == message_ts)


def thread_stories(engine: Engine, channel_id: str, thread_ts: str) -> list[Story]:
    """The stories of one thread (a digest's: each with its card), oldest first."""
    return _where(engine, StoryRow.channel_id == channel_id, StoryRow.thread_ts == thread_ts)


def of(engine: Engine, developments: Iterable[int]) -> list[Story]:
    return _where(engine, col(StoryRow.development_id).in_(list(set(developments))))


def _where(engine: Engine, *where: Any) -> list[Story]:
    with Session(engine) as s:
        rows = list(s.exec(select(StoryRow).where(*where)
                           .order_by(col(StoryRow.development_id))))
        counts = _outlets(s, [r.development_id for r in rows])
        return [_story(r, counts.get(r.development_id, 1)) for r in rows]


def first_message(session: Session, developments: Iterable[int], alert_id: int) -> None:
    """This outbox row posts these stories' first message (unless one is already set)."""
    session.exec(update(StoryRow).where(col(StoryRow.development_id).in_(list(developments)),
                                        col(StoryRow.alert_id).is_(None))
                 .values(alert_id=alert_id))


def move_first_message(engine: Engine, developments: Iterable[int], alert_id: int) -> None:
    """Their first message is now this row's (a digest's)."""
    with Session(engine) as s:
        s.exec(update(StoryRow).where(col(StoryRow.development_id).in_(list(developments)))
               .values(alert_id=alert_id))
        s.commit()


def set_thread(engine: Engine, developments: Iterable[int], channel_id: str, thread_ts: str,
               message_ts: str | None, versions: Mapping[int, int] | None = None) -> None:
    """The stories that have no thread yet now live in this one, shown by ``message_ts``
    (None: not shown yet, a digest's story waiting for its card) at ``versions``."""
    with Session(engine) as s:
        for dev in set(developments):
            s.exec(update(StoryRow).where(col(StoryRow.development_id) == dev,
                                          col(StoryRow.thread_ts).is_(None))
                   .values(channel_id=channel_id, thread_ts=thread_ts, message_ts=message_ts,
                           shown_version=(versions or {}).get(dev, 0)))
        s.commit()


def set_card(engine: Engine, development: int, message_ts: str, version: int) -> None:
    """A digest's story got its own message (its card) in the digest's thread."""
    with Session(engine) as s:
        s.exec(update(StoryRow).where(col(StoryRow.development_id) == development)
               .values(message_ts=message_ts, shown_version=version))
        s.commit()


def stale_messages(engine: Engine, limit: int = 20) -> list[tuple[str, str]]:
    """Messages that show an older state than stored: (channel_id, message_ts)."""
    with Session(engine) as s:
        q = (select(StoryRow.channel_id, StoryRow.message_ts)
             .where(col(StoryRow.message_ts).is_not(None),
                    col(StoryRow.version) > col(StoryRow.shown_version))
             .group_by(col(StoryRow.channel_id), col(StoryRow.message_ts))
             .order_by(func.min(StoryRow.updated_at)).limit(limit))
        return [(c, t) for c, t in s.exec(q) if c and t]


def shown(engine: Engine, versions: Mapping[int, int]) -> None:
    """Slack now shows these versions of these stories."""
    with Session(engine) as s:
        for dev, version in versions.items():
            s.exec(update(StoryRow).where(col(StoryRow.development_id) == dev,
                                          col(StoryRow.shown_version) < version)
                   .values(shown_version=version))
        s.commit()


# --- what the team did (buttons) ---------------------------------------------------------

def _change(engine: Engine, development: int, now: datetime, **values: Any) -> Story | None:
    with Session(engine) as s:
        n = s.exec(update(StoryRow).where(col(StoryRow.development_id) == development)
                   .values(version=StoryRow.version + 1, updated_at=now, **values)).rowcount
        s.commit()
    return get(engine, development) if n else None


def mute(engine: Engine, development: int, user: str, until: datetime,
         now: datetime) -> Story | None:
    return _change(engine, development, now, mute_until=until, muted_by=user, muted_at=now)


def unmute(engine: Engine, development: int, now: datetime) -> Story | None:
    return _change(engine, development, now, mute_until=None, muted_by=None, muted_at=None)


def dismiss(engine: Engine, development: int, user: str, now: datetime,
            inbox_file: str | None) -> Story | None:
    return _change(engine, development, now, dismissed=True, dismissed_by=user,
                   dismissed_at=now, inbox_file=inbox_file)


def undismiss(engine: Engine, development: int, now: datetime) -> tuple[Story | None, str | None]:
    """Not dismissed any more; returns the story and the inbox file its dismissal wrote."""
    with Session(engine) as s:
        row = s.get(StoryRow, development)
        inbox = row.inbox_file if row is not None else None
    story = _change(engine, development, now, dismissed=False, dismissed_by=None,
                    dismissed_at=None, inbox_file=None)
    return story, inbox
