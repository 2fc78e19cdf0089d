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
        table.add_row(*[Text(_fmt(row.get(c))) for c in cols])  # Text: "[fast]" in a cell is not markup
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
def list_codecs_cmd(
    all_: bool = typer.Option(False, "--all", help="Also list numcodecs' codecs (run them as numcodecs:<id>)."),
) -> None:
    """Every codec registered under the `codecbench.codecs` entry point, with its status."""
    import pandas as pd

    from codecbench.plugins import list_codecs

    infos = list_codecs()
    if all_:
        from codecbench.interop.numcodecs import list_numcodecs

        infos += list_numcodecs()
    rows = [
        {
            "id": i.codec_id,
            "lossless": "-" if i.lossless is None else ("yes" if i.lossless else "no"),
            "learned": "-" if i.learned is None else ("yes" if i.learned else "no"),
            "package": f"{i.distribution} {i.version}",
            "status": i.status,
            "error": i.error or "",
        }
        for i in infos
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


def print_summary(df: Any) -> None:
    """The table printed at the end of a run; failed tasks listed below it with their errors."""
    if df.empty:
        console.print("no tasks ran")
        return
    cols = [c for c in SUMMARY_COLUMNS if c in df.columns]
    headers = {"effective_ratio": "eff. ratio", "worst_rel_rms": "worst rel RMS", "encode_mbps": "enc MB/s",
               "decode_mbps": "dec MB/s"}  # fmt: skip
    print_frame(df, title="codecbench run", columns=cols, headers=headers)
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
    executor: str = typer.Option("serial", "--executor", help="serial, process or dask."),
    workers: int = typer.Option(2, "--workers", help="Worker processes for the process and dask executors."),
    timeout: float = typer.Option(None, "--timeout", help="Stop a task after this many seconds (failed record)."),
    scheduler: str = typer.Option(None, "--scheduler", help="Address of an existing Dask scheduler."),
    chunk_bytes: int = typer.Option(None, "--chunk-bytes", help="Feed codecs row blocks of at most this size."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Run codecs on datasets; print a summary table and store records in OUT/records.jsonl."""
    from datetime import datetime

    from codecbench.runner.config import parse_assignments, parse_sweeps
    from codecbench.runner.run_grid import run

    if out is None:
        out = f"runs/run-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    try:
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
            executor=executor,
            workers=workers,
            timeout=timeout,
            scheduler=scheduler,
            chunk_bytes=chunk_bytes,
            show_progress=not quiet,
        )
    except KeyboardInterrupt:  # Ctrl-C: every finished record is already on disk
        err_console.print(
            f"interrupted: finished tasks are kept in {out}/records.jsonl; "
            "run the same command with --resume to continue",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
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
        refit=False, executor="serial", workers=2, timeout=None, scheduler=None, chunk_bytes=None, quiet=False,
    )  # fmt: skip


# --- datasets commands ---------------------------------------------------------------------------

_REGISTRY_HELP = "User registry YAML that adds or overrides entries (default: $CODECBENCH_REGISTRY)."


def _dataset_params(items: list[str]) -> dict[str, Any]:
    """``["n_events=2000", "seed=3"]`` -> ``{"n_events": 2000, "seed": 3}`` (values parsed as JSON)."""
    from codecbench.errors import ConfigError
    from codecbench.runner.config import parse_value

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected PARAM=VALUE, e.g. n_events=2000")
        out[key.strip()] = parse_value(value)
    return out


def _human_bytes(n: Any) -> str:
    if n is None or n != n:
        return "-"
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)  # pragma: no cover


def _print_dataset_list(registry: str | None) -> None:
    import pandas as pd

    from codecbench.data.catalog import list_datasets

    rows = list_datasets(registry)
    for r in rows:
        r["size"] = _human_bytes(r["size_bytes"])
        r["available"] = "yes" if r["available"] else "no"
    cols = ["name", "kind", "source", "size", "license", "available", "description"]
    print_frame(pd.DataFrame(rows, columns=[*rows[0].keys()] if rows else cols), title="datasets", columns=cols)


@list_app.command("datasets")
@friendly
def list_datasets_cmd(registry: str = typer.Option(None, "--registry", help=_REGISTRY_HELP)) -> None:
    """Every registered dataset: source (generated, file, url, derived), size, license, availability."""
    _print_dataset_list(registry)


@datasets_app.command("list")
@friendly
def datasets_list_cmd(registry: str = typer.Option(None, "--registry", help=_REGISTRY_HELP)) -> None:
    """Every registered dataset (same as `codecbench list datasets`)."""
    _print_dataset_list(registry)


@datasets_app.command("info")
@friendly
def datasets_info_cmd(
    name: str = typer.Argument(..., help="Dataset name (see `codecbench list datasets`)."),
    set_: list[str] = typer.Option([], "--set", help="PARAM=VALUE overriding the entry's parameters; repeatable."),
    registry: str = typer.Option(None, "--registry", help=_REGISTRY_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the whole info as JSON."),
) -> None:
    """Load a dataset and show its entry, shape, units and data-quality facts per float column."""
    import json

    import pandas as pd

    from codecbench.data.catalog import dataset_info

    info = dataset_info(name, registry, **_dataset_params(set_))
    if as_json:
        from codecbench.runner.store import json_default

        console.print_json(json.dumps(info, default=json_default))
        return
    meta, entry = info["meta"], info["entry"]
    lines = [
        f"[bold]{name}[/]: {entry.get('description', '')}",
        f"kind {info['kind']}, shape {tuple(info['shape'])}, {info['dtype']}, source {info['source']}"
        + (f" ({meta.get('source')})" if meta.get("source") not in (None, "generated") else ""),
        f"license: {entry.get('license') or '-'}",
    ]
    if meta.get("url"):
        lines.append(f"url: {meta['url']}")
    if meta.get("sha256"):
        lines.append(f"sha256: {meta['sha256']} (verified)")
    if meta.get("path"):
        lines.append(f"file: {meta['path']}")
    if meta.get("params"):
        lines.append("params: " + ", ".join(f"{k}={v!r}" for k, v in meta["params"].items()))
    if info.get("n_events"):
        lines.append(f"events: {info['n_events']} (one row per object; event index in meta)")
    if meta.get("heavy_tailed"):
        lines.append("heavy-tailed: " + ", ".join(meta["heavy_tailed"]))
    if meta.get("notes"):
        lines.append(f"notes: {meta['notes']}")
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
    units = meta.get("units", {})
    rows = [
        {
            "column": col,
            "unit": units.get(col, ""),
            "mantissa bits used": f"{f.get('mantissa_bits_used', '-')}/{f.get('mantissa_bits', '-')}",
            "median bits": f.get("mantissa_bits_p50"),
            "zeros": f"{100 * f['zero_fraction']:.1f}%",
            "distinct": f["distinct_values"],
            "NaN": f["nan_count"],
            "Inf": f["inf_count"],
            "float32-exact": {True: "yes", False: "no", None: "-"}[f.get("float32_representable")],
        }
        for col, f in info["quality"]["columns"].items()
    ]
    if rows:
        print_frame(pd.DataFrame(rows), title="data quality")


@datasets_app.command("fetch")
@friendly
def datasets_fetch_cmd(
    name: str = typer.Argument(None, help="Dataset name; or --all."),
    all_: bool = typer.Option(False, "--all", help="Fetch every dataset that has a file or a cached generator."),
    set_: list[str] = typer.Option([], "--set", help="PARAM=VALUE (e.g. n_events=2000 for Pythia); repeatable."),
    registry: str = typer.Option(None, "--registry", help=_REGISTRY_HELP),
) -> None:
    """Download (or generate) a dataset's file into the cache, verify its checksum and load it."""
    from codecbench.data.load import load_dataset
    from codecbench.data.registry import get_registry
    from codecbench.errors import CodecbenchError, ConfigError

    if bool(name) == all_:
        raise ConfigError("give one dataset name or --all")
    params = _dataset_params(set_)
    reg = get_registry(registry)
    names = [n for n, e in reg.items() if "generator" not in e or e["generator"] == "pythia"] if all_ else [name]
    failures = 0
    for n in names:
        try:
            ds = load_dataset(n, registry, **params)
        except CodecbenchError as exc:
            if not all_:
                raise
            failures += 1
            err_console.print(f"[red]failed[/] {n}: {exc}", highlight=False, soft_wrap=True)
            continue
        where = ds.meta.get("path") or "generated in-process (nothing to fetch)"
        sha = f", sha256 {ds.meta['sha256'][:16]}..." if ds.meta.get("sha256") else ""
        console.print(f"[green]ok[/] {n}: shape {tuple(ds.data.shape)}, {where}{sha}", highlight=False, soft_wrap=True)
    if failures:
        raise typer.Exit(1)


# --- leaderboard, compare, plot, report ----------------------------------------------------------


def _emit(text: str, output: str | None) -> None:
    """Write ``text`` to ``output``, or print it unchanged (no markup) when there is none."""
    if output is None:
        typer.echo(text, nl=False)
        return
    from pathlib import Path

    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    err_console.print(f"wrote {output}", highlight=False)


@app.command("leaderboard")
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
    _emit(render_leaderboard(frame, fmt, budgets=budget or None, bd_reference=bd_reference), output)


@app.command("compare")
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
    _emit(render_comparison(result, fmt, changed_only=changed_only), output)
    if fail_on_regression and result.counts["regressions"]:
        err_console.print(f"{result.counts['regressions']} regression(s)", highlight=False)
        raise typer.Exit(1)


@app.command("plot")
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


@app.command("report")
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


# --- compress, decompress, inspect ---------------------------------------------------------------


def _print_archive(archive: Any, as_json: bool = False) -> None:
    """What `inspect` (and `compress` at its end) shows: per entry sizes, ratios and stored errors."""
    import json

    import pandas as pd

    rows = archive.summary()
    totals = archive.totals()
    if as_json:
        out = {
            "archive": str(archive.path),
            "format_version": archive.manifest["format_version"],
            "codecbench_version": archive.manifest.get("codecbench_version"),
            "source": archive.manifest.get("source"),
            "totals": totals,
            "entries": [
                {**r, "variables": e["errors"]["variables"], "bound": e.get("bound")}
                for r, e in zip(rows, archive.entries)
            ],
        }
        console.print_json(json.dumps(out, default=str))
        return
    src = archive.manifest.get("source") or {}
    console.print(
        f"[bold]{archive.path.name}[/]: codecbench archive v{archive.manifest['format_version']} "
        f"(codecbench {archive.manifest.get('codecbench_version', '?')}), input {src.get('input')}",
        highlight=False,
        soft_wrap=True,
    )
    for r in rows:
        r["shape"] = "x".join(map(str, r["shape"]))
        r["payload"] = _human_bytes(r["payload_bytes"])
        r["state"] = _human_bytes(r["state_bytes"])
        r["total"] = _human_bytes(r["total_bytes"])
        r["raw"] = _human_bytes(r["raw_bytes"])
        r["fit_on"] = r["fit_on"] or "-"
    cols = ["name", "codec", "shape", "raw", "payload", "state", "total", "ratio", "effective_ratio", "fit_on"]
    headers = {"effective_ratio": "eff. ratio", "fit_on": "fitted on"}
    print_frame(pd.DataFrame(rows), title="entries", columns=cols, headers=headers)
    for r, e in zip(rows, archive.entries):
        console.print(f"codec config of {r['name']}: {json.dumps(e['codec'])}", highlight=False, soft_wrap=True)
        var_rows = [
            {"variable": v, "unit": (e.get("units") or {}).get(v, ""), **stats}
            for v, stats in e["errors"]["variables"].items()
        ]
        vcols = ["variable", "unit", "residual_rms", "rel_rms", "response_rms", "max_abs_error", "abs_error_p99"]
        print_frame(pd.DataFrame(var_rows), title=f"errors measured at compression: {r['name']}", columns=vcols)
        line = (
            f"max abs error {_fmt(r['max_abs_error'])}, worst rel RMS {_fmt(r['worst_rel_rms'])}, "
            f"NRMSE {_fmt(r['nrmse'])}, PSNR {_fmt(r['psnr'])} dB"
        )
        if e.get("bound"):
            b = e["bound"]
            line += f"; declared {b['bound_mode']} bound: {b['bound_violations']} violations of {b['bound_checked']}"
        console.print(line, highlight=False, soft_wrap=True)
    console.print(
        f"total: raw {_human_bytes(totals['raw_bytes'])}, payload {_human_bytes(totals['payload_bytes'])} + "
        f"state {_human_bytes(totals['state_bytes'])} = {_human_bytes(totals['total_bytes'])} "
        f"(ratio {_fmt(totals['ratio'])}, effective ratio {_fmt(totals['effective_ratio'])}); "
        f"archive file {_human_bytes(totals['file_bytes'])} with its manifest",
        highlight=False,
        soft_wrap=True,
    )


def _branch_groups(values: list[str]) -> list[list[str]] | None:
    groups = [g for g in (_split_list(v) for v in values) if g]
    return groups or None


@app.command("compress")
@friendly
def compress_cmd(
    input_: str = typer.Argument(..., metavar="INPUT", help="npz/npy, ROOT or HDF5 file, or a registered dataset."),
    out: str = typer.Option(..., "--out", "-o", help="Archive to write (e.g. out.cbz)."),
    codec: str = typer.Option(..., "--codec", "-c", help='Codec spec: "zstd" or \'{"id": "trunc", "bits": 10}\'.'),
    columns: str = typer.Option(None, "--columns", help="Comma-separated columns (or patterns) of a table to keep."),
    tree: str = typer.Option(None, "--tree", help="ROOT tree (default: the file's only tree)."),
    branches: list[str] = typer.Option(
        [], "--branches", "-b", help="ROOT branches (comma-separated, patterns allowed); repeat for more groups."
    ),
    key: str = typer.Option(None, "--key", "-k", help="Array in an npz file / dataset in an HDF5 file."),
    kind: str = typer.Option("auto", "--kind", help="auto (2-D arrays are tables), table or field."),
    fit_on: str = typer.Option(
        None, "--fit-on", help="File or dataset to fit a learned codec on (default: the input itself)."
    ),
    registry: str = typer.Option(None, "--registry", help=_REGISTRY_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the archive's path."),
) -> None:
    """Compress a file or dataset into a self-contained archive (payload, codec config, decoder state, errors)."""
    from codecbench.archive import compress_input

    progress = None
    if not quiet:

        def progress(epoch: int, n_epochs: int, **metrics: float) -> None:
            extra = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
            err_console.print(f"fit: epoch {epoch}/{n_epochs} {extra}", highlight=False)

    archive = compress_input(
        input_,
        out,
        codec,
        key=key,
        tree=tree,
        branches=_branch_groups(branches),
        columns=_split_list(columns),
        kind=kind,
        fit_on=fit_on,
        registry=registry,
        progress=progress,
    )
    if quiet:
        console.print(str(archive.path), highlight=False, soft_wrap=True)
    else:
        _print_archive(archive)


@app.command("decompress")
@friendly
def decompress_cmd(
    archive: str = typer.Argument(..., help="Archive written by `codecbench compress`."),
    out: str = typer.Option(..., "--out", "-o", help="Output file: .npz, .root or .h5."),
    fmt: str = typer.Option(None, "--format", help="npz, root or hdf5 (default: from the output's suffix)."),
    device: str = typer.Option(None, "--device", help="cpu or cuda for a learned codec's decoder."),
) -> None:
    """Decode an archive in a fresh process and write the reconstructed arrays."""
    from codecbench.archive import decompress_archive

    items = decompress_archive(archive, out, fmt=fmt, device=device)
    for it in items:
        ev = f", {len(it.event_counts)} events" if it.event_counts is not None else ""
        console.print(f"{it.name}: shape {tuple(it.data.shape)} {it.data.dtype}{ev}", highlight=False)
    console.print(f"wrote {out}", highlight=False, soft_wrap=True)


@app.command("inspect")
@friendly
def inspect_cmd(
    archive: str = typer.Argument(..., help="Archive written by `codecbench compress`."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Codec, sizes (payload, state, total), ratios and the error summary stored in an archive."""
    from codecbench.archive import open_archive

    _print_archive(open_archive(archive), as_json)


# --- plugin author's kit -------------------------------------------------------------------------

#: Names in the plugin template (examples/third-party-codec) that ``new-plugin`` replaces.
TEMPLATE_CODEC_ID = "xordelta"
TEMPLATE_CLASS_STEM = "XorDelta"
_PLUGIN_NAME_RE = r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*"
_TEMPLATE_SKIP = {"__pycache__", ".pytest_cache", ".ruff_cache", "build", "dist", ".venv"}


def plugin_template_dir() -> Any:
    """The plugin template: ``codecbench/_plugin_template`` in a wheel, ``examples/third-party-codec`` in a checkout."""
    from pathlib import Path

    import codecbench

    package = Path(codecbench.__file__).resolve().parent
    for candidate in (package / "_plugin_template", package.parent / "examples" / "third-party-codec"):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    from codecbench.errors import ConfigError

    raise ConfigError(
        "the plugin template is not installed with this codecbench; copy examples/third-party-codec from "
        "codecbench's source repository instead"
    )


def create_plugin(name: str, dest: Any = None) -> Any:
    """Copy the plugin template into ``dest`` (default ``./NAME``) with its names replaced by ``name``.

    The codec id becomes ``name``, the import package ``codecbench_<name>`` (``-`` as ``_``), the
    distribution ``codecbench-<name>`` and the class ``<Name>Codec``. Returns the new directory.
    Raises ``ConfigError`` for a name that is not a valid id, a codec id already installed, or a
    destination that exists and is not empty.
    """
    import re
    from pathlib import Path

    from codecbench.errors import ConfigError
    from codecbench.plugins import available

    if not re.fullmatch(_PLUGIN_NAME_RE, name) or len(name) > 40:
        raise ConfigError(
            f"plugin name {name!r} is not valid: use lower-case letters and digits, optionally joined by '-' "
            f"or '_', starting with a letter (for example 'mycodec' or 'delta-zstd')"
        )
    if name in available():
        raise ConfigError(f"a codec named {name!r} is already installed; choose another name")
    target = Path(dest) if dest is not None else Path.cwd() / name
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"{target} already exists and is not empty; choose another --dest")
    py_name = name.replace("-", "_")
    camel = "".join(part.capitalize() for part in re.split(r"[-_]", name))
    text_swaps = [
        (f"codecbench_{TEMPLATE_CODEC_ID}", f"codecbench_{py_name}"),
        (f"codecbench-{TEMPLATE_CODEC_ID}", f"codecbench-{name.replace('_', '-')}"),
        (TEMPLATE_CLASS_STEM, camel),
        (TEMPLATE_CODEC_ID, name),
    ]
    path_swaps = [(f"codecbench_{TEMPLATE_CODEC_ID}", f"codecbench_{py_name}"), (TEMPLATE_CODEC_ID, py_name)]

    def swap(text: str, swaps: list[tuple[str, str]]) -> str:
        for old, new in swaps:
            text = text.replace(old, new)
        return text

    template = plugin_template_dir()
    for src in sorted(template.rglob("*")):
        rel = src.relative_to(template)
        if any(part in _TEMPLATE_SKIP or part.endswith(".egg-info") for part in rel.parts) or src.suffix == ".pyc":
            continue
        out = target / swap(str(rel), path_swaps)
        if src.is_dir():
            out.mkdir(parents=True, exist_ok=True)
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(swap(src.read_text(encoding="utf-8"), text_swaps), encoding="utf-8")
    return target


@app.command("new-plugin")
@friendly
def new_plugin_cmd(
    name: str = typer.Argument(..., help="Codec id of the new plugin, e.g. mycodec."),
    dest: str = typer.Option(None, "--dest", help="Directory to create (default: ./NAME)."),
) -> None:
    """Start a codec plugin: a copy of the template distribution with its names replaced by NAME."""
    target = create_plugin(name, dest)
    py_name = name.replace("-", "_")
    console.print(
        f"created {target}: codec id {name!r}, package codecbench_{py_name}, distribution "
        f"codecbench-{name.replace('_', '-')}\n"
        f"next:\n"
        f"  edit {target}/src/codecbench_{py_name}/codec.py (encode, decode; see docs/plugins.md)\n"
        f"  pip install -e {target}\n"
        f"  codecbench list codecs\n"
        f"  pytest {target}",
        highlight=False,
        markup=False,
    )


def main() -> None:
    """Entry point of the ``codecbench`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
