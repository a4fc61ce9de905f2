"""Every text step is linear in its input: adversarial inputs doubled, time about doubled.

Each case is an input shape that made some step quadratic once (or could: a regular expression
that backtracks, a scan repeated from the start of a growing slice, a pairwise loop). Sizes stay
under the caps (``parse.MAX_SUMMARY``, ``match.text.MAX_TEXT``), which would hide growth.
See ``tests/linear.py`` for how the ratio is measured.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import ROOT
from tests.linear import assert_linear
from watcher.dedup import signature
from watcher.facts import dates, places
from watcher.facts import status as st
from watcher.facts.lexicon import Lexicon, Words
from watcher.facts.scope import anchors, segments
from watcher.match.matcher import match_article
from watcher.match.text import MAX_TEXT, Document, sentences
from watcher.notify.render import cut, escape
from watcher.observe import safe_text
from watcher.parse import parse_feed, strip_html
from watcher.redact import redact
from watcher.rules.loader import load_ruleset
from watcher.types import Article

PUB = datetime(2019, 2, 8, tzinfo=UTC)
RULES, _ = load_ruleset(ROOT / "rules")


def _match(text: str) -> object:
    return match_article(Article(url="https://x.example/a", title="Title", text=text,
                                 published=PUB), RULES)


def _spans(text: str) -> list[tuple[int, int]]:
    """Where the places and dates of a text are (the commas a list keeps)."""
    return [(s, e) for s, e, _ in places.venue_spans(text)] + \
        [(s, e) for s, e, _ in dates.find_dates(text, PUB)]


def _feed_of(description: str) -> bytes:
    return ('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
            f"<title>x</title><guid>1</guid><description>{description}</description>"
            "</item></channel></rss>").encode()


def _many_findings(n: int) -> str:
    cities = ["Hanoi", "Tokyo", "Seoul", "Beijing", "Jakarta", "Manila", "Bangkok", "Delhi"]
    return " ".join(f"Pompeo will travel to {cities[i % 8]} on March {1 + i % 28}, "
                    f"{2019 + i // 224}." for i in range(n))


CASES = {
    # parse: tags, entities, comments, white space (the issue's `&lt;` feed among them)
    "strip_html <<<": (strip_html, lambda n: "<" * n, 200_000),
    "strip_html <br<br": (strip_html, lambda n: "<br" * n, 100_000),
    "strip_html <script>": (strip_html, lambda n: "<script>" * n, 20_000),
    "strip_html <!--": (strip_html, lambda n: "<!--" * n, 60_000),
    "strip_html em spaces": (strip_html, lambda n: "\u2003" * n + "x", 200_000),
    "parse_feed &lt; entities": (lambda b: parse_feed(b, {}, "https://x.example/"),
                                 lambda n: _feed_of("&lt;" * n), 40_000),
    "parse_feed <br&gt;": (lambda b: parse_feed(b, {}, "https://x.example/"),
                           lambda n: _feed_of("&lt;br" * n), 15_000),
    # sentences and the document matching reads
    "sentences A. A. A.": (sentences, lambda n: "A. " * n, 20_000),
    "sentences U.S. U.S.": (sentences, lambda n: "U.S. " * n, 20_000),
    "Document.build A. A.": (lambda t: Document.build("t", t), lambda n: "A. " * n, 10_000),
    # matching: term hits far apart, masked names, many findings
    "match A. A. A.": (_match, lambda n: "A. " * n, 10_000),
    "match near, far apart": (_match, lambda n: "Pompeo " * n + "x " * 30 + "travel " * n,
                              2_500),
    "match masked names": (_match, lambda n: "Kim Yong Chol " * n + "Trump summit meet", 2_500),
    "match many findings (capped)": (_match, _many_findings, 200),
    # facts
    "dates Monday Monday": (lambda t: dates.find_dates(t, PUB), lambda n: "Monday " * n, 4_000),
    "dates January 1": (lambda t: dates.find_dates(t, PUB), lambda n: "January 1 " * n, 2_000),
    "dates from January": (lambda t: dates.find_dates(t, PUB),
                           lambda n: "from January " * n, 2_000),
    "status clauses": (st.strip_recollections, lambda n: ", a" * n, 40_000),
    "status words": (lambda t: (st.status(t), st.mode(t), st.tense(t)),
                     lambda n: "x " * n, 8_000),
    "ordinals": (st.ordinal, lambda n: "first a " * n, 20_000),
    "venues": (places.venues, lambda n: "in Hanoi. Hanoi " * n, 2_000),
    # the event model: status words and cues, clauses, what governs a fact
    "lexicon phrases": (lambda t: Lexicon.default().scan(Words.of(t)),
                        lambda n: "did not rule out a trip " * n, 5_000),
    "clauses, commas in lists and dates": (
        lambda t: segments(t, Words.of(t), _spans(t)),
        lambda n: "after talks in Hanoi, Tokyo and Seoul on May 3, 2019, " * n, 2_000),
    "clauses, asides and openers": (lambda t: segments(t, Words.of(t)),
                                    lambda n: "(who met) while x — y — if z, " * n, 5_000),
    "anchors": (lambda t: anchors(Words.of(t), RULES.anchors),
                lambda n: "Pompeo said he will visit the summit " * n, 5_000),
    # what follows matching
    "signature": (signature, lambda n: "word " * n, 20_000),
    "escape and cut": (lambda t: cut(escape(t), 3000), lambda n: "&<>" * n, 60_000),
    "redact, one long token": (redact, lambda n: "x://a:b@" * n, 100_000),
    "redact, many URLs": (redact, lambda n: "see http://u:p@h/x " * n, 40_000),
    "log line escapes": (safe_text, lambda n: "\x1b[31m\x07" * n, 100_000),
}


@pytest.mark.parametrize("name", list(CASES))
def test_linear(name):
    fn, make, n = CASES[name]
    assert_linear(fn, make, n)


def test_cases_stay_under_the_caps():
    for name, (_fn, make, n) in CASES.items():
        if name.startswith(("match", "Document")):
            assert len(make(2 * n)) <= MAX_TEXT, name
