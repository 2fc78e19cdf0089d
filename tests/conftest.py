"""Test session setup: where datasets come from and where the cache goes.

- ``CODECBENCH_DATA_PATH`` points at the shared data folder (``<repo>/../shared/datasets``) unless
  the environment already sets it, so registered datasets load from verified local files;
- ``CODECBENCH_CACHE_DIR`` is a fresh temporary folder per session, so tests never read or write the
  user's cache;
- ``CODECBENCH_OFFLINE=1`` (unless set): a missing file is an error, never a network download;
  the download tests switch it off and serve files from 127.0.0.1;
- ``CODECBENCH_REGISTRY`` is cleared so a user registry cannot change what the tests load.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATASETS = (REPO.parent / "shared" / "datasets").resolve()

_session_cache: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _session_cache
    if not os.environ.get("CODECBENCH_DATA_PATH"):
        os.environ["CODECBENCH_DATA_PATH"] = str(SHARED_DATASETS)
    _session_cache = tempfile.mkdtemp(prefix="codecbench-test-cache-")
    os.environ["CODECBENCH_CACHE_DIR"] = _session_cache
    os.environ.setdefault("CODECBENCH_OFFLINE", "1")
    os.environ.pop("CODECBENCH_REGISTRY", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _session_cache:
        shutil.rmtree(_session_cache, ignore_errors=True)


def shared_data_available() -> bool:
    """Whether the shared real data files are on the data path (tests that need them skip otherwise)."""
    dirs = [Path(p) for p in os.environ.get("CODECBENCH_DATA_PATH", "").split(os.pathsep) if p]
    return any((d / "uproot-HZZ.root").is_file() for d in dirs)
