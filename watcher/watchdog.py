"""The service watching itself, for the operators: silent rules, empty feeds, the heartbeat
and the daily summary. The runner (``watcher.schedule``) calls it; decisions are
``watcher.coverage``'s, state is ``watcher.store.coverage``'s.

- ``check``: rules silent past their window and feeds without article text for a day are
  told to ``[slack] operator_channel`` once (the claim is stored, so a restart or another
  worker does not tell again); a rule that matches again, a feed that gives text again, is
  cleared. Also sets the coverage metrics.
- ``heartbeat``: after a successful cycle, ``GET [heartbeat] url`` (a dead-man's switch such
  as a healthchecks.io or Uptime Kuma push monitor: the monitor raises the alarm when the
  requests stop). The URL carries the monitor's secret: it is registered with
  ``watcher.redact`` and never logged.
- ``daily_summary``: at ``[heartbeat] daily_summary`` (UTC) one message to the operator
  channel, once per day across workers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy.engine import Engine

from watcher import coverage, redact
from watcher.notify.base import Notifier
from watcher.observe import Metrics
from watcher.rules.schema import RuleSet
from watcher.settings import Settings, daily_time
from watcher.store import coverage as store
from watcher.store import repo
from watcher.types import Alert, AlertKind

log = logging.getLogger("watcher.watchdog")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Coverage:
    """What ``check`` found: silent rules and empty feeds, each with whether the operators
    have been told."""

    silent: tuple[coverage.Silence, ...]
    empty: tuple[coverage.FeedText, ...]
    intake: coverage.Intake


def assess(engine: Engine, rules: RuleSet, default_days: int, now: datetime) -> Coverage:
    """Silent rules and empty feeds, as the database knows them now (``watcher status`` and
    ``check`` both use this)."""
    activity = store.rule_activity(engine, now)
    live_since = {name: first for name, (first, _) in store.states(engine, store.RULE).items()}
    intake = store.intake(engine, now)
    silent = coverage.silences(rules, activity, live_since, intake, default_days, now)
    empty = coverage.empty_feeds(store.feed_text(engine, now), now)
    return Coverage(tuple(silent), tuple(empty), intake)


class Watchdog:
    def __init__(self, settings: Settings, engine: Engine, notifier: Notifier,
                 metrics: Metrics, clock: Callable[[], datetime] = utcnow):
        self.settings = settings
        self.engine = engine
        self.notifier = notifier
        self.metrics = metrics
        self.clock = clock
        self._last_beat = 0.0  # monotonic time of the last heartbeat request
        redact.register(settings.heartbeat.url)

    # --- silence -------------------------------------------------------------------------------

    def check(self, rules: RuleSet | None) -> Coverage | None:
        """Tell the operators about newly silent rules and empty feeds; clear the ones that
        recovered. Returns what it found (None: no rules loaded yet)."""
        if rules is None:
            return None
        now = self.clock()
        store.mark_live(self.engine, rules.rules, now)
        found = assess(self.engine, rules, self.settings.rules.silence_days, now)
        activity = store.rule_activity(self.engine, now)
        self.metrics.know_rules(rules.rules, {
            r: t.timestamp() for r in rules.rules
            if (t := coverage.last_match(rules, r, activity)) is not None})
        self.metrics.rules_silent.set(len(found.silent))
        self.metrics.feeds_empty.set(len(found.empty))
        for s in found.silent:
            self._report(store.RULE, s.rule_id, *coverage.silence_text(s, found.intake))
        for f in found.empty:
            self._report(store.FEED, f.url, *coverage.empty_text(f))
        self._clear(rules, activity, found)
        return found

    def _report(self, kind: str, name: str, head: str, body: str) -> None:
        now = self.clock()
        if not store.claim(self.engine, kind, name, now):
            return  # told already (by this worker or another)
        log.warning("%s: %s", head, body)
        if self.settings.slack.operator_channel and not self.tell(head, body):
            store.unclaim(self.engine, kind, name)  # the next check tries again

    def _clear(self, rules: RuleSet, activity: dict[str, coverage.RuleActivity],
               found: Coverage) -> None:
        silent = {s.rule_id for s in found.silent}
        cleared = []
        for rule_id, (_, reported) in store.states(self.engine, store.RULE).items():
            if reported is None or rule_id in silent:
                continue
            last = coverage.last_match(rules, rule_id, activity)
            if rule_id not in rules.rules or (last is not None and last >= reported):
                cleared.append(rule_id)
                log.info("rule %s matches again: its silence is cleared", rule_id)
        store.clear(self.engine, store.RULE, cleared)
        empty = {f.url for f in found.empty}
        texts = {f.url: f.last_text for f in store.feed_text(self.engine, self.clock())}
        back = [url for url, (_, reported) in store.states(self.engine, store.FEED).items()
                if reported is not None and url not in empty
                and (url not in texts or ((t := texts[url]) is not None and t >= reported))]
        store.clear(self.engine, store.FEED, back)

    def tell(self, head: str, body: str) -> bool:
        """One message to the operator channel; False when it could not be sent."""
        channel = self.settings.slack.operator_channel
        if not channel:
            return False
        alert = Alert(id=0, kind=AlertKind.NEW, rule_id="watcher", channel=channel,
                      summary=head[:150], article_url="", article_title="",
                      evidence=body[:2900], severity="warning")
        try:
            result = self.notifier.send(alert)
        except Exception as exc:  # noqa: BLE001 - a notifier bug must not stop the check
            log.error("could not tell the operators (%s)", type(exc).__name__)
            return False
        if result.outcome != "sent":
            log.error("could not tell the operators: %s", result.reason)
            return False
        return True

    # --- heartbeat -----------------------------------------------------------------------------

    def heartbeat(self) -> bool | None:
        """GET the heartbeat URL (after a successful cycle; at most once per
        ``[heartbeat] interval`` seconds). True: the monitor answered 2xx; None: not due or
        not configured. The URL never reaches a log line."""
        hb = self.settings.heartbeat
        if not hb.url:
            return None
        now = time.monotonic()
        if self._last_beat and now - self._last_beat < hb.interval:
            return None
        self._last_beat = now
        try:
            with httpx.Client(timeout=hb.timeout, follow_redirects=False) as client:
                status = client.get(hb.url).status_code
        except Exception as exc:  # noqa: BLE001 - any failure: logged (without the URL)
            log.warning("heartbeat request failed: %s", type(exc).__name__)
            return False
        if status >= 300:
            log.warning("heartbeat request answered HTTP %d", status)
            return False
        return True

    # --- daily summary -------------------------------------------------------------------------

    def daily_summary(self, rules: RuleSet | None) -> bool:
        """Send today's summary if its time has come and no worker has sent it yet."""
        at = daily_time(self.settings.heartbeat.daily_summary)
        if at is None or rules is None or not self.settings.slack.operator_channel:
            return False
        now = self.clock()
        day = f"{now:%Y-%m-%d}"
        if (now.hour, now.minute) < at:
            return False
        previous = store.last_summary(self.engine)
        if previous == day or not store.claim_summary(self.engine, day):
            return False
        found = assess(self.engine, rules, self.settings.rules.silence_days, now)
        failing = [st.url for _, st in repo.list_feeds(self.engine)
                   if st.consecutive_errors and not st.disabled_reason]
        counts, alerts = store.day_counts(self.engine, now)
        head, body = coverage.summary_lines(
            now, found.intake, failing, counts, alerts, sorted(rules.rules),
            [s.rule_id for s in found.silent], [f.url for f in found.empty])
        if not self.tell(head, body):
            store.unclaim_summary(self.engine, day, previous)
            return False
        return True
