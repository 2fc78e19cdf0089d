"""Lossless coders for 1-D numeric blocks: pcodec and zstd, with decoders that never over-produce.

Both decoders are told how many values to expect and produce exactly that many or raise
``PayloadError`` (contract 1.1: a decoder must not produce more than the frame's size):

- pcodec decompresses *into* a preallocated array (``simple_decompress_into``), which stops at its
  end; a stream holding more or fewer values, or another type, is refused;
- zstd's frame header must state exactly the expected byte count before anything is allocated.

Integer symbols coded with zstd are first offset by their minimum and narrowed to the smallest
unsigned width that holds their range (8, 16, 32 or 64 bits): zstd sees no wasted high bytes.
pcodec is imported when first used, so codecs that need only zstd work without it.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import zstandard

from codecbench import CodecError, PayloadError

CODERS = ("pcodec", "zstd")
DEFAULT_LEVEL = {"pcodec": 8, "zstd": 9}
LEVELS = {"pcodec": (0, 12), "zstd": (-7, 22)}
#: dtypes pcodec compresses without its 8-bit switch.
PCODEC_DTYPES = tuple(np.dtype(t) for t in ("<f2", "<f4", "<f8", "<i2", "<i4", "<i8", "<u2", "<u4", "<u8"))
_WIDTHS = (np.uint8, np.uint16, np.uint32, np.uint64)


def check_level(codec_id: str, coder: str, level: Any) -> int:
    """The level to use (the coder's default for None); ``CodecError`` if out of the coder's range."""
    if coder not in CODERS:
        raise CodecError(f"{codec_id} coder must be one of {', '.join(CODERS)}, not {coder!r}")
    if level is None:
        return DEFAULT_LEVEL[coder]
    lo, hi = LEVELS[coder]
    if isinstance(level, bool) or not isinstance(level, int) or not lo <= level <= hi:
        raise CodecError(f"{codec_id} {coder} level must be an integer from {lo} to {hi}, not {level!r}")
    return level


def pcodec_encode(arr: np.ndarray, level: int, enable_8_bit: bool = False) -> bytes:
    """pcodec standalone stream of a 1-D array (a ``PCODEC_DTYPES`` type, or 8-bit with ``enable_8_bit``)."""
    from pcodec import ChunkConfig, standalone

    config = ChunkConfig(compression_level=level, enable_8_bit=enable_8_bit)
    return bytes(standalone.simple_compress(np.ascontiguousarray(arr).reshape(-1), config))


def pcodec_decode(codec_id: str, block: bytes, dtype: np.dtype, n: int) -> np.ndarray:
    """Exactly ``n`` values of ``dtype`` from a pcodec stream, or ``PayloadError``."""
    from pcodec import standalone

    out = np.empty(n, dtype=dtype)
    if n == 0:
        return out
    try:
        progress = standalone.simple_decompress_into(block, out)
    except Exception as exc:  # pcodec raises RuntimeError (bad stream) or TypeError (other dtype)
        raise PayloadError(f"{codec_id} block cannot be decoded by pcodec: {exc}") from exc
    if progress.n_processed != n or not progress.finished:
        more = "more" if not progress.finished else "fewer"
        raise PayloadError(f"{codec_id} pcodec block holds {more} than the {n} values expected")
    return out


def zstd_decode(codec_id: str, block: bytes, nbytes: int) -> bytes:
    """Exactly ``nbytes`` from a zstd frame whose header states that size, or ``PayloadError``."""
    try:
        size = zstandard.frame_content_size(block)
    except zstandard.ZstdError as exc:
        raise PayloadError(f"{codec_id} zstd block has no valid frame header: {exc}") from exc
    if size != nbytes:
        raise PayloadError(f"{codec_id} zstd block claims {size} bytes, expected {nbytes}")
    try:
        out = zstandard.ZstdDecompressor().decompress(block, max_output_size=nbytes)
    except zstandard.ZstdError as exc:
        raise PayloadError(f"{codec_id} zstd block cannot be decompressed: {exc}") from exc
    if len(out) != nbytes:
        raise PayloadError(f"{codec_id} zstd block decompressed to {len(out)} bytes, expected {nbytes}")
    return out


def encode_ints(q: np.ndarray, coder: str, level: int) -> bytes:
    """Code int64 symbols with ``coder``."""
    q = np.ascontiguousarray(q, dtype=np.int64).reshape(-1)
    if coder == "pcodec":
        return pcodec_encode(q, level)
    lo = int(q.min()) if q.size else 0
    u = q.view(np.uint64) - np.uint64(lo % 2**64)  # wraps modulo 2**64: exact for any int64 range
    top = int(u.max()) if u.size else 0
    width = next(w for w in _WIDTHS if top <= np.iinfo(w).max)
    head = struct.pack("<qB", lo, np.dtype(width).itemsize)
    return head + zstandard.ZstdCompressor(level=level).compress(u.astype(width).tobytes())


def decode_ints(codec_id: str, block: bytes, coder: str, n: int) -> np.ndarray:
    """Exactly ``n`` int64 symbols from ``encode_ints``'s output, or ``PayloadError``."""
    if coder == "pcodec":
        return pcodec_decode(codec_id, block, np.dtype(np.int64), n)
    if len(block) < 9:
        raise PayloadError(f"{codec_id} zstd symbol block is truncated")
    lo, width = struct.unpack_from("<qB", block)
    wtype = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}.get(width)
    if wtype is None:
        raise PayloadError(f"{codec_id} zstd symbol block names a width of {width} bytes")
    raw = zstd_decode(codec_id, block[9:], n * width)
    u = np.frombuffer(raw, dtype=wtype).astype(np.uint64) + np.uint64(lo % 2**64)
    return u.view(np.int64)


def encode_raw(arr: np.ndarray, coder: str, level: int) -> bytes:
    """Code a 1-D array losslessly (bit for bit): pcodec where it supports the dtype, else zstd."""
    arr = np.ascontiguousarray(arr).reshape(-1)
    if coder == "pcodec" and arr.dtype.newbyteorder("<") in PCODEC_DTYPES:
        return pcodec_encode(arr, level)
    return zstandard.ZstdCompressor(level=level if coder == "zstd" else 3).compress(arr.view(np.uint8))


def decode_raw(codec_id: str, block: bytes, coder: str, dtype: np.dtype, n: int) -> np.ndarray:
    """Exactly ``n`` values of ``dtype`` from ``encode_raw``'s output, or ``PayloadError``."""
    if coder == "pcodec" and dtype.newbyteorder("<") in PCODEC_DTYPES:
        return pcodec_decode(codec_id, block, dtype, n)
    return np.frombuffer(zstd_decode(codec_id, block, n * dtype.itemsize), dtype=dtype).copy()
