"""Loading a registered dataset: generated, derived or read from its verified file, cast to its dtype.

``load_dataset(name, **params)`` is what ``codecbench.load_dataset`` calls. An entry is either
*generated* (``generator:`` names an in-process generator, ``codecbench.data.synthetic`` or
``codecbench.data.pythia``; no file), backed by a *file* (found and verified by
``codecbench.data.files.find_file``, read by a ``codecbench.data.loaders`` reader), or *derived*
from another entry (``derive: {from: NAME, transform: ...}``, ``codecbench.data.transforms``).
Values are cast to the entry's float dtype, and a cast that would change a value is refused
unless the entry allows it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from codecbench.data.checksums import verify_file
from codecbench.data.files import find_file
from codecbench.data.loaders import LOADERS, load_npz
from codecbench.data.registry import get_entry
from codecbench.data.transforms import TRANSFORMS
from codecbench.dataset import Dataset
from codecbench.errors import ConfigError, DatasetError


def _cast(name: str, data: np.ndarray, dtype: np.dtype, exact_required: bool) -> tuple[np.ndarray, dict[str, Any]]:
    """Cast to the entry's float dtype; check (and record) whether the cast is exact."""
    src = data.dtype
    if data.dtype.kind not in "fiub":
        raise DatasetError(f"dataset {name!r}: the file holds {src} values, not numbers")
    if src == dtype:
        return np.ascontiguousarray(data), {}
    with np.errstate(over="ignore", invalid="ignore"):
        out = data.astype(dtype)
        back = out.astype(src) if src.kind == "f" else out.astype(np.float64)
        ref = data if src.kind == "f" else data.astype(np.float64)
        same = (back == ref) | (np.isnan(back) & np.isnan(ref)) if src.kind == "f" else back == ref
    exact = bool(np.all(same))
    info: dict[str, Any] = {"from": str(src), "to": str(dtype), "exact": exact}
    if not exact:
        finite = np.isfinite(ref) & (ref != 0)
        rel = np.abs((back[finite] - ref[finite]) / ref[finite]) if finite.any() else np.zeros(1)
        info["max_rel_error"] = float(rel.max())
        if exact_required:
            raise DatasetError(
                f"dataset {name!r}: casting {src} to {dtype} would change {int((~same).sum())} values "
                f"(max relative change {info['max_rel_error']:.3g}); refusing to load silently altered data. "
                f"Set 'dtype: {src}' in the entry, or 'exact_cast: false' to accept the rounding"
            )
    return np.ascontiguousarray(out), info


#: Parameters every file-backed table accepts: ``n_rows`` keeps the first rows (None: all).
FILE_TABLE_PARAMS = {"n_rows": None}
#: Parameters whose value is a count of rows or events: an integer of at least 1 (or None).
COUNT_PARAMS = ("n_rows", "n_events", "n_steps", "nx", "ny")


def allowed_params(entry: dict[str, Any]) -> dict[str, Any]:
    """The parameters ``load_dataset`` accepts for ``entry``, with their defaults.

    An entry whose ``params`` name something its generator does not take, or that names an unknown
    generator, raises ``ConfigError`` naming the registry file and the entry (before any load).
    """
    if "generator" in entry:
        defaults = _generator_defaults(entry)
        bad = sorted(set(entry.get("params", {})) - set(defaults))
        if bad:
            listing = ", ".join(sorted(defaults))
            raise ConfigError(
                f"{entry.get('registry')}: entry {entry.get('name', '?')!r}, field 'params': generator "
                f"{entry['generator']!r} has no parameter {bad[0]!r}; its parameters: {listing}"
            )
        return {**defaults, **entry.get("params", {})}
    base = dict(FILE_TABLE_PARAMS) if entry["kind"] == "table" else {}
    return {**base, **entry.get("params", {})}


def _generator_defaults(entry: dict[str, Any]) -> dict[str, Any]:
    from codecbench.data import synthetic

    gen = entry["generator"]
    if gen in synthetic.GENERATORS:
        return synthetic.generator_defaults(synthetic.GENERATORS[gen])
    if gen == "pythia":
        from codecbench.data import pythia

        return pythia.generator_defaults()
    known = ", ".join(sorted([*synthetic.GENERATORS, "pythia"]))
    raise ConfigError(
        f"{entry.get('registry')}: entry {entry.get('name', '?')!r}, field 'generator': unknown generator "
        f"{gen!r} (known: {known})"
    )


def _same_kind(default: Any, value: Any) -> bool:
    if default is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int) if isinstance(default, int) else isinstance(value, int | float)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    return True


def param_problem(name: str, allowed: dict[str, Any], key: str, value: Any) -> str | None:
    """Why ``key=value`` is not a valid parameter of dataset ``name`` (None when it is)."""
    if key not in allowed:
        listing = ", ".join(f"{k}={v!r}" for k, v in allowed.items()) or "none"
        return f"dataset {name!r} has no parameter {key!r}; its parameters (with defaults): {listing}"
    default = allowed[key]
    if not _same_kind(default, value):
        kinds = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
        want = kinds.get(type(default), "a list" if isinstance(default, list | tuple) else "a value")
        return f"dataset {name!r}, parameter {key!r}: expected {want} (default {default!r}), not {value!r}"
    if key in COUNT_PARAMS and not (value is None and default is None):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return (
                f"dataset {name!r}, parameter {key!r}: expected an integer of at least 1 (default {default!r}), "
                f"not {value!r}"
            )
    return None


def check_params(
    name: str, entry: dict[str, Any], params: dict[str, Any], error: type = DatasetError
) -> dict[str, Any]:
    """The entry's parameters with ``params`` applied; an unknown parameter or a value of the wrong type
    (``n_rows='abc'``, ``n_rows=2.9``) raises ``error`` naming the dataset, the parameter and the
    allowed ones."""
    allowed = allowed_params({**entry, "name": name})
    for key, value in params.items():
        problem = param_problem(name, allowed, key, value)
        if problem:
            raise error(problem)
    return {**allowed, **params}


def _base_meta(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "source": None,
        "sha256": None,
        "url": entry.get("url"),
        "license": entry.get("license", ""),
        "description": entry.get("description", ""),
        "notes": entry.get("notes", ""),
        "units": {},
        "heavy_tailed": [],
        "registry": entry.get("registry"),
    }


def _finish(
    name: str, entry: dict[str, Any], data: np.ndarray, columns: list[str] | None, meta: dict[str, Any]
) -> Dataset:
    kind = entry["kind"]
    file_units = meta.pop("file_units", None) or {}  # units the file itself states (netCDF)
    if kind == "table":
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2:
            raise DatasetError(f"dataset {name!r} is registered as a table but the file holds shape {data.shape}")
        if entry.get("columns"):
            if len(entry["columns"]) != data.shape[1]:
                raise DatasetError(
                    f"dataset {name!r}: the entry names {len(entry['columns'])} columns, the data has {data.shape[1]}"
                )
            columns = list(entry["columns"])
        columns = columns or [f"x{i}" for i in range(data.shape[1])]
        units = {c: str(entry["units"].get(c, file_units.get(c, ""))) for c in columns}
        unknown_ht = [c for c in entry.get("heavy_tailed", []) if c not in columns]
        if unknown_ht:
            raise DatasetError(f"dataset {name!r}: heavy_tailed names {unknown_ht[0]!r}, not a column ({columns})")
        meta["heavy_tailed"] = list(entry.get("heavy_tailed", []))
    else:
        columns = None
        units = {"value": str(entry["units"].get("value", file_units.get("value", "")))}
        meta["heavy_tailed"] = []
    meta["units"] = units
    return Dataset(name=name, data=data, columns=columns, kind=kind, meta=meta)


def load_dataset(name: str, registry: str | os.PathLike[str] | None = None, **params: Any) -> Dataset:
    """Load the registered dataset ``name`` as a ``Dataset``.

    ``params`` override an entry's parameters (a generator's ``n_rows``, ``seed``...; a file table's
    ``n_rows`` keeps the first rows); an unknown one raises ``DatasetError`` listing the allowed ones.
    File-backed entries are found on the search path and verified against their checksum first.
    """
    entry = get_entry(name, registry)
    p = check_params(name, entry, params)
    meta = _base_meta(name, entry)
    dtype = np.dtype(entry["dtype"])

    if "generator" in entry:
        gen = entry["generator"]
        from codecbench.data import synthetic

        if gen in synthetic.GENERATORS:
            data, gmeta = synthetic.GENERATORS[gen](**p)
            columns = gmeta.get("columns")
            meta.update(source="generated", generator=gen, params=p)
        elif gen == "pythia":
            from codecbench.data import pythia

            path, sha = pythia.generate_cached(p)
            data, columns, extra = load_npz(
                path,
                {"key": "data", "columns_key": "columns", "event_index_key": "event_index", "text_keys": ["generator"]},
            )
            meta.update(extra)
            meta.update(source=path.name, sha256=sha, generator="pythia", params=p, path=str(path))
        else:
            raise DatasetError(
                f"dataset {name!r}: unknown generator {gen!r} (known: {sorted([*synthetic.GENERATORS, 'pythia'])})"
            )
        data, cast = _cast(name, np.asarray(data), dtype, entry["exact_cast"])
        if cast:
            meta["cast"] = cast
        return _finish(name, entry, data, columns, meta)

    if "derive" in entry:
        base = load_dataset(entry["derive"]["from"], registry, **p)
        data, columns = TRANSFORMS[entry["derive"]["transform"]](base)
        meta.update(
            {k: v for k, v in base.meta.items() if k in ("source", "sha256", "url", "event_index", "n_events", "path")}
        )
        meta["url"] = entry.get("url") or base.meta.get("url")
        meta["license"] = entry.get("license") or base.meta.get("license", "")
        meta["derived_from"] = entry["derive"]["from"]
        meta["transform"] = entry["derive"]["transform"]
        data, cast = _cast(name, data, dtype, False)
        return _finish(name, entry, data, columns, meta)

    path = find_file(
        entry["file"], entry.get("sha256"), entry.get("url"), md5=entry.get("md5"), size_bytes=entry.get("size_bytes")
    )
    sha = verify_file(path, entry.get("sha256"), entry.get("md5"))
    opts = dict(entry["loader"])
    loader = LOADERS[opts.pop("format")]
    data, columns, extra = loader(path, opts)
    data = np.asarray(data)
    if entry["kind"] == "table" and p.get("n_rows") is not None:
        n = int(p["n_rows"])
        if n < 1:
            raise DatasetError(f"dataset {name!r}: n_rows must be at least 1, not {n}")
        data = data[:n]
        if "event_index" in extra:
            extra["event_index"] = extra["event_index"][:n]
            extra["n_events"] = int(extra["event_index"].max()) + 1 if len(extra["event_index"]) else 0
    meta.update(extra)
    meta.update(source=path.name, sha256=sha, path=str(path))
    if params:
        meta["params"] = p
    data, cast = _cast(name, data, dtype, entry["exact_cast"])
    if cast:
        meta["cast"] = cast
        if cast["exact"]:
            note = (
                f"stored as {cast['from']}; every value is exactly representable in {cast['to']}, "
                "so the cast loses nothing"
            )
        else:
            note = f"stored as {cast['from']}; cast to {cast['to']} (max relative rounding {cast['max_rel_error']:.3g})"
        meta["notes"] = f"{meta['notes']} {note}".strip() if note not in meta["notes"] else meta["notes"]
    return _finish(name, entry, data, columns, meta)
