"""``codecbench compress`` of ROOT files (issue 13 items 2, 3 and 6).

- 13.2: a branch group of mixed dtypes is stored as one table per dtype, so the raw size is the
  source's own bytes (no float64 table), and the sizes agree with ``codecbench run`` for the same data;
- 13.3: without ``--branches`` every numeric branch is compressed, one entry per counter (and per
  dtype), the per-event scalars as their own group; ``--branches`` narrows it;
- 13.6: every branch keeps its dtype, the counters included (NanoAOD's ``nJet`` is uint32).

The test trees are written here with uproot.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import uproot
import yaml

from codecbench.archive import compress_input, decompress_archive, read_input
from codecbench.archive.items import ArrayItem
from codecbench.archive.root import write_root
from codecbench.errors import ConfigError

COUNTS = np.array([2, 0, 3, 1, 4, 0, 2], dtype=np.int64)  # 12 jets in 7 events, two events empty
N_JETS, N_EVENTS = int(COUNTS.sum()), len(COUNTS)


def _events_tree(path: Path, *, second_tree: bool = False) -> dict[str, np.ndarray]:
    """A tree like a NanoAOD file: jets (float32, bool, int32) sized by nJet, muons by nMuon, and
    per-event scalars (float32, uint32, bool). Returns the flat source arrays."""
    rng = np.random.default_rng(3)
    mu_counts = np.array([1, 1, 0, 2, 0, 0, 1])
    src = {
        "Jet_pt": rng.uniform(20, 200, N_JETS).astype(np.float32),
        "Jet_eta": rng.normal(0, 2, N_JETS).astype(np.float32),
        "Jet_id": rng.random(N_JETS) > 0.5,
        "Jet_charge": rng.integers(-1, 2, N_JETS).astype(np.int32),
        "Muon_pt": rng.uniform(5, 50, int(mu_counts.sum())).astype(np.float32),
        "MET_pt": rng.uniform(0, 100, N_EVENTS).astype(np.float32),
        "run": np.arange(N_EVENTS, dtype=np.uint32) + 1000,
        "HLT_IsoMu24": rng.random(N_EVENTS) > 0.3,
    }
    jets = {k[4:]: ak.unflatten(v, COUNTS) for k, v in src.items() if k.startswith("Jet_")}  # Jet_ + field
    muons = {"pt": ak.unflatten(src["Muon_pt"], mu_counts)}
    branches = {"Jet": ak.zip(jets), "Muon": ak.zip(muons), **{k: src[k] for k in ("MET_pt", "run", "HLT_IsoMu24")}}
    with uproot.recreate(path) as f:  # mktree: a TTree (assigning a dict would write an RNTuple)
        f.mktree("Events", {k: v.type if isinstance(v, ak.Array) else v.dtype for k, v in branches.items()})
        f["Events"].extend(branches)
        if second_tree:
            f.mktree("Runs", {"x": np.float32})
            f["Runs"].extend({"x": np.arange(3, dtype=np.float32)})
    src["_mu_counts"] = mu_counts
    return src


def _branches(path: Path, tree: str = "Events") -> dict[str, tuple[str, list]]:
    with uproot.open(path) as f:
        t = f[tree]
        return {k: (t[k].typename, t[k].array(library="ak").to_list()) for k in t.keys()}


def test_mixed_dtypes_are_stored_as_one_table_per_dtype_with_the_source_bytes(tmp_path: Path) -> None:
    src = _events_tree(tmp_path / "ev.root")
    archive = compress_input(tmp_path / "ev.root", tmp_path / "j.cbz", "zstd", branches=[["Jet_*"]])
    entries = {e["name"]: e for e in archive.entries}
    assert list(entries) == ["Events.float32", "Events.bool", "Events.int32"]
    assert entries["Events.float32"]["columns"] == ["Jet_pt", "Jet_eta"] and entries["Events.float32"]["dtype"] == "<f4"
    assert entries["Events.bool"]["dtype"] == "|b1" and entries["Events.int32"]["dtype"] == "<i4"
    source_bytes = N_JETS * (4 + 4 + 1 + 4)  # the branches' own bytes, not a float64 table's 8 per value
    assert archive.totals()["raw_bytes"] == source_bytes
    for e in entries.values():
        assert e["sizes"]["raw_bytes"] == np.prod(e["shape"]) * np.dtype(e["dtype"]).itemsize
    item = {it.name: it for it in decompress_archive(tmp_path / "j.cbz", tmp_path / "j.root")}
    assert item["Events.bool"].data[:, 0].tolist() == src["Jet_id"].tolist()
    got = _branches(tmp_path / "j.root")
    assert list(got) == ["nJet", "Jet_pt", "Jet_eta", "Jet_id", "Jet_charge"]  # one jet collection again
    assert got["Jet_id"][0] == "bool[]" and got["Jet_charge"][0] == "int32_t[]"


def test_sizes_agree_with_codecbench_run_for_the_same_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The float32 table compress stores is the table a registry entry of the same branches gives the
    runner: the same raw bytes and payload for the same codec."""
    from codecbench.runner import run

    _events_tree(tmp_path / "ev.root")
    sha = hashlib.sha256((tmp_path / "ev.root").read_bytes()).hexdigest()
    reg = tmp_path / "reg.yaml"
    loader = {"format": "root", "tree": "Events", "branches": ["Jet_pt", "Jet_eta"]}
    reg.write_text(yaml.safe_dump({"datasets": {"ev-jets": {"file": "ev.root", "sha256": sha, "loader": loader}}}))
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path))
    monkeypatch.setenv("CODECBENCH_REGISTRY", str(reg))
    archive = compress_input(tmp_path / "ev.root", tmp_path / "j.cbz", "zstd", branches=[["Jet_*"]])
    (floats,) = [e for e in archive.entries if e["dtype"] == "<f4"]
    rec = run(["zstd"], ["ev-jets"]).iloc[0]
    assert rec["status"] == "ok", rec["error"]
    assert floats["sizes"]["raw_bytes"] == rec["raw_bytes"] == N_JETS * 2 * 4
    assert floats["sizes"]["payload_bytes"] == rec["payload_bytes"]
    assert floats["sizes"]["ratio"] == pytest.approx(rec["ratio"], rel=1e-12)


def test_without_branches_every_numeric_branch_is_compressed_by_counter(tmp_path: Path) -> None:
    src = _events_tree(tmp_path / "ev.root")
    archive = compress_input(tmp_path / "ev.root", tmp_path / "all.cbz", {"id": "trunc", "bits": 10})
    names = [e["name"] for e in archive.entries]
    assert names == [
        "Events.nJet.float32", "Events.nJet.bool", "Events.nJet.int32", "Events.nMuon",
        "Events.event.float32", "Events.event.uint32", "Events.event.bool",
    ]  # fmt: skip
    codecs = {e["name"]: e["codec"]["id"] for e in archive.entries}
    assert codecs["Events.nJet.float32"] == "trunc" and codecs["Events.event.uint32"] == "zstd"  # ints exact
    by_name = {e["name"]: e for e in archive.entries}
    assert by_name["Events.event.uint32"]["columns"] == ["run"] and by_name["Events.nMuon"]["shape"] == [5, 1]
    assert archive.totals()["raw_bytes"] == N_JETS * 13 + 5 * 4 + N_EVENTS * (4 + 4 + 1)

    decompress_archive(tmp_path / "all.cbz", tmp_path / "all.root")
    orig, got = _branches(tmp_path / "ev.root"), _branches(tmp_path / "all.root")
    assert list(got) == list(orig)  # every branch, counters included, in the source tree's order
    assert {k: v[0] for k, v in got.items()} == {k: v[0] for k, v in orig.items()}  # and its dtype
    for k in ("nJet", "nMuon", "Jet_id", "Jet_charge", "run", "HLT_IsoMu24"):
        assert got[k][1] == orig[k][1], k
    assert np.allclose(ak.flatten(ak.Array(got["Jet_pt"][1])), src["Jet_pt"], rtol=2**-10)

    narrowed = compress_input(tmp_path / "ev.root", tmp_path / "mu.cbz", "zstd", branches=[["Muon_*"]])
    assert [e["name"] for e in narrowed.entries] == ["Events"] and narrowed.entries[0]["columns"] == ["Muon_pt"]


def test_several_trees_ask_for_tree_with_the_list(tmp_path: Path) -> None:
    _events_tree(tmp_path / "two.root", second_tree=True)
    with pytest.raises(ConfigError, match=r"two\.root: holds 2 trees \(Events, Runs\); choose one with --tree"):
        read_input(tmp_path / "two.root")
    assert [it.name for it in read_input(tmp_path / "two.root", tree="Runs")] == ["Runs.event"]


def test_one_group_must_share_its_counter(tmp_path: Path) -> None:
    _events_tree(tmp_path / "ev.root")
    with pytest.raises(ConfigError, match="branches of one group must share their counter"):
        read_input(tmp_path / "ev.root", branches=[["Jet_pt", "Muon_pt"]])
    with pytest.raises(ConfigError, match="branches of one group must share their counter"):
        read_input(tmp_path / "ev.root", branches=[["Jet_pt", "run"]])


def test_a_uint32_counter_stays_uint32(tmp_path: Path) -> None:
    """The writer keeps a counter's source dtype (uproot alone writes every counter as int32)."""
    jets = np.arange(N_JETS * 2, dtype=np.float32).reshape(N_JETS, 2)
    item = ArrayItem(
        "Events", jets, "table", ["Jet_pt", "Jet_eta"], event_counts=COUNTS, tree="Events", counter="nJet",
        counter_dtype="uint32",
    )  # fmt: skip
    write_root(tmp_path / "u.root", [item])
    assert _branches(tmp_path / "u.root")["nJet"][0] == "uint32_t"
    compress_input(tmp_path / "u.root", tmp_path / "u.cbz", "zstd")
    decompress_archive(tmp_path / "u.cbz", tmp_path / "back.root")
    back = _branches(tmp_path / "back.root")
    assert back["nJet"] == ("uint32_t", COUNTS.tolist()) and back["Jet_pt"][0] == "float[]"


def test_nanoaod_round_trip_keeps_every_branch_and_dtype(tmp_path: Path) -> None:
    from codecbench.data.files import locate_file

    nano = locate_file("nanoAOD_2015_CMS_Open_Data_ttbar.root")  # on $CODECBENCH_DATA_PATH
    if nano is None:
        pytest.skip("nanoAOD_2015_CMS_Open_Data_ttbar.root not on CODECBENCH_DATA_PATH")
    compress_input(nano, tmp_path / "n.cbz", "zstd", branches=[["Jet_*"]])
    decompress_archive(tmp_path / "n.cbz", tmp_path / "n.root")
    got = _branches(tmp_path / "n.root")
    with uproot.open(nano) as f:
        t = f["Events"]
        orig = {k: t[k].typename for k in t.keys() if k == "nJet" or k.startswith("Jet_")}
    assert {k: v[0] for k, v in got.items()} == orig and got["nJet"][0] == "uint32_t"


def test_hzz_jets_raw_size_is_the_branches_own_bytes(tmp_path: Path) -> None:
    """The README's figure: HZZ's Jet_* (five float32 branches and a bool) is 58.2 kB raw, not 133 kB."""
    from codecbench.data.files import locate_file

    hzz = locate_file("uproot-HZZ.root")
    if hzz is None:
        pytest.skip("uproot-HZZ.root not on CODECBENCH_DATA_PATH")
    archive = compress_input(hzz, tmp_path / "h.cbz", "zstd", branches=[["Jet_*"]])
    assert [e["name"] for e in archive.entries] == ["events.float32", "events.bool"]
    assert archive.totals()["raw_bytes"] == 2773 * (5 * 4 + 1) == 58233
