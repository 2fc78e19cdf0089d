"""npz and npy files in and out (``allow_pickle=False`` always).

Conventions (read and written): an array ``K`` may come with ``K_columns`` (string array of column
names), ``K_event_index`` (event number of every row), ``K_n_events`` (number of events, so trailing
empty events survive) and ``K_units`` (JSON). The registry's npz layout (``data``, ``columns``,
``event_index``) is recognised as well.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from codecbench.archive.items import ArrayItem, counts_from_index, file_meta, kind_for, parse_units
from codecbench.data.loaders import load_npy, load_npz
from codecbench.data.names import missing_key
from codecbench.errors import ConfigError, DatasetError


def _npz_companions(files: list[str], key: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(columns, event_index, n_events, units) companion keys of array ``key`` in an npz file."""

    def pick(*cands: str) -> str | None:
        return next((c for c in cands if c in files), None)

    reg = key == "data"  # the registry's layout: data, columns, event_index
    return (
        pick(f"{key}_columns", *(["columns"] if reg else [])),
        pick(f"{key}_event_index", *(["event_index"] if reg else [])),
        pick(f"{key}_n_events", *(["n_events"] if reg else [])),
        pick(f"{key}_units", *(["units"] if reg else [])),
    )


def read_npz(path: Path, key: str | None, kind: str) -> list[ArrayItem]:
    """Every numeric array of the file (companions excepted), or only ``key``."""
    try:
        with np.load(path, allow_pickle=False) as z:
            files = list(z.files)
            if key is not None:
                if key not in files:
                    raise missing_key("array", key, files, path)
                keys = [key]
            else:
                comp = {c for k in files for c in _npz_companions(files, k) if c}
                keys = [k for k in files if k not in comp and z[k].dtype.kind in "fiub" and z[k].size > 0]
                if not keys:
                    raise DatasetError(f"{path.name}: holds no non-empty numeric array (arrays: {', '.join(files)})")
            units_raw = {}
            n_events = {}
            for k in keys:
                _, _, nk, uk = _npz_companions(files, k)
                if nk:
                    n_events[k] = int(z[nk])
                if uk:
                    units_raw[k] = str(z[uk])
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path.name}: not a readable npz file without pickle ({exc})") from None
    meta = file_meta(path, "npz")
    items = []
    for k in keys:
        ck, ek, _, _ = _npz_companions(files, k)
        data, columns, extra = load_npz(path, {"key": k, "columns_key": ck, "event_index_key": ek})
        if data.dtype.kind not in "fiub":
            raise DatasetError(f"{path.name}: array {k!r} holds {data.dtype}, not numbers")
        kd = kind_for(data, columns, kind)
        if columns is not None and (kd != "table" or len(columns) != data.shape[1]):
            columns = None
        if kd == "table" and columns is None:
            columns = [f"x{i}" for i in range(data.shape[1])]
        counts = None
        if "event_index" in extra:
            if len(extra["event_index"]) != data.shape[0]:
                raise DatasetError(
                    f"{path.name}: {ek!r} has {len(extra['event_index'])} entries, array {k!r} {data.shape[0]} rows"
                )
            counts = counts_from_index(extra["event_index"], n_events.get(k))
        units = parse_units(units_raw.get(k))
        items.append(
            ArrayItem(k, np.ascontiguousarray(data), kd, columns, units, {**meta, "key": k}, event_counts=counts)
        )
    return items


def read_npy(path: Path, kind: str) -> list[ArrayItem]:
    """The file's one array."""

    data, _, _ = load_npy(path, {})
    if data.dtype.kind not in "fiub":
        raise DatasetError(f"{path.name}: holds {data.dtype}, not numbers")
    kd = kind_for(data, None, kind)
    columns = [f"x{i}" for i in range(data.shape[1])] if kd == "table" else None
    return [ArrayItem(path.stem, np.ascontiguousarray(data), kd, columns, {}, file_meta(path, "npy"))]


def write_npz(path: Path, items: list[ArrayItem]) -> None:
    """Write items with their companion arrays (through a temporary file and a rename)."""
    arrays: dict[str, np.ndarray] = {}

    def put(key: str, value: np.ndarray) -> None:
        if key in arrays:
            raise ConfigError(f"npz output: the key {key!r} would be written twice; rename the arrays")
        arrays[key] = value

    for it in items:
        put(it.name, it.data)
        if it.columns:
            put(f"{it.name}_columns", np.array(it.columns, dtype=str))
        if it.units:
            put(f"{it.name}_units", np.array(json.dumps(it.units)))
        if it.event_counts is not None:
            put(f"{it.name}_event_index", it.event_index)  # type: ignore[arg-type]
            put(f"{it.name}_n_events", np.array(len(it.event_counts), dtype=np.int64))
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)  # type: ignore[arg-type]
    tmp.replace(path)
