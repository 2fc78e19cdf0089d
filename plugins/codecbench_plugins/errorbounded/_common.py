"""Helpers shared by the error-bounded codecs: their body format, shape folding, per-column values.

Libraries such as SZ3 need the dtype and shape to decode, but a codec's ``decode`` sees only its
body, so the body starts with them. Bodies are written in the versioned format of
``codecbench_plugins.common.body`` with each codec's own magic (``b"SZ3"``, ``b"ZFP"``, ``b"FPZ"``,
version 1); the meta field is empty except for the ``std`` bound mode
(``codecbench_plugins.errorbounded.stdbound``). The CRC-32s are checked before a block reaches the
library: the native decoders of SZ3 and fpzip can crash the process on a damaged stream, so a
damaged body must be stopped here.

Bodies written before that format (magic ``b"EB1"``, the committed fixture archives) stay
readable. Their layout (little-endian)::

    magic     3 bytes  b"EB1"
    dtype     u8       0 = float32, 1 = float64
    ndim      u8       then ndim x u64: the array's shape
    n_blocks  u32      then per block: u64 length, u32 CRC-32, that many bytes (one block per column, or one)
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from codecbench import CodecError, PayloadError
from codecbench_plugins.common import body

LEGACY_MAGIC = b"EB1"
MAGICS = {"sz3": b"SZ3", "zfp": b"ZFP", "fpzip": b"FPZ"}
VERSION = 1
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


def pack(codec_id: str, data: np.ndarray, blocks: list[bytes], meta: bytes = b"") -> bytes:
    """Body: the versioned header (dtype, shape, ``meta``), then the blocks with their lengths and CRC-32s."""
    return body.pack(MAGICS[codec_id], VERSION, data.dtype, data.shape, meta, blocks)


def unpack(
    codec_id: str, payload: bytes | memoryview, dtype: Any = None, shape: Any = None
) -> tuple[np.dtype, tuple[int, ...], list[bytes], bytes]:
    """(dtype, shape, blocks, meta) of ``pack``'s output or a legacy ``EB1`` body; ``PayloadError`` otherwise.

    ``dtype`` and ``shape`` (from the frame, when the harness passes them) must match the body's.
    """
    buf = body.as_bytes_view(payload)
    if bytes(buf[:3]) == LEGACY_MAGIC:
        got_dtype, got_shape, blocks = _unpack_legacy(codec_id, buf)
        meta = b""
    else:
        parsed = body.unpack(codec_id, MAGICS[codec_id], (VERSION,), buf)
        if parsed.dtype not in _DTYPES:
            raise PayloadError(f"{codec_id} body holds {parsed.dtype} values, not float32 or float64")
        got_dtype, got_shape, blocks, meta = parsed.dtype, parsed.shape, parsed.blocks, parsed.meta
    body.check_expected(codec_id, got_dtype, got_shape, dtype, shape)
    return got_dtype, got_shape, blocks, meta


def _unpack_legacy(codec_id: str, buf: memoryview) -> tuple[np.dtype, tuple[int, ...], list[bytes]]:
    """Parse a body in the ``EB1`` layout (written before the versioned format)."""
    try:
        code, ndim = struct.unpack_from("<BB", buf, 3)
        if code >= len(_DTYPES):
            raise PayloadError(f"{codec_id} body names an unknown dtype code {code}")
        pos = 5
        shape = struct.unpack_from(f"<{ndim}Q", buf, pos)
        pos += 8 * ndim
        if math.prod(shape) > body.MAX_ELEMENTS:
            raise PayloadError(f"{codec_id} body claims {math.prod(shape)} values, more than {body.MAX_ELEMENTS}")
        (n,) = struct.unpack_from("<I", buf, pos)
        pos += 4
        blocks = []
        for i in range(n):
            length, crc = struct.unpack_from("<QI", buf, pos)
            block, pos = body.take_block(codec_id, buf, pos + 12, length, crc, i)
            blocks.append(block)
    except struct.error as exc:
        raise PayloadError(f"{codec_id} body is truncated: {exc}") from exc
    body.check_end(codec_id, buf, pos)
    return _DTYPES[code], tuple(int(s) for s in shape), blocks


def decode_single_block(
    codec_id: str,
    payload: bytes | memoryview,
    decompress: Callable[[bytes], np.ndarray],
    dtype: Any = None,
    shape: Any = None,
) -> np.ndarray:
    """Decode a body of exactly one block with ``decompress`` (the library's own call).

    ``dtype``/``shape``: what the frame says, when the harness passes it (checked against the body).
    """
    return single_block(codec_id, *unpack(codec_id, payload, dtype, shape), decompress)


def single_block(
    codec_id: str,
    dtype: np.dtype,
    shape: tuple[int, ...],
    blocks: list[bytes],
    meta: bytes,
    decompress: Callable[[bytes], np.ndarray],
) -> np.ndarray:
    """The array of an unpacked one-block body: an empty array needs no block; the library's errors
    become ``PayloadError``, and its output must have the dtype and size the body's header names."""
    if meta:
        raise PayloadError(f"{codec_id} body has a header of {len(meta)} bytes this layout does not use")
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
