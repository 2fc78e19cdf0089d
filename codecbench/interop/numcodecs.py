"""numcodecs interoperability, both ways: the public module (formerly ``codecbench.numcodecs``).

**numcodecs codecs in codecbench.** Any codec in numcodecs' registry runs in codecbench by spec
(``numcodecs:zlib``, ``numcodecs:{"id": "zfpy", "tolerance": 0.01}``); the adapter is
``codecbench.interop.numcodecs_codecs`` (re-exported here), which the registry uses.
``list_numcodecs`` is what ``list codecs --all`` adds.

**codecbench codecs in numcodecs (and Zarr).** ``as_numcodecs(codec)`` returns a numcodecs ``Codec``
registered under ``codecbench.<codec id>`` for any codecbench codec, fitted learned codecs
included: its config holds the codecbench config and the fitted state (base64 of
``save_fitted()``, or of ``save_state()`` for a decode-only export), so ``numcodecs.get_codec(config)``
in a fresh process rebuilds it. Chunks are codecbench-framed payloads (dtype, shape, checksums).
A fresh process finds the export classes of the built-in codecs through numcodecs' entry points
(``export_<id>`` attributes of this module); for any other codec call ``register(codec_id)`` or
``register_all()`` before reading.

Importing this module imports numcodecs through the zfpy version workaround (see
``import_numcodecs``), so ``import codecbench.interop.numcodecs`` before ``import numcodecs`` or
``import zarr`` is enough.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import numpy as np

from codecbench.codec import Codec
from codecbench.container import compress, decompress
from codecbench.errors import CodecError, PluginError
from codecbench.interop.numcodecs_codecs import (
    EXPORT_PREFIX,
    ID_PREFIX,
    LOSSLESS_IDS,
    REFUSED_IDS,
    SPEC_PREFIX,
    NumcodecsCodec,
    adapter_class,
    import_numcodecs,
    numcodecs_ids,
    numcodecs_registry,
    parse_numcodecs_spec,
)
from codecbench.plugins import CodecInfo, available, get_codec

__all__ = [
    "EXPORT_PREFIX",
    "ID_PREFIX",
    "LOSSLESS_IDS",
    "OBJECT_ONLY_IDS",
    "REFUSED_IDS",
    "SPEC_PREFIX",
    "NumcodecsCodec",
    "adapter_class",
    "as_numcodecs",
    "export_class",
    "import_numcodecs",
    "list_numcodecs",
    "numcodecs_ids",
    "parse_numcodecs_spec",
    "register",
    "register_all",
]

#: numcodecs ids that handle only object or string arrays, not codecbench's numeric arrays.
OBJECT_ONLY_IDS = frozenset({"vlen-utf8", "vlen-bytes", "vlen-array", "json2", "msgpack2", "categorize"})


def list_numcodecs() -> list[CodecInfo]:
    """What ``list codecs --all`` adds: one row per numcodecs codec (or one row saying numcodecs is missing)."""
    try:
        ids = numcodecs_ids()
    except PluginError as exc:
        return [CodecInfo("numcodecs:*", "", "numcodecs", "-", ("sota",), status="needs sota extra", error=str(exc))]
    version = getattr(import_numcodecs(), "__version__", "?")
    rows = []
    for ncid in ids:
        info = CodecInfo(ID_PREFIX + ncid, f"numcodecs:{ncid}", "numcodecs", version, ())
        try:
            cls = adapter_class(ID_PREFIX + ncid)
            info.status, info.lossless, info.learned = "ok", bool(cls.lossless), False
            if ncid in OBJECT_ONLY_IDS:
                info.status = "object arrays only"
        except Exception as exc:  # refused, or an entry point of another package that fails to import
            info.status = "refused" if ncid in REFUSED_IDS else "broken"
            info.error = str(exc)
        rows.append(info)
    return rows


_exports: dict[str, type] = {}


def _export_base() -> type:
    if "" in _exports:
        return _exports[""]
    nc = import_numcodecs()
    from numcodecs.compat import ensure_bytes, ensure_ndarray, ndarray_copy

    class CodecbenchNumcodec(nc.abc.Codec):  # type: ignore[misc, name-defined]
        """A codecbench codec as a numcodecs codec; chunks are codecbench-framed payloads.

        Config: ``{"id": "codecbench.<id>", "config": <codecbench config>, "state": <base64 or None>,
        "state_kind": "fitted" | "decoder"}``.
        """

        codec_id: str | None = None

        def __init__(self, config: dict[str, Any], state: str | None = None, state_kind: str = "fitted") -> None:
            if state_kind not in ("fitted", "decoder"):
                raise CodecError(f"state_kind must be 'fitted' or 'decoder', not {state_kind!r}")
            self.config, self.state, self.state_kind = dict(config), state, state_kind
            self.codec = get_codec(self.config)
            if self.codec_id != EXPORT_PREFIX + self.codec.codec_id:
                raise CodecError(
                    f"numcodecs id {self.codec_id!r} does not match codecbench codec {self.codec.codec_id!r}"
                )
            if state:
                try:
                    blob = base64.b64decode(state.encode("ascii"), validate=True)
                except (ValueError, UnicodeEncodeError) as exc:
                    raise CodecError(f"exported codec {self.codec_id!r}: its state is not valid base64") from exc
                (self.codec.load_fitted if state_kind == "fitted" else self.codec.load_state)(blob)

        def encode(self, buf: Any) -> bytes:
            return compress(self.codec, np.ascontiguousarray(ensure_ndarray(buf)))

        def decode(self, buf: Any, out: Any = None) -> Any:
            arr = decompress(self.codec, ensure_bytes(buf))
            return ndarray_copy(arr, out)

        def get_config(self) -> dict[str, Any]:
            return {"id": self.codec_id, "config": self.config, "state": self.state, "state_kind": self.state_kind}

        def __repr__(self) -> str:
            return f"{type(self).__name__}({self.codec!r})"

    _exports[""] = CodecbenchNumcodec
    return CodecbenchNumcodec


def export_class(codec_id: str) -> type:
    """The numcodecs codec class ``codecbench.<codec_id>``, made once and registered with numcodecs."""
    if codec_id.startswith(ID_PREFIX):
        raise CodecError(f"{codec_id!r} is a numcodecs codec already; use numcodecs.get_codec directly")
    if codec_id not in _exports:
        base = _export_base()
        cls = type(
            "Codecbench_" + re.sub(r"\W", "_", codec_id),
            (base,),
            {"codec_id": EXPORT_PREFIX + codec_id, "__module__": __name__},
        )
        _exports[codec_id] = cls
    cls = _exports[codec_id]
    numcodecs_registry().register_codec(cls)
    return cls


def register(codec_id: str) -> None:
    """Register ``codecbench.<codec_id>`` with numcodecs (before reading data written with it)."""
    export_class(codec_id)


def register_all() -> list[str]:
    """Register every installed codecbench codec with numcodecs; return the numcodecs ids registered."""
    return [export_class(cid).codec_id for cid in available()]


def as_numcodecs(codec: Codec, include_encoder: bool = True) -> Any:
    """A numcodecs ``Codec`` (id ``codecbench.<id>``) that encodes and decodes exactly like ``codec``.

    A fitted learned codec carries its state in the config: ``save_fitted()`` (encoder and decoder)
    by default, or only ``save_state()`` (enough to decode) with ``include_encoder=False``. A wrapped
    numcodecs codec is returned as the numcodecs codec it wraps.
    """
    if isinstance(codec, NumcodecsCodec):
        return codec.numcodecs_codec
    if not isinstance(codec, Codec):
        raise CodecError(f"as_numcodecs takes a codecbench Codec, not {type(codec).__name__}")
    blob = codec.save_fitted() if include_encoder else codec.save_state()
    state = base64.b64encode(blob).decode("ascii") if blob else None
    cls = export_class(codec.codec_id)
    return cls(config=codec.get_config(), state=state, state_kind="fitted" if include_encoder else "decoder")


def __getattr__(name: str) -> Any:
    """``export_<id>``: the export class of a codec, for numcodecs' entry points (``numcodecs.codecs`` group)."""
    if name.startswith("export_") and len(name) > len("export_"):
        return export_class(name[len("export_") :])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
