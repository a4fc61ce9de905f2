"""Soak benchmark: does `watcher run` keep a flat memory profile while news keeps coming?

    .venv/bin/python bench/soak.py [--minutes 30] [--feeds 20] [--every 2.0] [--sample 5]

What runs (all real, all on 127.0.0.1):

- a feed server (tests.httpserver) with ``--feeds`` RSS feeds. A publisher thread adds one new
  item every ``--every`` seconds, round-robin across the feeds; each feed lists its newest 30
  items (as real feeds do, so a feed's size stays bounded) and every item's page is served
  (tests.conftest.article_page). Feeds answer conditional requests (ETag) with 304 while
  nothing changed. Most items are filler news with varied vocabulary (so trafilatura and the
  rule matcher meet new words all the time); one item in ``MATCH_EVERY`` is a new Pompeo trip
  (another capital, other dates) that the shipped rules should alert on;
- the Slack stand-in (tests.slack_standin.SlackStandIn), counting the messages posted;
- ``watcher run`` as a subprocess (python -m watcher.cli run) with a fresh SQLite database in a
  temp folder: ``[schedule] interval = 1`` (every feed polled every second), ``[retention]
  article_text_days = 1``, ``[slack] pace = 0`` and ``digest_after = 0`` (every alert posted
  on its own), ``[http] listen`` on a free port.

Every ``--sample`` seconds the resident set size (RSS) of the service process plus all its
descendants (the extraction worker process) is read (psutil if installed, else
/proc/<pid>/status VmRSS and /proc/<pid>/task/*/children). At the end it prints the peak RSS
within the first 10% and the last 10% of the run and their ratio (target: the end within 10%
of the start, i.e. ratio <= 1.10), the samples, items published, alerts posted, and what the
service's /metrics says.

A "simulated day": 900 items, i.e. 20 feeds x 45 items, about one day of output of a busy news
site's section feeds. At the default one item every 2 s a simulated day takes 30 minutes, so
the default run is one simulated day; the items' pubDates advance 96 s per item (24 h per 900
items) from 2030-01-01, so the dates in the run also span one day. Pruning (``[retention]``)
runs at start and then hourly, so within a 30-minute run it acts only once; what the run
exercises is polling, extraction, matching, deciding and delivering under a steady stream.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import article_page, rss, write_config
from tests.httpserver import Reply, Request, serve
from tests.slack_standin import SlackStandIn

FEED_KEEPS = 30  # items listed per feed
MATCH_EVERY = 25  # one item in this many is a new Pompeo trip
SIM_START = datetime(2030, 1, 1, 0, 0, tzinfo=UTC)
ITEMS_PER_SIM_DAY = 900
SIM_STEP = timedelta(days=1) / ITEMS_PER_SIM_DAY  # 96 s of simulated time per item

CAPITALS = ["Tokyo", "Seoul", "Beijing", "Hanoi", "Manila", "Canberra", "Wellington",
            "New Delhi", "Jakarta", "Bangkok", "Kuala Lumpur", "Singapore", "Berlin", "Paris",
            "London", "Rome", "Madrid", "Warsaw", "Cairo", "Riyadh", "Ankara", "Brasilia",
            "Ottawa", "Mexico City", "Nairobi", "Pretoria", "Buenos Aires", "Lima", "Oslo",
            "Helsinki", "Vienna", "Prague", "Budapest", "Athens", "Lisbon", "Dublin"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]
TOPICS = ["budget", "harvest", "railway", "election", "stadium", "museum", "vaccine", "bridge",
          "reservoir", "tariff", "pension", "satellite", "festival", "wildfire", "port",
          "refinery", "orchestra", "university", "court ruling", "strike", "merger", "drought"]
WORDS = ["council", "minister", "officials", "said", "on", "weather", "report", "regional",
         "market", "growth", "local", "residents", "plan", "project", "delayed",
         "approved", "funding", "board", "statement", "quarterly", "figures",
         "expected", "opposition", "critics", "supporters", "analysts", "investors",
         "workers", "union", "city", "town", "province", "coast", "river", "mountain",
         "valley", "northern", "southern", "eastern", "western", "new", "old", "first",
         "second", "final", "record", "highest", "lowest", "annual", "monthly",
         "weekly", "committee", "hearing", "inquiry", "audit", "survey", "census",
         "forecast", "tender", "contract", "network", "service", "upgrade"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the news source ----------------------------------------------------------------------------

class Newsroom:
    """Feeds that keep publishing; thread-safe."""

    def __init__(self, server, feeds: int, seed: int = 7):  # type: ignore[no-untyped-def]
        self.server = server
        self.n_feeds = feeds
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.items: list[list[dict]] = [[] for _ in range(feeds)]
        self.versions = [0] * feeds
        self.bodies: list[bytes] = [rss([], title=f"Soak feed {k}") for k in range(feeds)]
        self.published = 0
        self.matching = 0
        self.feed_urls = [server.route(f"/feed/{k}.rss", self._feed_route(k))
                          for k in range(feeds)]

    def _feed_route(self, k: int):  # type: ignore[no-untyped-def]
        def route(_req: Request) -> Reply:
            with self.lock:
                body, version = self.bodies[k], self.versions[k]
            return Reply(body=body, content_type="application/rss+xml", etag=f'"{k}-{version}"')
        return route

    def _filler(self, n: int) -> tuple[str, list[str]]:
        rng = self.rng
        topic = rng.choice(TOPICS)
        place = rng.choice(CAPITALS)
        # a made-up proper name per item: the vocabulary keeps growing, as real news does
        name = hashlib.sha1(str(n).encode()).hexdigest()[:7].capitalize()
        title = f"{place} {topic}: {name} {rng.choice(WORDS)} {rng.choice(WORDS)} (item {n})"
        paras = []
        for _ in range(rng.randint(3, 8)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(25, 60))]
            words[rng.randrange(len(words))] = name
            paras.append(" ".join(words).capitalize() + ".")
        return title, paras

    def _trip(self, n: int, when: datetime) -> tuple[str, list[str]]:
        k = n // MATCH_EVERY
        city = CAPITALS[k % len(CAPITALS)]
        start = when + timedelta(days=3 + k % 20)
        end = start + timedelta(days=2)
        title = f"Pompeo to visit {city} (item {n})"
        paras = [(f"Secretary of State Mike Pompeo will travel to {city} from "
                  f"{MONTHS[start.month - 1]} {start.day} to {MONTHS[end.month - 1]} "
                  f"{end.day}, the State Department said."),
                 ("Officials said he would meet the country's leaders and discuss trade and "
                  "regional security.")]
        return title, paras

    def publish(self) -> None:
        with self.lock:
            n = self.published
            self.published += 1
        when = SIM_START + SIM_STEP * n
        if n % MATCH_EVERY == MATCH_EVERY - 1:
            title, paras = self._trip(n, when)
            with self.lock:
                self.matching += 1
        else:
            title, paras = self._filler(n)
        path = f"/news/{n}.html"
        url = self.server.route(path, Reply(body=article_page(title, paras, when,
                                                              outlet=f"Soak Outlet {n % 7}")))
        k = n % self.n_feeds
        item = {"title": title, "link": url, "published": when, "summary": paras[0][:160]}
        with self.lock:
            self.items[k] = ([item] + self.items[k])[:FEED_KEEPS]
            self.bodies[k] = rss(self.items[k], title=f"Soak feed {k}")
            self.versions[k] += 1


# --- memory ---------------------------------------------------------------------------------------

def _descendants_proc(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                todo += [int(c) for c in task.read_text().split()]
            except (OSError, ValueError):
                pass
    return out


def _rss_proc(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> tuple[int, int, int]:
    """(total RSS, RSS of the service process itself, number of processes) in bytes."""
    try:
        import psutil  # type: ignore[import-not-found]

        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total, root.memory_info().rss, len(procs)
    except ImportError:
        pids = _descendants_proc(pid)
        return sum(_rss_proc(p) for p in pids), _rss_proc(pid), len(pids)


def mb(n: float) -> str:
    return f"{n / 1048576:.1f} MB"


# --- the run --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--feeds", type=int, default=20)
    ap.add_argument("--every", type=float, default=2.0, help="seconds between two new items")
    ap.add_argument("--sample", type=float, default=5.0, help="seconds between RSS samples")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder (DB, log)")
    args = ap.parse_args(argv)

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="watcher-soak-"))
    server = serve()
    slack = SlackStandIn().start()
    news = Newsroom(server, args.feeds)
    port = free_port()
    cfg = write_config(tmp, feeds=news.feed_urls, slack_base_url=slack.base_url,
                       slack_extra="digest_after = 0",
                       extra=f'[schedule]\ninterval = 1\n[retention]\narticle_text_days = 1\n'
                             f'[http]\nlisten = "127.0.0.1:{port}"')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")
           and k != "WATCHER_CONFIG"}
    env["SLACK_BOT_TOKEN"] = "xoxb-soak"
    log_path = tmp / "service.log"
    log_file = open(log_path, "w")  # noqa: SIM115 - open for the whole run
    proc = subprocess.Popen([sys.executable, "-m", "watcher.cli", "--log-format", "json",
                             "run", "--config", str(cfg)], cwd=ROOT, env=env,
                            stdout=log_file, stderr=subprocess.STDOUT)
    stop = threading.Event()

    def publisher() -> None:
        while not stop.wait(args.every):
            news.publish()

    pub = threading.Thread(target=publisher, daemon=True)
    pub.start()

    samples: list[tuple[float, int, int, int]] = []  # (t, total, main, nprocs)
    duration = args.minutes * 60
    t0 = time.monotonic()
    print(f"soak: {args.minutes:g} min, {args.feeds} feeds, one item every {args.every:g}s, "
          f"service pid {proc.pid}, temp {tmp}", flush=True)
    try:
        while True:
            t = time.monotonic() - t0
            if proc.poll() is not None:
                print(f"service exited early with code {proc.returncode}", flush=True)
                break
            total, main_rss, nprocs = tree_rss(proc.pid)
            samples.append((t, total, main_rss, nprocs))
            if len(samples) % 12 == 1:
                print(f"  t={t / 60:5.1f} min  rss {mb(total)} (service {mb(main_rss)}, "
                      f"{nprocs} processes)  published {news.published}  "
                      f"slack messages {len(slack.messages)}", flush=True)
            if t >= duration:
                break
            time.sleep(min(args.sample, max(0.0, duration - t)))
    finally:
        stop.set()
        metrics = ""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                metrics = r.read().decode()
        except OSError as exc:
            metrics = f"(no /metrics: {exc})"
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log_file.close()
        server.stop()
        slack.stop()

    ran = samples[-1][0] if samples else 0.0
    first = [s for s in samples if s[0] <= 0.1 * ran] or samples[:1]
    last = [s for s in samples if s[0] >= 0.9 * ran] or samples[-1:]
    peak_first = max(s[1] for s in first) if first else 0
    peak_last = max(s[1] for s in last) if last else 0
    main_first = max(s[2] for s in first) if first else 0
    main_last = max(s[2] for s in last) if last else 0
    ratio = peak_last / peak_first if peak_first else float("nan")

    print("\nsamples (minute: total RSS / service RSS):")
    step = max(1, len(samples) // 30)
    for s in samples[::step]:
        print(f"  {s[0] / 60:5.1f}: {mb(s[1])} / {mb(s[2])} ({s[3]} proc)")
    print(f"\nran {ran / 60:.1f} min; items published {news.published} "
          f"({news.matching} Pompeo trips meant to alert) = "
          f"{news.published / ITEMS_PER_SIM_DAY:.2f} simulated day(s); "
          f"slack messages posted {len(slack.messages)}")
    print(f"peak RSS first 10%: {mb(peak_first)} (service process {mb(main_first)})")
    print(f"peak RSS last 10%:  {mb(peak_last)} (service process {mb(main_last)})")
    verdict = "OK (within 10%)" if ratio <= 1.10 else "GROWTH (more than 10%)"
    print(f"ratio last/first: {ratio:.3f}  -> {verdict}")
    interesting = [ln for ln in metrics.splitlines() if ln and not ln.startswith("#")]
    print("metrics at the end:\n  " + "\n  ".join(interesting[:60]))
    errors = [ln for ln in log_path.read_text(errors="replace").splitlines()
              if '"ERROR"' in ln or '"WARNING"' in ln]
    print(f"service log: {log_path} ({len(errors)} warning/error lines)")
    for ln in errors[:10]:
        print("  " + ln[:300])
    print(f"total time {time.monotonic() - started:.0f}s")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
