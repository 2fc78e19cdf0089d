"""Archives: compress / decompress / inspect round trips, sizes, committed fixtures and failure paths."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot
from conftest import SHARED_DATASETS, shared_data_available
from typer.testing import CliRunner

from codecbench.archive import (
    FORMAT_VERSION,
    ArchiveError,
    compress_input,
    decompress_archive,
    open_archive,
    read_input,
)
from codecbench.archive.format import MANIFEST
from codecbench.codec import ConfigError, DatasetError, PayloadError, PluginError
from codecbench.measure.metrics import error_metrics
from codecbench.plugins import available

HZZ = SHARED_DATASETS / "uproot-HZZ.root"
NANO = SHARED_DATASETS / "nanoAOD_2015_CMS_Open_Data_ttbar.root"
HZZ_JETS = ["Jet_Px", "Jet_Py", "Jet_Pz", "Jet_E"]
NANO_JETS = ["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass"]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "archives"

needs_data = pytest.mark.skipif(not shared_data_available(), reason="shared ROOT files not on CODECBENCH_DATA_PATH")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the codecbench CLI in a fresh Python process."""
    return subprocess.run([sys.executable, "-m", "codecbench", *args], capture_output=True, text=True, timeout=300)


def _tree(path: Path, name: str) -> dict[str, ak.Array]:
    with uproot.open(path) as f:
        t = f[name]
        return {k: t[k].array(library="ak") for k in t.keys()}


def _member_sizes(path: Path) -> dict[str, int]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: i.file_size for i in zf.infolist()}


# --- round trips ---------------------------------------------------------------------------------


@needs_data
def test_hzz_root_lossless_round_trip_to_root_npz_and_hdf5(tmp_path: Path) -> None:
    """Jagged jets plus flat per-event MET from one tree, zstd: bit-exact back to ROOT, npz and HDF5."""
    cbz = tmp_path / "hzz.cbz"
    archive = compress_input(HZZ, cbz, "zstd", tree="events", branches=[HZZ_JETS, ["MET_px", "MET_py"]])
    assert [e["name"] for e in archive.entries] == ["events.0", "events.1"]
    assert archive.entries[0]["root"] == {
        "tree": "events",
        "counter": "NJet",
        "n_events": 2421,
        "source_dtypes": dict.fromkeys(HZZ_JETS, "float32"),
        "counter_dtype": "int32",
        "branch_index": {"NJet": 0, "Jet_Px": 1, "Jet_Py": 2, "Jet_Pz": 3, "Jet_E": 4},
    }
    assert archive.entries[1]["event_counts"] is None

    out = tmp_path / "hzz.root"
    decompress_archive(cbz, out)
    got, orig = _tree(out, "events"), _tree(HZZ, "events")
    assert list(got) == ["NJet", *HZZ_JETS, "MET_px", "MET_py"]
    assert ak.to_list(got["NJet"]) == ak.to_list(orig["NJet"])
    for b in [*HZZ_JETS, "MET_px", "MET_py"]:
        assert ak.all(ak.num(got[b], axis=-1) == ak.num(orig[b], axis=-1)) if b.startswith("Jet") else True
        a, o = ak.flatten(got[b], axis=None).to_numpy(), ak.flatten(orig[b], axis=None).to_numpy()
        assert a.dtype == np.float32 and a.tobytes() == o.tobytes(), b
    with uproot.open(out) as f:
        assert f["events"]["Jet_Px"].typename == "float[]"
        assert f["events"]["MET_px"].typename == "float"

    npz = tmp_path / "hzz.npz"
    decompress_archive(cbz, npz)
    with np.load(npz, allow_pickle=False) as z:
        jets = z["events.0"]
        assert z["events.0_columns"].tolist() == HZZ_JETS
        assert int(z["events.0_n_events"]) == 2421
        ev = z["events.0_event_index"]
    assert jets.shape == (2773, 4)
    assert jets[:, 0].tobytes() == ak.flatten(orig["Jet_Px"]).to_numpy().tobytes()
    assert np.array_equal(np.bincount(ev, minlength=2421), ak.num(orig["Jet_Px"]).to_numpy())
    # the npz written by decompress reads back as the same table (companion keys recognised)
    again = read_input(npz, key="events.0")[0]
    assert again.columns == HZZ_JETS and np.array_equal(again.event_counts, ak.num(orig["Jet_Px"]).to_numpy())

    h5 = tmp_path / "hzz.h5"
    decompress_archive(cbz, h5)
    back = read_input(h5, key="events.0")[0]
    assert back.columns == HZZ_JETS and back.data.tobytes() == jets.tobytes()
    assert int(back.event_counts.sum()) == 2773 and len(back.event_counts) == 2421


@needs_data
def test_nanoaod_trunc_round_trip_through_the_cli(tmp_path: Path) -> None:
    """CLI in fresh processes: trunc on NanoAOD jets stays within 2^-(bits+1), back to ROOT with nJet."""
    cbz, out = tmp_path / "nano.cbz", tmp_path / "nano.root"
    spec = json.dumps({"id": "trunc", "bits": 7})
    r = _cli("compress", str(NANO), "-o", str(cbz), "--codec", spec, "--tree", "Events", "-b", ",".join(NANO_JETS))
    assert r.returncode == 0, r.stderr
    assert "trunc" in r.stdout and "eff. ratio" in r.stdout
    r = _cli("decompress", str(cbz), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "537" in r.stdout and "200 events" in r.stdout

    got, orig = _tree(out, "Events"), _tree(NANO, "Events")
    assert list(got) == ["nJet", *sorted(NANO_JETS, key=list(orig).index)]  # the source tree's order
    assert ak.to_list(got["nJet"]) == ak.to_list(orig["nJet"])
    bound = 2.0 ** -(7 + 1)
    worst = 0.0
    for b in NANO_JETS:
        assert ak.all(ak.num(got[b]) == ak.num(orig[b]))
        a = ak.flatten(got[b]).to_numpy().astype(np.float64)
        o = ak.flatten(orig[b]).to_numpy().astype(np.float64)
        nz = o != 0
        rel = np.abs(a[nz] - o[nz]) / np.abs(o[nz])
        assert rel.max() <= bound, b
        assert np.all(a[~nz] == 0)
        worst = max(worst, float(rel.max()))
    assert worst > bound / 4  # the values were really rounded

    r = _cli("inspect", str(cbz), "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    entry, totals = info["entries"][0], info["totals"]
    assert entry["codec"] == "trunc" and entry["bound_violations"] == 0
    sizes = _member_sizes(cbz)
    assert totals["payload_bytes"] == sizes["entries/0/payload.cbf"]
    assert totals["state_bytes"] == 0 and "entries/0/state.bin" not in sizes
    assert totals["total_bytes"] == totals["payload_bytes"]
    assert totals["effective_ratio"] == pytest.approx(537 * 4 * 4 / totals["payload_bytes"])
    assert totals["file_bytes"] == cbz.stat().st_size


def test_npz_input_tables_and_fields_round_trip(tmp_path: Path) -> None:
    """Every numeric npz array becomes an entry; columns, event index and units survive; blosc is exact."""
    rng = np.random.default_rng(1)
    table = rng.normal(size=(50, 3)).astype(np.float32)
    field = rng.normal(size=(3, 6, 5))
    src = tmp_path / "in.npz"
    np.savez(
        src,
        jets=table,
        jets_columns=np.array(["pt", "eta", "phi"]),
        jets_event_index=np.repeat(np.arange(10), 5),
        jets_n_events=np.array(12),  # two trailing empty events
        jets_units=np.array(json.dumps({"pt": "GeV"})),
        velocity=field,
        label=np.array("not numeric"),
    )
    archive = compress_input(src, tmp_path / "a.cbz", {"id": "blosc"})
    names = {e["name"]: e for e in archive.entries}
    assert set(names) == {"jets", "velocity"}
    assert names["jets"]["columns"] == ["pt", "eta", "phi"] and names["jets"]["units"] == {"pt": "GeV"}
    assert names["velocity"]["kind"] == "field" and names["velocity"]["columns"] is None
    items = {it.name: it for it in decompress_archive(tmp_path / "a.cbz", tmp_path / "out.npz")}
    assert items["jets"].data.tobytes() == table.tobytes()
    assert items["velocity"].data.tobytes() == field.tobytes() and items["velocity"].data.dtype == np.float64
    assert items["jets"].event_counts.tolist() == [5] * 10 + [0, 0]
    with np.load(tmp_path / "out.npz", allow_pickle=False) as z:
        assert int(z["jets_n_events"]) == 12 and z["velocity"].shape == (3, 6, 5)
    # a field cannot go to ROOT: clear error, nothing written
    with pytest.raises(ConfigError, match="field of shape"):
        decompress_archive(tmp_path / "a.cbz", tmp_path / "out.root")
    # --columns selects, --key picks one array
    sub = compress_input(src, tmp_path / "b.cbz", "zstd", key="jets", columns=["pt", "phi"])
    (only,) = sub.entries
    assert only["columns"] == ["pt", "phi"] and only["shape"] == [50, 2]
    assert np.array_equal(sub.decode(0).data, table[:, [0, 2]])


# --- sizes agree with the runner -----------------------------------------------------------------


@needs_data
@pytest.mark.parametrize("spec", ["zstd", {"id": "trunc", "bits": 10}])
def test_archive_sizes_match_the_runner(tmp_path: Path, spec: str | dict) -> None:
    """payload + state in the archive = what the runner records; so are ratio and effective ratio."""
    from codecbench.runner import run

    archive = compress_input("hzz-jets", tmp_path / "a.cbz", spec)
    df = run([spec], ["hzz-jets"])
    rec = df.iloc[0]
    assert rec["status"] == "ok", rec["error"]
    totals = archive.totals()
    assert totals["raw_bytes"] == rec["raw_bytes"]
    assert totals["payload_bytes"] == rec["payload_bytes"]
    assert totals["state_bytes"] == rec["aux_bytes"] == 0
    assert totals["effective_ratio"] == pytest.approx(rec["effective_ratio"], rel=1e-12)
    assert archive.entries[0]["errors"]["worst_rel_rms"] == pytest.approx(rec["worst_rel_rms"], rel=1e-12)
    sizes = _member_sizes(tmp_path / "a.cbz")
    assert totals["total_bytes"] == sizes["entries/0/payload.cbf"] + sizes.get("entries/0/state.bin", 0)
    assert archive.entries[0]["meta"]["sha256"] == rec["dataset_sha256"]  # the same verified file


# --- a learned codec, decoded in another process -------------------------------------------------


@needs_data
@pytest.mark.slow
@pytest.mark.skipif("ae" not in available(), reason="learned codec 'ae' not installed (codecbench[ml])")
def test_learned_codec_archive_decodes_in_a_fresh_process(tmp_path: Path) -> None:
    """ae fitted on the runner's train split (--fit-on), compressing its test split: the archive's
    sizes are the runner's, and `codecbench decompress` in a fresh process decodes it alone."""
    from codecbench.data.load import load_dataset
    from codecbench.runner import run

    train_ds, test_ds = load_dataset("hzz-jets").split(0.2, 0)  # what the runner measures a learned codec on
    train, src = tmp_path / "train.npz", tmp_path / "test.npz"
    np.savez(train, events=train_ds.data, events_columns=np.array(HZZ_JETS))
    np.savez(src, events=test_ds.data, events_columns=np.array(HZZ_JETS))
    spec = {"id": "ae", "latent_dim": 3, "hidden": [16, 8], "epochs": 3, "batch_size": 128, "device": "cpu"}
    cbz = tmp_path / "ae.cbz"
    archive = compress_input(src, cbz, spec, fit_on=str(train))
    entry = archive.entries[0]
    assert entry["fit"]["on"] == "train.npz" and entry["fit"]["shape"] == list(train_ds.data.shape)
    assert archive.manifest["source"]["fit_on"] == "train.npz"
    state = archive.member(entry["state"])
    assert len(state) > 0 and entry["sizes"]["aux_bytes"] == len(state)
    totals = archive.totals()
    assert totals["total_bytes"] == totals["payload_bytes"] + len(state)
    assert totals["effective_ratio"] == pytest.approx(test_ds.data.nbytes / totals["total_bytes"])

    rec = run([spec], ["hzz-jets"]).iloc[0]
    assert rec["status"] == "ok", rec["error"]
    assert rec["split"] == "test" and rec["raw_bytes"] == totals["raw_bytes"]
    assert rec["aux_bytes"] == totals["state_bytes"]  # the same decoder state, counted the same way
    assert rec["payload_bytes"] == totals["payload_bytes"]
    assert rec["effective_ratio"] == pytest.approx(totals["effective_ratio"], rel=1e-12)

    out = tmp_path / "out.npz"
    r = _cli("decompress", str(cbz), "-o", str(out), "--device", "cpu")
    assert r.returncode == 0, r.stderr
    with np.load(out, allow_pickle=False) as z:
        recon = z["events"]
    orig = test_ds.data
    assert recon.shape == orig.shape and recon.dtype == np.float32
    assert not np.array_equal(recon, orig)  # lossy
    again = error_metrics(orig, recon, "table", HZZ_JETS)
    for v in HZZ_JETS:  # the summary stored at compression time is what a fresh decode gives
        assert again["variables"][v]["residual_rms"] == pytest.approx(
            entry["errors"]["variables"][v]["residual_rms"], rel=1e-5
        )

    other = tmp_path / "other.npz"  # fit data with other columns is refused before training
    np.savez(other, events=train_ds.data[:, :3], events_columns=np.array(HZZ_JETS[:3]))
    with pytest.raises(ConfigError, match="does not match the input"):
        compress_input(src, tmp_path / "bad.cbz", spec, fit_on=str(other))

    # straight from the ROOT file, fitted on the input itself (stated), back to a ROOT tree
    fresh = tmp_path / "fresh.cbz"
    entry = compress_input(HZZ, fresh, spec, branches=[HZZ_JETS]).entries[0]
    assert entry["fit"]["on"] == "input" and entry["fit"]["shape"] == [2773, 4]
    decompress_archive(fresh, tmp_path / "ae.root")
    got, orig = _tree(tmp_path / "ae.root", "events"), _tree(HZZ, "events")
    assert list(got) == ["NJet", *HZZ_JETS] and ak.to_list(got["NJet"]) == ak.to_list(orig["NJet"])
    for b in HZZ_JETS:
        assert ak.all(ak.num(got[b]) == ak.num(orig[b]))
        res = ak.flatten(got[b]).to_numpy().astype(np.float64) - ak.flatten(orig[b]).to_numpy()
        assert np.sqrt(np.mean(res**2)) == pytest.approx(entry["errors"]["variables"][b]["residual_rms"], rel=1e-5)


# --- committed fixtures: archives written earlier still decode -----------------------------------


def _fixture_module():
    spec = importlib.util.spec_from_file_location("make_archives", FIXTURES.parent / "make_archives.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


MAKE = _fixture_module()


@pytest.mark.parametrize("case", sorted(MAKE.CASES))
def test_committed_fixture_archives_still_decode(case: str) -> None:
    cbz = FIXTURES / f"{case}.cbz"
    config, kind = MAKE.CASES[case]
    if not cbz.exists():
        pytest.skip(f"no fixture for {case} (codec {config['id']!r} was not installed when fixtures were made)")
    if config["id"] not in available():
        pytest.skip(f"codec {config['id']!r} is not installed")
    archive = open_archive(cbz)
    (entry,) = archive.entries
    item = archive.decode(0)
    expected = np.load(FIXTURES / f"{case}.expected.npy", allow_pickle=False)
    assert item.data.dtype == expected.dtype and item.data.shape == expected.shape
    if entry["codec_info"]["learned"]:
        np.testing.assert_allclose(item.data, expected, rtol=1e-5, atol=1e-6)
    else:
        assert item.data.tobytes() == expected.tobytes()
    original = MAKE.fixture_input(kind)
    assert entry["original_sha256"] and original.data.shape == item.data.shape
    if entry["codec_info"]["lossless"]:
        assert item.data.tobytes() == original.data.tobytes()
    if config["id"] == "trunc" and "bits" in config:
        rel = np.abs(item.data - original.data) / np.abs(original.data)
        assert rel.max() <= 2.0 ** -(config["bits"] + 1)
    if kind == "table":
        assert item.columns == MAKE.COLUMNS and item.counter == "nJet" and item.tree == "Events"
        assert item.event_counts.tolist() == original.event_counts.tolist()
    stored = entry["errors"]["max_abs_error"]
    assert stored == pytest.approx(error_metrics(original.data, item.data, kind)["max_abs_error"], rel=1e-5, abs=1e-12)


def test_every_builtin_codec_has_a_fixture() -> None:
    """A built-in codec without a committed fixture archive is a gap in the format's regression net."""
    from codecbench.archive.encode import codec_provenance
    from codecbench.plugins import describe

    builtin = [
        cid
        for cid in available()
        if codec_provenance(cid)["distribution"] == "codecbench" and describe(cid).status == "ok"
    ]
    assert {"raw", "gzip", "zstd", "blosc", "trunc"} <= set(builtin)
    fixtures = {cfg["id"] for case, (cfg, _) in MAKE.CASES.items() if (FIXTURES / f"{case}.cbz").exists()}
    missing = sorted(set(builtin) - fixtures)
    assert not missing, f"no fixture archive for {missing}: run python tests/fixtures/make_archives.py"


# --- failure paths -------------------------------------------------------------------------------


def _small_archive(tmp_path: Path, codec: str = "zstd") -> Path:
    src = tmp_path / "small.npz"
    np.savez(src, x=np.arange(40, dtype=np.float32).reshape(10, 4))
    out = tmp_path / "small.cbz"
    compress_input(src, out, codec)
    return out


def _rewrite_manifest(path: Path, edit) -> None:  # noqa: ANN001
    with zipfile.ZipFile(path) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = json.loads(members[MANIFEST])
    edit(manifest)
    members[MANIFEST] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)


def test_truncated_and_corrupted_archives_are_refused(tmp_path: Path) -> None:
    good = _small_archive(tmp_path)
    blob = good.read_bytes()
    assert open_archive(good).decode(0).data.shape == (10, 4)

    cut = tmp_path / "cut.cbz"
    for n in (1, 21, 22, 300, len(blob) // 2):  # inside the ZIP comment, the end record, the members
        cut.write_bytes(blob[:-n])
        with pytest.raises(ArchiveError, match="truncated"):
            open_archive(cut)

    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("entries/0/payload.cbf")
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 60  # inside the stored payload
    bad = bytearray(blob)
    bad[offset] ^= 0xFF
    flipped = tmp_path / "flipped.cbz"
    flipped.write_bytes(bytes(bad))
    with pytest.raises(ArchiveError, match="payload.cbf.*corrupted"):
        open_archive(flipped)

    # a member edited consistently at the ZIP level still fails the manifest's sha256
    with zipfile.ZipFile(good) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members["entries/0/payload.cbf"] = members["entries/0/payload.cbf"][:-1] + b"\x00"
    forged = tmp_path / "forged.cbz"
    with zipfile.ZipFile(forged, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ArchiveError, match="SHA-256"):
        open_archive(forged)

    notzip = tmp_path / "plain.cbz"
    notzip.write_bytes(b"hello, not an archive")
    with pytest.raises(PayloadError, match="not a readable archive"):
        open_archive(notzip)
    with pytest.raises(ArchiveError, match="does not exist"):
        open_archive(tmp_path / "nope.cbz")


def test_newer_format_version_is_refused(tmp_path: Path) -> None:
    path = _small_archive(tmp_path)
    _rewrite_manifest(path, lambda m: m.update(format_version=FORMAT_VERSION + 1, codecbench_version="9.0"))
    with pytest.raises(ArchiveError, match=rf"format version {FORMAT_VERSION + 1}.*codecbench 9.0.*Upgrade"):
        open_archive(path)
    _rewrite_manifest(path, lambda m: m.update(format="something-else"))
    with pytest.raises(ArchiveError, match="not a codecbench archive"):
        open_archive(path)


def test_missing_codec_names_the_package_that_provides_it(tmp_path: Path) -> None:
    path = _small_archive(tmp_path)

    def foreign(m: dict) -> None:
        m["entries"][0]["codec"] = {"id": "fancycodec", "level": 2}
        m["entries"][0]["codec_info"].update(distribution="fancy-codecs", version="1.4", extras=["gpu"])

    _rewrite_manifest(path, foreign)
    archive = open_archive(path)  # inspecting works without the codec
    assert archive.summary()[0]["codec"] == "fancycodec"
    with pytest.raises(PluginError, match=r"'fancycodec', which is not installed: pip install 'fancy-codecs\[gpu\]'"):
        archive.decode(0)

    missing = [cid for cid in ("flow", "sae", "ae", "sz3", "zfp") if cid not in available()]
    if missing:  # an archive that does not say where its codec came from falls back to the built-in table
        _rewrite_manifest(path, lambda m: m["entries"][0].update(codec={"id": missing[0]}, codec_info={}))
        with pytest.raises(PluginError, match=r"pip install 'codecbench\["):
            open_archive(path).decode(0)


def test_cli_errors_are_one_line_with_exit_status_1(tmp_path: Path) -> None:
    from codecbench.cli import app

    runner = CliRunner()
    path = _small_archive(tmp_path)
    path.write_bytes(path.read_bytes()[:100])
    res = runner.invoke(app, ["inspect", str(path)])
    assert res.exit_code == 1 and "truncated" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["decompress", str(path), "-o", str(tmp_path / "x.txt")])
    assert res.exit_code == 1 and "name it .npz, .root or .h5" in res.output
    res = runner.invoke(app, ["compress", str(tmp_path / "missing.npz"), "-o", str(tmp_path / "o.cbz"), "-c", "zstd"])
    assert res.exit_code == 1 and "neither an existing file nor a registered dataset" in res.output
    src = tmp_path / "small.npz"
    res = runner.invoke(app, ["compress", str(src), "-o", str(tmp_path / "o.cbz"), "-c", "zstd", "--fit-on", str(src)])
    assert res.exit_code == 1 and "learns nothing" in res.output
    res = runner.invoke(app, ["compress", str(src), "-o", str(tmp_path / "o.cbz"), "-c", "nosuchcodec"])
    assert res.exit_code == 1 and "no codec named 'nosuchcodec' is installed" in res.output
    assert not (tmp_path / "o.cbz").exists()


@needs_data
def test_input_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no branch 'Jet_pX'; closest: Jet_Px"):
        read_input(HZZ, branches=[["Jet_pX"]])
    with pytest.raises(ConfigError, match="more than one --branches group"):
        read_input(HZZ, branches=[["Jet_Px"], ["Jet_Px", "Jet_Py"]])
    with pytest.raises(ConfigError, match="registered dataset"):
        read_input("hzz-jets", key="x")
    with pytest.raises(DatasetError, match="did you mean 'hzz-jets'"):
        read_input("hzz-jet")
