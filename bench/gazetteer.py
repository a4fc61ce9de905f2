"""Load time, memory and matching time of the GeoNames gazetteer against the old hand-kept one.

    .venv/bin/python bench/gazetteer.py [--rounds 3]

Each load is measured in a fresh Python process (so that nothing is cached), ``--rounds`` times,
median taken:

- load time: building the index from nothing (the old one: its table and its one big regex;
  the new one: ``watcher.facts.places.gazetteer()``, reading GeoNames' JSON and the dictionary
  and building the Aho-Corasick automaton), wall clock without tracing;
- memory kept: what tracemalloc still counts after the build and a garbage collection (the index
  itself), and the peak while building; also the growth of the process's resident set (RSS)
  over the timed build;
- matching: ``find_places`` over every sentence of the dev corpora and the seeds (or, without
  ../shared, a generated text), per sentence.

Prints each figure for both and the ratio new / old (the reference is measured in the same run).
Asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _build(which: str):
    """Build from nothing: the old table module is (re-)imported and its regex compiled afresh;
    the new index is built by ``places.gazetteer()`` (its modules are imported beforehand)."""
    if which == "old":
        sys.modules.pop("handkept_gazetteer", None)
        re.purge()
        import handkept_gazetteer

        return handkept_gazetteer.pattern()
    from watcher.facts import places

    places.forget()
    return places.gazetteer()


def _sentences() -> list[str]:
    import yaml

    texts: list[str] = []
    shared = ROOT.parent / "shared"
    for corpus in ("dev.yaml", "real-dev.yaml"):
        path = shared / "corpus" / corpus
        if path.exists():
            for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
                texts.append(case.get("title") or "")
                body = case.get("paragraphs") or case.get("text") or ""
                texts.extend(body if isinstance(body, list) else [body])
    texts.extend(p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt")))
    if not texts:
        texts = ["Pompeo will travel to Kuala Lumpur, Singapore and Jakarta on Tuesday."] * 200
    return [s for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if s.strip()]


def child(which: str) -> dict[str, float]:
    """Run in a fresh process: one build timed, one traced, then matching."""
    import watcher.facts.places  # noqa: F401  (the module, not the index)

    gc.collect()
    rss = _rss_kb()
    start = time.perf_counter()
    index = _build(which)
    seconds = time.perf_counter() - start
    gc.collect()
    rss_growth = _rss_kb() - rss
    del index
    gc.collect()
    tracemalloc.start()
    index = _build(which)
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sentences = _sentences()
    if which == "old":
        import handkept_gazetteer

        def find(s: str) -> object:
            return handkept_gazetteer.find_places(index, s)
    else:
        from watcher.facts.places import find_places as find
    find(sentences[0])
    start = time.perf_counter()
    found = sum(len(find(s)) for s in sentences)  # type: ignore[arg-type]
    per_sentence = (time.perf_counter() - start) / len(sentences)
    return {"seconds": seconds, "kept": kept, "peak": peak, "rss": rss_growth * 1024,
            "match": per_sentence, "found": found, "sentences": len(sentences)}


def measure(which: str, rounds: int) -> dict[str, float]:
    runs = []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, __file__, "--child", which], check=True,
                             capture_output=True, text=True).stdout
        runs.append(json.loads(out))
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=("old", "new"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    old, new = measure("old", args.rounds), measure("new", args.rounds)
    from watcher.facts import places

    g = places.gazetteer()
    print(f"GeoNames gazetteer: {len(g.entries):,} places, {len(g.automaton):,} names "
          f"(hand-kept: 252 places); median of {args.rounds} fresh processes each")
    rows = [("load time", "seconds", 1e3, "ms"), ("memory kept", "kept", 1 / 2**20, "MiB"),
            ("memory peak while loading", "peak", 1 / 2**20, "MiB"),
            ("process RSS growth", "rss", 1 / 2**20, "MiB"),
            ("find_places per sentence", "match", 1e6, "us")]
    for label, key, scale, unit in rows:
        ratio = new[key] / old[key] if old[key] else float("inf")
        print(f"  {label:28} hand-kept {old[key] * scale:9.2f} {unit:3}  GeoNames "
              f"{new[key] * scale:9.2f} {unit:3}  ratio {ratio:7.1f}x")
    print(f"  places found in {int(new['sentences'])} sentences: hand-kept {int(old['found'])}, "
          f"GeoNames {int(new['found'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
