"""Error metrics of a reconstruction, per variable and overall (DESIGN.md section 5, Baler's definitions).

- residual = reconstructed - original
- response = (reconstructed - original) / original, over values where original != 0 (the number
  left out is reported as ``response_excluded``); a response beyond the float64 range is clipped to
  +-1.8e308
- RMS = sqrt(mean(x^2)); ``rel_rms`` = residual RMS / the variable's standard deviation (for a
  constant variable: 0 when the residual is 0, else infinity)
- ``abs_error_p50``/``abs_error_p99``: quantiles of |residual|
- overall: ``max_abs_error``, ``worst_rel_rms`` (largest ``rel_rms``), ``nrmse`` = RMSE / value range,
  ``psnr`` = 20 log10(range / RMSE) (infinite for an exact reconstruction)

Non-finite originals (NaN, +/-Inf) are left out of the statistics; a reconstruction that does not
reproduce them (same class: NaN for NaN, the same infinity) is counted in ``nonfinite_mismatch``.
Sums and squares of float64 values near the largest (or smallest) float are scaled first, so the
statistics of such data do not overflow to inf or underflow to 0; a value range wider than the
largest float64 (-max to +max) still gives a finite ``nrmse`` and ``psnr``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_CHUNK = 1 << 22  # elements per chunk when comparing large arrays


def _as_bits(a: np.ndarray) -> np.ndarray:
    flat = np.ascontiguousarray(a).reshape(-1)
    return flat.view(f"u{a.dtype.itemsize}") if a.dtype.itemsize in (1, 2, 4, 8) else flat.view(np.uint8)


def count_bit_differences(a: np.ndarray, b: np.ndarray) -> int:
    """Number of elements whose bit patterns differ (chunked: no full-size temporary)."""
    ua, ub = _as_bits(a), _as_bits(b)
    return sum(int(np.count_nonzero(ua[i : i + _CHUNK] != ub[i : i + _CHUNK])) for i in range(0, ua.size, _CHUNK))


def bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays are identical bit for bit (NaN payloads and -0.0 included)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return count_bit_differences(a, b) == 0


def _columns(data: np.ndarray, kind: str) -> list[np.ndarray]:
    if kind == "table" and data.ndim == 2:
        return [data[:, j] for j in range(data.shape[1])]
    return [data.reshape(-1)]


# Squares of float64 values beyond these overflow to inf or underflow to 0: scale such arrays first.
_BIG, _SMALL = 1e150, 1e-150


def _scale(x: np.ndarray) -> float:
    """1, or the largest |x| when squaring or summing ``x`` could overflow or underflow float64."""
    if not x.size:
        return 1.0
    m = float(np.max(np.abs(x)))
    return m if (m > _BIG or 0 < m < _SMALL) and math.isfinite(m) else 1.0


def _rms(x: np.ndarray) -> float:
    if not x.size:
        return 0.0
    s = _scale(x)
    return s * float(np.sqrt(np.mean(np.square(x / s if s != 1.0 else x))))


def _mean(x: np.ndarray) -> float:
    s = _scale(x)
    return s * float(np.mean(x / s if s != 1.0 else x)) if x.size else 0.0


def _std(x: np.ndarray) -> float:
    s = _scale(x)
    return s * float(np.std(x / s if s != 1.0 else x)) if x.size else 0.0


def variable_stats(orig: np.ndarray, recon: np.ndarray) -> dict[str, Any]:
    """Residual and response statistics of one variable (1-D arrays)."""
    o = orig.astype(np.float64, copy=False)
    r = recon.astype(np.float64, copy=False)
    finite = np.isfinite(o)
    nonfinite = ~finite
    mismatch = 0
    if nonfinite.any():
        on, rn = o[nonfinite], r[nonfinite]
        same = (np.isnan(on) & np.isnan(rn)) | (on == rn)
        mismatch = int((~same).sum())
    o, r = o[finite], r[finite]
    with np.errstate(invalid="ignore", over="ignore"):
        res = r - o
    res_finite = np.isfinite(res)
    if not res_finite.all():
        # The codec turned finite values into NaN/Inf: that error is unbounded.
        mismatch += int((~res_finite).sum())
    nz = o != 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        resp = res[nz] / o[nz]
    if resp.size and not np.isfinite(resp).all():
        # A response beyond float64 (an error far larger than a near-zero original, e.g. a subnormal
        # one) is clipped to +-max, so the mean of mixed-sign overflows is not NaN.
        big = np.finfo(np.float64).max
        resp = np.clip(np.nan_to_num(resp, nan=big), -big, big)
    abs_res = np.abs(res)
    std = _std(o)
    rrms = _rms(res)
    if std > 0:
        rel = rrms / std
    else:
        rel = 0.0 if rrms == 0 else math.inf
    if mismatch:
        rel = math.inf
    return {
        "residual_mean": _mean(res),
        "residual_rms": rrms,
        "response_mean": _mean(resp),
        "response_rms": _rms(resp),
        "max_abs_error": float(abs_res.max()) if abs_res.size else 0.0,
        "rel_rms": rel,
        "abs_error_p50": float(np.quantile(abs_res, 0.5)) if abs_res.size else 0.0,
        "abs_error_p99": float(np.quantile(abs_res, 0.99)) if abs_res.size else 0.0,
        "std": std,
        "response_excluded": int((~nz).sum()),
        "n_nonfinite": int(nonfinite.sum()),
        "nonfinite_mismatch": mismatch,
    }


def _names(n_cols: int, kind: str, variables: list[str] | None) -> list[str]:
    if variables and len(variables) == n_cols:
        return list(variables)
    return ["value"] if n_cols == 1 and kind != "table" else [f"x{i}" for i in range(n_cols)]


def _overall(per_var: dict[str, dict[str, Any]], counts: list[int], lo: float, hi: float) -> dict[str, Any]:
    mismatch = sum(v["nonfinite_mismatch"] for v in per_var.values())
    total = sum(counts)
    top = max((v["residual_rms"] for v in per_var.values()), default=0.0)
    scale = top if 0 < top < math.inf else 1.0  # pooled in units of the largest RMS: no overflow
    sq = sum((v["residual_rms"] / scale) ** 2 * n for v, n in zip(per_var.values(), counts))
    rmse = math.inf if mismatch else (scale * math.sqrt(sq / total) if total else 0.0)
    # halved, so that a range wider than the largest float64 (-max to +max) stays finite
    half_range = hi / 2 - lo / 2 if total else 0.0
    nrmse = (rmse / 2 / half_range) if half_range > 0 else (0.0 if rmse == 0 else math.inf)
    if rmse == 0:
        psnr = math.inf
    elif half_range > 0 and math.isfinite(rmse):
        psnr = 20 * math.log10(half_range / (rmse / 2))
    else:
        psnr = -math.inf
    max_abs = max((v["max_abs_error"] for v in per_var.values()), default=0.0)
    return {
        "variables": per_var,
        "max_abs_error": math.inf if mismatch else max_abs,
        "worst_rel_rms": max((v["rel_rms"] for v in per_var.values()), default=0.0),
        "nrmse": nrmse,
        "psnr": psnr,
        "nonfinite_mismatch": mismatch,
    }


def _finite_range(col: np.ndarray) -> tuple[int, float, float]:
    finite = np.isfinite(col)
    n = int(np.count_nonzero(finite))
    if n == 0:
        return 0, math.inf, -math.inf
    vals = col[finite] if n < col.size else col
    return n, float(vals.min()), float(vals.max())


def error_metrics(
    original: np.ndarray, reconstructed: np.ndarray, kind: str = "table", variables: list[str] | None = None
) -> dict[str, Any]:
    """Per-variable statistics (``variables``) and the overall error figures of a reconstruction.

    Overall RMSE is pooled from the per-variable residual RMS values, and the value range is the
    range of every finite original value, so no full-size float64 copy of the arrays is made.
    """
    if original.shape != reconstructed.shape:
        raise ValueError(f"shapes differ: original {original.shape}, reconstructed {reconstructed.shape}")
    cols_o = _columns(original, kind)
    cols_r = _columns(reconstructed, kind)
    names = _names(len(cols_o), kind, variables)
    per_var = {n: variable_stats(o, r) for n, o, r in zip(names, cols_o, cols_r)}
    ranges = [_finite_range(o) for o in cols_o]
    lo = min((r[1] for r in ranges), default=0.0)
    hi = max((r[2] for r in ranges), default=0.0)
    return _overall(per_var, [r[0] for r in ranges], lo, hi)


def exact_metrics(original: np.ndarray, kind: str = "table", variables: list[str] | None = None) -> dict[str, Any]:
    """The metrics of a reconstruction verified bit-exact: every error is zero (nothing to compute).

    Only the counts ``response_excluded`` (zeros) and ``n_nonfinite`` are taken from ``original``, so
    that every record says how many values its response statistics leave out.
    """
    cols = _columns(original, kind)
    zero = {
        "residual_mean": 0.0, "residual_rms": 0.0, "response_mean": 0.0, "response_rms": 0.0,
        "max_abs_error": 0.0, "rel_rms": 0.0, "abs_error_p50": 0.0, "abs_error_p99": 0.0,
        "nonfinite_mismatch": 0,
    }  # fmt: skip
    per_var = {
        n: {
            **zero,
            "response_excluded": int(np.count_nonzero(c == 0)),
            "n_nonfinite": int(c.size - np.isfinite(c).sum()),
        }
        for n, c in zip(_names(len(cols), kind, variables), cols)
    }
    return _overall(per_var, [0] * len(cols), 0.0, 0.0)


def size_metrics(raw_bytes: int, payload_bytes: int, aux_bytes: int, n_values: int) -> dict[str, Any]:
    """Compression ratio, effective ratio (aux bytes counted) and bits per value."""
    return {
        "raw_bytes": raw_bytes,
        "payload_bytes": payload_bytes,
        "aux_bytes": aux_bytes,
        "ratio": raw_bytes / payload_bytes if payload_bytes else math.inf,
        "effective_ratio": raw_bytes / (payload_bytes + aux_bytes) if payload_bytes + aux_bytes else math.inf,
        "bits_per_value": 8.0 * payload_bytes / n_values if n_values else math.nan,
    }
