"""Shared, torch-free helpers of the learned codecs (``ae``, ``sae`` and ``flow``).

- ``check_input``: refuse non-finite or non-float input before training or encoding;
- ``Layout``: tables are used as they are (rows x columns); fields are cut into rows of fixed-size
  tiles over their last two axes, so one model serves every field size that the tile divides;
- ``Scaler``: per-column preprocessing fitted on the training split: ``log(x + c)`` for positive
  heavy-tailed columns, then min-max to [0, 1] or standardization;
- ``pack_state`` / ``unpack_state``: model blobs as safetensors (arrays plus a JSON header), never
  pickle; a blob that is not valid gives a ``CodecError``;
- ``pack_codes`` / ``unpack_codes``: integer codes bit-packed by bit plane; ``zstd_*`` and a small
  payload header with dtype and shape.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import zstandard

from codecbench import CodecError, Dataset, PayloadError

#: Column-name tokens that mark a positive heavy-tailed variable (transverse momentum, mass, energy).
HEAVY_TAIL_TOKENS = frozenset({"pt", "mass", "m", "e", "energy", "et", "ene"})

FLOAT_DTYPES = (np.dtype("float32"), np.dtype("float64"))


def resolve_device(device: str) -> str:
    """``"auto"`` -> ``"cuda"`` when torch sees a GPU, else ``"cpu"``; ``"cuda"`` without one is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise CodecError("device='cuda' was asked for but torch sees no CUDA GPU; use device='auto' or 'cpu'")
    return device


def check_choice(codec_id: str, name: str, value: Any, allowed: Sequence[Any]) -> None:
    """Raise ``CodecError`` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise CodecError(f"{codec_id}: {name} must be one of {', '.join(map(repr, allowed))}, not {value!r}")


def check_positive_int(codec_id: str, name: str, value: Any, minimum: int = 1) -> None:
    """Raise ``CodecError`` unless ``value`` is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise CodecError(f"{codec_id}: {name} must be an integer >= {minimum}, not {value!r}")


def check_input(codec_id: str, data: np.ndarray, columns: Sequence[str] | None, what: str) -> None:
    """Refuse input that a learned codec cannot handle: not float32/float64, or NaN/Inf anywhere.

    The message names the first column (or the flat index, for fields) that holds a non-finite value.
    """
    if not isinstance(data, np.ndarray) or data.dtype not in FLOAT_DTYPES:
        dt = getattr(data, "dtype", type(data).__name__)
        raise CodecError(f"{codec_id} {what} needs a float32 or float64 array, got {dt}; convert it first")
    if data.size == 0:
        raise CodecError(f"{codec_id} {what}: the array is empty")
    finite = np.isfinite(data)
    if finite.all():
        return
    if data.ndim == 2 and columns is not None and len(columns) == data.shape[1]:
        bad_cols = np.flatnonzero(~finite.all(axis=0))
        j = int(bad_cols[0])
        rows = np.flatnonzero(~finite[:, j])
        raise CodecError(
            f"{codec_id} {what}: column {columns[j]!r} holds {rows.size} NaN/Inf value(s) (first at row "
            f"{int(rows[0])}); learned codecs need finite input: drop or impute those rows first"
        )
    idx = np.unravel_index(int(np.flatnonzero(~finite.ravel())[0]), data.shape)
    raise CodecError(
        f"{codec_id} {what}: the field holds {int((~finite).sum())} NaN/Inf value(s) (first at index "
        f"{tuple(int(i) for i in idx)}); learned codecs need finite input"
    )


def heavy_tailed_columns(train: Dataset) -> list[str]:
    """Columns to log-transform: declared in ``meta["heavy_tailed"]``, or named like pt/mass/energy/E.

    A name matches when its last ``_``-separated token (lower case) is one of ``HEAVY_TAIL_TOKENS``
    or contains "energy" (``Jet_pt``, ``Jet_E``, ``mass``, ``charged_energy``). Only columns whose
    training values are all >= 0 are kept: the log needs a positive variable.
    """
    if train.kind != "table" or not train.columns:
        return []
    declared = train.meta.get("heavy_tailed")
    if declared is not None:
        names = [c for c in declared if c in train.columns]
    else:
        names = []
        for c in train.columns:
            token = re.split(r"[^0-9a-zA-Z]+|_", str(c))[-1].lower()
            if token in HEAVY_TAIL_TOKENS or "energy" in token:
                names.append(c)
    keep = []
    for c in names:
        j = train.columns.index(c)
        if float(np.min(train.data[:, j])) >= 0.0:
            keep.append(c)
    return keep


@dataclass(frozen=True)
class Layout:
    """How an array becomes the model's rows of features, and back.

    - ``kind="table"``: a 2-D array of ``n_features`` columns is used as it is;
    - ``kind="field"``: an array of 2 or more dimensions is cut into tiles of ``tile = (th, tw)``
      over its last two axes; each tile, flattened row-major, is one row of ``th * tw`` features.
      Leading axes (time steps) are flattened. The tile must divide the last two axes exactly, so
      one model serves every field size that the tile divides; anything else is refused.
    """

    kind: str
    n_features: int
    tile: tuple[int, int] | None = None

    @classmethod
    def from_dataset(cls, codec_id: str, train: Dataset, tile: Sequence[int]) -> Layout:
        """The layout of a training dataset (a table's columns, or a field cut into ``tile``s)."""
        if train.kind == "table":
            return cls("table", int(train.data.shape[1]))
        th, tw = _check_tile(codec_id, tile)
        return cls("field", th * tw, (th, tw))

    def to_rows(self, codec_id: str, data: np.ndarray) -> np.ndarray:
        """The rows the model sees (a view or copy of ``data``, same dtype)."""
        if self.kind == "table":
            if data.ndim != 2 or data.shape[1] != self.n_features:
                raise CodecError(
                    f"{codec_id} was fitted on a table of {self.n_features} columns and cannot encode an "
                    f"array of shape {data.shape}"
                )
            return data
        assert self.tile is not None
        th, tw = self.tile
        if data.ndim < 2 or data.shape[-2] % th or data.shape[-1] % tw:
            raise CodecError(
                f"{codec_id} cuts fields into {th} x {tw} tiles, which do not divide an array of shape "
                f"{data.shape}; the last two axes must be multiples of the tile (set tile=[a, b])"
            )
        h, w = data.shape[-2:]
        lead = int(np.prod(data.shape[:-2], dtype=np.int64))
        t = data.reshape(lead, h // th, th, w // tw, tw).transpose(0, 1, 3, 2, 4)
        return np.ascontiguousarray(t).reshape(-1, th * tw)

    def from_rows(self, rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """Inverse of ``to_rows`` for an array of ``shape``."""
        if self.kind == "table":
            return rows.reshape(shape)
        assert self.tile is not None
        th, tw = self.tile
        h, w = shape[-2:]
        lead = int(np.prod(shape[:-2], dtype=np.int64))
        t = rows.reshape(lead, h // th, w // tw, th, tw).transpose(0, 1, 3, 2, 4)
        return np.ascontiguousarray(t).reshape(shape)

    def to_meta(self) -> dict[str, Any]:
        """JSON form for state blobs."""
        return {"kind": self.kind, "n_features": self.n_features, "tile": list(self.tile) if self.tile else None}

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Layout:
        """Inverse of ``to_meta``."""
        tile = meta.get("tile")
        return cls(str(meta["kind"]), int(meta["n_features"]), tuple(tile) if tile else None)  # type: ignore[arg-type]


def _check_tile(codec_id: str, tile: Sequence[int]) -> tuple[int, int]:
    try:
        th, tw = (int(v) for v in tile)
    except (TypeError, ValueError) as exc:
        raise CodecError(f"{codec_id}: tile must be two positive integers like [5, 5], not {tile!r}") from exc
    if th < 1 or tw < 1:
        raise CodecError(f"{codec_id}: tile must be two positive integers like [5, 5], not {tile!r}")
    return th, tw


class Scaler:
    """Per-column preprocessing fitted on training rows, computed in float64.

    Forward: ``y = log(x + offset)`` on the log columns, then ``(y - shift) / scale``. With
    ``mode="minmax"`` shift/scale are the training min and range (rows land in [0, 1]); with
    ``mode="standard"`` the mean and standard deviation. ``shared=True`` (fields) fits one
    shift/scale over every value. Constant columns get scale 1. Values below a log column's domain
    (x + offset <= 0, only possible outside the training range) are clamped to its smallest
    positive training value; ``n_clamped`` counts them.
    """

    def __init__(self, log_mask: np.ndarray, offset: np.ndarray, shift: np.ndarray, scale: np.ndarray) -> None:
        self.log_mask = np.asarray(log_mask, dtype=bool)
        self.offset = np.asarray(offset, dtype=np.float64)
        self.shift = np.asarray(shift, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self.n_clamped = 0

    @classmethod
    def fit(cls, rows: np.ndarray, mode: str, log_mask: Sequence[bool] | None = None, shared: bool = False) -> Scaler:
        """Fit on training rows (n x k)."""
        x = rows.astype(np.float64)
        k = x.shape[1]
        mask = np.zeros(k, dtype=bool) if log_mask is None else np.asarray(log_mask, dtype=bool)
        offset = np.zeros(k)
        for j in np.flatnonzero(mask):
            col = x[:, j]
            positive = col[col > 0]
            # log(x + c): c = 0 when every training value is positive, else the smallest positive value.
            offset[j] = 0.0 if col.min() > 0 else (float(positive.min()) if positive.size else 1.0)
        y = cls._log(x, mask, offset)
        if shared:
            y = y.reshape(-1, 1)
        if mode == "minmax":
            shift, scale = y.min(axis=0), y.max(axis=0) - y.min(axis=0)
        else:
            shift, scale = y.mean(axis=0), y.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        if shared:
            shift, scale = np.full(k, shift[0]), np.full(k, scale[0])
        return cls(mask, offset, shift, scale)

    @staticmethod
    def _log(x: np.ndarray, mask: np.ndarray, offset: np.ndarray) -> np.ndarray:
        if not mask.any():
            return x
        y = x.copy()
        arg = x[:, mask] + offset[mask]
        y[:, mask] = np.log(np.maximum(arg, np.finfo(np.float64).tiny))
        return y

    def forward(self, rows: np.ndarray) -> np.ndarray:
        """Preprocess rows (float64 out)."""
        x = rows.astype(np.float64)
        self.n_clamped = 0
        if self.log_mask.any():
            # x + offset > 0 on the training split by construction; clamp values outside that domain
            # to the smallest positive argument the scaler allows (the offset, or a tiny number).
            arg = x[:, self.log_mask] + self.offset[self.log_mask]
            bad = arg <= 0
            self.n_clamped = int(bad.sum())
            if self.n_clamped:
                floor = np.where(self.offset[self.log_mask] > 0, self.offset[self.log_mask], 1e-30)
                x[:, self.log_mask] = np.where(bad, floor, arg) - self.offset[self.log_mask]
        y = self._log(x, self.log_mask, self.offset)
        return (y - self.shift) / self.scale

    def inverse(self, y: np.ndarray) -> np.ndarray:
        """Undo ``forward`` (float64 in and out); log columns come back through ``exp(y) - offset``."""
        x = y * self.scale + self.shift
        if self.log_mask.any():
            with np.errstate(over="ignore"):
                x[:, self.log_mask] = np.exp(x[:, self.log_mask]) - self.offset[self.log_mask]
        return x

    def arrays(self, prefix: str = "scaler.") -> dict[str, np.ndarray]:
        """The scaler's constants for a state blob."""
        return {
            prefix + "log_mask": self.log_mask.astype(np.uint8),
            prefix + "offset": self.offset,
            prefix + "shift": self.shift,
            prefix + "scale": self.scale,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], n_features: int, prefix: str = "scaler.") -> Scaler:
        """Inverse of ``arrays``; raises ``CodecError`` if a constant is missing or has the wrong size."""
        try:
            parts = [arrays[prefix + n] for n in ("log_mask", "offset", "shift", "scale")]
        except KeyError as exc:
            raise CodecError(f"model state lacks the normalization constant {exc.args[0]!r}") from exc
        if any(p.shape != (n_features,) for p in parts):
            raise CodecError(f"model state holds normalization constants of the wrong size (expected {n_features})")
        return cls(parts[0].astype(bool), *parts[1:])


# -- state blobs ---------------------------------------------------------------------------------

STATE_FORMAT = "codecbench-learned-state"
STATE_VERSION = 1


#: Training-history keys a learned codec reports in its record's ``extras``.
HISTORY_KEYS = (
    "epochs_run", "best_epoch", "best_val_loss", "final_lr", "stopped_early", "device", "log_columns",
    "passes_per_epoch",
)  # fmt: skip


def history_extras(history: dict[str, Any]) -> dict[str, Any]:
    """The reportable part of a training history (see ``HISTORY_KEYS``)."""
    return {k: history[k] for k in HISTORY_KEYS if k in history}


def pack_state(codec_id: str, part: str, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> bytes:
    """A safetensors blob of ``arrays`` with ``meta`` (JSON) in its header; ``part`` is "decoder" or "fitted"."""
    from safetensors.numpy import save

    header = {"format": STATE_FORMAT, "version": STATE_VERSION, "codec": codec_id, "part": part, **meta}
    tensors = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    return save(tensors, metadata={"codecbench": json.dumps(header, sort_keys=True)})


def unpack_state(codec_id: str, blob: bytes, part: str | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a blob written by ``pack_state``; anything else (or another codec's blob) is a ``CodecError``."""
    from safetensors.numpy import load

    what = f"{codec_id} model state"
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise CodecError(f"{what} must be bytes, not {type(blob).__name__}")
    blob = bytes(blob)
    if len(blob) < 8:
        raise CodecError(f"{what} is not valid: {len(blob)} bytes is too short for a safetensors blob")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8 or n > 100_000_000:
        raise CodecError(f"{what} is not valid: not a safetensors blob (header length {n} out of range)")
    try:
        header = json.loads(blob[8 : 8 + n].decode("utf-8"))
        meta = json.loads(header["__metadata__"]["codecbench"])
        arrays = load(blob)
    except Exception as exc:  # safetensors raises its own types; any failure means the blob is unusable
        reason = f"{type(exc).__name__}: {exc}"
        raise CodecError(f"{what} is not valid: not a codecbench safetensors blob ({reason})") from exc
    if not isinstance(meta, dict) or meta.get("format") != STATE_FORMAT:
        raise CodecError(f"{what} is not valid: the blob is not a codecbench learned-codec state")
    if meta.get("version") != STATE_VERSION:
        raise CodecError(f"{what} has state version {meta.get('version')!r}; this codecbench reads {STATE_VERSION}")
    if meta.get("codec") != codec_id:
        raise CodecError(f"{what} is not valid: the blob was written by codec {meta.get('codec')!r}")
    if part is not None and meta.get("part") != part:
        raise CodecError(
            f"{what} holds the {meta.get('part')!r} part, but the {part!r} part is needed "
            f"({'save_fitted/load_fitted' if part == 'fitted' else 'save_state/load_state'})"
        )
    return arrays, meta


#: Most weights (network values) a learned codec's config may ask for: 2**26, 256 MiB as float32. A
#: config is refused above it before anything is built, so that an archive or a run config cannot
#: make a decoder allocate gigabytes (``hidden=[20000, 20000]`` asks for 4e8).
MAX_MODEL_VALUES = 2**26


def check_model_size(codec_id: str, n_values: int, what: str) -> None:
    """Refuse an architecture of more than ``MAX_MODEL_VALUES`` values (one line naming it)."""
    if n_values > MAX_MODEL_VALUES:
        raise CodecError(
            f"{codec_id}: {what} needs {n_values:,} network values, more than the {MAX_MODEL_VALUES:,} (2**26) a "
            "config may ask for; choose smaller layers"
        )


def check_state_values(codec_id: str, arrays: dict[str, np.ndarray], prefix: str, expected: int) -> None:
    """Refuse a state whose ``prefix`` tensors hold another number of values than the configured network
    needs, before the network is built (so the state, not the config, bounds what is allocated)."""
    got = sum(int(a.size) for k, a in arrays.items() if k.startswith(prefix))
    if got != expected:
        raise CodecError(
            f"{codec_id} model state holds {got:,} network values, the configured architecture needs {expected:,}; "
            "the state does not belong to this config (refused before building the network)"
        )


def check_meta_matches(codec_id: str, meta: dict[str, Any], expected: dict[str, Any]) -> None:
    """Refuse a state blob fitted with other architecture settings than this instance's config."""
    for key, want in expected.items():
        got = meta.get(key)
        if got != want:
            raise CodecError(
                f"{codec_id} model state was fitted with {key}={got!r} but this codec is configured with "
                f"{key}={want!r}; build the codec from the config the state was saved with"
            )


# -- payload pieces ------------------------------------------------------------------------------


def pack_codes(codes: np.ndarray, bits: int) -> bytes:
    """Bit-pack non-negative integer codes (< 2**bits), one bit plane after another (MSB first)."""
    codes = np.ascontiguousarray(codes, dtype=np.uint32).ravel()
    out = bytearray()
    for b in range(bits - 1, -1, -1):
        out += np.packbits(((codes >> np.uint32(b)) & np.uint32(1)).astype(np.uint8)).tobytes()
    return bytes(out)


def unpack_codes(buf: bytes, bits: int, n: int) -> np.ndarray:
    """Inverse of ``pack_codes`` for ``n`` codes; raises ``PayloadError`` if the size is wrong."""
    plane = (n + 7) // 8
    if len(buf) != plane * bits:
        raise PayloadError(f"packed codes are {len(buf)} bytes, expected {plane * bits} for {n} codes of {bits} bits")
    arr = np.frombuffer(buf, dtype=np.uint8).reshape(bits, plane)
    codes = np.zeros(n, dtype=np.uint32)
    for i in range(bits):
        codes = (codes << np.uint32(1)) | np.unpackbits(arr[i], count=n).astype(np.uint32)
    return codes


def shuffle_bytes(a: np.ndarray) -> bytes:
    """Byte planes of a numeric array (all first bytes, then all second bytes, ...): zstd likes them."""
    a = np.ascontiguousarray(a)
    return a.view(np.uint8).reshape(-1, a.dtype.itemsize).T.tobytes()


def unshuffle_bytes(buf: bytes, dtype: np.dtype, n: int) -> np.ndarray:
    """Inverse of ``shuffle_bytes``."""
    dtype = np.dtype(dtype)
    if len(buf) != n * dtype.itemsize:
        raise PayloadError(f"byte-shuffled section is {len(buf)} bytes, expected {n * dtype.itemsize}")
    return np.frombuffer(buf, dtype=np.uint8).reshape(dtype.itemsize, n).T.copy().view(dtype).ravel()


def zstd_compress(data: bytes, level: int) -> bytes:
    """zstd at ``level``."""
    return zstandard.ZstdCompressor(level=level).compress(data)


def zstd_decompress(data: bytes, what: str) -> bytes:
    """zstd decompression; a damaged stream is a ``PayloadError`` naming ``what``."""
    try:
        return zstandard.ZstdDecompressor().decompress(data)
    except zstandard.ZstdError as exc:
        raise PayloadError(f"{what} cannot be zstd-decompressed: {exc}") from exc
    except MemoryError as exc:  # a damaged zstd frame header can claim an absurd content size
        raise PayloadError(f"{what} claims a zstd content size too large to allocate; it is corrupted") from exc


_DTYPE_CODES = {np.dtype("float32"): 0, np.dtype("float64"): 1}


class PayloadHeader:
    """``magic(4) version(u8) dtype(u8) ndim(u8) shape(ndim x u64)`` followed by codec-specific fields."""

    VERSION = 1

    @staticmethod
    def pack(magic: bytes, dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
        """Header bytes for an array of ``dtype`` and ``shape``."""
        return (
            magic
            + struct.pack("<BBB", PayloadHeader.VERSION, _DTYPE_CODES[np.dtype(dtype)], len(shape))
            + (struct.pack(f"<{len(shape)}Q", *shape))
        )

    @staticmethod
    def unpack(magic: bytes, payload: bytes, codec_id: str) -> tuple[np.dtype, tuple[int, ...], int]:
        """Parse the header; return (dtype, shape, offset of what follows)."""
        if len(payload) < 7 or payload[:4] != magic:
            raise PayloadError(f"not a {codec_id} payload body (its magic bytes are wrong)")
        version, dt, ndim = struct.unpack("<BBB", payload[4:7])
        if version != PayloadHeader.VERSION:
            raise PayloadError(f"{codec_id} payload version {version} is not supported (expected 1)")
        dtypes = {v: k for k, v in _DTYPE_CODES.items()}
        if dt not in dtypes or ndim > 32 or len(payload) < 7 + 8 * ndim:
            raise PayloadError(f"{codec_id} payload header is corrupted")
        shape = struct.unpack(f"<{ndim}Q", payload[7 : 7 + 8 * ndim])
        if math.prod(shape) > 2**34:
            raise PayloadError(f"{codec_id} payload header claims an impossible shape {shape}")
        return dtypes[dt], tuple(int(s) for s in shape), 7 + 8 * ndim
