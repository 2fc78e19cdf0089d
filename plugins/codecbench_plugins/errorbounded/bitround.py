"""``bitround``: numcodecs' BitRound filter (through codecbench's numcodecs adapter), then a lossless stage."""

from __future__ import annotations

from typing import Any

import numpy as np

from codecbench import Codec, CodecError, Knob, get_codec
from codecbench_plugins.truncation import stage

BACKENDS = ("blosc", "zstd")


class BitroundCodec(Codec):
    """numcodecs' ``BitRound(keepbits)`` run as ``numcodecs.bitround``, followed by ``blosc`` or ``zstd``.

    BitRound rounds the mantissa to ``keepbits`` bits, to nearest with ties to even on the bit
    pattern, exactly like ``trunc`` does for normal numbers; it is here so the tables show the
    reference implementation beside ``trunc``. BitRound is only a filter (it does not shrink the
    data); the lossless stage is the same as ``trunc``'s (Blosc2 zstd level 5 with byte shuffle, or
    zstd level 3), so the two compare on equal terms.

    Declared bound: ``rel_or_abs`` with ``rel = 2**-(keepbits + 1)`` (as ``trunc``) and an absolute
    floor of ``rel`` times the dtype's smallest normal number: BitRound applies its bit-pattern
    rounding to subnormal numbers too (it can flush them to zero), which keeps that absolute error
    but not the relative one (``trunc`` keeps the relative one). BitRound also rounds the largest
    finite values up to Inf and turns a NaN whose payload sits in the dropped bits into Inf: rather
    than store such corrupted values, ``encode`` refuses that input with a ``CodecError`` that
    says how many values BitRound turned into Inf (``numcodecs:bitround`` runs BitRound raw).
    """

    codec_id = "bitround"
    requires = ("numcodecs",)
    lossless = False
    default_sweep = {"keepbits": list(range(4, 21))}
    #: For a target search: keepbits 0..23 (float32's mantissa; float64 searches stop there too).
    tune = Knob("keepbits", lo=0, hi=23, integer=True, finer="up")

    def __init__(self, keepbits: int = 10, backend: str = "blosc") -> None:
        if isinstance(keepbits, bool) or not isinstance(keepbits, int) or not 0 <= keepbits <= 52:
            raise CodecError(f"bitround keepbits must be an integer from 0 to 52, not {keepbits!r}")
        if backend not in BACKENDS:
            raise CodecError(f"bitround backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        self.keepbits, self.backend = keepbits, backend
        self._filter = get_codec({"id": "numcodecs.bitround", "keepbits": keepbits})
        self._tiny = float(np.finfo(np.float32).tiny)  # the dtype of the last encode sets it

    def encode(self, data: np.ndarray) -> bytes:
        if data.dtype not in (np.float32, np.float64):
            raise CodecError(f"bitround compresses float32 and float64 arrays, not {data.dtype}")
        if data.dtype == np.float32 and self.keepbits > 23:
            raise CodecError(f"bitround keepbits must be at most 23 for float32 data, not {self.keepbits}")
        self._tiny = float(np.finfo(data.dtype).tiny)
        buf = self._filter.encode(data)
        rounded = np.frombuffer(buf, dtype=data.dtype)
        to_inf = int(np.count_nonzero(np.isinf(rounded) & ~np.isinf(data.reshape(-1))))
        if to_inf:
            raise CodecError(
                f"numcodecs BitRound(keepbits={self.keepbits}) turned {to_inf} finite or NaN values into Inf (values "
                "next to the largest float round up, NaNs with payload bits only in the dropped bits lose them); "
                "use trunc, which keeps them"
            )
        return stage.pack(rounded, self.backend)

    def decode(self, payload: bytes) -> np.ndarray:
        raw = stage.unpack(payload, self.backend, self.codec_id)
        # BitRound's decode is the identity on the rounded values (the harness restores dtype and shape)
        return self._filter.decode(raw)

    def declared_bound(self) -> dict[str, Any]:
        """``rel_or_abs``: relative ``2**-(keepbits + 1)``, absolute floor at the subnormal scale of the last dtype."""
        rel = 2.0 ** -(self.keepbits + 1)
        return {"mode": "rel_or_abs", "value": {"rel": rel, "abs": rel * self._tiny}}
