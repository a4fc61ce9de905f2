"""What ``watcher findings`` and ``watcher alerts show`` print: stored values, as lines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from watcher.store.findings import StoredFinding
from watcher.store.outbox import WAITING, QueuedAlert


def _time(t: datetime | None, seconds: bool = False) -> str | None:
    return None if t is None else f"{t:%Y-%m-%d %H:%M:%S}Z" if seconds else f"{t:%Y-%m-%d %H:%M}Z"


def finding_lines(f: StoredFinding) -> list[str]:
    """A stored finding, its article, its decision and why."""
    dev = f" (development #{f.development_id})" if f.development_id not in (None, f.id) else ""
    outlet = f" ({f.outlet})" if f.outlet else ""
    return [f"#{f.id:<5} {_time(f.created_at) or '?'} {f.rule_id:<22} {f.kind:<7} "
            f"{f.summary or f.key}{dev}",
            f"       {f.article_title[:80]} <{f.article_url}>{outlet}",
            f"       reason: {f.reason}"]


def alert_lines(q: QueuedAlert, found: Sequence[StoredFinding] = ()) -> list[str]:
    """Everything about one alert: its message, the decision behind it, its delivery."""
    d = q.draft
    lines = [f"alert #{q.id}: {q.kind}, {q.state}"]

    def show(name: str, value: object) -> None:
        if value not in (None, "", ()):
            lines.append(f"{name + ':':<13}{value}")

    show("rule", d.rule_id)
    show("channel", d.channel + (f" ({q.channel_id})" if q.channel_id else ""))
    show("severity", d.severity)
    show("summary", d.summary)
    show("article", f"{d.article_title} <{d.article_url}>" if d.article_url else "")
    show("outlet", d.outlet)
    show("published", _time(d.published))
    show("evidence", d.evidence)
    for c in d.changes:
        show("change", f"{c.fact}: {c.now} (was: {c.was})")
    show("reason", d.reason)
    for f in found:
        show("finding", f"#{f.id} {f.kind} ({f.key})")
    show("development", f"#{q.development_id}" if q.development_id else None)
    for item_id, item in q.items:
        show("digest item", f"#{item_id} {item.summary} <{item.article_url}>")
    show("attempts", q.attempts)
    show("created", _time(q.created_at, seconds=True))
    show("next try", _time(q.next_attempt_at, seconds=True) if q.state in WAITING else None)
    show("sent", _time(q.sent_at, seconds=True))
    show("message ts", q.ts)
    show("thread ts", q.thread_ts)
    show("error", q.error)
    return lines
