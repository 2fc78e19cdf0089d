"""File readers for the dataset registry: npz, npy, ROOT (uproot), CSV, HDF5 (h5py) and netCDF-4 (h5netcdf).

Each reader takes a path and the entry's ``loader`` options (checked first by
``codecbench.data.options``) and returns ``(data, columns, extra)``: the array, the column names
(None for fields) and facts for the dataset's ``meta`` (for jagged ROOT branches ``event_index``,
the event of each row; ``file_units`` where the file states units). No reader unpickles anything.
``LOADERS`` maps a ``loader: {format: ...}`` name to its reader; ``codecbench.archive`` uses the
same readers for ``codecbench compress`` inputs. The ROOT reader is ``codecbench.data.rootio``,
the netCDF one ``codecbench.data.netcdf``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from codecbench.data.names import missing_key, pick_columns, select_names
from codecbench.data.netcdf import load_netcdf
from codecbench.data.rootio import load_root
from codecbench.errors import DatasetError

LoaderResult = tuple[np.ndarray, "list[str] | None", dict[str, Any]]


def load_npz(path: Path, opts: dict[str, Any]) -> LoaderResult:
    """One array of an npz file. Options: ``key``; ``columns_key`` (the array of column names);
    ``event_index_key``; ``text_keys`` (text arrays copied into ``meta['file_info']``); ``columns``
    (keep these, in this order)."""
    key = opts["key"]
    try:
        with np.load(path, allow_pickle=False) as z:
            if key not in z.files:
                raise missing_key("array", key, list(z.files), path)
            data = z[key]
            columns = None
            if opts.get("columns_key"):
                columns = [str(c) for c in z[opts["columns_key"]].tolist()]
            extra: dict[str, Any] = {}
            if opts.get("event_index_key"):
                extra["event_index"] = np.asarray(z[opts["event_index_key"]]).astype(np.int64)
            for k in opts.get("text_keys", []) or []:
                if k in z.files:
                    extra.setdefault("file_info", {})[k] = str(z[k])
    except ValueError as exc:  # object arrays would need pickle
        raise DatasetError(
            f"{path.name}: cannot read {key!r} without pickle ({exc}); codecbench never unpickles"
        ) from None
    if opts.get("columns"):
        data, columns = pick_columns(data, columns, opts["columns"], path)
    return data, columns, extra


def load_npy(path: Path, opts: dict[str, Any]) -> LoaderResult:
    """The one array of an npy file. Option: ``columns`` (keep these of a 2-D array, named ``x0``, ``x1``...)."""
    try:
        data = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DatasetError(f"{path.name}: cannot read without pickle ({exc}); codecbench never unpickles") from None
    if opts.get("columns"):
        return (*pick_columns(data, None, opts["columns"], path), {})
    return data, None, {}


def load_csv(path: Path, opts: dict[str, Any]) -> LoaderResult:
    """A CSV file. Options: ``columns`` (keep these, in this order), ``sep``, ``comment``."""
    import pandas as pd

    try:
        df = pd.read_csv(path, comment=opts.get("comment"), sep=opts.get("sep", ","))
    except Exception as exc:
        raise DatasetError(f"{path.name}: cannot read as CSV ({type(exc).__name__}: {exc})") from None
    names = select_names(opts.get("columns", list(df.columns)), [str(c) for c in df.columns], path, "column")
    sub = df[names]
    bad = [c for c in names if not pd.api.types.is_numeric_dtype(sub[c])]
    if bad:
        raise DatasetError(f"{path.name}: column {bad[0]!r} is not numeric")
    return sub.to_numpy(), names, {"source_dtypes": {c: str(sub[c].dtype) for c in names}}


def _h5_columns(f: Any, ds: Any, key: str, path: Path) -> list[str]:
    raw = ds.attrs[key] if key in ds.attrs else f.attrs[key] if key in f.attrs else f[key][()] if key in f else None
    if raw is None:
        raise missing_key("column-name attribute", key, list(ds.attrs) + list(f.attrs) + list(f.keys()), path)
    return [c.decode() if isinstance(c, bytes) else str(c) for c in np.asarray(raw).ravel().tolist()]


def load_hdf5(path: Path, opts: dict[str, Any]) -> LoaderResult:
    """HDF5 via h5py. Options: ``key`` (the 2-D or compound dataset); ``columns_key`` (an attribute of
    that dataset, of the file, or a dataset, holding the column names, e.g. MOD HDF5's ``cols``);
    ``columns`` (names or patterns to keep); ``event_key`` + ``event_column`` (a per-row event
    number, e.g. ``jets_i`` / ``evn``, turned into ``event_index``)."""
    try:
        import h5py
    except ImportError:
        raise DatasetError("reading HDF5 datasets needs h5py: pip install 'codecbench[hdf5]'") from None
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DatasetError(f"{path.name}: not a readable HDF5 file ({exc})") from None
    extra: dict[str, Any] = {}
    with f:
        key = opts["key"]
        if key not in f:
            raise missing_key("HDF5 dataset", key, list(f.keys()), path)
        ds = f[key]
        data = ds[()]
        file_cols = _h5_columns(f, ds, opts["columns_key"], path) if opts.get("columns_key") else None
        if opts.get("event_key"):
            ek, ec = opts["event_key"], opts.get("event_column")
            if ek not in f:
                raise missing_key("HDF5 dataset", ek, list(f.keys()), path)
            ev = f[ek][()]
            if ec is not None:
                ecols = _h5_columns(f, f[ek], opts.get("columns_key", "cols"), path)
                wanted = [ec] if isinstance(ec, str) else list(ec)
                for c in wanted:
                    if c not in ecols:
                        raise missing_key("event column", c, ecols, path)
                ev = ev[:, [ecols.index(c) for c in wanted]]
            ev = ev.reshape(len(ev), -1)
            if len(ev) != len(data):
                raise DatasetError(f"{path.name}: {ek!r} has {len(ev)} rows, {key!r} has {len(data)}")
            # (run, event) numbers -> 0-based index of the event, in order of first appearance
            _, first, inverse = np.unique(ev, axis=0, return_index=True, return_inverse=True)
            inverse = inverse.ravel()
            order = np.argsort(np.argsort(first))
            extra["event_index"] = order[inverse].astype(np.int64)
            extra["n_events"] = int(len(first))
    if data.dtype.names:  # compound dataset: one field per column
        file_cols = list(data.dtype.names)
        data = np.stack(
            [data[n].astype(np.float64) if data[n].dtype.kind != "f" else data[n] for n in file_cols], axis=1
        )
    if data.ndim != 2 and file_cols is not None:
        raise DatasetError(f"{path.name}: {opts['key']!r} has shape {data.shape}; a table needs 2-D rows x columns")
    if file_cols is not None and data.ndim == 2 and len(file_cols) != data.shape[1]:
        raise DatasetError(f"{path.name}: {len(file_cols)} column names for {data.shape[1]} columns in {opts['key']!r}")
    columns = file_cols
    if opts.get("columns"):
        data, columns = pick_columns(data, file_cols, opts["columns"], path)
    return data, columns, extra


LOADERS: dict[str, Callable[[Path, dict[str, Any]], LoaderResult]] = {
    "npz": load_npz,
    "npy": load_npy,
    "root": load_root,
    "csv": load_csv,
    "hdf5": load_hdf5,
    "netcdf": load_netcdf,
}
