"""Executors: Dask LocalCluster (two workers on 127.0.0.1) and resume across executors.

Records from every executor must equal a serial run's except for the timing fields.
"""

from __future__ import annotations

import pytest

import codecbench
from codecbench.runner.store import iter_records

SMALL = {"jets-synthetic": {"n_rows": 3000}, "cfd-synthetic": {"n_steps": 3}}
GRID = ["raw", "zstd", {"id": "trunc", "bits": 8}]
COMPARED = ["task_id", "codec", "setting", "dataset", "status", "payload_bytes", "aux_bytes", "ratio",
            "max_abs_error", "worst_rel_rms", "nrmse"]  # fmt: skip


def _table(df):
    return df[COMPARED].sort_values("task_id").reset_index(drop=True)


def test_dask_local_cluster_matches_serial(tmp_path):
    pytest.importorskip("dask.distributed")
    serial = codecbench.run(GRID, sets=SMALL)
    out = tmp_path / "dask"
    dask_df = codecbench.run(GRID, sets=SMALL, executor="dask", workers=2, out=out)
    assert len(dask_df) == 6 and (dask_df["status"] == "ok").all()
    assert _table(serial).equals(_table(dask_df))
    streamed = list(iter_records(out / "records.jsonl"))
    assert sorted(r["task_id"] for r in streamed) == sorted(serial["task_id"])


def test_resume_works_with_process_executor(tmp_path):
    out = tmp_path / "r"
    codecbench.run(["raw"], sets=SMALL, out=out, executor="process", workers=2)
    df = codecbench.run(GRID, sets=SMALL, out=out, executor="process", workers=2, resume=True)
    recs = list(iter_records(out / "records.jsonl"))
    assert len(recs) == 6 and len({r["task_id"] for r in recs}) == 6
    assert len(df) == 6 and (df["status"] == "ok").all()


def test_unknown_executor():
    with pytest.raises(codecbench.ConfigError, match="unknown executor"):
        codecbench.run(["raw"], sets=SMALL, executor="slurm")


def test_chunked_measurement_frames_each_block(tmp_path):
    whole = codecbench.run(["raw", {"id": "trunc", "bits": 8}], ["jets-synthetic"], sets=SMALL)
    chunked = codecbench.run(["raw", {"id": "trunc", "bits": 8}], ["jets-synthetic"], sets=SMALL, chunk_bytes=10_000)
    assert (chunked["status"] == "ok").all()
    assert list(chunked["chunk_bytes"]) == [10_000, 10_000]
    n_chunks = chunked["n_chunks"].iloc[0]
    assert n_chunks == -(-48_000 // 10_000)  # 3000 rows x 16 bytes in blocks of 625 rows
    raw_whole, raw_chunked = whole.iloc[0], chunked.iloc[0]
    # each block carries its own frame header; the values are identical
    header = raw_whole["payload_bytes"] - raw_whole["raw_bytes"]
    assert raw_chunked["payload_bytes"] == raw_chunked["raw_bytes"] + n_chunks * header
    assert chunked.iloc[1]["max_abs_error"] == whole.iloc[1]["max_abs_error"]
