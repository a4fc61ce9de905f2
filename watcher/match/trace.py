"""Why the matcher found what it found: the values it records when asked to explain.

    RuleTrace       one rule on one article: the prefilter's verdict, the article and title
                    checks, every sentence with a term of the rule, and the findings kept
    SentenceTrace   one sentence: the term lists found, the match condition's verdict, the
                    sentence checks, and the findings extracted (or why none was)
    CheckVerdict    a ``require`` / ``exclude`` check and whether it let the rule through
    Verdict         a condition evaluated on some term occurrences, with its parts

``watcher rules explain`` prints these (``watcher.explain``); the pipeline asks for none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from watcher.types import Finding


@dataclass(frozen=True)
class Verdict:
    condition: str  # the condition in short: "near(pompeo, travel, 8 words)"
    holds: bool
    detail: str = ""  # what decided it: "'Pompeo' found", "12 words apart (at most 8)"
    parts: tuple[Verdict, ...] = ()  # the verdicts of an all/any/none's conditions


@dataclass(frozen=True)
class CheckVerdict:
    kind: str  # "require" | "exclude"
    scope: str  # title | article | sentence
    because: str
    verdict: Verdict

    @property
    def passed(self) -> bool:
        """Whether the check lets the rule through (require: holds; exclude: does not)."""
        return self.verdict.holds == (self.kind == "require")


@dataclass(frozen=True)
class SentenceTrace:
    index: int  # 0 is the title's first sentence when there is a title
    text: str
    terms: Mapping[str, tuple[str, ...]]  # term list -> the words of it found here
    match: Verdict
    checks: tuple[CheckVerdict, ...] = ()  # sentence-scope checks, when the match held
    findings: tuple[Finding, ...] = ()  # extracted here (before one-per-development merging)
    skipped: str = ""  # why a matching sentence gave no finding
    # the match fails on the whole sentence only through its ``none`` parts, which are then
    # checked clause by clause ("Pence will travel to Tokyo, while Pompeo heads to Seoul")
    clausewise: bool = False


@dataclass(frozen=True)
class RuleTrace:
    rule_id: str
    required: tuple[str, ...]  # the term lists the prefilter needs
    missing: tuple[str, ...]  # those the article lacks: the rule was not examined
    checks: tuple[CheckVerdict, ...] = ()  # article- and title-scope checks
    sentences: tuple[SentenceTrace, ...] = ()
    findings: tuple[Finding, ...] = ()  # what the rule reports (one per development)
    notes: tuple[str, ...] = field(default=())  # e.g. which findings were merged away

    @property
    def examined(self) -> bool:
        return not self.missing
