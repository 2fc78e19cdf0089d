"""A target task: search one codec's quality knob for the setting with the highest ratio that meets a target.

``run_task(task)`` is what every executor calls: a plain task gives its one record
(``measure_task``), a task with a ``target`` gives the records of a search (``search_records``).
Each probe of the search is a full measurement (``measure_task`` of the task with the knob set),
so every probe record carries sizes, errors, timings and the checked bound like any other. Probes
run in the task's process one after another: the dataset is loaded once (``runner.inputs``), and a
learned codec is fitted once and reused through the model cache (its knob is one of its
``encode_params``, so a probe never refits).

Each record gets ``search``: ``{"role", "target", "knob": {"param", "value"}, "probes", "tight",
"reason"}``. ``role`` is ``"target"`` for the chosen setting (it meets the target; the task's own
``task_id``), ``"probe"`` for the other settings measured (``task_id`` = the task's id +
``/probeN``), or ``"unmet"`` when no setting meets it (the closest one, the finest, carries the
task's id). A codec without a knob (``Codec.knob()`` is None: lossless codecs, per-column bounds)
is measured once at its setting, with ``reason`` "no knob"; it is ``"target"`` when that setting
meets the target (a lossless codec always does) and ``"unmet"`` otherwise. A probe that fails ends
the search: its record is the ``"unmet"`` one and says why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from codecbench.errors import CodecbenchError
from codecbench.measure.targets import Target, meets, parse_target
from codecbench.plugins import get_codec_class
from codecbench.runner.grid import Task
from codecbench.runner.search import search
from codecbench.runner.task import failed_record, measure_task

PROBE_SEP = "/probe"


def run_task(task: Task, progress: Callable[..., None] | None = None) -> list[dict[str, Any]]:
    """The records of one task: one measurement, or a whole target search."""
    if task.target is None:
        return [measure_task(task, progress)]
    return search_records(task, progress)


def parent_task_id(task_id: str) -> str:
    """The id of the task a record belongs to (a probe's id without its ``/probeN`` suffix)."""
    return task_id.split(PROBE_SEP, 1)[0]


class _ProbeFailed(Exception):
    """A probe's record is not ``ok``: the search cannot go on."""


def search_records(task: Task, progress: Callable[..., None] | None = None) -> list[dict[str, Any]]:
    """Search ``task.config``'s knob for ``task.target``; every probe's record, roles assigned."""
    target = parse_target(task.target)
    try:
        cls = get_codec_class(task.config["id"])
        codec = cls.from_config(task.config)
        knob = codec.knob()
        hint = codec.knob_hint(target.metric, target.value) if knob is not None else None
    except CodecbenchError as exc:
        return [_mark(failed_record(task, str(exc), "configure codec"), task, target, "unmet", None, 1, str(exc))]
    if knob is None:
        rec = measure_task(dataclasses.replace(task, target=None), progress)
        role = "target" if meets(rec, target) else "unmet"
        return [_mark(rec, task, target, role, None, 1, "no knob: measured at its setting", tight=None)]
    if cls.learned and knob.param not in cls.encode_params:
        why = f"{cls.codec_id}'s knob {knob.param!r} is not one of its encode_params: a search would refit"
        return [_mark(failed_record(task, why, "configure codec"), task, target, "unmet", None, 1, why)]

    probes: dict[float, dict[str, Any]] = {}

    def evaluate(value: float) -> tuple[bool, float]:
        # continuous knobs are set to 4 significant digits: readable settings, and what ran is what is recorded
        config = {**task.config, knob.param: value if knob.integer else float(f"{value:.4g}")}
        probe = dataclasses.replace(task, config=config, target=None, refit=task.refit and not probes)
        rec = measure_task(probe, progress)
        probes[float(value)] = rec
        if rec["status"] != "ok":
            raise _ProbeFailed(rec.get("error") or "the probe failed")
        return meets(rec, target), float(rec["effective_ratio"])

    try:
        result = search(knob, evaluate, hint=hint)
        chosen, role, tight, reason = (
            float(result.value),
            "target" if result.met else "unmet",
            result.tight,
            result.reason,
        )
    except _ProbeFailed as exc:
        chosen, role, tight, reason = next(reversed(probes)), "unmet", False, f"a probe failed: {exc}"
    out = []
    for i, (value, rec) in enumerate(probes.items()):
        is_chosen = value == chosen
        setting = (knob.param, rec["config"].get(knob.param, value))  # as the config holds it (an int for bits)
        _mark(rec, task, target, role if is_chosen else "probe", setting, len(probes), reason, tight)
        rec["task_id"] = task.task_id if is_chosen else f"{task.task_id}{PROBE_SEP}{i}"
        out.append(rec)
    return out


def _mark(
    rec: dict[str, Any],
    task: Task,
    target: Target,
    role: str,
    knob: tuple[str, float] | None,
    n_probes: int,
    reason: str,
    tight: bool | None = False,
) -> dict[str, Any]:
    """Put the ``search`` block on a record (and the task's identity: its config and target)."""
    rec["task_id"] = task.task_id
    rec["search"] = {
        "role": role,
        "target": target.to_dict(),
        "knob": None if knob is None else {"param": knob[0], "value": knob[1]},
        "probes": n_probes,
        "tight": tight,
        "reason": reason,
    }
    return rec
