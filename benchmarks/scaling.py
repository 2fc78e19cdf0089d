"""Scaling: a grid of 16 tasks on the ``process`` and ``dask`` executors with 2 workers against
``serial``. Target: at least 1.6x on 2 cores.

Each task is a codec setting on jets-synthetic (zstd and gzip levels, blosc shuffles, trunc bits),
sized so a task takes about a second, long enough that process start-up is a small part of it.
"""

from __future__ import annotations

import tempfile
import time

import codecbench
from benchmarks.common import write_result

TARGET = 1.6
GRID = [
    {"id": "zstd", "level": 9}, {"id": "zstd", "level": 12}, {"id": "zstd", "level": 15}, {"id": "zstd", "level": 17},
    {"id": "gzip", "level": 6}, {"id": "gzip", "level": 9}, {"id": "gzip", "level": 4}, {"id": "gzip", "level": 1},
    {"id": "blosc", "shuffle": "none", "clevel": 9}, {"id": "blosc", "shuffle": "bit", "clevel": 9},
    {"id": "blosc", "shuffle": "byte", "clevel": 9}, {"id": "blosc", "cname": "zlib", "clevel": 9},
    {"id": "trunc", "bits": 8}, {"id": "trunc", "bits": 10}, {"id": "trunc", "bits": 12}, {"id": "trunc", "bits": 14},
]  # fmt: skip


def timed_run(executor: str, n_rows: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        df = codecbench.run(
            GRID, ["jets-synthetic"], sets={"jets-synthetic": {"n_rows": n_rows}}, out=tmp,
            executor=executor, workers=2,
        )  # fmt: skip
        elapsed = time.perf_counter() - t0
    assert (df["status"] == "ok").all(), df[df["status"] != "ok"][["codec", "error"]]
    return elapsed, len(df)


def main(n_rows: int = 400_000) -> dict:
    out: dict = {"target": TARGET, "n_tasks": len(GRID), "n_rows": n_rows, "workers": 2, "times_s": {}}
    for executor in ("serial", "process", "dask"):
        out["times_s"][executor], _ = timed_run(executor, n_rows)
    for executor in ("process", "dask"):
        speedup = out["times_s"]["serial"] / out["times_s"][executor]
        out[f"{executor}_speedup"] = speedup
        out[f"{executor}_meets_target"] = speedup >= TARGET
    write_result("scaling", out)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
