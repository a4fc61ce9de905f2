"""The ``watcher`` command line.

    watcher run [--once] [--config PATH]   (--once exits 3 when alerts are left pending)
    watcher migrate
    watcher rules check|test [PATH]   (test --inbox: the cases marked not news in Slack)
    watcher rules explain RULE (--text FILE | --url URL) [--date D]
    watcher rules diff [PATH] [--since 30d] [--rule ID]   (exit 1: differences; 2: an error)
    watcher feeds [list] | add URL | remove URL | import OPML
    watcher findings [--rule ID] [--since 7d]
    watcher alerts [list] [--state S] | show ID | retry ID
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watcher import redact
from watcher.errors import WatcherError
from watcher.observe import safe_text, setup_logging
from watcher.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from watcher.types import Article

log = logging.getLogger("watcher")

EXIT_PENDING = 3  # `run --once`: alerts still pending when it ended (Slack away or limiting)
MIN_RETRY_WAIT = 0.2  # seconds between two deliveries while `run --once` waits for Slack


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.log_level = getattr(args, "log_level_sub", None) or args.log_level
    args.log_format = getattr(args, "log_format_sub", None) or args.log_format
    setup_logging(args.log_level or "INFO", args.log_format or "auto")
    redact.register_environment(os.environ)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except WatcherError as exc:
        print(f"watcher: {safe_text(str(exc))}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - shown through the log, secrets hidden
        log.critical("%s: %s", type(exc).__name__, exc, exc_info=True)
        return 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="watcher", description=__doc__.split("\n")[1].strip())
    p.add_argument("--config", help="config file (default: $WATCHER_CONFIG or ./watcher.toml)")
    p.add_argument("--log-level", help="DEBUG, INFO, WARNING, ERROR (default: [log] level)")
    p.add_argument("--log-format", choices=["auto", "human", "json"],
                   help="log lines on stderr (default: [log] format; auto = human on a "
                        "terminal, JSON otherwise)")
    common = argparse.ArgumentParser(add_help=False)  # accepted after any command too
    common.add_argument("--config", dest="config_sub", default=argparse.SUPPRESS,
                        help="config file (default: $WATCHER_CONFIG or ./watcher.toml)")
    common.add_argument("--log-level", dest="log_level_sub", default=argparse.SUPPRESS,
                        help=argparse.SUPPRESS)
    common.add_argument("--log-format", dest="log_format_sub", default=argparse.SUPPRESS,
                        choices=["auto", "human", "json"], help=argparse.SUPPRESS)

    def command(group: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
                **kw: Any) -> argparse.ArgumentParser:
        return group.add_parser(name, parents=[common], **kw)

    sub = p.add_subparsers(dest="command")

    run = command(sub, "run", help="run the service (or one cycle with --once)",
                  epilog=f"Exit codes with --once: 0 done, nothing left to send; "
                         f"{EXIT_PENDING} alerts left pending (Slack unavailable or rate "
                         f"limiting past [slack] once_wait); 1 error; 2 bad configuration.")
    run.add_argument("--once", action="store_true",
                     help="poll every feed, process every new entry, deliver (waiting out "
                          "Slack's Retry-After up to [slack] once_wait seconds), exit")
    run.set_defaults(func=cmd_run)

    mig = command(sub, "migrate", help="bring the database schema up to date")
    mig.set_defaults(func=cmd_migrate)

    rules = command(sub, "rules", help="check, test and explain rule files")
    rsub = rules.add_subparsers(dest="rules_command")
    chk = command(rsub, "check", help="validate rule files; exit 1 on any error")
    chk.add_argument("path", nargs="?")
    chk.set_defaults(func=cmd_rules_check)
    tst = command(rsub, "test", help="run the rule unit tests in <rules>/tests/")
    tst.add_argument("path", nargs="?")
    tst.add_argument("--run", metavar="NAME", help="only the tests whose name contains NAME")
    tst.add_argument("--inbox", action="store_true",
                     help="the cases marked 'not news' in Slack (<rules>/tests/inbox/)")
    tst.set_defaults(func=cmd_rules_test)
    exp = command(rsub, "explain", help="show what a rule finds in a text or page")
    exp.add_argument("rule")
    src = exp.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="a text file (first line: title)")
    src.add_argument("--url", help="a page to fetch and extract")
    exp.add_argument("--date", help="publication date, YYYY-MM-DD or an ISO time (default: the "
                     "page's own date with --url, else today)")
    exp.set_defaults(func=cmd_rules_explain)
    dif = command(rsub, "diff", help="what a working copy of the rules changes: the alerts it "
                  "gains and loses over stored articles",
                  epilog="Exit codes: 0 no difference; 1 differences; 2 an error (a broken "
                         "rule file, reported as `rules check` does). Reads the database "
                         "read-only; posts nothing.")
    dif.add_argument("path", nargs="?", default="rules",
                     help="the working copy: a rules folder (default: ./rules)")
    dif.add_argument("--since", default="30d",
                     help="articles stored within: 30d, 12h, 30m (default 30d)")
    dif.add_argument("--rule", action="append", help="only this rule id (repeatable)")
    dif.set_defaults(func=cmd_rules_diff)

    feeds = command(sub, "feeds", help="list feeds and their health; add, remove, import")
    fsub = feeds.add_subparsers(dest="feeds_command")
    feeds.set_defaults(func=cmd_feeds_list)
    command(fsub, "list").set_defaults(func=cmd_feeds_list)
    fadd = command(fsub, "add")
    fadd.add_argument("url")
    fadd.add_argument("--interval", type=int)
    fadd.set_defaults(func=cmd_feeds_add)
    frm = command(fsub, "remove")
    frm.add_argument("url")
    frm.set_defaults(func=cmd_feeds_remove)
    fen = command(fsub, "enable", help="poll a disabled feed again (errors forgotten)")
    fen.add_argument("url")
    fen.set_defaults(func=cmd_feeds_enable)
    fimp = command(fsub, "import", help="add every feed of an OPML file")
    fimp.add_argument("opml")
    fimp.set_defaults(func=cmd_feeds_import)

    rp = command(sub, "replay", help="run the rules again over stored articles")
    rp.add_argument("--since", default="7d", help="how far back: 7d, 12h, 30m (default 7d)")
    rp.add_argument("--rule", action="append", help="only this rule id (repeatable)")
    rp.add_argument("--dry-run", action="store_true", help="print what would be sent; store "
                    "nothing")
    rp.set_defaults(func=cmd_replay)

    fi = command(sub, "findings", help="stored findings with their decision and reason")
    fi.add_argument("--rule", help="only this rule id")
    fi.add_argument("--since", default="7d", help="how far back: 7d, 12h, 30m (default 7d)")
    fi.add_argument("--limit", type=int, default=200, help="at most this many, the latest")
    fi.set_defaults(func=cmd_findings)

    st = command(sub, "status", help="one screen: feeds, alerts, last poll, rules")
    st.set_defaults(func=cmd_status)

    alerts = command(sub, "alerts", help="list alerts; show one; retry a failed one")
    asub = alerts.add_subparsers(dest="alerts_command")
    alerts.set_defaults(func=cmd_alerts_list, state=None, limit=50)
    al = command(asub, "list")
    al.add_argument("--state", help="pending, sending, sent, failed, folded")
    al.add_argument("--limit", type=int, default=50)
    al.set_defaults(func=cmd_alerts_list)
    ash = command(asub, "show", help="everything about one alert: message, decision, delivery")
    ash.add_argument("id", type=int)
    ash.set_defaults(func=cmd_alerts_show)
    ar = command(asub, "retry", help="send a failed alert again (after fixing the cause)")
    ar.add_argument("id", type=int)
    ar.set_defaults(func=cmd_alerts_retry)
    return p


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(getattr(args, "config_sub", None) or args.config)


def _engine(settings: Settings) -> Engine:
    from watcher.store.db import make_engine, migrate

    engine = make_engine(settings.database_url)
    migrate(engine)
    return engine


# --- run -------------------------------------------------------------------------------------

def cmd_run(args: argparse.Namespace) -> int:
    from watcher.schedule import run_forever
    from watcher.service import build
    from watcher.watchdog import Watchdog

    settings = _settings(args)
    setup_logging(args.log_level or settings.log.level, args.log_format or settings.log.format)
    service = build(settings)
    if not args.once:
        return run_forever(service)
    service.pipeline.start(eager=False)  # loaded when an entry needs them
    bar = ProgressBar() if sys.stderr.isatty() else None
    try:
        report = service.pipeline.run_cycle(progress=bar)
        if bar is not None:
            bar.close()
        deliver_within(service.delivery, report, settings.slack.once_wait)
        Watchdog(settings, service.engine, service.notifier, service.metrics).heartbeat()
    finally:
        service.close()
    log.info("cycle done: %s", report)
    if report.alerts_pending:
        log.warning("%d alert(s) still pending after waiting up to %gs for Slack; the next run "
                    "sends them (exit code %d)", report.alerts_pending,
                    settings.slack.once_wait, EXIT_PENDING)
        return EXIT_PENDING
    return 0


class ProgressBar:
    """The entries' progress on one terminal line (``run --once`` on a terminal)."""

    WIDTH = 30

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, p: Any) -> None:  # a watcher.pipeline.Progress
        total = p.done + p.fresh_left + p.backlog_left
        filled = self.WIDTH * p.done // total if total else self.WIDTH
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {p}\033[K")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")


def deliver_within(delivery, report, budget: float, *,  # type: ignore[no-untyped-def]
                   clock=time.monotonic, sleep=time.sleep) -> None:
    """Deliver what is due; while alerts wait for a retry (Slack's Retry-After, a backoff),
    sleep until the first is due and deliver again, for at most ``budget`` seconds in all.
    An alert due after the budget is left pending (``report.alerts_pending``)."""
    from watcher.store import outbox

    deadline = clock() + budget
    while True:
        delivery.deliver(report)
        if not report.alerts_pending:
            return
        due = outbox.next_attempt(delivery.engine)
        if due is None:
            return
        wait = max(MIN_RETRY_WAIT, (due - datetime.now(UTC)).total_seconds())
        if clock() + wait > deadline:
            return
        sleep(wait)


def cmd_migrate(args: argparse.Namespace) -> int:
    from watcher.store.db import current_revision

    engine = _engine(_settings(args))
    print(f"schema at revision {current_revision(engine)}")
    return 0


# --- rules -----------------------------------------------------------------------------------

def _rules_path(args: argparse.Namespace) -> Path:
    if args.path:
        return Path(args.path)
    return _settings(args).rules_dir


def cmd_rules_check(args: argparse.Namespace) -> int:
    from watcher.rules import commands

    return commands.check(_rules_path(args))


def cmd_rules_test(args: argparse.Namespace) -> int:
    from watcher.rules import commands

    return commands.test(_rules_path(args), run=args.run, inbox=args.inbox)


def parse_date(text: str) -> datetime:
    """``--date``: a date (midnight UTC) or an ISO time (UTC unless it says otherwise)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise WatcherError(f"--date {text!r}: expected a date such as 2019-02-08 "
                           "or a time such as 2019-02-08T15:30") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def cmd_rules_explain(args: argparse.Namespace) -> int:
    from watcher.rules import commands
    from watcher.rules.loader import load_ruleset
    from watcher.store import findings
    from watcher.types import Article

    settings = _settings(args)
    date = parse_date(args.date) if args.date else None
    ruleset, errors = load_ruleset(settings.rules_dir)
    for err in errors:
        print(err, file=sys.stderr)
    if args.text:
        raw = Path(args.text).read_text(encoding="utf-8")
        title, _, body = raw.partition("\n")
        article = Article(url=f"file:{args.text}", title=title.strip(), text=body,
                          published=date or datetime.now(UTC))
        source = "from --date" if date else "today: no --date given"
    else:
        fetched = _fetch_article(settings, args.url)
        if fetched is None:
            return 1
        if date is not None:
            article, source = replace(fetched, published=date), "from --date"
        elif fetched.published is not None:
            article, source = fetched, "the page's own date"
        else:
            article = replace(fetched, published=datetime.now(UTC))
            source = "today: the page gives none and no --date was given"
    engine = _engine(settings)
    return commands.explain(ruleset, args.rule, article, findings.known_findings(engine),
                            default_channel=settings.slack.channel, date_source=source)


def cmd_rules_diff(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from watcher.baseline import load_seeds
    from watcher.rules.diff import RuleDiff, report_lines
    from watcher.rules.loader import load_ruleset
    from watcher.store import articles

    settings = _settings(args)
    since = datetime.now(UTC) - parse_age(args.since)
    path = Path(args.path)
    if not path.is_dir():
        print(f"{path}: not a rules folder", file=sys.stderr)
        return 2
    copy, errors = load_ruleset(path)
    live, live_errors = load_ruleset(settings.rules_dir)
    for err in errors + live_errors:
        print(str(err))
    if errors or live_errors:
        print(f"{len(errors) + len(live_errors)} error(s): nothing compared")
        return 2
    unknown = set(args.rule or ()) - set(copy.rules) - set(live.rules)
    if unknown:
        print(f"unknown rule id(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    from sqlalchemy.exc import SQLAlchemyError

    engine = articles.read_only_engine(settings.database_url)
    try:
        total, pruned = articles.count_articles(engine, since)
        ids = articles.seed_ids(engine)
        seeds = [(s, ids.get(s.url)) for s in load_seeds(settings.baseline_dir)]
        reprints = articles.reprints_of(engine, since)
        diff = RuleDiff(live, copy, seeds, default_channel=settings.slack.channel,
                        rule_ids=args.rule)
        with Progress(console=Console(stderr=True), transient=True,
                      disable=not sys.stderr.isatty()) as bar:
            task = bar.add_task("comparing", total=total)
            for stored in articles.stored_articles(engine, since):
                diff.add(stored.id, stored.article, reprints.get(stored.id))
                bar.advance(task)
    except SQLAlchemyError as exc:  # exit 1 means "differences": an error is 2
        print(safe_text(f"watcher: cannot read the database: {type(exc).__name__}: "
                        f"{str(exc)[:300]}"), file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    report = diff.report()
    print(safe_text("\n".join(report_lines(report))))
    print(f"live rules: {settings.rules_dir}; working copy: {path.resolve()}; articles stored "
          f"since {since:%Y-%m-%d %H:%M}Z" + (f" ({pruned} with their text pruned: skipped)"
                                               if pruned else ""))
    return 1 if report.differs else 0


def _fetch_article(settings: Settings, url: str) -> Article | None:
    from watcher.fetch import PAGE_TYPES, Fetcher
    from watcher.pagetext import extract_article

    with Fetcher(settings.fetch) as fetcher:
        page = fetcher.get(url, allowed_types=PAGE_TYPES)
    if not page.ok:
        print(safe_text(f"{url}: {page.status}: {page.error}"), file=sys.stderr)
        return None
    article = extract_article(page.body, page.url)  # as the pipeline's extraction does
    if article is None:
        print(f"{url}: no article text could be extracted", file=sys.stderr)
    return article


# --- feeds -----------------------------------------------------------------------------------

def cmd_feeds_list(args: argparse.Namespace) -> int:
    from watcher.store import repo

    settings = _settings(args)
    engine = _engine(settings)
    repo.sync_feeds(engine, settings.feeds, settings.schedule.interval)
    rows = repo.list_feeds(engine)
    if not rows:
        print("no feeds: add [[feeds]] to the config or run `watcher feeds add URL`")
    for _id, st in rows:
        if st.disabled_reason:
            health = f"DISABLED: {st.disabled_reason}"
        elif st.consecutive_errors:
            health = f"FAILING x{st.consecutive_errors}: {st.last_status}: {st.last_error}"
        elif st.last_success_at:
            health = f"ok (last success {st.last_success_at:%Y-%m-%d %H:%M}Z)"
        else:
            health = "not polled yet"
        nxt = f"{st.next_check_at:%H:%M:%S}Z" if st.next_check_at else "now"
        print(safe_text(f"{st.url}\n    {health}; every {st.interval}s; next check {nxt}"))
    return 0


def cmd_feeds_add(args: argparse.Namespace) -> int:
    from watcher.store import repo

    settings = _settings(args)
    added = repo.add_feed(_engine(settings), args.url, "cli",
                          args.interval or settings.schedule.interval)
    print(("added " if added else "already watched: ") + args.url)
    return 0


def cmd_feeds_remove(args: argparse.Namespace) -> int:
    from watcher.store import repo

    settings = _settings(args)
    if any(f.url == args.url for f in settings.feeds):
        print(f"{args.url} comes from {settings.path}: remove it there", file=sys.stderr)
        return 1
    if not repo.remove_feed(_engine(settings), args.url):
        print(f"not watched: {args.url}", file=sys.stderr)
        return 1
    print(f"removed {args.url}")
    return 0


def cmd_feeds_enable(args: argparse.Namespace) -> int:
    from watcher.store import repo

    if not repo.enable_feed(_engine(_settings(args)), args.url, datetime.now(UTC)):
        print(f"not watched: {args.url}", file=sys.stderr)
        return 1
    print(f"enabled {args.url}: polled at the next tick")
    return 0


def cmd_feeds_import(args: argparse.Namespace) -> int:
    import xml.etree.ElementTree as ET

    from watcher.store import repo

    settings = _settings(args)
    engine = _engine(settings)
    try:
        tree = ET.parse(args.opml)
    except (ET.ParseError, OSError) as exc:
        print(f"{args.opml}: not a readable OPML file: {exc}", file=sys.stderr)
        return 1
    added = 0
    for node in tree.iter("outline"):
        url = node.get("xmlUrl")
        if url and repo.add_feed(engine, url, "opml", settings.schedule.interval,
                                 node.get("title") or node.get("text")):
            added += 1
    print(f"imported {added} new feed(s) from {args.opml}")
    return 0


# --- replay ----------------------------------------------------------------------------------

def parse_age(text: str) -> timedelta:
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    try:
        return timedelta(seconds=float(text[:-1]) * units[text[-1]])
    except (KeyError, ValueError, IndexError):
        raise WatcherError(
            f"--since {text!r}: expected a number and a unit, e.g. 7d, 12h, 30m") from None


def cmd_replay(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from watcher.service import build

    since = datetime.now(UTC) - parse_age(args.since)
    settings = _settings(args)
    service = build(settings)
    try:
        service.pipeline.start()
        assert service.pipeline.rules is not None  # loaded by start()
        unknown = set(args.rule or ()) - set(service.pipeline.rules.rules)
        if unknown:
            print(f"unknown rule id(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        with Progress(transient=True) as bar:
            task = bar.add_task("replaying", total=None)
            news = service.pipeline.replay(
                since, args.rule, args.dry_run,
                progress=lambda i, n: bar.update(task, completed=i, total=n))
        verb = "would alert" if args.dry_run else "alerts"
        for article, finding, decision in news:
            print(safe_text(f"{verb}: [{finding.rule_id}] {decision.kind}: {finding.summary} "
                            f"<{article.url}>"))
        print(f"{len(news)} new alert(s) since {since:%Y-%m-%d %H:%M}Z"
              + (" (dry run: nothing stored or sent)" if args.dry_run else ""))
        if not args.dry_run:
            service.delivery.deliver()
    finally:
        service.close()
    return 0


# --- findings --------------------------------------------------------------------------------

def cmd_findings(args: argparse.Namespace) -> int:
    from watcher.show import finding_lines
    from watcher.store import findings

    since = datetime.now(UTC) - parse_age(args.since)
    found = findings.list_findings(_engine(_settings(args)), rule_id=args.rule, since=since,
                                   limit=args.limit)
    if not found:
        print(f"no findings since {since:%Y-%m-%d %H:%M}Z"
              + (f" for {args.rule}" if args.rule else ""))
    for f in found:
        print("\n".join(finding_lines(f)))
    return 0


# --- status ----------------------------------------------------------------------------------

def cmd_status(args: argparse.Namespace) -> int:
    from watcher.rules.loader import load_ruleset
    from watcher.store import outbox, repo

    settings = _settings(args)
    engine = _engine(settings)
    repo.sync_feeds(engine, settings.feeds, settings.schedule.interval)
    feeds = [st for _, st in repo.list_feeds(engine)]
    disabled = [f for f in feeds if f.disabled_reason]
    failing = [f for f in feeds if f.consecutive_errors and not f.disabled_reason]
    ok = len(feeds) - len(disabled) - len(failing)
    print(f"database   {engine.url.render_as_string(hide_password=True)}")
    last = repo.last_poll(engine)
    print(f"last poll  {last:%Y-%m-%d %H:%M:%S}Z" if last else "last poll  never")
    print(f"feeds      {len(feeds)}: {ok} ok, {len(failing)} failing, {len(disabled)} disabled")
    for f in failing[:10]:
        print(safe_text(f"  failing  {f.url}: {f.last_status}: {f.last_error}"))
    for f in disabled[:10]:
        print(safe_text(f"  disabled {f.url}: {f.disabled_reason}"))
    fresh, backlog = repo.pending_entries(engine)
    print(f"entries    {fresh + backlog:,} waiting: {fresh:,} fresh, {backlog:,} backlog "
          "(published over [schedule] backlog_after before they were seen: they come last)")
    counts = outbox.alert_counts(engine)
    print("alerts     " + ", ".join(f"{counts.get(k, 0)} {k}" for k in
                                    ("pending", "sending", "sent", "failed", "folded")))
    for r in outbox.list_alerts(engine, ["failed"], 10):
        print(safe_text(f"  failed   #{r.id} {r.rule_id} -> {r.channel}: {r.error}"))
    ruleset, errors = load_ruleset(settings.rules_dir)
    print(f"rules      {len(ruleset.rules)} loaded from {settings.rules_dir}: "
          f"{', '.join(sorted(ruleset.rules)) or 'none'}")
    for err in errors:
        print(f"  rejected {err}")
    _coverage(engine, ruleset, settings)
    return 1 if errors else 0


def _coverage(engine: Engine, rules: Any, settings: Settings) -> None:
    """Per rule: its last match and its 7 days; silent rules and feeds without text."""
    from watcher import coverage
    from watcher.store import coverage as store
    from watcher.watchdog import assess

    now = datetime.now(UTC)
    activity = store.rule_activity(engine, now)
    found = assess(engine, rules, settings.rules.silence_days, now)
    told = {n: r for n, (_, r) in store.states(engine, store.RULE).items()}
    silent = {s.rule_id: s for s in found.silent}
    for rule_id in sorted(rules.rules):
        last = coverage.last_match(rules, rule_id, activity)
        week: dict[str, int] = {}
        alerts = 0
        for i in rules.rules[rule_id].ids:
            a = activity.get(i)
            if a is not None:
                alerts += a.week_alerts
                for kind, n in a.week.items():
                    week[kind] = week.get(kind, 0) + n
        seen = f"last match {last:%Y-%m-%d %H:%M}Z" if last else "never matched"
        line = (f"  {rule_id:<24} {seen}; 7 days: {week.get('new', 0)} new, "
                f"{week.get('update', 0)} update, {week.get('known', 0)} known, "
                f"{alerts} alert(s)")
        s = silent.get(rule_id)
        if s is not None:
            line += (f"; SILENT for {s.days}+ days"
                     + (" (operators told)" if told.get(rule_id) else ""))
        print(line)
    for f in found.empty:
        print(safe_text(f"  no text  {f.url}: every entry of the last day came back without "
                        "article text"))


# --- alerts ----------------------------------------------------------------------------------

def cmd_alerts_list(args: argparse.Namespace) -> int:
    from watcher.store import outbox

    engine = _engine(_settings(args))
    states = [args.state] if args.state else None
    rows = outbox.list_alerts(engine, states, args.limit)
    if not rows:
        print("no alerts")
    for r in rows:
        extra = f"  error: {r.error}" if r.error and r.state != "sent" else ""
        print(safe_text(f"#{r.id:<5} {r.state:<8} {r.kind:<7} {r.rule_id:<22} {r.channel:<16} "
                        f"{r.draft.summary[:60]}{extra}"))
    return 0


def cmd_alerts_show(args: argparse.Namespace) -> int:
    from watcher.show import alert_lines
    from watcher.store import findings, outbox

    engine = _engine(_settings(args))
    try:
        q = outbox.get_alert(engine, args.id)
    except ValueError as exc:  # a row that cannot be read: say so
        print(str(exc), file=sys.stderr)
        return 1
    if q is None:
        print(f"no alert #{args.id}", file=sys.stderr)
        return 1
    found = findings.list_findings(engine, finding_id=q.finding_id) if q.finding_id else []
    print(safe_text("\n".join(alert_lines(q, found))))
    return 0


def cmd_alerts_retry(args: argparse.Namespace) -> int:
    from watcher.store import outbox

    engine = _engine(_settings(args))
    if not outbox.retry_alert(engine, args.id, datetime.now(UTC)):
        print(f"alert {args.id} is not a failed alert", file=sys.stderr)
        return 1
    print(f"alert {args.id} queued again; the running service (or `watcher run --once`) sends it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
