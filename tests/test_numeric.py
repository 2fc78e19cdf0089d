"""``pcodec`` and ``openzl``: bit-exact round trips (tables per column, fields flat), clean refusals of damage."""

from __future__ import annotations

import numpy as np
import pytest
from awkward_tables import awkward_table, bits

from codecbench import CodecError, PayloadError, compress, decompress, get_codec
from codecbench.testing import CodecConformance

pytest.importorskip("pcodec")
pytest.importorskip("openzl")

IDS = ["pcodec", "openzl"]


@pytest.mark.parametrize("codec_id", IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_exact_on_awkward_table(codec_id: str, dtype: str) -> None:
    data, cols = awkward_table(np.dtype(dtype))
    for spec in ({"id": codec_id, "columns": cols}, {"id": codec_id}):
        codec = get_codec(spec)
        out = decompress(get_codec(codec.get_config()), compress(codec, data))
        assert out.shape == data.shape and np.array_equal(bits(out), bits(data))


@pytest.mark.parametrize("codec_id", IDS)
@pytest.mark.parametrize("dtype", ["int8", "uint16", "int32", "uint64", "int64"])
def test_exact_on_integers(codec_id: str, dtype: str) -> None:
    info = np.iinfo(dtype)
    x = np.random.default_rng(0).integers(info.min, info.max, (500, 3), dtype=dtype, endpoint=True)
    codec = get_codec({"id": codec_id, "by_column": True})
    assert np.array_equal(codec.decode(codec.encode(x)), x)


@pytest.mark.parametrize("codec_id", IDS)
def test_empty_and_single(codec_id: str) -> None:
    for x in (np.zeros((0, 3), np.float32), np.zeros(0, np.float64), np.ones(1, np.float32), np.ones((4, 0))):
        codec = get_codec({"id": codec_id, "by_column": True})
        out = codec.decode(codec.encode(x), dtype=x.dtype, shape=x.shape)
        assert out.shape == x.shape and np.array_equal(out, x)


@pytest.mark.parametrize("codec_id", IDS)
def test_refuses_other_dtypes_and_levels(codec_id: str) -> None:
    with pytest.raises(CodecError):
        compress(get_codec(codec_id), np.zeros(4, dtype=bool))
    for bad in ({"level": 99}, {"level": True}, {"by_column": "yes"}, {"columns": "pt"}):
        with pytest.raises(CodecError):
            get_codec({"id": codec_id, **bad})


@pytest.mark.parametrize("codec_id", IDS)
def test_damage_is_refused(codec_id: str) -> None:
    """Every flipped byte and every cut is refused (the body's CRC-32s: pcodec itself decodes a
    flipped byte into wrong numbers without an error)."""
    data, cols = awkward_table(np.float32, n=400)
    codec = get_codec({"id": codec_id, "columns": cols})
    body = codec.encode(data)
    rng = np.random.default_rng(1)
    for pos in rng.integers(0, len(body), 80):
        flipped = bytearray(body)
        flipped[pos] ^= 0x40
        with pytest.raises(PayloadError):
            codec.decode(bytes(flipped))
    for cut in rng.integers(0, len(body), 40):
        with pytest.raises(PayloadError):
            codec.decode(body[:cut])
    with pytest.raises(PayloadError, match="frame says"):
        codec.decode(body, shape=(1, 2))


def test_pcodec_refuses_a_stream_with_more_values() -> None:
    """A valid pcodec stream of 10 values inside a body that claims 5: refused, not truncated silently."""
    from codecbench_plugins.common.body import pack
    from codecbench_plugins.numeric.pcodec import MAGIC, VERSION
    from pcodec import ChunkConfig, standalone

    stream = standalone.simple_compress(np.arange(10, dtype=np.float32), ChunkConfig())
    body = pack(MAGIC, VERSION, np.dtype(np.float32), (5,), b"", [bytes(stream)])
    with pytest.raises(PayloadError, match="more than the 5 values"):
        get_codec("pcodec").decode(body)


def test_openzl_refuses_a_frame_with_more_bytes() -> None:
    from codecbench_plugins.common.body import pack
    from codecbench_plugins.numeric.openzl import MAGIC, VERSION, _compressor, compress_frame

    inner = compress_frame(_compressor(9), np.arange(10.0))  # a valid frame of 10 float64 values
    body = pack(MAGIC, VERSION, np.dtype(np.float64), (5,), b"", [inner])
    with pytest.raises(PayloadError, match="claims 80 bytes, expected 40"):
        get_codec("openzl").decode(body)


def test_openzl_keeps_its_input_alive() -> None:
    """``zl.Input`` does not hold its numpy buffer: a temporary would be freed before compression and
    (with the content checksum on) fail to decode. Many columns from temporaries round-trip here."""
    x = np.random.default_rng(3).normal(size=(2000, 12)).astype(np.float32)
    codec = get_codec({"id": "openzl", "by_column": True})
    assert np.array_equal(codec.decode(codec.encode(x)), x)


def test_pcodec_beats_zstd_on_a_jet_like_table() -> None:
    """The reason it is here: numeric-aware coding of float columns (measured figures in the README)."""
    from codecbench.testing import sample_table

    x = sample_table(20_000)
    cols = ["pt", "eta", "phi", "mass"]
    pco = len(compress(get_codec({"id": "pcodec", "columns": cols}), x))
    zstd = len(compress(get_codec({"id": "zstd", "level": 19}), x))
    assert pco < zstd


class TestPcodecConformance(CodecConformance):
    codec_spec = "pcodec"


class TestPcodecLevel2Conformance(CodecConformance):
    codec_spec = {"id": "pcodec", "level": 2, "by_column": False}


class TestOpenzlConformance(CodecConformance):
    codec_spec = "openzl"


class TestOpenzlLevel1Conformance(CodecConformance):
    codec_spec = {"id": "openzl", "level": 1}
