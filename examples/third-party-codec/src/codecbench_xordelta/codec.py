"""``xordelta``: XOR each row's bit patterns with the previous row's, split bytes into planes, zlib.

Neighbouring rows of smooth scientific data share their sign, exponent and leading mantissa
bits, so the XOR leaves mostly zero bits in the high bytes; grouping byte *k* of every value
together ("byte planes", like blosc's shuffle) puts those zeros next to each other for zlib. All
of it works on the integer bit patterns, so the codec is exactly lossless: NaN payloads, -0.0,
infinities and subnormals come back bit for bit.

Body layout (little-endian)::

    version    u8    1
    itemsize   u8    bytes per value (1, 2, 4 or 8)
    flags      u8    bit 0: byte planes on
    row_len    u64   values per row (the product of every dimension but the first)
    n_values   u64   values in the array
    zlib stream of the transformed bytes
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from codecbench import Codec, CodecError, PayloadError

_HEADER = struct.Struct("<BBBQQ")
_VERSION = 1


class XorDeltaCodec(Codec):
    """Lossless: XOR delta along the first axis, optional byte planes, zlib at ``level`` 1-9."""

    codec_id = "xordelta"
    lossless = True
    # The settings `codecbench run --sweep-default` runs, and the conformance checks construct.
    default_sweep = {"level": [1, 6, 9], "planes": [True, False]}
    # The codec contract major version this plugin was written for (codecbench.CONTRACT_VERSION).
    contract_version = 1

    def __init__(self, level: int = 6, planes: bool = True) -> None:
        # Every parameter is stored under its own name: get_config/from_config rely on it.
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 9:
            raise CodecError(f"xordelta level must be an integer from 1 to 9, not {level!r}")
        if not isinstance(planes, bool):
            raise CodecError(f"xordelta planes must be true or false, not {planes!r}")
        self.level = level
        self.planes = planes

    def encode(self, data: np.ndarray) -> bytes:
        itemsize = data.dtype.itemsize
        if itemsize not in (1, 2, 4, 8):
            raise CodecError(f"xordelta handles 1, 2, 4 or 8-byte values, not {data.dtype}")
        bits = np.ascontiguousarray(data).reshape(-1).view(f"<u{itemsize}")
        row_len = int(np.prod(data.shape[1:])) if data.ndim > 1 else 1
        rows = bits.reshape(-1, row_len) if row_len else bits.reshape(0, 0)
        delta = rows.copy()
        delta[1:] ^= rows[:-1]
        raw = delta.reshape(-1).view(np.uint8)
        if self.planes:
            raw = raw.reshape(-1, itemsize).T.reshape(-1)
        header = _HEADER.pack(_VERSION, itemsize, int(self.planes), row_len, bits.size)
        return header + zlib.compress(raw.tobytes(), self.level)

    def decode(self, payload: bytes) -> np.ndarray:
        if len(payload) < _HEADER.size:
            raise PayloadError(f"xordelta body is {len(payload)} bytes, shorter than its {_HEADER.size}-byte header")
        version, itemsize, flags, row_len, n_values = _HEADER.unpack_from(payload)
        if version != _VERSION or itemsize not in (1, 2, 4, 8) or flags > 1:
            raise PayloadError(f"xordelta body header is corrupted (version {version}, itemsize {itemsize})")
        if n_values and (row_len == 0 or n_values % row_len):
            raise PayloadError(f"xordelta body header is corrupted ({n_values} values in rows of {row_len})")
        expected = n_values * itemsize
        try:
            # max_length guards against a damaged header asking for an enormous buffer
            inflater = zlib.decompressobj()
            raw = inflater.decompress(payload[_HEADER.size :], expected + 1)
        except zlib.error as exc:
            raise PayloadError(f"xordelta body cannot be decompressed: {exc}") from exc
        if len(raw) != expected or not inflater.eof:
            raise PayloadError(f"xordelta body holds {len(raw)} bytes after zlib, expected {expected}")
        planes = np.frombuffer(raw, dtype=np.uint8)
        if flags & 1:
            planes = planes.reshape(itemsize, -1).T
        delta = np.ascontiguousarray(planes).reshape(-1).view(f"<u{itemsize}")
        if n_values:
            delta = delta.reshape(-1, row_len)
        rows = np.bitwise_xor.accumulate(delta, axis=0)
        return rows.reshape(-1).view(np.uint8)
