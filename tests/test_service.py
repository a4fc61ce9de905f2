"""`watcher run` as a real service process: health and metrics, SIGHUP, SIGTERM mid-cycle,
and a database that cannot be reached."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT, article_page, rss, write_config
from tests.httpserver import Reply
from tests.slack_standin import SlackStandIn
from tests.test_end_to_end import POMPEO_NEW, SUMMIT_NEW

ENV = {"SLACK_BOT_TOKEN": "xoxb-test"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """A `watcher run` subprocess with its /healthz and /metrics endpoint."""

    def __init__(self, config: Path, port: int):
        self.port = port
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        env.update(ENV)
        self.log = open(config.parent / "service.log", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "watcher.cli", "--log-format", "json", "run", "--config",
             str(config)], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def wait_for(self, check, timeout: float = 90, what: str = "") -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if self.proc.poll() is not None:
                raise AssertionError(f"service exited ({self.proc.returncode}):\n{self.logs()}")
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}\n{self.logs()[-4000:]}")

    def logs(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()

    def log_messages(self) -> list[str]:
        out = []
        for line in self.logs().splitlines():
            try:
                out.append(json.loads(line)["message"])
            except (ValueError, KeyError):
                pass
        return out

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        finally:
            self.log.close()


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(ROOT / "rules" / "pompeo-trip.yaml", folder)
    return folder


def _feed(http_server, stories):  # type: ignore[no-untyped-def]
    items = []
    for i, (title, paras, published) in enumerate(stories):
        path = f"/s/{i}.html"
        http_server.route(path, Reply(body=article_page(title, paras, published)))
        items.append({"title": title, "link": http_server.url(path), "published": published})
    return http_server.route("/feed.rss", Reply(body=rss(items),
                                                content_type="application/rss+xml"))


def test_health_metrics_and_sighup_reload(http_server, tmp_path, rules_copy):
    feed = _feed(http_server, [POMPEO_NEW])
    port = free_port()
    with SlackStandIn() as slack:
        cfg = write_config(tmp_path, feeds=[feed], slack_base_url=slack.base_url,
                           rules=rules_copy,
                           extra=f'[http]\nlisten = "127.0.0.1:{port}"\n[schedule]\ninterval = 1')
        svc = Service(cfg, port)
        try:
            svc.wait_for(lambda: len(slack.messages) == 1, what="the Pompeo alert")
            svc.wait_for(lambda: svc.get("/healthz")[0] == 200, what="healthy")
            svc.wait_for(lambda: "watcher_alerts_sent_total 1.0" in svc.get("/metrics")[1],
                         what="alert metric")
            _, metrics = svc.get("/metrics")
            for name in ("watcher_feeds_polled_total", "watcher_feeds_failed_total",
                         "watcher_articles_extracted_total", "watcher_findings_total",
                         "watcher_alerts_failed_total", "watcher_alerts_pending",
                         "watcher_cycle_duration_seconds_bucket",
                         "watcher_last_successful_cycle_timestamp_seconds"):
                assert name in metrics, name
            assert 'watcher_findings_total{kind="new",rule="pompeo-trip"} 1.0' in metrics

            # An operator adds the summit rule and sends SIGHUP; a new summit story follows.
            shutil.copy(ROOT / "rules" / "summit-announcement.yaml", rules_copy)
            svc.proc.send_signal(signal.SIGHUP)
            svc.wait_for(lambda: any("summit-announcement" in m and "rules loaded" in m
                                     for m in svc.log_messages()), what="rule reload")
            _feed(http_server, [POMPEO_NEW, SUMMIT_NEW])
            svc.wait_for(lambda: len(slack.messages) == 2, what="the summit alert")
            assert "summit-announcement" in json.dumps(slack.messages[1]["blocks"])

            # A broken edit is rejected; the last good version stays live.
            (rules_copy / "summit-announcement.yaml").write_text("id: [unclosed\n")
            svc.proc.send_signal(signal.SIGHUP)
            svc.wait_for(lambda: any("rejected" in m for m in svc.log_messages()),
                         what="rejection logged")
            assert svc.proc.poll() is None
        finally:
            code = svc.stop()
    assert code == 0, svc.logs()[-3000:]


def test_sigterm_mid_cycle_exits_cleanly_and_the_next_start_finishes_the_work(
        http_server, tmp_path):
    stories = []
    for n in range(8):  # eight distinct Pompeo trips, each page slow to arrive
        title = f"Pompeo to visit capital number {n}"
        stories.append((title, [f"Secretary of State Mike Pompeo will travel to "
                                f"{['Tokyo', 'Seoul', 'Beijing', 'Hanoi', 'Jakarta', 'Manila', 'Canberra', 'New Delhi'][n]} "
                                f"on October {n + 10}, the State Department said on Monday."],
                        datetime(2018, 10, 1, 9, 0, tzinfo=UTC)))
    items = []
    for i, (title, paras, published) in enumerate(stories):
        path = f"/slow/{i}.html"
        http_server.route(path, Reply(body=article_page(title, paras, published), delay=1.0))
        items.append({"title": title, "link": http_server.url(path), "published": published})
    feed = http_server.route("/feed.rss", Reply(body=rss(items),
                                                content_type="application/rss+xml"))
    port = free_port()
    with SlackStandIn() as slack:
        cfg = write_config(tmp_path, feeds=[feed], slack_base_url=slack.base_url,
                           slack_extra="digest_after = 0",
                           extra=f'[http]\nlisten = "127.0.0.1:{port}"')
        svc = Service(cfg, port)
        svc.wait_for(lambda: http_server.hits("/slow/0.html") > 0, what="page fetches")
        started = time.monotonic()
        code = svc.stop()  # SIGTERM while pages are in flight
        assert code == 0, svc.logs()[-3000:]
        assert time.monotonic() - started < 45  # the grace period (30 s) plus start-up slack
        first_run = len(slack.messages)

        env = {**os.environ, **ENV}
        done = subprocess.run([sys.executable, "-m", "watcher.cli", "run", "--once", "--config",
                               str(cfg)], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        urls = [json.dumps(m["blocks"]) for m in slack.messages]
    assert len(slack.messages) == 8, f"{first_run} in the first run; {urls}"
    for i in range(8):
        assert sum(http_server.url(f"/slow/{i}.html") in u for u in urls) == 1


def test_unreachable_database_makes_healthz_say_so(tmp_path):
    port = free_port()
    dead = free_port()  # nothing listens there
    cfg = write_config(tmp_path, feeds=[],
                       db_url=f"postgresql+psycopg://postgres@127.0.0.1:{dead}/test",
                       extra=f'[http]\nlisten = "127.0.0.1:{port}"')
    svc = Service(cfg, port)
    try:
        svc.wait_for(lambda: svc.get("/healthz")[0] == 503, what="503")
        status, body = svc.get("/healthz")
        assert status == 503 and "database unreachable" in body
    finally:
        assert svc.stop() == 0


def test_status_command_shows_feeds_alerts_and_rules(http_server, tmp_path, rules_copy):
    from tests.conftest import run_watcher

    feed = _feed(http_server, [POMPEO_NEW])
    broken = http_server.route("/broken.rss", Reply(status=404))
    (rules_copy / "bad.yaml").write_text("id: bad\nunknown_key: 1\n")
    cfg = write_config(tmp_path, feeds=[feed, broken], rules=rules_copy)
    assert run_watcher("run", "--once", "--config", str(cfg)).returncode == 0
    out = run_watcher("status", "--config", str(cfg))
    assert out.returncode == 1  # a rule file is rejected
    assert "feeds      2: 1 ok, 1 failing, 0 disabled" in out.stdout
    assert "1 sent" in out.stdout
    assert "pompeo-trip" in out.stdout and "bad.yaml" in out.stdout
