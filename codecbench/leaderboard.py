"""Deprecated alias of the modules of ``codecbench.tables``, kept for scripts written before the layout move.

Importing it warns (``DeprecationWarning``); it will be removed in a later release. Every name it
had is still here.
"""

import warnings

from codecbench.tables.budgets import (  # noqa: F401
    Budget,
    budget_table,
    parse_budget,
)
from codecbench.tables.frame import (  # noqa: F401
    AGGREGATE_MODES,
    HARNESS_KEYS,
    NUMERIC_KEYS,
    ROW_KEY,
    aggregate,
    break_even_values,
    config_key,
    records_frame,
)
from codecbench.tables.leaderboard import (  # noqa: F401
    HIGHER_IS_BETTER,
    leaderboard,
    leaderboard_frame,
    mark_pareto,
    sort_frame,
)
from codecbench.tables.render import (  # noqa: F401
    DISPLAY_COLUMNS,
    FORMATS,
    LEGEND,
    SPREAD_COLUMNS,
    bd_cells,
    bd_sentence,
    csv_frame,
    render_budgets,
    render_leaderboard,
    table_cells,
)
from codecbench.tables.text import (  # noqa: F401
    HTML_STYLE,
    format_number,
    html_page,
    html_table,
    latex_escape,
    latex_table,
    md_table,
)

warnings.warn(
    "codecbench.leaderboard is deprecated; import from the modules of codecbench.tables "
    "(frame, leaderboard, budgets, render, text) instead",
    DeprecationWarning,
    stacklevel=2,
)
