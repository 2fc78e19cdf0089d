"""Interrupted runs: SIGKILL at random points then ``--resume``, Ctrl-C, and atomic result/cache files.

A run is ``python -m codecbench run`` in a subprocess over 15 quick tasks. After a SIGKILL the records
file holds only complete lines (at most a half-written last one, which ``--resume`` drops); resuming
until the run finishes gives every task exactly once. SIGINT stops the run with exit status 130, one
line on stderr and the finished records kept.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from codecbench.data.files import atomic_write_text
from codecbench.runner.environment import write_run_file
from codecbench.runner.store import RECORDS_FILE, RUN_FILE, RecordStore

BITS = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
CODECS = "raw,zstd,gzip,blosc,trunc"
N_TASKS = 4 + len(BITS)


def run_cmd(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "codecbench", "run", "--codecs", CODECS,
        "--sweep", "trunc.bits=" + ",".join(map(str, BITS)),
        "--datasets", "jets-synthetic", "--set", "jets-synthetic.n_rows=20000", "--out", str(out), "-q", *extra,
    ]  # fmt: skip


def n_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def start_and_wait_for_records(cmd: list[str], records: Path, at_least: int, **popen: object) -> subprocess.Popen:
    """Start ``cmd`` and return once ``records`` holds ``at_least`` more complete lines than before."""
    before = n_lines(records)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)  # type: ignore[call-overload]
    deadline = time.monotonic() + 120
    while n_lines(records) < before + at_least:
        if proc.poll() is not None:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the run wrote no record within 120 s")
        time.sleep(0.02)
    return proc


def complete_lines(path: Path) -> list[dict]:
    """The records of a file a killed process may have left: every full line must parse."""
    data = path.read_bytes()
    full = data[: data.rfind(b"\n") + 1]
    return [json.loads(line) for line in full.decode().splitlines() if line.strip()]


def expected_task_ids(out: Path) -> set[str]:
    return {t["task_id"] for t in json.loads((out / RUN_FILE).read_text())["tasks"]}


def test_sigkill_at_random_points_then_resume(tmp_path):
    rng = random.Random(20240517)
    out = tmp_path / "run"
    records = out / RECORDS_FILE
    kills = 0
    resume: tuple[str, ...] = ()
    for _ in range(3):
        proc = start_and_wait_for_records(run_cmd(out, *resume), records, at_least=1)
        time.sleep(rng.uniform(0.0, 0.8))  # a random point after at least one record
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=60)
        got = complete_lines(records)
        assert len({r["task_id"] for r in got}) == len(got), "a killed run left duplicate records"
        resume = ("--resume",)
    assert kills >= 1, "every run finished before it could be killed; make the tasks slower"
    final = subprocess.run(run_cmd(out, "--resume"), capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    data = records.read_bytes()
    assert data.endswith(b"\n")
    recs = [json.loads(line) for line in data.decode().splitlines()]
    ids = [r["task_id"] for r in recs]
    assert len(ids) == len(set(ids)) == N_TASKS
    assert set(ids) == expected_task_ids(out)
    assert all(r["status"] == "ok" for r in recs)
    settings = sorted(r["setting"] for r in recs if r["codec"] == "trunc")
    assert settings == sorted(f"bits={b}" for b in BITS)
    run_file = json.loads((out / RUN_FILE).read_text())
    assert run_file["resumed"] is True and len(run_file["previous"]) >= 1


def test_resume_drops_a_half_written_last_line(tmp_path):
    out = tmp_path / "run"
    proc = start_and_wait_for_records(run_cmd(out), out / RECORDS_FILE, at_least=2)
    proc.kill()
    proc.communicate(timeout=60)
    records = out / RECORDS_FILE
    whole = complete_lines(records)
    with open(records, "ab") as fh:  # as if killed in the middle of a write
        fh.write(json.dumps({"task_id": "half", "codec": "zstd"}).encode()[:25])
    store = RecordStore(out, resume=True)
    assert store.done == {r["task_id"] for r in whole}
    assert records.read_bytes().endswith(b"\n") and len(complete_lines(records)) == len(whole)


def _assert_clean_interrupt(proc: subprocess.Popen, out: Path) -> list[dict]:
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, (proc.returncode, stderr)
    assert "Traceback" not in stderr and "Traceback" not in stdout
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted") and "--resume" in lines[0], stderr
    recs = complete_lines(out / RECORDS_FILE)
    assert (out / RECORDS_FILE).read_bytes().endswith(b"\n")
    assert recs and len({r["task_id"] for r in recs}) == len(recs)
    assert all("KeyboardInterrupt" not in (r.get("error") or "") for r in recs), "an interrupt became a record"
    return recs


def test_ctrl_c_stops_cleanly_and_keeps_records(tmp_path):
    out = tmp_path / "run"
    proc = start_and_wait_for_records(run_cmd(out), out / RECORDS_FILE, at_least=1)
    proc.send_signal(signal.SIGINT)
    kept = _assert_clean_interrupt(proc, out)
    assert len(kept) < N_TASKS
    final = subprocess.run(run_cmd(out, "--resume"), capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    recs = complete_lines(out / RECORDS_FILE)
    assert len(recs) == N_TASKS and {r["task_id"] for r in recs} == expected_task_ids(out)
    assert recs[: len(kept)] == kept  # resuming appends; it never rewrites what was kept


def test_ctrl_c_on_the_process_executor_stops_every_worker(tmp_path):
    """Ctrl-C in a terminal reaches the whole process group: the workers too."""
    out = tmp_path / "run"
    cmd = run_cmd(out, "--executor", "process", "--workers", "2")
    proc = start_and_wait_for_records(cmd, out / RECORDS_FILE, at_least=1, start_new_session=True)
    workers = psutil.Process(proc.pid).children(recursive=True)
    os.killpg(proc.pid, signal.SIGINT)
    _assert_clean_interrupt(proc, out)
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive, f"worker processes left running: {alive}"


# --- atomic writes -------------------------------------------------------------------------------


def test_atomic_write_keeps_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    path = tmp_path / "run.json"
    atomic_write_text(path, "old\n")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(path, "new\n")
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"], "a temporary file was left behind"


def test_run_file_rewrite_is_atomic_and_keeps_history(tmp_path, monkeypatch):
    write_run_file(tmp_path, {"n_tasks": 1})
    first = (tmp_path / RUN_FILE).read_text()
    monkeypatch.setattr(os, "replace", lambda src, dst: (_ for _ in ()).throw(OSError("killed")))
    with pytest.raises(OSError):
        write_run_file(tmp_path, {"n_tasks": 2})
    assert (tmp_path / RUN_FILE).read_text() == first
    monkeypatch.undo()
    write_run_file(tmp_path, {"n_tasks": 2})
    data = json.loads((tmp_path / RUN_FILE).read_text())
    assert data["n_tasks"] == 2 and data["previous"][0]["n_tasks"] == 1
