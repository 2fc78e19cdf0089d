"""The dataset registry: every named entry loads from verified files, generators, errors, user registry."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import SHARED_DATASETS, shared_data_available

from codecbench.codec import ConfigError, DatasetError
from codecbench.data.catalog import dataset_info, list_datasets
from codecbench.data.checksums import file_digest
from codecbench.data.files import find_file
from codecbench.data.load import load_dataset
from codecbench.data.registry import get_registry, packaged_registry_path

needs_data = pytest.mark.skipif(not shared_data_available(), reason="shared data files not on CODECBENCH_DATA_PATH")


def _manifest() -> dict[str, str]:
    rows = (SHARED_DATASETS / "MANIFEST.tsv").read_text().splitlines()[1:]
    return {r.split("\t")[0]: r.split("\t")[2] for r in rows if r.strip()}


# name -> (kind, shape, columns (first ones) or None, file)
EXPECTED = {
    "cms-ttbar-jets": (
        "table",
        (537, 4),
        ["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"],
        "nanoAOD_2015_CMS_Open_Data_ttbar.root",
    ),
    "cms-ttbar-jets-all": ("table", (537, 27), ["Jet_area", "Jet_btagCSVV2"], "nanoAOD_2015_CMS_Open_Data_ttbar.root"),
    "hzz-jets": ("table", (2773, 4), ["Jet_Px", "Jet_Py", "Jet_Pz", "Jet_E"], "uproot-HZZ.root"),
    "baler-cfd": ("field", (60, 50, 50), None, "CFD_animation.npz"),
    "baler-cfd-still": ("field", (1, 50, 50), None, "CFD_still.npz"),
    "pythia-qcd-jets-205k": ("table", (204711, 18), ["pt", "eta", "phi", "mass", "energy"], "pythia_qcd_jets.npz"),
}


@needs_data
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_file_dataset_loads_with_verified_checksum(name: str) -> None:
    kind, shape, cols, fname = EXPECTED[name]
    ds = load_dataset(name)
    assert ds.kind == kind
    assert ds.data.shape == shape
    assert ds.data.dtype == np.float32
    assert np.isfinite(ds.data).all()
    if cols is None:
        assert ds.columns is None
    else:
        assert ds.columns[: len(cols)] == cols
    assert ds.meta["source"] == fname
    assert ds.meta["sha256"] == _manifest()[fname]
    for key in ("url", "license", "units", "notes", "description", "heavy_tailed"):
        assert key in ds.meta
    assert set(ds.meta["heavy_tailed"]) <= set(ds.columns or [])


@needs_data
def test_root_jagged_flattening_keeps_event_index() -> None:
    import uproot

    ds = load_dataset("cms-ttbar-jets")
    ev = ds.meta["event_index"]
    assert ev.dtype.kind == "i" and len(ev) == 537
    with uproot.open(SHARED_DATASETS / "nanoAOD_2015_CMS_Open_Data_ttbar.root") as f:
        t = f["Events"]
        n_jet = t["nJet"].array(library="np")
        pt = t["Jet_pt"].array(library="ak")
    np.testing.assert_array_equal(np.bincount(ev, minlength=len(n_jet)), n_jet)
    # the 3rd jet of event 5 is the row where event_index == 5, offset 2
    rows = np.flatnonzero(ev == 5)
    assert ds.data[rows[2], 0] == np.float32(pt[5][2])
    assert ds.meta["n_events"] == 200
    all_cols = load_dataset("cms-ttbar-jets-all").columns
    assert "Jet_pt" in all_cols and "Jet_jetId" not in all_cols  # float branches only
    assert all(c.startswith("Jet_") for c in all_cols)


@needs_data
def test_baler_cfd_cast_is_exact_and_recorded() -> None:
    ds = load_dataset("baler-cfd")
    with np.load(SHARED_DATASETS / "CFD_animation.npz") as z:
        orig = z["data"]
    assert orig.dtype == np.float64
    np.testing.assert_array_equal(ds.data.astype(np.float64), orig)
    assert ds.meta["cast"] == {"from": "float64", "to": "float32", "exact": True}
    assert "exactly representable in float32" in ds.meta["notes"]


@needs_data
def test_pythia_local_entry_has_columns_and_events() -> None:
    ds = load_dataset("pythia-qcd-jets-205k", n_rows=5000)
    assert ds.data.shape == (5000, 18)
    assert ds.meta["url"] is None
    assert ds.meta["event_index"].shape == (5000,)
    assert np.all(np.diff(ds.meta["event_index"]) >= 0)
    assert ds.data[:, 0].min() >= 20.0  # pt cut
    assert "Pythia 8.318" in ds.meta["file_info"]["generator"]


def test_jets_synthetic_shape_and_physics() -> None:
    ds = load_dataset("jets-synthetic", n_rows=50_000, seed=1)
    assert ds.kind == "table" and ds.data.shape == (50_000, 4) and ds.data.dtype == np.float32
    assert ds.columns == ["pt", "eta", "phi", "mass"]
    pt, eta, phi, mass = ds.data.T
    assert pt.min() >= 20.0
    counts, _ = np.histogram(pt, bins=[20, 40, 80, 160, 320])
    assert np.all(np.diff(counts) < 0)  # falling spectrum
    assert phi.min() > -np.pi and phi.max() <= np.float32(np.pi)
    assert np.abs(eta).max() < 4.7
    assert np.all((mass > 0) & (mass < pt))
    assert np.corrcoef(np.log(pt), np.log(mass))[0, 1] > 0.3
    assert ds.meta["source"] == "generated" and ds.meta["sha256"] is None
    assert ds.meta["units"] == {"pt": "GeV", "eta": "", "phi": "rad", "mass": "GeV"}
    assert ds.meta["heavy_tailed"] == ["pt", "mass"]


def test_generators_are_seeded() -> None:
    a = load_dataset("jets-synthetic", n_rows=1000)
    b = load_dataset("jets-synthetic", n_rows=1000)
    c = load_dataset("jets-synthetic", n_rows=1000, seed=1)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(a.data, c.data)
    assert load_dataset("jets-synthetic").data.shape == (100_000, 4)
    f1 = load_dataset("cfd-synthetic", n_steps=5)
    f2 = load_dataset("cfd-synthetic", n_steps=5, seed=3)
    assert f1.data.shape == (5, 60, 60) and not np.array_equal(f1.data, f2.data)


def test_cfd_synthetic_is_a_moving_flow_with_vortices() -> None:
    ds = load_dataset("cfd-synthetic")
    assert ds.kind == "field" and ds.columns is None
    assert ds.data.shape == (60, 60, 60) and ds.data.dtype == np.float32
    u = ds.data
    assert np.isfinite(u).all()
    assert 0.8 < float(u[:, :, 0].mean()) < 1.1  # free stream at the inlet
    assert float(u[:, 32, 48].mean()) < float(u[:, 0, 48].mean())  # wake deficit on the axis
    assert float(np.abs(np.diff(u, axis=0)).mean()) > 0.003  # vortices move
    assert u.min() < 0.3  # reversed / slowed flow in vortex cores


def test_unknown_param_names_entry_and_allowed() -> None:
    with pytest.raises(DatasetError, match=r"'jets-synthetic' has no parameter 'n_event'.*n_rows=100000.*seed=0"):
        load_dataset("jets-synthetic", n_event=5)
    with pytest.raises(DatasetError, match=r"'baler-cfd' has no parameter 'n_rows'"):
        load_dataset("baler-cfd", n_rows=5)


def test_unknown_dataset_suggests_close_names() -> None:
    with pytest.raises(DatasetError, match=r"unknown dataset 'jets-synthetc'.*did you mean 'jets-synthetic'"):
        load_dataset("jets-synthetc")


def _write_registry(path: Path, entries: dict) -> Path:
    path.write_text(yaml.safe_dump({"datasets": entries}))
    return path


@needs_data
def test_bad_checksum_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "CFD_still.npz"
    blob = bytearray((SHARED_DATASETS / "CFD_still.npz").read_bytes())
    blob[-100] ^= 0xFF
    bad.write_bytes(bytes(blob))
    monkeypatch.setenv("CODECBENCH_DATA_PATH", os.pathsep.join([str(tmp_path), str(SHARED_DATASETS)]))
    with pytest.raises(DatasetError) as exc:
        load_dataset("baler-cfd-still")
    msg = str(exc.value)
    assert "expected sha256 9357079b4e90" in msg and "got " in msg and "refused" in msg and str(bad) in msg


def test_missing_file_error_names_file_url_and_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path / "nowhere"))
    with pytest.raises(DatasetError) as exc:
        load_dataset("hzz-jets")
    msg = str(exc.value)
    assert "'uproot-HZZ.root' not found" in msg
    assert "https://raw.githubusercontent.com/scikit-hep/scikit-hep-testdata" in msg
    assert str(tmp_path / "nowhere") in msg and os.environ["CODECBENCH_CACHE_DIR"] in msg
    with pytest.raises(DatasetError, match=r"no public URL.*CODECBENCH_DATA_PATH"):
        load_dataset("pythia-qcd-jets-205k")


def test_find_file_verifies_and_caches_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    f = tmp_path / "x.bin"
    f.write_bytes(b"codecbench" * 100)
    sha = hashlib.sha256(f.read_bytes()).hexdigest()
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path))
    assert find_file("x.bin", sha) == f
    # the second lookup uses the remembered digest: hashing is not called again
    monkeypatch.setattr(hashlib, "new", lambda *a, **k: (_ for _ in ()).throw(AssertionError("re-hashed")))
    assert find_file("x.bin", sha) == f
    monkeypatch.undo()
    # a changed file (size/mtime) is hashed again and refused
    f.write_bytes(b"other content")
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path))
    with pytest.raises(DatasetError, match="refused"):
        find_file("x.bin", sha)
    assert file_digest(f) == hashlib.sha256(b"other content").hexdigest()


def test_user_registry_adds_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    rng = np.random.default_rng(0)
    arr = rng.normal(size=(30, 3)).astype(np.float32)
    np.save(tmp_path / "mine.npy", arr)
    csv = tmp_path / "mine.csv"
    csv.write_text("a,b,c\n" + "\n".join(f"{i},{2 * i},{i / 4}" for i in range(10)) + "\n")
    sha = {p: hashlib.sha256((tmp_path / p).read_bytes()).hexdigest() for p in ("mine.npy", "mine.csv")}
    reg = _write_registry(
        tmp_path / "user.yaml",
        {
            "my-npy": {
                "file": "mine.npy",
                "sha256": sha["mine.npy"],
                "loader": {"format": "npy"},
                "columns": ["x", "y", "z"],
            },
            "my-csv": {
                "file": "mine.csv",
                "sha256": sha["mine.csv"],
                "loader": {"format": "csv", "columns": ["c", "a"]},
            },
            "jets-synthetic": {"generator": "jets", "params": {"n_rows": 77}, "description": "overridden"},
        },
    )
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path))
    a = load_dataset("my-npy", registry=reg)
    np.testing.assert_array_equal(a.data, arr)
    assert a.columns == ["x", "y", "z"] and a.meta["sha256"] == sha["mine.npy"]
    b = load_dataset("my-csv", registry=reg)
    assert b.columns == ["c", "a"]
    np.testing.assert_array_equal(b.data[:, 1], np.arange(10, dtype=np.float32))
    np.testing.assert_array_equal(b.data[:, 0], np.arange(10, dtype=np.float32) / 4)
    assert load_dataset("jets-synthetic", registry=reg).data.shape == (77, 4)
    monkeypatch.setenv("CODECBENCH_REGISTRY", str(reg))
    names = {r["name"]: r for r in list_datasets()}
    assert names["my-csv"]["source"] == "file" and names["my-csv"]["available"] is True
    assert names["jets-synthetic"]["description"] == "overridden"
    assert "cms-ttbar-jets" in names  # packaged entries remain


def test_lossy_float64_cast_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    np.savez(tmp_path / "f64.npz", data=np.array([[1.0, 0.1], [2.0, 3.0]]))
    sha = hashlib.sha256((tmp_path / "f64.npz").read_bytes()).hexdigest()
    entry = {"file": "f64.npz", "sha256": sha, "loader": {"format": "npz", "key": "data"}}
    reg = _write_registry(tmp_path / "r.yaml", {"f64": entry, "f64-ok": {**entry, "exact_cast": False}})
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path))
    with pytest.raises(DatasetError, match=r"casting float64 to float32 would change 1 values.*exact_cast: false"):
        load_dataset("f64", registry=reg)
    ds = load_dataset("f64-ok", registry=reg)
    assert ds.meta["cast"]["exact"] is False and 0 < ds.meta["cast"]["max_rel_error"] < 1e-7


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"generator": "jets", "kind": "cube"}, "kind"),
        ({"file": "a.npz", "loader": {"format": "npz", "key": "data"}}, "sha256"),
        ({"file": "a.npz", "sha256": "abc", "loader": {"format": "npz", "key": "d"}}, "sha256"),
        ({"file": "a.npz", "sha256": "0" * 64, "loader": {"format": "parquet"}}, "loader"),
        ({"generator": "jets", "lisence": "x"}, "lisence"),
        ({"generator": "jets", "heavy_tailed": "pt"}, "heavy_tailed"),
        ({"description": "neither file nor generator"}, "file"),
    ],
)
def test_bad_entry_names_file_entry_and_field(tmp_path: Path, entry: dict, field: str) -> None:
    reg = _write_registry(tmp_path / "bad.yaml", {"broken": entry})
    with pytest.raises(ConfigError) as exc:
        get_registry(reg)
    msg = str(exc.value)
    assert str(reg) in msg and "entry 'broken'" in msg and f"field {field!r}" in msg


def test_bad_yaml_names_file_and_position(tmp_path: Path) -> None:
    reg = tmp_path / "bad.yaml"
    reg.write_text("datasets:\n  x: {generator: jets\n  y: [\n")
    with pytest.raises(ConfigError, match=rf"{reg}: not valid YAML.*line \d+"):
        get_registry(reg)
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ConfigError, match="cannot read dataset registry"):
        get_registry(missing)


def test_missing_keys_and_branches_list_the_closest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    if not shared_data_available():
        pytest.skip("shared data files not available")
    shutil.copy(SHARED_DATASETS / "CFD_still.npz", tmp_path / "s.npz")
    sha = hashlib.sha256((tmp_path / "s.npz").read_bytes()).hexdigest()
    root_sha = _manifest()["uproot-HZZ.root"]
    reg = _write_registry(
        tmp_path / "r.yaml",
        {
            "k": {"kind": "field", "file": "s.npz", "sha256": sha, "loader": {"format": "npz", "key": "dta"}},
            "b": {
                "file": "uproot-HZZ.root",
                "sha256": root_sha,
                "loader": {"format": "root", "tree": "events", "branches": ["Jet_pX"]},
            },
            "t": {
                "file": "uproot-HZZ.root",
                "sha256": root_sha,
                "loader": {"format": "root", "tree": "Events", "branches": ["Jet_Px"]},
            },
        },
    )
    monkeypatch.setenv("CODECBENCH_DATA_PATH", os.pathsep.join([str(tmp_path), str(SHARED_DATASETS)]))
    with pytest.raises(DatasetError, match=r"no array 'dta'; closest: data"):
        load_dataset("k", registry=reg)
    with pytest.raises(DatasetError, match=r"no branch 'Jet_pX'; closest: Jet_Px"):
        load_dataset("b", registry=reg)
    with pytest.raises(DatasetError, match=r"no tree 'Events'; closest: events"):
        load_dataset("t", registry=reg)


def test_list_datasets_fields_and_packaged_registry() -> None:
    assert packaged_registry_path().name == "datasets.yaml"
    rows = {r["name"]: r for r in list_datasets()}
    for name in ["jets-synthetic", "cfd-synthetic", *EXPECTED]:
        assert name in rows
    r = rows["cms-ttbar-jets"]
    assert set(r) >= {"name", "kind", "source", "file", "size_bytes", "license", "description", "available"}
    assert r["source"] == "url" and r["size_bytes"] == 377623
    assert rows["jets-synthetic"]["source"] == "generated" and rows["jets-synthetic"]["available"] is True
    assert rows["pythia-qcd-jets-205k"]["source"] == "file"


@needs_data
def test_dataset_info_reports_quality() -> None:
    info = dataset_info("cms-ttbar-jets")
    assert info["shape"] == [537, 4] and info["n_events"] == 200
    assert "event_index" not in info["meta"]
    q = info["quality"]["columns"]
    assert q["Jet_pt"]["mantissa_bits_used"] == 10
    assert dataset_info("hzz-jets")["quality"]["columns"]["Jet_Px"]["mantissa_bits_used"] == 23


@needs_data
def test_cli_lists_and_shows_info() -> None:
    from typer.testing import CliRunner

    from codecbench.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["list", "datasets"])
    assert res.exit_code == 0, res.output
    assert "cms-ttbar-jets" in res.output and "jets-synthetic" in res.output
    res = runner.invoke(app, ["datasets", "info", "cms-ttbar-jets"])
    assert res.exit_code == 0, res.output
    assert "10/23" in res.output and "verified" in res.output
    res = runner.invoke(app, ["datasets", "info", "jets-synthetic", "--set", "n_rows=100", "--set", "bogus=1"])
    assert res.exit_code == 1 and "no parameter 'bogus'" in res.output
    res = runner.invoke(app, ["datasets", "info", "nope"])
    assert res.exit_code == 1 and "unknown dataset 'nope'" in res.output


@needs_data
def test_hzz_ptetaphim_view_matches_four_vectors() -> None:
    pytest.importorskip("vector")
    base = load_dataset("hzz-jets")
    view = load_dataset("hzz-jets-ptetaphim")
    assert view.columns == ["pt", "eta", "phi", "mass"] and view.data.shape == (2773, 4)
    assert np.isfinite(view.data).all() and view.data[:, 3].min() > 0
    px, py, pz, e = (base.data[:, i].astype(np.float64) for i in range(4))
    pt = np.hypot(px, py)
    np.testing.assert_allclose(view.data[:, 0], pt, rtol=1e-6)
    np.testing.assert_allclose(view.data[:, 1], np.arcsinh(pz / pt), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(view.data[:, 2], np.arctan2(py, px), rtol=1e-6, atol=1e-6)
    m2 = e**2 - px**2 - py**2 - pz**2
    ok = m2 > 1.0  # well-defined masses (near-massless jets are dominated by float32 rounding)
    np.testing.assert_allclose(view.data[ok, 3], np.sqrt(m2[ok]), rtol=1e-3)
    assert view.meta["derived_from"] == "hzz-jets" and view.meta["sha256"] == base.meta["sha256"]
    np.testing.assert_array_equal(view.meta["event_index"], base.meta["event_index"])
    assert view.meta["heavy_tailed"] == ["pt"] and view.meta["units"]["pt"] == "GeV"
