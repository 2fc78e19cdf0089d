"""File readers for the dataset registry: npz, npy, ROOT (uproot), CSV and HDF5 (h5py).

Each reader takes a path and the entry's ``loader`` options and returns ``(data, columns, extra)``:
the array, the column names (None for fields) and facts for the dataset's ``meta`` (for jagged
ROOT branches ``event_index``, the event of each row). No reader unpickles anything.
``LOADERS`` maps a ``loader: {format: ...}`` name to its reader; ``codecbench.archive`` uses the
same readers for ``codecbench compress`` inputs.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from codecbench.errors import DatasetError

LoaderResult = tuple[np.ndarray, "list[str] | None", dict[str, Any]]


def missing_key(what: str, key: str, available: list[str], path: Path) -> DatasetError:
    lower = {a.lower(): a for a in available}
    close = [lower[c] for c in difflib.get_close_matches(key.lower(), list(lower), n=3)]
    hint = f"; closest: {', '.join(close)}" if close else f"; available: {', '.join(available[:20])}"
    return DatasetError(f"{path.name}: no {what} {key!r}{hint}")


def load_npz(path: Path, opts: dict[str, Any]) -> LoaderResult:
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
    return data, columns, extra


def load_npy(path: Path, opts: dict[str, Any]) -> LoaderResult:
    try:
        data = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise DatasetError(f"{path.name}: cannot read without pickle ({exc}); codecbench never unpickles") from None
    return data, None, {}


def select_names(pattern: Any, available: list[str], path: Path, what: str) -> list[str]:
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    names: list[str] = []
    for pat in patterns:
        if any(ch in pat for ch in "*?["):
            hits = [a for a in available if fnmatch.fnmatchcase(a, pat)]
            if not hits:
                raise missing_key(what + " matching", pat, available, path)
            names += [h for h in hits if h not in names]
        else:
            if pat not in available:
                raise missing_key(what, pat, available, path)
            if pat not in names:
                names.append(pat)
    return names


def _branch_dtype(branch: Any) -> np.dtype | None:
    """The numpy dtype of a branch's values (per object for jagged branches), or None if not numeric."""
    interp = getattr(branch, "interpretation", None)
    if interp is None:  # an RNTuple field: its type is checked after reading
        return np.dtype(np.float64)
    inner = getattr(interp, "content", interp)
    dt = getattr(inner, "to_dtype", None)
    if dt is None or not isinstance(dt, np.dtype) or dt.names or dt.subdtype is not None:
        return None
    return dt if dt.kind in "fiu" else None


def load_root(path: Path, opts: dict[str, Any]) -> LoaderResult:
    """ROOT tree via uproot. Options: ``tree``; ``branches`` (names or glob patterns); ``exclude``
    (patterns to leave out); ``float_only`` / ``numeric_only`` (keep float, or float and integer,
    branches); ``strip_prefix`` (removed from column names). Jagged (per-object) branches are
    flattened to one row per object, with the event of each row in ``event_index``."""
    import awkward as ak
    import uproot

    try:
        f = uproot.open(path)
    except Exception as exc:  # uproot raises many types for a bad file
        raise DatasetError(f"{path.name}: not a readable ROOT file ({type(exc).__name__}: {exc})") from None
    with f:
        tree_name = opts["tree"]
        keys = [k.split(";")[0] for k in f.keys()]
        if tree_name not in keys:
            raise missing_key("tree", tree_name, keys, path)
        tree = f[tree_name]
        available = list(dict.fromkeys(tree.keys(full_paths=False)))
        names = select_names(opts["branches"], available, path, "branch")
        for pat in opts.get("exclude", []) or []:
            names = [n for n in names if not fnmatch.fnmatchcase(n, pat)]
        if opts.get("float_only") or opts.get("numeric_only"):
            kinds = "f" if opts.get("float_only") else "fiu"
            names = [n for n in names if (dt := _branch_dtype(tree[n])) is not None and dt.kind in kinds]
        if not names:
            raise DatasetError(f"{path.name}: no numeric branch matches {opts['branches']!r} in tree {tree_name!r}")
        try:
            arrays = tree.arrays(names, library="ak", how=dict)
        except Exception as exc:
            raise DatasetError(f"{path.name}: cannot read branches {names} ({type(exc).__name__}: {exc})") from None
    columns: list[str] = []
    cols: list[np.ndarray] = []
    counts: np.ndarray | None = None
    jagged_flags: list[bool] = []
    for n in names:
        a = arrays[n]
        if a.ndim == 2:  # jagged: one list per event
            c = np.asarray(ak.num(a, axis=1))
            if counts is None:
                counts = c
            elif not np.array_equal(counts, c):
                raise DatasetError(
                    f"{path.name}: branch {n!r} has a different number of entries per event than {names[0]!r}; "
                    "branches of one table must belong to the same objects"
                )
            flat = np.asarray(ak.to_numpy(ak.flatten(a, axis=1)))
            jagged_flags.append(True)
        elif a.ndim == 1:
            flat = np.asarray(ak.to_numpy(a))
            jagged_flags.append(False)
        else:
            raise DatasetError(f"{path.name}: branch {n!r} has {a.ndim} dimensions; only flat or jagged are supported")
        if (
            opts.get("float_only")
            and flat.dtype.kind != "f"
            or opts.get("numeric_only")
            and flat.dtype.kind not in "fiu"
        ):
            jagged_flags.pop()
            continue
        if flat.dtype.kind not in "fiub":
            raise DatasetError(f"{path.name}: branch {n!r} holds {flat.dtype}, not numbers")
        columns.append(n)
        cols.append(flat)
    if not cols:
        raise DatasetError(f"{path.name}: no branch of {opts['branches']!r} holds float values")
    if any(jagged_flags) and not all(jagged_flags):
        raise DatasetError(f"{path.name}: cannot mix per-event and per-object branches in one table: {names}")
    prefix = opts.get("strip_prefix") or ""
    if prefix:
        columns = [c[len(prefix) :] if c.startswith(prefix) else c for c in columns]
    extra: dict[str, Any] = {"source_dtypes": {n: str(c.dtype) for n, c in zip(columns, cols)}}
    if counts is not None:
        extra["event_index"] = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        extra["n_events"] = int(len(counts))
    data = (
        np.stack(cols, axis=1)
        if len({c.dtype for c in cols}) == 1
        else np.stack([c.astype(np.float64) for c in cols], axis=1)
    )
    return data, columns, extra


def load_csv(path: Path, opts: dict[str, Any]) -> LoaderResult:
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
    if file_cols is not None and opts.get("columns"):
        names = select_names(opts["columns"], file_cols, path, "column")
        idx = [file_cols.index(n) for n in names]
        data = data[:, idx]
        columns = names
    return data, columns, extra


LOADERS: dict[str, Callable[[Path, dict[str, Any]], LoaderResult]] = {
    "npz": load_npz,
    "npy": load_npy,
    "root": load_root,
    "csv": load_csv,
    "hdf5": load_hdf5,
}
