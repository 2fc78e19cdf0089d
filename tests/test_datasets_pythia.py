"""Pythia jets: the per-jet variables on hand-made particles, the cache, and (where pythia8mc is
installed) the generator itself."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from codecbench.codec import DatasetError
from codecbench.data import pythia
from codecbench.data.load import load_dataset

# a hand-made jet: pi+, K_L, photon, e-, mu+, neutron, proton
IDS = np.array([211, 130, 22, 11, -13, 2112, 2212])
ENERGY = np.array([10.0, 5.0, 3.0, 2.0, 1.0, 4.0, 6.0])
CHARGE = np.array([1.0, 0.0, 0.0, -1.0, 1.0, 0.0, 1.0])
P4 = (25.0, 0.5, -1.0, 4.0, 31.0)


def test_jet_variables_on_hand_made_particles() -> None:
    row = dict(zip(pythia.COLUMNS, pythia.jet_variables(P4, IDS, ENERGY, CHARGE)))
    assert (row["pt"], row["eta"], row["phi"], row["mass"], row["energy"]) == P4
    assert row["n_constituents"] == 7
    assert row["charged_hadron_energy"] == 16.0 and row["charged_hadron_multiplicity"] == 2
    assert row["neutral_hadron_energy"] == 9.0 and row["neutral_hadron_multiplicity"] == 2
    assert row["photon_energy"] == 3.0 and row["photon_multiplicity"] == 1
    assert row["electron_energy"] == 2.0 and row["electron_multiplicity"] == 1
    assert row["muon_energy"] == 1.0 and row["muon_multiplicity"] == 1
    assert row["charged_multiplicity"] == 4 and row["neutral_multiplicity"] == 3
    frac = dict(zip(pythia.FRACTION_COLUMNS, pythia.jet_variables(P4, IDS, ENERGY, CHARGE, fractions=True)))
    assert frac["charged_hadron_fraction"] == pytest.approx(16 / 31)
    assert sum(frac[f"{s}_fraction"] for s in pythia.SPECIES) == pytest.approx(1.0)
    assert pythia.species_of(np.array([12, -14, 16, 1000022]), np.zeros(4)).tolist() == [-1, -1, -1, -1]
    with pytest.raises(DatasetError, match="one entry per constituent"):
        pythia.jet_variables(P4, IDS, ENERGY[:3], CHARGE)


def _fake_generate(calls: list[dict]) -> object:
    def fake(p: dict, progress: bool | None = None) -> tuple[np.ndarray, np.ndarray, str]:
        calls.append(p)
        rows = [pythia.jet_variables((20 + 10 * i, 0.1, 0.2, 3.0, 40.0 + i), IDS, ENERGY, CHARGE) for i in range(6)]
        return np.array(rows, dtype=np.float32), np.arange(6) // 2, "8.999"

    return fake


def test_generated_file_is_cached_with_its_sha256(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict] = []
    monkeypatch.setattr(pythia, "generate", _fake_generate(calls))
    a = load_dataset("pythia-qcd-jets", n_events=3, seed=11)
    assert len(calls) == 1 and calls[0]["n_events"] == 3 and calls[0]["process"] == "qcd"
    assert a.columns == pythia.COLUMNS and a.data.shape == (6, 18)
    path = Path(a.meta["path"])
    side = json.loads(path.with_name(path.name + ".json").read_text())
    assert side["sha256"] == a.meta["sha256"] and side["pythia_version"] == "8.999"
    assert "Pythia 8.999" in a.meta["file_info"]["generator"]
    np.testing.assert_array_equal(a.meta["event_index"], [0, 0, 1, 1, 2, 2])
    b = load_dataset("pythia-qcd-jets", n_events=3, seed=11)  # reused: no second generation
    assert len(calls) == 1 and b.meta["sha256"] == a.meta["sha256"]
    load_dataset("pythia-ttbar-jets", n_events=3, seed=11)  # other settings: another file
    assert len(calls) == 2 and calls[1]["process"] == "ttbar"
    path.write_bytes(path.read_bytes()[:-5])  # a damaged cache file fails its sha256 and is regenerated
    c = load_dataset("pythia-qcd-jets", n_events=3, seed=11)
    assert len(calls) == 3 and c.meta["sha256"] == a.meta["sha256"]


def test_bad_parameters_and_missing_pythia(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DatasetError, match=r"unknown process 'zz'"):
        load_dataset("pythia-qcd-jets", process="zz")
    with pytest.raises(DatasetError, match=r"parameter 'n_events': expected an integer of at least 1"):
        load_dataset("pythia-qcd-jets", n_events=0)
    with pytest.raises(DatasetError, match=r"'pythia-qcd-jets' has no parameter 'n_event'.*n_events=10000"):
        load_dataset("pythia-qcd-jets", n_event=5)
    monkeypatch.setitem(sys.modules, "pythia8mc", None)  # as if not installed
    with pytest.raises(DatasetError, match=r"pip install 'codecbench\[gen\]'"):
        load_dataset("pythia-qcd-jets", n_events=7, seed=123)


def test_pythia_generates_falling_spectrum_with_listed_columns() -> None:
    pytest.importorskip("pythia8mc")
    ds = load_dataset("pythia-qcd-jets", n_events=200, seed=3)
    assert ds.columns == pythia.COLUMNS
    d = {c: ds.data[:, i].astype(np.float64) for i, c in enumerate(ds.columns)}
    n = len(ds.data)
    assert n > 300 and d["pt"].min() >= 20.0 and np.abs(d["eta"]).max() < 4.7
    counts, _ = np.histogram(d["pt"], bins=[60, 120, 240, 480])
    assert counts[0] > counts[1] > counts[2]  # falls above the pTHat threshold
    esum = sum(d[f"{s}_energy"] for s in pythia.SPECIES)
    np.testing.assert_allclose(esum, d["energy"], rtol=1e-5)
    msum = sum(d[f"{s}_multiplicity"] for s in pythia.SPECIES)
    np.testing.assert_array_equal(msum, d["n_constituents"])
    np.testing.assert_array_equal(d["charged_multiplicity"] + d["neutral_multiplicity"], d["n_constituents"])
    e_from_kin = np.sqrt((d["pt"] * np.cosh(d["eta"])) ** 2 + d["mass"] ** 2)
    np.testing.assert_allclose(e_from_kin, d["energy"], rtol=1e-4)
    ev = ds.meta["event_index"]
    assert ev.min() >= 0 and ev.max() < 200 and np.all(np.diff(ev) >= 0)
    assert ds.meta["file_info"]["generator"].startswith("Pythia 8.3")


def test_cli_fetch_generates_pythia_jets() -> None:
    pytest.importorskip("pythia8mc")
    from typer.testing import CliRunner

    from codecbench.cli import app

    res = CliRunner().invoke(app, ["datasets", "fetch", "pythia-ttbar-jets", "--set", "n_events=20", "--set", "seed=2"])
    assert res.exit_code == 0, res.output
    assert "ok pythia-ttbar-jets" in res.output and "pythia-ttbar-n20-s2-" in res.output
    assert "FastJet" not in res.output  # the banner is kept off stdout
