"""The outbox: alerts waiting for delivery, their states, digests, and Slack pacing.

An alert is an ``AlertDraft`` (``watcher.types``) stored as a row: its kind, rule and channel
as columns, the rest as a JSON payload (``to_payload`` / ``from_payload``, the one codec).
Alerts are enqueued with their findings (``store.findings.record_findings`` calls ``enqueue`` in its
transaction); everything after that, claiming, recording what Slack answered, folding floods
into digests, sharing a channel's posting slots between workers, lives here. Reads return
``QueuedAlert`` values, never rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from watcher.store.lease import claim
from watcher.store.models import AlertRow, ChannelPaceRow, utc
from watcher.types import AlertDraft, AlertKind, AlertState, Change

ALERT_CLAIM_LOCK = 7135002  # advisory lock key: alert claims one at a time (PostgreSQL)
WAITING = (AlertState.PENDING, AlertState.SENDING)


@dataclass(frozen=True)
class QueuedAlert:
    """An outbox row, as a value: the draft and where its delivery stands."""

    id: int
    draft: AlertDraft
    state: AlertState
    attempts: int = 0
    finding_id: int | None = None
    development_id: int | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    error: str | None = None
    ts: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    items: tuple[tuple[int, AlertDraft], ...] = ()  # a digest's alerts: (id, draft)
    # the article's other developments that go out in this message: (development id, draft)
    joined: tuple[tuple[int, AlertDraft], ...] = ()

    @property
    def developments(self) -> tuple[int, ...]:
        """The stories this message speaks for: its own development first."""
        out = [self.development_id] if self.development_id is not None else []
        out += [d for d, _ in self.joined if d not in out]
        return tuple(out)

    @property
    def kind(self) -> AlertKind:
        return self.draft.kind

    @property
    def rule_id(self) -> str:
        return self.draft.rule_id

    @property
    def channel(self) -> str:
        return self.draft.channel


# --- the codec: an AlertDraft <-> the stored payload (kind, rule and channel are columns) ------

def to_payload(draft: AlertDraft) -> dict[str, Any]:
    return {
        "summary": draft.summary, "article_url": draft.article_url,
        "article_title": draft.article_title, "evidence": draft.evidence,
        "matched": list(draft.matched), "changes": [asdict(c) for c in draft.changes],
        "outlet": draft.outlet,
        "published": draft.published.isoformat() if draft.published else None,
        "severity": draft.severity, "reason": draft.reason, "facts": dict(draft.facts),
        "template": draft.template,
    }


def from_payload(kind: str, rule_id: str, channel: str, payload: Any) -> AlertDraft:
    """Raises ValueError for a kind that is not an ``AlertKind``."""
    p = payload if isinstance(payload, dict) else {}
    published = p.get("published")
    return AlertDraft(
        kind=AlertKind(kind), rule_id=rule_id, channel=channel,
        summary=p.get("summary") or rule_id, article_url=p.get("article_url") or "",
        article_title=p.get("article_title") or "", evidence=p.get("evidence") or "",
        matched=tuple(p.get("matched") or ()),
        changes=tuple(Change(**c) for c in (p.get("changes") or [])),
        outlet=p.get("outlet"),
        published=datetime.fromisoformat(published) if published else None,
        severity=p.get("severity") or "info", reason=p.get("reason") or "",
        facts={str(k): str(v) for k, v in (p.get("facts") or {}).items()},
        template=p.get("template") or "")


def decode(row: AlertRow) -> QueuedAlert:
    """An outbox row as a value. Raises ValueError naming the row if it cannot be read."""
    assert row.id is not None
    try:
        items: tuple[tuple[int, AlertDraft], ...] = ()
        if row.kind == AlertKind.DIGEST:
            raw = (row.payload or {}).get("items") or []
            items = tuple((int(i["id"]), from_payload(AlertKind.NEW, row.rule_id, row.channel, i))
                          for i in raw)
        joined = tuple((int(j["development_id"]), from_payload(j["kind"], j["rule_id"],
                                                               row.channel, j))
                       for j in (row.payload or {}).get("joined") or [])
        draft = from_payload(row.kind, row.rule_id, row.channel, row.payload)
        state = AlertState(row.state)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"alert #{row.id} cannot be read: {exc}") from exc
    return QueuedAlert(
        id=row.id, draft=draft, state=state, attempts=row.attempts, finding_id=row.finding_id,
        development_id=row.development_id, next_attempt_at=utc(row.next_attempt_at),
        created_at=utc(row.created_at), sent_at=utc(row.sent_at), error=row.error,
        ts=row.ts, channel_id=row.channel_id, thread_ts=row.thread_ts, items=items,
        joined=joined)


# --- writing and claiming -------------------------------------------------------------------

def enqueue(session: Session, finding_id: int | None, development_id: int | None,
            draft: AlertDraft, now: datetime,
            joined: Sequence[tuple[int, int, AlertDraft]] = ()) -> int:
    """Add a finding's alert to the outbox, in the caller's transaction, with the findings
    (development, finding id, draft) that go out in the same message. Returns its id."""
    payload = to_payload(draft)
    if joined:
        payload["joined"] = [{"development_id": d, "finding_id": f, "kind": j.kind,
                              "rule_id": j.rule_id, **to_payload(j)} for d, f, j in joined]
    row = AlertRow(finding_id=finding_id, development_id=development_id, kind=draft.kind,
                   rule_id=draft.rule_id, channel=draft.channel, state=AlertState.PENDING,
                   created_at=now, next_attempt_at=now, payload=payload)
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def claim_alerts(engine: Engine, now: datetime, owner: str, lease_seconds: int,
                 limit: int = 50) -> list[QueuedAlert]:
    """Alerts waiting for delivery, oldest first, due or not: a channel's alerts go out in
    order, so one still waiting (``next_attempt_at`` in the future) holds back those after it.

    A channel whose alerts another worker holds is left alone: one sender per channel at a
    time keeps its order across workers (claims are serialised so two cannot both start).
    A row that cannot be read is marked failed, with the reason, and not returned.
    """
    waiting = col(AlertRow.state).in_(WAITING)
    busy = select(AlertRow.channel).where(
        waiting, AlertRow.lease_owner != owner, col(AlertRow.lease_until) > now)
    rows = claim(engine, AlertRow, now, owner, lease_seconds, limit,
                 where=[waiting, col(AlertRow.channel).not_in(busy)],
                 order_by=AlertRow.id, serialize=ALERT_CLAIM_LOCK)
    out = []
    for row in rows:
        try:
            out.append(decode(row))
        except ValueError as exc:
            assert row.id is not None
            set_alert(engine, row.id, state=AlertState.FAILED, error=str(exc),
                      lease_owner=None, lease_until=None)
    return out


def set_alert(engine: Engine, alert_id: int, **values: Any) -> None:
    with Session(engine) as s:
        s.exec(update(AlertRow).where(col(AlertRow.id) == alert_id).values(**values))
        s.commit()


def get_alert(engine: Engine, alert_id: int) -> QueuedAlert | None:
    with Session(engine) as s:
        row = s.get(AlertRow, alert_id)
        return decode(row) if row is not None else None


def posted_at(engine: Engine, channel_id: str, ts: str) -> QueuedAlert | None:
    """The alert posted as the message at ``ts``."""
    with Session(engine) as s:
        row = s.exec(select(AlertRow).where(AlertRow.channel_id == channel_id,
                                            AlertRow.ts == ts, AlertRow.state == AlertState.SENT)
                     .order_by(col(AlertRow.id))).first()
        return decode(row) if row is not None else None


def waiting(engine: Engine, alert_id: int | None) -> bool:
    """Whether the alert is still on its way (pending or sending)."""
    if alert_id is None:
        return False
    with Session(engine) as s:
        row = s.get(AlertRow, alert_id)
        return row is not None and row.state in WAITING


def list_alerts(engine: Engine, states: Sequence[str] | None = None,
                limit: int = 50) -> list[QueuedAlert]:
    """The newest alerts first (rows that cannot be read are left out)."""
    with Session(engine) as s:
        q = select(AlertRow).order_by(col(AlertRow.id).desc()).limit(limit)
        if states:
            q = q.where(col(AlertRow.state).in_(list(states)))
        out = []
        for row in s.exec(q):
            try:
                out.append(decode(row))
            except ValueError:
                continue
        return out


def alert_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return dict(s.exec(select(AlertRow.state, func.count()).group_by(AlertRow.state)).all())


def retry_alert(engine: Engine, alert_id: int, now: datetime) -> bool:
    with Session(engine) as s:
        row = s.get(AlertRow, alert_id)
        if row is None or row.state != AlertState.FAILED:
            return False
        row.state, row.error, row.next_attempt_at, row.attempts = \
            AlertState.PENDING, None, now, 0
        s.add(row)
        s.commit()
        return True


def count_sent_since(engine: Engine, rule_id: str, since: datetime) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(AlertRow).where(
            AlertRow.rule_id == rule_id, AlertRow.state == AlertState.SENT,
            col(AlertRow.kind).in_((AlertKind.NEW, AlertKind.DIGEST)),
            col(AlertRow.sent_at) >= since)).one()


IN_DIGEST = "in digest #"  # the error of an alert waiting to be its digest's card


def fold_into_digest(engine: Engine, alert_ids: Sequence[int], rule_id: str, channel: str,
                     owner: str, now: datetime, lease_seconds: int = 120,
                     cards: bool = False) -> QueuedAlert:
    """Replace waiting alerts by one digest row (in one transaction); the originals are kept,
    marked ``folded`` with the digest's id, or, with ``cards``, left waiting to be posted in
    the digest's thread, each its story's own message."""
    with Session(engine, expire_on_commit=False) as s:
        rows = list(s.exec(select(AlertRow).where(col(AlertRow.id).in_(list(alert_ids)))
                           .order_by(col(AlertRow.id))))
        items = [{"id": r.id, **(r.payload or {})} for r in rows]
        digest = AlertRow(kind=AlertKind.DIGEST, rule_id=rule_id, channel=channel,
                          state=AlertState.PENDING,
                          created_at=now, next_attempt_at=now, lease_owner=owner,
                          lease_until=now + timedelta(seconds=lease_seconds),
                          payload={"summary": f"{len(items)} new alerts for {rule_id}",
                                   "items": items, "severity": items[0].get("severity", "info")
                                   if items else "info"})
        s.add(digest)
        s.flush()
        for r in rows:
            if cards:
                r.error = f"{IN_DIGEST}{digest.id}"
            else:
                r.state, r.error, r.lease_owner, r.lease_until = (
                    AlertState.FOLDED, f"sent in digest #{digest.id}", None, None)
            s.add(r)
        s.commit()
        return decode(digest)


def reserve_post_slot(engine: Engine, channel: str, pace: float, now: datetime) -> float:
    """Reserve the channel's next posting slot; returns how many seconds to wait for it.

    One atomic UPDATE ... RETURNING takes the slot, so workers sharing the database queue up
    one ``pace`` apart, and no lock is held while they wait.
    """
    t = now.timestamp()
    next_post = col(ChannelPaceRow.next_post)
    stmt = (update(ChannelPaceRow).where(col(ChannelPaceRow.channel) == channel)
            .values(next_post=case((next_post > t, next_post), else_=t) + pace)
            .returning(next_post))
    with engine.begin() as conn:
        taken = conn.execute(stmt).scalar()
        if taken is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(ChannelPaceRow).values(channel=channel,
                                                               next_post=t + pace))
                return 0.0
            except IntegrityError:  # another worker created the row first: take the next slot
                taken = conn.execute(stmt).scalar()
    assert taken is not None  # the row exists now
    return max(0.0, float(taken) - pace - t)


def next_attempt(engine: Engine) -> datetime | None:
    """When the earliest waiting (pending or sending) alert may be tried again, if any."""
    with Session(engine) as s:
        return utc(s.exec(select(func.min(AlertRow.next_attempt_at)).where(
            col(AlertRow.state).in_(["pending", "sending"]))).one())
