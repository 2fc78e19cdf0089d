"""Checking an archive's manifest before anything trusts it: types, cross-references and size bounds.

A manifest comes from a file that anyone may have written, so ``check_manifest`` looks at every
field that a reader, ``inspect`` or ``decompress`` uses, and refuses with one ``ArchiveError`` line
naming the entry and the field: an entry name that is not a plain non-empty string, a ``shape``
that is not a list of non-negative integers, a ``dtype`` that is not a plain number type, a ``codec``
that is not a mapping with an ``id``, ``sizes``, ``errors``, ``units``, ``root`` or ``bound`` of
the wrong type, a member that no entry uses or that an entry names but the manifest does not list.

It also bounds every member by what the entries say, so that nothing large is read on the word of
a small file: ``raw_bytes`` must be the shape's size, a payload's listed size its
``payload_bytes`` (at most ``PAYLOAD_SLACK`` times the raw size plus 1 MiB), a state's its
``aux_bytes``, and an event-count array exactly an int64 ``.npy`` of ``root.n_events`` values, at
most the entry's rows plus ``MAX_EMPTY_EVENTS``. ``codecbench.archive.reader`` then reads each
member up to that size and no further.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from codecbench.archive.format import FORMAT_NAME, FORMAT_VERSION, ArchiveError, decode_floats

#: Largest number of elements an entry's shape may have (the frame's own limit).
MAX_ELEMENTS = 2**34
#: A payload may be at most this many times its raw size, plus 1 MiB (headers, escapes, tiny inputs).
PAYLOAD_SLACK = 8
#: Events without any object that an event-count array may hold beyond one per row.
MAX_EMPTY_EVENTS = 2**24
#: Deepest nesting of the manifest's JSON (a real one is 6 levels deep).
MAX_DEPTH = 32
_HEX64 = re.compile(r"[0-9a-f]{64}")
_BAD_NAME = re.compile(r"[/\\\x00-\x1f]")


def _fail(where: str, msg: str) -> ArchiveError:
    return ArchiveError(f"{where}: {msg}; the archive is corrupted or was not written by codecbench")


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def check_depth(obj: Any, where: str) -> None:
    """Refuse JSON nested more than ``MAX_DEPTH`` levels (walked without recursion)."""
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _fail(where, f"its manifest is nested more than {MAX_DEPTH} levels deep")
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))


def _dtype(v: Any, where: str) -> np.dtype:
    try:
        dt = np.dtype(v) if isinstance(v, str) else None
    except (TypeError, ValueError):
        dt = None
    if dt is None or dt.kind not in "fiub" or dt.names or dt.subdtype is not None or dt.str != v:
        raise _fail(where, f"field 'dtype' must be a plain numpy number type such as '<f4', not {v!r}")
    return dt


def _check_root(root: Any, where: str) -> None:
    if root is None:
        return
    if not isinstance(root, dict):
        raise _fail(where, f"field 'root' must be a mapping or null, not {type(root).__name__}")
    for key in ("tree", "counter", "counter_dtype"):
        if root.get(key) is not None and not isinstance(root[key], str):
            raise _fail(where, f"field 'root.{key}' must be a string or null, not {root[key]!r}")
    if root.get("n_events") is not None and not _int(root["n_events"]):
        raise _fail(where, f"field 'root.n_events' must be a non-negative integer, not {root['n_events']!r}")
    for key, ok in (("source_dtypes", lambda v: isinstance(v, str)), ("branch_index", _int)):
        value = root.get(key)
        if value is not None and not (isinstance(value, dict) and all(ok(v) for v in value.values())):
            raise _fail(where, f"field 'root.{key}' is malformed")


def _check_entry(e: Any, i: int, where: str, members: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(e, dict):
        raise _fail(where, f"manifest entry {i} is not a mapping")
    missing = [k for k in ("name", "kind", "shape", "dtype", "codec", "payload", "sizes", "errors") if k not in e]
    if missing:
        raise ArchiveError(f"{where}: manifest entry {i} lacks {', '.join(missing)}; the archive is corrupted")
    name = e["name"]
    if not isinstance(name, str) or not name or len(name) > 255 or _BAD_NAME.search(name) or name.startswith("."):
        raise _fail(where, f"manifest entry {i}: field 'name' must be a non-empty plain name, not {name!r}")
    at = f"{where}: entry {name!r}"
    if e["kind"] not in ("table", "field"):
        raise _fail(at, f"field 'kind' must be 'table' or 'field', not {e['kind']!r}")
    shape = e["shape"]
    if not isinstance(shape, list) or len(shape) > 32 or not all(_int(n) for n in shape):
        raise _fail(at, f"field 'shape' must be a list of non-negative integers, not {shape!r}")
    n = math.prod(shape)
    if n > MAX_ELEMENTS or any(s > MAX_ELEMENTS for s in shape):
        raise _fail(at, f"field 'shape' {shape} has more than 2^34 elements")
    if e["kind"] == "table" and len(shape) != 2:
        raise _fail(at, f"a table is 2-D (rows x columns), but field 'shape' is {shape}")
    dt = _dtype(e["dtype"], at)
    cols = e.get("columns")
    if cols is not None and not (
        isinstance(cols, list) and all(isinstance(c, str) for c in cols) and len(shape) == 2 and len(cols) == shape[1]
    ):
        raise _fail(at, "field 'columns' must be null or one name per column of the table")
    units = e.get("units") or {}
    if not isinstance(units, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in units.items()):
        raise _fail(at, "field 'units' must be a mapping of column name to unit")
    codec = e["codec"]
    if not isinstance(codec, dict) or not isinstance(codec.get("id"), str) or not codec["id"]:
        raise _fail(at, f"field 'codec' must be a mapping with an 'id', not {codec!r}")
    for key in ("codec_info", "fit", "meta", "bound"):
        if e.get(key) is not None and not isinstance(e[key], dict):
            raise _fail(at, f"field {key!r} must be a mapping or null, not {type(e[key]).__name__}")
    for key in ("original_sha256",):
        if e.get(key) is not None and not (isinstance(e[key], str) and _HEX64.fullmatch(e[key])):
            raise _fail(at, f"field {key!r} must be 64 lowercase hexadecimal digits")
    _check_root(e.get("root"), at)
    sizes = decode_floats(e["sizes"])
    if not isinstance(sizes, dict) or not all(_int(sizes.get(k)) for k in ("raw_bytes", "payload_bytes", "aux_bytes")):
        raise _fail(at, "field 'sizes' must give raw_bytes, payload_bytes and aux_bytes as non-negative integers")
    if not all(_num(sizes.get(k)) for k in ("ratio", "effective_ratio", "bits_per_value")):
        raise _fail(at, "field 'sizes' must give ratio, effective_ratio and bits_per_value as numbers")
    if sizes["raw_bytes"] != n * dt.itemsize:
        raise _fail(at, f"sizes.raw_bytes {sizes['raw_bytes']} is not the size of shape {shape} {dt.str}")
    errors = decode_floats(e["errors"])
    overall = ("max_abs_error", "worst_rel_rms", "nrmse", "psnr")
    if not isinstance(errors, dict) or not all(_num(errors.get(k)) for k in overall):
        raise _fail(at, f"field 'errors' must give {', '.join(overall)} as numbers")
    variables = errors.get("variables")
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, dict) and all(_num(x) or x is None for x in v.values())
        for k, v in variables.items()
    ):
        raise _fail(at, "field 'errors.variables' must map each variable to its statistics (numbers)")
    bound = decode_floats(e.get("bound"))
    if bound is not None and not (
        isinstance(bound.get("bound_mode"), str)
        and _int(bound.get("bound_violations"))
        and _int(bound.get("bound_checked"))
    ):
        raise _fail(at, "field 'bound' must give bound_mode, bound_violations and bound_checked")
    _check_members(e, at, members, sizes, shape)
    return {**e, "units": units, "sizes": sizes, "errors": errors, "bound": bound}


def _check_members(e: dict[str, Any], at: str, members: dict[str, Any], sizes: dict[str, Any], shape: list) -> None:
    """Each member an entry names is listed, with the size the entry's sizes and shape allow."""
    limits = {
        "payload": sizes["payload_bytes"],
        "state": sizes["aux_bytes"],
    }
    for ref in ("payload", "state", "event_counts"):
        member = e.get(ref)
        if member is None:
            if ref == "payload":
                raise _fail(at, "field 'payload' is null")
            if ref == "state" and sizes["aux_bytes"]:
                raise _fail(at, f"sizes.aux_bytes is {sizes['aux_bytes']} but the entry has no state member")
            continue
        if not isinstance(member, str) or member not in members:
            raise ArchiveError(f"{at} names member {member!r}, which is not listed; the archive is corrupted")
        size = members[member]["size"]
        if ref in limits and size != limits[ref]:
            raise _fail(at, f"member {member!r} is listed with {size} bytes, its sizes say {limits[ref]}")
    if sizes["payload_bytes"] > PAYLOAD_SLACK * sizes["raw_bytes"] + 2**20:
        shown = f"{sizes['payload_bytes']} is implausible for {sizes['raw_bytes']} raw bytes"
        raise _fail(at, f"sizes.payload_bytes {shown}")
    if e.get("event_counts") is not None:
        n_events = (e.get("root") or {}).get("n_events")
        rows = shape[0] if shape else 0
        if not _int(n_events) or n_events > rows + MAX_EMPTY_EVENTS:
            raise _fail(at, f"root.n_events {n_events!r} does not fit an entry of {rows} rows")
        want = npy_size(n_events)
        if members[e["event_counts"]]["size"] != want:
            raise _fail(at, f"its event counts are listed with {members[e['event_counts']]['size']} bytes, not {want}")


def npy_size(n: int) -> int:
    """Bytes of a 1-D little-endian int64 ``.npy`` of ``n`` values, as ``np.save`` writes it."""
    header = f"{{'descr': '<i8', 'fortran_order': False, 'shape': ({n},), }}"
    total = 10 + len(header) + 1
    return total + (-total % 64) + 8 * n


def check_manifest(manifest: Any, where: str) -> dict[str, Any]:
    """Check a parsed manifest (see the module docstring); return it with the numeric summaries decoded."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ArchiveError(f"{where}: not a codecbench archive (its manifest does not say {FORMAT_NAME!r})")
    version = manifest.get("format_version")
    if not _int(version) or version < 1:
        raise ArchiveError(f"{where}: the manifest's format_version {version!r} is invalid; the archive is corrupted")
    if version > FORMAT_VERSION:
        raise ArchiveError(
            f"{where} uses archive format version {version} (written by codecbench "
            f"{manifest.get('codecbench_version', '?')}); this codecbench reads versions up to {FORMAT_VERSION}. "
            "Upgrade codecbench: pip install --upgrade codecbench"
        )
    check_depth(manifest, where)
    entries, members = manifest.get("entries"), manifest.get("members")
    if not isinstance(entries, list) or not entries or not isinstance(members, dict):
        raise ArchiveError(f"{where}: the manifest has no entries or no member list; the archive is corrupted")
    for name, facts in members.items():
        if not (isinstance(facts, dict) and _int(facts.get("size")) and isinstance(facts.get("sha256"), str)):
            raise ArchiveError(f"{where}: the manifest's record of member {name!r} is malformed")
    if manifest.get("source") is not None and not isinstance(manifest["source"], dict):
        raise _fail(where, "field 'source' must be a mapping")
    checked = [_check_entry(e, i, where, members) for i, e in enumerate(entries)]
    names = [e["name"] for e in checked]
    if len(set(names)) != len(names):
        raise _fail(where, f"two entries share the name {next(n for n in names if names.count(n) > 1)!r}")
    used = {e[ref] for e in checked for ref in ("payload", "state", "event_counts") if e.get(ref)}
    unused = sorted(set(members) - used)
    if unused:
        raise _fail(where, f"the manifest lists member {unused[0]!r}, which no entry uses")
    return {**manifest, "entries": checked}
