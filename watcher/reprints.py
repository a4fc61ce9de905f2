"""Reprints: wire stories republished by many outlets.

An article whose text is a near-duplicate (MinHash, ``watcher.dedup``) of a seed is known as a
whole; a near-duplicate of an earlier article is the same story from another outlet: it adds a
corroborating source to that story's findings instead of alerting again.

The index lives in memory and is kept in step with the database (signatures stored on the
articles' rows), so articles stored by other workers are seen too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from watcher import dedup
from watcher.dedup import NearDuplicateIndex, Signature, text_signature
from watcher.store import repo
from watcher.store.tail import Tail
from watcher.types import Article, Reprint

THRESHOLD = 0.8  # estimated Jaccard similarity of 3-word shingles
MIN_WORDS = dedup.MIN_WORDS  # shorter texts (a feed summary) are too short to call reprints
WINDOW = timedelta(days=14)  # how far back a reprint is looked for


class Reprints:
    """The near-duplicate index: seeds, and articles stored within ``window`` (reprints of a
    story come within days; older signatures are evicted so memory stays bounded)."""

    def __init__(self, engine: Engine, threshold: float = THRESHOLD,
                 window: timedelta = WINDOW, clock: Callable[[], datetime] | None = None):
        self.engine = engine
        self.index: NearDuplicateIndex[int] = NearDuplicateIndex(threshold=threshold)
        self.window = window
        self.clock = clock or (lambda: datetime.now(UTC))
        self.origins: dict[int, str] = {}  # indexed articles
        self.stored_at: dict[int, datetime] = {}  # feed articles only: seeds never expire
        self._tail = Tail()
        self._next_eviction: datetime | None = None
        self._lock = threading.Lock()

    def signature(self, article: Article) -> Signature | None:
        """The article's signature; None when it is too short to call a reprint."""
        return text_signature(article.text)

    def refresh(self, bind: repo.Bind | None = None) -> None:
        """Add the signatures stored since the last look (by this worker or another)."""
        with self._lock:
            now = self.clock()
            since = now - self.window
            first = self._tail.last == 0
            rows = repo.article_signatures(bind or self.engine, after=self._tail.last,
                                           among=self._tail.gaps(),
                                           signed_since=since if first else None)
            for article_id, origin, sig, stored in rows:
                self._add(article_id, origin, sig, stored or now, since)
            self._tail.saw(r[0] for r in rows)
            if self._next_eviction is None or now >= self._next_eviction:
                self._evict(since)
                self._next_eviction = now + timedelta(minutes=10)

    def add(self, article_id: int, sig: Signature, stored: datetime) -> None:
        """Index an article this worker has just stored (committed), without reading it back."""
        with self._lock:
            self._add(article_id, "feed", sig, stored, self.clock() - self.window)
            self._tail.saw([article_id])

    def _add(self, article_id: int, origin: str, sig: Any, stored: datetime,
             since: datetime) -> None:
        if sig is None or article_id in self.origins:
            return
        if origin != "seed":
            if stored < since:
                return
            self.stored_at[article_id] = stored
        self.index.add_signature(article_id, sig)
        self.origins[article_id] = origin

    def _evict(self, older_than: datetime) -> None:
        for article_id in [i for i, t in self.stored_at.items() if t < older_than]:
            self.index.remove(article_id)
            del self.stored_at[article_id]
            del self.origins[article_id]

    def lookup(self, sig: Signature, bind: repo.Bind | None = None, *,
               refresh: bool = True) -> Reprint | None:
        """The best earlier match for a signature, after reading the ones stored since the
        last look (unless ``refresh`` is False: the caller just did)."""
        if refresh:
            self.refresh(bind)
        with self._lock:
            hits = self.index.query_signature(sig)
        if not hits:
            return None
        doc, score = hits[0]  # best first
        return Reprint(doc, self.origins.get(doc, "feed"), score)

