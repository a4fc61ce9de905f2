"""Coverage in SQL: what each rule has matched lately, what is arriving, which feeds give no
text, and what the operators have been told (the ``coverage`` table, shared by every worker).

"Told once" survives restarts and holds across workers: a worker claims a report with one
conditional UPDATE (``claim``) and only the worker whose UPDATE changed the row sends it; a
send that failed hands the claim back (``unclaim``) so a later check tries again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Engine

from watcher.coverage import FeedText, Intake, RuleActivity
from watcher.store.models import AlertRow, ArticleRow, CoverageRow, EntryRow, Feed, FindingRow, utc
from watcher.store.repo import _insert

RULE, FEED, SUMMARY = "rule", "feed", "summary"
WEEK = timedelta(days=7)
DAY = timedelta(days=1)

_cov: Any = CoverageRow.__table__  # type: ignore[attr-defined]
_find: Any = FindingRow.__table__  # type: ignore[attr-defined]
_alert: Any = AlertRow.__table__  # type: ignore[attr-defined]
_art: Any = ArticleRow.__table__  # type: ignore[attr-defined]
_entry: Any = EntryRow.__table__  # type: ignore[attr-defined]
_feed: Any = Feed.__table__  # type: ignore[attr-defined]


def rule_activity(engine: Engine, now: datetime) -> dict[str, RuleActivity]:
    """Per rule id with findings on record: its last match (an article's finding, not the
    baseline's), its findings of the last 7 days by decision and its alerts of those days."""
    week = now - WEEK
    f = _find.c
    with engine.connect() as conn:
        last: dict[str, Any] = dict(conn.execute(select(f.rule_id, func.max(f.created_at))
                                 .where(f.origin != "baseline").group_by(f.rule_id)).all())
        counts = conn.execute(select(f.rule_id, f.kind, func.count())
                              .where(f.origin != "baseline", f.created_at >= week)
                              .group_by(f.rule_id, f.kind)).all()
        alerts: dict[str, Any] = dict(conn.execute(select(_alert.c.rule_id, func.count())
                                   .where(_alert.c.created_at >= week)
                                   .group_by(_alert.c.rule_id)).all())
    by_kind: dict[str, dict[str, int]] = {}
    for rule_id, kind, n in counts:
        by_kind.setdefault(rule_id, {})[kind] = int(n)
    return {r: RuleActivity(r, utc(last.get(r)), by_kind.get(r, {}), int(alerts.get(r, 0)))
            for r in set(last) | set(by_kind) | set(alerts)}


def intake(engine: Engine, now: datetime) -> Intake:
    """Articles stored in the last day; feeds watched, and those whose last poll succeeded."""
    with engine.connect() as conn:
        articles = conn.execute(select(func.count()).select_from(_art).where(
            _art.c.origin == "feed", _art.c.fetched_at >= now - DAY)).scalar_one()
        feeds, ok = conn.execute(select(
            func.count(), func.coalesce(func.sum(
                (_feed.c.consecutive_errors == 0).cast(_feed.c.consecutive_errors.type)), 0))
            .where(_feed.c.disabled_reason.is_(None))).one()
    return Intake(int(articles), int(feeds), int(ok))


def feed_text(engine: Engine, now: datetime) -> list[FeedText]:
    """Per watched feed: entries of the last day, how many of them gave no page text, its
    first entry ever, and its last entry that gave text."""
    e = _entry.c
    empty = e.status != "ok"
    with engine.connect() as conn:
        rows = conn.execute(
            select(_feed.c.url, func.count(e.id),
                   func.coalesce(func.sum(empty.cast(e.id.type)), 0),
                   func.min(e.seen_at))
            .select_from(_feed.join(_entry, and_(e.feed_id == _feed.c.id,
                                                 e.seen_at >= now - DAY,
                                                 e.status.is_not(None)), isouter=True))
            .where(_feed.c.disabled_reason.is_(None)).group_by(_feed.c.url)).all()
        first: dict[str, Any] = dict(conn.execute(select(_feed.c.url, func.min(e.seen_at))
                                  .select_from(_feed.join(_entry, e.feed_id == _feed.c.id))
                                  .group_by(_feed.c.url)).all())
        text: dict[str, Any] = dict(conn.execute(select(_feed.c.url, func.max(e.seen_at))
                                 .select_from(_feed.join(_entry, e.feed_id == _feed.c.id))
                                 .where(e.status == "ok").group_by(_feed.c.url)).all())
    return [FeedText(url, int(n), int(empty_n), utc(first.get(url)), utc(text.get(url)))
            for url, n, empty_n, _ in rows]


# --- what the operators were told -----------------------------------------------------------

def mark_live(engine: Engine, rule_ids: Iterable[str], now: datetime) -> None:
    """Remember when each rule was first seen live (a new rule is not silent at once)."""
    rows = [{"kind": RULE, "name": r, "first_seen_at": now} for r in rule_ids]
    if rows:
        with engine.begin() as conn:
            conn.execute(_insert(engine, CoverageRow).on_conflict_do_nothing(
                index_elements=["kind", "name"]), rows)


def states(engine: Engine, kind: str) -> dict[str, tuple[datetime | None, datetime | None]]:
    """name -> (first seen, reported at) for every row of ``kind``."""
    c = _cov.c
    with engine.connect() as conn:
        return {n: (utc(first), utc(reported)) for n, first, reported in conn.execute(
            select(c.name, c.first_seen_at, c.reported_at).where(c.kind == kind))}


def claim(engine: Engine, kind: str, name: str, now: datetime) -> bool:
    """Mark ``name`` reported; True for the one caller (of any worker) that did it."""
    c = _cov.c
    with engine.begin() as conn:
        conn.execute(_insert(engine, CoverageRow).values(kind=kind, name=name,
                                                         first_seen_at=now)
                     .on_conflict_do_nothing(index_elements=["kind", "name"]))
        done = conn.execute(update(_cov).where(c.kind == kind, c.name == name,
                                               c.reported_at.is_(None))
                            .values(reported_at=now))
        return bool(done.rowcount)


def unclaim(engine: Engine, kind: str, name: str) -> None:
    """The report could not be sent: the next check tries again."""
    clear(engine, kind, [name])


def clear(engine: Engine, kind: str, names: Iterable[str]) -> None:
    """These are fine again: a later silence is reported anew."""
    names = list(names)
    if names:
        c = _cov.c
        with engine.begin() as conn:
            conn.execute(update(_cov).where(c.kind == kind, c.name.in_(names))
                         .values(reported_at=None))


def claim_summary(engine: Engine, day: str) -> bool:
    """Mark today's daily summary sent; True for the one caller (of any worker) that did."""
    c = _cov.c
    with engine.begin() as conn:
        conn.execute(_insert(engine, CoverageRow).values(kind=SUMMARY, name="daily")
                     .on_conflict_do_nothing(index_elements=["kind", "name"]))
        done = conn.execute(update(_cov).where(c.kind == SUMMARY, c.name == "daily",
                                               or_(c.note.is_(None), c.note != day))
                            .values(note=day))
        return bool(done.rowcount)


def unclaim_summary(engine: Engine, day: str, previous: str | None) -> None:
    c = _cov.c
    with engine.begin() as conn:
        conn.execute(update(_cov).where(c.kind == SUMMARY, c.name == "daily", c.note == day)
                     .values(note=previous))


def last_summary(engine: Engine) -> str | None:
    c = _cov.c
    with engine.connect() as conn:
        return conn.execute(select(c.note).where(c.kind == SUMMARY, c.name == "daily")
                            ).scalar_one_or_none()


def day_counts(engine: Engine, now: datetime) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Findings of the last day by rule and decision, and alerts of the last day by rule."""
    f = _find.c
    with engine.connect() as conn:
        found: dict[str, dict[str, int]] = {}
        for rule_id, kind, n in conn.execute(
                select(f.rule_id, f.kind, func.count())
                .where(f.origin != "baseline", f.created_at >= now - DAY)
                .group_by(f.rule_id, f.kind)):
            found.setdefault(rule_id, {})[kind] = int(n)
        alerts = {r: int(n) for r, n in conn.execute(
            select(_alert.c.rule_id, func.count()).where(_alert.c.created_at >= now - DAY)
            .group_by(_alert.c.rule_id))}
    return found, alerts
