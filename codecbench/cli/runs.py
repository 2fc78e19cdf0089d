"""``codecbench run`` and ``codecbench sweep``: run the grid, print the summary, exit 3 if a task failed.

With ``--target``, the summary lists each search's answer (or its closest setting when no setting
meets the target) and the limit of each dataset and target; the probes are in the records.
"""

from __future__ import annotations

from typing import Any

import typer

from codecbench.cli.app import console, err_console, friendly, print_frame, split_list

SUMMARY_COLUMNS = [
    "codec", "setting", "dataset", "status", "ratio", "effective_ratio", "worst_rel_rms",
    "encode_mbps", "decode_mbps",
]  # fmt: skip


#: Exit status of `codecbench run` when it completed but some tasks failed.
EXIT_TASKS_FAILED = 3


TARGET_COLUMNS = [
    "codec", "dataset", "target", "result", "setting", "effective_ratio", "worst_rel_rms", "max_abs_error",
    "fraction_of_limit", "probes",
]  # fmt: skip


def print_target_summary(df: Any) -> None:
    """Per search: the chosen setting (or the closest), its ratio and error, and the limit of its target."""
    finals = df[[isinstance(s, dict) and s.get("role") != "probe" for s in df["search"]]].copy()
    finals["target"] = [f"{s['target']['metric']}={s['target']['value']:g}" for s in finals["search"]]
    finals["result"] = [
        ("met" if s["role"] == "target" else "unmet") + (" (no knob)" if s["knob"] is None else "")
        for s in finals["search"]
    ]
    finals["probes"] = [s["probes"] for s in finals["search"]]
    headers = {"effective_ratio": "eff. ratio", "worst_rel_rms": "worst rel RMS", "max_abs_error": "max abs error",
               "fraction_of_limit": "of limit"}  # fmt: skip
    print_frame(
        finals, title="codecbench run: targets", columns=[c for c in TARGET_COLUMNS if c in finals], headers=headers
    )
    for lim in df.attrs.get("limits", []):
        target = f"{lim['target']['metric']}={lim['target']['value']:g}"
        what = f"ratio {lim['ratio']:.4g}" if lim.get("status") == "ok" else f"not computed: {lim.get('error')}"
        console.print(
            f"limit (memoryless) on {lim['dataset']} ({lim['split']} rows) at {target}: {what}", highlight=False
        )


def print_summary(df: Any) -> None:
    """The table printed at the end of a run; failed tasks listed below it with their errors."""
    if df.empty:
        console.print("no tasks ran")
        return
    if "search" in df.columns and df["search"].map(lambda s: isinstance(s, dict)).any():
        print_target_summary(df)
        _print_failures(df)
        return
    cols = [c for c in SUMMARY_COLUMNS if c in df.columns]
    headers = {"effective_ratio": "eff. ratio", "worst_rel_rms": "worst rel RMS", "encode_mbps": "enc MB/s",
               "decode_mbps": "dec MB/s"}  # fmt: skip
    print_frame(df, title="codecbench run", columns=cols, headers=headers)
    _print_failures(df)


def _print_failures(df: Any) -> None:
    failed = df[df["status"] != "ok"]
    for _, row in failed.iterrows():
        err_console.print(
            f"[red]failed[/]: {row['codec']} on {row['dataset']} ({row.get('stage')}): {row['error']}",
            highlight=False,
            soft_wrap=True,
        )


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
    measure_on: str = typer.Option(
        "auto", "--measure-on", help="auto (test split for learned codecs, and for all when the grid has one) or test."
    ),
    fit_on: str = typer.Option(None, "--fit-on", help="Fit learned codecs on this dataset, measure on the others."),
    device: str = typer.Option(None, "--device", help="auto, cpu or cuda for learned codecs."),
    refit: bool = typer.Option(False, "--refit", help="Retrain learned codecs instead of using the model cache."),
    executor: str = typer.Option("serial", "--executor", help="serial, process or dask."),
    workers: int = typer.Option(2, "--workers", help="Worker processes for the process and dask executors."),
    timeout: float = typer.Option(None, "--timeout", help="Stop a task after this many seconds (failed record)."),
    scheduler: str = typer.Option(None, "--scheduler", help="Address of an existing Dask scheduler."),
    chunk_bytes: int = typer.Option(None, "--chunk-bytes", help="Feed codecs row blocks of at most this size."),
    target: list[str] = typer.Option(
        [], "--target", help="METRIC=VALUE (repeatable): search each codec's knob for the best setting meeting it."
    ),
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
            split_list(codecs),
            split_list(datasets),
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
            targets=target or None,
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
        refit=False, executor="serial", workers=2, timeout=None, scheduler=None, chunk_bytes=None, target=[],
        quiet=False,
    )  # fmt: skip
