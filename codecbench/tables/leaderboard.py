"""The leaderboard: one sorted row per setting from stored records, the Pareto front marked.

``leaderboard(*result_dirs)`` reads result directories (``codecbench.runner.store``), merges them
(``codecbench.tables.frame``), marks the Pareto front and sorts; the limit rows of runs with
targets ride along in ``frame.attrs["limits"]``. Budgets are in ``codecbench.tables.budgets``,
target tables in ``codecbench.tables.targets``, text output in ``codecbench.tables.render``.
Rows of one dataset measured on different rows (all rows, a test split) are never ranked against
each other: the Pareto front, budgets and target tables work per (dataset, rows) and say so.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from codecbench.errors import ConfigError
from codecbench.runner.store import load_limits, load_records
from codecbench.tables.frame import aggregate, records_frame

#: Columns where a larger value is better (default sort descending; ``psnr`` budgets are minima).
HIGHER_IS_BETTER = frozenset({"ratio", "effective_ratio", "encode_mbps", "decode_mbps", "psnr"})


def mark_pareto(frame: pd.DataFrame) -> pd.DataFrame:
    """Add a ``pareto`` column: True for ok rows that no other ok row of the same dataset dominates.

    Row *j* dominates row *i* when ``effective_ratio_j >= effective_ratio_i`` and
    ``worst_rel_rms_j <= worst_rel_rms_i`` with at least one inequality strict; only rows measured
    on the same rows of the dataset compete. Rows without a finite effective ratio or worst
    ``rel_rms`` (failed rows) are never Pareto-optimal.
    """
    frame = frame.copy()
    pareto = np.zeros(len(frame), dtype=bool)
    if len(frame):
        ratio = frame["effective_ratio"].to_numpy(dtype=float)
        err = frame["worst_rel_rms"].to_numpy(dtype=float)
        eligible = (frame["status"].to_numpy() == "ok") & np.isfinite(ratio) & np.isfinite(err)
        groups = (frame["dataset"].astype(str) + "\0" + frame.get("rows", "").astype(str)).to_numpy()
        for g in pd.unique(groups):
            idx = np.flatnonzero((groups == g) & eligible)
            r, e = ratio[idx], err[idx]
            for k, i in enumerate(idx):
                dominated = (r >= r[k]) & (e <= e[k]) & ((r > r[k]) | (e < e[k]))
                pareto[i] = not dominated.any()
    frame["pareto"] = pareto
    return frame


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
    limits: list[dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """Records -> one sorted row per setting with the ``pareto`` column (see the module docstring).

    ``pareto_only`` keeps Pareto-optimal rows and every lossless row. ``limits``: the limit rows
    (``load_limits``), kept in ``attrs["limits"]``.
    """
    frame = mark_pareto(aggregate(records_frame(records), aggregate_how))
    if pareto_only and len(frame):
        frame = frame[frame["pareto"] | (frame["lossless"] & (frame["status"] == "ok"))]
    frame = sort_frame(frame, sort)
    frame.attrs["limits"] = list(limits or [])
    return frame


def leaderboard(
    *result_dirs: str | os.PathLike[str],
    aggregate: str = "newest",
    sort: str | None = None,
    pareto_only: bool = False,
) -> pd.DataFrame:
    """Read result directories (or ``records.jsonl`` files) and return the merged leaderboard frame."""
    if not result_dirs:
        raise ConfigError("no result directory given")
    return leaderboard_frame(load_records(*result_dirs), aggregate, sort, pareto_only, load_limits(*result_dirs))
