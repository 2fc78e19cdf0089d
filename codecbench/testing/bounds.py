"""The declared-bound check: a codec's ``declared_bound()`` holds on every value of every input,
special values included, checked exactly as the runner checks it (``codecbench.measure.bounds``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from codecbench.errors import CodecbenchError
from codecbench.measure.bounds import check_bound
from codecbench.testing.base import ConformanceBase
from codecbench.testing.inputs import with_special_values
from codecbench.testing.outcome import Failed, Skipped, explain


class BoundChecks(ConformanceBase):
    """Checks ``declared_bound``."""

    def check_declared_bound(self) -> str:
        """The declared bound holds on every value of every input, special values included."""
        codec0 = self.codec_for(self.cases[0])
        try:
            bound = codec0.declared_bound()
        except Exception as exc:
            raise Failed(f"declared_bound() raised {explain(exc)}") from exc
        if bound is None:
            raise Skipped("the codec declares no error bound")

        notes = []
        for case in self.cases:
            codec = self.codec_for(case)
            for label, data in (("", case.data), (" with special values", with_special_values(case.data))):
                try:
                    out = self._round_trip(codec, data, case.name + label)
                except Failed as failed:
                    # a codec may refuse non-finite input cleanly (CodecError) instead of reproducing it
                    refused = isinstance(failed.__cause__, CodecbenchError) and "compress raised" in str(failed)
                    if not (label and refused):
                        raise
                    notes.append(f"{case.name}: special values refused ({type(failed.__cause__).__name__})")
                    continue
                try:
                    report = check_bound(data, out, codec.declared_bound(), case.columns)
                except CodecbenchError as exc:
                    raise Failed(f"{case.name}: declared_bound() is malformed: {exc}") from exc
                if report["bound_violations"]:
                    raise Failed(
                        f"{case.name}{label}: {report['bound_violations']} of {report['bound_checked']} values break "
                        f"the declared bound {bound!r} (worst excess {report['bound_worst_excess']:.3g}, "
                        f"non-finite mismatches {report['bound_nonfinite_mismatches']})"
                        + _bound_example(data, out, bound)
                    )
            notes.append(case.name)
        return f"bound {bound!r} holds on " + ", ".join(notes)


def _bound_example(original: np.ndarray, recon: np.ndarray, bound: Any) -> str:
    """``; first at index ...: X came back as Y`` for the first value that breaks a scalar abs/rel bound."""
    o = np.asarray(original, dtype=np.float64)
    r = np.asarray(recon, dtype=np.float64)
    with np.errstate(all="ignore"):
        bad = (np.isnan(o) != np.isnan(r)) | (np.isinf(o) & (o != r)) | (np.isfinite(o) & ~np.isfinite(r))
        value = bound.get("value") if isinstance(bound, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and bound.get("mode") in ("abs", "rel"):
            allowed = value if bound["mode"] == "abs" else value * np.abs(o)
            bad |= np.isfinite(o) & np.isfinite(r) & (np.abs(r - o) > allowed * (1 + 2**-50))
    if not bad.any():
        return ""
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"; first at index {where}: {original[where]!r} came back as {recon[where]!r}"
