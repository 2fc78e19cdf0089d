"""Downloads that an attacker (or a broken server) controls (issue 19 item 8).

Only http(s) URLs; a body that exceeds the entry's ``size_bytes`` (or the documented cap) is cut off
and refused even when the server sends no Content-Length; the ``.part`` file is removed on any exit,
SIGTERM included. Servers run on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codecbench.data.download import download_file
from codecbench.errors import DatasetError

SHA = "0" * 64


class _Endless(http.server.BaseHTTPRequestHandler):
    """/endless: no Content-Length, zeros until the client hangs up; /liar: announces 10 bytes more than
    the entry allows; /slow: a byte every 50 ms, forever."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.send_response(200)
        if self.path == "/liar":
            self.send_header("Content-Length", str(10**12))
        self.end_headers()
        block = b"\x00" * 65536
        try:
            while True:
                if self.path == "/slow":
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.05)
                else:
                    self.wfile.write(block)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _left(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


@pytest.mark.parametrize("url", ["file:///dev/zero", "file:///etc/passwd", "data:,hello", "ftp://127.0.0.1/x"])
def test_only_http_urls_are_fetched(url: str, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"only http:// and https:// URLs are fetched"):
        download_file(url, tmp_path / "x.bin", sha256=SHA, progress=False)
    assert _left(tmp_path) == []


def test_a_body_without_length_stops_at_size_bytes(server: str, tmp_path: Path) -> None:
    t0 = time.perf_counter()
    with pytest.raises(DatasetError, match=r"sends more than 100000 bytes.*no partial file"):
        download_file(f"{server}/endless", tmp_path / "x.bin", sha256=SHA, size_bytes=100_000, progress=False)
    assert time.perf_counter() - t0 < 10 and _left(tmp_path) == []


def test_without_size_bytes_the_documented_cap_applies(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codecbench.data.download import MAX_DOWNLOAD_BYTES

    assert MAX_DOWNLOAD_BYTES == 64 * 2**30  # what the README states
    monkeypatch.setenv("CODECBENCH_MAX_DOWNLOAD_BYTES", "300000")
    with pytest.raises(DatasetError, match=r"sends more than 300000 bytes"):
        download_file(f"{server}/endless", tmp_path / "x.bin", sha256=SHA, progress=False)
    assert _left(tmp_path) == []


def test_an_announced_length_over_size_bytes_is_refused_before_reading(server: str, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"announces 1000000000000 bytes, the registry 1000"):
        download_file(f"{server}/liar", tmp_path / "x.bin", sha256=SHA, size_bytes=1000, progress=False)
    assert _left(tmp_path) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_removes_the_partial_file(sig: int, server: str, tmp_path: Path) -> None:
    code = (
        "from codecbench.data.download import download_file\n"
        f"download_file({server + '/slow'!r}, {str(tmp_path / 'x.bin')!r}, sha256={SHA!r}, progress=False)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not any(n.endswith(".part") for n in _left(tmp_path)):
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -sig  # still ends as killed by the signal
    assert _left(tmp_path) == []


def test_a_part_file_left_by_a_killed_process_is_removed_next_time(server: str, tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".x.bin.{int(dead.stdout)}.abcd1234.part"
    stale.write_bytes(b"\x00" * 1000)
    mine = tmp_path / f".x.bin.{os.getpid()}.ffff0000.part"  # this process is alive: kept
    mine.write_bytes(b"")
    with pytest.raises(DatasetError):
        download_file(f"{server}/endless", tmp_path / "x.bin", sha256=SHA, size_bytes=10, progress=False)
    assert _left(tmp_path) == [mine.name]
