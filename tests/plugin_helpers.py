"""Make real entry-point plugins in a temporary folder (a module plus a ``.dist-info``), no pip needed.

The folder goes on ``sys.path`` and ``PYTHONPATH`` so this process, spawned workers and CLI
subprocesses all discover the plugin through ``importlib.metadata``, as with an installed package.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from codecbench import plugins


def install_plugin(
    monkeypatch: pytest.MonkeyPatch,
    root: Path,
    dist: str,
    module: str,
    source: str,
    entry_points: dict[str, str],
) -> Path:
    """Write ``module.py`` and ``dist-0.1.dist-info`` under ``root`` and make them importable."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    eps = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[codecbench.codecs]\n{eps}\n")
    monkeypatch.syspath_prepend(str(root))
    old = os.environ.get("PYTHONPATH")
    monkeypatch.setenv("PYTHONPATH", str(root) + (os.pathsep + old if old else ""))
    sys.modules.pop(module, None)
    plugins.refresh()
    return root
