"""One watcher cycle: poll due feeds, turn new entries into articles, analyse them, deliver.

Orchestration and storage only: each stage takes and returns values (``watcher.types``), and
everything between an article's text and its outbox rows is ``watcher.analyse``, which does no
I/O; this module reads what it needs from the database, calls the stages and stores what they
return. A stage's failure is recorded on the feed, entry or alert it concerns; it never ends a
cycle.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Connection, Engine

from watcher import analyse as analysis
from watcher.baseline import load_seeds
from watcher.dedup import signature
from watcher.deliver import Delivery
from watcher.errors import RuleError
from watcher.fetch import PAGE_TYPES, Fetcher, FetchResult
from watcher.pagetext import ExtractorPool
from watcher.poll import poll_feed
from watcher.reprints import Reprints
from watcher.rules.loader import load_ruleset
from watcher.rules.schema import RuleSet
from watcher.settings import Settings
from watcher.store import findings, repo
from watcher.store.db import entry_engine, migrate
from watcher.store.known import KnownFindings
from watcher.types import Article, Decision, Entry, EntryState, Finding, Known, Outcome

log = logging.getLogger("watcher.pipeline")

POLL_THREADS = 8
FEED_BATCH = 32  # due feeds claimed at a time, between batches of entries
ENTRY_BATCH = 16  # entries claimed at a time: small, so a dead worker strands few


def utcnow() -> datetime:
    return datetime.now(UTC)


def worker_name() -> str:
    """This worker's name on the leases it takes.

    ``WATCHER_WORKER_ID`` (e.g. the host name under systemd) lets a restarted worker take back
    its own leases at once after a crash; by default the name includes the process id, and a
    dead worker's leases return to the pool when they expire. Two live workers must never
    share a name.
    """
    return os.environ.get("WATCHER_WORKER_ID") or f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class CycleReport:
    feeds_polled: int = 0
    feeds_failed: int = 0
    feeds_parsed: int = 0  # fetched and parsed: the feed changed (304s and same bodies are not)
    entries_new: int = 0
    articles: int = 0
    entries_failed: int = 0
    findings: dict[tuple[str, str], int] = field(default_factory=dict)  # (rule, kind) -> n
    feed_failures: dict[str, int] = field(default_factory=dict)  # status -> n
    matches: dict[str, int] = field(default_factory=dict)  # rule -> articles it matched
    alerts_sent: int = 0
    alerts_failed: int = 0
    alerts_pending: int = 0

    def count(self, rule_id: str, kind: str) -> None:
        self.findings[(rule_id, kind)] = self.findings.get((rule_id, kind), 0) + 1

    def __str__(self) -> str:
        kinds: dict[str, int] = {}
        for (_rule, kind), n in self.findings.items():
            kinds[kind] = kinds.get(kind, 0) + n
        found = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
        return (f"{self.feeds_polled} feeds polled ({self.feeds_failed} failed, "
                f"{self.feeds_parsed} parsed), "
                f"{self.entries_new} new entries, {self.articles} articles "
                f"({self.entries_failed} unreadable), findings: {found}; alerts "
                f"{self.alerts_sent} sent, {self.alerts_failed} failed, "
                f"{self.alerts_pending} pending")


class Pipeline:
    """The service's core. The scheduler and the CLI drive it; tests drive it directly."""

    def __init__(self, settings: Settings, engine: Engine, delivery: Delivery, *,
                 fetcher: Fetcher | None = None, extractor: ExtractorPool | None = None,
                 clock: Callable[[], datetime] = utcnow, owner: str | None = None,
                 on_rule_errors: Callable[[list[RuleError]], None] | None = None):
        self.settings = settings
        self.engine = engine
        self.entry_engine = entry_engine(engine)  # see there: entries' transactions only
        self.delivery = delivery
        self.fetcher = fetcher or Fetcher(settings.fetch)
        self.extractor = extractor or ExtractorPool(workers=1,
                                                    timeout=settings.fetch.extract_timeout)
        self.clock = clock
        self.owner = owner or worker_name()
        self.rules: RuleSet | None = None
        self.rule_errors: list[RuleError] = []
        self.on_rule_errors = on_rule_errors
        self.reprints = Reprints(engine)
        self.known = KnownFindings()
        self.stopping = threading.Event()  # set on SIGTERM: take no new work
        # One pool of fetch threads for the pipeline's life, not new threads per batch.
        self._threads = ThreadPoolExecutor(max_workers=POLL_THREADS, thread_name_prefix="fetch")
        self._lock = threading.Lock()

    # --- set-up ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Migrate the schema, register the config's feeds, load rules and the baseline."""
        migrate(self.engine)
        repo.sync_feeds(self.engine, self.settings.feeds, self.settings.schedule.interval)
        self.reload_rules()

    def reload_rules(self) -> list[RuleError]:
        """Load the rule files; a broken file keeps its last good rules live."""
        ruleset, errors = load_ruleset(self.settings.rules_dir, previous=self.rules)
        changed = self.rules is None or ruleset.fingerprint != self.rules.fingerprint
        new_errors = [str(e) for e in errors] != [str(e) for e in self.rule_errors]
        self.rules, self.rule_errors = ruleset, errors
        for err in errors:
            log.error("rule file rejected, last good version stays live: %s", err)
        if errors and new_errors and self.on_rule_errors:
            self.on_rule_errors(errors)
        if changed:
            log.info("rules loaded: %s", ", ".join(sorted(ruleset.rules)) or "none")
        self.load_baseline()  # also when only the seeds changed
        return errors

    def load_baseline(self) -> bool:
        """Store what the rules find in the seeds as known facts, again whenever the rules or
        the seeds (texts, dates, outlets) changed."""
        assert self.rules is not None
        seeds = load_seeds(self.settings.baseline_dir)
        fingerprint = hashlib.sha256(repr((self.rules.fingerprint, [
            (a.url, a.text, a.published, a.outlet) for a in seeds])).encode()).hexdigest()
        if findings.baseline_fingerprint(self.engine) == fingerprint:
            return False
        found = [(a, signature(a.text), analysis.baseline_findings(a, self.rules)) for a in seeds]
        stored = findings.replace_baseline(self.engine, fingerprint, found, self.clock())
        if stored:
            log.info("baseline loaded: %d documents, %d known facts", len(seeds),
                     sum(len(f) for _, _, f in found))
        return stored

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
        self.extractor.close()
        self.fetcher.close()
        if self.entry_engine is not self.engine:
            self.entry_engine.dispose()

    # --- the cycle ------------------------------------------------------------------------------

    def run_cycle(self, deliver: bool = True) -> CycleReport:
        """Poll every due feed, process every new entry and (unless the service delivers in
        its own job) deliver every pending alert."""
        with self._lock:
            report = CycleReport()
            while not self.stopping.is_set():
                polled = self.poll(report)  # a batch of due feeds, so workers share them
                self.process(report)
                if not polled:
                    break
            if deliver:
                self.delivery.deliver(report)
            return report

    def release_claims(self) -> None:
        """Hand back leased work on shutdown so the next start (or worker) takes it at once."""
        repo.release_all(self.engine, self.owner)
        repo.release_all(self.engine, self.delivery.owner)

    def poll(self, report: CycleReport) -> int:
        """Poll one batch of due feeds; returns how many were due."""
        now = self.clock()
        due = repo.claim_due_feeds(self.engine, now, self.owner, self.settings.schedule.lease,
                                   FEED_BATCH)
        if not due:
            return 0
        outcomes = list(self._threads.map(lambda fs: poll_feed(self.fetcher, fs[1], now), due))
        for (feed_id, _), out in zip(due, outcomes, strict=True):
            entries = out.parsed.entries if out.parsed is not None else ()
            new = repo.save_feed_state(self.engine, feed_id, out.state, now, entries)
            report.feeds_polled += 1
            report.feeds_parsed += out.parsed is not None
            report.entries_new += new
            if out.error:
                report.feeds_failed += 1
                report.feed_failures[out.status] = report.feed_failures.get(out.status, 0) + 1
                log.warning("feed %s: %s: %s", out.state.url, out.status, out.error)
        return len(due)

    def process(self, report: CycleReport) -> None:
        """Every pending entry becomes an article (page text, or the feed's own text)."""
        while not self.stopping.is_set():
            batch = repo.claim_pending_entries(self.engine, self.clock(), self.owner,
                                               self.settings.schedule.lease, ENTRY_BATCH)
            if not batch:
                return
            claimed = time.monotonic()
            # Pages are fetched 8 at a time; each entry is processed as soon as its page is in
            # (in order), while the later pages are still coming.
            pages = self._threads.map(lambda e: self._fetch_page(e[1]), batch)
            # One connection for the batch: checking one out costs a round trip (its ping).
            with self.entry_engine.connect() as conn:
                for i, ((entry_id, entry), page) in enumerate(zip(batch, pages, strict=True)):
                    if self.stopping.is_set():
                        break  # its lease is released on shutdown
                    claimed = self._keep_lease([e for e, _ in batch[i:]], claimed)
                    self._process_entry(conn, entry_id, entry, page, report)

    def _keep_lease(self, entry_ids: list[int], since: float) -> float:
        """Renew the leases of a batch that has used half its lease (slow pages): another
        worker must not take entries this one is still on. Returns when it last renewed."""
        lease = self.settings.schedule.lease
        if time.monotonic() - since < lease / 2:
            return since
        repo.renew_entry_leases(self.engine, entry_ids, self.owner,
                                self.clock() + timedelta(seconds=lease))
        return time.monotonic()

    def _fetch_page(self, entry: Entry) -> FetchResult | None:
        if not entry.link or not entry.link.startswith(("http://", "https://")):
            return None
        return self.fetcher.get(entry.link, allowed_types=PAGE_TYPES)

    def _process_entry(self, conn: Connection, entry_id: int, entry: Entry,
                       page: FetchResult | None, report: CycleReport) -> None:
        status, error, article = "ok", None, None
        if page is not None and page.ok:
            res = self.extractor.extract(page.body, page.url, fallback=entry)
            status, error, article = res.status, res.error, res.article
        elif page is not None:
            status, error = page.status, page.error
        if article is None and (entry.title or entry.summary):
            # The page could not be read: the feed's own title and summary still count.
            article = Article(url=entry.link or f"entry:{entry.key}", title=entry.title,
                              text=entry.summary, published=entry.published, outlet=entry.outlet)
        if article is None:
            repo.finish_entry(conn, entry_id, EntryState.FAILED, status, error or "no text")
            report.entries_failed += 1
            return
        article = replace(article, url=entry.link or article.url,
                          title=entry.title or article.title,
                          published=entry.published or article.published,
                          outlet=article.outlet or entry.outlet)
        if status != "ok":
            log.info("entry %s: page %s (%s); matched the feed's text", entry.link, status, error)
        self.analyse(article, report, entry=(entry_id, status, error), conn=conn)
        report.articles += 1

    # --- analyse and store -----------------------------------------------------------------------

    def analyse(self, article: Article, report: CycleReport | None = None,
                rule_ids: Sequence[str] | None = None,
                entry: tuple[int, str, str | None] | None = None,
                conn: Connection | None = None) -> int:
        """Analyse an article (``watcher.analyse``) and store it with its findings and their
        alerts, in one transaction that also closes its ``entry`` (id, status, error) when it
        came from one. Returns the article's id."""
        if conn is None:
            with self.engine.connect() as own:
                return self.analyse(article, report, rule_ids, entry, own)
        assert self.rules is not None
        rules = self.rules
        now = self.clock()
        sig = self.reprints.signature(article)  # the CPU work before the transaction
        matched = analysis.match(article, rules, rule_ids=rule_ids)
        outcomes: tuple[Outcome, ...] = ()
        with conn.begin():
            reprint = self.reprints.lookup(sig, conn) if sig is not None else None
            article_id, inserted = repo.save_article(
                conn, article, "feed", now, signature=sig,
                duplicate_of=reprint.article_id if reprint else None)
            if reprint is not None and reprint.article_id == article_id:
                reprint = None  # a re-run over the same article (another worker stored it)
            if matched.findings:
                known = self.known.of_rules(conn, matched.known_ids(rules))
                outcomes = analysis.conclude(matched, rules, known, reprint=reprint,
                                             default_channel=self.settings.slack.channel
                                             ).outcomes
                findings.record_findings(conn, article_id, outcomes, now)
            if entry is not None:
                entry_id, status, error = entry
                repo.finish_entry(conn, entry_id, EntryState.DONE, status, error, article_id)
        if inserted and sig is not None:
            self.reprints.add(article_id, sig, now)
        if report is not None:
            for o in outcomes:
                report.count(o.finding.rule_id, o.decision.kind)
            for rule_id in {o.finding.rule_id for o in outcomes}:
                report.matches[rule_id] = report.matches.get(rule_id, 0) + 1
        return article_id

    def replay(self, since: datetime, rule_ids: Sequence[str] | None = None,
               dry_run: bool = False, progress: Callable[[int, int], None] | None = None,
               ) -> list[tuple[Article, Finding, Decision]]:
        """Run the rules again over stored articles (after a rule change). Findings already on
        record do not repeat; new ones alert, unless ``dry_run``, which stores nothing (what
        it would store is kept in memory, so a later article sees it as known)."""
        assert self.rules is not None
        rules = self.rules
        ids = repo.article_ids_since(self.engine, since)
        memory = analysis.KnownList(findings.known_findings(self.engine)) if dry_run else None
        news: list[tuple[Article, Finding, Decision]] = []
        for i, article_id in enumerate(ids, 1):
            article = repo.load_article(self.engine, article_id)
            if article is not None:
                news += self._replay_one(article, article_id, rules, rule_ids, memory)
            if progress:
                progress(i, len(ids))
        return news

    def _replay_one(self, article: Article, article_id: int, rules: RuleSet,
                    rule_ids: Sequence[str] | None, memory: analysis.KnownList | None,
                    ) -> list[tuple[Article, Finding, Decision]]:
        matched = analysis.match(article, rules, rule_ids=rule_ids)
        if not matched.findings:
            return []
        known: Sequence[Known] = memory.items if memory is not None else \
            self.known.of_rules(self.engine, matched.known_ids(rules))
        result = analysis.conclude(matched, rules, known,
                                   default_channel=self.settings.slack.channel)
        if memory is not None:
            memory.add(result, article_id)
        else:
            findings.record_findings(self.engine, article_id, result.outcomes, self.clock())
        return [(article, o.finding, o.decision) for o in result.outcomes if o.alert]
