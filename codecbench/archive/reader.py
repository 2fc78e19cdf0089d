"""Opening a ``.cbz`` archive: every byte verified before anything is decoded.

``open_archive`` refuses a file that is not a ZIP or is truncated (the ZIP comment included), a
manifest whose ``format`` is not ``codecbench-archive`` or that is malformed, a ``format_version``
newer than this codecbench reads (older ones are migrated), and a member whose size or SHA-256
differs from the manifest; each with a one-line ``ArchiveError``. What it returns
(``codecbench.archive.decoder.Archive``) works on trusted bytes only. Nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

from codecbench.archive.decoder import Archive
from codecbench.archive.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    MAX_MANIFEST_BYTES,
    ArchiveError,
    decode_floats,
)


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


def _check_manifest(manifest: Any, path: Path) -> dict[str, Any]:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ArchiveError(f"{path.name}: not a codecbench archive (its manifest does not say {FORMAT_NAME!r})")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ArchiveError(
            f"{path.name}: the manifest's format_version {version!r} is invalid; the archive is corrupted"
        )
    if version > FORMAT_VERSION:
        raise ArchiveError(
            f"{path.name} uses archive format version {version} (written by codecbench "
            f"{manifest.get('codecbench_version', '?')}); this codecbench reads versions up to {FORMAT_VERSION}. "
            "Upgrade codecbench: pip install --upgrade codecbench"
        )
    manifest = _migrate(manifest)
    entries = manifest.get("entries")
    members = manifest.get("members")
    if not isinstance(entries, list) or not entries or not isinstance(members, dict):
        raise ArchiveError(f"{path.name}: the manifest has no entries or no member list; the archive is corrupted")
    required = ("name", "kind", "shape", "dtype", "codec", "payload", "sizes", "errors")
    for i, e in enumerate(entries):
        missing = [k for k in required if not isinstance(e, dict) or k not in e]
        if missing:
            raise ArchiveError(f"{path.name}: manifest entry {i} lacks {', '.join(missing)}; the archive is corrupted")
        for ref in ("payload", "state", "event_counts"):
            if e.get(ref) is not None and e[ref] not in members:
                raise ArchiveError(f"{path.name}: entry {e['name']!r} names member {e[ref]!r}, which is not listed")
    manifest["entries"] = [
        {**e, "sizes": decode_floats(e["sizes"]), "errors": decode_floats(e["errors"]),
         "bound": decode_floats(e.get("bound"))}
        for e in entries
    ]  # fmt: skip
    return manifest


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
        names = set(zf.namelist())
        if MANIFEST not in names:
            raise ArchiveError(f"{path.name}: not a codecbench archive (it has no {MANIFEST})")
        manifest = json.loads(_read_member(zf, path, MANIFEST, MAX_MANIFEST_BYTES).decode("utf-8", "replace"))
        manifest = _check_manifest(manifest, path)
        members: dict[str, bytes] = {}
        for name, facts in manifest["members"].items():
            if not isinstance(facts, dict) or not isinstance(facts.get("size"), int) or "sha256" not in facts:
                raise ArchiveError(f"{path.name}: the manifest's record of member {name!r} is malformed")
            if name not in names:
                raise ArchiveError(f"{path.name}: member {name!r} is missing; the archive is truncated or corrupted")
            blob = _read_member(zf, path, name, facts["size"])
            if len(blob) != facts["size"] or hashlib.sha256(blob).hexdigest() != facts["sha256"]:
                raise ArchiveError(
                    f"{path.name}: member {name!r} is corrupted (its size or SHA-256 differs from the manifest)"
                )
            members[name] = blob
    return Archive(path, manifest, members, file_size)


def _read_member(zf: zipfile.ZipFile, path: Path, name: str, limit: int) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise ArchiveError(f"{path.name}: member {name!r} claims {info.file_size} bytes, more than expected ({limit})")
    try:
        blob = zf.read(info)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise ArchiveError(f"{path.name}: member {name!r} is corrupted or truncated ({exc})") from None
    except Exception as exc:  # zlib.error and friends from a damaged deflated member
        raise ArchiveError(f"{path.name}: member {name!r} cannot be read ({type(exc).__name__}: {exc})") from None
    if name == MANIFEST:
        try:
            json.loads(blob.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ArchiveError(
                f"{path.name}: its manifest is not valid JSON ({exc}); the archive is corrupted"
            ) from None
    return blob
