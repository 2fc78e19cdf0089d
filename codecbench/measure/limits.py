"""The memoryless limit: the ratio an ideal memoryless coder reaches with a uniform scalar quantizer.

For a dataset and a target (``worst_rel_rms = t`` and/or ``max_abs_error = e``), each variable
(a table's column, or a whole field) is quantized with a uniform step::

    step = min(t * sqrt(12) * std, 2 * e)        q = rint(x / step)      recon = q * step

(``std`` over the variable's finite values, as ``codecbench.measure.metrics`` defines it). A uniform
quantizer's error is close to uniform on ``[-step/2, step/2]``, RMS ``step / sqrt(12)``: exactly the
target. The reconstruction (cast to the data's dtype, as a codec must deliver it) is then measured;
if it misses the target after all (finite-sample luck, coarse steps on lumpy data), the step is
shrunk by the factor it missed by (times 0.999) and measured again, up to ``MAX_SHRINKS`` times;
the record keeps how many shrinks it took (``widen=True`` instead searches the largest step that
meets the target, for variables that beat it at the formula's step). Integer-valued variables are coded exactly (their
symbols are their values); constant variables cost only their value.

Each variable's cost is ``n * H`` bits, ``H`` the empirical entropy (bits per value) of its
symbols, where each distinct non-finite bit pattern (NaN payloads, +-Inf) is one more symbol, plus
the side information a decoder needs: ``SIDE_BITS_PER_VARIABLE`` (the step, or the constant, as a
float64), plus the bit pattern of each distinct non-finite value (and, for a variable whose step
would be finer than its floats, ``kind="exact"``, the table of its distinct values). Then::

    limit ratio = raw bits / (sum over variables of n * H + side bits)

What it is: a lower bound on the size of any code that codes each variable's symbols of *this*
quantizer independently, value by value, with one fixed distribution per variable (``n * H`` is
the smallest such code length, even with the distribution known in advance). What it is not:
the rate-distortion bound. A joint model of the variables (pt and energy are correlated), a
predictor along the rows or the grid (SZ, ZFP, pcodec's delta modes on sorted or smooth data), a
non-uniform or vector quantizer, or a codec that spends the error budget unevenly can all beat it;
the true rate-distortion bound is lower still (for a Gaussian variable at high rate, a uniform
scalar quantizer with ideal entropy coding sits 0.254 bits per value above the Shannon lower
bound). ``model_bits`` estimates what a real coder pays on top for learning the distribution
(``(K - 1) / 2 * log2(n)`` bits for ``K`` symbols); it is reported, not included in the ratio.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from codecbench.errors import ConfigError
from codecbench.measure.metrics import variable_stats

SQRT12 = math.sqrt(12.0)
MAX_SHRINKS = 30
#: Side information per variable: its step (or its constant value) as a float64.
SIDE_BITS_PER_VARIABLE = 64


@dataclass(frozen=True)
class VariableLimit:
    """One variable's part of the limit."""

    name: str
    kind: str  # "quantized", "integer", "constant" or "exact"
    n: int
    step: float
    entropy_bits: float  # bits per value
    side_bits: float
    symbols: int
    rel_rms: float
    max_abs_error: float
    shrinks: int
    model_bits: float


@dataclass(frozen=True)
class Limit:
    """The memoryless limit of one dataset at one target."""

    target: dict[str, float]
    ratio: float
    bits_per_value: float
    raw_bits: int
    coded_bits: float
    side_bits: float
    model_bits: float
    variables: list[VariableLimit] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def integer_valued(finite: np.ndarray, dtype: np.dtype) -> bool:
    """Every finite value is an integer the float type holds exactly (``|x| <= 2**(mantissa bits + 1)``)."""
    if not finite.size:
        return False
    top = float(2 ** (np.finfo(dtype).nmant + 1))
    return bool(np.all(finite == np.rint(finite))) and float(np.max(np.abs(finite))) <= top


def empirical_entropy(symbols: np.ndarray) -> float:
    """Empirical (plug-in) entropy in bits per symbol of a 1-D array of symbols."""
    if symbols.size == 0:
        return 0.0
    _, counts = np.unique(symbols, return_counts=True)
    p = counts / symbols.size
    return float(-(p * np.log2(p)).sum())


def _symbols(x: np.ndarray, q_finite: np.ndarray) -> tuple[np.ndarray, int]:
    """All symbols of a variable: quantized finite values, then one symbol per non-finite bit pattern."""
    finite = np.isfinite(x)
    if finite.all():
        return q_finite, 0
    sym = np.empty(x.size, dtype=np.int64)
    sym[finite] = q_finite
    bits = np.ascontiguousarray(x[~finite]).view({2: np.uint16, 4: np.uint32, 8: np.uint64}[x.dtype.itemsize])
    patterns, inverse = np.unique(bits, return_inverse=True)
    top = int(q_finite.max()) + 1 if q_finite.size else 0
    sym[~finite] = top + inverse.reshape(-1)
    return sym, int(patterns.size)


def _errors(x64: np.ndarray, recon: np.ndarray) -> tuple[float, float]:
    """(rel_rms, max_abs_error) of a reconstruction, as every record measures them (``variable_stats``)."""
    stats = variable_stats(x64, recon)
    return float(stats["rel_rms"]), float(stats["max_abs_error"])


def _miss(rel: float, mx: float, t: float | None, e: float | None) -> float:
    """By how much errors miss the target (<= 1: they meet it)."""
    return max(rel / t if t is not None else 0.0, mx / e if e is not None else 0.0)


def _meets(x64: np.ndarray, dtype: np.dtype, step: float, t: float | None, e: float | None) -> float:
    """By how much ``step`` misses the target (<= 1: it meets it)."""
    return _miss(*_errors(x64, (np.rint(x64 / step) * step).astype(dtype)), t, e)


def _widen(x64: np.ndarray, dtype: np.dtype, step: float, t: float | None, e: float | None) -> float:
    """The largest step (found by doubling, then 20 log-scale bisections) that still meets the target."""
    lo, hi = step, step * 2.0
    while hi < step * 2.0**20 and _meets(x64, dtype, hi, t, e) <= 1.0:
        lo, hi = hi, hi * 2.0
    for _ in range(20):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if _meets(x64, dtype, mid, t, e) <= 1.0 else (lo, mid)
    return lo


def variable_limit(
    x: np.ndarray, name: str, t: float | None, e: float | None, exact_integers: bool = True, widen: bool = False
) -> VariableLimit:
    """The limit of one variable (see the module docstring); ``widen``: the largest step meeting the target."""
    x = np.ascontiguousarray(x).reshape(-1)
    finite = np.isfinite(x)
    x64 = x[finite].astype(np.float64)
    std = float(variable_stats(x64, x64)["std"])
    n = int(x.size)
    step, shrinks, kind = 0.0, 0, "quantized"
    if x64.size == 0 or np.all(x64 == x64[0]):
        kind, q = "constant", np.zeros(x64.size, dtype=np.int64)
    elif exact_integers and integer_valued(x64, x.dtype):
        kind, q = "integer", x64.astype(np.int64)
    else:
        step = min(t * SQRT12 * std if t is not None else math.inf, 2.0 * e if e is not None else math.inf)
        maxabs = float(np.max(np.abs(x64)))
        while True:
            if maxabs / step > 2.0**62:  # finer than any float: the values themselves
                kind, step = "exact", 0.0
                q = np.unique(x64, return_inverse=True)[1].reshape(-1).astype(np.int64)
                break
            q = np.rint(x64 / step).astype(np.int64)
            miss = _miss(*_errors(x64, (q * step).astype(x.dtype)), t, e)
            if miss <= 1.0 or shrinks >= MAX_SHRINKS:
                break
            step *= 0.999 / miss
            shrinks += 1
        if widen and kind == "quantized" and miss <= 1.0:
            step = _widen(x64, x.dtype, step, t, e)
            q = np.rint(x64 / step).astype(np.int64)
    recon = x64 if kind != "quantized" else (q * step).astype(x.dtype)
    rel, mx = _errors(x64, recon)
    sym, n_patterns = _symbols(x, q)
    h = empirical_entropy(sym)
    k = int(np.unique(sym).size) if sym.size else 0
    side = float(SIDE_BITS_PER_VARIABLE if kind in ("quantized", "constant") else 0) + 8.0 * x.itemsize * n_patterns
    if kind == "exact":  # the symbols index a table of the distinct values, which the decoder needs
        side += 8.0 * x.itemsize * (k - n_patterns)
    model = (k - 1) / 2 * math.log2(n) if n > 1 and k > 1 else 0.0
    return VariableLimit(name, kind, n, step, h, side, k, rel, mx, shrinks, model)


def memoryless_limit(
    data: np.ndarray,
    *,
    worst_rel_rms: float | None = None,
    max_abs_error: float | None = None,
    columns: list[str] | None = None,
    exact_integers: bool = True,
    widen: bool = False,
) -> Limit:
    """The memoryless limit of ``data`` at a target: a table by column when ``columns`` names them.

    At least one of ``worst_rel_rms`` and ``max_abs_error`` must be given (positive). ``widen=True``
    gives each variable the largest step that still meets the target instead of the formula's step
    (a variable whose error is below ``step / sqrt(12)``, such as one with many exact zeros, then
    gets a coarser step): the limit of the best per-variable uniform quantizer.
    """
    for key, v in (("worst_rel_rms", worst_rel_rms), ("max_abs_error", max_abs_error)):
        if v is not None and not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
            raise ConfigError(f"limit target {key} must be a finite positive number, not {v!r}")
    if worst_rel_rms is None and max_abs_error is None:
        raise ConfigError("the limit needs a target: worst_rel_rms and/or max_abs_error")
    if data.dtype.kind != "f":
        raise ConfigError(f"the limit is defined for float arrays, not {data.dtype}")
    if columns is not None:
        if data.ndim != 2 or data.shape[1] != len(columns):
            raise ConfigError(f"{len(columns)} column names for an array of shape {data.shape}")
        parts = [(str(c), data[:, j]) for j, c in enumerate(columns)]
    else:
        parts = [("value", data.reshape(-1))]
    var = [variable_limit(x, name, worst_rel_rms, max_abs_error, exact_integers, widen) for name, x in parts]
    raw = int(data.size * data.itemsize * 8)
    side = sum(v.side_bits for v in var)
    coded = sum(v.n * v.entropy_bits for v in var) + side
    target = {k: v for k, v in (("worst_rel_rms", worst_rel_rms), ("max_abs_error", max_abs_error)) if v is not None}
    return Limit(
        target=target,
        ratio=raw / coded if coded > 0 else math.inf,
        bits_per_value=coded / data.size if data.size else 0.0,
        raw_bits=raw,
        coded_bits=coded,
        side_bits=side,
        model_bits=sum(v.model_bits for v in var),
        variables=var,
    )
