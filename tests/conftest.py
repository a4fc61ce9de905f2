"""Shared fixtures: configs in a temporary folder, a fresh PostgreSQL database, HTML pages."""

from __future__ import annotations

import html
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from tests.httpserver import http_server  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PG_ADMIN_URL = os.environ.get("WATCHER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def write_config(folder: Path, *, feeds: list[str], slack_base_url: str = "http://127.0.0.1:9/api/",
                 db_url: str | None = None, channel: str = "#news-alerts",
                 rules: Path | None = None, baseline: Path | None = None,
                 slack_extra: str = "", extra: str = "") -> Path:
    """A watcher.toml for a test: fetches from 127.0.0.1 allowed, Slack pacing off."""
    db_url = db_url or f"sqlite:///{folder / 'watcher.db'}"
    lines = [
        "[database]", f'url = "{db_url}"',
        "[slack]", f'channel = "{channel}"', f'base_url = "{slack_base_url}"', "pace = 0", slack_extra,
        "[rules]", f'path = "{rules or ROOT / "rules"}"',
        "[baseline]", f'path = "{baseline or ROOT / "seeds"}"',
        "[fetch]", "allow_private_addresses = true", "timeout = 10.0",
        "extract_timeout = 30.0",
        extra,
    ]
    for url in feeds:
        lines += ["[[feeds]]", f'url = "{url}"']
    path = folder / "watcher.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_watcher(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
                cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real `watcher` command line in a subprocess."""
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "WATCHER_CONFIG")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "watcher.cli", *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout, cwd=cwd or ROOT)


def article_page(title: str, paragraphs: list[str], published: Any = None,
                 outlet: str = "Test Outlet") -> bytes:
    """A news page with boilerplate around the article, as trafilatura meets them."""
    date = f'<meta property="article:published_time" content="{published.isoformat()}">' \
        if published else ""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta property="og:site_name" content="{html.escape(outlet)}">{date}</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/asia">Asia</a></nav>
<article><h1>{html.escape(title)}</h1>{body}</article>
<footer><p>Copyright Test Outlet. All rights reserved.</p></footer></body></html>""".encode()


def rss(items: list[dict[str, Any]], title: str = "Test World News") -> bytes:
    out = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
           f"<title>{html.escape(title)}</title><link>http://example.test/</link>"
           f"<description>test</description>"]
    for it in items:
        pub = f"<pubDate>{format_datetime(it['published'])}</pubDate>" if it.get("published") else ""
        out.append(f"<item><title>{html.escape(it['title'])}</title>"
                   f"<link>{html.escape(it['link'])}</link><guid>{html.escape(it['link'])}</guid>"
                   f"<description>{html.escape(it.get('summary', ''))}</description>{pub}</item>")
    out.append("</channel></rss>")
    return "".join(out).encode()


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test",
                             connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards.

    Skips when no server answers on 127.0.0.1:5432, unless WATCHER_REQUIRE_POSTGRES=1 (CI),
    where that is a failure.
    """
    problem = _pg_available()
    if problem:
        if os.environ.get("WATCHER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required (WATCHER_REQUIRE_POSTGRES=1) but: {problem}")
        pytest.skip(f"no PostgreSQL server on 127.0.0.1:5432 ({problem})")
    import psycopg

    name = f"watcher_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
