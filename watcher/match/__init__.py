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

from watcher.facts import compare
from watcher.match.findings import extract
from watcher.match.prefilter import Hit, unmask
from watcher.match.text import Document
from watcher.rules.schema import Check, Condition, Rule, RuleSet
from watcher.types import Article, Finding

__all__ = ["holds", "match_article", "match_rule"]

Occurrences = dict[str, list[int]]  # term name -> word numbers


def holds(cond: Condition, occ: Occurrences) -> bool:
    """Evaluate a condition against the term occurrences of one sentence (or article)."""
    if cond.op == "term":
        return bool(occ.get(cond.term or ""))
    if cond.op == "all":
        return all(holds(c, occ) for c in cond.children)
    if cond.op == "any":
        return any(holds(c, occ) for c in cond.children)
    if cond.op == "none":
        return not any(holds(c, occ) for c in cond.children)
    a, b = (occ.get(t, []) for t in cond.terms)
    if cond.ordered:
        return any(0 <= y - x <= cond.words for x in a for y in b)
    return any(abs(x - y) <= cond.words for x in a for y in b)


def _occurrences(doc: Document, hits: list[Hit]) -> Occurrences:
    occ: Occurrences = defaultdict(list)
    for h in hits:
        occ[h.term].append(doc.word_of(h.start))
    return occ


def _check_fails(check: Check, occ: Occurrences, exclude: bool) -> bool:
    return holds(check.condition, occ) if exclude else not holds(check.condition, occ)


def match_rule(rule: Rule, doc: Document, hits: list[Hit], article: Article,
               baseline: bool = False) -> list[Finding]:
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
    for index in sorted(by_sentence):
        occ = _occurrences(doc, by_sentence[index])
        if not holds(rule.match, occ):
            continue
        sentence_checks = [(c, e) for c, e in
                           [(c, False) for c in rule.require] + [(c, True) for c in rule.exclude]
                           if c.scope == "sentence"]
        if any(_check_fails(c, occ, e) for c, e in sentence_checks):
            continue
        words = tuple(dict.fromkeys(doc.text[h.start:h.end] for h in by_sentence[index]))
        for finding in extract(rule, doc, index, article, baseline, by_sentence):
            findings.append(replace(finding, matched=words))
    return findings if baseline else merge(findings)


def merge(findings: list[Finding]) -> list[Finding]:
    """One finding per development in an article: the most specific report of it wins."""
    kept: list[Finding] = []
    for f in sorted(findings, key=lambda f: compare.specificity(f.facts)):
        if any(k.rule_id == f.rule_id and compare.compatible(k.facts, f.facts) for k in kept):
            continue
        kept.append(f)
    return kept


def match_article(article: Article, ruleset: RuleSet, *, baseline: bool = False
                  ) -> list[Finding]:
    doc = Document.build(article.title, article.text)
    out: list[Finding] = []
    for rule_id, hits in ruleset.prefilter.scan(doc.norm).items():
        rule = ruleset.rules.get(rule_id)
        if rule is not None:
            out.extend(match_rule(rule, doc, hits, article, baseline))
    return out
