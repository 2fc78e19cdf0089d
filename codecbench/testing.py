"""Conformance checks a codec plugin runs in its own test suite.

Two ways to use them::

    # 1. a function: runs every check, raises ConformanceError listing every failure
    from codecbench.testing import check_codec
    results = check_codec("mycodec")                      # or a Codec instance, or a config dict

    # 2. a pytest base class: one test per check (skipped checks show as skipped)
    from codecbench.testing import CodecConformance

    class TestMyCodec(CodecConformance):
        codec_spec = {"id": "mycodec", "level": 5}

The checks (``CHECKS``, in order):

``registration``
    the codec is registered under the ``codecbench.codecs`` entry point with its ``codec_id``,
    ``get_codec(codec_id)`` gives the same class with default parameters, and the class declares
    this codecbench's ``contract_version``.
``config_round_trip``
    ``get_config()`` is JSON-serialisable and holds ``id`` plus every constructor parameter;
    ``from_config`` of its JSON round trip gives an equal codec that produces the same payload.
``round_trip``
    ``compress``/``decompress`` keep shape and dtype on tables and fields, float32 and float64;
    a lossless codec returns every bit; ``encode`` leaves its input unchanged; ``report_extras()``
    is a JSON-serialisable dict.
``lossless_exact``
    (codecs with ``lossless = True``) exact bit patterns on data holding quiet and signalling NaNs
    with payloads, -0.0, +/-Inf, subnormals and the extreme finite values.
``determinism``
    encoding the same array twice gives the same bytes; decoding twice gives the same bits.
``state``
    ``aux_nbytes() == len(save_state())``; a fresh instance made from the config plus
    ``load_state(save_state())`` decodes the payload to exactly what the fitted codec decodes.
``corrupted_payload``
    ``decode`` is called (through the harness, which re-frames the body so its CRC matches) on
    damaged bodies: empty, truncated, bytes flipped, random bytes. For each it must either raise a
    ``CodecbenchError`` (``PayloadError`` is the natural one) or return output; output is then
    checked by the harness, which must accept it with the frame's shape and dtype or reject it with
    ``CodecError``. Any other exception (``IndexError``, ``struct.error``, ``zlib.error``,
    ``ValueError``, ``MemoryError``, ...) fails the check. Returning wrong values is allowed:
    the frame's CRC-32 catches corruption before ``decode`` runs in real use.
``unsupported_input``
    odd inputs (int32, float16, empty, a single value, 1-D, a table with one more column, an
    all-NaN table, the input kind the codec does not support, and for learned codecs encoding
    before ``fit``) must either round-trip correctly or be refused with a ``CodecbenchError``;
    any other exception fails.
``declared_bound``
    (codecs whose ``declared_bound()`` is not None) the bound holds on every value, special
    values included, as the runner checks it (``codecbench.measure.bounds.check_bound``).
``default_sweep``
    ``default_sweep`` names real constructor parameters, and every setting it declares constructs
    (and, for learned codecs, fits) and round-trips.

Learned codecs (``learned = True``) are fitted first: for every input a fresh instance is made from
the config and fitted on a training split of that input (20 % is held out and measured). Give a
small configuration (few epochs) in ``codec_spec``: the checks fit up to four models plus one per
sweep setting. Non-learned codecs are checked on the whole input with the instance you pass.

Inputs: by default a generated table (1000 x 4, jet-like columns ``pt, eta, phi, mass``) and a
generated field (12 x 20 x 20, smooth vortices; 20 splits into tiles of 2, 4, 5 or 10), each as
float32 and float64. ``tables=False`` or ``fields=False`` says the codec does not support that
kind: it is left out of the round trips and must instead be refused cleanly (or round-trip) in
``unsupported_input``. ``data`` replaces the generated inputs with your own (an array, a
``Dataset``, or a list of them); each float32/float64 input is also checked cast to the other
precision.

Failures: every check runs (a failing check does not stop the others); ``check_codec`` then raises
``ConformanceError`` (an ``AssertionError``) whose message lists each failed check with what went
wrong, unless ``raise_on_failure=False``, in which case it only returns the results.
"""

from __future__ import annotations

import inspect
import itertools
import json
import os
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from codecbench.codec import CONTRACT_VERSION, Codec
from codecbench.container import compress, decompress, frame
from codecbench.dataset import Dataset
from codecbench.errors import CodecbenchError, CodecError, PayloadError

__all__ = [
    "CHECKS",
    "CheckResult",
    "CodecConformance",
    "Conformance",
    "ConformanceError",
    "check_codec",
    "sample_field",
    "sample_table",
    "special_values",
    "with_special_values",
]

#: Names of the checks, in the order ``check_codec`` runs them.
CHECKS: tuple[str, ...] = (
    "registration",
    "config_round_trip",
    "round_trip",
    "lossless_exact",
    "determinism",
    "state",
    "corrupted_payload",
    "unsupported_input",
    "declared_bound",
    "default_sweep",
)

Status = Literal["passed", "failed", "skipped"]


class ConformanceError(AssertionError):
    """A codec failed one or more conformance checks; ``results`` holds every check's outcome."""

    def __init__(self, message: str, results: Sequence[CheckResult] = ()) -> None:
        super().__init__(message)
        self.results = list(results)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ``status`` is "passed", "failed" or "skipped"; ``message`` says why."""

    name: str
    status: Status
    message: str = ""

    @property
    def passed(self) -> bool:
        """True when the check passed (False for failed and skipped checks)."""
        return self.status == "passed"

    def __str__(self) -> str:
        return f"{self.name}: {self.status}" + (f" ({self.message})" if self.message else "")


class _Failed(Exception):
    """Raised inside a check to fail it with a message."""


class _Skipped(Exception):
    """Raised inside a check to skip it with a reason."""


# --- inputs ----------------------------------------------------------------------------------------

TABLE_COLUMNS = ["pt", "eta", "phi", "mass"]


def sample_table(n_rows: int = 1000, dtype: Any = np.float32, seed: int = 0) -> np.ndarray:
    """A jet-like table (``n_rows`` x 4: pt, eta, phi, mass) with a falling pt spectrum above 20 GeV."""
    rng = np.random.default_rng(seed)
    pt = 20.0 * (1.0 - rng.random(n_rows)) ** (-1.0 / 3.5)
    eta = np.clip(rng.normal(0.0, 1.6, n_rows), -4.7, 4.7)
    phi = np.pi - 2.0 * np.pi * rng.random(n_rows)
    mass = pt * np.minimum(np.exp(rng.normal(np.log(0.12), 0.45, n_rows)), 0.8)
    return np.stack([pt, eta, phi, mass], axis=1).astype(dtype)


def sample_field(n_steps: int = 12, ny: int = 20, nx: int = 20, dtype: Any = np.float32, seed: int = 0) -> np.ndarray:
    """A smooth 2-D flow-like field over time (``n_steps`` x ``ny`` x ``nx``): drifting vortices plus noise."""
    rng = np.random.default_rng(seed)
    y, x = np.meshgrid(np.linspace(0, 2 * np.pi, ny), np.linspace(0, 2 * np.pi, nx), indexing="ij")
    steps = [np.sin(x + 0.3 * t) * np.cos(y - 0.2 * t) + 0.5 * np.sin(2 * x - y + 0.1 * t) for t in range(n_steps)]
    out = np.stack(steps) + 0.01 * rng.standard_normal((n_steps, ny, nx))
    return out.astype(dtype)


def special_values(dtype: Any) -> np.ndarray:
    """Edge-case values of a float dtype as a 1-D array, built from bit patterns.

    Quiet NaN, NaN with a payload, negative NaN with a payload, signalling NaN, +Inf, -Inf, -0.0,
    +0.0, the smallest subnormal, the largest negative subnormal, the smallest normal, and the
    largest finite value with both signs.
    """
    dt = np.dtype(dtype)
    if dt.kind != "f" or dt.itemsize not in (2, 4, 8):
        raise CodecError(f"special values are defined for float16/32/64, not {dt}")
    fi = np.finfo(dt)
    nbits, nmant, nexp = dt.itemsize * 8, int(fi.nmant), int(fi.nexp)
    sign = 1 << (nbits - 1)
    exp_mask = ((1 << nexp) - 1) << nmant
    quiet = 1 << (nmant - 1)
    patterns = [
        exp_mask | quiet,  # quiet NaN
        exp_mask | quiet | 0x2A,  # NaN with a payload
        sign | exp_mask | quiet | 0x15,  # negative NaN with a payload
        exp_mask | 1,  # signalling NaN
        exp_mask,  # +Inf
        sign | exp_mask,  # -Inf
        sign,  # -0.0
        0,  # +0.0
        1,  # smallest subnormal
        sign | (quiet * 2 - 1),  # largest subnormal, negative
        1 << nmant,  # smallest normal
        exp_mask - 1,  # largest finite
        sign | (exp_mask - 1),  # most negative finite
    ]
    return np.array(patterns, dtype=f"<u{dt.itemsize}").view(dt.newbyteorder("<")).astype(dt, copy=False)


def with_special_values(data: np.ndarray) -> np.ndarray:
    """A copy of ``data`` with ``special_values`` written (by bit pattern) at evenly spread positions."""
    out = np.array(data, copy=True, order="C")
    specials = special_values(out.dtype)
    flat_bits = out.reshape(-1).view(f"u{out.dtype.itemsize}")
    n = min(len(specials), flat_bits.size)
    positions = np.linspace(0, flat_bits.size - 1, n).astype(np.int64)
    flat_bits[positions] = specials[:n].view(f"u{out.dtype.itemsize}")
    return out


@dataclass
class _Case:
    """One input the codec is checked on."""

    name: str
    kind: str
    data: np.ndarray
    columns: list[str] | None
    train: Dataset | None = None


def _as_dataset(item: Any, index: int) -> Dataset:
    if isinstance(item, Dataset):
        return item
    arr = np.asarray(item)
    if arr.ndim == 2:
        return Dataset(f"data[{index}]", arr, kind="table")
    return Dataset(f"data[{index}]", arr, columns=None, kind="field")


def _describe(data: np.ndarray, kind: str) -> str:
    return f"{kind} {data.dtype} {tuple(data.shape)}"


def _bits_mismatch(a: np.ndarray, b: np.ndarray) -> str | None:
    """None when ``a`` and ``b`` are identical bit for bit, else a sentence naming the first difference."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return f"got {b.dtype} {b.shape}, expected {a.dtype} {a.shape}"
    if a.size == 0:
        return None
    ua = np.ascontiguousarray(a).view(f"u{a.dtype.itemsize}") if a.dtype.itemsize in (1, 2, 4, 8) else None
    ub = np.ascontiguousarray(b).view(f"u{b.dtype.itemsize}") if ua is not None else None
    if ua is None or ub is None:
        return None if a.tobytes() == b.tobytes() else "the bytes differ"
    diff = ua != ub
    n_diff = int(np.count_nonzero(diff))
    if n_diff == 0:
        return None
    where = tuple(int(i) for i in np.argwhere(diff)[0])
    width = a.dtype.itemsize * 2
    return (
        f"{n_diff} of {a.size} values differ; first at index {where}: "
        f"0x{int(ua[where]):0{width}x} ({a[where]!r}) became 0x{int(ub[where]):0{width}x} ({b[where]!r})"
    )


def _exc(exc: BaseException) -> str:
    """``Type: message (at file:line in function)`` for the innermost frame of an exception."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {tb[-1].filename}:{tb[-1].lineno} in {tb[-1].name})" if tb else ""
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return f"{name}: {exc}{where}"


def _json_normal(value: Any) -> Any:
    return json.loads(json.dumps(value))


# --- the checks ------------------------------------------------------------------------------------


class Conformance:
    """The conformance checks for one codec, sharing its inputs and fitted instances.

    ``codec_or_spec`` is a ``Codec`` instance, a ``Codec`` subclass (built with default
    parameters), or a spec for ``get_codec`` (``"mycodec"`` or ``{"id": "mycodec", ...}``).
    See the module docstring for ``data``, ``fields`` and ``tables``. ``run(name)`` runs one check
    and returns its ``CheckResult``; it never raises for a failing codec.
    """

    def __init__(
        self,
        codec_or_spec: Codec | type[Codec] | str | dict[str, Any],
        data: Any = None,
        *,
        fields: bool = True,
        tables: bool = True,
        seed: int = 0,
        isolate: bool | None = None,
    ) -> None:
        if isinstance(codec_or_spec, Codec):
            codec = codec_or_spec
        elif isinstance(codec_or_spec, type) and issubclass(codec_or_spec, Codec):
            codec = codec_or_spec()
        else:
            from codecbench.plugins import get_codec

            codec = get_codec(codec_or_spec)  # type: ignore[arg-type]
        self.codec = codec
        self.cls: type[Codec] = type(codec)
        self.codec_id: str = getattr(self.cls, "codec_id", "?")
        self.fields = fields
        self.tables = tables
        self.seed = seed
        #: Decode damaged bodies in a forked child, so a crash in native code fails the check instead
        #: of killing the process. Default: where os.fork exists, for codecs that are not learned
        #: (forking after torch has started its thread pools is not safe).
        self.isolate = (hasattr(os, "fork") and not getattr(self.cls, "learned", False)) if isolate is None else isolate
        self.cases = self._make_cases(data)
        self._fitted: dict[str, Codec | BaseException] = {}

    # -- inputs and instances --

    def _make_cases(self, data: Any) -> list[_Case]:
        learned = bool(getattr(self.cls, "learned", False))
        datasets: list[Dataset] = []
        if data is None:
            if self.tables:
                datasets.append(Dataset("table", sample_table(seed=self.seed), columns=list(TABLE_COLUMNS)))
            if self.fields:
                datasets.append(Dataset("field", sample_field(seed=self.seed), columns=None, kind="field"))
        else:
            items = list(data) if isinstance(data, list | tuple) else [data]
            datasets = [_as_dataset(item, i) for i, item in enumerate(items)]
        cases: list[_Case] = []
        for ds in datasets:
            variants = [ds.data]
            if ds.data.dtype in (np.float32, np.float64):
                other = np.float64 if ds.data.dtype == np.float32 else np.float32
                variants.append(ds.data.astype(other))
            for arr in variants:
                full = Dataset(ds.name, np.ascontiguousarray(arr), columns=ds.columns, kind=ds.kind, meta=ds.meta)
                train = None
                measured = full.data
                if learned:
                    train, test = full.split(0.2, self.seed)
                    measured = test.data
                name = _describe(measured, ds.kind) + (f" '{ds.name}'" if data is not None else "")
                cases.append(_Case(name, ds.kind, measured, ds.columns if ds.kind == "table" else None, train))
        if not cases:
            raise CodecError("no inputs to check: pass data, or leave tables or fields enabled")
        return cases

    def config(self) -> dict[str, Any]:
        """The codec's config (``get_config()``); a failure to produce it fails the calling check."""
        try:
            return self.codec.get_config()
        except Exception as exc:
            raise _Failed(f"get_config() raised {_exc(exc)}") from exc

    def new_instance(self, **overrides: Any) -> Codec:
        """A fresh, unfitted codec from the config (with ``overrides``), as a decoder process builds it."""
        config = {**self.config(), **overrides}
        try:
            return self.cls.from_config(config)
        except Exception as exc:
            raise _Failed(f"{self.cls.__name__}.from_config({config!r}) raised {_exc(exc)}") from exc

    def _fit(self, codec: Codec, train: Dataset | None, what: str) -> None:
        if train is None:
            return
        try:
            codec.fit(train)
        except Exception as exc:
            raise _Failed(f"fit on the training split of {what} raised {_exc(exc)}") from exc

    def codec_for(self, case: _Case) -> Codec:
        """The instance measured on ``case``: fitted on its training split for learned codecs."""
        if not getattr(self.cls, "learned", False):
            return self.codec
        got = self._fitted.get(case.name)
        if got is None:
            try:
                got = self.new_instance()
                self._fit(got, case.train, case.name)
            except _Failed as exc:
                got = exc
            self._fitted[case.name] = got
        if isinstance(got, BaseException):
            raise _Failed(str(got))
        return got

    def _round_trip(self, codec: Codec, data: np.ndarray, what: str, decoder: Codec | None = None) -> np.ndarray:
        try:
            payload = compress(codec, data)
        except Exception as exc:
            raise _Failed(f"{what}: compress raised {_exc(exc)}") from exc
        try:
            out = decompress(decoder or codec, payload)
        except Exception as exc:
            raise _Failed(f"{what}: decompress raised {_exc(exc)}") from exc
        if out.shape != data.shape or out.dtype != data.dtype:
            raise _Failed(f"{what}: decoded {out.dtype} {out.shape}, expected {data.dtype} {data.shape}")
        return out

    # -- running --

    def run(self, name: str) -> CheckResult:
        """Run the check called ``name`` (one of ``CHECKS``) and return its result."""
        if name not in CHECKS:
            raise CodecError(f"unknown conformance check {name!r}; the checks are: {', '.join(CHECKS)}")
        method: Callable[[], str] = getattr(self, f"check_{name}")
        try:
            message = method()
        except _Skipped as exc:
            return CheckResult(name, "skipped", str(exc))
        except _Failed as exc:
            return CheckResult(name, "failed", str(exc))
        except Exception as exc:  # a bug in the codec that escaped a more specific message
            return CheckResult(name, "failed", f"unexpected {_exc(exc)}")
        return CheckResult(name, "passed", message or "")

    def run_all(self, checks: Iterable[str] | None = None, skip: Iterable[str] = ()) -> list[CheckResult]:
        """Run ``checks`` (default: all of ``CHECKS``), recording those in ``skip`` as skipped."""
        skipped = set(skip)
        unknown = sorted((skipped | set(checks or ())) - set(CHECKS))
        if unknown:
            raise CodecError(f"unknown conformance check(s) {', '.join(map(repr, unknown))}; the checks are: {CHECKS}")
        names = list(checks) if checks is not None else list(CHECKS)
        return [CheckResult(n, "skipped", "skipped on request") if n in skipped else self.run(n) for n in names]

    # -- the checks; each returns a short note or raises _Failed/_Skipped --

    def check_registration(self) -> str:
        """Registered under the entry point with the same class, default construction, contract version."""
        from codecbench import plugins

        cid = getattr(self.cls, "codec_id", None)
        if not isinstance(cid, str) or not cid:
            raise _Failed(f"{self.cls.__name__} has no codec_id string class attribute")
        for attr in ("lossless", "learned"):
            if not isinstance(getattr(self.cls, attr, None), bool):
                value = getattr(self.cls, attr, None)
                raise _Failed(f"{self.cls.__name__}.{attr} must be True or False, not {value!r}")
        version = getattr(self.cls, "contract_version", None)
        if version != CONTRACT_VERSION:
            raise _Failed(
                f"{self.cls.__name__}.contract_version is {version!r}; this codecbench implements codec "
                f"contract version {CONTRACT_VERSION}"
            )
        if cid not in plugins.available():
            plugins.refresh()  # installed after this process first looked?
        if cid not in plugins.available():
            raise _Failed(
                f"codec {cid!r} is not registered under the 'codecbench.codecs' entry point. Add to your "
                f'pyproject.toml:\n    [project.entry-points."codecbench.codecs"]\n    {cid} = '
                f'"{self.cls.__module__}:{self.cls.__qualname__}"\nand reinstall the package (pip install -e .)'
            )
        try:
            registered = plugins.get_codec_class(cid)
        except CodecbenchError as exc:
            raise _Failed(f"get_codec_class({cid!r}) failed: {exc}") from exc
        if registered is not self.cls:
            raise _Failed(
                f"the entry point {cid!r} loads {registered.__module__}.{registered.__qualname__}, not the checked "
                f"class {self.cls.__module__}.{self.cls.__qualname__}"
            )
        missing = [n for n, d in self.cls.param_defaults().items() if d is inspect.Parameter.empty]
        if missing:
            raise _Failed(
                f"constructor parameters {', '.join(missing)} have no default; every parameter needs one so that "
                f"get_codec({cid!r}) works"
            )
        try:
            default = plugins.get_codec(cid)
        except Exception as exc:
            raise _Failed(f"get_codec({cid!r}) raised {_exc(exc)}") from exc
        if type(default) is not self.cls:
            raise _Failed(f"get_codec({cid!r}) returned a {type(default).__name__}, not a {self.cls.__name__}")
        return f"entry point {cid!r} -> {self.cls.__module__}:{self.cls.__qualname__}"

    def check_config_round_trip(self) -> str:
        """get_config is complete and JSON-safe; from_config of it rebuilds an equal codec, same payload."""
        config = self.config()
        if not isinstance(config, dict):
            raise _Failed(f"get_config() returned {type(config).__name__}, not a dict")
        if config.get("id") != self.codec_id:
            raise _Failed(f"get_config()['id'] is {config.get('id')!r}, expected the codec_id {self.codec_id!r}")
        missing = [n for n in self.cls.param_names() if n not in config]
        if missing:
            raise _Failed(f"get_config() leaves out constructor parameters {', '.join(missing)}")
        try:
            text = json.dumps(config, allow_nan=False)
        except (TypeError, ValueError) as exc:
            bad = [k for k, v in config.items() if not _json_ok(v)]
            raise _Failed(
                f"get_config() is not JSON-serialisable ({exc}); parameters {', '.join(bad) or '?'} must be plain "
                f"int/float/str/bool/None/list/dict (no numpy scalars, tuples of objects, NaN)"
            ) from exc
        from_json = json.loads(text)
        try:
            rebuilt = self.cls.from_config(from_json)
        except Exception as exc:
            raise _Failed(f"from_config({from_json!r}) raised {_exc(exc)}") from exc
        try:
            again = _json_normal(rebuilt.get_config())
        except Exception as exc:
            raise _Failed(f"the rebuilt codec's get_config() raised {_exc(exc)}") from exc
        if again != from_json:
            raise _Failed(
                f"the config does not round-trip: get_config() gave {from_json!r}, the codec rebuilt from it "
                f"gives {again!r}"
            )
        case = self.cases[0]
        codec = self.codec_for(case)
        if self.cls.learned:
            try:
                rebuilt.load_fitted(codec.save_fitted())
            except Exception as exc:
                raise _Failed(f"load_fitted(save_fitted()) on the rebuilt codec raised {_exc(exc)}") from exc
        try:
            p1 = codec.encode(np.ascontiguousarray(case.data))
            p2 = rebuilt.encode(np.ascontiguousarray(case.data))
        except Exception as exc:
            raise _Failed(f"{case.name}: encode raised {_exc(exc)}") from exc
        if bytes(p1) != bytes(p2):
            raise _Failed(
                f"{case.name}: the codec rebuilt from its config encodes differently ({len(p2)} bytes vs "
                f"{len(p1)}): some setting that changes the output is not a constructor parameter stored "
                f"under its own name"
            )
        return f"config {text}"

    def check_round_trip(self) -> str:
        """Shape and dtype survive on every input; lossless codecs return every bit; input untouched."""
        notes = []
        for case in self.cases:
            codec = self.codec_for(case)
            before = case.data.copy()
            out = self._round_trip(codec, case.data, case.name)
            if _bits_mismatch(before, case.data) is not None:
                raise _Failed(f"{case.name}: encode modified its input array in place")
            if self.cls.lossless:
                diff = _bits_mismatch(case.data, out)
                if diff:
                    raise _Failed(f"{case.name}: the codec claims lossless = True but the round trip changed: {diff}")
            try:
                extras = codec.report_extras()
                json.dumps(extras)
            except Exception as exc:
                raise _Failed(f"{case.name}: report_extras() must give a JSON-serialisable dict: {_exc(exc)}") from exc
            if not isinstance(extras, dict):
                raise _Failed(f"{case.name}: report_extras() returned {type(extras).__name__}, not a dict")
            notes.append(case.name)
        return "round trip of " + ", ".join(notes)

    def check_lossless_exact(self) -> str:
        """Bit-exact on NaN payloads, signalling NaN, -0.0, +/-Inf, subnormals, extremes."""
        if not self.cls.lossless:
            raise _Skipped("the codec does not claim to be lossless")
        done = []
        for case in self.cases:
            if case.data.dtype.kind != "f" or case.data.dtype.itemsize not in (2, 4, 8):
                continue
            data = with_special_values(case.data)
            out = self._round_trip(self.codec_for(case), data, f"{case.name} with special values")
            diff = _bits_mismatch(data, out)
            if diff:
                raise _Failed(
                    f"{case.name} with special values: the codec claims lossless = True but {diff}. A lossless codec "
                    f"must reproduce every bit pattern: NaN payloads, -0.0, infinities and subnormals included"
                )
            done.append(case.name)
        if not done:
            raise _Skipped("no float16/32/64 input to put special values in")
        return "exact with special values on " + ", ".join(done)

    def check_determinism(self) -> str:
        """Same bytes from two encodes of one array; same bits from two decodes."""
        for case in self.cases:
            codec = self.codec_for(case)
            try:
                p1, p2 = bytes(codec.encode(case.data)), bytes(codec.encode(case.data))
            except Exception as exc:
                raise _Failed(f"{case.name}: encode raised {_exc(exc)}") from exc
            if p1 != p2:
                raise _Failed(
                    f"{case.name}: encoding the same array twice gave different payloads ({len(p1)} and {len(p2)} "
                    f"bytes); encode must be deterministic (no timestamps, random seeds or state changed by encode)"
                )
            payload = compress(codec, case.data)
            d1, d2 = decompress(codec, payload), decompress(codec, payload)
            diff = _bits_mismatch(d1, d2)
            if diff:
                raise _Failed(f"{case.name}: decoding the same payload twice gave different arrays: {diff}")
        return f"deterministic on {len(self.cases)} inputs"

    def check_state(self) -> str:
        """aux_nbytes() == len(save_state()); a fresh instance + load_state decodes identically."""
        sizes = []
        for case in self.cases:
            codec = self.codec_for(case)
            try:
                state = codec.save_state()
            except Exception as exc:
                raise _Failed(f"{case.name}: save_state() raised {_exc(exc)}") from exc
            if not isinstance(state, bytes):
                raise _Failed(f"{case.name}: save_state() returned {type(state).__name__}, not bytes")
            try:
                aux = codec.aux_nbytes()
            except Exception as exc:
                raise _Failed(f"{case.name}: aux_nbytes() raised {_exc(exc)}") from exc
            if isinstance(aux, bool) or not isinstance(aux, int | np.integer) or aux != len(state):
                raise _Failed(
                    f"{case.name}: aux_nbytes() returned {aux!r} but save_state() holds {len(state)} bytes; "
                    f"aux_nbytes() must be exactly len(save_state()), the bytes a decoder needs besides the payload"
                )
            fresh = self.new_instance()
            try:
                fresh.load_state(state)
            except Exception as exc:
                raise _Failed(f"{case.name}: load_state(save_state()) on a fresh instance raised {_exc(exc)}") from exc
            try:
                payload = compress(codec, case.data)
                expected = decompress(codec, payload)
            except Exception as exc:
                raise _Failed(f"{case.name}: round trip raised {_exc(exc)}") from exc
            try:
                got = decompress(fresh, payload)
            except Exception as exc:
                raise _Failed(
                    f"{case.name}: a fresh instance made from the config and load_state(save_state()) cannot decode: "
                    f"{_exc(exc)}. save_state() must hold everything the decoder needs"
                ) from exc
            diff = _bits_mismatch(expected, got)
            if diff:
                raise _Failed(
                    f"{case.name}: a fresh instance made from the config and load_state(save_state()) decodes "
                    f"differently from the codec that encoded ({diff}); save_state() must hold everything the "
                    f"decoder needs"
                )
            sizes.append(len(state))
        return f"state sizes {sizes} bytes"

    def check_corrupted_payload(self) -> str:
        """decode on damaged bodies raises CodecbenchError or returns output the harness accepts or rejects."""
        rng = np.random.default_rng(1234 + self.seed)
        outcomes: dict[str, int] = {"refused": 0, "returned": 0}
        for case in self.cases:
            codec = self.codec_for(case)
            try:
                body = bytes(codec.encode(case.data))
            except Exception as exc:
                raise _Failed(f"{case.name}: encode raised {_exc(exc)}") from exc
            # The harness itself: a framed payload with one flipped body byte never reaches decode.
            framed = bytearray(frame(self.codec_id, case.data.dtype, case.data.shape, body))
            if body:
                framed[-1] ^= 0xFF
                try:
                    decompress(codec, bytes(framed))
                except PayloadError:
                    pass
                else:
                    raise _Failed(f"{case.name}: a payload with a flipped byte was not refused by the frame check")
            damaged = _damaged_bodies(body, rng)

            def work(
                note: Callable[[dict[str, Any]], None],
                codec: Codec = codec,
                case: _Case = case,
                damaged: list[tuple[str, bytes]] = damaged,
            ) -> None:
                for what, bad in damaged:
                    note({"start": what})
                    try:
                        decompress(codec, frame(self.codec_id, case.data.dtype, case.data.shape, bad))
                    except CodecbenchError:
                        note({"outcome": "refused"})
                        continue
                    except Exception as exc:
                        note({"outcome": "error", "message": _exc(exc)})
                        return
                    note({"outcome": "returned"})

            if self.isolate:
                notes, crash = _run_forked(work, timeout=120.0)
            else:
                notes, crash = [], None
                work(notes.append)
            what = "?"
            for item in notes:
                what = item.get("start", what)
                outcome = item.get("outcome")
                if outcome in outcomes:
                    outcomes[outcome] += 1
                elif outcome == "error":
                    raise _Failed(
                        f"{case.name}: decode of a damaged body ({what}) raised {item['message']}. decode must "
                        f"catch what its decompressor raises on a body it cannot read and raise "
                        f"codecbench.PayloadError"
                    )
            if crash is not None:
                raise _Failed(
                    f"{case.name}: decode of a damaged body ({what}) {crash}: the decoder's native code is not "
                    f"safe on bad input. Check the body before handing it over (lengths, a checksum of your own) "
                    f"and raise codecbench.PayloadError"
                )
        return f"damaged bodies: {outcomes['refused']} refused with CodecbenchError, {outcomes['returned']} decoded"

    def check_unsupported_input(self) -> str:
        """Odd inputs either round-trip correctly or are refused with a CodecbenchError."""
        case = self.cases[0]
        codec = self.codec_for(case)
        base = case.data
        dt = base.dtype
        probes: list[tuple[str, Codec, np.ndarray]] = []
        table = base if base.ndim == 2 else sample_table(64, dtype=dt, seed=self.seed)
        probes += [
            ("int32 values", codec, np.arange(base.size, dtype=np.int32).reshape(base.shape)),
            ("float16 values", codec, base.astype(np.float16)),
            ("an empty array", codec, base[:0].copy()),
            ("a single value", codec, base.reshape(-1)[:1].copy()),
            ("a 1-D array of 37 values", codec, base.reshape(-1)[:37].copy()),
            ("all-NaN values", codec, np.full(base.shape, np.nan, dtype=dt)),
            ("a table with one more column", codec, np.ascontiguousarray(np.concatenate([table, table[:, :1]], 1))),
        ]
        if not self.fields:
            probes.append(("a field (3-D), which the codec does not claim to support", codec, sample_field(dtype=dt)))
        if not self.tables:
            probes.append(("a table, which the codec does not claim to support", codec, sample_table(64, dtype=dt)))
        if self.cls.learned:
            probes.append(("the input, given to an unfitted codec", self.new_instance(), base))
        notes = []
        for what, c, data in probes:
            try:
                payload = compress(c, data)
                out = decompress(c, payload)
            except CodecbenchError as exc:
                notes.append(f"{what}: refused ({type(exc).__name__})")
                continue
            except Exception as exc:
                raise _Failed(
                    f"{what} ({data.dtype} {data.shape}): the round trip raised {_exc(exc)}; a codec must either "
                    f"handle an input or refuse it with a codecbench.CodecError saying what it supports"
                ) from exc
            if out.shape != data.shape or out.dtype != data.dtype:
                raise _Failed(f"{what}: decoded {out.dtype} {out.shape}, expected {data.dtype} {data.shape}")
            if self.cls.lossless:
                diff = _bits_mismatch(data, out)
                if diff:
                    raise _Failed(f"{what}: the codec claims lossless = True but the round trip changed data: {diff}")
            notes.append(f"{what}: ok")
        return "; ".join(notes)

    def check_declared_bound(self) -> str:
        """The declared bound holds on every value of every input, special values included."""
        codec0 = self.codec_for(self.cases[0])
        try:
            bound = codec0.declared_bound()
        except Exception as exc:
            raise _Failed(f"declared_bound() raised {_exc(exc)}") from exc
        if bound is None:
            raise _Skipped("the codec declares no error bound")
        from codecbench.measure.bounds import check_bound

        notes = []
        for case in self.cases:
            codec = self.codec_for(case)
            for label, data in (("", case.data), (" with special values", with_special_values(case.data))):
                try:
                    out = self._round_trip(codec, data, case.name + label)
                except _Failed as failed:
                    # a codec may refuse non-finite input cleanly (CodecError) instead of reproducing it
                    refused = isinstance(failed.__cause__, CodecbenchError) and "compress raised" in str(failed)
                    if not (label and refused):
                        raise
                    notes.append(f"{case.name}: special values refused ({type(failed.__cause__).__name__})")
                    continue
                try:
                    report = check_bound(data, out, codec.declared_bound(), case.columns)
                except CodecbenchError as exc:
                    raise _Failed(f"{case.name}: declared_bound() is malformed: {exc}") from exc
                if report["bound_violations"]:
                    raise _Failed(
                        f"{case.name}{label}: {report['bound_violations']} of {report['bound_checked']} values break "
                        f"the declared bound {bound!r} (worst excess {report['bound_worst_excess']:.3g}, "
                        f"non-finite mismatches {report['bound_nonfinite_mismatches']})"
                        + _bound_example(data, out, bound)
                    )
            notes.append(case.name)
        return f"bound {bound!r} holds on " + ", ".join(notes)

    def check_default_sweep(self) -> str:
        """Every setting of default_sweep constructs, fits (learned) and round-trips.

        For a learned codec, a setting that differs from the checked config only in ``encode_params``
        is not refitted: like the runner's model cache, it loads the fitted model of the checked
        config with ``load_fitted(save_fitted())``, which must then work with the new setting.
        """
        params = self.cls.param_names()
        encode_params = tuple(getattr(self.cls, "encode_params", ()) or ())
        unknown = [p for p in encode_params if p not in params]
        if unknown:
            raise _Failed(
                f"encode_params names {', '.join(map(repr, unknown))}, which {self.cls.__name__} does not take "
                f"(its parameters: {', '.join(params) or 'none'})"
            )
        sweep = getattr(self.cls, "default_sweep", None)
        if not sweep:
            raise _Skipped("the codec declares no default_sweep")
        if not isinstance(sweep, dict):
            raise _Failed(f"default_sweep must be a dict {{parameter: [values]}}, not {type(sweep).__name__}")
        for name, values in sweep.items():
            if name not in params:
                raise _Failed(
                    f"default_sweep names parameter {name!r}, which {self.cls.__name__} does not take "
                    f"(its parameters: {', '.join(params) or 'none'})"
                )
            if not isinstance(values, list | tuple) or not values:
                raise _Failed(f"default_sweep[{name!r}] must be a non-empty list of values, not {values!r}")
        keys = list(sweep)
        combos = list(itertools.product(*(sweep[k] for k in keys)))
        if len(combos) <= 24:
            settings = [dict(zip(keys, c)) for c in combos]
        else:  # too many to fit them all: each value once, the other parameters at the codec's own
            settings = [{k: v} for k in keys for v in sweep[k]]
        case = self.cases[0]
        data = case.data
        reused = 0
        for setting in settings:
            try:
                json.dumps(setting, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise _Failed(f"default_sweep setting {setting!r} is not JSON-serialisable: {exc}") from exc
            codec = self.new_instance(**setting)
            what = f"default_sweep setting {setting} on {case.name}"
            if self.cls.learned and set(setting) <= set(encode_params):
                try:
                    codec.load_fitted(self.codec_for(case).save_fitted())
                except Exception as exc:
                    raise _Failed(
                        f"{what}: load_fitted(save_fitted()) of the model fitted with the checked config raised "
                        f"{_exc(exc)}; {', '.join(setting)} is in encode_params, so the model cache shares one "
                        f"fitted model across its values"
                    ) from exc
                reused += 1
            elif self.cls.learned:
                self._fit(codec, case.train, f"{case.name} (setting {setting})")
            out = self._round_trip(codec, data, what)
            if self.cls.lossless:
                diff = _bits_mismatch(data, out)
                if diff:
                    raise _Failed(f"default_sweep setting {setting}: the lossless codec changed data: {diff}")
        return f"{len(settings)} settings run" + (f" ({reused} on the shared fitted model)" if reused else "")


def _bound_example(original: np.ndarray, recon: np.ndarray, bound: Any) -> str:
    """``; first at index ...: X came back as Y`` for the first value that breaks a scalar abs/rel bound."""
    o = np.asarray(original, dtype=np.float64)
    r = np.asarray(recon, dtype=np.float64)
    with np.errstate(all="ignore"):
        bad = (np.isnan(o) != np.isnan(r)) | (np.isinf(o) & (o != r)) | (np.isfinite(o) & ~np.isfinite(r))
        value = bound.get("value") if isinstance(bound, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and bound.get("mode") in ("abs", "rel"):
            allowed = value if bound["mode"] == "abs" else value * np.abs(o)
            bad |= np.isfinite(o) & np.isfinite(r) & (np.abs(r - o) > allowed * (1 + 2**-50))
    if not bad.any():
        return ""
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"; first at index {where}: {original[where]!r} came back as {recon[where]!r}"


def _json_ok(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def _damaged_bodies(body: bytes, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    """Damaged variants of an encoded body, each with a description."""
    n = len(body)
    out: list[tuple[str, bytes]] = [("empty body", b"")]
    if n > 1:
        out.append(("truncated to its first byte", body[:1]))
        out.append((f"truncated to half ({n // 2} of {n} bytes)", body[: n // 2]))
        out.append(("its last byte cut", body[:-1]))
    out.append(("8 zero bytes appended", body + bytes(8)))
    for pos in sorted({0, 1, 2, 3, 4, 8, n // 2, n - 1}):
        if 0 <= pos < n:
            damaged = bytearray(body)
            damaged[pos] ^= 0xFF
            out.append((f"byte {pos} of {n} flipped", bytes(damaged)))
    out += [
        (f"{n} random bytes", rng.bytes(n)),
        ("64 random bytes", rng.bytes(64)),
        (f"{n} zero bytes", bytes(n)),
    ]
    return out


def _run_forked(
    work: Callable[[Callable[[dict[str, Any]], None]], None], timeout: float
) -> tuple[list[dict[str, Any]], str | None]:
    """Run ``work(note)`` in a forked child; return the notes it sent and how it died (None if it did not).

    A decoder whose native code crashes (segmentation fault) or hangs on a damaged body would take
    the test process with it; in a child it only ends the child, and the notes say which body did it.
    """
    import faulthandler
    import select
    import signal
    import time

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report through the pipe, never return into the caller's stack
        code = 0
        try:
            faulthandler.disable()
            os.close(read_fd)
            with os.fdopen(write_fd, "w") as out:

                def note(item: dict[str, Any]) -> None:
                    out.write(json.dumps(item) + "\n")
                    out.flush()

                work(note)
        except BaseException:
            code = 70
        finally:
            os._exit(code)
    os.close(write_fd)
    buf = b""
    deadline = time.monotonic() + timeout
    crash: str | None = None
    with os.fdopen(read_fd, "rb") as inp:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                crash = f"did not return within {timeout:.0f} s"
                break
            ready, _, _ = select.select([inp], [], [], left)
            if ready:
                chunk = os.read(inp.fileno(), 1 << 16)
                if not chunk:
                    break
                buf += chunk
    _, status = os.waitpid(pid, 0)
    notes = [json.loads(line) for line in buf.decode().splitlines() if line.strip()]
    if crash is None and os.WIFSIGNALED(status):
        crash = f"crashed the process (signal {signal.Signals(os.WTERMSIG(status)).name})"
    elif crash is None and os.WEXITSTATUS(status):
        crash = f"ended the process with exit status {os.WEXITSTATUS(status)}"
    return notes, crash


def check_codec(
    codec_or_spec: Codec | type[Codec] | str | dict[str, Any],
    data: Any = None,
    *,
    fields: bool = True,
    tables: bool = True,
    checks: Iterable[str] | None = None,
    skip: Iterable[str] = (),
    raise_on_failure: bool = True,
) -> list[CheckResult]:
    """Run the conformance checks on a codec and return one ``CheckResult`` per check.

    ``codec_or_spec``: a ``Codec`` instance, class, or ``get_codec`` spec. ``data``: inputs replacing
    the generated table and field (see the module docstring). ``fields``/``tables``: whether the codec
    supports that kind of input. ``checks``: run only these (default ``CHECKS``); ``skip``: record
    these as skipped. Every selected check runs; if any failed and ``raise_on_failure`` is True
    (the default), ``ConformanceError`` is raised listing each failure, with every result in its
    ``results`` attribute.
    """
    conformance = Conformance(codec_or_spec, data, fields=fields, tables=tables)
    results = conformance.run_all(checks, skip)
    failed = [r for r in results if r.status == "failed"]
    if failed and raise_on_failure:
        lines = [f"codec {conformance.codec_id!r} failed {len(failed)} of {len(results)} conformance checks:"]
        lines += [f"- {r.name}: {r.message}" for r in failed]
        raise ConformanceError("\n".join(lines), results)
    return results


_SESSIONS: dict[type, Conformance] = {}


class CodecConformance:
    """A pytest base class: subclass it as ``Test<Something>`` and set ``codec_spec``.

    Class attributes: ``codec_spec`` (a spec, ``Codec`` instance or class; give learned codecs a
    small config), ``data`` (None for the generated inputs), ``fields``/``tables`` (which kinds the
    codec supports), ``skip_checks`` (names from ``CHECKS`` to skip). Each check is one test method
    (``test_round_trip``, ...); a failed check raises ``ConformanceError`` with its message, a
    check that does not apply (``lossless_exact`` for a lossy codec) is skipped. Inputs and fitted
    models are built once per subclass.
    """

    codec_spec: ClassVar[Any] = None
    data: ClassVar[Any] = None
    fields: ClassVar[bool] = True
    tables: ClassVar[bool] = True
    skip_checks: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def conformance(cls) -> Conformance:
        """The shared ``Conformance`` of this test class (built on first use)."""
        got = _SESSIONS.get(cls)
        if got is None:
            if cls.codec_spec is None:
                raise ConformanceError(f"{cls.__name__} must set codec_spec (a codec id, config dict or Codec)")
            got = Conformance(cls.codec_spec, cls.data, fields=cls.fields, tables=cls.tables)
            _SESSIONS[cls] = got
        return got

    def run_check(self, name: str) -> CheckResult:
        """Run one check the pytest way: skip if skipped, raise ``ConformanceError`` if failed."""
        import pytest

        if name in self.skip_checks:
            pytest.skip(f"{name} is in skip_checks")
        result = self.conformance().run(name)
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status == "failed":
            raise ConformanceError(f"{self.conformance().codec_id!r} {name}: {result.message}", [result])
        return result

    def test_registration(self) -> None:
        """The codec is registered under its entry point and builds with default parameters."""
        self.run_check("registration")

    def test_config_round_trip(self) -> None:
        """get_config/from_config round-trip to an equal codec with the same payload."""
        self.run_check("config_round_trip")

    def test_round_trip(self) -> None:
        """Shape and dtype survive compress/decompress on tables and fields, float32 and float64."""
        self.run_check("round_trip")

    def test_lossless_exact(self) -> None:
        """Lossless codecs reproduce NaN payloads, -0.0, infinities and subnormals bit for bit."""
        self.run_check("lossless_exact")

    def test_determinism(self) -> None:
        """encode gives the same bytes twice."""
        self.run_check("determinism")

    def test_state(self) -> None:
        """aux_nbytes matches save_state, and a fresh instance with load_state decodes."""
        self.run_check("state")

    def test_corrupted_payload(self) -> None:
        """Damaged bodies give a CodecbenchError, never another exception."""
        self.run_check("corrupted_payload")

    def test_unsupported_input(self) -> None:
        """Odd inputs round-trip or are refused with a CodecbenchError."""
        self.run_check("unsupported_input")

    def test_declared_bound(self) -> None:
        """A declared error bound holds on every value."""
        self.run_check("declared_bound")

    def test_default_sweep(self) -> None:
        """Every default_sweep setting constructs and runs."""
        self.run_check("default_sweep")
