"""``zfp``: the ZFP compressor for floating-point arrays (through the ``zfpy`` package)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import zfpy

from codecbench import Codec, CodecError, Knob, PayloadError

from . import stdbound
from ._common import check_float, fold_shape, pack, single_block, unpack

MODES = ("tolerance", "precision", "rate", "std")
_FRACTION_KNOB = Knob("tolerance", lo=1e-9, hi=1.0, log=True, finer="down")
_KNOBS = {
    "precision": Knob("precision", lo=1, hi=64, integer=True, finer="up"),
    "rate": Knob("rate", lo=0.5, hi=64.0, log=True, finer="up"),
}


class ZfpCodec(Codec):
    """ZFP in one of its three modes: ``tolerance`` (fixed accuracy), ``precision`` or ``rate``.

    - ``mode="tolerance"`` (default): every value within ``tolerance`` of the original. With
      ``relative=True`` (default) the tolerance is relative to the array's value range (over its
      finite values, as SZ's REL), so one setting fits data of any scale; with ``relative=False`` it
      is zfpy's absolute tolerance.
    - ``mode="precision"``: ``precision`` bit planes kept (1 to 64); no error bound.
    - ``mode="rate"``: ``rate`` bits per value (fixed size); no error bound.
    - ``mode="std"``: every value within ``tolerance * std`` of the original, ``std`` the standard
      deviation of its column's finite values (of the whole array for fields): ZFP's fixed-accuracy
      mode per column (``stdbound``), so a table's columns are compressed one by one (1-D) when
      ``columns`` names them; integer-valued columns are kept exact when ``exact_integers``.

    Arrays are folded to at most 4 dimensions (ZFP's limit) after dropping length-1 axes; ZFP
    decorrelates 4^d blocks, so a table of unrelated columns is compressed as a 2-D array.

    Declared bound: tolerance mode declares ``rel_range`` (relative) or ``abs`` (absolute) with the
    tolerance, std mode ``abs`` per column, checked on every value by the harness; precision and
    rate modes declare none. ZFP
    has no representation for NaN or Inf (it returns other numbers for them), so ``encode`` refuses
    arrays that contain them with a ``CodecError``.
    """

    codec_id = "zfp"
    lossless = False
    default_sweep = {"tolerance": [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6]}
    tune = _FRACTION_KNOB

    def __init__(
        self,
        mode: str = "tolerance",
        tolerance: float = 1e-3,
        relative: bool = True,
        precision: int = 16,
        rate: float = 8.0,
        exact_integers: bool = True,
        columns: list[str] | None = None,
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
        if not isinstance(exact_integers, bool):
            raise CodecError(f"zfp exact_integers must be true or false, not {exact_integers!r}")
        if columns is not None and (isinstance(columns, str) or not all(isinstance(c, str) for c in columns)):
            raise CodecError(f"zfp columns must be a list of column names, not {columns!r}")
        self.mode, self.tolerance, self.relative = mode, tolerance, relative
        self.precision, self.rate = precision, rate
        self.exact_integers, self.columns = exact_integers, None if columns is None else list(columns)
        self._last_abs_tolerance: float | None = None
        self._declared: list[float] | None = None  # std mode: the loosest absolute bounds encoded so far

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
            return pack("zfp", data, [])
        if self.mode == "std":
            return self._encode_std(data)
        arr = np.ascontiguousarray(data.reshape(fold_shape(data.shape, 4)))
        return pack("zfp", data, [self._compress(arr, **self._kwargs(data))])

    @staticmethod
    def _compress(arr: np.ndarray, **kwargs: Any) -> bytes:
        try:
            return zfpy.compress_numpy(np.ascontiguousarray(arr), **kwargs)
        except Exception as exc:  # zfpy raises RuntimeError/TypeError
            raise CodecError(f"zfp cannot compress an array of shape {arr.shape}: {exc}") from exc

    def _column_wise(self, data: np.ndarray) -> bool:
        if self.columns is None or data.ndim != 2:
            return False
        if len(self.columns) != data.shape[1]:
            raise CodecError(f"zfp has {len(self.columns)} column names for an array of shape {data.shape}")
        return True

    def _encode_std(self, data: np.ndarray) -> bytes:
        wise = self._column_wise(data)
        variables = [data[:, j] for j in range(data.shape[1])] if wise else [data.reshape(fold_shape(data.shape, 4))]
        meta, blocks, bounds = stdbound.encode_variables(
            variables,
            [float(self.tolerance)] * len(variables),
            self.exact_integers,
            lambda x, e: self._compress(x, tolerance=e),
        )
        self._declared = stdbound.loosest(self._declared, bounds)
        self._last_abs_tolerance = max(bounds)
        return pack("zfp", data, blocks, meta)

    def decode(self, payload: bytes | memoryview, *, dtype: Any = None, shape: Any = None) -> np.ndarray:
        body_dtype, body_shape, blocks, meta = unpack("zfp", payload, dtype, shape)
        if not meta:
            return single_block("zfp", body_dtype, body_shape, blocks, meta, zfpy.decompress_numpy)
        if math.prod(body_shape) == 0:
            return np.zeros(body_shape, dtype=body_dtype)
        per_column = len(body_shape) == 2 and len(blocks) == body_shape[1] and len(blocks) > 1
        shapes = [(body_shape[0],)] * body_shape[1] if per_column else [fold_shape(body_shape, 4)]
        cols = stdbound.decode_variables("zfp", meta, blocks, body_dtype, shapes, _zfp_decompress)
        return np.stack(cols, axis=1) if per_column else cols[0].reshape(body_shape)

    def knob(self) -> Knob | None:
        """``tolerance`` on a log scale (1e-9..1 relative or std, 1e-15..1e15 absolute), ``precision``
        (1..64 bit planes) or ``rate`` (0.5..64 bits per value), by mode."""
        if self.mode in _KNOBS:
            return _KNOBS[self.mode]
        if self.mode == "tolerance" and not self.relative:
            return Knob("tolerance", lo=1e-15, hi=1e15, log=True, finer="down")
        return self.tune

    def knob_hint(self, metric: str, value: float) -> float | None:
        """``sqrt(3) * t`` for ``worst_rel_rms = t`` in mode std (ZFP's error is well inside its
        tolerance, so this start meets the target and the search walks coarser from it)."""
        if self.mode == "std" and metric == "worst_rel_rms":
            return math.sqrt(3.0) * value
        return None

    def declared_bound(self) -> dict[str, Any] | None:
        """Tolerance mode: ``rel_range`` (relative) or ``abs``; std mode: ``abs`` per column (the loosest
        over every encode; None before the first); precision and rate modes promise no bound."""
        if self.mode == "std":
            return stdbound.declared(self._declared, self.columns)
        if self.mode != "tolerance":
            return None
        return {"mode": "rel_range" if self.relative else "abs", "value": float(self.tolerance)}

    def report_extras(self) -> dict[str, Any]:
        """The absolute tolerance ZFP was given in the last encode (tolerance mode)."""
        return {} if self._last_abs_tolerance is None else {"zfp_abs_tolerance": self._last_abs_tolerance}


def _zfp_decompress(block: bytes, shape: tuple[int, ...]) -> np.ndarray:
    try:
        out = zfpy.decompress_numpy(block)
    except Exception as exc:  # zfpy raises RuntimeError/TypeError on streams it cannot read
        raise PayloadError(f"zfp body cannot be decompressed: {exc}") from exc
    if out.shape != shape:
        raise PayloadError(f"zfp block decoded to shape {out.shape}, expected {shape}")
    return out
