"""Hand-built result records with known answers, shared by the leaderboard/compare/plot/report tests."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

_counter = itertools.count()


def make_record(
    codec: str,
    dataset: str = "toy",
    *,
    params: dict[str, Any] | None = None,
    setting: str | None = None,
    ratio: float | None = None,
    effective_ratio: float | None = None,
    worst_rel_rms: float = 0.0,
    max_abs_error: float | None = None,
    aux_bytes: int = 0,
    raw_bytes: int = 40_000,
    n_values: int = 10_000,
    lossless: bool = False,
    learned: bool = False,
    split: str = "all",
    fit_on: str | None = None,
    repeat: int = 0,
    timestamp: str = "2025-01-01T00:00:00+00:00",
    status: str = "ok",
    fit_s: float = 0.0,
    encode_mbps: float = 100.0,
    decode_mbps: float = 200.0,
    variables: dict[str, dict[str, float]] | None = None,
    task_id: str | None = None,
) -> dict[str, Any]:
    """A record in the format of ``codecbench.runner.store``; sizes follow from ``effective_ratio``."""
    params = dict(params or {})
    if effective_ratio is None:
        effective_ratio = ratio if ratio is not None else 1.0
    total = raw_bytes / effective_ratio
    if ratio is None:
        payload = total - aux_bytes
        ratio = raw_bytes / payload
    else:  # both ratios given: the aux bytes follow
        payload = raw_bytes / ratio
        aux_bytes = round(total - payload)
    if setting is None:
        setting = ",".join(f"{k}={v}" for k, v in params.items())
    max_abs = worst_rel_rms * 10 if max_abs_error is None else max_abs_error
    variables = variables or {
        "pt": {
            "residual_mean": 0.0,
            "residual_rms": worst_rel_rms * 5,
            "rel_rms": worst_rel_rms,
            "max_abs_error": max_abs,
        },
        "eta": {
            "residual_mean": 0.0,
            "residual_rms": worst_rel_rms / 2,
            "rel_rms": worst_rel_rms / 2,
            "max_abs_error": max_abs / 2,
        },
    }
    rec: dict[str, Any] = {
        "record_version": 1,
        "task_id": task_id or f"t{next(_counter):05d}",
        "timestamp": timestamp,
        "codec": codec,
        "config": {"id": codec, **params},
        "setting": setting,
        "lossless": lossless,
        "learned": learned,
        "dataset": dataset,
        "dataset_sha256": "0" * 64,
        "split": split,
        "split_info": None,
        "fit_on": fit_on,
        "seed": 0,
        "repeat": repeat,
        "status": status,
        "error": None if status == "ok" else "boom: codec raised",
        "n_values": n_values,
        "raw_bytes": raw_bytes,
        "payload_bytes": round(payload),
        "aux_bytes": aux_bytes,
        "ratio": ratio,
        "effective_ratio": effective_ratio,
        "bits_per_value": 8 * payload / n_values,
        "max_abs_error": max_abs,
        "worst_rel_rms": worst_rel_rms,
        "nrmse": worst_rel_rms / 3,
        "psnr": math.inf if worst_rel_rms == 0 else 60.0,
        "fit_s": fit_s,
        "encode_s": 0.01,
        "decode_s": 0.005,
        "encode_mbps": encode_mbps,
        "decode_mbps": decode_mbps,
        "peak_mem_bytes": 1_000_000,
        "variables": variables,
        "extras": {},
        "bound": None,
    }
    if status != "ok":
        for k in ("ratio", "effective_ratio", "payload_bytes", "worst_rel_rms", "max_abs_error", "psnr"):
            rec[k] = None
        rec["variables"] = {}
    return rec


def write_run(directory: Path, records: list[dict[str, Any]]) -> Path:
    """Write ``records`` as ``directory/records.jsonl`` (as the runner does) and return the folder."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "records.jsonl", "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
    (directory / "run.json").write_text(json.dumps({"codecbench": "test", "argv": ["codecbench", "run"]}))
    return directory


def toy_records() -> list[dict[str, Any]]:
    """A small leaderboard with a known Pareto front and known budget answers (dataset ``toy``).

    (effective ratio, worst rel_rms):
      raw            1.0   0        lossless, dominated by zstd
      zstd level=3   1.5   0        lossless, Pareto
      zstd level=19  1.6   0        lossless, Pareto (dominates level=3)
      trunc bits=8   4.0   2e-3     Pareto
      trunc bits=10  3.0   5e-4     Pareto
      trunc bits=12  2.5   1e-4     Pareto
      ae latent=3    3.5   3e-3     dominated by trunc bits=8 (4.0 >= 3.5, 2e-3 <= 3e-3)
      ae latent=4    2.0   6e-4     dominated by trunc bits=10
      flow bits=13   5.0   8e-3     Pareto, aux 4000 bytes
      broken         failed

    Every record is on the same rows (as a grid holding a learned codec measures them): the
    leaderboard ranks rows of one dataset measured on different rows separately.
    """
    return [
        make_record("raw", effective_ratio=1.0, lossless=True),
        make_record("zstd", params={"level": 3}, effective_ratio=1.5, lossless=True),
        make_record("zstd", params={"level": 19}, effective_ratio=1.6, lossless=True),
        make_record("trunc", params={"bits": 8}, effective_ratio=4.0, worst_rel_rms=2e-3),
        make_record("trunc", params={"bits": 10}, effective_ratio=3.0, worst_rel_rms=5e-4),
        make_record("trunc", params={"bits": 12}, effective_ratio=2.5, worst_rel_rms=1e-4),
        make_record("ae", params={"latent_dim": 3}, effective_ratio=3.5, worst_rel_rms=3e-3, learned=True),
        make_record("ae", params={"latent_dim": 4}, effective_ratio=2.0, worst_rel_rms=6e-4, learned=True),
        make_record("flow", params={"bits": 13}, effective_ratio=5.0, ratio=10.0, worst_rel_rms=8e-3, learned=True),
        make_record("broken", status="failed"),
    ]
