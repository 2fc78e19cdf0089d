"""Picking names (columns, branches, arrays, variables) from a file: exact names or glob patterns.

``select_names`` resolves a user's list (``["Jet_*", "MET_pt"]``) against what a file offers, in the
order given, without duplicates; ``missing_key`` builds the error for a name the file lacks, with the
closest names it has. Every reader in ``codecbench.data`` and ``codecbench.archive`` uses them.
"""

from __future__ import annotations

import difflib
import fnmatch
from pathlib import Path
from typing import Any

from codecbench.errors import DatasetError


def missing_key(what: str, key: str, available: list[str], path: Path) -> DatasetError:
    """``DatasetError`` for a ``what`` named ``key`` that ``path`` lacks, with the closest names it has."""
    lower = {a.lower(): a for a in available}
    close = [lower[c] for c in difflib.get_close_matches(key.lower(), list(lower), n=3)]
    hint = f"; closest: {', '.join(close)}" if close else f"; available: {', '.join(available[:20])}"
    return DatasetError(f"{path.name}: no {what} {key!r}{hint}")


def select_names(pattern: Any, available: list[str], path: Path, what: str) -> list[str]:
    """The names of ``available`` that ``pattern`` (a name, a glob pattern or a list of them) picks, in order."""
    patterns = [pattern] if isinstance(pattern, str) else list(pattern)
    names: list[str] = []
    for pat in patterns:
        if not isinstance(pat, str):
            raise DatasetError(f"{path.name}: {what} names must be strings, not {pat!r}")
        if any(ch in pat for ch in "*?["):
            hits = [a for a in available if fnmatch.fnmatchcase(a, pat)]
            if not hits:
                raise missing_key(what + " matching", pat, available, path)
            names += [h for h in hits if h not in names]
        else:
            if pat not in available:
                raise missing_key(what, pat, available, path)
            if pat not in names:
                names.append(pat)
    return names


def pick_columns(data: Any, columns: list[str] | None, wanted: Any, path: Path) -> tuple[Any, list[str]]:
    """Keep the ``wanted`` columns (names or patterns, in that order) of a 2-D ``data`` whose columns are
    ``columns`` (None: ``x0``, ``x1``, ...); returns the selected array and names."""
    if getattr(data, "ndim", 0) != 2:
        raise DatasetError(f"{path.name}: 'columns' selects columns of a table, but the array has shape {data.shape}")
    names = list(columns) if columns is not None else [f"x{i}" for i in range(data.shape[1])]
    chosen = select_names(wanted, names, path, "column")
    return data[:, [names.index(c) for c in chosen]], chosen
