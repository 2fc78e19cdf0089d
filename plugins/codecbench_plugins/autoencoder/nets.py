"""Torch parts shared by the learned codecs: the fully connected autoencoder and the training loop."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from codecbench import CodecError

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "tanh": nn.Tanh,
    "elu": nn.ELU,
}
LATENT_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {"linear": nn.Identity, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}


def _mlp(sizes: Sequence[int], activation: str, batch_norm: bool) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(sizes[i + 1]))
            layers.append(ACTIVATIONS[activation]())
    return layers


class Autoencoder(nn.Module):
    """n -> hidden... -> latent -> reversed(hidden)... -> n, linear output; ``latent_activation`` on the code."""

    def __init__(
        self,
        n_features: int,
        latent_dim: int,
        hidden: Sequence[int],
        activation: str = "leaky_relu",
        batch_norm: bool = False,
        latent_activation: str = "linear",
    ) -> None:
        super().__init__()
        enc = [n_features, *hidden, latent_dim]
        self.encoder = nn.Sequential(*_mlp(enc, activation, batch_norm), LATENT_ACTIVATIONS[latent_activation]())
        self.decoder = nn.Sequential(*_mlp(enc[::-1], activation, batch_norm))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(reconstruction, latent)."""
        z = self.encoder(x)
        return self.decoder(z), z


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` torch CPU threads (0: leave torch's setting), restoring the old count after.

    Small networks train fastest on one thread, and on a shared machine several spinning threads
    can be many times slower than one.
    """
    old = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def state_to_numpy(module: nn.Module, prefix: str) -> dict[str, np.ndarray]:
    """A module's state dict as numpy arrays (for safetensors), keys prefixed."""
    return {prefix + k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def meta_shapes(build: Callable[[], nn.Module]) -> dict[str, tuple[int, ...]]:
    """The state-dict shapes of the module ``build()`` makes, built on the meta device (nothing allocated)."""
    with torch.device("meta"):
        module = build()
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def check_shapes(arrays: dict[str, np.ndarray], expected: dict[str, tuple[int, ...]], prefix: str, what: str) -> None:
    """Refuse ``prefix``-ed arrays whose names or shapes differ from ``expected`` (before building the network)."""
    got = {k[len(prefix) :]: tuple(v.shape) for k, v in arrays.items() if k.startswith(prefix)}
    if got != expected:
        bad = sorted(set(got) ^ set(expected)) or sorted(k for k in got if got[k] != expected.get(k))
        key = bad[0]
        raise CodecError(
            f"{what} does not match the configured network: tensor {key!r} is {got.get(key, 'missing')}, "
            f"the network needs {expected.get(key, 'none')} (refused before building the network)"
        )


def load_numpy_state(module: nn.Module, arrays: dict[str, np.ndarray], prefix: str, what: str) -> None:
    """Load ``prefix``-ed arrays into ``module``; a missing, extra or misshapen tensor is a ``CodecError``."""
    sd = {k[len(prefix) :]: torch.from_numpy(np.array(v)) for k, v in arrays.items() if k.startswith(prefix)}
    expected = module.state_dict()
    missing = sorted(set(expected) - set(sd))
    extra = sorted(set(sd) - set(expected))
    if missing or extra:
        raise CodecError(f"{what} does not match the network: missing {missing[:3]}, unexpected {extra[:3]}")
    for k, v in expected.items():
        if tuple(sd[k].shape) != tuple(v.shape) or sd[k].dtype != v.dtype:
            raise CodecError(
                f"{what}: tensor {k!r} has shape {tuple(sd[k].shape)} {sd[k].dtype}, "
                f"the network needs {tuple(v.shape)} {v.dtype}"
            )
    module.load_state_dict(sd)


def split_train_val(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, validation) row indices; the validation slice is at least one row."""
    if n < 2:
        raise CodecError(f"a learned codec needs at least 2 training rows, got {n}")
    perm = np.random.default_rng(seed).permutation(n)
    n_val = min(n - 1, max(1, int(round(n * val_fraction))))
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def train_loop(
    model: nn.Module,
    loss_fn: Callable[[nn.Module, torch.Tensor], torch.Tensor],
    train_x: torch.Tensor,
    val_x: torch.Tensor,
    *,
    epochs: int,
    batch_size: int,
    min_epoch_steps: int = 1,
    lr: float,
    patience: int,
    seed: int,
    progress: Callable[..., None],
    val_loss_fn: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None = None,
    codec_id: str = "learned codec",
) -> dict[str, Any]:
    """Adam + ReduceLROnPlateau (factor 0.5, min lr 1e-6) + early stopping on the validation loss.

    ``loss_fn(model, batch)`` is the training objective; ``val_loss_fn`` (default ``loss_fn``) is
    what early stopping watches. An epoch is one pass over the training rows, or as many passes
    (each freshly shuffled) as make at least ``min_epoch_steps`` optimizer steps, so a small dataset
    still gets enough steps per epoch for the schedule and early stopping to mean something.
    The best epoch's weights are restored at the end. Calls
    ``progress(epoch, epochs, loss=..., val_loss=...)`` once per epoch. Returns the history.
    """
    val_loss_fn = val_loss_fn or loss_fn
    try:  # the fused kernel is faster and deterministic; older torch builds lack it on some devices
        opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=0.5, patience=max(1, patience // 2), min_lr=1e-6
    )
    gen = torch.Generator().manual_seed(seed)
    n = train_x.shape[0]
    best = math.inf
    best_state = copy.deepcopy(model.state_dict())
    best_epoch = 0
    bad = 0
    losses: list[float] = []
    val_losses: list[float] = []
    t0 = time.perf_counter()
    epoch = 0
    for epoch in range(1, epochs + 1):
        model.train()
        passes = max(1, math.ceil(min_epoch_steps * batch_size / n))
        perm = torch.cat([torch.randperm(n, generator=gen) for _ in range(passes)]).to(train_x.device)
        total = 0.0
        count = 0
        for start in range(0, perm.numel(), batch_size):
            idx = perm[start : start + batch_size]
            if idx.numel() < 2 and n >= 2:  # batch norm cannot train on one row
                continue
            loss = loss_fn(model, train_x[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
            count += idx.numel()
        train_loss = total / max(count, 1)
        model.eval()
        with torch.no_grad():
            parts = [
                float(val_loss_fn(model, val_x[s : s + 65536])) * min(65536, val_x.shape[0] - s)
                for s in range(0, val_x.shape[0], 65536)
            ]
        val_loss = sum(parts) / val_x.shape[0]
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            raise CodecError(
                f"{codec_id} training diverged at epoch {epoch} (loss {train_loss}, validation loss {val_loss}); "
                "lower lr or check the data for extreme values"
            )
        losses.append(train_loss)
        val_losses.append(val_loss)
        sched.step(val_loss)
        if val_loss < best - 1e-12 * abs(best if math.isfinite(best) else 0.0):
            best, best_epoch, bad = val_loss, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            bad += 1
        progress(epoch, epochs, loss=train_loss, val_loss=val_loss)
        if bad >= patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    return {
        "epochs_run": epoch,
        "epochs_max": epochs,
        "stopped_early": epoch < epochs,
        "best_epoch": best_epoch,
        "best_val_loss": best,
        "final_train_loss": losses[-1] if losses else None,
        "final_lr": opt.param_groups[0]["lr"],
        "train_s": time.perf_counter() - t0,
        "n_train": int(n),
        "passes_per_epoch": max(1, math.ceil(min_epoch_steps * batch_size / n)),
        "n_val": int(val_x.shape[0]),
    }


def run_batched(
    fn: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray, dtype: torch.dtype, chunk: int = 65536
) -> np.ndarray:
    """Apply ``fn`` to ``x`` in fixed-size chunks on the CPU without gradients; numpy out.

    The chunking depends only on the number of rows, so encoder-side checks and the decoder see
    exactly the same computation.
    """
    outs = []
    with torch.no_grad():
        for s in range(0, x.shape[0], chunk):
            outs.append(fn(torch.from_numpy(np.ascontiguousarray(x[s : s + chunk])).to(dtype)).numpy())
    return np.concatenate(outs, axis=0) if outs else np.zeros((0,), dtype=np.float64)
