"""What SQLite's ``synchronous=FULL`` costs against NORMAL, measured in the same run.

    .venv/bin/python bench/durability.py [--entries 300] [--rounds 3]

On a database file in a temporary folder on the checkout's disk (not /tmp, which may be a RAM
disk where fsync costs nothing), with the engine the service uses (``watcher.store.db``):

* storing entries' results: per entry, one transaction with its article, a finding and the
  finding's alert (``repo.save_article`` + ``repo.record_findings``), as the pipeline does;
* delivering: per alert, the outbox marks ``sending`` then ``sent`` (two commits), as
  ``watcher.deliver`` does.

Each is timed with NORMAL (the reference) and FULL, alternately, ``rounds`` times; the best
time of each is kept, and the ratio FULL / NORMAL is printed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from watcher.store import outbox, repo
from watcher.store.db import make_engine, migrate
from watcher.types import Article, Decision, Finding

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def store_entries(engine, n: int, offset: int) -> list[int]:  # type: ignore[no-untyped-def]
    alert_ids = []
    for i in range(offset, offset + n):
        article = Article(url=f"https://news.example/{i}", title=f"Story {i}",
                          text="Pompeo will travel to Hanoi next week. " * 40, published=NOW)
        finding = Finding(rule_id="pompeo-trip", key=f"pompeo-trip|where=vietnam|{i}",
                          facts={"where": [{"name": "Hanoi"}]}, evidence="Pompeo will travel",
                          summary="Pompeo trip")
        alert = {"kind": "new", "rule_id": "pompeo-trip", "channel": "#news",
                 "payload": {"summary": "Pompeo trip", "article_url": article.url}}
        with engine.connect() as conn, conn.begin():
            article_id, _ = repo.save_article(conn, article, "feed", NOW)
            alert_ids += repo.record_findings(conn, article_id,
                                              [(finding, Decision("new", "first"), alert)], NOW)
    return alert_ids


def deliver(engine, alert_ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    for alert_id in alert_ids:
        outbox.set_alert(engine, alert_id, state="sending", attempts=1)
        outbox.set_alert(engine, alert_id, state="sent", ts="1.0", sent_at=NOW)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    best: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory(prefix=".bench-durability-", dir=ROOT) as tmp:
        for r in range(args.rounds):
            for mode in ("NORMAL", "FULL"):
                engine = make_engine(f"sqlite:///{Path(tmp) / f'{mode}-{r}.db'}",
                                     synchronous=mode)
                migrate(engine)
                start = time.perf_counter()
                ids = store_entries(engine, args.entries, 0)
                stored = time.perf_counter() - start
                start = time.perf_counter()
                deliver(engine, ids)
                delivered = time.perf_counter() - start
                engine.dispose()
                for what, seconds in (("store", stored), ("deliver", delivered)):
                    key = (what, mode)
                    best[key] = min(best.get(key, float("inf")), seconds)
    n = args.entries
    print(f"{'':34} {'NORMAL':>10} {'FULL':>10} {'FULL/NORMAL':>12}")
    for what, label in (("store", f"store {n} entries (1 commit each)"),
                        ("deliver", f"deliver {n} alerts (2 commits each)")):
        normal, full = best[(what, "NORMAL")], best[(what, "FULL")]
        print(f"{label:34} {normal * 1000 / n:8.2f}ms {full * 1000 / n:8.2f}ms "
              f"{full / normal:11.2f}x   (per entry/alert)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
