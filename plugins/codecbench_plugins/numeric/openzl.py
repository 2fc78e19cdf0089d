"""``openzl``: Meta's format-aware compressor (the ``openzl`` package, ``openzl.ext``), column by column.

Each column (or the flattened array) goes to OpenZL as one *numeric* input (the values' bit
patterns as unsigned integers of their width: OpenZL's numeric type is untyped integers) through
OpenZL's generic ``Compress`` graph, which picks its own transforms for numeric data, at
``CompressionLevel = level``, with OpenZL's compressed and content checksums on.

Body: ``numeric._columns`` with magic ``b"OZL"``, one OpenZL frame per column. Before a
frame is decompressed its ``FrameInfo`` must name exactly one numeric output of exactly the bytes
expected, so a frame claiming more is refused before OpenZL allocates it.

Not used: OpenZL's trained compressors (ACE, SDDL descriptions): the Python API builds and
serializes graphs but has no training entry point (training is in the ``zli`` command line tool).
"""

from __future__ import annotations

import numpy as np
import openzl.ext as zl

from codecbench import CodecError, PayloadError

from ._columns import VERSION, ColumnStreamCodec

MAGIC = b"OZL"
__all__ = ["MAGIC", "VERSION", "OpenzlCodec"]
_UINT = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _compressor(level: int) -> zl.Compressor:
    c = zl.Compressor()
    c.select_starting_graph(zl.graphs.Compress()(c))
    c.set_parameter(zl.CParam.FormatVersion, zl.MAX_FORMAT_VERSION)
    c.set_parameter(zl.CParam.CompressionLevel, level)
    c.set_parameter(zl.CParam.ContentChecksum, 1)
    c.set_parameter(zl.CParam.CompressedChecksum, 1)
    return c


class OpenzlCodec(ColumnStreamCodec):
    """OpenZL's generic numeric graph at ``level`` 1 to 22 (default 9), per column for tables.

    Takes float and integer arrays of 1, 2, 4 or 8 bytes per value, bit for bit. ``by_column`` as
    for ``pcodec``: None compresses column by column exactly when ``columns`` is set.
    """

    codec_id = "openzl"
    magic = MAGIC
    levels = (1, 22)
    default_sweep = {"level": [1, 6, 9, 12]}

    def __init__(self, level: int = 9, by_column: bool | None = None, columns: list[str] | None = None) -> None:
        super().__init__(level, by_column, columns)
        self._compressor: zl.Compressor | None = None

    def _check_dtype(self, dtype: np.dtype) -> None:
        if dtype.kind not in "fiu" or dtype.itemsize not in _UINT or not dtype.isnative:
            raise CodecError(f"openzl compresses native float and integer arrays of 1 to 8 bytes, not {dtype}")

    def encode(self, data: np.ndarray) -> bytes:
        self._compressor = _compressor(self.level)  # one graph per encode, not kept (instances are pickled)
        try:
            return super().encode(data)
        finally:
            self._compressor = None

    def _compress(self, part: np.ndarray) -> bytes:
        return compress_frame(self._compressor or _compressor(self.level), part)

    def _decompress(self, block: bytes, dtype: np.dtype, n: int) -> np.ndarray:
        want = n * dtype.itemsize
        try:
            info = zl.FrameInfo(block)
            if info.num_outputs != 1 or info.output_type(0) != zl.Type.Numeric:
                raise PayloadError(f"openzl frame holds {info.num_outputs} outputs, expected one numeric output")
            if info.output_content_size(0) != want:
                raise PayloadError(f"openzl frame claims {info.output_content_size(0)} bytes, expected {want}")
            (out,) = zl.DCtx().decompress(block)
        except PayloadError:
            raise
        except Exception as exc:  # OpenZL raises RuntimeError with its error code and context
            lines = str(exc).splitlines()
            raise PayloadError(f"openzl frame cannot be decompressed: {lines[1] if len(lines) > 1 else exc}") from exc
        if out.elt_width != dtype.itemsize or out.num_elts != n:
            raise PayloadError(f"openzl frame decoded to {out.num_elts} values of {out.elt_width} bytes")
        return out.content.as_nparray().view(dtype).copy()


def compress_frame(comp: zl.Compressor, part: np.ndarray) -> bytes:
    """One OpenZL frame of a contiguous 1-D array (its bit patterns as unsigned integers)."""
    cctx = zl.CCtx()  # one context per frame: a CCtx that has compressed refuses a second graph
    cctx.ref_compressor(comp)
    # keep the array referenced until compress returns: zl.Input does not hold on to its buffer
    values = np.ascontiguousarray(part).view(_UINT[part.itemsize])
    try:
        return cctx.compress([zl.Input(zl.Type.Numeric, values)])
    except RuntimeError as exc:
        raise CodecError(f"openzl cannot compress {part.size} values of {part.dtype}: {exc}") from exc
