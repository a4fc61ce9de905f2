"""Growth-ratio checks: doubling an input about doubles the time (linear), not quadruples it.

    assert_linear(strip_html, lambda n: "<" * n, 100_000)

The time is the CPU time of the calling thread (``time.thread_time``), so other processes on a
busy machine do not count; ``fn(make(n))`` and ``fn(make(2 * n))`` run in turns, ``repeats``
times each, and each keeps its best run. A linear step gives a ratio near 2, a quadratic one
near 4; the bound (3) sits between them. A measurement above the bound is taken again, up to
``tries`` times, before it counts: a busy machine can disturb one measurement, it does not make
a linear function quadratic three times over.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

BOUND = 3.0


def run_time(fn: Callable[[Any], Any], arg: Any) -> float:
    gc.collect()
    start = time.thread_time()
    fn(arg)
    return time.thread_time() - start


def growth(fn: Callable[[Any], Any], make: Callable[[int], Any], n: int,
           repeats: int = 5) -> float:
    small, big = make(n), make(2 * n)
    fn(small)  # warm-up: imports, caches, compiled patterns
    t_small = t_big = float("inf")
    for _ in range(repeats):
        t_small = min(t_small, run_time(fn, small))
        t_big = min(t_big, run_time(fn, big))
    return t_big / t_small


def assert_linear(fn: Callable[[Any], Any], make: Callable[[int], Any], n: int,
                  tries: int = 3, bound: float = BOUND) -> float:
    """The growth ratio for n -> 2n, asserted below ``bound``; returns it."""
    ratios = []
    for _ in range(tries):
        ratio = growth(fn, make, n)
        ratios.append(ratio)
        if ratio < bound:
            return ratio
    raise AssertionError(f"time grew {', '.join(f'{r:.2f}x' for r in ratios)} when the input "
                         f"doubled from {n} (linear: about 2x, quadratic: about 4x)")
