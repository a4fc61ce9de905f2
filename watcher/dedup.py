"""Near-duplicate article texts: MinHash signatures over word shingles, LSH to find candidates.

The same wire story shows up on many outlets with different boilerplate, small edits and a new
headline. ``signature(text)`` reduces a text to ``NUM_HASHES`` integers such that the share of
equal positions between two signatures estimates the Jaccard similarity of the two texts' sets
of ``SHINGLE``-word shingles (``similarity``).

The signature is a *one-permutation* MinHash (one stable 64-bit hash per shingle, the minimum
kept in each of ``NUM_HASHES`` bins, empty bins filled from the next non-empty bin by rotation:
Shrivastava & Li, "Densifying One Permutation Hashing via Rotation", 2014). It costs one hash
per shingle instead of one per shingle and permutation, needs no numpy, and is deterministic
across processes and versions of Python (blake2b with a fixed key, never ``hash()``).

Signatures are plain lists of ints: store them as JSON, or as 8 bytes per value with
``to_bytes`` / ``from_bytes``. ``NearDuplicateIndex`` keeps them in LSH bands (so a query looks
at a few candidates, not at every document) and is rebuilt from stored signatures with
``add_signature``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from array import array
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

__all__ = ["NUM_HASHES", "SHINGLE", "NearDuplicateIndex", "from_bytes", "shingles",
           "signature", "similarity", "to_bytes"]

NUM_HASHES = 128
SHINGLE = 3  # words per shingle
_KEY = b"watcher-dedup-v1"
_BIN_BITS = 7  # 2**7 == NUM_HASHES
_VALUE_MASK = (1 << 32) - 1
_WORD = re.compile(r"\w+", re.UNICODE)

Signature = list[int]


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _WORD.findall(text)


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    words = _words(text)
    if not words:
        return set()
    if len(words) <= size:
        return {" ".join(words)}
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


MIN_WORDS = 40  # shorter texts (a feed summary) are too short to call reprints


def text_signature(text: str) -> Signature | None:
    """``signature(text)``, or None for a text under ``MIN_WORDS`` words."""
    if len(text.split()) < MIN_WORDS:
        return None
    return signature(text)


def signature(text: str) -> Signature:
    """The MinHash signature of ``text``.

    ``NUM_HASHES`` ints; all zero for a text without words.
    """
    bins: list[int | None] = [None] * NUM_HASHES
    for sh in shingles(text):
        h = int.from_bytes(hashlib.blake2b(sh.encode("utf-8"), digest_size=8, key=_KEY).digest(),
                           "big")
        b, v = h >> (64 - _BIN_BITS), h & _VALUE_MASK
        cur = bins[b]
        if cur is None or v < cur:
            bins[b] = v
    if all(v is None for v in bins):
        return [0] * NUM_HASHES
    out = [0] * NUM_HASHES
    for i in range(NUM_HASHES):  # densify: borrow from the next non-empty bin, marked by distance
        d = 0
        while (found := bins[(i + d) % NUM_HASHES]) is None:
            d += 1
        out[i] = found + (d << 32)
    return out


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures (0..1)."""
    if len(a) != len(b):
        raise ValueError(f"signatures of different lengths ({len(a)} and {len(b)})")
    if not a or not any(a) or not any(b):
        return 0.0
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def to_bytes(sig: Sequence[int]) -> bytes:
    return array("Q", sig).tobytes()


def from_bytes(data: bytes) -> Signature:
    values = array("Q")
    values.frombytes(data)
    return values.tolist()


def _lsh_params(threshold: float, num_hashes: int) -> tuple[int, int]:
    """Bands and rows minimising false positives + 10 x false negatives around ``threshold``.

    Missing a duplicate costs a repeated alert; a false candidate costs one comparison.
    """
    def area(f: Callable[[float], float], lo: float, hi: float, steps: int = 200) -> float:
        w = (hi - lo) / steps
        return sum(f(lo + (i + 0.5) * w) for i in range(steps)) * w
    best, best_cost = (num_hashes, 1), float("inf")
    for rows in range(1, num_hashes + 1):
        bands = num_hashes // rows
        def p(s: float, b: int = bands, r: int = rows) -> float:
            return 1 - (1 - s ** r) ** b
        cost = area(p, 0.0, threshold) + 10 * area(lambda s: 1 - p(s), threshold, 1.0)
        if cost < best_cost:
            best, best_cost = (bands, rows), cost
    return best


K = TypeVar("K", bound=Hashable)  # a document id


class NearDuplicateIndex(Generic[K]):
    """Documents by signature, queried for near-duplicates via LSH bands.

    ``threshold`` tunes the bands: a query with a lower threshold than the index's may miss
    pairs in between. Not thread-safe; the caller serialises access.
    """

    def __init__(self, threshold: float = 0.8, num_hashes: int = NUM_HASHES):
        if num_hashes != NUM_HASHES:
            raise ValueError(f"signatures have {NUM_HASHES} values")
        self.threshold = threshold
        self.bands, self.rows = _lsh_params(threshold, num_hashes)
        self._sigs: dict[K, Sequence[int]] = {}
        self._buckets: list[dict[int, set[K]]] = [
            defaultdict(set) for _ in range(self.bands)]

    def __len__(self) -> int:
        return len(self._sigs)

    def __contains__(self, doc_id: K) -> bool:
        return doc_id in self._sigs

    def _keys(self, sig: Sequence[int]) -> Iterable[tuple[int, int]]:
        # A band's key is the hash of its values: a collision only adds a candidate, which
        # is then scored exactly; an int is much smaller than a tuple kept per document.
        for b in range(self.bands):
            yield b, hash(tuple(sig[b * self.rows:(b + 1) * self.rows]))

    def add(self, doc_id: K, text: str) -> Signature:
        """Index ``text`` under ``doc_id``; returns its signature (store it to rebuild later)."""
        sig = signature(text)
        self.add_signature(doc_id, sig)
        return sig

    def add_signature(self, doc_id: K, sig: Sequence[int] | None) -> None:
        """Index a stored signature. None or [] (no signature: too short) is skipped."""
        if not sig:
            return
        if len(sig) != NUM_HASHES:
            raise ValueError(f"a signature has {NUM_HASHES} values, got {len(sig)}")
        if doc_id in self._sigs:
            self.remove(doc_id)
        self._sigs[doc_id] = array("Q", sig)  # 8 bytes a value, not a Python int each
        if not any(sig):
            return  # a text without words is nobody's duplicate
        for b, key in self._keys(sig):
            self._buckets[b][key].add(doc_id)

    def remove(self, doc_id: K) -> None:
        sig = self._sigs.pop(doc_id, None)
        if sig is None:
            return
        for b, key in self._keys(sig):
            bucket = self._buckets[b].get(key)
            if bucket is not None:
                bucket.discard(doc_id)
                if not bucket:
                    del self._buckets[b][key]

    def candidates(self, sig: Sequence[int]) -> set[K]:
        """Documents sharing at least one LSH band with ``sig`` (what a query scores)."""
        found: set[K] = set()
        if any(sig):
            for b, key in self._keys(sig):
                found |= self._buckets[b].get(key, set())
        return found

    def query(self, text: str, threshold: float | None = None) -> list[tuple[K, float]]:
        """Indexed documents whose estimated similarity to ``text`` is >= threshold, best first."""
        return self.query_signature(signature(text), threshold)

    def query_signature(self, sig: Sequence[int], threshold: float | None = None,
                        ) -> list[tuple[K, float]]:
        limit = self.threshold if threshold is None else threshold
        scored = [(doc, similarity(sig, self._sigs[doc])) for doc in self.candidates(sig)]
        return sorted((d for d in scored if d[1] >= limit), key=lambda d: (-d[1], str(d[0])))
