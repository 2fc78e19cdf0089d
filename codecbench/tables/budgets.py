"""Error budgets: the best setting of each codec whose errors stay within limits, ranked.

``--budget KEY=VALUE``: ``worst_rel_rms``, ``max_abs_error``, ``nrmse``, ``bits_per_value`` are
upper limits, ``psnr`` a lower limit, and ``VARIABLE.METRIC`` (``pt.rel_rms``) limits one variable's
metric (its absolute value). ``budget_table`` takes a leaderboard frame
(``codecbench.tables.leaderboard``). When the frame holds target searches for exactly the budget
(one budget equal to a search's target), each codec's row is its search's answer (``"target"``) or
its closest setting (``"unmet"``) instead of the best of whatever settings happened to be measured,
and the limit row of that target leads the table. A dataset measured on different rows gets one
table per set of rows.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from codecbench.errors import ConfigError
from codecbench.tables.frame import variable_columns
from codecbench.tables.targets import limit_lookup

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
        known = sorted(c[4:] for c in variable_columns(frame))
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
    as_target = _as_target(parsed)
    limits = limit_lookup(frame.attrs.get("limits", [])) if as_target else {}
    rows: list[dict[str, Any]] = []
    group_keys = ["dataset", "rows"] if "rows" in frame.columns else ["dataset"]
    for _key, part in frame.groupby(group_keys, sort=True):
        if any(b.column not in part.columns or part[b.column].isna().all() for b in parsed):
            continue
        searched = part[part["target"] == as_target] if as_target and "target" in part.columns else part.iloc[0:0]
        searched = searched[searched["role"].isin(["target", "unmet"])] if len(searched) else searched
        ranked: list[dict[str, Any]] = []
        never: list[dict[str, Any]] = []
        for codec, all_c in part.groupby("codec", sort=True):
            mine = searched[searched["codec"] == codec]
            if len(mine):  # the searches' answers for exactly this budget (one per setting searched)
                met = mine[(mine["status"] == "ok") & (mine["role"] == "target")]
                if len(met):
                    best = met.sort_values(["effective_ratio", "worst_rel_rms"], ascending=[False, True]).iloc[0]
                    ranked.append(_budget_row(best, parsed, True, "searched"))
                else:
                    ok = mine[mine["status"] == "ok"]
                    best = (ok if len(ok) else mine).sort_values("worst_rel_rms", na_position="last").iloc[0]
                    never.append(_budget_row(best, parsed, False, "searched: no setting meets it (closest shown)"))
                continue
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
        lim = limits.get((part["dataset"].iloc[0], part["rows"].iloc[0], as_target)) if as_target else None
        for r in ranked:
            if lim is not None:
                r["fraction_of_limit"] = r["effective_ratio"] / lim["ratio"]
        head = [_limit_row(part.iloc[0], lim, parsed)] if lim is not None else []
        rows.extend(head + ranked + never)
    if not rows:
        keys = ", ".join(b.key for b in parsed)
        raise ConfigError(f"no dataset in these records has every budget variable ({keys})")
    cols = ["dataset", "rank", "codec", "setting", "effective_ratio", "ratio", "worst_rel_rms", "max_abs_error"]
    cols += [b.column for b in parsed if b.column not in cols]
    cols += ["fraction_of_limit", "within_budget", "note", "split", "rows", "rows_label", "fit_on", "n"]
    out = pd.DataFrame.from_records(rows)
    for c in cols:
        if c not in out.columns:
            out[c] = math.nan
    out["rank"] = out["rank"].astype("Int64")
    out.attrs["budgets"] = parsed
    return out[cols]


def _as_target(budgets: list[Budget]) -> str:
    """The target text (``"worst_rel_rms=0.0005"``) a single budget equals, "" if none."""
    if len(budgets) != 1 or budgets[0].key == "bits_per_value":
        return ""
    return f"{budgets[0].key}={budgets[0].limit:g}"


def _limit_row(first: pd.Series, lim: dict[str, Any], budgets: list[Budget]) -> dict[str, Any]:
    worst = max((v.get("rel_rms", 0.0) for v in (lim.get("variables") or {}).values()), default=math.nan)
    out = {"dataset": first["dataset"], "codec": "limit", "setting": "memoryless", "effective_ratio": lim["ratio"]}
    out.update(ratio=lim["ratio"], worst_rel_rms=worst, max_abs_error=math.nan, rank=None, within_budget=True, n=0)
    out.update(note="memoryless coder of a uniform quantizer", split=first["split"], fit_on="", fraction_of_limit=1.0)
    out.update(rows=first.get("rows"), rows_label=first.get("rows_label"))
    for b in budgets:
        out.setdefault(b.column, math.nan)
    return out


def _budget_row(row: pd.Series, budgets: list[Budget], within: bool, note: str) -> dict[str, Any]:
    out = {k: row.get(k) for k in ("dataset", "codec", "setting", "effective_ratio", "ratio", "worst_rel_rms")}
    out.update(max_abs_error=row.get("max_abs_error"), split=row["split"], fit_on=row["fit_on"], n=row["n"])
    out.update(rows=row.get("rows"), rows_label=row.get("rows_label"), fraction_of_limit=row.get("fraction_of_limit"))
    for b in budgets:
        out[b.column] = row.get(b.column, math.nan)
    out.update(rank=None, within_budget=within, note=note)
    return out
