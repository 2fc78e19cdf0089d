"""Jet kinematics from a table's columns: energies, four-vectors, each event's leading pair and its mass.

Columns are found by name (pt, eta, phi, mass or m, px, py, pz, e or energy), ignoring a ``Jet_`` or
``jet.`` prefix. Everything is computed in float64; invalid values (an overflow in ``cosh``) become
NaN or inf rather than warnings. Used by the per-record plots, which compare these quantities
before and after compression.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

_JET_NAMES = {"pt": "pt", "eta": "eta", "phi": "phi", "mass": "mass", "m": "mass", "px": "px", "py": "py", "pz": "pz"}

_JET_NAMES.update({"e": "e", "energy": "e"})


def jet_columns(columns: Sequence[str]) -> dict[str, int]:
    """Map pt, eta, phi, mass (and px, py, pz, e) to column indices, ignoring a ``Jet_``/``jet.`` prefix."""
    found: dict[str, int] = {}
    for i, name in enumerate(columns):
        key = re.sub(r"^jets?[_.]", "", name.lower())
        if key in _JET_NAMES and _JET_NAMES[key] not in found:
            found[_JET_NAMES[key]] = i
    return found


def jet_energy(pt: np.ndarray, eta: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """Each jet's energy: E = sqrt((pt cosh eta)^2 + m^2) (phi does not enter)."""
    pt, eta, mass = (np.asarray(a, dtype=np.float64) for a in (pt, eta, mass))
    with np.errstate(over="ignore", invalid="ignore"):
        return np.sqrt((pt * np.cosh(eta)) ** 2 + mass**2)


def four_vectors(data: np.ndarray, columns: Sequence[str]) -> tuple[np.ndarray, ...] | None:
    """(E, px, py, pz, pt) per jet from (pt, eta, phi, mass) or (px, py, pz, E) columns; None if neither."""
    c = jet_columns(columns)
    d = np.asarray(data, dtype=np.float64)
    if {"pt", "eta", "phi", "mass"} <= c.keys():
        pt, eta, phi, m = (d[:, c[k]] for k in ("pt", "eta", "phi", "mass"))
        with np.errstate(over="ignore", invalid="ignore"):
            return jet_energy(pt, eta, m), pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt
    if {"px", "py", "pz", "e"} <= c.keys():
        px, py, pz, e = (d[:, c[k]] for k in ("px", "py", "pz", "e"))
        return e, px, py, pz, np.hypot(px, py)
    return None


def leading_pairs(pt: np.ndarray, event_index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(event ids, first jet, second jet): row indices of the two highest-pt jets of each event with two or more."""
    ev = np.asarray(event_index)
    order = np.lexsort((-np.nan_to_num(np.asarray(pt, dtype=np.float64), nan=-np.inf), ev))
    events, start, counts = np.unique(ev[order], return_index=True, return_counts=True)
    two = counts >= 2
    return events[two], order[start[two]], order[start[two] + 1]


def pair_mass(four: tuple[np.ndarray, ...], i1: np.ndarray, i2: np.ndarray) -> np.ndarray:
    """Invariant mass of jets ``i1`` and ``i2`` (row indices) from ``four_vectors`` output."""
    e, px, py, pz = four[:4]
    with np.errstate(over="ignore", invalid="ignore"):
        m2 = (e[i1] + e[i2]) ** 2 - (px[i1] + px[i2]) ** 2 - (py[i1] + py[i2]) ** 2 - (pz[i1] + pz[i2]) ** 2
    return np.sqrt(np.clip(m2, 0.0, None))


def leading_pair_mass(four: tuple[np.ndarray, ...], event_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(event ids, invariant mass of each event's two highest-pt jets), for events with two or more jets."""
    events, i1, i2 = leading_pairs(four[4], event_index)
    return events, pair_mass(four, i1, i2)
