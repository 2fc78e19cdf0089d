"""Reading arrays from user files (npz, npy, ROOT, HDF5) or registered datasets, and writing them back.

``read_input`` turns an input into a list of ``ArrayItem``: one per array (npz, npy, HDF5 dataset)
or per branch group (ROOT). ROOT and file reading reuse the registry's loaders in
``codecbench.data.loaders`` (``LOADERS``), so a ROOT tree read here is exactly what ``load_dataset``
gives for the same tree and branches: jagged per-event branches are flattened to one row per
object, with the number of objects per event kept in ``event_counts``.

``write_output`` writes items to ``.npz``, ``.root`` (a TTree per tree name through uproot, jagged
branches restored from ``event_counts``, original branch and counter names) or ``.h5``/``.hdf5``.

Conventions for npz files (read and written): an array ``K`` may come with ``K_columns`` (string
array of column names), ``K_event_index`` (event number of every row) and ``K_n_events`` (number of
events, so trailing empty events survive). The registry's npz layout (``data``, ``columns``,
``event_index``) is recognised as well. HDF5: a dataset ``K`` with attributes ``columns`` and
``units`` (JSON), plus ``K_event_index`` and attribute ``n_events``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from codecbench.dataset import Dataset
from codecbench.errors import ConfigError, DatasetError

#: Input formats ``read_input`` understands, by file suffix.
SUFFIXES = {".npz": "npz", ".npy": "npy", ".root": "root", ".h5": "hdf5", ".hdf5": "hdf5", ".he5": "hdf5"}
#: Output formats ``write_output`` writes, by file suffix.
OUTPUT_SUFFIXES = {".npz": "npz", ".root": "root", ".h5": "hdf5", ".hdf5": "hdf5"}
_COMPANIONS = ("_columns", "_event_index", "_n_events", "_units")


@dataclass
class ArrayItem:
    """One array of an input (or of a decoded archive) with what is known about it.

    ``kind`` is ``"table"`` (2-D, ``columns`` name its columns) or ``"field"`` (any shape).
    ``event_counts`` is the number of rows (objects) per event when the rows came from jagged
    per-event ROOT branches; ``tree`` and ``counter`` name the ROOT tree and the counter branch
    (``nJet``) they came from; ``source_dtypes`` the dtype of every column in the source file.
    ``meta`` holds JSON-serialisable facts about the source (file, sha256, license, notes...).
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

    @property
    def event_index(self) -> np.ndarray | None:
        """The event number of every row (``repeat(arange(n_events), event_counts)``), or None."""
        if self.event_counts is None:
            return None
        return np.repeat(np.arange(len(self.event_counts), dtype=np.int64), self.event_counts)

    def to_dataset(self) -> Dataset:
        """This item as a ``Dataset`` (what ``Codec.fit`` takes)."""
        meta = dict(self.meta)
        meta["units"] = dict(self.units)
        if self.event_counts is not None:
            meta["event_index"] = self.event_index
            meta["n_events"] = len(self.event_counts)
        return Dataset(name=self.name, data=self.data, columns=self.columns, kind=self.kind, meta=meta)


# --- helpers -------------------------------------------------------------------------------------


def _jsonable(obj: Any) -> Any:
    """A JSON-serialisable copy of ``obj``; numpy arrays are left out (they are not metadata)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items() if not isinstance(v, np.ndarray)}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    return str(obj)


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


def _kind_for(data: np.ndarray, columns: list[str] | None, kind: str) -> str:
    if kind not in ("auto", "table", "field"):
        raise ConfigError(f"kind must be 'auto', 'table' or 'field', not {kind!r}")
    if kind == "auto":
        return "table" if data.ndim == 2 else "field"
    if kind == "table" and data.ndim != 2:
        raise DatasetError(f"an array of shape {data.shape} cannot be a table (tables are 2-D: rows x columns)")
    return kind


def _select_columns(item: ArrayItem, columns: list[str] | None, where: str) -> ArrayItem:
    """Keep only ``columns`` (names or glob patterns) of a table item."""
    if not columns:
        return item
    if item.kind != "table" or not item.columns:
        raise DatasetError(
            f"{where}: --columns selects columns of a table, but {item.name!r} has shape {item.data.shape}"
        )
    from codecbench.data.loaders import select_names as _select_names

    names = _select_names(columns, item.columns, Path(where), "column")
    idx = [item.columns.index(n) for n in names]
    item.data = np.ascontiguousarray(item.data[:, idx])
    item.columns = names
    item.units = {c: u for c, u in item.units.items() if c in names}
    if item.source_dtypes:
        item.source_dtypes = {c: d for c, d in item.source_dtypes.items() if c in names}
    return item


def detect_format(path: Path) -> str:
    """``npz``, ``npy``, ``root`` or ``hdf5`` from the suffix, else from the file's first bytes."""
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt:
        return fmt
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK"):
        return "npz"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"root"):
        return "root"
    if head.startswith(b"\x89HDF"):
        return "hdf5"
    raise DatasetError(
        f"{path.name}: cannot tell its format (suffix {path.suffix or '(none)'}); "
        f"use one of {', '.join(sorted(SUFFIXES))}"
    )


# --- reading -------------------------------------------------------------------------------------


def read_input(
    source: str | Path,
    *,
    key: str | None = None,
    tree: str | None = None,
    branches: list[list[str]] | None = None,
    columns: list[str] | None = None,
    kind: str = "auto",
    registry: str | None = None,
) -> list[ArrayItem]:
    """Read ``source`` (a file path or a registered dataset name) into one ``ArrayItem`` per array.

    - npz: the array ``key``, or every numeric array (companions such as ``K_columns`` excepted);
    - npy: the one array; HDF5: the dataset ``key`` (optional when the file holds exactly one);
    - ROOT: ``tree`` (optional when the file holds one TTree) and ``branches``, a list of branch
      groups (names or glob patterns); each group becomes one table, as the registry loads it;
    - a registered dataset name: ``load_dataset(source)``.

    ``columns`` keeps only those columns of a table; ``kind`` is ``"auto"`` (2-D arrays are tables,
    others fields), ``"table"`` or ``"field"``.
    """
    path = Path(source).expanduser()
    if not path.is_file():
        return _read_dataset(str(source), columns, registry, key=key, tree=tree, branches=branches)
    fmt = detect_format(path)
    if fmt != "root" and (tree or branches):
        raise ConfigError(f"{path.name}: --tree and --branches are for ROOT files, this is {fmt}")
    if fmt == "root":
        if key:
            raise ConfigError(f"{path.name}: --key is for npz and HDF5 files; a ROOT file takes --tree and --branches")
        if columns:
            raise ConfigError(f"{path.name}: select ROOT branches with --branches, not --columns")
        return _read_root(path, tree, branches)
    if fmt == "npz":
        items = _read_npz(path, key, kind)
    elif fmt == "npy":
        items = _read_npy(path, kind)
    else:
        items = _read_hdf5(path, key, kind)
    return [_select_columns(it, columns, path.name) for it in items]


def _file_meta(path: Path, fmt: str) -> dict[str, Any]:
    from codecbench.data.checksums import file_digest

    return {"source": path.name, "path": str(path.resolve()), "format": fmt, "sha256": file_digest(path)}


def _read_dataset(
    name: str,
    columns: list[str] | None,
    registry: str | None,
    *,
    key: str | None,
    tree: str | None,
    branches: list[list[str]] | None,
) -> list[ArrayItem]:
    from codecbench.data.load import load_dataset
    from codecbench.data.registry import get_registry

    reg = get_registry(registry)
    if name not in reg:
        if any(sep in name for sep in ("/", "\\", ".")):
            raise DatasetError(f"input {name!r} is neither an existing file nor a registered dataset")
        load_dataset(name, registry)  # raises the registry's error with close matches
    if key or tree or branches:
        raise ConfigError(
            f"{name!r} is a registered dataset: its file, tree and branches come from the registry; "
            "drop --key/--tree/--branches (or pass the file path instead)"
        )
    ds = load_dataset(name, registry)
    meta = _jsonable({k: v for k, v in ds.meta.items() if k not in ("units", "event_index")})
    meta["format"] = "dataset"
    counts = None
    if "event_index" in ds.meta:
        counts = counts_from_index(ds.meta["event_index"], ds.meta.get("n_events"))
    entry = reg[name]
    loader = entry.get("loader") or {}
    tree_name = loader.get("tree") if loader.get("format") == "root" else None
    counter = None
    if tree_name and counts is not None and ds.meta.get("path") and ds.columns:
        counter = _root_counter(Path(ds.meta["path"]), tree_name, ds.columns[0])
    item = ArrayItem(
        name=name,
        data=ds.data,
        kind=ds.kind,
        columns=list(ds.columns) if ds.columns else None,
        units={k: str(v) for k, v in ds.meta.get("units", {}).items()},
        meta=meta,
        event_counts=counts,
        tree=tree_name,
        counter=counter,
        source_dtypes=ds.meta.get("source_dtypes"),
    )
    return [_select_columns(item, columns, name)]


def _root_trees(path: Path) -> list[str]:
    import uproot

    try:
        with uproot.open(path) as f:
            return [k.split(";")[0] for k, cls in f.classnames().items() if cls in ("TTree", "TNtuple")]
    except Exception as exc:  # uproot raises many types for a bad file
        raise DatasetError(f"{path.name}: not a readable ROOT file ({type(exc).__name__}: {exc})") from None


def _root_counter(path: Path, tree: str, branch: str) -> str | None:
    """The name of the counter leaf (``nJet``) of a jagged branch, or None."""
    import uproot

    try:
        with uproot.open(path) as f:
            leaf = f[tree][branch].count_leaf
            return str(leaf.member("fName")) if leaf is not None else None
    except Exception:  # the name is a nicety; a default is used without it
        return None


def _read_root(path: Path, tree: str | None, branches: list[list[str]] | None) -> list[ArrayItem]:
    from codecbench.data.loaders import LOADERS

    if tree is None:
        trees = _root_trees(path)
        if len(trees) != 1:
            raise ConfigError(
                f"{path.name}: holds {len(trees)} trees ({', '.join(trees) or 'none'}); choose one with --tree"
            )
        tree = trees[0]
    if not branches:
        import uproot

        with uproot.open(path) as f:
            names = list(f[tree].keys()) if tree in [k.split(";")[0] for k in f.keys()] else []
        listing = ", ".join(names[:30]) + (" ..." if len(names) > 30 else "")
        raise ConfigError(
            f"{path.name}: name the branches to compress with --branches (e.g. --branches 'Jet_*'); "
            f"tree {tree!r} has: {listing or '(no such tree)'}"
        )
    meta = _file_meta(path, "root")
    items = []
    seen: set[str] = set()
    for i, group in enumerate(branches):
        data, columns, extra = LOADERS["root"](path, {"tree": tree, "branches": group})
        dup = seen.intersection(columns or [])
        if dup:
            raise ConfigError(f"{path.name}: branch {sorted(dup)[0]!r} is named in more than one --branches group")
        seen.update(columns or [])
        counts = None
        counter = None
        if "event_index" in extra:
            counts = counts_from_index(extra["event_index"], extra.get("n_events"))
            counter = _root_counter(path, tree, columns[0]) if columns else None
        name = tree if len(branches) == 1 else f"{tree}.{i}"
        items.append(
            ArrayItem(
                name=name,
                data=np.ascontiguousarray(data),
                kind="table",
                columns=list(columns or []),
                meta={**meta, "tree": tree, "branches": list(group)},
                event_counts=counts,
                tree=tree,
                counter=counter,
                source_dtypes=extra.get("source_dtypes"),
            )
        )
    return items


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


def _read_npz(path: Path, key: str | None, kind: str) -> list[ArrayItem]:
    from codecbench.data.loaders import load_npz as _load_npz
    from codecbench.data.loaders import missing_key as _missing_key

    try:
        with np.load(path, allow_pickle=False) as z:
            files = list(z.files)
            if key is not None:
                if key not in files:
                    raise _missing_key("array", key, files, path)
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
    meta = _file_meta(path, "npz")
    items = []
    for k in keys:
        ck, ek, _, _ = _npz_companions(files, k)
        data, columns, extra = _load_npz(path, {"key": k, "columns_key": ck, "event_index_key": ek})
        if data.dtype.kind not in "fiub":
            raise DatasetError(f"{path.name}: array {k!r} holds {data.dtype}, not numbers")
        kd = _kind_for(data, columns, kind)
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
        units = _parse_units(units_raw.get(k))
        items.append(
            ArrayItem(k, np.ascontiguousarray(data), kd, columns, units, {**meta, "key": k}, event_counts=counts)
        )
    return items


def _parse_units(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        u = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in u.items()} if isinstance(u, dict) else {}


def _read_npy(path: Path, kind: str) -> list[ArrayItem]:
    from codecbench.data.loaders import load_npy as _load_npy

    data, _, _ = _load_npy(path, {})
    if data.dtype.kind not in "fiub":
        raise DatasetError(f"{path.name}: holds {data.dtype}, not numbers")
    kd = _kind_for(data, None, kind)
    columns = [f"x{i}" for i in range(data.shape[1])] if kd == "table" else None
    return [ArrayItem(path.stem, np.ascontiguousarray(data), kd, columns, {}, _file_meta(path, "npy"))]


def _h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise DatasetError("reading and writing HDF5 needs h5py: pip install 'codecbench[hdf5]'") from None
    return h5py


def _read_hdf5(path: Path, key: str | None, kind: str) -> list[ArrayItem]:
    from codecbench.data.loaders import LOADERS

    h5py = _h5py()
    try:
        with h5py.File(path, "r") as f:
            names: list[str] = []
            f.visititems(lambda n, obj: names.append(n) if isinstance(obj, h5py.Dataset) else None)
            if key is None:
                main = [n for n in names if not n.endswith(_COMPANIONS)]
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
    kd = _kind_for(data, columns, kind)
    if kd == "table" and (columns is None or len(columns) != data.shape[1]):
        columns = [f"x{i}" for i in range(data.shape[1])]
    if kd != "table":
        columns = None
    units = _parse_units(attrs["units"].decode() if isinstance(attrs.get("units"), bytes) else attrs.get("units"))
    counts = None
    if ev is not None:
        n_ev = int(attrs["n_events"]) if "n_events" in attrs else None
        counts = counts_from_index(ev, n_ev)
    meta = {**_file_meta(path, "hdf5"), "key": key}
    return [ArrayItem(key, np.ascontiguousarray(data), kd, columns, units, meta, event_counts=counts)]


# --- writing -------------------------------------------------------------------------------------


def output_format(path: str | Path, fmt: str | None = None) -> str:
    """The output format: ``fmt`` if given, else from the suffix of ``path`` (.npz, .root, .h5, .hdf5)."""
    if fmt:
        if fmt not in set(OUTPUT_SUFFIXES.values()):
            raise ConfigError(f"output format {fmt!r} unknown; use npz, root or hdf5")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise ConfigError(
            f"cannot tell the output format from {Path(path).name!r}; name it .npz, .root or .h5 (or pass --format)"
        )
    return OUTPUT_SUFFIXES[suffix]


def write_output(path: str | Path, items: list[ArrayItem], fmt: str | None = None) -> Path:
    """Write ``items`` to ``path`` as npz, ROOT or HDF5 (from the suffix unless ``fmt`` is given)."""
    path = Path(path).expanduser()
    fmt = output_format(path, fmt)
    if not items:
        raise ConfigError("nothing to write")
    names = [it.name for it in items]
    if len(set(names)) != len(names):
        raise ConfigError(f"two arrays share the name {next(n for n in names if names.count(n) > 1)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    {"npz": _write_npz, "root": _write_root, "hdf5": _write_hdf5}[fmt](path, items)
    return path


def _write_npz(path: Path, items: list[ArrayItem]) -> None:
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


def _write_hdf5(path: Path, items: list[ArrayItem]) -> None:
    h5py = _h5py()
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


def _branch_dtype(it: ArrayItem, col: str) -> np.dtype:
    src = (it.source_dtypes or {}).get(col)
    try:
        dt = np.dtype(src) if src else it.data.dtype
    except TypeError:
        dt = it.data.dtype
    return dt if dt.kind in "fiub" else it.data.dtype


def _as_branch(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``values`` in the branch's source dtype (integers rounded, booleans thresholded)."""
    if values.dtype == dtype:
        return values
    if dtype.kind == "b":
        return values > 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    return values.astype(dtype)


def _tree_name(it: ArrayItem) -> str:
    if it.tree:
        return it.tree
    return re.sub(r"[^A-Za-z0-9_]", "_", it.name) or "events"


def _default_counter(columns: list[str]) -> str:
    prefixes = {c.split("_", 1)[0] for c in columns if "_" in c}
    return f"n{prefixes.pop()}" if len(prefixes) == 1 and all("_" in c for c in columns) else "nObjects"


def _write_root(path: Path, items: list[ArrayItem]) -> None:
    import awkward as ak
    import uproot

    trees: dict[str, list[ArrayItem]] = {}
    for it in items:
        if it.kind != "table" or it.data.ndim != 2 or not it.columns:
            raise ConfigError(
                f"ROOT output holds tables (rows x named columns); {it.name!r} is a field of shape {it.data.shape}: "
                "write it to .npz or .h5 instead"
            )
        trees.setdefault(_tree_name(it), []).append(it)
    tmp = path.with_name(path.name + ".tmp")
    with uproot.recreate(tmp) as f:
        for tname, group in trees.items():
            types: dict[str, Any] = {}
            values: dict[str, Any] = {}
            counters: dict[str, str] = {}
            n_events: set[int] = set()
            used: set[str] = set()
            for gi, it in enumerate(group):
                cols = {c: _as_branch(it.data[:, j], _branch_dtype(it, c)) for j, c in enumerate(it.columns or [])}
                clash = used.intersection(cols)
                if clash:
                    raise ConfigError(f"tree {tname!r}: branch {sorted(clash)[0]!r} appears in two arrays")
                used.update(cols)
                if it.event_counts is not None:
                    counts = np.asarray(it.event_counts, dtype=np.int64)
                    if int(counts.sum()) != it.data.shape[0]:
                        raise ConfigError(
                            f"{it.name!r}: the event counts add up to {int(counts.sum())} rows, the array has "
                            f"{it.data.shape[0]}"
                        )
                    n_events.add(len(counts))
                    key = f"_group{gi}"
                    counter = it.counter or _default_counter(it.columns or [])
                    if counter in used:
                        raise ConfigError(f"tree {tname!r}: counter branch {counter!r} clashes with a data branch")
                    used.add(counter)
                    counters[key] = counter
                    zipped = ak.zip({c: ak.unflatten(v, counts) for c, v in cols.items()})
                    types[key] = zipped.type
                    values[key] = zipped
                else:
                    n_events.add(it.data.shape[0])
                    for c, v in cols.items():
                        types[c] = v.dtype
                        values[c] = v
            if len(n_events) > 1:
                raise ConfigError(
                    f"tree {tname!r}: its arrays have different numbers of events ({sorted(n_events)}); "
                    "they cannot share one tree"
                )
            f.mktree(
                tname,
                types,
                counter_name=lambda counted, _c=counters: _c[counted],  # type: ignore[misc]
                field_name=lambda outer, inner: inner,
            )
            f[tname].extend(values)
    tmp.replace(path)
