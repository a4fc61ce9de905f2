"""Parse a fetched feed body into ``Entry`` values. Never raises.

feedparser is given bytes we fetched ourselves (``watcher.fetch``), wrapped in a file object:
given bare bytes or a str, feedparser treats them as a *filename or URL* and would open it.

Entry identity (``entry_key``), in order:
  1. the entry's guid / Atom id, as written;
  2. else its link, canonicalised (``canonical_url``: scheme and host lower-cased, default port,
     fragment and tracking parameters dropped);
  3. else ``sha256:`` + a hash of title and summary.
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

__all__ = ["ParsedFeed", "canonical_url", "entry_key", "parse_feed", "strip_html"]

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
               base_url: str | None = None) -> ParsedFeed:
    """Parse ``body`` (the response headers give the charset).

    ``feed_url`` is the feed's identity (``Entry.feed_url``); relative links resolve against
    ``base_url`` (the URL the body came from after redirects), else against ``feed_url``.
    """
    try:
        return _parse(body, headers, feed_url, base_url or feed_url)
    except Exception as exc:  # noqa: BLE001 - a hostile feed must not kill the cycle
        return ParsedFeed("not_a_feed", None, (), f"parser failed: {type(exc).__name__}: {exc}")


def _parse(body: bytes, headers: Mapping[str, str], feed_url: str, base: str) -> ParsedFeed:
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
    for raw in raw_entries:
        entry = _entry(raw, base, feed_url, title, use_guid)
        if entry.key not in seen:  # a feed listing the same item twice gives one entry
            seen.add(entry.key)
            entries.append(entry)
    return ParsedFeed("ok" if entries else "empty", title, tuple(entries), None, bozo)


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
        summary=strip_html(summary),
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
    if not isinstance(link, str) or not link.strip():
        return None
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
    return guid.strip() or None if isinstance(guid, str) else None


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


_SKIP = re.compile(r"<(script|style|noscript)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAKS = re.compile(r"<\s*/?\s*(br|p|div|li|h[1-6]|tr|td|th|table|ul|ol|blockquote|section|"
                     r"article|header|footer|pre|hr|dd|dt|figcaption)\b[^>]*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_LINES = re.compile(r"\s*\n\s*")


def strip_html(text: str | None) -> str:
    """Plain text of an HTML fragment: tags removed, entities decoded, whitespace tidied."""
    if not text:
        return ""
    text = _SKIP.sub(" ", text)
    text = _BREAKS.sub("\n", text)
    text = html.unescape(_TAGS.sub("", text))
    text = _SPACES.sub(" ", text)
    return _LINES.sub("\n", text).strip()


def _clean_line(text: Any) -> str:
    return " ".join(strip_html(text).split()) if isinstance(text, str) else ""


def _bozo_text(d: Mapping[str, Any]) -> str:
    exc = d.get("bozo_exception")
    if exc is None:
        return "malformed feed"
    return f"{type(exc).__name__}: {exc}"[:500]
