"""Self-contained compressed archives (``.cbz``): what ``codecbench compress`` writes and ``decompress`` reads.

An archive holds one or more *entries*, one per compressed array (an npz array, an HDF5 dataset,
a group of ROOT branches, a registered dataset). For each entry it keeps everything a fresh
process needs to decode it: the framed payload, the codec config, the decoder state of a learned
codec, the column names and units, the per-event object counts of jagged ROOT input, and the
source's metadata; plus an error summary measured at compression time (by decoding the payload
through a fresh codec built from the stored config and state, exactly as ``decompress`` will).

Format, version 1
-----------------

A ZIP file (members stored, not deflated, except the small event-count arrays) with:

``manifest.json``
    UTF-8 JSON object (strict JSON: non-finite floats are written as the strings ``"inf"``,
    ``"-inf"`` and ``"nan"``)::

        format              "codecbench-archive"
        format_version      1
        codecbench_version  version that wrote it
        created             UTC time, ISO 8601
        source              {input, format, options}: what was compressed and how it was read
        entries             list of entries (below)
        members             {member name: {size, sha256}} for every other member

    Each entry::

        name, kind ("table"|"field"), shape, dtype (numpy str, e.g. "<f4"), columns, units
        original_sha256     SHA-256 of dtype + shape + the original array's bytes
        codec               the codec config (get_config(): {"id": ..., params})
        codec_info          {lossless, learned, distribution, version, extras} of the plugin used
        fit                 null, or {on: "input" | what --fit-on named, shape, sha256} for learned codecs
        payload             member name of the framed payload (codecbench.container format)
        state               member name of the decoder state (Codec.save_state()), or null
        event_counts        member name of the objects-per-event array (.npy, int64), or null
        root                null, or {tree, counter, n_events, source_dtypes} for ROOT output
        meta                the source's metadata (file name and sha256, license, notes, ...)
        sizes               raw_bytes, payload_bytes, aux_bytes (= state size), ratio,
                            effective_ratio = raw / (payload + aux), bits_per_value
        errors              codecbench.measure.metrics.error_metrics of the decoded array vs the original
        bound               the declared bound and its check (codecbench.measure.bounds.check_bound), or null

``entries/<i>/payload.cbf``, ``entries/<i>/state.bin``, ``entries/<i>/event_counts.npy``
    the binary members named above.

Readers refuse: a file that is not a ZIP or is truncated, a manifest whose ``format`` is not
``codecbench-archive``, a ``format_version`` newer than ``FORMAT_VERSION`` (older ones are
migrated), a member whose size or SHA-256 differs from the manifest, and a codec that is not
installed (naming the package that provides it). No pickle: JSON, ``.npy`` read with
``allow_pickle=False`` and codecbench frames only.
"""

from __future__ import annotations

import hashlib
import io as _io
import json
import math
import os
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from codecbench.codec import Codec
from codecbench.errors import CodecError, ConfigError, PayloadError, PluginError
from codecbench.io import ArrayItem, _jsonable

FORMAT_NAME = "codecbench-archive"
#: Version of the archive layout this codecbench writes (and the newest it reads).
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Largest manifest accepted (bytes); a bigger one is refused as corrupted rather than parsed.
MAX_MANIFEST_BYTES = 64 * 2**20
#: Where the built-in codec ids come from, for archives whose writer did not record it.
PROVIDES: dict[str, str] = {
    "raw": "codecbench",
    "gzip": "codecbench",
    "zstd": "codecbench",
    "blosc": "codecbench",
    "trunc": "codecbench",
    "bitround": "codecbench[sota]",
    "ae": "codecbench[ml]",
    "sae": "codecbench[ml]",
    "flow": "codecbench[ml]",
    "sz3": "codecbench[sota]",
    "zfp": "codecbench[sota]",
    "fpzip": "codecbench[sota]",
}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: the same input gives the same members


class ArchiveError(PayloadError):
    """An archive is not a codecbench archive, is truncated or corrupted, or is from a newer format."""


# --- JSON helpers --------------------------------------------------------------------------------


def _encode_floats(obj: Any) -> Any:
    """Non-finite floats as the strings "inf", "-inf", "nan" (strict JSON)."""
    if isinstance(obj, dict):
        return {k: _encode_floats(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encode_floats(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def _decode_floats(obj: Any) -> Any:
    """Inverse of ``_encode_floats`` for the numeric summaries (sizes, errors, bound)."""
    if isinstance(obj, dict):
        return {k: _decode_floats(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_floats(v) for v in obj]
    if obj in ("inf", "-inf", "nan"):
        return float(obj)
    return obj


def _array_sha256(a: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(f"{a.dtype.str}{tuple(a.shape)}".encode())
    h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = _io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


# --- compressing ---------------------------------------------------------------------------------


@dataclass
class EncodedEntry:
    """One compressed array, ready to be written: manifest fields plus its binary members."""

    manifest: dict[str, Any]
    payload: bytes
    state: bytes
    event_counts: np.ndarray | None


def codec_provenance(codec_id: str) -> dict[str, Any]:
    """Which installed distribution provides ``codec_id`` (name, version, extras) for the manifest."""
    from codecbench.plugins import provenance

    return provenance(codec_id)


def resolve_config(spec: str | dict[str, Any], item: ArrayItem) -> dict[str, Any]:
    """The codec config for ``item``: the spec plus the table's ``columns`` if the codec takes them
    (as the runner does), so per-column settings such as ``trunc``'s bits apply."""
    from codecbench.plugins import get_codec_class, parse_spec

    config = parse_spec(spec)
    cls = get_codec_class(config["id"])
    if "columns" in cls.param_names() and "columns" not in config and item.kind == "table" and item.columns:
        config["columns"] = list(item.columns)
    return config


def encode_item(
    item: ArrayItem,
    spec: str | dict[str, Any],
    *,
    fit_item: ArrayItem | None = None,
    fit_label: str | None = None,
    progress: Callable[..., None] | None = None,
) -> EncodedEntry:
    """Compress one array: fit a learned codec (on ``fit_item``, else on ``item`` itself), encode,
    save the decoder state, decode through a fresh codec and measure the errors and sizes."""
    from codecbench.container import compress, decompress
    from codecbench.measure.metrics import bits_equal, error_metrics, size_metrics
    from codecbench.plugins import get_codec, get_codec_class

    config = resolve_config(spec, item)
    cls = get_codec_class(config["id"])
    codec = get_codec(config)
    data = np.ascontiguousarray(item.data)
    fit = None
    if cls.learned:
        train = fit_item if fit_item is not None else item
        if fit_item is not None:
            if train.kind != item.kind or (item.kind == "table" and train.columns != item.columns):
                raise ConfigError(
                    f"--fit-on data for {item.name!r} does not match the input: it has "
                    f"{train.kind} columns {train.columns}, the input {item.kind} columns {item.columns}"
                )
        if progress is not None:
            codec.set_progress(progress)
        codec.fit(train.to_dataset())
        fit = {
            "on": fit_label if fit_item is not None else "input",
            "shape": list(train.data.shape),
            "sha256": _array_sha256(train.data),
        }
    payload = compress(codec, data)
    state = codec.save_state()
    config = codec.get_config()
    decoder = get_codec(config)
    if state:
        decoder.load_state(state)
    recon = decompress(decoder, payload)
    if recon.shape != data.shape or recon.dtype != data.dtype:
        raise CodecError(f"decoded array has shape {recon.shape} {recon.dtype}, expected {data.shape} {data.dtype}")
    if cls.lossless and not bits_equal(data, recon):
        raise CodecError(f"codec {config['id']!r} claims to be lossless but the round trip changed values")
    variables = item.columns if item.kind == "table" else ["value"]
    errors = error_metrics(data, recon, item.kind, variables)
    sizes = size_metrics(data.nbytes, len(payload), len(state), data.size)
    bound = codec.declared_bound()
    bound_check = None
    if bound is not None:
        from codecbench.measure.bounds import check_bound

        bound_check = check_bound(data, recon, bound, item.columns if item.kind == "table" else None)
    root = None
    if item.tree or item.event_counts is not None:
        root = {
            "tree": item.tree,
            "counter": item.counter,
            "n_events": None if item.event_counts is None else len(item.event_counts),
            "source_dtypes": item.source_dtypes,
        }
    meta = {k: v for k, v in _jsonable(item.meta).items() if k != "path"}  # no local paths in archives
    manifest = {
        "name": item.name,
        "kind": item.kind,
        "shape": list(data.shape),
        "dtype": data.dtype.str,
        "columns": item.columns,
        "units": dict(item.units),
        "original_sha256": _array_sha256(data),
        "codec": config,
        "codec_info": {"lossless": bool(cls.lossless), "learned": bool(cls.learned), **codec_provenance(cls.codec_id)},
        "fit": fit,
        "root": root,
        "meta": meta,
        "sizes": sizes,
        "errors": errors,
        "bound": bound_check,
    }
    return EncodedEntry(manifest, payload, state, item.event_counts)


def write_archive(path: str | Path, entries: list[EncodedEntry], source: dict[str, Any]) -> Path:
    """Write ``entries`` to a ``.cbz`` archive at ``path`` (atomically: a temporary file, then a rename)."""
    from codecbench import __version__

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
            members[m["event_counts"]] = _npy_bytes(np.asarray(e.event_counts, dtype="<i8"))
        manifest_entries.append(m)
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "codecbench_version": __version__,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": _jsonable(source),
        "entries": manifest_entries,
        "members": {n: {"size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for n, b in members.items()},
    }
    text = json.dumps(_encode_floats(manifest), separators=(",", ":"), allow_nan=False)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")  # mode from the umask
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            zf.comment = _zip_comment(FORMAT_VERSION)
            _put(zf, MANIFEST, text.encode("utf-8"), zipfile.ZIP_DEFLATED)
            for name, blob in members.items():
                _put(zf, name, blob, zipfile.ZIP_DEFLATED if name.endswith(".npy") else zipfile.ZIP_STORED)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _zip_comment(version: int) -> bytes:
    return f"{FORMAT_NAME} v{version}".encode()


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


def _put(zf: zipfile.ZipFile, name: str, blob: bytes, method: int) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = method
    info.external_attr = 0o644 << 16
    zf.writestr(info, blob)


# --- reading -------------------------------------------------------------------------------------


def install_hint(entry: dict[str, Any]) -> str:
    """How to install the codec an entry names: from what the writer recorded, else ``PROVIDES``."""
    cid = entry.get("codec", {}).get("id", "?")
    info = entry.get("codec_info") or {}
    dist, extras = info.get("distribution"), info.get("extras") or []
    if dist:
        target = f"{dist}[{','.join(extras)}]" if extras else dist
        version = f" (the archive was written with {dist} {info.get('version')})" if info.get("version") else ""
        return f"pip install '{target}'{version}"
    if cid in PROVIDES:
        return f"pip install '{PROVIDES[cid]}'"
    return f"install the plugin package that registers codec {cid!r}"


class Archive:
    """A verified, open archive: its manifest, entries, and their decoding.

    Opening reads and checks everything (ZIP structure, format name and version, every member's
    size and SHA-256) so later steps work on trusted bytes. Use ``open_archive``.
    """

    def __init__(self, path: Path, manifest: dict[str, Any], members: dict[str, bytes], file_size: int) -> None:
        self.path = path
        self.manifest = manifest
        self._members = members
        self.file_size = file_size

    @property
    def entries(self) -> list[dict[str, Any]]:
        """The manifest's entries (name, codec, sizes, errors, ...)."""
        return self.manifest["entries"]

    def member(self, name: str | None) -> bytes:
        """The bytes of a (verified) member; empty for None."""
        return b"" if name is None else self._members[name]

    def codec_for(self, entry: dict[str, Any], device: str | None = None) -> Codec:
        """A fresh codec built from the entry's config, its decoder state loaded.

        ``device`` overrides a learned codec's ``device`` parameter (e.g. "cpu" for an archive
        written on a GPU machine). A codec that is not installed raises ``PluginError`` saying
        which package provides it.
        """
        from codecbench.plugins import available, get_codec_class

        config = dict(entry["codec"])
        cid = config.get("id")
        if cid not in available():
            raise PluginError(
                f"archive entry {entry['name']!r} was compressed with codec {cid!r}, which is not installed: "
                f"{install_hint(entry)}"
            )
        cls = get_codec_class(cid)
        if device is not None and "device" in cls.param_names():
            config["device"] = device
        try:
            codec = cls.from_config(config)
        except CodecError as exc:
            raise CodecError(
                f"archive entry {entry['name']!r}: the installed codec {cid!r} cannot be built from the stored "
                f"config ({exc}); the archive may need the plugin version that wrote it: {install_hint(entry)}"
            ) from exc
        state = self.member(entry.get("state"))
        if state or cls.learned:
            codec.load_state(state)
        return codec

    def decode(self, index: int, device: str | None = None) -> ArrayItem:
        """Decode entry ``index`` into an ``ArrayItem`` (data, columns, units, event counts, tree)."""
        from codecbench.container import decompress

        entry = self.entries[index]
        codec = self.codec_for(entry, device)
        data = decompress(codec, self.member(entry["payload"]))
        if list(data.shape) != list(entry["shape"]) or data.dtype.str != entry["dtype"]:
            raise ArchiveError(
                f"archive entry {entry['name']!r} decoded to shape {data.shape} {data.dtype.str}, "
                f"the manifest says {tuple(entry['shape'])} {entry['dtype']}"
            )
        lossless = (entry.get("codec_info") or {}).get("lossless")
        if lossless and _array_sha256(data) != entry.get("original_sha256"):
            raise ArchiveError(
                f"archive entry {entry['name']!r}: the lossless codec {entry['codec']['id']!r} did not reproduce the "
                "original array (SHA-256 differs); the installed codec decodes differently from the one that wrote it"
            )
        counts = None
        if entry.get("event_counts"):
            counts = _load_npy(self.member(entry["event_counts"]), f"{entry['name']} event counts")
            if counts.ndim != 1 or counts.dtype.kind not in "iu" or int(counts.sum()) != data.shape[0]:
                raise ArchiveError(
                    f"archive entry {entry['name']!r}: its event counts do not add up to its {data.shape[0]} rows"
                )
        root = entry.get("root") or {}
        return ArrayItem(
            name=entry["name"],
            data=data,
            kind=entry["kind"],
            columns=entry.get("columns"),
            units=dict(entry.get("units") or {}),
            meta=dict(entry.get("meta") or {}),
            event_counts=counts,
            tree=root.get("tree"),
            counter=root.get("counter"),
            source_dtypes=root.get("source_dtypes"),
        )

    def decode_all(self, device: str | None = None) -> list[ArrayItem]:
        """Decode every entry."""
        return [self.decode(i, device) for i in range(len(self.entries))]

    def summary(self) -> list[dict[str, Any]]:
        """One row per entry: codec, shape, sizes (payload, state, total), ratios and overall errors."""
        rows = []
        for e in self.entries:
            s = e["sizes"]
            total = s["payload_bytes"] + s["aux_bytes"]
            rows.append(
                {
                    "name": e["name"],
                    "codec": e["codec"]["id"],
                    "config": e["codec"],
                    "kind": e["kind"],
                    "shape": tuple(e["shape"]),
                    "dtype": e["dtype"],
                    "raw_bytes": s["raw_bytes"],
                    "payload_bytes": s["payload_bytes"],
                    "state_bytes": s["aux_bytes"],
                    "total_bytes": total,
                    "ratio": s["ratio"],
                    "effective_ratio": s["effective_ratio"],
                    "bits_per_value": s["bits_per_value"],
                    "fit_on": (e.get("fit") or {}).get("on"),
                    "max_abs_error": e["errors"]["max_abs_error"],
                    "worst_rel_rms": e["errors"]["worst_rel_rms"],
                    "nrmse": e["errors"]["nrmse"],
                    "psnr": e["errors"]["psnr"],
                    "bound_violations": (e.get("bound") or {}).get("bound_violations"),
                }
            )
        return rows

    def totals(self) -> dict[str, Any]:
        """Sizes over all entries: raw, payload, state, total (payload + state), ratios, file size."""
        from codecbench.measure.metrics import size_metrics

        raw = sum(e["sizes"]["raw_bytes"] for e in self.entries)
        payload = sum(e["sizes"]["payload_bytes"] for e in self.entries)
        state = sum(e["sizes"]["aux_bytes"] for e in self.entries)
        n = sum(math.prod(e["shape"]) for e in self.entries)
        s = size_metrics(raw, payload, state, n)
        return {**s, "state_bytes": state, "total_bytes": payload + state, "file_bytes": self.file_size}


def _load_npy(blob: bytes, what: str) -> np.ndarray:
    try:
        return np.load(_io.BytesIO(blob), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ArchiveError(f"archive member {what} is not a valid .npy array: {exc}") from None


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
        {**e, "sizes": _decode_floats(e["sizes"]), "errors": _decode_floats(e["errors"]),
         "bound": _decode_floats(e.get("bound"))}
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


# --- the workflow: compress an input, decompress an archive --------------------------------------


def compress_input(
    source: str | Path,
    out: str | Path,
    codec: str | dict[str, Any],
    *,
    key: str | None = None,
    tree: str | None = None,
    branches: list[list[str]] | None = None,
    columns: list[str] | None = None,
    kind: str = "auto",
    fit_on: str | None = None,
    registry: str | None = None,
    progress: Callable[..., None] | None = None,
) -> Archive:
    """Read ``source`` (file or registered dataset), compress every array with ``codec`` and write
    the archive ``out``; return it opened (verified) for its summary.

    A learned codec is fitted on ``fit_on`` (a file or dataset read with the same options, one
    array per input array) or, without it, on the input itself; the archive says which.
    """
    from codecbench.io import read_input

    opts = {"key": key, "tree": tree, "branches": branches, "columns": columns, "kind": kind}
    items = read_input(source, registry=registry, **opts)
    fit_items: list[ArrayItem] | None = None
    fit_label = None
    if fit_on:
        from codecbench.plugins import get_codec_class, parse_spec

        cid = parse_spec(codec)["id"]
        if not get_codec_class(cid).learned:
            raise ConfigError(f"codec {cid!r} learns nothing, so --fit-on does not apply; drop it")
        fit_is_file = Path(fit_on).expanduser().is_file()
        fit_label = Path(fit_on).name if fit_is_file else str(fit_on)
        # a registered dataset brings its own file, tree and branches; only the column choice applies
        fit_opts = opts if fit_is_file else {"columns": columns, "kind": kind}
        fit_items = read_input(fit_on, registry=registry, **fit_opts)
        if len(fit_items) != len(items):
            raise ConfigError(
                f"--fit-on {fit_on!r} gives {len(fit_items)} arrays, the input {len(items)}; they must match one to one"
            )
    entries = [
        encode_item(
            it,
            codec,
            fit_item=fit_items[i] if fit_items else None,
            fit_label=fit_label,
            progress=progress,
        )
        for i, it in enumerate(items)
    ]
    is_file = Path(source).expanduser().is_file()
    source_info = {
        "input": Path(source).name if is_file else str(source),
        "format": items[0].meta.get("format"),
        "options": {k: v for k, v in opts.items() if v not in (None, "auto")},
        "fit_on": fit_label,
    }
    write_archive(out, entries, source_info)
    return open_archive(out)


def decompress_archive(
    archive: str | Path, out: str | Path, *, fmt: str | None = None, device: str | None = None
) -> list[ArrayItem]:
    """Decode every entry of ``archive`` and write them to ``out`` (.npz, .root or .h5); return them."""
    from codecbench.io import output_format, write_output

    output_format(out, fmt)  # refuse a bad output name before decoding
    items = open_archive(archive).decode_all(device)
    write_output(out, items, fmt)
    return items


__all__ = [
    "FORMAT_VERSION",
    "Archive",
    "ArchiveError",
    "EncodedEntry",
    "compress_input",
    "decompress_archive",
    "encode_item",
    "open_archive",
    "write_archive",
]
