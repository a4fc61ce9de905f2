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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection, Engine

from watcher import analyse as analysis
from watcher.baseline import load_seeds
from watcher.dedup import Signature, signature
from watcher.deliver import Delivery
from watcher.errors import ConfigError, RuleError
from watcher.fetch import PAGE_TYPES, Fetcher
from watcher.pagetext import ExtractorPool
from watcher.parse import ParsedFeed, parse_feed
from watcher.poll import poll_feed
from watcher.reprints import Reprints
from watcher.rules.loader import fingerprint as rules_fingerprint
from watcher.rules.loader import load_ruleset
from watcher.rules.schema import RuleSet
from watcher.settings import Settings
from watcher.store import findings, repo
from watcher.store.db import entry_engine, migrate
from watcher.store.known import KnownFindings
from watcher.types import Article, Decision, Entry, EntryState, Finding, Known, Outcome

log = logging.getLogger("watcher.pipeline")

POLL_THREADS = 8  # feeds and pages fetched at the same time (at most [fetch] max_per_host
#                   to one host)
FEED_BATCH = 64  # due feeds claimed at a time; their new states are stored in one statement
ENTRY_BATCH = 32  # entries claimed at a time, analysed in one transaction
FRESH_SLICE = 2.0  # seconds of fresh entries before due feeds are polled again: a poll is
#                    cheap and tells what is newest, so polls run ahead of the page work
DELIVER_EVERY = 2.0  # seconds: alerts go out at least this often (the service's deliver
#                      job; within a `run --once` cycle)
PROGRESS_EVERY = 5.0  # seconds between two progress reports while entries are worked through


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
    pages_unread: int = 0  # articles matched on the feed's own text: the page was not read
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
                f"({self.pages_unread} from the feed's text, {self.entries_failed} unreadable), "
                f"findings: {found}; alerts "
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
        self.extractor = extractor or ExtractorPool(
            workers=settings.fetch.extract_workers or os.cpu_count() or 1,
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
        self._progress = _ProgressLog(engine, None)
        self._delivered_at = time.monotonic()
        self._made_at_delivery = 0

    # --- set-up ---------------------------------------------------------------------------------

    def start(self, eager: bool = True) -> None:
        """Migrate the schema, register the config's feeds, load rules and the baseline, start
        the extraction workers. ``eager=False`` (``run --once``): rules and workers when an
        entry needs them (the baseline still at once when it is not current), so a cycle with
        nothing new does not pay for them (the rules' gazetteer alone takes a second)."""
        migrate(self.engine)
        repo.sync_feeds(self.engine, self.settings.feeds, self.settings.schedule.interval)
        if eager:
            self.extractor.start()
        if eager or not self._baseline_current():
            self.reload_rules()  # the baseline is stored (again) now, whatever comes next

    def _baseline_current(self) -> bool:
        """Whether the stored baseline is of these rule files and seeds (from the files'
        bytes: nothing parsed, no gazetteer built)."""
        try:
            seeds = load_seeds(self.settings.baseline_dir)
        except ConfigError:
            return False  # loading reports it
        fingerprint = _baseline_fingerprint(rules_fingerprint(self.settings.rules_dir), seeds)
        return findings.baseline_fingerprint(self.engine) == fingerprint

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
        fingerprint = _baseline_fingerprint(self.rules.fingerprint, seeds)
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

    def run_cycle(self, deliver: bool = True,
                  progress: Callable[[Progress], None] | None = None) -> CycleReport:
        """Poll every due feed, process every new entry and (unless the service delivers in
        its own job) deliver every pending alert: as soon as a batch of entries made any, and
        at the end.

        Polls and entries take turns: each batch of due feeds is polled, then its fresh
        entries are processed; backlog (``[schedule] backlog_after``) waits while feeds are due,
        so a new feed's archive never holds up the news. ``progress`` hears how far the entries
        are, every few seconds."""
        with self._lock:
            report = CycleReport()
            on_batch = (lambda: self._deliver_some(report)) if deliver else None
            self._progress = _ProgressLog(self.engine, progress)
            while not self.stopping.is_set():
                polled = self.poll(report)  # a batch of due feeds, so workers share them
                more = self.process(report, on_batch)
                if not polled and not more:
                    break
            self._progress.done(report)
            if deliver:
                self.delivery.deliver(report)
            return report

    def _deliver_some(self, report: CycleReport) -> None:
        """Within a cycle that delivers (``run --once``): send the alerts made so far, when a
        batch made new ones or a while after the last delivery."""
        made = sum(n for (_, kind), n in report.findings.items() if kind != "known")
        now = time.monotonic()
        if made > self._made_at_delivery or now - self._delivered_at >= DELIVER_EVERY:
            self._made_at_delivery, self._delivered_at = made, now
            self.delivery.deliver(report)

    def release_claims(self) -> None:
        """Hand back leased work on shutdown so the next start (or worker) takes it at once."""
        repo.release_all(self.engine, self.owner)
        repo.release_all(self.engine, self.delivery.owner)

    def poll(self, report: CycleReport) -> int:
        """Poll one batch of due feeds and store what came back in one transaction; returns
        how many were due."""
        now = self.clock()
        due = repo.claim_due_feeds(self.engine, now, self.owner, self.settings.schedule.lease,
                                   FEED_BATCH)
        if not due:
            return 0
        outcomes = list(self._threads.map(
            lambda fs: poll_feed(self.fetcher, fs[1], now, self._parse), due))
        polls = []
        for (feed_id, _), out in zip(due, outcomes, strict=True):
            polls.append(repo.Poll(feed_id, out.state,
                                   out.parsed.entries if out.parsed is not None else ()))
            report.feeds_polled += 1
            report.feeds_parsed += out.parsed is not None
            if out.error:
                report.feeds_failed += 1
                report.feed_failures[out.status] = report.feed_failures.get(out.status, 0) + 1
                log.warning("feed %s: %s: %s", out.state.url, out.status, out.error)
        backlog = self.settings.schedule.backlog_after
        report.entries_new += repo.save_polls(self.engine, polls, now,
                                              timedelta(seconds=backlog) if backlog else None)
        return len(due)

    def _parse(self, body: bytes, headers: Mapping[str, str], feed_url: str,
               **options: Any) -> ParsedFeed:
        """``parse_feed`` in an extraction worker: feeds are untrusted bytes too (feedparser
        has no time limit), and parsing 50 items is 15-40 ms of CPU the service's own
        process, busy storing and analysing, does not spend."""
        ran = self.extractor.run(parse_feed, body, headers, feed_url, **options)
        if ran.status != "ok":
            return ParsedFeed("not_a_feed", None, (), f"feed parser: {ran.error}")
        value: ParsedFeed = ran.value
        return value

    def process(self, report: CycleReport,
                on_batch: Callable[[], None] | None = None) -> bool:
        """Turn pending entries into articles (page text, or the feed's own text) and analyse
        them, a batch at a time (``_analyse_batch``: its transactions). The next batch's pages are
        fetched and extracted (``[fetch] extract_workers`` at a time) while this one is
        analysed. Returns True when it stopped with entries left: backlog, or fresh entries
        after ``FRESH_SLICE`` seconds, gives way to due feeds."""
        started = time.monotonic()
        batch = self._claim()
        pages = self._read_pages(batch)
        while batch:
            if self.stopping.is_set():
                return True  # the leases are released on shutdown
            give_way = ((batch[-1].backlog or time.monotonic() - started > FRESH_SLICE)
                        and self._feeds_due())
            after = [] if give_way else self._claim(besides=[c.id for c in batch])
            after_pages = self._read_pages(after)
            self._analyse_batch(batch, pages, report)
            self._progress.step(report)
            if on_batch is not None:
                on_batch()
            if give_way:
                return True
            batch, pages = after, after_pages
        return False

    def _claim(self, besides: Sequence[int] = ()) -> list[repo.Claimed]:
        if self.stopping.is_set():
            return []
        batch = repo.claim_entries(self.engine, self.clock(), self.owner,
                                   self.settings.schedule.lease, ENTRY_BATCH, besides)
        if batch:
            self._need_rules()
        return batch

    def _need_rules(self) -> None:
        """Load the rules if they are not yet (`run --once` loads them when something needs
        them), before any transaction of the caller's begins: loading may store the baseline."""
        if self.rules is None:
            self.reload_rules()

    def _feeds_due(self) -> bool:
        return repo.any_feed_due(self.engine, self.clock())

    def _read_pages(self, batch: list[repo.Claimed]) -> list[Future[Page]]:
        claimed = time.monotonic()
        return [self._threads.submit(self._read_page, c.entry, claimed) for c in batch]

    def _read_page(self, entry: Entry, claimed: float) -> Page:
        """Fetch an entry's page and extract its article (in a fetch thread)."""
        if not entry.link or not entry.link.startswith(("http://", "https://")):
            return Page(None, "ok", None, claimed)
        page = self.fetcher.get(entry.link, allowed_types=PAGE_TYPES)
        if not page.ok:
            return Page(None, page.status, page.error, claimed)
        res = self.extractor.extract(page.body, page.url, fallback=entry)
        return Page(res.article, res.status, res.error, claimed, res.signature)

    def _analyse_batch(self, batch: list[repo.Claimed], pages: list[Future[Page]],
                       report: CycleReport) -> None:
        """Analyse a batch of entries in claim order and close them: entries without findings
        share one transaction; an entry with findings ends it (its article, findings, alerts
        and story, and the entries before it, commit together), so a transaction holds at
        most one story's lock: two workers' batches never wait for each other's stories
        (a deadlock on PostgreSQL). The pages are all in before it begins: no transaction
        holds a lock while waiting for the network."""
        read = [f.result() for f in pages]
        if read:
            self._keep_lease([c.id for c in batch], min(p.claimed for p in read))
        done: list[repo.Finished] = []
        with self.entry_engine.connect() as conn:
            try:
                tx = conn.begin()
                self.reprints.refresh(conn)  # other workers' articles: once a batch
                for c, page in zip(batch, read, strict=True):
                    article = _article_of(c.entry, page)
                    if article is None:
                        done.append(repo.Finished(c.id, EntryState.FAILED, page.status,
                                                  page.error or "no text"))
                        report.entries_failed += 1
                        continue
                    if page.status != "ok":
                        report.pages_unread += 1
                        log.debug("entry %s: page %s (%s); matched the feed's text",
                                  c.entry.link, page.status, page.error)
                    sig = page.signature if page.article is not None else None
                    article_id, found = self._analyse_in(conn, article, report, sig=sig)
                    done.append(repo.Finished(c.id, EntryState.DONE, page.status,
                                              page.error, article_id))
                    report.articles += 1
                    if found:
                        repo.finish_entries(conn, done)
                        tx.commit()
                        done, tx = [], conn.begin()
                repo.finish_entries(conn, done)
                tx.commit()
            except BaseException:
                self._forget_caches()  # they may hold what was just rolled back
                raise

    def _forget_caches(self) -> None:
        self.reprints = Reprints(self.engine)
        self.known = KnownFindings()

    def _keep_lease(self, entry_ids: list[int], since: float) -> None:
        """Renew the leases of a batch that has used half its lease (slow pages): another
        worker must not take entries this one is still on."""
        lease = self.settings.schedule.lease
        if time.monotonic() - since >= lease / 2:
            repo.renew_entry_leases(self.engine, entry_ids, self.owner,
                                    self.clock() + timedelta(seconds=lease))

    # --- analyse and store -----------------------------------------------------------------------

    def analyse(self, article: Article, report: CycleReport | None = None,
                rule_ids: Sequence[str] | None = None) -> int:
        """Analyse an article (``watcher.analyse``) and store it with its findings and their
        alerts, in one transaction. Returns the article's id."""
        self._need_rules()
        with self.engine.connect() as conn:
            try:
                with conn.begin():
                    self.reprints.refresh(conn)
                    return self._analyse_in(conn, article, report, rule_ids)[0]
            except BaseException:
                self._forget_caches()
                raise

    def _analyse_in(self, conn: Connection, article: Article, report: CycleReport | None,
                    rule_ids: Sequence[str] | None = None, sig: Signature | None = None,
                    ) -> tuple[int, bool]:
        """Analyse and store an article within the caller's transaction, which has just
        refreshed ``self.reprints`` (and which resets it and ``self.known`` if it rolls
        back: the article is indexed at once). ``sig``: its signature, when the extraction
        worker made it. Returns its id, and whether it had findings (stored with it)."""
        assert self.rules is not None  # _need_rules
        rules = self.rules
        now = self.clock()
        if sig is None:
            sig = self.reprints.signature(article)
        matched = analysis.match(article, rules, rule_ids=rule_ids)
        outcomes: tuple[Outcome, ...] = ()
        reprint = self.reprints.lookup(sig, refresh=False) if sig is not None else None
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
        if report is not None:
            for o in outcomes:
                report.count(o.finding.rule_id, o.decision.kind)
            for rule_id in {o.finding.rule_id for o in outcomes}:
                report.matches[rule_id] = report.matches.get(rule_id, 0) + 1
        if inserted and sig is not None:
            self.reprints.add(article_id, sig, now)
        return article_id, bool(matched.findings)

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


def _baseline_fingerprint(rules_fingerprint: str, seeds: Sequence[Article]) -> str:
    return hashlib.sha256(repr((rules_fingerprint, [
        (a.url, a.text, a.published, a.outlet) for a in seeds])).encode()).hexdigest()


@dataclass(frozen=True)
class Page:
    """An entry's page as a fetch thread left it: the extracted article, or why there is
    none (``status``: a fetch or extraction kind; "ok" with no article: no page to read)."""

    article: Article | None
    status: str
    error: str | None
    claimed: float  # time.monotonic() when its entry's batch was claimed
    signature: Signature | None = None  # the article's, computed by the extraction worker


def _article_of(entry: Entry, page: Page) -> Article | None:
    """The article an entry stands for: its page's, else (page unread) the feed's own title
    and summary; the feed's link, title and date win over the page's."""
    article = page.article
    if article is None and (entry.title or entry.summary):
        article = Article(url=entry.link or f"entry:{entry.key}", title=entry.title,
                          text=entry.summary, published=entry.published, outlet=entry.outlet)
    if article is None:
        return None
    return replace(article, url=entry.link or article.url, title=entry.title or article.title,
                   published=entry.published or article.published,
                   outlet=article.outlet or entry.outlet)


@dataclass(frozen=True)
class Progress:
    """How far a cycle is through its entries."""

    done: int  # entries processed in this cycle
    fresh_left: int  # pending entries, fresh and backlog (every worker's)
    backlog_left: int
    per_second: float

    def __str__(self) -> str:
        return (f"{self.done:,} entries done, {self.fresh_left:,} fresh and "
                f"{self.backlog_left:,} backlog left ({self.per_second:,.0f}/s)")


class _ProgressLog:
    """Logs (and tells ``listener``) how far the entries are, every ``PROGRESS_EVERY`` s."""

    def __init__(self, engine: Engine, listener: Callable[[Progress], None] | None):
        self.engine, self.listener = engine, listener
        self.started = self.last = time.monotonic()
        self.logged = False

    def _now(self, report: CycleReport) -> Progress:
        fresh, backlog = repo.pending_entries(self.engine)
        done = report.articles + report.entries_failed
        return Progress(done, fresh, backlog, done / max(time.monotonic() - self.started, 1e-3))

    def step(self, report: CycleReport) -> None:
        if time.monotonic() - self.last < PROGRESS_EVERY:
            return
        self.last = time.monotonic()
        progress = self._now(report)
        if progress.fresh_left or progress.backlog_left:
            log.info("entries: %s", progress)
            self.logged = True
        if self.listener is not None:
            self.listener(progress)

    def done(self, report: CycleReport) -> None:
        if self.logged or self.listener is not None:
            progress = self._now(report)
            if self.logged:
                log.info("entries: %s", progress)
            if self.listener is not None:
                self.listener(progress)
