"""``gzip``: DEFLATE with a gzip header, from Python's standard library."""

from __future__ import annotations

import gzip as _gzip
import zlib

import numpy as np

from codecbench import Codec, CodecError, PayloadError


class GzipCodec(Codec):
    """gzip at ``level`` 1 (fast) to 9 (small)."""

    codec_id = "gzip"
    lossless = True
    default_sweep = {"level": [1, 6, 9]}

    def __init__(self, level: int = 6) -> None:
        if not isinstance(level, int) or not 0 <= level <= 9:
            raise CodecError(f"gzip level must be an integer from 0 to 9, not {level!r}")
        self.level = level

    def encode(self, data: np.ndarray) -> bytes:
        return _gzip.compress(data.reshape(-1).view(np.uint8), compresslevel=self.level, mtime=0)

    def decode(self, payload: bytes) -> np.ndarray:
        try:
            return np.frombuffer(_gzip.decompress(payload), dtype=np.uint8)
        except (OSError, EOFError, zlib.error) as exc:
            raise PayloadError(f"gzip body cannot be decompressed: {exc}") from exc
