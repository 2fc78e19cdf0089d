"""The ``codecbench`` command line: a thin typer layer over the Python API.

Every expected failure is a ``CodecbenchError``; the CLI prints it as one line and exits with 1.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from codecbench.codec import CodecbenchError

app = typer.Typer(help="Benchmark compression codecs on scientific data.", no_args_is_help=True, add_completion=False)
list_app = typer.Typer(help="List installed codecs or registered datasets.", no_args_is_help=True)
datasets_app = typer.Typer(help="Inspect and fetch registered datasets.", no_args_is_help=True)
app.add_typer(list_app, name="list")
app.add_typer(datasets_app, name="datasets")

console = Console()
err_console = Console(stderr=True)


def friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a CodecbenchError into a one-line message and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CodecbenchError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper


def print_frame(df: Any, title: str | None = None, columns: list[str] | None = None) -> None:
    """Print a DataFrame as a rich table."""
    cols = columns or list(df.columns)
    table = Table(title=title)
    for c in cols:
        table.add_column(str(c), overflow="fold")
    for _, row in df.iterrows():
        table.add_row(*[_fmt(row.get(c)) for c in cols])
    console.print(table)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if v != v:
            return "-"
        if v == 0 or 1e-3 <= abs(v) < 1e6:
            return f"{v:.4g}"
        return f"{v:.3e}"
    return "-" if v is None else str(v)


# --- list commands -------------------------------------------------------------------------------


@list_app.command("codecs")
@friendly
def list_codecs_cmd() -> None:
    """Every codec registered under the `codecbench.codecs` entry point, with its status."""
    import pandas as pd

    from codecbench.plugins import list_codecs

    rows = [
        {
            "id": i.codec_id,
            "lossless": "-" if i.lossless is None else ("yes" if i.lossless else "no"),
            "learned": "-" if i.learned is None else ("yes" if i.learned else "no"),
            "package": f"{i.distribution} {i.version}",
            "status": i.status,
            "error": i.error or "",
        }
        for i in list_codecs()
    ]
    print_frame(pd.DataFrame(rows), title="codecs")


# --- run commands (runner) -----------------------------------------------------------------------

SUMMARY_COLUMNS = [
    "codec", "setting", "dataset", "status", "ratio", "effective_ratio", "worst_rel_rms",
    "encode_mbps", "decode_mbps",
]  # fmt: skip
#: Exit status of `codecbench run` when it completed but some tasks failed.
EXIT_TASKS_FAILED = 3


def _split_list(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def print_summary(df: Any) -> None:
    """The table printed at the end of a run; failed tasks listed below it with their errors."""
    if df.empty:
        console.print("no tasks ran")
        return
    cols = [c for c in SUMMARY_COLUMNS if c in df.columns]
    print_frame(df, title="codecbench run", columns=cols)
    failed = df[df["status"] != "ok"]
    for _, row in failed.iterrows():
        err_console.print(
            f"[red]failed[/]: {row['codec']} on {row['dataset']} ({row.get('stage')}): {row['error']}",
            highlight=False,
            soft_wrap=True,
        )


@app.command("run")
@friendly
def run_cmd(
    codecs: str = typer.Option(
        None, "--codecs", "-c", help="Comma-separated codec ids (default: every built-in codec installed)."
    ),
    datasets: str = typer.Option(
        None, "--datasets", "-d", help="Comma-separated dataset names (default: the embedded defaults)."
    ),
    set_: list[str] = typer.Option([], "--set", help="CODEC.PARAM=VALUE or DATASET.PARAM=VALUE; repeatable."),
    sweep: list[str] = typer.Option([], "--sweep", help="CODEC.PARAM=V1,V2,...: one setting per value; repeatable."),
    sweep_default: bool = typer.Option(False, "--sweep-default", help="Run every codec's declared default sweep."),
    config: str = typer.Option(None, "--config", help="YAML file describing the grid."),
    out: str = typer.Option(None, "--out", "-o", help="Run directory (default: runs/<timestamp>)."),
    resume: bool = typer.Option(False, "--resume", help="Continue a run in --out, skipping finished tasks."),
    seed: int = typer.Option(0, "--seed", help="Seed of the train/test split (and base seed of learned codecs)."),
    repeats: int = typer.Option(1, "--repeats", help="Measure learned codecs K times with different model seeds."),
    test_fraction: float = typer.Option(0.2, "--test-fraction", help="Held-out fraction for learned codecs."),
    measure_on: str = typer.Option("auto", "--measure-on", help="auto (test split for learned codecs) or test."),
    fit_on: str = typer.Option(None, "--fit-on", help="Fit learned codecs on this dataset, measure on the others."),
    device: str = typer.Option(None, "--device", help="auto, cpu or cuda for learned codecs."),
    refit: bool = typer.Option(False, "--refit", help="Retrain learned codecs instead of using the model cache."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run codecs on datasets; print a summary table and store records in OUT/records.jsonl."""
    from datetime import datetime

    from codecbench.runner import parse_assignments, parse_sweeps, run

    if out is None:
        out = f"runs/run-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    df = run(
        _split_list(codecs),
        _split_list(datasets),
        out=out,
        resume=resume,
        sets=parse_assignments(set_, "--set"),
        sweeps=parse_sweeps(sweep),
        sweep_default=sweep_default,
        config=config,
        seed=seed,
        repeats=repeats,
        test_fraction=test_fraction,
        measure_on=measure_on,
        fit_on=fit_on,
        device=device,
        refit=refit,
        show_progress=not quiet,
    )
    print_summary(df)
    console.print(f"records: {out}/records.jsonl", highlight=False)
    if not df.empty and (df["status"] != "ok").any():
        raise typer.Exit(EXIT_TASKS_FAILED)


@app.command("sweep")
@friendly
def sweep_cmd(
    codecs: str = typer.Option(None, "--codecs", "-c", help="Comma-separated codec ids."),
    datasets: str = typer.Option(None, "--datasets", "-d", help="Comma-separated dataset names."),
    out: str = typer.Option(None, "--out", "-o", help="Run directory."),
    resume: bool = typer.Option(False, "--resume"),
) -> None:
    """Shorthand for `run --sweep-default`: every codec's declared default sweep."""
    run_cmd(
        codecs=codecs, datasets=datasets, set_=[], sweep=[], sweep_default=True, config=None, out=out,
        resume=resume, seed=0, repeats=1, test_fraction=0.2, measure_on="auto", fit_on=None, device=None,
        refit=False, quiet=False,
    )  # fmt: skip


# --- datasets commands ---------------------------------------------------------------------------


# --- leaderboard, compare, plot, report ----------------------------------------------------------


# --- compress, decompress, inspect ---------------------------------------------------------------


# --- plugin author's kit -------------------------------------------------------------------------


def main() -> None:
    """Entry point of the ``codecbench`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
