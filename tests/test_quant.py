"""``quant``: the bound holds on every value of awkward data, specials come back bit for bit, bodies are checked.

Public API only (``get_codec``, ``compress``/``decompress``, ``codecbench.testing``), except where a
test builds a body by hand (``codecbench_plugins.common.body``).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from awkward_tables import awkward_table, bits

from codecbench import CodecError, Dataset, PayloadError, compress, decompress, get_codec
from codecbench.testing import CodecConformance, check_codec

pytest.importorskip("pcodec")

SETTINGS = [("abs", 0.01), ("abs", 1e-30), ("std", 1e-3), ("std", 0.3), ("rel", 1e-3), ("rel", 1e-9), ("rel", 0.2)]


def _round_trip(spec: dict, data: np.ndarray) -> tuple[object, np.ndarray]:
    """Encode through the frame, decode with a fresh instance (as a reader would); the codec and the result."""
    codec = get_codec(spec)
    out = decompress(get_codec(codec.get_config()), compress(codec, data))
    assert out.dtype == data.dtype and out.shape == data.shape
    return codec, out


def _allowed(bound: dict, x: np.ndarray, cols: list[str] | None) -> np.ndarray:
    """The allowed error of every value under a declared ``abs``/``rel`` bound."""
    value = bound["value"]
    per = np.array([value[c] for c in cols]) if isinstance(value, dict) else value
    return per * np.abs(x.astype(np.float64)) if bound["mode"] == "rel" else np.broadcast_to(per, x.shape)


def _violations(x: np.ndarray, out: np.ndarray, bound: dict, cols: list[str] | None = None) -> int:
    """Values breaking the bound; a non-finite original must come back bit for bit."""
    finite = np.isfinite(x)
    with np.errstate(invalid="ignore", over="ignore"):  # signalling NaNs and huge values in the float64 casts
        err = np.abs(out.astype(np.float64) - x.astype(np.float64))
        bad = finite & ~(err <= _allowed(bound, x, cols))
    bad |= ~finite & ~(bits(out) == bits(x))
    return int(np.count_nonzero(bad))


@pytest.mark.parametrize("coder", ["pcodec", "zstd"])
@pytest.mark.parametrize(("mode", "value"), SETTINGS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_bound_holds_on_every_value_of_awkward_data(dtype: str, mode: str, value: float, coder: str) -> None:
    """NaN (payloads, signalling), +-Inf, -0.0, subnormals, constant, integer and huge columns."""
    data, cols = awkward_table(np.dtype(dtype))
    codec, out = _round_trip({"id": "quant", "mode": mode, "error_bound": value, "coder": coder, "columns": cols}, data)
    assert _violations(data, out, codec.declared_bound(), cols) == 0
    special = ~np.isfinite(data)
    assert np.array_equal(bits(out[special]), bits(data[special]))  # NaN payloads, signalling NaN, Inf
    assert np.array_equal(out[:, cols.index("ints")], data[:, cols.index("ints")])  # integer columns exact
    assert np.array_equal(bits(out[:, cols.index("const")]), bits(data[:, cols.index("const")]))


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("spec", [{"mode": "std", "error_bound": 1e-3}, {"mode": "rel", "error_bound": 1e-4}])
def test_harness_bound_check_passes_on_awkward_data(spec: dict) -> None:
    """The conformance kit's bound check (codecbench's own, with special values added) on the awkward table."""
    data, cols = awkward_table(np.float32)
    check_codec(
        {"id": "quant", **spec, "columns": cols}, Dataset("awkward", data, columns=cols), checks=["declared_bound"]
    )


def test_std_mode_gives_rel_rms_of_bound_over_sqrt3() -> None:
    x = np.random.default_rng(0).normal(5.0, 2.0, (200_000, 1)).astype(np.float32)
    _, out = _round_trip({"id": "quant", "mode": "std", "error_bound": 1e-3, "columns": ["x"]}, x)
    rel_rms = float(np.sqrt(np.mean((out.astype(float) - x) ** 2)) / x.astype(float).std())
    assert rel_rms == pytest.approx(1e-3 / math.sqrt(3), rel=0.01)


def test_float32_rounding_is_inside_the_step() -> None:
    """A bound 1.75 float32 ulps wide: ``q * 2e`` (float64) rounded to float32 breaks it; the shrunk step does not."""
    x = np.random.default_rng(2).uniform(1000.0, 1001.0, 50_000).astype(np.float32)
    x64 = x.astype(np.float64)
    e = 1.75 * float(np.spacing(np.float32(1000.0)))
    naive = (np.rint(x64 / (2 * e)) * (2 * e)).astype(np.float32)
    assert np.count_nonzero(np.abs(naive.astype(float) - x64) > e) > 0  # the premise: the naive step fails
    codec, out = _round_trip({"id": "quant", "mode": "abs", "error_bound": e, "lossless_fallback": False}, x)
    assert np.abs(out.astype(float) - x64).max() <= e
    # no value needed the exception path: the step itself keeps the bound (the encoder's check would
    # otherwise store the misses exactly, which hides a wrong step behind a correct result)
    assert codec.report_extras()["quant_kinds"] == {"x0": "linear"} and codec.report_extras()["quant_exceptions"] == 0


def test_bound_below_resolution_stores_exact() -> None:
    x = np.random.default_rng(3).normal(1.0, 1.0, 1000).astype(np.float32)
    codec, out = _round_trip({"id": "quant", "mode": "abs", "error_bound": 1e-12}, x)
    assert np.array_equal(bits(out), bits(x))
    assert codec.report_extras()["quant_kinds"] == {"x0": "exact"}


def test_rel_mode_keeps_zeros_and_signs() -> None:
    x = np.array([0.0, -0.0, 1.5, -1.5, 1e-30, -3e20, 7.0], dtype=np.float32)
    _, out = _round_trip({"id": "quant", "mode": "rel", "error_bound": 1e-2}, x)
    assert out[0] == 0 and out[1] == 0
    assert np.all(np.sign(out) == np.sign(x))
    assert np.all(np.abs(out.astype(float) - x) <= 1e-2 * np.abs(x.astype(float)))


def test_field_is_one_variable() -> None:
    field = np.random.default_rng(4).normal(0.0, 1.0, (6, 10, 10)).astype(np.float32)
    codec, out = _round_trip({"id": "quant", "mode": "std", "error_bound": 1e-2}, field)
    assert len(codec.report_extras()["quant_kinds"]) == 1
    bound = codec.declared_bound()
    assert bound["mode"] == "abs" and bound["value"] == pytest.approx(1e-2 * field.astype(float).std())
    assert _violations(field, out, bound) == 0


def test_std_bound_covers_every_chunk() -> None:
    """The declared std bound after several encodes is the loosest one, so row chunks are all covered."""
    rng = np.random.default_rng(5)
    a, b = rng.normal(0, 1, (500, 2)), rng.normal(0, 10, (500, 2))
    codec = get_codec({"id": "quant", "mode": "std", "error_bound": 1e-2, "columns": ["u", "v"]})
    outs = [codec.decode(codec.encode(c)) for c in (a, b)]
    bound = codec.declared_bound()
    assert bound["value"]["u"] == pytest.approx(1e-2 * b[:, 0].std())
    assert _violations(np.concatenate([a, b]), np.concatenate(outs), bound, ["u", "v"]) == 0


def test_per_column_bounds() -> None:
    data, cols = awkward_table(np.float64)
    codec, out = _round_trip(
        {"id": "quant", "mode": "abs", "error_bound": {"gauss": 0.5, "*": 0.01}, "columns": cols}, data
    )
    assert codec.declared_bound()["value"]["gauss"] == 0.5
    assert _violations(data, out, codec.declared_bound(), cols) == 0
    assert codec.knob() is None  # one knob cannot move bounds given per column
    with pytest.raises(CodecError, match="lacks columns"):
        compress(get_codec({"id": "quant", "mode": "abs", "error_bound": {"gauss": 0.5}, "columns": cols}), data)


@pytest.mark.parametrize(
    "bad",
    [{"mode": "psnr"}, {"error_bound": 0}, {"error_bound": -1}, {"coder": "lz4"}, {"level": 99}, {"by_column": 1}],
)
def test_bad_parameters_are_refused(bad: dict) -> None:
    with pytest.raises(CodecError):
        get_codec({"id": "quant", **bad})


def test_non_float_input_is_refused() -> None:
    with pytest.raises(CodecError, match="float16, float32 and float64"):
        compress(get_codec("quant"), np.arange(10, dtype=np.int32))


def test_unknown_version_is_refused_by_name() -> None:
    from codecbench_plugins.common.body import pack
    from codecbench_plugins.quantization.quant import MAGIC

    body = pack(MAGIC, 2, np.dtype(np.float32), (3,), b"", [])
    with pytest.raises(PayloadError, match="format version 2"):
        get_codec("quant").decode(body)


def test_frame_mismatch_is_refused() -> None:
    """Contract 1.1: the frame's dtype and shape, when passed, must match the body's."""
    x = np.ones((10, 2), dtype=np.float32)
    body = get_codec("quant").encode(x)
    assert np.array_equal(get_codec("quant").decode(body, dtype=np.dtype(np.float32), shape=(10, 2)), x)
    with pytest.raises(PayloadError, match="frame says"):
        get_codec("quant").decode(body, dtype=np.dtype(np.float64))
    with pytest.raises(PayloadError, match="frame says"):
        get_codec("quant").decode(body, shape=(20,))


def test_damaged_bodies_raise_payload_error() -> None:
    data, cols = awkward_table(np.float32, n=300)
    codec = get_codec({"id": "quant", "mode": "rel", "error_bound": 1e-3, "columns": cols})
    body = codec.encode(data)
    rng = np.random.default_rng(6)
    damaged = [body[:c] for c in sorted(set(rng.integers(0, len(body), 60).tolist()))] + [body + b"x"]
    for pos in rng.integers(0, len(body), 60):
        flipped = bytearray(body)
        flipped[pos] ^= 1 << int(rng.integers(0, 8))
        damaged.append(bytes(flipped))
    for d in damaged:
        with pytest.raises(PayloadError):
            codec.decode(d)


def test_config_is_json_and_rebuilds() -> None:
    codec = get_codec(
        {"id": "quant", "mode": "rel", "error_bound": 1e-4, "coder": "zstd", "level": 5, "columns": ["a"]}
    )
    assert get_codec(json.loads(json.dumps(codec.get_config()))) == codec


def test_values_missing_the_bound_become_exceptions() -> None:
    """Subnormals in rel mode: exp2 rounded to a subnormal loses relative precision; those values are
    stored as exceptions (bit for bit) and the bound still holds everywhere."""
    smallest = float(np.finfo(np.float32).smallest_subnormal)
    x = (np.random.default_rng(7).integers(1, 1000, 2000) * smallest).astype(np.float32)
    codec, out = _round_trip({"id": "quant", "mode": "rel", "error_bound": 1e-3, "lossless_fallback": False}, x)
    assert codec.report_extras()["quant_exceptions"] > 0
    assert _violations(x, out, codec.declared_bound()) == 0


def test_lossless_fallback_stores_coarse_grids_exactly() -> None:
    """A column already on a grid coarser than the bound (NanoAOD-like) is cheaper stored exactly."""
    x = (np.round(np.random.default_rng(8).normal(0, 1, (5000, 1)) * 64) / 64).astype(np.float32)
    with_fallback, out = _round_trip({"id": "quant", "error_bound": 1e-4, "columns": ["x"]}, x)
    assert with_fallback.report_extras()["quant_kinds"] == {"x": "exact"} and np.array_equal(out, x)
    without = get_codec({"id": "quant", "error_bound": 1e-4, "columns": ["x"], "lossless_fallback": False})
    assert len(compress(with_fallback, x)) <= len(compress(without, x))


def test_knob_and_hint() -> None:
    std = get_codec("quant")
    assert std.knob().param == "error_bound" and std.knob().log and std.knob().finer == "down"
    assert std.knob_hint("worst_rel_rms", 5e-4) == pytest.approx(math.sqrt(3) * 5e-4)
    assert std.knob_hint("max_abs_error", 1e-3) is None
    absolute = get_codec({"id": "quant", "mode": "abs"})
    assert absolute.knob().hi > 1 and absolute.knob_hint("max_abs_error", 1e-3) == 1e-3


def test_default_sweep() -> None:
    assert get_codec("quant").default_sweep == {"error_bound": [1e-1, 1e-2, 1e-3, 1e-4, 1e-5]}


class TestQuantConformance(CodecConformance):
    codec_spec = "quant"


class TestQuantAbsConformance(CodecConformance):
    codec_spec = {"id": "quant", "mode": "abs", "error_bound": 0.01}


class TestQuantRelZstdConformance(CodecConformance):
    codec_spec = {"id": "quant", "mode": "rel", "coder": "zstd"}


class TestQuantNoIntegersConformance(CodecConformance):
    codec_spec = {"id": "quant", "exact_integers": False, "lossless_fallback": False}
