"""``codecbench leaderboard``, ``compare``, ``plot`` and ``report``: stored records as tables, figures, a page."""

from __future__ import annotations

import typer

from codecbench.cli.app import console, emit, err_console, friendly
from codecbench.errors import CodecbenchError


@friendly
def leaderboard_cmd(
    result_dirs: list[str] = typer.Argument(None, help="Result directories or records.jsonl files [default: runs]."),
    fmt: str = typer.Option("md", "--format", "-f", help="md, csv, html or latex."),
    sort: str | None = typer.Option(None, "--sort", help="Column to sort by (prefix + or - for the direction)."),
    output: str | None = typer.Option(None, "--output", "-o", help="Write to this file instead of printing."),
    budget: list[str] = typer.Option(
        None,
        "--budget",
        help="Error budget KEY=VALUE (repeatable): worst_rel_rms=1e-3, max_abs_error=.., pt.rel_rms=..",
    ),
    aggregate: str = typer.Option("newest", "--aggregate", help="Same setting in several dirs: newest or median."),
    pareto_only: bool = typer.Option(False, "--pareto-only", help="Only Pareto-optimal and lossless rows."),
    bd_reference: str | None = typer.Option(None, "--bd-reference", help="Codec the curve summary compares to."),
) -> None:
    """One table per dataset from stored records, Pareto rows marked; or the best setting per codec within a budget."""
    from codecbench.tables.leaderboard import leaderboard
    from codecbench.tables.render import render_leaderboard

    if not result_dirs:
        import os

        if not os.path.isdir("runs"):
            raise CodecbenchError("no result directory given and there is no ./runs; name one, e.g. results/reference")
        result_dirs = ["runs"]
    frame = leaderboard(*result_dirs, aggregate=aggregate, sort=sort, pareto_only=pareto_only)
    emit(render_leaderboard(frame, fmt, budgets=budget or None, bd_reference=bd_reference), output)


@friendly
def compare_cmd(
    run_a: str = typer.Argument(..., help="The earlier run (a result directory)."),
    run_b: str = typer.Argument(..., help="The later run."),
    fmt: str = typer.Option("md", "--format", "-f", help="md, csv or html."),
    output: str | None = typer.Option(None, "--output", "-o", help="Write to this file instead of printing."),
    aggregate: str = typer.Option("newest", "--aggregate", help="Within each side: newest or median."),
    fail_on_regression: bool = typer.Option(
        False, "--fail-on-regression", help="Exit with 1 if a regression is found."
    ),
    changed_only: bool = typer.Option(False, "--changed-only", help="Leave out settings that did not change."),
    ratio_tolerance: float = typer.Option(0.5, "--ratio-tolerance", help="Percent ratio change not flagged."),
    error_tolerance: float = typer.Option(1.0, "--error-tolerance", help="Percent error change not flagged."),
    speed_tolerance: float = typer.Option(20.0, "--speed-tolerance", help="Percent speed change not flagged."),
) -> None:
    """Per setting, the change in ratio, error and speed from RUN_A to RUN_B; regressions flagged."""
    from codecbench.tables.compare import Tolerance, compare_runs, render_comparison

    tolerance = Tolerance(ratio_pct=ratio_tolerance, error_pct=error_tolerance, speed_pct=speed_tolerance)
    result = compare_runs(run_a, run_b, aggregate=aggregate, tolerance=tolerance)
    emit(render_comparison(result, fmt, changed_only=changed_only), output)
    if fail_on_regression and result.counts["regressions"]:
        err_console.print(f"{result.counts['regressions']} regression(s)", highlight=False)
        raise typer.Exit(1)


@friendly
def plot_cmd(
    result_dirs: list[str] = typer.Argument(..., help="Result directories or records.jsonl files."),
    out: str = typer.Option("plots", "--output", "-o", help="Folder for the PNG and PDF files."),
    record: str | None = typer.Option(
        None, "--record", help="TASK_ID (or a unique prefix): re-run that record and plot residuals and responses."
    ),
    aggregate: str = typer.Option("newest", "--aggregate", help="Same setting in several dirs: newest or median."),
) -> None:
    """Rate-distortion curves per dataset, or one record's histograms (--record)."""
    from codecbench.tables.plots.rate_distortion import plot_results
    from codecbench.tables.plots.record import plot_record

    if record:
        paths = plot_record(result_dirs, record, out)
    else:
        paths = plot_results(*result_dirs, out_dir=out, aggregate=aggregate)
    for p in paths:
        console.print(str(p), highlight=False)


@friendly
def report_cmd(
    result_dirs: list[str] = typer.Argument(..., help="Result directories or records.jsonl files."),
    output: str = typer.Option("report.html", "--output", "-o", help="The HTML file to write."),
    budget: list[str] = typer.Option(None, "--budget", help="Add an error-budget table (repeatable KEY=VALUE)."),
    record: list[str] = typer.Option(None, "--record", help="Add one record's figures (repeatable TASK_ID)."),
    aggregate: str = typer.Option("newest", "--aggregate", help="Same setting in several dirs: newest or median."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Tables only (no matplotlib needed)."),
) -> None:
    """One self-contained HTML page: run details, tables and embedded plots."""
    from codecbench.tables.report import write_report

    path = write_report(
        *result_dirs,
        output=output,
        aggregate=aggregate,
        budgets=budget or None,
        include_plots=not no_plots,
        record_ids=record or (),
    )
    console.print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)", highlight=False)
