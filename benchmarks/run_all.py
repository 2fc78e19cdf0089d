"""Run every benchmark and print each figure against its target.

    python -m benchmarks.run_all            # all benchmarks (about 10 minutes on 2 cores)
    python -m benchmarks.run_all overhead   # just one: overhead, scaling, memory, learned, flops, equal_error

Results are written as JSON to benchmarks/results/<name>.json and summarised in summary.json.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback

from benchmarks.common import write_result

BENCHMARKS = {
    "overhead": "benchmarks.harness_overhead",
    "scaling": "benchmarks.scaling",
    "memory": "benchmarks.memory",
    "flops": "benchmarks.learned_flops",
    "learned": "benchmarks.learned_codecs",
    "equal_error": "benchmarks.equal_error",
}


def main(names: list[str]) -> int:
    summary: dict = {}
    status = 0
    for name in names or list(BENCHMARKS):
        print(f"== {name}", flush=True)
        try:
            mod = importlib.import_module(BENCHMARKS[name])
            summary[name] = mod.main()
            print(json.dumps(summary[name], indent=2, default=float), flush=True)
        except Exception as exc:  # one broken benchmark does not hide the others' figures
            status = 1
            summary[name] = {"error": f"{type(exc).__name__}: {exc}"}
            traceback.print_exc()
    write_result("summary", {"results": summary})
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
