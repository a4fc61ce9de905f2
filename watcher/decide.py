"""Is a finding news? A pure function of the finding, what is already known, and the rule.

    new     no known finding of the rule could be the same development
    update  the same development, and the report moves it forward: a status further along the
            lifecycle, a date stated for the first time or changed, a place added
    known   anything else: it says less, the same, an earlier stage, or the development already
            happened

Two reports are the same development when the rule's identity facts agree (``novelty.key``),
their dates lie within ``novelty.date_slack`` days of each other, and their places overlap
(unless ``novelty.places: any``). A development is compared with *everything* known of it:
every place any report named, the sharpest date, the latest status. The comparison of facts
lives in ``watcher.facts.compare``. A development known to have been *held* is never news again,
whatever precision a later report adds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from watcher.facts import compare
from watcher.rules.schema import Rule
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


def same_development(finding: Finding, known: Sequence[Known], rule: Rule | None = None
                     ) -> list[Known]:
    """The known findings that could be the same development as ``finding``."""
    ids = rule.ids if rule is not None else (finding.rule_id,)
    slack = rule.date_slack if rule is not None else compare.SLACK.days
    places = rule.places if rule is not None else "overlap"
    identity = rule.key if rule is not None and rule.key else None
    return [k for k in known if k.rule_id in ids and compare.compatible(
        finding.facts, k.facts, slack, places,
        identity)]


_ORDER = {KnownOrigin.BASELINE: 0, KnownOrigin.ARTICLE: 1, KnownOrigin.THIS_ARTICLE: 2}


def decide(finding: Finding, known: Sequence[Known], rule: Rule | None = None,
           reported: datetime | None = None) -> Decision:
    """Compare ``finding`` with the known findings (of every rule: only its own rule's, and its
    ``aliases``', count). The decision names the known finding it was compared with.

    ``reported``: when the finding's article was published. A report older than the newest
    report read of its development (the baseline aside) cannot move that development's
    status: statuses are news in publication order, whatever order the reports are analysed
    in (a cancellation read before the announcement it cancels leaves the announcement no
    news)."""
    same = same_development(finding, known, rule)
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
    same.sort(key=lambda k: (_ORDER[k.origin], k.id or 0))  # the order they became known
    best = min(same, key=lambda k: (compare.specificity(k.facts),
                                    k.origin != KnownOrigin.BASELINE))
    # What happened at a place absorbs every later report of it there; a trip's other stops
    # (``places: any``) are not over because one of them is.
    here = [k for k in same if compare.places_overlap(finding.facts, k.facts)]
    held = [k for k in here if k.facts.get("status") == "held"
            and compare.specificity(k.facts)[0] <= HELD_PRECISION_DAYS]
    if held or (best in here and best.facts.get("status") == "held"):
        best = min(held, key=lambda k: compare.specificity(k.facts)) if held else best
        return Decision(Novelty.KNOWN, f"already happened ({_origin(best)}: "
                                       f"{_brief(best.facts)}); a later report of it is not news",
                        best)
    slack = rule.date_slack if rule is not None else compare.SLACK.days
    # With places part of what a development is (``overlap``), naming its venue is news; for
    # an itinerary (``any``), only a stop not yet known is.
    refine = rule is None or rule.places == "overlap"
    changes = tuple(Change(*c) for c in compare.news(
        finding.facts, [k.facts for k in same], slack, refine, [k.facts for k in here]))
    if finding.facts.get("status") == "held" and not any(
            c.fact != "status" and compare.kind_of(finding.facts.get(c.fact)) == "place"
            for c in changes):
        return Decision(Novelty.KNOWN, f"taking place as already known ({_origin(best)}: "
                                       f"{_brief(best.facts)})", best)
    if not changes:
        covering = [k for k in same if compare.covers(k.facts, finding.facts)]
        if covering:
            best = min(covering, key=lambda k: (k.origin != KnownOrigin.BASELINE,
                                                compare.specificity(k.facts)))
            return Decision(Novelty.KNOWN, f"already known from {_origin(best)}: "
                                           f"{_brief(best.facts)}", best)
        return Decision(Novelty.KNOWN, f"nothing new compared with what is known of it "
                                       f"({_origin(best)}: {_brief(best.facts)}); it says "
                                       "less, the same, or an earlier stage", best)
    # Reports read, not the baseline: the seeds are what is known at the start, whatever
    # their dates.
    newest = max((k.reported for k in same
                  if k.reported is not None and k.origin != KnownOrigin.BASELINE), default=None)
    if reported is not None and newest is not None and reported < newest:
        older = [c for c in changes if c.fact == "status"]
        changes = tuple(c for c in changes if c.fact != "status")
        if not changes:
            return Decision(Novelty.KNOWN, f"an older report ({reported:%Y-%m-%d %H:%M}) than "
                                           f"the newest on record ({newest:%Y-%m-%d %H:%M}); "
                                           f"its status ({older[0].now if older else '?'}) is "
                                           "not news", best)
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
