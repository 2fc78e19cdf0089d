"""Leaderboard tables from stored records: merging, repeats, Pareto front, error budgets, rendering.

The pipeline, each step a function returning a pandas DataFrame:

1. ``records_frame(records)``: one row per record (a *measurement*), nested per-variable errors
   flattened to columns ``var.<variable>.<metric>``, plus ``break_even_values``.
2. ``aggregate(frame, how)``: one row per *setting*, identified by (dataset, canonical JSON of the
   config, split, fit_on). Repeats of a setting (``repeat`` 0..K-1 in one result directory) give
   the mean and sample standard deviation (``<col>_std``) with ``n`` measurements. The same
   setting in several result directories: ``how="newest"`` keeps the directory whose records are
   newest; ``how="median"`` takes, per column, the median over directories of each directory's
   mean (``<col>_std`` is then the spread of every measurement, ``n`` counts them all).
3. ``mark_pareto(frame)``: a ``pareto`` column, True where no other ok row of the same dataset has
   an effective ratio at least as high and a worst ``rel_rms`` at least as low, one of them
   strictly.
4. ``budget_table(frame, budgets)``: the best setting of each codec within error budgets.
5. ``render_leaderboard(frame, fmt)``: Markdown, CSV, HTML or LaTeX text.

``leaderboard(*result_dirs)`` runs steps 1 to 3 on stored result directories.
"""

from __future__ import annotations

import difflib
import html
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from codecbench.errors import ConfigError

#: Columns that identify a setting when records are merged.
ROW_KEY = ("dataset", "config_key", "split", "fit_on")

#: Numeric record keys aggregated over repeats (mean and std) and merged across result dirs.
NUMERIC_KEYS = (
    "raw_bytes", "payload_bytes", "aux_bytes", "n_values", "ratio", "effective_ratio",
    "bits_per_value", "max_abs_error", "worst_rel_rms", "nrmse", "psnr", "fit_s", "encode_s",
    "decode_s", "encode_mbps", "decode_mbps", "peak_mem_bytes", "break_even_values",
)  # fmt: skip

#: Columns where a larger value is better (default sort descending; ``psnr`` budgets are minima).
HIGHER_IS_BETTER = frozenset({"ratio", "effective_ratio", "encode_mbps", "decode_mbps", "psnr"})

#: Columns whose spread the tables show as ``mean ± std`` when a setting was measured more than once.
SPREAD_COLUMNS = ("ratio", "effective_ratio", "worst_rel_rms", "max_abs_error", "fit_s")

AGGREGATE_MODES = ("newest", "median")
FORMATS = ("md", "csv", "html", "latex")

#: The leaderboard's columns: (frame column, header).
DISPLAY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("pareto", "pareto"),
    ("codec", "codec"),
    ("setting", "setting"),
    ("ratio", "ratio"),
    ("effective_ratio", "effective ratio"),
    ("bits_per_value", "bits/value"),
    ("worst_rel_rms", "worst rel_rms"),
    ("max_abs_error", "max abs error"),
    ("encode_mbps", "encode MB/s"),
    ("decode_mbps", "decode MB/s"),
    ("fit_s", "fit s"),
    ("aux_bytes", "aux bytes"),
    ("break_even_values", "break-even values"),
    ("n", "n"),
)

_INTEGER_COLUMNS = frozenset({"raw_bytes", "payload_bytes", "aux_bytes", "n_values", "peak_mem_bytes"})


# --- measurements --------------------------------------------------------------------------------


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


def _flatten(rec: dict[str, Any]) -> dict[str, Any]:
    config = rec.get("config") or {"id": rec.get("codec")}
    fit_on = rec.get("fit_on")
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
        return pd.DataFrame(
            columns=[*cols, "lossless", "learned", "split", "fit_on", "repeat", "status", *NUMERIC_KEYS]
        )
    frame = pd.DataFrame.from_records(rows)
    frame["_time"] = pd.to_datetime(frame["timestamp"], utc=True, errors="coerce", format="ISO8601")
    return frame


def _variable_columns(frame: pd.DataFrame) -> list[str]:
    return sorted(c for c in frame.columns if c.startswith("var.") and not c.endswith("_std"))


# --- aggregation ---------------------------------------------------------------------------------


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
    numeric = [*NUMERIC_KEYS, *_variable_columns(frame)]
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
        row: dict[str, Any] = {
            k: meta[k]
            for k in ("dataset", "dataset_sha256", "codec", "config", "config_key", "setting", "lossless", "learned")
        }
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


# --- Pareto front --------------------------------------------------------------------------------


def mark_pareto(frame: pd.DataFrame) -> pd.DataFrame:
    """Add a ``pareto`` column: True for ok rows that no other ok row of the same dataset dominates.

    Row *j* dominates row *i* when ``effective_ratio_j >= effective_ratio_i`` and
    ``worst_rel_rms_j <= worst_rel_rms_i`` with at least one inequality strict. Rows without a
    finite effective ratio or worst ``rel_rms`` (failed rows) are never Pareto-optimal.
    """
    frame = frame.copy()
    pareto = np.zeros(len(frame), dtype=bool)
    if len(frame):
        ratio = frame["effective_ratio"].to_numpy(dtype=float)
        err = frame["worst_rel_rms"].to_numpy(dtype=float)
        eligible = (frame["status"].to_numpy() == "ok") & np.isfinite(ratio) & np.isfinite(err)
        datasets = frame["dataset"].to_numpy()
        for ds in pd.unique(datasets):
            idx = np.flatnonzero((datasets == ds) & eligible)
            r, e = ratio[idx], err[idx]
            for k, i in enumerate(idx):
                dominated = (r >= r[k]) & (e <= e[k]) & ((r > r[k]) | (e < e[k]))
                pareto[i] = not dominated.any()
    frame["pareto"] = pareto
    return frame


# --- the leaderboard -----------------------------------------------------------------------------


def sort_frame(frame: pd.DataFrame, sort: str | None = None) -> pd.DataFrame:
    """Sort rows by dataset, then ``sort`` (default ``effective_ratio``), then codec and setting.

    Columns where larger is better sort descending, the others ascending; a leading ``+`` or ``-``
    forces ascending or descending. Failed rows go last.
    """
    sort = sort or "effective_ratio"
    ascending: bool | None = None
    if sort[0] in "+-":
        ascending, sort = sort[0] == "+", sort[1:]
    if sort not in frame.columns:
        choices = [c for c in frame.columns if not c.endswith("_std") and not c.startswith("_")]
        close = difflib.get_close_matches(sort, choices, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(f"cannot sort by {sort!r}: no such column{hint}; columns: {', '.join(choices)}")
    if ascending is None:
        ascending = sort not in HIGHER_IS_BETTER
    if frame.empty:
        return frame
    frame = frame.assign(_failed=frame["status"] != "ok")
    frame = frame.sort_values(["codec", "setting", "split", "fit_on"], kind="stable")
    frame = frame.sort_values(sort, ascending=ascending, kind="stable", na_position="last")
    frame = frame.sort_values(["dataset", "_failed"], kind="stable")
    return frame.drop(columns="_failed").reset_index(drop=True)


def leaderboard_frame(
    records: Iterable[dict[str, Any]],
    aggregate_how: str = "newest",
    sort: str | None = None,
    pareto_only: bool = False,
) -> pd.DataFrame:
    """Records -> one sorted row per setting with the ``pareto`` column (see the module docstring).

    ``pareto_only`` keeps Pareto-optimal rows and every lossless row.
    """
    frame = mark_pareto(aggregate(records_frame(records), aggregate_how))
    if pareto_only and len(frame):
        frame = frame[frame["pareto"] | (frame["lossless"] & (frame["status"] == "ok"))]
    return sort_frame(frame, sort)


def leaderboard(
    *result_dirs: str | os.PathLike[str],
    aggregate: str = "newest",
    sort: str | None = None,
    pareto_only: bool = False,
) -> pd.DataFrame:
    """Read result directories (or ``records.jsonl`` files) and return the merged leaderboard frame."""
    from codecbench.runner.store import load_records

    if not result_dirs:
        raise ConfigError("no result directory given")
    return leaderboard_frame(load_records(*result_dirs), aggregate, sort, pareto_only)


# --- budgets -------------------------------------------------------------------------------------

_OVERALL_BUDGET_KEYS = ("worst_rel_rms", "max_abs_error", "nrmse", "psnr", "bits_per_value")


@dataclass(frozen=True)
class Budget:
    """One error budget: ``column <= limit`` (or ``>=`` for ``psnr``); per-variable values compare |x|."""

    key: str
    column: str
    limit: float
    upper: bool = True

    def value(self, row: pd.Series) -> float:
        """The row's value for this budget (NaN when the row lacks it)."""
        v = row.get(self.column, math.nan)
        v = math.nan if v is None else float(v)
        return abs(v) if self.column.startswith("var.") else v

    def met(self, row: pd.Series) -> bool:
        """Whether the row is within this budget (a missing value never is)."""
        v = self.value(row)
        if math.isnan(v):
            return False
        return v <= self.limit if self.upper else v >= self.limit

    def excess(self, row: pd.Series) -> float:
        """How far over budget: value / limit for upper bounds (limit / value for minima)."""
        v = self.value(row)
        if math.isnan(v):
            return math.inf
        num, den = (v, self.limit) if self.upper else (self.limit, v)
        if den == 0:
            return 0.0 if num == 0 else math.inf
        return num / den


def parse_budget(spec: str, frame: pd.DataFrame | None = None) -> Budget:
    """Parse ``KEY=VALUE``: an overall metric (``worst_rel_rms``, ``max_abs_error``, ``nrmse``,
    ``bits_per_value``; ``psnr`` is a minimum) or ``VARIABLE.METRIC`` (e.g. ``pt.rel_rms=1e-3``).

    With ``frame``, a per-variable key must name a variable and metric present in it.
    """
    key, sep, value = spec.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"budget {spec!r} must look like KEY=VALUE, e.g. worst_rel_rms=1e-3 or pt.rel_rms=1e-3")
    try:
        limit = float(value)
    except ValueError:
        raise ConfigError(f"budget {spec!r}: {value.strip()!r} is not a number") from None
    if math.isnan(limit):
        raise ConfigError(f"budget {spec!r}: the limit must be a number, not NaN")
    if key in _OVERALL_BUDGET_KEYS:
        return Budget(key, key, limit, upper=key != "psnr")
    if "." not in key:
        close = difflib.get_close_matches(key, _OVERALL_BUDGET_KEYS, n=2)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(
            f"unknown budget key {key!r}{hint}; use one of {', '.join(_OVERALL_BUDGET_KEYS)} "
            "or VARIABLE.METRIC such as pt.rel_rms"
        )
    column = f"var.{key}"
    if frame is not None and column not in frame.columns:
        known = sorted(c[4:] for c in _variable_columns(frame))
        close = difflib.get_close_matches(key, known, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ConfigError(
            f"no variable metric {key!r} in these records; {hint}"
            f"known: {', '.join(known[:12])}{' ...' if len(known) > 12 else ''}"
        )
    return Budget(key, column, limit)


def budget_table(frame: pd.DataFrame, budgets: Sequence[Budget | str]) -> pd.DataFrame:
    """The best setting of each codec within every budget, per dataset, ranked by effective ratio.

    ``frame`` is a leaderboard frame (``leaderboard_frame``). Returns one row per (dataset, codec):
    ``rank`` (1 = highest effective ratio within budget; NaN for codecs that never meet it), the
    chosen setting and its values, ``within_budget`` and a ``note``. For a codec that never meets
    the budget the row shows its closest setting (the smallest worst excess over the limits) and
    the note says "never within budget". Datasets whose records lack a budget's variable are left
    out; if that leaves none, ConfigError.
    """
    if not budgets:
        raise ConfigError("no budget given")
    parsed = [b if isinstance(b, Budget) else parse_budget(b, frame) for b in budgets]
    rows: list[dict[str, Any]] = []
    for _ds, part in frame.groupby("dataset", sort=True):
        if any(b.column not in part.columns or part[b.column].isna().all() for b in parsed):
            continue
        ranked: list[dict[str, Any]] = []
        never: list[dict[str, Any]] = []
        for _codec, all_c in part.groupby("codec", sort=True):
            rows_c = all_c[all_c["status"] == "ok"]
            if rows_c.empty:
                never.append(_budget_row(all_c.iloc[0], parsed, False, "failed: no measurement"))
                continue
            within = rows_c[[all(b.met(r) for b in parsed) for _, r in rows_c.iterrows()]]
            if len(within):
                best = within.sort_values(["effective_ratio", "worst_rel_rms"], ascending=[False, True]).iloc[0]
                ranked.append(_budget_row(best, parsed, True, ""))
            else:
                excess = [max(b.excess(r) for b in parsed) for _, r in rows_c.iterrows()]
                closest = rows_c.iloc[int(np.argmin(excess))]
                never.append(_budget_row(closest, parsed, False, "never within budget (closest setting shown)"))
        ranked.sort(key=lambda r: (-r["effective_ratio"], r["codec"]))
        for i, r in enumerate(ranked, 1):
            r["rank"] = i
        rows.extend(ranked + never)
    if not rows:
        keys = ", ".join(b.key for b in parsed)
        raise ConfigError(f"no dataset in these records has every budget variable ({keys})")
    cols = ["dataset", "rank", "codec", "setting", "effective_ratio", "ratio", "worst_rel_rms", "max_abs_error"]
    cols += [b.column for b in parsed if b.column not in cols]
    cols += ["within_budget", "note", "split", "fit_on", "n"]
    out = pd.DataFrame.from_records(rows)
    out["rank"] = out["rank"].astype("Int64")
    out.attrs["budgets"] = parsed
    return out[cols]


def _budget_row(row: pd.Series, budgets: list[Budget], within: bool, note: str) -> dict[str, Any]:
    out = {k: row.get(k) for k in ("dataset", "codec", "setting", "effective_ratio", "ratio", "worst_rel_rms")}
    out.update(max_abs_error=row.get("max_abs_error"), split=row["split"], fit_on=row["fit_on"], n=row["n"])
    for b in budgets:
        out[b.column] = row.get(b.column, math.nan)
    out.update(rank=None, within_budget=within, note=note)
    return out


# --- formatting ----------------------------------------------------------------------------------


def format_number(v: Any, column: str = "") -> str:
    """A compact, deterministic text for one value: 4 significant digits, ``inf``, ``-`` for NaN."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else ""
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if column in _INTEGER_COLUMNS and v.is_integer():
            return str(int(v))
        if v == 0:
            return "0"
        if 1e-3 <= abs(v) < 1e6:
            return f"{v:.4g}"
        return f"{v:.3g}"
    return str(v)


def _format_std(std: float) -> str:
    if std == 0:
        return "0"
    if 1e-3 <= abs(std) < 100:
        return f"{std:.2g}"
    return f"{std:.0f}" if 100 <= abs(std) < 1e6 else f"{std:.1e}"


def _setting_text(row: pd.Series) -> str:
    text = row.get("setting") or "(defaults)"
    fit_on = row.get("fit_on") or ""
    if fit_on and fit_on != row.get("dataset"):
        text += f" (fit on {fit_on})"
    return text


def _cell(row: pd.Series, column: str) -> str:
    if column == "pareto":
        return "*" if row.get("pareto") else ""
    if column == "setting":
        return _setting_text(row)
    if column == "n":
        n, failed = int(row.get("n") or 0), int(row.get("n_failed") or 0)
        return f"n={n}" + (f" ({failed} failed)" if failed else "")
    value = row.get(column)
    text = format_number(value, column)
    std = row.get(f"{column}_std")
    if column in SPREAD_COLUMNS and int(row.get("n") or 0) > 1 and std is not None and math.isfinite(std):
        text += f" ± {_format_std(std)}"
    return text


def table_cells(
    frame: pd.DataFrame, columns: Sequence[tuple[str, str]] = DISPLAY_COLUMNS
) -> tuple[list[str], list[list[str]]]:
    """Headers and text cells of a leaderboard table (the ``split`` column only when not all ``all``)."""
    columns = list(columns)
    if "split" in frame.columns and (frame["split"] != "all").any() and not any(c == "split" for c, _ in columns):
        columns.insert(3, ("split", "split"))
    headers = [h for _, h in columns]
    body = []
    for _, row in frame.iterrows():
        if row.get("status", "ok") != "ok":
            cells = [_cell(row, c) if c in ("codec", "setting", "split") else "" for c, _ in columns]
            err = (row.get("error") or "unknown error").splitlines()[0][:120]
            cells[headers.index("ratio")] = f"FAILED: {err}"
            body.append(cells)
        else:
            body.append([_cell(row, c) for c, _ in columns])
    return headers, body


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown pipe table."""
    lines = ["| " + " | ".join(_md_escape(h) for h in headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def html_table(headers: Sequence[str], rows: Sequence[Sequence[str]], row_classes: Sequence[str] | None = None) -> str:
    """An HTML ``<table>`` (escaped text, no attributes but classes)."""
    out = [
        '<table class="cb">',
        "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr></thead>",
    ]
    out.append("<tbody>")
    for i, r in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters; ``±`` and ``inf`` become math."""
    out = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)
    return out.replace("±", r"$\pm$").replace("-inf", r"$-\infty$").replace("inf", r"$\infty$")


def latex_table(headers: Sequence[str], rows: Sequence[Sequence[str]], caption: str = "") -> str:
    """A booktabs ``tabular`` inside a ``table`` float (needs ``\\usepackage{booktabs}``)."""
    spec = "".join("l" if h in ("pareto", "codec", "setting", "split", "note") else "r" for h in headers)
    lines = [r"\begin{table}[htbp]", r"\centering", r"\small"]
    if caption:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    lines += [rf"\begin{{tabular}}{{{spec}}}", r"\toprule"]
    lines.append(" & ".join(latex_escape(h) for h in headers) + r" \\")
    lines.append(r"\midrule")
    lines += [" & ".join(latex_escape(c) for c in r) + r" \\" for r in rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


HTML_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #222; }
table.cb { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
table.cb th, table.cb td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
table.cb th { background: #f0f0f0; }
table.cb td:nth-child(-n+3) { text-align: left; }
tr.pareto td { background: #e8f5e9; font-weight: 600; }
tr.failed td { color: #b00020; }
p.legend { color: #555; font-size: 0.9em; }
img.plot { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
""".strip()


LEGEND = (
    "Rows are codec settings (`n=K`: K measurements, shown as mean ± std when K > 1). "
    "`*` marks the Pareto front: no other setting on the dataset has a higher or equal effective ratio "
    "with a lower or equal worst rel_rms. effective ratio = raw / (payload + aux); "
    "break-even values = aux bytes / per-value saving against raw (inf: never pays off)."
)


def _dataset_caption(part: pd.DataFrame) -> str:
    ok = part[part["status"] == "ok"]
    sizes = sorted({int(v) for v in ok["n_values"].dropna()}) if len(ok) else []
    text = f"{len(part)} settings"
    if sizes:
        text += ", " + " / ".join(f"{s:,} values" for s in sizes[:3])
    return text


def render_leaderboard(
    frame: pd.DataFrame,
    fmt: str = "md",
    budgets: Sequence[Budget | str] | None = None,
    bd_reference: str | None = None,
    title: str = "codecbench leaderboard",
) -> str:
    """Render a leaderboard frame as ``md``, ``csv``, ``html`` (a full page) or ``latex``.

    One table per dataset. With ``budgets``, the tables are the budget selection
    (``budget_table``) instead. Markdown, HTML and LaTeX add, per dataset, the Bjontegaard-style
    ratio gain of each lossy codec over ``bd_reference`` (default: ``trunc`` when present).
    """
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if frame.empty:
        raise ConfigError("no records to show")
    if budgets:
        return render_budgets(budget_table(frame, budgets), fmt, title)
    if fmt == "csv":
        return csv_frame(frame).to_csv(index=False)
    from codecbench.compare import bd_summary

    bd = bd_summary(frame, reference=bd_reference)
    parts: list[str] = []
    for ds, part in frame.groupby("dataset", sort=True):
        headers, rows = table_cells(part)
        bd_part = bd[bd["dataset"] == ds] if len(bd) else bd
        curve = bd_cells(bd_part) if len(bd_part) else None
        if fmt == "md":
            text = f"## {ds}\n\n{_dataset_caption(part)}\n\n" + md_table(headers, rows)
            if curve:
                text += f"\n{bd_sentence(bd_part)}\n\n" + md_table(*curve)
        elif fmt == "html":
            classes = [
                "failed" if s != "ok" else ("pareto" if p else "") for s, p in zip(part["status"], part["pareto"])
            ]
            text = f"<h2>{html.escape(str(ds))}</h2>\n<p>{html.escape(_dataset_caption(part))}</p>\n"
            text += html_table(headers, rows, classes)
            if curve:
                text += f"<p>{html.escape(bd_sentence(bd_part))}</p>\n" + html_table(*curve)
        else:
            text = latex_table(headers, rows, caption=f"{ds}: {_dataset_caption(part)}")
            if curve:
                text += latex_table(*curve, caption=f"{ds}: {bd_sentence(bd_part)}")
        parts.append(text)
    if fmt == "md":
        return f"# {title}\n\n{LEGEND}\n\n" + "\n".join(parts)
    if fmt == "html":
        return html_page(title, f"<p class='legend'>{html.escape(LEGEND.replace('`', ''))}</p>\n" + "\n".join(parts))
    return f"% {title} (needs \\usepackage{{booktabs}})\n" + "\n".join(parts)


def bd_sentence(bd: pd.DataFrame) -> str:
    """The sentence that introduces a curve-summary table (``compare.bd_summary`` rows)."""
    ref = bd["reference"].iloc[0]
    return (
        f"Rate-distortion summary: average effective-ratio gain over {ref} at equal worst rel_rms "
        "(Bjontegaard-style: cubic fit of log ratio against log error, averaged over the error range both cover)."
    )


def bd_cells(bd: pd.DataFrame) -> tuple[list[str], list[list[str]]] | None:
    """Headers and text cells of a curve-summary table; None when it has no rows."""
    headers = ["codec", "vs", "ratio gain", "error range", "points"]
    rows = []
    for _, r in bd.iterrows():
        gain = r["gain_pct"]
        g = "-" if not math.isfinite(gain) else f"{round(gain, 1) + 0.0:+.1f}%"
        rng = "no overlap" if not math.isfinite(r["error_lo"]) else f"{r['error_lo']:.3g} .. {r['error_hi']:.3g}"
        rows.append([r["codec"], r["reference"], g, rng, f"{r['n_points']} vs {r['n_points_ref']}"])
    return (headers, rows) if rows else None


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The machine-readable leaderboard: identity, numeric columns and their ``_std``, no nested values."""
    cols = ["dataset", "codec", "setting", "split", "fit_on", "lossless", "learned", "status", "pareto", "n"]
    cols += ["n_failed", "n_runs", *NUMERIC_KEYS]
    cols += [f"{c}_std" for c in SPREAD_COLUMNS]
    cols += ["config_key", "error"]
    return frame[[c for c in cols if c in frame.columns]]


def html_page(title: str, body: str) -> str:
    """A complete, self-contained HTML page (inline CSS, no external assets)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{HTML_STYLE}\n</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def _budget_headers(table: pd.DataFrame) -> list[tuple[str, str]]:
    cols = [("rank", "rank"), ("codec", "codec"), ("setting", "setting"), ("effective_ratio", "effective ratio")]
    cols += [("ratio", "ratio"), ("worst_rel_rms", "worst rel_rms"), ("max_abs_error", "max abs error")]
    for b in table.attrs.get("budgets", []):
        if b.column.startswith("var."):
            cols.append((b.column, b.key))
    cols += [("n", "n"), ("note", "note")]
    return cols


def render_budgets(table: pd.DataFrame, fmt: str, title: str, fragment: bool = False) -> str:
    """Render a ``budget_table``; ``fragment`` gives HTML without the page around it."""
    if fmt == "csv":
        return table.to_csv(index=False)
    budgets = table.attrs.get("budgets", [])
    desc = ", ".join(f"{b.key} {'<=' if b.upper else '>='} {format_number(b.limit)}" for b in budgets)
    sentence = f"Best setting of each codec within the budget ({desc}), ranked by effective ratio."
    cols = _budget_headers(table)
    parts = []
    for ds, part in table.groupby("dataset", sort=True):
        rows = []
        for _, r in part.iterrows():
            cells = []
            for c, _ in cols:
                if c == "rank":
                    cells.append("-" if pd.isna(r["rank"]) else str(int(r["rank"])))
                elif c == "n":
                    cells.append(f"n={int(r['n'])}")
                elif c == "setting":
                    cells.append(_setting_text(r))
                elif c == "note":
                    cells.append(r["note"] or "")
                else:
                    cells.append(format_number(r[c], c))
            rows.append(cells)
        headers = [h for _, h in cols]
        if fmt == "md":
            parts.append(f"## {ds}\n\n" + md_table(headers, rows))
        elif fmt == "html":
            classes = ["" if w else "failed" for w in part["within_budget"]]
            parts.append(f"<h2>{html.escape(str(ds))}</h2>\n" + html_table(headers, rows, classes))
        else:
            parts.append(latex_table(headers, rows, caption=f"{ds}: {sentence}"))
    if fmt == "md":
        return f"# {title}: error budget\n\n{sentence}\n\n" + "\n".join(parts)
    if fmt == "html":
        body = f"<p class='legend'>{html.escape(sentence)}</p>\n" + "\n".join(parts)
        return body if fragment else html_page(f"{title}: error budget", body)
    return f"% {title}: error budget (needs \\usepackage{{booktabs}})\n" + "\n".join(parts)
