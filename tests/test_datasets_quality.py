"""Data-quality facts: mantissa bits actually used, zeros, distinct values, non-finite counts, float32-exactness."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_data_available

from codecbench.data.load import load_dataset
from codecbench.data.quality import column_facts, mantissa_bits_used, quality_facts
from codecbench.dataset import Dataset


def _round_to_bits(x: np.ndarray, bits: int) -> np.ndarray:
    """Round float32 values to ``bits`` explicit mantissa bits (round half to even)."""
    u = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    drop = 23 - bits
    half = np.uint64(1 << (drop - 1))
    lsb = (u >> np.uint64(drop)) & np.uint64(1)
    u = ((u + half - np.uint64(1) + lsb) >> np.uint64(drop)) << np.uint64(drop)
    return u.astype(np.uint32).view(np.float32)


def test_mantissa_bits_used_on_known_values() -> None:
    v = np.array([1.0, 2.0, 0.0, 1.5, 1.25, 1.0 + 2.0**-23, -3.0], dtype=np.float32)
    assert mantissa_bits_used(v).tolist() == [0, 0, 0, 1, 2, 23, 1]
    d = np.array([1.0 + 2.0**-52, 0.75], dtype=np.float64)
    assert mantissa_bits_used(d).tolist() == [52, 1]
    assert mantissa_bits_used(np.array([np.nan, np.inf, 1.5], dtype=np.float32)).tolist() == [1]
    with pytest.raises(TypeError):
        mantissa_bits_used(np.arange(3))


def test_rounded_data_reports_its_bits() -> None:
    rng = np.random.default_rng(0)
    x = rng.lognormal(3, 1, 10_000).astype(np.float32)
    assert column_facts(x)["mantissa_bits_used"] == 23
    for bits in (7, 10, 12):
        f = column_facts(_round_to_bits(x, bits))
        assert f["mantissa_bits_used"] == bits and f["mantissa_bits"] == 23


def test_counts_zeros_distinct_and_non_finite() -> None:
    x = np.array([0.0, 0.0, 1.0, 2.0, 2.0, np.nan, np.inf, -np.inf, 3.0, 0.0], dtype=np.float32)
    f = column_facts(x)
    assert f["n_values"] == 10 and f["nan_count"] == 1 and f["inf_count"] == 2
    assert f["zero_fraction"] == pytest.approx(0.3)
    assert f["distinct_values"] == 4 + 1  # 0, 1, 2, 3 plus the non-finite ones counted once
    assert f["integer_valued"] is True
    assert column_facts(np.array([0.5, 1.0], dtype=np.float32))["integer_valued"] is False


def test_float64_holding_float32_values() -> None:
    x32 = np.random.default_rng(1).normal(size=1000).astype(np.float32)
    assert column_facts(x32.astype(np.float64))["float32_representable"] is True
    assert column_facts(x32.astype(np.float64) + 1e-12)["float32_representable"] is False
    assert column_facts(np.array([np.nan, 1.0]))["float32_representable"] is True
    assert "float32_representable" not in column_facts(x32)


def test_quality_facts_for_tables_and_fields() -> None:
    data = np.stack([np.arange(5, dtype=np.float32), np.full(5, 0.1, dtype=np.float32)], axis=1)
    q = quality_facts(Dataset("t", data, ["a", "b"]))
    assert list(q["columns"]) == ["a", "b"] and q["shape"] == [5, 2]
    assert q["columns"]["a"]["integer_valued"] is True and q["columns"]["b"]["distinct_values"] == 1
    f = quality_facts(Dataset("f", np.zeros((2, 3, 3), dtype=np.float32), kind="field"))
    assert list(f["columns"]) == ["value"] and f["columns"]["value"]["zero_fraction"] == 1.0


@pytest.mark.skipif(not shared_data_available(), reason="shared data files not on CODECBENCH_DATA_PATH")
def test_real_files_report_their_precision() -> None:
    nano = quality_facts(load_dataset("cms-ttbar-jets"))["columns"]
    assert nano["Jet_pt"]["mantissa_bits_used"] == 10 and nano["Jet_mass"]["mantissa_bits_used"] == 10
    assert nano["Jet_eta"]["mantissa_bits_used"] == 12 and nano["Jet_phi"]["mantissa_bits_used"] == 12
    hzz = quality_facts(load_dataset("hzz-jets"))["columns"]
    assert all(f["mantissa_bits_used"] == 23 for f in hzz.values())
    cfd = quality_facts(load_dataset("baler-cfd"))
    assert cfd["source_dtype"] == "float64" and cfd["columns"]["value"]["float32_representable"] is True
