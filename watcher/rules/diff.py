"""What a rule edit changes: two rule sets run over the same stored articles, compared.

    diff = RuleDiff(live, copy, seeds, default_channel=...)
    for stored in articles: diff.add(stored.id, stored.article, reprint)
    report = diff.report()

Each side is a rule set with everything the service would know running it: the baseline (the
seeds, matched by that rule set) and, as articles go by oldest first, its own findings (a
``KnownList`` built as it goes), so an earlier alert makes a later report known on each side
exactly as it would in the service. The analysis is the pipeline's own (``watcher.analyse``).

A finding is the same on both sides when its article, rule and key (its identity facts) are
the same. An alert the working copy sends and the live rules do not is *gained*; the reverse
is *lost*; a finding both sides make, decided differently (new, update, known), is *changed*.
No I/O: the caller reads the articles and prints the report (``watcher rules diff``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from watcher import analyse
from watcher.analyse import KnownList
from watcher.match.text import Document
from watcher.rules.schema import Rule, RuleSet
from watcher.types import Article, Known, Outcome, Reprint

__all__ = ["DiffReport", "Difference", "RuleDiff", "report_lines", "shared_rules"]


@dataclass(frozen=True)
class Difference:
    """One finding whose result differs: ``live`` and ``copy`` are its outcome on each side
    (None: that side does not find it)."""

    article_id: int
    article: Article
    rule_id: str
    key: str
    live: Outcome | None
    copy: Outcome | None

    @property
    def outcome(self) -> Outcome:
        """The side that has the alert (gained: the copy's; lost: the live one's)."""
        out = self.copy if self.copy is not None and self.copy.alert else self.live
        assert out is not None
        return out


@dataclass
class DiffReport:
    articles: int = 0
    gained: list[Difference] = field(default_factory=list)
    lost: list[Difference] = field(default_factory=list)
    changed: list[Difference] = field(default_factory=list)
    alerts_live: int = 0
    alerts_copy: int = 0

    @property
    def differs(self) -> bool:
        return bool(self.gained or self.lost or self.changed)


class _Side:
    """One rule set, its baseline and what it has found so far, indexed by rule."""

    def __init__(self, rules: RuleSet, seeds: Sequence[tuple[Article, int | None]],
                 default_channel: str, rule_ids: Collection[str] | None):
        self.rules = rules
        self.default_channel = default_channel
        self.rule_ids = rule_ids
        self.memory = KnownList()
        for seed, seed_id in seeds:
            self.memory.add_seed(seed, rules, seed_id)
        self._by_rule: dict[str, list[Known]] = {}
        self._indexed = 0
        self._index()

    def _index(self) -> None:
        items = self.memory.items
        for k in items[self._indexed:]:
            self._by_rule.setdefault(k.rule_id, []).append(k)
        self._indexed = len(items)

    def analyse(self, article_id: int, article: Article, reprint: Reprint | None,
                doc: Document) -> dict[tuple[str, str], Outcome]:
        matched = analyse.match(article, self.rules, rule_ids=self.rule_ids, doc=doc)
        if not matched.findings:
            return {}
        known: list[Known] = []
        for rule_id in sorted(matched.known_ids(self.rules)):
            known += self._by_rule.get(rule_id, ())
        known.sort(key=lambda k: k.id or 0)  # the order they became known, as stored
        result = analyse.conclude(matched, self.rules, known, reprint=reprint,
                                  default_channel=self.default_channel)
        self.memory.add(result, article_id)
        self._index()
        return {(o.finding.rule_id, o.finding.key): o for o in result.outcomes}


class RuleDiff:
    """The live rules and a working copy, fed the same articles oldest first.

    A rule that is the same in both sets (every key but its file and line), in rule sets
    whose shared parts (the event words every rule reads places and dates around, the places
    file) are the same, finds and decides the same on both sides: it is run once, on the live
    side, and its outcomes count for both. Only the rules that differ are run twice (with
    those whose ``aliases`` read their findings)."""

    def __init__(self, live: RuleSet, copy: RuleSet, seeds: Sequence[tuple[Article, int | None]],
                 *, default_channel: str, rule_ids: Collection[str] | None = None):
        self.shared = shared_rules(live, copy)
        asked = set(rule_ids) if rule_ids is not None else None
        own = set(copy.rules) - self.shared
        self.live = _Side(live, seeds, default_channel, asked)
        self.copy = _Side(copy, seeds, default_channel, own & asked if asked is not None else own)
        self.result = DiffReport()

    def add(self, article_id: int, article: Article, reprint: Reprint | None = None) -> None:
        if reprint is not None and reprint.article_id == article_id:
            reprint = None
        doc = Document.build(article.title, article.text)  # once for both sides
        live = self.live.analyse(article_id, article, reprint, doc)
        copy = {k: o for k, o in live.items() if k[0] in self.shared}
        if self.copy.rule_ids:
            copy.update(self.copy.analyse(article_id, article, reprint, doc))
        r = self.result
        r.articles += 1
        r.alerts_live += sum(1 for o in live.values() if o.alert)
        r.alerts_copy += sum(1 for o in copy.values() if o.alert)
        for rule_id, key in sorted(live.keys() | copy.keys()):
            a, b = live.get((rule_id, key)), copy.get((rule_id, key))
            if a is b:
                continue  # a shared rule's outcome
            diff = Difference(article_id, article, rule_id, key, a, b)
            alert_a, alert_b = a is not None and a.alert is not None, \
                b is not None and b.alert is not None
            if alert_b and not alert_a:
                r.gained.append(diff)
            elif alert_a and not alert_b:
                r.lost.append(diff)
            if a is not None and b is not None and a.decision.kind != b.decision.kind:
                r.changed.append(diff)

    def report(self) -> DiffReport:
        return self.result


def shared_rules(live: RuleSet, copy: RuleSet) -> set[str]:
    """The rules that find and decide exactly the same in both rule sets."""
    if _anchor_words(live) != _anchor_words(copy) or live.places.places != copy.places.places:
        return set()
    same = {i for i in live.rules.keys() & copy.rules.keys()
            if _content(live.rules[i]) == _content(copy.rules[i])}
    changed = (live.rules.keys() | copy.rules.keys()) - same
    while True:  # a rule reading a changed rule's findings (its aliases) changes with it
        reads = {i for i in same for rules in (live, copy)
                 if set(rules.rules[i].ids) & changed}
        if not reads:
            return same
        same -= reads
        changed |= reads


def _content(rule: Rule) -> Rule:
    return replace(rule, file="", line=0)


def _anchor_words(rules: RuleSet) -> set[str]:
    """What ``RuleSet.anchors`` is built from."""
    return {phrase for rule in rules.rules.values() for name in rule.event
            for phrase in rule.terms.get(name, ())}


def _where(article: Article) -> str:
    date = f"{article.published:%Y-%m-%d}" if article.published else "undated"
    return f"{article.outlet or 'no outlet'}, {date}"


def _decision(o: Outcome | None) -> str:
    if o is None:
        return "not found"
    kind = o.alert.kind if o.alert is not None else "no alert"
    return f"{o.decision.kind} ({kind}): {o.decision.reason}"


def _lines(mark: str, d: Difference, head: str) -> list[str]:
    a = d.article
    out = [f"{mark} [{d.rule_id}] {head}: {d.outcome.finding.summary or a.title}",
           f"    {a.title}", f"    <{a.url}>", f"    {_where(a)}"]
    if mark == "~":
        out += [f"    live: {_decision(d.live)}", f"    copy: {_decision(d.copy)}"]
    else:
        out.append(f"    reason: {d.outcome.decision.reason}")
        other = d.live if mark == "+" else d.copy
        if other is not None:
            out.append(f"    {'live' if mark == '+' else 'copy'}: {_decision(other)}")
    return out


def report_lines(report: DiffReport) -> list[str]:
    """The report as ``watcher rules diff`` prints it: alerts gained, alerts lost, decisions
    changed, then the counts."""
    out: list[str] = []
    for title, mark, items in (("alerts gained", "+", report.gained),
                               ("alerts lost", "-", report.lost),
                               ("decisions changed", "~", report.changed)):
        if not items:
            continue
        out.append(f"{title} ({len(items)}):")
        for d in items:
            if mark == "~":
                head = f"{_kind(d.live)} -> {_kind(d.copy)}"
            else:
                head = str(d.outcome.alert.kind if d.outcome.alert else d.outcome.decision.kind)
            out += _lines(mark, d, head)
        out.append("")
    out.append(f"{report.articles} article(s) compared: {len(report.gained)} alert(s) gained, "
               f"{len(report.lost)} lost, {len(report.changed)} decision(s) changed "
               f"(live rules: {report.alerts_live} alert(s), working copy: "
               f"{report.alerts_copy})")
    return out


def _kind(o: Outcome | None) -> str:
    return str(o.decision.kind) if o is not None else "none"
