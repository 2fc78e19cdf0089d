"""The runner with learned codecs: held-out measurement, aux bytes, the model cache, --refit,
encode-only sweeps sharing one fitted model, --fit-on across datasets, and repeats."""

from __future__ import annotations

import pytest

import codecbench
from codecbench.runner import model_cache_dir

pytest.importorskip("torch")
pytest.importorskip("nflows")

FAST_AE = {"id": "ae", "epochs": 2, "hidden": [16, 8], "min_epoch_steps": 5}
FAST_FLOW = {"id": "flow", "epochs": 2, "layers": 2, "hidden": 16}
SMALL = {"jets-synthetic": {"n_rows": 3000}}


@pytest.fixture(autouse=True)
def private_model_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CODECBENCH_CACHE_DIR", str(tmp_path / "cache"))


def test_learned_records_are_held_out_and_count_aux_bytes():
    df = codecbench.run([FAST_AE, FAST_FLOW], ["hzz-jets", "baler-cfd"])
    assert (df["status"] == "ok").all(), df[["codec", "error"]]
    assert (df["split"] == "test").all()
    assert (df["aux_bytes"] > 0).all()
    assert (df["effective_ratio"] < df["ratio"]).all()
    assert (df["fit_s"] > 0).all()
    hzz = df[df["dataset"] == "hzz-jets"].iloc[0]
    assert hzz["n_values"] == round(2773 * 0.2) * 4  # the 20% test rows only
    assert hzz["split_info"]["n_part"] == round(2773 * 0.2)


def test_model_cache_skips_retraining_and_refit_retrains():
    first = codecbench.run([FAST_AE], ["jets-synthetic"], sets=SMALL).iloc[0]
    second = codecbench.run([FAST_AE], ["jets-synthetic"], sets=SMALL).iloc[0]
    assert first["model_cache"] == "miss" and second["model_cache"] == "hit"
    assert second["fit_s"] == first["fit_s"]  # the recorded fit time of the cached model
    assert second["payload_bytes"] == first["payload_bytes"]
    assert len(list(model_cache_dir().glob("*.bin"))) == 1
    third = codecbench.run([FAST_AE], ["jets-synthetic"], sets=SMALL, refit=True).iloc[0]
    assert third["model_cache"] == "refit"


def test_damaged_cache_entry_is_refitted_not_trusted():
    codecbench.run([FAST_AE], ["jets-synthetic"], sets=SMALL)
    (blob,) = model_cache_dir().glob("*.bin")
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    rec = codecbench.run([FAST_AE], ["jets-synthetic"], sets=SMALL).iloc[0]
    assert rec["status"] == "ok" and rec["model_cache"] == "miss"


def test_sweep_over_encode_params_trains_once():
    df = codecbench.run([FAST_FLOW], ["jets-synthetic"], sets=SMALL, sweeps={"flow": {"bits": [8, 12]}})
    assert list(df["model_cache"]) == ["miss", "hit"]
    assert df.iloc[1]["worst_rel_rms"] < df.iloc[0]["worst_rel_rms"]
    assert df.iloc[1]["ratio"] < df.iloc[0]["ratio"]


def test_fit_on_measures_other_datasets_with_the_same_columns():
    df = codecbench.run(
        [FAST_AE, "zstd"],
        ["jets-synthetic", "hzz-jets-ptetaphim", "cms-ttbar-jets"],
        sets=SMALL,
        fit_on="jets-synthetic",
    )
    ae = df[df["codec"] == "ae"]
    # cms-ttbar-jets names its columns Jet_pt, ...: not the same columns, so not measured
    assert sorted(ae["dataset"]) == ["hzz-jets-ptetaphim", "jets-synthetic"]
    assert (ae["fit_on"] == "jets-synthetic").all() and (ae["status"] == "ok").all()
    other = ae[ae["dataset"] == "hzz-jets-ptetaphim"].iloc[0]
    assert other["split"] == "all" and other["n_values"] == 2773 * 4
    assert len(df[df["codec"] == "zstd"]) == 3  # codecs that learn nothing run everywhere


def test_repeats_use_new_model_seeds_on_the_same_split():
    df = codecbench.run([FAST_AE, "zstd"], ["jets-synthetic"], sets=SMALL, repeats=2)
    ae = df[df["codec"] == "ae"]
    assert list(ae["repeat"]) == [0, 1] and len(df[df["codec"] == "zstd"]) == 1
    assert ae.iloc[0]["config"]["seed"] != ae.iloc[1]["config"]["seed"]
    assert ae.iloc[0]["split_info"] == ae.iloc[1]["split_info"]
