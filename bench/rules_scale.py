"""How matching time grows with the number of rules: 10 rules vs 1,000.

    .venv/bin/python bench/rules_scale.py [--repeat 10] [--rounds 5]

Rules are generated from a template with distinct terms (a person, a place word, an action per
rule), plus the two shipped rules. Both rule sets match the same articles (the dev corpus bodies
and the seeds, repeated). The Aho-Corasick prefilter scans each article once whatever the number
of rules, and only rules whose required terms occur are examined, so the ratio should stay near
1 (target: <= 1.5x). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from watcher.baseline import load_seeds
from watcher.match.matcher import match_article
from watcher.rules.evaluate import load_dev_cases
from watcher.rules.loader import load_ruleset
from watcher.types import Article

TEMPLATE = """id: generated-{n}
description: Generated rule {n}
alert:
  channel: "#bench"
  summary: "{{who}} at {{where}} {{when}}"
terms:
  person: [Envoy{n} Ardent, Minister{n} Quill, Delegate{n} Vantor]
  action: [convene{n}, parley{n}, summitry{n}, conclave{n}]
  other: [Sideshow{n}]
match:
  all:
    - near: {{terms: [person, action], words: 10}}
  none: [other]
facts:
  who: {{type: constant, value: Envoy {n}}}
  where: {{type: place}}
  when: {{type: date}}
  status: {{type: status}}
"""


def build(folder: Path, count: int) -> None:
    for shipped in ("summit-announcement.yaml", "pompeo-trip.yaml"):
        (folder / shipped).write_text((ROOT / "rules" / shipped).read_text())
    for n in range(count - 2):
        (folder / f"gen-{n:04d}.yaml").write_text(TEMPLATE.format(n=n))


def articles(repeat: int) -> list[Article]:
    shared = ROOT.parent / "shared"
    base: list[Article] = []
    dev = shared / "corpus" / "dev.yaml"
    if dev.exists():
        base += [a for _, _, a in load_dev_cases(dev)]
    base += load_seeds(ROOT / "seeds")  # as the service reads them (manifest.yaml)
    # A few articles that mention generated rules' terms, so some rules do get examined.
    base.append(Article("bench:gen", "Envoy7 Ardent to convene7 in Hanoi",
                        "Envoy7 Ardent will convene7 in Hanoi on March 3, officials said.",
                        base[0].published if base else None))
    return base * repeat


def timed(ruleset, docs: list[Article]) -> tuple[float, int]:
    """Mean seconds per article over one pass, and the number of findings."""
    found = 0
    t0 = time.perf_counter()
    for article in docs:
        found += len(match_article(article, ruleset))
    return (time.perf_counter() - t0) / len(docs), found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10, help="copies of the article set")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes per rule set")
    args = parser.parse_args()
    docs = articles(args.repeat)
    sets = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in (10, 1000):
            folder = Path(tmp) / str(count)
            folder.mkdir()
            build(folder, count)
            t0 = time.perf_counter()
            ruleset, errors = load_ruleset(folder)
            load_s = time.perf_counter() - t0
            assert not errors, errors
            t0 = time.perf_counter()
            _ = ruleset.prefilter
            build_s = time.perf_counter() - t0
            sets[count] = ruleset
            print(f"{count:5d} rules: load {load_s:6.2f} s, prefilter build "
                  f"{build_s * 1000:7.1f} ms")
    # Interleave the two sizes over several rounds and keep each one's best round: the machine
    # is shared, and the best round is the least disturbed measurement of the same work.
    best = {count: float("inf") for count in sets}
    findings = {}
    for _ in range(args.rounds):
        for count, ruleset in sets.items():
            per_article, findings[count] = timed(ruleset, docs)
            best[count] = min(best[count], per_article)
    for count in sets:
        print(f"{count:5d} rules: {best[count] * 1000:7.3f} ms/article over {len(docs)} articles "
              f"({findings[count]} findings), best of {args.rounds} rounds")
    results = best
    print(f"ratio 1000/10: {results[1000] / results[10]:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
