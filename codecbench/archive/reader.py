"""Opening a ``.cbz`` archive: every byte verified, within bounds, before anything is decoded.

``open_archive`` refuses a file that is not a ZIP or is truncated (the ZIP comment included), a
manifest over ``MAX_MANIFEST_BYTES`` or nested too deeply, whose ``format`` is not
``codecbench-archive`` or whose fields have the wrong types (``codecbench.archive.manifest``), a
``format_version`` newer than this codecbench reads (older ones are migrated), and a member whose
size or SHA-256 differs from the manifest; each with a one-line ``ArchiveError``.

Nothing is read beyond what the manifest allows: every member is streamed in blocks and a member
that inflates past its listed size stops there (a ZIP entry declaring 68 bytes that inflates to
gigabytes is refused after 68 + 1), payloads and decoder states must be stored uncompressed (as the
writer stores them, so they are never larger than the file), and opening holds no member in memory:
it hashes each one and ``Archive.member`` reads a member again, and checks it again, when it is
decoded. Nothing is unpickled.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from codecbench.archive.decoder import Archive
from codecbench.archive.format import MANIFEST, MAX_MANIFEST_BYTES, ArchiveError
from codecbench.archive.manifest import check_manifest
from codecbench.archive.members import stream_member, verify_member


def _check_tail(path: Path) -> None:
    """Refuse a file cut inside the ZIP comment, which ``zipfile`` itself tolerates."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - (22 + 65535)))
        tail = fh.read()
    pos = tail.rfind(b"PK\x05\x06")
    if pos >= 0 and pos + 22 <= len(tail):
        declared = int.from_bytes(tail[pos + 20 : pos + 22], "little")
        if len(tail) - (pos + 22) < declared:
            raise ArchiveError(f"{path.name}: the archive is truncated (its last bytes are missing)")


def _migrate(manifest: dict[str, Any]) -> dict[str, Any]:
    """Bring a manifest of an older format version up to ``FORMAT_VERSION`` (none exist yet)."""
    return manifest


def _read_manifest(zf: zipfile.ZipFile, path: Path) -> Any:
    try:
        info = zf.getinfo(MANIFEST)
    except KeyError:
        raise ArchiveError(f"{path.name}: not a codecbench archive (it has no {MANIFEST})") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise ArchiveError(
            f"{path.name}: its manifest claims {info.file_size} bytes, more than a manifest may hold "
            f"({MAX_MANIFEST_BYTES}); the archive is corrupted or hostile"
        )
    blob, _ = stream_member(zf, path, MANIFEST, info.file_size, keep=True, stored=False)
    try:
        return json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveError(f"{path.name}: its manifest is not valid JSON ({exc}); the archive is corrupted") from None
    except RecursionError:
        raise ArchiveError(f"{path.name}: its manifest is nested too deeply to parse; the archive is refused") from None


def open_archive(path: str | Path) -> Archive:
    """Open and verify an archive; raise ``ArchiveError`` (a ``PayloadError``) saying what is wrong."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ArchiveError(f"archive {str(path)!r} does not exist")
    file_size = path.stat().st_size
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ArchiveError(
            f"{path.name}: not a readable archive (no ZIP directory at its end): it is truncated, "
            "corrupted, or not a codecbench archive"
        ) from None
    except OSError as exc:
        raise ArchiveError(f"{path.name}: cannot read the archive: {exc.strerror or exc}") from None
    with zf:
        _check_tail(path)
        manifest = check_manifest(_migrate_raw(_read_manifest(zf, path)), path.name)
        for name, facts in manifest["members"].items():
            verify_member(zf, path, name, facts, keep=False)
    return Archive(path, manifest, file_size)


def _migrate_raw(manifest: Any) -> Any:
    return _migrate(manifest) if isinstance(manifest, dict) else manifest
