"""Matching: which rules' developments an article reports, with their facts.

    match_article(article, ruleset, baseline=False) -> [Finding]

Pure: no I/O. The article is scanned once by the RuleSet's Aho-Corasick prefilter; each rule
whose required terms all occur is then evaluated sentence by sentence (the title counts as a
sentence), and every matching sentence that reports an event yields a Finding. With
``baseline=True`` recollections ("met for a first summit in 2018"), hypotheticals and denials are
kept too: for the baseline, everything the text tells is known.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from watcher.facts import compare, places
from watcher.facts.lexicon import Lexicon
from watcher.match.conditions import holds, holds_somewhere
from watcher.match.extract import extract
from watcher.match.prefilter import Hit, unmask
from watcher.match.text import Document
from watcher.rules.schema import Check, Rule, RuleSet
from watcher.types import Article, Finding

__all__ = ["holds", "match_article", "match_rule"]

Occurrences = dict[str, list[int]]  # term name -> word numbers


def _occurrences(doc: Document, hits: list[Hit]) -> Occurrences:
    occ: Occurrences = defaultdict(list)
    for h in hits:
        occ[h.term].append(doc.word_of(h.start))
    return occ


def _check_fails(check: Check, occ: Occurrences, exclude: bool) -> bool:
    return holds(check.condition, occ) if exclude else not holds(check.condition, occ)


def match_rule(rule: Rule, doc: Document, hits: list[Hit], article: Article,
               baseline: bool = False, anchors: Lexicon | None = None) -> list[Finding]:
    hits = unmask(hits, set(rule.ignore))
    by_sentence: dict[int, list[Hit]] = defaultdict(list)
    for h in hits:
        by_sentence[doc.sentence_of(h.start)].append(h)
    whole = _occurrences(doc, hits)
    title = _occurrences(doc, [h for h in hits if doc.sentence_of(h.start) < doc.title_sentences])
    for check, exclude in [(c, False) for c in rule.require] + [(c, True) for c in rule.exclude]:
        if check.scope == "article" and _check_fails(check, whole, exclude):
            return []
        if check.scope == "title" and _check_fails(check, title, exclude):
            return []
    findings: list[Finding] = []
    weak: list[Finding] = []  # findings that say nothing of how it stands: the fallback
    for index in sorted(by_sentence):
        occ = _occurrences(doc, by_sentence[index])
        if not holds_somewhere(rule.match, occ):
            continue
        sentence_checks = [(c, e) for c, e in
                           [(c, False) for c in rule.require] + [(c, True) for c in rule.exclude]
                           if c.scope == "sentence"]
        if any(_check_fails(c, occ, e) for c, e in sentence_checks):
            continue
        words = tuple(dict.fromkeys(doc.text[h.start:h.end] for h in by_sentence[index]))
        sentence_weak: list[Finding] = []
        for finding in extract(rule, doc, index, article, baseline, by_sentence, anchors,
                               sentence_weak):
            findings.append(replace(finding, matched=words))
        weak += [replace(f, matched=words) for f in sentence_weak]
    if baseline:
        return findings
    if not findings:
        # Named without a word of how it stands: it counts when it gives a date of its own
        # ("Pompeo's Jan. 3-7 tour of Ukraine"), not as "the North's fifth launch".
        findings = [f for f in weak if any(
            compare.kind_of(v) == "date" and compare.present(v) and v.get("precision") != "none"
            for v in f.facts.values())]
    return merge(findings, rule)


def merge(findings: list[Finding], rule: Rule | None = None) -> list[Finding]:
    """One finding per development in an article: the most specific report of it wins. Two
    findings are one development as ``decide`` would judge it (the rule's identity)."""
    kept: list[Finding] = []
    slack = rule.date_slack if rule is not None else compare.SLACK.days
    places = rule.places if rule is not None else "overlap"
    identity = rule.key if rule is not None and rule.key else None
    for f in sorted(findings, key=lambda f: compare.specificity(f.facts)):
        if any(k.rule_id == f.rule_id and compare.compatible(k.facts, f.facts, slack, places,
                                                             identity) for k in kept):
            continue
        kept.append(f)
    return kept


def match_article(article: Article, ruleset: RuleSet, *, baseline: bool = False
                  ) -> list[Finding]:
    doc = Document.build(article.title, article.text)
    places.use(ruleset.places)  # the operator's places file of these rules
    out: list[Finding] = []
    for rule_id, hits in ruleset.prefilter.scan(doc.norm).items():
        rule = ruleset.rules.get(rule_id)
        if rule is not None:
            out.extend(match_rule(rule, doc, hits, article, baseline, ruleset.anchors))
    return out
