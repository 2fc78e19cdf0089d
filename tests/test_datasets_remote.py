"""Remote-only entries: their packaged loader settings, run on small files written in the same layout."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from codecbench.codec import DatasetError
from codecbench.data.catalog import list_datasets
from codecbench.data.load import load_dataset
from codecbench.data.registry import get_registry

GENJET = "recoGenJets_slimmedGenJets__PAT.obj."
# numeric per-jet branches of reco::GenJet in a CMSSW 7.6 MiniAODSIM file (split std::vector<reco::GenJet>)
GENJET_BRANCHES = {
    "m_state.vertex_.fCoordinates.fX": "float64",
    "m_state.vertex_.fCoordinates.fY": "float64",
    "m_state.vertex_.fCoordinates.fZ": "float64",
    "m_state.p4Polar_.fCoordinates.fPt": "float64",
    "m_state.p4Polar_.fCoordinates.fEta": "float64",
    "m_state.p4Polar_.fCoordinates.fPhi": "float64",
    "m_state.p4Polar_.fCoordinates.fM": "float64",
    "m_state.qx3_": "int32",
    "m_state.pdgId_": "int32",
    "m_state.status_": "int32",
    "mJetArea": "float32",
    "mPileupEnergy": "float32",
    "mPassNumber": "int32",
    "m_specific.m_EmEnergy": "float32",
    "m_specific.m_HadEnergy": "float32",
    "m_specific.m_InvisibleEnergy": "float32",
    "m_specific.m_AuxiliaryEnergy": "float32",
}
JETS_I_COLS = ["fn", "rn", "lbn", "evn", "npv", "quality"]
JETS_F_COLS = ["jet_pt", "jet_y", "jet_phi", "jet_m", "jet_eta", "jec", "jet_area", "jet_max_nef", "weight"]


def _registry_with_fixture(tmp_path: Path, name: str, fixture: Path) -> Path:
    """The packaged entry ``name`` with only its checksum replaced by the fixture file's."""
    entry = copy.deepcopy(get_registry()[name])
    entry.pop("registry", None)
    entry.pop("md5", None)
    entry["sha256"] = hashlib.sha256(fixture.read_bytes()).hexdigest()
    reg = tmp_path / "fixture-registry.yaml"
    reg.write_text(yaml.safe_dump({"datasets": {name: entry}}))
    return reg


def _write_mod_hdf5(path: Path, n_jets: int = 50) -> tuple[np.ndarray, np.ndarray]:
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(5)
    jets_i = np.zeros((n_jets, len(JETS_I_COLS)), dtype=np.int64)
    jets_i[:, 1] = np.where(np.arange(n_jets) < 30, 160957, 160998)  # two runs
    jets_i[:, 3] = 1000 + np.arange(n_jets) // 2  # two jets per event; event numbers repeat across runs
    jets_i[30:, 3] = 1000 + (np.arange(30, n_jets) - 30) // 2
    jets_f = np.empty((n_jets, len(JETS_F_COLS)), dtype=np.float64)
    jets_f[:, 0] = 375 + rng.exponential(100, n_jets)
    jets_f[:, 1:] = rng.normal(size=(n_jets, len(JETS_F_COLS) - 1))
    with h5py.File(path, "w") as f:
        di = f.create_dataset("jets_i", data=jets_i)
        di.attrs["cols"] = np.array(JETS_I_COLS, dtype="S")
        df = f.create_dataset("jets_f", data=jets_f)
        df.attrs["cols"] = np.array(JETS_F_COLS, dtype="S")
        pf = f.create_dataset("pfcs", data=rng.normal(size=(200, 6)))
        pf.attrs["cols"] = np.array(["pt", "y", "phi", "m", "pid", "vertex"], dtype="S")
        f.create_dataset("pfcs_index", data=np.linspace(0, 200, n_jets + 1).astype(np.uint32))
        f.create_dataset("filenames", data=np.array(["a.root"], dtype="S"))
    return jets_i, jets_f


def test_cms2011a_mod_hdf5_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fname = get_registry()["cms2011a-jets"]["file"]
    assert fname == "CMS_Jet300_pT375-infGeV_0_compressed.h5"
    jets_i, jets_f = _write_mod_hdf5(tmp_path / fname)
    reg = _registry_with_fixture(tmp_path, "cms2011a-jets", tmp_path / fname)
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path))
    ds = load_dataset("cms2011a-jets", registry=reg)
    assert ds.columns == JETS_F_COLS
    assert ds.data.shape == (50, 9) and ds.data.dtype == np.float32
    np.testing.assert_allclose(ds.data, jets_f.astype(np.float32))
    assert ds.meta["cast"]["from"] == "float64" and ds.meta["cast"]["exact"] is False
    assert 0 < ds.meta["cast"]["max_rel_error"] <= 2.0**-24
    ev = ds.meta["event_index"]
    # 15 events in run 1, 10 in run 2 whose event numbers repeat run 1's: (run, event) keeps them apart
    assert ds.meta["n_events"] == 25
    np.testing.assert_array_equal(ev, np.arange(50) // 2)
    assert ds.meta["units"]["jet_pt"] == "GeV" and "jet_pt" in ds.meta["heavy_tailed"]


def test_cms2011a_packaged_entry_is_remote_with_md5() -> None:
    e = get_registry()["cms2011a-jets"]
    assert e["md5"] == "f1d2d4013e1e0026b4f8cc84b9d5f944"
    assert e["url"] == "https://zenodo.org/record/3340205/files/CMS_Jet300_pT375-infGeV_0_compressed.h5?download=1"
    row = next(r for r in list_datasets() if r["name"] == "cms2011a-jets")
    assert row["source"] == "url" and row["available"] is False


def _write_genjets_root(path: Path, counts: list[int]) -> dict[str, np.ndarray]:
    import awkward as ak
    import uproot

    rng = np.random.default_rng(3)
    n = int(sum(counts))
    values: dict[str, np.ndarray] = {}
    for name, dt in GENJET_BRANCHES.items():
        if dt.startswith("int"):
            values[name] = rng.integers(-30, 30, n).astype(dt)
        else:
            values[name] = (
                rng.exponential(50.0, n) if "Pt" in name or "Energy" in name else rng.normal(size=n)
            ).astype(dt)
    with uproot.recreate(path) as f:
        branch_types = {GENJET + k: f"var * {v}" for k, v in GENJET_BRANCHES.items()}
        branch_types["EventAuxiliary_run"] = "int32"  # a per-event branch that the pattern does not match
        f.mktree("Events", branch_types)
        arrays = {GENJET + k: ak.unflatten(v, counts) for k, v in values.items()}
        arrays["EventAuxiliary_run"] = np.full(len(counts), 1, dtype=np.int32)
        f["Events"].extend(arrays)
    return values


@pytest.mark.parametrize(("name", "n_cols"), [("baler-cms-genjets", 17), ("baler-cms-genjets-8", 8)])
def test_baler_genjets_root_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, n_cols: int) -> None:
    fname = get_registry()[name]["file"]
    counts = [3, 0, 5, 2]
    values = _write_genjets_root(tmp_path / fname, counts)
    reg = _registry_with_fixture(tmp_path, name, tmp_path / fname)
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path))
    ds = load_dataset(name, registry=reg)
    assert ds.data.shape == (10, n_cols) and ds.data.dtype == np.float32
    assert "m_state.p4Polar_.fCoordinates.fPt" in ds.columns
    assert not any(c.startswith(GENJET) or c.startswith("n") for c in ds.columns)
    for col in ds.columns:
        np.testing.assert_allclose(ds.data[:, ds.columns.index(col)], values[col].astype(np.float32))
    np.testing.assert_array_equal(ds.meta["event_index"], [0, 0, 0, 2, 2, 2, 2, 2, 3, 3])
    assert ds.meta["n_events"] == 4
    if n_cols == 8:
        assert ds.columns == [
            "m_state.p4Polar_.fCoordinates.fPt",
            "m_state.p4Polar_.fCoordinates.fEta",
            "m_state.p4Polar_.fCoordinates.fPhi",
            "m_state.p4Polar_.fCoordinates.fM",
            "m_specific.m_EmEnergy",
            "m_specific.m_HadEnergy",
            "m_specific.m_InvisibleEnergy",
            "m_specific.m_AuxiliaryEnergy",
        ]
    else:
        assert "m_state.pdgId_" in ds.columns  # integer branches are kept (cast exactly)
    assert ds.meta["units"]["m_state.p4Polar_.fCoordinates.fPt"] == "GeV"


def test_hdf5_errors_name_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fname = "CMS_Jet300_pT375-infGeV_0_compressed.h5"
    _write_mod_hdf5(tmp_path / fname)
    reg = _registry_with_fixture(tmp_path, "cms2011a-jets", tmp_path / fname)
    doc = yaml.safe_load(reg.read_text())
    doc["datasets"]["cms2011a-jets"]["loader"]["key"] = "jet_f"
    reg.write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path))
    with pytest.raises(DatasetError, match=r"no HDF5 dataset 'jet_f'; closest: jets_f"):
        load_dataset("cms2011a-jets", registry=reg)
