"""Derived views of a dataset (registry entries with ``derive: {from: NAME, transform: ...}``).

``TRANSFORMS`` maps a transform's name to a function ``(base Dataset) -> (array, column names)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from codecbench.dataset import Dataset
from codecbench.errors import DatasetError


def _pick_column(columns: list[str], suffix: str) -> int:
    hits = [i for i, c in enumerate(columns) if c.lower() == suffix or c.lower().endswith("_" + suffix)]
    if len(hits) != 1:
        raise DatasetError(f"cannot find exactly one {suffix!r} column among {columns} for the (pt, eta, phi, m) view")
    return hits[0]


def ptetaphim_columns(base: Dataset) -> tuple[np.ndarray, list[str]]:
    """(pt, eta, phi, mass) of a table holding px, py, pz, E columns (names ending in _px, _py,
    _pz, _e, any case), computed in float64 with scikit-hep ``vector``."""
    try:
        import vector
    except ImportError:
        raise DatasetError(
            "the (pt, eta, phi, m) view needs scikit-hep vector: pip install 'codecbench[vector]'"
        ) from None
    cols = base.columns or []
    idx = [_pick_column(cols, s) for s in ("px", "py", "pz", "e")]
    px, py, pz, e = (base.data[:, i].astype(np.float64) for i in idx)
    v = vector.array({"px": px, "py": py, "pz": pz, "E": e})
    out = np.stack([np.asarray(v.pt), np.asarray(v.eta), np.asarray(v.phi), np.asarray(v.mass)], axis=1)
    return out, ["pt", "eta", "phi", "mass"]


#: Transform names a registry entry may give, and the function computing each.
TRANSFORMS: dict[str, Callable[[Dataset], tuple[np.ndarray, list[str]]]] = {"ptetaphim": ptetaphim_columns}
