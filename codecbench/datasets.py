"""The dataset registry: ``datasets.yaml`` entries, the file search path, checksums, loading.

The file-format readers are in ``codecbench.loaders``.

An entry is either *generated* (``generator:`` names an in-process generator, see
``codecbench.synthetic``; no file) or backed by a *file* (``file:`` with its ``sha256`` or ``md5``,
an optional public ``url`` and a ``loader:`` saying how to read it), or *derived* from another
entry (``derive: {from: NAME, transform: ...}``).

Files are looked up, in order, in the directories of ``CODECBENCH_DATA_PATH`` (``os.pathsep``
separated) and then in the user cache (``CODECBENCH_CACHE_DIR``, default
``platformdirs.user_cache_dir("codecbench")/datasets``). Every file's checksum is verified before
it is used; a file that fails it is refused. A file found nowhere is downloaded from its URL into
the cache (see ``codecbench.download``) unless ``CODECBENCH_OFFLINE`` is set, in which case the error
says what to download and where to put it.

The packaged ``datasets.yaml`` can be extended or overridden entry by entry with a user registry
file: the ``registry`` argument or the ``CODECBENCH_REGISTRY`` environment variable.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from codecbench.dataset import Dataset
from codecbench.errors import ConfigError, DatasetError
from codecbench.loaders import LOADERS, load_npz

ENV_DATA_PATH = "CODECBENCH_DATA_PATH"
ENV_CACHE_DIR = "CODECBENCH_CACHE_DIR"
ENV_REGISTRY = "CODECBENCH_REGISTRY"
ENV_OFFLINE = "CODECBENCH_OFFLINE"

#: Fields an entry may have; anything else is a typo and is reported.
ENTRY_FIELDS = {
    "description", "license", "kind", "dtype", "generator", "params", "file", "sha256", "md5", "url",
    "size_bytes", "loader", "columns", "units", "heavy_tailed", "notes", "derive", "reference",
    "exact_cast", "default",
}  # fmt: skip
LOADER_FORMATS = {"npz", "npy", "root", "csv", "hdf5"}
TRANSFORMS = {"ptetaphim"}


# --- registry ------------------------------------------------------------------------------------


def packaged_registry_path() -> Path:
    """The ``datasets.yaml`` shipped with codecbench (inside the wheel, or at the repository root)."""
    try:
        res = resources.files("codecbench").joinpath("datasets.yaml")
        if res.is_file():
            return Path(str(res))
    except (ModuleNotFoundError, FileNotFoundError, TypeError):  # pragma: no cover - odd installs
        pass
    repo = Path(__file__).resolve().parent.parent / "datasets.yaml"
    if repo.is_file():
        return repo
    raise ConfigError(
        "codecbench's datasets.yaml is missing from the installation "
        f"(looked in the codecbench package and at {repo}); reinstall codecbench"
    )


def _cfg_err(source: str, name: str | None, field: str | None, msg: str) -> ConfigError:
    where = f"{source}"
    if name is not None:
        where += f": entry {name!r}"
    if field is not None:
        where += f", field {field!r}"
    return ConfigError(f"{where}: {msg}")


def escapes_search_path(filename: str) -> bool:
    """Whether a registry ``file`` name could point outside the directory it is looked up in:
    absolute (POSIX or Windows, drive letters included), ``~``-relative, or with a ``..`` part."""
    from pathlib import PurePosixPath, PureWindowsPath

    win = PureWindowsPath(filename)
    posix = PurePosixPath(filename.replace("\\", "/"))
    return (
        posix.is_absolute() or bool(win.drive) or win.is_absolute() or filename.startswith("~") or ".." in posix.parts
    )


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
    try:
        dtype = np.dtype(e.setdefault("dtype", "float32"))
    except TypeError as exc:
        raise _cfg_err(source, name, "dtype", f"not a numpy dtype: {exc}") from None
    if dtype.kind != "f":
        raise _cfg_err(source, name, "dtype", f"must be a float dtype (float32 or float64), not {dtype}")
    e["dtype"] = dtype.name
    params = e.setdefault("params", {})
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise _cfg_err(source, name, "params", "must be a mapping of parameter name to default value")
    units = e.setdefault("units", {})
    if not isinstance(units, dict):
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
        if "size_bytes" in e and not (isinstance(e["size_bytes"], int) and e["size_bytes"] >= 0):
            raise _cfg_err(source, name, "size_bytes", "must be a non-negative integer")
        loader = e.get("loader")
        if not isinstance(loader, dict) or "format" not in loader:
            raise _cfg_err(source, name, "loader", "a file entry needs loader: {format: npz|npy|root|csv|hdf5, ...}")
        if loader["format"] not in LOADER_FORMATS:
            raise _cfg_err(
                source, name, "loader", f"format {loader['format']!r} unknown; use one of {sorted(LOADER_FORMATS)}"
            )
        if loader["format"] == "root" and ("tree" not in loader or "branches" not in loader):
            raise _cfg_err(source, name, "loader", "a root loader needs 'tree' and 'branches'")
        if loader["format"] == "npz" and "key" not in loader:
            raise _cfg_err(source, name, "loader", "an npz loader needs 'key'")
        if loader["format"] == "hdf5" and "key" not in loader:
            raise _cfg_err(source, name, "loader", "an hdf5 loader needs 'key' (the dataset inside the file)")
    if "derive" in e:
        d = e["derive"]
        if not isinstance(d, dict) or "from" not in d or "transform" not in d:
            raise _cfg_err(source, name, "derive", "must be {from: ENTRY, transform: NAME}")
        if d["transform"] not in TRANSFORMS:
            raise _cfg_err(
                source, name, "derive", f"transform {d['transform']!r} unknown; use one of {sorted(TRANSFORMS)}"
            )
    if "generator" in e and not e["generator"]:
        raise _cfg_err(source, name, "generator", "must name a generator")
    return e


def read_registry_file(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read and validate one registry file (``datasets: {name: entry}``)."""
    import yaml

    path = Path(path)
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read dataset registry {src}: {exc.strerror or exc}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{src}: not valid YAML: {str(exc).splitlines()[0]} ({_yaml_pos(exc)})") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict) or not isinstance(doc.get("datasets", {}), dict):
        raise ConfigError(f"{src}: a dataset registry is a mapping with a 'datasets:' mapping of name -> entry")
    extra = sorted(set(doc) - {"datasets", "version"})
    if extra:
        raise ConfigError(f"{src}: unknown top-level key {extra[0]!r}; expected 'datasets' (and optionally 'version')")
    out = {}
    for name, entry in (doc.get("datasets") or {}).items():
        if not isinstance(name, str):
            raise ConfigError(f"{src}: dataset names must be strings, got {name!r}")
        out[name] = validate_entry(name, entry, src)
        out[name]["registry"] = src
    return out


def _yaml_pos(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "position unknown"


_REG_CACHE: dict[tuple[str, int, int], dict[str, dict[str, Any]]] = {}


def _read_cached(path: Path) -> dict[str, dict[str, Any]]:
    try:
        st = path.stat()
    except OSError as exc:
        raise ConfigError(f"cannot read dataset registry {path}: {exc.strerror or exc}") from None
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _REG_CACHE:
        _REG_CACHE[key] = read_registry_file(path)
    return _REG_CACHE[key]


def get_registry(registry: str | os.PathLike[str] | None = None) -> dict[str, dict[str, Any]]:
    """All registry entries: the packaged ``datasets.yaml`` plus the user registry file (the
    ``registry`` argument, else ``$CODECBENCH_REGISTRY``), whose entries add to or replace the
    packaged ones."""
    merged = {k: copy.deepcopy(v) for k, v in _read_cached(packaged_registry_path()).items()}
    user = registry if registry is not None else os.environ.get(ENV_REGISTRY) or None
    if user:
        for name, entry in _read_cached(Path(user)).items():
            merged[name] = copy.deepcopy(entry)
    for name, entry in merged.items():
        if "derive" in entry and entry["derive"]["from"] not in merged:
            raise ConfigError(
                f"{entry.get('registry')}: entry {name!r}, field 'derive': derives from unknown entry "
                f"{entry['derive']['from']!r}"
            )
    return merged


def _entry(name: str, registry: str | os.PathLike[str] | None) -> dict[str, Any]:
    reg = get_registry(registry)
    if name not in reg:
        close = difflib.get_close_matches(name, list(reg), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise DatasetError(
            f"unknown dataset {name!r}{hint} (`codecbench list datasets` shows the {len(reg)} registered ones)"
        )
    return reg[name]


# --- search path, cache, checksums ---------------------------------------------------------------


def data_path() -> list[Path]:
    """Directories of ``$CODECBENCH_DATA_PATH`` in order (empty entries skipped)."""
    raw = os.environ.get(ENV_DATA_PATH, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def cache_dir() -> Path:
    """The user cache for downloaded and generated files (``$CODECBENCH_CACHE_DIR`` or the platform's)."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("codecbench")) / "datasets"


def search_dirs() -> list[Path]:
    """Where files are looked for: the data path, then the cache."""
    return [*data_path(), cache_dir()]


_DIGESTS: dict[tuple[str, int, int, str], str] = {}
_DIGEST_LOCK = threading.Lock()


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """Hex digest of a file, remembered in-process by (path, size, mtime) so repeated loads are cheap."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns, algorithm)
    with _DIGEST_LOCK:
        if key in _DIGESTS:
            return _DIGESTS[key]
    h = hashlib.new(algorithm)
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    with _DIGEST_LOCK:
        _DIGESTS[key] = digest
    return digest


def remember_digest(path: str | os.PathLike[str], algorithm: str, digest: str) -> None:
    """Record a digest computed elsewhere (while downloading) so the file is not hashed again."""
    p = Path(path).resolve()
    st = p.stat()
    with _DIGEST_LOCK:
        _DIGESTS[(str(p), st.st_size, st.st_mtime_ns, algorithm)] = digest


def verify_file(path: Path, sha256: str | None = None, md5: str | None = None) -> str | None:
    """Check a file against its sha256 (preferred) or md5; return its sha256, raise if it differs."""
    if sha256:
        got = file_digest(path, "sha256")
        if got.lower() != sha256.lower():
            raise DatasetError(
                f"checksum mismatch for {path}: expected sha256 {sha256.lower()}, got {got}; the file is refused "
                "(it is corrupted, truncated or a different version: delete it and fetch it again)"
            )
        return got
    if md5:
        got = file_digest(path, "md5")
        if got.lower() != md5.lower():
            raise DatasetError(
                f"checksum mismatch for {path}: expected md5 {md5.lower()}, got {got}; the file is refused "
                "(it is corrupted, truncated or a different version: delete it and fetch it again)"
            )
        return file_digest(path, "sha256")
    return file_digest(path, "sha256")


def locate_file(filename: str) -> Path | None:
    """The first existing copy of ``filename`` on the search path (no checksum check), or None."""
    p = Path(filename).expanduser()
    if p.is_absolute():
        return p if p.is_file() else None
    for d in search_dirs():
        cand = d / filename
        if cand.is_file():
            return cand
    return None


def offline() -> bool:
    """Whether downloads are disabled (``CODECBENCH_OFFLINE`` set to anything but 0/false/no)."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in ("", "0", "false", "no")


def find_file(
    filename: str,
    sha256: str | None,
    url: str | None = None,
    *,
    md5: str | None = None,
    download: bool | None = None,
    size_bytes: int | None = None,
) -> Path:
    """Find ``filename`` on the search path and verify its checksum before returning its path.

    A missing file is downloaded from ``url`` into the cache when ``download`` is true (default:
    unless ``CODECBENCH_OFFLINE`` is set). Raises ``DatasetError`` naming the file, its URL and the
    directories searched when it cannot be found, and refuses a file whose checksum differs.
    """
    found = locate_file(filename)
    if found is not None:
        verify_file(found, sha256, md5)
        return found
    if download is None:
        download = not offline()
    if url and download:
        from codecbench.download import download_file

        target = cache_dir() / Path(filename).name
        download_file(url, target, sha256=sha256, md5=md5, size_bytes=size_bytes)
        verify_file(target, sha256, md5)
        return target
    dirs = search_dirs()
    searched = ", ".join(str(d) for d in dirs)
    checksum = f"sha256 {sha256}" if sha256 else f"md5 {md5}" if md5 else "no checksum"
    if url:
        why = " (downloads are disabled by CODECBENCH_OFFLINE)" if not download else ""
        how = (
            f"download it from {url} ({checksum}){why} and put it in {cache_dir()} or in a directory listed in "
            f"${ENV_DATA_PATH}, or run `codecbench datasets fetch` with network access"
        )
    else:
        how = (
            f"it has no public URL ({checksum}); put the file in a directory listed in ${ENV_DATA_PATH} "
            f"or in {cache_dir()}"
        )
    raise DatasetError(f"dataset file {filename!r} not found (searched: {searched}); {how}")


# --- casting -------------------------------------------------------------------------------------


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


# --- load ----------------------------------------------------------------------------------------

#: Parameters every file-backed table accepts: ``n_rows`` keeps the first rows (None: all).
FILE_TABLE_PARAMS = {"n_rows": None}


def _allowed_params(entry: dict[str, Any]) -> dict[str, Any]:
    if "generator" in entry:
        defaults = _generator_defaults(entry["generator"])
        return {**defaults, **entry.get("params", {})}
    base = dict(FILE_TABLE_PARAMS) if entry["kind"] == "table" else {}
    return {**base, **entry.get("params", {})}


def _generator_defaults(gen: str) -> dict[str, Any]:
    from codecbench import synthetic

    if gen in synthetic.GENERATORS:
        return synthetic.generator_defaults(synthetic.GENERATORS[gen])
    if gen == "pythia":
        from codecbench import pythia

        return pythia.generator_defaults()
    return {}


def _check_params(name: str, entry: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    allowed = _allowed_params(entry)
    bad = sorted(set(params) - set(allowed))
    if bad:
        listing = ", ".join(f"{k}={v!r}" for k, v in allowed.items()) or "none"
        raise DatasetError(f"dataset {name!r} has no parameter {bad[0]!r}; its parameters (with defaults): {listing}")
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
        units = {c: str(entry["units"].get(c, "")) for c in columns}
        unknown_ht = [c for c in entry.get("heavy_tailed", []) if c not in columns]
        if unknown_ht:
            raise DatasetError(f"dataset {name!r}: heavy_tailed names {unknown_ht[0]!r}, not a column ({columns})")
        meta["heavy_tailed"] = list(entry.get("heavy_tailed", []))
    else:
        columns = None
        units = {"value": str(entry["units"].get("value", ""))}
        meta["heavy_tailed"] = []
    meta["units"] = units
    return Dataset(name=name, data=data, columns=columns, kind=kind, meta=meta)


def load_dataset(name: str, registry: str | os.PathLike[str] | None = None, **params: Any) -> Dataset:
    """Load the registered dataset ``name`` as a ``Dataset``.

    ``params`` override an entry's parameters (a generator's ``n_rows``, ``seed``...; a file table's
    ``n_rows`` keeps the first rows); an unknown one raises ``DatasetError`` listing the allowed ones.
    File-backed entries are found on the search path and verified against their checksum first.
    """
    entry = _entry(name, registry)
    p = _check_params(name, entry, params)
    meta = _base_meta(name, entry)
    dtype = np.dtype(entry["dtype"])

    if "generator" in entry:
        gen = entry["generator"]
        from codecbench import synthetic

        if gen in synthetic.GENERATORS:
            data, gmeta = synthetic.GENERATORS[gen](**p)
            columns = gmeta.get("columns")
            meta.update(source="generated", generator=gen, params=p)
        elif gen == "pythia":
            from codecbench import pythia

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
        data, columns = _transform(name, entry["derive"]["transform"], base)
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


def _transform(name: str, transform: str, base: Dataset) -> tuple[np.ndarray, list[str]]:
    if transform == "ptetaphim":
        return ptetaphim_columns(base)
    raise DatasetError(f"dataset {name!r}: unknown transform {transform!r}")  # pragma: no cover - validated


# --- listing -------------------------------------------------------------------------------------


def _source(entry: dict[str, Any]) -> str:
    if "generator" in entry:
        return "generated"
    if "derive" in entry:
        return "derived"
    return "url" if entry.get("url") else "file"


def _available(entry: dict[str, Any], reg: dict[str, dict[str, Any]]) -> bool:
    if "generator" in entry:
        if entry["generator"] == "pythia":
            from codecbench import pythia

            return pythia.available()
        return True
    if "derive" in entry:
        base = reg.get(entry["derive"]["from"])
        return base is not None and _available(base, reg)
    return locate_file(entry["file"]) is not None


def list_datasets(registry: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """One summary per registered dataset: name, kind, source ("generated", "file", "url" or
    "derived"), file, size_bytes, license, description, available (loadable without a download)."""
    reg = get_registry(registry)
    rows = []
    for name, e in reg.items():
        rows.append(
            {
                "name": name,
                "kind": e["kind"],
                "source": _source(e),
                "file": e.get("file") or (f"derived from {e['derive']['from']}" if "derive" in e else None),
                "size_bytes": e.get("size_bytes"),
                "license": e.get("license", ""),
                "description": e.get("description", ""),
                "available": _available(e, reg),
            }
        )
    return rows


def dataset_info(name: str, registry: str | os.PathLike[str] | None = None, **params: Any) -> dict[str, Any]:
    """The registry entry plus what loading tells: shape, dtype, columns, units and quality facts."""
    from codecbench.quality import quality_facts

    entry = _entry(name, registry)
    ds = load_dataset(name, registry, **params)
    meta = {k: v for k, v in ds.meta.items() if k != "event_index"}
    info = {
        "name": name,
        "entry": entry,
        "source": _source(entry),
        "kind": ds.kind,
        "shape": list(ds.data.shape),
        "dtype": str(ds.data.dtype),
        "columns": ds.columns,
        "n_values": ds.n_values,
        "meta": meta,
        "quality": quality_facts(ds),
    }
    if "event_index" in ds.meta:
        ev = ds.meta["event_index"]
        info["n_events"] = int(ds.meta.get("n_events") or (int(ev.max()) + 1 if len(ev) else 0))
    return info


# --- transforms ----------------------------------------------------------------------------------


def _pick_column(columns: list[str], suffix: str) -> int:
    hits = [i for i, c in enumerate(columns) if c.lower() == suffix or c.lower().endswith("_" + suffix)]
    if len(hits) != 1:
        raise DatasetError(f"cannot find exactly one {suffix!r} column among {columns} for the (pt, eta, phi, m) view")
    return hits[0]


def ptetaphim_columns(base: Dataset) -> tuple[np.ndarray, list[str]]:
    """(pt, eta, phi, mass) of a table holding px, py, pz, E columns (names ending in _px, _py,
    _pz, _e, any case), computed in float64 with scikit-hep ``vector``."""
    try:
        import vector
    except ImportError:
        raise DatasetError(
            "the (pt, eta, phi, m) view needs scikit-hep vector: pip install 'codecbench[vector]'"
        ) from None
    cols = base.columns or []
    idx = [_pick_column(cols, s) for s in ("px", "py", "pz", "e")]
    px, py, pz, e = (base.data[:, i].astype(np.float64) for i in idx)
    v = vector.array({"px": px, "py": py, "pz": pz, "E": e})
    out = np.stack([np.asarray(v.pt), np.asarray(v.eta), np.asarray(v.phi), np.asarray(v.mass)], axis=1)
    return out, ["pt", "eta", "phi", "mass"]
