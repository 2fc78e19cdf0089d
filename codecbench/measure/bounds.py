"""Checking a codec's declared error bound against every value it reconstructed.

A codec that promises an error bound returns it from ``Codec.declared_bound()``; the runner calls
``check_bound`` on the original and reconstructed arrays and merges the result into the record's
``extras``. We measure, we do not trust: the check recomputes everything from the data.

The bound forms (``bound["mode"]`` and ``bound["value"]``) are defined in the docstring of
``Codec.declared_bound`` (``codecbench.codec``), the contract's one text; ``MODES`` lists the modes
this module checks, and a test keeps the two in step. For the per-value modes,
``bound_violations`` counts the values that break the bound. For the global modes (``GLOBAL_MODES``:
a statistic of the whole array, or of each column), ``bound_violations`` counts the blocks (the
array, or each column of a per-column bound) whose statistic breaks the bound, ``bound_blocks`` the
blocks checked, ``bound_violation_fraction`` their ratio, ``bound_achieved`` the statistic
measured (a mapping per column), ``bound_worst_excess`` the largest shortfall (dB for psnr, norm
units for l2norm) and ``bound_worst_ratio`` the ratio of the achieved RMS (or L2) error to the
allowed one. An infinite excess or ratio is reported as None (strict JSON has no Infinity).

A per-column bound (``value`` a mapping ``{column name: value}``; ``columns`` names the columns
of a 2-D array) is checked column by column, each against its own range for ``rel_range``; columns
not named are listed in ``bound_unchecked_columns``. Every non-finite mismatch counts as a violation
and is also counted in ``bound_nonfinite_mismatches``; the excess and ratio statistics cover finite
values.

Tolerance: errors and allowed errors are computed in float64. For float32 (and float16) data the
difference ``r - o`` is then exact, but for float64 data the subtraction, the product ``value * |o|``
and the range ``max - min`` each round by up to half an ulp. A value counts as a violation only when
``|r - o| > allowed * (1 + 4 * 2**-52)``: a relative slack of about 9e-16 that covers the check's own
rounding and nothing else (a float32 codec cannot exceed a bound by less than one float32 ulp,
about 6e-8 relative, so the slack never hides a float32 violation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from codecbench.errors import CodecError

MODES = ("abs", "rel", "rel_range", "abs_and_rel_range", "rel_or_abs", "psnr", "l2norm")
#: Modes whose value is a pair ``{"abs": a, "rel": r}``.
PAIR_MODES = ("abs_and_rel_range", "rel_or_abs")
#: Modes that bound a statistic of a whole block (array or column) rather than each value.
GLOBAL_MODES = ("psnr", "l2norm")
#: Relative slack for the check's own float64 rounding (see the module docstring).
CHECK_TOLERANCE = 4 * 2.0**-52


def _number(v: Any, what: str) -> float:
    numeric = isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
    if not numeric or not math.isfinite(v) or v < 0:
        raise CodecError(f"declared bound {what} must be a finite non-negative number, not {v!r}")
    return float(v)


def _parse_value(mode: str, v: Any, what: str) -> float | tuple[float, float]:
    """A single (not per-column) bound value: a number, or (abs, rel) for the pair modes."""
    if mode in PAIR_MODES:
        if not isinstance(v, Mapping) or set(v) != {"abs", "rel"}:
            raise CodecError(f"declared bound {what} for mode {mode!r} must be {{'abs': a, 'rel': r}}")
        return (_number(v["abs"], f"{what}['abs']"), _number(v["rel"], f"{what}['rel']"))
    return _number(v, what)


def _is_per_column(mode: str, value: Any) -> bool:
    if not isinstance(value, Mapping):
        return False
    if mode in PAIR_MODES:  # {"abs": a, "rel": r} is one bound; {col: {...}} is per column
        return not (set(value) == {"abs", "rel"} and not any(isinstance(x, Mapping) for x in value.values()))
    return True


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.generic):
        return v.item()
    return v


def _nonfinite_mismatches(o: np.ndarray, r: np.ndarray) -> tuple[int, np.ndarray]:
    """Count non-finite mismatches; return it with the mask of values finite in both."""
    fo, fr = np.isfinite(o), np.isfinite(r)
    nan_ok = np.isnan(o) & np.isnan(r)
    inf_ok = np.isinf(o) & (o == r)
    bad = int(np.count_nonzero(~fo & ~(nan_ok | inf_ok))) + int(np.count_nonzero(fo & ~fr))
    return bad, fo & fr


def _as_float64(a: np.ndarray) -> np.ndarray:
    """Flat float64 copy; a signalling NaN converts to a quiet NaN without the 'invalid value' warning."""
    with np.errstate(invalid="ignore"):
        return np.asarray(a, dtype=np.float64).ravel()


def _value_range(finite: np.ndarray) -> float:
    """max - min of the finite values (0 if none); inf for float64 data spanning -max..max."""
    if not finite.size:
        return 0.0
    with np.errstate(over="ignore"):
        return float(finite.max() - finite.min())


def _finite_or_none(v: float | None) -> float | None:
    """Strict JSON has no Infinity: an infinite statistic (a finite value decoded to +-max) becomes None."""
    return v if v is None or math.isfinite(v) else None


class _Tally:
    def __init__(self) -> None:
        self.checked = 0
        self.violations = 0
        self.nonfinite = 0
        self.worst_excess = 0.0
        self.worst_ratio: float | None = None
        self.blocks = 0
        self.achieved: list[float | None] = []

    def _ratio(self, ratio: float) -> None:
        self.worst_ratio = ratio if self.worst_ratio is None else max(self.worst_ratio, ratio)

    def add_global(self, o: np.ndarray, r: np.ndarray, mode: str, value: float) -> int:
        """Check one block against a global bound (psnr or l2norm); return 1 if it breaks it, else 0."""
        o, r = _as_float64(o), _as_float64(r)
        nonfinite_bad, both = _nonfinite_mismatches(o, r)
        err = r[both] - o[both]
        self.checked += int(o.size)
        self.blocks += 1
        self.nonfinite += nonfinite_bad
        broken = nonfinite_bad > 0
        if mode == "l2norm":
            l2 = float(np.sqrt(np.sum(err * err)))
            self.achieved.append(l2)
            if l2 > value * (1.0 + CHECK_TOLERANCE):
                broken = True
                self.worst_excess = max(self.worst_excess, l2 - value)
            if value > 0:
                self._ratio(l2 / value)
        else:
            finite_o = o[np.isfinite(o)]
            rng = _value_range(finite_o)
            rmse = float(np.sqrt(np.mean(err * err))) if err.size else 0.0
            psnr = math.inf if rmse == 0 else (20 * math.log10(rng / rmse) if rng > 0 else -math.inf)
            self.achieved.append(psnr if math.isfinite(psnr) else None)
            if psnr < value - 20 * math.log10(1.0 + CHECK_TOLERANCE):
                broken = True
                self.worst_excess = max(self.worst_excess, value - psnr if math.isfinite(psnr) else math.inf)
            allowed_rmse = rng * 10 ** (-value / 20)
            if allowed_rmse > 0:
                self._ratio(rmse / allowed_rmse)
        self.violations += int(broken)
        return int(broken)

    def add(self, o: np.ndarray, r: np.ndarray, mode: str, value: float | tuple[float, float]) -> int:
        """Check one block (the whole array or one column); return its number of violations."""
        o, r = _as_float64(o), _as_float64(r)
        fo = np.isfinite(o)
        nonfinite_bad, both = _nonfinite_mismatches(o, r)
        of, rf = o[both], r[both]
        err = np.abs(rf - of)
        if mode == "abs":
            allowed: np.ndarray | float = float(value)  # type: ignore[arg-type]
        elif mode == "rel":
            allowed = float(value) * np.abs(of)  # type: ignore[arg-type]
        elif mode == "rel_or_abs":
            a, rel = value  # type: ignore[misc]
            allowed = np.maximum(rel * np.abs(of), a)
        else:
            finite_o = o[fo]
            rng = _value_range(finite_o)
            if mode == "rel_range":
                allowed = float(value) * rng  # type: ignore[arg-type]
            else:
                a, rel = value  # type: ignore[misc]
                allowed = min(a, rel * rng)
        allowed = np.broadcast_to(np.asarray(allowed, dtype=np.float64), err.shape)
        with np.errstate(over="ignore"):  # near the largest float: inf slack and an inf excess are still right
            bad = err > allowed * (1.0 + CHECK_TOLERANCE)
            n_bad = int(np.count_nonzero(bad))
            if n_bad:
                self.worst_excess = max(self.worst_excess, float((err[bad] - allowed[bad]).max()))
            pos = allowed > 0
            if np.any(pos):
                self._ratio(float((err[pos] / allowed[pos]).max()))
        self.checked += int(o.size)
        self.violations += n_bad + nonfinite_bad
        self.nonfinite += nonfinite_bad
        return n_bad + nonfinite_bad


def check_bound(
    original: np.ndarray,
    reconstructed: np.ndarray,
    bound: dict[str, Any],
    columns: list[str] | None = None,
) -> dict[str, Any]:
    """Check ``reconstructed`` against ``original`` under a declared ``bound``; return extras for the record.

    ``bound`` is ``{"mode": ..., "value": ...}`` as the module docstring describes; ``columns`` names
    the columns of a 2-D table and is needed only when ``value`` is a per-column mapping.

    Returns a JSON-serialisable dict: ``bound_mode``, ``bound_value`` (as declared),
    ``bound_checked`` (values checked), ``bound_violations`` (values breaking the bound, non-finite
    mismatches included), ``bound_violation_fraction`` (violations / values checked, 0 when none
    were checked), ``bound_worst_excess`` (largest ``|err| - allowed`` over violating values, 0 if
    none), ``bound_worst_ratio`` (largest ``|err| / allowed`` where allowed > 0; None if there is no
    such value), ``bound_nonfinite_mismatches``; for per-column bounds also
    ``bound_violations_by_column`` and, if some columns have no bound, ``bound_unchecked_columns``.

    Raises ``CodecError`` for a malformed bound, arrays of different shapes, or a per-column bound
    without matching column names.
    """
    if not isinstance(bound, Mapping) or "mode" not in bound or "value" not in bound:
        raise CodecError(f"a declared bound is a dict with 'mode' and 'value', not {bound!r}")
    mode, value = bound["mode"], bound["value"]
    if mode not in MODES:
        raise CodecError(f"declared bound mode {mode!r} is unknown; use one of {', '.join(MODES)}")
    original, reconstructed = np.asarray(original), np.asarray(reconstructed)
    if original.shape != reconstructed.shape:
        raise CodecError(
            f"cannot check the bound: reconstructed shape {reconstructed.shape} differs from the original's "
            f"{original.shape}"
        )
    tally = _Tally()
    check = tally.add_global if mode in GLOBAL_MODES else tally.add
    out: dict[str, Any] = {"bound_mode": mode, "bound_value": _jsonable(value)}
    if _is_per_column(mode, value):
        if columns is None or original.ndim != 2 or original.shape[1] != len(columns):
            raise CodecError(
                f"the declared bound gives a value per column ({', '.join(map(str, value))}) but the array of shape "
                f"{original.shape} comes with column names {columns!r}; pass the table's columns"
            )
        unknown = sorted(set(value) - set(columns))
        if unknown:
            raise CodecError(
                f"the declared bound names columns {', '.join(map(repr, unknown))} that the table does not have "
                f"(its columns: {', '.join(columns)})"
            )
        by_column: dict[str, int] = {}
        for j, name in enumerate(columns):
            if name in value:
                v = _parse_value(mode, value[name], f"value[{name!r}]")
                by_column[name] = check(original[:, j], reconstructed[:, j], mode, v)
        out["bound_violations_by_column"] = by_column
        unchecked = [c for c in columns if c not in value]
        if unchecked:
            out["bound_unchecked_columns"] = unchecked
    else:
        check(original, reconstructed, mode, _parse_value(mode, value, "value"))
    per_block = mode in GLOBAL_MODES
    denominator = tally.blocks if per_block else tally.checked
    if per_block:
        out["bound_blocks"] = tally.blocks
        out["bound_achieved"] = (
            dict(zip([c for c in columns or [] if c in value], tally.achieved))
            if _is_per_column(mode, value)
            else tally.achieved[0]
        )
    out.update(
        {
            "bound_checked": tally.checked,
            "bound_violations": tally.violations,
            "bound_violation_fraction": tally.violations / denominator if denominator else 0.0,
            "bound_worst_excess": _finite_or_none(tally.worst_excess),
            "bound_worst_ratio": _finite_or_none(tally.worst_ratio),
            "bound_nonfinite_mismatches": tally.nonfinite,
        }
    )
    return out
