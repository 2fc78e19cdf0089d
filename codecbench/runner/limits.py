"""The limit rows of a run with targets, and the ``fraction_of_limit`` of each targeted record.

For every dataset, set of rows measured and target on a metric the limit is defined for
(``worst_rel_rms``, ``max_abs_error``: ``codecbench.measure.limits``), the run computes one
reference row, ``{"kind": "reference", "codec": "limit", ...}``, on exactly the rows the codecs
are measured on, and stores the rows in ``OUT/limits.jsonl``. Each record of a target search on
the same rows and target gets ``limit_ratio`` and ``fraction_of_limit`` (its effective ratio over
the limit's ratio; above 1 when a codec with memory beats the memoryless coder).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from codecbench.errors import CodecbenchError
from codecbench.measure.limits import memoryless_limit
from codecbench.measure.targets import LIMIT_METRICS
from codecbench.plugins import get_codec_class
from codecbench.runner.grid import Task
from codecbench.runner.inputs import dataset_sha256, load_cached

DEFINITION = (
    "memoryless limit: per variable a uniform scalar quantizer meeting the target, coded at the empirical "
    "entropy of its symbols plus side information (codecbench.measure.limits)"
)


def _rows(task: Task) -> str:
    """Which rows ``task`` measures: ``"test"`` or ``"all"`` (as ``measure_task`` decides)."""
    if task.measure_on == "test":
        return "test"
    try:
        learned = get_codec_class(task.config["id"]).learned
    except CodecbenchError:
        return "all"
    return "test" if learned and not (task.fit_on and task.fit_on != task.dataset) else "all"


def _key(dataset: str, params: dict[str, Any], split: str, target: dict[str, Any]) -> str:
    return json.dumps([dataset, params, split, target["metric"], float(target["value"])], sort_keys=True)


def limit_rows(tasks: Iterable[Task]) -> list[dict[str, Any]]:
    """One reference row per (dataset, rows measured, target) among the target tasks the limit covers."""
    wanted: dict[str, Task] = {}
    for t in tasks:
        if t.target is not None and t.target["metric"] in LIMIT_METRICS:
            wanted.setdefault(_key(t.dataset, t.dataset_params, _rows(t), t.target), t)
    rows = []
    for key, t in wanted.items():
        split = _rows(t)
        row: dict[str, Any] = {
            "kind": "reference",
            "codec": "limit",
            "dataset": t.dataset,
            "dataset_params": t.dataset_params,
            "split": split,
            "target": dict(t.target),  # type: ignore[arg-type]
            "definition": DEFINITION,
            "key": key,
        }
        try:
            ds = load_cached(t.dataset, t.dataset_params)
            measured = ds.split(t.test_fraction, t.seed)[1] if split == "test" else ds
            lim = memoryless_limit(
                measured.data,
                columns=measured.columns if measured.kind == "table" else None,
                **{t.target["metric"]: float(t.target["value"])},  # type: ignore[index]
            )
        except (CodecbenchError, MemoryError) as exc:
            row.update(status="failed", error=str(exc))
        else:
            row.update(
                status="ok",
                dataset_sha256=dataset_sha256(ds),
                split_info=measured.meta.get("split"),
                ratio=lim.ratio,
                effective_ratio=lim.ratio,
                bits_per_value=lim.bits_per_value,
                raw_bytes=lim.raw_bits // 8,
                coded_bytes=lim.coded_bits / 8,
                side_bits=lim.side_bits,
                model_bits=lim.model_bits,
                variables={v.name: _variable(v) for v in lim.variables},
            )
        rows.append(row)
    return rows


def _variable(v: Any) -> dict[str, Any]:
    return {
        "kind": v.kind,
        "step": v.step,
        "entropy_bits": v.entropy_bits,
        "symbols": v.symbols,
        "rel_rms": v.rel_rms,
        "max_abs_error": v.max_abs_error,
        "shrinks": v.shrinks,
    }


def annotate(record: dict[str, Any], limits: list[dict[str, Any]]) -> dict[str, Any]:
    """Add ``limit_ratio`` and ``fraction_of_limit`` to a target search's record (in place; returned)."""
    search = record.get("search")
    if not search or record.get("status") != "ok":
        return record
    key = _key(record["dataset"], record.get("dataset_params") or {}, record.get("split") or "all", search["target"])
    for row in limits:
        if row.get("key") == key and row.get("status") == "ok" and row["ratio"] > 0:
            record["limit_ratio"] = row["ratio"]
            record["fraction_of_limit"] = float(record["effective_ratio"]) / row["ratio"]
    return record
