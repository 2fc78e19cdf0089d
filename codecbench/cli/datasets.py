"""``codecbench list datasets`` and ``codecbench datasets list|info|fetch``: the registry from the command line."""

from __future__ import annotations

from typing import Any

import typer

from codecbench.cli.app import REGISTRY_HELP, console, err_console, friendly, human_bytes, print_frame
from codecbench.errors import CodecbenchError, ConfigError


def _dataset_params(items: list[str]) -> dict[str, Any]:
    """``["n_events=2000", "seed=3"]`` -> ``{"n_events": 2000, "seed": 3}`` (values parsed as JSON)."""
    from codecbench.runner.config import parse_value

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected PARAM=VALUE, e.g. n_events=2000")
        out[key.strip()] = parse_value(value)
    return out


def _print_dataset_list(registry: str | None) -> None:
    import pandas as pd

    from codecbench.data.catalog import list_datasets

    rows = list_datasets(registry)
    for r in rows:
        r["size"] = human_bytes(r["size_bytes"])
        r["available"] = "yes" if r["available"] else "no"
    cols = ["name", "kind", "source", "size", "license", "available", "description"]
    print_frame(pd.DataFrame(rows, columns=[*rows[0].keys()] if rows else cols), title="datasets", columns=cols)


@friendly
def list_datasets_cmd(registry: str = typer.Option(None, "--registry", help=REGISTRY_HELP)) -> None:
    """Every registered dataset: source (generated, file, url, derived), size, license, availability."""
    _print_dataset_list(registry)


@friendly
def datasets_list_cmd(registry: str = typer.Option(None, "--registry", help=REGISTRY_HELP)) -> None:
    """Every registered dataset (same as `codecbench list datasets`)."""
    _print_dataset_list(registry)


@friendly
def datasets_info_cmd(
    name: str = typer.Argument(..., help="Dataset name (see `codecbench list datasets`)."),
    set_: list[str] = typer.Option([], "--set", help="PARAM=VALUE overriding the entry's parameters; repeatable."),
    registry: str = typer.Option(None, "--registry", help=REGISTRY_HELP),
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


@friendly
def datasets_fetch_cmd(
    name: str = typer.Argument(None, help="Dataset name; or --all."),
    all_: bool = typer.Option(False, "--all", help="Fetch every dataset that has a file or a cached generator."),
    set_: list[str] = typer.Option([], "--set", help="PARAM=VALUE (e.g. n_events=2000 for Pythia); repeatable."),
    registry: str = typer.Option(None, "--registry", help=REGISTRY_HELP),
) -> None:
    """Download (or generate) a dataset's file into the cache, verify its checksum and load it."""
    from codecbench.data.load import load_dataset
    from codecbench.data.registry import get_registry
    from codecbench.errors import ConfigError

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
