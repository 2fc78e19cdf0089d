"""The typer app and what every command module shares: the consoles, error handling, table printing.

Every expected failure is a ``CodecbenchError``; ``friendly`` prints it as one line and exits with 1.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from codecbench.errors import CodecbenchError

app = typer.Typer(help="Benchmark compression codecs on scientific data.", no_args_is_help=True, add_completion=False)
list_app = typer.Typer(help="List installed codecs or registered datasets.", no_args_is_help=True)
datasets_app = typer.Typer(help="Inspect and fetch registered datasets.", no_args_is_help=True)
app.add_typer(list_app, name="list")
app.add_typer(datasets_app, name="datasets")

# Wide enough for the summary table when output is not a terminal (CI logs, pipes).
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


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


def print_frame(
    df: Any, title: str | None = None, columns: list[str] | None = None, headers: dict[str, str] | None = None
) -> None:
    """Print a DataFrame as a rich table (``headers`` renames columns for display)."""
    cols = columns or list(df.columns)
    headers = headers or {}
    table = Table(title=title)
    for c in cols:
        table.add_column(headers.get(str(c), str(c)), overflow="fold")
    for _, row in df.iterrows():
        table.add_row(*[Text(fmt_cell(row.get(c))) for c in cols])  # Text: "[fast]" in a cell is not markup
    console.print(table)


def fmt_cell(v: Any) -> str:
    """One value as a table cell: 4 significant digits, ``-`` for None and NaN."""
    if isinstance(v, float):
        if v != v:
            return "-"
        if v == 0 or 1e-3 <= abs(v) < 1e6:
            return f"{v:.4g}"
        return f"{v:.3e}"
    return "-" if v is None else str(v)


def split_list(value: str | None) -> list[str] | None:
    """Split a comma-separated option, keeping commas inside JSON objects/lists (codec specs) intact."""
    if not value:
        return None
    items, depth, current = [], 0, []
    for ch in value:
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        if ch == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return [v.strip() for v in items if v.strip()]


#: Help text of every ``--registry`` option.
REGISTRY_HELP = "User registry YAML that adds or overrides entries (default: $CODECBENCH_REGISTRY)."


def human_bytes(n: Any) -> str:
    """A byte count as ``12.3 kB`` (powers of 1000)."""
    if n is None or n != n:
        return "-"
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)  # pragma: no cover


def emit(text: str, output: str | None) -> None:
    """Write ``text`` to ``output``, or print it unchanged (no markup) when there is none."""
    if output is None:
        typer.echo(text, nl=False)
        return
    from pathlib import Path

    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    err_console.print(f"wrote {output}", highlight=False)
