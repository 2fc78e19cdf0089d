"""The leaderboard as text: Markdown, CSV, HTML (a whole page) or LaTeX, one table per dataset.

``render_leaderboard(frame, fmt)`` renders a leaderboard frame (``codecbench.tables.leaderboard``):
per dataset (and per set of rows measured, when a dataset was measured on different rows) the
equal-error tables of target searches with their limit row (``codecbench.tables.targets``), the
settings' table (Pareto rows marked, ``mean ± std`` for repeats, failed settings with their error;
the probes of searches are left out of it) and the Bjontegaard-style curve summary
(``codecbench.tables.bd``); with budgets, the budget tables (``codecbench.tables.budgets``)
instead. The report reuses the cells.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import pandas as pd

from codecbench.errors import ConfigError
from codecbench.tables.bd import bd_summary, format_gain
from codecbench.tables.budgets import Budget, budget_table
from codecbench.tables.frame import NUMERIC_KEYS
from codecbench.tables.targets import target_table
from codecbench.tables.text import format_number, format_std, html_page, html_table, latex_table, md_table

#: Columns whose spread the tables show as ``mean ± std`` when a setting was measured more than once.
SPREAD_COLUMNS = ("ratio", "effective_ratio", "worst_rel_rms", "max_abs_error", "fit_s")

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
        text += f" ± {format_std(std)}"
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
    limits = frame.attrs.get("limits", [])
    parts: list[str] = []
    for heading, note, part in row_groups(frame):
        tables: list[tuple[str, list[str], list[list[str]], list[str]]] = []
        for target, tt in target_table(part, limits).groupby("target", sort=False):
            classes = ["" if pd.notna(k) or c == "limit" else "failed" for k, c in zip(tt["rank"], tt["codec"])]
            tables.append((TARGET_SENTENCE.format(target=target), *target_cells(tt), classes))
        plain = part[part["role"] == ""] if "role" in part.columns else part
        if len(plain) or not tables:
            classes = [
                "failed" if s != "ok" else ("pareto" if p else "") for s, p in zip(plain["status"], plain["pareto"])
            ]
            tables.append((_dataset_caption(plain if len(plain) else part), *table_cells(plain), classes))
        bd_part = bd_summary(part.drop_duplicates("config_key"), reference=bd_reference)
        curve = bd_cells(bd_part) if len(bd_part) else None
        if curve:
            tables.append((bd_sentence(bd_part), *curve, [""] * len(curve[1])))
        if fmt == "md":
            text = f"## {heading}\n\n" + (f"{note}\n\n" if note else "")
            text += "\n".join(f"{cap}\n\n" + md_table(h, r) for cap, h, r, _ in tables)
        elif fmt == "html":
            text = f"<h2>{html.escape(str(heading))}</h2>\n" + (f"<p>{html.escape(note)}</p>\n" if note else "")
            for cap, h, r, classes in tables:
                text += f"<p>{html.escape(cap)}</p>\n" + html_table(h, r, classes)
        else:
            text = "".join(latex_table(h, r, caption=f"{heading}: {cap}") for cap, h, r, _ in tables)
        parts.append(text)
    if fmt == "md":
        return f"# {title}\n\n{LEGEND}\n\n" + "\n".join(parts)
    if fmt == "html":
        return html_page(title, f"<p class='legend'>{html.escape(LEGEND.replace('`', ''))}</p>\n" + "\n".join(parts))
    return f"% {title} (needs \\usepackage{{booktabs}})\n" + "\n".join(parts)


TARGET_SENTENCE = (
    "At equal error, {target}: each codec's setting with the highest effective ratio that meets it (found by "
    "searching its knob), against the memoryless limit (fraction of limit = effective ratio / limit)."
)


def row_groups(frame: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(heading, note, rows) per dataset, split by the rows measured when a dataset was measured on several."""
    out = []
    for ds, part in frame.groupby("dataset", sort=True):
        groups = list(part.groupby("rows", sort=True, dropna=False)) if "rows" in part.columns else [("", part)]
        if len(groups) == 1:
            out.append((str(ds), "", part))
            continue
        labels = [g["rows_label"].iloc[0] for _, g in groups]
        note = (
            f"{ds} was measured on {len(groups)} different sets of rows ({', '.join(labels)}): "
            "their settings are not ranked against each other."
        )
        out += [(f"{ds}: {label}", note, g) for label, (_, g) in zip(labels, groups)]
    return out


def target_cells(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Headers and cells of one target's rows of a ``target_table``."""
    headers = ["rank", "codec", "setting", "effective ratio", "worst rel_rms", "max abs error", "fraction of limit"]
    headers += ["probes", "note"]
    body = []
    for _, r in table.iterrows():
        body.append(
            [
                "-" if pd.isna(r["rank"]) else str(int(r["rank"])),
                str(r["codec"]),
                str(r["setting"]),
                format_number(r["effective_ratio"], "effective_ratio"),
                format_number(r["worst_rel_rms"], "worst_rel_rms"),
                format_number(r["max_abs_error"], "max_abs_error"),
                format_number(r["fraction_of_limit"], "fraction_of_limit"),
                "" if r["probes"] is None or pd.isna(r["probes"]) else str(int(r["probes"])),
                str(r["note"] or ""),
            ]
        )
    return headers, body


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
        g = format_gain(r["gain_pct"])
        rng = "no overlap" if not math.isfinite(r["error_lo"]) else f"{r['error_lo']:.3g} .. {r['error_hi']:.3g}"
        rows.append([r["codec"], r["reference"], g, rng, f"{r['n_points']} vs {r['n_points_ref']}"])
    return (headers, rows) if rows else None


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The machine-readable leaderboard: identity, numeric columns and their ``_std``, no nested values."""
    cols = ["dataset", "codec", "setting", "split", "rows", "fit_on", "target", "role", "lossless", "learned"]
    cols += ["status", "pareto", "n"]
    cols += ["n_failed", "n_runs", *NUMERIC_KEYS]
    cols += [f"{c}_std" for c in SPREAD_COLUMNS]
    cols += ["config_key", "error"]
    return frame[[c for c in cols if c in frame.columns]]


def _budget_headers(table: pd.DataFrame) -> list[tuple[str, str]]:
    cols = [("rank", "rank"), ("codec", "codec"), ("setting", "setting"), ("effective_ratio", "effective ratio")]
    cols += [("ratio", "ratio"), ("worst_rel_rms", "worst rel_rms"), ("max_abs_error", "max abs error")]
    for b in table.attrs.get("budgets", []):
        if b.column.startswith("var."):
            cols.append((b.column, b.key))
    if "fraction_of_limit" in table.columns and table["fraction_of_limit"].notna().any():
        cols.append(("fraction_of_limit", "fraction of limit"))
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
    for ds, _, part in row_groups(table):
        rows = []
        for _, r in part.iterrows():
            cells = []
            for c, _ in cols:
                if c == "rank":
                    cells.append("-" if pd.isna(r["rank"]) else str(int(r["rank"])))
                elif c == "n":
                    cells.append("" if r["codec"] == "limit" else f"n={int(r['n'])}")
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
