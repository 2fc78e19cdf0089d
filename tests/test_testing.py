"""codecbench.testing: every built-in codec passes the conformance checks, and the checks catch
deliberately broken codecs (defined here, with no entry point)."""

from __future__ import annotations

import os
import struct
import zlib
from typing import Any

import numpy as np
import pytest

from codecbench import Codec, CodecError, PayloadError, plugins
from codecbench.testing import (
    CHECKS,
    CheckResult,
    CodecConformance,
    Conformance,
    ConformanceError,
    check_codec,
    sample_field,
    sample_table,
    special_values,
    with_special_values,
)

pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")

# --- built-in codecs ---------------------------------------------------------------------------------

#: Small, fast settings for learned codecs: applied only to parameters the codec actually has.
FAST_LEARNED = {
    "epochs": 2,
    "n_epochs": 2,
    "max_epochs": 2,
    "num_epochs": 2,
    "batch_size": 256,
    "hidden": 16,
    "hidden_dim": 16,
    "hidden_features": 16,
    "num_layers": 1,
    "n_layers": 1,
    "layers": 2,
    "num_blocks": 1,
    "device": "cpu",
}


def _fast_spec(codec_id: str) -> dict[str, Any]:
    cls = plugins.get_codec_class(codec_id)
    spec: dict[str, Any] = {"id": codec_id}
    if cls.learned:
        defaults = cls.param_defaults()
        for name, value in FAST_LEARNED.items():
            if name in defaults:  # layer sizes given as a list keep that form
                spec[name] = [value] if isinstance(defaults[name], list | tuple) else value
    return spec


_SESSIONS: dict[str, Conformance] = {}


def _session(codec_id: str, check: str) -> Conformance:
    info = plugins.describe(codec_id)
    if info.status.startswith("needs "):
        pytest.skip(f"{codec_id}: {info.error}")
    if info.status != "ok":  # reported once, by the registration test; the other checks cannot run
        if check == "registration":
            pytest.fail(f"registered codec {codec_id!r} cannot be loaded ({info.status}): {info.error}")
        pytest.skip(f"{codec_id} cannot be loaded ({info.status}); see its registration test")
    if codec_id not in _SESSIONS:
        _SESSIONS[codec_id] = Conformance(_fast_spec(codec_id))
    return _SESSIONS[codec_id]


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("codec_id", plugins.available())
def test_installed_codec_conforms(codec_id: str, check: str) -> None:
    result = _session(codec_id, check).run(check)
    if result.status == "skipped":
        pytest.skip(result.message)
    assert result.status == "passed", f"{codec_id} {check}: {result.message}"


def test_every_builtin_codec_is_checked() -> None:
    assert {"raw", "gzip", "zstd", "blosc", "trunc"} <= set(plugins.available())


class TestZstdThroughTheBaseClass(CodecConformance):
    """The pytest base class as a plugin author uses it, on a built-in codec with a non-default config."""

    codec_spec = {"id": "zstd", "level": 9}
    data = [sample_table(300), sample_field(6, 8, 8)]


# --- deliberately broken codecs ----------------------------------------------------------------------


class GoodBytes(Codec):
    """A correct lossless codec (zlib over the bytes), the base of the broken variants below."""

    codec_id = "test-good-bytes"
    lossless = True
    default_sweep = {"level": [1, 9]}

    def __init__(self, level: int = 6) -> None:
        self.level = level

    def encode(self, data: np.ndarray) -> bytes:
        return zlib.compress(np.ascontiguousarray(data).reshape(-1).view(np.uint8).tobytes(), self.level)

    def decode(self, payload: bytes) -> np.ndarray:
        try:
            return np.frombuffer(zlib.decompress(payload), dtype=np.uint8)
        except zlib.error as exc:
            raise PayloadError(f"bad zlib stream: {exc}") from exc


class Float16Lossless(GoodBytes):
    """Claims lossless but stores float16: the plain round trip already differs."""

    codec_id = "test-float16"

    def encode(self, data: np.ndarray) -> bytes:
        with np.errstate(over="ignore"):
            return zlib.compress(data.astype(np.float16).tobytes())

    def decode(self, payload: bytes) -> np.ndarray:
        return np.frombuffer(zlib.decompress(payload), dtype=np.float16).astype(np.float32)


class NanCanonicalising(GoodBytes):
    """Claims lossless but rewrites every NaN as the default NaN (loses payloads and signs)."""

    codec_id = "test-nan-canonical"

    def encode(self, data: np.ndarray) -> bytes:
        if data.dtype.kind == "f":
            data = np.where(np.isnan(data), data.dtype.type(np.nan), data)
        return super().encode(data)


class NegativeZeroFlushing(GoodBytes):
    """Claims lossless but writes every zero as +0.0 (the sign of -0.0 is lost)."""

    codec_id = "test-negzero"

    def encode(self, data: np.ndarray) -> bytes:
        if data.dtype.kind == "f":
            data = np.where(data == 0, data.dtype.type(0.0), data)
        return super().encode(data)


class HiddenOption(GoodBytes):
    """Its config does not round-trip: ``prefix`` changes the payload but is not a stored parameter."""

    codec_id = "test-hidden-option"

    def __init__(self, level: int = 6, **options: Any) -> None:
        super().__init__(level)
        self._prefix = bytes([options.get("prefix", 0)])

    def encode(self, data: np.ndarray) -> bytes:
        return self._prefix + super().encode(data)

    def decode(self, payload: bytes) -> np.ndarray:
        return super().decode(bytes(payload)[1:])


class DriftingConfig(GoodBytes):
    """Its config does not round-trip: the constructor changes the value it stores."""

    codec_id = "test-drifting-config"

    def __init__(self, level: int = 6) -> None:
        super().__init__(min(level + 1, 9))


class NumpyParam(GoodBytes):
    """Its config is not JSON-serialisable (a numpy integer)."""

    codec_id = "test-numpy-param"

    def __init__(self, level: Any = np.int64(6)) -> None:
        super().__init__(level)


class XorKey(Codec):
    """A correct learned, stateful, lossless codec: XOR with a key learned from the training data."""

    codec_id = "test-xor-key"
    lossless = True
    learned = True

    def __init__(self, salt: int = 0) -> None:
        self.salt = salt
        self.key: int | None = None

    def fit(self, train: Any) -> None:
        self.key = (int(np.asarray(train.data, dtype=np.float64).mean().view(np.uint64)) ^ self.salt) & 0xFF

    def encode(self, data: np.ndarray) -> bytes:
        if self.key is None:
            raise CodecError("test-xor-key must be fitted before it encodes")
        return (np.ascontiguousarray(data).reshape(-1).view(np.uint8) ^ np.uint8(self.key)).tobytes()

    def decode(self, payload: bytes) -> np.ndarray:
        if self.key is None:
            raise CodecError("test-xor-key has no key: call load_state first")
        return np.frombuffer(payload, dtype=np.uint8) ^ np.uint8(self.key)

    def save_state(self) -> bytes:
        return b"" if self.key is None else struct.pack("<Q", self.key)

    def load_state(self, blob: bytes) -> None:
        if len(blob) != 8:
            raise PayloadError(f"test-xor-key state must be 8 bytes, got {len(blob)}")
        (self.key,) = struct.unpack("<Q", blob)


class LyingAux(XorKey):
    """aux_nbytes() says the decoder needs nothing, but save_state() holds 8 bytes."""

    codec_id = "test-lying-aux"

    def aux_nbytes(self) -> int:
        return 0


class ForgetfulState(XorKey):
    """load_state() ignores the blob; a fresh instance keeps a default key and decodes wrongly."""

    codec_id = "test-forgetful"

    def load_state(self, blob: bytes) -> None:
        self.key = 0


class PaddedKey(XorKey):
    """A learned codec with an encode-only parameter (``pad``): sweeps over it share one fitted model."""

    codec_id = "test-padded-key"
    encode_params = ("pad",)
    default_sweep = {"pad": [0, 3]}

    def __init__(self, salt: int = 0, pad: int = 0) -> None:
        super().__init__(salt)
        self.pad = pad

    def encode(self, data: np.ndarray) -> bytes:
        return super().encode(data) + bytes(self.pad)

    def decode(self, payload: bytes) -> np.ndarray:
        return super().decode(bytes(payload)[: len(payload) - self.pad])


class PadBoundModel(PaddedKey):
    """Declares ``pad`` encode-only, but its fitted blob records pad and refuses another value."""

    codec_id = "test-pad-bound"

    def save_fitted(self) -> bytes:
        return self.save_state() + bytes([self.pad])

    def load_fitted(self, blob: bytes) -> None:
        if blob[-1] != self.pad:
            raise CodecError(f"this model was fitted for pad={blob[-1]}, not {self.pad}")
        self.load_state(blob[:-1])


class GhostEncodeParam(PaddedKey):
    """encode_params names a parameter the constructor does not take."""

    codec_id = "test-ghost-encode-param"
    encode_params = ("padding",)


class StructCrash(Codec):
    """Writes a length header and trusts it on decode: a damaged body raises struct.error or IndexError."""

    codec_id = "test-struct-crash"
    lossless = True

    def __init__(self) -> None:
        pass

    def encode(self, data: np.ndarray) -> bytes:
        raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8).tobytes()
        return struct.pack("<I", len(raw)) + raw

    def decode(self, payload: bytes) -> np.ndarray:
        (n,) = struct.unpack("<I", bytes(payload[:4]))
        body = bytes(payload[4:])
        if n:
            _ = body[n - 1]  # IndexError when the header lies
        return np.frombuffer(body[:n], dtype=np.uint8)


class ZlibUncaught(GoodBytes):
    """Lets zlib.error escape from decode."""

    codec_id = "test-zlib-uncaught"

    def decode(self, payload: bytes) -> np.ndarray:
        return np.frombuffer(zlib.decompress(payload), dtype=np.uint8)


class ReshapeCrash(GoodBytes):
    """Assumes 4 columns: a ValueError from numpy on other input instead of a clean CodecError."""

    codec_id = "test-reshape-crash"

    def encode(self, data: np.ndarray) -> bytes:
        return super().encode(np.ascontiguousarray(data).reshape(-1, 4))  # ValueError unless size % 4 == 0


class Nondeterministic(GoodBytes):
    """Puts a random nonce in every payload."""

    codec_id = "test-nondeterministic"

    def encode(self, data: np.ndarray) -> bytes:
        return os.urandom(4) + super().encode(data)

    def decode(self, payload: bytes) -> np.ndarray:
        return super().decode(bytes(payload)[4:])


class TypoSweep(GoodBytes):
    """default_sweep names a parameter the constructor does not take."""

    codec_id = "test-typo-sweep"
    default_sweep = {"levle": [1, 9]}


class BadSweepValue(GoodBytes):
    """default_sweep holds a value the constructor refuses."""

    codec_id = "test-bad-sweep-value"
    default_sweep = {"level": [1, 12]}

    def __init__(self, level: int = 6) -> None:
        if not 0 <= level <= 9:
            raise CodecError(f"level must be 0-9, not {level}")
        super().__init__(level)


class LooseBound(Codec):
    """Promises |error| <= 1e-6 but stores float16."""

    codec_id = "test-loose-bound"
    lossless = False

    def __init__(self) -> None:
        pass

    def encode(self, data: np.ndarray) -> bytes:
        if data.dtype not in (np.float32, np.float64):
            raise CodecError("test-loose-bound takes float32 or float64 only")
        with np.errstate(over="ignore"):
            return bytes([data.dtype.itemsize]) + data.astype(np.float16).tobytes()

    def decode(self, payload: bytes) -> np.ndarray:
        payload = bytes(payload)
        if not payload or payload[0] not in (4, 8) or len(payload) % 2 != 1:
            raise PayloadError("test-loose-bound body is damaged")
        return np.frombuffer(payload[1:], dtype=np.float16).astype(f"f{payload[0]}")

    def declared_bound(self) -> dict[str, Any] | None:
        return {"mode": "abs", "value": 1e-6}


class HonestFloat16(LooseBound):
    """The same float16 codec without a bound: a correct lossy codec."""

    codec_id = "test-honest-float16"

    def declared_bound(self) -> None:
        return None


class GridBound(Codec):
    """A correct lossy codec with a declared bound: rounds to a grid of ``step``; refuses non-finite input."""

    codec_id = "test-grid-bound"
    default_sweep = {"step": [0.01, 0.1]}

    def __init__(self, step: float = 0.01) -> None:
        self.step = step

    def encode(self, data: np.ndarray) -> bytes:
        if data.dtype not in (np.float32, np.float64):
            raise CodecError("test-grid-bound takes float32 or float64 only")
        if not np.isfinite(data).all() or (data.size and np.abs(data).max() / self.step > 2**30):
            raise CodecError("test-grid-bound takes finite values below 2**30 steps only")
        q = np.rint(data.astype(np.float64) / self.step).astype("<i4")
        return bytes([data.dtype.itemsize]) + q.tobytes()

    def decode(self, payload: bytes) -> np.ndarray:
        payload = bytes(payload)
        if not payload or payload[0] not in (4, 8) or (len(payload) - 1) % 4:
            raise PayloadError("test-grid-bound body is damaged")
        q = np.frombuffer(payload[1:], dtype="<i4")
        return (q * self.step).astype(f"f{payload[0]}")

    def declared_bound(self) -> dict[str, Any]:
        return {"mode": "abs", "value": self.step * 0.5 + 1e-6}


def _results(codec: Any, **kwargs: Any) -> dict[str, CheckResult]:
    kwargs.setdefault("skip", ("registration",))
    return {r.name: r for r in check_codec(codec, raise_on_failure=False, **kwargs)}


def _only_failures(results: dict[str, CheckResult]) -> dict[str, str]:
    return {name: r.message for name, r in results.items() if r.status == "failed"}


def test_correct_codecs_pass_every_check() -> None:
    for codec in (GoodBytes(), XorKey(salt=3)):
        results = _results(codec)
        assert _only_failures(results) == {}, codec
        assert results["registration"].status == "skipped"
    learned = _results(XorKey())
    assert learned["state"].passed and "8" in learned["state"].message  # 8-byte key per input
    assert learned["lossless_exact"].passed


def test_lossy_codec_without_bound_passes_and_skips_what_does_not_apply() -> None:
    results = _results(HonestFloat16(), data=sample_table(200))
    assert _only_failures(results) == {}
    assert results["lossless_exact"].status == "skipped"
    assert results["declared_bound"].status == "skipped"
    assert results["default_sweep"].status == "skipped"


def test_lossy_codec_with_a_bound_that_holds_passes() -> None:
    results = _results(GridBound())
    assert _only_failures(results) == {}
    assert "special values refused (CodecError)" in results["declared_bound"].message
    assert "all-NaN values: refused (CodecError)" in results["unsupported_input"].message


def test_catches_a_lossy_codec_that_claims_lossless() -> None:
    failures = _only_failures(_results(Float16Lossless()))
    assert "round_trip" in failures
    assert "claims lossless = True" in failures["round_trip"]


def test_catches_lost_nan_payloads() -> None:
    results = _results(NanCanonicalising())
    assert results["round_trip"].passed  # ordinary data survives; only special values expose it
    message = results["lossless_exact"].message
    assert results["lossless_exact"].status == "failed"
    assert "0x7fc0002a" in message and "0x7fc00000" in message  # the payload NaN and what came back


def test_catches_flushed_negative_zero() -> None:
    results = _results(NegativeZeroFlushing())
    assert results["round_trip"].passed
    assert results["lossless_exact"].status == "failed"
    assert "0x80000000" in results["lossless_exact"].message


def test_catches_a_config_that_does_not_round_trip() -> None:
    failures = _only_failures(_results(HiddenOption(prefix=7)))
    assert list(failures) == ["config_round_trip"]
    assert "encodes differently" in failures["config_round_trip"]
    drifting = _only_failures(_results(DriftingConfig(level=3)))
    assert "does not round-trip" in drifting["config_round_trip"]
    assert "'level': 4" in drifting["config_round_trip"] and "'level': 5" in drifting["config_round_trip"]
    numpy_param = _only_failures(_results(NumpyParam()))
    assert "not JSON-serialisable" in numpy_param["config_round_trip"]
    assert "level" in numpy_param["config_round_trip"]


def test_catches_aux_nbytes_that_lies() -> None:
    failures = _only_failures(_results(LyingAux()))
    assert list(failures) == ["state"]
    assert "aux_nbytes() returned 0 but save_state() holds 8 bytes" in failures["state"]


def test_catches_state_that_a_fresh_decoder_cannot_use() -> None:
    failures = _only_failures(_results(ForgetfulState(salt=1)))
    assert {"state", "config_round_trip"} == set(failures)  # load_fitted falls back to load_state
    assert "fresh instance" in failures["state"] and "decodes differently" in failures["state"]


def test_catches_a_crash_on_a_corrupted_payload() -> None:
    struct_crash = _only_failures(_results(StructCrash()))
    assert list(struct_crash) == ["corrupted_payload"]
    assert "struct.error" in struct_crash["corrupted_payload"] or "IndexError" in struct_crash["corrupted_payload"]
    assert "empty body" in struct_crash["corrupted_payload"]  # the first damage tried
    zlib_crash = _only_failures(_results(ZlibUncaught()))
    assert list(zlib_crash) == ["corrupted_payload"]
    assert "zlib.error" in zlib_crash["corrupted_payload"] or "error: Error" in zlib_crash["corrupted_payload"]
    assert "PayloadError" in zlib_crash["corrupted_payload"]  # says what to raise instead


def test_catches_a_crash_on_unsupported_input() -> None:
    failures = _only_failures(_results(ReshapeCrash(), fields=False))
    assert "unsupported_input" in failures
    assert "ValueError" in failures["unsupported_input"]
    assert "CodecError" in failures["unsupported_input"]


def test_catches_nondeterministic_encode() -> None:
    failures = _only_failures(_results(Nondeterministic()))
    assert "determinism" in failures
    assert "different payloads" in failures["determinism"]
    assert "config_round_trip" in failures  # a rebuilt codec cannot reproduce the payload either


def test_catches_a_broken_default_sweep() -> None:
    typo = _only_failures(_results(TypoSweep()))
    assert list(typo) == ["default_sweep"]
    assert "'levle'" in typo["default_sweep"] and "level" in typo["default_sweep"]
    bad_value = _only_failures(_results(BadSweepValue()))
    assert list(bad_value) == ["default_sweep"]
    assert "level must be 0-9, not 12" in bad_value["default_sweep"]


def test_sweep_over_encode_params_shares_the_fitted_model() -> None:
    results = _results(PaddedKey())
    assert _only_failures(results) == {}
    assert results["default_sweep"].message == "2 settings run (2 on the shared fitted model)"
    bound = _only_failures(_results(PadBoundModel(), checks=["default_sweep"], skip=()))
    assert "load_fitted(save_fitted())" in bound["default_sweep"]
    assert "fitted for pad=0, not 3" in bound["default_sweep"]
    ghost = _only_failures(_results(GhostEncodeParam(), checks=["default_sweep"], skip=()))
    assert "encode_params names 'padding'" in ghost["default_sweep"]


def test_catches_a_declared_bound_that_does_not_hold() -> None:
    results = _results(LooseBound())
    assert _only_failures(results).keys() == {"declared_bound"}
    assert "break the declared bound {'mode': 'abs', 'value': 1e-06}" in results["declared_bound"].message


def test_registration_fails_for_a_codec_without_entry_point() -> None:
    result = _results(GoodBytes(), checks=["registration"], skip=())["registration"]
    assert result.status == "failed"
    assert "not registered under the 'codecbench.codecs' entry point" in result.message
    assert 'test-good-bytes = "tests.test_testing:GoodBytes"' in result.message or "GoodBytes" in result.message


def test_registration_passes_for_a_registered_codec() -> None:
    result = check_codec("gzip", checks=["registration"])[0]
    assert result.passed and "codecbench_plugins.lossless.gzip:GzipCodec" in result.message


# --- check_codec's reporting --------------------------------------------------------------------------


def test_check_codec_raises_one_error_listing_every_failure() -> None:
    with pytest.raises(ConformanceError) as info:
        check_codec(LyingAux(), skip=["registration"])
    err = info.value
    assert isinstance(err, AssertionError)
    assert "'test-lying-aux' failed 1 of 11 conformance checks" in str(err)
    assert "- state: " in str(err)
    assert [r.name for r in err.results] == list(CHECKS)
    assert {r.name for r in err.results if r.status == "failed"} == {"state"}


def test_check_codec_selects_and_rejects_check_names() -> None:
    results = check_codec(GoodBytes(), checks=["round_trip", "determinism"])
    assert [(r.name, r.status) for r in results] == [("round_trip", "passed"), ("determinism", "passed")]
    with pytest.raises(CodecError, match="unknown conformance check"):
        check_codec(GoodBytes(), checks=["roundtrip"])


def test_check_codec_accepts_a_class_a_spec_and_user_data() -> None:
    assert check_codec(GoodBytes, checks=["round_trip"])[0].passed
    table = sample_table(50, dtype=np.float64)
    result = check_codec({"id": "zstd", "level": 1}, data=table, checks=["round_trip"])[0]
    assert "table float64 (50, 4)" in result.message and "table float32 (50, 4)" in result.message


def test_kinds_can_be_turned_off_but_not_both() -> None:
    result = check_codec(GoodBytes(), fields=False, checks=["round_trip"])[0]
    assert "field" not in result.message and "table float32" in result.message
    with pytest.raises(CodecError, match="no inputs"):
        check_codec(GoodBytes(), fields=False, tables=False)


def test_unexpected_exception_in_a_check_is_reported_with_its_location() -> None:
    class Exploding(GoodBytes):
        codec_id = "test-exploding"

        def encode(self, data: np.ndarray) -> bytes:
            raise KeyError("boom")

    result = check_codec(Exploding(), checks=["round_trip"], raise_on_failure=False)[0]
    assert result.status == "failed"
    assert "KeyError: 'boom'" in result.message and "test_testing.py" in result.message


# --- the pytest base class ----------------------------------------------------------------------------


class _BrokenSuite(CodecConformance):  # no Test prefix: pytest does not collect it, the tests call it
    codec_spec = NanCanonicalising()
    skip_checks = ("registration",)


class _LossySuite(CodecConformance):
    codec_spec = HonestFloat16()


def test_base_class_raises_for_a_failing_check_and_skips_the_rest() -> None:
    suite = _BrokenSuite()
    suite.test_round_trip()  # passes: returns quietly
    with pytest.raises(ConformanceError, match="lossless_exact"):
        suite.test_lossless_exact()
    with pytest.raises(pytest.skip.Exception, match="skip_checks"):
        suite.test_registration()
    with pytest.raises(pytest.skip.Exception, match="does not claim to be lossless"):
        _LossySuite().test_lossless_exact()
    assert _BrokenSuite.conformance() is _BrokenSuite.conformance()  # inputs built once per class


def test_base_class_without_codec_spec_says_so() -> None:
    class _Empty(CodecConformance):
        pass

    with pytest.raises(ConformanceError, match="must set codec_spec"):
        _Empty().test_round_trip()


# --- inputs -------------------------------------------------------------------------------------------


def test_special_values_are_the_documented_bit_patterns() -> None:
    f32 = special_values(np.float32).view(np.uint32)
    assert [hex(int(v)) for v in f32] == [
        "0x7fc00000", "0x7fc0002a", "0xffc00015", "0x7f800001", "0x7f800000", "0xff800000", "0x80000000",
        "0x0", "0x1", "0x807fffff", "0x800000", "0x7f7fffff", "0xff7fffff",
    ]  # fmt: skip
    f64 = special_values(np.float64)
    assert np.isnan(f64).sum() == 4 and np.isinf(f64).sum() == 2
    assert f64.view(np.uint64)[3] == 0x7FF0000000000001  # signalling NaN kept as such
    assert f64[8] == np.finfo(np.float64).smallest_subnormal
    assert f64[11] == np.finfo(np.float64).max
    f16 = special_values(np.float16).view(np.uint16)
    assert int(f16[0]) == 0x7E00 and int(f16[4]) == 0x7C00
    with pytest.raises(CodecError):
        special_values(np.int32)


def test_with_special_values_keeps_shape_and_plants_every_pattern() -> None:
    table = sample_table(100)
    planted = with_special_values(table)
    assert planted.shape == table.shape and planted.dtype == np.float32
    bits = set(planted.reshape(-1).view(np.uint32).tolist())
    assert set(special_values(np.float32).view(np.uint32).tolist()) <= bits
    assert np.isfinite(table).all()  # the original is untouched
    tiny = with_special_values(np.zeros(3, dtype=np.float64))
    assert tiny.view(np.uint64)[0] == 0x7FF8000000000000


def test_sample_inputs_are_deterministic_and_shaped() -> None:
    assert np.array_equal(sample_table(10, seed=4), sample_table(10, seed=4))
    assert sample_table(10).shape == (10, 4) and (sample_table(500)[:, 0] >= 20).all()
    field = sample_field(3, 5, 7, dtype=np.float64)
    assert field.shape == (3, 5, 7) and field.dtype == np.float64


# --- the knob (contract 1.1) -------------------------------------------------------------------------


class KnobOnAGhost(GoodBytes):
    """Declares a knob on a parameter it does not take."""

    codec_id = "test-knob-ghost"

    def knob(self):  # noqa: ANN201 - a deliberately wrong codec
        from codecbench import Knob

        return Knob("quality", lo=1, hi=9, integer=True)


class KnobWithABadEnd(GoodBytes):
    """Declares level 0..12, but refuses 12."""

    codec_id = "test-knob-bad-end"

    def __init__(self, level: int = 6) -> None:
        if level > 9:
            raise CodecError(f"level must be 0-9, not {level}")
        super().__init__(level)

    def knob(self):  # noqa: ANN201 - a deliberately wrong codec
        from codecbench import Knob

        return Knob("level", lo=0, hi=12, integer=True)


def test_the_knob_check() -> None:
    assert _results(GoodBytes(), checks=["knob"])["knob"].status == "skipped"  # no knob: nothing to search
    ghost = _only_failures(_results(KnobOnAGhost(), checks=["knob"]))
    assert "'quality'" in ghost["knob"] and "does not take" in ghost["knob"]
    bad_end = _only_failures(_results(KnobWithABadEnd(), checks=["knob"]))
    assert "level must be 0-9, not 12" in bad_end["knob"]
    ok = _results(get_codec_for_knob(), checks=["knob"])["knob"]
    assert ok.status == "passed" and ok.message.startswith("bits over [0, 52]")


def get_codec_for_knob() -> Codec:
    from codecbench import get_codec

    return get_codec("trunc")
