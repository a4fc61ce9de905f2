"""What stage a development is at, read off the wording of its sentence.

``status(sentence)`` is one of ``STATUSES``; ``mode(sentence)`` says how the sentence talks about
it: a ``report`` of something current, a ``recollection`` of the past ("who has been to Pyongyang
three times", "met for a first summit in 2018"), a ``hypothetical`` ("if Kim shows progress, a
summit could...") or a ``denial`` ("no plans to meet", "downplayed the possibility"). Only
reports can be news; the baseline keeps everything.
"""

from __future__ import annotations

import re

STATUSES = ("rumored", "planned", "announced", "postponed", "cancelled", "resumed", "held")


def _rx(words: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{words})\b", re.IGNORECASE)


_BACK_ON = _rx(r"back on|go ahead|goes ahead|going ahead|after all|reinstated|revived|"
               r"reschedul\w+ for|will proceed|is on again|on track")
_CANCEL = _rx(r"call(?:s|ed|ing)? off|cancel\w*|scrap(?:s|ped|ping)?|pull(?:s|ed)? out of|"
              r"will not take place|won't take place|(?:is|was) off|abandon\w*|scuttle\w*|"
              r"walk(?:s|ed)? away from|nixe[sd]|will not (?:travel|go) to|won't (?:travel|go) to|"
              r"(?:asked|told|instructed|ordered)\s+(?:\w+\s+){0,5}not to (?:travel|go|visit)|"
              r"no longer (?:travel|go|visit)\w*")
_POSTPONE = _rx(r"postpon\w+|delay(?:s|ed|ing)?|push(?:es|ed)? back|put off|puts off|"
                r"reschedul\w+|moved? (?:back|to a later date)|pushed to|deferr?\w*|on hold")
_HELD = _rx(r"met|held|arrived|arrives in|landed|lands in|visited|wrapped up|concluded|"
            r"ended|took place|was in|were in|is in|are in|has arrived|flew to|traveled to|"
            r"travelled to|went to|returned from|shook hands|sat down|is visiting|on a visit to|"
            r"touched down|made a trip|made his|paid a visit|speaking (?:to reporters )?in|"
            r"spoke (?:to reporters )?in|told reporters in|(?:news|press) conference in|"
            r"speech in|began (?:a|his) (?:tour|visit|trip)|wraps up|wrapped up")
_RUMOR = _rx(r"may|might|could|possibility|possible|possibly|considering|considered|"
             r"consider|discussing|discuss(?:ed|ion)? (?:of|about)?|talk of|speculation|"
             r"speculate\w*|reportedly|rumou?r\w*|mulling|floated|floats|weighing|"
             r"according to|sources? (?:said|say)|report(?:ed|s)? (?:that|on)|is said to|"
             r"would like|hopes? to|hoping to|in the works|exploring|strong possibility|"
             r"\w+ reported|is reporting|are reporting|reports? say|media reports?|news reports?|"
             r"citing (?:unnamed|anonymous|people|sources|officials)|"
             r"(?:did|does|do|has|have) not rule[ds]? out|not ruling out|(?:didn't|won't) rule out")
_ANNOUNCE = _rx(r"announced|announces|confirmed|confirms|(?:White House|State Department|"
                r"spokes\w+|secretary|press secretary|department|ministry|officials?) "
                r"(?:said|says|announced)|said (?:on )?(?:Monday|Tuesday|Wednesday|Thursday|"
                r"Friday|Saturday|Sunday)|officially|formally|accepted an invitation|"
                r"has accepted|agreed to")
_PLAN = _rx(r"will|to hold|to meet|to visit|to travel|set to|scheduled|plans? to|planning|"
            r"planned|is to|are to|expected to|going to|leaves|leaving|heads|heading|"
            r"departs|departing|bound for|to attend|would (?:be held|take place)|"
            r"preparations|to be held|to take place|invit\w+")

_RECOLLECT = _rx(r"previously|has been to|have been to|had been to|had visited|has visited|"
                 r"have visited|last year|years? ago|months ago|earlier (?:this|last) year|"
                 r"first summit|first meeting|since (?:their|the) (?:first|last|summit|meeting)|"
                 r"in the past|(?:since|after) then|twice before|"
                 r"(?:three|four|five|several|many) times|the last time|at their (?:first|"
                 r"previous|last) (?:summit|meeting)|historic summit|ended (?:suddenly|"
                 r"abruptly|without)|collapsed|broke down|made at their")
_HYPOTHETICAL = _rx(r"if|unless|would have to|provided that|as long as|in exchange for|"
                    r"whether or not|only if|depend\w* on")
_DENIAL = _rx(r"no plans?|not plan\w*|not going to|(?<!not )(?<!n't )ruled out|"
              r"(?<!not )(?<!n't )rules out|downplay\w*|unlikely|not expected|declined another|"
              r"no intention|won't meet|will not meet|not meet|denied|denies|not travel|"
              r"not visit")


def status(sentence: str) -> str:
    """The stage the sentence reports (one of ``STATUSES``)."""
    if _BACK_ON.search(sentence):
        return "announced"
    if _CANCEL.search(sentence):
        return "cancelled"
    if _POSTPONE.search(sentence):
        return "postponed"
    if _HELD.search(sentence) and not _PLAN.search(sentence):
        return "held"
    if _RUMOR.search(sentence):
        return "rumored"
    if _ANNOUNCE.search(sentence):
        return "announced"
    if _PLAN.search(sentence):
        return "planned"
    if _HELD.search(sentence):
        return "held"
    return "planned"


def mode(sentence: str) -> str:
    """``report``, ``recollection``, ``hypothetical`` or ``denial``."""
    if _RECOLLECT.search(sentence):
        return "recollection"
    if _DENIAL.search(sentence):
        return "denial"
    if _HYPOTHETICAL.search(sentence):
        return "hypothetical"
    return "report"


_CLAUSE = re.compile(r"(?:^(?:\w+\s+)?(?:after|since|following|before|despite|although|while|"
                     r"having|as|when)\b|,|—|–| - |\()[^,—–()]*?(?:,|—|–| - |\)|$)", re.IGNORECASE)


def strip_recollections(sentence: str) -> str:
    """The sentence without its backward-looking asides.

    "Pompeo, who has been to Pyongyang three times, will travel to Beijing" keeps only
    "Pompeo will travel to Beijing": the aside is history, the rest may be news.
    """
    def drop(m: re.Match[str]) -> str:
        return " " if _RECOLLECT.search(m.group(0)) else m.group(0)
    return _CLAUSE.sub(drop, sentence)


def tense(sentence: str) -> bool | None:
    """True for the past, False for plans, None when the wording does not tell."""
    if is_past(sentence):
        return True
    return False if _PLAN.search(sentence) or _RUMOR.search(sentence) else None


def is_past(sentence: str) -> bool:
    """Past-tense wording: dates in the sentence look backwards from publication."""
    if _RECOLLECT.search(sentence):
        return True
    return bool(_HELD.search(sentence)) and not _PLAN.search(sentence)


_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}
_ORDINAL = re.compile(
    r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d{1,2}(?:st|nd|rd|th))"
    r"\s+(?:[A-Za-z][\w.-]*\s+){0,2}?"
    r"(?:trip|visit|time|journey|tour|mission|round)\b", re.IGNORECASE)


def ordinal(sentence: str) -> int | None:
    """The visit number the sentence gives ("fourth trip", "for a second time"), if exactly one."""
    values = {_value(m.group(1)) for m in _ORDINAL.finditer(sentence)}
    return values.pop() if len(values) == 1 else None


def _value(word: str) -> int:
    word = word.lower()
    return _ORDINALS[word] if word in _ORDINALS else int(re.sub(r"\D", "", word))


def describe_ordinal(n: int | None) -> str:
    if not n:
        return ""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
