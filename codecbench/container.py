"""The frame every payload gets: magic, format version, codec id, dtype, shape, body length, checksums.

Layout (little-endian), version 1::

    magic        4 bytes   b"\\x89CBF"
    version      u8
    id_len       u8        then id_len bytes: the codec id, UTF-8
    dtype_len    u8        then dtype_len bytes: numpy dtype string, e.g. "<f4"
    ndim         u8        then ndim x u64: the shape
    body_len     u64
    body_hash    u64       XXH3-64 of the body
    header_crc32 u32       CRC-32 of every header byte before it
    body         body_len bytes: the codec's own output

The header of a 2-D float32 array framed for ``zstd`` is 53 bytes. ``decompress`` checks the
frame (magic, version, header checksum, codec id, lengths, body checksum, size limits) before the
codec's ``decode`` runs, so a damaged payload gives a ``PayloadError`` for every codec. The body
hash is XXH3-64 (about 30 GB/s) rather than CRC-32 (about 4 GB/s) so that verifying the frame
costs little next to fast decoders such as blosc. ``decode`` receives the body as a read-only
``memoryview`` into the payload (no copy); a codec that needs ``bytes`` calls ``bytes(body)``.
"""

from __future__ import annotations

import math
import re
import struct
import zlib
from dataclasses import dataclass

import numpy as np
import xxhash

from codecbench.codec import Codec
from codecbench.errors import CodecError, PayloadError

MAGIC = b"\x89CBF"
FORMAT_VERSION = 1
#: The largest array a header may claim (elements); larger claims are refused before allocation.
MAX_ELEMENTS = 2**34
#: dtypes a frame may carry (numpy kind codes): floats, signed and unsigned integers, bool.
_ALLOWED_KINDS = "fiub"
#: The dtype strings ``frame`` writes (``np.dtype.str`` of a plain numeric dtype); anything else is refused
#: before numpy parses it (numpy's parser raises TypeError, ValueError, SyntaxError or warns on odd text).
_DTYPE_STR = re.compile(r"[<>|][fiub](1|2|4|8|12|16)")
#: The most dimensions numpy supports (32 before numpy 2, 64 since).
MAX_NDIM = 64 if int(np.__version__.split(".")[0]) >= 2 else 32


@dataclass(frozen=True)
class Frame:
    """A parsed frame header plus its body."""

    codec_id: str
    dtype: np.dtype
    shape: tuple[int, ...]
    body: memoryview
    header_nbytes: int


def _hash(body: bytes | memoryview) -> int:
    return xxhash.xxh3_64_intdigest(body)


def frame(codec_id: str, dtype: np.dtype, shape: tuple[int, ...], body: bytes) -> bytes:
    """Wrap ``body`` in a version-1 frame."""
    cid = codec_id.encode("utf-8")
    dt = np.dtype(dtype).str.encode("ascii")
    if len(cid) > 255 or len(dt) > 255 or len(shape) > 255:
        raise CodecError("codec id, dtype or number of dimensions too long to frame")
    head = bytearray(MAGIC)
    head += struct.pack("<BB", FORMAT_VERSION, len(cid)) + cid
    head += struct.pack("<B", len(dt)) + dt
    head += struct.pack("<B", len(shape)) + struct.pack(f"<{len(shape)}Q", *shape)
    head += struct.pack("<QQ", len(body), _hash(body))
    head += struct.pack("<I", zlib.crc32(head))
    return bytes(head) + body


class _Reader:
    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, n: int, what: str) -> memoryview:
        if self.pos + n > len(self.buf):
            raise PayloadError(
                f"payload truncated: the header ends inside the {what} "
                f"(needed {self.pos + n} bytes, payload has {len(self.buf)})"
            )
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str, what: str) -> tuple[int, ...]:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))


def parse(payload: bytes | bytearray | memoryview) -> Frame:
    """Parse and verify a frame; raise ``PayloadError`` saying what is wrong."""
    buf = memoryview(payload).cast("B")
    r = _Reader(buf)
    if len(buf) < len(MAGIC) or bytes(buf[: len(MAGIC)]) != MAGIC:
        raise PayloadError("not a codecbench payload: the magic bytes at its start are wrong")
    r.take(len(MAGIC), "magic")
    (version,) = r.unpack("<B", "format version")
    if version != FORMAT_VERSION:
        raise PayloadError(
            f"payload frame format version {version} is not supported (this codecbench reads "
            f"version {FORMAT_VERSION}); it was written by another codecbench version or is corrupted"
        )
    (id_len,) = r.unpack("<B", "codec id length")
    cid_raw = bytes(r.take(id_len, "codec id"))
    (dt_len,) = r.unpack("<B", "dtype length")
    dt_raw = bytes(r.take(dt_len, "dtype"))
    (ndim,) = r.unpack("<B", "number of dimensions")
    shape = r.unpack(f"<{ndim}Q", "shape")
    body_len, body_hash = r.unpack("<QQ", "body length")
    header_end = r.pos
    (header_crc,) = r.unpack("<I", "header checksum")
    if zlib.crc32(buf[:header_end]) != header_crc:
        raise PayloadError("payload header is corrupted: its checksum does not match")
    try:
        codec_id = cid_raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"payload header holds an invalid codec id: {exc}") from exc
    dt_text = dt_raw.decode("ascii", errors="replace")
    if not _DTYPE_STR.fullmatch(dt_text):
        raise PayloadError(f"payload header names dtype {dt_text!r}, which codecbench does not handle")
    try:
        dtype = np.dtype(dt_text)
    except TypeError as exc:  # e.g. "<f12" on a platform without that long double
        raise PayloadError(f"payload header names dtype {dt_text!r}, which numpy here does not know") from exc
    if dtype.kind not in _ALLOWED_KINDS:
        raise PayloadError(f"payload header names dtype {dtype.str!r}, which codecbench does not handle")
    if ndim > MAX_NDIM:
        raise PayloadError(f"payload header claims {ndim} dimensions; numpy supports at most {MAX_NDIM}")
    n_elements = math.prod(shape)
    # Zero-length axes do not excuse huge ones: numpy refuses shapes whose other axes overflow.
    if n_elements > MAX_ELEMENTS or math.prod(max(int(s), 1) for s in shape) > MAX_ELEMENTS:
        raise PayloadError(
            f"payload header claims shape {tuple(shape)} ({n_elements} elements), over the limit of "
            f"{MAX_ELEMENTS}; refusing to allocate it"
        )
    start = r.pos
    available = len(buf) - start
    if available < body_len:
        raise PayloadError(f"payload truncated: the body should be {body_len} bytes, only {available} are present")
    if available > body_len:
        raise PayloadError(f"payload has {available - body_len} unexpected bytes after its body")
    body = buf[start:]
    if _hash(body) != body_hash:
        raise PayloadError("payload body is corrupted: its XXH3-64 checksum does not match")
    return Frame(codec_id, dtype, tuple(int(s) for s in shape), body, start)


def _restore(out: object, frame_: Frame, codec_id: str) -> np.ndarray:
    """Turn ``decode``'s output into an array of the frame's dtype and shape, or raise CodecError."""
    n = math.prod(frame_.shape)
    if isinstance(out, bytes | bytearray | memoryview):
        out = np.frombuffer(out, dtype=np.uint8) if len(out) else np.zeros(0, dtype=np.uint8)
    if not isinstance(out, np.ndarray):
        raise CodecError(f"codec {codec_id!r} decode returned {type(out).__name__}, not a numpy array or bytes")
    if out.dtype == frame_.dtype and out.size == n:
        return out.reshape(frame_.shape)
    if out.dtype == np.uint8 and out.ndim == 1 and out.nbytes == n * frame_.dtype.itemsize:
        return out.view(frame_.dtype).reshape(frame_.shape)
    if out.dtype != frame_.dtype:
        raise CodecError(
            f"codec {codec_id!r} decode returned dtype {out.dtype}, expected {frame_.dtype} "
            f"(or a uint8 buffer of {n * frame_.dtype.itemsize} bytes)"
        )
    raise CodecError(
        f"codec {codec_id!r} decode returned {out.size} elements (shape {out.shape}), "
        f"expected {n} (shape {frame_.shape})"
    )


def compress(codec: Codec, array: np.ndarray) -> bytes:
    """Encode ``array`` with ``codec`` and frame the result."""
    array = np.asarray(array)
    if array.dtype.kind not in _ALLOWED_KINDS:
        raise CodecError(f"cannot compress an array of dtype {array.dtype}; use a numeric dtype")
    array = np.ascontiguousarray(array)
    body = codec.encode(array)
    if not isinstance(body, bytes | bytearray | memoryview):
        raise CodecError(f"codec {codec.codec_id!r} encode returned {type(body).__name__}, not bytes")
    return frame(codec.codec_id, array.dtype, array.shape, body)


def decompress(codec: Codec, payload: bytes | bytearray | memoryview) -> np.ndarray:
    """Verify the frame of ``payload``, decode its body with ``codec`` and restore dtype and shape."""
    fr = parse(payload)
    if fr.codec_id != codec.codec_id:
        raise PayloadError(f"payload was written by codec {fr.codec_id!r}, cannot decode it with {codec.codec_id!r}")
    out = codec.decode(fr.body)
    return _restore(out, fr, codec.codec_id)
