"""What a conformance check reports: its result, the error that collects failures, and how checks end.

A check method returns a short note (passed) or raises ``Failed`` / ``Skipped`` with the
reason; ``Conformance.run`` turns that into a ``CheckResult``. The helpers describe what went wrong
in the words a plugin author needs: the first differing value with its bit pattern, the innermost
frame of an exception.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Status = Literal["passed", "failed", "skipped"]


class ConformanceError(AssertionError):
    """A codec failed one or more conformance checks; ``results`` holds every check's outcome."""

    def __init__(self, message: str, results: Sequence[CheckResult] = ()) -> None:
        super().__init__(message)
        self.results = list(results)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``status`` is "passed", "failed" or "skipped"; ``message`` says why."""

    name: str
    status: Status
    message: str = ""

    @property
    def passed(self) -> bool:
        """True when the check passed (False for failed and skipped checks)."""
        return self.status == "passed"

    def __str__(self) -> str:
        return f"{self.name}: {self.status}" + (f" ({self.message})" if self.message else "")


class Failed(Exception):
    """Raised inside a check to fail it with a message."""


class Skipped(Exception):
    """Raised inside a check to skip it with a reason."""


def bits_mismatch(a: np.ndarray, b: np.ndarray) -> str | None:
    """None when ``a`` and ``b`` are identical bit for bit, else a sentence naming the first difference."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return f"got {b.dtype} {b.shape}, expected {a.dtype} {a.shape}"
    if a.size == 0:
        return None
    ua = np.ascontiguousarray(a).view(f"u{a.dtype.itemsize}") if a.dtype.itemsize in (1, 2, 4, 8) else None
    ub = np.ascontiguousarray(b).view(f"u{b.dtype.itemsize}") if ua is not None else None
    if ua is None or ub is None:
        return None if a.tobytes() == b.tobytes() else "the bytes differ"
    diff = ua != ub
    n_diff = int(np.count_nonzero(diff))
    if n_diff == 0:
        return None
    where = tuple(int(i) for i in np.argwhere(diff)[0])
    width = a.dtype.itemsize * 2
    return (
        f"{n_diff} of {a.size} values differ; first at index {where}: "
        f"0x{int(ua[where]):0{width}x} ({a[where]!r}) became 0x{int(ub[where]):0{width}x} ({b[where]!r})"
    )


def explain(exc: BaseException) -> str:
    """``Type: message (at file:line in function)`` for the innermost frame of an exception."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {tb[-1].filename}:{tb[-1].lineno} in {tb[-1].name})" if tb else ""
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return f"{name}: {exc}{where}"


def json_normal(value: Any) -> Any:
    """``value`` after a JSON round trip (tuples become lists)."""
    return json.loads(json.dumps(value))


def json_ok(value: Any) -> bool:
    """Whether ``value`` is strict JSON (no NaN, no objects)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True
