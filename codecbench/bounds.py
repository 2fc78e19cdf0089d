"""Deprecated alias of ``codecbench.measure.bounds``, kept for scripts written before the layout move.

Importing it warns (``DeprecationWarning``); it will be removed in a later release. Every name it
had is still here.
"""

import warnings

from codecbench.measure.bounds import (  # noqa: F401
    CHECK_TOLERANCE,
    GLOBAL_MODES,
    MODES,
    PAIR_MODES,
    check_bound,
)

warnings.warn(
    "codecbench.bounds is deprecated; import from codecbench.measure.bounds instead",
    DeprecationWarning,
    stacklevel=2,
)
