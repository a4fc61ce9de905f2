"""Accuracy of the whole pipeline on labelled corpora (default ../shared/corpus/dev.yaml).

    .venv/bin/python bench/accuracy.py [CORPUS.yaml ...] [--order oldest-first|newest-first]
        [--batch N|all] [--feeds K] [--json] [--extra] [-v]

Nothing is stubbed: a local HTTP server (tests/httpserver.py) serves the feeds and one HTML page
per case (tests.conftest.article_page: the case's title, its body paragraphs, its outlet as
og:site_name and its publication time); each feed item carries pubDate = the case's
``published``. The service is built as `watcher run` builds it (watcher.service.build, the real
Slack Web API client talking to tests/slack_standin.py), on a fresh SQLite database in a temp
folder with the repo's rules/ and seeds/ (``digest_after = 0``, so no alert is folded into a
digest).

Cases appear in publication order, ``--batch`` new ones before each poll (default 1; ``all``:
every case at once), dealt round-robin over ``--feeds`` feeds (default 1). ``--order`` is how a
feed lists its items: ``oldest-first`` (default) or ``newest-first``, as real feeds do. Each poll
is one ``pipeline.run_cycle()`` (poll, fetch, extract, match, decide, deliver); the feeds are due
again one second after the last poll (``[schedule] interval = 1``), which bounds the time of a
batch-1 run at about one second per case.

The score (bench/accuracy_scoring.py) counts developments, not articles: precision, recall,
duplicated groups, every quiet case posted and every group missed. ``--extra`` also scores
tests/fixtures/extra_cases.yaml. A missing corpus is reported ("skipped: ... not found").
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.accuracy_scoring import (
    ORDERS,
    Case,
    Posted,
    Score,
    chronological,
    figures,
    listing,
    load_cases,
    plan,
    score,
)
from tests.conftest import article_page, rss, write_config
from tests.httpserver import Reply, Request, serve
from tests.slack_standin import SlackStandIn

DEV = ROOT.parent / "shared" / "corpus" / "dev.yaml"
EXTRA = ROOT / "tests" / "fixtures" / "extra_cases.yaml"
FEED_INTERVAL = 1  # seconds: [schedule] interval, so a feed is due again for the next poll
POLL_TIMEOUT = 30.0  # seconds to wait for the changed feeds to be fetched


@dataclass(frozen=True)
class Mode:
    order: str = "oldest-first"
    batch: int | None = 1  # None: all cases in one poll
    feeds: int = 1

    def __str__(self) -> str:
        return f"{self.order}, batch {self.batch or 'all'}, {self.feeds} feed(s)"


@dataclass
class Result:
    corpus: Path
    mode: Mode
    score: Score
    seconds: float
    polls: int
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"corpus": str(self.corpus), "order": self.mode.order,
                "batch": self.mode.batch or "all", "feeds": self.mode.feeds,
                **figures(self.score), "polls": self.polls,
                "seconds": round(self.seconds, 2), "warnings": self.warnings}


class _Feed:
    """One feed: grows as cases appear; a new ETag per version; remembers what it served."""

    def __init__(self, order: str, title: str) -> None:
        self.order, self.title = order, title
        self.items: list[dict[str, Any]] = []
        self.served = 0  # the version last sent with a body
        self.lock = threading.Lock()

    def add(self, item: dict[str, Any]) -> None:
        with self.lock:
            self.items.append(item)

    @property
    def version(self) -> int:
        with self.lock:
            return len(self.items)

    def route(self, _req: Request) -> Reply:
        with self.lock:
            items, version = listing(self.items, self.order), len(self.items)
            self.served = version
        return Reply(body=rss(items, title=self.title), content_type="application/rss+xml",
                     etag=f'"v{version}"')


def _poll_until_fetched(service: Any, changed: list[_Feed], last_poll: float,
                        label: str) -> tuple[Any, float]:
    """Run cycles until every changed feed has been fetched (the cycle that fetched it also
    processed its entries). Returns the cycle's report and when it started."""
    deadline = time.monotonic() + POLL_TIMEOUT
    while True:
        wait = last_poll + FEED_INTERVAL + 0.05 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        started = time.monotonic()
        report = service.pipeline.run_cycle()
        if report.feeds_polled:
            last_poll = started
        if all(f.served == f.version for f in changed):
            return report, last_poll
        if time.monotonic() > deadline:
            raise RuntimeError(f"{label}: the feeds were not polled within {POLL_TIMEOUT:.0f}s")
        time.sleep(0.05)


def run(corpus: Path, mode: Mode = Mode(), *, verbose: bool = False) -> Result:
    """Serve every case of ``corpus`` to the real pipeline as ``mode`` says; score what Slack
    received. See the module docstring."""
    from watcher.service import build
    from watcher.settings import load_settings

    cases: list[Case] = chronological(load_cases(corpus))
    steps = plan(len(cases), mode.batch, mode.feeds)
    started = time.monotonic()
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="watcher-accuracy-") as tmp, serve() as server, \
            SlackStandIn() as slack:
        feeds = [_Feed(mode.order, f"Accuracy Test News {k + 1}") for k in range(mode.feeds)]
        feed_urls = [server.route(f"/feed{k + 1}.rss", f.route) for k, f in enumerate(feeds)]
        urls: dict[str, str] = {}
        for c in cases:
            path = f"/news/{c.id}.html"
            server.route(path, Reply(body=article_page(c.title, list(c.paragraphs), c.published,
                                                       outlet=c.outlet)))
            urls[c.id] = server.url(path)
        cfg = write_config(Path(tmp), feeds=feed_urls, slack_base_url=slack.base_url,
                           slack_extra="digest_after = 0",
                           extra=f"[schedule]\ninterval = {FEED_INTERVAL}")
        service = build(load_settings(cfg), env={"SLACK_BOT_TOKEN": "x"})
        try:
            service.pipeline.start()
            last_poll = 0.0
            for n, step in enumerate(steps, 1):
                for i, k in step:
                    c = cases[i]
                    feeds[k].add({"title": c.title, "link": urls[c.id], "published": c.published,
                                  "summary": c.paragraphs[0][:200] if c.paragraphs else ""})
                changed = [feeds[k] for k in sorted({k for _, k in step})]
                label = f"poll {n} ({cases[step[0][0]].id}...)"
                report, last_poll = _poll_until_fetched(service, changed, last_poll, label)
                if report.entries_new != len(step) or report.articles != len(step):
                    warnings.append(f"{label}: {len(step)} new case(s), cycle: {report}")
                    print(f"  warning: {warnings[-1]}", file=sys.stderr)
                if verbose:
                    print(f"  {label}: {report}", file=sys.stderr)
            service.delivery.deliver()  # anything that became due at the very end
        finally:
            service.close()
        messages = [Posted.from_slack(m) for m in slack.messages]
    return Result(Path(corpus), mode, score(cases, urls, messages), time.monotonic() - started,
                  len(steps), warnings)


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def report(result: Result) -> None:
    s = result.score
    print(f"{result.corpus}: {len(s.outcomes)} cases ({result.mode}), "
          f"{len(s.messages)} Slack message(s)")
    for o in s.outcomes:
        got = "posted" if o.posted else "silent"
        summary = f"  | {s.first_line(o)}" if o.posted else ""
        more = f" (+{len(o.messages) - 1} more)" if len(o.messages) > 1 else ""
        print(f"  {o.verdict:<5} {o.case.id:<48} expect {o.case.expect:<5} {got:<6}"
              f"{summary}{more}")
    for o in s.quiet_posted:
        print(f"quiet posted: {o.case.id}  | {s.first_line(o)}")
    for g in s.missed:
        print(f"missed group: {g} ({', '.join(s.cases_of(g))})")
    for g, n in s.duplicates:
        print(f"duplicate: {g}: {n} top-level posts")
    print(f"precision {_ratio(s.precision)}  recall {_ratio(s.recall)}  duplicates "
          f"{len(s.duplicates)}  (groups found {len(s.found)} of {len(s.alert_groups)}, quiet "
          f"posted {len(s.quiet_posted)})  {result.polls} poll(s), total time "
          f"{result.seconds:.1f}s")


def _batch(value: str) -> int | None:
    if value == "all":
        return None
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'all', not {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, not {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description="Accuracy of the whole pipeline on labelled corpora")
    ap.add_argument("corpus", nargs="*", default=[str(DEV)],
                    help=f"dev.yaml / real-dev.yaml style corpora (default {DEV})")
    ap.add_argument("--order", choices=ORDERS, default="oldest-first",
                    help="how the feeds list their items (default oldest-first)")
    ap.add_argument("--batch", type=_batch, default=1,
                    help="new cases per poll, or 'all' for one poll (default 1)")
    ap.add_argument("--feeds", type=_positive, default=1,
                    help="spread the cases round-robin over K feeds (default 1)")
    ap.add_argument("--json", action="store_true",
                    help="print the figures as JSON (one object per corpus) instead of the report")
    ap.add_argument("--extra", action="store_true",
                    help=f"also score {EXTRA.relative_to(ROOT)}")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each cycle's report")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    mode = Mode(args.order, args.batch, args.feeds)
    corpora = [Path(c) for c in args.corpus] + ([EXTRA] if args.extra else [])
    results = []
    for corpus in corpora:
        if not corpus.exists():
            print(f"skipped: corpus {corpus} not found", file=sys.stderr if args.json else None)
            continue
        result = run(corpus, mode, verbose=args.verbose)
        results.append(result.as_dict())
        if not args.json:
            report(result)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
