"""Where dataset files live: the search path, the user cache, lookup, download on demand, atomic writes.

A registry ``file`` is looked up, in order, in the directories of ``CODECBENCH_DATA_PATH``
(``os.pathsep`` separated) and then in the user cache (``CODECBENCH_CACHE_DIR``, default
``platformdirs.user_cache_dir("codecbench")/datasets``). ``find_file`` verifies the checksum
(``codecbench.data.checksums``) before returning a path, and downloads a missing file from its URL
into the cache (``codecbench.data.download``) unless ``CODECBENCH_OFFLINE`` is set, in which case
the error says what to download and where to put it. ``atomic_write_text`` is the one way
codecbench writes a small file that another process may read (sidecars, run files, cache metadata).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from codecbench.data.checksums import verify_file
from codecbench.errors import DatasetError

ENV_DATA_PATH = "CODECBENCH_DATA_PATH"
ENV_CACHE_DIR = "CODECBENCH_CACHE_DIR"
ENV_OFFLINE = "CODECBENCH_OFFLINE"


def escapes_search_path(filename: str) -> bool:
    """Whether a registry ``file`` name could point outside the directory it is looked up in:
    absolute (POSIX or Windows, drive letters included), ``~``-relative, or with a ``..`` part."""
    from pathlib import PurePosixPath, PureWindowsPath

    win = PureWindowsPath(filename)
    posix = PurePosixPath(filename.replace("\\", "/"))
    return (
        posix.is_absolute() or bool(win.drive) or win.is_absolute() or filename.startswith("~") or ".." in posix.parts
    )


def data_path() -> list[Path]:
    """Directories of ``$CODECBENCH_DATA_PATH`` in order (empty entries skipped)."""
    raw = os.environ.get(ENV_DATA_PATH, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def cache_dir() -> Path:
    """The user cache for downloaded and generated files (``$CODECBENCH_CACHE_DIR`` or the platform's)."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("codecbench")) / "datasets"


def search_dirs() -> list[Path]:
    """Where files are looked for: the data path, then the cache."""
    return [*data_path(), cache_dir()]


def locate_file(filename: str) -> Path | None:
    """The first existing copy of ``filename`` on the search path (no checksum check), or None."""
    p = Path(filename).expanduser()
    if p.is_absolute():
        return p if p.is_file() else None
    for d in search_dirs():
        cand = d / filename
        if cand.is_file():
            return cand
    return None


def offline() -> bool:
    """Whether downloads are disabled (``CODECBENCH_OFFLINE`` set to anything but 0/false/no)."""
    return os.environ.get(ENV_OFFLINE, "").strip().lower() not in ("", "0", "false", "no")


def find_file(
    filename: str,
    sha256: str | None,
    url: str | None = None,
    *,
    md5: str | None = None,
    download: bool | None = None,
    size_bytes: int | None = None,
) -> Path:
    """Find ``filename`` on the search path and verify its checksum before returning its path.

    A missing file is downloaded from ``url`` into the cache when ``download`` is true (default:
    unless ``CODECBENCH_OFFLINE`` is set). Raises ``DatasetError`` naming the file, its URL and the
    directories searched when it cannot be found, and refuses a file whose checksum differs.
    """
    found = locate_file(filename)
    if found is not None:
        verify_file(found, sha256, md5)
        return found
    if download is None:
        download = not offline()
    if url and download:
        from codecbench.data.download import download_file

        target = cache_dir() / Path(filename).name
        download_file(url, target, sha256=sha256, md5=md5, size_bytes=size_bytes)
        verify_file(target, sha256, md5)
        return target
    dirs = search_dirs()
    searched = ", ".join(str(d) for d in dirs)
    checksum = f"sha256 {sha256}" if sha256 else f"md5 {md5}" if md5 else "no checksum"
    if url:
        why = " (downloads are disabled by CODECBENCH_OFFLINE)" if not download else ""
        how = (
            f"download it from {url} ({checksum}){why} and put it in {cache_dir()} or in a directory listed in "
            f"${ENV_DATA_PATH}, or run `codecbench datasets fetch` with network access"
        )
    else:
        how = (
            f"it has no public URL ({checksum}); put the file in a directory listed in ${ENV_DATA_PATH} "
            f"or in {cache_dir()}"
        )
    raise DatasetError(f"dataset file {filename!r} not found (searched: {searched}); {how}")


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename, so no half file is seen."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
