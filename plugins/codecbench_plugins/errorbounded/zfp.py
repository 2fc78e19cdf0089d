"""``zfp``: the ZFP compressor for floating-point arrays (through the ``zfpy`` package)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import zfpy

from codecbench import Codec, CodecError

from ._common import check_float, decode_single_block, fold_shape, pack

MODES = ("tolerance", "precision", "rate")


class ZfpCodec(Codec):
    """ZFP in one of its three modes: ``tolerance`` (fixed accuracy), ``precision`` or ``rate``.

    - ``mode="tolerance"`` (default): every value within ``tolerance`` of the original. With
      ``relative=True`` (default) the tolerance is relative to the array's value range (over its
      finite values, as SZ's REL), so one setting fits data of any scale; with ``relative=False`` it
      is zfpy's absolute tolerance.
    - ``mode="precision"``: ``precision`` bit planes kept (1 to 64); no error bound.
    - ``mode="rate"``: ``rate`` bits per value (fixed size); no error bound.

    Arrays are folded to at most 4 dimensions (ZFP's limit) after dropping length-1 axes; ZFP
    decorrelates 4^d blocks, so a table of unrelated columns is compressed as a 2-D array.

    Declared bound: tolerance mode declares ``rel_range`` (relative) or ``abs`` (absolute) with the
    tolerance, checked on every value by the harness; precision and rate modes declare none. ZFP
    has no representation for NaN or Inf (it returns other numbers for them), so ``encode`` refuses
    arrays that contain them with a ``CodecError``.
    """

    codec_id = "zfp"
    lossless = False
    default_sweep = {"tolerance": [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6]}

    def __init__(
        self,
        mode: str = "tolerance",
        tolerance: float = 1e-3,
        relative: bool = True,
        precision: int = 16,
        rate: float = 8.0,
    ) -> None:
        if mode not in MODES:
            raise CodecError(f"zfp mode must be one of {', '.join(MODES)}, not {mode!r}")
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not tolerance > 0:
            raise CodecError(f"zfp tolerance must be a positive number, not {tolerance!r}")
        if not isinstance(relative, bool):
            raise CodecError(f"zfp relative must be true or false, not {relative!r}")
        if isinstance(precision, bool) or not isinstance(precision, int) or not 1 <= precision <= 64:
            raise CodecError(f"zfp precision must be an integer from 1 to 64, not {precision!r}")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 64:
            raise CodecError(f"zfp rate must be a number of bits per value in (0, 64], not {rate!r}")
        self.mode, self.tolerance, self.relative = mode, tolerance, relative
        self.precision, self.rate = precision, rate
        self._last_abs_tolerance: float | None = None

    def _kwargs(self, data: np.ndarray) -> dict[str, Any]:
        if self.mode == "precision":
            return {"precision": self.precision}
        if self.mode == "rate":
            return {"rate": float(self.rate)}
        tol = float(self.tolerance)
        if self.relative:
            finite = data[np.isfinite(data)]
            rng = float(finite.max()) - float(finite.min()) if finite.size else 0.0
            tol *= rng
            if tol <= 0 or not math.isfinite(tol):
                # constant (or empty) data: any positive tolerance below its resolution keeps it exact
                tol = float(np.finfo(data.dtype).tiny)
        self._last_abs_tolerance = tol
        return {"tolerance": tol}

    def encode(self, data: np.ndarray) -> bytes:
        check_float("zfp", data)
        if not np.isfinite(data).all():
            raise CodecError(
                f"zfp cannot compress NaN or Inf ({int(np.count_nonzero(~np.isfinite(data)))} values here): ZFP has no "
                "representation for them and would return other numbers; replace them first or use sz3 or trunc"
            )
        if data.size == 0:
            return pack(data, [])
        arr = np.ascontiguousarray(data.reshape(fold_shape(data.shape, 4)))
        try:
            block = zfpy.compress_numpy(arr, **self._kwargs(data))
        except Exception as exc:  # zfpy raises RuntimeError/TypeError
            raise CodecError(f"zfp cannot compress an array of shape {data.shape}: {exc}") from exc
        return pack(data, [block])

    def decode(self, payload: bytes) -> np.ndarray:
        return decode_single_block("zfp", payload, zfpy.decompress_numpy)

    def declared_bound(self) -> dict[str, Any] | None:
        """Tolerance mode: ``rel_range`` (relative) or ``abs``; precision and rate modes promise no bound."""
        if self.mode != "tolerance":
            return None
        return {"mode": "rel_range" if self.relative else "abs", "value": float(self.tolerance)}

    def report_extras(self) -> dict[str, Any]:
        """The absolute tolerance ZFP was given in the last encode (tolerance mode)."""
        return {} if self._last_abs_tolerance is None else {"zfp_abs_tolerance": self._last_abs_tolerance}
