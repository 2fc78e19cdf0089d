"""Helpers shared by the error-bounded codecs: a small self-describing body format and shape folding.

Libraries such as SZ3 need the dtype and shape to decode, but a codec's ``decode`` sees only its
body, so the body starts with them. Layout (little-endian)::

    magic     3 bytes  b"EB1"
    dtype     u8       0 = float32, 1 = float64
    ndim      u8       then ndim x u64: the array's shape
    n_blocks  u32      then per block: u64 length, u32 CRC-32, that many bytes (one block per column, or one)

The CRC-32 of each block is checked before the block reaches the library: the native decoders of
SZ3 and fpzip can crash the process on a damaged stream, so a damaged body must be stopped here.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from codecbench import CodecError, PayloadError

MAGIC = b"EB1"
_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float(codec_id: str, data: np.ndarray) -> None:
    """Refuse anything but float32/float64 with a CodecError naming the codec."""
    if data.dtype not in _DTYPES:
        raise CodecError(f"{codec_id} compresses float32 and float64 arrays, not {data.dtype}")


def fold_shape(shape: tuple[int, ...], max_dims: int) -> tuple[int, ...]:
    """Drop length-1 axes and merge the leading axes so at most ``max_dims`` remain (C order kept)."""
    dims = [s for s in shape if s != 1] or [math.prod(shape)]
    while len(dims) > max_dims:
        dims[0:2] = [dims[0] * dims[1]]
    return tuple(dims)


def pack(data: np.ndarray, blocks: list[bytes]) -> bytes:
    """Body: header with dtype and shape, then the blocks with their lengths."""
    head = MAGIC + struct.pack("<BB", _DTYPES.index(data.dtype), data.ndim)
    head += struct.pack(f"<{data.ndim}Q", *data.shape) + struct.pack("<I", len(blocks))
    return head + b"".join(struct.pack("<QI", len(b), zlib.crc32(b)) + b for b in blocks)


def unpack(codec_id: str, payload: bytes) -> tuple[np.dtype, tuple[int, ...], list[bytes]]:
    """Parse ``pack``'s output; ``PayloadError`` if it is not one."""
    buf = memoryview(payload)
    try:
        if bytes(buf[:3]) != MAGIC:
            raise PayloadError(f"{codec_id} body does not start with its header")
        code, ndim = struct.unpack_from("<BB", buf, 3)
        if code >= len(_DTYPES):
            raise PayloadError(f"{codec_id} body names an unknown dtype code {code}")
        pos = 5
        shape = struct.unpack_from(f"<{ndim}Q", buf, pos)
        pos += 8 * ndim
        (n,) = struct.unpack_from("<I", buf, pos)
        pos += 4
        blocks = []
        for _ in range(n):
            length, crc = struct.unpack_from("<QI", buf, pos)
            pos += 12
            if pos + length > len(buf):
                raise PayloadError(f"{codec_id} body is truncated inside block {len(blocks)}")
            block = bytes(buf[pos : pos + length])
            if zlib.crc32(block) != crc:
                raise PayloadError(f"{codec_id} body is corrupted: block {len(blocks)} fails its CRC-32")
            blocks.append(block)
            pos += length
    except struct.error as exc:
        raise PayloadError(f"{codec_id} body is truncated: {exc}") from exc
    if pos != len(buf):
        raise PayloadError(f"{codec_id} body has {len(buf) - pos} unexpected trailing bytes")
    return _DTYPES[code], tuple(int(s) for s in shape), blocks


def decode_single_block(codec_id: str, payload: bytes, decompress: Callable[[bytes], np.ndarray]) -> np.ndarray:
    """Decode a body of exactly one block with ``decompress`` (the library's own call).

    An empty array needs no block; the library's errors become ``PayloadError``, and its output
    must have the dtype and size the body's header names.
    """
    dtype, shape, blocks = unpack(codec_id, payload)
    if math.prod(shape) == 0:
        return np.zeros(shape, dtype=dtype)
    if len(blocks) != 1:
        raise PayloadError(f"{codec_id} body holds {len(blocks)} blocks, expected 1")
    try:
        out = decompress(blocks[0])
    except Exception as exc:  # each library raises its own error types
        raise PayloadError(f"{codec_id} body cannot be decompressed: {exc}") from exc
    if out.dtype != dtype or out.size != math.prod(shape):
        raise PayloadError(f"{codec_id} body decoded to {out.dtype} {out.shape}, expected {dtype} {shape}")
    return out.reshape(shape)


def per_column_values(
    codec_id: str, name: str, value: Any, columns: list[str] | None, check: Any
) -> dict[str, Any] | None:
    """Validate a ``{column: value}`` parameter against ``columns``; None if ``value`` is not a mapping.

    Every column of the table needs a value (the key ``"*"`` gives the rest one); ``check`` validates
    each value.
    """
    if not isinstance(value, Mapping):
        return None
    if columns is None:
        raise CodecError(
            f"{codec_id} {name} is given per column ({', '.join(map(str, value))}) but the codec has no column "
            "names: pass columns=[...] (the runner does this for tables)"
        )
    unknown = sorted(set(value) - set(columns) - {"*"})
    if unknown:
        raise CodecError(f"{codec_id} {name} names unknown columns {unknown}; the columns are {columns}")
    missing = [c for c in columns if c not in value and "*" not in value]
    if missing:
        raise CodecError(f"{codec_id} {name} has no value for columns {missing} (add them, or a '*' key)")
    return {c: check(value[c] if c in value else value["*"]) for c in columns}
