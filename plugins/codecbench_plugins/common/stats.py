"""Column statistics the per-column codecs share: the standard deviation and integer-valued columns."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from codecbench import CodecError


def exact_integer_limit(dtype: np.dtype) -> float:
    """Largest magnitude below which the float type holds every integer (2**24 for float32)."""
    return float(2 ** (np.finfo(dtype).nmant + 1))


def integer_valued(finite: np.ndarray, dtype: np.dtype) -> bool:
    """Every finite value is an integer within ``exact_integer_limit`` (and there is at least one)."""
    if not finite.size:
        return False
    return bool(np.all(finite == np.rint(finite))) and float(np.max(np.abs(finite))) <= exact_integer_limit(dtype)


def std_of(finite: np.ndarray) -> float:
    """Population standard deviation of the finite values in float64 (codecbench's metrics' definition).

    Scaled by the largest magnitude first, so values near the float64 maximum do not overflow.
    """
    if not finite.size:
        return 0.0
    finite = np.asarray(finite, dtype=np.float64)
    scale = float(np.max(np.abs(finite)))
    if not 0 < scale < math.inf:
        return 0.0
    return scale * float(np.std(finite / scale))


def check_columns(codec_id: str, columns: Any) -> list[str] | None:
    """``columns`` as a list of names (None stays None); ``CodecError`` for anything else."""
    if columns is None:
        return None
    if isinstance(columns, str) or not isinstance(columns, Sequence) or not all(isinstance(c, str) for c in columns):
        raise CodecError(f"{codec_id} columns must be a list of column names, not {columns!r}")
    return [str(c) for c in columns]


def check_flag(codec_id: str, name: str, value: Any, allow_none: bool = False) -> None:
    """``CodecError`` unless ``value`` is a bool (or None where ``allow_none``)."""
    if not (isinstance(value, bool) or (allow_none and value is None)):
        extra = ", or null" if allow_none else ""
        raise CodecError(f"{codec_id} {name} must be true or false{extra}, not {value!r}")
