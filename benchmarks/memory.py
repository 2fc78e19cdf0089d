"""Memory: peak RSS of a lossless ``codecbench run`` on a 1 GB array, at most 3x the array.

A 1 GiB float32 array is written to a temporary .npy file and registered through a user registry;
``codecbench run --codecs zstd`` runs in a child process whose peak RSS (ru_maxrss of the child)
is compared with the array size. The baseline RSS of an idle ``python -c "import codecbench"``
is reported too.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import write_result

TARGET = 3.0


def _child_peak_rss(cmd: list[str], env: dict[str, str]) -> tuple[int, int, str]:
    """Run ``cmd``; return (its peak RSS in bytes, its exit status, its stderr), via os.wait4."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return usage.ru_maxrss * 1024, proc.returncode, err.read().decode(errors="replace")


def _prepare(tmp: str, n: int) -> tuple[int, str]:
    """Write the array to ``tmp/big.npy`` and return (its size, the file's sha256).

    Runs in a spawned process, so the benchmark's own process never holds the array: a forked
    child's peak RSS would otherwise count the parent's pages.
    """
    path = Path(tmp) / "big.npy"
    rng = np.random.default_rng(0)
    arr = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n // 4, 4))
    step = 1 << 22
    for i in range(0, arr.shape[0], step):  # physics-like values: falling spectrum, angles, masses
        m = min(step, arr.shape[0] - i)
        arr[i : i + m, 0] = 20 * (1 - rng.random(m)) ** -0.25
        arr[i : i + m, 1] = rng.normal(0, 1.5, m)
        arr[i : i + m, 2] = rng.uniform(-np.pi, np.pi, m)
        arr[i : i + m, 3] = arr[i : i + m, 0] * rng.lognormal(-2, 0.4, m)
    arr.flush()
    nbytes = arr.nbytes
    del arr
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 24), b""):
            h.update(block)
    return nbytes, h.hexdigest()


def main(gib: float = 1.0, codec: str = "zstd") -> dict:
    import multiprocessing as mp

    n = int(gib * 2**30) // 4
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with mp.get_context("spawn").Pool(1) as pool:
            nbytes, sha = pool.apply(_prepare, (tmp_name, n))
        (tmp / "registry.yaml").write_text(
            "version: 1\ndatasets:\n  big-table:\n    kind: table\n    file: big.npy\n"
            f"    sha256: {sha}\n    loader: {{format: npy}}\n    columns: [pt, eta, phi, mass]\n"
        )
        env = {**os.environ, "CODECBENCH_REGISTRY": str(tmp / "registry.yaml"), "CODECBENCH_DATA_PATH": str(tmp)}
        base, _, _ = _child_peak_rss([sys.executable, "-c", "import codecbench, codecbench.runner"], env)
        cmd = [sys.executable, "-m", "codecbench", "run", "--codecs", codec, "--datasets", "big-table",
               "--out", str(tmp / "out"), "-q"]  # fmt: skip
        peak, code, stderr = _child_peak_rss(cmd, env)
        if code != 0:
            raise RuntimeError(f"run failed (exit {code}): {stderr[-2000:]}")
        rec = json.loads((tmp / "out" / "records.jsonl").read_text().splitlines()[0])
    out = {
        "target": TARGET,
        "codec": codec,
        "array_bytes": nbytes,
        "peak_rss_bytes": peak,
        "baseline_rss_bytes": base,
        "peak_over_array": peak / nbytes,
        "meets_target": peak / nbytes <= TARGET,
        "record_status": rec["status"],
        "ratio": rec["ratio"],
        "encode_mbps": rec["encode_mbps"],
        "decode_mbps": rec["decode_mbps"],
    }
    write_result("memory", out)
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
