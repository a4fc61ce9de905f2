from __future__ import annotations

import json
import random
import subprocess
import sys

from watcher.dedup import (
    NUM_HASHES,
    NearDuplicateIndex,
    from_bytes,
    shingles,
    signature,
    similarity,
    to_bytes,
)

STORY = (
    "Container traffic at the Port of Rotterdam was halted on Thursday morning after a "
    "ship-to-shore crane collapsed onto the quay at the Maasvlakte II terminal, the harbour "
    "authority said in a statement. No one was injured in the collapse, which happened shortly "
    "after six in the morning during a shift change, according to the terminal operator. Two "
    "vessels that were being loaded at the time have been moved to an anchorage outside the "
    "port while inspectors examine the remaining cranes. Safety comes first, a spokesperson "
    "for the harbour authority told reporters at a press conference in the afternoon. Shipping "
    "lines warned customers that delays of two to three days were likely for cargo bound for "
    "the Netherlands and Germany. Several carriers said they would divert vessels to Antwerp "
    "and Hamburg if the closure lasted into next week. The cause of the collapse is under "
    "investigation. The Dutch Safety Board said it had sent a team to the site and would "
    "publish its first findings within a month."
)
# The same wire story on another outlet: other boilerplate, a changed word or two.
SYNDICATED = ("ROTTERDAM (Wire) - " + STORY.replace("Thursday morning", "Thursday")
              .replace("two to three days", "two or three days") +
              " Reporting by Anna de Vries; editing by Tom Hals.")
OTHER = (
    "The central bank left interest rates unchanged on Wednesday and signalled that it expects "
    "inflation to keep falling over the coming months, while warning that wage growth remains "
    "strong. Markets had priced in a pause after data last week showed consumer prices rising "
    "more slowly than forecast. The governor said the board would watch the labour market "
    "closely before deciding whether further tightening was needed."
)


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


def random_text(rng: random.Random, words: int = 200) -> str:
    vocab = STORY.split() + OTHER.split()
    return " ".join(rng.choice(vocab) for _ in range(words))


def test_similarity_estimates_jaccard():
    sig = signature(STORY)
    assert len(sig) == NUM_HASHES and similarity(sig, signature(STORY)) == 1.0
    assert similarity(sig, signature(STORY.upper())) == 1.0  # case and punctuation ignored
    assert similarity(sig, signature(SYNDICATED)) >= 0.8
    assert abs(similarity(sig, signature(SYNDICATED)) - jaccard(STORY, SYNDICATED)) < 0.12
    assert similarity(sig, signature(OTHER)) < 0.1
    half = " ".join(STORY.split()[: len(STORY.split()) // 2])
    assert abs(similarity(sig, signature(half)) - jaccard(STORY, half)) < 0.15


def test_empty_and_short_texts():
    assert signature("") == [0] * NUM_HASHES
    assert similarity(signature(""), signature("")) == 0.0
    assert similarity(signature("Breaking news"), signature("breaking NEWS!")) == 1.0


def test_signatures_serialise():
    sig = signature(STORY)
    assert json.loads(json.dumps(sig)) == sig
    assert from_bytes(to_bytes(sig)) == sig and len(to_bytes(sig)) == 8 * NUM_HASHES


def test_signature_is_stable_across_processes():
    code = ("import json; from watcher.dedup import signature; "
            f"print(json.dumps(signature({STORY!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "123"})
    assert json.loads(out.stdout) == signature(STORY)


def test_index_finds_near_duplicates_among_many():
    rng = random.Random(7)
    index = NearDuplicateIndex(threshold=0.8)
    for i in range(2000):
        index.add(f"noise-{i}", random_text(rng))
    index.add("story", STORY)
    index.add("other", OTHER)
    hits = index.query(SYNDICATED)
    assert [doc for doc, _ in hits] == ["story"] and hits[0][1] >= 0.8
    assert index.query(OTHER)[0] == ("other", 1.0)
    assert len(index.candidates(signature(SYNDICATED))) < 20  # LSH, not a scan of 2002
    assert index.query("something else entirely, never seen before") == []


def test_index_rebuilds_from_stored_signatures_and_removes():
    index = NearDuplicateIndex()
    stored = {"a": index.add("a", STORY), "b": index.add("b", OTHER)}
    rebuilt = NearDuplicateIndex()
    for doc_id, sig in json.loads(json.dumps(stored)).items():
        rebuilt.add_signature(doc_id, sig)
    assert rebuilt.query(SYNDICATED) == index.query(SYNDICATED)
    assert len(rebuilt) == 2 and "a" in rebuilt
    rebuilt.remove("a")
    assert rebuilt.query(SYNDICATED) == [] and "a" not in rebuilt
    rebuilt.add_signature("c", None)  # stored without a signature: nothing to index
    assert "c" not in rebuilt
    rebuilt.add("b", STORY)  # re-adding replaces
    assert [d for d, _ in rebuilt.query(STORY)] == ["b"] and len(rebuilt) == 1
