"""The two commands as functions: compress an input into an archive, decompress an archive into a file.

``compress_input`` reads a file or a registered dataset (``codecbench.archive.files``), encodes every
array (``codecbench.archive.encode``), writes the archive and returns it opened and verified, for
its summary. ``decompress_archive`` decodes every entry and writes them to ``.npz``, ``.root`` or
``.h5``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from codecbench.archive.decoder import Archive
from codecbench.archive.encode import encode_item
from codecbench.archive.files import output_format, read_input, write_output
from codecbench.archive.items import ArrayItem
from codecbench.archive.reader import open_archive
from codecbench.archive.writer import write_archive
from codecbench.errors import ConfigError
from codecbench.plugins import get_codec_class, parse_spec


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
    int_codec: str | dict[str, Any] = "zstd",
) -> Archive:
    """Read ``source`` (file or registered dataset), compress every array with ``codec`` and write
    the archive ``out``; return it opened (verified) for its summary.

    A learned codec is fitted on ``fit_on`` (a file or dataset read with the same options, one
    array per input array) or, without it, on the input itself; the archive says which. When
    ``codec`` is lossy, arrays of integers or booleans (ROOT counters, flags, ids) are compressed
    with the lossless ``int_codec`` instead (default zstd): lossy codecs take floats only, and an
    id rounded is a different id. Each entry records the codec it used.
    """
    opts = {"key": key, "tree": tree, "branches": branches, "columns": columns, "kind": kind}
    items = read_input(source, registry=registry, **opts)
    fit_items: list[ArrayItem] | None = None
    fit_label = None
    if fit_on:
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
    lossy = not get_codec_class(parse_spec(codec)["id"]).lossless
    if lossy and not get_codec_class(parse_spec(int_codec)["id"]).lossless:
        raise ConfigError(f"--int-codec must be a lossless codec, not {parse_spec(int_codec)['id']!r}")
    entries = []
    for i, it in enumerate(items):
        exact = lossy and it.data.dtype.kind in "iub"
        entries.append(
            encode_item(
                it,
                int_codec if exact else codec,
                fit_item=fit_items[i] if fit_items and not exact else None,
                fit_label=fit_label,
                progress=progress,
            )
        )
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
    output_format(out, fmt)  # refuse a bad output name before decoding
    items = open_archive(archive).decode_all(device)
    write_output(out, items, fmt)
    return items
