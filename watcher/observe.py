"""Observability: Prometheus metrics, the /healthz and /metrics endpoint, log formats.

What leaves the process here is made safe first: every log line and every ``/healthz`` reason
goes through ``watcher.redact.redact`` (no password, no token), and control characters in log
lines are shown as escapes (``\x1b``), never sent raw to a terminal.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.engine import Engine

from watcher.redact import redact


class Metrics:
    """The service's metrics, on a registry of its own (so tests can build several)."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.feeds_polled = Counter("watcher_feeds_polled_total", "Feed polls", registry=r)
        self.feeds_failed = Counter("watcher_feeds_failed_total", "Feed polls that failed",
                                    ["status"], registry=r)
        self.articles = Counter("watcher_articles_extracted_total",
                                "Entries turned into articles", registry=r)
        self.entries_failed = Counter("watcher_entries_failed_total",
                                      "Entries with no usable text", registry=r)
        self.findings = Counter("watcher_findings_total", "Findings by rule and kind",
                                ["rule", "kind"], registry=r)
        self.alerts_sent = Counter("watcher_alerts_sent_total", "Alerts delivered", registry=r)
        self.alerts_failed = Counter("watcher_alerts_failed_total",
                                     "Alerts that failed for good", registry=r)
        self.alerts_pending = Gauge("watcher_alerts_pending", "Alerts waiting for delivery",
                                    registry=r)
        self.cycle_seconds = Histogram("watcher_cycle_duration_seconds", "Cycle duration",
                                       buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
                                       registry=r)
        self.last_success = Gauge("watcher_last_successful_cycle_timestamp_seconds",
                                  "Unix time of the last cycle that completed", registry=r)
        self.rules_loaded = Gauge("watcher_rules_loaded", "Rules live", registry=r)
        self.rule_files_rejected = Gauge("watcher_rule_files_rejected",
                                         "Rule files currently rejected", registry=r)
        # Coverage: what each rule matches, and whether a rule or a feed has gone quiet.
        self.rule_matches = Counter("watcher_rule_matches", "Articles a rule matched",
                                    ["rule"], registry=r)
        self.rule_findings = Counter("watcher_rule_findings", "Findings by rule and decision",
                                     ["rule", "kind"], registry=r)
        self.rule_last_match = Gauge("watcher_rule_last_match_timestamp_seconds",
                                     "Unix time of a rule's last match", ["rule"], registry=r)
        self.rules_silent = Gauge("watcher_rules_silent",
                                  "Rules silent past their silence_days", registry=r)
        self.feeds_empty = Gauge("watcher_feeds_empty",
                                 "Feeds whose entries gave no article text for a day",
                                 registry=r)
        self._last_match: dict[str, float] = {}

    def record_cycle(self, report: Any, seconds: float) -> None:
        self.feeds_polled.inc(report.feeds_polled)
        for status, n in report.feed_failures.items():
            self.feeds_failed.labels(status).inc(n)
        self.articles.inc(report.articles)
        self.entries_failed.inc(report.entries_failed)
        for (rule, kind), n in report.findings.items():
            self.findings.labels(rule, kind).inc(n)
            self.rule_findings.labels(rule, kind).inc(n)
        now = time.time()
        for rule, n in getattr(report, "matches", {}).items():
            self.rule_matches.labels(rule).inc(n)
            self._last_match[rule] = now
            self.rule_last_match.labels(rule).set(now)
        self.record_delivery(report)
        self.cycle_seconds.observe(seconds)
        self.last_success.set(time.time())

    def know_rules(self, rule_ids: Any, last_match: dict[str, float]) -> None:
        """Every live rule has its series (a rule that never matched shows 0, not nothing);
        the last match as stored, so a restart does not forget it."""
        for rule in rule_ids:
            self.rule_matches.labels(rule)
            when = max(last_match.get(rule, 0.0), self._last_match.get(rule, 0.0))
            self._last_match[rule] = when
            self.rule_last_match.labels(rule).set(when)

    def record_delivery(self, report: Any) -> None:
        self.alerts_sent.inc(report.alerts_sent)
        self.alerts_failed.inc(report.alerts_failed)
        self.alerts_pending.set(report.alerts_pending)


class Health:
    """Healthy while cycles complete on time and the database answers."""

    def __init__(self, engine: Engine, max_cycle_age: float,
                 clock: Callable[[], float] = time.time):
        self.engine = engine
        self.max_cycle_age = max_cycle_age
        self.clock = clock
        self.started = clock()
        self.last_cycle_ok: float | None = None
        self.last_error: str | None = None

    def cycle_ok(self) -> None:
        self.last_cycle_ok, self.last_error = self.clock(), None

    def cycle_failed(self, error: str) -> None:
        self.last_error = redact(error)

    def start_succeeded(self) -> None:
        """Start-up succeeded: failed start-ups before it no longer make the service
        unhealthy, and the first cycle has ``max_cycle_age`` from now to complete."""
        self.last_error, self.started = None, self.clock()

    def check(self) -> tuple[bool, str]:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
            return False, redact(f"database unreachable: {type(exc).__name__}: {str(exc)[:200]}")
        if self.last_cycle_ok is None and self.last_error:
            return False, self.last_error  # start-up (or the first cycle) is failing
        now = self.clock()
        last = self.last_cycle_ok or self.started
        if now - last > self.max_cycle_age:
            why = f"no successful cycle for {now - last:.0f}s (limit {self.max_cycle_age:.0f}s)"
            if self.last_error:
                why += f"; last error: {self.last_error}"
            return False, why
        return True, "ok"


PostHandler = Callable[[bytes, Mapping[str, str]], tuple[int, bytes]]


def serve_http(listen: str, metrics: Metrics, health: Health,
               timeout: float = 10.0, post: Mapping[str, tuple[int, PostHandler]] | None = None
               ) -> ThreadingHTTPServer:
    """Start the /healthz and /metrics endpoint in a daemon thread.

    ``listen`` is ``host:port``; an IPv6 host goes in brackets (``[::1]:9464``). A client that
    does not send its request within ``timeout`` seconds (or stops reading the answer) is
    disconnected, so slow clients cannot pile up threads. ``post`` maps a path to (the
    largest body it takes, its handler), e.g. Slack's ``/slack/actions``
    (``watcher.actions``): a body over the limit is refused before it is read."""
    routes = dict(post or {})
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.startswith("/healthz"):
                ok, why = health.check()
                self._reply(200 if ok else 503, (why + "\n").encode(), "text/plain")
            elif self.path.startswith("/metrics"):
                self._reply(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
            else:
                self._reply(404, b"try /healthz or /metrics\n", "text/plain")

        def do_POST(self) -> None:
            route = routes.get(self.path.split("?", 1)[0])
            if route is None:
                self._reply(404, b"not found\n", "text/plain")
                return
            limit, handler = route
            try:
                length = int(self.headers.get("Content-Length") or "")
            except ValueError:
                self._reply(411, b"Content-Length required\n", "text/plain")
                return
            if not 0 <= length <= limit:
                self.close_connection = True
                self._reply(413, b"too large\n", "text/plain")
                return
            body = self.rfile.read(length)
            status, answer = handler(body, dict(self.headers.items()))
            self._reply(status, answer, "text/plain")

        def _reply(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        daemon_threads = True

    Handler.timeout = timeout  # every read and write on a connection (StreamRequestHandler)
    server = Server((host, int(port)), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="http").start()
    return server


# C0 and C1 control characters but tab and new line, shown as escapes in log lines.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0B, 0x20),
                                         *range(0x7F, 0xA0))}


def safe_text(text: str) -> str:
    """What a log line may show of ``text``: secrets hidden, control characters escaped."""
    return redact(text).translate(_CONTROLS)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
               "logger": record.name, "message": safe_text(record.getMessage())}
        if record.exc_info:
            out["exception"] = safe_text(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


class HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return safe_text(super().format(record))


def setup_logging(level: str = "INFO", fmt: str = "auto") -> None:
    """Human lines on a terminal, JSON lines otherwise (or as asked)."""
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if use_json else HumanFormatter(
        "%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for noisy in ("httpx", "httpcore", "apscheduler", "trafilatura", "alembic", "htmldate",
                  "courlan", "charset_normalizer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # "skipped: maximum number of running instances reached" is our design (a cycle that
    # outlasts its tick is not started twice), not a problem to warn about.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
