"""HDF5 files in and out (h5py, ``pip install 'codecbench[hdf5]'``).

Conventions: a dataset ``K`` with the attributes ``columns`` and ``units`` (JSON) and ``n_events``,
plus a dataset ``K_event_index`` for rows that came from jagged per-event input.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from codecbench.archive.items import (
    COMPANION_SUFFIXES,
    ArrayItem,
    counts_from_index,
    file_meta,
    h5py_module,
    kind_for,
    parse_units,
)
from codecbench.data.loaders import LOADERS
from codecbench.errors import ConfigError, DatasetError


def read_hdf5(path: Path, key: str | None, kind: str) -> list[ArrayItem]:
    """The dataset ``key`` (optional when the file holds exactly one) as one item."""
    h5py = h5py_module()
    try:
        with h5py.File(path, "r") as f:
            names: list[str] = []
            f.visititems(lambda n, obj: names.append(n) if isinstance(obj, h5py.Dataset) else None)
            if key is None:
                main = [n for n in names if not n.endswith(COMPANION_SUFFIXES)]
                if len(main) != 1:
                    raise ConfigError(
                        f"{path.name}: holds {len(main)} datasets ({', '.join(main[:20])}); choose one with --key"
                    )
                key = main[0]
            has_cols = key in f and "columns" in f[key].attrs
            attrs = dict(f[key].attrs) if key in f else {}
            ev = f[f"{key}_event_index"][()] if f"{key}_event_index" in f else None
    except OSError as exc:
        raise DatasetError(f"{path.name}: not a readable HDF5 file ({exc})") from None
    data, columns, _ = LOADERS["hdf5"](path, {"key": key, **({"columns_key": "columns"} if has_cols else {})})
    if data.dtype.kind not in "fiub":
        raise DatasetError(f"{path.name}: dataset {key!r} holds {data.dtype}, not numbers")
    kd = kind_for(data, columns, kind)
    if kd == "table" and (columns is None or len(columns) != data.shape[1]):
        columns = [f"x{i}" for i in range(data.shape[1])]
    if kd != "table":
        columns = None
    units = parse_units(attrs["units"].decode() if isinstance(attrs.get("units"), bytes) else attrs.get("units"))
    counts = None
    if ev is not None:
        n_ev = int(attrs["n_events"]) if "n_events" in attrs else None
        counts = counts_from_index(ev, n_ev)
    meta = {**file_meta(path, "hdf5"), "key": key}
    return [ArrayItem(key, np.ascontiguousarray(data), kd, columns, units, meta, event_counts=counts)]


def write_hdf5(path: Path, items: list[ArrayItem]) -> None:
    """Write items as datasets with their attributes (through a temporary file and a rename)."""
    h5py = h5py_module()
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        for it in items:
            ds = f.create_dataset(it.name, data=it.data)
            if it.columns:
                ds.attrs["columns"] = np.array(it.columns, dtype=h5py.string_dtype())
            if it.units:
                ds.attrs["units"] = json.dumps(it.units)
            if it.event_counts is not None:
                f.create_dataset(f"{it.name}_event_index", data=it.event_index)
                ds.attrs["n_events"] = len(it.event_counts)
    tmp.replace(path)
