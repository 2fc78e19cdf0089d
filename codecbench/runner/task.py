"""One task measured: load, configure, fit, encode, decode through a fresh codec, verify, measure.

``measure_task(task)`` always returns a record: ``status="ok"`` with sizes, errors and timings, or
``status="failed"`` with the error message and the stage that failed (a plugin that raises never
stops the run). Learned codecs (``Codec.learned``) are fitted on the training split (through the
model cache) and measured on the held-out test split; the others are measured on the whole
dataset unless ``measure_on="test"`` (which the grid sets for every codec when it holds a learned
one: ``codecbench.runner.grid``); the record keeps ``measure_on``. Every lossless codec's round trip is checked bit for
bit. Decoding goes through a fresh codec instance built from the config and
``load_state(save_state())``, so the aux bytes in the record are provably all the decoder needs.

The executors call ``measure_task`` (in this process, a child process or a Dask worker) and
``failed_record`` for a task that died or timed out before it could return its own record.
"""

from __future__ import annotations

import json
import math
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import numpy as np

from codecbench.codec import Codec
from codecbench.container import compress, decompress
from codecbench.dataset import Dataset
from codecbench.errors import CodecbenchError, CodecError
from codecbench.measure.bounds import check_bound
from codecbench.measure.metrics import bits_equal, count_bit_differences, error_metrics, exact_metrics, size_metrics
from codecbench.measure.timing import measure
from codecbench.plugins import get_codec, get_codec_class
from codecbench.runner.grid import Task
from codecbench.runner.inputs import dataset_block, dataset_sha256, load_cached, row_blocks
from codecbench.runner.models import fit_cached
from codecbench.runner.store import RECORD_VERSION


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
    """``torch.cuda.synchronize`` when the codec runs on CUDA (its ``resolved_device``, else its ``device``).

    The timing then waits for the device's queued work before each clock read; None on the CPU.
    """
    dev = str(getattr(codec, "resolved_device", getattr(codec, "device", "")) or "")
    if dev.startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return None


def base_record(task: Task) -> dict[str, Any]:
    """The record's identity fields, filled before anything is measured (``status`` "failed" until the end)."""
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
        "measure_on": task.measure_on,
        "seed": task.seed,
        "repeat": task.repeat,
        "device": None,
        "status": "failed",
        "error": None,
        "stage": None,
    }


def failed_record(task: Task, message: str, stage: str) -> dict[str, Any]:
    """The record of a task that could not return its own (its worker died, it timed out)."""
    rec = base_record(task)
    rec.update(status="failed", error=message, stage=stage)
    return rec


def measure_task(task: Task, progress: Callable[..., None] | None = None) -> dict[str, Any]:
    """Run one task and return its record (``status`` "ok" or "failed"; never raises a codec's error)."""
    rec = base_record(task)
    stage = "load dataset"
    try:
        ds = load_cached(task.dataset, task.dataset_params)
        rec["dataset_sha256"] = dataset_sha256(ds)
        rec["dataset_info"] = dataset_block(ds)
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
                    train, _ = load_cached(task.fit_on, {}).split(task.test_fraction, task.seed)
                    measured, rec["split"], rec["split_info"] = ds, "all", None
                stage = "fit"
                rec["fit_s"], cache_state = fit_cached(codec, rec["config"], train, task.refit)
                rec["model_cache"] = cache_state
                rec["fit_split_info"] = train.meta.get("split")
        rec["device"] = str(getattr(codec, "resolved_device", None) or rec["config"].get("device") or "cpu")
        data = np.ascontiguousarray(measured.data)
        sync = _sync_for(codec)

        stage = "encode"
        blocks = row_blocks(data, task.chunk_bytes)
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
