"""Tests of the xordelta plugin: codecbench's conformance checks plus the codec's own promises."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from codecbench import CodecError, PayloadError, compress, decompress, get_codec, list_codecs
from codecbench.testing import CodecConformance, check_codec, sample_field


# Every conformance check as its own test: registration, config round trip, shape/dtype round trip,
# bit-exactness (NaN payloads, -0.0, Inf, subnormals), determinism, state, damaged payloads,
# unsupported input, and every setting of default_sweep.
class TestXorDeltaConformance(CodecConformance):
    codec_spec = "xordelta"


class TestXorDeltaWithoutPlanes(CodecConformance):
    codec_spec = {"id": "xordelta", "level": 9, "planes": False}


def test_check_codec_passes_on_a_user_array() -> None:
    data = np.cumsum(np.random.default_rng(3).normal(size=(500, 3)), axis=0)
    results = check_codec("xordelta", data=data)
    assert all(r.status in ("passed", "skipped") for r in results)


def test_listed_by_codecbench_with_this_distribution() -> None:
    info = {i.codec_id: i for i in list_codecs()}["xordelta"]
    assert info.status == "ok"
    assert info.distribution == "codecbench-xordelta"
    assert info.lossless is True


def test_smaller_than_plain_zlib_on_a_smooth_field() -> None:
    field = sample_field(n_steps=40, ny=32, nx=32)
    payload = compress(get_codec({"id": "xordelta", "level": 6}), field)
    plain = zlib.compress(field.tobytes(), 6)
    assert len(payload) < 0.9 * len(plain)
    assert np.array_equal(decompress(get_codec("xordelta"), payload).view(np.uint32), field.view(np.uint32))


def test_body_is_header_plus_zlib_stream() -> None:
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    body = get_codec("xordelta").encode(data)
    assert body[:3] == bytes([1, 4, 1])  # version 1, 4-byte values, byte planes on
    assert len(zlib.decompress(body[19:])) == data.nbytes


@pytest.mark.parametrize("level", [0, 10, "6", True])
def test_bad_level_is_refused(level: object) -> None:
    with pytest.raises(CodecError, match="level"):
        get_codec({"id": "xordelta", "level": level})


def test_truncated_body_is_a_payload_error() -> None:
    body = get_codec("xordelta").encode(np.ones((10, 2), dtype=np.float64))
    with pytest.raises(PayloadError, match="xordelta"):
        get_codec("xordelta").decode(body[:-3])
