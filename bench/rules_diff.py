"""How fast `watcher rules diff` compares two rule sets over stored articles.

    .venv/bin/python bench/rules_diff.py [--articles 10000] [--on-topic 0.25]

Stores ``--articles`` feed articles in a fresh SQLite database (SQLAlchemy Core bulk insert):
a share ``--on-topic`` of them are the labelled corpora's reports (Pompeo trips, summits,
missile launches: `../shared/corpus/*.yaml` and `bench/corpora/*.yaml`, repeated, with their own
publication dates, so repeats are other outlets' reports of known stories), the rest real
off-topic articles (the bodies of `../shared/corpora/article-extraction-benchmark`), spread
over 30 days. Then runs the real command line (`watcher rules diff`, a subprocess, start-up
included) with the shipped rules live and, as the working copy, (a) an unchanged copy and
(b) a copy with one rule narrowed, (c) a copy with an event word added (every rule then runs
on both sides). Prints articles per second for each and the ratio to the
target of 200 per second (>= 1.0 meets it). Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert

from watcher.rules.evaluate import load_dev_cases
from watcher.store.db import make_engine, migrate
from watcher.store.models import ArticleRow
from watcher.types import Article

TARGET = 200.0  # stored articles per second


def on_topic() -> list[Article]:
    files = sorted((SHARED / "corpus").glob("*.yaml")) + sorted((ROOT / "bench" / "corpora")
                                                                .glob("*.yaml"))
    out: list[Article] = []
    for f in files:
        try:
            out += [a for _, _, a in load_dev_cases(f)]
        except Exception as exc:  # noqa: BLE001 - a corpus in another format: skip it
            print(f"(skipped {f.name}: {type(exc).__name__})")
    return out


def off_topic() -> list[tuple[str, str]]:
    truth = SHARED / "corpora" / "article-extraction-benchmark" / "ground-truth.json"
    if not truth.exists():
        filler = "The council met on Tuesday to discuss the budget for the coming year. " * 30
        return [(f"Local council budget {i}", filler) for i in range(50)]
    out = []
    for item in json.loads(truth.read_text(encoding="utf-8")).values():
        body = (item.get("articleBody") or "").strip()
        if body:
            out.append((body.split(". ", 1)[0][:150], body))
    return out


def store(db: Path, count: int, share: float) -> tuple[int, int]:
    topical, other = on_topic(), off_topic()
    now = datetime.now(UTC)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    n_on = int(count * share) if topical else 0
    for i in range(count):
        if i < n_on:
            a = topical[i % len(topical)]
            rows.append({"url": f"https://bench.test/on/{i}", "origin": "feed", "title": a.title,
                         "text": a.text, "outlet": f"Outlet {i % 17}", "published": a.published,
                         "fetched_at": now})
        else:
            title, text = other[i % len(other)]
            rows.append({"url": f"https://bench.test/off/{i}", "origin": "feed", "title": title,
                         "text": text, "outlet": f"Outlet {i % 17}",
                         "published": start + timedelta(minutes=4 * i), "fetched_at": now})
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(ArticleRow.__table__), rows)  # type: ignore[attr-defined]
    engine.dispose()
    return n_on, count - n_on


def narrowed(folder: Path) -> Path:
    shutil.copytree(ROOT / "rules", folder)
    rule = folder / "pompeo-trip.yaml"
    text = rule.read_text(encoding="utf-8")
    text = text.replace("\nterms:\n", "\nterms:\n  malaysia:\n    - Malaysia\n", 1).replace(
        "exclude:\n", "exclude:\n  - if: malaysia\n    in: article\n", 1)
    rule.write_text(text, encoding="utf-8")
    return folder


def event_word_added(folder: Path) -> Path:
    """A word added to an event list: every rule reads places and dates around every rule's
    event words, so no rule can be taken as unchanged and all run twice (the worst case)."""
    shutil.copytree(ROOT / "rules", folder)
    rule = folder / "pompeo-trip.yaml"
    text = rule.read_text(encoding="utf-8")
    rule.write_text(text.replace("  travel:\n", "  travel:\n    - jaunt\n", 1), encoding="utf-8")
    return folder


def run(cfg: Path, copy: Path, count: int) -> None:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "watcher.cli", "rules", "diff", str(copy),
                          "--config", str(cfg)], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    summary = next((line for line in out.stdout.splitlines() if "compared" in line), "")
    if out.returncode not in (0, 1):
        print(f"  failed (exit {out.returncode}): {out.stdout[-500:]} {out.stderr[-500:]}")
        return
    rate = count / seconds
    print(f"  {summary}")
    print(f"  {seconds:.1f} s for {count} articles, start-up included: {rate:.0f} articles/s; "
          f"ratio to {TARGET:.0f}/s: {rate / TARGET:.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--articles", type=int, default=10_000)
    p.add_argument("--on-topic", type=float, default=0.25)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "watcher.db"
        t = time.perf_counter()
        n_on, n_off = store(db, args.articles, args.on_topic)
        print(f"stored {args.articles} articles ({n_on} on-topic, {n_off} off-topic) in "
              f"{time.perf_counter() - t:.1f} s")
        cfg = folder / "watcher.toml"
        cfg.write_text(f'[database]\nurl = "sqlite:///{db}"\n[rules]\npath = "{ROOT / "rules"}"\n'
                       f'[baseline]\npath = "{ROOT / "seeds"}"\n', encoding="utf-8")
        copy = folder / "copy"
        shutil.copytree(ROOT / "rules", copy)
        print("unchanged copy:")
        run(cfg, copy, args.articles)
        print("one rule narrowed (pompeo-trip excludes articles naming Malaysia):")
        run(cfg, narrowed(folder / "narrowed"), args.articles)
        print("an event word added (every rule runs on both sides: the worst case):")
        run(cfg, event_word_added(folder / "event"), args.articles)


if __name__ == "__main__":
    main()
