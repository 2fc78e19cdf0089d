"""The dataset registry: the packaged ``datasets.yaml`` merged with a user registry file, entry lookup.

The packaged ``datasets.yaml`` can be extended or overridden entry by entry with a user registry
file: the ``registry`` argument or the ``CODECBENCH_REGISTRY`` environment variable. Each file is
read once per (path, size, modification time) and every entry validated
(``codecbench.data.entries``) before anything uses it. What an entry says (generator, file and
checksum, loader, derivation) is acted on by ``codecbench.data.load``.
"""

from __future__ import annotations

import copy
import difflib
import os
from importlib import resources
from pathlib import Path
from typing import Any

from codecbench.data.entries import validate_entry
from codecbench.data.yamlsafe import load_yaml
from codecbench.errors import ConfigError, DatasetError

ENV_REGISTRY = "CODECBENCH_REGISTRY"


def packaged_registry_path() -> Path:
    """The ``datasets.yaml`` shipped with codecbench (inside the wheel, or at the repository root)."""
    try:
        res = resources.files("codecbench").joinpath("datasets.yaml")
        if res.is_file():
            return Path(str(res))
    except (ModuleNotFoundError, FileNotFoundError, TypeError):  # pragma: no cover - odd installs
        pass
    repo = Path(__file__).resolve().parents[2] / "datasets.yaml"
    if repo.is_file():
        return repo
    raise ConfigError(
        "codecbench's datasets.yaml is missing from the installation "
        f"(looked in the codecbench package and at {repo}); reinstall codecbench"
    )


def read_registry_file(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read and validate one registry file (``datasets: {name: entry}``)."""
    import yaml

    path = Path(path)
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read dataset registry {src}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{src}: not a text file (UTF-8 decoding failed at byte {exc.start})") from None
    try:
        doc = load_yaml(text, src)
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
    _check_derive_cycles(merged)
    return merged


def _check_derive_cycles(reg: dict[str, dict[str, Any]]) -> None:
    """Refuse entries that derive from themselves, directly or through others (one line, the cycle named)."""
    for name in reg:
        chain = [name]
        while "derive" in reg[chain[-1]]:
            nxt = reg[chain[-1]]["derive"]["from"]
            if nxt in chain:
                cycle = " -> ".join([*chain[chain.index(nxt) :], nxt])
                raise ConfigError(
                    f"{reg[name].get('registry')}: entry {name!r}, field 'derive': the derivations form a cycle "
                    f"({cycle})"
                )
            chain.append(nxt)


def get_entry(name: str, registry: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The validated entry ``name``; ``DatasetError`` with the closest names when there is none."""
    reg = get_registry(registry)
    if name not in reg:
        close = difflib.get_close_matches(name, list(reg), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise DatasetError(
            f"unknown dataset {name!r}{hint} (`codecbench list datasets` shows the {len(reg)} registered ones)"
        )
    return reg[name]
