"""How matching time grows with the number of rules: 10 rules vs 1,000.

    .venv/bin/python bench/rules_scale.py [--repeat 10] [--rounds 5]

Rules are generated from a template with distinct terms (a person, a place word, an action per
rule), plus the shipped rules. Both rule sets match the same articles (the dev corpus bodies
and the seeds, repeated). The Aho-Corasick prefilter scans each article once whatever the number
of rules, and only rules whose required terms occur are examined, so the ratio should stay near
1 (target: <= 1.5x). The time per article is split into matching (``analyse.match``) and the
decision against the known findings, the seeds' baseline (``analyse.conclude``), as the pipeline
runs them. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from watcher import analyse
from watcher.analyse import KnownList
from watcher.baseline import load_seeds
from watcher.rules.evaluate import load_dev_cases
from watcher.rules.loader import load_ruleset
from watcher.rules.schema import RuleSet
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


SHIPPED = ("summit-announcement.yaml", "pompeo-trip.yaml", "nk-missile-test.yaml")


def build(folder: Path, count: int) -> None:
    for shipped in SHIPPED:
        (folder / shipped).write_text((ROOT / "rules" / shipped).read_text())
    for n in range(count - len(SHIPPED)):
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


def timed(ruleset: RuleSet, docs: list[Article], known: KnownList
          ) -> tuple[float, float, int]:
    """Mean seconds per article matching and deciding over one pass, and the findings."""
    found = 0
    matching = deciding = 0.0
    for article in docs:
        t0 = time.perf_counter()
        matched = analyse.match(article, ruleset)
        t1 = time.perf_counter()
        analyse.conclude(matched, ruleset, known.items, default_channel="#bench")
        t2 = time.perf_counter()
        matching += t1 - t0
        deciding += t2 - t1
        found += len(matched.findings)
    return matching / len(docs), deciding / len(docs), found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10, help="copies of the article set")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes per rule set")
    args = parser.parse_args()
    docs = articles(args.repeat)
    sets: dict[int, RuleSet] = {}
    known: dict[int, KnownList] = {}
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
            known[count] = KnownList()
            for seed in load_seeds(ROOT / "seeds"):
                known[count].add_seed(seed, ruleset)
            print(f"{count:5d} rules: load {load_s:6.2f} s, prefilter build "
                  f"{build_s * 1000:7.1f} ms")
    # Interleave the two sizes over several rounds and keep each one's best round: the machine
    # is shared, and the best round is the least disturbed measurement of the same work.
    best = {count: (float("inf"), 0.0) for count in sets}
    findings = {}
    for _ in range(args.rounds):
        for count, ruleset in sets.items():
            matching, deciding, findings[count] = timed(ruleset, docs, known[count])
            if matching + deciding < sum(best[count]):
                best[count] = (matching, deciding)
    for count in sets:
        matching, deciding = best[count]
        print(f"{count:5d} rules: {(matching + deciding) * 1000:7.3f} ms/article (matching "
              f"{matching * 1000:.3f}, decision {deciding * 1000:.3f}) over {len(docs)} "
              f"articles ({findings[count]} findings), best of {args.rounds} rounds")
    ratio = sum(best[1000]) / sum(best[10])
    print(f"ratio 1000/10: {ratio:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
