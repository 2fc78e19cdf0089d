"""``trunc``: float mantissa rounding (round-to-nearest-even on the bit pattern), then a lossless stage.

This is what CMS NanoAOD does to its floats and what numcodecs' ``BitRound`` does: keep ``bits``
explicit mantissa bits of every float, round the dropped bits to nearest (ties to even, on the
integer bit pattern), and let a lossless compressor (``blosc`` with byte shuffle, or ``zstd``)
squeeze the zeroed low bits.

Guarantee, checked by the harness through ``declared_bound``: with ``bits = b`` every finite
value's relative error is at most ``2**-(b+1)``. Three details make that hold everywhere:

- NaN (payload bits included), +-Inf, +0 and -0 pass through bit for bit;
- a finite value that would round up to Inf (the top of the exponent range) is truncated down
  instead, which keeps it finite and still within the bound;
- subnormal numbers have fewer significant bits than normal ones; they are rounded to ``b + 1``
  significant bits counted from their own leading one bit (plain bit-pattern rounding would
  flush small subnormals to zero, a relative error of 1).

Per-column bits: ``bits`` may be a mapping ``{column name: bits}``. The codec sees only the array
at encode time, so it takes the names in ``columns``; the runner fills ``columns`` in with the
dataset's column names for any table when the user did not set it. Names match case-insensitively,
exactly or by suffix after a separator (``"pt"`` matches ``"Jet_pt"``); the longest matching key
wins, and the key ``"*"`` sets the bits of every column not matched otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from codecbench import Codec, CodecError, Knob
from codecbench_plugins.truncation import stage

#: Bits kept per variable in CMS NanoAOD; columns not named here keep ``PRESET_OTHERS`` bits.
PRESETS: dict[str, dict[str, int]] = {"nanoaod": {"pt": 10, "eta": 12, "phi": 12, "mass": 10}}
PRESET_OTHERS = 10
#: Bits kept when neither ``bits`` nor a preset says otherwise.
DEFAULT_BITS = 10
BACKENDS = ("blosc", "zstd")
_SEPARATORS = ("_", ".", "/", ":", "-")

# float dtype -> (unsigned view dtype, explicit mantissa bits, exponent bits)
_LAYOUT: dict[np.dtype, tuple[type, int, int]] = {
    np.dtype(np.float16): (np.uint16, 10, 5),
    np.dtype(np.float32): (np.uint32, 23, 8),
    np.dtype(np.float64): (np.uint64, 52, 11),
}


def _check_bits(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise CodecError(f"trunc {where} must be a non-negative integer (mantissa bits kept), not {value!r}")
    return int(value)


def _matches(column: str, key: str) -> bool:
    c, k = column.lower(), key.lower()
    return c == k or any(c.endswith(sep + k) for sep in _SEPARATORS)


def _lookup(column: str, table: Mapping[str, int]) -> int | None:
    """Bits for ``column`` from ``table``: the longest key matching it exactly or by suffix."""
    best: tuple[int, int] | None = None
    for key, b in table.items():
        if key != "*" and _matches(column, key) and (best is None or len(key) > best[0]):
            best = (len(key), b)
    return None if best is None else best[1]


def _increment(u: np.ndarray, drop: np.ndarray) -> np.ndarray:
    """What to add before masking ``drop`` low bits so the result rounds to nearest, ties to even.

    Half a quantum minus one, plus the lowest kept bit (BitRound's trick); zero where nothing is dropped.
    """
    one = u.dtype.type(1)
    half = (one << (np.maximum(drop, one) - one)) - one
    return np.where(drop > 0, ((u >> drop) & one) + half, 0).astype(u.dtype)


def round_mantissa(data: np.ndarray, keep: int | np.ndarray) -> np.ndarray:
    """Round every finite value of a float array to ``keep`` explicit mantissa bits (ties to even).

    ``keep`` is one number or an integer array broadcastable against ``data`` (for a table,
    shape ``(n_columns,)`` gives per-column bits). Returns a new array of the same dtype. NaN,
    Inf and zeros are returned bit for bit; values that would round up to Inf are truncated
    down; subnormals keep ``keep + 1`` significant bits.
    """
    layout = _LAYOUT.get(data.dtype)
    if layout is None:
        raise CodecError(f"trunc handles float16, float32 and float64 arrays, not {data.dtype}")
    utype, mbits, ebits = layout
    u = np.ascontiguousarray(data).view(utype)
    keep_arr = np.minimum(np.asarray(keep, dtype=np.int64), mbits)
    drop = (mbits - keep_arr).astype(utype)
    if not np.any(drop):
        return data.copy()
    one = utype(1)
    mask = ~((one << drop) - one)
    rounded = ((u + _increment(u, drop)) & mask).astype(utype)

    exp_mask = utype(((1 << ebits) - 1) << mbits)
    exp = u & exp_mask
    finite = exp != exp_mask
    # rounding up past the largest finite exponent would give Inf: truncate those down instead
    overflow = finite & ((rounded & exp_mask) == exp_mask)
    if np.any(overflow):
        rounded = np.where(overflow, u & mask, rounded)
    out = np.where(finite, rounded, u).astype(utype)

    mant_mask = utype((1 << mbits) - 1)
    sub = (exp == 0) & ((u & mant_mask) != 0)
    if np.any(sub):
        idx = np.nonzero(sub)
        us = u[idx]
        ks = np.broadcast_to(keep_arr, u.shape)[idx]
        m = (us & mant_mask).astype(np.uint64)
        lead = np.frexp(m.astype(np.float64))[1].astype(np.int64) - 1  # exact: m < 2**53
        ds = np.maximum(lead - ks, 0).astype(utype)
        ms = ~((one << ds) - one)
        # a carry out of the mantissa lands in the exponent field: the correctly rounded normal value
        out[idx] = ((us + _increment(us, ds)) & ms).astype(utype)
    return out.view(data.dtype)


class TruncCodec(Codec):
    """Mantissa rounding to ``bits`` explicit bits (ties to even), then ``blosc`` or ``zstd``.

    Parameters:

    - ``bits``: mantissa bits kept, one integer or a mapping ``{column name: bits}`` (key ``"*"``
      for every other column). None means the preset's bits, or 10.
    - ``preset``: ``"nanoaod"`` keeps pt 10, eta 12, phi 12, mass 10 bits and 10 for every other
      column; an integer ``bits`` then sets the other columns, a mapping overrides single columns.
    - ``columns``: the table's column names, needed for per-column bits. The runner passes the
      dataset's ``columns`` when the user did not set it; for a field (no columns) every value
      gets the default bits.
    - ``backend``: ``"blosc"`` (Blosc2 zstd, level 5, byte shuffle; default) or ``"zstd"`` (level 3).

    Promise (``declared_bound``): relative error at most ``2**-(bits+1)`` for every finite value;
    NaN, Inf and zeros unchanged. Bits beyond the dtype's mantissa (23 for float32, 52 for
    float64) keep the values exactly.
    """

    codec_id = "trunc"
    lossless = False
    default_sweep = {"bits": list(range(4, 21))}
    #: For a target search: bits 0..52 (beyond the dtype's mantissa the values are kept exactly).
    tune = Knob("bits", lo=0, hi=52, integer=True, finer="up")

    def __init__(
        self,
        bits: int | dict[str, int] | None = None,
        preset: str | None = None,
        columns: list[str] | None = None,
        backend: str = "blosc",
    ) -> None:
        if isinstance(bits, Mapping):
            bits = {str(k): _check_bits(v, f"bits[{k!r}]") for k, v in bits.items()}
        elif bits is not None:
            bits = _check_bits(bits, "bits")
        if preset is not None and preset not in PRESETS:
            raise CodecError(f"trunc preset must be one of {sorted(PRESETS)} or None, not {preset!r}")
        if columns is not None:
            if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
                raise CodecError(f"trunc columns must be a list of column names, not {columns!r}")
            columns = list(columns)
        if backend not in BACKENDS:
            raise CodecError(f"trunc backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        self.bits, self.preset, self.columns, self.backend = bits, preset, columns, backend
        self._last_bits: list[int] | int | None = None

    def knob(self) -> Knob | None:
        """``bits`` (0..52); None when the bits are given per column or by a preset (one knob cannot move them)."""
        return None if isinstance(self.bits, dict) or self.preset is not None else self.tune

    # --- which bits for which column ---------------------------------------------------------------

    def _default_bits(self) -> int | None:
        if isinstance(self.bits, int):
            return self.bits
        if isinstance(self.bits, dict) and "*" in self.bits:
            return self.bits["*"]
        if self.preset is not None:
            return PRESET_OTHERS
        return DEFAULT_BITS if self.bits is None else None

    def bits_for(self, column: str) -> int:
        """The mantissa bits kept for ``column`` (user mapping, then preset, then the default)."""
        if isinstance(self.bits, dict):
            b = _lookup(column, self.bits)
            if b is not None:
                return b
        if self.preset is not None:
            b = _lookup(column, PRESETS[self.preset])
            if b is not None:
                return b
        default = self._default_bits()
        if default is None:
            raise CodecError(
                f"trunc has no bits for column {column!r}: bits names {sorted(self.bits)} (add it, or a '*' key)"
            )
        return default

    def _per_column(self) -> bool:
        return self.columns is not None and (isinstance(self.bits, dict) or self.preset is not None)

    def column_bits(self) -> list[int] | int:
        """Bits per column (a list, in ``columns`` order) or one number for the whole array."""
        if self._per_column():
            per = [self.bits_for(c) for c in self.columns]  # type: ignore[union-attr]
            return per[0] if len(set(per)) == 1 else per
        default = self._default_bits()
        if default is None:
            raise CodecError(
                "trunc was given bits per column but no column names: pass columns=[...] "
                "(the runner does this for tables), or add a '*' key for the other values"
            )
        return default

    # --- codec -------------------------------------------------------------------------------------

    def encode(self, data: np.ndarray) -> bytes:
        if data.dtype not in _LAYOUT:
            raise CodecError(f"trunc handles float16, float32 and float64 arrays, not {data.dtype}")
        keep = self.column_bits()
        if isinstance(keep, list):
            if data.ndim != 2 or data.shape[1] != len(keep):
                raise CodecError(
                    f"trunc has bits for {len(keep)} columns ({', '.join(self.columns or [])}) but the array "
                    f"has shape {data.shape}; pass the matching columns"
                )
            rounded = round_mantissa(data, np.asarray(keep, dtype=np.int64))
        else:
            rounded = round_mantissa(data, keep)
        self._last_bits = keep
        return stage.pack(rounded, self.backend)

    def decode(self, payload: bytes) -> np.ndarray:
        return np.frombuffer(stage.unpack(payload, self.backend, self.codec_id), dtype=np.uint8)

    def declared_bound(self) -> dict[str, Any]:
        """``{"mode": "rel", "value": 2**-(b+1)}``, with a mapping per column when bits differ by column."""
        keep = self.column_bits()
        if isinstance(keep, list):
            return {"mode": "rel", "value": {c: 2.0 ** -(b + 1) for c, b in zip(self.columns or [], keep)}}
        return {"mode": "rel", "value": 2.0 ** -(keep + 1)}

    def report_extras(self) -> dict[str, Any]:
        """The bits actually kept in the last encode (per column when they differ)."""
        if isinstance(self._last_bits, list):
            return {"trunc_bits": dict(zip(self.columns or [], self._last_bits))}
        return {} if self._last_bits is None else {"trunc_bits": self._last_bits}
