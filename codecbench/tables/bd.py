"""Rate-distortion curves summarised in one number (Bjontegaard-style ratio gain at equal error).

``bd_ratio_gain(curve_a, curve_b)``: fit log(effective ratio) against log(worst rel_rms) with a
cubic polynomial (a lower degree when a curve has fewer points), integrate both fits over the error
range the two curves share, and turn the mean difference into a percent ratio gain at equal error,
``exp(mean difference) - 1``. ``bd_summary`` does it per dataset for every codec against a
reference codec (``trunc`` by default); the leaderboard and ``compare`` print it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from codecbench.errors import ConfigError


def _curve_array(curve: Any) -> np.ndarray:
    arr = np.asarray(curve, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ConfigError(f"a rate-distortion curve must be a sequence of (error, ratio) pairs, got shape {arr.shape}")
    keep = np.isfinite(arr).all(axis=1) & (arr[:, 0] > 0) & (arr[:, 1] > 0)
    return arr[keep]


def _fit(arr: np.ndarray) -> np.ndarray | None:
    x, y = np.log(arr[:, 0]), np.log(arr[:, 1])
    distinct = len(np.unique(x))
    if distinct < 2:
        return None
    return np.polyfit(x, y, min(3, distinct - 1))


def bd_details(curve_a: Any, curve_b: Any) -> dict[str, float]:
    """``bd_ratio_gain`` with its working: ``gain_pct``, ``error_lo``, ``error_hi`` (the overlap).

    Points with a non-positive or non-finite error or ratio are dropped (lossless points have no
    place on a log-error axis). NaN gain when a curve has fewer than two distinct errors or the
    curves' error ranges do not overlap.
    """
    a, b = _curve_array(curve_a), _curve_array(curve_b)
    nan = {"gain_pct": math.nan, "error_lo": math.nan, "error_hi": math.nan}
    if len(a) < 2 or len(b) < 2:
        return nan
    pa, pb = _fit(a), _fit(b)
    if pa is None or pb is None:
        return nan
    xa, xb = np.log(a[:, 0]), np.log(b[:, 0])
    lo, hi = max(xa.min(), xb.min()), min(xa.max(), xb.max())
    if not hi > lo:
        return nan
    ia, ib = np.polyint(pa), np.polyint(pb)
    mean_diff = ((np.polyval(ib, hi) - np.polyval(ib, lo)) - (np.polyval(ia, hi) - np.polyval(ia, lo))) / (hi - lo)
    return {
        "gain_pct": float(np.expm1(mean_diff) * 100.0),
        "error_lo": float(np.exp(lo)),
        "error_hi": float(np.exp(hi)),
    }


def bd_ratio_gain(curve_a: Any, curve_b: Any) -> float:
    """Average percent gain in ratio of curve B over curve A at equal error (Bjontegaard-style).

    Each curve is a sequence of ``(error, ratio)`` points (e.g. worst rel_rms and effective ratio of
    one codec's sweep). +25.0 means B compresses 25% more than A at the same error, averaged over
    the log-error range both curves cover. NaN when there is too little to compare.
    """
    return bd_details(curve_a, curve_b)["gain_pct"]


def rd_points(rows: pd.DataFrame) -> np.ndarray:
    """(worst_rel_rms, effective_ratio) of a codec's ok lossy settings on its own Pareto front, by error."""
    ok = rows[rows["status"] == "ok"] if "status" in rows.columns else rows
    arr = _curve_array(ok[["worst_rel_rms", "effective_ratio"]].to_numpy(dtype=float).reshape(-1, 2))
    keep = []
    for i, (e, r) in enumerate(arr):
        dominated = (arr[:, 1] >= r) & (arr[:, 0] <= e) & ((arr[:, 1] > r) | (arr[:, 0] < e))
        if not dominated.any():
            keep.append(i)
    arr = arr[keep]
    return arr[np.argsort(arr[:, 0], kind="stable")]


def bd_summary(frame: pd.DataFrame, reference: str | None = None) -> pd.DataFrame:
    """Per dataset, the Bjontegaard-style gain of every lossy codec's curve over ``reference``'s.

    ``reference`` defaults to ``trunc`` (the float-truncation baseline) where it has a curve.
    Codecs with fewer than two distinct errors have no curve and are left out. Columns: dataset,
    codec, reference, gain_pct, error_lo, error_hi, n_points, n_points_ref.
    """
    cols = ["dataset", "codec", "reference", "gain_pct", "error_lo", "error_hi", "n_points", "n_points_ref"]
    rows: list[dict[str, Any]] = []
    if frame.empty:
        return pd.DataFrame(columns=cols)
    for ds, part in frame.groupby("dataset", sort=True):
        curves = {c: rd_points(r) for c, r in part.groupby("codec", sort=True)}
        curves = {c: pts for c, pts in curves.items() if len(np.unique(pts[:, 0])) >= 2}
        ref = reference or "trunc"
        if ref not in curves:
            continue
        for codec, pts in curves.items():
            if codec == ref:
                continue
            d = bd_details(curves[ref], pts)
            rows.append(
                {
                    "dataset": ds,
                    "codec": codec,
                    "reference": ref,
                    **d,
                    "n_points": len(pts),
                    "n_points_ref": len(curves[ref]),
                }
            )
    return pd.DataFrame.from_records(rows, columns=cols)


def format_gain(gain: float) -> str:
    """A percent gain as ``+12.3%`` (``-`` when unknown; never ``-0.0%``)."""
    if not math.isfinite(gain):
        return "-"
    return f"{round(gain, 1) + 0.0:+.1f}%"
