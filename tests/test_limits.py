"""The memoryless limit against closed forms (Gaussian and uniform columns) and its definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from codecbench import ConfigError
from codecbench.measure.limits import SIDE_BITS_PER_VARIABLE, empirical_entropy, memoryless_limit

N = 1_000_000


def test_gaussian_entropy_matches_closed_form() -> None:
    """N(0, s^2) quantized with step d: H = 0.5 log2(2 pi e s^2) - log2(d) for small d."""
    s, t = 3.0, 1e-3
    x = np.random.default_rng(0).normal(0.0, s, N)
    lim = memoryless_limit(x, worst_rel_rms=t)
    (v,) = lim.variables
    std = x.std()
    assert v.step == pytest.approx(t * math.sqrt(12) * std, rel=0.01)  # at most a shrink or two
    closed = 0.5 * math.log2(2 * math.pi * math.e * std**2) - math.log2(v.step)
    assert v.entropy_bits == pytest.approx(closed, abs=0.01)
    assert v.rel_rms <= t and v.rel_rms == pytest.approx(t, rel=0.01)
    assert lim.ratio == pytest.approx(64 / (v.entropy_bits + SIDE_BITS_PER_VARIABLE / N), rel=1e-9)


def test_uniform_entropy_matches_closed_form() -> None:
    """U(0, a) quantized with step d: H = log2(a / d)."""
    a, t = 8.0, 1e-3
    x = np.random.default_rng(1).uniform(0.0, a, N).astype(np.float32)
    (v,) = memoryless_limit(x, worst_rel_rms=t).variables
    assert v.entropy_bits == pytest.approx(math.log2(a / v.step), abs=0.01)


def test_max_abs_error_target_sets_the_step() -> None:
    x = np.random.default_rng(2).normal(0.0, 1.0, 100_000)
    (v,) = memoryless_limit(x, max_abs_error=1e-3).variables
    assert v.step <= 2e-3 and v.max_abs_error <= 1e-3
    (w,) = memoryless_limit(x, max_abs_error=1e-3, worst_rel_rms=1e-2).variables
    assert w.step == v.step  # the stricter of the two targets wins


def test_integer_constant_and_nonfinite_columns() -> None:
    rng = np.random.default_rng(3)
    n = 4096
    ints = rng.integers(0, 4, n).astype(np.float32)  # 2 bits of entropy, coded exactly
    const = np.full(n, 7.5, dtype=np.float32)
    special = rng.normal(0, 1, n).astype(np.float32)
    special[:10] = np.nan
    lim = memoryless_limit(np.stack([ints, const, special], 1), worst_rel_rms=1e-2, columns=["i", "c", "s"])
    i, c, s = lim.variables
    assert i.kind == "integer" and i.rel_rms == 0 and i.entropy_bits == pytest.approx(2.0, abs=0.01)
    assert c.kind == "constant" and c.entropy_bits == 0 and c.side_bits == SIDE_BITS_PER_VARIABLE
    assert s.kind == "quantized" and s.side_bits == SIDE_BITS_PER_VARIABLE + 32  # one NaN pattern
    assert s.rel_rms <= 1e-2


def test_shrinks_when_the_formula_misses() -> None:
    """Two-valued data: the error at step t*sqrt(12)*std is not step/sqrt(12); the limit shrinks until met."""
    x = np.tile(np.array([0.0, 1.0]), 5000) + np.repeat(np.linspace(0, 0.3, 10), 1000)
    (v,) = memoryless_limit(x, worst_rel_rms=0.2).variables
    assert v.rel_rms <= 0.2 and v.shrinks >= 1


def test_widen_never_lowers_the_limit() -> None:
    rng = np.random.default_rng(4)
    x = np.where(rng.random(50_000) < 0.8, 0.0, rng.exponential(3.0, 50_000))  # many exact zeros
    plain = memoryless_limit(x, worst_rel_rms=1e-3)
    wide = memoryless_limit(x, worst_rel_rms=1e-3, widen=True)
    assert wide.ratio > plain.ratio and wide.variables[0].rel_rms <= 1e-3


def test_empirical_entropy() -> None:
    assert empirical_entropy(np.array([1, 1, 2, 2])) == 1.0
    assert empirical_entropy(np.zeros(0)) == 0.0


@pytest.mark.parametrize("kw", [{}, {"worst_rel_rms": 0}, {"worst_rel_rms": -1.0}, {"max_abs_error": math.nan}])
def test_bad_targets(kw: dict) -> None:
    with pytest.raises(ConfigError):
        memoryless_limit(np.ones(10), **kw)
