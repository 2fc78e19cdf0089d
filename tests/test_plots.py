"""plots: jet physics quantities, rate-distortion figures, per-record figures, files and errors."""

from __future__ import annotations

import math
import struct
import sys

import numpy as np
import pytest
from leaderboard_records import make_record, toy_records, write_run
from typer.testing import CliRunner

pytest.importorskip("matplotlib")

from codecbench.codec import CodecbenchError, ConfigError  # noqa: E402
from codecbench.dataset import Dataset  # noqa: E402
from codecbench.measure.jets import four_vectors, jet_columns, jet_energy, leading_pair_mass  # noqa: E402
from codecbench.tables.leaderboard import leaderboard_frame  # noqa: E402
from codecbench.tables.plots.figure import require_matplotlib, save_figure  # noqa: E402
from codecbench.tables.plots.rate_distortion import rate_distortion_figure  # noqa: E402
from codecbench.tables.plots.reconstruct import find_record, reconstruct  # noqa: E402
from codecbench.tables.plots.record import plot_record  # noqa: E402


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_jet_energy_and_columns() -> None:
    assert jet_energy(np.array([50.0]), np.array([0.0]), np.array([0.0]))[0] == pytest.approx(50.0)
    e = jet_energy(np.array([30.0]), np.array([1.0]), np.array([10.0]))[0]
    assert e == pytest.approx(math.sqrt((30 * math.cosh(1.0)) ** 2 + 100.0))
    assert jet_columns(["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass", "n"]) == {"pt": 0, "eta": 1, "phi": 2, "mass": 3}
    assert jet_columns(["Jet_Px", "Jet_Py", "Jet_Pz", "Jet_E"]) == {"px": 0, "py": 1, "pz": 2, "e": 3}
    assert four_vectors(np.zeros((3, 2)), ["a", "b"]) is None


def test_leading_pair_mass_of_known_events() -> None:
    # event 0: two back-to-back massless 50 GeV jets (m = 100) and a soft 10 GeV jet, listed first;
    # event 1: one jet only (no pair); event 2: two collinear massless jets (m = 0)
    cols = ["pt", "eta", "phi", "mass"]
    data = np.array(
        [[10, 0.5, 1.0, 0], [50, 0, 0, 0], [50, 0, math.pi, 0], [40, 0, 0, 0], [30, 1, 2, 0], [20, 1, 2, 0]],
        dtype=float,
    )
    events = np.array([0, 0, 0, 1, 2, 2])
    ev, m = leading_pair_mass(four_vectors(data, cols), events)
    assert list(ev) == [0, 2]
    assert m[0] == pytest.approx(100.0) and m[1] == pytest.approx(0.0, abs=1e-5)
    # the same jets as (px, py, pz, E) give the same masses
    e, px, py, pz, _ = four_vectors(data, cols)
    ev2, m2 = leading_pair_mass(four_vectors(np.column_stack([px, py, pz, e]), ["px", "py", "pz", "E"]), events)
    assert list(ev2) == [0, 2] and m2 == pytest.approx(m, abs=1e-5)


def test_rate_distortion_figure_writes_slide_sized_png_and_pdf(tmp_path) -> None:
    fig = rate_distortion_figure(leaderboard_frame(toy_records()), "toy")
    png, pdf = save_figure(fig, tmp_path, "rd_toy")
    assert _png_size(png) == (1500, 843) or _png_size(png) == (1500, 844)
    assert png.stat().st_size > 20_000
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 5_000
    with pytest.raises(ConfigError, match="no ok records"):
        rate_distortion_figure(leaderboard_frame(toy_records()), "other")


def _jets(n: int = 300) -> Dataset:
    rng = np.random.default_rng(1)
    data = np.column_stack(
        [
            100.0 + np.arange(n),  # pt encodes the row index, so the test can check which rows came back
            rng.uniform(-2.5, 2.5, n),
            rng.uniform(-math.pi, math.pi, n),
            rng.uniform(1, 20, n),
        ]
    ).astype(np.float32)
    meta = {"units": {"pt": "GeV", "eta": "", "phi": "rad", "mass": "GeV"}, "event_index": np.arange(n) // 3}
    return Dataset("tiny-jets", data, ["pt", "eta", "phi", "mass"], "table", meta)


def test_reconstruct_resplits_the_test_rows_and_their_events() -> None:
    ds = _jets()
    rec = make_record("trunc", dataset="tiny-jets", params={"bits": 8}, split="test")
    rec["split_info"] = {"test_fraction": 0.25, "seed": 3}
    rec["dataset_sha256"] = ds.sha256()
    rc = reconstruct(rec, dataset=ds)
    np.testing.assert_array_equal(rc.original, ds.split(0.25, 3)[1].data)
    assert rc.original.shape == (75, 4)
    rows = (rc.original[:, 0] - 100).astype(int)
    np.testing.assert_array_equal(rc.event_index, rows // 3)
    rel = np.abs(rc.reconstructed - rc.original) / np.abs(rc.original)
    assert rel.max() <= 2.0**-9  # trunc bits=8 bound
    assert any("re-run payload" in n for n in rc.notes)  # the hand-made record's size is not the real one
    assert not any("sha256" in n for n in rc.notes)


def test_plot_record_writes_variable_energy_and_dijet_figures(tmp_path) -> None:
    ds = _jets()
    rec = make_record("trunc", dataset="tiny-jets", params={"bits": 6}, task_id="abc123def456")
    run = write_run(tmp_path / "run", [rec, make_record("zstd", dataset="tiny-jets", lossless=True)])
    paths = plot_record(run, "abc123", tmp_path / "plots", dataset=ds)
    names = sorted(p.name for p in paths)
    assert names == sorted(
        [f"record_abc123def456_var_{v}.png" for v in ("pt", "eta", "phi", "mass")]
        + ["record_abc123def456_jet_energy.png", "record_abc123def456_dijet_mass.png", "record_abc123def456.pdf"]
    )
    for p in paths:
        assert p.stat().st_size > 10_000
    assert _png_size(tmp_path / "plots" / "record_abc123def456_dijet_mass.png")[0] == 1500
    assert paths[-1].read_bytes()[:5] == b"%PDF-"


def test_plot_record_of_a_field_has_a_slice_image(tmp_path) -> None:
    field = np.sin(np.linspace(0, 6, 4 * 20 * 30)).reshape(4, 20, 30).astype(np.float32)
    ds = Dataset("tiny-field", field, None, "field", {"units": {"value": "m/s"}})
    rec = make_record("trunc", dataset="tiny-field", params={"bits": 8}, task_id="fff000")
    paths = plot_record(write_run(tmp_path / "run", [rec]), "fff000", tmp_path / "out", dataset=ds)
    assert {p.name for p in paths} == {
        "record_fff000_var_value.png",
        "record_fff000_field_slice.png",
        "record_fff000.pdf",
    }


def test_record_lookup_and_failure_messages(tmp_path) -> None:
    recs = [
        make_record("zstd", task_id="aa11"),
        make_record("gzip", task_id="aa22"),
        make_record("x", status="failed", task_id="bb"),
    ]
    run = write_run(tmp_path / "run", recs)
    assert find_record([run], "aa2")["codec"] == "gzip"
    with pytest.raises(ConfigError, match="matches 2 records"):
        find_record([run], "aa")
    with pytest.raises(ConfigError, match="did you mean aa11"):
        find_record([run], "aa1x")
    with pytest.raises(ConfigError, match="nothing to plot"):
        reconstruct(find_record([run], "bb"))


def test_missing_matplotlib_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(CodecbenchError, match=r"pip install 'codecbench\[plot\]'"):
        require_matplotlib()


@pytest.mark.slow
def test_cli_plot_on_a_real_run(tmp_path) -> None:
    """End to end: run trunc on hzz-jets (four-vectors with event index), then plot curves and one record."""
    import codecbench
    from codecbench.cli import app

    out = tmp_path / "run"
    df = codecbench.run(["trunc", {"id": "trunc", "bits": 6}], ["hzz-jets"], out=out)
    assert (df["status"] == "ok").all()
    runner = CliRunner()
    res = runner.invoke(app, ["plot", str(out), "-o", str(tmp_path / "p")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "p" / "rd_hzz-jets.png").stat().st_size > 10_000
    task = df.loc[df["setting"] == "bits=6", "task_id"].iloc[0]
    res = runner.invoke(app, ["plot", str(out), "-o", str(tmp_path / "p"), "--record", task[:10]])
    assert res.exit_code == 0, res.output
    dijet = tmp_path / "p" / f"record_{task[:16]}_dijet_mass.png"
    assert dijet.stat().st_size > 10_000 and "dijet_mass" in res.output
    assert not (tmp_path / "p" / f"record_{task[:16]}_jet_energy.png").exists()  # px/py/pz/E: E is a column
