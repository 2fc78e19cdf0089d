"""The torch-free helpers shared by the learned codecs: tiles, scaler, bit packing, state blobs."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("safetensors")

from codecbench_plugins.autoencoder import common  # noqa: E402

from codecbench import CodecError, Dataset, PayloadError  # noqa: E402


def test_field_tiles_round_trip_and_order():
    field = np.arange(2 * 4 * 6, dtype=np.float32).reshape(2, 4, 6)
    layout = common.Layout("field", 4, (2, 2))
    rows = layout.to_rows("t", field)
    assert rows.shape == (2 * 2 * 3, 4)
    assert rows[0].tolist() == [0, 1, 6, 7]  # the top-left 2 x 2 tile, row-major
    assert rows[1].tolist() == [2, 3, 8, 9]
    assert np.array_equal(layout.from_rows(rows, field.shape), field)
    with pytest.raises(CodecError, match="do not divide"):
        layout.to_rows("t", field[:, :3])


def test_table_layout_checks_columns():
    layout = common.Layout("table", 3)
    data = np.ones((5, 3), np.float32)
    assert layout.to_rows("t", data) is data
    with pytest.raises(CodecError, match="3 columns"):
        layout.to_rows("t", np.ones((5, 4), np.float32))


@pytest.mark.parametrize("bits", [1, 7, 8, 13, 20])
def test_codes_pack_to_bits_per_value(bits):
    rng = np.random.default_rng(bits)
    codes = rng.integers(0, 2**bits, size=1001).astype(np.uint32)
    packed = common.pack_codes(codes, bits)
    assert len(packed) == bits * ((1001 + 7) // 8)
    assert np.array_equal(common.unpack_codes(packed, bits, 1001), codes)
    with pytest.raises(PayloadError):
        common.unpack_codes(packed[:-1], bits, 1001)


def test_byte_shuffle_round_trip():
    a = np.linspace(-3, 7, 99).astype(np.float64)
    assert np.array_equal(common.unshuffle_bytes(common.shuffle_bytes(a), np.float64, 99), a)
    with pytest.raises(PayloadError):
        common.unshuffle_bytes(common.shuffle_bytes(a)[:-1], np.float64, 99)


def test_scaler_log_columns_and_inverse():
    rng = np.random.default_rng(0)
    x = np.stack([20 * (1 - rng.random(500)) ** -0.3, rng.normal(0, 2, 500), rng.exponential(1, 500)], axis=1)
    x[:10, 2] = 0.0  # zeros in a log column: c = smallest positive value
    sc = common.Scaler.fit(x, "standard", [True, False, True])
    y = sc.forward(x)
    assert np.allclose(y.mean(axis=0), 0, atol=1e-9) and np.allclose(y.std(axis=0), 1)
    assert sc.offset[0] == 0.0 and sc.offset[2] == x[x[:, 2] > 0, 2].min()
    assert np.allclose(sc.inverse(y), x, rtol=1e-12, atol=1e-12)
    # out of the log domain at encode time: clamped, counted, finite
    y2 = sc.forward(np.array([[-5.0, 0.0, -1.0]]))
    assert np.all(np.isfinite(y2)) and sc.n_clamped == 2
    back = common.Scaler.from_arrays(sc.arrays(), 3)
    assert np.array_equal(back.forward(x), y)
    with pytest.raises(CodecError, match="wrong size"):
        common.Scaler.from_arrays(sc.arrays(), 4)


def test_minmax_scaler_constant_column():
    x = np.stack([np.arange(10.0), np.full(10, 3.0)], axis=1)
    y = common.Scaler.fit(x, "minmax").forward(x)
    assert y[:, 0].min() == 0 and y[:, 0].max() == 1 and np.all(y[:, 1] == 0)


def test_heavy_tailed_columns_by_meta_and_by_name():
    data = np.abs(np.random.default_rng(0).normal(size=(50, 5))).astype(np.float32)
    data[:, 4] -= 10  # negative: never logged
    names = ["Jet_pt", "eta", "Jet_E", "charged_energy", "mass"]
    assert common.heavy_tailed_columns(Dataset("d", data, names)) == ["Jet_pt", "Jet_E", "charged_energy"]
    declared = Dataset("d", data, names, meta={"heavy_tailed": ["eta"]})
    assert common.heavy_tailed_columns(declared) == ["eta"]


def test_check_input_names_the_column():
    data = np.ones((4, 3), np.float32)
    data[2, 1] = np.inf
    with pytest.raises(CodecError, match="column 'b'.*row 2"):
        common.check_input("ae", data, ["a", "b", "c"], "fit")
    with pytest.raises(CodecError, match=r"index \(1, 0\)"):
        common.check_input("ae", np.array([[1.0], [np.nan]]), None, "encode")


def test_state_blob_round_trip_and_refusals():
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3)}
    blob = common.pack_state("ae", "decoder", arrays, {"latent_dim": 3})
    got, meta = common.unpack_state("ae", blob, "decoder")
    assert np.array_equal(got["w"], arrays["w"]) and meta["latent_dim"] == 3
    with pytest.raises(CodecError, match="written by codec 'ae'"):
        common.unpack_state("flow", blob)
    with pytest.raises(CodecError, match="'fitted' part"):
        common.unpack_state("ae", blob, "fitted")
    from safetensors.numpy import save

    with pytest.raises(CodecError, match="not a codecbench"):
        common.unpack_state("ae", save(arrays))  # valid safetensors, no codecbench header
    with pytest.raises(CodecError, match="must be bytes"):
        common.unpack_state("ae", "text")  # type: ignore[arg-type]
    with pytest.raises(CodecError, match="latent_dim=3"):
        common.check_meta_matches("ae", meta, {"latent_dim": 2})
