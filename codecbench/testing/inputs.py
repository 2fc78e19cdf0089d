"""The inputs every check runs on: a jet-like table, a smooth field, and the edge-case float values.

``sample_table`` (1000 x 4: pt, eta, phi, mass) and ``sample_field`` (12 x 20 x 20; 20 splits into
tiles of 2, 4, 5 or 10) are generated from a seed; ``special_values`` builds quiet and signalling
NaNs with payloads, infinities, -0.0, subnormals and the extreme finite values from their bit
patterns, and ``with_special_values`` writes them into a copy of an array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from codecbench.errors import CodecError

TABLE_COLUMNS = ["pt", "eta", "phi", "mass"]


def sample_table(n_rows: int = 1000, dtype: Any = np.float32, seed: int = 0) -> np.ndarray:
    """A jet-like table (``n_rows`` x 4: pt, eta, phi, mass) with a falling pt spectrum above 20 GeV."""
    rng = np.random.default_rng(seed)
    pt = 20.0 * (1.0 - rng.random(n_rows)) ** (-1.0 / 3.5)
    eta = np.clip(rng.normal(0.0, 1.6, n_rows), -4.7, 4.7)
    phi = np.pi - 2.0 * np.pi * rng.random(n_rows)
    mass = pt * np.minimum(np.exp(rng.normal(np.log(0.12), 0.45, n_rows)), 0.8)
    return np.stack([pt, eta, phi, mass], axis=1).astype(dtype)


def sample_field(n_steps: int = 12, ny: int = 20, nx: int = 20, dtype: Any = np.float32, seed: int = 0) -> np.ndarray:
    """A smooth 2-D flow-like field over time (``n_steps`` x ``ny`` x ``nx``): drifting vortices plus noise."""
    rng = np.random.default_rng(seed)
    y, x = np.meshgrid(np.linspace(0, 2 * np.pi, ny), np.linspace(0, 2 * np.pi, nx), indexing="ij")
    steps = [np.sin(x + 0.3 * t) * np.cos(y - 0.2 * t) + 0.5 * np.sin(2 * x - y + 0.1 * t) for t in range(n_steps)]
    out = np.stack(steps) + 0.01 * rng.standard_normal((n_steps, ny, nx))
    return out.astype(dtype)


def special_values(dtype: Any) -> np.ndarray:
    """Edge-case values of a float dtype as a 1-D array, built from bit patterns.

    Quiet NaN, NaN with a payload, negative NaN with a payload, signalling NaN, +Inf, -Inf, -0.0,
    +0.0, the smallest subnormal, the largest negative subnormal, the smallest normal, and the
    largest finite value with both signs.
    """
    dt = np.dtype(dtype)
    if dt.kind != "f" or dt.itemsize not in (2, 4, 8):
        raise CodecError(f"special values are defined for float16/32/64, not {dt}")
    fi = np.finfo(dt)
    nbits, nmant, nexp = dt.itemsize * 8, int(fi.nmant), int(fi.nexp)
    sign = 1 << (nbits - 1)
    exp_mask = ((1 << nexp) - 1) << nmant
    quiet = 1 << (nmant - 1)
    patterns = [
        exp_mask | quiet,  # quiet NaN
        exp_mask | quiet | 0x2A,  # NaN with a payload
        sign | exp_mask | quiet | 0x15,  # negative NaN with a payload
        exp_mask | 1,  # signalling NaN
        exp_mask,  # +Inf
        sign | exp_mask,  # -Inf
        sign,  # -0.0
        0,  # +0.0
        1,  # smallest subnormal
        sign | (quiet * 2 - 1),  # largest subnormal, negative
        1 << nmant,  # smallest normal
        exp_mask - 1,  # largest finite
        sign | (exp_mask - 1),  # most negative finite
    ]
    return np.array(patterns, dtype=f"<u{dt.itemsize}").view(dt.newbyteorder("<")).astype(dt, copy=False)


def with_special_values(data: np.ndarray) -> np.ndarray:
    """A copy of ``data`` with ``special_values`` written (by bit pattern) at evenly spread positions."""
    out = np.array(data, copy=True, order="C")
    specials = special_values(out.dtype)
    flat_bits = out.reshape(-1).view(f"u{out.dtype.itemsize}")
    n = min(len(specials), flat_bits.size)
    positions = np.linspace(0, flat_bits.size - 1, n).astype(np.int64)
    flat_bits[positions] = specials[:n].view(f"u{out.dtype.itemsize}")
    return out
