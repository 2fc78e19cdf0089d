"""Downloads: a local HTTP server on 127.0.0.1 serves the files; download, verify, refuse, interrupt."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from codecbench.codec import DatasetError
from codecbench.data.download import download_file
from codecbench.data.files import find_file
from codecbench.data.load import load_dataset

ARRAY = np.arange(60_000, dtype=np.float32).reshape(-1, 3) / 7
BUF = io.BytesIO()
np.save(BUF, ARRAY)
GOOD = BUF.getvalue()
SHA = hashlib.sha256(GOOD).hexdigest()
MD5 = hashlib.md5(GOOD).hexdigest()


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        path = self.path.split("?")[0]
        _Handler.hits[path] = _Handler.hits.get(path, 0) + 1
        if path in ("/good.npy", "/other/good.npy"):
            body = GOOD
        elif path == "/bad.npy":
            body = GOOD[:-8] + b"XXXXXXXX"
        elif path == "/cut.npy":  # announces the full length, sends half, hangs up
            self.send_response(200)
            self.send_header("Content-Length", str(len(GOOD)))
            self.end_headers()
            self.wfile.write(GOOD[: len(GOOD) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        else:
            self.send_error(404, "not here")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def online(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Downloads allowed, an empty data path and a fresh cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("CODECBENCH_OFFLINE", "0")
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("CODECBENCH_CACHE_DIR", str(cache))
    return cache


def _leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_download_verify_then_reuse_from_cache(server: str, online: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _Handler.hits.clear()
    path = find_file("good.npy", SHA, f"{server}/good.npy?download=1")
    # the digest computed while downloading is remembered: the file is not hashed a second time
    monkeypatch.setattr(hashlib, "new", lambda *a, **k: (_ for _ in ()).throw(AssertionError("re-hashed")))
    assert path == online / "good.npy"
    assert path.read_bytes() == GOOD
    assert _leftovers(online) == ["good.npy"]
    assert find_file("good.npy", SHA, f"{server}/good.npy") == path  # from the cache, no second request
    assert _Handler.hits == {"/good.npy": 1}


def test_md5_only_entries_are_verified(server: str, online: Path) -> None:
    path = find_file("good.npy", None, f"{server}/other/good.npy", md5=MD5)
    assert hashlib.md5(path.read_bytes()).hexdigest() == MD5
    path.unlink()
    with pytest.raises(DatasetError, match=r"expected md5 0{32}, got " + MD5):
        find_file("good.npy", None, f"{server}/other/good.npy", md5="0" * 32)
    assert _leftovers(online) == []


def test_bad_checksum_download_is_refused_and_deleted(server: str, online: Path) -> None:
    with pytest.raises(DatasetError) as exc:
        find_file("bad.npy", SHA, f"{server}/bad.npy")
    msg = str(exc.value)
    assert f"expected sha256 {SHA}" in msg and "refused" in msg
    assert _leftovers(online) == []


def test_interrupted_download_leaves_no_half_file(server: str, online: Path) -> None:
    with pytest.raises(DatasetError, match=r"interrupted.*no partial file"):
        download_file(f"{server}/cut.npy", online / "cut.npy", sha256=SHA, progress=False)
    assert _leftovers(online) == []


def test_http_error_and_unreachable_server_say_what_to_do(server: str, online: Path) -> None:
    with pytest.raises(DatasetError, match=r"HTTP 404.*download .*/gone.npy by hand and put it at"):
        find_file("gone.npy", SHA, f"{server}/gone.npy")
    with pytest.raises(DatasetError, match=r"cannot download http://127.0.0.1:9/x.npy .*offline\?"):
        download_file("http://127.0.0.1:9/x.npy", online / "x.npy", sha256=SHA, progress=False, timeout=5)
    assert _leftovers(online) == []


def test_offline_error_names_url_and_where_to_put_it(
    server: str, online: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODECBENCH_OFFLINE", "1")
    with pytest.raises(DatasetError) as exc:
        find_file("good.npy", SHA, f"{server}/good.npy")
    msg = str(exc.value)
    assert f"download it from {server}/good.npy" in msg and SHA in msg
    assert str(online) in msg and "CODECBENCH_OFFLINE" in msg


def test_registered_url_entry_loads_through_download(server: str, online: Path, tmp_path: Path) -> None:
    reg = tmp_path / "reg.yaml"
    entry = {"file": "good.npy", "sha256": SHA, "url": f"{server}/good.npy", "loader": {"format": "npy"}}
    reg.write_text(yaml.safe_dump({"datasets": {"remote-npy": entry}}))
    ds = load_dataset("remote-npy", registry=reg)
    np.testing.assert_array_equal(ds.data, ARRAY)
    assert ds.meta["sha256"] == SHA and ds.meta["url"] == f"{server}/good.npy"

    from typer.testing import CliRunner

    from codecbench.cli import app

    (online / "good.npy").unlink()
    res = CliRunner().invoke(app, ["datasets", "fetch", "remote-npy", "--registry", str(reg)])
    assert res.exit_code == 0, res.output
    assert "ok remote-npy" in res.output and (online / "good.npy").read_bytes() == GOOD
