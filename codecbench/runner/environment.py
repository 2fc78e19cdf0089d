"""The run file: the machine, the versions and the command line stored with every run (``OUT/run.json``).

Written atomically at the start of a run; a resumed run keeps the earlier environments under
``previous``, so a result directory says every machine that contributed records.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from codecbench._version import __version__
from codecbench.data.files import atomic_write_text
from codecbench.runner.store import RECORD_VERSION, RUN_FILE, json_default


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent
        )
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def environment() -> dict[str, Any]:
    """Versions and machine facts stored with every run."""
    from importlib import metadata

    import numpy as np

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    plugins = sorted(
        {
            f"{ep.dist.metadata['Name']}=={ep.dist.version}"
            for ep in metadata.entry_points(group="codecbench.codecs")
            if ep.dist
        }
    )
    env: dict[str, Any] = {
        "codecbench": __version__,
        "plugins": plugins,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "torch": version("torch"),
        "packages": {d: version(d) for d in ("pandas", "zstandard", "blosc2", "uproot", "nflows", "numcodecs")},
        "git_commit": _git_commit(),
        "argv": sys.argv,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        import psutil

        env["memory_bytes"] = psutil.virtual_memory().total
    except ImportError:  # pragma: no cover
        pass
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.cuda.is_available():
            env["gpu"] = torch.cuda.get_device_name(0)
    return env


def write_run_file(out_dir: str | os.PathLike[str], extra: dict[str, Any]) -> None:
    """Write ``OUT/run.json``: the environment plus the run's own settings (``extra``)."""
    path = Path(out_dir) / RUN_FILE
    previous: list[dict[str, Any]] = []
    if path.exists():
        try:
            old = json.loads(path.read_text())
            previous = old.get("previous", []) + [{k: v for k, v in old.items() if k != "previous"}]
        except (json.JSONDecodeError, AttributeError):
            previous = []
    data = {**environment(), **extra, "record_version": RECORD_VERSION}
    if previous:
        data["previous"] = previous
    atomic_write_text(path, json.dumps(data, indent=2, default=json_default, allow_nan=True) + "\n")
