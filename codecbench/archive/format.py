"""The ``.cbz`` archive format: its constants, its error, and the encodings its manifest uses.

Format, version 1
-----------------

A ZIP file (members stored, not deflated, except the small event-count arrays) with:

``manifest.json``
    UTF-8 JSON object (strict JSON: non-finite floats are written as the strings ``"inf"``,
    ``"-inf"`` and ``"nan"``)::

        format              "codecbench-archive"
        format_version      1
        codecbench_version  version that wrote it
        created             UTC time, ISO 8601
        source              {input, format, options}: what was compressed and how it was read
        entries             list of entries (below)
        members             {member name: {size, sha256}} for every other member

    Each entry::

        name, kind ("table"|"field"), shape, dtype (numpy str, e.g. "<f4"), columns, units
        original_sha256     SHA-256 of dtype + shape + the original array's bytes
        codec               the codec config (get_config(): {"id": ..., params})
        codec_info          {lossless, learned, distribution, version, extras} of the plugin used
        fit                 null, or {on: "input" | what --fit-on named, shape, sha256} for learned codecs
        payload             member name of the framed payload (codecbench.container format)
        state               member name of the decoder state (Codec.save_state()), or null
        event_counts        member name of the objects-per-event array (.npy, int64), or null
        root                null, or {tree, counter, n_events, source_dtypes} for ROOT output
        meta                the source's metadata (file name and sha256, license, notes, ...)
        sizes               raw_bytes, payload_bytes, aux_bytes (= state size), ratio,
                            effective_ratio = raw / (payload + aux), bits_per_value
        errors              codecbench.measure.metrics.error_metrics of the decoded array vs the original
        bound               the declared bound and its check (codecbench.measure.bounds.check_bound), or null

``entries/<i>/payload.cbf``, ``entries/<i>/state.bin``, ``entries/<i>/event_counts.npy``
    the binary members named above.

Readers refuse: a file that is not a ZIP or is truncated, a manifest whose ``format`` is not
``codecbench-archive``, a ``format_version`` newer than ``FORMAT_VERSION`` (older ones are
migrated), a member whose size or SHA-256 differs from the manifest, and a codec that is not
installed (naming the package that provides it). No pickle: JSON, ``.npy`` read with
``allow_pickle=False`` and codecbench frames only.
"""

from __future__ import annotations

import hashlib
import io
import math
from typing import Any

import numpy as np

from codecbench.errors import PayloadError

FORMAT_NAME = "codecbench-archive"
#: Version of the archive layout this codecbench writes (and the newest it reads).
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Largest manifest accepted (bytes; a real one is about 1 kB per variable); a bigger one is refused
#: before it is read.
MAX_MANIFEST_BYTES = 8 * 2**20


class ArchiveError(PayloadError):
    """An archive is not a codecbench archive, is truncated or corrupted, or is from a newer format."""


def encode_floats(obj: Any) -> Any:
    """Non-finite floats as the strings "inf", "-inf", "nan" (strict JSON)."""
    if isinstance(obj, dict):
        return {k: encode_floats(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [encode_floats(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def decode_floats(obj: Any) -> Any:
    """Inverse of ``encode_floats`` for the numeric summaries (sizes, errors, bound)."""
    if isinstance(obj, dict):
        return {k: decode_floats(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode_floats(v) for v in obj]
    if obj in ("inf", "-inf", "nan"):
        return float(obj)
    return obj


def array_sha256(a: np.ndarray) -> str:
    """SHA-256 of dtype + shape + the bytes of an array (an entry's ``original_sha256``)."""
    h = hashlib.sha256()
    h.update(f"{a.dtype.str}{tuple(a.shape)}".encode())
    h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def npy_bytes(a: np.ndarray) -> bytes:
    """An array as ``.npy`` bytes (no pickle)."""
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def load_counts(blob: bytes, n_events: int, what: str) -> np.ndarray:
    """An archive's event-count ``.npy`` (1-D little-endian int64 of ``n_events`` values) read without
    trusting it: the header is parsed and checked (dtype, shape, that the bytes hold exactly that
    many values) before any array is made, so a header claiming 10^12 elements costs nothing."""
    buf = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(buf)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(buf)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(buf)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except (ValueError, OSError, EOFError, SyntaxError) as exc:
        raise ArchiveError(f"archive member {what} is not a valid .npy array: {exc}") from None
    if dtype != np.dtype("<i8") or fortran or shape != (n_events,):
        raise ArchiveError(
            f"archive member {what} holds {dtype} of shape {shape}; expected int64 of shape ({n_events},)"
        )
    body = memoryview(blob)[buf.tell() :]
    if len(body) != 8 * n_events:
        raise ArchiveError(f"archive member {what} holds {len(body)} data bytes, not {8 * n_events}")
    return np.frombuffer(body, dtype="<i8").copy()


def zip_comment(version: int) -> bytes:
    """The ZIP comment of an archive of ``version``: ``codecbench-archive v1``."""
    return f"{FORMAT_NAME} v{version}".encode()
