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

#: Parameters that make a learned codec train in a second on a few hundred rows (only those it has;
#: a sequence default gets the list, an integer default the number).
SMALL_LEARNED: dict[str, Any] = {
    "epochs": 2,
    "n_epochs": 2,
    "hidden": ([16, 8], 16),
    "hidden_features": 16,
    "layers": 2,
    "n_layers": 2,
    "num_blocks": 1,
    "n_blocks": 1,
    "batch_size": 64,
    "patience": 1,
    "device": "cpu",
}


def small_learned_config(cls: Any, config: dict[str, Any]) -> dict[str, Any]:
    """``config`` plus the SMALL_LEARNED values for the parameters ``cls`` has and ``config`` leaves unset."""
    defaults = cls.param_defaults()
    out = dict(config)
    for name, value in SMALL_LEARNED.items():
        if name in defaults and name not in out:
            if isinstance(value, tuple):
                value = value[0] if isinstance(defaults[name], list | tuple) else value[1]
            out[name] = value
    return out


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
        config = small_learned_config(cls, config)
        if "columns" in cls.param_names():
            config.setdefault("columns", list(jets.columns or []))
    encoder = get_codec(config)
    if cls.learned:
        encoder.fit(train)
    data = np.ascontiguousarray(test.data[:16])
    payload = compress(encoder, data)
    decoder = get_codec(encoder.get_config())
    state = encoder.save_state()
    if state:
        decoder.load_state(state)
    fr = parse(payload)
    payloads = [payload]
    if not cls.learned:
        payloads.append(compress(encoder, np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)))
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
#
# Run in a child process: a decoder written in C that reads past its input crashes the process, and
# the test must report that (with the damage that caused it) rather than take pytest down with it.


def damaged_bodies(body: bytes, seed: int = 0, n_random: int = 80) -> Iterator[tuple[str, bytes | memoryview]]:
    """Every single-byte change (4 values per byte), every truncation, then seeded random damage."""
    for i in range(len(body)):
        for value in sorted({body[i] ^ 0x01, body[i] ^ 0x80, body[i] ^ 0xFF, 0x00}):
            bad = bytearray(body)
            bad[i] = value
            yield f"byte {i} set to {value:#04x}", bytes(bad)
    for n in range(len(body)):
        yield f"truncated to {n} bytes", body[:n] if n % 2 else memoryview(body)[:n]
    rng = np.random.default_rng(seed)
    for k in range(n_random):
        kind = ("random", "damaged", "extended", "zeroed run")[k % 4]
        if kind == "random":
            bad = rng.integers(0, 256, int(rng.integers(0, 2 * len(body) + 16)), dtype=np.uint8).tobytes()
        elif kind == "damaged":
            b = np.frombuffer(body, dtype=np.uint8).copy()
            idx = rng.integers(0, len(body), int(rng.integers(1, 9)))
            b[idx] = rng.integers(0, 256, idx.size)
            bad = b.tobytes()
        elif kind == "extended":
            bad = body + rng.integers(0, 256, int(rng.integers(1, 65)), dtype=np.uint8).tobytes()
        else:
            start, length = int(rng.integers(0, len(body))), int(rng.integers(1, 65))
            bad = body[:start] + b"\0" * length + body[start + length :]
        yield f"{kind} #{k}", memoryview(bad) if k % 3 == 0 else bad


def child_main(work: str, first: int) -> None:
    """Decode the damaged bodies of codecs ``first``, ``first + 1``, ... listed in ``work/specs.json``.

    Each decoder is a fresh instance built from its config and state. Each case is written to
    ``work/progress`` before it is decoded (so a crash names it); one JSON line per leaked exception
    goes to ``work/leaks``, one line per finished codec to ``work/done``.
    """
    import json
    import os
    from pathlib import Path

    d = Path(work)
    specs = json.loads((d / "specs.json").read_text())
    progress = os.open(d / "progress", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    with open(d / "leaks", "a") as leaks, open(d / "done", "a") as done:
        for j in range(first, len(specs)):
            spec = specs[j]
            decoder = get_codec(spec["config"])
            state = (d / f"{j}.state").read_bytes()
            if state:
                decoder.load_state(state)
            n_cases = 0
            for k in range(spec["n_payloads"]):
                fr = parse((d / f"{j}.{k}.payload").read_bytes())
                for what, body in damaged_bodies(bytes(fr.body), seed=k):
                    os.write(progress, f"{j}\tpayload {k}: {what}\n".encode())
                    n_cases += 1
                    try:
                        check_decode(decoder, body, fr, what)
                    except BaseException as exc:  # pytest.fail's exception included
                        error = f"{type(exc).__name__}: {exc}"
                        leaks.write(json.dumps({"spec": j, "payload": k, "case": what, "error": error}) + "\n")
                        leaks.flush()
            done.write(f"{j}\t{n_cases}\n")
            done.flush()
    os.close(progress)


@pytest.fixture(scope="module")
def damaged_decodes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Run ``child_main`` over every available codec; restart after a crash with the next codec.

    One child process serves all codecs (one interpreter and torch start-up), so a crash costs a
    restart, not the other codecs' results. Returns per spec id: ``crash`` (or None), ``leaks``,
    ``n_cases``.
    """
    import json
    import subprocess
    import sys
    from pathlib import Path

    d = tmp_path_factory.mktemp("damaged")
    ready = []
    for spec in SPECS:
        got = _PREPARED.get(_spec_id(spec)) or _build(spec)
        _PREPARED[_spec_id(spec)] = got
        if isinstance(got, Prepared):
            ready.append((spec, got))
    entries = []
    for j, (spec, p) in enumerate(ready):
        (d / f"{j}.state").write_bytes(p.encoder.save_state())
        for k, payload in enumerate(p.payloads):
            (d / f"{j}.{k}.payload").write_bytes(payload)
        entries.append({"id": _spec_id(spec), "config": p.decoder.get_config(), "n_payloads": len(p.payloads)})
    (d / "specs.json").write_text(json.dumps(entries))
    tests_dir = str(Path(__file__).resolve().parent)
    crashes: dict[int, str] = {}
    first = 0
    while first < len(entries):
        code = f"import sys; sys.path.insert(0, {tests_dir!r}); import test_fuzz; test_fuzz.child_main({str(d)!r}, {first})"  # noqa: E501
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
        if res.returncode == 0:
            break
        lines = (d / "progress").read_text().splitlines() if (d / "progress").exists() else []
        j, _, case = lines[-1].partition("\t") if lines else (str(first), "", "before the first case")
        how = f"signal {-res.returncode}" if res.returncode < 0 else f"exit status {res.returncode}"
        crashes[int(j)] = f"crashed the process ({how}) on {case}\n{res.stderr[-2000:]}"
        first = int(j) + 1
    leaks = [json.loads(line) for line in (d / "leaks").read_text().splitlines()] if (d / "leaks").exists() else []
    done = dict(line.split("\t") for line in (d / "done").read_text().splitlines()) if (d / "done").exists() else {}
    return {
        e["id"]: {
            "crash": crashes.get(j),
            "leaks": [leak for leak in leaks if leak["spec"] == j],
            "n_cases": int(done.get(str(j), 0)),
            "body_bytes": sum(len(parse((d / f"{j}.{k}.payload").read_bytes()).body) for k in range(e["n_payloads"])),
        }
        for j, e in enumerate(entries)
    }


@params
def test_decode_of_damaged_bodies_in_a_child_process(spec, damaged_decodes):
    _prepare(spec)  # skips an unavailable codec
    got = damaged_decodes[_spec_id(spec)]
    if got["crash"]:
        pytest.fail(f"{_spec_id(spec)} decode {got['crash']}")
    leaks, n_cases = got["leaks"], got["n_cases"]
    assert n_cases > 4 * got["body_bytes"]  # every byte changed 4 ways, every truncation, random damage
    assert not leaks, f"{len(leaks)} of {n_cases} damaged bodies leaked an undocumented error, e.g. {leaks[:3]}"
