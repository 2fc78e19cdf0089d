"""An opened archive: its entries, decoded through fresh codecs, and their sizes and errors.

``Archive`` is what ``open_archive`` (``codecbench.archive.reader``) returns once the manifest has
been checked and every member verified. It keeps no member in memory: ``member`` reads one again
(bounded by its listed size) and checks its SHA-256 again. ``decode`` builds each entry's codec from
the stored config and decoder state, as a fresh process would, checks that the payload's frame
declares the entry's dtype and shape before any decoder runs, checks the event counts before any use
(``codecbench.archive.items.check_event_counts``), and checks the result against the manifest (shape,
dtype, and for a lossless codec the original's SHA-256). A codec that is not installed is refused
with the ``pip install`` that provides it.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

from codecbench.archive.format import ArchiveError, array_sha256, load_counts
from codecbench.archive.items import ArrayItem, check_event_counts
from codecbench.archive.members import verify_member
from codecbench.codec import Codec
from codecbench.container import decompress, parse
from codecbench.errors import CodecError, DatasetError, PluginError
from codecbench.measure.metrics import size_metrics
from codecbench.plugins import available, get_codec_class

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

    def __init__(self, path: Path, manifest: dict[str, Any], file_size: int) -> None:
        self.path = path
        self.manifest = manifest
        self.file_size = file_size

    @property
    def entries(self) -> list[dict[str, Any]]:
        """The manifest's entries (name, codec, sizes, errors, ...)."""
        return self.manifest["entries"]

    def member(self, name: str | None) -> bytes:
        """The bytes of a member, read again and verified again (size and SHA-256); empty for None."""
        if name is None:
            return b""
        facts = self.manifest["members"][name]
        try:
            with zipfile.ZipFile(self.path) as zf:
                return verify_member(zf, self.path, name, facts, keep=True)
        except (OSError, zipfile.BadZipFile) as exc:
            raise ArchiveError(f"{self.path.name}: cannot read member {name!r} again ({exc})") from None

    def codec_for(self, entry: dict[str, Any], device: str | None = None) -> Codec:
        """A fresh codec built from the entry's config, its decoder state loaded.

        ``device`` overrides a learned codec's ``device`` parameter (e.g. "cpu" for an archive
        written on a GPU machine). A codec that is not installed raises ``PluginError`` saying
        which package provides it.
        """
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
        entry = self.entries[index]
        counts = self.event_counts(entry)  # checked before anything is decoded
        payload = self.member(entry["payload"])
        head = parse(payload)
        if list(head.shape) != list(entry["shape"]) or head.dtype.str != entry["dtype"]:
            raise ArchiveError(
                f"archive entry {entry['name']!r}: its payload is framed as {head.shape} {head.dtype.str}, "
                f"the manifest says {tuple(entry['shape'])} {entry['dtype']}; the archive is corrupted"
            )
        codec = self.codec_for(entry, device)
        data = decompress(codec, payload)
        if list(data.shape) != list(entry["shape"]) or data.dtype.str != entry["dtype"]:
            raise ArchiveError(
                f"archive entry {entry['name']!r} decoded to shape {data.shape} {data.dtype.str}, "
                f"the manifest says {tuple(entry['shape'])} {entry['dtype']}"
            )
        lossless = (entry.get("codec_info") or {}).get("lossless")
        if lossless and array_sha256(data) != entry.get("original_sha256"):
            raise ArchiveError(
                f"archive entry {entry['name']!r}: the lossless codec {entry['codec']['id']!r} did not reproduce the "
                "original array (SHA-256 differs); the installed codec decodes differently from the one that wrote it"
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
            counter_dtype=root.get("counter_dtype"),
            branch_index=root.get("branch_index"),
        )

    def event_counts(self, entry: dict[str, Any]) -> Any:
        """The entry's objects per event, checked against its rows (``check_event_counts``), or None."""
        if not entry.get("event_counts"):
            return None
        what = f"{entry['name']} event counts"
        raw = load_counts(self.member(entry["event_counts"]), (entry.get("root") or {})["n_events"], what)
        try:
            return check_event_counts(raw, entry["shape"][0], f"archive entry {entry['name']!r}")
        except DatasetError as exc:
            raise ArchiveError(str(exc)) from None

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
        raw = sum(e["sizes"]["raw_bytes"] for e in self.entries)
        payload = sum(e["sizes"]["payload_bytes"] for e in self.entries)
        state = sum(e["sizes"]["aux_bytes"] for e in self.entries)
        n = sum(math.prod(e["shape"]) for e in self.entries)
        s = size_metrics(raw, payload, state, n)
        return {**s, "state_bytes": state, "total_bytes": payload + state, "file_bytes": self.file_size}
