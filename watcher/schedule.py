"""Running the service (``Runner``): the cycle loop, APScheduler jobs, wake-ups, signals,
graceful stop.

- the **cycle** (its own thread, one at a time): poll the feeds that are due (their schedule
  lives in the database, so a restart loses nothing and catches up once), then turn new
  entries into findings; then wait for the tick, the next feed falling due, or a wake-up
  (another worker stored entries: ``watcher.store.wakeup``), whichever comes first;
- APScheduler jobs (each at most one instance, missed runs coalesced into one): ``deliver``
  sends pending alerts (its own thread, so Slack pacing never blocks polling; also run 0.5 s
  after a wake-up for new alerts), ``rules`` picks up edited rule files without a restart,
  ``retention`` prunes old article text, ``coverage`` tells the operators about rules gone
  silent and feeds gone empty (``watcher.watchdog``), ``summary`` sends the daily summary;
- after each successful cycle (never after a failed one), the heartbeat request
  (``[heartbeat] url``), the outside monitor's proof of life.

SIGTERM/SIGINT stop taking new work and wait for the running jobs; a second one exits at once
(every write is transactional, so the next start finds a consistent state). SIGHUP reloads
the rules.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from watcher import sdnotify
from watcher.actions import MAX_BODY
from watcher.observe import serve_http
from watcher.pipeline import DELIVER_EVERY, CycleReport, Pipeline
from watcher.settings import Settings
from watcher.store import repo
from watcher.store.wakeup import Wakeup
from watcher.watchdog import Watchdog

if TYPE_CHECKING:  # the service imports this module (the tick): no import back at run time
    from watcher.service import Service

log = logging.getLogger("watcher.schedule")

MAX_TICK = 5  # seconds
RULES_EVERY = 5  # seconds
GRACE_SECONDS = 30
ALERT_SETTLE = 0.5  # seconds from a wake-up for new alerts to the delivery run it starts
MIN_GAP = 1.0  # seconds between the end of a cycle and a cycle run for a feed falling due
COVERAGE_EVERY = 600  # seconds between two checks for silent rules and empty feeds
SUMMARY_EVERY = 60  # seconds between two looks at whether the daily summary is due


def tick_seconds_for(settings: Settings) -> int:
    """The longest a worker waits between cycles (two cheap queries when there is no work);
    it waits less when a feed falls due sooner or it is woken up."""
    intervals = [f.interval for f in settings.feeds if f.interval]
    return max(1, min([MAX_TICK, settings.schedule.interval, *intervals]))


class Runner:
    """The running service: the cycle loop, the scheduler's jobs, wake-ups and the stop.

    Each part is a method that can be called (and tested) alone: ``cycle`` (one cycle, its
    failure recorded on /healthz), ``until_next_cycle``, ``on_wake``, ``deliver``, ``prune``,
    ``reload_rules``, ``startup``; ``run`` puts them together until ``stop`` is set.
    """

    def __init__(self, service: Service, stop: threading.Event | None = None):
        self.service = service
        self.stop = stop or threading.Event()
        self.pipeline = service.pipeline
        self.metrics, self.health = service.metrics, service.health
        self.tick = tick_seconds_for(service.settings)
        self.sched = BackgroundScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
        self.delivering = threading.Event()  # the deliver job is running
        self.wake = threading.Event()  # new entries stored (by any worker): cycle again now
        self.wakeup = Wakeup(service.engine, self.on_wake)
        self.cycler = threading.Thread(target=self.cycle_loop, name="cycle", daemon=True)
        self.watchdog = Watchdog(service.settings, service.engine, service.notifier,
                                 service.metrics)

    def on_wake(self, what: str) -> None:
        """Another worker (or this one) stored new entries or alerts (``Wakeup``)."""
        if what == "entries":
            self.wake.set()
        elif what == "alerts" and not self.delivering.is_set() and not self.stop.is_set():
            # Soon, not at once: alerts two workers store at the same moment may commit in
            # the other order than their ids; a moment later both are in, and go out in id
            # order. (Not from a job: a job calling the scheduler can deadlock its shutdown.)
            soon = datetime.now(UTC) + timedelta(seconds=ALERT_SETTLE)
            with contextlib.suppress(JobLookupError):
                job = self.sched.get_job("deliver")
                if job is not None and job.next_run_time and job.next_run_time > soon:
                    self.sched.modify_job("deliver", next_run_time=soon)

    def cycle(self) -> None:
        started = time.monotonic()
        pipeline = self.pipeline
        try:
            report = pipeline.run_cycle(deliver=False)
        except Exception as exc:  # a bug must not stop the loop; the next cycle tries again
            self.health.cycle_failed(f"{type(exc).__name__}: {exc}")
            log.exception("cycle failed")
            return
        self.metrics.record_cycle(report, time.monotonic() - started)
        self.metrics.rules_loaded.set(len(pipeline.rules.rules) if pipeline.rules else 0)
        self.metrics.rule_files_rejected.set(len(pipeline.rule_errors))
        self.health.cycle_ok()
        if report.feeds_polled or report.articles:
            log.info("cycle: %s", report)
        self.watchdog.heartbeat()  # only after a cycle that succeeded

    def watch(self) -> None:
        """Rules gone silent, feeds gone empty: tell the operators once, clear on recovery."""
        try:
            self.watchdog.check(self.pipeline.rules)
        except Exception:
            log.exception("coverage check failed")

    def summary(self) -> None:
        try:
            self.watchdog.daily_summary(self.pipeline.rules)
        except Exception:
            log.exception("daily summary failed")

    def until_next_cycle(self) -> float:
        """The tick, or less when a feed falls due sooner (but at least MIN_GAP, so feeds
        falling due one after the other are polled together)."""
        try:
            due = repo.next_feed_due(self.service.engine)
        except Exception:  # noqa: BLE001 - the database is away: the tick, and retry
            return self.tick
        if due is None:
            return self.tick
        return min(self.tick, max(MIN_GAP, (due - datetime.now(UTC)).total_seconds()))

    def cycle_loop(self) -> None:
        """One cycle at a time, for as long as the service runs: then wait for the tick, the
        next feed falling due, or a wake-up (new entries), whichever comes first. A wake-up
        during a cycle is not lost: the next cycle starts at once."""
        while not self.stop.is_set():
            self.wake.clear()
            sdnotify.beat()  # READY=1 the first time, WATCHDOG=1 every time (systemd)
            self.cycle()
            if not self.stop.is_set():
                self.wake.wait(self.until_next_cycle())

    def deliver(self) -> None:
        self.delivering.set()
        try:
            report = CycleReport()
            self.service.delivery.deliver(report)
            self.metrics.record_delivery(report)
        except Exception:
            log.exception("delivery failed")
        finally:
            self.delivering.clear()

    def prune(self) -> None:
        days = self.service.settings.retention.article_text_days
        try:
            n = repo.prune_article_text(self.service.engine,
                                        datetime.now(UTC) - timedelta(days=days))
            if n:
                log.info("retention: pruned the text of %d article(s) older than %d days", n, days)
        except Exception:
            log.exception("retention failed")

    def reload_rules(self) -> None:
        try:
            self.pipeline.reload_rules()
        except Exception:
            log.exception("rule reload failed")

    def add_jobs(self) -> None:
        now = datetime.now(UTC)
        self.cycler.start()
        self.sched.add_job(self.deliver, "interval", seconds=DELIVER_EVERY, id="deliver",
                           next_run_time=now)
        self.sched.add_job(self.reload_rules, "interval", seconds=RULES_EVERY, id="rules")
        self.sched.add_job(self.prune, "interval", hours=1, id="retention", next_run_time=now)
        self.sched.add_job(self.watch, "interval", seconds=COVERAGE_EVERY, id="coverage",
                           next_run_time=now)
        if self.service.settings.heartbeat.daily_summary:
            self.sched.add_job(self.summary, "interval", seconds=SUMMARY_EVERY, id="summary",
                               next_run_time=now)
        self.wakeup.start()
        if self.service.socket is not None:
            self.service.socket.start()

    def startup(self, attempt: int = 0) -> None:
        """Migrate and load rules and baseline; until the database answers, retry (and let
        /healthz say why) instead of exiting."""
        if self.stop.is_set():
            return
        try:
            self.pipeline.start()
        except Exception as exc:  # noqa: BLE001 - reported on /healthz and retried
            delay = min(60, 2 ** min(attempt, 6))
            self.health.cycle_failed(f"start-up failed: {type(exc).__name__}: {str(exc)[:300]}")
            log.error("start-up failed (retrying in %ss): %s", delay, exc)
            self.sched.add_job(self.startup, "date", args=[attempt + 1], id="startup",
                               replace_existing=True,
                               run_date=datetime.now(UTC) + timedelta(seconds=delay))
            return
        self.health.start_succeeded()
        self.add_jobs()

    def run(self) -> int:
        """Run until ``stop`` is set (SIGTERM/SIGINT in the main thread), then stop cleanly."""
        settings = self.service.settings
        http = None
        actions = self.service.actions
        if actions is not None:
            actions.start()
        if settings.http.listen:
            post = {"/slack/actions": (MAX_BODY, actions.http)} if actions is not None else None
            http = serve_http(settings.http.listen, self.metrics, self.health,
                              settings.http.timeout, post=post)
            log.info("serving /healthz, /metrics and /slack/actions on %s",
                     settings.http.listen)
        elif actions is not None and actions.verifier is not None:
            log.warning("SLACK_SIGNING_SECRET is set but [http] listen is not: Slack cannot "
                        "reach POST /slack/actions, so the story buttons do nothing")
        _install_signals(self.stop, self.pipeline)
        self.sched.start()
        self.sched.add_job(self.startup, id="startup", next_run_time=datetime.now(UTC))
        log.info("watcher running: %d feed(s) in the config, tick %ss", len(settings.feeds),
                 self.tick)
        self.stop.wait()
        log.info("stopping: finishing the work in hand (up to %ss)", GRACE_SECONDS)
        self.pipeline.stopping.set()
        self.wake.set()  # the cycle loop stops waiting

        def close_jobs() -> None:
            self.sched.shutdown(wait=True)
            if self.cycler.is_alive():
                self.cycler.join()

        closer = threading.Thread(target=close_jobs, daemon=True)
        closer.start()
        closer.join(GRACE_SECONDS)
        self.wakeup.close()
        if self.service.socket is not None:
            self.service.socket.close()
        if actions is not None:
            actions.close()
        if http is not None:
            http.shutdown()
        if closer.is_alive():
            # Work still running keeps its leases; they expire and the next start takes it over.
            log.warning("grace period of %ss over: exiting with work in hand", GRACE_SECONDS)
            logging.shutdown()
            os._exit(0)
        try:
            self.pipeline.release_claims()
        except Exception as exc:  # noqa: BLE001 - e.g. the database is gone; leases expire
            log.warning("could not hand back leased work (%s); it returns when leases expire",
                        exc)
        self.service.close()
        log.info("stopped")
        return 0


def run_forever(service: Service, stop: threading.Event | None = None) -> int:
    """Run the service until ``stop`` is set (or a signal sets it)."""
    return Runner(service, stop).run()


def _install_signals(stop: threading.Event, pipeline: Pipeline) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def on_term(signum: int, _frame: Any) -> None:
        if stop.is_set():
            log.warning("second %s: exiting now", signal.Signals(signum).name)
            os._exit(1)
        stop.set()

    def on_hup(_signum: int, _frame: Any) -> None:
        threading.Thread(target=pipeline.reload_rules, daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.signal(signal.SIGHUP, on_hup)
