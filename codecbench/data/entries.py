"""One registry entry: the fields it may have and their validation.

``validate_entry`` checks an entry of ``datasets.yaml`` (or of a user registry file) and returns a
normalised copy with defaults filled in; a bad field raises ``ConfigError`` naming the file, the
entry and the field (``datasets.yaml: entry 'my-jets', field 'sha256': must be 64 hexadecimal
digits``).
"""

from __future__ import annotations

import copy
import difflib
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from codecbench.data.files import ENV_DATA_PATH, escapes_search_path
from codecbench.data.options import LOADER_OPTIONS, check_loader
from codecbench.data.transforms import TRANSFORMS
from codecbench.errors import ConfigError

#: Fields an entry may have; anything else is a typo and is reported.
ENTRY_FIELDS = {
    "description", "license", "kind", "dtype", "generator", "params", "file", "sha256", "md5", "url",
    "size_bytes", "loader", "columns", "units", "heavy_tailed", "notes", "derive", "reference",
    "exact_cast", "default",
}  # fmt: skip


#: The ``loader: {format: ...}`` names (their options: ``codecbench.data.options``).
LOADER_FORMATS = set(LOADER_OPTIONS)
#: Largest ``size_bytes`` an entry may declare (a petabyte; anything larger is a typo).
MAX_SIZE_BYTES = 2**50


def _cfg_err(source: str, name: str | None, field: str | None, msg: str) -> ConfigError:
    where = f"{source}"
    if name is not None:
        where += f": entry {name!r}"
    if field is not None:
        where += f", field {field!r}"
    return ConfigError(f"{where}: {msg}")


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""


def _is_hex(s: Any, n: int) -> bool:
    return isinstance(s, str) and len(s) == n and all(c in "0123456789abcdefABCDEF" for c in s)


def validate_entry(name: str, entry: Any, source: str = "<registry>") -> dict[str, Any]:
    """Check one registry entry and return a normalised copy; a bad field raises ``ConfigError``
    naming the file, the entry and the field."""
    if not isinstance(entry, dict):
        raise _cfg_err(source, name, None, f"an entry must be a mapping, got {type(entry).__name__}")
    unknown = sorted(set(entry) - ENTRY_FIELDS)
    if unknown:
        hint = difflib.get_close_matches(unknown[0], sorted(ENTRY_FIELDS), n=1)
        extra = f" (did you mean {hint[0]!r}?)" if hint else f"; allowed: {', '.join(sorted(ENTRY_FIELDS))}"
        raise _cfg_err(source, name, unknown[0], f"unknown field{extra}")
    e = copy.deepcopy(entry)
    kind = e.setdefault("kind", "table")
    if kind not in ("table", "field"):
        raise _cfg_err(source, name, "kind", f"must be 'table' or 'field', not {kind!r}")
    sources = [k for k in ("generator", "file", "derive") if k in e]
    if len(sources) != 1:
        raise _cfg_err(
            source, name, "file" if not sources else sources[1], "an entry needs exactly one of generator, file, derive"
        )
    for field in ("description", "license", "notes", "url", "reference", "generator", "file"):
        if field in e and e[field] is not None and not isinstance(e[field], str):
            raise _cfg_err(source, name, field, f"must be a string, got {type(e[field]).__name__}")
    e.setdefault("description", "")
    e.setdefault("license", "")
    e.setdefault("notes", "")
    e.setdefault("url", None)
    if e["url"] is not None and _scheme(e["url"]) not in ("http", "https"):
        raise _cfg_err(source, name, "url", f"must be an http:// or https:// address, not {e['url']!r}")
    if not isinstance(e.setdefault("default", False), bool):
        raise _cfg_err(source, name, "default", "must be true or false")
    try:
        dtype = np.dtype(e.setdefault("dtype", "float32"))
    except (TypeError, ValueError) as exc:
        raise _cfg_err(source, name, "dtype", f"not a numpy dtype: {exc}") from None
    if dtype.kind != "f":
        raise _cfg_err(source, name, "dtype", f"must be a float dtype (float32 or float64), not {dtype}")
    e["dtype"] = dtype.name
    params = e.setdefault("params", {})
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise _cfg_err(source, name, "params", "must be a mapping of parameter name to default value")
    units = e.setdefault("units", {})
    if not isinstance(units, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float) for k, v in units.items()
    ):
        raise _cfg_err(source, name, "units", "must be a mapping {column: unit}")
    ht = e.setdefault("heavy_tailed", [])
    if not isinstance(ht, list) or not all(isinstance(c, str) for c in ht):
        raise _cfg_err(source, name, "heavy_tailed", "must be a list of column names")
    if "columns" in e and not (isinstance(e["columns"], list) and all(isinstance(c, str) for c in e["columns"])):
        raise _cfg_err(source, name, "columns", "must be a list of column names")
    if not isinstance(e.setdefault("exact_cast", True), bool):
        raise _cfg_err(source, name, "exact_cast", "must be true or false")
    if "file" in e:
        if not e["file"]:
            raise _cfg_err(source, name, "file", "must name a file")
        if escapes_search_path(e["file"]):
            raise _cfg_err(
                source,
                name,
                "file",
                f"{e['file']!r} must be a relative name without '..' (it is looked up in the directories of "
                f"${ENV_DATA_PATH} and the cache, and downloaded into the cache); put the file in one of those",
            )
        if "sha256" not in e and "md5" not in e:
            raise _cfg_err(
                source, name, "sha256", "a file entry needs its sha256 (or md5 where only that is published)"
            )
        if "sha256" in e and not _is_hex(e["sha256"], 64):
            raise _cfg_err(source, name, "sha256", "must be 64 hexadecimal digits")
        if "md5" in e and not _is_hex(e["md5"], 32):
            raise _cfg_err(source, name, "md5", "must be 32 hexadecimal digits")
        size = e.get("size_bytes")
        if "size_bytes" in e and not (
            isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= MAX_SIZE_BYTES
        ):
            huge = isinstance(size, int) and abs(size).bit_length() > 128
            shown = f"an integer of about {int(abs(size).bit_length() * 0.30103) + 1} digits" if huge else repr(size)
            raise _cfg_err(source, name, "size_bytes", f"must be an integer from 0 to 2**50, not {shown}")
        e["loader"] = check_loader(e.get("loader"), lambda msg: _cfg_err(source, name, "loader", msg))
    if "derive" in e:
        d = e["derive"]
        if not isinstance(d, dict) or set(d) != {"from", "transform"}:
            raise _cfg_err(source, name, "derive", "must be {from: ENTRY, transform: NAME}")
        if not isinstance(d["from"], str) or not d["from"]:
            raise _cfg_err(source, name, "derive", f"'from' must name one entry, not {d['from']!r}")
        if not isinstance(d["transform"], str) or d["transform"] not in TRANSFORMS:
            raise _cfg_err(
                source, name, "derive", f"transform {d['transform']!r} unknown; use one of {sorted(TRANSFORMS)}"
            )
    if "generator" in e and not e["generator"]:
        raise _cfg_err(source, name, "generator", "must name a generator")
    return e
