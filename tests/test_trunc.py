"""Tests of the ``trunc`` codec: exact relative-error bound, pass-through of specials, per-column bits."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from codecbench_plugins.truncation.trunc import TruncCodec, round_mantissa

from codecbench import CodecError, PayloadError, compress, decompress, get_codec

_UINT = {np.float16: np.uint16, np.float32: np.uint32, np.float64: np.uint64}
_MBITS = {np.float16: 10, np.float32: 23, np.float64: 52}


def hard_values(dtype: type, n: int = 20000, seed: int = 0) -> np.ndarray:
    """Finite nonzero values over the whole exponent range: normals, subnormals, values near the max."""
    rng = np.random.default_rng(seed)
    fi = np.finfo(dtype)
    ut, mb = _UINT[dtype], _MBITS[dtype]
    bits = rng.integers(0, np.iinfo(ut).max, n, dtype=ut, endpoint=True)
    normal = bits.view(dtype)
    normal = normal[np.isfinite(normal) & (normal != 0)]
    sub = rng.integers(1, 2**mb, n // 4, dtype=np.uint64).astype(ut).view(dtype)
    near_max = (fi.max * rng.uniform(0.5, 1.0, n // 4)).astype(dtype)
    # mantissa all ones at the top exponent: rounds up to Inf unless clamped
    edge = np.array([fi.max, -fi.max, fi.smallest_subnormal, -fi.smallest_subnormal, fi.tiny, 1.0], dtype=dtype)
    return np.concatenate([normal, sub, -sub, near_max, -near_max, edge])


def rel_errors(x: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|r - x| and |x| in extended precision (exact for these dtypes)."""
    xl, rl = x.astype(np.longdouble), r.astype(np.longdouble)
    return np.abs(rl - xl), np.abs(xl)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("bits", [0, 1, 4, 7, 10, 12, 20])
def test_relative_bound_is_exact(dtype: type, bits: int) -> None:
    x = hard_values(dtype)
    r = round_mantissa(x, bits)
    assert r.dtype == x.dtype
    assert np.all(np.isfinite(r)), "a finite value was rounded to Inf"
    err, mag = rel_errors(x, r)
    bound = np.longdouble(2.0) ** -(bits + 1)
    worst = err / mag
    assert np.all(err <= bound * mag), f"worst relative error {float(worst.max())} > {float(bound)}"
    if bits < _MBITS[dtype] - 2:
        # the bound is tight: round-to-nearest gets close to half a quantum somewhere
        assert float(worst.max()) > 0.9 * float(bound)


def test_matches_numcodecs_bitround_on_normal_values() -> None:
    x = np.random.default_rng(1).standard_normal(5000).astype(np.float32)
    # BitRound's reference formula, written out: add half a quantum minus one plus the kept LSB, mask
    u = x.view(np.uint32)
    for keep in (3, 10, 17):
        drop = np.uint32(23 - keep)
        half = (np.uint32(1) << (drop - np.uint32(1))) - np.uint32(1)
        ref = (u + ((u >> drop) & np.uint32(1)) + half) & ~((np.uint32(1) << drop) - np.uint32(1))
        assert np.array_equal(round_mantissa(x, keep).view(np.uint32), ref)


def test_ties_round_to_even() -> None:
    # 1 + 2^-11 + 2^-23*0 sits exactly between 1 and 1 + 2^-10 at bits=10: ties go to the even (1.0)
    x = np.array([1 + 2.0**-11, 1 + 3 * 2.0**-11], dtype=np.float32)
    r = round_mantissa(x, 10)
    assert r.tolist() == [1.0, 1 + 4 * 2.0**-11]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_specials_pass_through_bit_for_bit(dtype: type) -> None:
    ut = _UINT[dtype]
    nan_payload = np.array([np.nan], dtype=dtype).view(ut) | ut(0b1011)  # quiet NaN with payload bits
    neg_nan = np.array([-np.nan], dtype=dtype)
    specials = np.concatenate(
        [nan_payload.view(dtype), neg_nan, np.array([np.inf, -np.inf, 0.0, -0.0, 1.5], dtype=dtype)]
    )
    codec = TruncCodec(bits=3)
    out = decompress(codec, compress(codec, specials))
    assert np.array_equal(out[:-1].view(ut), specials[:-1].view(ut))
    assert np.signbit(out[5]) and out[5] == 0


def test_largest_finite_is_not_rounded_to_inf() -> None:
    fmax = np.finfo(np.float32).max
    r = round_mantissa(np.array([fmax, -fmax], dtype=np.float32), 4)
    assert np.all(np.isfinite(r))
    assert r[0] == np.float32(2.0**127 * (2 - 2.0**-4)) and r[1] == -r[0]


def test_subnormals_keep_relative_precision() -> None:
    tiny = np.array([1, 3, 0b1011011], dtype=np.uint32).view(np.float32)  # 1, 3 and 91 * 2^-149
    r = round_mantissa(tiny, 2)
    assert r.view(np.uint32).tolist() == [1, 3, 0b1100000]  # 91 -> 96: 3 significant bits kept


@pytest.mark.parametrize("backend", ["blosc", "zstd"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_through_frame(backend: str, dtype: type) -> None:
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((500, 4)) * 100).astype(dtype)
    codec = get_codec({"id": "trunc", "bits": 8, "backend": backend})
    payload = compress(codec, x)
    out = decompress(codec, payload)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert np.array_equal(out, round_mantissa(x, 8))
    err, mag = rel_errors(x, out)
    assert np.all(err <= 2.0**-9 * mag)
    assert len(payload) < x.nbytes * 0.75  # zeroed low bits compress
    assert codec.declared_bound() == {"mode": "rel", "value": 2.0**-9}


def test_backends_are_not_interchangeable() -> None:
    x = np.linspace(1, 2, 1000, dtype=np.float32)
    body = TruncCodec(bits=10, backend="zstd").encode(x)
    with pytest.raises(PayloadError, match="blosc"):
        TruncCodec(bits=10, backend="blosc").decode(body)


def test_per_column_bits() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(1, 2, (1000, 3)).astype(np.float32)
    codec = TruncCodec(bits={"a": 4, "b": 12, "*": 20}, columns=["a", "b", "c"])
    out = decompress(codec, compress(codec, x))
    for j, b in enumerate([4, 12, 20]):
        assert np.array_equal(out[:, j], round_mantissa(x[:, j], b))
        err, mag = rel_errors(x[:, j], out[:, j])
        assert np.all(err <= 2.0 ** -(b + 1) * mag)
    assert codec.declared_bound() == {"mode": "rel", "value": {"a": 2.0**-5, "b": 2.0**-13, "c": 2.0**-21}}
    assert codec.report_extras() == {"trunc_bits": {"a": 4, "b": 12, "c": 20}}


def test_preset_nanoaod_matches_by_suffix_and_case() -> None:
    cols = ["Jet_pt", "Jet_ETA", "Jet_phi", "Jet_mass", "Jet_btagDeepB", "Jet_rawpt"]
    codec = TruncCodec(preset="nanoaod", columns=cols)
    assert [codec.bits_for(c) for c in cols] == [10, 12, 12, 10, 10, 10]
    # user bits override the preset per column; an integer sets the other columns
    assert TruncCodec(preset="nanoaod", bits={"Jet_eta": 5}, columns=cols).column_bits() == [10, 5, 12, 10, 10, 10]
    assert TruncCodec(preset="nanoaod", bits=7, columns=cols).column_bits() == [10, 12, 12, 10, 7, 7]
    x = np.random.default_rng(4).uniform(10, 100, (200, 6)).astype(np.float32)
    out = decompress(codec, compress(codec, x))
    assert np.array_equal(out[:, 1], round_mantissa(x[:, 1], 12))
    assert np.array_equal(out[:, 4], round_mantissa(x[:, 4], 10))
    assert codec.declared_bound()["value"]["Jet_ETA"] == 2.0**-13


def test_preset_without_columns_uses_the_others_bits() -> None:
    codec = TruncCodec(preset="nanoaod")
    assert codec.column_bits() == 10
    assert codec.declared_bound() == {"mode": "rel", "value": 2.0**-11}


def test_longest_key_wins() -> None:
    codec = TruncCodec(bits={"pt": 6, "Jet_pt": 14, "*": 8}, columns=["Jet_pt", "Muon_pt", "x"])
    assert codec.column_bits() == [14, 6, 8]


def test_config_round_trip_and_sweep() -> None:
    codec = TruncCodec(bits={"pt": 6, "*": 9}, columns=["pt", "x"], backend="zstd")
    cfg = codec.get_config()
    assert cfg == {"id": "trunc", "bits": {"pt": 6, "*": 9}, "preset": None, "columns": ["pt", "x"], "backend": "zstd"}
    assert get_codec(cfg) == codec
    assert TruncCodec.default_sweep == {"bits": list(range(4, 21))}
    assert "columns" in TruncCodec.param_names()  # the runner fills it in for tables


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"bits": -1}, "non-negative"),
        ({"bits": 2.5}, "non-negative"),
        ({"bits": {"pt": "x"}}, "bits\\['pt'\\]"),
        ({"preset": "miniaod"}, "preset"),
        ({"backend": "lz4"}, "backend"),
        ({"columns": "pt"}, "list of column names"),
    ],
)
def test_bad_parameters(params: dict, match: str) -> None:
    with pytest.raises(CodecError, match=match):
        get_codec({"id": "trunc", **params})


def test_bad_input() -> None:
    with pytest.raises(CodecError, match="float16, float32 and float64"):
        TruncCodec().encode(np.arange(10, dtype=np.int32))
    with pytest.raises(CodecError, match="no column names"):
        TruncCodec(bits={"pt": 5}).encode(np.ones(10, dtype=np.float32))
    with pytest.raises(CodecError, match="no bits for column 'eta'"):
        TruncCodec(bits={"pt": 5}, columns=["pt", "eta"]).encode(np.ones((3, 2), dtype=np.float32))
    with pytest.raises(CodecError, match="shape"):
        TruncCodec(bits={"pt": 5, "eta": 6}, columns=["pt", "eta"]).encode(np.ones((3, 3), dtype=np.float32))


def test_bits_10_keeps_every_value_within_2_to_minus_11_on_every_dataset():
    """Issue 2: trunc at bits=10 on every registered dataset whose data is here (files or generators)."""
    from codecbench import compress, decompress, get_codec, load_dataset
    from codecbench.data.catalog import list_datasets

    checked = []
    for entry in list_datasets():
        if not entry["available"] or entry["name"].startswith("pythia-") and entry["source"] == "generated":
            continue  # remote files not downloaded here; the Pythia generator has its own tests
        ds = load_dataset(entry["name"])
        codec = get_codec({"id": "trunc", "bits": 10, "columns": ds.columns if ds.kind == "table" else None})
        out = decompress(codec, compress(codec, ds.data))
        o, r = ds.data.astype(np.float64), out.astype(np.float64)
        finite = np.isfinite(o)
        assert np.all(np.abs(r[finite] - o[finite]) <= 2.0**-11 * np.abs(o[finite])), entry["name"]
        checked.append(entry["name"])
    assert {"jets-synthetic", "cfd-synthetic"} <= set(checked)
    if os.environ.get("CODECBENCH_DATA_PATH") and Path(os.environ["CODECBENCH_DATA_PATH"], "uproot-HZZ.root").exists():
        assert {"hzz-jets", "cms-ttbar-jets", "baler-cfd", "pythia-qcd-jets-205k"} <= set(checked)
