"""The package layout keeps its promises: deprecated import paths still work, and modules stay small.

- The old import paths named in earlier documentation (``codecbench.leaderboard``, ``.compare``,
  ``.numcodecs``, ``.bounds``, ``.metrics``) import with a ``DeprecationWarning`` and give the very
  objects of the modules that replaced them.
- Every module under ``codecbench/`` has a docstring saying what it owns and at most 500 lines.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "codecbench"

#: old module -> (the modules that replaced it, names that earlier documentation showed imported from it)
ALIASES = {
    "codecbench.leaderboard": (
        ["codecbench.tables.frame", "codecbench.tables.leaderboard", "codecbench.tables.budgets",
         "codecbench.tables.render", "codecbench.tables.text"],
        ["leaderboard", "budget_table", "render_leaderboard", "leaderboard_frame", "aggregate", "parse_budget"],
    ),
    "codecbench.compare": (
        ["codecbench.tables.compare", "codecbench.tables.bd"],
        ["compare_runs", "bd_ratio_gain", "bd_summary", "render_comparison", "Tolerance"],
    ),
    "codecbench.numcodecs": (
        ["codecbench.interop.numcodecs", "codecbench.interop.numcodecs_codecs"],
        ["as_numcodecs", "register", "register_all", "list_numcodecs", "NumcodecsCodec"],
    ),
    "codecbench.bounds": (["codecbench.measure.bounds"], ["check_bound", "MODES", "CHECK_TOLERANCE"]),
    "codecbench.metrics": (["codecbench.measure.metrics"], ["error_metrics", "size_metrics", "bits_equal"]),
}  # fmt: skip


@pytest.mark.parametrize("old", sorted(ALIASES))
def test_deprecated_alias_warns_and_gives_the_new_objects(old: str) -> None:
    if old == "codecbench.numcodecs":
        _need_numcodecs()
    new_modules, documented = ALIASES[old]
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=rf"{old} is deprecated; import from .*codecbench\."):
        alias = importlib.import_module(old)
    new = [importlib.import_module(m) for m in new_modules]
    for name in documented:
        assert hasattr(alias, name), f"{old}.{name} is gone"
    public = [n for n in vars(alias) if not n.startswith("_") and n != "warnings"]
    for name in public:
        obj = getattr(alias, name)
        assert any(getattr(m, name, None) is obj for m in new), f"{old}.{name} is not the new module's object"


def _need_numcodecs() -> None:
    from codecbench.errors import PluginError
    from codecbench.interop.numcodecs_codecs import import_numcodecs  # imports numcodecs with the zfpy workaround

    try:
        import_numcodecs()
    except PluginError as exc:
        pytest.skip(str(exc))


def test_numcodecs_alias_still_resolves_export_targets() -> None:
    _need_numcodecs()
    with pytest.warns(DeprecationWarning):
        sys.modules.pop("codecbench.numcodecs", None)
        alias = importlib.import_module("codecbench.numcodecs")
    from codecbench.interop.numcodecs import export_class

    assert alias.export_trunc is export_class("trunc")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(REPO)))
def test_module_has_a_docstring_and_at_most_500_lines(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    n_lines = len(text.splitlines())
    assert n_lines <= 500, f"{path.relative_to(REPO)} has {n_lines} lines; split it by responsibility"
    doc = ast.get_docstring(ast.parse(text))
    assert doc and len(doc.split()) >= 5, f"{path.relative_to(REPO)} has no docstring saying what it owns"
