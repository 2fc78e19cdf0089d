"""The ``codecbench`` command line: a thin typer layer over the Python API, one module per command group.

- ``runs``: ``run``, ``sweep``;
- ``tables``: ``leaderboard``, ``compare``, ``plot``, ``report``;
- ``archive``: ``compress``, ``decompress``, ``inspect``;
- ``plugins``: ``list codecs``, ``new-plugin``;
- ``datasets``: ``list datasets``, ``datasets list|info|fetch``;
- ``app``: the typer app, the consoles, one-line errors (exit status 1), table printing.

The command table below is the whole CLI, in the order ``--help`` lists it. Each command imports
the library code it calls when it runs, so ``codecbench --help`` stays fast.
"""

from __future__ import annotations

import sys

from codecbench.cli import archive, datasets, plugins, runs, tables
from codecbench.cli.app import app, datasets_app, err_console, list_app

list_app.command("codecs")(plugins.list_codecs_cmd)
app.command("run")(runs.run_cmd)
app.command("sweep")(runs.sweep_cmd)
list_app.command("datasets")(datasets.list_datasets_cmd)
datasets_app.command("list")(datasets.datasets_list_cmd)
datasets_app.command("info")(datasets.datasets_info_cmd)
datasets_app.command("fetch")(datasets.datasets_fetch_cmd)
app.command("leaderboard")(tables.leaderboard_cmd)
app.command("compare")(tables.compare_cmd)
app.command("plot")(tables.plot_cmd)
app.command("report")(tables.report_cmd)
app.command("compress")(archive.compress_cmd)
app.command("decompress")(archive.decompress_cmd)
app.command("inspect")(archive.inspect_cmd)
app.command("new-plugin")(plugins.new_plugin_cmd)

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``codecbench`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
