"""``blosc``: Blosc2 (shuffle filter + a fast codec), typesize taken from the array's dtype."""

from __future__ import annotations

import blosc2
import numpy as np

from codecbench import Codec, CodecError, PayloadError

_SHUFFLES = {"none": blosc2.Filter.NOFILTER, "byte": blosc2.Filter.SHUFFLE, "bit": blosc2.Filter.BITSHUFFLE}
_CNAMES = {c.name.lower(): c for c in blosc2.compressor_list()}


class BloscCodec(Codec):
    """Blosc2 with ``cname`` (one of blosc2's codecs), ``clevel`` 0-9 and ``shuffle`` none/byte/bit."""

    codec_id = "blosc"
    lossless = True
    default_sweep = {"shuffle": ["none", "byte", "bit"]}

    def __init__(self, cname: str = "zstd", clevel: int = 5, shuffle: str = "byte") -> None:
        if cname not in _CNAMES:
            raise CodecError(f"blosc cname must be one of {sorted(_CNAMES)}, not {cname!r}")
        if not isinstance(clevel, int) or not 0 <= clevel <= 9:
            raise CodecError(f"blosc clevel must be an integer from 0 to 9, not {clevel!r}")
        if shuffle not in _SHUFFLES:
            raise CodecError(f"blosc shuffle must be one of {sorted(_SHUFFLES)}, not {shuffle!r}")
        self.cname, self.clevel, self.shuffle = cname, clevel, shuffle

    def encode(self, data: np.ndarray) -> bytes:
        # blosc2.compress2 handles buffers of any size by splitting them into chunks (a super-chunk
        # would add a container format of its own); the typesize drives the shuffle.
        buf = memoryview(data.reshape(-1).view(np.uint8))  # cast("B") fails on empty arrays
        if len(buf) > blosc2.MAX_BUFFERSIZE:
            raise CodecError(
                f"blosc compresses at most {blosc2.MAX_BUFFERSIZE} bytes in one buffer; this array has {len(buf)}"
            )
        return bytes(
            blosc2.compress2(
                buf,
                typesize=data.dtype.itemsize,
                clevel=self.clevel,
                filters=[_SHUFFLES[self.shuffle]],
                codec=_CNAMES[self.cname],
            )
        )

    def decode(self, payload: bytes) -> np.ndarray:
        try:
            out = blosc2.decompress2(payload)
        except Exception as exc:  # blosc2 raises RuntimeError/ValueError on bad input
            raise PayloadError(f"blosc body cannot be decompressed: {exc}") from exc
        return np.frombuffer(out, dtype=np.uint8)
