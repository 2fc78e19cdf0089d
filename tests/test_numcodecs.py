"""Tests of numcodecs interoperability: numcodecs codecs in codecbench, codecbench codecs exported to numcodecs."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from codecbench import Codec, CodecError, PayloadError, PluginError, compress, decompress, get_codec
from codecbench.plugins import get_codec_class, parse_spec

cn = pytest.importorskip("codecbench.interop.numcodecs")
numcodecs = cn.import_numcodecs()


def field(shape: tuple[int, ...] = (60, 50), seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (np.cumsum(rng.standard_normal(shape), axis=-1) + 50).astype(np.float32)


# --- numcodecs codecs in codecbench ----------------------------------------------------------------


def test_spec_forms() -> None:
    assert parse_spec('numcodecs:{"id": "zfpy", "tolerance": 0.01}') == {"id": "numcodecs.zfpy", "tolerance": 0.01}
    assert parse_spec("numcodecs:zlib") == {"id": "numcodecs.zlib"}
    assert parse_spec({"id": "numcodecs:zlib", "level": 3}) == {"id": "numcodecs.zlib", "level": 3}
    with pytest.raises(CodecError, match="not valid JSON"):
        parse_spec("numcodecs:{id: zlib}")
    with pytest.raises(CodecError, match="names no numcodecs codec"):
        parse_spec("numcodecs:")


def test_lossless_numcodecs_codec_round_trips_exactly() -> None:
    codec = get_codec('numcodecs:{"id": "zlib", "level": 6}')
    assert codec.codec_id == "numcodecs.zlib" and codec.lossless
    assert codec.get_config() == {"id": "numcodecs.zlib", "level": 6}
    assert get_codec(codec.get_config()) == codec
    x = field()
    payload = compress(codec, x)
    assert np.array_equal(decompress(get_codec(codec.get_config()), payload), x)
    assert len(payload) < x.nbytes


def test_lossy_numcodecs_codec_zfpy() -> None:
    codec = get_codec('numcodecs:{"id": "zfpy", "tolerance": 0.01}')
    assert not codec.lossless and codec.get_config()["tolerance"] == 0.01
    x = field()
    out = decompress(codec, compress(codec, x))
    err = np.abs(out - x).max()
    assert 0 < err <= 0.01


def test_param_names_come_from_numcodecs() -> None:
    cls = get_codec_class("numcodecs.bitround")
    assert cls.param_names() == ["keepbits"]
    assert get_codec_class("numcodecs.zlib").param_defaults() == {"level": 1}


def test_unknown_refused_and_bad_parameters() -> None:
    with pytest.raises(PluginError, match="did you mean 'zlib'"):
        get_codec("numcodecs:zlb")
    with pytest.raises(PluginError, match="unpickles"):
        get_codec("numcodecs:pickle")
    with pytest.raises(CodecError, match="rejects parameters"):
        get_codec({"id": "numcodecs.zlib", "levle": 3})
    codec = get_codec("numcodecs:zlib")
    with pytest.raises(PayloadError, match="cannot decode"):
        codec.decode(b"not zlib at all")


def test_list_numcodecs_rows() -> None:
    rows = {i.codec_id: i for i in cn.list_numcodecs()}
    assert rows["numcodecs.zlib"].status == "ok" and rows["numcodecs.zlib"].lossless
    assert rows["numcodecs.bitround"].lossless is False
    assert rows["numcodecs.pickle"].status == "refused"
    assert rows["numcodecs.vlen-utf8"].status == "object arrays only"
    assert not any(cid.startswith("numcodecs.codecbench.") for cid in rows)


def test_cli_list_codecs_all() -> None:
    from typer.testing import CliRunner

    from codecbench.cli import app

    plain = CliRunner().invoke(app, ["list", "codecs"], env={"COLUMNS": "200"})
    full = CliRunner().invoke(app, ["list", "codecs", "--all"], env={"COLUMNS": "200"})
    assert plain.exit_code == 0 and full.exit_code == 0, full.output
    assert "numcodecs.zlib" not in plain.output and "trunc" in plain.output
    assert "numcodecs.zlib" in full.output and "numcodecs.zfpy" in full.output and "trunc" in full.output


def test_runner_runs_numcodecs_spec(tmp_path: Path) -> None:
    import codecbench

    df = codecbench.run(
        ['numcodecs:{"id": "zstd", "level": 3}', "numcodecs:bitround"],
        ["jets-synthetic"],
        out=str(tmp_path),
        sets={"numcodecs.bitround": {"keepbits": 9}},
    )
    assert (df["status"] == "ok").all(), df["error"].tolist()
    by_codec = {r["codec"]: r for _, r in df.iterrows()}
    assert by_codec["numcodecs.zstd"]["max_abs_error"] == 0 and by_codec["numcodecs.zstd"]["ratio"] > 1
    assert by_codec["numcodecs.bitround"]["config"] == {"id": "numcodecs.bitround", "keepbits": 9}


# --- codecbench codecs in numcodecs ----------------------------------------------------------------


def test_export_round_trip_through_numcodecs_registry() -> None:
    trunc = get_codec({"id": "trunc", "bits": 8, "backend": "zstd"})
    exported = cn.as_numcodecs(trunc)
    assert isinstance(exported, numcodecs.abc.Codec)
    config = exported.get_config()
    assert config["id"] == "codecbench.trunc" and config["config"] == trunc.get_config()
    numcodecs.registry.codec_registry.pop("codecbench.trunc")  # a fresh process: found through the entry point
    rebuilt = numcodecs.get_codec(config)
    x = field()
    enc = exported.encode(x)
    assert enc == compress(trunc, x)  # chunks are codecbench-framed payloads
    out = rebuilt.decode(enc)
    assert np.array_equal(out, decompress(trunc, enc))
    buf = np.empty_like(x)
    rebuilt.decode(enc, out=buf)
    assert np.array_equal(buf, out)
    assert rebuilt == exported  # numcodecs compares configs


class _ScaleCodec(Codec):
    """A tiny learned codec for the export test: fits mean and scale, stores int16 codes."""

    codec_id = "test-scale"
    learned = True

    def __init__(self, step: float = 0.01) -> None:
        self.step = step
        self.mean: float | None = None

    def fit(self, train: object) -> None:
        self.mean = float(np.mean(train.data))  # type: ignore[attr-defined]

    def save_state(self) -> bytes:
        return b"" if self.mean is None else struct.pack("<d", self.mean)

    def load_state(self, blob: bytes) -> None:
        (self.mean,) = struct.unpack("<d", blob)

    def encode(self, data: np.ndarray) -> bytes:
        if self.mean is None:
            raise CodecError("test-scale is not fitted")
        return np.round((data - self.mean) / self.step).astype("<i2").tobytes()

    def decode(self, payload: bytes) -> np.ndarray:
        if self.mean is None:
            raise CodecError("test-scale is not fitted")
        return (np.frombuffer(payload, "<i2") * self.step + self.mean).astype(np.float32)


def test_export_of_a_fitted_learned_codec_carries_its_state(monkeypatch: pytest.MonkeyPatch) -> None:
    from codecbench import Dataset, plugins

    monkeypatch.setitem(plugins._loaded, "test-scale", _ScaleCodec)
    x = field()
    codec = _ScaleCodec(step=0.05)
    codec.fit(Dataset("t", x, kind="field"))
    config = cn.as_numcodecs(codec).get_config()
    assert config["state"] and config["state_kind"] == "fitted"
    fresh = numcodecs.get_codec(config)  # no fit: the state comes from the config
    out = fresh.decode(fresh.encode(x))
    assert np.abs(out - x).max() <= 0.025 + 1e-4
    decoder_only = cn.as_numcodecs(codec, include_encoder=False).get_config()
    assert decoder_only["state_kind"] == "decoder"
    assert np.array_equal(numcodecs.get_codec(decoder_only).decode(fresh.encode(x)), out)
    unfitted = cn.as_numcodecs(_ScaleCodec()).get_config()
    assert unfitted["state"] is None
    with pytest.raises(CodecError, match="not fitted"):
        numcodecs.get_codec(unfitted).encode(x)
    with pytest.raises(CodecError, match="base64"):
        numcodecs.get_codec({**config, "state": "***"})


def test_export_of_a_wrapped_numcodecs_codec_is_the_numcodecs_codec() -> None:
    wrapped = get_codec("numcodecs:zlib")
    assert cn.as_numcodecs(wrapped) is wrapped.numcodecs_codec
    with pytest.raises(CodecError, match="codecbench Codec"):
        cn.as_numcodecs("trunc")  # type: ignore[arg-type]


def test_register_all_registers_every_codec() -> None:
    ids = cn.register_all()
    assert "codecbench.trunc" in ids and "codecbench.zstd" in ids
    assert numcodecs.registry.codec_registry["codecbench.zstd"].codec_id == "codecbench.zstd"


def test_zarr_array_with_an_exported_codec(tmp_path: Path) -> None:
    zarr = pytest.importorskip("zarr")
    x = field((120, 40))
    trunc = get_codec({"id": "trunc", "bits": 10})
    path = str(tmp_path / "a.zarr")
    if int(zarr.__version__.split(".")[0]) >= 3:
        z = zarr.create_array(
            store=path, shape=x.shape, chunks=(50, 40), dtype=x.dtype, compressors=cn.as_numcodecs(trunc), zarr_format=2
        )
    else:  # pragma: no cover - zarr 2
        z = zarr.open_array(
            path, mode="w", shape=x.shape, chunks=(50, 40), dtype=x.dtype, compressor=cn.as_numcodecs(trunc)
        )
    z[:] = x
    assert '"codecbench.trunc"' in (tmp_path / "a.zarr" / ".zarray").read_text()
    numcodecs.registry.codec_registry.pop("codecbench.trunc", None)
    back = zarr.open_array(path, mode="r")[:]
    expected = decompress(trunc, compress(trunc, x))
    assert np.array_equal(back, expected)
    assert np.abs(back / x - 1).max() <= 2.0**-11
