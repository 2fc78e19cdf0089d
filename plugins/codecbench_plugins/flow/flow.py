"""``flow``: normalizing flow + normal-CDF quantizer, with optional escapes for a guaranteed bound.

Fit (training split only): ``log(x + c)`` on positive heavy-tailed columns (declared in
``meta["heavy_tailed"]`` or named pt/mass/energy/E), then standardization; then an nflows masked
autoregressive flow, ``layers`` blocks of a random permutation and a
``MaskedAffineAutoregressiveTransform`` (``hidden`` features, ``num_blocks`` residual blocks) onto
a standard normal, fitted by maximum likelihood (Adam, ReduceLROnPlateau, early stopping on a
validation slice). Gaussian noise of ``train_noise`` column stds on the training batches keeps
repeated values (point masses, such as a constant inlet column of a CFD field) from collapsing
the density.

Encode: ``z = f(x)``; ``u = Phi(z)``, the exact standard normal CDF; ``code = floor(u * 2**bits)``
clipped to ``[0, 2**bits - 1]``; codes bit-packed by bit plane, then zstd. Decode at the bin
centre: ``u = (code + 0.5) / 2**bits``, ``z = Phi^-1(u)``, ``x = f^-1(z)``, undo the preprocessing,
clip to the training range widened by half of it on each side (a tail bin the flow never learned
cannot decode to an absurd number).
Coding runs in float64 on the CPU, so the encoder's check and every decoder compute the same numbers.

Escapes: with ``max_rel_error`` (``|x' - x| <= r |x|``), ``max_abs_error`` (``|x' - x| <= a``) or
``max_std_error`` (``|x' - x| <= s * std``, the column's standard deviation on the training split),
the encoder decodes its own codes and stores every value that misses the bound exactly (its index
and its value in the input dtype) inside the payload, so the bound holds for every value.

Fields are cut into ``tile`` tiles (default 2 x 2) over their last two axes, each tile one row of
features, as the ``ae`` codec does.
"""

from __future__ import annotations

import copy
import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from codecbench import Codec, CodecError, Dataset, Knob, PayloadError
from codecbench_plugins.autoencoder import common
from codecbench_plugins.autoencoder.common import Layout, Scaler

MAGIC = b"CBFL"
_HEAD = "<BQIQQ"  # bits, n_rows, n_features, n_escapes, length of the packed codes


def _build_flow(n_features: int, layers: int, hidden: int, num_blocks: int) -> Any:
    from nflows.distributions.normal import StandardNormal
    from nflows.flows.base import Flow
    from nflows.transforms.autoregressive import MaskedAffineAutoregressiveTransform
    from nflows.transforms.base import CompositeTransform
    from nflows.transforms.permutations import RandomPermutation

    transforms = []
    for _ in range(layers):
        transforms.append(RandomPermutation(features=n_features))
        transforms.append(
            MaskedAffineAutoregressiveTransform(features=n_features, hidden_features=hidden, num_blocks=num_blocks)
        )
    return Flow(CompositeTransform(transforms), StandardNormal([n_features]))


def flow_values(n_features: int, layers: int, hidden: int, num_blocks: int) -> int:
    """Learned values of ``_build_flow(...)`` (weights, biases, permutations; not the fixed MADE masks):
    per layer an input layer, ``num_blocks`` residual blocks of two hidden layers, an output layer of
    two values per feature, and the permutation."""
    f, h = n_features, hidden
    return layers * (h * f + h + 2 * num_blocks * (h * h + h) + 2 * f * h + 2 * f + f)


def _learned_tensors(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The flow's state without the MADE masks and degrees: the architecture fixes them (no random
    masks), so the decoder rebuilds them and ``aux_nbytes`` does not count them twice the weights' size."""
    return {k: v for k, v in arrays.items() if not k.endswith((".mask", ".degrees"))}


class FlowCodec(Codec):
    """Masked autoregressive flow + normal-CDF quantizer (see the module docstring).

    Parameters: ``bits`` (8 to 20, default 13); ``layers``, ``hidden``, ``num_blocks`` (the flow);
    ``epochs``, ``batch_size``, ``lr``, ``patience``, ``min_epoch_steps``, ``val_fraction``,
    ``train_noise`` (training); at most one of
    ``max_rel_error``, ``max_abs_error``, ``max_std_error`` (escapes; None: no bound);
    ``tile`` (fields); ``zstd_level``; ``seed``; ``device`` ("auto", "cpu", "cuda": training only);
    ``threads`` (torch CPU threads, 0 = torch's default).
    """

    codec_id = "flow"
    requires = ("torch", "nflows", "scipy", "safetensors")
    lossless = False
    learned = True
    default_sweep = {"bits": list(range(8, 21))}
    #: Settings that do not change what ``fit`` learns: the model cache shares one fitted flow across them.
    encode_params = ("bits", "max_rel_error", "max_abs_error", "max_std_error", "zstd_level")
    #: For a target search (encode parameters only: a search never refits): the quantizer's ``bits``;
    #: with an escape bound set, that bound instead (``knob()``).
    tune = Knob("bits", lo=8, hi=20, integer=True, finer="up")

    def __init__(
        self,
        bits: int = 13,
        layers: int = 6,
        hidden: int = 64,
        num_blocks: int = 2,
        epochs: int = 60,
        batch_size: int = 512,
        lr: float = 1e-3,
        patience: int = 6,
        min_epoch_steps: int = 100,
        val_fraction: float = 0.1,
        train_noise: float = 1e-3,
        max_rel_error: float | None = None,
        max_abs_error: float | None = None,
        max_std_error: float | None = None,
        tile: Sequence[int] = (2, 2),
        zstd_level: int = 3,
        seed: int = 0,
        device: str = "auto",
        threads: int = 1,
    ) -> None:
        cid = self.codec_id
        if isinstance(bits, bool) or not isinstance(bits, int) or not 8 <= bits <= 20:
            raise CodecError(f"flow: bits must be an integer from 8 to 20, not {bits!r}")
        for name, value in (
            ("layers", layers),
            ("hidden", hidden),
            ("num_blocks", num_blocks),
            ("epochs", epochs),
            ("batch_size", batch_size),
            ("patience", patience),
            ("min_epoch_steps", min_epoch_steps),
        ):
            common.check_positive_int(cid, name, value)
        common.check_positive_int(cid, "seed", seed, minimum=0)
        common.check_positive_int(cid, "threads", threads, minimum=0)
        common.check_choice(cid, "device", device, ("auto", "cpu", "cuda"))
        if not (isinstance(lr, int | float) and lr > 0):
            raise CodecError(f"flow: lr must be a positive number, not {lr!r}")
        if not (isinstance(val_fraction, int | float) and 0 < val_fraction < 1):
            raise CodecError(f"flow: val_fraction must be between 0 and 1, not {val_fraction!r}")
        if not (isinstance(train_noise, int | float) and 0 <= train_noise < 1):
            raise CodecError(f"flow: train_noise must be a number from 0 to 1 (column stds), not {train_noise!r}")
        if not isinstance(zstd_level, int) or not -7 <= zstd_level <= 22:
            raise CodecError(f"flow: zstd_level must be an integer from -7 to 22, not {zstd_level!r}")
        bounds = {"max_rel_error": max_rel_error, "max_abs_error": max_abs_error, "max_std_error": max_std_error}
        given = {k: v for k, v in bounds.items() if v is not None}
        if len(given) > 1:
            raise CodecError(f"flow: give at most one of max_rel_error, max_abs_error, max_std_error, not {given}")
        for name, value in given.items():
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
            if not ok:
                raise CodecError(f"flow: {name} must be a finite number >= 0, not {value!r}")
        common.check_model_size(cid, flow_values(0, layers, hidden, num_blocks), f"layers={layers}, hidden={hidden}")
        self.bits = bits
        self.layers = layers
        self.hidden = hidden
        self.num_blocks = num_blocks
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = float(lr)
        self.patience = patience
        self.min_epoch_steps = min_epoch_steps
        self.val_fraction = float(val_fraction)
        self.train_noise = float(train_noise)
        self.max_rel_error = None if max_rel_error is None else float(max_rel_error)
        self.max_abs_error = None if max_abs_error is None else float(max_abs_error)
        self.max_std_error = None if max_std_error is None else float(max_std_error)
        self.tile = list(common._check_tile(cid, tile))
        self.zstd_level = zstd_level
        self.seed = seed
        self.device = device
        self.threads = threads
        self._flow: Any = None  # float32 flow (what is saved)
        self._flow64: Any = None  # float64 CPU copy used for coding
        self._layout: Layout | None = None
        self._scaler: Scaler | None = None
        self._col_std: np.ndarray | None = None
        self._clip: tuple[np.ndarray, np.ndarray] | None = None  # decoded values are clipped to this range
        self._columns: list[str] | None = None
        self._history: dict[str, Any] = {}
        self._last: dict[str, Any] = {}

    def knob(self) -> Knob | None:
        """``bits`` (8..20); with an escape bound set, that bound on a log scale (``max_std_error`` and
        ``max_rel_error`` 1e-9..1, ``max_abs_error`` 1e-15..1e15): escapes make it hold for every value."""
        if self.max_std_error is not None:
            return Knob("max_std_error", lo=1e-9, hi=1.0, log=True, finer="down")
        if self.max_rel_error is not None:
            return Knob("max_rel_error", lo=1e-9, hi=1.0, log=True, finer="down")
        if self.max_abs_error is not None:
            return Knob("max_abs_error", lo=1e-15, hi=1e15, log=True, finer="down")
        return self.tune

    def knob_hint(self, metric: str, value: float) -> float | None:
        """``sqrt(3) * t`` for ``worst_rel_rms = t`` with ``max_std_error`` (the escape bound caps each error)."""
        if self.max_std_error is not None and metric == "worst_rel_rms":
            return math.sqrt(3.0) * value
        if self.max_abs_error is not None and metric == "max_abs_error":
            return value
        return None

    # -- fit ----------------------------------------------------------------------------------------

    def fit(self, train: Dataset) -> None:
        """Fit the preprocessing and the flow on ``train`` by maximum likelihood."""
        import torch

        from codecbench_plugins.autoencoder.nets import split_train_val, torch_threads, train_loop

        common.check_input(self.codec_id, train.data, train.columns, "fit")
        layout = Layout.from_dataset(self.codec_id, train, self.tile)
        rows = layout.to_rows(self.codec_id, train.data)
        log_cols = common.heavy_tailed_columns(train)
        mask = [c in log_cols for c in train.columns] if layout.kind == "table" and train.columns else None
        field = layout.kind == "field"
        scaler = Scaler.fit(rows, "standard", mask, shared=field)
        x = scaler.forward(rows).astype(np.float32)
        tr, va = split_train_val(x.shape[0], self.val_fraction, self.seed)
        device = common.resolve_device(self.device)

        noise = self.train_noise

        def nll(model: Any, batch: Any) -> Any:
            # Gaussian noise on the training batches keeps point masses (a value repeated thousands
            # of times, as at a CFD inlet) from collapsing the density, which would blow up f^-1.
            if noise > 0:
                batch = batch + noise * torch.randn_like(batch)
            return -model.log_prob(batch).mean()

        def val_nll(model: Any, batch: Any) -> Any:
            return -model.log_prob(batch).mean()

        with torch_threads(self.threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            common.check_model_size(self.codec_id, self._values(layout.n_features), self._arch_text(layout.n_features))
            flow = _build_flow(layout.n_features, self.layers, self.hidden, self.num_blocks).to(device)
            history = train_loop(
                flow,
                nll,
                torch.from_numpy(x[tr]).to(device),
                torch.from_numpy(x[va]).to(device),
                epochs=self.epochs,
                batch_size=self.batch_size,
                min_epoch_steps=self.min_epoch_steps,
                lr=self.lr,
                patience=self.patience,
                seed=self.seed,
                progress=self.report_progress,
                val_loss_fn=val_nll,
                codec_id=self.codec_id,
            )
        r64 = rows.astype(np.float64)
        std, lo, hi = r64.std(axis=0), r64.min(axis=0), r64.max(axis=0)
        if field:
            std, lo, hi = (np.full(layout.n_features, f(r64)) for f in (np.std, np.min, np.max))
        # Decoded values are clipped to the training range widened by half of it on each side: a
        # code in a tail bin the flow never learned cannot decode to an absurd number.
        margin = 0.5 * (hi - lo)
        self._set_model(flow.cpu().eval(), layout, scaler, {"col_std": std, "lo": lo - margin, "hi": hi + margin})
        self._columns = list(train.columns) if layout.kind == "table" and train.columns else None
        self._history = {**history, "device": device, "log_columns": log_cols}

    @property
    def resolved_device(self) -> str:
        """Where training ran (after fit) or would run: "cpu" or "cuda"."""
        return str(self._history.get("device") or common.resolve_device(self.device))

    def _set_model(self, flow: Any, layout: Layout, scaler: Scaler, stats: dict[str, np.ndarray]) -> None:
        self._flow = flow
        self._flow64 = copy.deepcopy(flow).double().eval()
        self._layout, self._scaler = layout, scaler
        self._col_std, self._clip = stats["col_std"], (stats["lo"], stats["hi"])

    # -- coding -------------------------------------------------------------------------------------

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(z, log|det J|) of standardized rows, float64 on the CPU."""
        import torch

        from codecbench_plugins.autoencoder.nets import run_batched, torch_threads

        def fn(t: Any) -> Any:
            z, logdet = self._flow64._transform(t)
            return torch.cat([z, logdet[:, None]], dim=1)

        with torch_threads(self.threads):
            out = run_batched(fn, x, torch.float64)
        return out[:, :-1], out[:, -1]

    def _reconstruct(self, codes: np.ndarray, bits: int, dtype: np.dtype) -> np.ndarray:
        """Rows (input dtype) decoded from codes at their bin centres. Encoder and decoder share it."""
        import torch
        from scipy.special import ndtri

        from codecbench_plugins.autoencoder.nets import run_batched, torch_threads

        assert self._scaler is not None
        z = ndtri((codes.astype(np.float64) + 0.5) / float(1 << bits))
        with torch_threads(self.threads):
            y = run_batched(lambda t: self._flow64._transform.inverse(t)[0], z, torch.float64)
        assert self._clip is not None
        with np.errstate(over="ignore", invalid="ignore"):
            x = np.clip(np.nan_to_num(self._scaler.inverse(y), nan=0.0), *self._clip)
        return x.astype(dtype)

    def _bound_per_column(self, rows: np.ndarray) -> np.ndarray | None:
        """The allowed error of every value of ``rows`` (broadcastable), or None without a bound."""
        if self.max_rel_error is not None:
            return self.max_rel_error * np.abs(rows.astype(np.float64))
        if self.max_abs_error is not None:
            return np.full((1, rows.shape[1]), self.max_abs_error)
        if self.max_std_error is not None:
            assert self._col_std is not None
            return (self.max_std_error * self._col_std)[None, :]
        return None

    def _require(self) -> None:
        if self._flow64 is None:
            raise CodecError("flow is not fitted: call fit(train) (or load_state / load_fitted) first")

    def encode(self, data: np.ndarray) -> bytes:
        """Quantize ``Phi(f(x))`` to ``bits`` per value, plus escapes for values that miss the bound."""
        from scipy.special import ndtr

        self._require()
        assert self._layout is not None and self._scaler is not None
        common.check_input(self.codec_id, data, self._columns, "encode")
        rows = self._layout.to_rows(self.codec_id, data)
        x = self._scaler.forward(rows)
        z, logdet = self._forward(x)
        n_codes = 1 << self.bits
        with np.errstate(invalid="ignore"):
            u = ndtr(z)
        codes = np.clip(np.floor(np.nan_to_num(u, nan=0.5) * n_codes), 0, n_codes - 1).astype(np.uint32)
        allowed = self._bound_per_column(rows)
        esc_idx = np.zeros(0, dtype=np.int64)
        if allowed is not None:
            rec = self._reconstruct(codes, self.bits, data.dtype)
            with np.errstate(invalid="ignore", over="ignore"):
                ok = np.abs(rec.astype(np.float64) - rows.astype(np.float64)) <= allowed
            esc_idx = np.flatnonzero(~ok)
        esc_val = rows.ravel()[esc_idx]
        packed = common.pack_codes(codes.T.ravel(), self.bits)  # one feature after another
        deltas = np.diff(esc_idx, prepend=0).astype(np.uint64) if esc_idx.size else np.zeros(0, np.uint64)
        body = packed + common.shuffle_bytes(deltas) + common.shuffle_bytes(esc_val)
        head = common.PayloadHeader.pack(MAGIC, data.dtype, data.shape)
        head += struct.pack(_HEAD, self.bits, rows.shape[0], rows.shape[1], esc_idx.size, len(packed))
        self._last = self._encode_facts(z, logdet, codes, esc_idx.size, rows.size)
        return head + common.zstd_compress(body, self.zstd_level)

    def _encode_facts(self, z: np.ndarray, logdet: np.ndarray, codes: np.ndarray, n_esc: int, n: int) -> dict[str, Any]:
        from scipy import stats

        log_base = -0.5 * (z**2).sum(axis=1) - 0.5 * z.shape[1] * math.log(2 * math.pi)
        nll = -(log_base + logdet)
        facts: dict[str, Any] = {
            "escapes": int(n_esc),
            "escape_fraction": n_esc / max(n, 1),
            "codes_clipped": int(((codes == 0) | (codes == (1 << self.bits) - 1)).sum()),
            "test_nll": float(np.mean(nll)) if np.all(np.isfinite(nll)) else None,
            "test_nll_unit": "nats per row, standardized space",
            "latent_normaltest": None,
        }
        if z.shape[0] >= 20 and np.all(np.isfinite(z)):
            stat, p = stats.normaltest(z, axis=0)
            facts["latent_normaltest"] = [
                {"dim": i, "statistic": float(s), "pvalue": float(pv)} for i, (s, pv) in enumerate(zip(stat, p))
            ]
        return facts

    def decode(self, payload: bytes) -> np.ndarray:
        """Codes at their bin centres through the inverse flow, then the escapes put back exactly."""
        self._require()
        assert self._layout is not None
        dtype, shape, off = common.PayloadHeader.unpack(MAGIC, payload, self.codec_id)
        hsize = struct.calcsize(_HEAD)
        if len(payload) < off + hsize:
            raise PayloadError("flow payload is truncated")
        bits, n_rows, n_feat, n_esc, n_packed = struct.unpack(_HEAD, payload[off : off + hsize])
        try:
            expected = self._layout.to_rows(self.codec_id, np.empty(shape, dtype=np.uint8)).shape
        except CodecError as exc:
            raise PayloadError(f"flow payload shape {shape} does not fit this model: {exc}") from exc
        if not 8 <= bits <= 20 or (n_rows, n_feat) != expected or n_esc > n_rows * n_feat:
            raise PayloadError(
                f"flow payload does not match this model (bits={bits}, rows x features={n_rows} x {n_feat}, "
                f"expected {expected[0]} x {expected[1]})"
            )
        body = common.zstd_decompress(payload[off + hsize :], "flow payload")
        n = n_rows * n_feat
        itemsize = np.dtype(dtype).itemsize
        if n_packed != ((n + 7) // 8) * bits or len(body) != n_packed + n_esc * (8 + itemsize):
            raise PayloadError("flow payload sections have the wrong sizes (corrupted payload)")
        codes = common.unpack_codes(body[:n_packed], bits, n).reshape(n_feat, n_rows).T
        rows = self._reconstruct(codes, bits, dtype)
        if n_esc:
            deltas = common.unshuffle_bytes(body[n_packed : n_packed + 8 * n_esc], np.uint64, n_esc)
            idx = np.cumsum(deltas, dtype=np.uint64)
            if idx[-1] >= n:
                raise PayloadError("flow escape index out of range (corrupted payload)")
            vals = common.unshuffle_bytes(body[n_packed + 8 * n_esc :], dtype, n_esc)
            rows = np.ascontiguousarray(rows)
            rows.reshape(-1)[idx.astype(np.int64)] = vals
        return self._layout.from_rows(rows, shape)

    # -- bound, state, extras -----------------------------------------------------------------------

    def declared_bound(self) -> dict[str, Any] | None:
        """The escape bound: rel, abs, or (``max_std_error``) abs per column in data units once fitted."""
        if self.max_rel_error is not None:
            return {"mode": "rel", "value": self.max_rel_error}
        if self.max_abs_error is not None:
            return {"mode": "abs", "value": self.max_abs_error}
        if self.max_std_error is not None and self._col_std is not None:
            allowed = self.max_std_error * self._col_std
            if self._layout is not None and self._layout.kind == "table" and self._columns:
                return {"mode": "abs", "value": {c: float(a) for c, a in zip(self._columns, allowed)}}
            return {"mode": "abs", "value": float(allowed[0])}
        return None

    def _arch(self) -> dict[str, Any]:
        assert self._layout is not None
        return {
            "layout": self._layout.to_meta(),
            "layers": self.layers,
            "hidden": self.hidden,
            "num_blocks": self.num_blocks,
            "columns": self._columns,
        }

    def _blob(self, part: str, meta: dict[str, Any]) -> bytes:
        from codecbench_plugins.autoencoder.nets import state_to_numpy

        self._require()
        assert self._scaler is not None and self._col_std is not None
        assert self._clip is not None
        arrays = {
            **self._scaler.arrays(),
            "stats.col_std": self._col_std,
            "stats.lo": self._clip[0],
            "stats.hi": self._clip[1],
            **_learned_tensors(state_to_numpy(self._flow, "flow.")),
        }
        return common.pack_state(self.codec_id, part, arrays, {**self._arch(), **meta})

    def save_state(self) -> bytes:
        """The whole flow (its inverse is the decoder), the preprocessing constants and column stds."""
        return self._blob("decoder", {})

    def save_fitted(self) -> bytes:
        """``save_state`` plus the training history (the flow is its own encoder)."""
        return self._blob("fitted", {"history": self._history})

    def _restore(self, blob: bytes, part: str) -> None:
        from codecbench_plugins.autoencoder.nets import load_numpy_state, state_to_numpy

        arrays, meta = common.unpack_state(self.codec_id, blob, part)
        common.check_meta_matches(
            self.codec_id, meta, {"layers": self.layers, "hidden": self.hidden, "num_blocks": self.num_blocks}
        )
        try:
            layout = Layout.from_meta(meta["layout"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CodecError("flow model state is not valid: its layout is missing or malformed") from exc
        if layout.kind == "field" and list(layout.tile or ()) != self.tile:
            raise CodecError(f"flow model state was fitted with tile={list(layout.tile or ())}, not {self.tile}")
        scaler = Scaler.from_arrays(arrays, layout.n_features)
        stats = {k: arrays.get(f"stats.{k}") for k in ("col_std", "lo", "hi")}
        if any(v is None or v.shape != (layout.n_features,) for v in stats.values()):
            raise CodecError("flow model state is not valid: the column statistics are missing or misshapen")
        expected = self._values(layout.n_features)  # the state must hold this network, checked before building it
        common.check_model_size(self.codec_id, expected, self._arch_text(layout.n_features))
        common.check_state_values(self.codec_id, _learned_tensors(arrays), "flow.", expected)
        flow = _build_flow(layout.n_features, self.layers, self.hidden, self.num_blocks)
        fixed = {k: v for k, v in state_to_numpy(flow, "flow.").items() if k not in _learned_tensors({k: v})}
        for k in set(fixed) & set(arrays):  # states written before the masks were left out still load
            if not np.array_equal(arrays[k], fixed[k]):
                raise CodecError(f"flow model state is not valid: its MADE mask {k!r} does not match the architecture")
        load_numpy_state(flow, {**arrays, **fixed}, "flow.", "flow model state")
        self._set_model(flow.eval(), layout, scaler, {k: v.astype(np.float64) for k, v in stats.items()})
        self._columns = meta.get("columns")
        self._history = dict(meta.get("history") or {})

    def _values(self, n_features: int) -> int:
        return flow_values(n_features, self.layers, self.hidden, self.num_blocks)

    def _arch_text(self, n_features: int) -> str:
        return f"layers={self.layers}, hidden={self.hidden}, num_blocks={self.num_blocks} for {n_features} features"

    def load_state(self, blob: bytes) -> None:
        """Restore what ``save_state`` wrote; a blob that is not one is a ``CodecError``."""
        self._restore(blob, "decoder")

    def load_fitted(self, blob: bytes) -> None:
        """Restore what ``save_fitted`` wrote (the flow encodes and decodes)."""
        self._restore(blob, "fitted")

    def report_extras(self) -> dict[str, Any]:
        """Last encode: escapes, clipped codes, per-dimension normality test of the latent, test NLL;
        and the training history."""
        if self._flow is None:
            return {}
        out: dict[str, Any] = {"bits": self.bits, "bound": self.declared_bound()}
        out.update(common.history_extras(self._history))
        out.update(self._last)
        return out
