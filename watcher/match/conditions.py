"""The one evaluator of rule conditions over term occurrences (word numbers by term list)."""

from __future__ import annotations

from watcher.rules.schema import Condition

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
    a, b = (sorted(occ.get(t, [])) for t in cond.terms)
    return _near(a, b, cond.words, cond.ordered)


def holds_somewhere(cond: Condition, occ: Occurrences) -> bool:
    """``cond`` without its ``none`` parts: whether some clause of a sentence may still match
    (``none`` is then checked clause by clause: "Pence will travel to Tokyo, while Pompeo heads
    to Seoul" is a Pompeo trip in its second clause)."""
    if cond.op == "none":
        return True
    if cond.op in ("all", "any"):
        parts = [holds_somewhere(c, occ) for c in cond.children]
        return all(parts) if cond.op == "all" else any(parts)
    return holds(cond, occ)


def _near(a: list[int], b: list[int], words: int, ordered: bool) -> bool:
    """Is some word of ``a`` within ``words`` of one of ``b`` (after it, when ``ordered``)?
    A merge of the two sorted lists: linear, not every pair."""
    i = j = 0
    while i < len(a) and j < len(b):
        d = b[j] - a[i]
        if (0 <= d <= words) if ordered else (abs(d) <= words):
            return True
        if a[i] <= b[j]:
            i += 1
        else:
            j += 1
    return False
