"""Leaderboard: Pareto marking, budgets, break-even values, repeats, merging, formats, CLI."""

from __future__ import annotations

import io
import math
from html.parser import HTMLParser

import pandas as pd
import pytest
from leaderboard_records import make_record, toy_records, write_run
from typer.testing import CliRunner

from codecbench.codec import ConfigError
from codecbench.tables.budgets import budget_table, parse_budget
from codecbench.tables.frame import aggregate, break_even_values, records_frame
from codecbench.tables.leaderboard import leaderboard, leaderboard_frame
from codecbench.tables.render import render_leaderboard


def _row(frame: pd.DataFrame, codec: str, setting: str = "") -> pd.Series:
    hit = frame[(frame["codec"] == codec) & (frame["setting"] == setting)]
    assert len(hit) == 1, f"{codec} {setting}: {len(hit)} rows"
    return hit.iloc[0]


def _pareto_set(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return {(r.codec, r.setting) for r in frame.itertuples() if r.pareto}


def test_pareto_marks_exactly_the_non_dominated_rows() -> None:
    frame = leaderboard_frame(toy_records())
    assert _pareto_set(frame) == {
        ("flow", "bits=13"),
        ("trunc", "bits=8"),
        ("trunc", "bits=10"),
        ("trunc", "bits=12"),
        ("zstd", "level=19"),
    }
    assert _row(frame, "broken")["status"] == "failed"
    assert not _row(frame, "broken")["pareto"]


def test_pareto_ties_are_both_optimal_and_datasets_are_separate() -> None:
    recs = [
        make_record("a", effective_ratio=2.0, worst_rel_rms=1e-3),
        make_record("b", effective_ratio=2.0, worst_rel_rms=1e-3),
        make_record("c", effective_ratio=1.9, worst_rel_rms=1e-3),  # dominated: equal error, lower ratio
        make_record("c", dataset="other", effective_ratio=1.0, worst_rel_rms=1.0),  # alone on its dataset
    ]
    frame = leaderboard_frame(recs)
    toy = frame[frame["dataset"] == "toy"]
    assert _pareto_set(toy) == {("a", ""), ("b", "")}
    assert bool(frame[frame["dataset"] == "other"]["pareto"].iloc[0])


def test_pareto_only_keeps_front_and_every_lossless_row() -> None:
    frame = leaderboard_frame(toy_records(), pareto_only=True)
    kept = {(r.codec, r.setting) for r in frame.itertuples()}
    assert kept == _pareto_set(frame) | {("raw", ""), ("zstd", "level=3")}
    assert ("ae", "latent_dim=3") not in kept and ("broken", "") not in kept


def test_budget_picks_best_setting_per_codec_and_lists_the_rest() -> None:
    frame = leaderboard_frame(toy_records())
    table = budget_table(frame, ["worst_rel_rms=1e-3"])
    ranked = table.dropna(subset=["rank"])
    assert list(zip(ranked["rank"], ranked["codec"], ranked["setting"])) == [
        (1, "trunc", "bits=10"),
        (2, "ae", "latent_dim=4"),
        (3, "zstd", "level=19"),
        (4, "raw", ""),
    ]
    never = table[table["rank"].isna()].set_index("codec")
    assert set(never.index) == {"flow", "broken"}
    assert "never within budget" in never.loc["flow", "note"]
    assert never.loc["flow", "setting"] == "bits=13" and not never.loc["flow", "within_budget"]
    assert never.loc["broken", "note"].startswith("failed")


def test_per_variable_and_combined_budgets() -> None:
    frame = leaderboard_frame(toy_records())
    # eta.rel_rms is half the worst: trunc bits=8 (1e-3) and ae latent_dim=3 (1.5e-3) now fit
    table = budget_table(frame, ["eta.rel_rms=1.5e-3"])
    best = table.dropna(subset=["rank"]).set_index("codec")
    assert best.loc["trunc", "setting"] == "bits=8" and best.loc["ae", "setting"] == "latent_dim=3"
    assert table.iloc[0]["codec"] == "trunc" and "var.eta.rel_rms" in table.columns
    # adding a max_abs_error budget of 0.01 excludes trunc bits=8 (0.02) and ae latent_dim=3 (0.03)
    both = budget_table(frame, ["eta.rel_rms=1.5e-3", "max_abs_error=0.01"]).dropna(subset=["rank"]).set_index("codec")
    assert both.loc["trunc", "setting"] == "bits=10" and both.loc["ae", "setting"] == "latent_dim=4"
    # psnr is a minimum: lossless (inf) passes, lossy (60 dB) does not at 70 dB
    psnr = budget_table(frame, ["psnr=70"]).dropna(subset=["rank"])
    assert set(psnr["codec"]) == {"zstd", "raw"}


def test_budget_errors_name_the_problem() -> None:
    frame = leaderboard_frame(toy_records())
    with pytest.raises(ConfigError, match="did you mean pt.rel_rms"):
        parse_budget("pt.rel_rsm=1e-3", frame)
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_budget("worst_rel_rms", frame)
    with pytest.raises(ConfigError, match="not a number"):
        parse_budget("worst_rel_rms=small", frame)
    with pytest.raises(ConfigError, match="did you mean worst_rel_rms"):
        parse_budget("worst_rel_rm=1", frame)
    assert parse_budget("psnr=40").upper is False


def test_break_even_values_definition() -> None:
    # raw 4 bytes/value, payload 0.4 bytes/value: each value saves 3.6 bytes; 4000 aux bytes -> 1111.1
    assert break_even_values(40_000, 4_000, 4_000, 10_000) == pytest.approx(4000 / 3.6)
    assert break_even_values(40_000, 4_000, 0, 10_000) == 0.0
    assert break_even_values(40_000, 40_000, 10, 10_000) == math.inf
    assert break_even_values(40_000, 50_000, 10, 10_000) == math.inf
    assert math.isnan(break_even_values(40_000, math.nan, 10, 10_000))
    flow = _row(leaderboard_frame(toy_records()), "flow", "bits=13")
    assert flow["aux_bytes"] == 4000 and flow["break_even_values"] == pytest.approx(4000 / 3.6)


def test_repeats_give_mean_std_and_n() -> None:
    recs = [
        make_record("ae", params={"latent_dim": 3}, effective_ratio=r, worst_rel_rms=e, fit_s=f, repeat=i, learned=True)
        for i, (r, e, f) in enumerate([(2.0, 1e-3, 10.0), (3.0, 2e-3, 20.0), (4.0, 3e-3, 30.0)])
    ]
    recs.append(make_record("zstd", effective_ratio=1.5, lossless=True))
    frame = leaderboard_frame(recs)
    ae = _row(frame, "ae", "latent_dim=3")
    assert ae["n"] == 3 and ae["effective_ratio"] == pytest.approx(3.0)
    assert ae["effective_ratio_std"] == pytest.approx(1.0)  # sample std of 2, 3, 4
    assert ae["worst_rel_rms"] == pytest.approx(2e-3) and ae["fit_s_std"] == pytest.approx(10.0)
    assert math.isnan(_row(frame, "zstd")["effective_ratio_std"])
    text = render_leaderboard(frame, "md")
    ae_line = next(line for line in text.splitlines() if "latent_dim=3" in line)
    assert "3 ± 1" in ae_line and "n=3" in ae_line
    zstd_line = next(line for line in text.splitlines() if "| zstd |" in line)
    assert "n=1" in zstd_line and "±" not in zstd_line


def test_repeats_with_runner_model_seeds_and_harness_keys_share_one_row() -> None:
    # the runner measures repeat K with seed = base + K and fills in columns: still one setting
    recs = []
    for k, ratio in enumerate([5.0, 6.0, 7.0]):
        params = {"latent_dim": 3, "seed": k, "columns": ["pt", "eta"]}
        rec = make_record("ae", params=params, effective_ratio=ratio, repeat=k, learned=True, split="test")
        rec["setting"] = "latent_dim=3" + (f",seed={k}" if k else "")
        recs.append(rec)
    user_seed = make_record("ae", params={"latent_dim": 3, "seed": 7}, setting="latent_dim=3,seed=7", split="test")
    frame = leaderboard_frame([*recs, user_seed])
    assert len(frame) == 2
    row = _row(frame, "ae", "latent_dim=3")
    assert row["n"] == 3 and row["effective_ratio"] == pytest.approx(6.0)
    assert row["effective_ratio_std"] == pytest.approx(1.0)
    assert _row(frame, "ae", "latent_dim=3,seed=7")["n"] == 1


def test_failed_repeat_is_counted_not_averaged() -> None:
    recs = [
        make_record("ae", effective_ratio=2.0, repeat=0, learned=True),
        make_record("ae", repeat=1, status="failed", learned=True),
    ]
    row = _row(leaderboard_frame(recs), "ae")
    assert row["status"] == "ok" and row["n"] == 1 and row["n_failed"] == 1 and row["effective_ratio"] == 2.0
    assert "n=1 (1 failed)" in render_leaderboard(leaderboard_frame(recs), "md")


def test_merge_newest_vs_median_across_result_dirs(tmp_path) -> None:
    runs = [("2025-01-01T00:00:00+00:00", 2.0), ("2025-03-01T00:00:00+00:00", 10.0), ("2025-02-01T00:00:00+00:00", 3.0)]
    dirs = []
    for i, (ts, ratio) in enumerate(runs):
        recs = [make_record("zstd", params={"level": 3}, effective_ratio=ratio, lossless=True, timestamp=ts)]
        if i == 0:
            recs.append(make_record("gzip", effective_ratio=1.2, lossless=True, timestamp=ts))
        dirs.append(write_run(tmp_path / f"run{i}", recs))
    newest = leaderboard(*dirs)
    median = leaderboard(*dirs, aggregate="median")
    assert _row(newest, "zstd", "level=3")["effective_ratio"] == 10.0
    assert _row(newest, "zstd", "level=3")["n_runs"] == 3
    assert _row(median, "zstd", "level=3")["effective_ratio"] == 3.0
    assert _row(median, "zstd", "level=3")["n"] == 3
    assert _row(newest, "gzip")["effective_ratio"] == 1.2  # only in one run: kept
    with pytest.raises(ConfigError, match="newest, median"):
        aggregate(records_frame(toy_records()), "mean")


def test_config_identity_is_canonical_and_rerun_keeps_newest() -> None:
    a = make_record(
        "blosc", params={"cname": "zstd", "clevel": 5}, effective_ratio=2.0, timestamp="2025-01-01T00:00:00Z"
    )
    b = make_record(
        "blosc", params={"clevel": 5, "cname": "zstd"}, effective_ratio=2.5, timestamp="2025-01-02T00:00:00Z"
    )
    frame = leaderboard_frame([b, a])  # same setting, same directory, same repeat: a re-run
    assert len(frame) == 1 and frame.iloc[0]["effective_ratio"] == 2.5
    test_split = make_record("blosc", params={"cname": "zstd", "clevel": 5}, split="test", effective_ratio=3.0)
    assert len(leaderboard_frame([a, test_split])) == 2  # a different split is a different row


def test_every_format_renders() -> None:
    frame = leaderboard_frame(toy_records())
    md = render_leaderboard(frame, "md")
    assert md.startswith("# codecbench leaderboard") and "## toy" in md
    assert "| * | flow | bits=13 |" in md and "FAILED: boom" in md and "| 1111 |" in md

    csv = pd.read_csv(io.StringIO(render_leaderboard(frame, "csv")))
    assert len(csv) == 10 and {"effective_ratio", "pareto", "break_even_values", "n"} <= set(csv.columns)
    assert csv.loc[csv["codec"] == "flow", "break_even_values"].iloc[0] == pytest.approx(1111.11, rel=1e-4)

    page = render_leaderboard(frame, "html")
    parser = _Tags()
    parser.feed(page)
    assert parser.tags.count("table") == 2 and 'class="pareto"' in page  # leaderboard + curve summary

    tex = render_leaderboard(frame, "latex")
    assert tex.count(r"\begin{tabular}") == 2 and r"latent\_dim=3" in tex and r"\toprule" in tex

    budget_md = render_leaderboard(frame, "md", budgets=["worst_rel_rms=1e-3"])
    assert "worst_rel_rms <= 0.001" in budget_md and "| 1 | trunc | bits=10 |" in budget_md
    with pytest.raises(ConfigError, match="md, csv, html, latex"):
        render_leaderboard(frame, "xlsx")


def test_sort_column_and_direction() -> None:
    frame = leaderboard_frame(toy_records(), sort="worst_rel_rms")
    ok = frame[frame["status"] == "ok"]
    assert list(ok["worst_rel_rms"]) == sorted(ok["worst_rel_rms"])
    assert frame.iloc[-1]["status"] == "failed"
    desc = leaderboard_frame(toy_records(), sort="-worst_rel_rms")
    assert desc.iloc[0]["codec"] == "flow"
    assert leaderboard_frame(toy_records()).iloc[0]["codec"] == "flow"  # default: effective ratio, descending
    with pytest.raises(ConfigError, match="did you mean"):
        leaderboard_frame(toy_records(), sort="efective_ratio")


def test_cli_leaderboard_prints_markdown_and_writes_files(tmp_path) -> None:
    from codecbench.cli import app

    run = write_run(tmp_path / "run", toy_records())
    runner = CliRunner()
    res = runner.invoke(app, ["leaderboard", str(run)])
    assert res.exit_code == 0, res.output
    assert res.output == render_leaderboard(leaderboard(run), "md")
    out = tmp_path / "lb.tex"
    res = runner.invoke(app, ["leaderboard", str(run), "--format", "latex", "-o", str(out)])
    assert res.exit_code == 0 and out.read_text().count(r"\begin{tabular}") == 2
    res = runner.invoke(app, ["leaderboard", str(run), "--budget", "worst_rel_rms=1e-3", "--budget", "pt.rel_rms=1"])
    assert res.exit_code == 0 and "| 1 | trunc | bits=10 |" in res.output
    res = runner.invoke(app, ["leaderboard", str(run), "--budget", "pt.rel_rsm=1"])
    assert res.exit_code == 1 and "did you mean pt.rel_rms" in res.output
    res = runner.invoke(app, ["leaderboard", str(tmp_path / "missing")])
    assert res.exit_code == 1 and "does not exist" in res.output


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
