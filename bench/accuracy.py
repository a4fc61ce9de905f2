"""Accuracy of the whole pipeline on a labelled corpus (default ../shared/corpus/dev.yaml).

    .venv/bin/python bench/accuracy.py [CORPUS.yaml] [--extra]

Nothing is stubbed: a local HTTP server (tests/httpserver.py) serves one RSS feed and one HTML
page per case (tests.conftest.article_page: the case's title, its body paragraphs, its outlet
as og:site_name and its publication time); the feed item carries pubDate = the case's
``published``. The service is built as `watcher run` builds it (watcher.service.build, the real
Slack Web API client talking to tests/slack_standin.py), on a fresh SQLite database in a temp
folder with the repo's rules/ and seeds/ (config written by tests.conftest.write_config,
``digest_after = 0`` so that no alert is folded into a digest).

Cases are processed in file order, one at a time (a case with a ``group`` repeats an earlier
one): case i is added to the feed, then one ``pipeline.run_cycle()`` polls the feed, fetches
and extracts the page, matches, decides and delivers. At the end a case counts as alerted when
at least one Slack message (its text or blocks) names the case's page URL; "alert" cases that
are alerted are true positives, "quiet" cases that are alerted false positives, "alert" cases
that are not false negatives.

``--extra`` also scores tests/fixtures/extra_cases.yaml (same format) in a second, separate
run. A missing corpus is reported ("skipped: ... not found") with exit code 0.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml

from tests.conftest import article_page, rss, write_config
from tests.httpserver import Reply, Request, serve
from tests.slack_standin import SlackStandIn

DEV = ROOT.parent / "shared" / "corpus" / "dev.yaml"
EXTRA = ROOT / "tests" / "fixtures" / "extra_cases.yaml"
FEED_INTERVAL = 1  # seconds: [schedule] interval, so the feed is due again for the next case


@dataclass(frozen=True)
class Case:
    id: str
    expect: str  # "alert" | "quiet"
    title: str
    paragraphs: list[str]
    published: datetime | None
    outlet: str
    group: str | None = None


@dataclass
class Outcome:
    case: Case
    url: str
    alerted: bool
    summaries: list[str] = field(default_factory=list)  # first line of each message naming it

    @property
    def got(self) -> str:
        return "alert" if self.alerted else "quiet"

    @property
    def correct(self) -> bool:
        return self.got == self.case.expect


@dataclass
class Result:
    corpus: Path
    outcomes: list[Outcome]
    seconds: float
    messages: int  # Slack messages posted in the run

    @property
    def tp(self) -> int:
        return sum(1 for o in self.outcomes if o.case.expect == "alert" and o.alerted)

    @property
    def fp(self) -> int:
        return sum(1 for o in self.outcomes if o.case.expect == "quiet" and o.alerted)

    @property
    def fn(self) -> int:
        return sum(1 for o in self.outcomes if o.case.expect == "alert" and not o.alerted)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def wrong(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]


def _datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        dt = datetime.fromisoformat(str(value))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    cases = []
    for raw in data.get("cases") or []:
        if raw.get("expect") not in ("alert", "quiet"):
            raise ValueError(f"{path}: case {raw.get('id')!r}: expect must be alert or quiet")
        paragraphs = [line.strip() for line in str(raw.get("body") or "").splitlines()
                      if line.strip()]
        cases.append(Case(id=str(raw["id"]), expect=raw["expect"],
                          title=str(raw.get("title") or ""), paragraphs=paragraphs,
                          published=_datetime(raw.get("published")),
                          outlet=str(raw.get("outlet") or "Test Outlet"), group=raw.get("group")))
    return cases


class _Feed:
    """The one feed: grows by one item per case; a new ETag per version."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def add(self, item: dict[str, Any]) -> None:
        with self.lock:
            self.items.append(item)

    def route(self, _req: Request) -> Reply:
        with self.lock:
            items, version = list(self.items), len(self.items)
        return Reply(body=rss(list(reversed(items)), title="Accuracy Test News"),
                     content_type="application/rss+xml", etag=f'"v{version}"')


def _message_text(message: dict[str, Any]) -> str:
    return json.dumps({"text": message.get("text") or "", "blocks": message.get("blocks") or []},
                      ensure_ascii=False)


def run(corpus: Path, *, verbose: bool = False) -> Result:
    """Run every case of ``corpus`` through the real pipeline; see the module docstring."""
    from watcher.service import build
    from watcher.settings import load_settings

    cases = load_cases(corpus)
    started = time.monotonic()
    feed = _Feed()
    with tempfile.TemporaryDirectory(prefix="watcher-accuracy-") as tmp, serve() as server, \
            SlackStandIn() as slack:
        feed_url = server.route("/feed.rss", feed.route)
        urls: list[str] = []
        for c in cases:
            path = f"/news/{c.id}.html"
            server.route(path, Reply(body=article_page(c.title, c.paragraphs, c.published,
                                                       outlet=c.outlet)))
            urls.append(server.url(path))
        cfg = write_config(Path(tmp), feeds=[feed_url], slack_base_url=slack.base_url,
                           slack_extra="digest_after = 0",
                           extra=f"[schedule]\ninterval = {FEED_INTERVAL}")
        settings = load_settings(cfg)
        service = build(settings, env={"SLACK_BOT_TOKEN": "x"})
        try:
            service.pipeline.start()
            last_poll = 0.0
            for c, url in zip(cases, urls, strict=True):
                feed.add({"title": c.title, "link": url, "published": c.published,
                          "summary": c.paragraphs[0][:200] if c.paragraphs else ""})
                for _attempt in range(20):  # the feed is due FEED_INTERVAL s after its last poll
                    wait = last_poll + FEED_INTERVAL + 0.05 - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    cycle_start = time.monotonic()
                    report = service.pipeline.run_cycle()
                    if report.feeds_polled:
                        last_poll = cycle_start
                        break
                    time.sleep(0.1)
                else:
                    raise RuntimeError(f"case {c.id}: the feed never came due")
                if report.entries_new != 1 or report.articles != 1:
                    print(f"  warning: case {c.id}: {report}", file=sys.stderr)
                if verbose:
                    print(f"  {c.id}: {report}", file=sys.stderr)
            service.delivery.deliver()  # anything that became due at the very end
        finally:
            service.close()
        messages = [_message_text(m) for m in slack.messages]
        outcomes = []
        for c, url in zip(cases, urls, strict=True):
            naming = [m for m in slack.messages if url in _message_text(m)]
            outcomes.append(Outcome(c, url, bool(naming),
                                    [(m.get("text") or "").strip().split("\n", 1)[0][:160]
                                     for m in naming]))
    return Result(Path(corpus), outcomes, time.monotonic() - started, len(messages))


def report(result: Result) -> None:
    print(f"{result.corpus}: {len(result.outcomes)} cases, {result.messages} Slack message(s)")
    for o in result.outcomes:
        mark = "ok   " if o.correct else "WRONG"
        summary = f"  | {o.summaries[0]}" if o.summaries else ""
        more = f" (+{len(o.summaries) - 1} more)" if len(o.summaries) > 1 else ""
        print(f"  {mark} {o.case.id:<45} expect {o.case.expect:<5} got {o.got:<5}{summary}{more}")
    print(f"precision {result.precision:.3f}  recall {result.recall:.3f}  "
          f"(TP {result.tp}, FP {result.fp}, FN {result.fn})  total time {result.seconds:.1f}s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Accuracy of the whole pipeline on a labelled corpus")
    ap.add_argument("corpus", nargs="?", default=str(DEV),
                    help=f"dev.yaml-style corpus (default {DEV})")
    ap.add_argument("--extra", action="store_true",
                    help=f"also report on {EXTRA.relative_to(ROOT)}")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each cycle's report")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    corpora = [Path(args.corpus)] + ([EXTRA] if args.extra else [])
    for corpus in corpora:
        if not corpus.exists():
            print(f"skipped: corpus {corpus} not found")
            continue
        report(run(corpus, verbose=args.verbose))
    return 0


if __name__ == "__main__":
    sys.exit(main())
