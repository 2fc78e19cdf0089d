"""Data-quality facts about a dataset's float columns.

The facts explain results that would otherwise look odd: NanoAOD files keep only about 10 mantissa
bits of a jet's pt, so a lossless codec squeezes them much better than full-precision floats, and a
float64 file that holds only float32 values loses nothing when cast to float32.

Per float column (or ``"value"`` for a field):

- ``mantissa_bits_used``: the most mantissa bits any finite value needs (23 for float32 data at full
  precision, 52 for float64); ``mantissa_bits_p50`` the median over values;
- ``zero_fraction``, ``distinct_values``, ``nan_count``, ``inf_count``, ``n_values``, and
  ``integer_valued`` (every finite value is a whole number: counts, multiplicities, flags);
- ``float32_representable``: for float64 data, whether every value survives a round trip through
  float32; for data cast to float32 at load time, what the loader found about the original.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Mantissa width and matching unsigned integer type of each float dtype.
_FLOAT_LAYOUT = {
    np.dtype(np.float16): (10, np.uint16),
    np.dtype(np.float32): (23, np.uint32),
    np.dtype(np.float64): (52, np.uint64),
}


def mantissa_bits_used(values: np.ndarray) -> np.ndarray:
    """Per value, the number of explicit mantissa bits needed to hold it exactly.

    That is the mantissa width minus the count of trailing zero bits of the stored mantissa (0 for
    powers of two and for zero). Non-finite values are left out of the result.
    """
    values = np.asarray(values)
    if values.dtype not in _FLOAT_LAYOUT:
        raise TypeError(f"mantissa_bits_used needs float16/32/64 data, got {values.dtype}")
    width, utype = _FLOAT_LAYOUT[values.dtype]
    flat = values.ravel()
    finite = np.isfinite(flat)
    if not finite.all():
        flat = flat[finite]
    mant = flat.view(utype) & utype((1 << width) - 1)
    out = np.zeros(mant.shape, dtype=np.int16)
    nz = mant != 0
    m = mant[nz]
    # lowest set bit -> its position = number of trailing zeros
    low = m & (~m + utype(1))
    tz = np.log2(low.astype(np.float64)).round().astype(np.int16)
    out[nz] = width - tz
    return out


_CHUNK = 1 << 22  # values per chunk: facts are accumulated chunk by chunk to bound memory


def _median_from_histogram(hist: np.ndarray) -> float:
    """Median of the values 0..len(hist)-1 given their counts (as np.median would give it)."""
    total = int(hist.sum())
    if total == 0:
        return 0.0
    cum = np.cumsum(hist)
    lo = int(np.searchsorted(cum, (total - 1) // 2 + 1))
    hi = int(np.searchsorted(cum, total // 2 + 1))
    return (lo + hi) / 2


def column_facts(values: np.ndarray, source_float32_exact: bool | None = None) -> dict[str, Any]:
    """Quality facts of one float column (see the module docstring).

    Counts, mantissa bits and representability are accumulated over chunks (no full-size
    temporaries); ``distinct_values`` sorts one copy of the finite values.
    """
    values = np.asarray(values)
    flat = values.reshape(-1)
    n = int(flat.size)
    is_float = values.dtype.kind == "f"
    layout = _FLOAT_LAYOUT.get(values.dtype)
    nan = inf = zeros = 0
    integer_valued = True
    f32_exact = True
    hist = np.zeros((layout[0] + 1) if layout else 1, dtype=np.int64)
    for i in range(0, n, _CHUNK):
        chunk = flat[i : i + _CHUNK]
        fin_mask = np.isfinite(chunk) if is_float else np.ones(chunk.shape, bool)
        nan += int(np.count_nonzero(np.isnan(chunk))) if is_float else 0
        inf += int(np.count_nonzero(np.isinf(chunk))) if is_float else 0
        zeros += int(np.count_nonzero(chunk == 0))
        fin = chunk[fin_mask] if is_float else chunk
        if is_float and integer_valued and fin.size:
            integer_valued = bool(np.all(fin == np.round(fin)))
        if layout and fin.size:
            hist += np.bincount(mantissa_bits_used(fin), minlength=hist.size)[: hist.size]
        if values.dtype == np.float64 and f32_exact:
            with np.errstate(over="ignore", invalid="ignore"):
                back = chunk.astype(np.float32).astype(np.float64)
            f32_exact = bool(np.all((back == chunk) | (np.isnan(back) & np.isnan(chunk))))
    finite_all = flat[np.isfinite(flat)] if is_float else flat
    distinct = int(np.unique(finite_all).size) + (1 if is_float and finite_all.size < n else 0)
    del finite_all
    facts: dict[str, Any] = {
        "dtype": str(values.dtype),
        "n_values": n,
        "nan_count": nan,
        "inf_count": inf,
        "zero_fraction": zeros / n if n else 0.0,
        "distinct_values": distinct,
    }
    if is_float:
        facts["integer_valued"] = bool(integer_valued and (n - nan - inf) > 0)
    if layout and n:
        used = np.nonzero(hist)[0]
        facts["mantissa_bits"] = layout[0]
        facts["mantissa_bits_used"] = int(used.max()) if used.size else 0
        facts["mantissa_bits_p50"] = _median_from_histogram(hist)
    if values.dtype == np.float64:
        facts["float32_representable"] = f32_exact
    elif source_float32_exact is not None:
        facts["float32_representable"] = bool(source_float32_exact)
    return facts


def quality_facts(dataset: Any) -> dict[str, Any]:
    """Data-quality facts for every float column of a ``Dataset`` (``{"columns": {name: facts}}``).

    Tables get one entry per column; fields one entry named ``"value"``. ``source_dtype`` says what
    the file stored before the loader cast it (from ``meta["cast"]``).
    """
    data = np.asarray(dataset.data)
    cast = (dataset.meta or {}).get("cast") or {}
    exact = cast.get("exact") if cast.get("from") == "float64" else None
    out: dict[str, Any] = {"dtype": str(data.dtype), "shape": list(data.shape), "columns": {}}
    if cast:
        out["source_dtype"] = cast.get("from")
    if data.dtype.kind != "f":
        return out
    if dataset.kind == "table" and data.ndim == 2:
        for i, name in enumerate(dataset.columns or []):
            out["columns"][name] = column_facts(np.ascontiguousarray(data[:, i]), exact)
    else:
        out["columns"]["value"] = column_facts(data, exact)
    return out
