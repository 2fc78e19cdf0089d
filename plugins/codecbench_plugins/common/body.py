"""A small versioned, self-describing body shared by the ``quant``, ``pcodec``, ``openzl`` and error-bounded codecs.

Layout (little-endian)::

    magic       3 bytes   the codec's own, e.g. b"QNT"
    version     u8        the body format version (an unknown one is refused by name)
    dtype_len   u8        then the numpy dtype string, e.g. "<f4"
    ndim        u8        then ndim x u64: the array's shape
    meta_len    u32       then meta_len bytes: the codec's own header (per-column parameters)
    n_blocks    u32
    header_crc  u32       CRC-32 of every byte above
    blocks      n_blocks x (varint length, u32 CRC-32, length bytes)

``varint``: LEB128, 7 bits a byte, low bits first (1 byte below 128, 3 bytes below 2 MiB): small
tables have many small blocks, and a fixed u64 length would cost more than some blocks.

Every byte is covered by a CRC-32, so a damaged body is refused here, before a native library
(pcodec, zstd, openzl, SZ3) sees it: pcodec decodes a flipped byte into wrong numbers without an
error, and SZ3 and fpzip can crash the process on a damaged stream. ``unpack`` also refuses a
header whose shape claims more than ``MAX_ELEMENTS`` values. A decoder given the frame's dtype and
shape (contract 1.1) checks them against the body's with ``check_expected``.
"""

from __future__ import annotations

import math
import re
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from codecbench import PayloadError

#: The largest array a body may claim (elements), as codecbench's frame.
MAX_ELEMENTS = 2**34
_DTYPE_STR = re.compile(r"[<>|][fiub](1|2|4|8)")


@dataclass(frozen=True)
class Body:
    """A parsed body: what ``pack`` was given."""

    version: int
    dtype: np.dtype
    shape: tuple[int, ...]
    meta: bytes
    blocks: list[bytes]


def pack(
    magic: bytes, version: int, dtype: np.dtype, shape: tuple[int, ...], meta: bytes, blocks: list[bytes]
) -> bytes:
    """Serialize a body (see the module docstring)."""
    dstr = np.dtype(dtype).str.encode()
    head = magic + struct.pack("<BB", version, len(dstr)) + dstr + struct.pack("<B", len(shape))
    head += struct.pack(f"<{len(shape)}Q", *shape) + struct.pack("<I", len(meta)) + meta
    head += struct.pack("<I", len(blocks))
    head += struct.pack("<I", zlib.crc32(head))
    return head + b"".join(varint(len(b)) + struct.pack("<I", zlib.crc32(b)) + b for b in blocks)


def varint(n: int) -> bytes:
    """LEB128 encoding of a non-negative integer."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_varint(buf: memoryview | bytes, pos: int, what: str = "body") -> tuple[int, int]:
    """(value, next position) of the LEB128 integer at ``pos``; ``PayloadError`` past the end or beyond 64 bits."""
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise PayloadError(f"{what} is truncated or holds an over-long length")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def as_bytes_view(payload: bytes | memoryview) -> memoryview:
    """A flat unsigned-byte view of a bytes-like payload."""
    buf = memoryview(payload)
    if buf.format != "B" or buf.ndim != 1:
        buf = memoryview(bytes(buf))
    return buf


def unpack(codec_id: str, magic: bytes, versions: tuple[int, ...], payload: bytes | memoryview) -> Body:
    """Parse ``pack``'s output; ``PayloadError`` naming ``codec_id`` for anything else.

    ``versions``: the body versions this reader understands.
    """
    buf = as_bytes_view(payload)
    try:
        if bytes(buf[: len(magic)]) != magic:
            raise PayloadError(f"{codec_id} body does not start with its header (magic {magic!r})")
        pos = len(magic)
        version, dlen = struct.unpack_from("<BB", buf, pos)
        if version not in versions:
            raise PayloadError(
                f"{codec_id} body has format version {version}; this reader knows version(s) "
                f"{', '.join(map(str, versions))} (written by a newer codecbench?)"
            )
        pos += 2
        dstr = bytes(buf[pos : pos + dlen]).decode("ascii", errors="replace")
        pos += dlen
        (ndim,) = struct.unpack_from("<B", buf, pos)
        pos += 1
        shape = tuple(int(s) for s in struct.unpack_from(f"<{ndim}Q", buf, pos))
        pos += 8 * ndim
        (mlen,) = struct.unpack_from("<I", buf, pos)
        pos += 4
        if pos + mlen > len(buf):
            raise PayloadError(f"{codec_id} body is truncated inside its header")
        meta = bytes(buf[pos : pos + mlen])
        pos += mlen
        (n_blocks,) = struct.unpack_from("<I", buf, pos)
        pos += 4
        (crc,) = struct.unpack_from("<I", buf, pos)
        if zlib.crc32(buf[:pos]) != crc:
            raise PayloadError(f"{codec_id} body header is corrupted (CRC-32 mismatch)")
        pos += 4
        if not _DTYPE_STR.fullmatch(dstr):
            raise PayloadError(f"{codec_id} body names an unsupported dtype {dstr!r}")
        if math.prod(shape) > MAX_ELEMENTS:
            raise PayloadError(f"{codec_id} body claims {math.prod(shape)} values, more than {MAX_ELEMENTS}")
        blocks = []
        for i in range(n_blocks):
            length, pos = read_varint(buf, pos, f"{codec_id} body")
            (bcrc,) = struct.unpack_from("<I", buf, pos)
            block, pos = take_block(codec_id, buf, pos + 4, length, bcrc, i)
            blocks.append(block)
    except struct.error as exc:
        raise PayloadError(f"{codec_id} body is truncated: {exc}") from exc
    check_end(codec_id, buf, pos)
    return Body(version, np.dtype(dstr), shape, meta, blocks)


def take_block(codec_id: str, buf: memoryview, pos: int, length: int, crc: int, i: int) -> tuple[bytes, int]:
    """(block ``i``: ``length`` bytes at ``pos``, next position); ``PayloadError`` if cut short or its CRC-32 fails."""
    if pos + length > len(buf):
        raise PayloadError(f"{codec_id} body is truncated inside block {i}")
    block = bytes(buf[pos : pos + length])
    if zlib.crc32(block) != crc:
        raise PayloadError(f"{codec_id} body is corrupted: block {i} fails its CRC-32")
    return block, pos + length


def check_end(codec_id: str, buf: memoryview, pos: int) -> None:
    """``PayloadError`` if bytes follow the last block."""
    if pos != len(buf):
        raise PayloadError(f"{codec_id} body has {len(buf) - pos} unexpected trailing bytes")


def check_expected(
    codec_id: str,
    dtype: np.dtype,
    shape: tuple[int, ...],
    want_dtype: np.dtype | None,
    want_shape: tuple[int, ...] | None,
) -> None:
    """``PayloadError`` if the body's dtype or shape differs from what the frame says (when it says)."""
    if want_dtype is not None and np.dtype(want_dtype) != dtype:
        raise PayloadError(f"{codec_id} body holds {dtype} values but the frame says {np.dtype(want_dtype)}")
    if want_shape is not None and tuple(int(s) for s in want_shape) != tuple(shape):
        raise PayloadError(
            f"{codec_id} body holds an array of shape {tuple(shape)} but the frame says {tuple(want_shape)}"
        )
