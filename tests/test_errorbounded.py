"""Tests of the error-bounded reference codecs (sz3, zfp, fpzip, bitround): round trips and bound checks."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from codecbench import CodecError, PayloadError, compress, decompress, get_codec
from codecbench.measure.bounds import check_bound

pytest.importorskip("pysz")
pytest.importorskip("zfpy")
pytest.importorskip("fpzip")


def smooth_field(shape: tuple[int, ...] = (8, 40, 50), dtype: type = np.float32, seed: int = 0) -> np.ndarray:
    """A smooth N-d field with noise, values of order 10."""
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.linspace(0, 3, n) for n in shape], indexing="ij")
    field = 10 * np.sin(sum(grids)) + 0.1 * rng.standard_normal(shape)
    return field.astype(dtype)


def jet_table(n: int = 3000, seed: int = 1) -> tuple[np.ndarray, list[str]]:
    """pt (20..500), eta (-2.5..2.5), phi, mass: columns of very different scales."""
    rng = np.random.default_rng(seed)
    pt = 20 + rng.exponential(60, n)
    table = np.stack([pt, rng.uniform(-2.5, 2.5, n), rng.uniform(-np.pi, np.pi, n), pt * rng.uniform(0.05, 0.2, n)])
    return np.ascontiguousarray(table.T.astype(np.float32)), ["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"]


def round_trip(spec: dict | str, data: np.ndarray) -> tuple[np.ndarray, dict, int]:
    """Compress through the frame, decode with a fresh instance, check the declared bound."""
    codec = get_codec(spec)
    payload = compress(codec, data)
    out = decompress(get_codec(codec.get_config()), payload)
    assert out.shape == data.shape and out.dtype == data.dtype
    bound = codec.declared_bound()
    columns = codec.get_config().get("columns")
    checked = check_bound(data, out, bound, columns) if bound is not None else {}
    return out, checked, len(payload)


# --- sz3 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("eb", [1e-1, 1e-3, 1e-5])
def test_sz3_rel_keeps_its_bound(dtype: type, eb: float) -> None:
    x = smooth_field(dtype=dtype)
    out, checked, size = round_trip({"id": "sz3", "mode": "rel", "error_bound": eb}, x)
    assert checked["bound_mode"] == "rel_range" and checked["bound_value"] == eb
    assert checked["bound_violations"] == 0, checked
    err = np.abs(out.astype(np.float64) - x)
    assert err.max() <= eb * float(x.max() - x.min()) * (1 + 1e-12)
    assert err.max() > eb * float(x.max() - x.min()) * 0.3  # it uses the budget, it is not lossless
    assert size < x.nbytes


def test_sz3_abs_and_abs_and_rel() -> None:
    x = smooth_field()
    _, checked, _ = round_trip({"id": "sz3", "mode": "abs", "error_bound": 0.01}, x)
    assert checked["bound_mode"] == "abs" and checked["bound_violations"] == 0
    assert 0.3 < checked["bound_worst_ratio"] <= 1.0
    spec = {"id": "sz3", "mode": "abs_and_rel", "error_bound": 0.5, "rel_bound": 1e-4}  # rel is the tighter
    out, checked, _ = round_trip(spec, x)
    assert checked["bound_mode"] == "abs_and_rel_range" and checked["bound_violations"] == 0
    assert np.abs(out - x).max() <= 1e-4 * float(x.max() - x.min()) * (1 + 1e-6)


def test_sz3_psnr_and_l2norm_are_checked_globally() -> None:
    x = smooth_field()
    _, checked, _ = round_trip({"id": "sz3", "mode": "psnr", "error_bound": 60.0}, x)
    assert checked["bound_mode"] == "psnr" and checked["bound_blocks"] == 1
    assert checked["bound_achieved"] >= 60.0 and checked["bound_violations"] == 0
    _, checked, _ = round_trip({"id": "sz3", "mode": "l2norm", "error_bound": 1.0}, x)
    assert checked["bound_mode"] == "l2norm" and 0 < checked["bound_achieved"] <= 1.0


def test_sz3_per_column_bounds_on_a_table() -> None:
    x, cols = jet_table()
    spec = {"id": "sz3", "mode": "abs", "error_bound": {"Jet_pt": 0.5, "*": 1e-3}, "columns": cols}
    out, checked, _ = round_trip(spec, x)
    assert checked["bound_value"] == {"Jet_pt": 0.5, "Jet_eta": 1e-3, "Jet_phi": 1e-3, "Jet_mass": 1e-3}
    assert checked["bound_violations"] == 0
    assert np.abs(out[:, 0] - x[:, 0]).max() > 0.01  # pt used its looser bound
    assert np.abs(out[:, 1] - x[:, 1]).max() <= 1e-3


def test_sz3_by_column_rel_uses_each_columns_range() -> None:
    x, cols = jet_table()
    out, checked, _ = round_trip({"id": "sz3", "error_bound": 1e-3, "by_column": True, "columns": cols}, x)
    assert checked["bound_value"] == dict.fromkeys(cols, 1e-3)
    assert checked["bound_violations"] == 0
    eta_err = np.abs(out[:, 1] - x[:, 1]).max()
    assert eta_err <= 1e-3 * 5.0 * (1 + 1e-6)  # eta's own range (5), not pt's (hundreds)
    # the whole table as one 2-D array: the bound is relative to the table's range, far looser for eta
    _, whole, _ = round_trip({"id": "sz3", "error_bound": 1e-3}, x)
    assert whole["bound_mode"] == "rel_range" and whole["bound_value"] == 1e-3 and whole["bound_violations"] == 0


def test_sz3_folds_high_dimensions_and_handles_empty() -> None:
    x = smooth_field((2, 3, 1, 10, 12, 5))
    out, checked, _ = round_trip({"id": "sz3", "error_bound": 1e-3}, x)
    assert checked["bound_violations"] == 0
    empty = np.zeros((0, 4), dtype=np.float32)
    out, _, _ = round_trip("sz3", empty)
    assert out.shape == (0, 4)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"mode": "linf"}, "mode"),
        ({"error_bound": 0}, "positive"),
        ({"error_bound": -1e-3}, "positive"),
        ({"mode": "abs_and_rel", "error_bound": 1e-3}, "rel_bound"),
        ({"rel_bound": 1e-3}, "only used"),
        ({"error_bound": {"a": 1e-3}, "by_column": False}, "by_column"),
        ({"algorithm": "magic"}, "algorithm"),
    ],
)
def test_sz3_bad_parameters(params: dict, match: str) -> None:
    with pytest.raises(CodecError, match=match):
        get_codec({"id": "sz3", **params})


def test_sz3_bad_input_and_payload() -> None:
    with pytest.raises(CodecError, match="float32 and float64"):
        get_codec("sz3").encode(np.arange(10, dtype=np.int32))
    with pytest.raises(CodecError, match="no column names"):
        get_codec({"id": "sz3", "error_bound": {"a": 1e-3}}).encode(np.ones((5, 2), dtype=np.float32))
    with pytest.raises(CodecError, match="no value for columns"):
        get_codec({"id": "sz3", "error_bound": {"a": 1e-3}, "columns": ["a", "b"]}).encode(np.ones((5, 2), np.float32))
    codec = get_codec("sz3")
    body = codec.encode(smooth_field())
    with pytest.raises(PayloadError):
        codec.decode(body[:-10])
    with pytest.raises(PayloadError, match="header"):
        codec.decode(b"garbage" + body)


# --- zfp -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zfp_tolerance_relative_and_absolute(dtype: type) -> None:
    x = smooth_field(dtype=dtype)
    for tol in (1e-2, 1e-4):
        _, checked, _ = round_trip({"id": "zfp", "tolerance": tol}, x)
        assert checked["bound_mode"] == "rel_range" and checked["bound_violations"] == 0
        _, checked, _ = round_trip({"id": "zfp", "tolerance": tol, "relative": False}, x)
        assert checked["bound_mode"] == "abs" and checked["bound_violations"] == 0
        assert checked["bound_worst_ratio"] > 0.01


def test_zfp_precision_and_rate_declare_no_bound() -> None:
    x = smooth_field()
    out, checked, size = round_trip({"id": "zfp", "mode": "rate", "rate": 8}, x)
    assert checked == {}
    assert size == pytest.approx(x.size * 8 / 8, rel=0.1)  # fixed rate: 8 bits per value
    out, checked, _ = round_trip({"id": "zfp", "mode": "precision", "precision": 20}, x)
    assert checked == {} and 0 < np.abs(out - x).max() < 1e-2


def test_zfp_refuses_nan_and_inf() -> None:
    x = smooth_field()
    x[0, 0, 0], x[3, 3, 3] = np.nan, np.inf
    with pytest.raises(CodecError, match="NaN or Inf \\(2 values"):
        compress(get_codec("zfp"), x)
    # zfpy itself (through the numcodecs adapter) returns other numbers for them: the check shows it
    raw = get_codec('numcodecs:{"id": "zfpy", "tolerance": 0.01}')
    out = decompress(raw, compress(raw, x))
    assert check_bound(x, out, {"mode": "abs", "value": 0.01})["bound_nonfinite_mismatches"] >= 1


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"mode": "fixed"}, "mode"),
        ({"tolerance": 0}, "tolerance"),
        ({"precision": 0}, "precision"),
        ({"rate": 0}, "rate"),
    ],
)
def test_zfp_bad_parameters(params: dict, match: str) -> None:
    with pytest.raises(CodecError, match=match):
        get_codec({"id": "zfp", **params})


# --- fpzip -----------------------------------------------------------------------------------------


def test_fpzip_precision_is_bits_kept() -> None:
    x = smooth_field() + 20  # values 10..30, no zeros
    out16, checked, _ = round_trip({"id": "fpzip", "precision": 16}, x)
    rel = np.abs(out16.astype(np.float64) - x) / np.abs(x)
    # 16 bits kept = sign + 8 exponent + 7 mantissa bits: relative error below 2^-7, and near it
    assert checked["bound_mode"] == "rel_or_abs" and checked["bound_value"]["rel"] == 2.0**-7
    assert checked["bound_violations"] == 0
    assert 2.0**-9 < rel.max() < 2.0**-7
    out24, _, _ = round_trip({"id": "fpzip", "precision": 24}, x)
    assert np.abs(out24 - x).max() < np.abs(out16 - x).max() / 100
    for lossless in (0, 32):
        out, checked, _ = round_trip({"id": "fpzip", "precision": lossless}, x)
        assert np.array_equal(out, x) and checked["bound_value"] == 0.0 and checked["bound_violations"] == 0


def test_fpzip_float64_and_subnormals() -> None:
    x = smooth_field(dtype=np.float64) + 20
    _, checked, _ = round_trip({"id": "fpzip", "precision": 30}, x)
    assert checked["bound_value"] == {"rel": 2.0**-18, "abs": 2.0**-18 * np.finfo(np.float64).tiny}
    assert checked["bound_violations"] == 0
    with pytest.raises(CodecError, match="even"):
        get_codec({"id": "fpzip", "precision": 31}).encode(x)
    # subnormals have fewer significant bits: fpzip keeps the absolute floor there, not the relative bound
    tiny = np.arange(1, 2001, dtype=np.uint32).view(np.float32)
    out, checked, _ = round_trip({"id": "fpzip", "precision": 16}, tiny)
    assert checked["bound_violations"] == 0
    assert check_bound(tiny, out, {"mode": "rel", "value": 2.0**-7})["bound_violations"] > 0


def test_fpzip_nans() -> None:
    bits = np.array([0x7FC00000, 0xFFC00015, 0x7F800000, 0x3F800000], dtype=np.uint32)  # quiet NaNs, Inf, 1.0
    x = bits.view(np.float32)
    out, checked, _ = round_trip({"id": "fpzip", "precision": 16}, x)
    assert np.isnan(out[:2]).all() and out[2] == np.inf and checked["bound_violations"] == 0
    signalling = np.concatenate([x, np.array([0x7F800001], dtype=np.uint32).view(np.float32)])
    with pytest.raises(CodecError, match="turn 1 NaNs into Inf"):
        compress(get_codec({"id": "fpzip", "precision": 16}), signalling)
    out, _, _ = round_trip({"id": "fpzip", "precision": 0}, signalling)  # lossless keeps it
    assert np.array_equal(out.view(np.uint32), signalling.view(np.uint32))


def test_fpzip_bad_precision() -> None:
    with pytest.raises(CodecError, match="from 0"):
        get_codec({"id": "fpzip", "precision": 65})
    with pytest.raises(CodecError, match="from 10 to 32"):
        get_codec({"id": "fpzip", "precision": 40}).encode(np.ones(4, dtype=np.float32))


# --- bitround --------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["blosc", "zstd"])
def test_bitround_matches_trunc_on_normal_values(backend: str) -> None:
    x = smooth_field() + 20
    for k in (4, 10, 17):
        out, checked, size = round_trip({"id": "bitround", "keepbits": k, "backend": backend}, x)
        ref = decompress(get_codec({"id": "trunc", "bits": k}), compress(get_codec({"id": "trunc", "bits": k}), x))
        assert np.array_equal(out, ref)
        assert checked["bound_value"]["rel"] == 2.0 ** -(k + 1) and checked["bound_violations"] == 0
        assert size < x.nbytes


def test_bitround_where_it_differs_from_trunc() -> None:
    x = np.array([1e-45, 3e-44, 1.0, np.nan, np.inf], dtype=np.float32)
    out, checked, _ = round_trip({"id": "bitround", "keepbits": 4}, x)
    # subnormals are flushed to zero: within the declared absolute floor, not within the relative bound
    assert checked["bound_mode"] == "rel_or_abs" and checked["bound_violations"] == 0
    assert out[0] == 0 and out[1] == 0
    assert check_bound(x, out, {"mode": "rel", "value": 2.0**-5})["bound_violations"] == 2
    out_trunc, checked, _ = round_trip({"id": "trunc", "bits": 4}, x)
    assert checked["bound_mode"] == "rel" and checked["bound_violations"] == 0 and out_trunc[0] == x[0]


def test_bitround_refuses_values_it_would_turn_into_inf() -> None:
    signalling_nan = np.array([0x7F800001], dtype=np.uint32).view(np.float32)[0]
    for bad in (np.finfo(np.float32).max, signalling_nan):
        x = np.array([1.0, bad, 2.0], dtype=np.float32)
        with pytest.raises(CodecError, match="turned 1 finite or NaN values into Inf"):
            compress(get_codec({"id": "bitround", "keepbits": 4}), x)
        # BitRound itself, run raw through the adapter, stores the Inf: the bound check shows it
        raw = get_codec({"id": "numcodecs.bitround", "keepbits": 4})
        out = decompress(raw, compress(raw, x))
        report = check_bound(x, out, {"mode": "rel", "value": 2.0**-5})
        assert np.isinf(out[1]) and report["bound_violations"] == 1 and report["bound_nonfinite_mismatches"] == 1


def test_bitround_bad_parameters() -> None:
    with pytest.raises(CodecError, match="keepbits"):
        get_codec({"id": "bitround", "keepbits": -1})
    with pytest.raises(CodecError, match="at most 23"):
        get_codec({"id": "bitround", "keepbits": 30}).encode(np.ones(3, dtype=np.float32))
    with pytest.raises(PayloadError, match="zstd"):
        get_codec({"id": "bitround", "backend": "zstd"}).decode(b"not zstd")


# --- registry and runner ---------------------------------------------------------------------------


def test_default_sweeps_are_declared() -> None:
    from codecbench.plugins import get_codec_class

    assert get_codec_class("sz3").default_sweep == {"error_bound": [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6]}
    assert get_codec_class("zfp").default_sweep == {"tolerance": [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6]}
    assert get_codec_class("fpzip").default_sweep == {"precision": [14, 16, 20, 24, 28, 30]}
    assert get_codec_class("bitround").default_sweep == {"keepbits": list(range(4, 21))}


def test_missing_library_is_reported_with_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from codecbench import plugins

    plugins.refresh()
    monkeypatch.setitem(sys.modules, "pysz", None)  # makes `import pysz` raise ImportError
    monkeypatch.delitem(sys.modules, "codecbench_plugins.errorbounded.sz3", raising=False)
    try:
        info = plugins.describe("sz3")
        assert info.status == "needs sota extra"
        assert "pip install 'codecbench[sota]'" in info.error
        with pytest.raises(Exception, match=r"codecbench\[sota\]"):
            get_codec("sz3")
    finally:
        plugins.refresh()


def test_runner_records_checked_bounds(tmp_path: object) -> None:
    import codecbench

    df = codecbench.run(["sz3", "zfp", "fpzip", "bitround"], ["jets-synthetic"], out=str(tmp_path))
    assert (df["status"] == "ok").all(), df["error"].tolist()
    for extras in df["extras"]:
        assert extras["bound_violations"] == 0 and extras["bound_checked"] > 0
    sz3 = df[df["codec"] == "sz3"].iloc[0]
    assert sz3["config"]["columns"]  # the runner filled in the column names


def test_sz3_by_column_leaves_fields_whole() -> None:
    x = smooth_field()
    _, checked, _ = round_trip({"id": "sz3", "error_bound": 1e-3, "by_column": True}, x)
    assert checked["bound_mode"] == "rel_range" and checked["bound_value"] == 1e-3 and checked["bound_violations"] == 0
    with pytest.raises(CodecError, match="need a 2-D table"):
        get_codec({"id": "sz3", "error_bound": {"x0": 1e-3}, "columns": ["x0"]}).encode(x)


def test_sz3_tables_go_column_by_column_by_default() -> None:
    x, cols = jet_table()
    auto = get_codec({"id": "sz3", "error_bound": 1e-3, "columns": cols})
    assert auto.column_wise and auto.declared_bound()["value"] == dict.fromkeys(cols, 1e-3)
    whole = get_codec({"id": "sz3", "error_bound": 1e-3, "columns": cols, "by_column": False})
    assert not whole.column_wise and whole.declared_bound() == {"mode": "rel_range", "value": 1e-3}
    out_auto = decompress(auto, compress(auto, x))
    out_whole = decompress(whole, compress(whole, x))
    # one range for the whole table (pt's hundreds of GeV) swamps eta; per column it does not
    assert np.abs(out_auto[:, 1] - x[:, 1]).max() < np.abs(out_whole[:, 1] - x[:, 1]).max() / 5
