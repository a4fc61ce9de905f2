"""Row leases: how workers divide feeds, entries and alerts between them.

A worker claims rows by writing its name and a lease expiry on them. On PostgreSQL the
candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` so two workers never claim the same
row; on SQLite a single writer is serialised by the database lock. A lease that expires (its
worker died) makes the row claimable again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import or_, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session


class Leased(Protocol):
    """A row workers divide between them (``Feed``, ``EntryRow``, ``AlertRow``)."""

    lease_owner: str | None
    lease_until: datetime | None


T = TypeVar("T", bound=Leased)


def claim(engine: Engine, model: type[T], now: datetime, owner: str, lease_seconds: int,
          limit: int, where: Sequence[Any], order_by: Any, serialize: int | None = None,
          ) -> list[Any]:
    """Lease up to ``limit`` free rows matching ``where`` to ``owner``; returns them as read
    (rows with the model's columns as attributes; their lease columns as before the claim).
    Two statements whatever the count: the SELECT, one UPDATE.

    ``serialize``: an advisory lock key; claims with the same key run one at a time on
    PostgreSQL, for claims whose ``where`` looks at other workers' leases.
    """
    until = now + timedelta(seconds=lease_seconds)
    m: Any = model
    table = m.__table__
    free = or_(m.lease_until.is_(None), m.lease_until < now, m.lease_owner == owner)
    with engine.begin() as conn:
        if serialize is not None and engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": serialize})
        order = order_by if isinstance(order_by, (list, tuple)) else (order_by,)
        q = select(table).where(free, *where).order_by(*order).limit(limit)
        if engine.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        rows = list(conn.execute(q))
        if rows:
            conn.execute(update(table).where(table.c.id.in_([r.id for r in rows]))
                         .values(lease_owner=owner, lease_until=until))
        return rows


def renew(engine: Engine, model: type[T], ids: Sequence[int], owner: str,
          until: datetime) -> None:
    """Extend ``owner``'s leases on rows it is still working on."""
    m: Any = model
    if not ids:
        return
    with Session(engine) as s:
        s.connection().execute(update(m).where(m.id.in_(list(ids)), m.lease_owner == owner)
                               .values(lease_until=until))
        s.commit()
