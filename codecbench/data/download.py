"""Download a dataset file into the cache: streamed, checksummed, bounded, written atomically.

Only ``http://`` and ``https://`` URLs are fetched (``file://``, ``data:``, ``ftp://`` are refused
before anything is opened). The file is streamed into a temporary ``.part`` file next to its target
while its sha256 (and md5 where that is what the registry publishes) is computed, and the stream
stops, refused, as soon as it exceeds the entry's ``size_bytes`` (or, for an entry without one,
its ``Content-Length``, else ``MAX_DOWNLOAD_BYTES`` or ``$CODECBENCH_MAX_DOWNLOAD_BYTES``): a server
that sends no length cannot fill the disk. Only when the whole body has arrived and the checksum
matches is the temporary file renamed onto the target. The ``.part`` file is removed on every exit:
an error, Ctrl-C, and SIGTERM or SIGHUP (turned into an exception while a download runs in the main
thread); a process killed with SIGKILL leaves it, and the next download of that file removes parts
whose process is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import signal
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from codecbench.errors import DatasetError

#: Size of the blocks read from the network.
CHUNK = 1 << 16
USER_AGENT = "codecbench-datasets (+https://pypi.org/project/codecbench)"
#: Most bytes downloaded for an entry that declares no ``size_bytes`` (override: $CODECBENCH_MAX_DOWNLOAD_BYTES).
MAX_DOWNLOAD_BYTES = 64 * 2**30
ENV_MAX_DOWNLOAD = "CODECBENCH_MAX_DOWNLOAD_BYTES"
SCHEMES = ("http", "https")


def check_url(url: str) -> None:
    """Refuse anything but an ``http(s)://`` URL with a host (one line naming it)."""
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in SCHEMES or not parts.netloc:
        shown = url if isinstance(url, str) and len(url) < 200 else f"{str(url)[:200]}..."
        raise DatasetError(f"refusing to download {shown!r}: only http:// and https:// URLs are fetched")


def download_limit(size_bytes: int | None) -> int:
    """The most bytes a download may bring: ``size_bytes`` when the entry gives it, else the cap."""
    if size_bytes is not None:
        return int(size_bytes)
    env = os.environ.get(ENV_MAX_DOWNLOAD, "").strip()
    return int(env) if env.isdigit() else MAX_DOWNLOAD_BYTES


class _Terminated(BaseException):
    """Raised in the main thread by SIGTERM/SIGHUP during a download, so that cleanup runs."""


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """While a download runs in the main thread, SIGTERM and SIGHUP raise instead of killing the process
    outright (their default), so the partial file is removed; handlers someone else installed are kept."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, object] = {}

    def raise_(signum: int, frame: object) -> None:
        raise _Terminated(signum)

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None and signal.getsignal(sig) == signal.SIG_DFL:
            previous[sig] = signal.signal(sig, raise_)
    try:
        yield
    except _Terminated as exc:  # die of the signal as before, the partial file gone
        for sig, old in previous.items():
            signal.signal(sig, old)  # type: ignore[arg-type]
        previous.clear()
        os.kill(os.getpid(), exc.args[0])
        raise SystemExit(128 + exc.args[0]) from None
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)  # type: ignore[arg-type]


def _remove_stale_parts(target: Path) -> None:
    """Remove ``.part`` files of ``target`` left by processes that no longer run (killed with SIGKILL)."""
    for part in target.parent.glob(f".{target.name}.*.part"):
        pid = part.name[len(target.name) + 2 :].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            part.unlink(missing_ok=True)
        except OSError:  # alive, another user's: leave it
            pass


def _progress(total: int | None, label: str, enabled: bool):  # type: ignore[no-untyped-def]
    """A rich progress bar on stderr (a no-op object when disabled)."""
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    return progress


def download_file(
    url: str,
    target: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    md5: str | None = None,
    size_bytes: int | None = None,
    progress: bool | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``target`` and verify it; return the target path.

    Raises ``DatasetError`` (and leaves no file behind) when the server cannot be reached, the
    transfer stops early, or the checksum differs. ``progress`` defaults to showing a bar when
    stderr is a terminal.
    """
    check_url(url)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if progress is None:
        progress = _stderr_isatty()
    where = (
        f"download {url} by hand and put it at {target} (or in a directory on $CODECBENCH_DATA_PATH)"
        f"{f'; its sha256 is {sha256}' if sha256 else f'; its md5 is {md5}' if md5 else ''}"
    )
    _remove_stale_parts(target)
    h256, hmd5 = hashlib.sha256(), hashlib.md5() if md5 else None
    tmp = target.parent / f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.part"
    fd = -1
    with _signals_raise():
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
            try:
                resp = urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 - http(s) only: check_url
            except urllib.error.HTTPError as exc:
                raise DatasetError(f"cannot download {url}: HTTP {exc.code} {exc.reason}; {where}") from None
            except (TimeoutError, urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise DatasetError(f"cannot download {url} ({reason}); offline? {where}") from None
            if urlsplit(resp.geturl()).scheme.lower() not in SCHEMES:  # a redirect to another scheme
                resp.close()
                raise DatasetError(f"refusing the download of {url}: it redirects to {resp.geturl()!r}")
            with resp, os.fdopen(fd, "wb") as out:
                fd = -1
                length = resp.headers.get("Content-Length")
                announced = int(length) if length and length.isdigit() else None
                limit = download_limit(size_bytes if size_bytes is not None else announced)
                if announced is not None and announced > limit:
                    raise DatasetError(
                        f"refusing the download of {url}: the server announces {announced} bytes, the registry "
                        f"{limit} (size_bytes)"
                    )
                received = _stream(resp, out, (h256, hmd5), limit, url, where, target.name, progress, announced)
                if announced is not None and received != announced:
                    raise DatasetError(
                        f"download of {url} was interrupted: got {received} of {length} bytes; no partial file "
                        f"was kept. Try again, or {where}"
                    )
                out.flush()
                os.fsync(out.fileno())
            got256 = h256.hexdigest()
            if sha256 and got256 != sha256.lower():
                raise DatasetError(
                    f"checksum mismatch for {url}: expected sha256 {sha256.lower()}, got {got256}; the download is "
                    "refused and was deleted (the server may hold a different version of the file)"
                )
            if not sha256 and md5 and hmd5 is not None and hmd5.hexdigest() != md5.lower():
                raise DatasetError(
                    f"checksum mismatch for {url}: expected md5 {md5.lower()}, got {hmd5.hexdigest()}; the download "
                    "is refused and was deleted (the server may hold a different version of the file)"
                )
            os.replace(tmp, target)
        finally:
            if fd >= 0:
                os.close(fd)
            tmp.unlink(missing_ok=True)
    from codecbench.data.checksums import remember_digest

    remember_digest(target, "sha256", got256)
    if hmd5 is not None:
        remember_digest(target, "md5", hmd5.hexdigest())
    return target


def _stream(resp, out, hashes, limit, url, where, label, progress, expected):  # type: ignore[no-untyped-def]
    """Copy the response into ``out`` through ``hashes``, refusing it past ``limit`` bytes; the count."""
    received = 0
    bar = _progress(expected, label, progress)
    task = bar.add_task(label, total=expected) if bar is not None else None
    if bar is not None:
        bar.start()
    try:
        while True:
            try:
                block = resp.read(CHUNK)
            except (TimeoutError, http.client.IncompleteRead, ConnectionError, OSError) as exc:
                raise DatasetError(
                    f"download of {url} was interrupted after {received} bytes ({type(exc).__name__}); "
                    f"no partial file was kept. Try again, or {where}"
                ) from None
            if not block:
                return received
            received += len(block)
            if received > limit:
                raise DatasetError(
                    f"refusing the download of {url}: it sends more than {limit} bytes (the entry's size_bytes, or "
                    f"${ENV_MAX_DOWNLOAD}); no partial file was kept"
                )
            out.write(block)
            for h in hashes:
                if h is not None:
                    h.update(block)
            if bar is not None:
                bar.update(task, completed=received)
    finally:
        if bar is not None:
            bar.stop()


def _stderr_isatty() -> bool:
    try:
        return os.isatty(2)
    except OSError:  # pragma: no cover
        return False
