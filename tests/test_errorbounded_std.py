"""The ``std`` bound mode of ``sz3`` and ``zfp`` (abs bound = value x column std), their knobs, and the body format.

The body format changed to the versioned one (``codecbench_plugins.common.body``); the committed
``EB1`` fixture archives still decode (``test_archive.py``), and an ``EB1`` body built here does too.
"""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np
import pytest
from awkward_tables import bits

from codecbench import CodecError, Dataset, PayloadError, compress, decompress, get_codec
from codecbench.testing import CodecConformance, check_codec

pytest.importorskip("pysz")
pytest.importorskip("zfpy")


def _table(n: int = 5000) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(0)
    cols = [rng.normal(50, 10, n), rng.normal(0, 1e-3, n), rng.integers(0, 30, n).astype(float), np.full(n, 2.5)]
    return np.stack(cols, axis=1).astype(np.float32), ["a", "b", "n", "c"]


def _max_err_per_column(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.abs(out.astype(np.float64) - x.astype(np.float64)).max(axis=0)


@pytest.mark.parametrize(("codec_id", "knob"), [("sz3", "error_bound"), ("zfp", "tolerance")])
@pytest.mark.parametrize("value", [1e-1, 1e-3])
def test_bound_is_value_times_std_per_column(codec_id: str, knob: str, value: float) -> None:
    data, cols = _table()
    codec = get_codec({"id": codec_id, "mode": "std", knob: value, "columns": cols})
    out = decompress(get_codec(codec.get_config()), compress(codec, data))
    bound = codec.declared_bound()
    stds = data.astype(np.float64).std(axis=0)
    assert bound["mode"] == "abs" and bound["value"]["a"] == pytest.approx(value * stds[0])
    assert np.all(_max_err_per_column(data, out) <= [bound["value"][c] for c in cols])
    assert np.array_equal(out[:, 2], data[:, 2]) and np.array_equal(out[:, 3], data[:, 3])  # integers, constant


@pytest.mark.parametrize(("codec_id", "knob"), [("sz3", "error_bound"), ("zfp", "tolerance")])
def test_harness_bound_check_in_std_mode(codec_id: str, knob: str) -> None:
    """codecbench's own bound check (the conformance kit, special values added) on a table and a field."""
    data, cols = _table(2000)
    spec = {"id": codec_id, "mode": "std", knob: 1e-3, "columns": cols}
    check_codec(spec, Dataset("t", data, columns=cols), checks=["declared_bound", "round_trip", "determinism"])


def test_std_mode_aims_at_rel_rms() -> None:
    """value = sqrt(3) t gives a worst rel_rms close to t (SZ3's error is near-uniform inside its bound)."""
    x = np.random.default_rng(1).normal(0, 1, (100_000, 2)).astype(np.float32)
    t = 1e-3
    codec = get_codec({"id": "sz3", "mode": "std", "error_bound": math.sqrt(3) * t, "columns": ["u", "v"]})
    out = decompress(codec, compress(codec, x))
    rel = np.sqrt(np.mean((out.astype(float) - x) ** 2, axis=0)) / x.astype(float).std(axis=0)
    assert np.all(rel < 1.05 * t) and np.all(rel > 0.8 * t)


def test_zfp_refuses_nan_in_std_mode() -> None:
    data, cols = _table(100)
    data[0, 0] = np.nan
    with pytest.raises(CodecError, match="NaN"):
        compress(get_codec({"id": "zfp", "mode": "std", "columns": cols}), data)


@pytest.mark.parametrize(("codec_id", "knob"), [("sz3", "error_bound"), ("zfp", "tolerance")])
def test_field_keeps_its_shape_and_bound(codec_id: str, knob: str) -> None:
    t = np.linspace(0, 6, 12)[:, None, None]
    yy, xx = np.meshgrid(np.linspace(0, 1, 20), np.linspace(0, 1, 20), indexing="ij")
    field = (np.sin(3 * xx + t) * np.cos(2 * yy - t)).astype(np.float32)
    codec = get_codec({"id": codec_id, "mode": "std", knob: 1e-3})
    out = decompress(codec, compress(codec, field))
    bound = codec.declared_bound()
    assert bound["value"] == pytest.approx(1e-3 * field.astype(float).std())
    assert out.shape == field.shape and np.abs(out.astype(float) - field).max() <= bound["value"]


def test_std_bound_is_the_loosest_over_encodes() -> None:
    rng = np.random.default_rng(2)
    codec = get_codec({"id": "sz3", "mode": "std", "error_bound": 1e-2, "columns": ["u"]})
    small, large = rng.normal(0, 1, (500, 1)).astype(np.float32), rng.normal(0, 10, (500, 1)).astype(np.float32)
    assert codec.declared_bound() is None  # depends on the data: unknown before the first encode
    for part in (large, small):
        codec.encode(part)
    assert codec.declared_bound()["value"]["u"] == pytest.approx(1e-2 * large.astype(float).std())


def test_legacy_eb1_bodies_still_decode() -> None:
    """A body in the old layout (magic EB1, no version) decodes; the new writer uses the versioned body."""
    x = np.random.default_rng(3).normal(size=(50, 2)).astype(np.float32)
    codec = get_codec({"id": "sz3", "mode": "abs", "error_bound": 1e-2, "by_column": False})
    new = codec.encode(x)
    assert new[:3] == b"SZ3"
    from codecbench_plugins.common.body import unpack

    (block,) = unpack("sz3", b"SZ3", (1,), new).blocks
    legacy = b"EB1" + struct.pack("<BB", 0, 2) + struct.pack("<2Q", *x.shape) + struct.pack("<I", 1)
    legacy += struct.pack("<QI", len(block), zlib.crc32(block)) + block
    assert np.array_equal(codec.decode(legacy), codec.decode(new))
    with pytest.raises(PayloadError, match="frame says"):
        codec.decode(legacy, shape=(100,))


@pytest.mark.parametrize("codec_id", ["sz3", "zfp", "fpzip"])
def test_bodies_carry_their_codec_and_version(codec_id: str) -> None:
    from codecbench_plugins.common.body import pack

    x = np.ones((4, 2), np.float32)
    body = get_codec(codec_id).encode(x)
    with pytest.raises(PayloadError, match="format version 9"):
        get_codec(codec_id).decode(pack(body[:3], 9, x.dtype, x.shape, b"", []))
    other = "zfp" if codec_id != "zfp" else "sz3"
    with pytest.raises(PayloadError, match="header"):
        get_codec(other).decode(body)
    with pytest.raises(PayloadError, match="frame says"):
        get_codec(codec_id).decode(body, dtype=np.dtype(np.float64))


def test_knobs_follow_the_mode() -> None:
    assert get_codec("sz3").knob().param == "error_bound" and get_codec("sz3").knob().hi == 1.0
    assert get_codec({"id": "sz3", "mode": "abs"}).knob().hi > 1e6
    psnr = get_codec({"id": "sz3", "mode": "psnr", "error_bound": 60.0}).knob()
    assert psnr.finer == "up"
    assert get_codec({"id": "sz3", "mode": "abs", "error_bound": {"a": 1.0}, "columns": ["a"]}).knob() is None
    assert get_codec({"id": "zfp", "mode": "precision"}).knob().integer
    assert get_codec({"id": "zfp", "mode": "rate"}).knob().param == "rate"
    std = get_codec({"id": "sz3", "mode": "std"})
    assert std.knob_hint("worst_rel_rms", 1e-3) == pytest.approx(math.sqrt(3) * 1e-3)
    fpzip = get_codec("fpzip").knob()
    assert fpzip.param == "precision" and fpzip.integer and fpzip.finer == "up"


def test_std_mode_handles_nan_and_integers_in_sz3() -> None:
    data, cols = _table(300)
    data[:3, 0], data[3, 2] = np.nan, np.inf
    codec = get_codec({"id": "sz3", "mode": "std", "columns": cols})
    out = decompress(codec, compress(codec, data))
    special = ~np.isfinite(data)
    assert np.array_equal(bits(out[special]), bits(data[special]))
    finite = np.isfinite(data[:, 2])
    assert np.array_equal(out[finite, 2], data[finite, 2])


class TestSz3StdConformance(CodecConformance):
    codec_spec = {"id": "sz3", "mode": "std", "error_bound": 1e-3}


class TestZfpStdConformance(CodecConformance):
    codec_spec = {"id": "zfp", "mode": "std", "tolerance": 1e-3}
