"""Accuracy on the labelled corpora: the shared dev set and our own held-out style cases.

Cases go through the pipeline's own analysis (``watcher.analyse``, via ``run_cases``) against the
baseline the service loads. An "alert" case counts as alerted when any of its findings is new or
update; a "quiet" case must have none. Precision and recall are printed (run with ``-s``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.baseline import load_seeds
from watcher.rules.evaluate import load_dev_cases, score
from watcher.rules.loader import load_ruleset

ROOT = Path(__file__).parent.parent
DEV = ROOT.parent / "shared" / "corpus" / "dev.yaml"
EXTRA = Path(__file__).parent / "fixtures" / "extra_cases.yaml"


def _score(path: Path):
    ruleset, errors = load_ruleset(ROOT / "rules")
    assert not errors
    # The baseline as the service loads it: seeds/manifest.yaml (dates, outlets, titles).
    result = score(ruleset, load_seeds(ROOT / "seeds"), load_dev_cases(path))
    print(f"\n{path.name}: precision {result.precision:.3f} recall {result.recall:.3f} "
          f"(tp {result.tp}, fp {result.fp}, fn {result.fn})")
    for line in result.wrong:
        print("  wrong:", line)
    return result


def test_dev_corpus_precision_and_recall():
    if not DEV.exists():
        pytest.skip(f"dev corpus not found at {DEV} (it lives in the shared folder beside the repo)")
    result = _score(DEV)
    assert result.precision >= 0.95, result.wrong
    assert result.recall >= 0.95, result.wrong


def test_extra_held_out_cases():
    result = _score(EXTRA)
    # Our own cases, written without tuning to them; a floor, not a target.
    assert result.precision >= 0.8, result.wrong
    assert result.recall >= 0.8, result.wrong
