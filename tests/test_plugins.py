"""Third-party plugins installed as separate distributions: discovery, errors, running, the template.

Each distribution is installed with pip into a temporary target folder and used from a subprocess
with PYTHONPATH pointing there, so this test environment is never changed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codecbench.cli import app

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "plugin_pkg"
CLASH = FIXTURE / "clash"
EXAMPLE = ROOT / "examples" / "third-party-codec"

pytestmark = pytest.mark.slow


def pip_install(source: Path, target: Path) -> Path:
    """``pip install --no-deps --no-build-isolation --target TARGET SOURCE``; returns TARGET."""
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    proc = subprocess.run([*cmd, "--target", str(target), str(source)], capture_output=True, text=True)
    assert proc.returncode == 0, f"pip install {source} failed:\n{proc.stdout}\n{proc.stderr}"
    return target


def run_python(args: list[str], paths: list[Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` in a subprocess whose PYTHONPATH is ``paths``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in paths)}
    # A nested pytest reads the plugin's own pyproject, not codecbench's, so repeat codecbench's
    # "-p no:zarr" (zarr's pytest plugin fails to import next to zfpy 1.0.1.post0).
    env["PYTEST_ADDOPTS"] = (env.get("PYTEST_ADDOPTS", "") + " -p no:zarr").strip()
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def table_rows(text: str) -> dict[str, dict[str, str]]:
    """Parse a rich table (as ``list codecs`` prints it) into {first cell: {header: cell text}}.

    A cell that wraps over several lines is joined back with single spaces.
    """
    lines = [line for line in text.splitlines() if line.startswith(("┃", "│"))]
    header = [h.strip() for h in lines[0].strip("┃").split("┃")]
    rows: dict[str, dict[str, str]] = {}
    current: dict[str, list[str]] | None = None
    for line in lines[1:]:
        cells = [c.strip() for c in line.strip("│").split("│")]
        if cells[0]:
            current = {h: [] for h in header}
            rows[cells[0]] = current  # type: ignore[assignment]
        assert current is not None
        for h, c in zip(header, cells):
            if c:
                current[h].append(c)
    return {k: {h: " ".join(v) for h, v in row.items()} for k, row in rows.items()}  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pip_install(FIXTURE, tmp_path_factory.mktemp("plugin_site"))


@pytest.fixture(scope="module")
def clash_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pip_install(CLASH, tmp_path_factory.mktemp("clash_site"))


def test_list_codecs_shows_the_installed_plugins(plugin_site: Path, tmp_path: Path) -> None:
    proc = run_python(["-m", "codecbench", "list", "codecs"], [plugin_site], tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = table_rows(proc.stdout)
    good = rows["fixture-zlib"]
    assert good["package"] == "codecbench-fixture-plugin 0.3.1"
    assert (good["status"], good["lossless"], good["learned"], good["error"]) == ("ok", "yes", "no", "")
    needs = rows["fixture-needs-dep"]
    assert needs["status"] == "needs fast extra"
    assert "No module named 'cbfixture_absent_dependency'" in needs["error"]
    assert "pip install 'codecbench-fixture-plugin[fast]'" in needs["error"]
    future = rows["fixture-future"]
    assert future["status"] == "incompatible"
    assert "written for codec contract version 2" in future["error"]
    assert "implements version 1" in future["error"]
    gone = rows["fixture-gone"]
    assert gone["status"] == "broken"  # its own module is missing: the extra would not help
    assert "No module named 'cbfixture_plugin.gone'" in gone["error"]
    assert "reinstall codecbench-fixture-plugin" in gone["error"]
    assert rows["zstd"]["status"] == "ok" and rows["zstd"]["package"].startswith("codecbench ")  # others unharmed


PROBE = """
import json
from codecbench import PluginError, get_codec
from codecbench.plugins import list_codecs
from codecbench.testing import check_codec

out = {"infos": {i.codec_id: vars(i) for i in list_codecs() if i.codec_id.startswith("fixture")}}
for cid in ("fixture-needs-dep", "fixture-future"):
    try:
        get_codec(cid)
    except PluginError as exc:
        out[cid] = str(exc)
out["checks"] = {r.name: r.status for r in check_codec({"id": "fixture-zlib", "level": 9}, raise_on_failure=False)}
print(json.dumps(out))
"""


def test_registry_and_conformance_checks_see_the_plugin(plugin_site: Path, tmp_path: Path) -> None:
    proc = run_python(["-c", PROBE], [plugin_site], tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    info = out["infos"]["fixture-zlib"]
    assert info["distribution"] == "codecbench-fixture-plugin" and info["version"] == "0.3.1"
    assert info["target"] == "cbfixture_plugin.zlibcodec:FixtureZlibCodec"
    assert out["infos"]["fixture-needs-dep"]["extras"] == ["fast"]
    assert "Install what it needs: pip install 'codecbench-fixture-plugin[fast]'" in out["fixture-needs-dep"]
    assert "contract version 2" in out["fixture-future"]
    assert out["checks"] == {
        "registration": "passed",
        "config_round_trip": "passed",
        "round_trip": "passed",
        "lossless_exact": "passed",
        "determinism": "passed",
        "state": "passed",
        "corrupted_payload": "passed",
        "unsupported_input": "passed",
        "declared_bound": "skipped",
        "default_sweep": "passed",
        "knob": "skipped",  # a lossless codec: no knob
    }


def test_two_distributions_with_one_codec_id_are_named(plugin_site: Path, clash_site: Path, tmp_path: Path) -> None:
    proc = run_python(["-m", "codecbench", "list", "codecs"], [plugin_site, clash_site], tmp_path)
    assert proc.returncode == 0, proc.stderr
    row = table_rows(proc.stdout)["fixture-zlib"]
    assert row["status"] == "conflict"
    assert "codecbench-fixture-plugin 0.3.1" in row["package"] and "codecbench-fixture-clash 1.0.0" in row["package"]
    assert "registered by more than one plugin" in row["error"]
    assert "codecbench-fixture-plugin" in row["error"] and "codecbench-fixture-clash" in row["error"]
    code = "from codecbench import get_codec; get_codec('fixture-zlib')"
    direct = run_python(["-c", code], [plugin_site, clash_site], tmp_path)
    assert direct.returncode == 1
    assert "PluginError: codec id 'fixture-zlib' is registered by more than one plugin" in direct.stderr
    assert "(cbfixture_plugin.zlibcodec:FixtureZlibCodec)" in direct.stderr
    assert "(cbfixture_clash:OtherZlibCodec)" in direct.stderr


def test_codecbench_run_measures_the_plugin(plugin_site: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["-m", "codecbench", "run", "--codecs", "fixture-zlib", "--datasets", "jets-synthetic", "--out", str(out)]
    proc = run_python([*args, "--quiet"], [plugin_site], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert len(records) == 1
    rec = records[0]
    assert (rec["codec"], rec["dataset"], rec["status"], rec["error"]) == ("fixture-zlib", "jets-synthetic", "ok", None)
    assert rec["config"] == {"id": "fixture-zlib", "level": 6}
    assert rec["lossless"] is True and rec["max_abs_error"] == 0.0
    assert rec["aux_bytes"] == 0 and 1.0 < rec["ratio"] < 2.0
    assert "codecbench-fixture-plugin" in (out / "run.json").read_text()  # plugin versions in the environment


def test_example_distribution_installs_and_passes_its_own_tests(tmp_path: Path) -> None:
    site = pip_install(EXAMPLE, tmp_path / "site")
    assert (site / "codecbench_xordelta" / "codec.py").is_file()
    proc = run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")], [site], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


def test_new_plugin_creates_a_distribution_that_installs_and_passes(tmp_path: Path) -> None:
    dest = tmp_path / "delta-zip"
    result = CliRunner().invoke(app, ["new-plugin", "delta-zip", "--dest", str(dest)])
    assert result.exit_code == 0, result.output
    assert "pip install -e" in result.output
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "src/codecbench_delta_zip/__init__.py",
        "src/codecbench_delta_zip/codec.py",
        "tests/test_delta_zip.py",
    ]
    texts = {f: (dest / f).read_text() for f in files}
    assert not any("xordelta" in t.lower() for t in texts.values())
    assert 'delta-zip = "codecbench_delta_zip.codec:DeltaZipCodec"' in texts["pyproject.toml"]
    assert 'name = "codecbench-delta-zip"' in texts["pyproject.toml"]
    assert 'codec_id = "delta-zip"' in texts["src/codecbench_delta_zip/codec.py"]
    site = pip_install(dest, tmp_path / "site")
    proc = run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(dest / "tests")], [site], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new-plugin", "9lives"], "is not valid"),
        (["new-plugin", "My Codec"], "is not valid"),
        (["new-plugin", "zstd"], "already installed"),
    ],
)
def test_new_plugin_refuses_bad_names(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [*args, "--dest", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_new_plugin_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(app, ["new-plugin", "mycodec", "--dest", str(tmp_path)])
    assert result.exit_code == 1
    assert "already exists and is not empty" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]
