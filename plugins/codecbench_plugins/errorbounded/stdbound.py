"""The ``std`` bound mode of ``sz3`` and ``zfp``: an absolute bound of ``value x std`` per variable.

Each variable (a table's column, or a whole field) gets the absolute bound ``e = value * std``,
``std`` the standard deviation of its finite values in the array being encoded (kept in the body),
and the library is called in its absolute mode with ``e`` (SZ3's ABS, ZFP's fixed accuracy). So
SZ3 and ZFP can be aimed at the same budget as ``quant`` (a uniform error within ``e`` has an RMS
near ``e / sqrt(3)``: ``value = sqrt(3) * t`` aims at ``worst_rel_rms = t``). Besides:

- an integer-valued variable (``exact_integers``) is compressed with the bound ``INTEGER_BOUND`` =
  0.49 and rounded to integers on decode: exact, and within any bound;
- a variable whose bound is zero (a constant column) or that is empty is stored raw (zstd, bit for bit).

Meta of a ``std`` body (``_common.pack``): ``u8 layout`` (1), ``u32 n_vars``, then per variable
``u8 how`` (0 library, 1 library then rounded, 2 raw), ``f64 bound``, ``f64 std``; one block per
variable. The declared bound is ``abs`` per column, the loosest over every ``encode`` the instance
ran (the runner encodes row chunks with one instance, each chunk with its own std).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import numpy as np

from codecbench import PayloadError
from codecbench_plugins.common import coders
from codecbench_plugins.common.stats import integer_valued, std_of

INTEGER_BOUND = 0.49
LIBRARY, ROUNDED, RAW = 0, 1, 2
LAYOUT_STD = 1
_HEAD = struct.Struct("<BI")
_VAR = struct.Struct("<Bdd")


def encode_variables(
    variables: list[np.ndarray],
    values: list[float],
    exact_integers: bool,
    compress: Callable[[np.ndarray, float], bytes],
) -> tuple[bytes, list[bytes], list[float]]:
    """(meta, blocks, absolute bounds) of ``variables`` at ``value * std`` each; ``compress(x, e)`` is the library."""
    meta, blocks, bounds = _HEAD.pack(LAYOUT_STD, len(variables)), [], []
    for x, value in zip(variables, values):
        x = np.ascontiguousarray(x)
        finite = x[np.isfinite(x)].astype(np.float64).reshape(-1)
        e = value * std_of(finite)
        how = ROUNDED if exact_integers and integer_valued(finite, x.dtype) else LIBRARY
        lib_bound = INTEGER_BOUND if how == ROUNDED else e
        if not lib_bound > 0 or x.size == 0:
            how, block = RAW, coders.encode_raw(x, "zstd", 3)
        else:
            block = compress(x, lib_bound)
        meta += _VAR.pack(how, e, std_of(finite))
        blocks.append(block)
        bounds.append(e)
    return meta, blocks, bounds


def decode_variables(
    codec_id: str,
    meta: bytes,
    blocks: list[bytes],
    dtype: np.dtype,
    shapes: list[tuple[int, ...]],
    decompress: Callable[[bytes, tuple[int, ...]], np.ndarray],
) -> list[np.ndarray]:
    """The variables of a ``std`` body, each flattened; ``decompress(block, shape)`` is the library."""
    if len(meta) < _HEAD.size:
        raise PayloadError(f"{codec_id} body has a truncated std header")
    layout, n_vars = _HEAD.unpack_from(meta)
    if layout != LAYOUT_STD or n_vars != len(blocks) or n_vars != len(shapes):
        raise PayloadError(f"{codec_id} body's std header (layout {layout}, {n_vars} variables) does not match it")
    if len(meta) != _HEAD.size + n_vars * _VAR.size:
        raise PayloadError(f"{codec_id} body's std header has the wrong length")
    out = []
    for j, (block, shape) in enumerate(zip(blocks, shapes)):
        how, _, _ = _VAR.unpack_from(meta, _HEAD.size + j * _VAR.size)
        n = int(np.prod(shape))
        if how == RAW:
            col = coders.decode_raw(codec_id, block, "zstd", dtype, n)
        elif how in (LIBRARY, ROUNDED):
            col = np.asarray(decompress(block, shape)).reshape(-1)
            if col.dtype != dtype or col.size != n:
                raise PayloadError(f"{codec_id} block decoded to {col.dtype} x {col.size}, expected {dtype} x {n}")
            col = np.rint(col) if how == ROUNDED else col
        else:
            raise PayloadError(f"{codec_id} body names an unknown variable kind {how}")
        out.append(col)
    return out


def loosest(previous: list[float] | None, bounds: list[float]) -> list[float]:
    """Per-variable maximum of the bounds seen so far and ``bounds`` (the declared bound covers every encode)."""
    if previous is not None and len(previous) == len(bounds):
        return [max(a, b) for a, b in zip(previous, bounds)]
    return list(bounds)


def declared(bounds: list[float] | None, columns: list[str] | None) -> dict[str, Any] | None:
    """``abs`` per column (one value when the variables are not named columns); None before any encode."""
    if bounds is None:
        return None
    if columns is not None and len(columns) == len(bounds):
        return {"mode": "abs", "value": dict(zip(columns, bounds))}
    return {"mode": "abs", "value": max(bounds) if bounds else 0.0}
