"""Is every rule still seeing its news, is every feed still giving text? Pure decisions.

A watcher that has quietly stopped matching (a feed changed its format, a rule edit went too
narrow, a site started blocking us) looks exactly like a quiet news week. These functions take
what the database knows (``watcher.store.coverage`` reads it) and ``now``, and say:

- ``silences``: the rules that matched nothing for their window (a rule file's
  ``silence_days``, else ``[rules] silence_days``; 0: never) counted from their last match or,
  for a rule that never matched, from when it went live, while the intake is healthy
  (articles stored in the last day, most watched feeds polled without error): when nothing
  arrives, the rules are not to blame;
- ``empty_feeds``: the feeds whose entries of the last day all came back without page text
  (nothing extracted, or the page could not be fetched) and that have given none for a day;
- ``summary_lines``: the daily summary for the operators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from watcher.rules.schema import RuleSet

DAY = timedelta(days=1)


@dataclass(frozen=True)
class RuleActivity:
    """What one rule id found lately (stored findings, not the baseline's)."""

    rule_id: str
    last_match: datetime | None
    week: Mapping[str, int] = field(default_factory=dict)  # findings of 7 days by decision
    week_alerts: int = 0


@dataclass(frozen=True)
class Intake:
    articles_day: int  # feed articles stored in the last day
    feeds: int  # feeds watched (not disabled)
    feeds_ok: int  # of them, those whose last poll succeeded

    @property
    def healthy(self) -> bool:
        """Articles are arriving and most feeds are polled without error."""
        return self.articles_day > 0 and self.feeds_ok * 2 > self.feeds


@dataclass(frozen=True)
class FeedText:
    """A feed's page text lately."""

    url: str
    entries_day: int  # entries of the last day (processed)
    empty_day: int  # of them, those that gave no page text
    first_entry: datetime | None  # its first entry ever
    last_text: datetime | None  # its last entry that gave page text


@dataclass(frozen=True)
class Silence:
    rule_id: str
    days: int  # its window
    since: datetime  # its last match, else when it went live
    matched_ever: bool


def rule_window(rules: RuleSet, rule_id: str, default_days: int) -> int:
    rule = rules.rules.get(rule_id)
    days = rule.silence_days if rule is not None else None
    return default_days if days is None else days


def last_match(rules: RuleSet, rule_id: str, activity: Mapping[str, RuleActivity]
               ) -> datetime | None:
    """The rule's last match, its earlier ids' (``aliases``) included."""
    rule = rules.rules.get(rule_id)
    times = [a.last_match for i in (rule.ids if rule else (rule_id,))
             if (a := activity.get(i)) is not None and a.last_match is not None]
    return max(times) if times else None


def silences(rules: RuleSet, activity: Mapping[str, RuleActivity],
             live_since: Mapping[str, datetime | None], intake: Intake, default_days: int,
             now: datetime) -> list[Silence]:
    """The live rules silent past their window, while the intake is healthy."""
    if not intake.healthy:
        return []
    out = []
    for rule_id in sorted(rules.rules):
        days = rule_window(rules, rule_id, default_days)
        if days <= 0:
            continue
        last = last_match(rules, rule_id, activity)
        since = last or live_since.get(rule_id)
        if since is not None and now - since >= timedelta(days=days):
            out.append(Silence(rule_id, days, since, last is not None))
    return out


def empty_feeds(feeds: Sequence[FeedText], now: datetime) -> list[FeedText]:
    """Feeds whose entries of the last day all gave no page text, and that have given none
    for a day (a feed watched for less than a day is not judged)."""
    out = []
    for f in feeds:
        if f.entries_day == 0 or f.empty_day < f.entries_day or f.first_entry is None:
            continue
        if now - f.first_entry < DAY:
            continue
        if f.last_text is not None and now - f.last_text < DAY:
            continue
        out.append(f)
    return out


def silence_text(s: Silence, intake: Intake) -> tuple[str, str]:
    """(headline, details) of the message telling the operators."""
    head = f"Rule {s.rule_id} has matched nothing for {s.days} days"
    when = f"last match {s.since:%Y-%m-%d %H:%M}Z" if s.matched_ever else \
        f"no match since it went live on {s.since:%Y-%m-%d %H:%M}Z"
    return head, (f"{when}, while articles keep arriving ({intake.articles_day} in the last "
                  f"day; {intake.feeds_ok} of {intake.feeds} feeds healthy). Check the rule "
                  "(`watcher rules explain`, `watcher rules diff`) or whether its subject has "
                  "gone quiet. Said once; a match clears it.")


def empty_text(f: FeedText) -> tuple[str, str]:
    head = "A feed has given no article text for a day"
    last = f"last text {f.last_text:%Y-%m-%d %H:%M}Z" if f.last_text else "never any text"
    return head, (f"{f.url}: all {f.entries_day} entries of the last day came back without "
                  f"page text ({last}). The site may have changed its pages or be blocking "
                  "us; `watcher feeds` shows its entries' errors. Said once; text clears it.")


def summary_lines(now: datetime, intake: Intake, failing: Sequence[str],
                  found: Mapping[str, Mapping[str, int]], alerts: Mapping[str, int],
                  rule_ids: Sequence[str], silent: Sequence[str], empty: Sequence[str]
                  ) -> tuple[str, str]:
    """The daily summary: (headline, body)."""
    head = (f"watcher daily summary {now:%Y-%m-%d}: {intake.feeds_ok} of {intake.feeds} "
            f"feeds healthy, {intake.articles_day} articles read")
    lines = [f"Feeds: {intake.feeds_ok} healthy, {len(failing)} failing"
             + (f" ({', '.join(failing[:10])}{', ...' if len(failing) > 10 else ''})"
                if failing else "") + ".",
             f"Articles read in the last day: {intake.articles_day}.",
             "Per rule, the last day (findings new/update/known; alerts):"]
    for rule_id in sorted(set(rule_ids) | set(found) | set(alerts)):
        kinds = found.get(rule_id, {})
        lines.append(f"- {rule_id}: {kinds.get('new', 0)}/{kinds.get('update', 0)}/"
                     f"{kinds.get('known', 0)}; {alerts.get(rule_id, 0)} alert(s)"
                     + (" (silent)" if rule_id in silent else ""))
    if empty:
        lines.append(f"Feeds without article text for a day: {', '.join(empty[:10])}.")
    return head, "\n".join(lines)
