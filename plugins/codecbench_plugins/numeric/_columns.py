"""What ``pcodec`` and ``openzl`` share: parameters, column-by-column splitting, and the body around their streams.

Body (``codecbench_plugins.common.body``, the subclass's magic, version 1, no meta): one stream
per column for tables (``columns`` set, or ``by_column=True``), one for anything else (the array
flattened in C order). Each stream is decoded into exactly the number of values the header names.
"""

from __future__ import annotations

import abc
import math
from typing import Any, ClassVar

import numpy as np

from codecbench import Codec, CodecError, PayloadError
from codecbench_plugins.common.body import check_expected, pack, unpack
from codecbench_plugins.common.stats import check_columns, check_flag

VERSION = 1


class ColumnStreamCodec(Codec):
    """A lossless codec that compresses each column (or the flattened array) as one stream of a library.

    ``by_column``: None (default) compresses column by column exactly when ``columns`` is set
    (tables); True does so for any 2-D array; False compresses it flat.
    """

    lossless = True
    magic: ClassVar[bytes]
    levels: ClassVar[tuple[int, int]]

    def __init__(self, level: int, by_column: bool | None = None, columns: list[str] | None = None) -> None:
        lo, hi = self.levels
        if isinstance(level, bool) or not isinstance(level, int) or not lo <= level <= hi:
            raise CodecError(f"{self.codec_id} level must be an integer from {lo} to {hi}, not {level!r}")
        check_flag(self.codec_id, "by_column", by_column, allow_none=True)
        self.level, self.by_column = level, by_column
        self.columns = check_columns(self.codec_id, columns)

    @abc.abstractmethod
    def _check_dtype(self, dtype: np.dtype) -> None:
        """``CodecError`` for a dtype the library cannot take."""

    @abc.abstractmethod
    def _compress(self, part: np.ndarray) -> bytes:
        """One stream of a contiguous 1-D array."""

    @abc.abstractmethod
    def _decompress(self, block: bytes, dtype: np.dtype, n: int) -> np.ndarray:
        """Exactly ``n`` values of ``dtype`` from one stream, or ``PayloadError``."""

    def _column_wise(self, data: np.ndarray) -> bool:
        wise = self.columns is not None if self.by_column is None else self.by_column
        return bool(wise) and data.ndim == 2

    def encode(self, data: np.ndarray) -> bytes:
        self._check_dtype(data.dtype)
        parts = [data[:, j] for j in range(data.shape[1])] if self._column_wise(data) else [data.reshape(-1)]
        blocks = [self._compress(np.ascontiguousarray(p)) for p in parts]
        return pack(self.magic, VERSION, data.dtype, data.shape, b"", blocks)

    def decode(self, payload: bytes | memoryview, *, dtype: Any = None, shape: Any = None) -> np.ndarray:
        body = unpack(self.codec_id, self.magic, (VERSION,), payload)
        check_expected(self.codec_id, body.dtype, body.shape, dtype, shape)
        self._check_body_dtype(body.dtype)
        if len(body.blocks) == 1:
            return self._decompress(body.blocks[0], body.dtype, math.prod(body.shape)).reshape(body.shape)
        if len(body.shape) != 2 or len(body.blocks) != body.shape[1]:
            raise PayloadError(
                f"{self.codec_id} body holds {len(body.blocks)} streams for an array of shape {body.shape}"
            )
        out = np.empty(body.shape, dtype=body.dtype)
        for j, block in enumerate(body.blocks):
            out[:, j] = self._decompress(block, body.dtype, body.shape[0])
        return out

    def _check_body_dtype(self, dtype: np.dtype) -> None:
        try:
            self._check_dtype(dtype)
        except CodecError as exc:
            raise PayloadError(f"{self.codec_id} body names a dtype it cannot hold: {exc}") from exc
