"""Is a finding news? A pure function of the finding and what is already known.

    new     no known finding of the same rule could be the same development
    update  the same development, and this finding adds or changes a fact
            ("end of February" -> "Feb 27-28, 2019 in Hanoi")
    known   some known finding already says all of it, or the development already happened

The comparison of facts lives in ``watcher.facts.compare``: a date inside the window of a vaguer
one is the same development, a place inside a known region refines it. A development known to
have been *held* is never news again, whatever precision a later report adds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from watcher.facts import compare
from watcher.types import Change, Decision, Finding, Known, KnownOrigin, Novelty

# A development known to have happened within a window this narrow (a month) absorbs every
# report of it; a vaguer memory ("a summit in Vietnam last year") does not hide a precise plan.
HELD_PRECISION_DAYS = 31


def _vague_memory(k: Known) -> bool:
    """Known to have happened, but only roughly when ("a summit in Vietnam last year")."""
    return k.facts.get("status") == "held" and \
        compare.specificity(k.facts)[0] > HELD_PRECISION_DAYS


def _dated_plan(k: Known) -> bool:
    return k.facts.get("status") != "held" and compare.specificity(k.facts)[0] < 100_000


def decide(finding: Finding, known: Sequence[Known]) -> Decision:
    """Compare ``finding`` with the known findings (of every rule: only its own rule's count).
    The decision names the known finding it was compared with (``matched``)."""
    same = [k for k in known if k.rule_id == finding.rule_id
            and compare.compatible(finding.facts, k.facts)]
    memories = [k for k in same if _vague_memory(k)]
    if memories and any(_dated_plan(k) for k in same):
        # A vague memory does not hide a dated plan known for the same development: the
        # plan is what this report refines ("end of February" -> "Feb 27-28 in Hanoi").
        same = [k for k in same if not _vague_memory(k)]
    if not same:
        changes = tuple(Change(name, compare.describe(value), "not known")
                        for name, value in finding.facts.items()
                        if compare.present(value)
                        and compare.describe(value) != "date not announced")
        return Decision(Novelty.NEW, f"no known {finding.rule_id} development matches "
                                     f"{_brief(finding.facts)}", None, changes)
    covering = [k for k in same if compare.covers(k.facts, finding.facts)]
    if covering:
        best = min(covering, key=lambda k: (k.origin != KnownOrigin.BASELINE,
                                            compare.specificity(k.facts)))
        return Decision(Novelty.KNOWN,
                        f"already known from {_origin(best)}: {_brief(best.facts)}", best)
    best = min(same, key=lambda k: compare.specificity(k.facts))
    held = [k for k in same if k.facts.get("status") == "held"
            and compare.specificity(k.facts)[0] <= HELD_PRECISION_DAYS]
    if held or best.facts.get("status") == "held":
        best = min(held, key=lambda k: compare.specificity(k.facts)) if held else best
        return Decision(Novelty.KNOWN, f"already happened ({_origin(best)}: "
                                       f"{_brief(best.facts)}); a later report of it is not news",
                        best)
    if finding.facts.get("status") == "held":
        return Decision(Novelty.KNOWN, f"taking place as already known ({_origin(best)}: "
                                       f"{_brief(best.facts)})", best)
    changes = tuple(Change(*c) for c in compare.changed(finding.facts, best.facts))
    if not changes:
        return Decision(Novelty.KNOWN, f"nothing new compared with {_origin(best)}", best)
    names = ", ".join(c.fact for c in changes)
    return Decision(Novelty.UPDATE, f"same development as {_origin(best)}; changed: {names}",
                    best, changes)


def _origin(k: Known) -> str:
    if k.origin == KnownOrigin.THIS_ARTICLE:
        return "another finding of this article"
    return f"known #{k.id} ({k.origin})"


def _brief(facts: Mapping[str, Any]) -> str:
    parts = [f"{name}: {compare.describe(value)}" for name, value in facts.items()
             if compare.present(value) and name != "who"]
    return "; ".join(parts) or "no facts"
