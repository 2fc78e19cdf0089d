"""The benchmark grid: codec settings x datasets (x repeats), measured task by task.

A task is one codec config on one dataset. ``measure_task`` runs it and always returns a record:
``status="ok"`` with sizes, errors and timings, or ``status="failed"`` with the error message and
the stage that failed (a plugin that raises never stops the run). ``run`` builds the grid, skips
tasks already in ``OUT/records.jsonl`` when resuming, streams each record to disk as it finishes,
and returns the records as a DataFrame.

Learned codecs (``Codec.learned``) are fitted on the training split and measured on the held-out
test split; the others are measured on the whole dataset (``measure_on="test"`` changes that).
Every lossless codec's round trip is checked bit for bit on every run. Decoding goes through a
fresh codec instance built from the config and ``load_state(save_state())``, so the aux bytes in the
record are provably all the decoder needs.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import os
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from codecbench.codec import Codec
from codecbench.container import compress, decompress
from codecbench.dataset import Dataset
from codecbench.errors import CodecbenchError, CodecError, ConfigError, PluginError
from codecbench.measure.metrics import bits_equal, count_bit_differences, error_metrics, exact_metrics, size_metrics
from codecbench.measure.timing import measure, time_once
from codecbench.plugins import available, get_codec, get_codec_class, parse_spec
from codecbench.results import RECORD_VERSION, RecordStore, write_run_file

DEFAULT_TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Task:
    """One measurement: a codec config on a dataset (and a repeat index for learned codecs)."""

    config: dict[str, Any]
    dataset: str
    dataset_params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    repeat: int = 0
    test_fraction: float = DEFAULT_TEST_FRACTION
    measure_on: str = "auto"  # "auto": test split for learned codecs, all rows otherwise
    fit_on: str | None = None
    device: str | None = None
    refit: bool = False
    chunk_bytes: int | None = None

    @property
    def task_id(self) -> str:
        """Stable id of the task (what ``--resume`` skips on)."""
        key = {k: v for k, v in asdict(self).items() if k not in ("refit",)}
        return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]


# --- grid construction ---------------------------------------------------------------------------


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


def expand(base: dict[str, Any], sweep: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The configs of a sweep: the product of every swept parameter's values over ``base``."""
    if not sweep:
        return [dict(base)]
    names = list(sweep)
    return [{**base, **dict(zip(names, combo))} for combo in itertools.product(*(sweep[n] for n in names))]


def builtin_codec_ids() -> list[str]:
    """Codecs registered by codecbench itself whose plugins import (the default of ``--codecs``)."""
    from codecbench.plugins import list_codecs

    return [i.codec_id for i in list_codecs() if i.distribution == "codecbench" and i.status == "ok"]


def load_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a run config (YAML): datasets, codecs (ids or dicts, each with an optional ``sweep``), settings."""
    import yaml

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"run config {p}: cannot read it ({exc.strerror})") from exc
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


def check_dataset_params(name: str, entry: dict[str, Any], params: dict[str, Any]) -> None:
    """Refuse a dataset parameter the entry does not have, or a value of another type than its default."""
    from codecbench.data.load import allowed_params

    allowed = allowed_params(entry)
    for key, value in params.items():
        if key not in allowed:
            listing = ", ".join(f"{k}={v!r}" for k, v in allowed.items()) or "none"
            raise ConfigError(f"dataset {name!r} has no parameter {key!r}; its parameters (with defaults): {listing}")
        if not _same_kind(allowed[key], value):
            kinds = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
            want = kinds.get(type(allowed[key]), "a list" if isinstance(allowed[key], list | tuple) else "a value")
            raise ConfigError(
                f"dataset {name!r}, parameter {key!r}: expected {want} (default {allowed[key]!r}), not {value!r}"
            )


def build_tasks(
    codecs: Sequence[str | dict[str, Any]] | None = None,
    datasets: Sequence[str] | None = None,
    *,
    sets: dict[str, dict[str, Any]] | None = None,
    sweeps: dict[str, dict[str, list[Any]]] | None = None,
    sweep_default: bool = False,
    seed: int = 0,
    repeats: int = 1,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    measure_on: str = "auto",
    fit_on: str | None = None,
    device: str | None = None,
    refit: bool = False,
    dataset_params: dict[str, dict[str, Any]] | None = None,
    chunk_bytes: int | None = None,
) -> list[Task]:
    """The grid as a list of tasks (validated: unknown codecs and parameters raise before anything runs)."""
    from codecbench.data.registry import get_registry

    sets = dict(sets or {})
    sweeps = dict(sweeps or {})
    registry = get_registry()
    if datasets is None:
        datasets = [n for n, e in registry.items() if e.get("default")]
        if not datasets:
            raise ConfigError("no dataset is marked `default: true` in the registry; name some with --datasets")
    for name in datasets:
        if name not in registry:
            import difflib

            close = difflib.get_close_matches(name, list(registry), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(f"unknown dataset {name!r}{hint}; `codecbench list datasets` shows them")
    ds_params: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (dataset_params or {}).items()}
    for owner in list(sets):
        if owner in registry:
            ds_params.setdefault(owner, {}).update(sets.pop(owner))
    for name, params in ds_params.items():
        if name in registry:
            check_dataset_params(name, registry[name], params)  # before anything runs, not task by task
    specs = [parse_spec(c) for c in (codecs if codecs is not None else builtin_codec_ids())]
    codec_ids = {s["id"] for s in specs}
    for owner in list(sets) + list(sweeps):
        if owner not in codec_ids:
            raise ConfigError(
                f"--set/--sweep names {owner!r}, which is neither a codec in this run "
                f"({', '.join(sorted(codec_ids))}) nor a registered dataset"
            )
    if repeats < 1:
        raise ConfigError("--repeats must be at least 1")
    if chunk_bytes is not None and chunk_bytes < 1:
        raise ConfigError("--chunk-bytes must be a positive number of bytes")
    configs: list[dict[str, Any]] = []
    learned: dict[str, bool] = {}
    for spec in specs:
        base = {**spec, **sets.get(spec["id"], {})}
        try:
            cls = get_codec_class(spec["id"])
        except PluginError:
            if spec["id"] not in available():
                raise  # an unknown id is a mistake in the command: say so before anything runs
            # Registered but broken (fails to import, incompatible): its tasks become failed
            # records that carry the plugin's error, and the rest of the run goes on.
            learned[spec["id"]] = False
            configs.extend(expand(base, sweeps.get(spec["id"], {})))
            continue
        learned[spec["id"]] = bool(cls.learned)
        sweep = dict(cls.default_sweep) if sweep_default else {}
        sweep.update(sweeps.get(spec["id"], {}))
        for cfg in expand(base, sweep):
            cls.from_config(cfg)  # validate names and values now, not in the middle of the run
            configs.append(cfg)
    tasks: list[Task] = []
    for name in datasets:
        for cfg in configs:
            is_learned = learned[cfg["id"]]
            n_rep = repeats if is_learned else 1
            if fit_on and is_learned and fit_on != name:
                if not _same_columns(fit_on, name, ds_params):
                    continue
            for r in range(n_rep):
                tasks.append(
                    Task(
                        config=cfg,
                        dataset=name,
                        dataset_params=ds_params.get(name, {}),
                        seed=seed,
                        repeat=r,
                        test_fraction=test_fraction,
                        measure_on=measure_on,
                        fit_on=fit_on if is_learned else None,
                        device=device if is_learned else None,
                        refit=refit,
                        chunk_bytes=chunk_bytes,
                    )
                )
    return tasks


def _same_columns(a: str, b: str, ds_params: dict[str, dict[str, Any]]) -> bool:
    da, db = _load(a, ds_params.get(a, {})), _load(b, ds_params.get(b, {}))
    return da.kind == db.kind and da.columns == db.columns


# --- measuring one task --------------------------------------------------------------------------

_dataset_cache: dict[str, Dataset] = {}
_quality_cache: dict[str, dict[str, Any]] = {}


def _load(name: str, params: dict[str, Any]) -> Dataset:
    from codecbench.data.load import load_dataset

    key = json.dumps([name, params], sort_keys=True)
    if key not in _dataset_cache:
        if len(_dataset_cache) >= 4:  # keep memory bounded on long grids
            _dataset_cache.pop(next(iter(_dataset_cache)))
        _dataset_cache[key] = load_dataset(name, **params)
    return _dataset_cache[key]


def _dataset_sha(ds: Dataset) -> str:
    return ds.meta.get("sha256") or ds.sha256()


def _dataset_info(ds: Dataset) -> dict[str, Any]:
    key = f"{ds.name}:{_dataset_sha(ds)}:{ds.data.shape}"
    if key not in _quality_cache:
        info: dict[str, Any] = {
            "kind": ds.kind,
            "shape": list(ds.data.shape),
            "dtype": ds.data.dtype.str,
            "columns": ds.columns if ds.kind == "table" else None,
            "source": ds.meta.get("source"),
        }
        try:
            from codecbench.data.quality import quality_facts

            info["quality"] = quality_facts(ds)
        except ImportError:
            pass
        _quality_cache[key] = info
    return _quality_cache[key]


def _resolve_config(task: Task, ds: Dataset) -> dict[str, Any]:
    """Fill harness-provided parameters: ``columns`` for tables, ``device`` and model seed for learned codecs."""
    cls = get_codec_class(task.config["id"])
    params = cls.param_names()
    cfg = dict(task.config)
    if "columns" in params and "columns" not in cfg and ds.kind == "table":
        cfg["columns"] = list(ds.columns or [])
    if cls.learned:
        if "device" in params and task.device and "device" not in cfg:
            cfg["device"] = task.device
        if "seed" in params and task.repeat:
            base_seed = cfg.get("seed", cls.param_defaults().get("seed", 0))
            cfg["seed"] = (base_seed if isinstance(base_seed, int) else 0) + task.repeat
    return cfg


def _setting(cls: type[Codec], config: dict[str, Any]) -> str:
    """The parameters that differ from the codec's defaults, as ``k=v,...`` ("" at the defaults).

    Compared in their JSON form, so a tuple default and the list it becomes in a config are equal.
    """
    defaults = {k: json.dumps(v, default=str) for k, v in cls.param_defaults().items()}
    parts = [
        f"{k}={json.dumps(v) if not isinstance(v, str) else v}"
        for k, v in config.items()
        if k not in ("id", "columns", "device") and defaults.get(k) != json.dumps(v, default=str)
    ]
    return ",".join(parts)


def model_cache_dir() -> Path:
    """Where fitted models are cached: ``$CODECBENCH_CACHE_DIR/models`` or the user cache dir."""
    root = os.environ.get("CODECBENCH_CACHE_DIR")
    if not root:
        import platformdirs

        root = platformdirs.user_cache_dir("codecbench")
    return Path(root) / "models"


def _model_key(config: dict[str, Any], train: Dataset, encode_params: tuple[str, ...] = ()) -> str:
    from importlib import metadata

    def v(d: str) -> str | None:
        try:
            return metadata.version(d)
        except metadata.PackageNotFoundError:
            return None

    import codecbench

    key = {
        "config": {k: v for k, v in config.items() if k not in encode_params},
        "train_sha256": train.sha256(),
        "split": train.meta.get("split"),
        "versions": [codecbench.__version__, v("torch"), v("nflows"), np.__version__],
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:32]


def fit_cached(codec: Codec, config: dict[str, Any], train: Dataset, refit: bool = False) -> tuple[float, str]:
    """Fit (or load from the model cache) a learned codec; returns (fit seconds, "hit"|"miss"|"refit")."""
    from codecbench.data.files import atomic_write_text

    cache = model_cache_dir()
    key = _model_key(config, train, tuple(getattr(codec, "encode_params", ())))
    blob_path, meta_path = cache / f"{key}.bin", cache / f"{key}.json"
    if not refit and blob_path.exists() and meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
            blob = blob_path.read_bytes()
            if hashlib.sha256(blob).hexdigest() == meta.get("sha256"):
                codec.load_fitted(blob)
                return float(meta["fit_s"]), "hit"
        except (OSError, ValueError, KeyError, CodecbenchError):
            pass  # a damaged cache entry is ignored and refitted
    fit_s, _ = time_once(lambda: codec.fit(train))
    blob = codec.save_fitted()
    cache.mkdir(parents=True, exist_ok=True)
    tmp = blob_path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(blob)
    os.replace(tmp, blob_path)
    atomic_write_text(
        meta_path, json.dumps({"fit_s": fit_s, "sha256": hashlib.sha256(blob).hexdigest(), "config": config})
    )
    return fit_s, "refit" if refit else "miss"


def _row_blocks(data: np.ndarray, chunk_bytes: int | None) -> list[tuple[int, int]]:
    """Row ranges of at most ``chunk_bytes`` each (at least one row); the whole array without a limit."""
    rows = data.shape[0] if data.ndim else 1
    if not chunk_bytes or data.nbytes <= chunk_bytes or data.ndim == 0:
        return [(0, rows)]
    per_row = max(1, data.nbytes // max(rows, 1))
    step = max(1, chunk_bytes // per_row)
    return [(a, min(a + step, rows)) for a in range(0, rows, step)]


def _decode_blocks(
    decoder: Codec, payloads: list[bytes], blocks: list[tuple[int, int]], like: np.ndarray
) -> np.ndarray:
    """Decode every block's payload into one array shaped like the input (no concatenation copy)."""
    if len(payloads) == 1:
        return decompress(decoder, payloads[0])
    out = np.empty_like(like)
    for (a, b), p in zip(blocks, payloads):
        part = decompress(decoder, p)
        if part.shape != out[a:b].shape:
            raise CodecError(f"decoded block has shape {part.shape}, expected {out[a:b].shape}")
        out[a:b] = part
    return out


def _sync_for(codec: Codec) -> Callable[[], None] | None:
    dev = str(getattr(codec, "resolved_device", getattr(codec, "device", "")) or "")
    if dev.startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return None


def _base_record(task: Task) -> dict[str, Any]:
    return {
        "record_version": RECORD_VERSION,
        "task_id": task.task_id,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "codec": task.config.get("id"),
        "config": task.config,
        "setting": None,
        "lossless": None,
        "learned": None,
        "dataset": task.dataset,
        "dataset_params": task.dataset_params,
        "dataset_sha256": None,
        "split": None,
        "split_info": None,
        "fit_on": task.fit_on,
        "seed": task.seed,
        "repeat": task.repeat,
        "device": None,
        "status": "failed",
        "error": None,
        "stage": None,
    }


def measure_task(task: Task, progress: Callable[..., None] | None = None) -> dict[str, Any]:
    """Run one task and return its record (``status`` "ok" or "failed"; never raises a codec's error)."""
    rec = _base_record(task)
    stage = "load dataset"
    try:
        ds = _load(task.dataset, task.dataset_params)
        rec["dataset_sha256"] = _dataset_sha(ds)
        rec["dataset_info"] = _dataset_info(ds)
        stage = "configure codec"
        cls = get_codec_class(task.config["id"])
        rec["lossless"], rec["learned"] = bool(cls.lossless), bool(cls.learned)
        config = _resolve_config(task, ds)
        codec = get_codec(config)
        rec["config"] = codec.get_config()
        rec["setting"] = _setting(cls, rec["config"])
        if progress is not None:
            codec.set_progress(progress)

        measured = ds
        rec["split"], rec["fit_s"] = "all", 0.0
        if cls.learned or task.measure_on == "test":
            train, test = ds.split(task.test_fraction, task.seed)
            measured = test
            rec["split"] = "test"
            rec["split_info"] = test.meta.get("split")
            if cls.learned:
                if task.fit_on and task.fit_on != task.dataset:
                    train, _ = _load(task.fit_on, {}).split(task.test_fraction, task.seed)
                    measured, rec["split"], rec["split_info"] = ds, "all", None
                stage = "fit"
                rec["fit_s"], cache_state = fit_cached(codec, rec["config"], train, task.refit)
                rec["model_cache"] = cache_state
                rec["fit_split_info"] = train.meta.get("split")
        rec["device"] = str(getattr(codec, "resolved_device", None) or rec["config"].get("device") or "cpu")
        data = np.ascontiguousarray(measured.data)
        sync = _sync_for(codec)

        stage = "encode"
        blocks = _row_blocks(data, task.chunk_bytes)
        enc = measure(lambda: [compress(codec, data[a:b]) for a, b in blocks], sync=sync, trace_warmup=True)
        payloads: list[bytes] = enc.result
        stage = "save state"
        state = codec.save_state()
        aux = codec.aux_nbytes()
        if aux != len(state):
            raise CodecError(f"aux_nbytes() returned {aux} but save_state() holds {len(state)} bytes")
        stage = "load state"
        decoder = get_codec(rec["config"])
        if state:
            decoder.load_state(state)
        stage = "decode"
        dec = measure(lambda: _decode_blocks(decoder, payloads, blocks, data), sync=sync, trace_warmup=True)
        recon: np.ndarray = dec.result
        peak = max(enc.peak_bytes or 0, dec.peak_bytes or 0)

        stage = "verify"
        if recon.shape != data.shape or recon.dtype != data.dtype:
            raise CodecError(f"decoded array has shape {recon.shape} {recon.dtype}, expected {data.shape} {data.dtype}")
        exact = bits_equal(data, recon)
        if cls.lossless and not exact:
            diff = count_bit_differences(data, recon)
            raise CodecError(
                f"codec claims to be lossless but {diff} of {data.size} values differ after the round trip"
            )
        stage = "metrics"
        if exact:
            errors = exact_metrics(data, measured.kind, measured.variables)
        else:
            errors = error_metrics(data, recon, measured.kind, measured.variables)
        sizes = size_metrics(data.nbytes, sum(len(p) for p in payloads), aux, data.size)
        extras = dict(codec.report_extras() or {})
        bound = codec.declared_bound()
        if bound is not None:
            from codecbench.measure.bounds import check_bound

            extras.update(check_bound(data, recon, bound, measured.columns if measured.kind == "table" else None))
        mb = data.nbytes / 1e6
        rec.update(
            {
                "n_values": int(data.size),
                "shape": list(data.shape),
                "dtype": data.dtype.str,
                **sizes,
                "variables": errors["variables"],
                "max_abs_error": errors["max_abs_error"],
                "worst_rel_rms": errors["worst_rel_rms"],
                "nrmse": errors["nrmse"],
                "psnr": errors["psnr"],
                "encode_s": enc.median_s,
                "decode_s": dec.median_s,
                "encode_s_min": enc.min_s,
                "decode_s_min": dec.min_s,
                "encode_cpu_s": enc.cpu_median_s,
                "decode_cpu_s": dec.cpu_median_s,
                "encode_mbps": mb / enc.median_s if enc.median_s > 0 else math.inf,
                "decode_mbps": mb / dec.median_s if dec.median_s > 0 else math.inf,
                "timing_repeats": [enc.repeats, dec.repeats],
                "peak_mem_bytes": peak,
                "chunk_bytes": task.chunk_bytes,
                "n_chunks": len(blocks),
                "extras": extras,
                "bound": bound,
                "status": "ok",
                "error": None,
                "stage": None,
            }
        )
        json.dumps(rec["extras"], default=str)  # extras must serialise
    except KeyboardInterrupt:
        raise
    except MemoryError:
        rec.update(status="failed", error=f"out of memory during {stage}", stage=stage)
    except Exception as exc:  # a plugin that raises anything gives a failed record; the run goes on
        msg = str(exc) if isinstance(exc, CodecbenchError) else f"{type(exc).__name__}: {exc}"
        rec.update(status="failed", error=msg, stage=stage)
        if not isinstance(exc, CodecbenchError):
            rec["traceback"] = traceback.format_exc(limit=8)
    return rec


# --- the run -------------------------------------------------------------------------------------


def run(
    codecs: Sequence[str | dict[str, Any]] | None = None,
    datasets: Sequence[str] | None = None,
    *,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    sets: dict[str, dict[str, Any]] | None = None,
    sweeps: dict[str, dict[str, list[Any]]] | None = None,
    sweep_default: bool = False,
    config: str | os.PathLike[str] | None = None,
    seed: int = 0,
    repeats: int = 1,
    test_fraction: float = DEFAULT_TEST_FRACTION,
    measure_on: str = "auto",
    fit_on: str | None = None,
    device: str | None = None,
    refit: bool = False,
    executor: str = "serial",
    workers: int = 2,
    timeout: float | None = None,
    scheduler: str | None = None,
    chunk_bytes: int | None = None,
    show_progress: bool = False,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> Any:
    """Run the grid and return this run's records as a pandas DataFrame.

    ``codecs``: ids or config dicts (default: every built-in codec that is installed);
    ``datasets``: registry names (default: the embedded defaults); ``sets``/``sweeps``: parameter
    overrides as parsed from ``--set``/``--sweep``; ``config``: a YAML file describing the grid;
    ``out``: the run directory (records.jsonl + run.json); without it records are kept in memory only.
    ``executor``: "serial", "process" (``workers`` child processes, one per task) or "dask"
    (a LocalCluster of ``workers``, or ``scheduler``); ``timeout``: seconds after which a task is
    stopped and recorded as failed (serial runs then put each task in a child process);
    ``chunk_bytes``: hand the codec row blocks of at most this many bytes, each framed on its own
    (bounds the codec's working memory; the record gives ``chunk_bytes`` and ``n_chunks``).
    """
    from codecbench.executors import EXECUTORS, run_dask, run_processes, run_serial

    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    file_cfg: dict[str, Any] = load_config_file(config) if config else {}
    if file_cfg:
        if codecs is None and file_cfg.get("codecs"):
            file_sweeps: dict[str, dict[str, list[Any]]] = {}
            codecs = _codecs_from_file(file_cfg, file_sweeps)
            for cid, sw in (sweeps or {}).items():
                file_sweeps.setdefault(cid, {}).update(sw)
            sweeps = file_sweeps
        datasets = datasets if datasets is not None else file_cfg.get("datasets")
        seed = file_cfg.get("seed", seed)
        repeats = file_cfg.get("repeats", repeats)
        test_fraction = file_cfg.get("test_fraction", test_fraction)
        measure_on = file_cfg.get("measure_on", measure_on)
        fit_on = file_cfg.get("fit_on", fit_on)
        device = file_cfg.get("device", device)
        sweep_default = sweep_default or bool(file_cfg.get("sweep_default", False))
    if measure_on not in ("auto", "test"):
        raise ConfigError(f"measure_on must be 'auto' or 'test', not {measure_on!r}")
    tasks = build_tasks(
        codecs,
        datasets,
        sets=sets,
        sweeps=sweeps,
        sweep_default=sweep_default,
        seed=seed,
        repeats=repeats,
        test_fraction=test_fraction,
        measure_on=measure_on,
        fit_on=fit_on,
        device=device,
        refit=refit,
        dataset_params=file_cfg.get("dataset_params"),
        chunk_bytes=chunk_bytes,
    )
    store = RecordStore(out, resume=resume) if out is not None else None
    if store is not None:
        write_run_file(
            out,  # type: ignore[arg-type]
            {
                "seed": seed,
                "repeats": repeats,
                "test_fraction": test_fraction,
                "n_tasks": len(tasks),
                "resumed": resume,
                "tasks": [asdict(t) | {"task_id": t.task_id} for t in tasks],
            },
        )
    todo = [t for t in tasks if store is None or t.task_id not in store.done]
    records: list[dict[str, Any]] = []
    with _Progress(show_progress, len(todo)) as bar:
        if executor == "dask":
            stream = run_dask(todo, measure_task, _base_record, workers, timeout, scheduler)
        elif executor == "process" or timeout is not None:
            stream = run_processes(todo, measure_task, _base_record, workers if executor == "process" else 1, timeout)
        else:
            stream = run_serial(todo, measure_task, progress=bar.epoch, on_start=bar.start_task)
        for rec in stream:
            if store is not None:
                store.append(rec)
            records.append(rec)
            if on_record:
                on_record(rec)
            bar.advance(rec)
    if store is not None:
        from codecbench.results import iter_records

        ids = {t.task_id for t in tasks}
        records = [r for r in iter_records(store.path) if r["task_id"] in ids]
    import pandas as pd  # imported only now: it adds ~60 MB to the process while tasks run

    return pd.DataFrame.from_records(records) if records else pd.DataFrame()


def _codecs_from_file(cfg: dict[str, Any], sweeps_out: dict[str, dict[str, list[Any]]]) -> list[Any]:
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


class _Progress:
    """A rich progress bar over tasks, with a second bar for a learned codec's epochs."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled
        self.total = total

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=False,
            )
            self.progress.__enter__()
            self.main = self.progress.add_task("tasks", total=self.total)
            self.sub: Any = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.__exit__(None, None, None)

    def start_task(self, task: Task) -> None:
        if self.enabled:
            self.progress.update(self.main, description=f"{task.config.get('id')} on {task.dataset}")
            if self.sub is not None:
                self.progress.remove_task(self.sub)
                self.sub = None

    def epoch(self, epoch: int, n_epochs: int, **metrics: float) -> None:
        if not self.enabled:
            return
        desc = "  epoch " + " ".join(f"{k}={v:.4g}" for k, v in metrics.items())
        if self.sub is None:
            self.sub = self.progress.add_task(desc, total=n_epochs)
        self.progress.update(self.sub, completed=epoch, total=n_epochs, description=desc)

    def advance(self, rec: dict[str, Any]) -> None:
        if self.enabled:
            self.progress.advance(self.main)
            self.progress.update(self.main, description=f"done: {rec.get('codec')} on {rec.get('dataset')}")
