from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.parse import canonical_url, entry_key, parse_feed, strip_html

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
PAGES = Path(__file__).parent / "fixtures" / "pages"
RSS_HEADERS = {"content-type": "application/rss+xml; charset=utf-8"}


def parse(name: str, url: str = "https://gazette.example/feed.xml"):
    return parse_feed((FEEDS / name).read_bytes(), RSS_HEADERS, url)


def test_rss_entries():
    feed = parse("rss.xml")
    assert feed.status == "ok" and feed.bozo is None and feed.error is None
    assert feed.title == "Harbour Gazette & Friends"
    first, second, third, fourth = feed.entries
    assert first.key == "gazette-7"
    assert first.title == "Crane collapse halts Rotterdam terminal"
    assert first.summary == "Container traffic was halted on Thursday.\nNo injuries & no delays."
    assert first.published == datetime(2024, 3, 14, 8, 30, tzinfo=UTC)
    assert first.outlet == "Harbour Gazette & Friends"
    assert first.feed_url == "https://gazette.example/feed.xml"
    assert second.key == "https://gazette.example/news/second?page=2"  # canonical link
    assert second.published is None
    assert third.key.startswith("sha256:") and third.link is None
    assert fourth.key == "gazette-9"  # a relative guid is kept as written
    assert fourth.link == "https://gazette.example/news/relative"


def test_atom_entry():
    feed = parse("atom.xml")
    (entry,) = feed.entries
    assert feed.title == "Port Wire"
    assert entry.key == "tag:wire.example,2024:antwerp"
    assert entry.summary == "Carriers divert vessels."
    assert entry.published == datetime(2024, 3, 14, 16, 15, tzinfo=UTC)
    assert entry.published.tzinfo is UTC


def test_bozo_feed_with_entries_is_ok():
    feed = parse("bozo.xml")
    assert feed.status == "ok" and feed.bozo and "not well-formed" in feed.bozo
    assert [e.key for e in feed.entries] == ["s-1", "s-2"]
    assert feed.entries[0].published is None  # "not a date at all"


def test_feed_without_entries_is_empty():
    feed = parse("empty.xml")
    assert feed.status == "empty" and feed.title == "Quiet Feed" and feed.entries == ()
    assert feed.ok


@pytest.mark.parametrize("body, headers, words", [
    ((PAGES / "article.html").read_bytes(), {"content-type": "text/html"}, "HTML page"),
    ((PAGES / "article.html").read_bytes(), {}, "HTML page"),
    (bytes(range(256)) * 40, {"content-type": "application/octet-stream"}, "not a feed"),
    (b"", {}, "empty body"),
    (b"   \n", {}, "empty body"),
    (b'{"items": []}', {"content-type": "application/json"}, "not a feed"),
])
def test_not_a_feed(body, headers, words):
    feed = parse_feed(body, headers, "https://x.example/feed")
    assert feed.status == "not_a_feed" and words in feed.error and not feed.ok


def test_body_is_never_taken_for_a_filename_or_url(tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_text('<rss version="2.0"><channel><title>local file</title><item><guid>x</guid>'
                      "</item></channel></rss>")
    for body in (str(secret).encode(), b"file://" + str(secret).encode()):
        assert parse_feed(body, {}, "https://x.example/").status == "not_a_feed"


def test_guid_shared_by_different_items_is_not_an_identity():
    items = "".join(f"<item><guid>same</guid><title>t{i}</title><link>https://x.example/{i}</link>"
                    "</item>" for i in range(3))
    body = f'<rss version="2.0"><channel><title>d</title>{items}</channel></rss>'.encode()
    keys = [e.key for e in parse_feed(body, {}, "https://x.example/feed").entries]
    assert keys == ["https://x.example/0", "https://x.example/1", "https://x.example/2"]


def test_links_resolve_against_the_final_url_but_entries_keep_the_feed_url():
    body = (FEEDS / "rss.xml").read_bytes()
    feed = parse_feed(body, {}, "https://old.example/rss", base_url="https://new.example/feed/")
    entry = feed.entries[3]
    assert entry.feed_url == "https://old.example/rss"
    assert entry.link == "https://new.example/news/relative"


def test_duplicate_items_give_one_entry():
    item = "<item><guid>same</guid><title>t</title></item>"
    body = f'<rss version="2.0"><channel><title>d</title>{item}{item}</channel></rss>'.encode()
    assert len(parse_feed(body, {}, "https://x.example/").entries) == 1


def test_charset_from_headers():
    body = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Café</title><item>'
            "<guid>1</guid><title>Zürich</title></item></channel></rss>").encode("iso-8859-1")
    feed = parse_feed(body, {"content-type": "text/xml; charset=iso-8859-1"}, "https://x/")
    assert feed.title == "Café" and feed.entries[0].title == "Zürich"


@pytest.mark.parametrize("url, canonical", [
    ("HTTPS://Example.COM/a?utm_source=x&b=1&utm_campaign=y#frag", "https://example.com/a?b=1"),
    ("http://example.com:80/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4", "http://example.com/a"),
    ("https://example.com:8443/x?a=1&a=2", "https://example.com:8443/x?a=1&a=2"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com/p?q=a%20b", "https://example.com/p?q=a+b"),
])
def test_canonical_url(url, canonical):
    assert canonical_url(url) == canonical


def test_entry_key_chain():
    assert entry_key({"id": " abc ", "link": "https://x/y"}, "https://x/") == "abc"
    assert entry_key({"id": "", "link": "https://X/y?utm_x=1"}, "https://x/") == "https://x/y"
    assert entry_key({"link": "/rel"}, "https://x.example/feed") == "https://x.example/rel"
    a = entry_key({"title": "t", "summary": "s"}, "https://x/")
    assert a == entry_key({"title": "t", "summary": "s"}, "https://other/")
    assert a != entry_key({"title": "t", "summary": "s2"}, "https://x/")
    assert a.startswith("sha256:") and len(a) == 7 + 64


def test_strip_html():
    assert strip_html("<p>a <b>b</b></p><p>c&amp;d</p><style>x{}</style>") == "a b\nc&d"
    assert strip_html(None) == ""


def test_entity_bombs_and_external_entities_are_not_expanded():
    lol = ['<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">']
    for name, prev in zip("bcdefg", "abcdef", strict=True):
        lol.append(f'<!ENTITY {name} "{("&" + prev + ";") * 16}">')
    bomb = (f'<?xml version="1.0"?><!DOCTYPE rss [{"".join(lol)}]><rss version="2.0"><channel>'
            "<title>&g;</title><item><guid>1</guid></item></channel></rss>").encode()
    xxe = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
           b'<rss version="2.0"><channel><title>t&x;</title><item><guid>1</guid></item>'
           b"</channel></rss>")
    for body in (bomb, xxe):
        feed = parse_feed(body, {}, "https://x.example/")
        assert feed.status == "ok" and len(feed.title) < 10


def test_a_guid_is_not_taken_for_a_relative_link():
    body = (b'<rss version="2.0"><channel><title>t</title><item><guid>1234</guid></item>'
            b"<item><guid>https://x.example/a</guid></item></channel></rss>")
    first, second = parse_feed(body, {}, "https://x.example/feed").entries
    assert first.link is None and first.key == "1234"
    assert second.link == "https://x.example/a"


@pytest.mark.parametrize("html_in, text", [
    ("a < b <i>c</i> and x", "a c and x"),  # a tag runs to the next '>'
    ("a < b and no end", "a < b and no end"),  # no '>' after it: text
    ("<scr<script>x</script >y", "xy"),  # "<scr<script>" is one tag, "scr"
    ("<script>never closed <b>bold</b>", "never closed bold"),
    ("<SCRIPT type=x>a</Script>b<noscript>c</noscript>", "b"),
    ("<br/>one<BR>two< /p >three<h2>four</h2x>", "one\ntwo\nthree\nfour"),
    ("&lt;b&gt;shown&lt;/b&gt;", "<b>shown</b>"),
    ("x\u2003\u2003 y \n\n \u3000 z", "x y\nz"),
])
def test_strip_html_cases(html_in, text):
    assert strip_html(html_in) == text


def _feed(*items: str, title: str = "t") -> bytes:
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
            + "".join(items) + "</channel></rss>").encode()


def test_control_characters_never_survive_parsing():
    body = _feed("<item><title>Red&#27;[31m alert&#7; &#x9b;2J now</title><guid>g&#27;1</guid>"
                 "<link>https://x.example/a</link>"
                 "<description>&lt;p&gt;line&amp;#27;[0m one&#13;&#10;two&#1;&lt;/p&gt;"
                 "</description></item>",
                 "<item><title>bad link</title><guid>2</guid>"
                 "<link>https://x.example/b&#27;c</link></item>",
                 title="Feed&#27;]0;pwned&#7;")
    feed = parse_feed(body, {}, "https://x.example/feed")
    first, second = feed.entries
    for text in (feed.title, first.title, first.summary, first.key, second.title):
        assert not any(ord(c) < 32 and c not in "\n\t" or 0x7f <= ord(c) < 0xa0 for c in text)
    assert first.title == "Red[31m alert \u203a2J now"  # &#x9b; is '›' in HTML, not CSI
    assert first.summary == "line[0m one\ntwo"
    assert first.key == "g1" and first.link == "https://x.example/a"
    assert second.link is None  # a link holding a control character is refused


def test_summaries_and_titles_are_capped():
    from watcher.parse import MAX_SUMMARY, MAX_TITLE

    body = _feed(f"<item><title>{'T' * 5000}</title><guid>1</guid>"
                 f"<description>{'word ' * 20000}</description></item>")
    [entry] = parse_feed(body, {}, "https://x.example/").entries
    assert len(entry.title) == MAX_TITLE and len(entry.summary) <= MAX_SUMMARY
    assert entry.summary.startswith("word word")


def test_max_entries_takes_the_newest_by_date_in_feed_order():
    def item(i: int, day: int | None) -> str:
        date = f"<pubDate>Mon, {day:02d} Jun 2026 10:00:00 GMT</pubDate>" if day else ""
        return f"<item><title>{i}</title><guid>{i}</guid>{date}</item>"

    body = _feed(item(1, 3), item(2, None), item(3, 9), item(4, 1), item(5, 7), item(6, None))
    keys = [e.key for e in parse_feed(body, {}, "https://x.example/", max_entries=3).entries]
    assert keys == ["1", "3", "5"]
    keys = [e.key for e in parse_feed(body, {}, "https://x.example/", max_entries=5).entries]
    assert keys == ["1", "2", "3", "4", "5"]  # undated ones after the dated, in feed order
    assert len(parse_feed(body, {}, "https://x.example/").entries) == 6
