"""The outbox: alerts waiting for delivery, their states, digests, and Slack pacing.

Alert rows are written with their findings (``repo.record_findings``); everything after that,
claiming, recording what Slack answered, folding floods into digests, sharing a channel's
posting slots between workers, lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from watcher.store.lease import claim
from watcher.store.models import AlertRow, ChannelPaceRow
from watcher.types import Change

ALERT_CLAIM_LOCK = 7135002  # advisory lock key: alert claims one at a time (PostgreSQL)


def claim_alerts(engine: Engine, now: datetime, owner: str, lease_seconds: int,
                 limit: int = 50) -> list[AlertRow]:

    """Alerts waiting for delivery, oldest first, due or not: a channel's alerts go out in
    order, so one still waiting (``next_attempt_at`` in the future) holds back those after it.

    A channel whose alerts another worker holds is left alone: one sender per channel at a
    time keeps its order across workers (claims are serialised so two cannot both start).
    """
    waiting = AlertRow.state.in_(["pending", "sending"])  # type: ignore[attr-defined]
    busy = select(AlertRow.channel).where(
        waiting, AlertRow.lease_owner != owner, AlertRow.lease_until > now)
    return claim(engine, AlertRow, now, owner, lease_seconds, limit,
                 where=[waiting, AlertRow.channel.not_in(busy)],  # type: ignore[attr-defined]
                 order_by=AlertRow.id, serialize=ALERT_CLAIM_LOCK)


def set_alert(engine: Engine, alert_id: int, **values: Any) -> None:
    with Session(engine) as s:
        s.exec(update(AlertRow).where(AlertRow.id == alert_id).values(**values))
        s.commit()


def development_parent(engine: Engine, development_id: int) -> AlertRow | None:
    """The first message posted for a development (the thread parent), if any."""
    with Session(engine) as s:
        return s.exec(select(AlertRow).where(
            AlertRow.development_id == development_id, AlertRow.state == "sent",
            AlertRow.kind.in_(["new", "update"])).order_by(AlertRow.id)).first()  # type: ignore[attr-defined]


def development_waiting(engine: Engine, development_id: int) -> bool:
    """Whether the development's first message is still on its way (pending or sending)."""
    with Session(engine) as s:
        return s.exec(select(AlertRow.id).where(
            AlertRow.development_id == development_id,
            AlertRow.kind.in_(["new", "update"]),  # type: ignore[attr-defined]
            AlertRow.state.in_(["pending", "sending"]))).first() is not None  # type: ignore[attr-defined]


def development_message(engine: Engine, development_id: int) -> tuple[str, str] | None:
    """(channel_id, ts) of the first message posted for a development, if any."""
    row = development_parent(engine, development_id)
    return (row.channel_id or row.channel, row.ts) if row and row.ts else None


def list_alerts(engine: Engine, states: Sequence[str] | None = None,
                limit: int = 50) -> list[AlertRow]:
    with Session(engine) as s:
        q = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)  # type: ignore[union-attr]
        if states:
            q = q.where(AlertRow.state.in_(list(states)))  # type: ignore[attr-defined]
        return list(s.exec(q))


def alert_counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return dict(s.exec(select(AlertRow.state, func.count()).group_by(AlertRow.state)).all())


def retry_alert(engine: Engine, alert_id: int, now: datetime) -> bool:
    with Session(engine) as s:
        row = s.get(AlertRow, alert_id)
        if row is None or row.state not in ("failed",):
            return False
        row.state, row.error, row.next_attempt_at, row.attempts = "pending", None, now, 0
        s.add(row)
        s.commit()
        return True


def change_list(raw: Any) -> tuple[Change, ...]:
    return tuple(Change(**c) for c in (raw or []))


def count_sent_since(engine: Engine, rule_id: str, since: datetime) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(AlertRow).where(
            AlertRow.rule_id == rule_id, AlertRow.state == "sent",
            AlertRow.kind.in_(["new", "digest"]),  # type: ignore[attr-defined]
            AlertRow.sent_at >= since)).one()


def fold_into_digest(engine: Engine, alert_ids: Sequence[int], rule_id: str, channel: str,
                     owner: str, now: datetime, lease_seconds: int = 120) -> AlertRow:
    """Replace waiting alerts by one digest row (in one transaction); the originals are kept,
    marked ``folded`` with the digest's id."""
    with Session(engine, expire_on_commit=False) as s:
        rows = list(s.exec(select(AlertRow).where(AlertRow.id.in_(list(alert_ids)))  # type: ignore[union-attr]
                           .order_by(AlertRow.id)))
        items = [{"id": r.id, **(r.payload or {})} for r in rows]
        digest = AlertRow(kind="digest", rule_id=rule_id, channel=channel, state="pending",
                          created_at=now, next_attempt_at=now, lease_owner=owner,
                          lease_until=now + timedelta(seconds=lease_seconds),
                          payload={"summary": f"{len(items)} new alerts for {rule_id}",
                                   "items": items, "severity": items[0].get("severity", "info")
                                   if items else "info"})
        s.add(digest)
        s.flush()
        for r in rows:
            r.state, r.error, r.lease_owner, r.lease_until = (
                "folded", f"sent in digest #{digest.id}", None, None)
            s.add(r)
        s.commit()
        return digest


def reserve_post_slot(engine: Engine, channel: str, pace: float, now: datetime) -> float:
    """Reserve the channel's next posting slot; returns how many seconds to wait for it.

    One atomic UPDATE ... RETURNING takes the slot, so workers sharing the database queue up
    one ``pace`` apart, and no lock is held while they wait.
    """
    t = now.timestamp()
    stmt = (update(ChannelPaceRow).where(ChannelPaceRow.channel == channel)  # type: ignore[arg-type]
            .values(next_post=case((ChannelPaceRow.next_post > t, ChannelPaceRow.next_post),
                                   else_=t) + pace)
            .returning(ChannelPaceRow.next_post))
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
    return max(0.0, float(taken) - pace - t)


def next_attempt(engine: Engine) -> datetime | None:
    """When the earliest waiting (pending or sending) alert may be tried again, if any."""
    with Session(engine) as s:
        return s.exec(select(func.min(AlertRow.next_attempt_at)).where(
            AlertRow.state.in_(["pending", "sending"]))).one()  # type: ignore[attr-defined]
