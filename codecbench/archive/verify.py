"""``inspect --verify``: the error summary an archive stores, recomputed by decoding it.

An archive's error summary is what its writer measured at compression; a manifest can be edited
(its checksums cover the members, not the manifest's own numbers). ``verify_archive`` decodes every
entry through a fresh codec, exactly as ``decompress`` does, and compares:

- a lossless entry: the decode must reproduce ``original_sha256`` (``Archive.decode`` checks it), so
  every stored error must be zero;
- a lossy entry: with the original data (``original``: a file or registered dataset, read with the
  archive's recorded options; for an archive made from a registered dataset, that dataset by
  default), whose SHA-256 must be the entry's ``original_sha256``, the errors and the declared-bound
  check are recomputed (``codecbench.measure``) and compared number by number. Without the original a
  lossy entry's errors cannot be recomputed (the archive holds only the reconstruction): it is
  reported as decoded but not verified.
"""

from __future__ import annotations

import math
from typing import Any

from codecbench.archive.decoder import Archive
from codecbench.archive.files import read_input
from codecbench.archive.format import array_sha256
from codecbench.archive.items import ArrayItem
from codecbench.errors import CodecbenchError
from codecbench.measure.bounds import check_bound
from codecbench.measure.metrics import error_metrics

#: Relative tolerance of the comparison (the same decode gives the same numbers; this absorbs JSON rounding).
RTOL = 1e-9


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, int | float) or not isinstance(b, int | float):
        return a == b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= RTOL * max(abs(a), abs(b)) + 1e-300


def _differences(stored: dict[str, Any], fresh: dict[str, Any], prefix: str = "") -> list[str]:
    """Fields of ``stored`` whose value differs from ``fresh`` (numbers within ``RTOL``), as 'key: a vs b'."""
    out = []
    for key, value in sorted(stored.items(), key=lambda kv: isinstance(kv[1], dict)):  # overall figures first
        other = fresh.get(key)
        if isinstance(value, dict) and isinstance(other, dict):
            out += _differences(value, other, f"{prefix}{key}.")
        elif not _same(value, other):
            out.append(f"{prefix}{key} recorded {value!r}, recomputed {other!r}")
    return out


def _zero_errors(entry: dict[str, Any]) -> list[str]:
    e = entry["errors"]
    bad = [f"{k} recorded {e[k]!r}, a lossless decode gives 0" for k in ("max_abs_error", "worst_rel_rms", "nrmse")]
    bad = [b for b, k in zip(bad, ("max_abs_error", "worst_rel_rms", "nrmse")) if e[k] != 0]
    if e["psnr"] != math.inf:
        bad.append(f"psnr recorded {e['psnr']!r}, a lossless decode gives inf")
    for v, stats in e["variables"].items():
        for k in ("residual_rms", "max_abs_error", "rel_rms"):
            if stats.get(k, 0) != 0:
                bad.append(f"variables.{v}.{k} recorded {stats[k]!r}, a lossless decode gives 0")
    return bad


def verify_entry(archive: Archive, index: int, original: ArrayItem | None) -> dict[str, Any]:
    """Decode entry ``index`` and check its stored errors: ``{name, status, detail}`` with status
    ``match``, ``differs`` or ``unverified``."""
    entry = archive.entries[index]
    item = archive.decode(index)  # a lossless entry is checked against original_sha256 here
    name = entry["name"]
    if (entry.get("codec_info") or {}).get("lossless"):
        bad = _zero_errors(entry)
        detail = "decoded bit for bit to the original's SHA-256; every stored error is 0"
        return {"name": name, "status": "differs" if bad else "match", "detail": "; ".join(bad[:3]) or detail}
    if original is None:
        return {
            "name": name,
            "status": "unverified",
            "detail": "decoded; a lossy entry's errors need the original data to recompute (pass --original)",
        }
    if array_sha256(original.data) != entry.get("original_sha256"):
        return {
            "name": name,
            "status": "differs",
            "detail": "the original given is not the data this entry was made from",
        }
    variables = entry.get("columns") if entry["kind"] == "table" else ["value"]
    fresh = error_metrics(original.data, item.data, entry["kind"], variables)
    bad = _differences(entry["errors"], fresh)
    if entry.get("bound"):
        bound = {"mode": entry["bound"]["bound_mode"], "value": entry["bound"].get("bound_value")}
        again = check_bound(original.data, item.data, bound, entry.get("columns") if entry["kind"] == "table" else None)
        bad += [f"bound.{d}" for d in _differences(entry["bound"], again)]
    detail = "recomputed from the original and a fresh decode: every stored error agrees"
    return {"name": name, "status": "differs" if bad else "match", "detail": "; ".join(bad[:3]) or detail}


def verify_archive(archive: Archive, original: str | None = None, registry: str | None = None) -> list[dict[str, Any]]:
    """``verify_entry`` for every entry; ``original`` (a file or dataset, default: the registered dataset
    the archive was made from, if it was) is read with the archive's recorded options."""
    src = archive.manifest.get("source") or {}
    auto = original is None and src.get("format") == "dataset" and isinstance(src.get("input"), str)
    if auto:
        original = src["input"]
    items: dict[str, ArrayItem] = {}
    missing = None
    lossy = any(not (e.get("codec_info") or {}).get("lossless") for e in archive.entries)
    if original is not None and lossy:
        from_dataset = src.get("format") == "dataset"
        wanted = ("columns", "kind") if from_dataset else ("key", "tree", "branches", "columns", "kind")
        options = {k: v for k, v in (src.get("options") or {}).items() if k in wanted}
        try:
            items = {it.name: it for it in read_input(original, registry=registry, **options)}
        except CodecbenchError as exc:
            if not auto:
                raise
            missing = f"the registered dataset {original!r} it was made from cannot be loaded ({exc})"
    checks = [verify_entry(archive, i, items.get(e["name"])) for i, e in enumerate(archive.entries)]
    for c in checks:
        if missing and c["status"] == "unverified":
            c["detail"] = f"decoded; {missing}"
    return checks
