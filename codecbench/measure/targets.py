"""Targets: a metric a record must meet (``worst_rel_rms=5e-4``), and the one place that reads it from a record.

A target is ``METRIC=VALUE``. ``METRIC`` is one of the overall figures every record carries
(``worst_rel_rms``, ``max_abs_error``, ``nrmse``: met when at most ``VALUE``; ``psnr``: met when
at least ``VALUE``) or ``VARIABLE.STAT``, a per-variable statistic of one column (``Jet_pt.rel_rms``,
``value.max_abs_error``; met when at most ``VALUE``). ``target_value`` is the single lookup of a
metric in a record: the leaderboard's budgets, the runner's search and the limit all go through
it, so a new kind of metric (observables) is added here once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from codecbench.errors import ConfigError

#: Overall metrics and whether a smaller value is better.
OVERALL = {"worst_rel_rms": True, "max_abs_error": True, "nrmse": True, "psnr": False}
#: Per-variable statistics a ``VARIABLE.STAT`` target may name (all: smaller is better).
VARIABLE_STATS = ("rel_rms", "max_abs_error", "residual_rms", "abs_error_p50", "abs_error_p99", "response_rms")
#: Metrics the memoryless limit is defined for (``codecbench.measure.limits``).
LIMIT_METRICS = ("worst_rel_rms", "max_abs_error")


@dataclass(frozen=True)
class Target:
    """``metric`` must be at most ``value`` (at least, for ``psnr``)."""

    metric: str
    value: float

    def __post_init__(self) -> None:
        check_metric(self.metric)
        ok = isinstance(self.value, int | float) and not isinstance(self.value, bool) and math.isfinite(self.value)
        if not ok or (self.lower_is_better and self.value <= 0):
            raise ConfigError(
                f"target {self.metric} needs a finite {'positive ' * self.lower_is_better}number, not {self.value!r}"
            )

    @property
    def lower_is_better(self) -> bool:
        """True when the metric must be at most the value."""
        return OVERALL.get(self.metric, True)

    def to_dict(self) -> dict[str, Any]:
        """``{"metric": ..., "value": ...}`` as records store it."""
        return {"metric": self.metric, "value": float(self.value)}

    def __str__(self) -> str:
        return f"{self.metric}={self.value:g}"


def check_metric(metric: str) -> None:
    """``ConfigError`` unless ``metric`` is an overall metric or ``VARIABLE.STAT``."""
    if not isinstance(metric, str) or not metric:
        raise ConfigError(f"a target names a metric, not {metric!r}")
    if metric in OVERALL:
        return
    var, _, stat = metric.rpartition(".")
    if not var or stat not in VARIABLE_STATS:
        raise ConfigError(
            f"unknown target metric {metric!r}: use one of {', '.join(OVERALL)}, or VARIABLE.STAT with STAT one of "
            f"{', '.join(VARIABLE_STATS)} (for example Jet_pt.rel_rms)"
        )


def parse_target(text: Any) -> Target:
    """A ``Target`` from ``"metric=value"`` (command line), ``{metric: value}`` or ``{"metric": m, "value": v}``."""
    if isinstance(text, Target):
        return text
    if isinstance(text, dict):
        if set(text) == {"metric", "value"}:
            return Target(str(text["metric"]), _number(text["value"], str(text["metric"])))
        if len(text) == 1:
            ((k, v),) = text.items()
            return Target(str(k), _number(v, str(k)))
        raise ConfigError(f"a target is {{metric: value}}, not {text!r}")
    if not isinstance(text, str) or "=" not in text:
        raise ConfigError(f"a target is METRIC=VALUE (for example worst_rel_rms=5e-4), not {text!r}")
    metric, _, value = text.partition("=")
    return Target(metric.strip(), _number(value.strip(), metric.strip()))


def _number(value: Any, metric: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"target {metric}: {value!r} is not a number") from None


def target_value(record: dict[str, Any], metric: str) -> float | None:
    """The value of ``metric`` in ``record`` (None when the record does not have it)."""
    if metric in OVERALL:
        value = record.get(metric)
    else:
        var, _, stat = metric.rpartition(".")
        value = ((record.get("variables") or {}).get(var) or {}).get(stat)
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def meets(record: dict[str, Any], target: Target) -> bool:
    """Whether an ``ok`` record meets ``target`` (False when it lacks the metric or failed)."""
    if record.get("status") != "ok":
        return False
    value = target_value(record, target.metric)
    if value is None or math.isnan(value):
        return False
    return value <= target.value if target.lower_is_better else value >= target.value
