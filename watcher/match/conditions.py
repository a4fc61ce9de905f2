"""A rule's condition evaluated on the term occurrences of one sentence (or title, or article).

    holds(condition, occurrences) -> bool                    what the matcher asks
    evaluate(condition, occurrences, explain=True) -> Verdict   the same, with the reasons

One evaluator: ``holds`` is ``evaluate`` without the reasons (it stops at the first child that
decides, and builds nothing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from watcher.match.prefilter import Hit
from watcher.match.text import Document
from watcher.match.trace import CheckVerdict, Verdict
from watcher.rules.schema import Check, Condition

Occurrences = Mapping[str, Sequence[int]]  # term list name -> word numbers

_TRUE = Verdict("", True)
_FALSE = Verdict("", False)


def occurrences(doc: Document, hits: Iterable[Hit]) -> dict[str, list[int]]:
    """Word numbers of each term list's hits."""
    occ: dict[str, list[int]] = defaultdict(list)
    for h in hits:
        occ[h.term].append(doc.word_of(h.start))
    return occ


def holds(cond: Condition, occ: Occurrences) -> bool:
    return evaluate(cond, occ) is _TRUE


def check(check: Check, exclude: bool, occ: Occurrences, explain: bool = False) -> CheckVerdict:
    """A ``require`` (or, with ``exclude``, an ``exclude``) check on these occurrences."""
    return CheckVerdict("exclude" if exclude else "require", check.scope, check.because,
                        evaluate(check.condition, occ, explain))


def evaluate(cond: Condition, occ: Occurrences, explain: bool = False) -> Verdict:
    if cond.op == "term":
        found = bool(occ.get(cond.term or ""))
        if not explain:
            return _TRUE if found else _FALSE
        return Verdict(cond.term or "", found, "found" if found else "not found")
    if cond.op in ("all", "any", "none"):
        if not explain:
            parts = (evaluate(c, occ) is _TRUE for c in cond.children)
            ok = all(parts) if cond.op == "all" else \
                any(parts) if cond.op == "any" else not any(parts)
            return _TRUE if ok else _FALSE
        kids = tuple(evaluate(c, occ, True) for c in cond.children)
        held = [k.holds for k in kids]
        ok = all(held) if cond.op == "all" else any(held) if cond.op == "any" else not any(held)
        names = ", ".join(k.condition for k in kids)
        return Verdict(f"{cond.op} of ({names})", ok, parts=kids)
    a, b = (occ.get(t, ()) for t in cond.terms)
    if cond.ordered:
        ok = any(0 <= y - x <= cond.words for x in a for y in b)
    else:
        ok = any(abs(x - y) <= cond.words for x in a for y in b)
    if not explain:
        return _TRUE if ok else _FALSE
    first, second = cond.terms
    text = f"near({first}, {second}, {cond.words} words{', in order' if cond.ordered else ''})"
    return Verdict(text, ok, _near_detail(cond, a, b))


def _near_detail(cond: Condition, a: Sequence[int], b: Sequence[int]) -> str:
    first, second = cond.terms
    missing = [t for t, occ in ((first, a), (second, b)) if not occ]
    if missing:
        return f"{' and '.join(missing)} not found"
    if cond.ordered:
        gaps = [y - x for x in a for y in b if y >= x]
        if not gaps:
            return f"{second} never comes after {first}"
    else:
        gaps = [abs(x - y) for x in a for y in b]
    return f"{min(gaps)} words apart at the nearest (at most {cond.words})"
