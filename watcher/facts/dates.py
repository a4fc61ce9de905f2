"""Dates in news text, resolved against the article's publication date.

``find_dates(text, published, past=False)`` returns every date phrase in ``text`` as a
``DateFact``: a window ``start..end`` (inclusive ``date`` values) with the precision the writer
used (``day``, ``range``, ``week``, ``part-of-month``, ``month``, ``season``, ``year``). Phrases
without a year take the year that puts them nearest the publication date in the direction the
sentence looks (``past=True`` for past-tense sentences: "in early April" written in July means
April of the same year; "in April" in a plan written in July means next April).

Hand-written patterns, no guessing: a word only counts as a month when it is capitalised and
stands in a date-like position, so "may not work out" is never May.
"""

from __future__ import annotations

import calendar
import heapq
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

PRECISIONS = ("day", "range", "week", "part-of-month", "month", "season", "year", "none")

_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
_WEEKDAYS = {d.lower(): i for i, d in enumerate(calendar.day_name)}
_ORD_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1, "final": -1}
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "fall": (9, 11), "autumn": (9, 11),
            "winter": (12, 2)}

# Full month names; abbreviations only with a period or before a day number.
_MON = (r"(?:January|February|March|April|May|June|July|August|September|October|November|"
        r"December|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.(?=\s)|"
        r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)(?=\s+\d))")
_D = r"(\d{1,2})(?:st|nd|rd|th)?\b"
_Y = r"(?:,?\s+(\d{4}))?"
_DASH = r"\s*(?:-|–|—|to|through|until|and)\s*"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("range2", re.compile(rf"(?:from\s+|between\s+)?({_MON})\s+{_D}{_DASH}({_MON})\s+{_D}{_Y}")),
    ("range1", re.compile(rf"(?:from\s+|between\s+)?({_MON})\s+{_D}{_DASH}{_D}{_Y}")),
    ("range1r", re.compile(rf"\b{_D}{_DASH}{_D}\s+({_MON}){_Y}")),
    ("day", re.compile(rf"({_MON})\s+{_D}(?!\s*(?:-|–|to\b)\s*\d){_Y}")),
    ("dayr", re.compile(rf"\b{_D}\s+({_MON}){_Y}")),
    ("weekof", re.compile(rf"\b(?:the\s+)?(first|second|third|fourth|last|final)\s+week\s+of\s+"
                          rf"(?:({_MON})|(this|next|the)\s+month){_Y}", re.IGNORECASE)),
    ("part", re.compile(rf"\b(early|mid|late|(?:near\s+)?the\s+(?:end|beginning|start|middle)\s+"
                        rf"of|end\s+of|beginning\s+of|start\s+of)[\s-]+({_MON}){_Y}",
                        re.IGNORECASE)),
    ("partrel", re.compile(r"\b(early|mid|late|(?:near\s+)?the\s+(?:end|beginning|start|middle)"
                           r"\s+of|end\s+of)[\s-]+(this|next|the)\s+month\b", re.IGNORECASE)),
    ("monyear", re.compile(rf"({_MON})\s+(\d{{4}})\b")),
    ("month", re.compile(rf"\b(in|this|next|last|by|until|since|before|after|during|for|"
                         rf"of|early|late|from)\s+({_MON})(?![\s-]*\d)")),
    ("season", re.compile(r"\b(this|next|last|the|in\s+the)\s+(spring|summer|fall|autumn|winter)"
                          r"(?:\s+of\s+(\d{4}))?\b", re.IGNORECASE)),
    ("partyear", re.compile(r"\b(early|late|mid|the\s+(?:beginning|start|middle)\s+of)[\s-]+"
                            r"(this|next|last)\s+year\b", re.IGNORECASE)),
    ("restyear", re.compile(r"\b(later|earlier|by\s+the\s+end\s+of|before\s+the\s+end\s+of|"
                            r"the\s+end\s+of|end\s+of)\s+(this|the|next)\s+year\b", re.IGNORECASE)),
    ("relyear", re.compile(r"\b(this|next|last)\s+year\b", re.IGNORECASE)),
    ("year", re.compile(r"\b(?:in|of|since|during|by|for|early|late)\s+((?:19|20)\d{2})\b")),
    ("relweek", re.compile(r"\b(this|next|last)\s+week(?:end)?\b", re.IGNORECASE)),
    ("relmonth", re.compile(r"\b(this|next|last)\s+month\b", re.IGNORECASE)),
    ("relday", re.compile(r"\b(today|tonight|tomorrow|yesterday)\b", re.IGNORECASE)),
    ("weekday", re.compile(r"\b(?:(next|last|this|on)\s+)?(Monday|Tuesday|Wednesday|Thursday|"
                           r"Friday|Saturday|Sunday)\b")),
]


# From this hour (UTC) on it is the next day in East Asia (UTC+9 from 15:00; +10 from 14:00).
LATE_HOUR = 14

_NOT_EVENT = re.compile(r"(?:'s)?\s+(?:briefing|statement|interview|press conference|"
                        r"news conference|tweet|call|phone call|speech)\b", re.IGNORECASE)


@dataclass(frozen=True)
class DateFact:
    start: date
    end: date
    precision: str
    text: str = ""

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "precision": self.precision, "text": self.text}

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _month(word: str) -> int:
    return _MONTHS[word.lower().rstrip(".")]


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _year_for(month: int, pub: date, past: bool) -> int:
    if past:
        return pub.year if month <= pub.month else pub.year - 1
    return pub.year if month >= pub.month else pub.year + 1


def _day_year(month: int, d: int, pub: date, past: bool) -> int:
    """The year that puts a day nearest the publication date in the sentence's direction.

    A plan looks forward (from two weeks back: "the talks on June 30", written July 1, are last
    week's), a past-tense sentence looks back (up to a few days ahead).
    """
    for year in ((pub.year + 1, pub.year, pub.year - 1) if past else
                 (pub.year - 1, pub.year, pub.year + 1)):
        day = _day(year, month, min(d, _last_day(year, month)))
        if day is None:
            continue
        if past and day <= pub + timedelta(days=3):
            return year
        if not past and day >= pub - timedelta(days=14):
            return year
    return pub.year


def _day(year: int, month: int, d: int) -> date | None:
    try:
        return date(year, month, d)
    except ValueError:
        return None


def _month_window(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, _last_day(year, month))


def _part_window(part: str, year: int, month: int) -> tuple[date, date, str]:
    last = _last_day(year, month)
    part = " ".join(part.lower().split())
    if part.startswith("early") or "beginning" in part or "start" in part:
        return date(year, month, 1), date(year, month, 10), "early"
    if part.startswith("mid") or "middle" in part:
        return date(year, month, 11), date(year, month, 20), "mid"
    return date(year, month, 21), date(year, month, last), "late"


def _resolve(kind: str, m: re.Match[str], pub: date, past: bool | None, late: bool = False
             ) -> DateFact | None:
    if kind == "weekday":
        return _weekday(m, pub, past, late)
    return _resolve_date(kind, m, pub, bool(past))


def _weekday(m: re.Match[str], pub: date, past: bool | None, late: bool = False) -> DateFact:
    """A weekday: the next one for plans, the last one for past events, else the nearest.

    ``late``: published in the second half of the UTC day, when it is already the next day in
    East Asia: a past event "on Thursday" in a report dated Wednesday evening UTC is that
    Thursday, not the one six days before.
    """
    which, wd = (m.group(1) or "").lower(), _WEEKDAYS[m.group(2).lower()]
    ahead = (wd - pub.weekday()) % 7
    back = (pub.weekday() - wd) % 7
    if past and late and ahead == 1 and which in ("", "on"):
        day = pub + timedelta(days=1)
        return DateFact(day, day, "day", m.group(0).strip())
    if which == "next":
        day = pub + timedelta(days=ahead or 7)
    elif which == "last":
        day = pub - timedelta(days=back or 7)
    elif which == "this" or past is False:
        day = pub + timedelta(days=ahead)
    elif past:
        day = pub - timedelta(days=back)
    else:
        day = pub - timedelta(days=back) if back <= ahead else pub + timedelta(days=ahead)
    return DateFact(day, day, "day", m.group(0).strip())


def _resolve_date(kind: str, m: re.Match[str], pub: date, past: bool) -> DateFact | None:
    g = m.groups()
    text = m.group(0).strip()
    if kind == "range2":
        m1, d1, m2, d2, y = _month(g[0]), int(g[1]), _month(g[2]), int(g[3]), g[4]
        year = int(y) if y else _day_year(m1, d1, pub, past)
        start = _day(year, m1, d1)
        end = _day(year + (1 if m2 < m1 else 0), m2, d2)
        return DateFact(start, end, "range", text) if start and end else None
    if kind in ("range1", "range1r"):
        if kind == "range1":
            mon, d1, d2, y = _month(g[0]), int(g[1]), int(g[2]), g[3]
        else:
            d1, d2, mon, y = int(g[0]), int(g[1]), _month(g[2]), g[3]
        year = int(y) if y else _day_year(mon, d1, pub, past)
        start, end = _day(year, mon, d1), _day(year, mon, d2)
        if not start or not end or end < start:
            return None
        return DateFact(start, end, "range", text)
    if kind in ("day", "dayr"):
        mon, d, y = (_month(g[0]), int(g[1]), g[2]) if kind == "day" else \
            (_month(g[1]), int(g[0]), g[2])
        year = int(y) if y else _day_year(mon, d, pub, past)
        day = _day(year, mon, d)
        return DateFact(day, day, "day", text) if day else None
    if kind == "weekof":
        which = _ORD_WORDS[g[0].lower()]
        if g[1]:
            mon = _month(g[1])
            year = int(g[3]) if g[3] else _year_for(mon, pub, past)
        else:
            first = pub.replace(day=1)
            if g[2].lower() == "next":
                first = (first + timedelta(days=32)).replace(day=1)
            year, mon = first.year, first.month
        last = _last_day(year, mon)
        if which == -1:
            return DateFact(date(year, mon, last - 6), date(year, mon, last), "week", text)
        start = date(year, mon, 1 + 7 * (which - 1))
        return DateFact(start, min(start + timedelta(days=6), date(year, mon, last)), "week", text)
    if kind in ("part", "partrel"):
        if kind == "part":
            mon = _month(g[1])
            year = int(g[2]) if g[2] else _year_for(mon, pub, past)
        else:
            first = pub.replace(day=1)
            if g[1].lower() == "next":
                first = (first + timedelta(days=32)).replace(day=1)
            year, mon = first.year, first.month
        start, end, _ = _part_window(g[0], year, mon)
        return DateFact(start, end, "part-of-month", text)
    if kind == "monyear":
        start, end = _month_window(int(g[1]), _month(g[0]))
        return DateFact(start, end, "month", text)
    if kind == "month":
        prep, mon = g[0].lower(), _month(g[1])
        if prep in ("since", "last", "from", "after"):
            past = True
        elif prep in ("by", "until", "before", "next"):
            past = False
        start, end = _month_window(_year_for(mon, pub, past), mon)
        return DateFact(start, end, "month", text)
    if kind == "season":
        rel, season, y = g[0].lower().split()[-1], g[1].lower(), g[2]
        first_month, last_month = _SEASONS[season]
        if y:
            year = int(y)
        else:
            year = pub.year + {"next": 1, "last": -1}.get(rel, 0)
            if rel in ("the",) and not past and pub.month > last_month \
                    and first_month <= last_month:
                year += 1
        start = date(year, first_month, 1)
        end_year = year + (1 if last_month < first_month else 0)
        end = date(end_year, last_month, _last_day(end_year, last_month))
        return DateFact(start, end, "season", text)
    if kind == "partyear":
        year = pub.year + {"next": 1, "last": -1, "this": 0}[g[1].lower()]
        lead = g[0].lower()
        if lead.startswith("early") or "beginning" in lead or "start" in lead:
            return DateFact(date(year, 1, 1), date(year, 4, 30), "season", text)
        if lead.startswith("mid") or "middle" in lead:
            return DateFact(date(year, 5, 1), date(year, 8, 31), "season", text)
        return DateFact(date(year, 9, 1), date(year, 12, 31), "season", text)
    if kind == "restyear":
        year = pub.year + (1 if g[1].lower() == "next" else 0)
        lead = g[0].lower()
        if lead == "later" and year == pub.year:
            return DateFact(pub, date(year, 12, 31), "year", text)
        if lead == "earlier":
            return DateFact(date(year, 1, 1), pub, "year", text)
        if lead == "later":
            return DateFact(date(year, 1, 1), date(year, 12, 31), "year", text)
        return DateFact(date(year, 10, 1), date(year, 12, 31), "season", text)
    if kind in ("relyear", "year"):
        if kind == "year":
            year = int(g[0])
        else:
            year = pub.year + {"next": 1, "last": -1, "this": 0}[g[0].lower()]
        return DateFact(date(year, 1, 1), date(year, 12, 31), "year", text)
    if kind == "relweek":
        monday = pub - timedelta(days=pub.weekday())
        shift = {"next": 7, "last": -7, "this": 0}[g[0].lower()]
        start = monday + timedelta(days=shift)
        return DateFact(start, start + timedelta(days=6), "week", text)
    if kind == "relmonth":
        first = pub.replace(day=1)
        rel = g[0].lower()
        if rel == "next":
            first = (first + timedelta(days=32)).replace(day=1)
        elif rel == "last":
            first = (first - timedelta(days=1)).replace(day=1)
        start, end = _month_window(first.year, first.month)
        return DateFact(start, end, "month", text)
    if kind == "relday":
        shift = {"today": 0, "tonight": 0, "tomorrow": 1, "yesterday": -1}[g[0].lower()]
        day = pub + timedelta(days=shift)
        return DateFact(day, day, "day", text)
    return None


def find_dates(text: str, published: datetime | date | None, past: bool | None = False
               ) -> list[tuple[int, int, DateFact]]:
    """Every date phrase in ``text`` as ``(start, end, DateFact)``, in text order.

    ``past``: True for past-tense text, False for plans, None when the wording does not say
    (a bare weekday is then the nearest one: "speaking in Budapest on Monday").

    Earlier patterns win over later ones where they overlap (a range beats the day inside it).
    """
    if published is None:
        return []
    pub = published.date() if isinstance(published, datetime) else published
    late = isinstance(published, datetime) and published.hour >= LATE_HOUR
    taken: list[tuple[int, int]] = []  # spans already found: sorted, none overlapping
    found: list[tuple[int, int, DateFact]] = []
    for kind, pattern in _PATTERNS:
        added: list[tuple[int, int]] = []
        j = 0  # matches come in text order: one pass over ``taken`` per pattern
        for m in pattern.finditer(text):
            s, e = m.span()
            while j < len(taken) and taken[j][1] <= s:
                j += 1
            if j < len(taken) and taken[j][0] < e:
                continue  # overlaps a phrase an earlier pattern found
            fact = _resolve(kind, m, pub, past, late)
            if kind == "weekday" and _NOT_EVENT.match(text, e):
                continue  # "a Monday briefing": when something was said
            if fact is None:
                continue
            added.append((s, e))
            found.append((s, e, fact))
        if added:
            taken = list(heapq.merge(taken, added))
    found.sort(key=lambda t: t[0])
    return found


FRESH_DAYS = 2


def open_window(published: datetime | date, past: bool, fresh: bool = False) -> DateFact:
    """The implicit window of an undated development: the year after (or before) publication;
    for a report that something just happened (``fresh``), the days before publication. Its
    precision stays ``none``: the publication date never stands in for a date."""
    pub = published.date() if isinstance(published, datetime) else published
    if past and fresh:  # the next day too: it may already be tomorrow where it happened
        return DateFact(pub - timedelta(days=FRESH_DAYS), pub + timedelta(days=1), "none", "")
    if past:
        return DateFact(pub - timedelta(days=365), pub, "none", "")
    return DateFact(pub, pub + timedelta(days=365), "none", "")


def date_from_json(value: dict[str, str]) -> DateFact:
    return DateFact(date.fromisoformat(value["start"]), date.fromisoformat(value["end"]),
                    value.get("precision", "day"), value.get("text", ""))


def describe(value: dict[str, str] | DateFact | None) -> str:
    """Human text for a date window: "Feb 27-28, 2019", "late February 2019", "fall 2018"."""
    if value is None:
        return "date not announced"
    fact = value if isinstance(value, DateFact) else date_from_json(value)
    s, e, p = fact.start, fact.end, fact.precision
    mon = calendar.month_abbr
    if p == "none":
        return "date not announced"
    if p == "day":
        return f"{mon[s.month]} {s.day}, {s.year}"
    if p in ("range", "week"):
        if s.month == e.month:
            return f"{mon[s.month]} {s.day}-{e.day}, {s.year}"
        return f"{mon[s.month]} {s.day}-{mon[e.month]} {e.day}, {e.year}"
    if p == "part-of-month":
        part = "early" if s.day == 1 else "mid" if s.day == 11 else "late"
        return f"{part} {calendar.month_name[s.month]} {s.year}"
    if p == "month":
        return f"{calendar.month_name[s.month]} {s.year}"
    if p == "season":
        if s.month == 10 and e.month == 12:
            return f"end of {s.year}"
        if (s.month, e.month) in ((1, 4), (5, 8), (9, 12)):
            part = {1: "early", 5: "mid", 9: "late"}[s.month]
            return f"{part} {s.year}"
        name = {3: "spring", 6: "summer", 9: "fall", 12: "winter"}.get(s.month, "season")
        return f"{name} {s.year}"
    if p == "year":
        if (s.month, s.day) != (1, 1):
            return f"later in {s.year}"
        if (e.month, e.day) != (12, 31):
            return f"earlier in {s.year}"
        return str(s.year)
    return f"{s.isoformat()}..{e.isoformat()}"
