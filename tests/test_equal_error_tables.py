"""Tables at equal error: the limit row and fraction_of_limit in leaderboard, budgets, plots and the CLI;
rows of one dataset measured on different rows are never ranked together."""

from __future__ import annotations

import pytest
from leaderboard_records import make_record, toy_records, write_run
from typer.testing import CliRunner

from codecbench.cli import app
from codecbench.tables.leaderboard import leaderboard, leaderboard_frame
from codecbench.tables.render import render_leaderboard

SMALL = "jets-synthetic.n_rows=3000"


@pytest.fixture(scope="module")
def target_run(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`codecbench run --target` (the issue's command, on small synthetic jets); its output and directory."""
    out = tmp_path_factory.mktemp("eq") / "run"
    res = CliRunner().invoke(
        app,
        ["run", "--codecs", "quant,pcodec,trunc", "--datasets", "jets-synthetic", "--set", SMALL,
         "--target", "worst_rel_rms=5e-4", "--out", str(out), "-q"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    return str(out), res.output


def test_run_prints_the_chosen_setting_ratio_error_and_the_limit(target_run) -> None:
    _, output = target_run
    lines = output.splitlines()
    for codec in ("quant", "pcodec", "trunc"):
        assert any(line.startswith(f"│ {codec} ") and "met" in line for line in lines), output
    assert "bits=" in output and "error_bound=" in output  # the chosen settings
    assert any(
        line.startswith("limit (memoryless) on jets-synthetic (all rows) at worst_rel_rms=0.0005: ratio")
        for line in lines
    )


def test_leaderboard_has_the_limit_row_and_fraction_of_limit(target_run) -> None:
    out, _ = target_run
    res = CliRunner().invoke(app, ["leaderboard", out])
    assert res.exit_code == 0, res.output
    text = res.output
    assert "At equal error, worst_rel_rms=0.0005" in text and "| fraction of limit |" in text
    limit_line = next(line for line in text.splitlines() if line.startswith("| - | limit | memoryless |"))
    quant_line = next(line for line in text.splitlines() if line.startswith("| 1 | quant |"))
    frame = leaderboard(out)
    quant = frame[(frame["role"] == "target") & (frame["codec"] == "quant")].iloc[0]
    limit = frame.attrs["limits"][0]["ratio"]
    assert f"{limit:.4g}" in limit_line and f"{quant['fraction_of_limit']:.4g}" in quant_line
    assert quant["fraction_of_limit"] == pytest.approx(quant["effective_ratio"] / limit)
    probes = frame[frame["role"] == "probe"]
    assert len(probes) and not any(f"| {s} |" in text for s in probes["setting"] if s)  # probes are not rows here


def test_budget_equal_to_a_target_uses_the_searches(target_run) -> None:
    out, _ = target_run
    text = CliRunner().invoke(app, ["leaderboard", out, "--budget", "worst_rel_rms=5e-4"]).output
    assert "| - | limit | memoryless |" in text and "searched" in text
    other = CliRunner().invoke(app, ["leaderboard", out, "--budget", "worst_rel_rms=1e-2"]).output
    assert "| limit |" not in other and "searched" not in other  # no search for that budget: all settings scanned


def test_rate_distortion_plot_draws_the_limit(target_run) -> None:
    pytest.importorskip("matplotlib")
    from codecbench.tables.plots.rate_distortion import limit_curves, rate_distortion_figure

    out, _ = target_run
    frame = leaderboard(out)
    (curve,) = limit_curves(frame.attrs["limits"], "jets-synthetic").values()
    assert curve.shape == (1, 2) and curve[0, 0] <= 5e-4
    fig = rate_distortion_figure(frame, "jets-synthetic")
    assert "memoryless limit" in [line.get_label() for line in fig.axes[0].get_lines()]


def test_rows_measured_on_different_rows_are_not_ranked_together(tmp_path) -> None:
    """The same dataset, one codec on all rows and one on a test split: two tables, a note, two Pareto fronts."""
    recs = toy_records()
    test = make_record("sz3", params={"error_bound": 1e-3}, effective_ratio=9.0, worst_rel_rms=1e-4, split="test")
    test["split_info"] = {"n_part": 2000, "seed": 0, "test_rows_sha": "abc"}
    frame = leaderboard_frame([*recs, test])
    assert frame[frame["codec"] == "sz3"].iloc[0]["pareto"]
    assert frame[(frame["codec"] == "trunc") & (frame["setting"] == "bits=10")].iloc[0]["pareto"]  # not dominated
    text = render_leaderboard(frame)
    assert "## toy: all rows" in text and "## toy: test split (2,000 rows, seed 0)" in text
    assert "measured on 2 different sets of rows" in text
    budget = render_leaderboard(frame, budgets=["worst_rel_rms=1e-3"])
    assert sum(line.startswith("| 1 |") for line in budget.splitlines()) == 2  # one ranking per set of rows
    write_run(tmp_path / "r", [*recs, test])
    assert "not ranked against each other" in CliRunner().invoke(app, ["leaderboard", str(tmp_path / "r")]).output


def test_report_shows_the_limit_row(target_run) -> None:
    from codecbench.tables.report import build_report

    out, _ = target_run
    page = build_report(out, include_plots=False)
    assert "At equal error, worst_rel_rms=0.0005" in page and "<td>limit</td>" in page
    assert "fraction of limit" in page
