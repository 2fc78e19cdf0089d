"""Encoding one array into an archive entry, measured exactly as ``decompress`` will decode it.

``encode_item`` fits a learned codec (on ``--fit-on`` data, else on the input itself), encodes, saves
the decoder state, decodes through a fresh codec built from the stored config and state, checks a
lossless codec bit for bit and a declared bound value by value, and records the sizes and errors
(``codecbench.measure``) in the entry's manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from codecbench.archive.format import array_sha256
from codecbench.archive.items import ArrayItem, jsonable
from codecbench.archive.writer import EncodedEntry
from codecbench.container import compress, decompress
from codecbench.errors import CodecError, ConfigError
from codecbench.measure.bounds import check_bound
from codecbench.measure.metrics import bits_equal, error_metrics, size_metrics
from codecbench.plugins import get_codec, get_codec_class, parse_spec, provenance


def codec_provenance(codec_id: str) -> dict[str, Any]:
    """Which installed distribution provides ``codec_id`` (name, version, extras) for the manifest."""
    return provenance(codec_id)


def resolve_config(spec: str | dict[str, Any], item: ArrayItem) -> dict[str, Any]:
    """The codec config for ``item``: the spec plus the table's ``columns`` if the codec takes them
    (as the runner does), so per-column settings such as ``trunc``'s bits apply."""
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
            "sha256": array_sha256(train.data),
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
        bound_check = check_bound(data, recon, bound, item.columns if item.kind == "table" else None)
    root = None
    if item.tree or item.event_counts is not None:
        root = {
            "tree": item.tree,
            "counter": item.counter,
            "n_events": None if item.event_counts is None else len(item.event_counts),
            "source_dtypes": item.source_dtypes,
            "counter_dtype": item.counter_dtype,
            "branch_index": item.branch_index,
        }
    meta = {k: v for k, v in jsonable(item.meta).items() if k != "path"}  # no local paths in archives
    manifest = {
        "name": item.name,
        "kind": item.kind,
        "shape": list(data.shape),
        "dtype": data.dtype.str,
        "columns": item.columns,
        "units": dict(item.units),
        "original_sha256": array_sha256(data),
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
