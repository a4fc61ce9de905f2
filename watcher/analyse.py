"""Everything between an article's text and its outbox rows, as pure functions.

    analyse(article, rules, known, default_channel=..., reprint=None) -> Analysis
      = conclude(match(article, rules), rules, known, ...)

1. ``match``: the rules' findings in the article (``watcher.match.matcher``), one per
   (rule, key), and, when asked, the matcher's trace of why;
2. ``conclude``: each finding is decided against the known findings (``watcher.decide``) and
   then joins them, so two findings of one article are one story; a reprint (a near-duplicate
   of an earlier article or of a seed) reports nothing new; each finding gets the message it
   calls for: ``new``, ``update``, or ``sources`` when another outlet reports a known
   development; channel and severity from its rule, else the config's channel.

No I/O and no clock: what the database knows comes in as values. ``known`` holds the stored
findings of the rules concerned, each with its article and that article's outlet, which is all
``conclude`` needs to find the findings of a reprinted article and the outlets of a
development. The pipeline matches before its transaction and concludes inside it;
``watcher rules explain``, ``rules test``, ``replay`` and the accuracy tests call the same two
functions. ``KnownList`` keeps known findings in memory the way the database keeps them, for
the callers that store nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

from watcher.decide import decide
from watcher.match.matcher import match_article
from watcher.match.text import Document
from watcher.match.trace import RuleTrace
from watcher.rules.schema import RuleSet
from watcher.types import (
    AlertDraft,
    AlertKind,
    Article,
    Decision,
    Finding,
    Known,
    KnownOrigin,
    MessagePlan,
    Novelty,
    Outcome,
    Reprint,
)

__all__ = ["Analysis", "KnownList", "Matched", "analyse", "baseline_findings", "conclude",
           "draft", "match", "plan_messages", "reprint_decisions"]


@dataclass(frozen=True)
class Matched:
    """An article's findings, before anything is decided."""

    article: Article
    findings: tuple[Finding, ...]
    traces: tuple[RuleTrace, ...] = ()  # with ``explain``: one per rule asked about

    @property
    def rule_ids(self) -> set[str]:
        return {f.rule_id for f in self.findings}

    def known_ids(self, rules: RuleSet) -> set[str]:
        """The rules whose known findings its decisions compare with: its rules and their
        earlier ids (``aliases``)."""
        out = set(self.rule_ids)
        for rule_id in self.rule_ids:
            rule = rules.rules.get(rule_id)
            out.update(rule.aliases if rule is not None else ())
        return out


@dataclass(frozen=True)
class Analysis:
    article: Article
    outcomes: tuple[Outcome, ...]
    traces: tuple[RuleTrace, ...] = ()
    reprint: Reprint | None = None


def match(article: Article, rules: RuleSet, *, rule_ids: Collection[str] | None = None,
          explain: bool = False, doc: Document | None = None) -> Matched:
    """The findings of every rule (or of ``rule_ids``), one per (rule, key). ``doc``: the
    article's text already prepared (``Document.build``), for a caller matching it twice."""
    traces: list[RuleTrace] | None = [] if explain else None
    findings = match_article(article, rules, rule_ids=rule_ids, traces=traces, doc=doc)
    seen: set[tuple[str, str]] = set()
    unique = []
    for f in findings:
        if (f.rule_id, f.key) not in seen:
            seen.add((f.rule_id, f.key))
            unique.append(f)
    return Matched(article, tuple(unique), tuple(traces or ()))


def conclude(matched: Matched, rules: RuleSet, known: Sequence[Known], *,
             default_channel: str, reprint: Reprint | None = None) -> Analysis:
    """Decide what is news and draft its messages. ``known``: the stored findings of (at
    least) the rules of ``matched``."""
    article = matched.article
    current = list(known)
    decided: list[tuple[Finding, Decision]] = []
    for f in matched.findings:
        decision = decide(f, current, rules.rules.get(f.rule_id), reported=article.published)
        decided.append((f, decision))
        current.append(_this_article(f, decision, article))  # one article, one story
    if reprint is not None:
        original = [k for k in known if k.article_id == reprint.article_id]
        decided = reprint_decisions(decided, reprint, original)
    outlets = _Outlets(known)
    outcomes = tuple(Outcome(f, d, _alert(f, d, article, rules, default_channel, outlets))
                     for f, d in decided)
    return Analysis(article, outcomes, matched.traces, reprint)


def analyse(article: Article, rules: RuleSet, known: Sequence[Known], *,
            default_channel: str, reprint: Reprint | None = None,
            rule_ids: Collection[str] | None = None, explain: bool = False) -> Analysis:
    return conclude(match(article, rules, rule_ids=rule_ids, explain=explain), rules, known,
                    default_channel=default_channel, reprint=reprint)


def baseline_findings(article: Article, rules: RuleSet) -> list[Finding]:
    """What a seed makes known: everything it tells, one finding per (rule, key)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for f in match_article(article, rules, baseline=True):
        if (f.rule_id, f.key) not in seen:
            seen.add((f.rule_id, f.key))
            out.append(f)
    return out


def _this_article(f: Finding, d: Decision, article: Article) -> Known:
    return Known(id=None, rule_id=f.rule_id, key=f.key, facts=f.facts,
                 origin=KnownOrigin.THIS_ARTICLE,
                 development_id=d.matched.development if d.matched else None,
                 display=f.display, source=article.outlet or article.url,
                 reported=article.published)


def reprint_decisions(results: Sequence[tuple[Finding, Decision]], reprint: Reprint,
                      known_of_original: Sequence[Known]) -> list[tuple[Finding, Decision]]:
    """A reprint reports nothing new: its findings are known, tied to the original's story.

    ``known_of_original`` are the findings stored for the original article.
    """
    out = []
    for f, d in results:
        if d.kind == Novelty.KNOWN:
            out.append((f, d))
            continue
        same = next((k for k in known_of_original if k.rule_id == f.rule_id), None)
        what = "a seed" if reprint.origin == "seed" else f"article #{reprint.article_id}"
        out.append((f, replace(d, kind=Novelty.KNOWN, changes=(), matched=same,
                               reason=f"reprint of {what} ({reprint.similarity:.0%} similar)")))
    return out


class _Outlets:
    """The outlets (else URLs) of each stored development, worked out on first use."""

    def __init__(self, known: Sequence[Known]):
        self._known = known
        self._by_development: dict[int, set[str]] | None = None

    def of(self, development: int) -> set[str]:
        if self._by_development is None:
            self._by_development = {}
            for k in self._known:
                if k.development is not None:
                    self._by_development.setdefault(k.development, set()).add(k.source)
        return self._by_development.get(development, set())


def _alert(f: Finding, d: Decision, article: Article, rules: RuleSet, default_channel: str,
           outlets: _Outlets) -> AlertDraft | None:
    rule = rules.rules.get(f.rule_id)
    channel = (rule.channel if rule and rule.channel else None) or default_channel
    severity = rule.severity if rule else "info"
    template = rule.summary if rule else ""
    if d.kind == Novelty.NEW:
        return draft(AlertKind.NEW, f, d, article, channel, severity, template)
    if d.kind == Novelty.UPDATE:
        return draft(AlertKind.UPDATE, f, d, article, channel, severity, template)
    matched = d.matched
    if matched is not None and matched.origin == KnownOrigin.ARTICLE \
            and matched.development is not None \
            and (article.outlet or article.url) not in outlets.of(matched.development):
        return draft(AlertKind.SOURCES, f, d, article, channel, severity, template)
    return None


def draft(kind: AlertKind, f: Finding, d: Decision, article: Article, channel: str,
          severity: str, template: str = "") -> AlertDraft:
    """The message for a finding: what a notifier needs, and what its story shows."""
    return AlertDraft(kind=kind, rule_id=f.rule_id, channel=channel,
                      summary=f.summary or f.rule_id, article_url=article.url,
                      article_title=article.title, evidence=f.evidence, matched=f.matched,
                      changes=d.changes, outlet=article.outlet, published=article.published,
                      severity=severity, reason=d.reason, facts=dict(f.display),
                      template=template)


def plan_messages(outcomes: Sequence[Outcome], threaded: Collection[int]) -> list[MessagePlan]:
    """How an article's alerts go out: at most one top-level message per channel.

    ``threaded``: the developments that already have a story (a thread, or one on its way).
    An update of such a development is a reply in its thread; a new development, or an update
    of one with no story yet (a development of the baseline), goes out with the others of the
    article in that channel: together in one new message, or, when the article also updates
    a story of that channel, in that story's thread (the first one). ``sources`` (another
    outlet, nothing new) stay one per finding: they only raise a count.
    """
    plans: list[MessagePlan] = []
    by_channel: dict[str, tuple[list[int], list[int]]] = {}  # channel -> (replies, others)
    for i, o in enumerate(outcomes):
        a = o.alert
        if a is None:
            continue
        if a.kind == AlertKind.SOURCES:
            plans.append(MessagePlan(i))
            continue
        replies, others = by_channel.setdefault(a.channel, ([], []))
        story = o.development
        if a.kind == AlertKind.UPDATE and story is not None and story in threaded:
            replies.append(i)
        else:
            others.append(i)
    for replies, others in by_channel.values():
        if replies:
            # one reply per thread: two findings updating one story go out together
            threads: dict[int | None, list[int]] = {}
            for i in replies:
                threads.setdefault(outcomes[i].development, []).append(i)
            first, *rest = threads.values()
            plans.append(MessagePlan(first[0], tuple(first[1:] + others)))
            plans.extend(MessagePlan(same[0], tuple(same[1:])) for same in rest)
        elif others:
            plans.append(MessagePlan(others[0], tuple(others[1:])))
    return sorted(plans, key=lambda p: p.lead)


class KnownList:
    """Known findings kept in memory as the database keeps them (ids, developments, sources),
    for the callers that store nothing: rule tests, accuracy tests, a dry-run replay."""

    def __init__(self, known: Iterable[Known] = ()):
        self.items: list[Known] = list(known)
        self._next_id = max((k.id for k in self.items if k.id is not None), default=0) + 1
        self._next_article = -1  # articles that have no id: numbered downwards

    def _ids(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _article_id(self, article_id: int | None) -> int:
        if article_id is None:
            self._next_article -= 1
            return self._next_article + 1
        return article_id

    def add_seed(self, article: Article, rules: RuleSet, article_id: int | None = None
                 ) -> None:
        aid = self._article_id(article_id)
        for f in baseline_findings(article, rules):
            self.items.append(Known(id=self._ids(), rule_id=f.rule_id, key=f.key, facts=f.facts,
                                    origin=KnownOrigin.BASELINE, display=f.display,
                                    article_id=aid, source=article.outlet or article.url,
                                    reported=article.published))

    def add(self, analysis: Analysis, article_id: int | None = None) -> None:
        """An analysed article's findings, as if stored."""
        aid = self._article_id(article_id)
        article = analysis.article
        for o in analysis.outcomes:
            ident = self._ids()
            dev = o.development
            self.items.append(Known(
                id=ident, rule_id=o.finding.rule_id, key=o.finding.key, facts=o.finding.facts,
                origin=KnownOrigin.ARTICLE, development_id=ident if dev is None else dev,
                display=o.finding.display, article_id=aid,
                source=article.outlet or article.url, reported=article.published))
