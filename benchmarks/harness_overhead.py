"""Harness overhead: zstd and blosc through codecbench's framed compress/decompress against the same
library called directly on the same 64 MB array. Target: at least 0.95 of the direct throughput.

The array is realistic float32 physics-like data (jets-synthetic columns, 64 MB). Calls are
interleaved round by round so that machine noise affects both sides alike.
"""

from __future__ import annotations

import blosc2
import numpy as np
import zstandard

from benchmarks.common import interleaved, write_result
from codecbench import compress, decompress, get_codec, load_dataset

TARGET = 0.95


def array_64mb() -> np.ndarray:
    rows = 64 * 1024 * 1024 // 16
    return np.ascontiguousarray(load_dataset("jets-synthetic", n_rows=rows).data)


def main(rounds: int = 9) -> dict:
    data = array_64mb()
    buf = memoryview(data).cast("B")
    out: dict = {"array_bytes": data.nbytes, "target": TARGET, "rounds": rounds, "cases": {}}

    zc = get_codec({"id": "zstd", "level": 3})
    cctx, dctx = zstandard.ZstdCompressor(level=3), zstandard.ZstdDecompressor()
    zbody, zpayload = cctx.compress(buf), compress(zc, data)

    bc = get_codec({"id": "blosc", "cname": "zstd", "clevel": 5, "shuffle": "byte"})

    def blosc_direct():
        return blosc2.compress2(buf, typesize=4, clevel=5, filters=[blosc2.Filter.SHUFFLE], codec=blosc2.Codec.ZSTD)

    bbody, bpayload = blosc_direct(), compress(bc, data)

    cases = {
        "zstd encode": (lambda: cctx.compress(buf), lambda: compress(zc, data)),
        "zstd decode": (
            lambda: np.frombuffer(dctx.decompress(zbody), dtype=np.float32).reshape(data.shape),
            lambda: decompress(zc, zpayload),
        ),
        "blosc encode": (blosc_direct, lambda: compress(bc, data)),
        "blosc decode": (
            lambda: np.frombuffer(blosc2.decompress2(bbody), dtype=np.float32).reshape(data.shape),
            lambda: decompress(bc, bpayload),
        ),
    }
    for name, (direct, harness) in cases.items():
        t = interleaved({"direct": direct, "codecbench": harness}, rounds=rounds)
        rel = t["direct"] / t["codecbench"]
        out["cases"][name] = {
            "direct_s": t["direct"],
            "codecbench_s": t["codecbench"],
            "direct_mbps": data.nbytes / 1e6 / t["direct"],
            "codecbench_mbps": data.nbytes / 1e6 / t["codecbench"],
            "relative_throughput": rel,
            "meets_target": rel >= TARGET,
        }
    out["frame_overhead_bytes"] = {"zstd": len(zpayload) - len(zbody), "blosc": len(bpayload) - len(bbody)}
    write_result("harness_overhead", out)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2))
