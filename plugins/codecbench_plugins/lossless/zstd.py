"""``zstd``: Zstandard through the ``zstandard`` package."""

from __future__ import annotations

import numpy as np
import zstandard

from codecbench import Codec, CodecError, PayloadError


class ZstdCodec(Codec):
    """Zstandard at ``level`` 1 to 22 (negative levels are the fast modes)."""

    codec_id = "zstd"
    lossless = True
    default_sweep = {"level": [1, 3, 9, 19]}

    def __init__(self, level: int = 3) -> None:
        if not isinstance(level, int) or not -7 <= level <= 22:
            raise CodecError(f"zstd level must be an integer from -7 to 22, not {level!r}")
        self.level = level

    def encode(self, data: np.ndarray) -> bytes:
        return zstandard.ZstdCompressor(level=self.level).compress(data.reshape(-1).view(np.uint8))

    def decode(self, payload: bytes) -> np.ndarray:
        try:
            out = zstandard.ZstdDecompressor().decompress(payload)
        except zstandard.ZstdError as exc:
            raise PayloadError(f"zstd body cannot be decompressed: {exc}") from exc
        except MemoryError as exc:  # a damaged frame header can claim an absurd content size
            raise PayloadError("zstd body claims a decompressed size too large to allocate; it is corrupted") from exc
        return np.frombuffer(out, dtype=np.uint8)
