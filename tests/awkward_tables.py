"""Awkward tables for the per-column codecs: NaN with payloads, Inf, -0.0, subnormals, constant and integer columns."""

from __future__ import annotations

import numpy as np

_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def nan_with_payload(dtype: np.dtype, payload: int = 0x5A) -> np.ndarray:
    """A quiet NaN and a signalling NaN of ``dtype``, each with a payload, as a 2-element array."""
    info = np.finfo(dtype)
    exp_all = ((1 << info.nexp) - 1) << info.nmant
    quiet = exp_all | (1 << (info.nmant - 1)) | payload
    return np.array([quiet, exp_all | payload], dtype=_UINT[np.dtype(dtype).itemsize]).view(dtype)


def awkward_table(dtype: np.dtype, n: int = 3000, seed: int = 1) -> tuple[np.ndarray, list[str]]:
    """Columns every per-column codec must survive; the last one holds the special values."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    tiny, big = float(np.finfo(dtype).tiny), float(np.finfo(dtype).max)
    cols = {
        "gauss": rng.normal(10.0, 3.0, n),
        "signed": rng.normal(0.0, 1.0, n),
        "ints": rng.integers(-50, 50, n).astype(np.float64),
        "const": np.full(n, 3.25),
        "zero_inflated": np.where(rng.random(n) < 0.6, 0.0, rng.exponential(5.0, n)),
        "subnormal": rng.normal(0.0, 1.0, n) * tiny / 8,
        "huge": rng.uniform(0.5, 1.0, n) * big,
        "special": rng.normal(100.0, 20.0, n),
    }
    with np.errstate(over="ignore"):
        data = np.stack([np.asarray(c).astype(dtype) for c in cols.values()], axis=1)
    j = list(cols).index("special")
    data[:2, j] = nan_with_payload(dtype)
    data[2, j], data[3, j], data[4, j], data[5, j] = np.inf, -np.inf, -0.0, 0.0
    data[6, j] = np.float64(tiny / 3).astype(dtype)  # a subnormal among normal numbers
    data[7:20, list(cols).index("signed")] = -0.0
    return data, list(cols)


def bits(a: np.ndarray) -> np.ndarray:
    """Bit patterns of a float array."""
    return np.ascontiguousarray(a).view(_UINT[a.dtype.itemsize])
