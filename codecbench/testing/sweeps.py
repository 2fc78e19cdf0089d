"""The default-sweep and knob checks: ``default_sweep`` and ``encode_params`` name real parameters, and
every setting constructs, fits (learned codecs) and round-trips; settings that differ only in
``encode_params`` reuse the fitted model, as the model cache does. The quality knob (``knob()``,
contract 1.1) names a constructor parameter (an encode parameter for learned codecs: a target
search never refits), and both ends of its range construct (and round-trip, for codecs that learn
nothing).
"""

from __future__ import annotations

import itertools
import json

from codecbench.codec import Knob
from codecbench.testing.base import ConformanceBase
from codecbench.testing.outcome import Failed, Skipped, bits_mismatch, explain


class SweepChecks(ConformanceBase):
    """Checks ``default_sweep`` and the knob."""

    def check_knob(self) -> str:
        """``knob()`` is None or a ``Knob`` on a real parameter (an encode parameter if learned) whose ends work."""
        try:
            knob = self.codec.knob()
        except Exception as exc:
            raise Failed(f"knob() raised {explain(exc)}") from exc
        if knob is None:
            raise Skipped("the codec declares no knob (a target run measures it once, as 'no knob')")
        if not isinstance(knob, Knob):
            raise Failed(f"knob() must return a codecbench.Knob or None, not {type(knob).__name__}")
        params = self.cls.param_names()
        if knob.param not in params:
            raise Failed(
                f"the knob moves {knob.param!r}, which {self.cls.__name__} does not take ({', '.join(params)})"
            )
        if self.cls.learned and knob.param not in tuple(getattr(self.cls, "encode_params", ()) or ()):
            raise Failed(
                f"the knob {knob.param!r} of a learned codec must be one of encode_params: a search never refits"
            )
        case = self.cases[0]
        for end in (knob.lo, knob.hi):
            value = int(end) if knob.integer else float(end)
            codec = self.new_instance(**{knob.param: value})
            if not self.cls.learned:
                self._round_trip(codec, case.data, f"the knob's end {knob.param}={value} on {case.name}")
        return f"{knob.param} over [{knob.lo:g}, {knob.hi:g}] ({'finer ' + knob.finer})"

    def check_default_sweep(self) -> str:
        """Every setting of default_sweep constructs, fits (learned) and round-trips.

        For a learned codec, a setting that differs from the checked config only in ``encode_params``
        is not refitted: like the runner's model cache, it loads the fitted model of the checked
        config with ``load_fitted(save_fitted())``, which must then work with the new setting.
        """
        params = self.cls.param_names()
        encode_params = tuple(getattr(self.cls, "encode_params", ()) or ())
        unknown = [p for p in encode_params if p not in params]
        if unknown:
            raise Failed(
                f"encode_params names {', '.join(map(repr, unknown))}, which {self.cls.__name__} does not take "
                f"(its parameters: {', '.join(params) or 'none'})"
            )
        sweep = getattr(self.cls, "default_sweep", None)
        if not sweep:
            raise Skipped("the codec declares no default_sweep")
        if not isinstance(sweep, dict):
            raise Failed(f"default_sweep must be a dict {{parameter: [values]}}, not {type(sweep).__name__}")
        for name, values in sweep.items():
            if name not in params:
                raise Failed(
                    f"default_sweep names parameter {name!r}, which {self.cls.__name__} does not take "
                    f"(its parameters: {', '.join(params) or 'none'})"
                )
            if not isinstance(values, list | tuple) or not values:
                raise Failed(f"default_sweep[{name!r}] must be a non-empty list of values, not {values!r}")
        keys = list(sweep)
        combos = list(itertools.product(*(sweep[k] for k in keys)))
        if len(combos) <= 24:
            settings = [dict(zip(keys, c)) for c in combos]
        else:  # too many to fit them all: each value once, the other parameters at the codec's own
            settings = [{k: v} for k in keys for v in sweep[k]]
        case = self.cases[0]
        data = case.data
        reused = 0
        for setting in settings:
            try:
                json.dumps(setting, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise Failed(f"default_sweep setting {setting!r} is not JSON-serialisable: {exc}") from exc
            codec = self.new_instance(**setting)
            what = f"default_sweep setting {setting} on {case.name}"
            if self.cls.learned and set(setting) <= set(encode_params):
                try:
                    codec.load_fitted(self.codec_for(case).save_fitted())
                except Exception as exc:
                    raise Failed(
                        f"{what}: load_fitted(save_fitted()) of the model fitted with the checked config raised "
                        f"{explain(exc)}; {', '.join(setting)} is in encode_params, so the model cache shares one "
                        f"fitted model across its values"
                    ) from exc
                reused += 1
            elif self.cls.learned:
                self._fit(codec, case.train, f"{case.name} (setting {setting})")
            out = self._round_trip(codec, data, what)
            if self.cls.lossless:
                diff = bits_mismatch(data, out)
                if diff:
                    raise Failed(f"default_sweep setting {setting}: the lossless codec changed data: {diff}")
        return f"{len(settings)} settings run" + (f" ({reused} on the shared fitted model)" if reused else "")
