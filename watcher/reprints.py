"""Reprints: wire stories republished by many outlets.

An article whose text is a near-duplicate (MinHash, ``watcher.dedup``) of a seed is known as a
whole; a near-duplicate of an earlier article is the same story from another outlet: it adds a
corroborating source to that story's findings instead of alerting again.

The index lives in memory and is kept in step with the database (signatures stored on the
articles' rows), so articles stored by other workers are seen too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from watcher.dedup import NearDuplicateIndex, Signature, signature
from watcher.store import repo
from watcher.types import Article, Decision, Finding, Known

THRESHOLD = 0.8  # estimated Jaccard similarity of 3-word shingles
MIN_WORDS = 40  # shorter texts (a feed summary) are too short to call reprints
LOOKBACK = 500  # ids: more than the articles all workers can have in flight at once
WINDOW = timedelta(days=14)  # how far back a reprint is looked for


@dataclass(frozen=True)
class Reprint:
    article_id: int
    origin: str  # "seed" or "feed"
    similarity: float


class Reprints:
    """The near-duplicate index: seeds, and articles stored within ``window`` (reprints of a
    story come within days; older signatures are evicted so memory stays bounded)."""

    def __init__(self, engine: Engine, threshold: float = THRESHOLD,
                 window: timedelta = WINDOW, clock: Callable[[], datetime] | None = None):
        self.engine = engine
        self.index = NearDuplicateIndex(threshold=threshold)
        self.window = window
        self.clock = clock or (lambda: datetime.now(UTC))
        self.origins: dict[int, str] = {}
        self.stored_at: dict[int, datetime] = {}  # feed articles only: seeds never expire
        self._last_id = 0
        self._next_eviction: datetime | None = None
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Add the signatures stored since the last look (by this worker or another).

        Ids are handed out at insert but become visible at commit, so a lower id can appear
        after a higher one: the look goes back ``LOOKBACK`` ids and skips those indexed.
        """
        with self._lock:
            gaps = [i for i in range(max(1, self._last_id - LOOKBACK), self._last_id)
                    if i not in self.origins]  # not committed yet, or without a signature
            now = self.clock()
            since = now - self.window
            missing = repo.signed_article_ids(self.engine, after=self._last_id, among=gaps,
                                              since=since)
            for article_id, origin, sig, stored in repo.signatures_of(self.engine, missing):
                self.index.add_signature(article_id, sig)
                self.origins[article_id] = origin
                if origin != "seed":
                    self.stored_at[article_id] = repo.utc(stored) or now
                self._last_id = max(self._last_id, article_id)
            if self._next_eviction is None or now >= self._next_eviction:
                self._evict(since)
                self._next_eviction = now + timedelta(minutes=10)

    def _evict(self, older_than: datetime) -> None:
        for article_id in [i for i, t in self.stored_at.items() if t < older_than]:
            self.index.remove(article_id)
            del self.stored_at[article_id]
            # its id stays in ``origins`` (as "expired") so the gap look-back skips it
            self.origins[article_id] = "expired"

    def find(self, article: Article) -> tuple[Signature | None, Reprint | None]:
        """The article's signature (None when too short) and the best earlier match."""
        if len(article.text.split()) < MIN_WORDS:
            return None, None
        sig = signature(article.text)
        self.refresh()
        with self._lock:
            hits = self.index.query_signature(sig)
        if not hits:
            return sig, None
        best_id, score = hits[0]  # best first
        doc = int(best_id)  # type: ignore[call-overload]
        return sig, Reprint(doc, self.origins.get(doc, "feed"), score)


def reprint_decisions(results: Sequence[tuple[Finding, Decision]], reprint: Reprint,
                      known_of_original: Sequence[Known]) -> list[tuple[Finding, Decision]]:
    """A reprint reports nothing new: its findings are known, tied to the original's story.

    Pure: ``known_of_original`` are the findings stored for the original article.
    """
    out = []
    for f, d in results:
        if d.kind == "known":
            out.append((f, d))
            continue
        same = next((k for k in known_of_original if k.rule_id == f.rule_id), None)
        what = "a seed" if reprint.origin == "seed" else f"article #{reprint.article_id}"
        out.append((f, replace(d, kind="known", changes=(), matched=same,
                               reason=f"reprint of {what} ({reprint.similarity:.0%} similar)")))
    return out
