"""Metric definitions on inputs whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from codecbench.measure.metrics import bits_equal, error_metrics, size_metrics, variable_stats


def test_known_residual_and_response():
    orig = np.array([1.0, 2.0, 4.0, 0.0], dtype=np.float32)
    recon = np.array([1.5, 2.0, 3.0, 0.25], dtype=np.float32)
    s = variable_stats(orig, recon)
    assert s["residual_mean"] == pytest.approx((0.5 + 0 - 1 + 0.25) / 4)
    assert s["residual_rms"] == pytest.approx(math.sqrt((0.25 + 0 + 1 + 0.0625) / 4))
    # response over the three non-zero originals; the zero is excluded and counted
    assert s["response_mean"] == pytest.approx((0.5 + 0 - 0.25) / 3)
    assert s["response_excluded"] == 1
    assert s["max_abs_error"] == pytest.approx(1.0)
    assert s["rel_rms"] == pytest.approx(s["residual_rms"] / np.std(orig.astype(np.float64)))
    assert s["abs_error_p50"] == pytest.approx(np.quantile([0.5, 0, 1, 0.25], 0.5))


def test_constant_column_rel_rms_defined():
    orig = np.full(10, 3.0)
    assert variable_stats(orig, orig.copy())["rel_rms"] == 0.0
    assert variable_stats(orig, orig + 1)["rel_rms"] == math.inf


def test_overall_metrics_table():
    rng = np.random.default_rng(0)
    orig = rng.normal(size=(1000, 2)) * [1.0, 100.0]
    recon = orig + rng.normal(scale=0.01, size=orig.shape)
    m = error_metrics(orig, recon, "table", ["a", "b"])
    assert set(m["variables"]) == {"a", "b"}
    assert m["worst_rel_rms"] == pytest.approx(m["variables"]["a"]["rel_rms"])
    assert m["variables"]["a"]["rel_rms"] == pytest.approx(0.01, rel=0.1)
    rmse = np.sqrt(np.mean((recon - orig) ** 2))
    vrange = orig.max() - orig.min()
    assert m["nrmse"] == pytest.approx(rmse / vrange)
    assert m["psnr"] == pytest.approx(20 * np.log10(vrange / rmse))


def test_exact_reconstruction_and_nonfinite():
    orig = np.array([np.nan, np.inf, -np.inf, 1.0, -0.0], dtype=np.float32)
    m = error_metrics(orig, orig.copy(), "field")
    assert m["max_abs_error"] == 0 and m["psnr"] == math.inf and m["nonfinite_mismatch"] == 0
    bad = orig.copy()
    bad[1] = 5.0
    m2 = error_metrics(orig, bad, "field")
    assert m2["nonfinite_mismatch"] == 1 and m2["max_abs_error"] == math.inf


def test_bits_equal_sees_nan_payload_and_negative_zero():
    a = np.array([0.0, np.nan], dtype=np.float32)
    b = a.copy()
    assert bits_equal(a, b)
    b[0] = -0.0
    assert not bits_equal(a, b)
    c = a.copy()
    c.view(np.uint32)[1] ^= 1  # another NaN payload
    assert np.isnan(c[1]) and not bits_equal(a, c)


def test_size_metrics():
    s = size_metrics(raw_bytes=1000, payload_bytes=250, aux_bytes=250, n_values=250)
    assert s["ratio"] == 4 and s["effective_ratio"] == 2 and s["bits_per_value"] == 8


def test_exact_metrics_agree_with_computed_ones_on_identical_arrays():
    from codecbench.measure.metrics import exact_metrics

    orig = np.random.default_rng(3).normal(size=(500, 3)).astype(np.float32)
    fast = exact_metrics(orig, "table", ["a", "b", "c"])
    full = error_metrics(orig, orig.copy(), "table", ["a", "b", "c"])
    for key in ("max_abs_error", "worst_rel_rms", "nrmse", "psnr"):
        assert fast[key] == full[key]
    for name in "abc":
        for key, value in fast["variables"][name].items():
            assert full["variables"][name][key] == value, (name, key)


def test_count_bit_differences_chunked():
    from codecbench.measure.metrics import count_bit_differences

    a = np.zeros(10_000_000, dtype=np.float32)
    b = a.copy()
    b[[0, 5_000_000, 9_999_999]] = 1.0
    assert count_bit_differences(a, b) == 3
