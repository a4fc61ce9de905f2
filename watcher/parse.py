"""Parse a fetched feed body into ``Entry`` values. Never raises.

feedparser is given bytes we fetched ourselves (``watcher.fetch``), wrapped in a file object:
given bare bytes or a str, feedparser treats them as a *filename or URL* and would open it.

Entry identity (``entry_key``), in order:
  1. the entry's guid / Atom id, as written;
  2. else its link, canonicalised (``canonical_url``: scheme and host lower-cased, default port,
     fragment and tracking parameters dropped);
  3. else ``sha256:`` + a hash of title and summary.

Hostile input: every step is linear in the feed's size (``strip_html`` finds tags in one pass);
control characters (C0/C1 but tab and new line) never survive into a title, summary or key,
and a link holding one is refused (the entry has no link then); a summary is cut at
``MAX_SUMMARY`` characters and a title at ``MAX_TITLE``; with ``max_entries`` only that many
entries are taken from a feed, the newest by published date.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser

from watcher.types import Entry

__all__ = ["MAX_SUMMARY", "MAX_TITLE", "ParsedFeed", "canonical_url", "entry_key", "parse_feed",
           "strip_controls", "strip_html"]

MAX_SUMMARY = 20_000  # characters of an entry's summary kept (its page has the full text)
MAX_TITLE = 1_000  # characters of a title kept

TRACKING_PARAMS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "dclid", "msclkid", "yclid",
                             "_hsenc", "_hsmi", "igshid"})


@dataclass(frozen=True)
class ParsedFeed:
    status: str  # "ok" | "not_a_feed" | "empty" (a feed with no entries)
    title: str | None
    entries: tuple[Entry, ...]
    error: str | None = None  # why it is not a feed
    bozo: str | None = None  # what feedparser complained about in a feed it could still read

    @property
    def ok(self) -> bool:
        return self.status != "not_a_feed"


def parse_feed(body: bytes, headers: Mapping[str, str], feed_url: str, *,
               base_url: str | None = None, max_entries: int | None = None) -> ParsedFeed:
    """Parse ``body`` (the response headers give the charset).

    ``feed_url`` is the feed's identity (``Entry.feed_url``); relative links resolve against
    ``base_url`` (the URL the body came from after redirects), else against ``feed_url``.
    ``max_entries``: take only that many entries, the newest (by published date; entries
    without a date come after dated ones, in feed order), kept in feed order.
    """
    try:
        return _parse(body, headers, feed_url, base_url or feed_url, max_entries)
    except Exception as exc:  # noqa: BLE001 - a hostile feed must not kill the cycle
        return ParsedFeed("not_a_feed", None, (), f"parser failed: {type(exc).__name__}: {exc}")


def _parse(body: bytes, headers: Mapping[str, str], feed_url: str, base: str,
           max_entries: int | None) -> ParsedFeed:
    if not body.strip():
        return ParsedFeed("not_a_feed", None, (), "empty body")
    hdrs = {k.lower(): v for k, v in headers.items()}
    # No Content-Location: feedparser would resolve relative guids against it, and a guid
    # must not change when the feed moves. Links are resolved here, against the feed URL.
    hdrs.pop("content-location", None)
    d = feedparser.parse(io.BytesIO(body), response_headers=hdrs, sanitize_html=False,
                         resolve_relative_uris=False)
    bozo = _bozo_text(d) if d.get("bozo") else None
    version = d.get("version") or ""
    raw_entries = d.get("entries") or []
    if not version and not raw_entries:
        media = (hdrs.get("content-type") or "").split(";", 1)[0].strip().lower()
        head = body[:512].lstrip().lower()
        if "html" in media or head.startswith((b"<!doctype html", b"<html")):
            why = f"got an HTML page ({media or 'no content type'}), not a feed"
        else:
            why = f"not a feed: {bozo or 'no RSS/Atom/RDF root element'}"
        return ParsedFeed("not_a_feed", None, (), why, bozo)
    feed = d.get("feed") or {}
    title = _clean_line(feed.get("title")) or None
    use_guid = _guids_are_identities(raw_entries, base)
    entries: list[Entry] = []
    seen: set[str] = set()
    for raw in _newest(raw_entries, max_entries):
        entry = _entry(raw, base, feed_url, title, use_guid)
        if entry.key not in seen:  # a feed listing the same item twice gives one entry
            seen.add(entry.key)
            entries.append(entry)
    return ParsedFeed("ok" if entries else "empty", title, tuple(entries), None, bozo)


def _newest(entries: list[Any], limit: int | None) -> list[Any]:
    """At most ``limit`` entries: the newest by published date, in their feed order."""
    if limit is None or len(entries) <= limit:
        return entries
    floor = datetime.min.replace(tzinfo=UTC)
    order = sorted(range(len(entries)), key=lambda i: _published(entries[i]) or floor,
                   reverse=True)  # stable: equal dates (and undated ones) keep feed order
    return [entries[i] for i in sorted(order[:limit])]


def _entry(raw: Mapping[str, Any], base: str, feed_url: str, outlet: str | None,
           use_guid: bool) -> Entry:
    link = _link(raw, base)
    summary = raw.get("summary") or ""
    if not summary and raw.get("content"):
        summary = (raw["content"][0] or {}).get("value") or ""
    return Entry(
        feed_url=feed_url,
        key=entry_key(raw, base, use_guid=use_guid),
        link=link,
        title=_clean_line(raw.get("title")),
        summary=_cut(strip_html(summary), MAX_SUMMARY),
        published=_published(raw),
        outlet=outlet,
    )


def _link(raw: Mapping[str, Any], base: str) -> str | None:
    link = raw.get("link")
    if not link:
        for candidate in raw.get("links") or ():
            if candidate.get("href") and candidate.get("rel", "alternate") == "alternate":
                link = candidate["href"]
                break
    if not isinstance(link, str) or not link.strip() or has_controls(link.strip()):
        return None  # no link, or one holding control characters: refused
    if link == _guid(raw) and urlsplit(link.strip()).scheme.lower() not in ("http", "https"):
        return None  # feedparser copies a guid into the link ("guidislink"): not a URL here
    try:
        absolute = urljoin(base, link.strip())
    except ValueError:
        return None
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _published(raw: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        t = dict.get(raw, key) if isinstance(raw, dict) else raw.get(key)  # no deprecated alias
        if t:
            try:
                return datetime(*t[:6]).replace(tzinfo=UTC)
            except (TypeError, ValueError, OverflowError):
                continue
    return None


def _guid(entry: Mapping[str, Any]) -> str | None:
    guid = entry.get("id") or entry.get("guid")
    return guid.translate(_DROP_CONTROLS).strip() or None if isinstance(guid, str) else None


def _guids_are_identities(entries: list[Any], base: str) -> bool:
    """False when one guid stands for items with different links (a broken feed)."""
    links: dict[str, str | None] = {}
    for raw in entries:
        guid, link = _guid(raw), _link(raw, base)
        if guid is None:
            continue
        if guid in links and links[guid] != link:
            return False
        links[guid] = link
    return True


def entry_key(entry: Mapping[str, Any], feed_url: str, *, use_guid: bool = True) -> str:
    """The entry's stable identity: guid/id, else canonical link, else a content hash.

    ``use_guid=False`` skips the guid (``parse_feed`` does so for a feed whose guids are
    shared by items with different links).
    """
    guid = _guid(entry) if use_guid else None
    if guid:
        return guid
    link = _link(entry, feed_url)
    if link:
        return canonical_url(link)
    text = f"{entry.get('title') or ''}\n{entry.get('summary') or ''}"
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop default port, fragment and tracking parameters."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    if port and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:
        userinfo = parts.username or ""
        if parts.password:
            userinfo += f":{parts.password}"
        host = f"{userinfo}@{host}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not (k.lower().startswith("utm_") or k.lower() in TRACKING_PARAMS)]
    path = parts.path or ("/" if scheme in ("http", "https") else "")
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


SKIP_TAGS = frozenset({"script", "style", "noscript"})  # dropped with their content
BREAK_TAGS = frozenset({"br", "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td",
                        "th", "table", "ul", "ol", "blockquote", "section", "article", "header",
                        "footer", "pre", "hr", "dd", "dt", "figcaption"})  # become a new line
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# C0 and C1 control characters (and DEL), except tab and newline: never kept from a feed.
CONTROL_CHARS = "".join(chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20),
                                        *range(0x7F, 0xA0)))
_DROP_CONTROLS = str.maketrans("", "", CONTROL_CHARS)
_SPACES = re.compile(r"[^\S\n]+")  # any run of white space but new lines
_LINES = re.compile(r" ?\n[ \n]*")  # after _SPACES: a new line with the spaces around it


def strip_controls(text: str) -> str:
    """``text`` without control characters; CR and CR LF become new lines."""
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_DROP_CONTROLS)


def has_controls(text: str) -> bool:
    return any(ch in CONTROL_CHARS for ch in text)


def strip_html(text: str | None) -> str:
    """Plain text of an HTML fragment: tags removed (script/style/noscript with their content,
    block tags as new lines), entities decoded, control characters dropped, white space tidied.

    Linear in the length of ``text``: one pass finds the tags (``_tags_to_text``), the rest are
    regular expressions that cannot backtrack over more than one run of spaces.
    """
    if not text:
        return ""
    text = strip_controls(html.unescape(_tags_to_text(text)))
    text = _SPACES.sub(" ", text)
    return _LINES.sub("\n", text).strip()


def _tags_to_text(text: str) -> str:
    """Drop every ``<...>`` (to the next ``>``, as browsers read a tag) and ``<!-- ... -->``;
    a ``<`` with no ``>`` after it stays as text."""
    low = text.translate(_ASCII_LOWER)  # same length: tag names compare in ASCII lower case
    out: list[str] = []
    pos, n = 0, len(text)
    no_end: set[str] = set()  # skip tags whose end tag does not occur after some point
    while pos < n:
        lt = text.find("<", pos)
        if lt < 0:
            break
        if text.startswith("<!--", lt) and "-->" not in no_end:
            close = text.find("-->", lt + 4)
            if close >= 0:  # a comment, whatever it holds
                out.append(text[pos:lt])
                pos = close + 3
                continue
            no_end.add("-->")
        gt = text.find(">", lt + 1)
        if gt < 0:
            break  # no tag can close after here
        out.append(text[pos:lt])
        pos = gt + 1
        name, closing = _tag_name(low, lt + 1, gt)
        if name in SKIP_TAGS and not closing and low[lt + 1:lt + 1 + len(name)] == name:
            end = None if name in no_end else _end_tag(low, name, pos)
            if end is not None:
                pos = end
                out.append(" ")
                continue
            no_end.add(name)
        if name in BREAK_TAGS:
            out.append("\n")
    out.append(text[pos:])
    return "".join(out)


def _tag_name(low: str, start: int, stop: int) -> tuple[str, bool]:
    """The tag name in ``low[start:stop]`` (after white space and a ``/``), and whether the
    tag is a closing one."""
    i = start
    while i < stop and low[i].isspace():
        i += 1
    closing = i < stop and low[i] == "/"
    if closing:
        i += 1
        while i < stop and low[i].isspace():
            i += 1
    j = i
    while j < stop and (low[j].isalnum() or low[j] == "_"):
        j += 1
    return low[i:j], closing


def _end_tag(low: str, name: str, pos: int) -> int | None:
    """Where the first ``</name\\s*>`` after ``pos`` ends, or None."""
    marker = "</" + name
    while True:
        at = low.find(marker, pos)
        if at < 0:
            return None
        i = at + len(marker)
        while i < len(low) and low[i].isspace():
            i += 1
        if i < len(low) and low[i] == ">":
            return i + 1
        pos = at + 1


def _clean_line(text: Any) -> str:
    return _cut(" ".join(strip_html(text).split()), MAX_TITLE) if isinstance(text, str) else ""


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip()


def _bozo_text(d: Mapping[str, Any]) -> str:
    exc = d.get("bozo_exception")
    if exc is None:
        return "malformed feed"
    return f"{type(exc).__name__}: {exc}"[:500]
