"""The knob search on monotone toys: it meets the target, is tight, and costs the probes it says."""

from __future__ import annotations

import math

import pytest

from codecbench import ConfigError, Knob
from codecbench.runner.search import search


class Toy:
    """A codec-like toy: error and ratio as monotone functions of the knob, counting probes."""

    def __init__(self, error, ratio, target: float) -> None:
        self.error, self.ratio, self.target, self.calls = error, ratio, target, []

    def __call__(self, value: float) -> tuple[bool, float]:
        self.calls.append(value)
        return self.error(value) <= self.target, self.ratio(value)


def trunc_like(target: float) -> Toy:
    """bits knob: error 2**-(b+1), ratio 32 / (b + 9)."""
    return Toy(lambda b: 2.0 ** -(b + 1), lambda b: 32 / (b + 9), target)


def bound_like(target: float) -> Toy:
    """error-bound knob: rel_rms = v / sqrt(3), bits = 4 + log2(1 / v)."""
    return Toy(lambda v: v / math.sqrt(3), lambda v: 32 / max(1.0, 4 + math.log2(1 / v)), target)


BITS = Knob("bits", lo=1, hi=23, integer=True, finer="up")
BOUND = Knob("error_bound", lo=1e-9, hi=1.0, log=True, finer="down")


@pytest.mark.parametrize("target", [5e-4, 1e-3, 0.3, 1e-7])
def test_integer_knob_is_tight_to_one_step(target: float) -> None:
    toy = trunc_like(target)
    res = search(BITS, toy)
    assert res.met and res.tight
    b = int(res.value)
    assert toy.error(b) <= target and (b == BITS.lo or toy.error(b - 1) > target)
    assert res.n_probes == len(toy.calls) <= 2 + math.ceil(math.log2(BITS.hi - BITS.lo))


@pytest.mark.parametrize("target", [1e-2, 1e-3, 5e-4, 1e-4, 1e-6])
@pytest.mark.parametrize("hint", [None, "good"])
def test_log_knob_is_within_two_percent(target: float, hint: str | None) -> None:
    toy = bound_like(target)
    res = search(BOUND, toy, hint=None if hint is None else math.sqrt(3) * target * 0.9)
    assert res.met and res.tight
    assert toy.error(res.value) <= target
    best = math.sqrt(3) * target  # the true optimum of the toy
    assert toy.ratio(best) <= 1.02 * res.ratio
    assert res.n_probes <= (12 if hint is None else 8)


def test_a_good_hint_saves_probes() -> None:
    plain = search(BOUND, bound_like(5e-4))
    hinted = search(BOUND, bound_like(5e-4), hint=math.sqrt(3) * 5e-4 * 0.99)
    assert hinted.n_probes < plain.n_probes


def test_bad_hint_still_converges() -> None:
    for hint in (1e-8, 0.5):
        toy = bound_like(1e-3)
        res = search(BOUND, toy, hint=hint)
        assert res.met and toy.error(res.value) <= 1e-3 and toy.ratio(math.sqrt(3) * 1e-3) <= 1.02 * res.ratio


def test_unmeetable_target_reports_the_closest_setting() -> None:
    toy = trunc_like(1e-12)  # even 23 bits gives 2**-24 ~ 6e-8
    res = search(BITS, toy)
    assert not res.met and res.value == 23 and res.n_probes == 2


def test_coarsest_meeting_is_one_probe() -> None:
    res = search(BITS, trunc_like(0.5))
    assert res.met and res.value == 1 and res.n_probes == 1


def test_ratio_jump_stops_untight() -> None:
    """A ratio that jumps at a threshold cannot be bracketed within 2 %: the search says so."""
    t = 1.234e-3
    toy = Toy(lambda v: v, lambda v: 10.0 if v > t else 1.0, t)  # the ratio jumps just past the target
    res = search(Knob("x", lo=1e-6, hi=1.0, log=True, finer="down"), toy, max_probes=60)
    assert res.met and not res.tight and toy.error(res.value) <= t and res.value == pytest.approx(t, rel=2e-3)
    assert res.reason == "the ratio jumps at this setting"


def test_max_probes_is_respected() -> None:
    toy = bound_like(1e-4)
    res = search(BOUND, toy, max_probes=4)
    assert len(toy.calls) == 4 and res.met and not res.tight
    with pytest.raises(ConfigError):
        search(BOUND, toy, max_probes=1)


def test_a_hint_missing_by_a_hair_costs_three_probes() -> None:
    """quant in std mode: sqrt(3) * t misses by ~0.1 % on finite samples; the next probe (hint / 1.1) brackets."""
    toy = bound_like(5e-4)
    res = search(BOUND, toy, hint=math.sqrt(3) * 5e-4 * 1.001)
    assert res.met and res.tight and res.n_probes == 3
    assert toy.ratio(math.sqrt(3) * 5e-4) <= 1.02 * res.ratio
