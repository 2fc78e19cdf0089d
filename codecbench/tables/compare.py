"""Compare two runs setting by setting: the change in ratio, error and speed, regressions flagged.

``compare_runs(run_a, run_b)`` merges each side as the leaderboard does, pairs the settings by
(dataset, config, split, fit_on) and reports, per setting, the change in ratio, error and speed,
flagging regressions beyond a tolerance; per codec, the Bjontegaard-style ratio gain of B's curve
over A's (``codecbench.tables.bd``).
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from codecbench.errors import ConfigError
from codecbench.runner.store import load_records
from codecbench.tables.bd import bd_details, format_gain, rd_points
from codecbench.tables.frame import ROW_KEY
from codecbench.tables.leaderboard import leaderboard_frame
from codecbench.tables.text import format_number, html_page, html_table, md_table


@dataclass(frozen=True)
class Tolerance:
    """Changes smaller than these (in percent) are not flagged."""

    ratio_pct: float = 0.5
    error_pct: float = 1.0
    speed_pct: float = 20.0


#: Compared columns: (column, label, larger is better).
COMPARED = (
    ("ratio", "ratio", True),
    ("effective_ratio", "effective ratio", True),
    ("worst_rel_rms", "worst rel_rms", False),
    ("max_abs_error", "max abs error", False),
    ("encode_mbps", "encode MB/s", True),
    ("decode_mbps", "decode MB/s", True),
    ("fit_s", "fit s", False),
)


@dataclass
class Comparison:
    """The outcome of ``compare_runs``: per-setting rows, per-codec curve gains, and counts."""

    rows: pd.DataFrame
    bd: pd.DataFrame
    label_a: str = "A"
    label_b: str = "B"
    counts: dict[str, int] = field(default_factory=dict)


def pct_change(a: float, b: float) -> float:
    """Percent change from ``a`` to ``b``: 0 when equal (infinities included), inf when ``a`` is 0."""
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return math.nan
    if a == b:
        return 0.0
    if a == 0 or math.isinf(a):
        return math.inf if b > a else -math.inf
    return (b - a) / abs(a) * 100.0


def _changes(row: dict[str, Any], tol: Tolerance) -> tuple[list[str], bool]:
    notes: list[str] = []
    regression = False
    sa, sb = row["status_a"], row["status_b"]
    if sa == "ok" and sb != "ok":
        return ["now fails"], True
    if sa != "ok" and sb == "ok":
        return ["now works"], False
    if sa != "ok":
        return ["fails in both"], False
    for col, label, higher in COMPARED:
        ch = row[f"{col}_change_pct"]
        if math.isnan(ch):
            continue
        limit = {"ratio": tol.ratio_pct, "effective_ratio": tol.ratio_pct}.get(col)
        if limit is None:
            limit = tol.error_pct if col in ("worst_rel_rms", "max_abs_error") else tol.speed_pct
        if abs(ch) <= limit:
            continue
        notes.append(f"{label} {_pct(ch)}")
        if col != "fit_s":  # fit time is reported, not judged: it depends on the machine and epochs
            regression |= ch < 0 if higher else ch > 0
    return notes, regression


def _pct(ch: float) -> str:
    if math.isinf(ch):
        return "was 0, now > 0" if ch > 0 else "-inf%"
    return f"{ch:+.1f}%"


def compare_frames(
    frame_a: pd.DataFrame,
    frame_b: pd.DataFrame,
    tolerance: Tolerance | None = None,
    label_a: str = "A",
    label_b: str = "B",
) -> Comparison:
    """Compare two leaderboard frames (see ``compare_runs``)."""
    tol = tolerance or Tolerance()
    key = list(ROW_KEY)
    a = frame_a.set_index(key)
    b = frame_b.set_index(key)
    rows: list[dict[str, Any]] = []
    for k in sorted(set(a.index) | set(b.index), key=lambda t: tuple(map(str, t))):
        ra = a.loc[k] if k in a.index else None
        rb = b.loc[k] if k in b.index else None
        src = rb if rb is not None else ra
        row: dict[str, Any] = dict(zip(key, k))
        row.update(codec=src["codec"], setting=src["setting"])
        row["presence"] = "both" if ra is not None and rb is not None else ("only A" if rb is None else "only B")
        row["status_a"] = ra["status"] if ra is not None else None
        row["status_b"] = rb["status"] if rb is not None else None
        for col, _, _ in COMPARED:
            va = float(ra[col]) if ra is not None else math.nan
            vb = float(rb[col]) if rb is not None else math.nan
            row[f"{col}_a"], row[f"{col}_b"], row[f"{col}_change_pct"] = va, vb, pct_change(va, vb)
        if row["presence"] == "both":
            notes, regression = _changes(row, tol)
        else:
            notes, regression = [row["presence"]], False
        row["changes"] = "; ".join(notes)
        row["regression"] = regression
        rows.append(row)
    out = pd.DataFrame.from_records(rows)
    if len(out):
        # regressions first, then other changes, unchanged settings, and settings only one run has
        order = np.where(
            out["regression"], 0, np.where(out["presence"] != "both", 3, np.where(out["changes"] != "", 1, 2))
        )
        out = out.assign(_order=order).sort_values(["_order", "dataset", "codec", "setting"], kind="stable")
        out = out.drop(columns="_order").reset_index(drop=True)
    bd_rows = []
    for ds in sorted(set(frame_a["dataset"]) & set(frame_b["dataset"])):
        pa, pb = frame_a[frame_a["dataset"] == ds], frame_b[frame_b["dataset"] == ds]
        for codec in sorted(set(pa["codec"]) & set(pb["codec"])):
            ca, cb = rd_points(pa[pa["codec"] == codec]), rd_points(pb[pb["codec"] == codec])
            if len(np.unique(ca[:, 0])) < 2 or len(np.unique(cb[:, 0])) < 2:
                continue
            bd_rows.append(
                {"dataset": ds, "codec": codec, **bd_details(ca, cb), "n_points_a": len(ca), "n_points_b": len(cb)}
            )
    bd = pd.DataFrame.from_records(
        bd_rows, columns=["dataset", "codec", "gain_pct", "error_lo", "error_hi", "n_points_a", "n_points_b"]
    )
    counts = {
        "settings": len(out),
        "compared": int((out["presence"] == "both").sum()) if len(out) else 0,
        "regressions": int(out["regression"].sum()) if len(out) else 0,
        "only_a": int((out["presence"] == "only A").sum()) if len(out) else 0,
        "only_b": int((out["presence"] == "only B").sum()) if len(out) else 0,
    }
    return Comparison(out, bd, label_a, label_b, counts)


def compare_runs(
    run_a: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    run_b: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    aggregate: str = "newest",
    tolerance: Tolerance | None = None,
) -> Comparison:
    """Per setting, the change from run A to run B in ratio, error and speed, with regressions flagged.

    A regression is a setting that now fails, whose ratio or effective ratio fell by more than
    ``tolerance.ratio_pct``, whose worst rel_rms or max abs error rose by more than
    ``tolerance.error_pct``, or whose encode or decode speed fell by more than
    ``tolerance.speed_pct`` (timings are noisy). ``Comparison.bd`` holds, per dataset and codec,
    the Bjontegaard-style ratio gain of B's curve over A's.
    """

    def load(run: Any) -> pd.DataFrame:
        paths = [run] if isinstance(run, (str, os.PathLike)) else list(run)
        frame = leaderboard_frame(load_records(*paths), aggregate)
        if frame.empty:
            raise ConfigError(f"no records in {', '.join(map(str, paths))}")
        return frame

    def label(run: Any) -> str:
        return str(run) if isinstance(run, (str, os.PathLike)) else ", ".join(map(str, run))

    return compare_frames(load(run_a), load(run_b), tolerance, label(run_a), label(run_b))


def _arrow(row: pd.Series, col: str) -> str:
    a, b, ch = row[f"{col}_a"], row[f"{col}_b"], row[f"{col}_change_pct"]
    text = f"{format_number(a, col)} -> {format_number(b, col)}"
    if math.isfinite(ch) and ch != 0:
        text += f" ({ch:+.1f}%)"
    return text


def render_comparison(cmp: Comparison, fmt: str = "md", changed_only: bool = False) -> str:
    """The comparison as Markdown, CSV or a self-contained HTML page.

    ``changed_only`` leaves out settings measured in both runs without a change beyond tolerance.
    """
    if fmt not in ("md", "csv", "html"):
        raise ConfigError(f"compare --format must be md, csv or html, not {fmt!r}")
    rows = cmp.rows
    if changed_only and len(rows):
        rows = rows[rows["changes"] != ""]
    if fmt == "csv":
        return rows.to_csv(index=False)
    c = cmp.counts
    summary = (
        f"A = {cmp.label_a}, B = {cmp.label_b}: {c['compared']} settings in both, "
        f"{c['regressions']} regressions, {c['only_a']} only in A, {c['only_b']} only in B."
    )
    headers = ["dataset", "codec", "setting", "ratio", "effective ratio", "worst rel_rms", "encode MB/s", "decode MB/s"]
    headers += ["changes", "regression"]
    body = []
    for _, r in rows.iterrows():
        cells = [str(r["dataset"]), str(r["codec"]), r["setting"] or "(defaults)"]
        cells += [_arrow(r, col) for col in ("ratio", "effective_ratio", "worst_rel_rms", "encode_mbps", "decode_mbps")]
        cells += [r["changes"], "REGRESSION" if r["regression"] else ""]
        body.append(cells)
    bd_headers = ["dataset", "codec", "ratio gain of B over A", "error range", "points A / B"]
    bd_body = [
        [
            str(r["dataset"]),
            str(r["codec"]),
            format_gain(r["gain_pct"]),
            "no overlap" if not math.isfinite(r["error_lo"]) else f"{r['error_lo']:.3g} .. {r['error_hi']:.3g}",
            f"{r['n_points_a']} / {r['n_points_b']}",
        ]
        for _, r in cmp.bd.iterrows()
    ]
    bd_note = (
        "Rate-distortion curves, B against A (Bjontegaard-style average effective-ratio gain at equal worst rel_rms)."
    )
    if fmt == "md":
        text = f"# codecbench compare\n\n{summary}\n\n" + md_table(headers, body)
        if bd_body:
            text += f"\n{bd_note}\n\n" + md_table(bd_headers, bd_body)
        return text
    classes = ["failed" if r else "" for r in rows["regression"]] if len(rows) else []
    body_html = f"<p>{html.escape(summary)}</p>\n" + html_table(headers, body, classes)
    if bd_body:
        body_html += f"<p>{html.escape(bd_note)}</p>\n" + html_table(bd_headers, bd_body)
    return html_page("codecbench compare", body_html)
