"""Property-based fuzzing (Hypothesis) of parsing and matching: random Unicode and entity
soup never raise, never let a control character through, and never stall.

"Never stall" is checked the way ``tests/test_linear.py`` checks steps: a random piece of
soup repeated k and 2k times, and the time (CPU time of this thread) must not grow like a
square. Inputs stay small enough that one example takes milliseconds.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.linear import growth
from watcher.match.matcher import match_article
from watcher.match.text import Document
from watcher.parse import CONTROL_CHARS, parse_feed, strip_html
from watcher.rules.loader import load_ruleset
from watcher.types import Article

RULES, _ = load_ruleset(ROOT / "rules")
PUB = datetime(2019, 2, 8, tzinfo=UTC)

PIECES = ["&lt;", "&gt;", "&amp;", "&#27;", "&#7;", "&#x9b;", "&#0;", "&#1114112;", "&", "<",
          ">", "<br", "<p>", "</p>", "<script>", "</script>", "<!--", "-->", "<![CDATA[", "]]>",
          "A. ", "U.S. ", "Mr. ", "e.g.", "?!", "...", "\n", "\r\n", " ", "\t", "\u2003",
          "\u2028", "\x1b[31m", "\x07", "\x85", "\x9b", "\ufeff", "\U0001f600", "é", "İ",
          "Pompeo", "Mike Pompeo", "will travel to", "visit", "Hanoi", "Vietnam", "Tokyo",
          "Trump", "Kim Jong Un", "Kim Yong Chol", "summit", "meet", "next week", "on Monday",
          "January 1", "Feb. 27-28", "from March 3 to 5", "late May", "2019", "said",
          "postponed", "called off", "first", "second trip", ", ", "(", ")", "—", "\"", "'"]
soup = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)),
                max_size=120).map("".join)
anything = st.one_of(soup, st.text(max_size=400))

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _no_controls(text: str) -> bool:
    return not any(ch in CONTROL_CHARS for ch in text)


@FUZZ
@given(anything)
def test_strip_html_never_raises_and_drops_control_characters(text):
    out = strip_html(text)
    assert _no_controls(out)
    assert out == out.strip()


def _item(title: str, link: str, guid: str, description: str) -> str:
    esc = html.escape
    return (f"<item><title>{esc(title)}</title><link>{esc(link)}</link>"
            f"<guid>{esc(guid)}</guid><description>{esc(description)}</description></item>")


@FUZZ
@given(st.lists(st.tuples(anything, st.one_of(soup, st.just("https://x.example/a")),
                          anything, anything), max_size=4),
       anything, st.sampled_from(["utf-8", "latin-1"]))
def test_parse_feed_never_fails_and_keeps_entries_clean(items, title, charset):
    body = (f'<?xml version="1.0" encoding="{charset}"?><rss version="2.0"><channel>'
            f"<title>{html.escape(title)}</title>"
            + "".join(_item(*i) for i in items) + "</channel></rss>")
    feed = parse_feed(body.encode(charset, "xmlcharrefreplace"), {}, "https://x.example/feed")
    assert feed.error is None or not feed.error.startswith("parser failed"), feed.error
    for text in (feed.title or "", *(t for e in feed.entries for t in (e.title, e.summary,
                                                                        e.key))):
        assert _no_controls(text)
    for entry in feed.entries:
        assert entry.link is None or entry.link.startswith(("http://", "https://"))


@FUZZ
@given(st.binary(max_size=600))
def test_parse_feed_on_random_bytes_never_fails(body):
    feed = parse_feed(b"<rss version='2.0'><channel>" + body, {}, "https://x.example/")
    assert feed.error is None or not feed.error.startswith("parser failed"), feed.error


@FUZZ
@given(anything, anything)
def test_match_never_raises(title, text):
    doc = Document.build(title, text)
    assert all(0 <= s <= e <= len(doc.text) for s, e in doc.spans)
    for baseline in (False, True):
        for f in match_article(Article(url="https://x.example/a", title=title, text=text,
                                       published=PUB), RULES, baseline=baseline):
            assert f.rule_id in RULES.rules and f.key.startswith(f.rule_id)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(PIECES), min_size=3, max_size=12).map("".join))
def test_no_stall_on_repeated_soup(unit):
    """Time grows about linearly when random soup is repeated twice as often."""
    k = max(1, 12_000 // len(unit))

    def both(text: str) -> None:
        strip_html(text)
        match_article(Article(url="https://x.example/a", title="t", text=text,
                              published=PUB), RULES)

    ratios = [growth(both, lambda n: unit * n, k, repeats=3) for _ in range(3)]
    assert min(ratios) < 3.0, (unit, ratios)
