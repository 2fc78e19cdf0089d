"""Error metrics of a reconstruction, per variable and overall (DESIGN.md section 5, Baler's definitions).

- residual = reconstructed - original
- response = (reconstructed - original) / original, over values where original != 0 (the number
  left out is reported as ``response_excluded``)
- RMS = sqrt(mean(x^2)); ``rel_rms`` = residual RMS / the variable's standard deviation (for a
  constant variable: 0 when the residual is 0, else infinity)
- ``abs_error_p50``/``abs_error_p99``: quantiles of |residual|
- overall: ``max_abs_error``, ``worst_rel_rms`` (largest ``rel_rms``), ``nrmse`` = RMSE / value range,
  ``psnr`` = 20 log10(range / RMSE) (infinite for an exact reconstruction)

Non-finite originals (NaN, +/-Inf) are left out of the statistics; a reconstruction that does not
reproduce them (same class: NaN for NaN, the same infinity) is counted in ``nonfinite_mismatch``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def bits_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays are identical bit for bit (NaN payloads and -0.0 included)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bytes(np.ascontiguousarray(a).data) == bytes(np.ascontiguousarray(b).data)


def _columns(data: np.ndarray, kind: str) -> list[np.ndarray]:
    if kind == "table" and data.ndim == 2:
        return [data[:, j] for j in range(data.shape[1])]
    return [data.reshape(-1)]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if x.size else 0.0


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
    abs_res = np.abs(res)
    std = float(np.std(o)) if o.size else 0.0
    rrms = _rms(res)
    if std > 0:
        rel = rrms / std
    else:
        rel = 0.0 if rrms == 0 else math.inf
    if mismatch:
        rel = math.inf
    return {
        "residual_mean": float(np.mean(res)) if res.size else 0.0,
        "residual_rms": rrms,
        "response_mean": float(np.mean(resp)) if resp.size else 0.0,
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


def error_metrics(
    original: np.ndarray, reconstructed: np.ndarray, kind: str = "table", variables: list[str] | None = None
) -> dict[str, Any]:
    """Per-variable statistics (``variables``) and the overall error figures of a reconstruction."""
    if original.shape != reconstructed.shape:
        raise ValueError(f"shapes differ: original {original.shape}, reconstructed {reconstructed.shape}")
    cols_o = _columns(original, kind)
    cols_r = _columns(reconstructed, kind)
    names = (
        variables
        if variables and len(variables) == len(cols_o)
        else (["value"] if len(cols_o) == 1 and kind != "table" else [f"x{i}" for i in range(len(cols_o))])
    )
    per_var = {n: variable_stats(o, r) for n, o, r in zip(names, cols_o, cols_r)}
    o = original.astype(np.float64, copy=False).reshape(-1)
    r = reconstructed.astype(np.float64, copy=False).reshape(-1)
    finite = np.isfinite(o)
    with np.errstate(invalid="ignore", over="ignore"):
        res = r[finite] - o[finite]
    mismatch = sum(v["nonfinite_mismatch"] for v in per_var.values())
    rmse = _rms(res) if np.isfinite(res).all() else math.inf
    value_range = float(o[finite].max() - o[finite].min()) if finite.any() else 0.0
    if mismatch:
        rmse = math.inf
    nrmse = (rmse / value_range) if value_range > 0 else (0.0 if rmse == 0 else math.inf)
    if rmse == 0:
        psnr = math.inf
    elif value_range > 0 and math.isfinite(rmse):
        psnr = 20 * math.log10(value_range / rmse)
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
