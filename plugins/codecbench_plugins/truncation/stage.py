"""The lossless stage after mantissa rounding, shared by ``trunc`` and ``bitround``.

``backend="blosc"``: Blosc2 with byte shuffle (typesize from the dtype) and zstd at level 5;
``backend="zstd"``: Zstandard at level 3 on the raw bytes.
"""

from __future__ import annotations

import blosc2
import numpy as np
import zstandard

from codecbench import CodecError, PayloadError

BACKENDS = ("blosc", "zstd")


def pack(rounded: np.ndarray, backend: str) -> bytes:
    """Compress the rounded values' bytes with ``backend``."""
    buf = memoryview(np.ascontiguousarray(rounded).reshape(-1).view(np.uint8))  # cast("B") fails on empty arrays
    if backend == "zstd":
        return zstandard.ZstdCompressor(level=3).compress(buf)
    if len(buf) > blosc2.MAX_BUFFERSIZE:
        raise CodecError(f"blosc compresses at most {blosc2.MAX_BUFFERSIZE} bytes at once; use backend='zstd'")
    return bytes(
        blosc2.compress2(
            buf, typesize=rounded.dtype.itemsize, clevel=5, filters=[blosc2.Filter.SHUFFLE], codec=blosc2.Codec.ZSTD
        )
    )


def unpack(payload: bytes | memoryview, backend: str, codec_id: str) -> bytes:
    """Decompress what ``pack`` wrote; a damaged body is a PayloadError naming ``codec_id``."""
    try:
        if backend == "zstd":
            return zstandard.ZstdDecompressor().decompress(payload)
        return blosc2.decompress2(payload)
    except Exception as exc:  # zstandard.ZstdError, blosc2's RuntimeError/ValueError, MemoryError
        raise PayloadError(f"{codec_id} body cannot be decompressed with {backend}: {exc}") from exc
