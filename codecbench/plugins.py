"""Codec discovery through the ``codecbench.codecs`` entry-point group, loaded lazily.

Entry points are collected without importing anything; a plugin module is imported the first time
its codec is asked for. A plugin that fails to import does not break the others: ``list_codecs``
shows it with its error and the extra (or package) to install. Two distributions declaring the
same codec id give an error naming both. Built-in codecs are registered the same way, in
codecbench's own ``pyproject.toml``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from codecbench.codec import CONTRACT_VERSION, Codec
from codecbench.errors import CodecError, PluginError

GROUP = "codecbench.codecs"


@dataclass
class CodecInfo:
    """What ``list codecs`` shows for one registered codec."""

    codec_id: str
    target: str
    distribution: str
    version: str
    extras: tuple[str, ...]
    status: str = "not loaded"
    lossless: bool | None = None
    learned: bool | None = None
    error: str | None = None


_entry_points: dict[str, list[metadata.EntryPoint]] | None = None
_scanned_for: tuple[str, ...] | None = None
_loaded: dict[str, type[Codec]] = {}


def _dist_of(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return ("?", "?")
    return (dist.metadata["Name"], dist.version)


def _scan() -> dict[str, list[metadata.EntryPoint]]:
    global _entry_points, _scanned_for
    if _entry_points is None or _scanned_for != tuple(sys.path):
        # Rescanned when the import path changed since (a plugin directory added at run time, or a
        # worker forked from a server that scanned before its parent's path was known).
        _scanned_for = tuple(sys.path)
        found: dict[str, list[metadata.EntryPoint]] = {}
        seen: set[tuple[str, str]] = set()
        for ep in metadata.entry_points(group=GROUP):
            key = (ep.name, ep.value)
            if key in seen:  # the same distribution seen twice on sys.path
                continue
            seen.add(key)
            found.setdefault(ep.name, []).append(ep)
        _entry_points = found
    return _entry_points


def refresh() -> None:
    """Forget what was discovered and loaded (after installing a plugin in a running process)."""
    global _entry_points
    _entry_points = None
    _loaded.clear()


def available() -> list[str]:
    """The ids of every registered codec, sorted, without importing any plugin."""
    return sorted(_scan())


def _install_hint(ep: metadata.EntryPoint) -> str:
    name, _ = _dist_of(ep)
    if ep.extras:
        return f"pip install '{name}[{','.join(ep.extras)}]'"
    return f"pip install --upgrade '{name}'"


def _own_module_missing(exc: ImportError, ep: metadata.EntryPoint) -> bool:
    """Whether the module that failed to import is the entry point's own (not a dependency of it)."""
    name = getattr(exc, "name", None)
    return bool(name) and (ep.module == name or ep.module.startswith(f"{name}."))


def _single(codec_id: str) -> metadata.EntryPoint:
    eps = _scan().get(codec_id)
    if not eps:
        import difflib

        close = difflib.get_close_matches(codec_id, available(), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise PluginError(
            f"no codec named {codec_id!r} is installed{hint} (installed: {', '.join(available()) or 'none'})"
        )
    if len(eps) > 1:
        owners = "; ".join(f"{_dist_of(ep)[0]} ({ep.value})" for ep in eps)
        raise PluginError(f"codec id {codec_id!r} is registered by more than one plugin: {owners}")
    return eps[0]


def get_codec_class(codec_id: str) -> type[Codec]:
    """Import (once) and return the codec class registered as ``codec_id``."""
    if codec_id in _loaded:
        return _loaded[codec_id]
    if codec_id.startswith("numcodecs."):  # a numcodecs codec through the adapter (codecbench.interop.numcodecs_codecs)
        from codecbench.interop.numcodecs_codecs import adapter_class

        return adapter_class(codec_id)
    ep = _single(codec_id)
    try:
        cls = ep.load()
    except ImportError as exc:
        if _own_module_missing(exc, ep):
            raise PluginError(
                f"codec {codec_id!r} ({ep.value}) cannot be imported: {exc}. The plugin's own module is missing: "
                f"reinstall {_dist_of(ep)[0]}"
            ) from exc
        raise PluginError(
            f"codec {codec_id!r} ({ep.value}) cannot be imported: {exc}. Install what it needs: {_install_hint(ep)}"
        ) from exc
    except Exception as exc:
        raise PluginError(
            f"codec {codec_id!r} ({ep.value}) raised while importing: {type(exc).__name__}: {exc}"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Codec)):
        raise PluginError(f"entry point {codec_id!r} ({ep.value}) is not a codecbench.Codec subclass")
    major = getattr(cls, "contract_version", None)
    if major != CONTRACT_VERSION:
        raise PluginError(
            f"codec {codec_id!r} from {_dist_of(ep)[0]} was written for codec contract version {major}; "
            f"this codecbench implements version {CONTRACT_VERSION}. Upgrade the plugin or codecbench."
        )
    if getattr(cls, "codec_id", None) != codec_id:
        raise PluginError(
            f"entry point {codec_id!r} ({ep.value}) points at a class whose codec_id is "
            f"{getattr(cls, 'codec_id', None)!r}; the two must match"
        )
    missing = [m for m in getattr(cls, "requires", ()) if not _importable(m)]
    if missing:
        # A plugin that imports its heavy dependencies lazily declares them in `requires`, so a
        # missing one is reported here (and in `list codecs`), not in the middle of a run.
        err = ImportError(f"No module named {missing[0]!r}")
        raise PluginError(
            f"codec {codec_id!r} needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
            f"not installed. Install what it needs: {_install_hint(ep)}"
        ) from err
    _loaded[codec_id] = cls
    return cls


def _importable(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def parse_spec(spec: str | dict[str, Any]) -> dict[str, Any]:
    """Normalise a codec spec (``"zstd"``, ``'{"id": "zstd", "level": 19}'`` or a dict) to a config dict."""
    if isinstance(spec, dict):
        config = dict(spec)
    elif isinstance(spec, str):
        text = spec.strip()
        if text.startswith("numcodecs:"):  # numcodecs:{"id": "zfpy", ...} or numcodecs:zlib
            from codecbench.interop.numcodecs_codecs import parse_numcodecs_spec

            return parse_numcodecs_spec(text)
        if text.startswith("{"):
            try:
                config = json.loads(text)
            except json.JSONDecodeError as exc:
                raise CodecError(f"codec spec {spec!r} is not valid JSON: {exc}") from exc
            if not isinstance(config, dict):
                raise CodecError(f"codec spec {spec!r} must be a JSON object")
        else:
            config = {"id": text}
    else:
        raise CodecError(f"a codec spec is a string or a dict, not {type(spec).__name__}")
    if not isinstance(config.get("id"), str) or not config["id"]:
        raise CodecError(f"codec spec {spec!r} has no 'id'")
    if config["id"].startswith("numcodecs:"):  # {"id": "numcodecs:zfpy"} in a config file
        config["id"] = "numcodecs." + config["id"][len("numcodecs:") :]
    return config


def get_codec(spec: str | dict[str, Any]) -> Codec:
    """Build a codec from a spec: ``"zstd"`` or ``{"id": "zstd", "level": 19}``."""
    config = parse_spec(spec)
    cls = get_codec_class(config["id"])
    return cls.from_config(config)


def describe(codec_id: str) -> CodecInfo:
    """Load one codec's class (if it can be) and report what ``list codecs`` shows for it."""
    eps = _scan().get(codec_id, [])
    if not eps:
        return CodecInfo(codec_id, "", "?", "?", (), status="missing", error="not registered")
    ep = eps[0]
    dist, version = _dist_of(ep)
    info = CodecInfo(codec_id, ep.value, dist, version, tuple(ep.extras))
    try:
        cls = get_codec_class(codec_id)
    except PluginError as exc:
        if len(eps) > 1:
            info.distribution = ", ".join(f"{d} {v}" for d, v in map(_dist_of, eps))
            info.version = ""  # each distribution's version is in `distribution`
            info.status = "conflict"
        elif "contract version" in str(exc):
            info.status = "incompatible"
        else:
            cause = exc.__cause__  # only a dependency that failed to import is fixed by the extra
            missing = isinstance(cause, ImportError) and not _own_module_missing(cause, ep)
            info.status = f"needs {','.join(ep.extras)} extra" if missing and ep.extras else "broken"
        info.error = str(exc)
        return info
    info.status = "ok"
    info.lossless = bool(cls.lossless)
    info.learned = bool(cls.learned)
    return info


def provenance(codec_id: str) -> dict[str, Any]:
    """The distribution that registers ``codec_id``: ``{"distribution", "version", "extras"}``.

    Read from the entry point without importing the plugin; ``None`` values when nothing registers it.
    """
    eps = _scan().get(codec_id) or []
    if not eps:
        return {"distribution": None, "version": None, "extras": []}
    name, version = _dist_of(eps[0])
    return {"distribution": name, "version": version, "extras": list(eps[0].extras)}


def list_codecs() -> list[CodecInfo]:
    """Describe every registered codec, loading each (a broken one is reported, not raised)."""
    return [describe(cid) for cid in available()]
