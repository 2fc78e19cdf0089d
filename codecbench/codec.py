"""The codec contract: the ``Codec`` base class every codec plugin subclasses.

This module's docstrings are the one text of the contract: ``docs/plugins.md`` (the plugin guide)
and the README point here instead of restating it. A codec turns a numpy array into bytes and back.
The smallest codec::

    class MyCodec(Codec):
        codec_id = "mycodec"
        lossless = True

        def __init__(self, level: int = 3):
            self.level = level

        def encode(self, data):
            return my_lib.compress(data.tobytes(), self.level)

        def decode(self, payload):
            return np.frombuffer(my_lib.decompress(payload), dtype=np.uint8)

and its registration, in the plugin's ``pyproject.toml`` (the entry point's name must equal
``codec_id``; an extra in brackets is what ``list codecs`` tells a user to install)::

    [project.entry-points."codecbench.codecs"]
    mycodec = "my_package.module:MyCodec"

What the harness does around a codec, on every run:

- it frames every payload (``codecbench.container``: codec id, dtype, shape, body length,
  checksums) and verifies the frame before ``decode`` runs, so ``decode`` only ever sees a body
  that ``encode`` of this codec id produced, undamaged (unless crafted on purpose);
- it decodes through a fresh instance built from ``get_config()`` plus
  ``load_state(save_state())``, never the instance that encoded, and checks
  ``aux_nbytes() == len(save_state())``;
- it compares the round trip of a ``lossless`` codec bit for bit, and checks a
  ``declared_bound()`` on every value (reported in the record's ``extras``, not enforced);
- it fits a ``learned`` codec on the training split (through the model cache) and measures it
  on the held-out test split;
- it turns any exception of a codec into a failed record with the stage that raised; the run goes
  on. A ``CodecbenchError`` is recorded by its message, anything else with its type and traceback.

Parameters the harness fills in when a codec's constructor has them and the config does not set
them: ``columns`` (a table's column names), and for learned codecs ``device`` (``--device``) and
``seed`` (the base seed plus the repeat index, for ``--repeats``).

The contract's major version is ``CONTRACT_VERSION``; additive changes (a new optional hook) keep it.
The errors a codec raises are defined in ``codecbench.errors`` and re-exported here.
"""

from __future__ import annotations

import abc
import inspect
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

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
#: Minor version: 1.1 adds the quality knob (``Knob``, ``Codec.tune``) for target searches.
CONTRACT_MINOR = 1

#: The errors are defined in ``codecbench.errors`` and re-exported here, next to the class that raises them.
__all__ = [
    "CONTRACT_MINOR",
    "CONTRACT_VERSION",
    "Codec",
    "CodecError",
    "CodecbenchError",
    "ConfigError",
    "DatasetError",
    "Knob",
    "PayloadError",
    "PluginError",
]


@dataclass(frozen=True)
class Knob:
    """The one parameter a target search may move (contract 1.1), declared as a codec's ``tune``.

    ``lo``/``hi``: the range searched; ``integer``: only integers are valid; ``log``: bisect on a
    log scale (``lo`` must be positive); ``finer``: the direction in which the error gets smaller
    (``"up"``: larger values are more accurate, like trunc's bits; ``"down"``: smaller values are,
    like an error bound). A search assumes the error is monotone in the knob and the ratio moves
    the other way. For learned codecs the knob must be one of ``encode_params``: a search never refits.
    """

    param: str
    lo: float
    hi: float
    integer: bool = False
    log: bool = False
    finer: Literal["up", "down"] = "up"

    def __post_init__(self) -> None:
        if not isinstance(self.param, str) or not self.param:
            raise CodecError(f"a knob names a constructor parameter, not {self.param!r}")
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and self.lo < self.hi):
            raise CodecError(f"knob {self.param!r} needs finite lo < hi, not [{self.lo}, {self.hi}]")
        if self.log and self.lo <= 0:
            raise CodecError(f"knob {self.param!r} is searched on a log scale, so lo must be positive, not {self.lo}")
        if self.finer not in ("up", "down"):
            raise CodecError(f"knob {self.param!r}: finer must be 'up' or 'down', not {self.finer!r}")
        if self.integer and (self.lo != int(self.lo) or self.hi != int(self.hi)):
            raise CodecError(f"integer knob {self.param!r} needs integer lo and hi, not [{self.lo}, {self.hi}]")

    @property
    def finest(self) -> float:
        """The setting with the smallest error."""
        return self.hi if self.finer == "up" else self.lo

    @property
    def coarsest(self) -> float:
        """The setting with the largest error (and the highest ratio)."""
        return self.lo if self.finer == "up" else self.hi


class Codec(abc.ABC):
    """Base class of every codec.

    Class attributes a codec sets:

    - ``codec_id``: the registry name (``"zstd"``), equal to the entry point's name;
    - ``lossless``: whether ``decode(encode(x))`` reproduces ``x`` bit for bit (NaN payloads, -0.0
      and subnormals included); the harness checks it on every task;
    - ``learned`` (default False): whether ``fit`` trains on data; learned codecs are fitted on
      the training split and measured on the test split;
    - ``default_sweep`` (default empty): ``{param: [values]}``, the settings a rate-distortion sweep
      runs for this codec (the product of the lists); every value must be accepted;
    - ``encode_params`` (default empty): parameters of a learned codec that do not change what
      ``fit`` learns (a quantizer's bits, an error bound): settings that differ only in these share
      one fitted model in the model cache (loaded with ``load_fitted``), so a sweep over them
      trains once;
    - ``requires`` (default empty): modules the codec needs at run time but imports lazily (for
      example ``("torch",)``); the registry refuses to load the codec when one is missing, so
      ``list codecs`` shows the extra to install and a run never starts it half-working;
    - ``tune`` (default None; contract 1.1): the ``Knob`` a target search moves (``--target``);
      a codec without one is reported as having no knob in a target run. ``knob()`` returns it per
      instance (override it when the knob depends on a mode), ``knob_hint()`` a first guess;
    - ``contract_version``: the major version of this contract the codec was written for (state it
      explicitly: the default is the running codecbench's); the registry refuses another major.

    Constructor parameters: every one has a default (``get_codec("mycodec")`` must work), is
    JSON-serialisable (int, float, str, bool, None, list, dict) and is stored on the instance under
    its own name; ``get_config``/``from_config`` are built from them. Anything that changes the
    output must be a parameter, or the config does not describe the codec. A bad value raises
    ``CodecError``.

    Optional instance attribute (or property) ``resolved_device``: the device a learned codec
    actually runs on after ``fit`` (``"cpu"``, ``"cuda:0"``), where ``device="auto"`` left it open.
    The runner records it as the record's ``device`` (falling back to the config's ``device``, then
    ``"cpu"``) and, when it starts with ``"cuda"`` (or, without it, when ``device`` does),
    synchronizes CUDA before each clock read so timings include the device's queued work.
    """

    codec_id: ClassVar[str]
    lossless: ClassVar[bool] = False
    learned: ClassVar[bool] = False
    default_sweep: ClassVar[dict[str, list[Any]]] = {}
    encode_params: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()
    contract_version: ClassVar[int] = CONTRACT_VERSION
    tune: ClassVar[Knob | None] = None

    def fit(self, train: Dataset) -> None:  # noqa: B027 - optional hook, deliberately empty
        """Train on the training split (learned codecs). Codecs that learn nothing leave this as a no-op.

        A learned codec calls ``self.report_progress(epoch, n_epochs, **metrics)`` once per epoch, and
        should refuse training data it cannot use (NaN, the wrong kind) with ``CodecError`` before
        training starts.
        """

    @abc.abstractmethod
    def encode(self, data: np.ndarray) -> bytes:
        """Compress ``data`` (a C-contiguous array of any shape and a numeric dtype) to bytes.

        Deterministic: the same input gives the same bytes (no timestamps, no unseeded randomness).
        Leaves ``data`` unchanged. Input the codec does not support (a dtype, a number of
        dimensions, NaN for some lossy codecs) raises ``CodecError`` saying what it supports; no
        ``IndexError`` or numpy ``ValueError`` may escape.
        """

    @abc.abstractmethod
    def decode(self, payload: bytes | memoryview) -> np.ndarray:
        """Decompress ``payload`` (bytes-like: the harness passes a read-only memoryview, no copy).

        May return the array in any shape with the frame's dtype and number of values, or a flat
        ``uint8`` buffer (or bytes) of the right size: the harness restores dtype and shape and refuses
        anything else with ``CodecError``. A body it cannot read raises ``PayloadError``: catch what
        the decompressor raises (``zlib.error``, ``struct.error``, ``RuntimeError`` from C extensions,
        ``MemoryError`` from a damaged size field). Returning wrong values from a damaged body is
        tolerated (the frame's checksums stop damaged payloads first); raising anything else,
        crashing or hanging is not.
        """

    def knob(self) -> Knob | None:
        """The knob a target search moves for this instance: the class's ``tune`` unless overridden.

        Codecs whose knob depends on a parameter (an error-bound mode) override this; None means
        this setting has no knob.
        """
        return self.tune

    def knob_hint(self, metric: str, value: float) -> float | None:
        """A first guess of the knob's setting meeting the target ``metric`` = ``value``; None for no guess.

        A good guess saves probes (the search walks from it); a wrong one costs a few more.
        """
        return None

    def save_state(self) -> bytes:
        """The decoder's side of a fitted codec (weights, scalers, tables); empty for stateless codecs.

        Everything a decoder needs beyond the payload and the config: ``load_state`` of it on a fresh
        instance must decode identically. No pickle (``numpy.save`` to a buffer, safetensors, a
        struct layout). Its length is the record's ``aux_bytes``.
        """
        return b""

    def load_state(self, blob: bytes) -> None:
        """Restore what ``save_state`` returned, so a fresh instance can decode."""
        if blob:
            raise CodecError(f"codec {self.codec_id!r} keeps no state but was given {len(blob)} bytes")

    def save_fitted(self) -> bytes:
        """Everything a fitted codec needs to encode and decode (encoder too), for the model cache.

        Defaults to ``save_state()``; learned codecs whose encoder is not part of the decoder's
        state override this pair. Never counted in ``aux_nbytes``. The cache key is the config
        (less ``encode_params``), the training rows and the versions of codecbench, torch, nflows
        and numpy: ``--refit`` after changing a codec's code without changing its config.
        """
        return self.save_state()

    def load_fitted(self, blob: bytes) -> None:
        """Restore what ``save_fitted`` returned, so the codec can encode without refitting."""
        self.load_state(blob)

    def declared_bound(self) -> dict[str, Any] | None:
        """The error bound this codec promises, checked by the harness on every value; None if none.

        Form: ``{"mode": MODE, "value": VALUE}``, with ``o`` the original and ``r`` the reconstruction.
        Per-value modes:

        - ``"abs"``: ``|r - o| <= value``;
        - ``"rel"``: ``|r - o| <= value * |o|`` (so a zero must come back exactly zero);
        - ``"rel_range"``: ``|r - o| <= value * (max(o) - min(o))`` over the finite values (SZ's REL);
        - ``"abs_and_rel_range"``: ``value = {"abs": a, "rel": b}``, ``|r - o| <= min(a, b * range)``
          (SZ's ABS_AND_REL);
        - ``"rel_or_abs"``: ``value = {"rel": b, "abs": a}``, ``|r - o| <= max(b * |o|, a)`` (mantissa
          rounding with gradual underflow: relative for normal numbers, absolute at the subnormals).

        Global modes (a statistic of the whole array, or of each column):

        - ``"psnr"``: ``20 log10(range / RMSE) >= value`` dB;
        - ``"l2norm"``: ``sqrt(sum((r - o)**2)) <= value``.

        For a table, ``value`` may instead map column names to bounds: each column is then checked
        against its own bound (and its own range); columns not named are not checked. A non-finite
        original must come back identical (NaN as NaN, the same infinity) and a finite one finite;
        a codec that cannot reproduce them refuses such input with ``CodecError`` instead.
        ``codecbench.measure.bounds.check_bound`` checks exactly these modes.
        """
        return None

    def report_extras(self) -> dict[str, Any]:
        """Facts about the last ``fit``/``encode`` for the record's ``extras`` (a JSON-serialisable dict).

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
        """Bytes the decoder needs besides the payload: ``len(save_state())``. Not to be overridden.

        The harness and the conformance checks verify that it equals ``len(save_state())``.
        """
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
