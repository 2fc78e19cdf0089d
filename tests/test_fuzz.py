"""Hostile payloads: every built-in codec, fed random bytes, flipped bytes, truncations and absurd headers.

Two layers are fuzzed:

- ``decompress`` (frame + codec): only ``PayloadError``/``CodecError`` come out, and every single-byte
  flip or truncation of a valid payload is refused (the header and body checksums see it), so a
  damaged payload never decodes to a silently wrong array. Headers with absurd shapes are refused
  before anything is allocated.
- each codec's ``decode`` on its own, on damaged bodies (the frame's checksum bypassed): it raises a
  ``CodecbenchError`` or returns something that the harness's ``_restore`` turns into an array of the
  declared dtype and shape or refuses with ``CodecError``. No raw ``IndexError``, ``struct.error``,
  library error, hang or crash.

Learned codecs are fitted once per module on a few hundred rows with two epochs. Bounded in time:
fixed example counts, ``deadline=None`` (learned decoders vary in speed), derandomized for CI.
"""

from __future__ import annotations

import contextlib
import math
import signal
import tracemalloc
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codecbench import CodecbenchError, CodecError, PayloadError, compress, decompress, get_codec
from codecbench.container import MAGIC, MAX_ELEMENTS, Frame, _restore, frame, parse
from codecbench.plugins import get_codec_class

#: Parameters that make a learned codec train in a second on a few hundred rows (only those it has).
SMALL_LEARNED = {
    "epochs": 2,
    "n_epochs": 2,
    "hidden": [16, 8],
    "hidden_features": 16,
    "n_layers": 2,
    "n_blocks": 1,
    "batch_size": 64,
    "patience": 1,
    "device": "cpu",
}
#: Seconds a single decode may take before the test calls it a hang.
HANG_S = 20
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def builtin_specs() -> list[Any]:
    """Every codec codecbench itself registers, plus the non-default backends worth their own run."""
    ids = sorted(
        {
            ep.name
            for ep in metadata.entry_points(group="codecbench.codecs")
            if ep.dist is not None and ep.dist.metadata["Name"] == "codecbench"
        }
    )
    specs: list[Any] = list(ids)
    if "trunc" in ids:
        specs.append({"id": "trunc", "backend": "zstd"})
    return specs


def _spec_id(spec: Any) -> str:
    return spec if isinstance(spec, str) else ",".join(f"{k}={v}" for k, v in spec.items())


SPECS = builtin_specs()


@dataclass
class Prepared:
    """A codec ready for fuzzing: the encoder, a fresh decoder built from config + state, a valid payload."""

    encoder: Any
    decoder: Any
    data: np.ndarray
    payload: bytes
    frame: Frame
    #: Valid payloads whose bodies the direct-decode tests damage (the jets rows, plus Gaussian noise
    #: for codecs that are not learned: incompressible data gives differently shaped library headers).
    payloads: list[bytes]


_PREPARED: dict[str, Prepared | str] = {}


def _prepare(spec: Any) -> Prepared:
    key = _spec_id(spec)
    if key not in _PREPARED:
        _PREPARED[key] = _build(spec)
    got = _PREPARED[key]
    if isinstance(got, str):
        pytest.skip(got)
    return got


def _build(spec: Any) -> Prepared | str:
    from codecbench import load_dataset

    config = {"id": spec} if isinstance(spec, str) else dict(spec)
    try:
        cls = get_codec_class(config["id"])
    except CodecbenchError as exc:  # an optional extra is missing: nothing to fuzz here
        return f"codec {config['id']!r} is not available: {exc}"
    jets = load_dataset("jets-synthetic", n_rows=600, seed=3)
    train, test = jets.split(0.2, 0)
    if cls.learned:
        params = cls.param_names()
        config.update({k: v for k, v in SMALL_LEARNED.items() if k in params and k not in config})
        if "columns" in params:
            config.setdefault("columns", list(jets.columns or []))
    encoder = get_codec(config)
    if cls.learned:
        encoder.fit(train)
    data = np.ascontiguousarray(test.data[:40])
    payload = compress(encoder, data)
    decoder = get_codec(encoder.get_config())
    state = encoder.save_state()
    if state:
        decoder.load_state(state)
    fr = parse(payload)
    payloads = [payload]
    if not cls.learned:
        payloads.append(compress(encoder, np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)))
    for pl in payloads:  # the valid payloads decode
        assert decompress(decoder, pl).shape == parse(pl).shape
    return Prepared(encoder, decoder, data, payload, fr, payloads)


@contextlib.contextmanager
def no_hang(seconds: int = HANG_S) -> Iterator[None]:
    """Fail (TimeoutError) when the block runs longer than ``seconds`` (SIGALRM; main thread only)."""

    def on_alarm(signum: int, frame_: Any) -> None:
        raise TimeoutError(f"hung for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def check_decompress(codec: Any, payload: bytes) -> np.ndarray | None:
    """``decompress``: a documented error, or an array of exactly the frame's dtype and shape."""
    with no_hang():
        try:
            out = decompress(codec, payload)
        except (PayloadError, CodecError):
            return None
    fr = parse(payload)
    assert out.dtype == fr.dtype and out.shape == fr.shape
    return out


def check_decode(codec: Any, body: bytes | memoryview, fr: Frame, what: str) -> None:
    """A codec's ``decode`` on a damaged body: CodecbenchError, or output ``_restore`` handles."""
    with no_hang():
        try:
            out = codec.decode(body)
        except CodecbenchError:
            return
        except Exception as exc:  # the point of the test: name the leak
            pytest.fail(f"{codec.codec_id} decode leaked {type(exc).__name__} on {what}: {exc}")
    try:
        arr = _restore(out, fr, codec.codec_id)
    except CodecError:
        return
    except Exception as exc:
        pytest.fail(f"_restore leaked {type(exc).__name__} on {codec.codec_id}'s output for {what}: {exc}")
    assert arr.dtype == fr.dtype and arr.shape == fr.shape


def reheader(payload: bytes, *, dtype: bytes | None = None, shape: tuple[int, ...] | None = None) -> bytes:
    """``payload`` with its dtype string and/or shape replaced and the header checksum recomputed.

    Builds frames no ``compress`` would write (absurd shapes, foreign dtypes) but whose checksums are
    valid, so the header's own checks are what refuses them.
    """
    fr = parse(payload)
    body = bytes(fr.body)
    end = fr.header_nbytes - 4  # the header checksum is the last 4 header bytes
    head = bytearray(payload[:end])
    pos = len(MAGIC) + 1
    id_len = head[pos]
    pos += 1 + id_len
    dt_len = head[pos]
    dt_start = pos + 1
    ndim_pos = dt_start + dt_len
    ndim = head[ndim_pos]
    shape_end = ndim_pos + 1 + 8 * ndim
    tail = head[shape_end:]  # body length + body checksum
    new_dt = dtype if dtype is not None else bytes(head[dt_start:ndim_pos])
    new_shape = shape if shape is not None else fr.shape
    out = bytearray(head[: dt_start - 1])
    out += bytes([len(new_dt)]) + new_dt
    out += bytes([len(new_shape)]) + b"".join(int(s).to_bytes(8, "little") for s in new_shape)
    out += tail
    out += zlib.crc32(out).to_bytes(4, "little")
    return bytes(out) + body


pytestmark = pytest.mark.filterwarnings("error::DeprecationWarning")
params = pytest.mark.parametrize("spec", SPECS, ids=[_spec_id(s) for s in SPECS])


def test_every_builtin_codec_is_fuzzed():
    assert {"raw", "gzip", "zstd", "blosc", "trunc"} <= {s for s in SPECS if isinstance(s, str)}


# --- decompress: the frame in front of every codec -------------------------------------------------


@params
def test_every_single_byte_flip_is_refused(spec):
    p = _prepare(spec)
    for i in range(len(p.payload)):
        for x in (0x01, 0x80, 0xFF):
            bad = bytearray(p.payload)
            bad[i] ^= x
            with pytest.raises(PayloadError):
                decompress(p.decoder, bytes(bad))


@params
def test_every_truncation_and_extension_is_refused(spec):
    p = _prepare(spec)
    for n in range(len(p.payload)):
        with pytest.raises(PayloadError, match="truncated|magic|checksum|corrupted"):
            decompress(p.decoder, p.payload[:n])
    for extra in (b"\0", b"garbage"):
        with pytest.raises(PayloadError, match="unexpected bytes after its body"):
            decompress(p.decoder, p.payload + extra)


@params
@FUZZ
@given(data=st.data())
def test_random_bytes_give_only_documented_errors(spec, data):
    p = _prepare(spec)
    head = p.frame.header_nbytes
    payload = data.draw(
        st.one_of(
            st.binary(max_size=400),
            st.binary(max_size=200).map(lambda b: MAGIC + b),
            st.binary(max_size=200).map(lambda b: p.payload[: len(MAGIC) + 1] + b),
            st.binary(max_size=200).map(lambda b: p.payload[:head] + b),
            st.binary(min_size=1, max_size=8).map(lambda b: p.payload[: -len(b)] + b),
        )
    )
    out = check_decompress(p.decoder, payload)
    if out is not None:  # only possible when the bytes are the valid payload itself
        assert payload == p.payload


@params
@pytest.mark.parametrize("shape", [(10**12,), (10**6, 10**6), (2**64 - 1,), (0, 2**63), (2**32, 2**32, 0)])
def test_absurd_shape_is_refused_before_allocation(spec, shape):
    p = _prepare(spec)
    payload = reheader(p.payload, shape=shape)
    tracemalloc.start()
    try:
        with pytest.raises(PayloadError, match="over the limit"):
            decompress(p.decoder, payload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"{peak} bytes allocated before refusing shape {shape}"


def test_header_claiming_1e12_elements_built_with_frame():
    codec = get_codec("raw")
    for dtype in (np.float32, np.float64, np.uint8):
        with pytest.raises(PayloadError, match="1000000000000 elements"):
            decompress(codec, frame("raw", np.dtype(dtype), (10**12,), b""))
    with pytest.raises(PayloadError, match="dimensions"):
        decompress(codec, frame("raw", np.dtype(np.float32), (1,) * 100, b"\0" * 4))
    assert MAX_ELEMENTS < 10**12


@params
@FUZZ
@given(
    shape=st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 64), max_size=70).map(tuple),
    dtype=st.sampled_from(
        [
            b"<f4",
            b"<f8",
            b">f4",
            b"|u1",
            b"|b1",
            b"<i8",
            b"|O",
            b"<U3",
            b"|V8",
            b"<M8[s]",
            b"f4,f4",
            b"(2,)f4",
            b"=(1)f,OV",
            b",4",
            b"5M:[1=",
            b"<f3",
            b"",
            b"\xff\xfe",
            b"<f4 ",
        ]  # fmt: skip
    ),
)
def test_absurd_headers_with_valid_checksums(spec, shape, dtype):
    p = _prepare(spec)
    payload = reheader(p.payload, dtype=dtype, shape=shape)
    out = check_decompress(p.decoder, payload)
    if out is not None:
        assert out.size == math.prod(shape)


@params
def test_wrong_codec_id_is_refused(spec):
    p = _prepare(spec)
    other = get_codec("raw" if p.decoder.codec_id != "raw" else "zstd")
    with pytest.raises(PayloadError, match="was written by codec"):
        decompress(other, p.payload)


# --- each codec's decode, the frame's checksum bypassed --------------------------------------------


@params
def test_decode_of_every_single_byte_change_of_the_body(spec):
    p = _prepare(spec)
    for payload in p.payloads:
        fr = parse(payload)
        body = bytes(fr.body)
        for i in range(len(body)):
            for value in {body[i] ^ 0x01, body[i] ^ 0x80, body[i] ^ 0xFF, 0x00}:
                bad = bytearray(body)
                bad[i] = value
                check_decode(p.decoder, bytes(bad), fr, f"body byte {i} set to {value:#x}")


@params
def test_decode_of_every_truncation_of_the_body(spec):
    p = _prepare(spec)
    for payload in p.payloads:
        fr = parse(payload)
        body = bytes(fr.body)
        for n in range(len(body)):
            check_decode(p.decoder, body[:n], fr, f"body truncated to {n} of {len(body)} bytes")
            check_decode(p.decoder, memoryview(body)[:n], fr, f"memoryview body truncated to {n}")


@params
@FUZZ
@given(data=st.data())
def test_decode_of_damaged_or_random_bodies(spec, data):
    p = _prepare(spec)
    body = bytes(p.frame.body)
    kind = data.draw(st.sampled_from(["random", "damaged", "extended", "zeroed-run"]))
    if kind == "random":
        bad = data.draw(st.binary(max_size=2 * len(body) + 16))
    elif kind == "damaged":
        edits = data.draw(st.lists(st.tuples(st.integers(0, len(body) - 1), st.integers(0, 255)), min_size=1))
        b = bytearray(body)
        for i, v in edits:
            b[i] = v
        bad = bytes(b)
    elif kind == "extended":
        bad = body + data.draw(st.binary(min_size=1, max_size=64))
    else:
        start = data.draw(st.integers(0, len(body) - 1))
        length = data.draw(st.integers(1, 64))
        bad = body[:start] + b"\0" * length + body[start + length :]
    as_view = data.draw(st.booleans())
    check_decode(p.decoder, memoryview(bad) if as_view else bad, p.frame, f"{kind} body")
