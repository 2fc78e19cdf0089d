"""Reading one member of an archive: streamed in blocks, bounded by its listed size, hashed on the way.

``stream_member`` stops a member that inflates past the size the manifest lists (the ZIP directory's
own size must agree), and refuses a compressed payload or state (the writer stores them, so they
are never larger than the file); ``verify_member`` adds the SHA-256 check. ``open_archive`` uses them
to verify every member without keeping it, ``Archive.member`` to read one again when it is decoded.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Any

from codecbench.archive.format import ArchiveError

#: Block size of streamed member reads.
BLOCK = 1 << 20


def stream_member(
    zf: zipfile.ZipFile, path: Path, name: str, size: int, *, keep: bool, stored: bool
) -> tuple[bytes, str]:
    """Read member ``name`` in blocks, refusing it past ``size`` bytes: (its bytes if ``keep``, else b"",
    their SHA-256). ``stored``: refuse a member compressed inside the ZIP."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ArchiveError(f"{path.name}: member {name!r} is missing; the archive is truncated or corrupted") from None
    if info.file_size != size:
        raise ArchiveError(
            f"{path.name}: member {name!r} declares {info.file_size} bytes in the ZIP directory, the manifest {size}; "
            "the archive is corrupted"
        )
    if stored and info.compress_type != zipfile.ZIP_STORED:
        raise ArchiveError(
            f"{path.name}: member {name!r} is compressed inside the ZIP; codecbench stores payloads and states "
            "uncompressed, so this archive was not written by it"
        )
    h = hashlib.sha256()
    parts: list[bytes] = []
    got = 0
    try:
        with zf.open(info) as fh:
            while True:
                block = fh.read(min(BLOCK, size - got + 1))
                if not block:
                    break
                got += len(block)
                if got > size:
                    raise ArchiveError(
                        f"{path.name}: member {name!r} inflates beyond its declared {size} bytes; refused there"
                    )
                h.update(block)
                if keep:
                    parts.append(block)
    except ArchiveError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise ArchiveError(f"{path.name}: member {name!r} is corrupted or truncated ({exc})") from None
    except Exception as exc:  # zlib.error and friends from a damaged deflated member
        raise ArchiveError(f"{path.name}: member {name!r} cannot be read ({type(exc).__name__}: {exc})") from None
    if got != size:
        raise ArchiveError(f"{path.name}: member {name!r} holds {got} bytes, the manifest says {size}")
    return b"".join(parts), h.hexdigest()


def verify_member(zf: zipfile.ZipFile, path: Path, name: str, facts: dict[str, Any], *, keep: bool) -> bytes:
    """Stream member ``name`` (bounded by its listed size) and check its SHA-256; its bytes if ``keep``."""
    blob, digest = stream_member(zf, path, name, facts["size"], keep=keep, stored=not name.endswith(".npy"))
    if digest != facts["sha256"]:
        raise ArchiveError(f"{path.name}: member {name!r} is corrupted (its size or SHA-256 differs from the manifest)")
    return blob
