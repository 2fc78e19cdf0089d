"""Deprecated alias of ``codecbench.tables.compare`` and ``.bd``, kept for scripts written before the layout move.

Importing it warns (``DeprecationWarning``); it will be removed in a later release. Every name it
had is still here.
"""

import warnings

from codecbench.tables.bd import (  # noqa: F401
    bd_details,
    bd_ratio_gain,
    bd_summary,
    format_gain,
    rd_points,
)
from codecbench.tables.compare import (  # noqa: F401
    COMPARED,
    Comparison,
    Tolerance,
    compare_frames,
    compare_runs,
    pct_change,
    render_comparison,
)

warnings.warn(
    "codecbench.compare is deprecated; import from codecbench.tables.compare and codecbench.tables.bd instead",
    DeprecationWarning,
    stacklevel=2,
)
