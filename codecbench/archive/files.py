"""User files in and out: ``read_input`` and ``write_output`` dispatch to the format modules by suffix.

``read_input`` turns an input (a file path, or a registered dataset's name) into a list of
``ArrayItem``: one per array (npz, npy, HDF5 dataset) or per branch group (ROOT); the readers are
``codecbench.archive.npz``, ``.hdf5`` and ``.root``, and a registered dataset is loaded through the
registry. ``write_output`` writes items to ``.npz``, ``.root`` or ``.h5``/``.hdf5``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from codecbench.archive.hdf5 import read_hdf5, write_hdf5
from codecbench.archive.items import ArrayItem, counts_from_index, jsonable
from codecbench.archive.npz import read_npy, read_npz, write_npz
from codecbench.archive.root import read_root, write_root
from codecbench.data.load import load_dataset
from codecbench.data.names import select_names
from codecbench.data.registry import get_registry
from codecbench.data.rootio import counter_of
from codecbench.errors import ConfigError, DatasetError

#: Input formats ``read_input`` understands, by file suffix.
SUFFIXES = {".npz": "npz", ".npy": "npy", ".root": "root", ".h5": "hdf5", ".hdf5": "hdf5", ".he5": "hdf5"}
#: Output formats ``write_output`` writes, by file suffix.
OUTPUT_SUFFIXES = {".npz": "npz", ".root": "root", ".h5": "hdf5", ".hdf5": "hdf5"}


def _select_columns(item: ArrayItem, columns: list[str] | None, where: str) -> ArrayItem:
    """Keep only ``columns`` (names or glob patterns) of a table item."""
    if not columns:
        return item
    if item.kind != "table" or not item.columns:
        raise DatasetError(
            f"{where}: --columns selects columns of a table, but {item.name!r} has shape {item.data.shape}"
        )
    names = select_names(columns, item.columns, Path(where), "column")
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
        return read_root(path, tree, branches)
    if fmt == "npz":
        items = read_npz(path, key, kind)
    elif fmt == "npy":
        items = read_npy(path, kind)
    else:
        items = read_hdf5(path, key, kind)
    return [_select_columns(it, columns, path.name) for it in items]


def _read_dataset(
    name: str,
    columns: list[str] | None,
    registry: str | None,
    *,
    key: str | None,
    tree: str | None,
    branches: list[list[str]] | None,
) -> list[ArrayItem]:
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
    meta = jsonable({k: v for k, v in ds.meta.items() if k not in ("units", "event_index")})
    meta["format"] = "dataset"
    counts = None
    if "event_index" in ds.meta:
        counts = counts_from_index(ds.meta["event_index"], ds.meta.get("n_events"))
    entry = reg[name]
    loader = entry.get("loader") or {}
    tree_name = loader.get("tree") if loader.get("format") == "root" else None
    counter = counter_dtype = None
    if tree_name and counts is not None and ds.meta.get("path") and ds.columns:
        counter, counter_dtype = counter_of(Path(ds.meta["path"]), tree_name, ds.columns[0])
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
        counter_dtype=counter_dtype,
    )
    return [_select_columns(item, columns, name)]


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
    {"npz": write_npz, "root": write_root, "hdf5": write_hdf5}[fmt](path, items)
    return path
