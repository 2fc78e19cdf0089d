"""Learned codecs against the machine's limit: encode and decode throughput of ``ae`` and ``flow``
as a fraction of the FLOP bound that their layer sizes imply. Target: at least 0.3.

- The machine's limit is a float32 matrix-multiply throughput measured in the same run with torch
  (square 1024 x 1024 products) on one thread, the thread count the codecs use by default
  (``threads=1``); the all-threads figure is recorded beside it.
- A codec's implied work is the multiply-adds of every ``nn.Linear`` it executes, counted with a
  global forward hook during one encode and one decode of the test rows (2 * in * out per row per
  layer): the layer sizes exactly as the codec runs them, including the ``n`` sequential passes a
  masked autoregressive flow needs to invert.
- fraction = (implied FLOPs / median wall time through ``codecbench.compress`` or ``decompress``)
  / matmul FLOP/s. Everything else the codec does (normalisation, quantisation, zstd, framing) is
  counted in the time but not in the work, so the fraction is a lower bound on the network's own
  efficiency.
"""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.common import median_time, write_result
from codecbench import compress, decompress, get_codec, load_dataset

TARGET = 0.3


def matmul_flops(n: int = 1024, repeats: int = 9, threads: int | None = None) -> float:
    """float32 matmul FLOP/s with ``threads`` torch threads (the current setting when None)."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        a, b = torch.randn(n, n), torch.randn(n, n)
        t = median_time(lambda: torch.mm(a, b), repeats=repeats, warmup=2)
    finally:
        torch.set_num_threads(before)
    return 2 * n**3 / t


class LinearFlops:
    """Counts 2 * in_features * out_features * rows for every nn.Linear forward while active."""

    def __init__(self) -> None:
        self.flops = 0

    def __enter__(self) -> LinearFlops:
        def hook(module, inputs, output):
            if isinstance(module, torch.nn.Linear):
                rows = inputs[0].numel() // module.in_features
                self.flops += 2 * module.in_features * module.out_features * rows

        self.handle = torch.nn.modules.module.register_module_forward_hook(hook)
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.remove()


def measure(spec: dict, dataset: str, params: dict, matmul: float) -> dict:
    ds = load_dataset(dataset, **params)
    train, test = ds.split(0.2, 0)
    codec = get_codec(spec)
    codec.fit(train)
    data = np.ascontiguousarray(test.data)
    with LinearFlops() as enc_count:
        payload = compress(codec, data)
    decoder = get_codec(codec.get_config())
    decoder.load_state(codec.save_state())
    with LinearFlops() as dec_count:
        decompress(decoder, payload)
    t_enc = median_time(lambda: compress(codec, data), repeats=5)
    t_dec = median_time(lambda: decompress(decoder, payload), repeats=5)
    out = {
        "codec": spec,
        "dataset": dataset,
        "rows": int(data.shape[0]),
        "encode_flops": enc_count.flops,
        "decode_flops": dec_count.flops,
        "encode_s": t_enc,
        "decode_s": t_dec,
        "encode_mbps": data.nbytes / 1e6 / t_enc,
        "decode_mbps": data.nbytes / 1e6 / t_dec,
        "encode_gflops": enc_count.flops / t_enc / 1e9,
        "decode_gflops": dec_count.flops / t_dec / 1e9,
    }
    out["encode_fraction"] = out["encode_gflops"] * 1e9 / matmul
    out["decode_fraction"] = out["decode_gflops"] * 1e9 / matmul
    out["meets_target"] = min(out["encode_fraction"], out["decode_fraction"]) >= TARGET
    return out


def main(n_rows: int = 200_000) -> dict:
    torch.manual_seed(0)
    # The codecs run with their default threads=1, so the bound is a one-thread matmul; the
    # all-threads figure is recorded too.
    mm = matmul_flops(threads=1)
    mm_all = matmul_flops(threads=torch.get_num_threads())
    cases = [
        ({"id": "ae", "epochs": 5}, "jets-synthetic", {"n_rows": n_rows}),
        ({"id": "flow", "epochs": 3}, "jets-synthetic", {"n_rows": n_rows}),
    ]
    out = {
        "target": TARGET,
        "matmul_threads": 1,
        "matmul_gflops_all_threads": mm_all / 1e9,
        "codec_threads": 1,
        "matmul_gflops": mm / 1e9,
        "cases": [measure(spec, ds, params, mm) for spec, ds, params in cases],
        "note": "few training epochs: throughput does not depend on how well the model is trained",
    }
    write_result("learned_flops", out)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(main(), indent=2, default=float))
