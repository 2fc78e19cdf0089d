"""Hostile or mistaken registry and run-config files: one line, before any work, memory bounded.

Issue 19 items 9 (YAML bombs) and 10 (fields and dataset parameters of the wrong type, derive
cycles), issue 19 item 8's registry half (only http(s) URLs), issue 13 item 7's unknown loader options.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from memlimit import cli_limited, one_line_error
from typer.testing import CliRunner

from codecbench.cli import app
from codecbench.data.registry import read_registry_file
from codecbench.errors import ConfigError

MAX_NODES = 200_000  # codecbench.data.yamlsafe.MAX_NODES (checked below)

SHA = "0" * 64


def _bomb(levels: int = 9) -> str:
    """Billion laughs: 9 levels of 9 aliases each expand to 9^9 (387 million) strings from under 700 bytes."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines)


def _registry_bomb(path: Path) -> Path:
    body = "\n".join("      " + line for line in _bomb().splitlines())
    path.write_text(f"datasets:\n  mine:\n    generator: jets\n    units:\n{body}\n")
    return path


def _cli(args: list[str]) -> tuple[int, str]:
    res = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
    return res.exit_code, res.stderr


def test_a_yaml_bomb_in_a_registry_is_refused_in_one_line_with_memory_bounded(tmp_path: Path) -> None:
    reg = _registry_bomb(tmp_path / "bomb.yaml")
    assert len(reg.read_bytes()) < 800
    res = cli_limited(["datasets", "info", "mine", "--json", "--registry", str(reg)], limit_mb=1024, timeout=60)
    assert res.returncode == 1, res.stderr[-2000:]
    line = one_line_error(res.stderr)
    assert "bomb.yaml" in line and f"more than {MAX_NODES:,} values" in line


def test_a_yaml_bomb_in_a_run_config_is_refused(tmp_path: Path) -> None:
    """The bomb sits where validation reads it (a codec parameter, whose error message shows the value)."""
    levels = ['&a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"&a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    grid = tmp_path / "grid.yaml"
    grid.write_text(f"datasets: [jets-synthetic]\ncodecs:\n  - id: zstd\n    level: [{', '.join(levels)}]\n")
    res = cli_limited(["run", "--config", str(grid), "--out", str(tmp_path / "out")], limit_mb=1024, timeout=60)
    assert res.returncode == 1, res.stderr[-2000:]
    assert "grid.yaml: the YAML expands to more than" in one_line_error(res.stderr)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "text, message",
    [
        ("a: &a [*a]", "recursive alias"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply to parse"),
        ("[" * 80 + "]" * 80, "nested more than 64 levels"),
        ("size: " + "9" * 5000, "a value cannot be read"),
    ],
    ids=["recursive", "deep", "nested", "huge-int"],
)
def test_other_hostile_yaml_is_one_line(text: str, message: str) -> None:
    from codecbench.data import yamlsafe
    from codecbench.data.yamlsafe import load_yaml

    assert yamlsafe.MAX_NODES == MAX_NODES
    with pytest.raises(ConfigError, match=message):
        load_yaml(text, "x.yaml")


def test_anchors_within_bounds_still_work() -> None:
    """The packaged datasets.yaml shares its Pythia units through an anchor: that keeps working."""
    from codecbench.data.yamlsafe import load_yaml

    doc = load_yaml("base: &u {pt: GeV}\nother: *u\n", "ok.yaml")
    assert doc == {"base": {"pt": "GeV"}, "other": {"pt": "GeV"}}
    from codecbench.data.registry import get_registry

    reg = get_registry()
    assert reg["pythia-ttbar-jets"]["units"]["pt"] == "GeV"


def _entry(**over: object) -> dict:
    e = {"kind": "table", "file": "x.npy", "sha256": SHA, "loader": {"format": "npy"}}
    e.update(over)
    return e


def _write(tmp_path: Path, entries: dict) -> Path:
    import yaml

    p = tmp_path / "reg.yaml"
    p.write_text(yaml.safe_dump({"datasets": entries}))
    return p


WRONG_TYPES = {
    "size_bytes 10**400": ({"mine": _entry(size_bytes=10**400)}, r"field 'size_bytes': must be an integer from 0"),
    "loader.format a list": ({"mine": _entry(loader={"format": ["npz"]})}, r"field 'loader': format \['npz'\] unknown"),
    "derive.from a list": (
        {"mine": {"derive": {"from": ["hzz-jets"], "transform": "ptetaphim"}}},
        r"field 'derive': 'from' must name one entry",
    ),
    "derive.transform a list": (
        {"mine": {"derive": {"from": "hzz-jets", "transform": ["ptetaphim"]}}},
        r"field 'derive': transform \['ptetaphim'\] unknown",
    ),
    "branches: 5": (
        {"mine": _entry(file="x.root", loader={"format": "root", "tree": "t", "branches": 5})},
        r"option 'branches' of the root loader must be a name or a non-empty list of names",
    ),
    "misspelt loader option": (
        {"mine": _entry(file="x.npz", loader={"format": "npz", "key": "data", "colums": ["a"]})},
        r"the npz loader has no option 'colums' \(did you mean 'columns'\?\); its options: columns, columns_key",
    ),
    "unknown loader option": (
        {"mine": _entry(loader={"format": "npy", "key": "data"})},
        r"the npy loader has no option 'key'; its options: columns",
    ),
    "file:// url": ({"mine": _entry(url="file:///dev/zero")}, r"field 'url': must be an http:// or https:// address"),
    "data: url": ({"mine": _entry(url="data:,hello")}, r"field 'url': must be an http:// or https:// address"),
    "derive cycle": (
        {
            "a": {"derive": {"from": "b", "transform": "ptetaphim"}},
            "b": {"derive": {"from": "a", "transform": "ptetaphim"}},
        },
        r"entry 'a', field 'derive': the derivations form a cycle \(a -> b -> a\)",
    ),
    "derives from itself": (
        {"a": {"derive": {"from": "a", "transform": "ptetaphim"}}},
        r"the derivations form a cycle \(a -> a\)",
    ),
}


@pytest.mark.parametrize("case", list(WRONG_TYPES))
def test_registry_fields_of_the_wrong_type_are_one_line(case: str, tmp_path: Path) -> None:
    entries, pattern = WRONG_TYPES[case]
    reg = _write(tmp_path, entries)
    code, err = _cli(["list", "datasets", "--registry", str(reg)])
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    import re

    assert re.search(pattern, lines[0]), lines[0]


def _npy_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **entry: object) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    arr = np.arange(40, dtype=np.float32).reshape(10, 4)
    np.save(data / "t.npy", arr)
    sha = hashlib.sha256((data / "t.npy").read_bytes()).hexdigest()
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(data))
    reg = _write(tmp_path, {"mine": {**_entry(file="t.npy", sha256=sha), **entry}})
    monkeypatch.setenv("CODECBENCH_REGISTRY", str(reg))
    return reg


@pytest.mark.parametrize(
    "setting, pattern",
    [
        ("mine.n_rows=abc", r"dataset 'mine', parameter 'n_rows': expected an integer of at least 1 \(default None\)"),
        ("mine.n_rows=2.9", r"parameter 'n_rows': expected an integer of at least 1 \(default None\), not 2\.9"),
        ("mine.n_rows=0", r"parameter 'n_rows': expected an integer of at least 1"),
        ("mine.n_rowz=3", r"dataset 'mine' has no parameter 'n_rowz'; its parameters \(with defaults\): n_rows=None"),
    ],
)
def test_dataset_parameters_fail_up_front(
    setting: str, pattern: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _npy_dataset(tmp_path, monkeypatch)
    out = tmp_path / "out"
    code, err = _cli(["run", "--codecs", "zstd", "--datasets", "mine", "--set", setting, "--out", str(out)])
    assert code == 1, err
    import re

    assert re.search(pattern, err) and len(err.strip().splitlines()) == 1, err
    assert not (out / "records.jsonl").exists()  # refused before the first task, not task by task


def test_n_rows_as_an_integer_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codecbench.data.load import load_dataset

    _npy_dataset(tmp_path, monkeypatch)
    assert load_dataset("mine", n_rows=3).data.shape == (3, 4)


def test_unknown_generator_parameters_and_generators_fail_up_front(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = _write(tmp_path, {"mine": {"generator": "jets", "params": {"n_rowz": 5}}})
    monkeypatch.setenv("CODECBENCH_REGISTRY", str(reg))
    code, err = _cli(["run", "--codecs", "zstd", "--datasets", "mine", "--out", str(tmp_path / "out")])
    assert code == 1 and not (tmp_path / "out" / "records.jsonl").exists()
    assert "entry 'mine', field 'params': generator 'jets' has no parameter 'n_rowz'; its parameters:" in err
    reg = _write(tmp_path, {"mine": {"generator": "jetz"}})
    with pytest.raises(ConfigError, match=r"field 'generator': unknown generator 'jetz' \(known: cfd, jets, pythia\)"):
        from codecbench.data.load import load_dataset

        load_dataset("mine", registry=reg)


def test_a_registry_file_that_is_not_text_is_one_line(tmp_path: Path) -> None:
    reg = tmp_path / "reg.yaml"
    reg.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not a text file"):
        read_registry_file(reg)
