"""``watcher rules explain``: the pipeline's own analysis of one article, with its reasons.

It runs ``watcher.analyse.analyse``, the code the pipeline runs, with the matcher's trace
(``watcher.match.trace``), and prints for one rule:

- the publication date used (dates in the text resolve against it), and where it came from;
- whether the prefilter let the rule through (the term lists it needs, those missing);
- the article and title checks (``require`` / ``exclude``);
- every sentence with one of the rule's terms: the words of each term list found, the match
  condition's verdict and each part of it (which proximity failed, by how many words), the
  sentence checks, and the findings or why there was none;
- each finding the rule reports: its facts, each with the sentences it was read from, its
  key, the known development it was compared with, the decision, and the message it calls for.
"""

from __future__ import annotations

from collections.abc import Sequence

from watcher.analyse import Analysis, analyse
from watcher.match.trace import CheckVerdict, RuleTrace, SentenceTrace, Verdict
from watcher.rules.schema import Rule, RuleSet
from watcher.types import Article, Known, Outcome

INDENT = "     "


def explain(ruleset: RuleSet, rule_id: str, article: Article, known: Sequence[Known], *,
            default_channel: str = "", date_source: str = "") -> int:
    """Print why ``rule_id`` finds what it finds in ``article``; 1 for an unknown rule."""
    if rule_id not in ruleset.rules:
        print(f"unknown rule '{rule_id}' (rules: {', '.join(sorted(ruleset.rules))})")
        return 1
    result = analyse(article, ruleset, known, default_channel=default_channel,
                     rule_ids=[rule_id], explain=True)
    print("\n".join(render(result, ruleset, date_source)))
    return 0


def render(result: Analysis, ruleset: RuleSet, date_source: str = "") -> list[str]:
    a = result.article
    pub = f"{a.published:%Y-%m-%d %H:%M}Z" if a.published else "none (dates cannot resolve)"
    lines = [f"article: {a.title or '(no title)'} <{a.url}>",
             f"publication date: {pub}" + (f" ({date_source})" if date_source else "")]
    for trace in result.traces:
        outcomes = [o for o in result.outcomes if o.finding.rule_id == trace.rule_id]
        lines += _rule(trace, ruleset.rules[trace.rule_id], outcomes)
    return lines


def _rule(trace: RuleTrace, rule: Rule, outcomes: list[Outcome]) -> list[str]:
    needs = ", ".join(trace.required)
    if not trace.examined:
        return [f"{trace.rule_id}: the article contains none or not all of the rule's required "
                f"terms (needs {needs}; missing: {', '.join(trace.missing)})"]
    lines = [f"{trace.rule_id}: prefilter passed (required terms: {needs})"]
    for check in trace.checks:
        lines += _check(check, "")
    if any(not c.passed for c in trace.checks):
        return lines + ["=> the rule finds nothing in this article"]
    for sentence in trace.sentences:
        lines += _sentence(sentence)
    lines += [f"note: {n}" for n in trace.notes]
    if not outcomes:
        lines.append("=> no finding")
    for o in outcomes:
        lines += _outcome(o, rule)
    return lines


def _check(check: CheckVerdict, indent: str) -> list[str]:
    verdict = "passes" if check.passed else "FAILS"
    because = f" ({check.because})" if check.because else ""
    return [f"{indent}{check.kind} in {check.scope}{because}: {verdict}",
            *_verdict(check.verdict, indent + "  ")]


def _verdict(v: Verdict, indent: str, label: str = "") -> list[str]:
    """A condition's verdict, then each of its parts' (indented under it)."""
    if not v.parts and v.detail in ("found", "not found"):  # a term list
        said = v.detail
    else:
        said = ("holds" if v.holds else "does not hold") + (f" ({v.detail})" if v.detail else "")
    lines = [f"{indent}{label}{v.condition}: {said}"]
    for part in v.parts:
        lines += _verdict(part, indent + " " * len(label) + "  ")
    return lines


def _sentence(s: SentenceTrace) -> list[str]:
    text = s.text if len(s.text) <= 200 else s.text[:199] + "…"
    terms = ", ".join(f"{name}={word!r}" for name, words in s.terms.items() for word in words)
    head = "MATCH" if s.match.holds else \
        "MATCH but for its 'none' parts, checked clause by clause" if s.clausewise else \
        "no match"
    lines = [f"[{s.index}] {head}: {text}",
             f"{INDENT}terms: {terms}", *_verdict(s.match, INDENT, "match: ")]
    for check in s.checks:
        lines += _check(check, INDENT)
    if (s.match.holds or s.clausewise) and all(c.passed for c in s.checks) and not s.findings:
        lines.append(f"{INDENT}not a reportable event: {s.skipped}")
    for f in s.findings:
        lines.append(f"{INDENT}finding: {f.key}")
    return lines


def _outcome(o: Outcome, rule: Rule) -> list[str]:
    f, d = o.finding, o.decision
    lines = [f"finding: {f.summary or f.key}",
             f"{INDENT}facts: {dict(f.display)}"]
    for spec in rule.facts:
        sources = f.sources.get(spec.name, ())
        if sources:
            origin = "; ".join(f"[{s.index}] {s.text}" for s in sources)
        elif spec.type == "constant":
            origin = "the rule (a constant)"
        elif spec.type == "date":
            origin = "no date in the text: a window around the publication date"
        else:
            origin = "not in the text"
        lines.append(f"{INDENT}  {spec.name}: {f.display.get(spec.name) or '-'}  <- {origin}")
    lines.append(f"{INDENT}key: {f.key}")
    compared = _compared(d.matched)
    lines.append(f"{INDENT}compared with: {compared}")
    lines.append(f"{INDENT}=> {d.kind}: {d.reason}")
    lines += [f"{INDENT}   {c.fact}: {c.now} (was: {c.was})" for c in d.changes]
    if o.alert is not None:
        lines.append(f"{INDENT}message: {o.alert.kind} to {o.alert.channel or '(default)'}")
    else:
        lines.append(f"{INDENT}message: none")
    return lines


def _compared(k: Known | None) -> str:
    if k is None:
        return "no known development of this rule matches"
    facts = "; ".join(f"{n}: {v}" for n, v in k.display.items() if v and n != "who")
    where = "another finding of this article" if k.id is None else f"known #{k.id} ({k.origin})"
    dev = f", development #{k.development}" if k.development is not None and k.id is not None \
        and k.development != k.id else ""
    return f"{where}{dev}: {facts or k.key}"
