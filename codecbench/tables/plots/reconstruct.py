"""Re-running one stored record to get the arrays it measured: the original and the reconstruction.

``reconstruct(record)`` loads the record's dataset, re-splits it as the record says, fits a
learned codec on the same training rows (through the runner's model cache, so a record measured on
this machine is not retrained) and compresses and decompresses with the public API. What differs
from the record (the dataset's checksum, the payload size) is listed in ``notes``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from codecbench.container import compress, decompress
from codecbench.data.load import load_dataset
from codecbench.dataset import Dataset
from codecbench.errors import ConfigError
from codecbench.plugins import get_codec
from codecbench.runner.models import fit_cached
from codecbench.runner.store import load_records


@dataclass
class Reconstruction:
    """The measured data of one record and the codec's reconstruction of it."""

    dataset: Dataset
    original: np.ndarray
    reconstructed: np.ndarray
    event_index: np.ndarray | None = None
    payload_bytes: int | None = None
    notes: list[str] = field(default_factory=list)


def find_record(result_dirs: Iterable[str | os.PathLike[str]], task_id: str) -> dict[str, Any]:
    """The record with ``task_id`` (or a unique prefix of it) in the result directories."""
    records = load_records(*result_dirs)
    hits = [r for r in records if str(r.get("task_id", "")).startswith(task_id)]
    exact = [r for r in hits if r.get("task_id") == task_id]
    hits = exact or hits
    if len({r["task_id"] for r in hits}) > 1:
        raise ConfigError(f"task id prefix {task_id!r} matches {len(hits)} records; give more characters")
    if not hits:
        ids = [str(r.get("task_id")) for r in records]
        close = difflib.get_close_matches(task_id, ids, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"no record with task id {task_id!r} in {len(records)} records{hint}")
    # the same task in several directories: the newest
    return sorted(hits, key=lambda r: str(r.get("timestamp") or ""))[-1]


def _test_rows(n_rows: int, test_fraction: float, seed: int) -> np.ndarray:
    """Row indices of the test part, obtained from ``Dataset.split`` itself on an index column."""
    idx = Dataset("rows", np.arange(n_rows, dtype=np.float64)[:, None])
    return idx.split(test_fraction, seed)[1].data[:, 0].astype(np.int64)


def reconstruct(record: dict[str, Any], dataset: Dataset | None = None) -> Reconstruction:
    """Re-run the record's codec on its dataset and return the original and reconstructed arrays.

    The dataset is ``dataset`` or ``load_dataset(record["dataset"])``; a record measured on the
    test split is re-split with its ``split_info``; a learned codec is fitted on the training
    split (or on the ``fit_on`` dataset's training split), through the runner's model cache when
    the same fit is there. Differences from the record (dataset checksum, payload size, e.g. of a
    model trained again non-deterministically) are listed in ``notes``.
    """
    if record.get("status") != "ok":
        raise ConfigError(f"record {record.get('task_id')} failed ({record.get('error')}); there is nothing to plot")
    if dataset is None:
        dataset = load_dataset(record["dataset"], **(record.get("dataset_params") or {}))
    notes: list[str] = []
    sha = dataset.meta.get("sha256") or dataset.sha256()
    if record.get("dataset_sha256") and sha != record["dataset_sha256"]:
        notes.append("the dataset's sha256 differs from the record's")
    config = record["config"]
    codec = get_codec(config)
    n_rows = dataset.data.shape[0]
    rows = np.arange(n_rows)
    measured = train = dataset
    if record.get("split") == "test":
        info = record.get("split_info") or {}
        tf, seed = float(info.get("test_fraction", 0.2)), int(info.get("seed", record.get("seed") or 0))
        train, measured = dataset.split(tf, seed)
        rows = _test_rows(n_rows, tf, seed)
    if getattr(codec, "learned", False):
        fit_on = record.get("fit_on")
        if fit_on and fit_on != record["dataset"]:
            finfo = record.get("fit_split_info") or {}
            train, _ = load_dataset(fit_on).split(
                float(finfo.get("test_fraction", 0.2)), int(finfo.get("seed", record.get("seed") or 0))
            )
        fit_cached(codec, config, train, False)  # a record measured on this machine is not retrained
    original = np.ascontiguousarray(measured.data)
    payload = compress(codec, original)
    recon = decompress(codec, payload)
    if record.get("payload_bytes") is not None and len(payload) != record["payload_bytes"]:
        notes.append(f"re-run payload {len(payload):,} bytes, record {int(record['payload_bytes']):,} bytes")
    ev = dataset.meta.get("event_index")
    event_index = None
    if ev is not None:
        ev = np.asarray(ev)
        if len(ev) == n_rows:
            event_index = ev[rows]
        elif len(ev) == original.shape[0]:
            event_index = ev
    return Reconstruction(measured, original, np.asarray(recon), event_index, len(payload), notes)
