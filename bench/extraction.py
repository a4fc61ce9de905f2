"""Extraction quality and speed: watcher's extraction vs plain ``trafilatura.extract``.

    .venv/bin/python bench/extraction.py [--rounds 3] [--limit N] [--no-pool]

Runs over the article-extraction benchmark (181 real pages with hand-checked article bodies,
../shared/corpora/article-extraction-benchmark/). Quality is the benchmark's own measure:
word 4-gram shingles of the extracted text against the gold body, precision and recall per
page (normalised so long pages do not weigh more), averaged, F1 of the averages.

Speed: both extractors get the same bytes (what the fetcher hands over). Each round visits the
pages in a fresh random order and alternates which extractor goes first on each page, so load
from other processes hits both alike; the median round is reported. "watcher" is
``ExtractorPool(workers=0)`` (``extract_article``: trafilatura fast mode, metadata, decoding);
the process pool (the service's setting) is timed separately: its extra cost is sending the
page to the worker and the Article back.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from watcher.pagetext import ExtractorPool

CORPUS = ROOT.parent / "shared" / "corpora" / "article-extraction-benchmark"
_TOKEN = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1))
                   if tokens[i:i + n])


def tp_fp_fn(gold: str, pred: str) -> tuple[float, float, float]:
    g, p = shingles(gold), shingles(pred)
    tp, fp, fn = sum((g & p).values()), sum((p - g).values()), sum((g - p).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def scores(rows: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    def precision(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp)

    def recall(tp: float, fp: float, fn: float) -> float:
        return 1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn)

    p = statistics.mean(precision(*r) for r in rows if r[0] + r[1] > 0)
    r = statistics.mean(recall(*r) for r in rows if r[0] + r[2] > 0)
    return p, r, 2 * p * r / (p + r)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0, help="only the first N pages")
    ap.add_argument("--no-pool", action="store_true", help="skip timing the process pool")
    args = ap.parse_args()
    if not (CORPUS / "ground-truth.json").is_file():
        print(f"SKIP: benchmark corpus not found at {CORPUS}")
        return 0
    gold = json.loads((CORPUS / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(gold)[: args.limit or None]
    pages = {k: gzip.decompress((CORPUS / "html" / f"{k}.html.gz").read_bytes()) for k in keys}
    urls = {k: gold[k].get("url") or f"https://example.com/{k}" for k in keys}
    print(f"{len(keys)} pages, {sum(map(len, pages.values())) / len(keys) / 1024:.0f} KiB "
          f"on average; trafilatura {trafilatura.__version__}")

    inproc = ExtractorPool(workers=0)

    def ours(k: str) -> str:
        result = inproc.extract(pages[k], urls[k])
        return result.article.text if result.article else ""

    def plain(k: str) -> str:
        return trafilatura.extract(pages[k]) or ""

    methods: dict[str, Callable[[str], str]] = {"plain trafilatura.extract": plain,
                                                "watcher extract_article": ours}
    for k in keys[:10]:  # warm up imports and caches
        plain(k), ours(k)
    outputs: dict[str, dict[str, str]] = {name: {} for name in methods}
    totals: dict[str, list[float]] = {name: [] for name in methods}
    rng = random.Random(42)
    for rnd in range(args.rounds):
        order = keys[:]
        rng.shuffle(order)
        spent = dict.fromkeys(methods, 0.0)
        for i, k in enumerate(order):
            names = list(methods) if i % 2 == 0 else list(reversed(methods))
            for name in names:
                start = time.perf_counter()
                text = methods[name](k)
                spent[name] += time.perf_counter() - start
                if rnd == 0:
                    outputs[name][k] = text
        for name in methods:
            totals[name].append(spent[name])

    print(f"{'extractor':<28}{'precision':>10}{'recall':>8}{'F1':>7}{'ms/page':>9}{'pages/s':>9}")
    for name in methods:
        p, r, f1 = scores([tp_fp_fn(gold[k].get("articleBody", ""), outputs[name][k])
                           for k in keys])
        sec = statistics.median(totals[name]) / len(keys)
        print(f"{name:<28}{p:>10.3f}{r:>8.3f}{f1:>7.3f}{sec * 1000:>9.1f}{1 / sec:>9.1f}")
    ratios = [o / p for o, p in zip(totals["watcher extract_article"],
                                    totals["plain trafilatura.extract"], strict=True)]
    print(f"time ratio watcher/plain: {statistics.median(ratios):.2f} "
          f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}; target <= 1.2)")
    inproc.close()

    if not args.no_pool:
        for workers, threads in ((1, 1), (2, 2)):
            with ExtractorPool(workers=workers, timeout=30) as pool:
                for k in keys[:workers * 3]:
                    pool.extract(pages[k], urls[k])
                start = time.perf_counter()
                with ThreadPoolExecutor(threads) as ex:
                    results = list(ex.map(lambda k: pool.extract(pages[k], urls[k]), keys))
                elapsed = time.perf_counter() - start
            statuses = Counter(r.status for r in results)
            print(f"ExtractorPool(workers={workers}), {threads} thread(s): "
                  f"{elapsed / len(keys) * 1000:.1f} ms/page wall, "
                  f"{len(keys) / elapsed:.1f} pages/s; {dict(statuses)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
