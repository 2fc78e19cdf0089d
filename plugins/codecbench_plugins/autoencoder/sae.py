"""``sae``: sparse autoencoder. The ``ae`` network with a sparsity penalty on its latent activations.

- ``sparsity="l1"``: ReLU latent, loss = MSE + ``reg_param`` * mean |z|;
- ``sparsity="kl"``: sigmoid latent, loss = MSE + ``reg_param`` * sum_j KL(rho || mean_batch z_j), the
  target activation ``rho`` (default 0.05) of the original sparse-autoencoder studies.

The zeros pay off in the payload: latent values within ``zero_threshold`` (a fraction of each latent
dimension's training range) of zero are stored as exact zeros, and the latent is written as a
bitmap of the non-zero positions followed by the non-zero values only (in the ``latent_bits``
representation), then zstd. The measured sparsity of every encoded latent goes into ``extras``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from codecbench import CodecError, PayloadError

from . import common
from .ae import AECodec


class SAECodec(AECodec):
    """Sparse autoencoder; parameters as ``ae`` plus ``sparsity``, ``reg_param``, ``rho``, ``zero_threshold``."""

    codec_id = "sae"
    default_sweep = {"latent_dim": [2, 3, 4, 6]}
    encode_params = ("latent_bits", "zstd_level", "zero_threshold")
    _MAGIC = b"CBSA"

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
        sparsity: str = "l1",
        reg_param: float = 1e-3,
        rho: float = 0.05,
        zero_threshold: float = 0.01,
    ) -> None:
        super().__init__(
            latent_dim=latent_dim,
            hidden=hidden,
            activation=activation,
            batch_norm=batch_norm,
            norm=norm,
            latent_bits=latent_bits,
            tile=tile,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            patience=patience,
            min_epoch_steps=min_epoch_steps,
            val_fraction=val_fraction,
            zstd_level=zstd_level,
            seed=seed,
            device=device,
            threads=threads,
        )
        common.check_choice(self.codec_id, "sparsity", sparsity, ("l1", "kl"))
        limits = (("reg_param", reg_param, None), ("rho", rho, 1.0), ("zero_threshold", zero_threshold, 1.0))
        for name, value, hi in limits:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
            if not ok or (hi is not None and value >= hi) or (name == "rho" and value <= 0):
                raise CodecError(f"sae: {name} must be a number in the allowed range, not {value!r}")
        self.sparsity = sparsity
        self.reg_param = float(reg_param)
        self.rho = float(rho)
        self.zero_threshold = float(zero_threshold)
        self._latent_activation = "relu" if sparsity == "l1" else "sigmoid"
        self._train_sparsity: float | None = None

    def _penalty(self, z: Any) -> Any:
        import torch

        if self.sparsity == "l1":
            return self.reg_param * z.abs().mean()
        rho_hat = z.mean(dim=0).clamp(1e-6, 1 - 1e-6)
        rho = torch.full_like(rho_hat, self.rho)
        kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
        return self.reg_param * kl.sum()

    def _loss(self, model: Any, batch: Any) -> Any:
        recon, z = model(batch)
        return ((recon - batch) ** 2).mean() + self._penalty(z)

    def _val_loss(self, model: Any, batch: Any) -> Any:
        return self._loss(model, batch)

    def _thresholds(self) -> np.ndarray:
        return self.zero_threshold * self._span()

    def _after_fit(self, z_train: np.ndarray) -> None:
        self._train_sparsity = float((np.abs(z_train) <= self._thresholds()).mean())

    def _encode_latent(self, z: np.ndarray) -> bytes:
        """Section: u64 non-zero count, bitmap of non-zeros (dimension-major), the non-zero values."""
        zt = z.T  # one latent dimension after another
        nonzero = np.abs(zt) > self._thresholds()[:, None]
        dims = np.broadcast_to(np.arange(zt.shape[0])[:, None], zt.shape)[nonzero]
        values = self._values_to_bytes(zt[nonzero], dims, self.latent_bits)
        self._last["latent_sparsity"] = float(1.0 - nonzero.mean())
        self._last["latent_sparsity_per_dim"] = (1.0 - nonzero.mean(axis=1)).tolist()
        return struct.pack("<Q", int(nonzero.sum())) + np.packbits(nonzero.ravel()).tobytes() + values

    def _decode_latent(self, buf: bytes, n_rows: int, bits: int) -> np.ndarray:
        d = self._lo.size  # type: ignore[union-attr]
        n = d * n_rows
        nbitmap = (n + 7) // 8
        if len(buf) < 8 + nbitmap:
            raise PayloadError("sae latent section is truncated")
        (count,) = struct.unpack("<Q", buf[:8])
        nonzero = np.unpackbits(np.frombuffer(buf[8 : 8 + nbitmap], dtype=np.uint8), count=n).astype(bool)
        if int(nonzero.sum()) != count:
            raise PayloadError("sae latent bitmap does not match its non-zero count (corrupted payload)")
        nonzero = nonzero.reshape(d, n_rows)
        dims = np.broadcast_to(np.arange(d)[:, None], nonzero.shape)[nonzero]
        zt = np.zeros((d, n_rows), dtype=np.float32)
        zt[nonzero] = self._bytes_to_values(buf[8 + nbitmap :], dims, bits)
        return zt.T

    def _arch(self) -> dict[str, Any]:
        return {**super()._arch(), "sparsity": self.sparsity}

    def _restore_extra(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        common.check_meta_matches(self.codec_id, meta, {"sparsity": self.sparsity})
        self._train_sparsity = (meta.get("history") or {}).get("train_latent_sparsity")

    def save_fitted(self) -> bytes:
        self._history["train_latent_sparsity"] = self._train_sparsity
        return super().save_fitted()

    def report_extras(self) -> dict[str, Any]:
        """``ae``'s extras plus the measured latent sparsity (test and training split)."""
        out = super().report_extras()
        if out:
            out["train_latent_sparsity"] = self._train_sparsity
            out["sparsity"] = self.sparsity
            out["zero_threshold"] = self.zero_threshold
        return out
