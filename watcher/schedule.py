"""Running the service: the cycle loop, APScheduler jobs, wake-ups, signals, graceful stop.

- the **cycle** (its own thread, one at a time): poll the feeds that are due (their schedule
  lives in the database, so a restart loses nothing and catches up once), then turn new
  entries into findings; then wait for the tick, the next feed falling due, or a wake-up
  (another worker stored entries: ``watcher.store.wakeup``), whichever comes first;
- APScheduler jobs (each at most one instance, missed runs coalesced into one): ``deliver``
  sends pending alerts (its own thread, so Slack pacing never blocks polling; also run 0.5 s
  after a wake-up for new alerts), ``rules`` picks up edited rule files without a restart,
  ``retention`` prunes old article text.

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
from watcher.settings import Settings
from watcher.store import repo
from watcher.store.wakeup import Wakeup

if TYPE_CHECKING:
    from watcher.service import Service

log = logging.getLogger("watcher.schedule")

MAX_TICK = 5  # seconds
DELIVER_EVERY = 2  # seconds
RULES_EVERY = 5  # seconds
GRACE_SECONDS = 30
ALERT_SETTLE = 0.5  # seconds from a wake-up for new alerts to the delivery run it starts
MIN_GAP = 1.0  # seconds between the end of a cycle and a cycle run for a feed falling due


def tick_seconds_for(settings: Settings) -> int:
    """The longest a worker waits between cycles (two cheap queries when there is no work);
    it waits less when a feed falls due sooner or it is woken up."""
    intervals = [f.interval for f in settings.feeds if f.interval]
    return max(1, min([MAX_TICK, settings.schedule.interval, *intervals]))


def run_forever(service: Service, stop: threading.Event | None = None) -> int:
    stop = stop or threading.Event()
    pipeline = service.pipeline
    metrics, health = service.metrics, service.health
    tick = tick_seconds_for(service.settings)
    http = None
    if service.settings.http.listen:
        from watcher.observe import serve_http

        http = serve_http(service.settings.http.listen, metrics, health,
                          service.settings.http.timeout)
        log.info("serving /healthz and /metrics on %s", service.settings.http.listen)
    sched = BackgroundScheduler(timezone=UTC, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    delivering = threading.Event()  # the deliver job is running
    wake = threading.Event()  # new entries stored (by any worker): cycle again now

    def on_wake(what: str) -> None:
        """Another worker (or this one) stored new entries or alerts (``Wakeup``)."""
        if what == "entries":
            wake.set()
        elif what == "alerts" and not delivering.is_set() and not stop.is_set():
            # Soon, not at once: alerts two workers store at the same moment may commit in
            # the other order than their ids; a moment later both are in, and go out in id
            # order. (Not from a job: a job calling the scheduler can deadlock its shutdown.)
            soon = datetime.now(UTC) + timedelta(seconds=ALERT_SETTLE)
            with contextlib.suppress(JobLookupError):
                job = sched.get_job("deliver")
                if job is not None and job.next_run_time and job.next_run_time > soon:
                    sched.modify_job("deliver", next_run_time=soon)

    wakeup = Wakeup(service.engine, on_wake)

    def cycle() -> None:
        started = time.monotonic()
        try:
            report = pipeline.run_cycle(deliver=False)
        except Exception as exc:  # a bug must not stop the loop; the next cycle tries again
            health.cycle_failed(f"{type(exc).__name__}: {exc}")
            log.exception("cycle failed")
            return
        metrics.record_cycle(report, time.monotonic() - started)
        metrics.rules_loaded.set(len(pipeline.rules.rules) if pipeline.rules else 0)
        metrics.rule_files_rejected.set(len(pipeline.rule_errors))
        health.cycle_ok()
        if report.feeds_polled or report.articles:
            log.info("cycle: %s", report)

    def until_next_cycle() -> float:
        """The tick, or less when a feed falls due sooner (but at least MIN_GAP, so feeds
        falling due one after the other are polled together)."""
        try:
            due = repo.next_feed_due(service.engine)
        except Exception:  # noqa: BLE001 - the database is away: the tick, and retry
            return tick
        if due is None:
            return tick
        return min(tick, max(MIN_GAP, (due - datetime.now(UTC)).total_seconds()))

    def cycle_loop() -> None:
        """One cycle at a time, for as long as the service runs: then wait for the tick, the
        next feed falling due, or a wake-up (new entries), whichever comes first. A wake-up
        during a cycle is not lost: the next cycle starts at once."""
        while not stop.is_set():
            wake.clear()
            sdnotify.beat()  # READY=1 the first time, WATCHDOG=1 every time (systemd)
            cycle()
            if not stop.is_set():
                wake.wait(until_next_cycle())

    cycler = threading.Thread(target=cycle_loop, name="cycle", daemon=True)

    def deliver() -> None:
        delivering.set()
        try:
            from watcher.pipeline import CycleReport

            report = CycleReport()
            service.delivery.deliver(report)
            metrics.record_delivery(report)
        except Exception:
            log.exception("delivery failed")
        finally:
            delivering.clear()

    def prune() -> None:
        days = service.settings.retention.article_text_days
        try:
            n = repo.prune_article_text(service.engine,
                                        datetime.now(UTC) - timedelta(days=days))
            if n:
                log.info("retention: pruned the text of %d article(s) older than %d days", n, days)
        except Exception:
            log.exception("retention failed")

    def rules() -> None:
        try:
            pipeline.reload_rules()
        except Exception:
            log.exception("rule reload failed")

    def add_jobs() -> None:
        now = datetime.now(UTC)
        cycler.start()
        sched.add_job(deliver, "interval", seconds=DELIVER_EVERY, id="deliver",
                      next_run_time=now)
        sched.add_job(rules, "interval", seconds=RULES_EVERY, id="rules")
        sched.add_job(prune, "interval", hours=1, id="retention", next_run_time=now)
        wakeup.start()

    def startup(attempt: int = 0) -> None:
        """Migrate and load rules and baseline; until the database answers, retry (and let
        /healthz say why) instead of exiting."""
        if stop.is_set():
            return
        try:
            pipeline.start()
        except Exception as exc:  # noqa: BLE001 - reported on /healthz and retried
            delay = min(60, 2 ** min(attempt, 6))
            health.cycle_failed(f"start-up failed: {type(exc).__name__}: {str(exc)[:300]}")
            log.error("start-up failed (retrying in %ss): %s", delay, exc)
            sched.add_job(startup, "date", args=[attempt + 1], id="startup",
                          replace_existing=True,
                          run_date=datetime.now(UTC) + timedelta(seconds=delay))
            return
        health.start_succeeded()
        add_jobs()

    _install_signals(stop, pipeline)
    sched.start()
    sched.add_job(startup, id="startup", next_run_time=datetime.now(UTC))
    log.info("watcher running: %d feed(s) in the config, tick %ss", len(service.settings.feeds),
             tick)
    stop.wait()
    log.info("stopping: finishing the work in hand (up to %ss)", GRACE_SECONDS)
    pipeline.stopping.set()
    wake.set()  # the cycle loop stops waiting

    def close_jobs() -> None:
        sched.shutdown(wait=True)
        if cycler.is_alive():
            cycler.join()

    closer = threading.Thread(target=close_jobs, daemon=True)
    closer.start()
    closer.join(GRACE_SECONDS)
    wakeup.close()
    if http is not None:
        http.shutdown()
    if closer.is_alive():
        # Work still running keeps its leases; they expire and the next start takes it over.
        log.warning("grace period of %ss over: exiting with work in hand", GRACE_SECONDS)
        logging.shutdown()
        os._exit(0)
    try:
        pipeline.release_claims()
    except Exception as exc:  # noqa: BLE001 - e.g. the database is gone; leases expire
        log.warning("could not hand back leased work (%s); it returns when leases expire", exc)
    service.close()
    log.info("stopped")
    return 0


def _install_signals(stop: threading.Event, pipeline: Any) -> None:
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
