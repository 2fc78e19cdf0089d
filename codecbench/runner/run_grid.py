"""A benchmark run: the grid built, finished tasks skipped, tasks sent to an executor, records stored.

``run`` is what ``codecbench.run`` and ``codecbench run`` call. It builds the grid (codec settings x
datasets x repeats, ``codecbench.runner.grid``) from arguments and an optional run-config file,
skips tasks already in ``OUT/records.jsonl`` when resuming, hands the rest to an executor
(``codecbench.runner.executors``, which runs ``codecbench.runner.targeted.run_task``), appends each
record to the store as it arrives, and returns this run's records as a DataFrame. With targets, it
first computes the limit rows (``codecbench.runner.limits``, stored in ``OUT/limits.jsonl`` and in
the DataFrame's ``attrs["limits"]``) and adds ``fraction_of_limit`` to each targeted record.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from codecbench.errors import ConfigError
from codecbench.runner.config import codecs_from_file, load_config_file
from codecbench.runner.environment import write_run_file
from codecbench.runner.executors import EXECUTORS, run_dask, run_processes, run_serial
from codecbench.runner.grid import DEFAULT_TEST_FRACTION, build_tasks
from codecbench.runner.limits import annotate, limit_rows
from codecbench.runner.progress import RunProgress
from codecbench.runner.store import RecordStore, iter_records, write_limits
from codecbench.runner.targeted import parent_task_id


def run(
    codecs: Sequence[str | dict[str, Any]] | None = None,
    datasets: Sequence[str] | None = None,
    *,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    sets: dict[str, dict[str, Any]] | None = None,
    sweeps: dict[str, dict[str, list[Any]]] | None = None,
    sweep_default: bool = False,
    config: str | os.PathLike[str] | None = None,
    seed: int = 0,
    repeats: int = 1,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    measure_on: str = "auto",
    fit_on: str | None = None,
    device: str | None = None,
    refit: bool = False,
    executor: str = "serial",
    workers: int = 2,
    timeout: float | None = None,
    scheduler: str | None = None,
    chunk_bytes: int | None = None,
    show_progress: bool = False,
    on_record: Callable[[dict[str, Any]], None] | None = None,
    targets: Sequence[Any] | None = None,
) -> Any:
    """Run the grid and return this run's records as a pandas DataFrame.

    ``codecs``: ids or config dicts (default: every built-in codec that is installed);
    ``datasets``: registry names (default: the embedded defaults); ``sets``/``sweeps``: parameter
    overrides as parsed from ``--set``/``--sweep``; ``config``: a YAML file describing the grid;
    ``out``: the run directory (records.jsonl + run.json); without it records are kept in memory only.
    ``executor``: "serial", "process" (``workers`` child processes, one per task) or "dask"
    (a LocalCluster of ``workers``, or ``scheduler``); ``timeout``: seconds after which a task is
    stopped and recorded as failed (serial runs then put each task in a child process);
    ``chunk_bytes``: hand the codec row blocks of at most this many bytes, each framed on its own
    (bounds the codec's working memory; the record gives ``chunk_bytes`` and ``n_chunks``).
    ``targets``: ``"metric=value"`` strings (or ``Target``s, ``{metric: value}`` dicts): each codec
    setting searches its knob for each target (``codecbench.runner.targeted``) instead of being
    measured once.
    """
    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    file_cfg: dict[str, Any] = load_config_file(config) if config else {}
    if file_cfg:
        if codecs is None and file_cfg.get("codecs"):
            file_sweeps: dict[str, dict[str, list[Any]]] = {}
            codecs = codecs_from_file(file_cfg, file_sweeps)
            for cid, sw in (sweeps or {}).items():
                file_sweeps.setdefault(cid, {}).update(sw)
            sweeps = file_sweeps
        datasets = datasets if datasets is not None else file_cfg.get("datasets")
        seed = file_cfg.get("seed", seed)
        repeats = file_cfg.get("repeats", repeats)
        test_fraction = file_cfg.get("test_fraction", test_fraction)
        measure_on = file_cfg.get("measure_on", measure_on)
        fit_on = file_cfg.get("fit_on", fit_on)
        device = file_cfg.get("device", device)
        sweep_default = sweep_default or bool(file_cfg.get("sweep_default", False))
        targets = targets if targets else file_cfg.get("targets")
    if measure_on not in ("auto", "test"):
        raise ConfigError(f"measure_on must be 'auto' or 'test', not {measure_on!r}")
    tasks = build_tasks(
        codecs,
        datasets,
        sets=sets,
        sweeps=sweeps,
        sweep_default=sweep_default,
        seed=seed,
        repeats=repeats,
        test_fraction=test_fraction,
        measure_on=measure_on,
        fit_on=fit_on,
        device=device,
        refit=refit,
        dataset_params=file_cfg.get("dataset_params"),
        chunk_bytes=chunk_bytes,
        targets=targets,
    )
    store = RecordStore(out, resume=resume) if out is not None else None
    limits = limit_rows(tasks)
    if store is not None and limits:
        write_limits(out, limits, merge=resume)  # type: ignore[arg-type]
    if store is not None:
        write_run_file(
            out,  # type: ignore[arg-type]
            {
                "seed": seed,
                "repeats": repeats,
                "test_fraction": test_fraction,
                "n_tasks": len(tasks),
                "resumed": resume,
                "tasks": [asdict(t) | {"task_id": t.task_id} for t in tasks],
            },
        )
    todo = [t for t in tasks if store is None or t.task_id not in store.done]
    records: list[dict[str, Any]] = []
    with RunProgress(show_progress, len(todo)) as bar:
        if executor == "dask":
            stream = run_dask(todo, workers, timeout, scheduler)
        elif executor == "process" or timeout is not None:
            stream = run_processes(todo, workers if executor == "process" else 1, timeout)
        else:
            stream = run_serial(todo, progress=bar.epoch, on_start=bar.start_task)
        for rec in stream:
            annotate(rec, limits)
            if store is not None:
                store.append(rec)
            records.append(rec)
            if on_record:
                on_record(rec)
            bar.advance(rec)
    if store is not None:
        ids = {t.task_id for t in tasks}
        records = [r for r in iter_records(store.path) if parent_task_id(r["task_id"]) in ids]
    import pandas as pd  # imported only now: it adds ~60 MB to the process while tasks run

    df = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    df.attrs["limits"] = limits
    return df
