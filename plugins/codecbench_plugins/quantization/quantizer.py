"""The arithmetic of the ``quant`` codec: one variable (a column, or a whole field) at a time.

Each variable gets one of four kinds:

- ``INT``: every finite value is an integer in the range where the float type holds every integer
  (``|x| <= 2**(mantissa bits + 1)``: 2**24 for float32): the symbols are the values, exact;
- ``LINEAR`` (modes ``abs`` and ``std``): ``q = rint(x / step)``, ``recon = q * step`` computed in
  float64 and rounded once to the data's dtype, with ``step = 2 * (e - margin)``, ``e`` the
  absolute bound, ``M = max|x| + e`` (no reconstruction is larger) and
  ``margin = spacing_dtype(M) / 2 + 4 * spacing_float64(M)``: the division, the product and the
  final rounding add at most ``2 * spacing_float64(M)`` and ``spacing_dtype(M) / 2``, so
  ``|recon - x| <= e`` holds for every value (proof in README.md). ``e`` above ``max|x|`` is
  lowered to ``max|x|`` (coding every value as zero would meet it);
- ``LOG`` (mode ``rel``): ``k = rint(log2|x| / s)``, ``recon = sign(x) * 2**(k * s)``, with
  ``s = 2 * log2(1 + v')`` and ``v' = (1 + v) / (1 + 4 eps) - 1`` (``eps`` the dtype's machine
  epsilon: room for the rounding of ``exp2`` and of the cast), so ``|recon - x| <= v |x|``. Zero is
  symbol 0 and comes back exactly; negative values carry their sign in the symbol's sign;
- ``EXACT``: a constant variable, or one whose bound is finer than the data's own resolution: the
  values are stored bit for bit (a constant column costs a few bytes).

Exceptions: non-finite values (NaN with its payload, +-Inf) and any value whose reconstruction
misses the bound after all (the verification below: subnormals and overflow near the dtype's
largest value in ``LOG``; none is expected in ``LINEAR``) are stored as (index, original bits) and
put back after dequantization, so NaN and Inf come back bit for bit. ``-0.0`` becomes ``+0.0`` in
``INT``, ``LINEAR`` and ``LOG`` (an error of zero, within every bound).

The encoder runs the decoder's own ``dequantize`` and checks every value, so a bound cannot be
missed silently: a value that would miss it becomes an exception.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

INT, LINEAR, LOG, EXACT = 0, 1, 2, 3
KIND_NAMES = {INT: "int", LINEAR: "linear", LOG: "log", EXACT: "exact"}
#: Per-variable header: kind u8; then step f64 (LINEAR), step f64 and kmin i64 (LOG); then std f64 if stored.
_F64, _I64 = struct.Struct("<d"), struct.Struct("<q")
UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


@dataclass(frozen=True)
class Plan:
    """How one variable is coded: its kind and parameters (what the decoder reads from the body)."""

    kind: int
    step: float = 0.0
    kmin: int = 0
    bound: float = 0.0
    std: float = 0.0

    def pack(self, with_std: bool) -> bytes:
        """The decoder's part (kind, step, kmin) and, if ``with_std``, the std (``bound`` is the encoder's)."""
        out = bytes([self.kind])
        if self.kind in (LINEAR, LOG):
            out += _F64.pack(self.step)
        if self.kind == LOG:
            out += _I64.pack(self.kmin)
        return out + (_F64.pack(self.std) if with_std else b"")

    @classmethod
    def unpack(cls, meta: bytes, pos: int, with_std: bool) -> tuple[Plan, int]:
        """Read what ``pack`` wrote at ``pos``; return the plan and the next position (struct.error if short)."""
        kind = meta[pos]
        pos += 1
        step = kmin = 0
        if kind in (LINEAR, LOG):
            (step,) = _F64.unpack_from(meta, pos)
            pos += 8
        if kind == LOG:
            (kmin,) = _I64.unpack_from(meta, pos)
            pos += 8
        std = 0.0
        if with_std:
            (std,) = _F64.unpack_from(meta, pos)
            pos += 8
        return cls(kind, float(step), int(kmin), 0.0, std), pos


def _spacing(dtype: np.dtype, magnitude: float) -> float:
    """Spacing of ``dtype`` at ``magnitude`` (at the top binade for magnitudes beyond the largest float)."""
    top = np.nextafter(np.finfo(dtype).max, dtype.type(0))
    with np.errstate(over="ignore"):
        m = np.array(magnitude, dtype=np.float64).astype(dtype)
    return float(np.spacing(min(m, top) if np.isfinite(m) else top))


def linear_step(e: float, maxabs: float, dtype: np.dtype) -> float:
    """The step that keeps ``|q * step - x| <= e`` after float64 arithmetic and rounding; 0 = store exact."""
    if not (e > 0) or maxabs == 0 or not math.isfinite(maxabs):
        return 0.0
    e = min(e, maxabs)
    top = maxabs + e  # no reconstruction is larger in magnitude
    step = 2.0 * (e - 0.5 * _spacing(dtype, top) - 4.0 * _spacing(np.dtype(np.float64), top))
    if not step > 0 or maxabs / step > 2.0**62:
        return 0.0
    return step


def log_step(v: float, dtype: np.dtype) -> float:
    """The log2-domain step keeping ``|recon - x| <= v |x|`` after ``exp2`` and rounding; 0 = store exact."""
    if not (v > 0) or not math.isfinite(v):
        return 0.0
    eps = float(np.finfo(dtype).eps)
    v_eff = (1.0 + v) / (1.0 + 4.0 * eps) - 1.0
    return 2.0 * math.log2(1.0 + v_eff) if v_eff > 0 else 0.0


def quantize(x64: np.ndarray, plan: Plan) -> np.ndarray:
    """Symbols (int64) of finite float64 values under ``plan`` (INT, LINEAR or LOG)."""
    if plan.kind == INT:
        return x64.astype(np.int64)
    if plan.kind == LINEAR:
        return np.rint(x64 / plan.step).astype(np.int64)
    a = np.abs(x64)
    nz = a > 0
    k = np.zeros(x64.shape, dtype=np.int64)
    with np.errstate(divide="ignore"):
        k[nz] = np.rint(np.log2(a[nz]) / plan.step).astype(np.int64)
    z = np.where(nz, k - plan.kmin + 1, 0)
    return np.where(x64 < 0, -z, z)


def log_kmin(x64: np.ndarray, s: float) -> int:
    """Smallest log2 symbol of the nonzero finite values (the offset that keeps LOG symbols small)."""
    a = np.abs(x64[x64 != 0])
    return int(np.rint(np.log2(a) / s).min()) if a.size else 0


def dequantize(q: np.ndarray, plan: Plan, dtype: np.dtype) -> np.ndarray:
    """Reconstruction (in ``dtype``) of symbols under ``plan``: the decoder's arithmetic, exactly."""
    if plan.kind == INT:
        return q.astype(dtype)
    if plan.kind == LINEAR:
        with np.errstate(over="ignore"):  # beyond the dtype: inf, caught by the encoder's check
            return (q.astype(np.float64) * plan.step).astype(dtype)
    m = np.abs(q)
    with np.errstate(over="ignore"):
        mag = np.exp2((m - 1 + plan.kmin).astype(np.float64) * plan.step)
        out = np.where(q == 0, 0.0, np.where(q < 0, -mag, mag))
        return out.astype(dtype)


def within(recon: np.ndarray, x64: np.ndarray, plan: Plan, rel: bool) -> np.ndarray:
    """Mask of values whose reconstruction meets the bound (checked in float64, no slack)."""
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(recon.astype(np.float64) - x64)
        allowed = plan.bound * np.abs(x64) if rel else plan.bound
        return np.isfinite(err) & (err <= allowed)


def raw_bits(x: np.ndarray) -> np.ndarray:
    """The bit patterns of a float array as unsigned integers of the same width."""
    return np.ascontiguousarray(x).view(UINT[x.dtype.itemsize])
