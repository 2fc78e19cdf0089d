"""Tests of ``codecbench.measure.bounds.check_bound``: every mode, per-column bounds, non-finite values, tolerance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from codecbench import CodecError
from codecbench.measure.bounds import CHECK_TOLERANCE, check_bound


def test_abs_counts_violations_and_worst_excess() -> None:
    o = np.zeros(10, dtype=np.float32)
    r = o.copy()
    r[2], r[7] = 0.5, -0.75  # allowed 0.25: excesses 0.25 and 0.5
    r[4] = 0.25  # exactly on the bound: allowed
    out = check_bound(o, r, {"mode": "abs", "value": 0.25})
    assert out["bound_mode"] == "abs" and out["bound_value"] == 0.25
    assert out["bound_checked"] == 10
    assert out["bound_violations"] == 2
    assert out["bound_violation_fraction"] == pytest.approx(0.2)
    assert out["bound_worst_excess"] == pytest.approx(0.5)
    assert out["bound_worst_ratio"] == pytest.approx(3.0)
    assert out["bound_nonfinite_mismatches"] == 0
    json.dumps(out)  # JSON-friendly


def test_no_violation_gives_zero_excess() -> None:
    o = np.linspace(-1, 1, 101)
    out = check_bound(o, o + 1e-3, {"mode": "abs", "value": 1e-3 * 1.001})
    assert out["bound_violations"] == 0 and out["bound_worst_excess"] == 0.0
    assert out["bound_violation_fraction"] == 0.0
    assert 0.99 < out["bound_worst_ratio"] <= 1.0


def test_rel_is_per_value_and_zero_must_stay_zero() -> None:
    o = np.array([1.0, 100.0, 0.0, -2.0, 0.0])
    r = np.array([1.01, 101.0, 0.0, -2.03, 1e-30])
    out = check_bound(o, r, {"mode": "rel", "value": 0.01})
    # 1.01: exactly 1% (ok); 101: 1% (ok); -2.03: 1.5% (bad); 1e-30 for 0: bad
    assert out["bound_violations"] == 2
    assert out["bound_worst_excess"] == pytest.approx(0.01)


def test_rel_range_uses_the_value_range() -> None:
    o = np.array([0.0, 8.0, 5.0, 2.0], dtype=np.float32)
    r = o + np.array([1.0, -1.0, 1.25, 0.0], dtype=np.float32)
    out = check_bound(o, r, {"mode": "rel_range", "value": 0.125})  # allowed 0.125 * 8 = 1
    assert out["bound_violations"] == 1
    assert out["bound_worst_excess"] == 0.25
    assert out["bound_worst_ratio"] == 1.25


def test_abs_and_rel_range_takes_the_tighter() -> None:
    o = np.array([0.0, 100.0])
    r = o + 0.5

    def violations(a: float, rel: float) -> int:
        return check_bound(o, r, {"mode": "abs_and_rel_range", "value": {"abs": a, "rel": rel}})["bound_violations"]

    assert violations(1.0, 0.01) == 0
    assert violations(0.4, 0.01) == 2
    assert violations(1.0, 0.004) == 2


def test_per_column_bounds_and_ranges() -> None:
    o = np.array([[0.0, 0.0, 5.0], [1.0, 1000.0, 5.0], [0.5, 500.0, 5.0]])
    r = o + np.array([[0.02, 2.0, 9.0], [0.0, 0.0, 0.0], [0.0, 20.0, 0.0]])
    cols = ["a", "b", "c"]
    out = check_bound(o, r, {"mode": "rel_range", "value": {"a": 0.01, "b": 0.01}}, cols)
    # a: range 1 -> allowed 0.01, err 0.02 bad; b: range 1000 -> allowed 10, err 2 ok, err 20 bad; c unchecked
    assert out["bound_violations_by_column"] == {"a": 1, "b": 1}
    assert out["bound_unchecked_columns"] == ["c"]
    assert out["bound_violations"] == 2 and out["bound_checked"] == 6
    # the same bound over the whole array (range 1000): only b's 20 breaks it
    assert check_bound(o, r, {"mode": "rel_range", "value": 0.01}, cols)["bound_violations"] == 1


def test_per_column_abs_and_rel() -> None:
    o = np.array([[0.0, 0.0], [10.0, 10.0]])
    r = o + 0.05
    bound = {"mode": "abs_and_rel_range", "value": {"abs": {"abs": 1.0, "rel": 0.001}, "rel": {"abs": 1.0, "rel": 0.1}}}
    out = check_bound(o, r, bound, ["abs", "rel"])  # columns named like the keys: still per column
    assert out["bound_violations_by_column"] == {"abs": 2, "rel": 0}


def test_nonfinite_mismatches_are_violations() -> None:
    o = np.array([np.nan, np.inf, -np.inf, 1.0, 2.0, np.nan])
    r = np.array([np.nan, np.inf, np.inf, np.nan, 2.0, 0.0])
    out = check_bound(o, r, {"mode": "abs", "value": 0.1})
    # -inf -> inf, 1.0 -> nan, nan -> 0.0 are mismatches; nan -> nan and inf -> inf are fine
    assert out["bound_nonfinite_mismatches"] == 3
    assert out["bound_violations"] == 3
    assert out["bound_worst_excess"] == 0.0


def test_tolerance_covers_only_float64_rounding() -> None:
    # float64: 0.1 + 0.2 style rounding must not count as a violation
    o = np.array([0.3])
    r = np.array([0.1 + 0.2 + 0.1])  # error 0.1000000000000000333 in float64 arithmetic
    assert check_bound(o, r, {"mode": "abs", "value": 0.1})["bound_violations"] == 0
    # a float32 value one ulp past the bound is a violation
    o32 = np.array([1.0], dtype=np.float32)
    r32 = np.nextafter(np.float32(1.5), np.float32(2))
    out = check_bound(o32, np.array([r32]), {"mode": "abs", "value": 0.5})
    assert out["bound_violations"] == 1
    assert out["bound_worst_excess"] > 0.5 * CHECK_TOLERANCE * 1e6


def test_rel_bound_of_trunc_is_exact_with_check_bound() -> None:
    from codecbench_plugins.truncation.trunc import round_mantissa

    rng = np.random.default_rng(0)
    x = (rng.standard_normal(20000) * np.exp(rng.uniform(-60, 60, 20000))).astype(np.float32)
    for b in (4, 10):
        out = check_bound(x, round_mantissa(x, b), {"mode": "rel", "value": 2.0 ** -(b + 1)})
        assert out["bound_violations"] == 0 and out["bound_worst_ratio"] <= 1.0
        out = check_bound(x, round_mantissa(x, b - 1), {"mode": "rel", "value": 2.0 ** -(b + 1)})
        assert out["bound_violations"] > 0  # one bit fewer breaks it


def test_empty_array() -> None:
    out = check_bound(np.zeros(0), np.zeros(0), {"mode": "rel_range", "value": 0.1})
    assert out["bound_checked"] == 0 and out["bound_violations"] == 0 and out["bound_violation_fraction"] == 0.0
    assert out["bound_worst_ratio"] is None


@pytest.mark.parametrize(
    ("bound", "columns", "match"),
    [
        ({"mode": "linf", "value": 1.0}, None, "mode 'linf' is unknown"),
        ({"value": 1.0}, None, "'mode' and 'value'"),
        ({"mode": "abs", "value": -1.0}, None, "non-negative"),
        ({"mode": "abs", "value": float("nan")}, None, "non-negative"),
        ({"mode": "abs", "value": "0.1"}, None, "non-negative"),
        ({"mode": "abs_and_rel_range", "value": 0.1}, None, "'abs': a, 'rel': r"),
        ({"mode": "abs", "value": {"a": 0.1}}, None, "per column"),
        ({"mode": "abs", "value": {"z": 0.1}}, ["a", "b"], "'z'"),
    ],
)
def test_malformed_bounds(bound: dict, columns: list[str] | None, match: str) -> None:
    with pytest.raises(CodecError, match=match):
        check_bound(np.zeros((3, 2)), np.zeros((3, 2)), bound, columns)


def test_shape_mismatch() -> None:
    with pytest.raises(CodecError, match="shape"):
        check_bound(np.zeros(4), np.zeros(5), {"mode": "abs", "value": 1.0})


def test_psnr_is_checked_on_the_whole_block() -> None:
    o = np.linspace(0.0, 1.0, 1000)
    r = o + np.where(np.arange(1000) % 2 == 0, 0.01, -0.01)  # RMSE 0.01, range 1: PSNR 40 dB
    ok = check_bound(o, r, {"mode": "psnr", "value": 39.9})
    assert ok["bound_violations"] == 0 and ok["bound_blocks"] == 1
    assert ok["bound_achieved"] == pytest.approx(40.0, abs=1e-6)
    bad = check_bound(o, r, {"mode": "psnr", "value": 40.5})
    assert bad["bound_violations"] == 1 and bad["bound_violation_fraction"] == 1.0
    assert bad["bound_worst_excess"] == pytest.approx(0.5, abs=1e-6)
    assert bad["bound_worst_ratio"] == pytest.approx(10 ** (0.5 / 20), rel=1e-6)
    exact = check_bound(o, o, {"mode": "psnr", "value": 200.0})
    assert exact["bound_violations"] == 0 and exact["bound_achieved"] is None  # infinite PSNR


def test_l2norm_per_column() -> None:
    o = np.zeros((100, 2))
    r = o.copy()
    r[:, 0] += 0.1  # L2 = 1.0
    r[:, 1] += 0.3  # L2 = 3.0
    out = check_bound(o, r, {"mode": "l2norm", "value": {"a": 1.5, "b": 2.0}}, ["a", "b"])
    assert out["bound_violations_by_column"] == {"a": 0, "b": 1}
    assert out["bound_achieved"] == {"a": pytest.approx(1.0), "b": pytest.approx(3.0)}
    assert out["bound_blocks"] == 2 and out["bound_violation_fraction"] == 0.5
    assert out["bound_worst_excess"] == pytest.approx(1.0)
    json.dumps(out)


def test_global_mode_counts_nonfinite_mismatches() -> None:
    o = np.array([1.0, 2.0, np.nan])
    out = check_bound(o, np.array([1.0, 2.0, 0.0]), {"mode": "l2norm", "value": 1.0})
    assert out["bound_violations"] == 1 and out["bound_nonfinite_mismatches"] == 1


def test_rel_or_abs_takes_the_looser_per_value() -> None:
    o = np.array([100.0, 1.0, 1e-3, 0.0])
    r = o + np.array([0.5, 0.011, 0.009, 0.02])
    out = check_bound(o, r, {"mode": "rel_or_abs", "value": {"rel": 0.01, "abs": 0.01}})
    # allowed: 1.0, 0.01, 0.01, 0.01 -> only 1.0 + 0.011 breaks it (and 0.0 + 0.02)
    assert out["bound_violations"] == 2
    assert out["bound_worst_excess"] == pytest.approx(0.01)
    per_col = check_bound(
        o.reshape(2, 2), r.reshape(2, 2), {"mode": "rel_or_abs", "value": {"a": {"rel": 0.01, "abs": 1.0}}}, ["a", "b"]
    )
    assert per_col["bound_violations_by_column"] == {"a": 0} and per_col["bound_unchecked_columns"] == ["b"]


def test_the_contract_text_names_exactly_the_modes_check_bound_checks() -> None:
    """codec.py's ``declared_bound`` docstring is the one definition of the bound forms; it must list every mode."""
    import re

    from codecbench.codec import Codec
    from codecbench.measure.bounds import GLOBAL_MODES, MODES, PAIR_MODES

    doc = Codec.declared_bound.__doc__ or ""
    documented = re.findall(r'^\s*- ``"([a-z_0-9]+)"``:', doc, flags=re.M)
    assert sorted(documented) == sorted(MODES) and len(documented) == len(set(documented))
    for mode in PAIR_MODES:  # the pair modes say their value is a mapping
        assert re.search(rf'``"{mode}"``: ``value = {{', doc), mode
    global_part = doc[doc.index("Global modes") :]
    assert all(f'``"{m}"``' in global_part for m in GLOBAL_MODES)
