"""Timing rules: warm-up, minimum repeats and minimum total time."""

from __future__ import annotations

import time

import numpy as np

from codecbench.measure.timing import measure, peak_memory


def test_minimum_repeats_and_total_time():
    calls = []

    def f():
        calls.append(1)
        time.sleep(0.02)
        return 7

    t = measure(f, min_repeats=3, min_total_s=0.2)
    assert t.result == 7
    assert t.repeats >= 3 and t.repeats * 0.02 >= 0.19
    assert len(calls) == t.repeats + 1  # one warm-up
    assert 0.015 < t.median_s < 0.2 and t.min_s <= t.median_s


def test_fast_function_stops_at_max_repeats():
    t = measure(lambda: None, min_repeats=3, min_total_s=10, max_repeats=5)
    assert t.repeats == 5


def test_peak_memory_sees_numpy_allocation():
    peak, arr = peak_memory(lambda: np.ones(10_000_000, dtype=np.uint8))
    assert peak >= 10_000_000 and arr.size == 10_000_000
