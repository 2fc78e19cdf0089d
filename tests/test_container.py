"""Framing: header size, round trips, and the PayloadError paths."""

from __future__ import annotations

import numpy as np
import pytest
import zstandard

from codecbench import CodecError, PayloadError, compress, decompress, get_codec
from codecbench.container import MAX_ELEMENTS, frame, parse


@pytest.fixture
def table() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(1000, 4)).astype(np.float32)


def test_zstd_payload_is_zstandard_output_plus_small_header(table):
    codec = get_codec({"id": "zstd", "level": 19})
    payload = compress(codec, table)
    body = zstandard.ZstdCompressor(level=19).compress(table.tobytes())
    header = len(payload) - len(body)
    assert payload.endswith(body)
    assert 0 < header < 64


@pytest.mark.parametrize("codec_id", ["raw", "gzip", "zstd", "blosc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_round_trip_restores_shape_and_dtype(codec_id, dtype):
    data = (np.arange(2 * 3 * 5) * 1.5).astype(dtype).reshape(2, 3, 5)
    codec = get_codec(codec_id)
    out = decompress(codec, compress(codec, data))
    assert out.shape == data.shape and out.dtype == data.dtype
    assert np.array_equal(out, data)


def test_every_single_byte_flip_is_detected(table):
    codec = get_codec("zstd")
    payload = compress(codec, table[:50])
    for i in range(len(payload)):
        bad = bytearray(payload)
        bad[i] ^= 0x01
        with pytest.raises(PayloadError):
            decompress(codec, bytes(bad))


def test_flip_messages_name_header_or_body(table):
    codec = get_codec("zstd")
    payload = bytearray(compress(codec, table))
    body_flip = bytearray(payload)
    body_flip[-3] ^= 0xFF
    with pytest.raises(PayloadError, match="body is corrupted"):
        decompress(codec, bytes(body_flip))
    head_flip = bytearray(payload)
    head_flip[12] ^= 0xFF
    with pytest.raises(PayloadError, match="header"):
        decompress(codec, bytes(head_flip))


@pytest.mark.parametrize("cut", [0, 3, 10, 40, -1])
def test_truncated_payload(table, cut):
    codec = get_codec("zstd")
    payload = compress(codec, table)
    with pytest.raises(PayloadError, match="truncated|magic"):
        decompress(codec, payload[:cut])


def test_trailing_bytes_refused(table):
    codec = get_codec("raw")
    with pytest.raises(PayloadError, match="unexpected bytes"):
        decompress(codec, compress(codec, table) + b"x")


def test_other_codecs_payload_is_named(table):
    payload = compress(get_codec("gzip"), table)
    with pytest.raises(PayloadError, match="written by codec 'gzip'"):
        decompress(get_codec("zstd"), payload)


def test_absurd_shape_refused_before_allocation():
    payload = frame("raw", np.dtype("<f4"), (10**6, 10**6), b"")
    with pytest.raises(PayloadError, match="over the limit"):
        parse(payload)
    assert 10**12 > MAX_ELEMENTS


def test_foreign_bytes_and_bad_dtype():
    with pytest.raises(PayloadError, match="not a codecbench payload"):
        decompress(get_codec("raw"), b"PK\x03\x04 a zip file")
    with pytest.raises(CodecError, match="dtype"):
        compress(get_codec("raw"), np.array(["a", "b"]))


def test_decode_returning_wrong_size_is_a_codec_error(table):
    codec = get_codec("raw")
    payload = frame("raw", table.dtype, (table.shape[0] + 1, 4), table.tobytes())
    with pytest.raises(CodecError, match="expected"):
        decompress(codec, payload)
