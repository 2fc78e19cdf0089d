"""The codec contract: the base class every codec plugin subclasses, and the error types.

A codec turns a numpy array into bytes and back. The harness (``codecbench.container``) frames
every payload with dtype, shape and checksums, so a codec only handles the raw bytes of its body.

A minimal codec::

    class MyCodec(Codec):
        codec_id = "mycodec"
        lossless = True

        def __init__(self, level: int = 3):
            self.level = level

        def encode(self, data):
            return my_lib.compress(data.tobytes(), self.level)

        def decode(self, payload):
            return np.frombuffer(my_lib.decompress(payload), dtype=np.uint8)

``get_config`` and ``from_config`` come from the constructor's parameters: each parameter must be
stored on the instance under its own name and be JSON-serialisable.
"""

from __future__ import annotations

import abc
import inspect
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from codecbench.errors import (
    CodecbenchError,
    CodecError,
    ConfigError,
    DatasetError,
    PayloadError,
    PluginError,
)

if TYPE_CHECKING:  # pragma: no cover
    from codecbench.dataset import Dataset

#: Major version of the codec contract. A plugin declares the version it was written for as
#: ``contract_version``; the registry refuses a plugin built for another major version.
CONTRACT_VERSION = 1

#: The errors are defined in ``codecbench.errors`` and re-exported here, next to the class that raises them.
__all__ = [
    "CONTRACT_VERSION",
    "Codec",
    "CodecError",
    "CodecbenchError",
    "ConfigError",
    "DatasetError",
    "PayloadError",
    "PluginError",
]


class Codec(abc.ABC):
    """Base class of every codec.

    Class attributes a codec sets:

    - ``codec_id``: the registry name (``"zstd"``);
    - ``lossless``: whether ``decode(encode(x))`` reproduces ``x`` bit for bit;
    - ``learned`` (default False): whether ``fit`` trains on data; learned codecs are fitted on
      the training split and measured on the test split;
    - ``default_sweep`` (default empty): ``{param: [values]}``, the settings a rate-distortion sweep
      runs for this codec;
    - ``encode_params`` (default empty): parameters of a learned codec that do not change what
      ``fit`` learns (a quantizer's bits, an error bound): settings that differ only in these share
      one fitted model in the model cache, so a sweep over them trains once;
    - ``requires`` (default empty): modules the codec needs at run time but imports lazily (for
      example ``("torch",)``); the registry refuses to load the codec when one is missing, so
      ``list codecs`` shows the extra to install and a run never starts it half-working;
    - ``contract_version``: the major version of this contract the codec was written for.
    """

    codec_id: ClassVar[str]
    lossless: ClassVar[bool] = False
    learned: ClassVar[bool] = False
    default_sweep: ClassVar[dict[str, list[Any]]] = {}
    encode_params: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()
    contract_version: ClassVar[int] = CONTRACT_VERSION

    def fit(self, train: Dataset) -> None:  # noqa: B027 - optional hook, deliberately empty
        """Train on the training split. Codecs that learn nothing leave this as a no-op."""

    @abc.abstractmethod
    def encode(self, data: np.ndarray) -> bytes:
        """Compress ``data`` (a contiguous numpy array) to bytes."""

    @abc.abstractmethod
    def decode(self, payload: bytes | memoryview) -> np.ndarray:
        """Decompress ``payload`` (bytes-like: the harness passes a read-only memoryview, no copy).

        May return the original shape or a flat buffer (numpy array or bytes) of the right size.
        """

    def save_state(self) -> bytes:
        """The decoder's side of a fitted codec (weights, scalers, tables); empty for stateless codecs."""
        return b""

    def load_state(self, blob: bytes) -> None:
        """Restore what ``save_state`` returned, so a fresh instance can decode."""
        if blob:
            raise CodecError(f"codec {self.codec_id!r} keeps no state but was given {len(blob)} bytes")

    def save_fitted(self) -> bytes:
        """Everything a fitted codec needs to encode and decode (encoder too), for the model cache.

        Defaults to ``save_state()``; learned codecs whose encoder is not part of the decoder's
        state override this pair. Never counted in ``aux_nbytes``.
        """
        return self.save_state()

    def load_fitted(self, blob: bytes) -> None:
        """Restore what ``save_fitted`` returned, so the codec can encode without refitting."""
        self.load_state(blob)

    def declared_bound(self) -> dict[str, Any] | None:
        """The error bound this codec promises, checked by the harness on every value; None if none.

        Form: ``{"mode": "abs" | "rel", "value": float}`` where ``rel`` means
        ``|recon - orig| <= value * |orig|`` per value and ``abs`` means ``|recon - orig| <= value``;
        ``value`` may instead be a mapping of column name to bound for tables. Non-finite
        originals must come back identical.
        """
        return None

    def report_extras(self) -> dict[str, Any]:
        """Facts about the last ``fit``/``encode`` for the record's ``extras`` (JSON-serialisable).

        For example latent normality statistics, escape counts or sparsity. Called by the harness
        after measuring; the default reports nothing.
        """
        return {}

    def set_progress(self, callback: Any) -> None:
        """The harness hands learned codecs a ``callback(epoch, n_epochs, **metrics)`` for progress bars."""
        self._progress = callback

    def report_progress(self, epoch: int, n_epochs: int, **metrics: float) -> None:
        """Called by learned codecs once per epoch; forwards to the harness's progress callback if any."""
        cb = getattr(self, "_progress", None)
        if cb is not None:
            cb(epoch, n_epochs, **metrics)

    def aux_nbytes(self) -> int:
        """Bytes the decoder needs besides the payload: ``len(save_state())``."""
        return len(self.save_state())

    @classmethod
    def param_names(cls) -> list[str]:
        """Names of the constructor's parameters, in order."""
        sig = inspect.signature(cls.__init__)
        return [
            name
            for name, p in sig.parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """The constructor's parameters with their default values (``inspect.Parameter.empty`` if none)."""
        sig = inspect.signature(cls.__init__)
        return {name: sig.parameters[name].default for name in cls.param_names()}

    def get_config(self) -> dict[str, Any]:
        """``{"id": codec_id, **params}``: everything needed to rebuild this codec."""
        config: dict[str, Any] = {"id": self.codec_id}
        for name in self.param_names():
            if not hasattr(self, name):
                raise CodecError(
                    f"codec {self.codec_id!r} does not store constructor parameter {name!r} "
                    f"as self.{name}, so its config cannot be saved"
                )
            config[name] = getattr(self, name)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Codec:
        """Build a codec from ``get_config()``'s output (the ``id`` key is optional)."""
        params = {k: v for k, v in config.items() if k != "id"}
        if "id" in config and config["id"] != cls.codec_id:
            raise CodecError(f"config is for codec {config['id']!r}, not {cls.codec_id!r}")
        known = set(cls.param_names())
        unknown = sorted(set(params) - known)
        if unknown:
            raise CodecError(
                f"codec {cls.codec_id!r} has no parameter {', '.join(map(repr, unknown))}; "
                f"its parameters are: {', '.join(sorted(known)) or '(none)'}"
            )
        try:
            return cls(**params)
        except CodecbenchError:
            raise
        except (TypeError, ValueError) as exc:
            raise CodecError(f"bad parameters for codec {cls.codec_id!r}: {exc}") from exc

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash(self.codec_id)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "id")
        return f"{type(self).__name__}({params})"
