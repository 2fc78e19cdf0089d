"""``pcodec``: lossless numeric compression with pcodec (the ``pcodec`` package), column by column.

Body: ``numeric._columns`` with magic ``b"PCO"``. Each stream is decoded *into* an array of exactly
the size the header names, so a stream claiming more values is refused, and the body's CRC-32s
refuse damaged bytes (pcodec itself decodes a flipped byte into wrong numbers without complaint).
"""

from __future__ import annotations

import numpy as np
from pcodec import ChunkConfig, standalone

from codecbench import CodecError
from codecbench_plugins.common.coders import pcodec_decode

from ._columns import VERSION, ColumnStreamCodec

MAGIC = b"PCO"
__all__ = ["MAGIC", "VERSION", "PcodecCodec"]
#: dtypes this codec takes: pcodec's own (8-bit types with its ``enable_8_bit`` switch).
DTYPES = tuple(np.dtype(t) for t in ("f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"))


class PcodecCodec(ColumnStreamCodec):
    """pcodec at ``level`` 0 to 12 (default 8, pcodec's own default), per column for tables.

    Takes float16/32/64 and 8- to 64-bit signed and unsigned integers, bit for bit (NaN payloads
    and -0.0 included). ``by_column``: None (default) compresses column by column exactly when
    ``columns`` is set (tables); True does so for any 2-D array; False compresses it flat.
    """

    codec_id = "pcodec"
    magic = MAGIC
    levels = (0, 12)
    default_sweep = {"level": [4, 8, 12]}

    def __init__(self, level: int = 8, by_column: bool | None = None, columns: list[str] | None = None) -> None:
        super().__init__(level, by_column, columns)

    def _check_dtype(self, dtype: np.dtype) -> None:
        if dtype not in DTYPES or not dtype.isnative:
            raise CodecError(f"pcodec compresses native float and 8- to 64-bit integer arrays, not {dtype}")

    def _compress(self, part: np.ndarray) -> bytes:
        config = ChunkConfig(compression_level=self.level, enable_8_bit=part.dtype.itemsize == 1)
        try:
            return bytes(standalone.simple_compress(part, config))
        except (RuntimeError, TypeError) as exc:
            raise CodecError(f"pcodec cannot compress {part.size} values of {part.dtype}: {exc}") from exc

    def _decompress(self, block: bytes, dtype: np.dtype, n: int) -> np.ndarray:
        return pcodec_decode("pcodec", block, dtype, n)
