"""Writing a ``.cbz`` archive: encoded entries, the manifest, the members, atomically.

Members are stored (not deflated) except the small event-count arrays; member timestamps are fixed,
so the same input gives the same members. The file is written to a temporary name and renamed.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from codecbench._version import __version__
from codecbench.archive.format import FORMAT_NAME, FORMAT_VERSION, MANIFEST, encode_floats, npy_bytes, zip_comment
from codecbench.archive.items import jsonable
from codecbench.errors import ConfigError

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: the same input gives the same members


@dataclass
class EncodedEntry:
    """One compressed array, ready to be written: manifest fields plus its binary members."""

    manifest: dict[str, Any]
    payload: bytes
    state: bytes
    event_counts: np.ndarray | None


def write_archive(path: str | Path, entries: list[EncodedEntry], source: dict[str, Any]) -> Path:
    """Write ``entries`` to a ``.cbz`` archive at ``path`` (atomically: a temporary file, then a rename)."""
    if not entries:
        raise ConfigError("an archive needs at least one entry")
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    members: dict[str, bytes] = {}
    manifest_entries = []
    for i, e in enumerate(entries):
        m = dict(e.manifest)
        m["payload"] = f"entries/{i}/payload.cbf"
        members[m["payload"]] = e.payload
        m["state"] = f"entries/{i}/state.bin" if e.state else None
        if e.state:
            members[m["state"]] = e.state
        m["event_counts"] = None
        if e.event_counts is not None:
            m["event_counts"] = f"entries/{i}/event_counts.npy"
            members[m["event_counts"]] = npy_bytes(np.asarray(e.event_counts, dtype="<i8"))
        manifest_entries.append(m)
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "codecbench_version": __version__,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": jsonable(source),
        "entries": manifest_entries,
        "members": {n: {"size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for n, b in members.items()},
    }
    text = json.dumps(encode_floats(manifest), separators=(",", ":"), allow_nan=False)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")  # mode from the umask
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            zf.comment = zip_comment(FORMAT_VERSION)
            _put(zf, MANIFEST, text.encode("utf-8"), zipfile.ZIP_DEFLATED)
            for name, blob in members.items():
                _put(zf, name, blob, zipfile.ZIP_DEFLATED if name.endswith(".npy") else zipfile.ZIP_STORED)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _put(zf: zipfile.ZipFile, name: str, blob: bytes, method: int) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = method
    info.external_attr = 0o644 << 16
    zf.writestr(info, blob)
