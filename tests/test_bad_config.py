"""Bad configuration: each mistake is one line on stderr naming the file, the entry and the field; exit 1.

Covers a malformed user dataset registry (``--registry`` or ``$CODECBENCH_REGISTRY``), a run config
(``--config``), and the command line's codecs and parameters: unknown names, wrong types, bad YAML.
Most cases run the CLI in-process (typer's runner); a few run ``python -m codecbench`` in a subprocess
to show the real exit status and that no traceback is printed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codecbench.cli import app

ROWS = ["--set", "jets-synthetic.n_rows=500"]

#: name -> (file name, file text or None, command line with {file}/{out}, regex the one stderr line matches)
CASES: dict[str, tuple[str | None, str | None, list[str], str]] = {
    # --- user dataset registry ----------------------------------------------------------------------
    "registry: bad YAML": (
        "reg.yaml",
        "datasets:\n  a: [1, 2\n",
        ["list", "datasets", "--registry", "{file}"],
        r"reg\.yaml: not valid YAML: .*\(line 3, column 1\)",
    ),
    "registry: not a mapping": (
        "reg.yaml",
        "- a\n- b\n",
        ["list", "datasets", "--registry", "{file}"],
        r"reg\.yaml: a dataset registry is a mapping with a 'datasets:' mapping",
    ),
    "registry: unknown field": (
        "reg.yaml",
        "datasets:\n  mine:\n    file: x.npz\n    sha265: abc\n",
        ["list", "datasets", "--registry", "{file}"],
        r"reg\.yaml: entry 'mine', field 'sha265': unknown field \(did you mean 'sha256'\?\)",
    ),
    "registry: wrong type": (
        "reg.yaml",
        "datasets:\n  mine:\n    generator: jets\n    kind: 3\n",
        ["list", "datasets", "--registry", "{file}"],
        r"reg\.yaml: entry 'mine', field 'kind': must be 'table' or 'field', not 3",
    ),
    "registry: bad checksum text": (
        "reg.yaml",
        "datasets:\n  mine:\n    file: x.npz\n    sha256: abc\n    loader: {format: npz, key: data}\n",
        ["list", "datasets", "--registry", "{file}"],
        r"reg\.yaml: entry 'mine', field 'sha256': must be 64 hexadecimal digits",
    ),
    "registry: unknown loader": (
        "reg.yaml",
        f"datasets:\n  mine:\n    file: x.npz\n    sha256: '{'0' * 64}'\n    loader: {{format: parquet}}\n",
        ["datasets", "info", "mine", "--registry", "{file}"],
        r"reg\.yaml: entry 'mine', field 'loader': format 'parquet' unknown",
    ),
    "registry: derive from unknown": (
        "reg.yaml",
        "datasets:\n  mine:\n    derive: {from: nothere, transform: ptetaphim}\n",
        ["list", "datasets", "--registry", "{file}"],
        r"reg\.yaml: entry 'mine', field 'derive': derives from unknown entry 'nothere'",
    ),
    "registry: missing file": (
        None,
        None,
        ["list", "datasets", "--registry", "{dir}/nope.yaml"],
        r"cannot read dataset registry .*nope\.yaml",
    ),
    # --- run config ---------------------------------------------------------------------------------
    "config: bad YAML": (
        "grid.yaml",
        "codecs: [zstd\n",
        ["run", "--config", "{file}", "--out", "{out}"],
        r"run config .*grid\.yaml: not valid YAML at line 2, column 1: expected ',' or ']'",
    ),
    "config: unknown key": (
        "grid.yaml",
        "codecs: [zstd]\nrepeat: 3\n",
        ["run", "--config", "{file}", "--out", "{out}"],
        r"run config .*grid\.yaml: unknown key 'repeat'; allowed keys: ",
    ),
    "config: unknown codec": (
        "grid.yaml",
        "datasets: [jets-synthetic]\ncodecs: [raw, zstdd]\n",
        ["run", "--config", "{file}", "--out", "{out}"],
        r"run config .*grid\.yaml: codecs\[1\] \(zstdd\): no codec named 'zstdd' is installed; did you mean 'zstd'",
    ),
    "config: unknown parameter": (
        "grid.yaml",
        "datasets: [jets-synthetic]\ncodecs:\n  - raw\n  - {id: zstd, levle: 3}\n",
        ["run", "--config", "{file}", "--out", "{out}"],
        r"run config .*grid\.yaml: codecs\[1\] \(zstd\), field 'levle': codec 'zstd' has no parameter 'levle'",
    ),
    "config: wrong parameter type": (
        "grid.yaml",
        "datasets: [jets-synthetic]\ncodecs:\n  - {id: zstd, level: high}\n",
        ["run", "--config", "{file}", "--out", "{out}"],
        r"run config .*grid\.yaml: codecs\[0\] \(zstd\), field 'level': zstd level must be an integer",
    ),
    "config: sweep not a mapping": (
        "grid.yaml",
        "datasets: [jets-synthetic]\ncodecs:\n  - {id: trunc, sweep: [1, 2]}\n",
        ["run", "--config", "{file}", "--out", "{out}"],
        r"run config .*grid\.yaml: codecs\[0\] \(trunc\), field 'sweep': must be a mapping",
    ),
    "config: wrong sweep value": (
        "grid.yaml",
        "datasets: [jets-synthetic]\ncodecs:\n  - {id: trunc, sweep: {bits: [4, x]}}\n",
        ["run", "--config", "{file}", "--out", "{out}"],
        r"run config .*grid\.yaml: codecs\[0\] \(trunc\), field 'sweep\.bits': trunc bits must be",
    ),
    "config: unknown dataset": (
        "grid.yaml",
        "datasets: [jets-synthetic, jets-synthetc]\ncodecs: [zstd]\n",
        ["run", "--config", "{file}", "--out", "{out}"],
        r"run config .*grid\.yaml: datasets\[1\]: unknown dataset 'jets-synthetc'",
    ),
    "config: wrong setting type": (
        "grid.yaml",
        "datasets: [jets-synthetic]\ncodecs: [zstd]\nseed: abc\n",
        ["run", "--config", "{file}", "--out", "{out}"],
        r"run config .*grid\.yaml: field 'seed' must be an integer, not 'abc'",
    ),
    "config: test fraction out of range": (
        "grid.yaml",
        "datasets: [jets-synthetic]\ncodecs: [zstd]\ntest_fraction: 2\n",
        ["run", "--config", "{file}", "--out", "{out}"],
        r"run config .*grid\.yaml: field 'test_fraction' must be a number between 0 and 1, not 2",
    ),
    "config: unknown dataset parameter": (
        "grid.yaml",
        "datasets: [jets-synthetic]\ncodecs: [zstd]\ndataset_params: {jets-synthetic: {n_rowz: 3}}\n",
        ["run", "--config", "{file}", "--out", "{out}"],
        r"run config .*grid\.yaml: dataset_params\['jets-synthetic'\]: dataset 'jets-synthetic' has no parameter "
        r"'n_rowz'; its parameters \(with defaults\): n_rows=",
    ),
    "config: dataset_params not a mapping": (
        "grid.yaml",
        "datasets: [jets-synthetic]\ncodecs: [zstd]\ndataset_params: [1]\n",
        ["run", "--config", "{file}", "--out", "{out}"],
        r"run config .*grid\.yaml: field 'dataset_params' must be a mapping",
    ),
    "config: empty file": (
        "grid.yaml",
        "",
        ["run", "--config", "{file}", "--out", "{out}"],
        r"run config .*grid\.yaml: expected a mapping with 'codecs' and 'datasets'",
    ),
    # --- command line -------------------------------------------------------------------------------
    "cli: unknown codec": (
        None,
        None,
        ["run", "--codecs", "zstdd", "--datasets", "jets-synthetic", "--out", "{out}"],
        r"no codec named 'zstdd' is installed; did you mean 'zstd'\?",
    ),
    "cli: unknown parameter": (
        None,
        None,
        ["run", "--codecs", "zstd", "--set", "zstd.levle=3", "--datasets", "jets-synthetic", "--out", "{out}"],
        r"codec 'zstd' has no parameter 'levle'; its parameters are: level",
    ),
    "cli: wrong parameter type": (
        None,
        None,
        ["run", "--codecs", "zstd", "--set", "zstd.level=high", "--datasets", "jets-synthetic", "--out", "{out}"],
        r"zstd level must be an integer from -7 to 22, not 'high'",
    ),
    "cli: malformed --set": (
        None,
        None,
        ["run", "--codecs", "zstd", "--set", "zstd", "--out", "{out}"],
        r"--set 'zstd': expected NAME\.PARAM=VALUE",
    ),
    "cli: unknown dataset parameter": (
        None,
        None,
        ["run", "--codecs", "zstd", "--datasets", "jets-synthetic", "--set", "jets-synthetic.n_rowz=3",
         "--out", "{out}"],
        r"dataset 'jets-synthetic' has no parameter 'n_rowz'",
    ),
    "cli: wrong dataset parameter type": (
        None,
        None,
        ["run", "--codecs", "zstd", "--datasets", "jets-synthetic", "--set", "jets-synthetic.n_rows=abc",
         "--out", "{out}"],
        r"dataset 'jets-synthetic', parameter 'n_rows': expected an integer \(default 100000\), not 'abc'",
    ),
}  # fmt: skip


def _args(case: str, tmp_path: Path) -> list[str]:
    name, text, argv, _ = CASES[case]
    file = tmp_path / name if name else None
    if file is not None:
        file.write_text(text or "")
    subs = {"{file}": str(file), "{out}": str(tmp_path / "out"), "{dir}": str(tmp_path)}
    out = []
    for a in argv:
        for k, v in subs.items():
            a = a.replace(k, v)
        out.append(a)
    return out


def _one_error_line(stderr: str, pattern: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert "Traceback" not in stderr
    assert lines[0].startswith("error: "), lines[0]
    import re

    assert re.search(pattern, lines[0]), f"{lines[0]!r} does not match {pattern!r}"
    return lines[0]


@pytest.mark.parametrize("case", list(CASES))
def test_bad_configuration_is_one_line_naming_file_entry_field(case, tmp_path):
    res = CliRunner().invoke(app, _args(case, tmp_path), env={"COLUMNS": "400"})
    assert res.exit_code == 1, (res.exit_code, res.stdout, res.stderr, res.exception)
    _one_error_line(res.stderr, CASES[case][3])
    assert not (tmp_path / "out" / "records.jsonl").exists(), "nothing may run before the configuration is checked"


@pytest.mark.parametrize(
    "case", ["registry: unknown field", "config: unknown parameter", "cli: wrong parameter type", "config: bad YAML"]
)
def test_cli_subprocess_exit_status_and_no_traceback(case, tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "codecbench", *_args(case, tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 1
    _one_error_line(res.stderr, CASES[case][3])


def test_user_registry_from_the_environment_is_checked_before_a_run(tmp_path, monkeypatch):
    reg = tmp_path / "reg.yaml"
    reg.write_text("datasets:\n  mine:\n    generator: jets\n    dtype: int32\n")
    monkeypatch.setenv("CODECBENCH_REGISTRY", str(reg))
    res = CliRunner().invoke(app, ["run", "--codecs", "zstd", "--out", str(tmp_path / "out")])
    assert res.exit_code == 1
    _one_error_line(res.stderr, r"reg\.yaml: entry 'mine', field 'dtype': must be a float dtype")


def test_the_python_api_raises_the_same_errors(tmp_path):
    import codecbench
    from codecbench import ConfigError

    grid = tmp_path / "grid.yaml"
    grid.write_text("datasets: [jets-synthetic]\ncodecs:\n  - {id: zstd, level: high}\n")
    with pytest.raises(ConfigError, match=r"codecs\[0\] \(zstd\), field 'level'"):
        codecbench.run(config=grid)
    with pytest.raises(ConfigError, match="parameter 'n_rows': expected an integer"):
        codecbench.run(["zstd"], ["jets-synthetic"], sets={"jets-synthetic": {"n_rows": "many"}})
