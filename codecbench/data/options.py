"""The options each file format's loader accepts (``loader: {format: ..., OPTION: value}``), and their check.

``LOADER_OPTIONS`` maps a format to its options: whether each is required, and what its value must
be. ``check_loader`` refuses an unknown option (naming the allowed ones, and the closest when it
looks misspelt), a missing required one and a value of the wrong type, so that an option the loader
would ignore (``columns`` on a format that has none, ``colums`` for ``columns``) is an error, never
a silently different dataset. The readers themselves are ``codecbench.data.loaders``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _names(v: Any) -> bool:
    return (isinstance(v, str) and v != "") or (
        isinstance(v, list) and len(v) > 0 and all(isinstance(x, str) and x != "" for x in v)
    )


def _str(v: Any) -> bool:
    return isinstance(v, str) and v != ""


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


NAMES = (_names, "a name or a non-empty list of names (glob patterns such as 'Jet_*' allowed)")
STRING = (_str, "a non-empty string")
STRINGS = (_str_list, "a list of strings")
BOOL = (_bool, "true or false")


@dataclass(frozen=True)
class Option:
    """One loader option: what its value must be, and whether the format needs it."""

    check: Callable[[Any], bool]
    what: str
    required: bool = False
    help: str = ""


def _opt(spec: tuple[Callable[[Any], bool], str], help: str, required: bool = False) -> Option:
    return Option(spec[0], spec[1], required, help)


_COLUMNS = _opt(NAMES, "columns to keep, in this order, by name (unnamed columns are x0, x1, ...)")

#: Every loader format and its options.
LOADER_OPTIONS: dict[str, dict[str, Option]] = {
    "npz": {
        "key": _opt(STRING, "the array", required=True),
        "columns_key": _opt(STRING, "the array of column names"),
        "event_index_key": _opt(STRING, "the array holding each row's event number"),
        "text_keys": _opt(STRINGS, "arrays of text copied into meta['file_info'] (e.g. the generator's settings)"),
        "columns": _COLUMNS,
    },
    "npy": {"columns": _COLUMNS},
    "root": {
        "tree": _opt(STRING, "the TTree", required=True),
        "branches": _opt(NAMES, "branch names or patterns", required=True),
        "exclude": _opt(NAMES, "patterns of branches to leave out"),
        "float_only": _opt(BOOL, "keep only float branches"),
        "numeric_only": _opt(BOOL, "keep only float and integer branches"),
        "strip_prefix": _opt(STRING, "removed from the start of column names"),
    },
    "csv": {
        "columns": _COLUMNS,
        "sep": _opt(STRING, "field separator (default ',')"),
        "comment": _opt(STRING, "comment character"),
    },
    "hdf5": {
        "key": _opt(STRING, "the 2-D or compound dataset", required=True),
        "columns_key": _opt(STRING, "attribute (or dataset) holding the column names, e.g. MOD HDF5's 'cols'"),
        "columns": _COLUMNS,
        "event_key": _opt(STRING, "dataset of per-row event numbers"),
        "event_column": _opt(NAMES, "column(s) of event_key that identify the event, e.g. [rn, evn]"),
    },
    "netcdf": {
        "variables": _opt(NAMES, "variables: 1-D ones of one dimension become table columns", required=True),
        "mask_and_scale": _opt(BOOL, "apply _FillValue/missing_value, scale_factor and add_offset (default true)"),
    },
}


def check_loader(loader: Any, fail: Callable[[str], Exception]) -> dict[str, Any]:
    """Check a ``loader:`` mapping; ``fail(message)`` builds the exception to raise. Returns it unchanged."""
    formats = sorted(LOADER_OPTIONS)
    if not isinstance(loader, dict) or "format" not in loader:
        raise fail(f"a file entry needs loader: {{format: {'|'.join(formats)}, ...}}")
    fmt = loader["format"]
    if not isinstance(fmt, str) or fmt not in LOADER_OPTIONS:
        raise fail(f"format {fmt!r} unknown; use one of {formats}")
    allowed = LOADER_OPTIONS[fmt]
    for key, value in loader.items():
        if key == "format":
            continue
        if key not in allowed:
            close = difflib.get_close_matches(str(key), list(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            listing = ", ".join(sorted(allowed)) or "none"
            raise fail(f"the {fmt} loader has no option {key!r}{hint}; its options: {listing}")
        if not allowed[key].check(value):
            raise fail(f"option {key!r} of the {fmt} loader must be {allowed[key].what}, not {value!r}")
    missing = [k for k, o in allowed.items() if o.required and k not in loader]
    if missing:
        article = "an" if fmt[0] in "aehinx" else "a"  # an npz, an hdf5, a root
        raise fail(f"{article} {fmt} loader needs {' and '.join(repr(m) for m in missing)}")
    return loader
