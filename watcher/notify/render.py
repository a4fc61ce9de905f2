"""Alert -> Slack message, as pure functions (no I/O, no clock).

Everything that came from a feed or a page goes through ``escape`` (``&``, ``<``, ``>``), so an
article cannot mention ``@channel``, a user or a group, nor forge a link. The only control
sequences in a message are the links we build ourselves (``<url|title>``, with a checked
http(s) URL). Every text is cut to Slack's limits with ``cut`` (never inside ``&amp;`` or a
link), so Slack never rejects a message for its size.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from watcher.types import Alert, Change

# Slack's limits (https://api.slack.com/reference/block-kit/blocks), counted in UTF-16 units,
# which is never less than the count in characters.
MAX_BLOCKS = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
CONTEXT_ELEMENTS = 10
TEXT_LIMIT = 40000
TEXT_BUDGET = 39000  # top-level text: keep a margin under msg_too_long

LINE_LIMIT = 600  # one change, one digest item
TITLE_LIMIT = 300  # a link title
URL_LIMIT = 2000
MAX_CHANGE_SECTIONS = 10
MAX_DIGEST_LINES = 100  # past this a digest is unreadable on a phone: "…and N more"
ELLIPSIS = "…"

EVENT_TYPE = "watcher_alert"

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0, DEL and C1 (CSI is \x9b)
_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,4}$")
_SPACES = re.compile(r"\s+")
_ZWSP = "\u200b"  # lets a bold marker work next to a letter ("Ha\u200b*noi*")
_SEVERITY_ICON = {
    "critical": ":rotating_light:",
    "high": ":rotating_light:",
    "warning": ":warning:",
    "medium": ":warning:",
    "info": ":information_source:",
    "low": ":information_source:",
}


# ---------------------------------------------------------------------------------------------
# escaping and cutting


def u16len(text: str) -> int:
    """Length as Slack counts it (UTF-16 code units)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def clean(text: str | None) -> str:
    """Drop control characters (tabs become spaces); keep newlines."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("", text)


def one_line(text: str | None) -> str:
    return _SPACES.sub(" ", clean(text)).strip()


def escape(text: str | None) -> str:
    """Make feed text literal for Slack: ``&`` ``<`` ``>`` become entities.

    Text that already contains ``&amp;`` is escaped again (``&amp;amp;``): it came from the feed
    as literal characters and must be shown as such. A bare ``@channel``/``@here``/
    ``@everyone`` gets an invisible word joiner after the ``@`` so no parser can take it for a
    mention (our mrkdwn is also sent with ``verbatim: true``).
    """
    text = clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060", text)


def cut(text: str, limit: int, mark: str = ELLIPSIS) -> str:
    """Cut escaped mrkdwn to ``limit`` UTF-16 units, ending with ``mark`` when cut.

    Never leaves half an entity (``&am``) or half a link (``<https://x|ti``).
    """
    if u16len(text) <= limit:
        return text
    budget = limit - u16len(mark)
    used = end = 0  # end: how many characters fit in the budget
    for ch in text:
        w = 2 if ord(ch) > 0xFFFF else 1
        if used + w > budget:
            break
        used += w
        end += 1
    head = text[:end]
    partial = _PARTIAL_ENTITY.search(head)
    if partial:
        head = head[: partial.start()]
    lt = head.rfind("<")
    if lt > head.rfind(">"):
        head = head[:lt]
    return head.rstrip() + mark


def cut_raw(text: str, limit: int) -> str:
    """Cut unescaped text to ``limit`` characters (before escaping; the result may grow)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """The URL ready to sit inside ``<...|...>``, or None when it is not a plain http(s) URL."""
    if not url:
        return None
    url = url.strip()
    if len(url) > URL_LIMIT or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def link(url: str | None, title: str | None) -> str:
    """``<url|title>`` with both parts made safe; just the title when the URL is not usable."""
    shown = one_line(title) or one_line(url) or "(untitled)"
    shown = cut(escape(cut_raw(shown, TITLE_LIMIT)).replace("|", "¦"), TITLE_LIMIT + 40)
    target = safe_url(url)
    return f"<{target}|{shown}>" if target else shown


def emphasise(evidence: str, matched: Iterable[str]) -> str:
    """Escape ``evidence`` and put the matched words in bold (case-insensitive, longest first)."""
    text = clean(evidence)
    words = sorted({one_line(w) for w in matched if one_line(w).strip("*")}, key=len, reverse=True)
    spans: list[tuple[int, int]] = []
    lowered = text.lower()
    for word in words:
        needle = word.lower()
        start = lowered.find(needle)
        while start != -1:
            end = start + len(needle)
            if all(end <= a or start >= b for a, b in spans):
                spans.append((start, end))
            start = lowered.find(needle, end)
    out: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        out.append(escape(text[pos:start]))
        word = escape(text[start:end].replace("*", ""))
        before = _ZWSP if start > 0 and text[start - 1].isalnum() else ""
        after = _ZWSP if end < len(text) and text[end].isalnum() else ""
        out.append(f"{before}*{word}*{after}")
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# blocks


def _header(text: str) -> dict[str, Any]:
    shown = cut(escape(one_line(text)), HEADER_LIMIT) or "(no summary)"
    return {"type": "header", "text": {"type": "plain_text", "text": shown, "emoji": True}}


def _section(mrkdwn: str) -> dict[str, Any]:
    text = {"type": "mrkdwn", "text": cut(mrkdwn, SECTION_LIMIT), "verbatim": True}
    return {"type": "section", "text": text}


def _context(parts: list[str]) -> dict[str, Any]:
    elements = [{"type": "mrkdwn", "text": cut(p, SECTION_LIMIT), "verbatim": True}
                for p in parts if p]
    return {"type": "context", "elements": elements[:CONTEXT_ELEMENTS]}


def _pack(lines: list[str], max_blocks: int, limit: int = SECTION_LIMIT) -> tuple[list[str], int]:
    """Join lines into as few texts of at most ``limit`` as possible; return them and how many
    lines did not fit in ``max_blocks`` texts."""
    texts: list[str] = []
    current = ""
    for i, line in enumerate(lines):
        line = cut(line, limit)
        if current and u16len(current) + 1 + u16len(line) <= limit:
            current += "\n" + line
            continue
        if current:
            texts.append(current)
        if len(texts) == max_blocks:
            return texts, len(lines) - i
        current = line
    if current:
        texts.append(current)
    return texts, 0


def _published(when: datetime | None) -> str:
    if when is None:
        return ""
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _change_line(change: Change) -> str:
    was = one_line(change.was) or "not known before"
    fact = escape(cut_raw(one_line(change.fact), 80))
    now = escape(cut_raw(one_line(change.now), 300))
    return cut(f"• *{fact}:* {now} _(was: {escape(cut_raw(was, 200))})_", LINE_LIMIT)


def _source_text(alert: Alert) -> str:
    where = " · ".join(
        p for p in (escape(cut_raw(one_line(alert.outlet), 100)), _published(alert.published)) if p
    )
    title = link(alert.article_url, alert.article_title)
    return f"*Source:* {title}" + (f"\n{where}" if where else "")


def _context_parts(alert: Alert, count_line: str) -> list[str]:
    severity = one_line(alert.severity) or "info"
    icon = _SEVERITY_ICON.get(severity.lower(), "")
    return [
        f"Rule: `{escape(cut_raw(one_line(alert.rule_id), 100))}`",
        f"{icon} Severity: *{escape(cut_raw(severity, 40))}*".strip(),
        count_line,
    ]


def _sources_line(alert: Alert) -> str:
    n = max(alert.sources, 1)
    return f"Reported by {_plural(n, 'outlet')}"


def _alert_blocks(alert: Alert) -> list[dict[str, Any]]:
    summary = one_line(alert.summary) or one_line(alert.article_title)
    header = f"Update: {summary}" if alert.kind == "update" else summary
    blocks = [_header(header)]
    if alert.changes:
        label = "*What is new* (compared with what was known)"
        lines = [label] + [_change_line(c) for c in alert.changes]
        texts, rest = _pack(lines, MAX_CHANGE_SECTIONS)
        if rest:
            texts.append(f"_…and {_plural(rest, 'more change')}_")
        blocks += [_section(t) for t in texts]
    if alert.evidence.strip():
        evidence = emphasise(cut_raw(one_line(alert.evidence), 2500), alert.matched)
        blocks.append(_section(f"“{evidence}”"))
    blocks.append(_section(_source_text(alert)))
    blocks.append(_context(_context_parts(alert, _sources_line(alert))))
    return blocks


def _digest_line(item: Alert) -> str:
    summary = escape(cut_raw(one_line(item.summary) or one_line(item.article_title), 200))
    parts = [f"• *{summary}*", link(item.article_url, item.article_title)]
    if item.outlet:
        parts.append(escape(cut_raw(one_line(item.outlet), 60)))
    if item.permalink:
        parts.append(link(item.permalink, "thread"))
    return cut(" — ".join(parts), LINE_LIMIT)


def _digest_title(alert: Alert, items: tuple[Alert, ...]) -> str:
    return one_line(alert.summary) or (
        f"{_plural(len(items), 'new development')} for {one_line(alert.rule_id)}"
    )


def _digest_blocks(alert: Alert) -> list[dict[str, Any]]:
    items = alert.items or (alert,)
    blocks = [_header(_digest_title(alert, items))]
    lines = [_digest_line(i) for i in items[:MAX_DIGEST_LINES]]
    texts, rest = _pack(lines, MAX_BLOCKS - 3)
    rest += max(len(items) - MAX_DIGEST_LINES, 0)
    blocks += [_section(t) for t in texts]
    if rest:
        blocks.append(_section(f"_…and {rest} more_"))
    blocks.append(_context(_context_parts(alert, _plural(len(items), "development"))))
    return blocks


def _block_texts(blocks: list[dict[str, Any]]) -> Iterable[str]:
    for block in blocks:
        if "text" in block:
            yield block["text"]["text"]
        if block.get("elements"):
            yield " · ".join(element["text"] for element in block["elements"])


def metadata(alert: Alert) -> dict[str, Any]:
    payload: dict[str, Any] = {"alert_id": alert.id, "rule_id": alert.rule_id, "kind": alert.kind}
    return {"event_type": EVENT_TYPE, "event_payload": payload}


def render_message(alert: Alert, reply_broadcast: bool = False) -> dict[str, Any]:
    """The keyword arguments of ``chat.postMessage`` for ``alert`` (None means "leave out")."""
    blocks = _digest_blocks(alert) if alert.kind == "digest" else _alert_blocks(alert)
    blocks = blocks[:MAX_BLOCKS]
    text = cut("\n".join(_block_texts(blocks)), TEXT_BUDGET)
    return {
        "channel": alert.channel,
        "text": text,
        "blocks": blocks,
        "metadata": metadata(alert),
        "unfurl_links": False,
        "unfurl_media": False,
        "link_names": False,  # never turn "@name" into a mention
        "thread_ts": alert.thread_ts,
        "reply_broadcast": reply_broadcast if alert.thread_ts else None,
    }


# ---------------------------------------------------------------------------------------------
# plain text (console) and the docs


def render_plain(alert: Alert) -> str:
    """A readable plain-text rendering, for the console and for people reading the docs."""
    lines: list[str] = []
    if alert.kind == "digest":
        items = alert.items or (alert,)
        lines.append(f"[DIGEST] {_digest_title(alert, items)}")
        for item in items:
            lines.append(f"  - {one_line(item.summary)} | {one_line(item.article_title)}"
                         f" <{one_line(item.article_url)}>")
        lines.append(f"  rule {alert.rule_id} · severity {alert.severity}")
        return "\n".join(lines)
    tag = "UPDATE" if alert.kind == "update" else "NEW"
    lines.append(f"[{tag}] {one_line(alert.summary) or one_line(alert.article_title)}")
    if alert.thread_ts:
        lines.append(f"  (reply in thread {alert.thread_ts})")
    if alert.changes:
        lines.append("  What is new:")
        for c in alert.changes:
            lines.append(f"    - {one_line(c.fact)}: {one_line(c.now)}"
                         f" (was: {one_line(c.was) or 'not known before'})")
    if alert.evidence.strip():
        lines.append(f"  \"{one_line(alert.evidence)}\"")
    source = " · ".join(p for p in (one_line(alert.outlet), _published(alert.published)) if p)
    lines.append(f"  Source: {one_line(alert.article_title)} <{one_line(alert.article_url)}>"
                 + (f" ({source})" if source else ""))
    lines.append(f"  rule {alert.rule_id} · severity {alert.severity} · "
                 f"{_sources_line(alert).lower()}")
    return "\n".join(lines)
