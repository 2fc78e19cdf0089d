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
    flat = flat[np.isfinite(flat)]
    mant = flat.view(utype) & utype((1 << width) - 1)
    out = np.zeros(mant.shape, dtype=np.int16)
    nz = mant != 0
    m = mant[nz]
    # lowest set bit -> its position = number of trailing zeros
    low = m & (~m + utype(1))
    tz = np.log2(low.astype(np.float64)).round().astype(np.int16)
    out[nz] = width - tz
    return out


def column_facts(values: np.ndarray, source_float32_exact: bool | None = None) -> dict[str, Any]:
    """Quality facts of one float column (see the module docstring)."""
    values = np.asarray(values)
    flat = values.ravel()
    n = int(flat.size)
    finite = np.isfinite(flat)
    facts: dict[str, Any] = {
        "dtype": str(values.dtype),
        "n_values": n,
        "nan_count": int(np.isnan(flat).sum()),
        "inf_count": int(np.isinf(flat).sum()),
        "zero_fraction": float((flat == 0).sum() / n) if n else 0.0,
        "distinct_values": int(np.unique(flat[finite]).size) + (1 if (~finite).any() else 0),
    }
    if values.dtype.kind == "f":
        fin = flat[finite]
        facts["integer_valued"] = bool(fin.size and np.all(fin == np.round(fin)))
    if values.dtype in _FLOAT_LAYOUT and n:
        bits = mantissa_bits_used(flat)
        facts["mantissa_bits"] = _FLOAT_LAYOUT[values.dtype][0]
        facts["mantissa_bits_used"] = int(bits.max()) if bits.size else 0
        facts["mantissa_bits_p50"] = float(np.median(bits)) if bits.size else 0.0
    if values.dtype == np.float64:
        with np.errstate(over="ignore", invalid="ignore"):
            back = flat.astype(np.float32).astype(np.float64)
        same = (back == flat) | (np.isnan(back) & np.isnan(flat))
        facts["float32_representable"] = bool(same.all())
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
