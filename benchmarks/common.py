"""Shared helpers for the benchmarks: timing by median of repeats, JSON result files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def median_time(func: Callable[[], Any], repeats: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``func`` over ``repeats`` calls after ``warmup`` calls (perf_counter_ns)."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        func()
        times.append(time.perf_counter_ns() - t0)
    return statistics.median(times) / 1e9


def interleaved(funcs: dict[str, Callable[[], Any]], rounds: int = 7) -> dict[str, float]:
    """Median time of each function, calls interleaved round by round so machine noise hits all alike."""
    for f in funcs.values():
        f()
    times: dict[str, list[int]] = {k: [] for k in funcs}
    for _ in range(rounds):
        for k, f in funcs.items():
            t0 = time.perf_counter_ns()
            f()
            times[k].append(time.perf_counter_ns() - t0)
    return {k: statistics.median(v) / 1e9 for k, v in times.items()}


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` with the machine facts added."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {
        "benchmark": name,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **data,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=float) + "\n")
    return path
