"""ROOT files in and out (uproot): branch groups read as tables, TTrees written back, jagged where they were.

Reading goes through the registry's own ROOT reader (``codecbench.data.rootio``), so a group read
here is exactly what ``load_dataset`` gives for the same tree and branches: jagged per-event branches
are flattened to one row per object, with the number of objects per event kept in
``event_counts``. Without named branches every numeric branch is read, one group per counter; a
group of several dtypes becomes one table per dtype. Writing restores the original tree, branch and
counter names, the original branch dtypes (counters included) and the source tree's order; empty
events are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from codecbench.archive.items import ArrayItem, check_event_counts, counts_from_index, file_meta
from codecbench.data.names import select_names
from codecbench.data.rootio import (
    BranchFact,
    branch_facts,
    branch_groups,
    check_one_counter,
    open_tree,
    read_branches,
    tree_names,
)
from codecbench.errors import ConfigError


def _groups(
    path: Path, tree: str, facts: list[BranchFact], branches: list[list[str]] | None
) -> list[tuple[str, list[str]]]:
    """(entry name, branch names) per group: the named groups, or every numeric branch by counter."""
    available = [f.name for f in facts]
    if branches:
        names = [select_names(g, available, path, "branch") for g in branches]
        seen: set[str] = set()
        for group in names:
            dup = seen.intersection(group)
            if dup:
                raise ConfigError(f"{path.name}: branch {sorted(dup)[0]!r} is named in more than one --branches group")
            seen.update(group)
        return [(tree if len(names) == 1 else f"{tree}.{i}", g) for i, g in enumerate(names)]
    groups = branch_groups(facts)
    if not groups:
        raise ConfigError(f"{path.name}: tree {tree!r} has no numeric branch to compress")
    return [(f"{tree}.{counter.strip('[]')}" if counter else f"{tree}.event", g) for counter, g in groups]


def read_root(path: Path, tree: str | None, branches: list[list[str]] | None) -> list[ArrayItem]:
    """The branches of ``tree`` (the file's only tree when None) as tables, one per branch group and dtype.

    ``branches`` lists the groups (names or glob patterns); without it every numeric branch is
    read, one group per counter and one for the per-event scalars. A group whose branches have
    different dtypes becomes one table per dtype (named ``GROUP.float32``, ``GROUP.bool``...), so
    every value keeps its source dtype and the raw size is the source's.
    """
    if tree is None:
        trees = tree_names(path)
        if len(trees) != 1:
            raise ConfigError(
                f"{path.name}: holds {len(trees)} trees ({', '.join(trees) or 'none'}); choose one with --tree"
            )
        tree = trees[0]
    handle, t = open_tree(path, tree)
    with handle:  # one open tree for every group: its metadata (a thousand branches in NanoAOD) is read once
        return _read_groups(path, tree, t, branches)


def _read_groups(path: Path, tree: str, t: Any, branches: list[list[str]] | None) -> list[ArrayItem]:
    facts = branch_facts(t)
    by_name = {f.name: f for f in facts}
    meta = file_meta(path, "root")
    items = []
    for name, group in _groups(path, tree, facts, branches):
        check_one_counter(path, by_name, group)
        by_dtype: dict[str, list[str]] = {}
        for b in group:
            dt = by_name[b].dtype
            by_dtype.setdefault(dt.name if dt is not None else "?", []).append(b)
        for dtype_name, sub in by_dtype.items():
            data, columns, extra = read_branches(t, path, {"tree": tree, "branches": sub})
            counts = counter = counter_dtype = None
            if "event_index" in extra:
                counts = counts_from_index(extra["event_index"], extra.get("n_events"))
                counter, counter_dtype = by_name[sub[0]].counter, by_name[sub[0]].counter_dtype
            index = {c: by_name[c].index for c in columns}
            if counter in by_name:
                index[counter] = by_name[counter].index
            items.append(
                ArrayItem(
                    name=name if len(by_dtype) == 1 else f"{name}.{dtype_name}",
                    data=np.ascontiguousarray(data),
                    kind="table",
                    columns=list(columns),
                    meta={**meta, "tree": tree, "branches": list(group)},
                    event_counts=counts,
                    tree=tree,
                    counter=counter,
                    source_dtypes=extra.get("source_dtypes"),
                    counter_dtype=counter_dtype,
                    branch_index=index,
                )
            )
    return items


def _branch_dtype(it: ArrayItem, col: str) -> np.dtype:
    src = (it.source_dtypes or {}).get(col)
    try:
        dt = np.dtype(src) if src else it.data.dtype
    except (TypeError, ValueError):
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


@contextmanager
def _counter_dtypes(wanted: dict[str, np.dtype]) -> Iterator[None]:
    """Let uproot write the counters named in ``wanted`` with those dtypes (it writes int32 otherwise).

    uproot's writer builds every counter branch with a fixed int32 type; NanoAOD's ``nJet`` is
    uint32. Around the tree's creation, the one method that lays out a counter branch is wrapped to
    use the source's dtype. If a future uproot drops that method, counters fall back to int32.
    """
    from uproot.writing import _cascadetree

    tree_cls = getattr(_cascadetree, "Tree", None)
    original = getattr(tree_cls, "_branch_np", None)
    if original is None or not wanted:
        yield
        return

    def branch_np(self, name, branch_type, branch_dtype, counter=None, kind="normal"):  # type: ignore[no-untyped-def]
        if kind == "counter" and name in wanted:
            branch_type = branch_dtype = wanted[name]
        return original(self, name, branch_type, branch_dtype, counter, kind)

    tree_cls._branch_np = branch_np  # type: ignore[union-attr]
    try:
        yield
    finally:
        tree_cls._branch_np = original  # type: ignore[union-attr]


def _counter_dtype(it: ArrayItem) -> np.dtype | None:
    try:
        dt = np.dtype(it.counter_dtype) if it.counter_dtype else None
    except (TypeError, ValueError):
        return None
    return dt if dt is not None and dt.kind in "iu" and dt.itemsize in (1, 2, 4, 8) else None


def _jagged_groups(tname: str, group: list[ArrayItem]) -> dict[str, list[ArrayItem]]:
    """Jagged items of one tree by counter name: items that share a counter (one branch group split by
    dtype) become one zipped group again, and must have the same event counts."""
    out: dict[str, list[ArrayItem]] = {}
    for it in group:
        if it.event_counts is None:
            continue
        counter = it.counter or _default_counter(it.columns or [])
        if counter in out and not np.array_equal(out[counter][0].event_counts, it.event_counts):
            raise ConfigError(f"tree {tname!r}: two arrays with counter {counter!r} have different event counts")
        out.setdefault(counter, []).append(it)
    return out


def write_root(path: Path, items: list[ArrayItem]) -> None:
    """Write table items as TTrees (one per tree name), jagged branches rebuilt from ``event_counts``,
    each counter with its source dtype, branches in the source tree's order where it is known."""
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
            branches, counters, wanted = _tree_branches(tname, group)
            keys = sorted(branches, key=lambda k: branches[k][2])  # stable: unknown positions keep their order
            with _counter_dtypes(wanted):
                f.mktree(
                    tname,
                    {k: branches[k][0] for k in keys},
                    counter_name=lambda counted, _c=counters: _c[counted],  # type: ignore[misc]
                )
            f[tname].extend({k: branches[k][1] for k in keys})
    tmp.replace(path)


def _tree_branches(
    tname: str, group: list[ArrayItem]
) -> tuple[dict[str, tuple[Any, Any, float]], dict[str, str], dict[str, np.dtype]]:
    """The branches of one output tree: {name: (type, values, position in the source tree)}, the counter
    of each jagged branch, and the counters' source dtypes."""
    import awkward as ak

    branches: dict[str, tuple[Any, Any, float]] = {}
    counters: dict[str, str] = {}
    wanted: dict[str, np.dtype] = {}
    n_events: set[int] = set()
    jagged = _jagged_groups(tname, group)
    for counter, members in jagged.items():
        counts = check_event_counts(members[0].event_counts, members[0].data.shape[0], members[0].name)
        n_events.add(len(counts))
        dt = next((d for d in (_counter_dtype(it) for it in members) if d is not None), None)
        if dt is not None:
            wanted[counter] = dt
    for it in group:
        counts = None
        if it.event_counts is not None:
            counts = check_event_counts(it.event_counts, it.data.shape[0], it.name)
        else:
            n_events.add(it.data.shape[0])
        counter = it.counter or _default_counter(it.columns or []) if counts is not None else None
        for j, c in enumerate(it.columns or []):
            if c in branches or c in jagged:
                raise ConfigError(f"tree {tname!r}: branch {c!r} appears in two arrays, or is also a counter")
            v = _as_branch(it.data[:, j], _branch_dtype(it, c))
            pos = (it.branch_index or {}).get(c)
            pos = float(pos) if isinstance(pos, int) else np.inf
            if counts is None:
                branches[c] = (v.dtype, v, pos)
            else:
                arr = ak.unflatten(v, counts)
                branches[c] = (arr.type.content, arr, pos)
                counters[c] = counter  # type: ignore[assignment]
    if len(n_events) > 1:
        raise ConfigError(
            f"tree {tname!r}: its arrays have different numbers of events ({sorted(n_events)}); "
            "they cannot share one tree"
        )
    return branches, counters, wanted
