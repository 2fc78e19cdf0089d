"""Tables at equal error: per dataset, rows measured and target, the limit and each codec's chosen setting.

``target_table(frame)`` takes a leaderboard frame holding records of target searches
(``search.role`` "target" or "unmet"; probes are left out) and its limit rows
(``frame.attrs["limits"]``). One group per (dataset, rows measured, target): the ``limit`` row
first (rank "-"), then the codecs that meet the target ranked by effective ratio, each with its
``fraction_of_limit``, then those that cannot (their closest setting, noted). ``groups`` says
which rows each group measured; a dataset measured on different rows gets one group per set of
rows, never one ranking.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from codecbench.tables.frame import rows_identity, target_text

TARGET_COLUMNS = [
    "dataset", "rows_label", "target", "rank", "codec", "setting", "effective_ratio", "ratio",
    "worst_rel_rms", "max_abs_error", "fraction_of_limit", "probes", "note", "rows",
]  # fmt: skip


def has_targets(frame: pd.DataFrame) -> bool:
    """Whether the frame holds the final records of target searches."""
    return "role" in frame.columns and frame["role"].isin(["target", "unmet"]).any()


def limit_lookup(limits: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The limit rows by (dataset, rows id, target text)."""
    out = {}
    for row in limits:
        if row.get("status") == "ok":
            out[(row["dataset"], rows_identity(row)[0], target_text(row.get("target")))] = row
    return out


def _note(row: pd.Series) -> str:
    if row["status"] != "ok":
        return f"failed: {(row.get('error') or '').splitlines()[0][:100]}"
    reason = row.get("search_reason") or ""
    if row["role"] == "unmet":
        return "no setting meets the target (closest shown)" + (f": {reason}" if reason.startswith("no knob") else "")
    return "no knob: its setting meets the target" if reason.startswith("no knob") else ""


def target_table(frame: pd.DataFrame, limits: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """The equal-error table (see the module docstring); empty when the frame holds no target searches."""
    limits = frame.attrs.get("limits", []) if limits is None else limits
    if not has_targets(frame):
        return pd.DataFrame(columns=TARGET_COLUMNS)
    lookup = limit_lookup(limits)
    finals = frame[frame["role"].isin(["target", "unmet"])]
    out: list[dict[str, Any]] = []
    for (ds, rows, target), part in finals.groupby(["dataset", "rows", "target"], sort=True):
        label = part["rows_label"].iloc[0]
        lim = lookup.get((ds, rows, target))
        if lim is not None:
            worst = max((v.get("rel_rms", 0.0) for v in (lim.get("variables") or {}).values()), default=math.nan)
            worst_abs = max(
                (v.get("max_abs_error", 0.0) for v in (lim.get("variables") or {}).values()), default=math.nan
            )
            out.append(
                dict(dataset=ds, rows_label=label, target=target, rank=None, codec="limit", setting="memoryless",
                     effective_ratio=lim["ratio"], ratio=lim["ratio"], worst_rel_rms=worst, max_abs_error=worst_abs,
                     fraction_of_limit=1.0, probes=None, note="memoryless coder of a uniform quantizer", rows=rows)
            )  # fmt: skip
        met = part[(part["role"] == "target") & (part["status"] == "ok")].sort_values(
            ["effective_ratio", "codec"], ascending=[False, True]
        )
        rest = part.drop(met.index).sort_values("codec")
        for rank, (_, r) in enumerate(met.iterrows(), 1):
            out.append(_row(r, ds, label, target, rows, rank))
        for _, r in rest.iterrows():
            out.append(_row(r, ds, label, target, rows, None))
    table = pd.DataFrame.from_records(out, columns=TARGET_COLUMNS)
    table["rank"] = table["rank"].astype("Int64")
    # per dataset and rows, the targets from the loosest to the tightest (psnr: the other way)
    metric = table["target"].str.partition("=")[0]
    value = pd.to_numeric(table["target"].str.partition("=")[2], errors="coerce")
    loose = value.where(metric == "psnr", -value)
    order = table.assign(_m=metric, _v=loose, _i=range(len(table))).sort_values(["dataset", "rows", "_m", "_v", "_i"])
    return table.loc[order.index].reset_index(drop=True)


def _row(r: pd.Series, ds: str, label: str, target: str, rows: str, rank: int | None) -> dict[str, Any]:
    probes = r.get("search_probes")
    return dict(
        dataset=ds,
        rows_label=label,
        target=target,
        rank=rank,
        codec=r["codec"],
        setting=r.get("setting") or "(defaults)",
        effective_ratio=r.get("effective_ratio"),
        ratio=r.get("ratio"),
        worst_rel_rms=r.get("worst_rel_rms"),
        max_abs_error=r.get("max_abs_error"),
        fraction_of_limit=r.get("fraction_of_limit"),
        probes=None if probes is None or (isinstance(probes, float) and math.isnan(probes)) else int(probes),
        note=_note(r),
        rows=rows,
    )
