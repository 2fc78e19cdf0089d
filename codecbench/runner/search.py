"""Target search: the setting of a codec's quality knob with the highest ratio that meets a target.

``search(knob, evaluate)`` assumes what a quality knob means: moving it in the ``finer`` direction
lowers the error (so the set of settings meeting the target is an interval ending at the finest
setting) and the ratio rises the other way. ``evaluate(value)`` runs one full measurement (a probe)
and returns ``(meets, ratio)``. The algorithm:

1. probe the coarsest setting; if it meets the target it is the answer (1 probe);
2. probe the finest setting; or, when a ``hint`` is given, probe it and walk from it towards the
   side it does not bracket with growing steps (log knobs: factors ``first_step``, then
   ``first_step * expand``, ``first_step * expand**2``...; integer knobs: one step, then a quarter
   of the remaining range): a hint that misses by a hair is bracketed by the next probe, within
   a few percent in ratio. If the finest setting misses, no setting meets the
   target: the result is ``met=False`` with the finest setting as the closest (2 probes);
3. bisect between the coarsest setting known to meet (``good``) and the finest known to miss
   (``bad``): at the geometric midpoint for ``log`` knobs, the arithmetic one otherwise, rounded
   down to an integer for ``integer`` knobs;
4. stop when the search is tight: for an integer knob when ``good`` and ``bad`` are one step apart
   (the next coarser setting was probed and misses); for a continuous knob when
   ``ratio(bad) <= (1 + ratio_tol) * ratio(good)`` (default 2 %: no setting between them can gain
   more than that, the ratio being monotone) or when the interval is below ``min_rel_width``
   (default 1e-3 of the knob, in log units for log knobs; then ``tight`` is False: the ratio
   jumps there, as ZFP's does at the tolerances where it keeps one more bit plane).

Probe cost, without a hint: an integer knob over ``[lo, hi]`` costs at most
``2 + ceil(log2(hi - lo))`` probes (7 for trunc's bits 1..23); a log knob costs
``2 + ceil(log2(log(hi / lo) / w))`` where ``w`` is the log-width at which the ratio changes by
2 %, 9 to 10 probes for an error bound over 1e-9..1 (the tests count them). A good hint (for
``quant`` in ``std`` mode, ``sqrt(3) * target``) that misses by a hair costs 3 probes in all
(coarsest, hint, hint / 1.1); one 10 % off costs 7 to 8. ``max_probes`` caps the total; hitting
it returns the best setting found so far with ``tight=False``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from codecbench.codec import Knob
from codecbench.errors import ConfigError


@dataclass(frozen=True)
class Probe:
    """One measured setting."""

    value: float
    meets: bool
    ratio: float


@dataclass
class SearchResult:
    """The outcome: ``value``/``ratio`` of the chosen setting (the closest one when ``met`` is False)."""

    met: bool
    value: float
    ratio: float
    tight: bool
    probes: list[Probe] = field(default_factory=list)
    reason: str = ""

    @property
    def n_probes(self) -> int:
        return len(self.probes)


def _finest(knob: Knob) -> float:
    return knob.hi if knob.finer == "up" else knob.lo


def _coarsest(knob: Knob) -> float:
    return knob.lo if knob.finer == "up" else knob.hi


def _mid(knob: Knob, a: float, b: float) -> float:
    if knob.integer:
        return float(math.floor((a + b) / 2))
    return math.sqrt(a * b) if knob.log else (a + b) / 2


def _clip(knob: Knob, v: float) -> float:
    v = min(max(v, knob.lo), knob.hi)
    return float(round(v)) if knob.integer else v


def search(
    knob: Knob,
    evaluate: Callable[[float], tuple[bool, float]],
    *,
    hint: float | None = None,
    first_step: float = 1.1,
    expand: float = 4.0,
    ratio_tol: float = 0.02,
    min_rel_width: float = 1e-3,
    max_probes: int = 40,
) -> SearchResult:
    """Find the setting of ``knob`` with the highest ratio whose measurement meets the target.

    ``evaluate(value) -> (meets, ratio)`` is called once per probe (values are ints for integer
    knobs). See the module docstring for the algorithm, its stopping rule and its cost.
    """
    if max_probes < 2:
        raise ConfigError(f"a search needs at least 2 probes, not max_probes={max_probes}")
    probes: list[Probe] = []
    cache: dict[float, Probe] = {}

    def probe(v: float) -> Probe:
        v = _clip(knob, v)
        if v not in cache:
            meets, ratio = evaluate(int(v) if knob.integer else v)
            cache[v] = Probe(v, bool(meets), float(ratio))
            probes.append(cache[v])
        return cache[v]

    def finer(a: Probe, b: Probe) -> bool:  # a is on the finer side of b
        return a.value > b.value if knob.finer == "up" else a.value < b.value

    coarse = probe(_coarsest(knob))
    if coarse.meets:
        return SearchResult(True, coarse.value, coarse.ratio, True, probes, "the coarsest setting meets the target")
    good: Probe | None = None
    bad = coarse
    if hint is not None:  # walk from the hint, geometrically, until a meeting and a missing setting bracket
        p = probe(hint)
        coarser = p.meets
        factor = first_step
        while True:
            if p.meets:
                good = p if good is None or finer(good, p) else good
            else:
                bad = p if finer(p, bad) else bad
            if good is not None and (not p.meets or not coarser):
                break
            nxt = _step(knob, p.value, factor if knob.log else None, coarser=coarser, first=factor == first_step)
            if nxt == p.value or len(probes) >= max_probes:
                break
            p = probe(nxt)
            factor *= expand
    if good is None:
        fine = probe(_finest(knob))
        if not fine.meets:
            return SearchResult(
                False, fine.value, fine.ratio, True, probes, "even the finest setting misses the target"
            )
        good = fine
    while len(probes) < max_probes:
        if knob.integer and abs(good.value - bad.value) <= 1:
            return SearchResult(True, good.value, good.ratio, True, probes, "the next coarser step misses")
        if not knob.integer:
            if bad.ratio <= (1 + ratio_tol) * good.ratio:
                return SearchResult(True, good.value, good.ratio, True, probes, f"within {ratio_tol:.0%} in ratio")
            width = abs(math.log(bad.value / good.value)) if knob.log else _rel_gap(good.value, bad.value)
            if width < min_rel_width:
                return SearchResult(True, good.value, good.ratio, False, probes, "the ratio jumps at this setting")
        p = probe(_mid(knob, good.value, bad.value))
        if p.value in (good.value, bad.value):  # pragma: no cover - the stopping rules above come first
            break
        good, bad = (p, bad) if p.meets else (good, p)
    return SearchResult(True, good.value, good.ratio, False, probes, f"stopped after {len(probes)} probes")


def _rel_gap(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b))


def _step(knob: Knob, v: float, factor: float | None, *, coarser: bool, first: bool = False) -> float:
    """The next setting from ``v`` towards the coarse (or fine) end: times/over ``factor`` on a log knob;
    otherwise one step (integer knobs, ``first``) or a quarter of the remaining range."""
    up = coarser != (knob.finer == "up")  # moving up the value axis?
    if factor is not None:
        return _clip(knob, v * factor if up else v / factor)
    end = knob.hi if up else knob.lo
    nxt = v + (end - v) / 4
    if knob.integer and first:
        return _clip(knob, v + (1 if up else -1))
    if knob.integer:
        nxt = math.ceil(nxt) if up else math.floor(nxt)
        if nxt == v:
            nxt = v + (1 if up else -1)
    return _clip(knob, nxt)
