"""Text handling for matching: one normalised copy of the article, sentences and word numbers.

``normalize`` keeps every character at its offset (a 1:1 map), so a match in the normalised
text points straight at the original words.

Everything here is linear in the text's length, and ``Document.build`` reads at most
``MAX_TITLE`` characters of a title and ``MAX_TEXT`` of a body: text from feeds and pages is
untrusted, and matching must not stall on "A. A. A. ..." or a megabyte of one sentence.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_MAP = {"’": "'", "‘": "'", "“": '"', "”": '"', "‐": " ", "‑": " ", "–": " ", "—": " ",
        "-": " ", "\n": " ", "\t": " ", "\r": " ", "\u00a0": " "}

_ABBREV = {"mr", "mrs", "ms", "dr", "st", "gen", "sen", "rep", "gov", "lt", "col", "capt", "jan",
           "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "jr",
           "sr", "no", "vs", "etc", "u.s", "d.c", "u.n", "u.k", "a.m", "p.m", "inc", "corp",
           "ft", "mt", "adm", "prof", "rev", "hon", "est", "approx", "dept", "e.g", "i.e"}
MAX_TEXT = 100_000  # characters of an article's body that are matched
MAX_TITLE = 1_000  # characters of its title
_ABBREV_LONGEST = 8  # characters: no abbreviation (nor initial like "U.S") is longer
_END = re.compile(r"[.!?][\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])|\n\s*")
_WORDS = re.compile(r"\w+")


_TABLE = str.maketrans(_MAP)


def normalize(text: str) -> str:
    """Lower case, straight quotes, dashes as spaces; same length as ``text``."""
    fast = text.translate(_TABLE).lower()
    if len(fast) == len(text):
        return fast
    out = []
    for ch in text:
        ch = _MAP.get(ch, ch)
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
    return "".join(out)


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)``; paragraphs (new lines) always end a sentence."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _END.finditer(text):
        if m.group(0)[0] == ".":
            token = _token_before(text, start, m.start()).lower()
            if token in _ABBREV or re.fullmatch(r"(?:\w\.)*\w", token) and len(token) <= 3 \
                    and token[:1].isalpha() and len(token.replace(".", "")) <= 2:
                continue
        end = m.start() + 1 if m.group(0)[0] in ".!?" else m.start()
        if text[start:end].strip():
            spans.append(_trim(text, start, end))
        start = m.end()
    if text[start:].strip():
        spans.append(_trim(text, start, len(text)))
    return spans


def _token_before(text: str, start: int, end: int) -> str:
    """The run of word characters and dots ending at ``end`` (not before ``start``), or ""
    when it is longer than any abbreviation: looks back a few characters only."""
    i, lo = end, max(start, end - _ABBREV_LONGEST)
    while i > lo and (text[i - 1].isalnum() or text[i - 1] in "._"):
        i -= 1
    if i == lo and lo > start and (text[lo - 1].isalnum() or text[lo - 1] in "._"):
        return ""  # a longer word: not an abbreviation
    return text[i:end]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


@dataclass(frozen=True)
class Document:
    """An article's text prepared once: the title is sentence 0 when there is one."""

    text: str  # title + "\n\n" + body
    norm: str
    spans: tuple[tuple[int, int], ...]
    starts: tuple[int, ...]  # sentence starts, for bisect
    word_starts: tuple[int, ...]
    title_sentences: int  # how many leading spans belong to the title

    @classmethod
    def build(cls, title: str, body: str) -> Document:
        title = (title or "")[:MAX_TITLE].strip()
        body = (body or "")[:MAX_TEXT]
        text = f"{title}\n\n{body}" if title else body
        spans = tuple(sentences(text))
        title_end = len(title)
        n_title = sum(1 for s, _ in spans if s < title_end) if title else 0
        return cls(text=text, norm=normalize(text), spans=spans,
                   starts=tuple(s for s, _ in spans),
                   word_starts=tuple(m.start() for m in _WORDS.finditer(text)),
                   title_sentences=n_title)

    def sentence_of(self, offset: int) -> int:
        return max(0, bisect.bisect_right(self.starts, offset) - 1)

    def word_of(self, offset: int) -> int:
        return bisect.bisect_right(self.word_starts, offset)

    def sentence(self, index: int) -> str:
        s, e = self.spans[index]
        return self.text[s:e]
