"""Jets generated with Pythia 8 (optional extra ``gen``: ``pip install 'codecbench[gen]'``).

``generate_cached(params)`` runs Pythia (pp at 13 TeV: ``process="qcd"`` is HardQCD:all above a
pTHat cut, ``"ttbar"`` is top-pair production), clusters the visible final-state particles into
anti-kT jets with Pythia's own SlowJet, computes per-jet variables and writes them to an npz file
in the cache (keys ``data``, ``columns``, ``event_index``, ``generator``) with a JSON sidecar that
records the file's sha256, the settings and the Pythia version. A rerun with the same settings
reuses the file after checking its sha256.

The per-jet variables (``COLUMNS``) match the shared ``pythia_qcd_jets.npz`` file: pt, eta, phi,
mass, energy (GeV), number of constituents, the energy and multiplicity of charged hadrons, neutral
hadrons, photons, electrons and muons, and the charged and neutral multiplicities. With
``fractions=True`` the five energies are given as fractions of the jet energy instead.

``jet_variables`` does the per-jet computation from plain arrays, so it is tested without Pythia.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codecbench.errors import DatasetError

#: The five constituent species, in column order.
SPECIES = ("charged_hadron", "neutral_hadron", "photon", "electron", "muon")
COLUMNS = [
    "pt", "eta", "phi", "mass", "energy", "n_constituents",
    *(f"{s}_energy" for s in SPECIES),
    *(f"{s}_multiplicity" for s in SPECIES),
    "charged_multiplicity", "neutral_multiplicity",
]  # fmt: skip
FRACTION_COLUMNS = [c.replace("_energy", "_fraction") if c.endswith("_energy") else c for c in COLUMNS]

PROCESSES = {
    "qcd": ["HardQCD:all = on"],
    "ttbar": ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on"],
}
_NEUTRINOS = {12, 14, 16}


def available() -> bool:
    """Whether the ``pythia8mc`` package is importable."""
    return importlib.util.find_spec("pythia8mc") is not None


def generator_defaults() -> dict[str, Any]:
    """Parameters of the Pythia generator and their defaults (any of them can be overridden)."""
    return {
        "process": "qcd",
        "n_events": 10_000,
        "seed": 1,
        "ecm": 13_000.0,
        "pthat_min": 50.0,
        "jet_r": 0.4,
        "pt_min": 20.0,
        "eta_max": 4.7,
        "fractions": False,
        "settings": [],
    }


def species_of(pdg_id: np.ndarray, charge: np.ndarray) -> np.ndarray:
    """Index into ``SPECIES`` of each particle (-1 for neutrinos and anything else).

    Hadrons are the PDG ids between 100 and 1,000,000 in magnitude (mesons and baryons; quarks and
    gluons never reach the final state, SUSY and other exotic ids lie above); charged or neutral by
    ``charge``.
    """
    a = np.abs(np.asarray(pdg_id))
    q = np.asarray(charge)
    out = np.full(a.shape, -1, dtype=np.int8)
    hadron = (a > 100) & (a < 1_000_000)
    out[hadron & (q != 0)] = 0
    out[hadron & (q == 0)] = 1
    out[a == 22] = 2
    out[a == 11] = 3
    out[a == 13] = 4
    return out


def jet_variables(
    four_vector: Sequence[float], pdg_id: np.ndarray, energy: np.ndarray, charge: np.ndarray, fractions: bool = False
) -> np.ndarray:
    """One row of ``COLUMNS`` for a jet: ``four_vector`` is (pt, eta, phi, mass, energy) and the
    constituents' PDG ids, energies and charges are given as arrays."""
    pt, eta, phi, mass, e_jet = (float(x) for x in four_vector)
    pdg_id, energy, charge = np.asarray(pdg_id), np.asarray(energy, dtype=np.float64), np.asarray(charge)
    if not (pdg_id.shape == energy.shape == charge.shape):
        raise DatasetError("jet_variables: pdg_id, energy and charge must have one entry per constituent")
    sp = species_of(pdg_id, charge)
    energies = np.array([energy[sp == k].sum() for k in range(len(SPECIES))])
    mults = np.array([(sp == k).sum() for k in range(len(SPECIES))], dtype=np.float64)
    if fractions:
        energies = energies / e_jet if e_jet > 0 else np.zeros_like(energies)
    n_charged = float((charge != 0).sum())
    n_neutral = float(((charge == 0) & ~np.isin(np.abs(pdg_id), list(_NEUTRINOS))).sum())
    return np.array([pt, eta, phi, mass, e_jet, float(len(pdg_id)), *energies, *mults, n_charged, n_neutral])


def _check(params: dict[str, Any]) -> dict[str, Any]:
    p = {**generator_defaults(), **params}
    if p["process"] not in PROCESSES:
        raise DatasetError(f"pythia: unknown process {p['process']!r}; choose one of {sorted(PROCESSES)}")
    if not isinstance(p["n_events"], int) or p["n_events"] < 1:
        raise DatasetError(f"pythia: n_events must be a positive integer, not {p['n_events']!r}")
    if not isinstance(p["seed"], int) or not 0 <= p["seed"] <= 900_000_000:
        raise DatasetError(f"pythia: seed must be an integer in [0, 900000000], not {p['seed']!r}")
    if not isinstance(p["settings"], list) or not all(isinstance(s, str) for s in p["settings"]):
        raise DatasetError("pythia: settings must be a list of Pythia setting strings, e.g. ['PartonLevel:MPI = off']")
    for k in ("ecm", "pthat_min", "jet_r", "pt_min", "eta_max"):
        if not isinstance(p[k], (int, float)) or p[k] <= 0:
            raise DatasetError(f"pythia: {k} must be a positive number, not {p[k]!r}")
    return p


def pythia_settings(p: dict[str, Any]) -> list[str]:
    """The Pythia setting strings for a parameter set."""
    s = [f"Beams:eCM = {float(p['ecm'])}", *PROCESSES[p["process"]]]
    if p["process"] == "qcd":
        s.append(f"PhaseSpace:pTHatMin = {float(p['pthat_min'])}")
    s += ["Random:setSeed = on", f"Random:seed = {int(p['seed'])}", "Next:numberCount = 0", "Print:quiet = on"]
    return s + list(p["settings"])


def _cache_name(p: dict[str, Any]) -> str:
    key = hashlib.sha256(json.dumps(p, sort_keys=True).encode()).hexdigest()[:12]
    return f"pythia-{p['process']}-n{p['n_events']}-s{p['seed']}-{key}.npz"


def generate(p: dict[str, Any], progress: bool | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """Run Pythia and return (table, event_index, pythia version)."""
    try:
        import pythia8mc
    except ImportError:
        raise DatasetError(
            "generating Pythia jets needs the pythia8mc package: pip install 'codecbench[gen]' "
            "(it compiles from source where PyPI has no wheel for your platform)"
        ) from None
    pythia = pythia8mc.Pythia("", False)
    for s in pythia_settings(p):
        if not pythia.readString(s):
            raise DatasetError(f"pythia: setting {s!r} was not accepted")
    if not pythia.init():
        raise DatasetError(f"pythia: initialisation failed for settings {pythia_settings(p)}")
    version = f"{pythia.parm('Pythia:versionNumber'):.3f}"
    # anti-kT (power -1), visible final-state particles (select 2), keep particle masses (massSet 2)
    slow = pythia8mc.SlowJet(-1, float(p["jet_r"]), float(p["pt_min"]), float(p["eta_max"]), 2, 2)
    rows: list[np.ndarray] = []
    events: list[int] = []
    bar = None
    if progress is None:
        progress = _isatty()
    if progress:
        from rich.console import Console
        from rich.progress import Progress

        bar = Progress(console=Console(stderr=True), transient=True)
        task = bar.add_task(f"Pythia {p['process']}", total=p["n_events"])
        bar.start()
    try:
        ev_index = 0
        failures = 0
        while ev_index < p["n_events"]:
            if not pythia.next():
                failures += 1
                if failures > 10 + p["n_events"] // 10:
                    raise DatasetError("pythia: too many failed events; check the settings")
                continue
            slow.analyze(pythia.event)
            for j in range(slow.sizeJet()):
                vec = slow.p(j)
                idx = list(slow.constituents(j))
                parts = [pythia.event[k] for k in idx]
                rows.append(
                    jet_variables(
                        (slow.pT(j), vec.eta(), slow.phi(j), slow.m(j), vec.e()),
                        np.array([q.id() for q in parts], dtype=np.int64),
                        np.array([q.e() for q in parts]),
                        np.array([q.charge() for q in parts]),
                        fractions=bool(p["fractions"]),
                    )
                )
                events.append(ev_index)
            ev_index += 1
            if bar is not None:
                bar.update(task, completed=ev_index)
    finally:
        if bar is not None:
            bar.stop()
    table = np.array(rows, dtype=np.float32).reshape(-1, len(COLUMNS))
    return table, np.array(events, dtype=np.int32), version


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Send C-level stdout (Pythia's and FastJet's banners) to /dev/null for the duration."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no real fd 1 (some embedded consoles)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _isatty() -> bool:
    try:
        return os.isatty(2)
    except OSError:  # pragma: no cover
        return False


def _write_npz_atomic(path: Path, **arrays: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def generate_cached(params: dict[str, Any]) -> tuple[Path, str]:
    """Path and sha256 of the npz file for ``params``: found in the search path / cache (checked
    against the sha256 its sidecar records) or generated with Pythia and written to the cache."""
    from codecbench.data.checksums import file_digest
    from codecbench.data.files import atomic_write_text, cache_dir, search_dirs

    p = _check(params)
    name = _cache_name(p)
    for d in search_dirs():
        path, side = d / "generated" / name, d / "generated" / (name + ".json")
        if path.is_file() and side.is_file():
            try:
                recorded = json.loads(side.read_text())["sha256"]
            except (ValueError, KeyError, OSError):
                recorded = None
            if recorded and file_digest(path) == recorded:
                return path, recorded
    with _quiet_stdout():
        table, events, version = generate(p)
    columns = FRACTION_COLUMNS if p["fractions"] else COLUMNS
    info = (
        f"Pythia {version}; {p['process']}; seed {p['seed']}; {p['n_events']} events; "
        f"anti-kT R={p['jet_r']} (SlowJet) pT>{p['pt_min']:g} |eta|<{p['eta_max']:g}; settings: "
        + "; ".join(pythia_settings(p))
    )
    path = cache_dir() / "generated" / name
    _write_npz_atomic(path, data=table, columns=np.array(columns), event_index=events, generator=np.array(info))
    sha = file_digest(path)
    sidecar = {"sha256": sha, "params": p, "pythia_version": version, "n_jets": int(len(table)), "generator": info}
    atomic_write_text(path.with_name(name + ".json"), json.dumps(sidecar, indent=1))
    return path, sha
