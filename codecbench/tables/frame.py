"""Records as frames: one row per measurement, then one row per setting (repeats and result dirs merged).

1. ``records_frame(records)``: one row per record (a *measurement*), nested per-variable errors
   flattened to columns ``var.<variable>.<metric>``, plus ``break_even_values``.
2. ``aggregate(frame, how)``: one row per *setting*, identified by ``ROW_KEY`` (dataset, canonical
   JSON of the config, split, fit_on, and the target of a search, so a setting that is a probe of one
   target search and the answer of another stays two rows). Repeats of a setting (``repeat`` 0..K-1 in one result
   directory) give the mean and sample standard deviation (``<col>_std``) with ``n`` measurements.
   The same setting in several result directories: ``how="newest"`` keeps the directory whose
   records are newest; ``how="median"`` takes, per column, the median over directories of each
   directory's mean (``<col>_std`` is then the spread of every measurement, ``n`` counts them all).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from codecbench.errors import ConfigError

#: Columns that identify a setting when records are merged.
ROW_KEY = ("dataset", "config_key", "split", "fit_on", "target")
#: Numeric record keys aggregated over repeats (mean and std) and merged across result dirs.
NUMERIC_KEYS = (
    "raw_bytes", "payload_bytes", "aux_bytes", "n_values", "ratio", "effective_ratio",
    "bits_per_value", "max_abs_error", "worst_rel_rms", "nrmse", "psnr", "fit_s", "encode_s",
    "decode_s", "encode_mbps", "decode_mbps", "peak_mem_bytes", "break_even_values",
    "fraction_of_limit", "limit_ratio",
)  # fmt: skip
#: Text columns carried from a setting's newest record into its row.
META_KEYS = (
    "dataset", "dataset_sha256", "codec", "config", "config_key", "setting", "lossless", "learned",
    "role", "target", "rows", "rows_label", "search_probes", "search_reason",
)  # fmt: skip


AGGREGATE_MODES = ("newest", "median")


def break_even_values(raw_bytes: float, payload_bytes: float, aux_bytes: float, n_values: float) -> float:
    """How many values must be compressed before the aux bytes pay for themselves against raw size.

    ``aux_bytes / (raw_bytes / n_values - payload_bytes / n_values)``: 0 when there are no aux
    bytes, infinite when compression saves nothing per value, NaN when a size is missing.
    """
    vals = [raw_bytes, payload_bytes, aux_bytes, n_values]
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in vals):
        return math.nan
    if aux_bytes == 0:
        return 0.0
    if not n_values or n_values <= 0:
        return math.nan
    saving = raw_bytes / n_values - payload_bytes / n_values
    if saving <= 0:
        return math.inf
    return float(aux_bytes / saving)


#: Config keys the harness fills in (from the dataset or the command line); not part of a setting's identity.
HARNESS_KEYS = ("columns", "device")


def config_key(config: Any, repeat: int = 0) -> str:
    """Canonical JSON of a codec config (sorted keys): the config's part of a setting's identity.

    Keys the harness fills in (``columns``, ``device``) are left out, and a repeat's model seed is
    taken back to the base seed (the runner measures repeat K with ``seed = base + K``), so the
    repeats of a setting share one identity.
    """
    if not isinstance(config, dict):
        return json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    cfg = {k: v for k, v in config.items() if k not in HARNESS_KEYS}
    seed = cfg.get("seed")
    if repeat and isinstance(seed, int) and not isinstance(seed, bool):
        cfg["seed"] = seed - repeat
    return json.dumps(cfg, sort_keys=True, separators=(",", ":"), default=str)


def _base_setting(setting: str, config: dict[str, Any], repeat: int) -> str:
    """The setting text of repeat 0: a repeat's ``seed=`` part is dropped when it is only the offset."""
    if not repeat or not isinstance(config.get("seed"), int):
        return setting
    base = config["seed"] - repeat
    parts = [p for p in setting.split(",") if p and not p.startswith("seed=")] if setting else []
    if base != 0:  # a seed the user chose stays visible (codec default seeds are assumed to be 0)
        parts.append(f"seed={base}")
    return ",".join(parts)


def _num(v: Any) -> float:
    if v is None or isinstance(v, bool):
        return math.nan if v is None else float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def target_text(target: Any) -> str:
    """``"metric=value"`` of a record's search target ("" for a record that is not from a search)."""
    if not isinstance(target, dict) or "metric" not in target:
        return ""
    return f"{target['metric']}={float(target['value']):g}"


def rows_identity(rec: dict[str, Any]) -> tuple[str, str]:
    """(id, label) of the rows a record measured: the dataset's digest, the split and its test rows."""
    split = rec.get("split") or "all"
    info = rec.get("split_info") or {}
    digest = str(rec.get("dataset_sha256") or "")[:12]
    if split == "all" or not isinstance(info, dict):
        return f"{digest}:all", "all rows"
    n = info.get("n_part")
    label = f"{split} split" + (f" ({n:,} rows, seed {info.get('seed')})" if isinstance(n, int) else "")
    return f"{digest}:{split}:{info.get('test_rows_sha')}", label


def _flatten(rec: dict[str, Any]) -> dict[str, Any]:
    config = rec.get("config") or {"id": rec.get("codec")}
    fit_on = rec.get("fit_on")
    search = rec.get("search") if isinstance(rec.get("search"), dict) else {}
    rows, rows_label = rows_identity(rec)
    row: dict[str, Any] = {
        "task_id": rec.get("task_id"),
        "timestamp": rec.get("timestamp"),
        "source": rec.get("source", ""),
        "dataset": rec.get("dataset"),
        "dataset_sha256": rec.get("dataset_sha256"),
        "codec": rec.get("codec") or config.get("id"),
        "config": config,
        "config_key": config_key(config, int(rec.get("repeat") or 0)),
        "setting": _base_setting(rec.get("setting") or "", config, int(rec.get("repeat") or 0)),
        "lossless": bool(rec.get("lossless")),
        "learned": bool(rec.get("learned")),
        "split": rec.get("split") or "all",
        "fit_on": "" if fit_on is None else str(fit_on),
        "repeat": int(rec.get("repeat") or 0),
        "status": rec.get("status") or "ok",
        "error": rec.get("error"),
        "role": search.get("role") or "",
        "target": target_text(search.get("target")),
        "rows": rows,
        "rows_label": rows_label,
        "search_probes": search.get("probes"),
        "search_reason": search.get("reason") or "",
    }
    for key in NUMERIC_KEYS:
        if key != "break_even_values":
            row[key] = _num(rec.get(key))
    row["break_even_values"] = break_even_values(
        row["raw_bytes"], row["payload_bytes"], row["aux_bytes"], row["n_values"]
    )
    variables = rec.get("variables") or {}
    if isinstance(variables, dict):
        for name, stats in variables.items():
            if isinstance(stats, dict):
                for metric, value in stats.items():
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        row[f"var.{name}.{metric}"] = float(value)
    return row


def records_frame(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """One row per record: identity, numeric keys, ``break_even_values`` and ``var.<name>.<metric>``."""
    rows = [_flatten(r) for r in records]
    if not rows:
        cols = ["task_id", "timestamp", "source", "dataset", "codec", "config", "config_key", "setting"]
        cols += ["lossless", "learned", "split", "fit_on", "repeat", "status", "role", "target", "rows", "rows_label"]
        return pd.DataFrame(columns=[*cols, *NUMERIC_KEYS])
    frame = pd.DataFrame.from_records(rows)
    frame["_time"] = pd.to_datetime(frame["timestamp"], utc=True, errors="coerce", format="ISO8601")
    return frame


def variable_columns(frame: pd.DataFrame) -> list[str]:
    """The per-variable metric columns (``var.<variable>.<metric>``) of a frame, sorted."""
    return sorted(c for c in frame.columns if c.startswith("var.") and not c.endswith("_std"))


def _nanmean(x: np.ndarray) -> float:
    if x.size == 0 or np.all(np.isnan(x)):
        return math.nan
    with np.errstate(invalid="ignore"):
        return float(np.nanmean(x))


def _nanstd(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    if x.size < 2 or not np.all(np.isfinite(x)):
        return math.nan
    return float(np.std(x, ddof=1))


def _nanmedian(x: np.ndarray) -> float:
    x = x[~np.isnan(x)]
    return float(np.median(x)) if x.size else math.nan


def aggregate(frame: pd.DataFrame, how: str = "newest") -> pd.DataFrame:
    """One row per setting (see the module docstring): mean, ``<col>_std`` and ``n`` over repeats.

    ``how`` is ``"newest"`` or ``"median"`` and decides what happens when the same setting was
    measured in several result directories. Columns added: ``n`` (ok measurements used),
    ``n_failed``, ``n_runs`` (result directories that measured the setting) and
    ``<col>_std`` (sample standard deviation, NaN for a single measurement).
    """
    if how not in AGGREGATE_MODES:
        raise ConfigError(f"--aggregate must be one of {', '.join(AGGREGATE_MODES)}, not {how!r}")
    numeric = [*NUMERIC_KEYS, *variable_columns(frame)]
    numeric = [c for c in numeric if c in frame.columns]
    if frame.empty:
        return frame.assign(n=pd.Series(dtype=int), pareto=pd.Series(dtype=bool))
    # the same task re-run inside one directory (for instance after --resume): keep its newest record
    frame = frame.sort_values("_time", kind="stable", na_position="first")
    frame = frame.drop_duplicates([*ROW_KEY, "source", "repeat"], keep="last")
    out: list[dict[str, Any]] = []
    for _, group in frame.groupby(list(ROW_KEY), sort=True, dropna=False):
        newest = group.iloc[-1]
        runs = group.groupby("source", sort=False)["_time"].max()
        if how == "newest":
            chosen = group[group["source"] == newest["source"]]
            ok = chosen[chosen["status"] == "ok"]
            values = {c: _nanmean(ok[c].to_numpy(dtype=float)) for c in numeric}
            spread = ok
        else:
            chosen = group
            ok = group[group["status"] == "ok"]
            per_run = ok.groupby("source")[numeric].mean() if not ok.empty else None
            values = {
                c: (_nanmedian(per_run[c].to_numpy(dtype=float)) if per_run is not None else math.nan) for c in numeric
            }
            spread = ok
        meta = chosen.iloc[-1]
        row: dict[str, Any] = {k: meta[k] for k in META_KEYS}
        row.update(
            split=meta["split"],
            fit_on=meta["fit_on"],
            status="ok" if len(ok) else "failed",
            error=None if len(ok) else next((e for e in chosen["error"] if e), None),
            timestamp=chosen["timestamp"].dropna().max() if chosen["timestamp"].notna().any() else None,
            task_ids=list(chosen["task_id"]),
            n=int(len(ok)),
            n_failed=int((chosen["status"] != "ok").sum()),
            n_runs=int(len(runs)),
        )
        row.update(values)
        for c in numeric:
            row[f"{c}_std"] = _nanstd(spread[c].to_numpy(dtype=float))
        out.append(row)
    return pd.DataFrame.from_records(out)
