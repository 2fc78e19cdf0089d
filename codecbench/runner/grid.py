"""The benchmark grid: codec settings x datasets (x repeats), as a validated list of tasks.

A ``Task`` is one codec config on one dataset (with a repeat index for learned codecs): small and
picklable, it carries names and parameters, never the data, so any executor can ship it.
``build_tasks`` expands sweeps and ``--set`` overrides into tasks and validates every codec, parameter
and dataset before anything runs: an unknown name or a value of the wrong type is a
``ConfigError``, not a failed task an hour later. A codec that is registered but broken is kept:
its tasks become failed records that carry the plugin's error.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from codecbench.errors import ConfigError, PluginError
from codecbench.plugins import available, get_codec_class, parse_spec
from codecbench.runner.inputs import load_cached

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
    measure_on: str = "auto"  # "auto": test split for learned codecs, all rows otherwise; "test": every codec
    fit_on: str | None = None
    device: str | None = None
    refit: bool = False
    chunk_bytes: int | None = None
    #: A target (``{"metric": ..., "value": ...}``): the task searches the codec's knob for it
    #: (``codecbench.runner.targeted``) instead of measuring ``config`` once.
    target: dict[str, Any] | None = None

    @property
    def task_id(self) -> str:
        """Stable id of the task (what ``--resume`` skips on)."""
        key = {k: v for k, v in asdict(self).items() if k != "refit" and not (k == "target" and v is None)}
        return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]


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


def check_dataset_params(name: str, entry: dict[str, Any], params: dict[str, Any]) -> None:
    """Refuse a dataset parameter the entry does not have, or a value of another type than its default
    (``codecbench.data.load.check_params``), as a ``ConfigError`` before anything runs."""
    from codecbench.data.load import check_params

    check_params(name, entry, params, ConfigError)


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
    targets: Sequence[Any] | None = None,
) -> list[Task]:
    """The grid as a list of tasks (validated: unknown codecs and parameters raise before anything runs).

    ``targets`` (``Target``s, ``"metric=value"`` strings or dicts): each codec setting becomes one
    search task per target instead of one measurement (default sweeps are not expanded then: the
    search moves the knob itself). ``measure_on="auto"``: every codec of a dataset is measured on
    its test split when the grid holds a learned codec measured there, so one table compares the
    same rows; otherwise learned codecs on the test split and the others on all rows.
    """
    from codecbench.data.registry import get_registry
    from codecbench.measure.targets import parse_target

    parsed = [parse_target(t) for t in (targets or [])]
    if len(set(parsed)) != len(parsed):
        raise ConfigError(f"a target is given twice: {', '.join(map(str, parsed))}")
    goals = [t.to_dict() for t in parsed]

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
    for name in dict.fromkeys([*datasets, *ds_params]):
        if name in registry:  # before anything runs, not task by task (the entry's own params too)
            check_dataset_params(name, registry[name], ds_params.get(name, {}))
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
        sweep = dict(cls.default_sweep) if sweep_default and not goals else {}
        sweep.update(sweeps.get(spec["id"], {}))
        knob = cls.from_config(base).knob() if goals else None
        if knob is not None and knob.param in sweep:
            raise ConfigError(
                f"--sweep {spec['id']}.{knob.param} and --target: the target search sets {knob.param} itself"
            )
        for cfg in expand(base, sweep):
            cls.from_config(cfg)  # validate names and values now, not in the middle of the run
            configs.append(cfg)
    tasks: list[Task] = []
    for name in datasets:
        # one table, one set of rows: a learned codec measured on the test split takes the others with it
        same_rows = measure_on == "auto" and any(learned.values()) and (not fit_on or fit_on == name)
        for cfg in configs:
            is_learned = learned[cfg["id"]]
            n_rep = repeats if is_learned else 1
            if fit_on and is_learned and fit_on != name:
                if not _same_columns(fit_on, name, ds_params):
                    continue
            for r, goal in itertools.product(range(n_rep), goals or [None]):
                tasks.append(
                    Task(
                        config=cfg,
                        dataset=name,
                        dataset_params=ds_params.get(name, {}),
                        seed=seed,
                        repeat=r,
                        test_fraction=test_fraction,
                        measure_on="test" if same_rows else measure_on,
                        fit_on=fit_on if is_learned else None,
                        device=device if is_learned else None,
                        refit=refit,
                        chunk_bytes=chunk_bytes,
                        target=goal,
                    )
                )
    return tasks


def _same_columns(a: str, b: str, ds_params: dict[str, dict[str, Any]]) -> bool:
    da, db = load_cached(a, ds_params.get(a, {})), load_cached(b, ds_params.get(b, {}))
    return da.kind == db.kind and da.columns == db.columns
