"""ROOT files in and out (uproot): branch groups read as tables, TTrees written back, jagged where they were.

Reading goes through the registry's own ROOT loader (``codecbench.data.loaders``), so a tree read
here is exactly what ``load_dataset`` gives for the same tree and branches: jagged per-event branches
are flattened to one row per object, with the number of objects per event kept in
``event_counts``. Writing restores the original tree, branch and counter names and the original
branch dtypes; empty events are kept.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from codecbench.archive.items import ArrayItem, counts_from_index, file_meta
from codecbench.data.loaders import LOADERS
from codecbench.errors import ConfigError, DatasetError


def _root_trees(path: Path) -> list[str]:
    import uproot

    try:
        with uproot.open(path) as f:
            return [k.split(";")[0] for k, cls in f.classnames().items() if cls in ("TTree", "TNtuple")]
    except Exception as exc:  # uproot raises many types for a bad file
        raise DatasetError(f"{path.name}: not a readable ROOT file ({type(exc).__name__}: {exc})") from None


def root_counter(path: Path, tree: str, branch: str) -> str | None:
    """The name of the counter leaf (``nJet``) of a jagged branch, or None."""
    import uproot

    try:
        with uproot.open(path) as f:
            leaf = f[tree][branch].count_leaf
            return str(leaf.member("fName")) if leaf is not None else None
    except Exception:  # the name is a nicety; a default is used without it
        return None


def read_root(path: Path, tree: str | None, branches: list[list[str]] | None) -> list[ArrayItem]:
    """One table per branch group of ``tree`` (the file's only tree when None)."""
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
    meta = file_meta(path, "root")
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
            counter = root_counter(path, tree, columns[0]) if columns else None
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


def write_root(path: Path, items: list[ArrayItem]) -> None:
    """Write table items as TTrees (one per tree name), jagged branches rebuilt from ``event_counts``."""
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
