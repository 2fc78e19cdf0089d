"""Untrusted files: nothing codecbench reads can run code, escape its directories, or skip its checksum.

- No pickle anywhere in the package (checked on the source: imports of pickle-like modules, ``np.load``
  without ``allow_pickle=False``, ``torch.load`` without ``weights_only=True``, unsafe YAML, eval/exec).
- Pickle payloads planted where codecbench reads binary data: a learned codec's state and fitted blob,
  the runner's model cache entry, an npz/npy registered through a user registry, an npz given to
  ``codecbench.archive``. Each is refused, and the object's ``__reduce__`` (which would create a marker file)
  never runs.
- Registry file names that could escape the data path or the cache are refused.
- A file's checksum is verified before the file is parsed.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import yaml

import codecbench
from codecbench import CodecbenchError, ConfigError, DatasetError
from codecbench.plugins import get_codec_class

REPO = Path(__file__).resolve().parent.parent
PACKAGE_DIRS = [REPO / "codecbench", REPO / "plugins" / "codecbench_plugins"]


# --- the source: no pickle, no unsafe loaders ----------------------------------------------------

#: Modules whose loaders unpickle (or run) what they read.
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_const(node: ast.expr | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def unsafe_calls(source: str, filename: str = "<src>") -> list[str]:
    """Every use in ``source`` of an API that can execute what it reads, as ``file:line: what``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            found.append(f"{where}: from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and node.attr in ("unsafe_load", "full_load", "UnsafeLoader", "Loader"):
            if isinstance(node.value, ast.Name) and node.value.id == "yaml":
                found.append(f"{where}: yaml.{node.attr}")
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""
            if isinstance(f, ast.Name) and name in ("eval", "exec"):
                found.append(f"{where}: {name}()")
            elif owner in ("np", "numpy") and name == "load" and not _is_const(_kw(node, "allow_pickle"), False):
                found.append(f"{where}: np.load without allow_pickle=False")
            elif name in ("read_array", "read_pickle") or (name == "load" and owner in UNSAFE_MODULES):
                found.append(f"{where}: {owner + '.' if owner else ''}{name}()")
            elif owner == "torch" and name == "load" and not _is_const(_kw(node, "weights_only"), True):
                found.append(f"{where}: torch.load without weights_only=True")
            elif owner == "yaml" and name == "load":
                found.append(f"{where}: yaml.load (use yaml.safe_load)")
            elif _is_const(_kw(node, "allow_pickle"), True):
                found.append(f"{where}: allow_pickle=True")
    return found


def test_the_checker_finds_what_it_looks_for():
    bad = (
        "import pickle\nfrom joblib import load\nimport numpy as np, torch, yaml\n"
        "np.load(f)\nnp.load(f, allow_pickle=True)\ntorch.load(f)\ntorch.load(f, weights_only=False)\n"
        "yaml.load(s)\nyaml.unsafe_load(s)\neval('1')\npd.read_pickle(p)\n"
    )
    assert len(unsafe_calls(bad)) == 10  # every line but the third
    good = "import numpy as np, torch, yaml\nnp.load(f, allow_pickle=False)\ntorch.load(f, weights_only=True)\n"
    good += "yaml.safe_load(s)\nmodel.eval()\n"
    assert unsafe_calls(good) == []


def test_no_pickle_or_unsafe_loader_in_the_package():
    files = [p for d in PACKAGE_DIRS for p in sorted(d.rglob("*.py"))]
    assert len(files) > 20
    found = [hit for p in files for hit in unsafe_calls(p.read_text(encoding="utf-8"), str(p.relative_to(REPO)))]
    assert found == []


# --- planted pickle payloads ---------------------------------------------------------------------


class Evil:
    """Unpickling this creates ``marker`` (``open(marker, "w")``): proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "PWNED"


def pickle_payloads(marker: Path) -> dict[str, bytes]:
    """Pickle-carrying blobs in the shapes a loader might meet: raw pickle, npy/npz with object arrays,
    a ``torch.save`` file (a zip holding a pickle) when torch is installed."""
    evil = Evil(marker)
    obj = np.empty(1, dtype=object)
    obj[0] = evil
    npy, npz = io.BytesIO(), io.BytesIO()
    np.save(npy, obj, allow_pickle=True)
    np.savez(npz, data=obj)
    out = {"pickle": pickle.dumps(evil), "npy": npy.getvalue(), "npz": npz.getvalue()}
    try:
        import torch

        buf = io.BytesIO()
        torch.save({"state": evil}, buf)
        out["torch.save"] = buf.getvalue()
    except ImportError:
        pass
    # The planted payloads are live: unpickling them does create the marker.
    pickle.loads(out["pickle"])
    assert marker.exists()
    marker.unlink()
    return out


def _learned_ids() -> list[str]:
    from importlib import metadata

    out = []
    for ep in metadata.entry_points(group="codecbench.codecs"):
        if ep.dist is None or ep.dist.metadata["Name"] != "codecbench":
            continue
        try:
            if get_codec_class(ep.name).learned:
                out.append(ep.name)
        except CodecbenchError:
            continue
    return sorted(set(out))


LEARNED = _learned_ids()


@pytest.mark.parametrize("codec_id", LEARNED)
def test_learned_codec_state_refuses_planted_pickles(codec_id, marker):
    codec = codecbench.get_codec({"id": codec_id, "device": "cpu"})
    for kind, blob in pickle_payloads(marker).items():
        for load in (codec.load_state, codec.load_fitted):
            with pytest.raises(CodecbenchError):
                load(blob)
            assert not marker.exists(), f"{codec_id}.{load.__name__} ran the code in a planted {kind} payload"


def test_runner_model_cache_refuses_a_planted_pickle(tmp_path, marker, monkeypatch):
    """A model cache entry whose blob is a pickle (with a matching checksum) is refitted, never run."""
    if "ae" not in LEARNED:
        pytest.skip("needs the ae codec (extra ml)")
    from codecbench.runner import model_cache_dir

    monkeypatch.setenv("CODECBENCH_CACHE_DIR", str(tmp_path / "cache"))
    spec = {"id": "ae", "epochs": 2, "hidden": [8], "batch_size": 64, "device": "cpu"}
    sets = {"jets-synthetic": {"n_rows": 600}}
    first = codecbench.run([spec], ["jets-synthetic"], sets=sets)
    assert first.iloc[0]["status"] == "ok" and first.iloc[0]["model_cache"] == "miss"
    blobs = list(model_cache_dir().glob("*.bin"))
    assert len(blobs) == 1
    blob_path, meta_path = blobs[0], blobs[0].with_suffix(".json")
    for kind, evil in pickle_payloads(marker).items():
        blob_path.write_bytes(evil)
        meta = json.loads(meta_path.read_text())
        meta["sha256"] = hashlib.sha256(evil).hexdigest()  # the attacker fixes the checksum too
        meta_path.write_text(json.dumps(meta))
        again = codecbench.run([spec], ["jets-synthetic"], sets=sets)
        rec = again.iloc[0]
        assert rec["status"] == "ok", rec["error"]
        assert rec["model_cache"] == "miss", f"a planted {kind} cache entry was used"
        assert not marker.exists(), f"the runner ran the code in a planted {kind} model cache entry"
    assert blob_path.read_bytes()[:8] != pickle_payloads(marker)["pickle"][:8]  # refit replaced the entry


def _registry(tmp_path: Path, entries: dict) -> Path:
    reg = tmp_path / "registry.yaml"
    reg.write_text(yaml.safe_dump({"datasets": entries}))
    return reg


def _file_entry(path: Path, fmt: str) -> dict:
    entry = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "loader": {"format": fmt}}
    if fmt == "npz":
        entry["loader"]["key"] = "data"
    return entry


def test_registered_npz_and_npy_with_pickles_are_refused(tmp_path, marker, monkeypatch):
    payloads = pickle_payloads(marker)
    (tmp_path / "evil.npz").write_bytes(payloads["npz"])
    (tmp_path / "evil.npy").write_bytes(payloads["npy"])
    reg = _registry(
        tmp_path,
        {"evil-npz": _file_entry(tmp_path / "evil.npz", "npz"), "evil-npy": _file_entry(tmp_path / "evil.npy", "npy")},
    )
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path))
    from codecbench.data.load import load_dataset

    for name in ("evil-npz", "evil-npy"):
        with pytest.raises(DatasetError, match="pickle"):
            load_dataset(name, registry=reg)  # the registry argument
        assert not marker.exists()
    monkeypatch.setenv("CODECBENCH_REGISTRY", str(reg))  # the environment variable, through the runner
    df = codecbench.run(["zstd"], ["evil-npz", "evil-npy"])
    assert list(df["status"]) == ["failed", "failed"]
    assert all("pickle" in e for e in df["error"]) and set(df["stage"]) == {"load dataset"}
    assert not marker.exists()


def test_io_read_input_refuses_pickled_npz(tmp_path, marker):
    from codecbench.archive import read_input

    payloads = pickle_payloads(marker)
    for suffix in ("npz", "npy"):
        path = tmp_path / f"evil.{suffix}"
        path.write_bytes(payloads[suffix])
        with pytest.raises(CodecbenchError, match="pickle"):
            read_input(path)
        assert not marker.exists()


# --- paths and checksums -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename",
    ["../evil.npz", "sub/../../evil.npz", "/etc/passwd", "~/evil.npz", "C:\\evil.npz", "..\\..\\evil.npz"],
)
def test_registry_file_names_cannot_escape(tmp_path, filename):
    entry = {"file": filename, "sha256": "0" * 64, "loader": {"format": "npz", "key": "data"}}
    reg = _registry(tmp_path, {"escape": entry})
    from codecbench.data.registry import get_registry

    with pytest.raises(ConfigError, match=r"registry\.yaml: entry 'escape', field 'file': .*without '\.\.'"):
        get_registry(reg)


def test_registry_file_in_a_subdirectory_is_allowed(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "ok.npz"
    np.savez(path, data=np.ones((3, 2), np.float32))
    entry = _file_entry(path, "npz") | {"file": "sub/ok.npz"}
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path))
    from codecbench.data.load import load_dataset

    assert load_dataset("ok", registry=_registry(tmp_path, {"ok": entry})).data.shape == (3, 2)


def test_checksum_is_verified_before_the_file_is_parsed(tmp_path, marker, monkeypatch):
    import codecbench.data.load as ds

    (tmp_path / "evil.npz").write_bytes(pickle_payloads(marker)["npz"])
    entry = _file_entry(tmp_path / "evil.npz", "npz") | {"sha256": "1" * 64}
    reg = _registry(tmp_path, {"bad-sum": entry})
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path))
    parsed: list[Path] = []
    real = ds.LOADERS["npz"]
    monkeypatch.setitem(ds.LOADERS, "npz", lambda path, opts: parsed.append(path) or real(path, opts))
    real_np_load = np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: parsed.append(a[0]) or real_np_load(*a, **k))
    with pytest.raises(DatasetError, match="checksum mismatch"):
        ds.load_dataset("bad-sum", registry=reg)
    assert parsed == [] and not marker.exists()


def test_model_cache_checksum_is_verified_before_load_fitted(tmp_path, monkeypatch):
    """A cache blob whose sha256 differs from its metadata never reaches the codec's load_fitted."""
    from codecbench.dataset import Dataset
    from codecbench.runner import fit_cached as _fit
    from codecbench.runner import model_cache_dir

    if "ae" not in LEARNED:
        pytest.skip("needs the ae codec (extra ml)")
    monkeypatch.setenv("CODECBENCH_CACHE_DIR", str(tmp_path / "cache"))
    train = Dataset("t", np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32), columns=list("abcd"))
    config = {"id": "ae", "epochs": 1, "hidden": [8], "batch_size": 64, "device": "cpu"}
    codec = codecbench.get_codec(config)
    assert _fit(codec, codec.get_config(), train, refit=False)[1] == "miss"
    blob_path = next(model_cache_dir().glob("*.bin"))
    damaged = bytearray(blob_path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    blob_path.write_bytes(bytes(damaged))  # damaged, checksum left as it was
    calls: list[int] = []
    fresh = codecbench.get_codec(config)
    monkeypatch.setattr(fresh, "load_fitted", lambda blob: calls.append(len(blob)))
    assert _fit(fresh, fresh.get_config(), train, refit=False)[1] == "miss"
    assert calls == []
