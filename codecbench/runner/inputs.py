"""The data a task measures: datasets loaded once per process, their facts for the record, row blocks.

A process that runs many tasks on one dataset loads it once (the last four datasets are kept) and
computes its quality facts once. ``row_blocks`` cuts the measured array into the blocks that
``--chunk-bytes`` asks for.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from codecbench.dataset import Dataset

_dataset_cache: dict[str, Dataset] = {}
_quality_cache: dict[str, dict[str, Any]] = {}


def load_cached(name: str, params: dict[str, Any]) -> Dataset:
    """``load_dataset(name, **params)``, remembered for the next task in this process."""
    from codecbench.data.load import load_dataset

    key = json.dumps([name, params], sort_keys=True)
    if key not in _dataset_cache:
        if len(_dataset_cache) >= 4:  # keep memory bounded on long grids
            _dataset_cache.pop(next(iter(_dataset_cache)))
        _dataset_cache[key] = load_dataset(name, **params)
    return _dataset_cache[key]


def dataset_sha256(ds: Dataset) -> str:
    """The sha256 that identifies what was measured: the source file's, else the array's."""
    return ds.meta.get("sha256") or ds.sha256()


def dataset_block(ds: Dataset) -> dict[str, Any]:
    """The record's ``dataset_info``: kind, shape, dtype, columns, source and quality facts."""
    key = f"{ds.name}:{dataset_sha256(ds)}:{ds.data.shape}"
    if key not in _quality_cache:
        info: dict[str, Any] = {
            "kind": ds.kind,
            "shape": list(ds.data.shape),
            "dtype": ds.data.dtype.str,
            "columns": ds.columns if ds.kind == "table" else None,
            "source": ds.meta.get("source"),
        }
        try:
            from codecbench.data.quality import quality_facts

            info["quality"] = quality_facts(ds)
        except ImportError:
            pass
        _quality_cache[key] = info
    return _quality_cache[key]


def row_blocks(data: np.ndarray, chunk_bytes: int | None) -> list[tuple[int, int]]:
    """Row ranges of at most ``chunk_bytes`` each (at least one row); the whole array without a limit."""
    rows = data.shape[0] if data.ndim else 1
    if not chunk_bytes or data.nbytes <= chunk_bytes or data.ndim == 0:
        return [(0, rows)]
    per_row = max(1, data.nbytes // max(rows, 1))
    step = max(1, chunk_bytes // per_row)
    return [(a, min(a + step, rows)) for a in range(0, rows, step)]
