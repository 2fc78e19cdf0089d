"""Timing: one warm-up call, then repeats until a minimum count and a minimum total time are reached.

Clocks: ``time.perf_counter_ns`` (wall) and ``time.process_time_ns`` (CPU of this process). The
median and the minimum are kept. ``sync`` (for example ``torch.cuda.synchronize``) runs before each
clock read so asynchronous device work is counted. Peak memory is measured on one extra, untimed
call with ``tracemalloc`` (allocations made through Python's and numpy's allocators; memory that a C
library allocates on its own is not seen).
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MIN_REPEATS = 3
MIN_TOTAL_S = 0.2
MAX_REPEATS = 50


@dataclass
class Timing:
    """Result of timing one function."""

    median_s: float
    min_s: float
    cpu_median_s: float
    repeats: int
    result: Any
    peak_bytes: int | None = None


def measure(
    func: Callable[[], Any],
    *,
    min_repeats: int = MIN_REPEATS,
    min_total_s: float = MIN_TOTAL_S,
    max_repeats: int = MAX_REPEATS,
    warmup: bool = True,
    sync: Callable[[], None] | None = None,
    trace_warmup: bool = False,
) -> Timing:
    """Time ``func()``: warm-up, then at least ``min_repeats`` calls and ``min_total_s`` seconds in all.

    With ``trace_warmup``, the warm-up call runs under ``peak_memory`` and ``Timing.peak_bytes``
    holds its peak allocation (so no extra call is needed to measure memory).
    """
    peak = None
    if warmup and trace_warmup:
        peak, result = peak_memory(func)
    else:
        result = func() if warmup else None
    walls: list[int] = []
    cpus: list[int] = []
    total = 0
    while len(walls) < min_repeats or (total < min_total_s * 1e9 and len(walls) < max_repeats):
        result = None  # free the previous result first, so two never coexist (large arrays)
        if sync:
            sync()
        c0 = time.process_time_ns()
        t0 = time.perf_counter_ns()
        result = func()
        if sync:
            sync()
        t1 = time.perf_counter_ns()
        c1 = time.process_time_ns()
        walls.append(t1 - t0)
        cpus.append(c1 - c0)
        total += t1 - t0
    return Timing(
        median_s=statistics.median(walls) / 1e9,
        min_s=min(walls) / 1e9,
        cpu_median_s=statistics.median(cpus) / 1e9,
        repeats=len(walls),
        result=result,
        peak_bytes=peak,
    )


def peak_memory(func: Callable[[], Any]) -> tuple[int, Any]:
    """Peak bytes allocated (tracemalloc) during one call of ``func``, and its result."""
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        result = func()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not already:
            tracemalloc.stop()
    return max(0, peak - base), result


def time_once(func: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of one call (for fitting, which is too slow to repeat)."""
    t0 = time.perf_counter_ns()
    result = func()
    return (time.perf_counter_ns() - t0) / 1e9, result
