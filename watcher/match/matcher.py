"""Matching: which rules' developments an article reports, with their facts.

    match_article(article, ruleset, baseline=False, rule_ids=None, traces=None) -> [Finding]

Pure: no I/O. The article is scanned once by the RuleSet's Aho-Corasick prefilter; each rule
whose required terms all occur is then evaluated: its article and title checks (``require``,
``exclude``), then sentence by sentence (the title counts as a sentence) its match condition
and sentence checks; every matching sentence that reports an event yields Findings, merged to
one per development. With ``baseline=True`` recollections ("met for a first summit in 2018"),
hypotheticals and denials are kept too, unmerged: for the baseline, everything the text tells is
known.

Given a ``traces`` list, the matcher also appends a ``RuleTrace`` per rule (every rule of
``rule_ids``, or of the set): why it found what it found (``watcher.match.trace``). The
findings are the same with or without it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import replace

from watcher.facts import compare, places
from watcher.facts.lexicon import Lexicon
from watcher.match.conditions import (
    Occurrences,
    check_verdict,
    evaluate,
    holds_somewhere,
    occurrences,
    passes,
)
from watcher.match.findings import extract
from watcher.match.prefilter import Hit, unmask
from watcher.match.text import Document
from watcher.match.trace import CheckVerdict, RuleTrace, SentenceTrace
from watcher.rules.schema import Check, Rule, RuleSet
from watcher.types import Article, Finding

__all__ = ["match_article", "match_rule", "merge"]

MAX_MATCHING_SENTENCES = 100  # per rule and article: the findings of one text stay few


def match_article(article: Article, ruleset: RuleSet, *, baseline: bool = False,
                  rule_ids: Collection[str] | None = None,
                  traces: list[RuleTrace] | None = None, doc: Document | None = None
                  ) -> list[Finding]:
    """The findings of every rule (or of ``rule_ids``) in ``article`` (``doc``: its text
    already prepared, when the caller matches it against several rule sets)."""
    doc = doc or Document.build(article.title, article.text)
    places.use(ruleset.places)  # the operator's places file of these rules
    out: list[Finding] = []
    if traces is None:
        for rule_id, hits in ruleset.prefilter.scan(doc.norm).items():
            rule = ruleset.rules.get(rule_id)
            if rule is not None and (rule_ids is None or rule_id in rule_ids):
                out.extend(match_rule(rule, doc, hits, article, baseline, anchors=ruleset.anchors))
        return out
    found = ruleset.prefilter.hits(doc.norm)
    wanted = sorted(ruleset.rules if rule_ids is None else
                    [r for r in rule_ids if r in ruleset.rules])
    explained: dict[str, RuleTrace] = {}
    for rule_id in wanted:  # the rules the prefilter stops, with the terms they lack
        needed = ruleset.prefilter.needed[rule_id]
        missing = needed - {h.term for h in found.get(rule_id, ())}
        if missing:
            explained[rule_id] = RuleTrace(rule_id, tuple(sorted(needed)),
                                           tuple(sorted(missing)))
    for rule_id, hits in found.items():  # the same order as without a trace
        if rule_id in explained or rule_id not in wanted:
            continue
        rule_traces: list[RuleTrace] = []
        out.extend(match_rule(ruleset.rules[rule_id], doc, hits, article, baseline,
                              rule_traces, ruleset.anchors))
        explained[rule_id] = rule_traces[0]
    traces.extend(explained[r] for r in wanted)
    return out


def _checks(rule: Rule) -> list[tuple[Check, bool]]:
    """The rule's checks in order, each with whether it is an ``exclude``."""
    return [(c, False) for c in rule.require] + [(c, True) for c in rule.exclude]


def match_rule(rule: Rule, doc: Document, hits: list[Hit], article: Article,
               baseline: bool = False, traces: list[RuleTrace] | None = None,
               anchors: Lexicon | None = None) -> list[Finding]:
    """One rule's findings, given its term hits in the document (all its required terms
    occur). With ``traces``, appends the rule's ``RuleTrace``. ``anchors``: the rule set's
    event and saying words (``RuleSet.anchors``).

    A sentence is examined when the rule's match holds on it, its ``none`` parts aside: they
    are checked clause by clause (``watcher.match.mentions``). A finding that says nothing of
    how its development stands counts only when the article has no other, and gives a date."""
    hits = unmask(hits, set(rule.ignore))
    by_sentence: dict[int, list[Hit]] = defaultdict(list)
    for h in hits:
        by_sentence[doc.sentence_of(h.start)].append(h)
    whole = occurrences(doc, hits)
    title = occurrences(doc, [h for h in hits
                              if doc.sentence_of(h.start) < doc.title_sentences])
    checks = _checks(rule)
    for c, exclude in checks:
        scoped = whole if c.scope == "article" else title if c.scope == "title" else None
        if scoped is not None and not passes(c, exclude, scoped):
            if traces is not None:
                traces.append(_rule_trace(rule, checks, whole, title))
            return []
    sentence_checks = [(c, e) for c, e in checks if c.scope == "sentence"]
    findings: list[Finding] = []
    weak: list[Finding] = []  # findings that say nothing of how it stands: the fallback
    sentences: list[SentenceTrace] = []
    matching = 0
    for index in sorted(by_sentence):
        occ = occurrences(doc, by_sentence[index])
        match = holds_somewhere(rule.match, occ)
        matching += match
        if matching > MAX_MATCHING_SENTENCES:
            break
        passed = match and all(passes(c, e, occ) for c, e in sentence_checks)
        found: list[Finding] = []
        skipped = ""
        if passed:
            words = tuple(dict.fromkeys(doc.text[h.start:h.end] for h in by_sentence[index]))
            sentence_weak: list[Finding] = []
            got = extract(rule, doc, index, article, baseline, by_sentence, anchors,
                          sentence_weak)
            found = [replace(f, matched=words) for f in got.findings]
            skipped = got.skipped
            findings += found
            weak += [replace(f, matched=words) for f in sentence_weak]
            if sentence_weak and not found:
                skipped = "says nothing of how the development stands (no status word, no " \
                          "tense): counts only if nothing else in the article reports it"
        if traces is not None:
            sentences.append(_sentence_trace(rule, doc, index, by_sentence[index], occ,
                                             sentence_checks, found, skipped))
    if not baseline and not findings:
        # Named without a word of how it stands: it counts when it gives a date of its own
        # ("Pompeo's Jan. 3-7 tour of Ukraine"), not as "the North's fifth launch".
        findings = [f for f in weak if _dated(f)]
    kept = findings if baseline else merge(findings, rule)
    if traces is not None:
        merged = [f"{f.summary or f.key}: merged into a more specific report of the same "
                  "development" for f in findings if not any(f is k for k in kept)]
        trace = _rule_trace(rule, checks, whole, title)
        traces.append(replace(trace, sentences=tuple(sentences), findings=tuple(kept),
                              notes=tuple(merged)))
    return kept


def _rule_trace(rule: Rule, checks: list[tuple[Check, bool]], whole: Occurrences,
                title: Occurrences) -> RuleTrace:
    """The rule's article and title checks, up to the first that stops it."""
    verdicts: list[CheckVerdict] = []
    for c, exclude in checks:
        if c.scope in ("article", "title"):
            verdicts.append(check_verdict(c, exclude, whole if c.scope == "article" else title))
            if not verdicts[-1].passed:
                break
    return RuleTrace(rule.id, tuple(sorted(rule.match.required_terms())), (), tuple(verdicts))


def _sentence_trace(rule: Rule, doc: Document, index: int, hits: list[Hit], occ: Occurrences,
                    checks: list[tuple[Check, bool]], found: list[Finding], skipped: str,
                    ) -> SentenceTrace:
    match = evaluate(rule.match, occ)
    clausewise = not match.holds and holds_somewhere(rule.match, occ)
    verdicts: list[CheckVerdict] = []
    if match.holds or clausewise:  # the sentence checks, up to the first that stops it
        for c, exclude in checks:
            verdicts.append(check_verdict(c, exclude, occ))
            if not verdicts[-1].passed:
                break
    terms: dict[str, list[str]] = defaultdict(list)
    for h in hits:
        terms[h.term].append(doc.text[h.start:h.end])
    return SentenceTrace(index, doc.sentence(index), {t: tuple(w) for t, w in terms.items()},
                         match, tuple(verdicts), tuple(found), skipped, clausewise)


def merge(findings: list[Finding], rule: Rule | None = None) -> list[Finding]:
    """One finding per development in an article: the most specific report of it wins. Two
    findings are one development as ``decide`` would judge it (the rule's identity)."""
    kept: list[Finding] = []
    slack = rule.date_slack if rule is not None else compare.SLACK.days
    where = rule.places if rule is not None else "overlap"
    identity = rule.key if rule is not None and rule.key else None
    for f in sorted(findings, key=lambda f: compare.specificity(f.facts)):
        if any(k.rule_id == f.rule_id and compare.compatible(k.facts, f.facts, slack, where,
                                                             identity) for k in kept):
            continue
        kept.append(f)
    return kept


def _dated(f: Finding) -> bool:
    return any(compare.kind_of(v) == "date" and compare.present(v)
               and v.get("precision") != "none" for v in f.facts.values())
