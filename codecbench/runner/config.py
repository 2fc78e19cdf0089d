"""The grid described in text: ``--set``/``--sweep`` assignments and YAML run-config files.

Values are parsed as JSON when they parse (numbers, booleans, lists, objects), else kept as strings.
A run config is validated before anything runs, and an error names the file, the entry and the
field (``run config grid.yaml: codecs[2] (zstd), field 'level': ...``).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from codecbench.errors import CodecbenchError, ConfigError
from codecbench.plugins import get_codec_class
from codecbench.runner.grid import check_dataset_params


def parse_value(text: str) -> Any:
    """A command-line value: JSON if it parses (numbers, true/false, lists, objects), else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_assignments(items: Iterable[str], option: str) -> dict[str, dict[str, Any]]:
    """``["zstd.level=19", "jets-synthetic.n_rows=1000"]`` -> ``{"zstd": {"level": 19}, ...}``."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        target, sep, value = item.partition("=")
        owner, dot, param = target.rpartition(".")
        if not sep or not dot or not owner or not param:
            raise ConfigError(f"{option} {item!r}: expected NAME.PARAM=VALUE, e.g. zstd.level=19")
        out.setdefault(owner, {})[param] = parse_value(value)
    return out


def parse_sweeps(items: Iterable[str]) -> dict[str, dict[str, list[Any]]]:
    """``["trunc.bits=6,8,10"]`` -> ``{"trunc": {"bits": [6, 8, 10]}}``."""
    out: dict[str, dict[str, list[Any]]] = {}
    for item in items:
        target, sep, values = item.partition("=")
        owner, dot, param = target.rpartition(".")
        if not sep or not dot or not values:
            raise ConfigError(f"--sweep {item!r}: expected CODEC.PARAM=V1,V2,..., e.g. trunc.bits=6,8,10")
        parsed = parse_value(values) if values.strip().startswith("[") else [parse_value(v) for v in values.split(",")]
        out.setdefault(owner, {})[param] = list(parsed)
    return out


def load_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a run config (YAML): datasets, codecs (ids or dicts, each with an optional ``sweep``), settings."""
    import yaml

    from codecbench.data.yamlsafe import load_yaml

    p = Path(path)
    try:
        data = load_yaml(p.read_text(encoding="utf-8"), f"run config {p}")
    except OSError as exc:
        raise ConfigError(f"run config {p}: cannot read it ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"run config {p}: not a text file (UTF-8 decoding failed at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        pos = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"run config {p}: not valid YAML{pos}: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"run config {p}: expected a mapping with 'codecs' and 'datasets'")
    allowed = {
        "codecs",
        "datasets",
        "seed",
        "repeats",
        "test_fraction",
        "measure_on",
        "fit_on",
        "device",
        "dataset_params",
        "sweep_default",
        "targets",
    }
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(f"run config {p}: unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(allowed))}")
    for key in ("codecs", "datasets"):
        if key in data and not isinstance(data[key], list):
            raise ConfigError(f"run config {p}: '{key}' must be a list")
    for i, c in enumerate(data.get("codecs", []) or []):
        if not isinstance(c, str | dict) or (isinstance(c, dict) and "id" not in c):
            raise ConfigError(f"run config {p}: codecs[{i}] must be a codec id or a mapping with an 'id'")
    _validate_file_config(p, data)
    return data


def _validate_file_config(p: Path, data: dict[str, Any]) -> None:
    """Check a run config's values before anything runs; errors name the file, the entry and the field."""
    from codecbench.data.registry import get_registry

    where = f"run config {p}"
    checks = {
        "seed": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
        "repeats": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "an integer >= 1"),
        "test_fraction": (
            lambda v: isinstance(v, int | float) and not isinstance(v, bool) and 0 < v < 1,
            "a number between 0 and 1",
        ),
        "measure_on": (lambda v: v in ("auto", "test"), "'auto' or 'test'"),
        "sweep_default": (lambda v: isinstance(v, bool), "true or false"),
        "fit_on": (lambda v: v is None or isinstance(v, str), "a dataset name"),
        "device": (lambda v: v is None or isinstance(v, str), "'auto', 'cpu' or 'cuda'"),
    }
    for key, (ok, what) in checks.items():
        if key in data and not ok(data[key]):
            raise ConfigError(f"{where}: field {key!r} must be {what}, not {data[key]!r}")
    targets = data.get("targets")
    if targets is not None:
        from codecbench.measure.targets import parse_target

        if not isinstance(targets, list):
            raise ConfigError(f"{where}: field 'targets' must be a list such as [worst_rel_rms=5e-4, {{psnr: 60}}]")
        for i, t in enumerate(targets):
            try:
                parse_target(t)
            except ConfigError as exc:
                raise ConfigError(f"{where}: targets[{i}]: {exc}") from None
    registry = get_registry()
    for i, name in enumerate(data.get("datasets") or []):
        if not isinstance(name, str) or name not in registry:
            raise ConfigError(
                f"{where}: datasets[{i}]: unknown dataset {name!r}; `codecbench list datasets` shows them"
            )
    dsp = data.get("dataset_params")
    if dsp is not None:
        if not isinstance(dsp, dict) or not all(isinstance(v, dict) for v in dsp.values()):
            raise ConfigError(f"{where}: field 'dataset_params' must be a mapping of dataset name -> {{param: value}}")
        for name, params in dsp.items():
            if name not in registry:
                raise ConfigError(f"{where}: dataset_params names unknown dataset {name!r}")
            try:
                check_dataset_params(name, registry[name], params)
            except CodecbenchError as exc:
                raise ConfigError(f"{where}: dataset_params[{name!r}]: {exc}") from None
    for i, c in enumerate(data.get("codecs") or []):
        cfg = {"id": c} if isinstance(c, str) else {k: v for k, v in c.items() if k != "sweep"}
        entry = f"{where}: codecs[{i}] ({cfg['id']})"
        sweep = c.get("sweep", {}) if isinstance(c, dict) else {}
        if not isinstance(sweep, dict) or not all(isinstance(v, list) and v for v in sweep.values()):
            raise ConfigError(f"{entry}, field 'sweep': must be a mapping param -> non-empty list of values")
        try:
            cls = get_codec_class(cfg["id"])
        except CodecbenchError as exc:
            raise ConfigError(f"{entry}: {exc}") from None
        trials = [(k, {"id": cfg["id"], k: v}) for k, v in cfg.items() if k != "id"]
        trials += [(f"sweep.{k}", {"id": cfg["id"], k: v}) for k, vs in sweep.items() for v in vs]
        for field_name, trial in trials:  # one parameter at a time, so the error can name it
            try:
                cls.from_config(trial)
            except CodecbenchError as exc:
                raise ConfigError(f"{entry}, field {field_name!r}: {exc}") from None
        try:
            cls.from_config(cfg)
        except CodecbenchError as exc:
            raise ConfigError(f"{entry}: {exc}") from None


def codecs_from_file(cfg: dict[str, Any], sweeps_out: dict[str, dict[str, list[Any]]]) -> list[Any]:
    """A run config's codecs without their ``sweep`` keys, which go into ``sweeps_out`` (codec id -> sweep)."""
    out: list[Any] = []
    for c in cfg.get("codecs") or []:
        if isinstance(c, dict) and "sweep" in c:
            c = copy.deepcopy(c)
            sweep = c.pop("sweep")
            if not isinstance(sweep, dict):
                raise ConfigError(f"run config: the sweep of codec {c.get('id')!r} must be a mapping param -> values")
            sweeps_out.setdefault(c["id"], {}).update({k: list(v) for k, v in sweep.items()})
        out.append(c)
    return out
