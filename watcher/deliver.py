"""The delivery stage: the outbox sender.

A finding's alert is written with the finding (``store.findings.record_findings``). This stage sends
pending rows in order, records Slack's answer, retries what can be retried and records what
cannot. Exactly once, as far as the channel can tell: a row is marked ``sending`` (committed)
before the notifier is called; a row found in ``sending`` state after a crash may have been
posted, so the channel's history is searched for its alert id (message metadata) before it is
sent again.

Notifiers only render, send and classify (``watcher.notify``); retries, pacing, threading and
records live here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from watcher.notify.base import Notifier, SendResult
from watcher.settings import SlackSettings
from watcher.store import findings, outbox
from watcher.store.outbox import QueuedAlert
from watcher.types import Alert, AlertDraft, AlertKind, AlertState

if TYPE_CHECKING:
    from watcher.pipeline import CycleReport

log = logging.getLogger("watcher.deliver")

MAX_BACKOFF = 600.0
# Failures after which the message may have been posted all the same (the notifiers' codes for
# a request that may have reached Slack without its answer reaching us).
AMBIGUOUS = {"timeout", "connection_error"}
LEASE_SECONDS = 120


def to_alert(alert_id: int, draft: AlertDraft, sources: int = 1, thread_ts: str | None = None,
             items: tuple[Alert, ...] = ()) -> Alert:
    """What a notifier renders: a queued draft, with what delivery knows by now."""
    return Alert(
        id=alert_id, kind=draft.kind, rule_id=draft.rule_id, channel=draft.channel,
        summary=draft.summary, article_url=draft.article_url,
        article_title=draft.article_title, evidence=draft.evidence, matched=draft.matched,
        changes=draft.changes, outlet=draft.outlet, published=draft.published,
        severity=draft.severity, sources=sources, thread_ts=thread_ts, items=items,
    )


def _position(q: QueuedAlert) -> int:
    """Where an alert goes in its channel's order: a digest takes its first item's place."""
    return q.items[0][0] if q.kind == AlertKind.DIGEST and q.items else q.id


class Delivery:
    def __init__(self, engine: Engine, notifier: Notifier, settings: SlackSettings, *,
                 clock: Callable[[], datetime] | None = None, owner: str = "delivery",
                 sleep: Callable[[float], None] = time.sleep, lease: int = LEASE_SECONDS):
        self.engine = engine
        self.lease = lease
        self.notifier = notifier
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        self.owner = owner
        self.sleep = sleep

    def deliver(self, report: CycleReport | None = None) -> None:
        """Send every due alert once. Stops early for a channel that asks us to wait."""
        now = self.clock()
        rows = outbox.claim_alerts(self.engine, now, self.owner, self.lease)
        rows = self._fold_floods(rows, now)
        blocked: set[str] = set()  # channels that answered "retry": keep their order
        for row in rows:
            due = row.next_attempt_at is None or row.next_attempt_at <= now
            if row.channel in blocked or not due:
                blocked.add(row.channel)
                outbox.set_alert(self.engine, row.id, lease_owner=None, lease_until=None)
                continue
            result = self._deliver_one(row)
            if result.outcome == "retry":
                blocked.add(row.channel)
            if report is not None:
                if result.outcome == "sent":
                    report.alerts_sent += 1
                elif result.outcome == "failed":
                    report.alerts_failed += 1
        if report is not None:
            counts = outbox.alert_counts(self.engine)
            report.alerts_pending = sum(counts.get(s, 0) for s in outbox.WAITING)

    def _fold_floods(self, rows: list[QueuedAlert], now: datetime) -> list[QueuedAlert]:
        """Flood control: when a rule has more than ``digest_after`` alerts within the window
        (sent recently plus waiting now), its waiting new alerts go out as one digest."""
        limit, window = self.settings.digest_after, self.settings.digest_window
        if limit <= 0:
            return rows
        fresh: dict[tuple[str, str], list[QueuedAlert]] = {}
        for r in rows:
            if r.kind == AlertKind.NEW and r.state == AlertState.PENDING and r.attempts == 0:
                fresh.setdefault((r.rule_id, r.channel), []).append(r)
        folded: set[int] = set()
        for (rule_id, channel), group in fresh.items():
            if len(group) < 2:
                continue
            recent = outbox.count_sent_since(self.engine, rule_id, now - timedelta(seconds=window))
            if recent + len(group) <= limit:
                continue
            digest = outbox.fold_into_digest(self.engine, [r.id for r in group],
                                             rule_id, channel, self.owner, now)
            log.info("flood control: %d alerts of %s sent as digest #%s", len(group), rule_id,
                     digest.id)
            folded.update(r.id for r in group)
            rows.append(digest)
        return sorted((r for r in rows if r.id not in folded), key=_position)

    def _deliver_one(self, row: QueuedAlert) -> SendResult:
        if row.kind == AlertKind.DIGEST:
            return self._send(row, to_alert(row.id, row.draft, items=tuple(
                to_alert(i, d) for i, d in row.items)))
        thread = None
        if row.kind in (AlertKind.UPDATE, AlertKind.SOURCES) and row.development_id:
            thread = outbox.development_message(self.engine, row.development_id)
        if row.kind == AlertKind.SOURCES:
            return self._update_sources(row, thread)
        sources = len(findings.outlets_of_development(self.engine, row.development_id or 0)) or 1
        thread_ts = thread[1] if thread and self.notifier.supports_threads else None
        return self._send(row, to_alert(row.id, row.draft, sources=sources, thread_ts=thread_ts))

    def _send(self, row: QueuedAlert, alert: Alert) -> SendResult:
        if row.state == AlertState.SENDING:
            # A send may have happened before a crash: look before sending again.
            oldest = row.created_at.timestamp() - 60 if row.created_at else None
            found = self.notifier.find_sent(alert, row.channel_id or row.channel, oldest)
            if found is not None and found.outcome == "sent":
                self._record(row, found)
                log.info("alert %s was already posted (ts %s): not sent again", row.id, found.ts)
                return found
            if found is not None and found.outcome == "retry":
                self._record(row, found, ambiguous=True)  # cannot tell yet: look again later
                return found
            if found is not None:
                log.warning("alert %s: cannot check whether it was already posted (%s); "
                            "sending it", row.id, found.reason)
        outbox.set_alert(self.engine, row.id, state=AlertState.SENDING,
                         attempts=row.attempts + 1, thread_ts=alert.thread_ts)
        self._pace(row.channel)
        result = self.notifier.send(alert)
        self._record(row, result)
        return result

    def _update_sources(self, row: QueuedAlert, thread: tuple[str, str] | None) -> SendResult:
        if thread is None and self.notifier.supports_threads \
                and outbox.development_waiting(self.engine, row.development_id or 0):
            result = SendResult("retry", retry_after=5.0, reason="the first message is not "
                                "posted yet", code="waiting")
            self._record(row, result)
            return result
        if thread is None or not self.notifier.supports_threads:
            outbox.set_alert(self.engine, row.id, state=AlertState.FOLDED, lease_owner=None,
                             error="no message to update", lease_until=None)
            return SendResult("sent")
        parent = outbox.development_parent(self.engine, row.development_id or 0)
        sources = len(findings.outlets_of_development(self.engine, row.development_id or 0))
        shown = parent or row
        alert = to_alert(shown.id, shown.draft, sources=max(sources, 1))
        self._pace(row.channel)
        result = self.notifier.update_sources(alert, thread[0], thread[1])
        if result.outcome == "sent":
            result = SendResult("sent", ts=thread[1], channel=thread[0])
        self._record(row, result)
        return result

    def _record(self, row: QueuedAlert, result: SendResult, ambiguous: bool = False) -> None:
        """Store the outcome. A retry after a lost answer (timeout, dropped connection) stays
        ``sending``: Slack may have posted it, so history is checked before sending again."""
        now = self.clock()
        ambiguous = ambiguous or result.code in AMBIGUOUS
        if result.outcome == "sent":
            outbox.set_alert(self.engine, row.id, state=AlertState.SENT, ts=result.ts,
                             sent_at=now,
                             channel_id=result.channel, error=None, lease_owner=None,
                             lease_until=None)
        elif result.outcome == "retry":
            delay = result.retry_after or min(MAX_BACKOFF, 2.0 ** min(row.attempts + 1, 10))
            outbox.set_alert(self.engine, row.id, error=result.reason,
                             state=AlertState.SENDING if ambiguous else AlertState.PENDING,
                             next_attempt_at=now + timedelta(seconds=delay), lease_owner=None,
                             lease_until=None)
            log.warning("alert %s: not delivered, next try in %.0fs (%s)", row.id, delay,
                        result.reason)
        else:
            outbox.set_alert(self.engine, row.id, state=AlertState.FAILED, error=result.reason,
                             lease_owner=None, lease_until=None)
            log.error("alert %s failed for good: %s (fix it, then `watcher alerts retry %s`)",
                      row.id, result.reason, row.id)

    def _pace(self, channel: str) -> None:
        """Wait for this channel's next free slot. Slots are reserved in the database, so the
        pace holds across every worker sharing it."""
        if self.settings.pace <= 0:
            return
        wait = outbox.reserve_post_slot(self.engine, channel, self.settings.pace,
                                        datetime.now(UTC))
        if wait > 0:
            self.sleep(wait)
