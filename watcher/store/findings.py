"""Findings and the baseline: what is known, stored with the outbox rows it calls for.

Findings are written once and never changed: an article's findings with their alerts, in one
transaction (``record_findings``), or the baseline's, all replaced together when the rules or
the seeds change (``replace_baseline``). Reads return values: ``Known`` (for deciding, with the
article's outlet) and ``StoredFinding`` (for the operator).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from watcher.analyse import plan_messages
from watcher.store import outbox, stories
from watcher.store.models import ArticleRow, FindingRow, RuleStateRow, stored_id, utc
from watcher.store.repo import Bind, wake
from watcher.types import AlertKind, Article, Finding, Known, KnownOrigin, Novelty, Outcome


def _known_query() -> Any:
    """Findings with the outlet (else URL) of their article."""
    return select(FindingRow, ArticleRow.outlet, ArticleRow.url, ArticleRow.published).join(
        ArticleRow, col(ArticleRow.id) == FindingRow.article_id)


def known_findings(bind: Bind, rule_ids: Iterable[str] | None = None) -> list[Known]:
    with Session(bind) as s:
        q = _known_query().order_by(col(FindingRow.id))
        if rule_ids is not None:
            q = q.where(col(FindingRow.rule_id).in_(list(rule_ids)))
        return [_known(*r) for r in s.exec(q)]


def findings_after(bind: Bind, after: int, among: Sequence[int] = ()) -> list[Known]:
    """Findings with an id above ``after`` or in ``among`` (see ``watcher.store.tail``)."""
    with Session(bind) as s:
        which = col(FindingRow.id) > after
        if among:
            which = or_(which, col(FindingRow.id).in_(list(among)))
        return [_known(*r) for r in s.exec(_known_query().where(which)
                                            .order_by(col(FindingRow.id)))]


def _known(r: FindingRow, outlet: str | None, url: str, published: datetime | None) -> Known:
    ident = stored_id(r.id)
    return Known(id=ident, rule_id=r.rule_id, key=r.key, facts=r.facts or {},
                 origin=KnownOrigin.BASELINE if r.origin == "baseline" else KnownOrigin.ARTICLE,
                 development_id=r.development_id or ident, display=r.display or {},
                 article_id=r.article_id, source=outlet or url, reported=utc(published))


def outlets_of_development(bind: Bind, development_id: int) -> list[str]:
    with Session(bind) as s:
        q = (select(ArticleRow.outlet, ArticleRow.url)
             .join(FindingRow, col(FindingRow.article_id) == ArticleRow.id)
             .where(or_(col(FindingRow.development_id) == development_id,
                        col(FindingRow.id) == development_id)))
        out: list[str] = []
        for outlet, url in s.exec(q):
            name = outlet or url
            if name not in out:
                out.append(name)
        return out


def finding_row(f: Finding, o: Outcome | None, article_id: int, origin: str,
                now: datetime) -> FindingRow:
    """The row of a finding: an article's (with its outcome) or the baseline's (none)."""
    d = o.decision if o is not None else None
    return FindingRow(
        rule_id=f.rule_id, key=f.key, article_id=article_id, origin=origin,
        kind=d.kind if d else Novelty.KNOWN, reason=d.reason if d else "baseline",
        facts=dict(f.facts), display=dict(f.display),
        changes=[asdict(c) for c in d.changes] if d else [],
        matched=list(f.matched), evidence=f.evidence, summary=f.summary, status=f.status,
        development_id=o.development if o is not None else None,
        created_at=now,
    )


def record_findings(bind: Bind, article_id: int, outcomes: Sequence[Outcome],
                    now: datetime) -> list[int]:
    """Store an article's findings and, in the same transaction, their alerts (the outbox).
    A finding already stored for the article (a replay, another worker) is skipped. Returns
    the new alert ids."""
    alert_ids: list[int] = []
    with Session(bind) as s:
        rows: list[tuple[FindingRow, Outcome]] = []
        for o in outcomes:
            f = o.finding
            dup = s.exec(select(FindingRow.id).where(
                FindingRow.rule_id == f.rule_id, FindingRow.key == f.key,
                FindingRow.article_id == article_id)).first()
            if dup is not None:
                continue  # a replay or a second worker: the unique key says it is done
            row = finding_row(f, o, article_id, "article", now)
            s.add(row)
            rows.append((row, o))
        s.flush()
        for row, _ in rows:
            if row.development_id is None:
                row.development_id = row.id
                s.add(row)
        alert_ids = _enqueue(s, rows, now)
        if alert_ids:
            wake(s.connection(), "alerts")
        s.commit()
    return alert_ids


def _enqueue(s: Session, rows: Sequence[tuple[FindingRow, Outcome]], now: datetime
             ) -> list[int]:
    """The article's messages (``analyse.plan_messages``: at most one top-level message per
    channel), and their stories moved on, in the caller's transaction."""
    outcomes = [o for _, o in rows]
    developments = [stored_id(r.development_id) for r, _ in rows]
    # which had a story before this article: those get replies
    before = stories.threaded(s, [d for o, d in zip(outcomes, developments, strict=True)
                                  if o.alert is not None and o.alert.kind != AlertKind.NEW
                                  and o.development is not None])
    for (_row, o), dev in zip(rows, developments, strict=True):
        if o.alert is None:
            continue
        if o.alert.kind == AlertKind.NEW:
            stories.start(s, dev, o.alert, now)
        elif o.alert.kind == AlertKind.UPDATE:
            stories.advance(s, dev, o.alert, now)
        elif o.alert.kind == AlertKind.SOURCES:
            stories.touch(s, dev, now)
    alert_ids = []
    for plan in plan_messages(outcomes, before):
        lead, draft = rows[plan.lead][0], outcomes[plan.lead].alert
        assert draft is not None
        joined = [(developments[i], stored_id(rows[i][0].id), outcomes[i].alert)
                  for i in plan.joined]
        alert_id = outbox.enqueue(s, lead.id, lead.development_id, draft, now,
                                  [(d, f, a) for d, f, a in joined if a is not None])
        if draft.kind != AlertKind.SOURCES:
            stories.first_message(s, [developments[plan.lead]] + [d for d, _, _ in joined],
                                  alert_id)
        alert_ids.append(alert_id)
    return alert_ids


@dataclass(frozen=True)
class StoredFinding:
    """A finding as stored, with its decision and article: for ``watcher findings``."""

    id: int
    rule_id: str
    key: str
    kind: Novelty
    reason: str
    summary: str
    origin: str  # article | baseline
    article_id: int
    article_url: str
    article_title: str
    outlet: str | None
    development_id: int | None
    created_at: datetime | None
    display: dict[str, str]


def list_findings(bind: Bind, *, rule_id: str | None = None, since: datetime | None = None,
                  article_id: int | None = None, finding_id: int | None = None,
                  baseline: bool = False, limit: int | None = None) -> list[StoredFinding]:
    """Stored findings, oldest first (the baseline's only with ``baseline``)."""
    with Session(bind) as s:
        q = select(FindingRow, ArticleRow.url, ArticleRow.title, ArticleRow.outlet).join(
            ArticleRow, col(ArticleRow.id) == FindingRow.article_id)
        if not baseline:
            q = q.where(FindingRow.origin != "baseline")
        if rule_id is not None:
            q = q.where(FindingRow.rule_id == rule_id)
        if since is not None:
            q = q.where(col(FindingRow.created_at) >= since)
        if article_id is not None:
            q = q.where(FindingRow.article_id == article_id)
        if finding_id is not None:
            q = q.where(FindingRow.id == finding_id)
        if limit is None:
            rows = list(s.exec(q.order_by(col(FindingRow.id))))
        else:  # the last ``limit``, still oldest first
            rows = list(s.exec(q.order_by(col(FindingRow.id).desc()).limit(limit)))[::-1]
        return [StoredFinding(
            id=stored_id(r.id), rule_id=r.rule_id, key=r.key, kind=Novelty(r.kind),
            reason=r.reason or "", summary=r.summary, origin=r.origin, article_id=r.article_id,
            article_url=url, article_title=title, outlet=outlet,
            development_id=r.development_id, created_at=utc(r.created_at),
            display=dict(r.display or {})) for r, url, title, outlet in rows]


def baseline_fingerprint(bind: Bind) -> str | None:
    with Session(bind) as s:
        row = s.exec(select(RuleStateRow).where(RuleStateRow.name == "baseline")).first()
        return row.value if row else None


def replace_baseline(engine: Engine, fingerprint: str,
                     seeds: Sequence[tuple[Article, Any, Sequence[Finding]]],
                     now: datetime) -> bool:
    """Store the seeds (article, near-duplicate signature, findings: one per (rule, key), see
    ``watcher.analyse.baseline_findings``) if the rules or the seeds changed since last time."""
    with Session(engine) as s:
        if engine.dialect.name == "postgresql":  # workers starting together: one at a time
            s.connection().execute(text("SELECT pg_advisory_xact_lock(7135001)"))
        state = s.exec(select(RuleStateRow).where(RuleStateRow.name == "baseline")).first()
        if state is not None and state.value == fingerprint:
            return False
        s.exec(delete(FindingRow).where(col(FindingRow.origin) == "baseline"))
        for article, sig, findings in seeds:
            art = s.exec(select(ArticleRow).where(ArticleRow.url == article.url)).first()
            if art is None:
                # the signature goes in with the row: workers index rows as they appear
                art = ArticleRow(url=article.url, origin="seed", title=article.title,
                                 text=article.text, outlet=article.outlet,
                                 published=article.published, fetched_at=now, signature=sig)
                s.add(art)
                s.flush()
            elif art.signature is None:
                art.signature = sig
                s.add(art)
            for f in findings:
                s.add(finding_row(f, None, stored_id(art.id), "baseline", now))
        if state is None:
            state = RuleStateRow(name="baseline", value=fingerprint)
        state.value = fingerprint
        s.add(state)
        s.commit()
        return True
