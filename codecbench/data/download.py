"""Download a dataset file into the cache: streamed, checksummed, written atomically.

The file is streamed into a temporary file next to its target while its sha256 (and md5 where
that is what the registry publishes) is computed. Only when the whole body has arrived and the
checksum matches is the temporary file renamed onto the target, so an interrupted or corrupted
download never leaves a file that a later run could mistake for the real one.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from codecbench.errors import DatasetError

#: Size of the blocks read from the network.
CHUNK = 1 << 16
USER_AGENT = "codecbench-datasets (+https://pypi.org/project/codecbench)"


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
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if progress is None:
        progress = _stderr_isatty()
    where = (
        f"download {url} by hand and put it at {target} (or in a directory on $CODECBENCH_DATA_PATH)"
        f"{f'; its sha256 is {sha256}' if sha256 else f'; its md5 is {md5}' if md5 else ''}"
    )
    h256, hmd5 = hashlib.sha256(), hashlib.md5() if md5 else None
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    received = 0
    try:
        req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            resp = urllib.request.urlopen(req, timeout=timeout)  # noqa: S310 - registry URLs are http(s)
        except urllib.error.HTTPError as exc:
            raise DatasetError(f"cannot download {url}: HTTP {exc.code} {exc.reason}; {where}") from None
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DatasetError(f"cannot download {url} ({reason}); offline? {where}") from None
        with resp, os.fdopen(fd, "wb") as out:
            fd = -1
            length = resp.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else size_bytes
            bar = _progress(expected, target.name, progress)
            task = bar.add_task(target.name, total=expected) if bar is not None else None
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
                        break
                    out.write(block)
                    h256.update(block)
                    if hmd5 is not None:
                        hmd5.update(block)
                    received += len(block)
                    if bar is not None:
                        bar.update(task, completed=received)
            finally:
                if bar is not None:
                    bar.stop()
            if length and length.isdigit() and received != int(length):
                raise DatasetError(
                    f"download of {url} was interrupted: got {received} of {length} bytes; no partial file was kept. "
                    f"Try again, or {where}"
                )
            out.flush()
            os.fsync(out.fileno())
        got256 = h256.hexdigest()
        if sha256 and got256 != sha256.lower():
            raise DatasetError(
                f"checksum mismatch for {url}: expected sha256 {sha256.lower()}, got {got256}; the download is refused "
                "and was deleted (the server may hold a different version of the file)"
            )
        if not sha256 and md5 and hmd5 is not None and hmd5.hexdigest() != md5.lower():
            raise DatasetError(
                f"checksum mismatch for {url}: expected md5 {md5.lower()}, got {hmd5.hexdigest()}; the download is "
                "refused and was deleted (the server may hold a different version of the file)"
            )
        os.replace(tmp, target)
        from codecbench.data.checksums import remember_digest

        remember_digest(target, "sha256", got256)
        if hmd5 is not None:
            remember_digest(target, "md5", hmd5.hexdigest())
        return target
    finally:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)


def _stderr_isatty() -> bool:
    try:
        return os.isatty(2)
    except OSError:  # pragma: no cover
        return False
