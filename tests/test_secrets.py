"""Database passwords and Slack secrets: a %-escaped password works, and no secret reaches a
log line, /healthz, `watcher status`, an error message or the extraction worker."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import pytest

from tests.conftest import run_watcher, write_config
from tests.test_service import Service, free_port
from watcher import redact
from watcher.pagetext import ExtractorPool
from watcher.types import Article

PASSWORD = "s3cr!t#pw@x/y:z"  # ! # @ / : all need %-escaping in a URL
ENCODED = urllib.parse.quote(PASSWORD, safe="")


def _forms() -> list[str]:
    return [PASSWORD, ENCODED, ENCODED.lower(), "s3cr"]


def test_redact_hides_registered_secrets_and_url_passwords():
    redact.register_url(f"postgresql+psycopg://u:{ENCODED}@db.example/x")
    text = (f"failed: postgresql+psycopg://u:{ENCODED}@db.example/x and raw {PASSWORD} and "
            f"https://someone:hunter2@feeds.example/rss; mailto:a@b.example http://x/a:b@c")
    out = redact.redact(text)
    for secret in (PASSWORD, ENCODED, "hunter2"):
        assert secret not in out
    assert "postgresql+psycopg://u:***@db.example/x" in out
    assert "https://someone:***@feeds.example/rss;" in out
    assert "mailto:a@b.example" in out and "http://x/a:b@c" in out  # no password in those


def test_a_percent_escaped_password_migrates(pg_url, tmp_path):
    url = pg_url.replace("postgres@", f"postgres:{ENCODED}@")  # trust auth: any password
    cfg = write_config(tmp_path, feeds=[], db_url=url)
    migrated = run_watcher("migrate", "--config", str(cfg))
    assert migrated.returncode == 0, migrated.stderr
    assert "schema at revision" in migrated.stdout
    status = run_watcher("status", "--config", str(cfg))
    assert "postgres:***@127.0.0.1" in status.stdout
    for result in (migrated, status):
        for secret in _forms():
            assert secret not in result.stdout + result.stderr


def test_dead_database_password_is_in_neither_log_nor_healthz(tmp_path):
    port = free_port()
    url = f"postgresql+psycopg://watcher:{ENCODED}@127.0.0.1:{free_port()}/watcher"
    cfg = write_config(tmp_path, feeds=[], db_url=url,
                       extra=f'[http]\nlisten = "127.0.0.1:{port}"')
    svc = Service(cfg, port)
    bodies = []
    try:
        svc.wait_for(lambda: bodies.append(svc.get("/healthz")) or bodies[-1][0] == 503,
                     what="503")
        svc.wait_for(lambda: sum("start-up failed" in m for m in svc.log_messages()) >= 2,
                     what="two failed start-ups")
        bodies.append(svc.get("/healthz"))
        log = svc.logs()
    finally:
        assert svc.stop() == 0
    assert "start-up failed" in log and "connection" in log.lower()
    for secret in _forms():
        assert secret not in log
        assert all(secret not in body for _, body in bodies)
    once = run_watcher("run", "--once", "--config", str(cfg))
    assert once.returncode == 1 and "OperationalError" in once.stderr
    for secret in _forms():
        assert secret not in once.stdout + once.stderr


def test_healthz_says_503_while_start_up_fails(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "manifest.yaml").write_text("documents:\n  - file: missing.txt\n    published: 2019-01-01\n")
    port = free_port()
    cfg = write_config(tmp_path, feeds=[], baseline=seeds,
                       extra=f'[http]\nlisten = "127.0.0.1:{port}"')
    svc = Service(cfg, port)
    try:
        svc.wait_for(lambda: svc.get("/healthz")[0] == 503, what="503")
        status, body = svc.get("/healthz")
    finally:
        assert svc.stop() == 0
    assert status == 503 and body.startswith("start-up failed") and "missing.txt" in body


def _report_environment(html, url, fallback=None, content_type=None):  # type: ignore[no-untyped-def]
    """An extractor (run in the worker process) that reports the worker's environment."""
    names = sorted(k for k in os.environ if k.startswith("SLACK_"))
    return Article(url=url, title="env", text=" ".join(names) or "none", published=None)


def test_the_extraction_worker_runs_without_slack_secrets(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-not-for-workers")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.example/secret")
    with ExtractorPool(workers=1, extractor=_report_environment) as pool:
        result = pool.extract(b"<p>x</p>", "https://x.example/")  # starts the worker
        [worker] = pool._all
        environ = Path(f"/proc/{worker.process.pid}/environ").read_bytes()
    assert b"SLACK_" not in environ and b"xoxb-not-for-workers" not in environ
    assert result.article is not None and result.article.text == "none"
    assert os.environ["SLACK_BOT_TOKEN"] == "xoxb-not-for-workers"  # the service keeps it


@pytest.mark.parametrize("fmt", ["json", "human"])
def test_log_lines_hide_registered_secrets(tmp_path, fmt):
    cfg = write_config(tmp_path, feeds=[f"https://reader:{ENCODED}@feeds.invalid/rss"])
    result = run_watcher("run", "--once", "--log-format", fmt, "--config", str(cfg),
                         env={"SLACK_WEBHOOK_URL": "http://127.0.0.1:9/hook/T0/B0/whsecret"})
    assert result.returncode == 0, result.stderr
    assert "feeds.invalid" in result.stderr  # the failed feed is logged, its password is not
    for secret in [*_forms(), "whsecret"]:
        assert secret not in result.stdout + result.stderr
