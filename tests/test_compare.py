"""compare: per-setting changes between two runs, and the Bjontegaard-style curve summary."""

from __future__ import annotations

import copy
import io
import math
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from leaderboard_records import make_record, toy_records, write_run
from typer.testing import CliRunner

from codecbench.tables.bd import bd_details, bd_ratio_gain, bd_summary
from codecbench.tables.compare import compare_runs, pct_change, render_comparison
from codecbench.tables.leaderboard import leaderboard_frame


def _curve(errors: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """A curved rate-distortion law: log r = 2 + 0.25 log e + 0.01 (log e)^2 (rising), times ``scale``."""
    le = np.log(errors)
    return np.column_stack([errors, scale * np.exp(2 + 0.25 * le + 0.01 * le**2)])


def test_bd_gain_of_a_curve_scaled_by_1_25_is_25_percent() -> None:
    a = _curve(np.geomspace(1e-5, 1e-2, 5))
    b = _curve(np.geomspace(3e-5, 2e-2, 4), scale=1.25)  # other error points, same law x 1.25
    assert bd_ratio_gain(a, b) == pytest.approx(25.0, abs=1e-6)
    assert bd_ratio_gain(b, a) == pytest.approx(-20.0, abs=1e-6)  # 1 / 1.25 - 1
    d = bd_details(a, b)
    assert d["error_lo"] == pytest.approx(3e-5) and d["error_hi"] == pytest.approx(1e-2)


def test_bd_gain_with_few_points_uses_a_lower_degree_and_overlap_only() -> None:
    # straight lines in log-log: two points are enough (degree 1); b = a's line x 1.1 on a shifted range
    def line(e):
        return 2.0 * (e / 1e-4) ** (math.log(4) / math.log(100))

    a = np.array([[1e-4, line(1e-4)], [1e-2, line(1e-2)]])
    b = np.array([[1e-3, 1.1 * line(1e-3)], [1e-1, 1.1 * line(1e-1)]])
    assert bd_ratio_gain(a, b) == pytest.approx(10.0, abs=1e-9)
    assert bd_details(a, b)["error_lo"] == pytest.approx(1e-3) and bd_details(a, b)["error_hi"] == pytest.approx(1e-2)


def test_bd_gain_is_nan_without_two_points_or_overlap() -> None:
    a = _curve(np.geomspace(1e-5, 1e-4, 3))
    assert math.isnan(bd_ratio_gain(a, _curve(np.geomspace(1e-2, 1e-1, 3))))  # disjoint error ranges
    assert math.isnan(bd_ratio_gain(a, [[1e-3, 2.0]]))  # one point
    assert math.isnan(bd_ratio_gain(a, [[0.0, 2.0], [0.0, 3.0], [1e-5, 1.0]]))  # lossless points dropped
    with pytest.raises(Exception, match="pairs"):
        bd_ratio_gain(a, [1, 2, 3])


def test_bd_summary_compares_each_codec_with_trunc() -> None:
    errors = [1e-4, 5e-4, 2e-3, 8e-3]
    recs = [make_record("zstd", effective_ratio=1.5, lossless=True)]
    pts_trunc = _curve(np.array(errors))
    pts_flow = _curve(np.array(errors[1:]), scale=1.25)
    recs += [
        make_record("trunc", params={"bits": i}, effective_ratio=r, worst_rel_rms=e)
        for i, (e, r) in enumerate(pts_trunc)
    ]
    recs += [
        make_record("flow", params={"bits": i}, effective_ratio=r, worst_rel_rms=e) for i, (e, r) in enumerate(pts_flow)
    ]
    # a dominated flow setting (lower ratio at higher error) is not part of flow's curve
    recs.append(make_record("flow", params={"bits": 99}, effective_ratio=1.0, worst_rel_rms=5e-2))
    bd = bd_summary(leaderboard_frame(recs))
    assert list(bd["codec"]) == ["flow"] and bd.iloc[0]["reference"] == "trunc"
    assert bd.iloc[0]["gain_pct"] == pytest.approx(25.0, abs=1e-6)
    assert bd.iloc[0]["n_points"] == 3 and bd.iloc[0]["n_points_ref"] == 4
    assert bd_summary(leaderboard_frame(recs), reference="flow").iloc[0]["gain_pct"] == pytest.approx(-20.0, abs=1e-6)
    assert bd_summary(leaderboard_frame(recs), reference="nope").empty


def test_pct_change() -> None:
    assert pct_change(2.0, 1.5) == pytest.approx(-25.0)
    assert pct_change(0.0, 0.0) == 0.0 and pct_change(math.inf, math.inf) == 0.0
    assert pct_change(0.0, 1e-6) == math.inf
    assert math.isnan(pct_change(math.nan, 1.0))


def _changed_run() -> list[dict]:
    """toy_records with known changes: see test_compare_runs_flags_the_changes."""
    out = []
    for rec in copy.deepcopy(toy_records()):
        setting = (rec["codec"], rec["setting"])
        if setting == ("raw", ""):
            continue  # only in A
        if rec["codec"] == "trunc":  # every trunc setting 25% better; bits=10 gets a worse error though
            rec["effective_ratio"] *= 1.25
            rec["ratio"] *= 1.25
            if setting == ("trunc", "bits=10"):
                rec["worst_rel_rms"] *= 2
        if setting == ("zstd", "level=19"):
            rec.update(status="failed", error="zstd exploded", ratio=None, effective_ratio=None)
        if setting == ("zstd", "level=3"):
            rec["effective_ratio"] *= 0.9
            rec["ratio"] *= 0.9
        if setting == ("flow", "bits=13"):
            rec["encode_mbps"] /= 2
        if setting == ("ae", "latent_dim=4"):
            rec["worst_rel_rms"] /= 2
        out.append(rec)
    out.append(make_record("gzip", params={"level": 9}, effective_ratio=1.4, lossless=True))  # only in B
    return out


def test_compare_runs_flags_the_changes(tmp_path) -> None:
    a = write_run(tmp_path / "a", toy_records())
    b = write_run(tmp_path / "b", _changed_run())
    cmp = compare_runs(a, b)
    rows = cmp.rows.set_index(["codec", "setting"])
    assert rows.loc[("zstd", "level=19"), "changes"] == "now fails" and rows.loc[("zstd", "level=19"), "regression"]
    z3 = rows.loc[("zstd", "level=3")]
    assert z3["regression"] and z3["effective_ratio_change_pct"] == pytest.approx(-10.0, abs=0.01)
    assert "effective ratio -10.0%" in z3["changes"]
    t10 = rows.loc[("trunc", "bits=10")]
    assert t10["regression"] and "worst rel_rms +100.0%" in t10["changes"] and "ratio +25.0%" in t10["changes"]
    t12 = rows.loc[("trunc", "bits=12")]
    assert not t12["regression"] and "ratio +25.0%" in t12["changes"]
    flow = rows.loc[("flow", "bits=13")]
    assert flow["regression"] and "encode MB/s -50.0%" in flow["changes"]
    ae4 = rows.loc[("ae", "latent_dim=4")]
    assert not ae4["regression"] and "worst rel_rms -50.0%" in ae4["changes"]
    assert rows.loc[("ae", "latent_dim=3"), "changes"] == "" and not rows.loc[("ae", "latent_dim=3"), "regression"]
    assert rows.loc[("raw", ""), "presence"] == "only A" and rows.loc[("gzip", "level=9"), "presence"] == "only B"
    assert cmp.counts == {"settings": 11, "compared": 9, "regressions": 4, "only_a": 1, "only_b": 1}
    assert cmp.rows["regression"].iloc[:4].all()  # regressions first
    # trunc's whole curve moved up 25% except bits=10, whose error doubled: summary is positive
    bd = cmp.bd.set_index("codec")
    assert set(bd.index) == {"trunc", "ae"}
    assert bd.loc["ae", "gain_pct"] > 0 and bd.loc["trunc", "gain_pct"] > 0


def test_compare_renders_and_cli(tmp_path) -> None:
    from codecbench.cli import app

    a = write_run(tmp_path / "a", toy_records())
    b = write_run(tmp_path / "b", _changed_run())
    cmp = compare_runs(a, b)
    md = render_comparison(cmp, "md")
    assert "4 regressions" in md and "REGRESSION" in md and "1.6 -> -" in md
    assert "| toy | zstd | level=3 | 1.5 -> 1.35 (-10.0%) |" in md
    csv = pd.read_csv(io.StringIO(render_comparison(cmp, "csv")))
    assert len(csv) == 11 and int(csv["regression"].sum()) == 4

    class Tables(HTMLParser):
        n = 0

        def handle_starttag(self, tag, attrs):
            Tables.n += tag == "table"

    Tables().feed(render_comparison(cmp, "html"))
    assert Tables.n == 2

    runner = CliRunner()
    res = runner.invoke(app, ["compare", str(a), str(b)])
    assert res.exit_code == 0 and res.output == md
    res = runner.invoke(app, ["compare", str(a), str(b), "--fail-on-regression"])
    assert res.exit_code == 1 and "4 regression(s)" in res.output
    res = runner.invoke(app, ["compare", str(a), str(b), "--speed-tolerance", "60", "--changed-only"])
    assert res.exit_code == 0 and "3 regressions" in res.output  # flow's encode -50% is now within tolerance
    assert "latent_dim=3" not in res.output and "latent_dim=4" in res.output  # unchanged row left out
    order = [line.split(" | ")[-1] for line in res.output.splitlines() if line.startswith("| toy")]
    assert order[:3] == ["REGRESSION |"] * 3 and "REGRESSION |" not in order[3:]
    res = runner.invoke(app, ["compare", str(a), str(a), "--fail-on-regression"])
    assert res.exit_code == 0 and "0 regressions" in res.output
    res = runner.invoke(app, ["compare", str(a), str(tmp_path / "nope")])
    assert res.exit_code == 1 and "does not exist" in res.output
