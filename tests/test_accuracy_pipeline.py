"""Accuracy of the whole pipeline on the shared dev corpus: feed, page, extraction, rules,
decision and Slack delivery, all real (bench/accuracy.py). Run with ``-s`` to see the figures."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "corpus" / "dev.yaml"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_accuracy", ROOT / "bench" / "accuracy.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_pipeline_precision_and_recall_on_dev_corpus():
    if not DEV.exists():
        pytest.skip(f"dev corpus not found at {DEV} (it lives in the shared folder beside the "
                    "repo)")
    bench = _bench()
    result = bench.run(DEV)
    bench.report(result)
    wrong = [f"{o.case.id}: expected {o.case.expect}, got {o.got} {o.summaries}"
             for o in result.wrong]
    print(f"pipeline on {DEV.name}: precision {result.precision:.3f} recall "
          f"{result.recall:.3f} (TP {result.tp}, FP {result.fp}, FN {result.fn})")
    assert len(result.outcomes) > 0
    assert result.precision >= 0.95, wrong
    assert result.recall >= 0.95, wrong
