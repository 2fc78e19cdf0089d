"""Result records: the format version, the JSON Lines store, and reading records back.

A run directory holds ``records.jsonl`` (one JSON object per line, one per task: codec config x
dataset x split x repeat, appended and fsynced as each task ends) and ``run.json`` (the machine
and the command line, ``codecbench.runner.environment``). ``load_records`` and ``load_results``
read one or more run directories back, migrating records of older format versions.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from codecbench.errors import ConfigError

#: Version of the record format. Readers migrate older records (see ``migrate``).
RECORD_VERSION = 1
RECORDS_FILE = "records.jsonl"
RUN_FILE = "run.json"
#: The reference rows of a run with targets (``codecbench.runner.limits``), beside its records.
LIMITS_FILE = "limits.jsonl"

#: Scalar keys every record carries (``None`` where a failed task could not measure them).
RECORD_KEYS = (
    "record_version", "task_id", "timestamp", "codec", "config", "setting", "lossless", "learned",
    "dataset", "dataset_sha256", "split", "split_info", "fit_on", "measure_on", "seed", "repeat", "device",
    "status", "error", "n_values", "shape", "dtype",
    "raw_bytes", "payload_bytes", "aux_bytes", "ratio", "effective_ratio", "bits_per_value",
    "max_abs_error", "worst_rel_rms", "nrmse", "psnr",
    "fit_s", "encode_s", "decode_s", "encode_s_min", "decode_s_min", "encode_cpu_s", "decode_cpu_s",
    "encode_mbps", "decode_mbps", "timing_repeats", "peak_mem_bytes",
    "variables", "extras", "bound", "dataset_info", "search", "limit_ratio", "fraction_of_limit",
)  # fmt: skip


def json_default(obj: Any) -> Any:
    """``json.dumps``'s ``default`` for records: numpy scalars and arrays, paths."""
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def dumps(record: dict[str, Any]) -> str:
    """One record as one line of JSON (NaN and infinities written as JSON5-style literals)."""
    return json.dumps(record, default=json_default, sort_keys=False, separators=(",", ":"))


class RecordStore:
    """Appends records to ``OUT/records.jsonl``, one line per record, flushed and fsynced."""

    def __init__(self, out_dir: str | os.PathLike[str], resume: bool = False) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / RECORDS_FILE
        if self.path.exists() and not resume:
            # A fresh run must not mix its records with an old run's.
            raise ConfigError(f"{self.path} already exists; pass --resume to continue that run or choose another --out")
        self._repair_tail()
        self.done: set[str] = {r["task_id"] for r in iter_records(self.path)} if self.path.exists() else set()

    def _repair_tail(self) -> None:
        """Drop a half-written last line left by a killed process."""
        if not self.path.exists():
            return
        with open(self.path, "rb+") as fh:
            data = fh.read()
            if data and not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1
                fh.truncate(cut)

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as a full line (a single write, then flush and fsync)."""
        line = (dumps(record) + "\n").encode("utf-8")
        with open(self.path, "ab") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        self.done.add(record["task_id"])


def iter_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield the records of one ``records.jsonl``; a malformed line raises ConfigError naming it."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}, line {lineno}: not a valid JSON record ({exc.msg})") from exc
            if not isinstance(rec, dict) or "task_id" not in rec:
                raise ConfigError(f"{path}, line {lineno}: not a codecbench record")
            yield migrate(rec)


def migrate(record: dict[str, Any]) -> dict[str, Any]:
    """Bring a record of an older format version up to ``RECORD_VERSION``."""
    version = record.get("record_version", 1)
    if version > RECORD_VERSION:
        raise ConfigError(
            f"record format version {version} is newer than this codecbench reads "
            f"({RECORD_VERSION}); upgrade codecbench"
        )
    return record


def _record_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(p.rglob(RECORDS_FILE))
            if not found:
                raise ConfigError(f"no {RECORDS_FILE} found under {p}")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise ConfigError(f"result path {p} does not exist")
    return files


def load_records(*paths: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every record under the given run directories or ``records.jsonl`` files, as dicts."""
    out: list[dict[str, Any]] = []
    for f in _record_files(paths):
        for rec in iter_records(f):
            rec.setdefault("source", str(f.parent))
            out.append(rec)
    return out


def load_results(*paths: str | os.PathLike[str]) -> Any:
    """Records as a pandas DataFrame: one row per record, scalar keys as columns.

    ``variables``, ``extras``, ``config`` and other nested values stay as dict columns.
    """
    import pandas as pd

    recs = load_records(*paths)
    if not recs:
        return pd.DataFrame(columns=list(RECORD_KEYS))
    return pd.DataFrame.from_records(recs)


def write_limits(out_dir: str | os.PathLike[str], limits: Iterable[dict[str, Any]], merge: bool = False) -> Path:
    """Write ``OUT/limits.jsonl``: one reference row per dataset, rows measured and target.

    ``merge`` (a resumed run): rows already there are kept unless this run computed the same one.
    """
    path = Path(out_dir) / LIMITS_FILE
    rows = {row.get("key"): row for row in (load_limits(out_dir) if merge and path.is_file() else [])}
    for row in rows.values():
        row.pop("source", None)
    rows.update({row.get("key"): row for row in limits})
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text("".join(dumps(row) + "\n" for row in rows.values()), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_limits(*paths: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The limit rows stored under the given run directories (or beside the given ``records.jsonl``)."""
    files: list[Path] = []
    for p in map(Path, paths):
        files += sorted(p.rglob(LIMITS_FILE)) if p.is_dir() else [p.parent / LIMITS_FILE]
    out: list[dict[str, Any]] = []
    for lim in files:
        if not lim.is_file():
            continue
        for lineno, line in enumerate(lim.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{lim}, line {lineno}: not a valid JSON row ({exc.msg})") from exc
            row.setdefault("source", str(lim.parent))
            out.append(row)
    return out


def finite_or_none(x: float | None) -> float | None:
    """``x`` if finite, else None (for display code that cannot show inf/NaN)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    return x
