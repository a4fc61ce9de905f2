"""Multi-worker scaling on PostgreSQL: end-to-end throughput for 1 and 2 `watcher run`
processes, and the latency from an item appearing in a feed to its Slack post.

    .venv/bin/python bench/scale.py [--feeds 50] [--items 20] [--workers 1,2]
                                    [--interval 5] [--latency-items 20] [--skip-latency]

Each measurement gets a fresh PostgreSQL database on 127.0.0.1:5432 (user postgres, admin
database ``test``, as tests/conftest.py; ``$WATCHER_TEST_PG`` overrides), dropped afterwards,
and its own HTTP server in a SEPARATE process (this file run with ``--serve``), so serving
pages does not compete with the harness for a GIL. The server serves ``--feeds`` RSS feeds
with ETags (304 on If-None-Match) and, once published, ``--items`` items each, whose links
are 5-20 KB news pages with boilerplate (navigation, "most read", scripts, footer) around
4-22 paragraphs of prose; every ``--pompeo-every``-th page announces a Pompeo trip to a
distinct (city, date) so the shipped rule fires and alerts. The Slack stand-in
(tests/slack_standin.py, wrapped to note each message's receive time) runs in this process.

Throughput, for each worker count K:
1. start K ``watcher run`` processes (config from ``tests.conftest.write_config``,
   ``SLACK_BOT_TOKEN=x``, ``WATCHER_WORKER_ID=bench-wN``, ``digest_after = 0``);
2. wait until every worker has logged ``rules loaded`` and every (still empty) feed has been
   polled once: start-up (imports, migration, baseline) is over;
3. publish the items and make every feed due (``UPDATE feeds SET next_check_at = now()``);
4. the clock starts when the server first hands out a feed WITH items (server side clock,
   same machine) and stops when every entry is ``done`` or ``failed`` (``entries`` polled
   every 0.1 s). Articles/s = entries / that time. Re-polls after the first are conditional
   GETs answered 304 (the feed is read once).

``--interval`` (default 5) is the feeds' ``[schedule] interval``. A worker joins a burst like
this one when it polls a due feed or is woken by another worker's new entries (PostgreSQL
NOTIFY), whichever comes first; how soon each did is reported ("first entry claimed at").
CPU seconds are read from /proc for each group of processes (worker main processes, their
extraction processes, PostgreSQL, the HTTP server, this harness, everything else) over the
timed window: the machine may be shared, and other processes' load skews the figures.
``--repeat N`` measures each worker count N times, alternating, and prints the ratio of each
round (its runs were made back to back, under the same conditions) with their median, and
the ratio of the best run of each count (the least disturbed ones); ``--quiet`` waits for an
idle machine before each run.

Latency: 2 workers, ``[schedule] interval = 10``, Slack ``pace = 1.0`` (the default; the
test config's 0 is replaced). Every ``--latency-gap`` seconds (plus jitter) one Pompeo item
(plus three filler items in other feeds) is added to a random feed; latency = stand-in receive
time of the message that links the item - the time the item was added.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("WATCHER_TEST_PG",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# --- content -----------------------------------------------------------------------------------

CITIES = ["Pyongyang", "Seoul", "Hanoi", "Bangkok", "Kuala Lumpur", "Jakarta", "Manila",
          "Phnom Penh", "Tokyo", "Osaka", "Beijing", "Shanghai", "Taipei", "Moscow", "New Delhi",
          "Islamabad", "Kabul", "Sydney", "Canberra", "Ottawa", "Mexico City", "Bogota",
          "Brasilia", "Buenos Aires", "Lima", "London", "Paris", "Berlin", "Rome", "Brussels",
          "Geneva", "Vienna", "Warsaw", "Budapest", "Kyiv", "Stockholm", "Helsinki", "Madrid",
          "Athens", "Ankara", "Jerusalem", "Riyadh", "Abu Dhabi", "Doha", "Baghdad", "Amman",
          "Cairo", "Beirut", "Muscat"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]

SUBJECTS = ["The regional council", "Local officials", "A spokeswoman for the port authority",
            "Union leaders", "The finance committee", "Residents of the northern district",
            "Analysts at the central bank", "The transport ministry", "Hospital administrators",
            "Farmers in the valley", "The city's mayor", "Teachers' representatives",
            "A group of engineers", "Shipping companies", "The energy regulator"]
VERBS = ["said on Tuesday that", "warned that", "argued in a statement that",
         "told reporters that", "confirmed late on Monday that", "insisted that",
         "acknowledged that", "wrote in a letter that", "estimated that", "predicted that"]
CLAUSES = ["the budget for road repairs would rise by nearly a fifth next year",
           "water levels in the reservoir had fallen to their lowest point in a decade",
           "the new rail link would cut travel times between the two towns by half",
           "talks over wages had stalled again after a long night of negotiations",
           "the harvest was expected to be smaller than last season because of the drought",
           "a review of safety rules at the chemical plant would be published within weeks",
           "the number of visitors to the old harbour had doubled since the museum reopened",
           "electricity prices for households would be frozen until the end of the winter",
           "plans for a second bridge across the river had been shelved for lack of money",
           "the school would stay closed until inspectors had checked the roof",
           "new housing on the former airfield could be ready for families within two years",
           "the strike at the container terminal had delayed more than forty ships",
           "the ageing fleet of buses would be replaced with electric models",
           "complaints about noise from the motorway had tripled in a single year"]
TAILS = ["Critics said the plan came too late.", "No date was given for a final decision.",
         "The figures will be reviewed again in the spring.",
         "Opposition members called for an independent inquiry.",
         "Officials declined to comment further on the details.",
         "A public meeting is planned for later this month.",
         "The proposal still needs the approval of the full assembly.",
         "Similar measures were tried a decade ago with mixed results."]


def paragraph(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(3, 5)):
        out.append(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(CLAUSES)}.")
        if rng.random() < 0.4:
            out.append(rng.choice(TAILS))
    return " ".join(out)


def page_html(title: str, paragraphs: list[str], published: datetime, outlet: str,
              rng: random.Random) -> bytes:
    """A news page as trafilatura meets them: boilerplate around the article."""
    nav = " ".join(f'<li><a href="/section/{s}">{s.title()}</a></li>' for s in
                   ("world", "politics", "business", "tech", "science", "health", "sport",
                    "culture", "opinion", "travel", "weather", "video", "podcasts", "local"))
    most_read = "".join(
        f'<li><a href="/story/{rng.randint(1, 10**6)}.html">'
        f"{html.escape(rng.choice(CLAUSES).capitalize())}</a></li>" for _ in range(10))
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    script = ("<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push("
              "arguments);}gtag('js',new Date());gtag('config','UA-000000-1');" +
              "var ads={slots:[" + ",".join(f"'slot-{i}'" for i in range(40)) + "]};</script>")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} | {html.escape(outlet)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:site_name" content="{html.escape(outlet)}">
<meta property="og:title" content="{html.escape(title)}">
<meta property="article:published_time" content="{published.isoformat()}">
<link rel="stylesheet" href="/static/site.css">{script}</head><body>
<header><div class="logo"><a href="/">{html.escape(outlet)}</a></div><nav><ul>{nav}</ul></nav>
<form action="/search"><input name="q" placeholder="Search"></form></header>
<main><article><h1>{html.escape(title)}</h1>
<div class="byline">By Staff Reporter | {published:%d %B %Y}</div>
{body}
<div class="share">Share this article: <a href="#">Facebook</a> <a href="#">X</a>
<a href="#">Email</a></div>
</article>
<aside><h2>Most read</h2><ol>{most_read}</ol>
<div class="newsletter">Sign up for our morning briefing. You can unsubscribe at any time.</div>
</aside></main>
<footer><p>Copyright {html.escape(outlet)}. All rights reserved.</p>
<ul><li><a href="/about">About us</a></li><li><a href="/privacy">Privacy</a></li>
<li><a href="/terms">Terms</a></li><li><a href="/contact">Contact</a></li></ul></footer>
</body></html>""".encode()


def pompeo_sentence(n: int, published: datetime) -> tuple[str, str]:
    """(title, sentence) announcing a trip to a distinct (city, date) for item number n."""
    city = CITIES[n % len(CITIES)]
    day = published + timedelta(days=3 + (n // len(CITIES)) * 3 + n % 3)
    when = f"{MONTHS[day.month - 1]} {day.day}"
    return (f"Pompeo to visit {city}",
            f"Secretary of State Mike Pompeo will travel to {city} on {when}, the State "
            f"Department said on {published:%A}, in a trip meant to shore up support for "
            f"talks with partners in the region.")


class Content:
    """Feeds and pages of one server; thread-safe."""

    def __init__(self, feeds: int):
        self.lock = threading.Lock()
        self.items: list[list[dict[str, Any]]] = [[] for _ in range(feeds)]
        self.version = [0] * feeds
        self.rss: list[bytes] = [b""] * feeds
        self.pages: dict[str, bytes] = {}
        self.first_content_fetch: float | None = None
        self.counts = {"feed": 0, "feed_304": 0, "page": 0, "page_bytes": 0}
        self.pompeo_n = 0
        for f in range(feeds):
            self._render(f)

    def _render(self, f: int) -> None:
        parts = [f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                 f"<title>Bench outlet {f}</title><link>http://outlet{f}.example/</link>"
                 f"<description>bench feed {f}</description>"]
        for it in reversed(self.items[f][-100:]):
            parts.append(f"<item><title>{html.escape(it['title'])}</title>"
                         f"<link>{html.escape(it['link'])}</link>"
                         f"<guid>{html.escape(it['link'])}</guid>"
                         f"<description>{html.escape(it['summary'])}</description>"
                         f"<pubDate>{format_datetime(it['published'])}</pubDate></item>")
        parts.append("</channel></rss>")
        self.version[f] += 1
        self.rss[f] = "".join(parts).encode()

    def add(self, base: str, f: int, n: int, pompeo: bool, seed: int) -> str:
        """Add item n to feed f (not rendered: call render_all/_render). Returns its link."""
        rng = random.Random(seed * 1_000_003 + f * 10_007 + n)
        published = datetime.now(UTC).replace(microsecond=0)
        paras = [paragraph(rng) for _ in range(rng.randint(4, 22))]
        if pompeo:
            with self.lock:
                k = self.pompeo_n
                self.pompeo_n += 1
            title, sentence = pompeo_sentence(k, published)
            paras.insert(1, sentence)
        else:
            title = rng.choice(CLAUSES).capitalize()
        path = f"/a/{seed}/{f}/{n}.html"
        body = page_html(title, paras, published, f"Bench outlet {f}", rng)
        with self.lock:
            self.pages[path] = body
            self.items[f].append({"title": title, "link": base + path,
                                  "summary": paras[0][:200], "published": published})
        return base + path

    def render(self, feeds: list[int]) -> None:
        with self.lock:
            for f in feeds:
                self._render(f)


def serve(port: int, feeds: int) -> int:
    """The --serve process: prints READY <port>, serves until stdin closes or SIGTERM."""
    content = Content(feeds)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _reply(self, status: int, body: bytes, ctype: str, etag: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            try:
                if url.path.startswith("/feeds/"):
                    f = int(url.path.rsplit("/", 1)[1].split(".")[0])
                    with content.lock:
                        etag, body, has = f'"{f}-{content.version[f]}"', content.rss[f], \
                            bool(content.items[f])
                        content.counts["feed"] += 1
                        if self.headers.get("If-None-Match") == etag:
                            content.counts["feed_304"] += 1
                            body = b""
                        elif has and content.first_content_fetch is None:
                            content.first_content_fetch = time.time()
                    if not body:
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self._reply(200, body, "application/rss+xml", etag)
                elif url.path.startswith("/a/"):
                    with content.lock:
                        body = content.pages.get(url.path)
                        content.counts["page"] += 1
                        content.counts["page_bytes"] += len(body or b"")
                    if body is None:
                        self._reply(404, b"not found", "text/plain")
                    else:
                        self._reply(200, body, "text/html; charset=utf-8")
                elif url.path == "/_control/publish":  # every feed gets `items` items
                    q = {k: v[0] for k, v in parse_qs(url.query).items()}
                    items, every, seed = int(q["items"]), int(q["pompeo_every"]), int(q["seed"])
                    for f in range(feeds):
                        for n in range(items):
                            content.add(base, f, n, pompeo=(f * items + n) % every == every - 1,
                                        seed=seed)
                    content.render(list(range(feeds)))
                    self._reply(200, b'{"ok": true}', "application/json")
                elif url.path == "/_control/add":  # one item in one feed, now
                    q = {k: v[0] for k, v in parse_qs(url.query).items()}
                    f, n = int(q["feed"]), int(q["n"])
                    link = content.add(base, f, n, pompeo=q.get("pompeo") == "1",
                                       seed=int(q["seed"]))
                    content.render([f])
                    self._reply(200, json.dumps({"link": link}).encode(), "application/json")
                elif url.path == "/_control/stats":
                    with content.lock:
                        out = dict(content.counts, first_content_fetch=content.first_content_fetch,
                                   pages_stored=len(content.pages))
                    self._reply(200, json.dumps(out).encode(), "application/json")
                else:
                    self._reply(404, b"not found", "text/plain")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 256

    server = Server(("127.0.0.1", port), Handler)
    print(f"READY {server.server_address[1]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever(poll_interval=0.1)
    return 0


# --- harness -----------------------------------------------------------------------------------

class Server:
    def __init__(self, feeds: int):
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", "--feeds", str(feeds)],
                                     stdout=subprocess.PIPE, text=True, cwd=ROOT)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("READY"):
            raise RuntimeError(f"bench server did not start: {line!r}")
        self.port = int(line.split()[1])
        self.base = f"http://127.0.0.1:{self.port}"

    def feed_urls(self, feeds: int) -> list[str]:
        return [f"{self.base}/feeds/{f}.xml" for f in range(feeds)]

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base + path, timeout=120) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _pg_conninfo(dbname: str) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(PG_ADMIN)
    return (f"host={u.host or '127.0.0.1'} port={u.port or 5432} user={u.username or 'postgres'}"
            f" dbname={dbname}" + (f" password={u.password}" if u.password else ""))


class Database:
    """A fresh PostgreSQL database, dropped by ``drop``."""

    def __init__(self) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        self.name = f"watcher_bench_{uuid.uuid4().hex[:12]}"
        admin = make_url(PG_ADMIN)
        with psycopg.connect(_pg_conninfo(admin.database or "test"), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{self.name}"')
        self.url = admin.set(database=self.name).render_as_string(hide_password=False)
        self.conn = psycopg.connect(_pg_conninfo(self.name), autocommit=True)

    def one(self, sql: str, *args: Any) -> Any:
        try:
            return self.conn.execute(sql, args or None).fetchone()
        except Exception:  # noqa: BLE001 - table not created yet
            return None

    def all(self, sql: str) -> list[Any]:
        return self.conn.execute(sql).fetchall()

    def drop(self) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        self.conn.close()
        admin = make_url(PG_ADMIN)
        with psycopg.connect(_pg_conninfo(admin.database or "test"), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def standin_class() -> Any:
    from tests.slack_standin import SlackStandIn

    class TimedStandIn(SlackStandIn):
        """The stand-in, noting when each accepted message arrived (ts -> time.time())."""

        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, **kw)
            self.received: dict[str, float] = {}

        def _post(self, p: dict[str, Any]) -> dict[str, Any]:
            out = super()._post(p)
            if out.get("ok"):
                with self.lock:
                    self.received[out["ts"]] = time.time()
            return out

    return TimedStandIn


class Workers:
    def __init__(self, k: int, config: Path, folder: Path):
        self.logs = [folder / f"worker{i}.log" for i in range(k)]
        env = {kk: v for kk, v in os.environ.items()
               if kk not in ("SLACK_WEBHOOK_URL", "WATCHER_CONFIG")}
        self.procs = []
        for i in range(k):
            e = dict(env, SLACK_BOT_TOKEN="x", WATCHER_WORKER_ID=f"bench-w{i}")
            with open(self.logs[i], "w") as log:
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-m", "watcher.cli", "--config", str(config),
                     "--log-format", "json", "run"],
                    stdout=log, stderr=subprocess.STDOUT, env=e, cwd=ROOT))

    def logged(self, text: str) -> bool:
        return all(text in p.read_text() for p in self.logs)

    def log_lines(self, i: int) -> list[dict[str, Any]]:
        out = []
        for line in self.logs[i].read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"message": line})
        return out

    def check_alive(self) -> None:
        for i, p in enumerate(self.procs):
            if p.poll() is not None:
                raise RuntimeError(f"worker {i} exited ({p.returncode}):\n"
                                   + self.logs[i].read_text()[-3000:])

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(40)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def wait_for(cond: Any, timeout: float, what: str, every: float = 0.1,
             check: Any = None) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        if check:
            check()
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


# -- CPU accounting from /proc ---------------------------------------------------------------

CLK = os.sysconf("SC_CLK_TCK")


def proc_table() -> dict[int, tuple[str, int, float]]:
    """pid -> (comm, ppid, cpu seconds user+system)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            raw = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2:].split()
        out[int(d)] = (comm, int(rest[1]), (int(rest[11]) + int(rest[12])) / CLK)
    return out


def cpu_groups(table: dict[int, tuple[str, int, float]], workers: list[int],
               server: int) -> dict[str, float]:
    groups = {"worker main": 0.0, "extraction": 0.0, "postgres": 0.0, "http server": 0.0,
              "harness": 0.0}
    for pid, (comm, ppid, cpu) in table.items():
        if pid in workers:
            groups["worker main"] += cpu
        elif ppid in workers:
            groups["extraction"] += cpu
        elif comm.startswith("postgres"):
            groups["postgres"] += cpu
        elif pid == server:
            groups["http server"] += cpu
        elif pid == os.getpid():
            groups["harness"] += cpu
    return groups


def busy_fraction(seconds: float = 1.0) -> float:
    """Share of the machine's CPU in use over ``seconds`` (all cores)."""
    def sample() -> tuple[int, int]:
        v = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
        return sum(v), v[3] + v[4]
    (t0, i0), _ = sample(), time.sleep(seconds)
    t1, i1 = sample()
    return 1 - (i1 - i0) / max(1, t1 - t0)


def wait_quiet(limit: float, max_wait: float) -> float:
    """Wait (up to ``max_wait`` s) until other processes leave the machine below ``limit``
    busy; returns the last busy share seen (other work on a shared machine skews results)."""
    end = time.monotonic() + max_wait
    busy = busy_fraction()
    while busy > limit and time.monotonic() < end:
        busy = busy_fraction(2.0)
    return busy


def total_busy() -> float:
    """Machine-wide busy CPU seconds (all cores) from /proc/stat."""
    f = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    v = [int(x) for x in f]
    idle = v[3] + v[4]
    return (sum(v[:8]) - idle) / CLK


# -- one throughput measurement ---------------------------------------------------------------

def throughput(k: int, args: argparse.Namespace) -> dict[str, Any]:
    from tests.conftest import write_config

    quiet = wait_quiet(args.quiet, args.quiet_wait)
    db = Database()
    server = Server(args.feeds)
    slack = standin_class()().start()
    workers = None
    expected = args.feeds * args.items
    try:
        with tempfile.TemporaryDirectory(prefix="watcher-scale-") as tmp:
            cfg = write_config(Path(tmp), feeds=server.feed_urls(args.feeds),
                               slack_base_url=slack.base_url, db_url=db.url,
                               slack_extra="digest_after = 0",
                               # one loopback server: the per-host limit would measure itself
                               extra="max_per_host = 8\n"
                                     f"[schedule]\ninterval = {args.interval}\nlease = 300")
            if args.pace:
                cfg.write_text(cfg.read_text().replace("pace = 0\n", f"pace = {args.pace}\n"))
            started = time.time()
            workers = Workers(k, cfg, Path(tmp))
            wait_for(lambda: workers.logged("rules loaded"), 120, "workers to load rules",
                     check=workers.check_alive)
            wait_for(lambda: (db.one("SELECT count(*) FROM feeds WHERE last_polled_at IS NOT NULL")
                              or [0])[0] == args.feeds, 120, "the first (empty) poll",
                     check=workers.check_alive)
            startup = time.time() - started
            time.sleep(1.0)
            server.get(f"/_control/publish?items={args.items}&pompeo_every="
                       f"{args.pompeo_every}&seed={k}")
            db.one("UPDATE feeds SET next_check_at = now() RETURNING 1")
            wait_for(lambda: server.get("/_control/stats")["first_content_fetch"], 120,
                     "the first poll of the published feeds", every=0.02)
            procs0, busy0, snap0 = proc_table(), total_busy(), time.time()
            first_claim: dict[str, float] = {}
            while True:
                row = db.one("SELECT count(*), count(*) FILTER (WHERE state <> 'pending') "
                             "FROM entries")
                for (owner,) in db.all("SELECT DISTINCT lease_owner FROM entries "
                                       "WHERE lease_owner IS NOT NULL"):
                    first_claim.setdefault(owner, time.time())
                if row and row[0] >= expected and row[1] >= row[0]:
                    end = time.time()
                    break
                workers.check_alive()
                if time.time() - started > args.timeout:
                    raise TimeoutError(f"{k} worker(s): {row} entries after {args.timeout}s")
                time.sleep(0.1)
            procs1, busy1 = proc_table(), total_busy()
            t0 = server.get("/_control/stats")["first_content_fetch"]
            seconds = end - t0
            pids = [p.pid for p in workers.procs]
            c0 = cpu_groups(procs0, pids, server.proc.pid)
            c1 = cpu_groups(procs1, pids, server.proc.pid)
            cpu = {g: c1[g] - c0[g] for g in c1}
            states = dict(db.all("SELECT state, count(*) FROM entries GROUP BY state"))
            findings = db.one("SELECT count(*) FROM findings WHERE origin = 'article'")[0]
            # Alerts: wait (briefly) for delivery, then check the channel's order.
            wait_for(lambda: (db.one("SELECT count(*) FROM alerts WHERE state IN "
                                     "('pending','sending')") or [1])[0] == 0, 60,
                     "alerts to be delivered")
            time.sleep(1.0)
            # Who did what: each cycle logs its article count.
            per_worker = []
            for i in range(k):
                n = 0
                for rec in workers.log_lines(i):
                    msg = rec.get("message", "")
                    if msg.startswith("cycle: ") and " articles (" in msg:
                        n += int(msg.split(" new entries, ")[1].split(" articles")[0])
                per_worker.append(n)
            claims = {o: round(t - t0, 1) for o, t in sorted(first_claim.items())}
            sizes = dict(db.all("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                                "n.nspname = 'public' AND c.relkind = 'r'"))
            sizes["database"] = db.one("SELECT pg_database_size(current_database())")[0]
            alert_ids = []
            with slack.lock:
                for m in slack.messages:
                    meta = (m.get("metadata") or {})
                    if isinstance(meta, str):
                        meta = json.loads(meta)
                    aid = (meta.get("event_payload") or {}).get("alert_id")
                    if aid is not None and not m.get("thread_ts"):
                        alert_ids.append(int(aid))
            out_of_order = sum(1 for a, b in zip(alert_ids, alert_ids[1:], strict=False) if b < a)
            return {"workers": k, "articles": expected, "seconds": seconds,
                    "rate": expected / seconds, "startup": startup, "states": states,
                    "findings": findings, "alerts": len(alert_ids),
                    "out_of_order": out_of_order, "per_worker": per_worker, "cpu": cpu,
                    "quiet": quiet, "sizes": sizes, "busy": busy1 - busy0, "window": end - snap0,
                    "first_claim": claims,
                    "stats": server.get("/_control/stats")}
    finally:
        if workers:
            workers.stop()
        slack.stop()
        server.stop()
        db.drop()


def latency(args: argparse.Namespace) -> dict[str, Any]:
    from tests.conftest import write_config
    from tests.slack_standin import all_text

    db = Database()
    feeds = args.latency_feeds
    server = Server(feeds)
    slack = standin_class()().start()
    workers = None
    rng = random.Random(7)
    try:
        with tempfile.TemporaryDirectory(prefix="watcher-latency-") as tmp:
            cfg = write_config(Path(tmp), feeds=server.feed_urls(feeds),
                               slack_base_url=slack.base_url, db_url=db.url,
                               slack_extra="digest_after = 0",
                               extra="max_per_host = 8\n[schedule]\ninterval = 10\nlease = 300")
            cfg.write_text(cfg.read_text().replace("pace = 0\n", "pace = 1.0\n"))
            workers = Workers(2, cfg, Path(tmp))
            wait_for(lambda: workers.logged("rules loaded"), 120, "workers to load rules",
                     check=workers.check_alive)
            wait_for(lambda: (db.one("SELECT count(*) FROM feeds WHERE last_polled_at IS NOT NULL")
                              or [0])[0] == feeds, 120, "the first (empty) poll",
                     check=workers.check_alive)
            time.sleep(rng.uniform(0, 10))  # no phase relation to the workers' ticks
            published: dict[str, float] = {}
            n = 0
            for _ in range(args.latency_items):
                f = rng.randrange(feeds)
                link = server.get(f"/_control/add?feed={f}&n={n}&pompeo=1&seed=99")["link"]
                published[link] = time.time()
                n += 1
                for g in rng.sample([x for x in range(feeds) if x != f], 3):
                    server.get(f"/_control/add?feed={g}&n={n}&seed=99")
                    n += 1
                time.sleep(args.latency_gap + rng.uniform(0, args.latency_gap))
            found: dict[str, float] = {}

            def all_seen() -> bool:
                with slack.lock:
                    msgs = list(slack.messages)
                    received = dict(slack.received)
                for m in msgs:
                    text = all_text(m)
                    for link in published:
                        if link not in found and link in text and m["ts"] in received:
                            found[link] = received[m["ts"]]
                return len(found) == len(published)

            try:
                wait_for(all_seen, 90, "every latency item's Slack post", every=0.5)
            except TimeoutError:
                pass
            lat = sorted(found[k] - published[k] for k in found)
            return {"items": len(published), "posted": len(found), "latencies": lat}
    finally:
        if workers:
            workers.stop()
        slack.stop()
        server.stop()
        db.drop()


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    i = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return sorted(values)[i]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--feeds", type=int, default=50)
    ap.add_argument("--items", type=int, default=20, help="items per feed")
    ap.add_argument("--pompeo-every", type=int, default=5)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--interval", type=int, default=5, help="[schedule] interval, seconds")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--pace", type=float, default=0.0,
                    help="[slack] pace in the throughput runs (default 0: Slack not paced)")
    ap.add_argument("--latency-items", type=int, default=20)
    ap.add_argument("--latency-gap", type=float, default=2.5)
    ap.add_argument("--latency-feeds", type=int, default=20)
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--repeat", type=int, default=1,
                    help="measure each worker count this many times (alternating); best kept")
    ap.add_argument("--quiet", type=float, default=0.15,
                    help="before each run, wait until the machine is at most this busy")
    ap.add_argument("--quiet-wait", type=float, default=120, help="...for at most this long (s)")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    if args.serve:
        return serve(args.port, args.feeds)

    print(f"watcher scaling on PostgreSQL: {os.cpu_count()} cores, {args.feeds} feeds x "
          f"{args.items} items, every {args.pompeo_every}th page announces a Pompeo trip, "
          f"[schedule] interval = {args.interval}")
    results = []
    if not args.skip_throughput:
        counts = [int(x) for x in args.workers.split(",")]
        best: dict[int, dict[str, Any]] = {}
        rates: dict[int, list[float]] = {k: [] for k in counts}
        for k in counts * args.repeat:
            r = throughput(k, args)
            rates[k].append(r["rate"])
            if k not in best or r["rate"] > best[k]["rate"]:
                best[k] = r
            cpu = r["cpu"]
            other = r["busy"] - sum(cpu.values())
            print(f"{k} worker(s): {r['articles']} articles in {r['seconds']:6.1f} s = "
                  f"{r['rate']:6.1f} articles/s   (start-up excluded: {r['startup']:.1f} s; "
                  f"entries {r['states']}; {r['findings']} findings; {r['alerts']} alerts posted,"
                  f" {r['out_of_order']} out of id order)")
            print(f"    articles per worker (cycle logs): {r['per_worker']}; first entry claimed "
                  f"at +s: {r['first_claim']}")
            capacity = r["window"] * (os.cpu_count() or 1)
            print(f"    machine {100 * r['quiet']:.0f}% busy before the run; CPU s in the window: "
                  + ", ".join(f"{g} {v:.1f}" for g, v in cpu.items())
                  + f", other processes {other:.1f}; machine busy {r['busy']:.1f} of "
                  f"{capacity:.1f} core-s ({100 * r['busy'] / max(1e-9, capacity):.0f}%)")
            per = {g: 1000 * v / r["articles"] for g, v in cpu.items()}
            print("    CPU ms per article: " + ", ".join(f"{g} {v:.1f}" for g, v in per.items()))
            s = r["stats"]
            z = r["sizes"]
            tables = ("entries", "articles", "findings", "alerts")
            per_article = sum(z.get(t, 0) for t in tables) / r["articles"] / 1024
            print("    database after the run: "
                  + ", ".join(f"{t} {z.get(t, 0) / 1024:.0f} KB" for t in (*tables, "database"))
                  + f"; entries+articles+findings+alerts {per_article:.1f} KB per article")
            print(f"    server: {s['feed']} feed requests ({s['feed_304']} x 304), {s['page']} "
                  f"pages, {s['page_bytes'] / max(1, s['page']) / 1024:.1f} KB/page average")
        results = [best[k] for k in counts]
        if args.repeat > 1:
            print("best runs: " + ", ".join(f"{r['workers']} worker(s) {r['rate']:.1f} articles/s"
                                            for r in results))
        if len(results) >= 2:
            lo, hi = counts[0], counts[-1]
            if args.repeat > 1:
                # Each round ran lo then hi workers back to back: its ratio compares runs
                # made under the same conditions; the median of those is the robust figure.
                pairs = [b / a for a, b in zip(rates[lo], rates[hi], strict=True)]
                print(f"ratio {hi} vs {lo} worker(s), round by round: "
                      + ", ".join(f"{p:.2f}x" for p in pairs)
                      + f"; median {statistics.median(pairs):.2f}x")
            print(f"ratio {hi} vs {lo} worker(s){' (best runs)' if args.repeat > 1 else ''}: "
                  f"{results[-1]['rate'] / results[0]['rate']:.2f}x (target >= 1.6x)")
    if not args.skip_latency:
        r = latency(args)
        lat = r["latencies"]
        median = statistics.median(lat) if lat else float("nan")
        print(f"latency feed item -> Slack post, 2 workers, interval 10 s, pace 1 s: "
              f"{r['posted']}/{r['items']} posted; median {median:.1f} s, "
              f"p95 {pct(lat, 95):.1f} s, min {min(lat, default=float('nan')):.1f} s, "
              f"max {max(lat, default=float('nan')):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
