"""Target runs: the knob search through the runner (tight, unmet, no knob), the limit rows, the rows measured."""

from __future__ import annotations

import json

import numpy as np
import pytest

import codecbench
from codecbench import ConfigError
from codecbench.measure.targets import Target, meets, parse_target, target_value

SMALL = {"jets-synthetic": {"n_rows": 3000}}


def _roles(df) -> list[str]:
    return [s["role"] for s in df["search"]]


def test_search_meets_the_target_and_is_tight_on_trunc():
    """trunc's bits: the error falls monotonically with each bit. The chosen setting meets the
    target, and the next coarser one (one bit fewer) was measured and misses it."""
    df = codecbench.run(["trunc"], ["jets-synthetic"], sets=SMALL, targets=["worst_rel_rms=5e-4"])
    assert (df["status"] == "ok").all()
    chosen = df[[r == "target" for r in _roles(df)]]
    assert len(chosen) == 1
    rec = chosen.iloc[0]
    bits = rec["config"]["bits"]
    assert (
        rec["worst_rel_rms"] <= 5e-4
        and rec["search"]["tight"]
        and rec["search"]["knob"] == {"param": "bits", "value": bits}
    )
    coarser = df[[c["bits"] == bits - 1 for c in df["config"]]]
    assert len(coarser) == 1 and coarser.iloc[0]["worst_rel_rms"] > 5e-4
    assert rec["search"]["probes"] == len(df) <= 8  # bits 0..52: at most 2 + ceil(log2 52)
    assert all(
        r["effective_ratio"] < rec["effective_ratio"]
        for _, r in df.iterrows()
        if r["worst_rel_rms"] <= 5e-4 and r["config"]["bits"] != bits
    )


def test_a_hint_makes_quant_cheap_and_close_to_the_limit():
    df = codecbench.run(["quant"], ["jets-synthetic"], sets=SMALL, targets=["worst_rel_rms=1e-3"])
    target = df[[r == "target" for r in _roles(df)]].iloc[0]
    assert target["worst_rel_rms"] <= 1e-3 and target["search"]["probes"] <= 4
    assert all(c["error_bound"] == float(f"{c['error_bound']:.4g}") for c in df["config"])  # 4 significant digits
    assert 0.9 < target["fraction_of_limit"] < 1.1
    (limit,) = df.attrs["limits"]
    assert limit["codec"] == "limit" and limit["kind"] == "reference" and limit["split"] == "all"
    assert target["limit_ratio"] == limit["ratio"]
    assert target["fraction_of_limit"] == pytest.approx(target["effective_ratio"] / limit["ratio"])


def test_a_target_no_setting_meets_gives_one_unmet_record_with_the_closest_setting():
    """zfp's finest tolerance (1e-9 of the range) cannot reach 1e-14."""
    pytest.importorskip("zfpy")
    df = codecbench.run(["zfp"], ["jets-synthetic"], sets=SMALL, targets=["worst_rel_rms=1e-14"])
    roles = _roles(df)
    assert roles.count("unmet") == 1 and "target" not in roles
    unmet = df[[r == "unmet" for r in roles]].iloc[0]
    assert unmet["config"]["tolerance"] == 1e-9  # the finest setting: the closest to the target
    assert unmet["worst_rel_rms"] > 1e-14 and "finest" in unmet["search"]["reason"]


def test_a_codec_without_a_knob_is_measured_once():
    df = codecbench.run(
        ["zstd", {"id": "trunc", "preset": "nanoaod"}], ["jets-synthetic"], sets=SMALL, targets=["worst_rel_rms=1e-6"]
    )
    by = {r["codec"]: r for _, r in df.iterrows()}
    assert len(df) == 2
    assert by["zstd"]["search"]["role"] == "target" and by["zstd"]["search"]["reason"].startswith("no knob")
    assert by["trunc"]["search"]["role"] == "unmet" and by["trunc"]["search"]["knob"] is None


def test_several_targets_and_the_store(tmp_path):
    out = tmp_path / "run"
    targets = ["worst_rel_rms=1e-2", "worst_rel_rms=1e-3", "max_abs_error=0.05"]
    df = codecbench.run(["quant"], ["jets-synthetic"], sets=SMALL, targets=targets, out=str(out))
    finals = df[[r != "probe" for r in _roles(df)]]
    assert sorted((t["metric"], t["value"]) for t in (s["target"] for s in finals["search"])) == sorted(
        (t.metric, t.value) for t in map(parse_target, targets)
    )
    limits = [json.loads(line) for line in (out / "limits.jsonl").read_text().splitlines()]
    assert len(limits) == 3 and codecbench.load_results(str(out)).shape[0] == len(df)
    again = codecbench.run(["quant"], ["jets-synthetic"], sets=SMALL, targets=targets, out=str(out), resume=True)
    assert len(again) == len(df)  # nothing re-run: every search's final record was stored


def test_targets_from_a_config_file(tmp_path):
    cfg = tmp_path / "grid.yaml"
    cfg.write_text(
        "datasets: [jets-synthetic]\ndataset_params: {jets-synthetic: {n_rows: 3000}}\n"
        "codecs: [trunc]\ntargets: [worst_rel_rms=1e-3, {psnr: 40}]\n"
    )
    df = codecbench.run(config=str(cfg))
    finals = [s for s in df["search"] if s["role"] != "probe"]
    assert {f["target"]["metric"] for f in finals} == {"worst_rel_rms", "psnr"}
    cfg.write_text("datasets: [jets-synthetic]\ncodecs: [trunc]\ntargets: [worst_rms=1e-3]\n")
    with pytest.raises(ConfigError, match=r"targets\[0\]: unknown target metric 'worst_rms'"):
        codecbench.run(config=str(cfg))


def test_process_executor_carries_the_probes():
    df = codecbench.run(["trunc"], ["jets-synthetic"], sets=SMALL, targets=["worst_rel_rms=1e-3"], executor="process")
    assert len(df) > 1 and _roles(df).count("target") == 1


def test_bad_targets_are_refused():
    for bad in ("worst_rel_rms", "worst_rel_rms=abc", "nope=1", "worst_rel_rms=-1", "Jet_pt.rmse=1"):
        with pytest.raises(ConfigError):
            parse_target(bad)
    with pytest.raises(ConfigError, match="given twice"):
        codecbench.run(["trunc"], ["jets-synthetic"], targets=["psnr=40", "psnr=40.0"])
    with pytest.raises(ConfigError, match="sets bits itself"):
        codecbench.run(["trunc"], ["jets-synthetic"], targets=["psnr=40"], sweeps={"trunc": {"bits": [4, 8]}})


def test_target_lookup():
    rec = {"status": "ok", "worst_rel_rms": 1e-3, "psnr": 50.0, "variables": {"Jet_pt": {"rel_rms": 2e-4}}}
    assert target_value(rec, "Jet_pt.rel_rms") == 2e-4 and target_value(rec, "Jet_eta.rel_rms") is None
    assert meets(rec, Target("worst_rel_rms", 1e-3)) and not meets(rec, Target("worst_rel_rms", 9e-4))
    assert meets(rec, Target("psnr", 50)) and not meets(rec, Target("psnr", 51))
    assert not meets({**rec, "status": "failed"}, Target("psnr", 1))
    assert parse_target({"metric": "psnr", "value": 40}) == parse_target("psnr=40") == parse_target({"psnr": 40})


def test_a_grid_with_a_learned_codec_measures_every_codec_on_the_test_split():
    from codecbench.runner import build_tasks

    mixed = build_tasks(["zstd", "ae"], ["jets-synthetic"])
    assert {t.measure_on for t in mixed} == {"test"}
    assert {t.measure_on for t in build_tasks(["zstd"], ["jets-synthetic"])} == {"auto"}
    df = codecbench.run(["zstd"], ["jets-synthetic"], sets=SMALL, measure_on="test")
    assert df.iloc[0]["split"] == "test" and df.iloc[0]["measure_on"] == "test"


@pytest.mark.slow
def test_a_learned_codec_search_never_refits(tmp_path, monkeypatch):
    pytest.importorskip("nflows")
    monkeypatch.setenv("CODECBENCH_CACHE_DIR", str(tmp_path / "cache"))
    flow = {"id": "flow", "epochs": 1, "layers": 2, "hidden": 16, "min_epoch_steps": 5}
    df = codecbench.run([flow], ["jets-synthetic"], sets=SMALL, targets=["worst_rel_rms=3e-3"])
    assert (df["status"] == "ok").all() and len(df) > 1
    assert df["model_cache"].tolist() == ["miss"] + ["hit"] * (len(df) - 1)
    assert np.allclose(df["fit_s"], df["fit_s"].iloc[0])  # the same model, fitted once
    assert set(df["split"]) == {"test"}


def test_a_resumed_run_keeps_the_limits_of_the_first(tmp_path):
    """make_reference.sh runs two run files into one directory: the second must not drop the first's limits."""
    out = str(tmp_path / "ref")
    codecbench.run(["quant"], ["jets-synthetic"], sets=SMALL, targets=["worst_rel_rms=1e-3"], out=out)
    df = codecbench.run(["quant"], ["cfd-synthetic"], targets=["worst_rel_rms=1e-3"], out=out, resume=True)
    from codecbench.runner.store import load_limits

    assert sorted(row["dataset"] for row in load_limits(out)) == ["cfd-synthetic", "jets-synthetic"]
    assert [row["dataset"] for row in df.attrs["limits"]] == ["cfd-synthetic"]
