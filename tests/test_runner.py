"""The runner: grid, records, failures that do not stop the run, lossless verification, resume."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from plugin_helpers import install_plugin

import codecbench
import codecbench.runner
from codecbench import ConfigError
from codecbench.plugins import refresh
from codecbench.runner import build_tasks, parse_assignments, parse_sweeps
from codecbench.runner.store import iter_records

SMALL = {"jets-synthetic": {"n_rows": 4000}, "cfd-synthetic": {"n_steps": 4}}

MISBEHAVING = """
import time
import numpy as np
from codecbench import Codec

class Raises(Codec):
    codec_id = "cb-raises"
    lossless = True
    def __init__(self, where: str = "encode"):
        self.where = where
    def encode(self, data):
        if self.where == "encode":
            raise IndexError("boom in encode")
        return data.tobytes()
    def decode(self, payload):
        if self.where == "decode":
            raise ValueError("boom in decode")
        return np.frombuffer(payload, dtype=np.uint8)

class Liar(Codec):
    codec_id = "cb-liar"
    lossless = True
    def __init__(self):
        pass
    def encode(self, data):
        return data.astype(np.float16).tobytes()
    def decode(self, payload):
        return np.frombuffer(payload, dtype=np.float16).astype(np.float32)

class WrongShape(Codec):
    codec_id = "cb-wrongshape"
    def __init__(self):
        pass
    def encode(self, data):
        return data.tobytes()
    def decode(self, payload):
        return np.frombuffer(payload, dtype=np.float32)[:-1]

class NeedsMissing(Codec):
    codec_id = "cb-needs-missing"
    requires = ("numpy", "cb_definitely_not_installed")
    def __init__(self):
        pass
    def encode(self, data):
        return data.tobytes()
    def decode(self, payload):
        return payload

class Hangs(Codec):
    codec_id = "cb-hangs"
    def __init__(self):
        pass
    def encode(self, data):
        time.sleep(600)
    def decode(self, payload):
        return payload
"""


@pytest.fixture
def misbehaving(tmp_path, monkeypatch):
    install_plugin(
        monkeypatch,
        tmp_path / "plug",
        "cb-misbehaving",
        "cb_misbehaving",
        MISBEHAVING,
        {
            "cb-raises": "cb_misbehaving:Raises",
            "cb-liar": "cb_misbehaving:Liar",
            "cb-wrongshape": "cb_misbehaving:WrongShape",
            "cb-hangs": "cb_misbehaving:Hangs",
            "cb-broken": "cb_missing_module:Codec",
            "cb-needs-missing": "cb_misbehaving:NeedsMissing [fast]",
        },
    )
    yield
    refresh()


def test_one_ok_record_per_codec_and_dataset(tmp_path):
    df = codecbench.run(["gzip", "zstd", "blosc", "trunc", "raw"], sets=SMALL, out=tmp_path / "r")
    assert len(df) == 10 and set(df["status"]) == {"ok"}
    assert set(df["dataset"]) == {"jets-synthetic", "cfd-synthetic"}
    lossless = df[df["lossless"]]
    assert set(lossless["codec"]) == {"gzip", "zstd", "blosc", "raw"}
    assert (lossless["max_abs_error"] == 0).all()
    for _, row in df.iterrows():
        assert row["ratio"] == pytest.approx(row["raw_bytes"] / row["payload_bytes"])
        assert row["effective_ratio"] == pytest.approx(row["raw_bytes"] / (row["payload_bytes"] + row["aux_bytes"]))
        assert row["encode_s"] > 0 and row["decode_s"] > 0
    raw = df[df["codec"] == "raw"].iloc[0]
    assert raw["payload_bytes"] - raw["raw_bytes"] < 64  # only the frame
    back = codecbench.load_results(tmp_path / "r")
    assert len(back) == 10 and list(back["task_id"]) == list(df["task_id"])
    run_file = json.loads((tmp_path / "r" / "run.json").read_text())
    assert run_file["numpy"] == np.__version__ and run_file["n_tasks"] == 10


def test_record_carries_design_keys(tmp_path):
    df = codecbench.run(["trunc"], ["jets-synthetic"], sets=SMALL)
    rec = df.iloc[0].to_dict()
    for key in ("codec", "config", "dataset", "dataset_sha256", "split", "n_values", "status", "raw_bytes",
                "payload_bytes", "aux_bytes", "ratio", "effective_ratio", "bits_per_value", "variables",
                "max_abs_error", "worst_rel_rms", "nrmse", "psnr", "fit_s", "encode_s", "decode_s",
                "encode_mbps", "decode_mbps", "peak_mem_bytes", "extras"):  # fmt: skip
        assert key in rec, key
    var = rec["variables"]["pt"]
    for key in ("residual_mean", "residual_rms", "response_mean", "response_rms", "max_abs_error", "rel_rms",
                "abs_error_p50", "abs_error_p99"):  # fmt: skip
        assert key in var
    assert rec["extras"]["bound_violations"] == 0
    assert rec["config"]["columns"] == ["pt", "eta", "phi", "mass"]


def test_set_and_sweep(tmp_path):
    sets = {**SMALL, **parse_assignments(["zstd.level=19"], "--set")}
    df = codecbench.run(["zstd", "trunc"], ["jets-synthetic"], sets=sets, sweeps=parse_sweeps(["trunc.bits=6,8,12"]))
    assert list(df["setting"]) == ["level=19", "bits=6", "bits=8", "bits=12"]
    err = df[df["codec"] == "trunc"]["worst_rel_rms"].to_numpy()
    assert err[0] > err[1] > err[2]
    ratio = df[df["codec"] == "trunc"]["ratio"].to_numpy()
    assert ratio[0] > ratio[1] > ratio[2]


def test_config_file_grid(tmp_path):
    cfg = tmp_path / "grid.yaml"
    cfg.write_text(
        "datasets: [jets-synthetic]\n"
        "dataset_params: {jets-synthetic: {n_rows: 2000}}\n"
        "codecs:\n  - raw\n  - {id: zstd, level: 1}\n  - id: trunc\n    sweep: {bits: [8, 10]}\n"
    )
    df = codecbench.run(config=cfg)
    assert list(df["setting"]) == ["", "level=1", "bits=8", "bits=10"]
    assert (df["n_values"] == 8000).all()


@pytest.mark.parametrize(
    "args, match",
    [
        ({"codecs": ["nope"]}, "no codec named 'nope'"),
        ({"codecs": ["zstd"], "sets": {"zstd": {"levle": 3}}}, "no parameter 'levle'"),
        ({"codecs": ["zstd"], "sets": {"zstd": {"level": "high"}}}, "level"),
        ({"codecs": ["zstd"], "datasets": ["jets-synthetc"]}, "did you mean jets-synthetic"),
        ({"codecs": ["zstd"], "sets": {"gzip": {"level": 3}}}, "neither a codec in this run"),
    ],
)
def test_bad_grid_fails_before_running(args, match):
    with pytest.raises(codecbench.CodecbenchError, match=match):
        build_tasks(**args)


def test_bad_config_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("codecs: [zstd\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        codecbench.run(config=bad)
    bad.write_text("codecs: [zstd]\nrepeat: 3\n")
    with pytest.raises(ConfigError, match="unknown key 'repeat'"):
        codecbench.run(config=bad)


def test_failing_plugins_give_failed_records_and_run_goes_on(tmp_path, misbehaving):
    codecs = ["cb-raises", {"id": "cb-raises", "where": "decode"}, "cb-liar", "cb-wrongshape", "zstd"]
    df = codecbench.run(codecs, ["jets-synthetic"], sets=SMALL, out=tmp_path / "r")
    by = {(r["codec"], r["setting"]): r for _, r in df.iterrows()}
    assert by[("cb-raises", "")]["status"] == "failed"
    assert "IndexError: boom in encode" in by[("cb-raises", "")]["error"]
    assert by[("cb-raises", "where=decode")]["stage"] == "decode"
    assert "claims to be lossless" in by[("cb-liar", "")]["error"]
    assert "decode returned" in by[("cb-wrongshape", "")]["error"]
    assert by[("zstd", "")]["status"] == "ok"
    assert len(list(iter_records(tmp_path / "r" / "records.jsonl"))) == 5


def test_timeout_stops_a_hanging_codec(tmp_path, misbehaving):
    df = codecbench.run(["cb-hangs", "zstd"], ["jets-synthetic"], sets=SMALL, timeout=6, out=tmp_path / "r")
    hang = df[df["codec"] == "cb-hangs"].iloc[0]
    assert hang["status"] == "failed" and "timed out after 6 s" in hang["error"]
    assert df[df["codec"] == "zstd"].iloc[0]["status"] == "ok"


def test_resume_skips_finished_tasks_and_repairs_half_line(tmp_path):
    out = tmp_path / "r"
    codecbench.run(["raw", "zstd"], ["jets-synthetic"], sets=SMALL, out=out)
    path = out / "records.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[1][:40])  # as if killed while writing the second record
    with pytest.raises(ConfigError, match="--resume"):
        codecbench.run(["raw", "zstd"], ["jets-synthetic"], sets=SMALL, out=out)
    df = codecbench.run(["raw", "zstd", "gzip"], ["jets-synthetic"], sets=SMALL, out=out, resume=True)
    recs = list(iter_records(path))
    assert [r["codec"] for r in recs] == ["raw", "zstd", "gzip"]
    assert len({r["task_id"] for r in recs}) == 3 and len(df) == 3


def test_process_executor_matches_serial(tmp_path):
    serial = codecbench.run(["zstd", "trunc"], sets=SMALL)
    proc = codecbench.run(["zstd", "trunc"], sets=SMALL, executor="process", workers=2, out=tmp_path / "p")
    key = ["codec", "dataset", "payload_bytes", "max_abs_error", "worst_rel_rms"]
    a = serial[key].sort_values(key[:2]).reset_index(drop=True)
    b = proc[key].sort_values(key[:2]).reset_index(drop=True)
    assert a.equals(b)


def test_cli_run_prints_table_and_exit_status(tmp_path):
    out = tmp_path / "cli"
    cmd = [sys.executable, "-m", "codecbench", "run", "--codecs", "gzip,zstd,blosc,trunc", "--out", str(out), "-q",
           "--set", "jets-synthetic.n_rows=3000", "--set", "cfd-synthetic.n_steps=3"]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "eff. ratio" in res.stdout and "cfd-synthetic" in res.stdout
    recs = list(iter_records(out / "records.jsonl"))
    assert len(recs) == 8 and all(r["status"] == "ok" for r in recs)
    assert all(r["max_abs_error"] == 0 for r in recs if r["lossless"])
    bad = subprocess.run([sys.executable, "-m", "codecbench", "run", "--codecs", "zstd", "--set", "zstd.level=99",
                          "--out", str(tmp_path / "x")], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 1 and "zstd level must be an integer" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_lossless_records_exact_on_awkward_values(tmp_path):
    """NaN payloads, infinities, -0.0 and denormals survive every lossless codec bit for bit."""
    from codecbench.dataset import Dataset
    from codecbench.measure.metrics import bits_equal

    vals = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45, 3.4e38, -1.5], dtype=np.float32)
    vals.view(np.uint32)[0] = 0x7FC00123  # NaN with a payload
    ds = Dataset("awk", np.tile(vals, (100, 1)), columns=[f"c{i}" for i in range(8)])
    for cid in ["raw", "gzip", "zstd", "blosc"]:
        codec = codecbench.get_codec(cid)
        assert bits_equal(codecbench.decompress(codec, codecbench.compress(codec, ds.data)), ds.data), cid
    assert math.isfinite(float(vals[5]))


def test_codec_list_option_keeps_json_specs_whole():
    from codecbench.cli.app import split_list

    assert split_list('zstd, {"id": "zstd", "level": 19},numcodecs:{"id": "zlib", "level": 1}') == [
        "zstd",
        '{"id": "zstd", "level": 19}',
        'numcodecs:{"id": "zlib", "level": 1}',
    ]
    assert split_list(None) is None


def test_plugin_that_fails_to_import_gives_failed_records(tmp_path, misbehaving):
    df = codecbench.run(["cb-broken", "zstd"], sets=SMALL, out=tmp_path / "r")
    broken = df[df["codec"] == "cb-broken"]
    assert len(broken) == 2 and (broken["status"] == "failed").all()
    assert broken["error"].str.contains("cannot be imported").all()
    assert (df[df["codec"] == "zstd"]["status"] == "ok").all()


def test_setting_names_only_parameters_that_differ_from_defaults():
    from codecbench.plugins import get_codec_class
    from codecbench.runner.task import _setting

    cls = get_codec_class("blosc")
    assert _setting(cls, {"id": "blosc", "cname": "zstd", "clevel": 5, "shuffle": "bit"}) == "shuffle=bit"
    pytest.importorskip("torch")
    ae = get_codec_class("ae")
    cfg = codecbench.get_codec({"id": "ae", "latent_dim": 2}).get_config()  # tuple defaults become lists
    assert _setting(ae, cfg) == "latent_dim=2"


def test_declared_requirements_are_checked_when_the_codec_loads(misbehaving):
    from codecbench.plugins import describe

    info = describe("cb-needs-missing")
    assert info.status == "needs fast extra"
    assert "needs cb_definitely_not_installed" in info.error and "cb-misbehaving[fast]" in info.error
    assert "cb-needs-missing" not in codecbench.runner.builtin_codec_ids()
    df = codecbench.run(["cb-needs-missing", "raw"], ["jets-synthetic"], sets=SMALL)
    assert list(df["status"]) == ["failed", "ok"]
