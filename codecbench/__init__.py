"""codecbench: benchmark compression codecs on scientific data, side by side, honestly.

Public API (what users, scripts and plugins import)::

    from codecbench import (Codec, Knob, Dataset, get_codec, list_codecs, compress, decompress,
                            load_dataset, run, load_results, CodecbenchError, PayloadError, CodecError,
                            DatasetError,
                            PluginError, ConfigError)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codecbench._version import __version__
from codecbench.codec import CONTRACT_MINOR, CONTRACT_VERSION, Codec, Knob
from codecbench.container import compress, decompress
from codecbench.dataset import Dataset
from codecbench.errors import CodecbenchError, CodecError, ConfigError, DatasetError, PayloadError, PluginError
from codecbench.plugins import get_codec, list_codecs

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "CONTRACT_MINOR",
    "CONTRACT_VERSION",
    "Codec",
    "CodecError",
    "CodecbenchError",
    "ConfigError",
    "Dataset",
    "DatasetError",
    "Knob",
    "PayloadError",
    "PluginError",
    "__version__",
    "compress",
    "decompress",
    "get_codec",
    "list_codecs",
    "load_dataset",
    "load_results",
    "run",
]


def load_dataset(name: str, **params: Any) -> Dataset:
    """Load a registered dataset by name (see ``datasets.yaml``); ``params`` override generator settings."""
    from codecbench.data.load import load_dataset as _load

    return _load(name, **params)


def run(*args: Any, **kwargs: Any) -> pd.DataFrame:
    """Run a benchmark grid and return its records as a DataFrame (see ``codecbench.runner.run_grid.run``)."""
    from codecbench.runner.run_grid import run as _run

    return _run(*args, **kwargs)


def load_results(path: str) -> pd.DataFrame:
    """Read the records of a run directory (or a ``records.jsonl`` file) into a DataFrame."""
    from codecbench.runner.store import load_results as _load

    return _load(path)
