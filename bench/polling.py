"""Polling, end to end: `watcher run --once` with its database, against rss2email.

    .venv/bin/python bench/polling.py [--feeds 1000] [--items 50] [--no-postgres]
        [--pg-url URL] [--profile DIR] [--keep]

What it measures: the wall time of the real command `watcher run --once --config <toml>`, run
as a subprocess (migrations, rule and baseline loading, polling, page fetches, extraction,
matching, the database, delivery to a Slack stand-in, exit), from the moment the process is
started to its exit. Two situations, printed as two rows:

1. **cycle where nothing changed**: a second `run --once` on the same database; every feed
   answers 304 to its ETag; watcher must parse none of them. Compared with `r2e run --no-send`
   (rss2email, Debian package `rss2email`) polling the same feeds in the same run, also its
   second run.
2. **first sight**: the first `run --once` on an empty database: FEEDS x ITEMS new entries,
   as many page requests, FEEDS x 5 real article pages extracted; on SQLite, and the same on
   PostgreSQL. Compared with rss2email's own first run (which fetches no pages). Also the time
   from the start of the command to the first alert arriving at the Slack stand-in.

Set-up (all in a temporary directory, removed at the end unless --keep):

- FEEDS RSS feeds of ITEMS items each, served as static files with an ETag by nginx (Debian's,
  when installed; it answers If-None-Match with 304) or else by the test server
  (tests/httpserver.py, which does the same). Item dates are recent: the newest about half an
  hour old, then one hour apart.
- Each feed's 5 newest items link to real article pages: the 181 pages of
  ../shared/corpora/article-extraction-benchmark/html, cycled, so the FEEDS x 5 distinct URLs
  serve the same pages again and again (watcher's near-duplicate check sees reprints; that is
  part of what is measured). Without the corpus, generated article HTML is used and the output
  says so. The other items' pages answer 404 (watcher then matches the feed's own text).
- In up to 5 feeds spread over the list, the newest item is instead a short article about a
  development the shipped rules (rules/) alert on and the seeds (seeds/) do not know (a missile
  launch, a Pompeo trip, a Trump-Kim summit, dated relative to now), so that alerts happen;
  the rest of those feeds is as above (they keep 5 real pages).
- watcher.toml: SQLite in the temporary directory (or PostgreSQL, a scratch database created
  and dropped by the bench), the repo's rules/ and seeds/, [fetch] allow_private_addresses,
  [fetch] max_per_host = 8 (every feed and page is on one loopback host: the default of 2
  would measure the limit, not the pipeline), [schedule] interval = 3600 (so one run polls each
  feed once), and [slack] base_url pointing at tests/slack_standin.py run in this process
  (SLACK_BOT_TOKEN=xoxb-bench). Before the unchanged cycle the bench sets every feed's
  next_check_at to NULL in the database: as if the interval had passed.
- rss2email gets its own config and data file, the same feeds, `r2e run --no-send` (and
  `sendmail = /bin/false` besides): it polls serially and fetches no pages.

Order: server; r2e first run; watcher first sight (SQLite); watcher unchanged cycle (SQLite);
r2e unchanged run; watcher first sight (PostgreSQL); watcher unchanged cycle (PostgreSQL).

Counts come from watcher's database after its first run (entries by state and status, articles,
findings, alerts), from its "cycle done" log line (feeds parsed) and from the web server's
access log (requests by kind and status). Figures are printed next to their targets with PASS
or FAIL; nothing is asserted. With --profile DIR and py-spy installed, each watcher run is
recorded (`py-spy record --format raw --subprocesses`) into DIR and the busiest functions are
printed.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text

from tests.slack_standin import SlackStandIn

CORPUS = ROOT.parent / "shared" / "corpora" / "article-extraction-benchmark" / "html"
REAL_PER_FEED = 5
MAX_ALERT_FEEDS = 5
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/watcher_bench"
CYCLE_DONE = re.compile(r"cycle done: (\d+) feeds polled \((\d+) failed, (\d+) parsed\), "
                        r"(\d+) new entries, (\d+) articles \((?:\d+ from the feed's text, )?"
                        r"(\d+) unreadable\)")
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])

# --- the site: feeds and pages ------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    title: str
    body: bytes


@dataclass(frozen=True)
class Story:
    """A short article about a development the shipped rules alert on."""

    rule: str
    title: str
    text: str
    published: datetime


@dataclass
class Site:
    root: Path
    base_url: str
    feed_urls: list[str]
    real_pages: int
    alert_pages: int
    missing_pages: int
    corpus_note: str
    files: dict[str, Path] = field(default_factory=dict)  # URL path -> file (the test server)


def load_corpus() -> tuple[list[Page], str]:
    """The extraction benchmark's real pages, or generated ones when the corpus is absent."""
    files = sorted(CORPUS.glob("*.html.gz")) if CORPUS.is_dir() else []
    if files:
        pages = []
        for f in files:
            body = gzip.decompress(f.read_bytes())
            m = re.search(rb"<title[^>]*>(.*?)</title>", body, re.S | re.I)
            title = " ".join(html.unescape(m.group(1).decode("utf-8", "replace")).split()) \
                if m else ""
            pages.append(Page(title[:150] or f.stem[:12], body))
        return pages, f"{len(pages)} real pages from {CORPUS}, cycled (pages repeat)"
    words = ["harbour", "council", "budget", "rail", "line", "school", "district", "water",
             "board", "survey", "report", "minister", "weather", "season", "market", "growth",
             "river", "bridge", "museum", "festival"]
    pages = []
    for k in range(50):
        paras = "".join(
            f"<p>{' '.join(words[(k * 7 + p * 3 + w) % len(words)] for w in range(60))}.</p>"
            for p in range(8))
        title = f"Generated article {k}"
        pages.append(Page(title, (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
                                  f"{title}</title></head><body><article><h1>{title}</h1>"
                                  f"{paras}</article></body></html>").encode()))
    return pages, f"corpus not found at {CORPUS}: 50 generated article pages, cycled"


def stories(now: datetime) -> list[Story]:
    """Developments the shipped rules report as new, dated relative to ``now``; the seeds
    (2018-2020) know none of them. Checked with `watcher rules test` on the same texts."""
    day = now.date()
    yesterday = (now - timedelta(days=1)).strftime("%A")
    start, end = day + timedelta(days=6), day + timedelta(days=9)
    summit_month = datetime(day.year + (day.month + 2) // 12, (day.month + 2) % 12 + 1, 1)
    return [
        Story("nk-missile-test", "North Korea fires ICBM, Japan issues evacuation alert",
              f"North Korea fired an intercontinental ballistic missile on {now:%A} morning, "
              "South Korea's military said, prompting Japan to tell residents in three "
              "prefectures to take shelter.", now - timedelta(minutes=10)),
        Story("pompeo-trip", "Pompeo to visit Malaysia, Singapore and Indonesia",
              f"Secretary of State Mike Pompeo will travel to Kuala Lumpur, Singapore and Jakarta "
              f"from {start:%B} {start.day} to {end:%B} {end.day}, the State Department said "
              f"on {now:%A}.", now - timedelta(minutes=35)),
        Story("summit-announcement", "Trump and Kim to meet in Ulaanbaatar",
              "President Trump and North Korean leader Kim Jong Un will hold a summit in "
              f"Ulaanbaatar, Mongolia, in the second week of {summit_month:%B}, the White House "
              f"said on {now:%A}.", now - timedelta(minutes=60)),
        Story("nk-missile-test", "North Korea fires two short-range ballistic missiles",
              "North Korea fired two short-range ballistic missiles toward the sea off its east "
              f"coast on {yesterday}, South Korea's Joint Chiefs of Staff said.",
              now - timedelta(minutes=85)),
        Story("pompeo-trip", "Pompeo heads to Asia",
              f"Mike Pompeo leaves {(now + timedelta(days=3)):%A} for Bangkok, where he will "
              "attend meetings of Southeast Asian foreign ministers.",
              now - timedelta(minutes=110)),
    ]


def story_page(s: Story) -> bytes:
    iso = s.published.isoformat(timespec="seconds")
    esc = html.escape
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{esc(s.title)} | Bench Wire</title>"
            f'<meta property="article:published_time" content="{iso}"></head><body>'
            f"<header><nav><a href='/'>Home</a> | <a href='/world'>World</a></nav></header>"
            f"<article><h1>{esc(s.title)}</h1>"
            f'<p class="byline">By Bench Wire staff, <time datetime="{iso}">'
            f"{s.published:%d %B %Y %H:%M} UTC</time></p><p>{esc(s.text)}</p>"
            "<p>The report could not be independently verified. Officials declined to give "
            "further details, and more information is expected later in the day.</p>"
            "<p>This is a developing story and will be updated.</p></article>"
            "<footer>Copyright Bench Wire</footer></body></html>").encode()


def _item(title: str, link: str, guid: str, when: datetime, summary: str) -> str:
    esc = html.escape
    return (f"<item><title>{esc(title)}</title><link>{esc(link)}</link>"
            f'<guid isPermaLink="false">{guid}</guid><pubDate>{format_datetime(when)}</pubDate>'
            f"<description>{esc(summary)}</description></item>")


def build_site(root: Path, base_url: str, feeds: int, items: int, now: datetime) -> Site:
    """Write feeds/, pages/ and corpus/ under ``root``; links point at ``base_url``."""
    corpus, note = load_corpus()
    for d in ("feeds", "pages/a", "pages/alert", "corpus"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for k, page in enumerate(corpus):
        (root / "corpus" / f"{k}.html").write_bytes(page.body)
    news = stories(now)[:min(MAX_ALERT_FEEDS, feeds)]
    alert_feeds = {i * feeds // len(news) + feeds // (2 * len(news)): s
                   for i, s in enumerate(news)} if news else {}
    site = Site(root, base_url, [], 0, 0, 0, note)
    real = 0
    for f in range(feeds):
        parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
                 f"<title>Bench outlet {f}</title><link>{base_url}/</link>"
                 f"<description>Bench feed {f}</description>"]
        story = alert_feeds.get(f)
        first = 0
        if story is not None:
            path = f"/pages/alert/{f}.html"
            (root / path[1:]).write_bytes(story_page(story))
            site.files[path] = root / path[1:]
            parts.append(_item(story.title, base_url + path, f"bench-{f}-alert", story.published,
                               story.text))
            site.alert_pages += 1
            first = 1
        for n in range(first, items):
            when = now - timedelta(minutes=30 + 60 * n, seconds=f)
            if n < first + REAL_PER_FEED:
                page = corpus[real % len(corpus)]
                path = f"/pages/a/{real}.html"
                (root / path[1:]).symlink_to(root / "corpus" / f"{real % len(corpus)}.html")
                site.files[path] = root / "corpus" / f"{real % len(corpus)}.html"
                title, summary = page.title, f"{page.title}. Read the full article."
                real += 1
                site.real_pages += 1
            else:
                path = f"/pages/x/{f}-{n}.html"  # no such file: 404
                title = f"Story {n} of outlet {f}: port strike enters day {n % 30}"
                summary = (f"Dock workers at terminal {n} walked out, unions said, as talks "
                           f"over pay stalled for the {n}th time.")
                site.missing_pages += 1
            parts.append(_item(title, base_url + path, f"bench-{f}-{n}", when, summary))
        parts.append("</channel></rss>")
        path = f"/feeds/{f}.xml"
        (root / path[1:]).write_text("".join(parts), encoding="utf-8")
        site.files[path] = root / path[1:]
        site.feed_urls.append(base_url + path)
    return site


# --- web servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")
        time.sleep(0.05)


class Requests:
    """Requests served, by kind (feed, page/a, page/alert, page/x) and status."""

    def __init__(self) -> None:
        self.mark: Any = 0

    def since_mark(self) -> Counter[tuple[str, int]]:
        raise NotImplementedError

    @staticmethod
    def kind(path: str) -> str:
        if path.startswith("/feeds/"):
            return "feed"
        return "page/" + path.split("/")[2] if path.startswith("/pages/") else "other"


class NginxRequests(Requests):
    def __init__(self, log: Path) -> None:
        super().__init__()
        self.log = log

    def reset(self) -> None:
        self.mark = self.log.stat().st_size if self.log.exists() else 0

    def since_mark(self) -> Counter[tuple[str, int]]:
        out: Counter[tuple[str, int]] = Counter()
        with open(self.log, "rb") as fh:
            fh.seek(self.mark)
            for line in fh:
                status, _, path = line.decode("utf-8", "replace").strip().partition(" ")
                out[(self.kind(path), int(status))] += 1
        return out


@contextlib.contextmanager
def nginx(exe: str, tmp: Path, site: Path, port: int) -> Iterator[NginxRequests]:
    conf = tmp / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""  # else workers run as nobody
    temp = tmp / "nginx-temp"
    temp.mkdir()
    conf.write_text(f"""{user}worker_processes 2;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    types {{ text/html html; application/rss+xml xml; }}
    default_type application/octet-stream;
    log_format bench '$status $uri';
    access_log {tmp}/nginx-access.log bench;
    sendfile on;
    keepalive_requests 100000;
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi; uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {site};
        log_not_found off;  # 45 of 50 pages are missing: no error line for each
        location / {{ }}
    }}
}}
""")
    proc = subprocess.Popen([exe, "-p", str(tmp), "-e", str(tmp / "nginx-error.log"),
                             "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=open(tmp / "nginx-stderr.log", "wb"))  # noqa: SIM115
    try:
        wait_port(port)
        reqs = NginxRequests(tmp / "nginx-access.log")
        yield reqs
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful stop
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class TestServerRequests(Requests):
    def __init__(self, server: Any) -> None:
        super().__init__()
        self.server = server

    def reset(self) -> None:
        self.mark = len(self.server.requests)

    def since_mark(self) -> Counter[tuple[str, int]]:
        out: Counter[tuple[str, int]] = Counter()
        for req in self.server.requests[self.mark:]:
            path = req.path.split("?", 1)[0]
            route = self.server.routes.get(path)
            if route is None:
                status = 404
            else:
                status = 304 if req.headers.get("if-none-match") == route.etag else 200
            out[(self.kind(path), status)] += 1
        return out


@contextlib.contextmanager
def test_server() -> Iterator[Any]:
    from tests.httpserver import serve

    with serve() as server:
        yield server


def route_site(server: Any, site: Site) -> None:
    import hashlib

    from tests.httpserver import Reply

    cache: dict[Path, Any] = {}
    for path, file in site.files.items():
        if file not in cache:
            body = file.read_bytes()
            ctype = "application/rss+xml" if path.endswith(".xml") else "text/html"
            cache[file] = Reply(body=body, content_type=ctype,
                                etag=f'"{hashlib.sha256(body).hexdigest()[:16]}"')
        server.route(path, cache[file])


# --- watcher -----------------------------------------------------------------------------------


class TimedSlack(SlackStandIn):
    """The Slack stand-in, noting when each chat.postMessage arrived (monotonic)."""

    def __init__(self) -> None:
        super().__init__()
        self.post_times: list[float] = []

    def _post(self, p: dict[str, Any]) -> dict[str, Any]:
        out = super()._post(p)
        if out.get("ok"):
            with self.lock:
                self.post_times.append(time.monotonic())
        return out


@dataclass
class Run:
    name: str
    wall: float
    code: int
    polled: int | None = None
    failed: int | None = None
    parsed: int | None = None
    new_entries: int | None = None
    articles: int | None = None
    first_alert: float | None = None
    posts: int = 0
    requests: Counter[tuple[str, int]] = field(default_factory=Counter)


def write_config(path: Path, db_url: str, slack_url: str, feed_urls: list[str]) -> None:
    feeds = "".join(f'\n[[feeds]]\nurl = "{u}"\n' for u in feed_urls)
    path.write_text(f"""# written by bench/polling.py
[database]
url = "{db_url}"

[slack]
channel = "#bench-alerts"
base_url = "{slack_url}"

[rules]
path = "{ROOT / 'rules'}"

[baseline]
path = "{ROOT / 'seeds'}"

[fetch]
allow_private_addresses = true
max_per_host = 8

[schedule]
interval = 3600

[log]
level = "INFO"
format = "human"
{feeds}""", encoding="utf-8")


def py_spy() -> str | None:
    return shutil.which("py-spy", path=os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


def run_watcher(name: str, config: Path, tmp: Path, slack: TimedSlack, reqs: Requests,
                profile: Path | None) -> Run:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SLACK_WEBHOOK_URL", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET",
                        "WATCHER_CONFIG")}
    env["SLACK_BOT_TOKEN"] = "xoxb-bench"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-c", "import sys; from watcher.cli import main; sys.exit(main())",
           "--log-level", "INFO", "--log-format", "human", "run", "--once",
           "--config", str(config)]
    spy = py_spy() if profile else None
    if profile and spy:
        profile.mkdir(parents=True, exist_ok=True)
        cmd = [spy, "record", "--format", "raw", "--subprocesses", "--rate", "50",
               "-o", str(profile / f"{name}.txt"), "--"] + cmd
    log = tmp / f"{name}.log"
    reqs.reset()
    posts_before = len(slack.post_times)
    start = time.monotonic()
    with open(log, "wb") as out:
        code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                              cwd=tmp).returncode
    wall = time.monotonic() - start
    run = Run(name, wall, code, requests=reqs.since_mark())
    with slack.lock:
        times = slack.post_times[posts_before:]
    run.posts = len(times)
    run.first_alert = times[0] - start if times else None
    done = CYCLE_DONE.findall(log.read_text("utf-8", "replace"))
    if done:
        (run.polled, run.failed, run.parsed, run.new_entries, run.articles) = (
            int(v) for v in done[-1][:5])
    else:
        print(f"  ({name}: no 'cycle done' line in {log}; exit code {code})")
    return run


def show_run(run: Run) -> None:
    served = ", ".join(f"{k} {s}: {n}" for (k, s), n in sorted(run.requests.items()))
    first = f"{run.first_alert:.1f} s" if run.first_alert is not None else "none"
    print(f"  {run.name}: {run.wall:.1f} s, exit {run.code}; feeds polled {run.polled}, "
          f"failed {run.failed}, parsed {run.parsed}; new entries {run.new_entries}, "
          f"articles {run.articles}; Slack posts {run.posts}, first at {first}")
    print(f"    served: {served or 'nothing'}")


def mark_feeds_due(db_url: str) -> None:
    """As if [schedule] interval had passed: every feed is due for its next poll."""
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE feeds SET next_check_at = NULL"))
    finally:
        engine.dispose()


def db_counts(db_url: str) -> dict[str, Any]:
    engine = create_engine(db_url)
    q = {
        "entries": "SELECT count(*) FROM entries",
        "real_ok": "SELECT count(*) FROM entries WHERE link LIKE '%/pages/a/%' "
                   "AND state = 'done' AND status = 'ok'",
        "alert_ok": "SELECT count(*) FROM entries WHERE link LIKE '%/pages/alert/%' "
                    "AND state = 'done' AND status = 'ok'",
        "articles": "SELECT count(*) FROM articles WHERE origin = 'feed'",
        "reprints": "SELECT count(*) FROM articles WHERE origin = 'feed' "
                    "AND duplicate_of IS NOT NULL",
    }
    try:
        with engine.connect() as conn:
            out: dict[str, Any] = {k: conn.execute(text(v)).scalar_one() for k, v in q.items()}
            out["by_status"] = dict(conn.execute(text(
                "SELECT state || ' ' || coalesce(status, '-'), count(*) FROM entries "
                "GROUP BY 1 ORDER BY 2 DESC")).all())
            out["findings"] = dict(conn.execute(text(
                "SELECT rule_id || ' ' || kind, count(*) FROM findings "
                "WHERE origin = 'article' GROUP BY 1 ORDER BY 1")).all())
            out["alerts"] = dict(conn.execute(text(
                "SELECT state, count(*) FROM alerts GROUP BY 1 ORDER BY 1")).all())
    finally:
        engine.dispose()
    return out


def show_counts(c: dict[str, Any], site: Site) -> None:
    states = ", ".join(f"{k}: {n}" for k, n in c["by_status"].items())
    print(f"  database: {c['entries']} entries ({states})")
    print(f"    real article pages extracted: {c['real_ok']} of {site.real_pages}; alert pages "
          f"extracted: {c['alert_ok']} of {site.alert_pages}; articles stored {c['articles']} "
          f"({c['reprints']} marked as reprints)")
    print(f"    findings: {c['findings'] or 'none'}; alerts: {c['alerts'] or 'none'}")


# --- PostgreSQL --------------------------------------------------------------------------------


def pg_admin(url: str, statement: str) -> None:
    """Run CREATE/DROP DATABASE through the server's `postgres` database."""
    from sqlalchemy.engine import make_url

    admin = make_url(url).set(database="postgres")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


# --- rss2email ---------------------------------------------------------------------------------


def r2e_setup(exe: str, home: Path, feed_urls: list[str]) -> tuple[Path, Path]:
    """rss2email's own config and data, written as `r2e new` and `r2e add` would."""
    cfg, data = home / "rss2email.cfg", home / "rss2email.json"
    subprocess.run([exe, "-c", str(cfg), "-d", str(data), "new", "bench@example.invalid"],
                   check=True, capture_output=True)
    with open(cfg, "a", encoding="utf-8") as fh:
        fh.write("".join(f"\n[feed.f{i}]\nurl = {u}\n" for i, u in enumerate(feed_urls)))
    text_ = cfg.read_text(encoding="utf-8")  # never mail: sendmail is /bin/false
    text_ = re.sub(r"(?m)^sendmail = .*$", "sendmail = /bin/false", text_, count=1)
    text_ = re.sub(r"(?m)^email-protocol = .*$", "email-protocol = sendmail", text_, count=1)
    cfg.write_text(text_, encoding="utf-8")
    data.write_text(json.dumps({"version": 2, "feeds": [
        {"name": f"f{i}", "etag": None, "modified": None, "seen": {}}
        for i in range(len(feed_urls))]}, indent=2), encoding="utf-8")
    return cfg, data


def r2e_run(name: str, exe: str, cfg: Path, data: Path, tmp: Path, reqs: Requests) -> Run:
    log = tmp / f"{name}.log"
    reqs.reset()
    start = time.monotonic()
    with open(log, "wb") as out:
        code = subprocess.run([exe, "-c", str(cfg), "-d", str(data), "run", "--no-send"],
                              stdout=out, stderr=subprocess.STDOUT, cwd=tmp).returncode
    wall = time.monotonic() - start
    run = Run(name, wall, code, requests=reqs.since_mark())
    feeds = json.loads(data.read_text(encoding="utf-8"))["feeds"]
    run.new_entries = sum(len(f.get("seen") or {}) for f in feeds)
    return run


def show_r2e(run: Run) -> None:
    served = ", ".join(f"{k} {s}: {n}" for (k, s), n in sorted(run.requests.items()))
    print(f"  {run.name}: {run.wall:.1f} s, exit {run.code}; entries seen in its data file "
          f"{run.new_entries}; served: {served or 'nothing'}")


# --- profile -----------------------------------------------------------------------------------


def summarise_profile(path: Path, top: int = 12) -> None:
    """Busiest functions of a py-spy raw (collapsed stacks) file: own and inclusive samples."""
    if not path.exists():
        print(f"  (no profile at {path})")
        return
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in path.read_text("utf-8", "replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        count = int(n)
        total += count
        stack = re.sub(r'^process \d+:"[^"]*";?', "", stack)  # its command line has ';'
        frames = [re.sub(r" \((.*?):\d+\)$", r" (\1)", fr) for fr in stack.split(";") if fr]
        own[frames[-1] if frames else "(no Python frame)"] += count
        for fr in set(frames):
            if "watcher/" in fr or "sqlalchemy" in fr:
                incl[fr] += count
    if not total:
        print(f"  (empty profile {path})")
        return
    print(f"  {path.name}: {total} samples; own time:")
    for fr, n in own.most_common(top):
        print(f"    {100 * n / total:5.1f}%  {fr[:110]}")
    print("  inclusive (watcher, SQLAlchemy):")
    for fr, n in incl.most_common(top):
        print(f"    {100 * n / total:5.1f}%  {fr[:110]}")


# --- main --------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--items", type=int, default=50, help="items per feed (at least 6)")
    ap.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL run")
    ap.add_argument("--pg-url", default=PG_URL,
                    help="scratch database, created and dropped (default: %(default)s)")
    ap.add_argument("--server", choices=["auto", "nginx", "test"], default="auto",
                    help="auto: nginx when installed, else tests/httpserver.py")
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="record each watcher run with py-spy into DIR and summarise it")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    if args.items < REAL_PER_FEED + 1:
        ap.error(f"--items must be at least {REAL_PER_FEED + 1}")

    nginx_exe = shutil.which("nginx", path=SBIN_PATH) if args.server != "test" else None
    if args.server == "nginx" and not nginx_exe:
        ap.error("nginx not found")
    r2e = shutil.which("r2e", path=SBIN_PATH)
    tmp = Path(tempfile.mkdtemp(prefix="watcher-polling-"))
    now = datetime.now(UTC).replace(microsecond=0)
    runs: dict[str, Run] = {}
    counts: dict[str, dict[str, Any]] = {}
    try:
        with contextlib.ExitStack() as stack:
            site_dir = tmp / "site"
            site_dir.mkdir()
            if nginx_exe:
                port = free_port()
                base = f"http://127.0.0.1:{port}"
                site = build_site(site_dir, base, args.feeds, args.items, now)
                reqs: Requests = stack.enter_context(nginx(nginx_exe, tmp, site_dir, port))
                server_note = f"nginx ({nginx_exe}) on 127.0.0.1:{port}, 2 worker processes"
            else:
                server = stack.enter_context(test_server())
                site = build_site(site_dir, server.url("").rstrip("/"), args.feeds, args.items,
                                  now)
                route_site(server, site)
                reqs = TestServerRequests(server)
                server_note = "tests/httpserver.py (nginx not found)"
            slack = stack.enter_context(TimedSlack())
            total = args.feeds * args.items
            print(f"{args.feeds} feeds x {args.items} items = {total:,} entries: "
                  f"{site.real_pages:,} real article pages, {site.alert_pages} alert pages, "
                  f"{site.missing_pages:,} pages that answer 404")
            print(f"pages: {site.corpus_note}")
            print(f"server: {server_note}; temporary directory {tmp}")
            print(f"watcher: `watcher run --once` of the checkout {ROOT} ({sys.executable})")

            if r2e:
                r2e_home = tmp / "rss2email"
                r2e_home.mkdir()
                cfg, data = r2e_setup(r2e, r2e_home, site.feed_urls)
                print(f"rss2email: {r2e} (r2e run --no-send)")
                runs["r2e first"] = r2e_run("r2e-first", r2e, cfg, data, tmp, reqs)
                show_r2e(runs["r2e first"])
            else:
                print("rss2email not installed: no ratios")

            sqlite_url = f"sqlite:///{tmp / 'watcher.db'}"
            config = tmp / "watcher.toml"
            write_config(config, sqlite_url, slack.base_url, site.feed_urls)
            print("SQLite:")
            runs["first"] = run_watcher("watcher-first-sqlite", config, tmp, slack, reqs,
                                        args.profile)
            show_run(runs["first"])
            counts["sqlite"] = db_counts(sqlite_url)
            show_counts(counts["sqlite"], site)
            mark_feeds_due(sqlite_url)
            runs["unchanged"] = run_watcher("watcher-unchanged-sqlite", config, tmp, slack, reqs,
                                            args.profile)
            show_run(runs["unchanged"])

            if r2e:
                runs["r2e unchanged"] = r2e_run("r2e-unchanged", r2e, cfg, data, tmp, reqs)
                show_r2e(runs["r2e unchanged"])

            if not args.no_postgres:
                pg_first_sight(args.pg_url, tmp, site, slack, reqs, args.profile, runs, counts)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    if args.profile:
        if py_spy():
            for f in sorted(args.profile.glob("*.txt")):
                summarise_profile(f)
        else:
            print("--profile: py-spy not installed (pip install py-spy); no profile")
    print_table(args, site, runs, counts)
    return 0


def pg_first_sight(url: str, tmp: Path, site: Site, slack: TimedSlack, reqs: Requests,
                   profile: Path | None, runs: dict[str, Run],
                   counts: dict[str, dict[str, Any]]) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    try:
        pg_admin(url, f'DROP DATABASE IF EXISTS "{name}"')
        pg_admin(url, f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - a bench: say why and go on
        print(f"PostgreSQL not available ({type(exc).__name__}: {exc}); no PostgreSQL run")
        return
    try:
        config = tmp / "watcher-pg.toml"
        write_config(config, url, slack.base_url, site.feed_urls)
        print(f"PostgreSQL ({make_url(url).render_as_string(hide_password=True)}):")
        runs["pg first"] = run_watcher("watcher-first-pg", config, tmp, slack, reqs, profile)
        show_run(runs["pg first"])
        counts["pg"] = db_counts(url)
        show_counts(counts["pg"], site)
        mark_feeds_due(url)
        runs["pg unchanged"] = run_watcher("watcher-unchanged-pg", config, tmp, slack, reqs,
                                           profile)
        show_run(runs["pg unchanged"])
    finally:
        pg_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def print_table(args: argparse.Namespace, site: Site, runs: dict[str, Run],
                counts: dict[str, dict[str, Any]]) -> None:
    first, unchanged = runs.get("first"), runs.get("unchanged")
    r2e_first, r2e_unchanged = runs.get("r2e first"), runs.get("r2e unchanged")
    pg = runs.get("pg first")
    total = args.feeds * args.items

    def ratio(a: Run | None, b: Run | None) -> float | None:
        return a.wall / b.wall if a and b and b.wall > 0 else None

    def secs(r: Run | None) -> str:
        return f"{r.wall:.1f} s" if r else "n/a"

    def x(v: float | None) -> str:
        return f"{v:.2f}x" if v is not None else "n/a"

    row1 = "cycle where nothing changed (run --once, ETag -> 304)"
    row2 = (f"first sight: {total:,} new entries, {total:,} page requests, "
            f"{site.real_pages:,} real articles extracted")
    print()
    print(f"== {args.feeds:,} feeds x {args.items} items; watcher `run --once` end to end ==")
    print()
    r1 = ratio(unchanged, r2e_unchanged)
    print(f"1. {row1}")
    print(f"   watcher {secs(unchanged)}; rss2email {secs(r2e_unchanged)} (same run); "
          f"watcher/rss2email {x(r1)}; feeds parsed by watcher: "
          f"{unchanged.parsed if unchanged else 'n/a'}")
    r2 = ratio(first, r2e_first)
    real = counts.get("sqlite", {}).get("real_ok")
    alert_at = first.first_alert if first else None
    pg_note = secs(pg) if pg else "not run"
    print(f"2. {row2}")
    print(f"   watcher {secs(first)} on SQLite; {x(r2)} rss2email's first run "
          f"({secs(r2e_first)}, no pages); {pg_note} on PostgreSQL; real articles extracted "
          f"{real if real is not None else 'n/a'} of {site.real_pages:,}"
          + (f" (PostgreSQL: {counts['pg']['real_ok']})" if "pg" in counts else "")
          + "; first alert at Slack "
          + (f"{alert_at:.1f} s after the start" if alert_at is not None else "never"))
    if pg and pg.first_alert is not None:
        print(f"   (PostgreSQL: first alert at Slack {pg.first_alert:.1f} s after the start)")
    print()
    print("targets:")
    if r1 is not None:
        print(f"  unchanged cycle <= 0.3x rss2email: {x(r1)}  {verdict(r1 <= 0.3)}")
    else:
        print("  unchanged cycle <= 0.3x rss2email: n/a (rss2email not run)")
    if unchanged:
        print(f"  unchanged cycle parses 0 feeds: {unchanged.parsed}  "
              f"{verdict(unchanged.parsed == 0)}")
    if first:
        print(f"  first sight <= 150 s (SQLite): {first.wall:.1f} s  "
              f"{verdict(first.wall <= 150)}")
    if pg:
        print(f"  first sight <= 150 s (PostgreSQL): {pg.wall:.1f} s  {verdict(pg.wall <= 150)}")
    if r2 is not None:
        print(f"  first sight <= 1.5x rss2email's first run: {x(r2)}  {verdict(r2 <= 1.5)}")
    if real is not None:
        print(f"  real articles extracted: {real} of {site.real_pages}  "
              f"{verdict(real == site.real_pages)}")
    if first:
        print("  first alert at Slack <= 15 s: "
              + (f"{alert_at:.1f} s  {verdict(alert_at <= 15)}" if alert_at is not None
                 else "no alert  FAIL"))


if __name__ == "__main__":
    raise SystemExit(main())
