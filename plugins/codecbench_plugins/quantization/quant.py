"""``quant``: per-variable uniform quantization to a declared bound, the integers coded by pcodec or zstd.

Body (``codecbench_plugins.common.body``, magic ``b"QNT"``, version 1): the header's meta is ``mode u8, coder u8,
by_column u8, n_vars u32`` then one ``quantizer.Plan`` record per variable (kind u8; step f64 for
LINEAR; step f64 and kmin i64 for LOG; the std f64 in mode ``std``); then one block per variable:
``varint symbol length``, its symbols (``coders.encode_ints``, or the raw values for kind EXACT),
then its exceptions if any (``u32 count, u32 index block length``, the index block (gaps between
sorted indices, coded like the symbols), the exceptions' original bits (zstd)).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np
import zstandard

from codecbench import Codec, CodecError, Knob, PayloadError
from codecbench_plugins.common import coders
from codecbench_plugins.common.body import check_expected, pack, read_varint, unpack, varint
from codecbench_plugins.common.stats import check_columns, check_flag, integer_valued, std_of

from . import quantizer as qz

MODES = ("abs", "std", "rel")
MAGIC, VERSION = b"QNT", 1
_HEAD = struct.Struct("<BBBI")
_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def _positive(value: Any, where: str) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok:
        raise CodecError(f"quant {where} must be a finite positive number, not {value!r}")
    return float(value)


class QuantCodec(Codec):
    """Uniform quantization of each column (or of a whole field) to a declared error bound.

    - ``mode="abs"``: ``|recon - orig| <= error_bound`` for every value;
    - ``mode="std"`` (default): ``|recon - orig| <= error_bound * std``, ``std`` the standard
      deviation of the variable's finite values in the array being encoded (stored in the body).
      A uniform quantizer then gives ``rel_rms`` close to ``error_bound / sqrt(3)``;
    - ``mode="rel"``: ``|recon - orig| <= error_bound * |orig|`` through a log-domain quantizer;
      zeros come back exactly, negative values keep their sign.

    ``error_bound`` may be a mapping ``{column: bound}`` (``"*"`` for the rest). Integer-valued
    variables are coded exactly (``exact_integers``); NaN and Inf come back bit for bit; a bound
    finer than the data's resolution stores the variable exactly, and so does
    ``lossless_fallback`` (default True) for any variable whose lossless coding is no larger than
    its quantized one (data already rounded to a coarse grid, such as NanoAOD's floats).
    ``coder``: ``"pcodec"`` (default) or ``"zstd"`` for the symbols, at ``level`` (None: the
    coder's default). Tables (``columns`` set, or ``by_column=True``) are quantized column by
    column; anything else as one variable.

    Declared bound: ``abs`` or ``rel``, per column for tables. In ``std`` mode it is known only after
    ``encode`` (it depends on the data) and is the loosest one over every ``encode`` this instance
    ran, so that a table encoded in row chunks (each chunk with its own std) is still covered.
    """

    codec_id = "quant"
    lossless = False
    default_sweep = {"error_bound": [1e-1, 1e-2, 1e-3, 1e-4, 1e-5]}
    tune = Knob("error_bound", lo=1e-9, hi=1.0, log=True, finer="down")
    #: In mode ``abs`` the bound is in the data's units: searched over a wider range.
    ABS_KNOB = Knob("error_bound", lo=1e-15, hi=1e15, log=True, finer="down")

    def __init__(
        self,
        mode: str = "std",
        error_bound: float | dict[str, float] = 1e-3,
        coder: str = "pcodec",
        level: int | None = None,
        exact_integers: bool = True,
        lossless_fallback: bool = True,
        by_column: bool | None = None,
        columns: list[str] | None = None,
    ) -> None:
        if mode not in MODES:
            raise CodecError(f"quant mode must be one of {', '.join(MODES)}, not {mode!r}")
        coders.check_level("quant", coder, level)
        if isinstance(error_bound, Mapping):
            for k, v in error_bound.items():
                _positive(v, f"error_bound[{k!r}]")
        else:
            _positive(error_bound, "error_bound")
        check_flag("quant", "exact_integers", exact_integers)
        check_flag("quant", "lossless_fallback", lossless_fallback)
        check_flag("quant", "by_column", by_column, allow_none=True)
        self.mode, self.error_bound, self.coder, self.level = mode, error_bound, coder, level
        self.exact_integers, self.lossless_fallback, self.by_column = exact_integers, lossless_fallback, by_column
        self.columns = check_columns("quant", columns)
        self._declared: list[float] | None = None
        self._extras: dict[str, Any] = {}

    # --- which values, which bounds ----------------------------------------------------------------

    def _column_wise(self, data: np.ndarray) -> bool:
        if data.ndim != 2:
            if isinstance(self.error_bound, Mapping):
                raise CodecError(f"quant bounds per column need a 2-D table, not an array of shape {data.shape}")
            return False
        wise = self.columns is not None if self.by_column is None else self.by_column
        if wise and self.columns is not None and len(self.columns) != data.shape[1]:
            raise CodecError(f"quant has {len(self.columns)} column names for an array of shape {data.shape}")
        return wise or isinstance(self.error_bound, Mapping)

    def _bounds(self, n_vars: int) -> list[float]:
        if not isinstance(self.error_bound, Mapping):
            return [float(self.error_bound)] * n_vars
        if self.columns is None:
            raise CodecError("quant error_bound is given per column but the codec has no column names (columns=[...])")
        unknown = sorted(set(self.error_bound) - set(self.columns) - {"*"})
        missing = [c for c in self.columns if c not in self.error_bound and "*" not in self.error_bound]
        if unknown or missing:
            raise CodecError(f"quant error_bound names unknown columns {unknown} / lacks columns {missing}")
        return [float(self.error_bound.get(c, self.error_bound.get("*", 0.0))) for c in self.columns]

    # --- one variable --------------------------------------------------------------------------------

    def _plan(self, x: np.ndarray, finite64: np.ndarray, value: float) -> qz.Plan:
        dtype = x.dtype
        std = std_of(finite64)
        if finite64.size and np.all(finite64 == finite64[0]):  # constant: exact costs next to nothing
            return qz.Plan(qz.EXACT, bound=value * std if self.mode == "std" else value, std=std)
        if self.exact_integers and integer_valued(finite64, dtype):
            return qz.Plan(qz.INT, bound=value * std if self.mode == "std" else value, std=std)
        if self.mode == "rel":
            s = qz.log_step(value, dtype)
            if s == 0 or not finite64.size:
                return qz.Plan(qz.EXACT, bound=value, std=std)
            return qz.Plan(qz.LOG, step=s, kmin=qz.log_kmin(finite64, s), bound=value, std=std)
        e = value * std if self.mode == "std" else value
        maxabs = float(np.max(np.abs(finite64))) if finite64.size else 0.0
        step = qz.linear_step(e, maxabs, dtype)
        return qz.Plan(qz.LINEAR if step > 0 else qz.EXACT, step=step, bound=e, std=std)

    def _encode_var(self, x: np.ndarray, value: float, level: int) -> tuple[qz.Plan, bytes, int]:
        """The variable's plan, its block, and how many exceptions the block holds."""
        plan, (sym, exc) = self._quantize_var(x, value, level)
        return plan, varint(len(sym)) + sym + exc, struct.unpack_from("<I", exc)[0] if exc else 0

    def _quantize_var(self, x: np.ndarray, value: float, level: int) -> tuple[qz.Plan, list[bytes]]:
        finite = np.isfinite(x)
        with np.errstate(invalid="ignore"):  # a signalling NaN becomes a quiet one here; it is an exception anyway
            x64 = x.astype(np.float64)
        plan = self._plan(x, x64[finite], value)
        if plan.kind == qz.EXACT:
            return plan, [coders.encode_raw(x, self.coder, level), b""]
        q = np.zeros(x.shape, dtype=np.int64)
        q[finite] = qz.quantize(x64[finite], plan)
        ok = finite.copy()
        ok[finite] = qz.within(qz.dequantize(q[finite], plan, x.dtype), x64[finite], plan, self.mode == "rel")
        exc = np.flatnonzero(~ok)
        if exc.size:
            q[exc] = int(np.median(q[ok])) if ok.any() else 0  # a common symbol: cheap to code
        blocks = [coders.encode_ints(q, self.coder, level), self._encode_exceptions(x, exc, level)]
        if self.lossless_fallback:
            raw = coders.encode_raw(x, self.coder, level)
            if len(raw) <= len(blocks[0]) + len(blocks[1]):  # e.g. data already rounded on a coarser grid
                return qz.Plan(qz.EXACT, bound=plan.bound, std=plan.std), [raw, b""]
        return plan, blocks

    def _encode_exceptions(self, x: np.ndarray, exc: np.ndarray, level: int) -> bytes:
        if not exc.size:
            return b""
        gaps = np.diff(exc, prepend=0).astype(np.int64)
        idx = coders.encode_ints(gaps, self.coder, level)
        bits = zstandard.ZstdCompressor(level=3).compress(qz.raw_bits(x[exc]).tobytes())
        return struct.pack("<II", exc.size, len(idx)) + idx + bits

    def _decode_var(self, plan: qz.Plan, block: bytes, dtype: np.dtype, n: int, coder: str) -> np.ndarray:
        sym_len, pos = read_varint(block, 0, "quant variable block")
        if pos + sym_len > len(block):
            raise PayloadError("quant variable block is truncated")
        blocks = [block[pos : pos + sym_len], block[pos + sym_len :]]
        if plan.kind == qz.EXACT:
            return coders.decode_raw("quant", blocks[0], coder, dtype, n)
        if plan.kind not in (qz.INT, qz.LINEAR, qz.LOG) or (plan.kind != qz.INT and not plan.step > 0):
            raise PayloadError(f"quant body has a variable of unknown kind {plan.kind} or step {plan.step}")
        out = qz.dequantize(coders.decode_ints("quant", blocks[0], coder, n), plan, dtype)
        if blocks[1]:
            idx, bits = self._decode_exceptions(blocks[1], dtype, n, coder)
            out[idx] = bits.view(dtype)
        return out

    def _decode_exceptions(self, block: bytes, dtype: np.dtype, n: int, coder: str) -> tuple[np.ndarray, np.ndarray]:
        if len(block) < 8:
            raise PayloadError("quant exception block is truncated")
        count, ilen = struct.unpack_from("<II", block)
        if count > n or 8 + ilen > len(block):
            raise PayloadError(f"quant exception block claims {count} exceptions for {n} values")
        gaps = coders.decode_ints("quant", block[8 : 8 + ilen], coder, count)
        idx = np.cumsum(gaps)
        if count and (gaps[1:].min(initial=1) < 1 or idx[0] < 0 or idx[-1] >= n):
            raise PayloadError("quant exception indices are out of order or out of range")
        width = dtype.itemsize
        try:
            raw = zstandard.ZstdDecompressor().decompress(block[8 + ilen :], max_output_size=count * width)
        except zstandard.ZstdError as exc:
            raise PayloadError(f"quant exception values cannot be decompressed: {exc}") from exc
        if len(raw) != count * width:
            raise PayloadError(f"quant exception block holds {len(raw)} bytes of values, expected {count * width}")
        return idx, np.frombuffer(raw, dtype=qz.UINT[width])

    # --- codec -----------------------------------------------------------------------------------------

    def encode(self, data: np.ndarray) -> bytes:
        if data.dtype not in _FLOATS:
            raise CodecError(f"quant compresses float16, float32 and float64 arrays, not {data.dtype}")
        level = coders.check_level("quant", self.coder, self.level)
        wise = self._column_wise(data)
        variables = [data[:, j] for j in range(data.shape[1])] if wise else [data.reshape(-1)]
        plans, blocks, n_exc = [], [], 0
        for x, value in zip(variables, self._bounds(len(variables))):
            plan, block, k = self._encode_var(np.ascontiguousarray(x), value, level)
            plans.append(plan)
            blocks.append(block)
            n_exc += k
        self._remember(plans, n_exc)
        meta = _HEAD.pack(MODES.index(self.mode), coders.CODERS.index(self.coder), int(wise), len(plans))
        meta += b"".join(p.pack(self.mode == "std") for p in plans)
        return pack(MAGIC, VERSION, data.dtype, data.shape, meta, blocks)

    def decode(
        self, payload: bytes | memoryview, *, dtype: np.dtype | None = None, shape: tuple[int, ...] | None = None
    ) -> np.ndarray:
        body = unpack("quant", MAGIC, (VERSION,), payload)
        check_expected("quant", body.dtype, body.shape, dtype, shape)
        if body.dtype not in _FLOATS or len(body.meta) < _HEAD.size:
            raise PayloadError(f"quant body holds {body.dtype} or a truncated header")
        mode, coder, wise, n_vars = _HEAD.unpack_from(body.meta)
        if mode >= len(MODES) or coder >= len(coders.CODERS):
            raise PayloadError(f"quant body names an unknown mode {mode} or coder {coder}")
        n_total = math.prod(body.shape)
        expect_vars = body.shape[1] if wise and len(body.shape) == 2 else 1
        if wise and len(body.shape) != 2 or n_vars != expect_vars:
            raise PayloadError(f"quant body has {n_vars} variables for an array of shape {body.shape}")
        if len(body.blocks) != n_vars:
            raise PayloadError(f"quant body has {len(body.blocks)} blocks for {n_vars} variables")
        plans, pos = [], _HEAD.size
        try:
            for _ in range(n_vars):
                plan, pos = qz.Plan.unpack(body.meta, pos, MODES[mode] == "std")
                plans.append(plan)
        except (struct.error, IndexError) as exc:
            raise PayloadError("quant body header is truncated") from exc
        if pos != len(body.meta):
            raise PayloadError(f"quant body header has {len(body.meta) - pos} unexpected bytes")
        n = n_total // n_vars if n_vars else 0
        out = np.empty((n, n_vars) if wise else (n_total,), dtype=body.dtype)
        for j, plan in enumerate(plans):
            col = self._decode_var(plan, body.blocks[j], body.dtype, n, coders.CODERS[coder])
            if wise:
                out[:, j] = col
            else:
                out[:] = col
        return out.reshape(body.shape)

    # --- what the harness asks ------------------------------------------------------------------------

    def knob(self) -> Knob | None:
        """``error_bound`` on a log scale (1e-9..1 in modes std and rel, 1e-15..1e15 in mode abs); None per column."""
        if isinstance(self.error_bound, Mapping):
            return None  # one knob cannot move a bound per column
        return self.ABS_KNOB if self.mode == "abs" else self.tune

    def knob_hint(self, metric: str, value: float) -> float | None:
        """``sqrt(3) * t`` for ``worst_rel_rms = t`` in mode std (a uniform error's RMS is its bound / sqrt(3));
        ``e`` for ``max_abs_error = e`` in mode abs."""
        if self.mode == "std" and metric == "worst_rel_rms":
            return math.sqrt(3.0) * value
        if self.mode == "abs" and metric == "max_abs_error":
            return value
        return None

    def _remember(self, plans: list[qz.Plan], n_exceptions: int) -> None:
        bounds = [p.bound for p in plans]
        if self._declared is not None and len(self._declared) == len(bounds):
            bounds = [max(a, b) for a, b in zip(self._declared, bounds)]
        self._declared = bounds
        names = self.columns if self.columns is not None and len(self.columns) == len(plans) else None
        label = names or [f"x{j}" for j in range(len(plans))]
        self._extras = {
            "quant_kinds": {c: qz.KIND_NAMES[p.kind] for c, p in zip(label, plans)},
            "quant_steps": {c: p.step for c, p in zip(label, plans)},
            "quant_exceptions": n_exceptions,
        }

    def declared_bound(self) -> dict[str, Any] | None:
        """``abs`` (modes abs, std) or ``rel``, per column for tables; None in std mode before an encode."""
        kind = "rel" if self.mode == "rel" else "abs"
        if self.mode == "std":
            if self._declared is None:
                return None
            bounds = self._declared
        else:
            n = len(self.columns) if self.columns is not None else 1
            bounds = self._bounds(n) if isinstance(self.error_bound, Mapping) else [float(self.error_bound)] * n
        if self.columns is not None and len(bounds) == len(self.columns):
            return {"mode": kind, "value": dict(zip(self.columns, bounds))}
        return {"mode": kind, "value": max(bounds)}

    def report_extras(self) -> dict[str, Any]:
        """Kind and step of every variable in the last encode, and how many exceptions it stored."""
        return dict(self._extras)
