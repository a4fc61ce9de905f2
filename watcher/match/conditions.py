"""A rule's condition evaluated on the term occurrences of one sentence (or title, or article).

    holds(condition, occurrences) -> bool          the one evaluator: what the matcher asks
    evaluate(condition, occurrences) -> Verdict    the same verdict with its reasons, for the
                                                   trace: each part's verdict, how far apart
                                                   a ``near``'s terms were

``evaluate`` decides nothing itself: each verdict it reports is ``holds`` of that part.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from watcher.match.prefilter import Hit
from watcher.match.text import Document
from watcher.match.trace import CheckVerdict, Verdict
from watcher.rules.schema import Check, Condition

Occurrences = Mapping[str, Sequence[int]]  # term list name -> word numbers


def occurrences(doc: Document, hits: Iterable[Hit]) -> dict[str, list[int]]:
    """Word numbers of each term list's hits."""
    occ: dict[str, list[int]] = defaultdict(list)
    for h in hits:
        occ[h.term].append(doc.word_of(h.start))
    return occ


def holds(cond: Condition, occ: Occurrences) -> bool:
    if cond.op == "term":
        return bool(occ.get(cond.term or ""))
    if cond.op == "all":
        return all(holds(c, occ) for c in cond.children)
    if cond.op == "any":
        return any(holds(c, occ) for c in cond.children)
    if cond.op == "none":
        return not any(holds(c, occ) for c in cond.children)
    a, b = (occ.get(t, ()) for t in cond.terms)
    return _near(a, b, cond.words, cond.ordered)


def _near(a: Sequence[int], b: Sequence[int], words: int, ordered: bool) -> bool:
    """Some y of ``b`` within ``words`` of some x of ``a`` (after it when ``ordered``), in
    O((a + b) log b), not a x b: an article can repeat a term ten thousand times."""
    ys = sorted(b)
    for x in a:
        i = bisect.bisect_left(ys, x if ordered else x - words)
        if i < len(ys) and ys[i] <= x + words:
            return True
    return False


def holds_somewhere(cond: Condition, occ: Occurrences) -> bool:
    """``cond`` without its ``none`` parts: whether some clause of a sentence may still match
    (``none`` is then checked clause by clause, ``watcher.match.mentions``: "Pence will travel
    to Tokyo, while Pompeo heads to Seoul" is a Pompeo trip in its second clause)."""
    if cond.op == "none":
        return True
    if cond.op in ("all", "any"):
        parts = [holds_somewhere(c, occ) for c in cond.children]
        return all(parts) if cond.op == "all" else any(parts)
    return holds(cond, occ)


def passes(check: Check, exclude: bool, occ: Occurrences) -> bool:
    """Whether a ``require`` (or, with ``exclude``, an ``exclude``) check lets the rule on."""
    return holds(check.condition, occ) != exclude


def evaluate(cond: Condition, occ: Occurrences) -> Verdict:
    ok = holds(cond, occ)
    if cond.op == "term":
        return Verdict(cond.term or "", ok, "found" if ok else "not found")
    if cond.op in ("all", "any", "none"):
        parts = tuple(evaluate(c, occ) for c in cond.children)
        return Verdict(f"{cond.op} of ({', '.join(p.condition for p in parts)})", ok,
                       parts=parts)
    first, second = cond.terms
    text = f"near({first}, {second}, {cond.words} words{', in order' if cond.ordered else ''})"
    return Verdict(text, ok, _near_detail(cond, occ.get(first, ()), occ.get(second, ())))


def check_verdict(check: Check, exclude: bool, occ: Occurrences) -> CheckVerdict:
    return CheckVerdict("exclude" if exclude else "require", check.scope, check.because,
                        evaluate(check.condition, occ))


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
