"""One watcher cycle: poll due feeds, turn new entries into articles, match, decide, deliver.

Each stage takes and returns values (``watcher.types``); this module wires them to storage.
A stage's failure is recorded on the feed, entry or alert it concerns; it never ends a cycle.
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
from typing import Any

from sqlalchemy.engine import Connection, Engine

from watcher import decide as decide_stage
from watcher import match as match_stage
from watcher.baseline import load_seeds
from watcher.dedup import signature
from watcher.deliver import Delivery, alert_fields
from watcher.errors import RuleError
from watcher.pagetext import ExtractorPool
from watcher.fetch import Fetcher
from watcher.poll import poll_feed
from watcher.reprints import Reprint, Reprints, reprint_decisions
from watcher.rules.loader import RuleSet, load_ruleset
from watcher.settings import Settings
from watcher.store import repo
from watcher.store.db import entry_engine, migrate
from watcher.store.known import KnownFindings
from watcher.types import Article, Decision, Entry, Finding, Known

log = logging.getLogger("watcher.pipeline")

HTML_TYPES = ("text/html", "application/xhtml+xml")
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
    entries_new: int = 0
    articles: int = 0
    entries_failed: int = 0
    findings: dict[tuple[str, str], int] = field(default_factory=dict)  # (rule, kind) -> n
    feed_failures: dict[str, int] = field(default_factory=dict)  # status -> n
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
        return (f"{self.feeds_polled} feeds polled ({self.feeds_failed} failed), "
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
        if repo.baseline_fingerprint(self.engine) == fingerprint:
            return False
        found = [(a, signature(a.text), match_stage.match_article(a, self.rules, baseline=True))
                 for a in seeds]
        stored = repo.replace_baseline(self.engine, fingerprint, found, self.clock())
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

    def _fetch_page(self, entry: Entry) -> Any:
        if not entry.link or not entry.link.startswith(("http://", "https://")):
            return None
        return self.fetcher.get(entry.link, allowed_types=HTML_TYPES)

    def _process_entry(self, conn: Connection, entry_id: int, entry: Entry, page: Any,
                       report: CycleReport) -> None:
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
            repo.finish_entry(conn, entry_id, "failed", status, error or "no text")
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

    # --- match and decide -----------------------------------------------------------------------

    def analyse(self, article: Article, report: CycleReport | None = None,
                rule_ids: Sequence[str] | None = None,
                entry: tuple[int, str, str | None] | None = None,
                conn: Connection | None = None) -> int:
        """Match an article, decide what is news, and store the article with its findings and
        their alerts, in one transaction that also closes its ``entry`` (id, status, error)
        when it came from one. Returns the article's id."""
        if conn is None:
            with self.engine.connect() as own:
                return self.analyse(article, report, rule_ids, entry, own)
        now = self.clock()
        sig = self.reprints.signature(article)  # the CPU work before the transaction
        findings = self.match(article, rule_ids)
        with conn.begin():
            reprint = self.reprints.lookup(sig, conn) if sig is not None else None
            article_id, inserted = repo.save_article(
                conn, article, "feed", now, signature=sig,
                duplicate_of=reprint.article_id if reprint else None)
            if reprint is not None and reprint.article_id == article_id:
                reprint = None  # a re-run over the same article (another worker stored it)
            results = self.decide(conn, article, findings, reprint=reprint)
            if results:
                repo.record_findings(conn, article_id, results, now)
            if entry is not None:
                entry_id, status, error = entry
                repo.finish_entry(conn, entry_id, "done", status, error, article_id)
        if inserted and sig is not None:
            self.reprints.add(article_id, sig, now)
        if report is not None:
            for f, d, _alert in results:
                report.count(f.rule_id, d.kind)
        return article_id

    def match(self, article: Article, rule_ids: Sequence[str] | None = None) -> list[Finding]:
        """The rules' findings in an article, one per (rule, key)."""
        assert self.rules is not None
        findings = match_stage.match_article(article, self.rules)
        if rule_ids is not None:
            findings = [f for f in findings if f.rule_id in rule_ids]
        seen: set[tuple[str, str]] = set()
        return [f for f in findings
                if (f.rule_id, f.key) not in seen and not seen.add((f.rule_id, f.key))]

    def decide(self, bind: repo.Bind, article: Article, findings: list[Finding],
               known: list[Known] | None = None, reprint: Reprint | None = None,
               ) -> list[tuple[Finding, Decision, dict[str, Any] | None]]:
        """Decide what is news, without storing: (finding, decision, alert row or None)."""
        if not findings:
            return []
        if known is None:
            known = self.known.of_rules(bind, {f.rule_id for f in findings})
        decided = []
        now = self.clock()
        for f in findings:
            decision = decide_stage.decide(f, known, now)
            decided.append((f, decision))
            known.append(_as_known(f, decision))  # two findings of one article are one story
        if reprint is not None:
            decided = reprint_decisions(decided, reprint,
                                        repo.findings_of_article(bind, reprint.article_id))
        return [(f, d, self._alert_for(bind, f, d, article)) for f, d in decided]

    def judge(self, article: Article, known: list[Known] | None = None,
              rule_ids: Sequence[str] | None = None,
              ) -> list[tuple[Finding, Decision, dict[str, Any] | None]]:
        """Match and decide, without storing."""
        return self.decide(self.engine, article, self.match(article, rule_ids), known)

    def replay(self, since: datetime, rule_ids: Sequence[str] | None = None,
               dry_run: bool = False, progress: Callable[[int, int], None] | None = None,
               ) -> list[tuple[Article, Finding, Decision]]:
        """Run the rules again over stored articles (after a rule change). Findings already on
        record do not repeat; new ones alert, unless ``dry_run``, which stores nothing."""
        ids = repo.article_ids_since(self.engine, since)
        known = repo.known_findings(self.engine) if dry_run else None
        news: list[tuple[Article, Finding, Decision]] = []
        for i, article_id in enumerate(ids, 1):
            article = repo.load_article(self.engine, article_id)
            if article is not None:
                results = self.judge(article, known, rule_ids)
                news += [(article, f, d) for f, d, a in results if a is not None]
                if results and not dry_run:
                    repo.record_findings(self.engine, article_id, results, self.clock())
            if progress:
                progress(i, len(ids))
        return news

    def _alert_for(self, bind: repo.Bind, f: Finding, d: Decision,
                   article: Article) -> dict[str, Any] | None:
        assert self.rules is not None
        rule = self.rules.rules.get(f.rule_id)
        channel = (rule.channel if rule and rule.channel else None) or self.settings.slack.channel
        severity = rule.severity if rule else "info"
        if d.kind in ("new", "update"):
            return alert_fields(d.kind, f, d, article, channel, severity)
        if d.kind == "known" and d.matched is not None and d.matched.origin == "article" \
                and d.matched.id > 0:
            dev = d.matched.development_id or d.matched.id
            outlets = repo.outlets_of_development(bind, dev)
            if (article.outlet or article.url) not in outlets:
                return alert_fields("sources", f, d, article, channel, severity)
        return None


def _as_known(f: Finding, d: Decision) -> Known:
    dev = (d.matched.development_id or d.matched.id) if d.matched else None
    return Known(id=-1, rule_id=f.rule_id, key=f.key, facts=f.facts, origin="article",
                 development_id=dev, display=f.display)
