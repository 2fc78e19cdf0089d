"""One self-contained HTML page per run: the page a user sends to a colleague.

``build_report(result_dirs)`` returns the page as a string: the run's environment and command line,
then per dataset the rate-distortion plot (a PNG embedded as base64, with the memoryless limit of a
run with targets as a line), the equal-error tables of target searches with their limit row and
each codec's fraction of the limit, the leaderboard table with the Pareto front marked (searches'
probes left out) and the Bjontegaard-style curve summary, optional error-budget tables,
the failed settings with their messages, and optional per-record figures. CSS is inline; there is
no script, stylesheet, font or image outside the file.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codecbench.errors import ConfigError
from codecbench.runner.store import RUN_FILE, load_limits, load_records
from codecbench.tables.bd import bd_summary
from codecbench.tables.budgets import Budget, budget_table
from codecbench.tables.leaderboard import leaderboard_frame
from codecbench.tables.plots.figure import require_matplotlib
from codecbench.tables.plots.rate_distortion import rate_distortion_figure
from codecbench.tables.plots.reconstruct import find_record, reconstruct
from codecbench.tables.plots.record import record_figures
from codecbench.tables.render import (
    LEGEND,
    TARGET_SENTENCE,
    bd_cells,
    bd_sentence,
    render_budgets,
    row_groups,
    table_cells,
    target_cells,
)
from codecbench.tables.targets import target_table
from codecbench.tables.text import html_page, html_table

#: PNG resolution inside the report (lower than the standalone plots: the page stays small).
REPORT_DPI = 100


def figure_to_data_uri(fig: Any, dpi: int = REPORT_DPI) -> str:
    """A matplotlib figure as a ``data:image/png;base64,...`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(fig: Any, alt: str) -> str:
    return f'<img class="plot" alt="{html.escape(alt)}" src="{figure_to_data_uri(fig)}">\n'


def _run_files(result_dirs: Sequence[str | os.PathLike[str]]) -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for d in result_dirs:
        p = Path(d)
        candidates = sorted(p.rglob(RUN_FILE)) if p.is_dir() else [p.parent / RUN_FILE]
        for f in candidates:
            if f.is_file():
                try:
                    out.append((f.parent, json.loads(f.read_text(encoding="utf-8"))))
                except (OSError, json.JSONDecodeError):
                    out.append((f.parent, {}))
    return out


def _run_section(result_dirs: Sequence[str | os.PathLike[str]], records: list[dict[str, Any]]) -> str:
    n_ok = sum(r.get("status") == "ok" for r in records)
    text = f"<p>{len(records)} records ({n_ok} ok, {len(records) - n_ok} failed) from "
    text += ", ".join(f"<code>{html.escape(str(d))}</code>" for d in result_dirs) + ".</p>\n"
    rows = []
    for folder, run in _run_files(result_dirs):
        argv = run.get("argv")
        cmd = " ".join(map(str, argv)) if isinstance(argv, list) else str(argv or "")
        if cmd and isinstance(argv, list) and argv:
            cmd = "codecbench " + " ".join(map(str, argv[1:])) if str(argv[0]).endswith("codecbench") else cmd
        rows.append(
            [
                folder.name,
                str(run.get("started") or "-"),
                str(run.get("codecbench") or "-"),
                str(run.get("git_commit") or "-")[:12],
                f"Python {run.get('python') or '?'}, numpy {run.get('numpy') or '?'}, torch {run.get('torch') or '-'}",
                f"{run.get('platform') or '?'}, {run.get('cpu_count') or '?'} CPUs"
                + (f", {run['gpu']}" if run.get("gpu") else ""),
                cmd or "-",
            ]
        )
    if rows:
        text += html_table(["run", "started", "codecbench", "git commit", "software", "machine", "command"], rows)
    return text


def build_report(
    *result_dirs: str | os.PathLike[str],
    aggregate: str = "newest",
    budgets: Sequence[Budget | str] | None = None,
    include_plots: bool = True,
    record_ids: Sequence[str] = (),
    bd_reference: str | None = None,
    title: str = "codecbench report",
) -> str:
    """The report page as one HTML string (see the module docstring).

    ``include_plots`` needs matplotlib (``pip install 'codecbench[plot]'``); ``record_ids`` adds
    the residual/response figures of those records, re-running their codecs.
    """
    if not result_dirs:
        raise ConfigError("no result directory given")
    records = load_records(*result_dirs)
    frame = leaderboard_frame(records, aggregate, limits=load_limits(*result_dirs))
    if frame.empty:
        raise ConfigError(f"no records in {', '.join(map(str, result_dirs))}")
    if include_plots:
        require_matplotlib()
    bd = bd_summary(frame, reference=bd_reference)
    datasets = sorted(frame["dataset"].unique())
    toc = ["<li><a href='#run'>run</a></li>"]
    toc += [f"<li><a href='#ds-{i}'>{html.escape(str(ds))}</a></li>" for i, ds in enumerate(datasets)]
    if budgets:
        toc.append("<li><a href='#budget'>error budget</a></li>")
    body = [f"<nav><ul>{''.join(toc)}</ul></nav>", "<h2 id='run'>run</h2>", _run_section(result_dirs, records)]
    body.append(f"<p class='legend'>{html.escape(LEGEND.replace('`', ''))}</p>")
    groups = row_groups(frame)
    for i, ds in enumerate(datasets):
        body.append(f"<h2 id='ds-{i}'>{html.escape(str(ds))}</h2>")
        if include_plots and (frame[frame["dataset"] == ds]["status"] == "ok").any():
            body.append(_img(rate_distortion_figure(frame, ds), f"rate-distortion curves of {ds}"))
        for heading, note, part in (g for g in groups if g[2]["dataset"].iloc[0] == ds):
            if heading != ds:
                body.append(f"<h3>{html.escape(heading)}</h3>\n<p>{html.escape(note)}</p>")
            body.append(_group_tables(part, frame.attrs.get("limits", [])))
        bd_part = bd[bd["dataset"] == ds] if len(bd) else bd
        cells = bd_cells(bd_part) if len(bd_part) else None
        if cells:
            body.append(f"<p>{html.escape(bd_sentence(bd_part))}</p>\n" + html_table(*cells))
    if budgets:
        body.append("<h2 id='budget'>error budget</h2>")
        body.append(render_budgets(budget_table(frame, budgets), "html", title, fragment=True))
    failed = [r for r in records if r.get("status") != "ok"]
    if failed:
        body.append("<h2 id='failed'>failed tasks</h2>")
        rows = [
            [str(r.get("dataset")), str(r.get("codec")), r.get("setting") or "(defaults)", str(r.get("stage") or ""),
             str(r.get("error") or "")]
            for r in failed
        ]  # fmt: skip
        body.append(html_table(["dataset", "codec", "setting", "stage", "error"], rows, ["failed"] * len(rows)))
    if record_ids:
        body.append("<h2 id='records'>records</h2>")
        for task_id in record_ids:
            rec = find_record(result_dirs, task_id)
            body.append(f"<h3>{html.escape(str(rec.get('dataset')))}: {html.escape(str(rec.get('codec')))} "
                        f"({html.escape(rec.get('setting') or 'defaults')})</h3>")  # fmt: skip
            for name, fig in record_figures(rec, reconstruct(rec)):
                body.append(_img(fig, name))
    return html_page(title, "\n".join(body))


def _group_tables(part: Any, limits: list[dict[str, Any]]) -> str:
    """The equal-error tables and the settings table of one dataset's rows, as HTML."""
    text = ""
    for target, tt in target_table(part, limits).groupby("target", sort=False):
        classes = ["" if r == r or c == "limit" else "failed" for r, c in zip(tt["rank"].astype(float), tt["codec"])]
        text += f"<p>{html.escape(TARGET_SENTENCE.format(target=target))}</p>\n" + html_table(
            *target_cells(tt), classes
        )
    plain = part[part["role"] == ""] if "role" in part.columns else part
    if len(plain) or not text:
        plain = plain if len(plain) else part
        headers, rows = table_cells(plain)
        classes = ["failed" if s != "ok" else ("pareto" if p else "") for s, p in zip(plain["status"], plain["pareto"])]
        text += html_table(headers, rows, classes)
    return text


def write_report(
    *result_dirs: str | os.PathLike[str],
    output: str | os.PathLike[str] = "report.html",
    **kwargs: Any,
) -> Path:
    """``build_report`` written to ``output`` (UTF-8); returns the path."""
    page = build_report(*result_dirs, **kwargs)
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
