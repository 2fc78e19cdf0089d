"""``ae``: autoencoder latent compression, the Baler tool's method.

A fully connected autoencoder (default n -> 200 -> 100 -> 50 -> latent, mirrored decoder, LeakyReLU,
linear output) is trained on the training split with MSE, Adam, ReduceLROnPlateau and early
stopping on a validation slice. The payload is the latent of the encoded rows, stored as float16
(``latent_bits=16``, default), float32 (32), or uniformly quantized to 8 to 14 bits over the
latent range seen on the training split, then zstd. The decoder's weights, the normalization
constants and the latent range are the codec's state (``aux_nbytes``).

Tables are encoded row by row. Fields (``Dataset.kind == "field"``) are cut into ``tile`` tiles
over their last two axes (see ``Layout``): the tile must divide those axes, and then one model
serves every field size.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from codecbench import Codec, CodecError, Dataset, Knob, PayloadError

from . import common
from .common import Layout, Scaler

MAGIC = b"CBAE"
#: Settings ``latent_bits`` may take: quantized integers, float16 or float32.
LATENT_BITS = (8, 9, 10, 11, 12, 13, 14, 16, 32)


def default_latent_dim(n_features: int) -> int:
    """3 for 4 variables (Baler's jets), else ceil(n / 1.6)."""
    return 3 if n_features == 4 else max(1, math.ceil(n_features / 1.6))


class AECodec(Codec):
    """Fully connected autoencoder; the payload is the (quantized) latent, then zstd.

    Parameters: ``latent_dim`` (None: 3 for 4 variables, else ceil(n / 1.6)); ``hidden`` (encoder
    layer sizes, mirrored in the decoder); ``activation`` ("leaky_relu", "tanh", "elu");
    ``batch_norm``; ``norm`` ("minmax": per-column min-max; "custom": log(x + c) on positive
    heavy-tailed columns, then min-max); ``latent_bits`` (16 float16, 32 float32, 8 to 14 uniform
    integers); ``tile`` (fields only); ``epochs``, ``batch_size``, ``lr``, ``patience`` (early
    stopping), ``min_epoch_steps`` (an epoch cycles through a small training set until it has made
    this many optimizer steps), ``val_fraction``; ``seed``; ``device`` ("auto", "cpu", "cuda": where training
    runs; encoding and decoding run on the CPU so a payload decodes identically anywhere);
    ``threads`` (torch CPU threads, 0 = torch's default; 1 is fastest for these small networks).
    """

    codec_id = "ae"
    requires = ("torch", "safetensors")
    lossless = False
    learned = True
    default_sweep = {"latent_dim": [1, 2, 3, 4]}
    #: Settings that do not change what ``fit`` learns: the model cache shares one fitted model across them.
    encode_params = ("latent_bits", "zstd_level")
    #: For a target search (an encode parameter: a search never refits): the uniform latent
    #: quantizer's bits, 8..14. The network's own reconstruction error usually dominates, so a tight
    #: target is often met by no setting; the run then says so with the closest one.
    tune = Knob("latent_bits", lo=8, hi=14, integer=True, finer="up")
    #: Latent activation of the network; ``sae`` overrides.
    _latent_activation = "linear"
    _MAGIC = MAGIC

    def __init__(
        self,
        latent_dim: int | None = None,
        hidden: Sequence[int] = (200, 100, 50),
        activation: str = "leaky_relu",
        batch_norm: bool = False,
        norm: str = "minmax",
        latent_bits: int = 16,
        tile: Sequence[int] = (5, 5),
        epochs: int = 50,
        batch_size: int = 512,
        lr: float = 1e-3,
        patience: int = 6,
        min_epoch_steps: int = 100,
        val_fraction: float = 0.1,
        zstd_level: int = 3,
        seed: int = 0,
        device: str = "auto",
        threads: int = 1,
    ) -> None:
        cid = self.codec_id
        if latent_dim is not None:
            common.check_positive_int(cid, "latent_dim", latent_dim)
        try:
            self.hidden = [int(h) for h in hidden]
        except (TypeError, ValueError) as exc:
            raise CodecError(f"{cid}: hidden must be a list of layer sizes, not {hidden!r}") from exc
        if any(h < 1 for h in self.hidden):
            raise CodecError(f"{cid}: hidden layer sizes must be positive, not {hidden!r}")
        between = sum(a * b for a, b in zip(self.hidden, self.hidden[1:]))
        common.check_model_size(cid, 2 * between, f"hidden={self.hidden} (the layers between hidden sizes alone)")
        common.check_choice(cid, "activation", activation, ("leaky_relu", "tanh", "elu"))
        common.check_choice(cid, "norm", norm, ("minmax", "custom"))
        common.check_choice(cid, "latent_bits", latent_bits, LATENT_BITS)
        common.check_choice(cid, "device", device, ("auto", "cpu", "cuda"))
        common.check_choice(cid, "batch_norm", batch_norm, (True, False))
        for name, value in (
            ("epochs", epochs),
            ("batch_size", batch_size),
            ("patience", patience),
            ("min_epoch_steps", min_epoch_steps),
        ):
            common.check_positive_int(cid, name, value)
        common.check_positive_int(cid, "seed", seed, minimum=0)
        common.check_positive_int(cid, "threads", threads, minimum=0)
        if not (isinstance(lr, int | float) and lr > 0):
            raise CodecError(f"{cid}: lr must be a positive number, not {lr!r}")
        if not (isinstance(val_fraction, int | float) and 0 < val_fraction < 1):
            raise CodecError(f"{cid}: val_fraction must be between 0 and 1, not {val_fraction!r}")
        if not isinstance(zstd_level, int) or not -7 <= zstd_level <= 22:
            raise CodecError(f"{cid}: zstd_level must be an integer from -7 to 22, not {zstd_level!r}")
        self.latent_dim = latent_dim
        self.activation = activation
        self.batch_norm = bool(batch_norm)
        self.norm = norm
        self.latent_bits = latent_bits
        self.tile = list(common._check_tile(cid, tile))
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = float(lr)
        self.patience = patience
        self.min_epoch_steps = min_epoch_steps
        self.val_fraction = float(val_fraction)
        self.zstd_level = zstd_level
        self.seed = seed
        self.device = device
        self.threads = threads
        self._model: Any = None  # full Autoencoder after fit/load_fitted
        self._decoder: Any = None  # decoder part (always set once fitted or loaded)
        self._layout: Layout | None = None
        self._scaler: Scaler | None = None
        self._lo: np.ndarray | None = None  # latent range on the training split
        self._hi: np.ndarray | None = None
        self._history: dict[str, Any] = {}
        self._columns: list[str] | None = None
        self._last: dict[str, Any] = {}

    # -- training -------------------------------------------------------------------------------

    def _loss(self, model: Any, batch: Any) -> Any:
        """Training objective: MSE (``sae`` adds its sparsity penalty)."""
        recon, _ = model(batch)
        return ((recon - batch) ** 2).mean()

    def _val_loss(self, model: Any, batch: Any) -> Any:
        recon, _ = model(batch)
        return ((recon - batch) ** 2).mean()

    def fit(self, train: Dataset) -> None:
        """Fit the normalization and train the autoencoder on ``train`` (see the class docstring)."""
        import torch

        from .nets import Autoencoder, split_train_val, torch_threads, train_loop

        common.check_input(self.codec_id, train.data, train.columns, "fit")
        layout = Layout.from_dataset(self.codec_id, train, self.tile)
        rows = layout.to_rows(self.codec_id, train.data)
        log_cols = common.heavy_tailed_columns(train) if self.norm == "custom" else []
        mask = [c in log_cols for c in train.columns] if layout.kind == "table" and train.columns else None
        scaler = Scaler.fit(rows, "minmax", mask, shared=layout.kind == "field")
        x = scaler.forward(rows).astype(np.float32)
        tr, va = split_train_val(x.shape[0], self.val_fraction, self.seed)
        device = common.resolve_device(self.device)
        latent_dim = self._resolved_latent_dim(layout.n_features)
        self._check_size(layout.n_features, latent_dim)
        with torch_threads(self.threads), torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            model = Autoencoder(
                layout.n_features, latent_dim, self.hidden, self.activation, self.batch_norm, self._latent_activation
            ).to(device)
            history = train_loop(
                model,
                self._loss,
                torch.from_numpy(x[tr]).to(device),
                torch.from_numpy(x[va]).to(device),
                epochs=self.epochs,
                batch_size=self.batch_size,
                min_epoch_steps=self.min_epoch_steps,
                lr=self.lr,
                patience=self.patience,
                seed=self.seed,
                progress=self.report_progress,
                val_loss_fn=self._val_loss,
                codec_id=self.codec_id,
            )
        model = model.cpu().eval()
        self._model, self._decoder = model, model.decoder
        self._layout, self._scaler, self._columns = layout, scaler, list(train.columns or [])
        z = self._latent(x)
        self._lo, self._hi = z.min(axis=0).astype(np.float64), z.max(axis=0).astype(np.float64)
        self._history = {**history, "device": device, "log_columns": log_cols}
        self._after_fit(z)

    def _after_fit(self, z_train: np.ndarray) -> None:
        """Hook for ``sae`` (thresholds from the training latent)."""

    @property
    def resolved_device(self) -> str:
        """Where training ran (after fit) or would run: "cpu" or "cuda"."""
        return str(self._history.get("device") or common.resolve_device(self.device))

    def _resolved_latent_dim(self, n_features: int) -> int:
        return self.latent_dim if self.latent_dim is not None else default_latent_dim(n_features)

    def _latent(self, x: np.ndarray) -> np.ndarray:
        import torch

        from .nets import run_batched, torch_threads

        with torch_threads(self.threads):
            return run_batched(self._model.encoder, x, torch.float32)

    # -- latent storage ---------------------------------------------------------------------------

    def _span(self) -> np.ndarray:
        assert self._lo is not None and self._hi is not None
        return np.where(self._hi > self._lo, self._hi - self._lo, 1.0)

    def _values_to_bytes(self, v: np.ndarray, dim: np.ndarray, bits: int) -> bytes:
        """Latent values ``v`` (1-D; ``dim`` gives each one's latent dimension) in the ``bits`` representation."""
        if bits == 32:
            return common.shuffle_bytes(v.astype(np.float32))
        if bits == 16:
            self._last["latent_clipped"] = int((np.abs(v) > 65504).sum())
            return common.shuffle_bytes(np.clip(v, -65504, 65504).astype(np.float16))
        assert self._lo is not None
        levels = (1 << bits) - 1
        q = np.rint((v.astype(np.float64) - self._lo[dim]) / self._span()[dim] * levels)
        self._last["latent_clipped"] = int(((q < 0) | (q > levels)).sum())
        return common.pack_codes(np.clip(q, 0, levels).astype(np.uint32), bits)

    def _bytes_to_values(self, buf: bytes, dim: np.ndarray, bits: int) -> np.ndarray:
        """Inverse of ``_values_to_bytes`` (float32 out)."""
        if bits == 32:
            return common.unshuffle_bytes(buf, np.float32, dim.size)
        if bits == 16:
            return common.unshuffle_bytes(buf, np.float16, dim.size).astype(np.float32)
        assert self._lo is not None
        q = common.unpack_codes(buf, bits, dim.size).astype(np.float64)
        return (q / ((1 << bits) - 1) * self._span()[dim] + self._lo[dim]).astype(np.float32)

    def _encode_latent(self, z: np.ndarray) -> bytes:
        """The latent section (before zstd): values one latent dimension after another."""
        dim = np.repeat(np.arange(z.shape[1]), z.shape[0])
        return self._values_to_bytes(z.T.ravel(), dim, self.latent_bits)

    def _decode_latent(self, buf: bytes, n_rows: int, bits: int) -> np.ndarray:
        """Inverse of ``_encode_latent``: the (n_rows, latent_dim) latent."""
        d = self._lo.size  # type: ignore[union-attr]
        dim = np.repeat(np.arange(d), n_rows)
        return self._bytes_to_values(buf, dim, bits).reshape(d, n_rows).T

    # -- codec API --------------------------------------------------------------------------------

    def _require(self, encoder: bool) -> None:
        if self._decoder is None:
            raise CodecError(f"{self.codec_id} is not fitted: call fit(train) (or load_state / load_fitted) first")
        if encoder and self._model is None:
            raise CodecError(
                f"{self.codec_id} holds only the decoder side (from load_state) and cannot encode; "
                "call fit(train) or load_fitted(blob)"
            )

    def encode(self, data: np.ndarray) -> bytes:
        """Encode rows (tables) or tiles (fields) to their latent; see the class docstring."""
        self._require(encoder=True)
        assert self._layout is not None and self._scaler is not None
        common.check_input(self.codec_id, data, self._columns, "encode")
        rows = self._layout.to_rows(self.codec_id, data)
        self._last = {}
        x = self._scaler.forward(rows).astype(np.float32)
        z = self._latent(x)
        self._last.update(
            {
                "test_latent_min": z.min(axis=0).tolist(),
                "test_latent_max": z.max(axis=0).tolist(),
                "log_domain_clamped": self._scaler.n_clamped,
            }
        )
        body = self._encode_latent(z)
        head = common.PayloadHeader.pack(self._MAGIC, data.dtype, data.shape)
        head += struct.pack("<BQH", self.latent_bits, x.shape[0], z.shape[1])
        return head + common.zstd_compress(body, self.zstd_level)

    def decode(self, payload: bytes) -> np.ndarray:
        """Decode the latent and run the decoder; returns the array in its original shape and dtype."""
        import torch

        from .nets import run_batched, torch_threads

        self._require(encoder=False)
        assert self._layout is not None and self._scaler is not None
        dtype, shape, off = common.PayloadHeader.unpack(self._MAGIC, payload, self.codec_id)
        if len(payload) < off + 11:
            raise PayloadError(f"{self.codec_id} payload is truncated")
        bits, n_rows, d = struct.unpack("<BQH", payload[off : off + 11])
        expected_rows = self._expected_rows(shape)
        if bits not in LATENT_BITS or d != self._lo.size or n_rows != expected_rows:  # type: ignore[union-attr]
            raise PayloadError(
                f"{self.codec_id} payload does not match this model (latent_bits={bits}, latent_dim={d}, "
                f"rows={n_rows}; the model has latent_dim={self._lo.size}, the shape needs {expected_rows} rows)"  # type: ignore[union-attr]
            )
        body = common.zstd_decompress(payload[off + 11 :], f"{self.codec_id} latent")
        z = self._decode_latent(body, n_rows, bits)
        with torch_threads(self.threads):
            y = run_batched(self._decoder, z.astype(np.float32), torch.float32).astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            rows = self._scaler.inverse(y)
        return self._layout.from_rows(rows.astype(dtype), shape)

    def _expected_rows(self, shape: tuple[int, ...]) -> int:
        assert self._layout is not None
        try:
            return self._layout.to_rows(self.codec_id, np.empty(shape, dtype=np.uint8)).shape[0]
        except CodecError as exc:
            raise PayloadError(f"{self.codec_id} payload shape {shape} does not fit this model: {exc}") from exc

    # -- state ------------------------------------------------------------------------------------

    def _arch(self) -> dict[str, Any]:
        assert self._layout is not None and self._lo is not None
        return {
            "layout": self._layout.to_meta(),
            "latent_dim": int(self._lo.size),
            "hidden": self.hidden,
            "activation": self.activation,
            "batch_norm": self.batch_norm,
            "norm": self.norm,
            "latent_activation": self._latent_activation,
        }

    def _state_arrays(self) -> dict[str, np.ndarray]:
        assert self._scaler is not None and self._lo is not None and self._hi is not None
        return {**self._scaler.arrays(), "latent.lo": self._lo, "latent.hi": self._hi}

    def save_state(self) -> bytes:
        """Decoder weights, normalization constants and latent range (safetensors)."""
        from .nets import state_to_numpy

        self._require(encoder=False)
        arrays = {**self._state_arrays(), **state_to_numpy(self._decoder, "decoder.")}
        return common.pack_state(self.codec_id, "decoder", arrays, self._arch())

    def save_fitted(self) -> bytes:
        """Encoder and decoder weights plus everything in ``save_state`` and the training history."""
        from .nets import state_to_numpy

        self._require(encoder=True)
        arrays = {**self._state_arrays(), **state_to_numpy(self._model, "model.")}
        meta = {**self._arch(), "history": self._history, "columns": self._columns}
        return common.pack_state(self.codec_id, "fitted", arrays, meta)

    def _restore(self, blob: bytes, part: str) -> None:
        from .nets import Autoencoder, check_shapes, load_numpy_state

        arrays, meta = common.unpack_state(self.codec_id, blob, part)
        try:
            layout = Layout.from_meta(meta["layout"])
            latent_dim = int(meta["latent_dim"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CodecError(f"{self.codec_id} model state is not valid: its layout is missing or malformed") from exc
        want = {
            "hidden": self.hidden,
            "activation": self.activation,
            "batch_norm": self.batch_norm,
            "norm": self.norm,
            "latent_activation": self._latent_activation,
            "latent_dim": self._resolved_latent_dim(layout.n_features),
        }
        common.check_meta_matches(self.codec_id, meta, want)
        if layout.kind == "field" and list(layout.tile or ()) != self.tile:
            fitted_tile = list(layout.tile or ())
            raise CodecError(f"{self.codec_id} model state was fitted with tile={fitted_tile}, not {self.tile}")
        scaler = Scaler.from_arrays(arrays, layout.n_features)
        lo, hi = arrays.get("latent.lo"), arrays.get("latent.hi")
        if lo is None or hi is None or lo.shape != (latent_dim,) or hi.shape != (latent_dim,):
            raise CodecError(f"{self.codec_id} model state is not valid: the latent range is missing or misshapen")
        shapes = self._check_size(layout.n_features, latent_dim)  # before anything is allocated
        if part == "fitted":
            check_shapes(arrays, shapes, "model.", f"{self.codec_id} fitted model")
        else:
            decoder = {k[len("decoder.") :]: v for k, v in shapes.items() if k.startswith("decoder.")}
            check_shapes(arrays, decoder, "decoder.", f"{self.codec_id} decoder state")
        model = Autoencoder(
            layout.n_features, latent_dim, self.hidden, self.activation, self.batch_norm, self._latent_activation
        )
        if part == "fitted":
            load_numpy_state(model, arrays, "model.", f"{self.codec_id} fitted model")
            self._model = model.eval()
            self._history = dict(meta.get("history") or {})
            self._columns = meta.get("columns")
        else:
            load_numpy_state(model.decoder, arrays, "decoder.", f"{self.codec_id} decoder state")
            self._model = None
        self._decoder = model.decoder.eval()
        self._layout, self._scaler = layout, scaler
        self._lo, self._hi = lo.astype(np.float64), hi.astype(np.float64)
        self._restore_extra(arrays, meta)

    def _check_size(self, n_features: int, latent_dim: int) -> dict[str, tuple[int, ...]]:
        """The network's tensor shapes (built on the meta device); refuse one over the size cap."""
        from .nets import Autoencoder, meta_shapes

        shapes = meta_shapes(
            lambda: Autoencoder(
                n_features, latent_dim, self.hidden, self.activation, self.batch_norm, self._latent_activation
            )
        )
        common.check_model_size(
            self.codec_id, sum(math.prod(s) for s in shapes.values()), f"hidden={self.hidden} for {n_features} features"
        )
        return shapes

    def _restore_extra(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Hook for ``sae``."""

    def load_state(self, blob: bytes) -> None:
        """Restore the decoder side written by ``save_state``; a blob that is not one is a ``CodecError``."""
        self._restore(blob, "decoder")

    def load_fitted(self, blob: bytes) -> None:
        """Restore the full fitted model written by ``save_fitted`` (encoder included)."""
        self._restore(blob, "fitted")

    def report_extras(self) -> dict[str, Any]:
        """Training history (epochs run, best validation loss, device), latent range, last encode's facts."""
        if self._decoder is None:
            return {}
        out: dict[str, Any] = {
            "latent_dim": int(self._lo.size),  # type: ignore[union-attr]
            "latent_bits": self.latent_bits,
            "train_latent_min": self._lo.tolist(),  # type: ignore[union-attr]
            "train_latent_max": self._hi.tolist(),  # type: ignore[union-attr]
        }
        out.update(common.history_extras(self._history))
        out.update(self._last)
        return out
