"""Deprecated alias of ``codecbench.measure.metrics``, kept for scripts written before the layout move.

Importing it warns (``DeprecationWarning``); it will be removed in a later release. Every name it
had is still here.
"""

import warnings

from codecbench.measure.metrics import (  # noqa: F401
    bits_equal,
    count_bit_differences,
    error_metrics,
    exact_metrics,
    size_metrics,
    variable_stats,
)

warnings.warn(
    "codecbench.metrics is deprecated; import from codecbench.measure.metrics instead",
    DeprecationWarning,
    stacklevel=2,
)
