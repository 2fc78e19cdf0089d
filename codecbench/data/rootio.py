"""ROOT trees read with uproot: what a tree holds (branches, their dtypes and counters) and the root loader.

``tree_branches`` describes every branch of a tree without reading its baskets: its per-value dtype,
whether it is jagged (one list per event) and the counter leaf (``nJet``) that sizes it, and the
counter's own dtype. ``branch_groups`` turns that into what ``codecbench compress`` stores when no
branches are named: every numeric branch, one group per counter, the per-event scalars as one more
group. ``load_root`` is the registry's ``format: root`` loader (``codecbench.data.loaders``).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from codecbench.data.names import missing_key, select_names
from codecbench.errors import ConfigError, DatasetError


@dataclass(frozen=True)
class BranchFact:
    """One branch of a tree: ``dtype`` of its values (None when not a plain number or bool), whether it
    is ``jagged`` (a variable-length list per event), its ``counter`` leaf and that counter's dtype."""

    name: str
    index: int
    dtype: np.dtype | None
    jagged: bool
    counter: str | None = None
    counter_dtype: str | None = None


def _value_dtype(interp: Any) -> tuple[np.dtype | None, bool]:
    """(dtype of the values, jagged) of an uproot interpretation; dtype None if not a flat number."""
    jagged = type(interp).__name__ == "AsJagged"
    inner = getattr(interp, "content", interp) if jagged else interp
    dt = getattr(inner, "to_dtype", None)
    if dt is None or not isinstance(dt, np.dtype) or dt.names or dt.subdtype is not None or dt.kind not in "fiub":
        return None, jagged
    return dt.newbyteorder("="), jagged


def _branch_dtype(branch: Any) -> np.dtype | None:
    """The dtype of a branch's values, float64 for an RNTuple field (its type is checked after reading)."""
    interp = getattr(branch, "interpretation", None)
    return np.dtype(np.float64) if interp is None else _value_dtype(interp)[0]


def open_tree(path: Path, tree: str) -> Any:
    """The uproot file (to close) and the TTree ``tree`` in it; ``DatasetError`` if unreadable or absent."""
    import uproot

    try:
        f = uproot.open(path)
    except Exception as exc:  # uproot raises many types for a bad file
        raise DatasetError(f"{path.name}: not a readable ROOT file ({type(exc).__name__}: {exc})") from None
    keys = [k.split(";")[0] for k in f.keys()]
    if tree not in keys:
        f.close()
        raise missing_key("tree", tree, keys, path)
    return f, f[tree]


def tree_names(path: Path) -> list[str]:
    """The TTrees (and TNtuples) of a ROOT file."""
    import uproot

    try:
        with uproot.open(path) as f:
            return [k.split(";")[0] for k, cls in f.classnames().items() if cls in ("TTree", "TNtuple")]
    except Exception as exc:  # uproot raises many types for a bad file
        raise DatasetError(f"{path.name}: not a readable ROOT file ({type(exc).__name__}: {exc})") from None


def tree_branches(path: Path, tree: str) -> list[BranchFact]:
    """Every branch of ``tree`` (sub-branches of split objects included), in the tree's order."""
    f, t = open_tree(path, tree)
    with f:
        return branch_facts(t)


def branch_facts(t: Any) -> list[BranchFact]:
    """``tree_branches`` of an open uproot tree."""
    names = list(dict.fromkeys(t.keys(full_paths=False)))
    facts = []
    for i, name in enumerate(names):
        b = t[name]
        interp = getattr(b, "interpretation", None)
        if interp is None:  # an RNTuple field: its type is checked after reading
            facts.append(BranchFact(name, i, np.dtype(np.float64), False))
            continue
        dt, jagged = _value_dtype(interp)
        leaf = getattr(b, "count_leaf", None) if jagged else None
        counter = counter_dtype = None
        if leaf is not None:
            counter = str(leaf.member("fName"))
            if counter in names:
                cdt, _ = _value_dtype(t[counter].interpretation)
                counter_dtype = cdt.name if cdt is not None else None
        facts.append(BranchFact(name, i, dt, jagged, counter, counter_dtype))
    return facts


def branch_groups(facts: list[BranchFact]) -> list[tuple[str | None, list[str]]]:
    """Every numeric branch grouped as ``codecbench compress`` stores them without ``--branches``:
    jagged branches by counter, the per-event scalars (counters in use left out: the event counts
    rebuild them) as a group of their own, in the tree's order of first appearance."""
    used_counters = {f.counter for f in facts if f.dtype is not None and f.jagged and f.counter}
    groups: dict[str | None, list[str]] = {}
    for f in facts:
        if f.dtype is None:
            continue
        if f.jagged:
            key = f.counter or f"[{f.name}]"  # a vector branch without a counter leaf stands alone
        elif f.name in used_counters:
            continue
        else:
            key = None
        groups.setdefault(key, []).append(f.name)
    return list(groups.items())


def counter_of(path: Path, tree: str, branch: str) -> tuple[str | None, str | None]:
    """(name, dtype) of the counter leaf (``nJet``, ``uint32``) of a jagged branch; (None, None) if none."""
    try:
        fact = next(f for f in tree_branches(path, tree) if f.name == branch)
    except (StopIteration, DatasetError):  # the name is a nicety; a default is used without it
        return None, None
    return fact.counter, fact.counter_dtype


def load_root(path: Path, opts: dict[str, Any]) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """ROOT tree via uproot. Options: ``tree``; ``branches`` (names or glob patterns); ``exclude``
    (patterns to leave out); ``float_only`` / ``numeric_only`` (keep float, or float and integer,
    branches); ``strip_prefix`` (removed from column names). Jagged (per-object) branches are
    flattened to one row per object, with the event of each row in ``event_index``. Columns of
    different dtypes are stacked as float64 (``extra['source_dtypes']`` keeps each branch's)."""
    f, tree = open_tree(path, opts["tree"])
    with f:
        return read_branches(tree, path, opts)


def read_branches(tree: Any, path: Path, opts: dict[str, Any]) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """``load_root`` on an open uproot tree (so that several groups of one tree read its metadata once)."""
    import awkward as ak

    tree_name = opts["tree"]
    available = list(dict.fromkeys(tree.keys(full_paths=False)))
    names = select_names(opts["branches"], available, path, "branch")
    exclude = opts.get("exclude", []) or []
    for pat in [exclude] if isinstance(exclude, str) else exclude:
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
        kind = flat.dtype.kind
        if opts.get("float_only") and kind != "f" or opts.get("numeric_only") and kind not in "fiu":
            jagged_flags.pop()
            continue
        if kind not in "fiub":
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
    extra: dict[str, Any] = {"source_dtypes": {n: c.dtype.name for n, c in zip(columns, cols)}}
    if counts is not None:
        extra["event_index"] = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
        extra["n_events"] = int(len(counts))
    data = (
        np.stack(cols, axis=1)
        if len({c.dtype for c in cols}) == 1
        else np.stack([c.astype(np.float64) for c in cols], axis=1)
    )
    return data, columns, extra


def check_one_counter(path: Path, facts: dict[str, BranchFact], names: list[str]) -> str | None:
    """The counter that every branch of ``names`` shares (None: all per-event); ``ConfigError`` otherwise."""
    counters = {(facts[n].jagged, facts[n].counter or (n if facts[n].jagged else None)) for n in names if n in facts}
    if len(counters) > 1:
        shown = ", ".join(sorted(f"{n} ({facts[n].counter or 'per event'})" for n in names if n in facts)[:6])
        raise ConfigError(
            f"{path.name}: branches of one group must share their counter (or all be per-event scalars): {shown}"
        )
    return next(iter(counters))[1] if counters else None
