"""The delivery stage: the outbox sender, and the stories' messages.

A finding's alert is written with the finding (``store.findings.record_findings``), one row per
message (``analyse.plan_messages``). This stage sends pending rows in order, records Slack's
answer, retries what can be retried and records what cannot. Exactly once, as far as the
channel can tell: a row is marked ``sending`` (committed) before the notifier is called; a row
found in ``sending`` state after a crash may have been posted, so the channel's history is
searched for its alert id (message metadata) before it is sent again.

One thread per story (``store.stories``): a story's first message (top-level) shows its
current state; an update is a reply in its thread, unless the story is muted or marked not
news (then it is recorded, not posted); another outlet only changes the count. Whenever what a
story shows has moved on, its message is edited in place (``refresh``, ``edit``). A digest's
stories each get their own message (a *card*) in the digest's thread, which the digest links.

Notifiers only render, send and classify (``watcher.notify``); retries, pacing, threading and
records live here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from watcher.notify.base import Notifier, SendResult
from watcher.settings import SlackSettings
from watcher.store import outbox, stories
from watcher.store.outbox import QueuedAlert
from watcher.types import Alert, AlertDraft, AlertKind, AlertState, Story

if TYPE_CHECKING:
    from watcher.pipeline import CycleReport

log = logging.getLogger("watcher.deliver")

MAX_BACKOFF = 600.0
# Failures after which the message may have been posted all the same (the notifiers' codes for
# a request that may have reached Slack without its answer reaching us).
AMBIGUOUS = {"timeout", "connection_error"}
LEASE_SECONDS = 120


def to_alert(alert_id: int, draft: AlertDraft, sources: int = 1, thread_ts: str | None = None,
             items: tuple[Alert, ...] = (), stories: tuple[Story, ...] = ()) -> Alert:
    """What a notifier renders: a queued draft, with what delivery knows by now."""
    return Alert(
        id=alert_id, kind=draft.kind, rule_id=draft.rule_id, channel=draft.channel,
        summary=draft.summary, article_url=draft.article_url,
        article_title=draft.article_title, evidence=draft.evidence, matched=draft.matched,
        changes=draft.changes, outlet=draft.outlet, published=draft.published,
        severity=draft.severity, sources=sources, thread_ts=thread_ts, items=items,
        stories=stories,
    )


def story_alert(shown: list[Story], alert_id: int, thread_ts: str | None = None) -> Alert:
    """The message that shows these stories (their thread's first message, or a card)."""
    first = shown[0]
    return Alert(id=alert_id, kind=AlertKind.NEW, rule_id=first.rule_id,
                 channel=first.channel_id or first.channel, summary=first.summary,
                 article_url=first.article_url, article_title=first.article_title,
                 evidence=first.evidence, matched=first.matched, outlet=first.outlet,
                 published=first.published, severity=first.severity, sources=first.outlets,
                 thread_ts=thread_ts, stories=tuple(shown))


def _position(q: QueuedAlert) -> tuple[int, int, int]:
    """Where an alert goes in its channel's order: a digest takes its first item's place,
    just before it (its items are posted in its thread)."""
    if q.kind == AlertKind.DIGEST and q.items:
        return (q.items[0][0], 0, q.id)
    return (q.id, 1, q.id)


FOLDED = "folded"  # a SendResult code: nothing was sent, and nothing is to be
GONE = ("message_not_found", "cant_update_message", "edit_window_closed")  # nothing to edit


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
        self._edits = threading.Lock()  # one edit at a time: a later state never loses

    def deliver(self, report: CycleReport | None = None) -> None:
        """Send every due alert once, then bring the messages of stories that moved on up to
        date. Stops early for a channel that asks us to wait."""
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
                if result.outcome == "sent" and result.code != FOLDED:
                    report.alerts_sent += 1
                elif result.outcome == "failed":
                    report.alerts_failed += 1
        self.refresh()
        if report is not None:
            counts = outbox.alert_counts(self.engine)
            report.alerts_pending = sum(counts.get(s, 0) for s in outbox.WAITING)

    def refresh(self, limit: int = 20) -> None:
        """Edit the messages that show an older state of their stories than stored."""
        if not self.notifier.supports_threads:
            return
        for channel_id, ts in stories.stale_messages(self.engine, limit):
            result = self.edit(channel_id, ts)
            if result.outcome != "sent":
                log.warning("story message %s could not be brought up to date: %s", ts,
                            result.reason)
                if result.outcome == "retry":
                    return

    def edit(self, channel_id: str, ts: str) -> SendResult:
        """Show the current state of the stories of the message at ``ts`` (``chat.update``)."""
        with self._edits:
            shown = stories.message_stories(self.engine, channel_id, ts)
            if not shown:
                return SendResult("sent", code=FOLDED)
            first = shown[0]
            card = first.thread_ts if first.thread_ts != ts else None
            alert = story_alert(shown, first.alert_id or 0, card)
            self._pace(first.channel)
            result = self.notifier.update_sources(alert, channel_id, ts)
            if result.outcome == "sent" or result.code in GONE:
                stories.shown(self.engine, {s.development: s.version for s in shown})
            return result

    def _fold_floods(self, rows: list[QueuedAlert], now: datetime) -> list[QueuedAlert]:
        """Flood control: when a rule has more than ``digest_after`` alerts within the window
        (sent recently plus waiting now), its waiting new alerts go out as one digest. With
        threads, each of them then goes out in the digest's thread (its story's card)."""
        limit, window = self.settings.digest_after, self.settings.digest_window
        if limit <= 0:
            return rows
        fresh: dict[tuple[str, str], list[QueuedAlert]] = {}
        for r in rows:
            if r.kind == AlertKind.NEW and r.state == AlertState.PENDING and r.attempts == 0 \
                    and not (r.error or "").startswith(outbox.IN_DIGEST):
                fresh.setdefault((r.rule_id, r.channel), []).append(r)
        folded: set[int] = set()
        cards = self.notifier.supports_threads
        for (rule_id, channel), group in fresh.items():
            if len(group) < 2:
                continue
            recent = outbox.count_sent_since(self.engine, rule_id, now - timedelta(seconds=window))
            if recent + len(group) <= limit:
                continue
            digest = outbox.fold_into_digest(self.engine, [r.id for r in group],
                                             rule_id, channel, self.owner, now, cards=cards)
            log.info("flood control: %d alerts of %s sent as digest #%s", len(group), rule_id,
                     digest.id)
            if not cards:
                folded.update(r.id for r in group)
            rows.append(digest)
        return sorted((r for r in rows if r.id not in folded), key=_position)

    def _deliver_one(self, row: QueuedAlert) -> SendResult:
        if row.kind == AlertKind.DIGEST:
            return self._send_digest(row)
        if row.kind == AlertKind.SOURCES:
            return self._recount(row)
        threads = self.notifier.supports_threads
        by_dev = {s.development: s for s in stories.of(self.engine, row.developments)}
        lead = by_dev.get(row.development_id or 0)
        joined = tuple(by_dev[d] for d in row.developments[1:] if d in by_dev)
        now = self.clock()
        if row.kind == AlertKind.UPDATE and lead is not None and not joined \
                and (lead.dismissed or lead.muted(now)):
            return self._quiet(row, lead, now)
        sources = lead.outlets if lead is not None else 1
        if threads and lead is not None and lead.thread_ts and lead.channel_id:
            channel_id, thread_ts = lead.channel_id, lead.thread_ts
            if row.kind == AlertKind.NEW and lead.message_ts is None:  # a digest's card
                def card(r: SendResult, story: Story = lead) -> None:
                    if r.ts:
                        stories.set_card(self.engine, story.development, r.ts, story.version)

                result = self._send(row, to_alert(row.id, row.draft, sources, thread_ts,
                                                  stories=(lead,)), card)
                if result.outcome == "sent":
                    self._link_cards(channel_id, thread_ts)
                return result

            def join(_r: SendResult, message_ts: str | None = lead.message_ts) -> None:
                stories.set_thread(self.engine, [s.development for s in joined], channel_id,
                                   thread_ts, message_ts)  # they join the story's thread

            return self._send(row, to_alert(row.id, row.draft, sources, thread_ts,
                                            stories=joined), join if joined else None)
        shown = tuple(by_dev[d] for d in row.developments if d in by_dev)

        def start(r: SendResult) -> None:
            if r.ts and r.channel and threads:
                stories.set_thread(self.engine, row.developments, r.channel, r.ts, r.ts,
                                   {s.development: s.version for s in shown})

        return self._send(row, to_alert(row.id, row.draft, sources, stories=shown), start)

    def _quiet(self, row: QueuedAlert, story: Story, now: datetime) -> SendResult:
        """A muted or dismissed story's update: recorded, not posted."""
        if story.dismissed:
            why = f"not posted: story #{story.development} marked not news by " \
                  f"{story.dismissed_by}"
        else:
            until = story.muted_until.isoformat() if story.muted_until else "?"
            why = f"not posted: story #{story.development} muted by {story.muted_by} " \
                  f"until {until}"
        outbox.set_alert(self.engine, row.id, state=AlertState.FOLDED, error=why,
                         lease_owner=None, lease_until=None)
        log.info("alert %s %s", row.id, why)
        return SendResult("sent", code=FOLDED)

    def _send_digest(self, row: QueuedAlert) -> SendResult:
        def cards_follow(r: SendResult) -> None:  # its stories' cards go in its thread
            if r.ts and r.channel and self.notifier.supports_threads:
                items = (outbox.get_alert(self.engine, i) for i, _ in row.items)
                stories.set_thread(self.engine, [q.development_id for q in items if q
                                                 and q.development_id is not None],
                                   r.channel, r.ts, None)

        return self._send(row, to_alert(row.id, row.draft, items=tuple(
            to_alert(i, d) for i, d in row.items)), cards_follow)

    def _link_cards(self, channel_id: str, thread_ts: str) -> None:
        """Once every story of a digest has its card, the digest links to each."""
        cards = stories.thread_stories(self.engine, channel_id, thread_ts)
        if not cards or any(s.message_ts is None for s in cards):
            return
        digest = outbox.posted_at(self.engine, channel_id, thread_ts)
        permalink = getattr(self.notifier, "permalink", None)
        if digest is None or digest.kind != AlertKind.DIGEST or permalink is None:
            return
        items = tuple(replace(story_alert([s], s.alert_id or 0), permalink=permalink(
            channel_id, s.message_ts)) for s in cards if s.message_ts)
        self._pace(digest.channel)
        result = self.notifier.update_sources(to_alert(digest.id, digest.draft, items=items),
                                              channel_id, thread_ts)
        if result.outcome != "sent":
            log.warning("digest %s: could not link its stories: %s", digest.id, result.reason)

    def _recount(self, row: QueuedAlert) -> SendResult:
        """Another outlet reports a story: its message shows the new count (no post)."""
        story = stories.get(self.engine, row.development_id or 0)
        if story is not None and story.message_ts is None and self.notifier.supports_threads \
                and outbox.waiting(self.engine, story.alert_id):
            result = SendResult("retry", retry_after=5.0, reason="the first message is not "
                                "posted yet", code="waiting")
            self._record(row, result)
            return result
        if story is None or story.message_ts is None or story.channel_id is None \
                or story.dismissed or not self.notifier.supports_threads:
            why = "story marked not news" if story is not None and story.dismissed else \
                "no message to update"
            outbox.set_alert(self.engine, row.id, state=AlertState.FOLDED, lease_owner=None,
                             error=why, lease_until=None)
            return SendResult("sent", code=FOLDED)
        result = self.edit(story.channel_id, story.message_ts)
        if result.outcome == "sent":
            result = SendResult("sent", ts=story.message_ts, channel=story.channel_id)
        self._record(row, result)
        return result

    def _send(self, row: QueuedAlert, alert: Alert,
              then: Callable[[SendResult], None] | None = None) -> SendResult:
        """Send (unless a crash left it posted already) and record. ``then`` runs once the
        message is in Slack, before the row is recorded sent: a crash in between leaves the
        row ``sending``, so the restart finds the message and runs ``then`` again."""
        if row.state == AlertState.SENDING:
            # A send may have happened before a crash: look before sending again.
            oldest = row.created_at.timestamp() - 60 if row.created_at else None
            found = self.notifier.find_sent(alert, row.channel_id or row.channel, oldest)
            if found is not None and found.outcome == "sent":
                if then is not None:
                    then(found)
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
        if result.outcome == "sent" and then is not None:
            then(result)
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
