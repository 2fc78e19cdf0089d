"""Learned codecs ``ae``, ``sae`` and ``flow``: small data and few epochs, real assertions."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("nflows")

import codecbench  # noqa: E402
from codecbench import CodecError, Dataset, PayloadError, compress, decompress  # noqa: E402

pytestmark = pytest.mark.slow

# min_epoch_steps=1: an epoch is one pass, as these tests count on (the default stretches small sets)
SMALL_AE = {"hidden": [32, 16], "epochs": 12, "batch_size": 128, "lr": 3e-3, "patience": 12, "min_epoch_steps": 1}
SMALL_FLOW = {
    "layers": 2,
    "hidden": 16,
    "num_blocks": 1,
    "epochs": 4,
    "batch_size": 256,
    "lr": 3e-3,
    "min_epoch_steps": 1,
}


def _jets(n: int = 3000, seed: int = 1) -> Dataset:
    rng = np.random.default_rng(seed)
    pt = 20.0 * (1.0 - rng.random(n)) ** (-1 / 3.5)
    eta = rng.normal(0, 1.6, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    mass = pt * np.exp(rng.normal(np.log(0.12), 0.4, n))
    data = np.stack([pt, eta, phi, mass], axis=1).astype(np.float32)
    return Dataset("jets-test", data, ["pt", "eta", "phi", "mass"], meta={"heavy_tailed": ["pt", "mass"]})


def _field(seed: int = 2) -> Dataset:
    rng = np.random.default_rng(seed)
    t = np.arange(12)[:, None, None]
    y, x = np.mgrid[0:20, 0:20] / 20.0
    data = np.sin(2 * np.pi * (x - 0.05 * t)) * np.cos(np.pi * y) + 0.01 * rng.standard_normal((12, 20, 20))
    return Dataset("field-test", data.astype(np.float32), None, kind="field")


def _rel_rms(orig: np.ndarray, rec: np.ndarray) -> np.ndarray:
    o = orig.reshape(orig.shape[0], -1).astype(np.float64)
    r = rec.reshape(orig.shape[0], -1).astype(np.float64)
    return np.sqrt(((r - o) ** 2).mean(axis=0)) / o.std(axis=0)


def _fitted(spec: dict, train: Dataset) -> codecbench.Codec:
    codec = codecbench.get_codec(spec)
    codec.fit(train)
    return codec


@pytest.fixture(scope="module")
def jets() -> tuple[Dataset, Dataset]:
    return _jets().split(0.25, seed=0)


@pytest.fixture(scope="module")
def ae(jets):
    return _fitted({"id": "ae", **SMALL_AE}, jets[0])


@pytest.fixture(scope="module")
def flow(jets):
    return _fitted({"id": "flow", **SMALL_FLOW}, jets[0])


# -- round trips ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ae", "flow"])
def test_table_round_trip_shape_dtype(name, request, jets):
    codec = request.getfixturevalue(name)
    test = jets[1].data
    out = decompress(codec, compress(codec, test))
    assert out.shape == test.shape and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    # lossy but close: every column within a few of its std (the tiny models are barely trained)
    assert np.all(_rel_rms(test, out) < 1.0)
    out64 = decompress(codec, compress(codec, test.astype(np.float64)))
    assert out64.dtype == np.float64 and out64.shape == test.shape


@pytest.mark.parametrize(
    "spec", [{"id": "ae", **SMALL_AE, "tile": [5, 5], "epochs": 40, "batch_size": 32}, {"id": "flow", **SMALL_FLOW}]
)
def test_field_round_trip_by_tiles(spec):
    train, test = _field().split(0.25, seed=0)
    codec = _fitted(spec, train)
    out = decompress(codec, compress(codec, test.data))
    assert out.shape == test.data.shape and out.dtype == np.float32
    assert float(np.sqrt(np.mean((out - test.data) ** 2)) / test.data.std()) < 0.5
    # one model serves another field size that the tile divides ...
    bigger = np.concatenate([test.data, test.data], axis=2)
    assert decompress(codec, compress(codec, bigger)).shape == bigger.shape
    # ... and refuses one it does not
    with pytest.raises(CodecError, match="tile"):
        codec.encode(test.data[:, :, :19])


# -- rate vs distortion -----------------------------------------------------------------------------


def test_ae_error_shrinks_with_latent_dim(jets):
    train, test = jets
    errs = []
    for dim in (1, 4):
        codec = _fitted({"id": "ae", **SMALL_AE, "latent_dim": dim}, train)
        errs.append(_rel_rms(test.data, decompress(codec, compress(codec, test.data))).mean())
    assert errs[1] < 0.7 * errs[0], errs


def test_ae_latent_bits(ae, jets):
    test = jets[1].data
    blob = ae.save_fitted()
    sizes, errs = [], []
    for bits in (8, 12, 16, 32):
        c = codecbench.get_codec({**ae.get_config(), "latent_bits": bits})
        c.load_fitted(blob)
        payload = compress(c, test)
        sizes.append(len(payload))
        errs.append(_rel_rms(test, decompress(c, payload)).max())
    assert sizes == sorted(sizes), sizes
    assert errs[0] > errs[1] >= errs[2] * 0.999 and errs[2] >= errs[3] * 0.999, errs
    assert ae.report_extras()["latent_dim"] == 3  # 4 variables -> 3 by default


def test_flow_error_shrinks_with_bits(flow, jets):
    test = jets[1].data
    blob = flow.save_fitted()
    sizes, errs = [], []
    for bits in (8, 12, 16):
        c = codecbench.get_codec({**flow.get_config(), "bits": bits})
        c.load_fitted(blob)
        payload = compress(c, test)
        sizes.append(len(payload))
        out = decompress(c, payload).astype(np.float64)
        errs.append(np.median(np.abs(out - test) / test.std(axis=0)))  # RMS is dominated by the tail bins
    assert sizes[0] < sizes[1] < sizes[2]
    assert errs[0] > 8 * errs[1] and errs[1] > 8 * errs[2], errs  # about 16x per 4 bits
    # about `bits` bits per value before the frame (codes are bit-packed, not int64)
    assert sizes[1] < test.size * 12 / 8 * 1.05 + 200


# -- sparse autoencoder ----------------------------------------------------------------------------


@pytest.mark.parametrize("sparsity", ["l1", "kl"])
def test_sae_round_trip_sparsity_and_fresh_decoder(jets, sparsity):
    train, test = jets
    spec = {"id": "sae", **SMALL_AE, "sparsity": sparsity, "latent_dim": 4, "reg_param": 1e-2}
    codec = _fitted(spec, train)
    payload = compress(codec, test.data)
    out = decompress(codec, payload)
    assert out.shape == test.data.shape and out.dtype == np.float32
    ex = codec.report_extras()
    assert 0.0 <= ex["latent_sparsity"] <= 1.0 and len(ex["latent_sparsity_per_dim"]) == 4
    assert ex["train_latent_sparsity"] is not None
    # the stored latent's zeros are exact and the bitmap counts them
    z = codec._decode_latent(codecbench_body_latent(codec, payload), test.data.shape[0], 16)
    assert abs(float((z == 0).mean()) - ex["latent_sparsity"]) < 1e-12
    fresh = codecbench.get_codec(codec.get_config())
    fresh.load_state(codec.save_state())
    assert codec.aux_nbytes() == len(codec.save_state())
    assert np.array_equal(decompress(fresh, payload), out)


def codecbench_body_latent(codec, payload: bytes) -> bytes:
    """The zstd-decompressed latent section of a framed sae payload (test helper)."""
    import zstandard

    from codecbench.container import parse

    body = parse(payload).body
    off = 4 + 3 + 8 * 2 + 11  # magic, version/dtype/ndim, 2-D shape, bits/rows/latent_dim
    return zstandard.ZstdDecompressor().decompress(body[off:])


def test_sae_zeros_pay_off(jets):
    train, test = jets
    spec = {"id": "sae", **SMALL_AE, "latent_dim": 4, "reg_param": 0.5, "zstd_level": -7}
    codec = _fitted(spec, train)
    payload = compress(codec, test.data)
    sparsity = codec.report_extras()["latent_sparsity"]
    assert sparsity > 0.4  # a heavy L1 penalty silences most of the latent
    dense = test.data.shape[0] * 4 * 2  # float16 latent without the bitmap
    assert len(payload) < dense * (1 - sparsity) + dense / 16 + 200


# -- escapes: the bound holds on every value --------------------------------------------------------


@pytest.mark.parametrize(
    "bound", [{"max_rel_error": 1e-3}, {"max_abs_error": 0.01}, {"max_std_error": 1e-3}], ids=["rel", "abs", "std"]
)
def test_flow_escape_bound_holds_on_every_value(flow, jets, bound):
    test = jets[1].data
    c = codecbench.get_codec({**flow.get_config(), "bits": 10, **bound})
    c.load_fitted(flow.save_fitted())
    out = decompress(c, compress(c, test))
    err = np.abs(out.astype(np.float64) - test.astype(np.float64))
    declared = c.declared_bound()
    if declared["mode"] == "rel":
        allowed = declared["value"] * np.abs(test.astype(np.float64))
    else:
        value = declared["value"]
        allowed = np.array([value[k] for k in jets[1].columns]) if isinstance(value, dict) else value
    assert np.all(err <= allowed)
    extras = c.report_extras()
    assert extras["escapes"] > 0  # 10 bits cannot meet these bounds everywhere by itself
    assert 0 < extras["escape_fraction"] < 1
    # without escapes the same codes miss the bound somewhere
    plain = codecbench.get_codec({**flow.get_config(), "bits": 10})
    plain.load_fitted(flow.save_fitted())
    assert np.any(np.abs(decompress(plain, compress(plain, test)) - test) > allowed)
    if "max_std_error" in bound:
        assert set(declared["value"]) == {"pt", "eta", "phi", "mass"}


def test_flow_escapes_keep_zeros_and_field_bound():
    train, test = _field().split(0.25, seed=0)
    data = test.data.copy()
    data[0, :4, :4] = 0.0
    c = _fitted({"id": "flow", **SMALL_FLOW, "bits": 9, "max_rel_error": 1e-4}, train)
    out = decompress(c, compress(c, data))
    assert np.all(np.abs(out.astype(np.float64) - data) <= 1e-4 * np.abs(data.astype(np.float64)))
    assert np.all(out[0, :4, :4] == 0.0)


def test_flow_extras(flow, jets):
    compress(flow, jets[1].data)
    ex = flow.report_extras()
    assert len(ex["latent_normaltest"]) == 4
    for d in ex["latent_normaltest"]:
        assert d["statistic"] >= 0 and 0 <= d["pvalue"] <= 1
    assert np.isfinite(ex["test_nll"]) and ex["escapes"] == 0
    assert ex["log_columns"] == ["pt", "mass"]
    json.dumps(ex)
    # the decoder state holds the learned tensors only: MADE masks are rebuilt from the config
    from codecbench_plugins.autoencoder.common import unpack_state

    arrays, _ = unpack_state("flow", flow.save_state(), "decoder")
    assert not [k for k in arrays if k.endswith((".mask", ".degrees"))]
    assert any(k.endswith("_permutation") for k in arrays)  # random permutations are learned state


# -- state: fresh decoder, aux bytes, invalid blobs, cache ------------------------------------------


@pytest.mark.parametrize("name", ["ae", "flow"])
def test_fresh_instance_decodes_identically(name, request, jets):
    codec = request.getfixturevalue(name)
    payload = compress(codec, jets[1].data)
    expected = decompress(codec, payload)
    state = codec.save_state()
    assert codec.aux_nbytes() == len(state) > 0
    fresh = codecbench.get_codec(json.loads(json.dumps(codec.get_config())))
    fresh.load_state(state)
    assert np.array_equal(decompress(fresh, payload), expected)
    if name == "ae":  # the autoencoder's state holds no encoder
        with pytest.raises(CodecError, match="decoder side"):
            fresh.encode(jets[1].data)
    else:  # the flow is its own inverse: its decoder state encodes too
        assert compress(fresh, jets[1].data) == payload


@pytest.mark.parametrize("name", ["ae", "flow"])
def test_fitted_blob_restores_the_encoder(name, request, jets):
    codec = request.getfixturevalue(name)
    payload = compress(codec, jets[1].data)
    cached = codecbench.get_codec(codec.get_config())
    cached.load_fitted(codec.save_fitted())
    assert compress(cached, jets[1].data) == payload


@pytest.mark.parametrize("name", ["ae", "flow"])
def test_invalid_state_blobs_are_refused(name, request):
    codec = request.getfixturevalue(name)
    fresh = codecbench.get_codec(codec.get_config())
    good = codec.save_state()
    other = "flow" if name == "ae" else "ae"
    for blob, match in [
        (b"", "not valid"),
        (b"garbage" * 10, "not valid"),
        (good[: len(good) // 2], "not valid"),
        (b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......", "not valid"),
        (request.getfixturevalue(other).save_state(), "written by codec"),
        (codec.save_fitted(), "part"),
    ]:
        with pytest.raises(CodecError, match=match):
            fresh.load_state(blob)
    mismatched = codecbench.get_codec({**codec.get_config(), "hidden": 8 if name == "flow" else [8]})
    with pytest.raises(CodecError, match="hidden"):
        mismatched.load_state(good)


def test_flow_state_with_masks_from_older_versions_still_loads(flow, jets):
    from codecbench_plugins.autoencoder.common import pack_state, unpack_state
    from codecbench_plugins.autoencoder.nets import state_to_numpy

    arrays, meta = unpack_state("flow", flow.save_state(), "decoder")
    meta = {k: v for k, v in meta.items() if k not in ("format", "version", "codec", "part")}
    masks = {k: v for k, v in state_to_numpy(flow._flow, "flow.").items() if k.endswith((".mask", ".degrees"))}
    payload = compress(flow, jets[1].data)
    old = codecbench.get_codec(flow.get_config())
    old.load_state(pack_state("flow", "decoder", {**arrays, **masks}, meta))
    assert np.array_equal(decompress(old, payload), decompress(flow, payload))
    key = next(k for k in masks if k.endswith(".mask"))
    tampered = {**arrays, **masks, key: 1.0 - masks[key]}
    with pytest.raises(CodecError, match="does not match the architecture"):
        old.load_state(pack_state("flow", "decoder", tampered, meta))


def test_corrupted_body_is_a_payload_error(flow, ae, jets):
    for codec in (flow, ae):
        body = codec.encode(jets[1].data)
        for bad in (body[:10], body[:-5], b"XXXX" + body[4:]):
            with pytest.raises(PayloadError):
                codec.decode(bad)


# -- determinism, bad input, config ---------------------------------------------------------------


@pytest.mark.parametrize(
    "spec", [{"id": "ae", **SMALL_AE, "epochs": 3}, {"id": "flow", **SMALL_FLOW, "epochs": 2}], ids=["ae", "flow"]
)
def test_same_seed_same_payload(spec, jets):
    train, test = jets
    a = compress(_fitted(spec, train), test.data)
    b = compress(_fitted(spec, train), test.data)
    c = compress(_fitted({**spec, "seed": 7}, train), test.data)
    assert a == b
    assert a != c


@pytest.mark.parametrize("codec_id", ["ae", "sae", "flow"])
def test_non_finite_input_is_refused_naming_the_column(codec_id, jets):
    train = jets[0]
    data = train.data.copy()
    data[5, 2] = np.nan
    codec = codecbench.get_codec({"id": codec_id, "epochs": 1, "min_epoch_steps": 1})
    with pytest.raises(CodecError, match="'phi'"):
        codec.fit(Dataset("bad", data, train.columns))
    with pytest.raises(CodecError, match="not fitted"):
        codec.encode(train.data)


def test_non_finite_encode_input_is_refused(ae, jets):
    data = jets[1].data.copy()
    data[3, 0] = np.inf
    with pytest.raises(CodecError, match="'pt'"):
        ae.encode(data)
    with pytest.raises(CodecError, match="float32 or float64"):
        ae.encode(jets[1].data.astype(np.int32))
    with pytest.raises(CodecError, match="4 columns"):
        ae.encode(jets[1].data[:, :3])


@pytest.mark.parametrize(
    "spec",
    [
        {"id": "ae", "latent_bits": 15},
        {"id": "ae", "activation": "relu6"},
        {"id": "ae", "device": "tpu"},
        {"id": "sae", "sparsity": "l2"},
        {"id": "flow", "bits": 21},
        {"id": "flow", "max_rel_error": 1e-3, "max_abs_error": 1.0},
        {"id": "flow", "max_std_error": -1.0},
    ],
)
def test_bad_parameters_are_refused(spec):
    with pytest.raises(CodecError):
        codecbench.get_codec(spec)


def test_configs_are_json_and_learned_attributes():
    for codec_id in ("ae", "sae", "flow"):
        cls = codecbench.get_codec(codec_id)
        assert cls.learned and not cls.lossless
        config = cls.get_config()
        assert codecbench.get_codec(json.loads(json.dumps(config))) == cls
        assert {"seed", "device", "epochs", "patience"} <= set(config)
    assert codecbench.get_codec("flow").default_sweep == {"bits": list(range(8, 21))}
    assert "latent_dim" in codecbench.get_codec("sae").default_sweep


def test_small_training_sets_get_min_epoch_steps(jets):
    train = Dataset("tiny", jets[0].data[:300], jets[0].columns)
    codec = codecbench.get_codec({"id": "ae", **SMALL_AE, "epochs": 2, "batch_size": 90, "min_epoch_steps": 9})
    codec.fit(train)  # 270 training rows: 3 steps per pass, so 3 passes make an epoch of 9 steps
    assert codec._history["passes_per_epoch"] == 3 and codec.report_extras()["epochs_run"] == 2


def test_progress_is_reported_per_epoch(jets):
    seen = []
    codec = codecbench.get_codec({"id": "ae", **SMALL_AE, "epochs": 3, "patience": 5})
    codec.set_progress(lambda epoch, n, **m: seen.append((epoch, n, sorted(m))))
    codec.fit(jets[0])
    assert seen == [(e, 3, ["loss", "val_loss"]) for e in (1, 2, 3)]
    assert codec.report_extras()["epochs_run"] == 3


def test_plugin_packages_import_without_torch():
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['nflows'] = None\n"
        "import codecbench, codecbench_plugins.autoencoder, codecbench_plugins.flow\n"
        "from codecbench.plugins import available\n"
        "assert {'ae', 'sae', 'flow'} <= set(available())\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
