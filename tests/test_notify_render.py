"""Rendering as pure functions: escaping, cutting, links, bold, limits; the docs are current."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.slack_standin import NASTY_TEXT, assert_no_injection, check_message, texts_of
from tests.test_notify_slack import make_alert
from watcher.notify.docs import docs_markdown
from watcher.notify.render import (
    HEADER_LIMIT,
    SECTION_LIMIT,
    cut,
    emphasise,
    escape,
    link,
    render_message,
    render_plain,
    safe_url,
    u16len,
)
from watcher.types import Change

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("raw, escaped", [
    ("a & b", "a &amp; b"),
    ("&amp;", "&amp;amp;"),
    ("<!channel>", "&lt;!channel&gt;"),
    ("<@U123> <#C123> <!subteam^S1>", "&lt;@U123&gt; &lt;#C123&gt; &lt;!subteam^S1&gt;"),
    ("<https://x|y>", "&lt;https://x|y&gt;"),
    ("tab\tbell\x07", "tab bell"),
    (None, ""),
])
def test_escape(raw, escaped):
    assert escape(raw) == escaped


def test_bare_broadcast_mentions_are_broken():
    assert escape("hey @channel and @Here, @everyone!") == \
        "hey @\u2060channel and @\u2060Here, @\u2060everyone!"
    assert escape("mail me@channels.example") == "mail me@channels.example"


def test_mrkdwn_is_sent_verbatim_and_names_are_not_linked():
    message = render_message(make_alert(kind="digest", items=(make_alert(),)))
    assert message["link_names"] is False
    for m in (message, render_message(make_alert())):
        for block in m["blocks"]:
            for text in [block.get("text"), *block.get("elements", ())]:
                if text and text["type"] == "mrkdwn":
                    assert text["verbatim"] is True


def test_cut_never_splits_an_entity_or_a_link():
    text = "x" * 10 + "&amp;" + "y" * 10
    for limit in range(5, 26):
        out = cut(text, limit)
        assert u16len(out) <= limit
        assert "&" not in out or "&amp;" in out
    linked = "see <https://e.example/a|title here> now"
    for limit in range(3, len(linked)):
        out = cut(linked, limit)
        assert out.count("<") == out.count(">")
    assert cut("short", 10) == "short"


def test_cut_counts_utf16_units():
    out = cut("😀" * 100, 51)
    assert u16len(out) <= 51 and out.endswith("…")


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "data:text/html,x", "ftp://e.example/x", "https://", "//e.example/",
    "https://e.example/a b", "https://e.example/\na", "", None, "mailto:a@b.c",
])
def test_unsafe_urls_are_rejected(url):
    assert safe_url(url) is None


def test_safe_url_escapes_what_would_break_the_link():
    assert safe_url("https://e.example/a?b=1&c=<2>|3") == \
        "https://e.example/a?b=1&amp;c=%3C2%3E%7C3"
    assert safe_url(" HTTP://E.example/ ") == "HTTP://E.example/"


def test_link_title_cannot_break_out():
    out = link("https://e.example/", "a|b>c<d&e")
    assert out == "<https://e.example/|a¦b&gt;c&lt;d&amp;e>"
    assert link("javascript:x", "Title <!here>") == "Title &lt;!here&gt;"
    assert link("https://e.example/", "") == "<https://e.example/|https://e.example/>"


def test_emphasise_bolds_matched_words_case_insensitively():
    assert emphasise("Talks in HANOI & hanoi", ("Hanoi",)) == "Talks in *HANOI* &amp; *hanoi*"
    assert emphasise("the summit in Hanoi", ("summit in Hanoi", "Hanoi")) == \
        "the *summit in Hanoi*"
    assert emphasise("a <b> c", ("<b>",)) == "a *&lt;b&gt;* c"
    assert emphasise("plain", ()) == "plain"
    assert emphasise("xHanoi", ("Hanoi",)) == "x\u200b*Hanoi*"


def test_matched_words_cannot_inject_bold_markers():
    assert emphasise("a *b* c", ("*b*",)) == "a *b* c"


def test_every_limit_is_respected_for_huge_alerts():
    alert = make_alert(summary="S&" * 400, evidence="e<" * 9000, article_title="T" * 5000,
                       changes=tuple(Change("f" * 300, "n" * 3000, "w" * 3000)
                                     for _ in range(200)),
                       outlet="O" * 5000, rule_id="r" * 500, severity="s" * 500)
    message = render_message(alert)
    assert check_message(message["text"], message["blocks"]) is None
    assert u16len(message["blocks"][0]["text"]["text"]) <= HEADER_LIMIT
    for block in message["blocks"][1:]:
        if block["type"] == "section":
            assert u16len(block["text"]["text"]) <= SECTION_LIMIT


def test_empty_fields_still_render_a_valid_message():
    alert = make_alert(summary="", evidence="", changes=(), outlet=None, published=None,
                       article_title="", matched=())
    message = render_message(alert)
    assert check_message(message["text"], message["blocks"]) is None
    assert message["text"]


def test_digest_without_items_is_valid():
    message = render_message(make_alert(kind="digest", items=()))
    assert check_message(message["text"], message["blocks"]) is None


def test_rendered_message_is_injection_free():
    url = "https://e.example/x"
    alert = make_alert(summary=NASTY_TEXT, article_title=NASTY_TEXT, article_url=url,
                       evidence=NASTY_TEXT, outlet=NASTY_TEXT,
                       changes=(Change(NASTY_TEXT, NASTY_TEXT, NASTY_TEXT),))
    assert_no_injection(render_message(alert), {url})


def test_thread_fields():
    plain = render_message(make_alert())
    assert plain["thread_ts"] is None and plain["reply_broadcast"] is None
    reply = render_message(make_alert(kind="update", thread_ts="1.000001"), reply_broadcast=True)
    assert reply["thread_ts"] == "1.000001" and reply["reply_broadcast"] is True


def test_plain_rendering_is_readable():
    text = render_plain(make_alert())
    assert text.splitlines()[0] == "[NEW] Second summit to be held in Hanoi"
    assert "place: Hanoi (was: not announced)" in text
    assert "reported by 2 outlets" in text


def test_docs_show_the_current_rendering():
    docs = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
    assert docs == docs_markdown(), (
        "docs/alerts.md is out of date: run `python -m watcher.notify docs/alerts.md`")
    assert "cannot thread or edit" in docs


def test_top_level_text_covers_the_blocks():
    message = render_message(make_alert())
    for text in list(texts_of(message))[1:]:
        for line in text.splitlines():
            assert line.split(" · ")[0] in message["text"]
