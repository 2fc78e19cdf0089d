"""File checksums: sha256 (or md5 where only that is published), remembered per process.

``file_digest`` hashes a file once per (path, size, modification time) and process, so repeated
loads of a large file do not re-read it; a download records the digest it computed while streaming
(``remember_digest``). ``verify_file`` refuses a file whose checksum differs from the registry's.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from codecbench.errors import DatasetError

_DIGESTS: dict[tuple[str, int, int, str], str] = {}
_DIGEST_LOCK = threading.Lock()


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """Hex digest of a file, remembered in-process by (path, size, mtime) so repeated loads are cheap."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns, algorithm)
    with _DIGEST_LOCK:
        if key in _DIGESTS:
            return _DIGESTS[key]
    h = hashlib.new(algorithm)
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    with _DIGEST_LOCK:
        _DIGESTS[key] = digest
    return digest


def remember_digest(path: str | os.PathLike[str], algorithm: str, digest: str) -> None:
    """Record a digest computed elsewhere (while downloading) so the file is not hashed again."""
    p = Path(path).resolve()
    st = p.stat()
    with _DIGEST_LOCK:
        _DIGESTS[(str(p), st.st_size, st.st_mtime_ns, algorithm)] = digest


def verify_file(path: Path, sha256: str | None = None, md5: str | None = None) -> str | None:
    """Check a file against its sha256 (preferred) or md5; return its sha256, raise if it differs."""
    if sha256:
        got = file_digest(path, "sha256")
        if got.lower() != sha256.lower():
            raise DatasetError(
                f"checksum mismatch for {path}: expected sha256 {sha256.lower()}, got {got}; the file is refused "
                "(it is corrupted, truncated or a different version: delete it and fetch it again)"
            )
        return got
    if md5:
        got = file_digest(path, "md5")
        if got.lower() != md5.lower():
            raise DatasetError(
                f"checksum mismatch for {path}: expected md5 {md5.lower()}, got {got}; the file is refused "
                "(it is corrupted, truncated or a different version: delete it and fetch it again)"
            )
        return file_digest(path, "sha256")
    return file_digest(path, "sha256")
