"""What the registry offers: one summary row per dataset, and the full facts about one.

``list_datasets`` says where each entry comes from and whether it loads without a download;
``dataset_info`` loads one and adds its shape, units and data-quality facts
(``codecbench.data.quality``). These are what ``codecbench list datasets`` and
``codecbench datasets info`` print.
"""

from __future__ import annotations

import os
from typing import Any

from codecbench.data.files import locate_file
from codecbench.data.load import load_dataset
from codecbench.data.registry import get_entry, get_registry


def _source(entry: dict[str, Any]) -> str:
    if "generator" in entry:
        return "generated"
    if "derive" in entry:
        return "derived"
    return "url" if entry.get("url") else "file"


def _available(entry: dict[str, Any], reg: dict[str, dict[str, Any]]) -> bool:
    if "generator" in entry:
        if entry["generator"] == "pythia":
            from codecbench.data import pythia

            return pythia.available()
        return True
    if "derive" in entry:
        base = reg.get(entry["derive"]["from"])
        return base is not None and _available(base, reg)
    return locate_file(entry["file"]) is not None


def list_datasets(registry: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """One summary per registered dataset: name, kind, source ("generated", "file", "url" or
    "derived"), file, size_bytes, license, description, available (loadable without a download)."""
    reg = get_registry(registry)
    rows = []
    for name, e in reg.items():
        rows.append(
            {
                "name": name,
                "kind": e["kind"],
                "source": _source(e),
                "file": e.get("file") or (f"derived from {e['derive']['from']}" if "derive" in e else None),
                "size_bytes": e.get("size_bytes"),
                "license": e.get("license", ""),
                "description": e.get("description", ""),
                "available": _available(e, reg),
            }
        )
    return rows


def dataset_info(name: str, registry: str | os.PathLike[str] | None = None, **params: Any) -> dict[str, Any]:
    """The registry entry plus what loading tells: shape, dtype, columns, units and quality facts."""
    from codecbench.data.quality import quality_facts

    entry = get_entry(name, registry)
    ds = load_dataset(name, registry, **params)
    meta = {k: v for k, v in ds.meta.items() if k != "event_index"}
    info = {
        "name": name,
        "entry": entry,
        "source": _source(entry),
        "kind": ds.kind,
        "shape": list(ds.data.shape),
        "dtype": str(ds.data.dtype),
        "columns": ds.columns,
        "n_values": ds.n_values,
        "meta": meta,
        "quality": quality_facts(ds),
    }
    if "event_index" in ds.meta:
        ev = ds.meta["event_index"]
        info["n_events"] = int(ds.meta.get("n_events") or (int(ev.max()) + 1 if len(ev) else 0))
    return info
