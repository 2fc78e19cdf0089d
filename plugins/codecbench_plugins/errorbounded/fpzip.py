"""``fpzip``: Lindstrom's predictive floating-point compressor (through the ``fpzip`` package)."""

from __future__ import annotations

from typing import Any

import fpzip
import numpy as np

from codecbench import Codec, CodecError, Knob

from ._common import check_float, decode_single_block, fold_shape, pack

_HEADER_BITS = {np.dtype(np.float32): (32, 9), np.dtype(np.float64): (64, 12)}  # total bits, sign + exponent


class FpzipCodec(Codec):
    """fpzip with ``precision`` = the number of leading bits of each value that are KEPT.

    The package's own docstring says "the number of bits to truncate"; that is wrong: fpzip keeps
    the ``precision`` most significant bits of each value's 32 (float32) or 64 (float64) bits,
    sign and exponent included, and ``precision=0`` (or 32 / 64) is lossless. So for float32,
    ``precision=16`` keeps the sign, the 8 exponent bits and 7 mantissa bits.

    For float64 fpzip accepts only even precisions.

    Declared bound: with ``m = precision - 9`` kept mantissa bits (float32; ``precision - 12`` for
    float64), fpzip truncates, and every normal value's relative error is below ``2**-m``;
    subnormal numbers have fewer significant bits, so their error is bounded in absolute terms,
    by ``2**-m`` times the smallest normal number. Declared as ``rel_or_abs`` with those two
    (``rel`` 0 when lossless). fpzip turns a NaN whose payload sits only in the dropped bits into
    Inf; ``encode`` refuses such input with a ``CodecError`` (ordinary quiet NaNs pass). Arrays are
    folded to at most 4 dimensions (fpzip's limit).
    """

    codec_id = "fpzip"
    lossless = False
    # relative error bounds of 2^-5 .. 2^-21 (3e-2 .. 5e-7) on float32; even values, as float64 needs
    default_sweep = {"precision": [14, 16, 20, 24, 28, 30]}
    #: For a target search: the bits kept, 10 to 32 (float32's range; float64 needs even values
    #: from 14 to 64, which a search over this range does not give, so a float64 search can fail).
    tune = Knob("precision", lo=10, hi=32, integer=True, finer="up")

    def __init__(self, precision: int = 20) -> None:
        if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= 64:
            raise CodecError(f"fpzip precision must be an integer from 0 (lossless) to 64, not {precision!r}")
        self.precision = precision
        self._dtype = np.dtype(np.float32)

    def _check_precision(self, dtype: np.dtype) -> None:
        total, header = _HEADER_BITS[dtype]
        if self.precision != 0 and not header < self.precision <= total:
            raise CodecError(
                f"fpzip precision for {dtype} must be 0 (lossless) or from {header + 1} to {total} "
                f"(the {header} sign and exponent bits are always kept), not {self.precision}"
            )
        if dtype == np.float64 and self.precision % 2:
            raise CodecError(f"fpzip precision for float64 must be even, not {self.precision}")

    def _check_nans(self, data: np.ndarray) -> None:
        """Refuse NaNs that lossy fpzip would turn into Inf (payload only in the dropped mantissa bits)."""
        total, header = _HEADER_BITS[data.dtype]
        if self.precision in (0, total) or not np.isnan(data).any():
            return
        ut = np.dtype(f"<u{data.dtype.itemsize}")
        kept_mantissa = ((1 << (self.precision - header)) - 1) << (total - self.precision)
        bits = data.reshape(-1).view(ut)
        lost = int(np.count_nonzero(np.isnan(data.reshape(-1)) & ((bits & ut.type(kept_mantissa)) == 0)))
        if lost:
            raise CodecError(
                f"fpzip at precision {self.precision} would turn {lost} NaNs into Inf (their payload bits are all "
                "in the dropped bits); use precision 0 (lossless), or quiet NaNs"
            )

    def encode(self, data: np.ndarray) -> bytes:
        check_float("fpzip", data)
        self._check_precision(data.dtype)
        self._dtype = data.dtype
        self._check_nans(data)
        if data.size == 0:
            return pack("fpzip", data, [])
        arr = np.ascontiguousarray(data.reshape(fold_shape(data.shape, 4)))
        try:
            block = fpzip.compress(arr, precision=self.precision, order="C")
        except Exception as exc:  # fpzip raises its own FpzipWriteError
            raise CodecError(f"fpzip cannot compress an array of shape {data.shape}: {exc}") from exc
        return pack("fpzip", data, [block])

    def decode(self, payload: bytes | memoryview, *, dtype: Any = None, shape: Any = None) -> np.ndarray:
        return decode_single_block("fpzip", payload, lambda b: fpzip.decompress(b, order="C"), dtype, shape)

    def declared_bound(self) -> dict[str, Any]:
        """``rel_or_abs``: ``2**-(precision - 9)`` for float32 (``- 12`` for float64), floor at the subnormals.

        The dtype is the one of the last ``encode`` (float32 before any).
        """
        total, header = _HEADER_BITS[self._dtype]
        if self.precision == 0 or self.precision >= total:
            return {"mode": "rel", "value": 0.0}
        rel = 2.0 ** -(self.precision - header)
        return {"mode": "rel_or_abs", "value": {"rel": rel, "abs": rel * float(np.finfo(self._dtype).tiny)}}
