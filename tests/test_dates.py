"""Date phrases resolved against a publication date, with their precision."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from watcher.facts.dates import describe, find_dates, open_window

PUB = datetime(2019, 1, 18, 15, 0, tzinfo=UTC)  # a Friday


def one(text: str, pub: datetime = PUB, past: bool = False):
    found = find_dates(text, pub, past)
    assert len(found) == 1, found
    return found[0][2]


@pytest.mark.parametrize("text,pub,start,end,precision", [
    ("He leaves on July 5th", datetime(2018, 7, 2), date(2018, 7, 5), date(2018, 7, 5), "day"),
    ("leaving for North Korea on July 5", datetime(2018, 7, 2), date(2018, 7, 5), date(2018, 7, 5), "day"),
    ("in Hanoi on Feb. 27-28", PUB, date(2019, 2, 27), date(2019, 2, 28), "range"),
    ("from August 2 to 5", datetime(2018, 7, 31), date(2018, 8, 2), date(2018, 8, 5), "range"),
    ("from July 31 to August 3", datetime(2019, 7, 29), date(2019, 7, 31), date(2019, 8, 3), "range"),
    ("from June 25 to 27", datetime(2019, 6, 21), date(2019, 6, 25), date(2019, 6, 27), "range"),
    ("next week", PUB, date(2019, 1, 21), date(2019, 1, 27), "week"),
    ("leaves Tuesday for Bangkok", datetime(2019, 7, 29), date(2019, 7, 30), date(2019, 7, 30), "day"),
    ("near the end of February", PUB, date(2019, 2, 21), date(2019, 2, 28), "part-of-month"),
    ("at the end of February", PUB, date(2019, 2, 21), date(2019, 2, 28), "part-of-month"),
    ("in early April", datetime(2018, 3, 1), date(2018, 4, 1), date(2018, 4, 10), "part-of-month"),
    ("could take place this fall", datetime(2018, 8, 6), date(2018, 9, 1), date(2018, 11, 30), "season"),
    ("potentially in September", datetime(2018, 8, 6), date(2018, 9, 1), date(2018, 9, 30), "month"),
    ("in the second week of September", datetime(2026, 7, 1), date(2026, 9, 8), date(2026, 9, 14), "week"),
    ("sometime later this year", datetime(2018, 8, 6), date(2018, 8, 6), date(2018, 12, 31), "year"),
    ("to take place next month", PUB, date(2019, 2, 1), date(2019, 2, 28), "month"),
    ("visit Washington in April", datetime(2026, 1, 15), date(2026, 4, 1), date(2026, 4, 30), "month"),
    ("in September 2019", PUB, date(2019, 9, 1), date(2019, 9, 30), "month"),
    ("a first summit in 2018", PUB, date(2018, 1, 1), date(2018, 12, 31), "year"),
    ("June 12, 2018", PUB, date(2018, 6, 12), date(2018, 6, 12), "day"),
    ("tomorrow", PUB, date(2019, 1, 19), date(2019, 1, 19), "day"),
    ("on 27 February", PUB, date(2019, 2, 27), date(2019, 2, 27), "day"),
])
def test_phrases(text, pub, start, end, precision):
    fact = one(text, pub)
    assert (fact.start, fact.end, fact.precision) == (start, end, precision)


def test_past_tense_looks_back():
    fact = one("Pompeo previously visited North Korea in early April", datetime(2018, 7, 2), past=True)
    assert (fact.start, fact.end) == (date(2018, 4, 1), date(2018, 4, 10))
    fact = one("arrived in Pyongyang on Wednesday", datetime(2018, 5, 9), past=True)
    assert fact.start == date(2018, 5, 9)
    fact = one("in September", datetime(2019, 1, 18), past=True)
    assert fact.start == date(2018, 9, 1)


def test_future_month_rolls_to_next_year():
    assert one("in March", datetime(2018, 11, 1)).start == date(2019, 3, 1)


def test_may_the_modal_verb_is_not_a_month():
    assert find_dates("the deal may not work out; Kim may meet Trump", PUB) == []
    assert one("in early May", datetime(2018, 7, 2), past=True).start == date(2018, 5, 1)


def test_briefing_day_is_not_an_event_date():
    found = find_dates("will leave on July 5th, she told reporters at a Monday briefing",
                       datetime(2018, 7, 2))
    assert [f.start for _, _, f in found] == [date(2018, 7, 5)]


def test_several_dates_in_text_order():
    found = find_dates("in early April and then again for a second time in early May",
                       datetime(2018, 7, 2), past=True)
    assert [f.start.month for _, _, f in found] == [4, 5]


def test_no_publication_date_no_dates():
    assert find_dates("on July 5", None) == []


def test_open_window_is_anchored_in_time():
    w = open_window(datetime(2018, 8, 6), past=False)
    assert (w.start, w.end, w.precision) == (date(2018, 8, 6), date(2019, 8, 6), "none")


@pytest.mark.parametrize("text,pub,shown", [
    ("Feb. 27-28", PUB, "Feb 27-28, 2019"),
    ("July 31 to August 3", datetime(2019, 7, 29), "Jul 31-Aug 3, 2019"),
    ("end of February", PUB, "late February 2019"),
    ("this fall", datetime(2018, 8, 6), "fall 2018"),
    ("in September", datetime(2026, 7, 1), "September 2026"),
    ("July 5th", datetime(2018, 7, 2), "Jul 5, 2018"),
    ("later this year", datetime(2018, 8, 6), "later in 2018"),
])
def test_describe(text, pub, shown):
    assert describe(one(text, pub)) == shown


def test_a_day_just_past_is_not_next_year():
    assert one("the talks on June 30", datetime(2019, 7, 1)).start == date(2019, 6, 30)
    assert one("the talks on June 1", datetime(2019, 7, 1)).start == date(2020, 6, 1)
    assert one("they met on December 30", datetime(2019, 1, 2), past=True).start == \
        date(2018, 12, 30)
    assert one("from Jan. 3 to 5", datetime(2018, 12, 20)).start == date(2019, 1, 3)


def test_weekday_follows_the_tense():
    pub = datetime(2019, 2, 12)  # a Tuesday
    assert one("will leave on Monday", pub, past=False).start == date(2019, 2, 18)
    assert one("arrived on Monday", pub, past=True).start == date(2019, 2, 11)
    assert one("speaking in Budapest on Monday", pub, past=None).start == date(2019, 2, 11)
    assert one("next Tuesday", pub).start == date(2019, 2, 19)
    assert one("last Tuesday", pub).start == date(2019, 2, 5)
