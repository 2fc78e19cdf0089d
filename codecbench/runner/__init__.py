"""Running the benchmark: the grid, its tasks, where they run, and the records they leave.

The path of a record, top down (each module imports only the ones below it):

- ``run_grid.run``: builds the grid, skips finished tasks on ``--resume``, picks an executor,
  appends each record to the store as it arrives;
- ``config``: ``--set``/``--sweep`` values and YAML run files; ``progress``: the progress bar;
- ``executors``: ``serial``, ``process`` (child processes, timeouts) and ``dask``;
- ``task``: ``measure_task``, one task from dataset to record (``codecbench.measure`` does the
  measuring); ``grid``: ``Task`` and ``build_tasks``; ``models``: the fitted-model cache;
  ``inputs``: datasets loaded once per process, row blocks;
- ``environment``: the run file (machine, versions, command line); ``store``: the JSON Lines
  record store and reading records back.

The names below are this package's public API (``codecbench.run`` is ``run``).
"""

from codecbench.runner.config import load_config_file, parse_assignments, parse_sweeps, parse_value
from codecbench.runner.grid import DEFAULT_TEST_FRACTION, Task, build_tasks, builtin_codec_ids, expand
from codecbench.runner.models import fit_cached, model_cache_dir
from codecbench.runner.run_grid import run
from codecbench.runner.store import load_records, load_results
from codecbench.runner.task import measure_task

__all__ = [
    "DEFAULT_TEST_FRACTION",
    "Task",
    "build_tasks",
    "builtin_codec_ids",
    "expand",
    "fit_cached",
    "load_config_file",
    "load_records",
    "load_results",
    "measure_task",
    "model_cache_dir",
    "parse_assignments",
    "parse_sweeps",
    "parse_value",
    "run",
]
