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

app = typer.Typer(
    help="Benchmark compression codecs on scientific data.", no_args_is_help=True, add_completion=False
)
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
