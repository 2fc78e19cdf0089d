"""Round-trip checks: shape and dtype survive, lossless codecs return every bit (special values
included), encoding and decoding are deterministic, and the decoder state is all a fresh decoder needs.
"""

from __future__ import annotations

import json

import numpy as np

from codecbench.container import compress, decompress
from codecbench.testing.base import ConformanceBase
from codecbench.testing.inputs import with_special_values
from codecbench.testing.outcome import Failed, Skipped, bits_mismatch, explain


class RoundTripChecks(ConformanceBase):
    """Checks ``round_trip``, ``lossless_exact``, ``determinism`` and ``state``."""

    def check_round_trip(self) -> str:
        """Shape and dtype survive on every input; lossless codecs return every bit; input untouched."""
        notes = []
        for case in self.cases:
            codec = self.codec_for(case)
            before = case.data.copy()
            out = self._round_trip(codec, case.data, case.name)
            if bits_mismatch(before, case.data) is not None:
                raise Failed(f"{case.name}: encode modified its input array in place")
            if self.cls.lossless:
                diff = bits_mismatch(case.data, out)
                if diff:
                    raise Failed(f"{case.name}: the codec claims lossless = True but the round trip changed: {diff}")
            try:
                extras = codec.report_extras()
                json.dumps(extras)
            except Exception as exc:
                raise Failed(
                    f"{case.name}: report_extras() must give a JSON-serialisable dict: {explain(exc)}"
                ) from exc
            if not isinstance(extras, dict):
                raise Failed(f"{case.name}: report_extras() returned {type(extras).__name__}, not a dict")
            notes.append(case.name)
        return "round trip of " + ", ".join(notes)

    def check_lossless_exact(self) -> str:
        """Bit-exact on NaN payloads, signalling NaN, -0.0, +/-Inf, subnormals, extremes."""
        if not self.cls.lossless:
            raise Skipped("the codec does not claim to be lossless")
        done = []
        for case in self.cases:
            if case.data.dtype.kind != "f" or case.data.dtype.itemsize not in (2, 4, 8):
                continue
            data = with_special_values(case.data)
            out = self._round_trip(self.codec_for(case), data, f"{case.name} with special values")
            diff = bits_mismatch(data, out)
            if diff:
                raise Failed(
                    f"{case.name} with special values: the codec claims lossless = True but {diff}. A lossless codec "
                    f"must reproduce every bit pattern: NaN payloads, -0.0, infinities and subnormals included"
                )
            done.append(case.name)
        if not done:
            raise Skipped("no float16/32/64 input to put special values in")
        return "exact with special values on " + ", ".join(done)

    def check_determinism(self) -> str:
        """Same bytes from two encodes of one array; same bits from two decodes."""
        for case in self.cases:
            codec = self.codec_for(case)
            try:
                p1, p2 = bytes(codec.encode(case.data)), bytes(codec.encode(case.data))
            except Exception as exc:
                raise Failed(f"{case.name}: encode raised {explain(exc)}") from exc
            if p1 != p2:
                raise Failed(
                    f"{case.name}: encoding the same array twice gave different payloads ({len(p1)} and {len(p2)} "
                    f"bytes); encode must be deterministic (no timestamps, random seeds or state changed by encode)"
                )
            payload = compress(codec, case.data)
            d1, d2 = decompress(codec, payload), decompress(codec, payload)
            diff = bits_mismatch(d1, d2)
            if diff:
                raise Failed(f"{case.name}: decoding the same payload twice gave different arrays: {diff}")
        return f"deterministic on {len(self.cases)} inputs"

    def check_state(self) -> str:
        """aux_nbytes() == len(save_state()); a fresh instance + load_state decodes identically."""
        sizes = []
        for case in self.cases:
            codec = self.codec_for(case)
            try:
                state = codec.save_state()
            except Exception as exc:
                raise Failed(f"{case.name}: save_state() raised {explain(exc)}") from exc
            if not isinstance(state, bytes):
                raise Failed(f"{case.name}: save_state() returned {type(state).__name__}, not bytes")
            try:
                aux = codec.aux_nbytes()
            except Exception as exc:
                raise Failed(f"{case.name}: aux_nbytes() raised {explain(exc)}") from exc
            if isinstance(aux, bool) or not isinstance(aux, int | np.integer) or aux != len(state):
                raise Failed(
                    f"{case.name}: aux_nbytes() returned {aux!r} but save_state() holds {len(state)} bytes; "
                    f"aux_nbytes() must be exactly len(save_state()), the bytes a decoder needs besides the payload"
                )
            fresh = self.new_instance()
            try:
                fresh.load_state(state)
            except Exception as exc:
                raise Failed(
                    f"{case.name}: load_state(save_state()) on a fresh instance raised {explain(exc)}"
                ) from exc
            try:
                payload = compress(codec, case.data)
                expected = decompress(codec, payload)
            except Exception as exc:
                raise Failed(f"{case.name}: round trip raised {explain(exc)}") from exc
            try:
                got = decompress(fresh, payload)
            except Exception as exc:
                raise Failed(
                    f"{case.name}: a fresh instance made from the config and load_state(save_state()) cannot decode: "
                    f"{explain(exc)}. save_state() must hold everything the decoder needs"
                ) from exc
            diff = bits_mismatch(expected, got)
            if diff:
                raise Failed(
                    f"{case.name}: a fresh instance made from the config and load_state(save_state()) decodes "
                    f"differently from the codec that encoded ({diff}); save_state() must hold everything the "
                    f"decoder needs"
                )
            sizes.append(len(state))
        return f"state sizes {sizes} bytes"
