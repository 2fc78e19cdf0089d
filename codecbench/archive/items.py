"""The unit of ``codecbench compress``: one array of an input file (or of a decoded archive) with its facts.

``ArrayItem`` carries the array with its kind, column names, units, source metadata, the objects
per event of jagged ROOT input and the ROOT tree it came from. The helpers here are shared by the
format readers (``npz``, ``hdf5``, ``root``) and the archive writer: JSON-safe metadata, event
counts from an event index, the npz/HDF5 companion conventions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from codecbench.data.checksums import file_digest
from codecbench.dataset import Dataset
from codecbench.errors import ConfigError, DatasetError

#: Suffixes of the arrays that accompany array ``K`` in npz and HDF5 files (``K_columns``, ...).
COMPANION_SUFFIXES = ("_columns", "_event_index", "_n_events", "_units")


@dataclass
class ArrayItem:
    """One array of an input (or of a decoded archive) with what is known about it.

    ``kind`` is ``"table"`` (2-D, ``columns`` name its columns) or ``"field"`` (any shape).
    ``event_counts`` is the number of rows (objects) per event when the rows came from jagged
    per-event ROOT branches; ``tree`` and ``counter`` name the ROOT tree and the counter branch
    (``nJet``) they came from, ``counter_dtype`` the counter's dtype (``uint32`` in NanoAOD);
    ``source_dtypes`` the dtype of every column in the source file; ``branch_index`` the position
    of each column (and of the counter) in the source tree, so that a tree is written back in its
    order. ``meta`` holds JSON-serialisable facts about the source (file, sha256, license, notes...).
    """

    name: str
    data: np.ndarray
    kind: str = "table"
    columns: list[str] | None = None
    units: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    event_counts: np.ndarray | None = None
    tree: str | None = None
    counter: str | None = None
    source_dtypes: dict[str, str] | None = None
    counter_dtype: str | None = None
    branch_index: dict[str, int] | None = None

    @property
    def event_index(self) -> np.ndarray | None:
        """The event number of every row (``repeat(arange(n_events), event_counts)``), or None.

        The counts are checked first (``check_event_counts``): crafted counts never reach ``np.repeat``.
        """
        if self.event_counts is None:
            return None
        counts = check_event_counts(self.event_counts, self.data.shape[0] if self.data.ndim else 0, self.name)
        return np.repeat(np.arange(len(counts), dtype=np.int64), counts)

    def to_dataset(self) -> Dataset:
        """This item as a ``Dataset`` (what ``Codec.fit`` takes)."""
        meta = dict(self.meta)
        meta["units"] = dict(self.units)
        if self.event_counts is not None:
            meta["event_index"] = self.event_index
            meta["n_events"] = len(self.event_counts)
        return Dataset(name=self.name, data=self.data, columns=self.columns, kind=self.kind, meta=meta)


def jsonable(obj: Any) -> Any:
    """A JSON-serialisable copy of ``obj``; numpy arrays are left out (they are not metadata)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items() if not isinstance(v, np.ndarray)}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    return str(obj)


def check_event_counts(counts: Any, n_rows: int, what: str) -> np.ndarray:
    """``counts`` as int64 if they are objects per event of ``n_rows`` rows: a 1-D integer array,
    every count from 0 to ``n_rows``, adding up to ``n_rows`` (summed without overflow); else a
    one-line ``DatasetError`` naming ``what``. Counts come from files and archives that someone else
    wrote: this runs before any use (``np.repeat`` of a wrapped-around sum writes past its buffer)."""
    c = np.asarray(counts)
    if c.ndim != 1 or c.dtype.kind not in "iu":
        raise DatasetError(f"{what}: event counts must be a 1-D integer array, not {c.dtype} of shape {c.shape}")
    if c.size:
        lo, hi = int(c.min()), int(c.max())
        if lo < 0:
            raise DatasetError(f"{what}: an event count is negative ({lo})")
        if hi > n_rows:
            raise DatasetError(f"{what}: an event count ({hi}) exceeds the {n_rows} rows")
    c = c.astype(np.int64, copy=False)
    total = 0
    step = 1 << 20  # each count <= n_rows < 2**40, so a block of 2**20 sums without int64 overflow
    for start in range(0, c.size, step):
        total += int(c[start : start + step].sum())
        if total > n_rows:
            break
    if total != n_rows:
        shown = f"more than {n_rows}" if total > n_rows else str(total)
        raise DatasetError(f"{what}: the event counts add up to {shown} rows, the array has {n_rows}")
    return c


def counts_from_index(event_index: np.ndarray, n_events: int | None = None) -> np.ndarray:
    """Objects per event from the event number of every row (rows must be grouped by event, in order)."""
    ev = np.asarray(event_index).astype(np.int64, copy=False)
    if ev.ndim != 1:
        raise DatasetError(f"an event index must be 1-D, got shape {ev.shape}")
    if ev.size and (ev[0] < 0 or np.any(np.diff(ev) < 0)):
        raise DatasetError("the event index is not sorted (rows of one event must be contiguous, events in order)")
    n = int(ev[-1]) + 1 if ev.size else 0
    if n_events is not None:
        if n_events < n:
            raise DatasetError(f"the event index names event {n - 1} but the file says there are {n_events} events")
        n = int(n_events)
    return np.bincount(ev, minlength=n).astype(np.int64)


def kind_for(data: np.ndarray, columns: list[str] | None, kind: str) -> str:
    """The kind of an array read from a file: ``kind`` checked against its shape, or guessed (2-D: table)."""
    if kind not in ("auto", "table", "field"):
        raise ConfigError(f"kind must be 'auto', 'table' or 'field', not {kind!r}")
    if kind == "auto":
        return "table" if data.ndim == 2 else "field"
    if kind == "table" and data.ndim != 2:
        raise DatasetError(f"an array of shape {data.shape} cannot be a table (tables are 2-D: rows x columns)")
    return kind


def file_meta(path: Path, fmt: str) -> dict[str, Any]:
    """The source facts of an input file: name, resolved path, format and sha256."""
    return {"source": path.name, "path": str(path.resolve()), "format": fmt, "sha256": file_digest(path)}


def parse_units(text: str | None) -> dict[str, str]:
    """Units stored as JSON text (``{column: unit}``); empty when absent or malformed."""
    if not text:
        return {}
    try:
        u = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in u.items()} if isinstance(u, dict) else {}


def h5py_module() -> Any:
    """``import h5py``, or a ``DatasetError`` naming the extra to install."""
    try:
        import h5py
    except ImportError:
        raise DatasetError("reading and writing HDF5 needs h5py: pip install 'codecbench[hdf5]'") from None
    return h5py
