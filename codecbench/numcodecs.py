"""numcodecs interoperability, both ways.

**numcodecs codecs in codecbench.** Any codec in numcodecs' registry runs in codecbench by spec::

    codecbench run --codecs 'numcodecs:{"id": "zfpy", "tolerance": 0.01}'
    codecbench run --codecs numcodecs:zlib --set numcodecs.zlib.level=9
    get_codec('numcodecs:{"id": "zfpy", "tolerance": 0.01}')
    get_codec({"id": "numcodecs.zfpy", "tolerance": 0.01})

The codecbench id of a wrapped codec is ``numcodecs.<its numcodecs id>``; its parameters are the
numcodecs codec's own. ``list codecs --all`` lists them. Only a known set of numcodecs ids is
flagged lossless (``LOSSLESS_IDS``: the compressors and shuffles), so the harness checks those bit
for bit; every other one is measured as lossy.

**codecbench codecs in numcodecs (and Zarr).** ``as_numcodecs(codec)`` returns a numcodecs ``Codec``
registered under ``codecbench.<codec id>`` for any codecbench codec, fitted learned codecs
included: its config holds the codecbench config and the fitted state (base64 of
``save_fitted()``, or of ``save_state()`` for a decode-only export), so ``numcodecs.get_codec(config)``
in a fresh process rebuilds it. Chunks are codecbench-framed payloads (dtype, shape, checksums).
A fresh process finds the export classes of the built-in codecs through numcodecs' entry points;
for any other codec call ``register(codec_id)`` or ``register_all()`` before reading.

**numcodecs 0.16 with zfpy 1.0.1.post0.** numcodecs parses zfpy's version as integers, and the
``post0`` release makes ``import numcodecs`` raise ``ValueError`` (and with it ``import zarr``).
``import_numcodecs()`` works around that by retrying the import with the version strings reduced
to their numeric release part. Importing this module runs it, so ``import codecbench.numcodecs``
before ``import numcodecs`` or ``import zarr`` is enough.
"""

from __future__ import annotations

import base64
import importlib.metadata as _md
import inspect
import re
import sys
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from codecbench.codec import Codec
from codecbench.container import compress, decompress
from codecbench.errors import CodecbenchError, CodecError, PayloadError, PluginError
from codecbench.plugins import CodecInfo

#: Prefix of the codecbench ids of wrapped numcodecs codecs, and of the spec strings.
ID_PREFIX = "numcodecs."
SPEC_PREFIX = "numcodecs:"
#: Prefix of the numcodecs ids of exported codecbench codecs.
EXPORT_PREFIX = "codecbench."
#: numcodecs ids whose round trip is bit-exact (checked as lossless by the harness).
LOSSLESS_IDS = frozenset(
    {"zlib", "gzip", "bz2", "lzma", "blosc", "zstd", "lz4", "shuffle", "bitshuffle", "pcodec", "base64", "fletcher32",
     "crc32", "adler32", "crc32c", "jenkins_lookup3", "zlib_ng"}
)  # fmt: skip
#: numcodecs ids codecbench refuses to run: decoding them unpickles the payload (arbitrary code).
REFUSED_IDS = frozenset({"pickle"})
#: numcodecs ids that handle only object or string arrays, not codecbench's numeric arrays.
OBJECT_ONLY_IDS = frozenset({"vlen-utf8", "vlen-bytes", "vlen-array", "json2", "msgpack2", "categorize"})
_INSTALL = "pip install 'codecbench[sota]'"

_numcodecs: ModuleType | None = None


def _release(v: str) -> str:
    m = re.match(r"\d+(\.\d+)*", v)
    return m.group(0) if m else v


def import_numcodecs() -> ModuleType:
    """Import numcodecs (working around its zfpy version parsing), or raise ``PluginError`` saying what to install."""
    global _numcodecs
    if _numcodecs is not None:
        return _numcodecs
    try:
        import numcodecs
    except ImportError as exc:
        raise PluginError(f"numcodecs is not installed ({exc}); install it: {_INSTALL}") from exc
    except ValueError as first:
        # numcodecs.zfpy does tuple(map(int, version("zfpy").split("."))), which fails on "1.0.1.post0"
        # drop the half-imported submodules so the retry rebuilds the package with its attributes
        for name in [m for m in sys.modules if m == "numcodecs" or m.startswith("numcodecs.")]:
            del sys.modules[name]
        original = _md.version
        _md.version = lambda name: _release(original(name))  # type: ignore[assignment]
        try:
            import numcodecs
        except Exception as exc:
            raise PluginError(f"numcodecs cannot be imported: {first}; retrying gave: {exc}") from exc
        finally:
            _md.version = original  # type: ignore[assignment]
    _numcodecs = numcodecs
    return numcodecs


# Importing this module imports numcodecs (if installed) through the workaround, so that a later
# plain `import numcodecs` or `import zarr` in the same process works too.
try:
    import_numcodecs()
except PluginError:
    pass


def _registry() -> Any:
    return import_numcodecs().registry


def numcodecs_ids() -> list[str]:
    """The ids in numcodecs' registry (registered classes and entry points), without our own exports."""
    reg = _registry()
    ids = set(reg.codec_registry) | set(reg.entries)
    return sorted(i for i in ids if isinstance(i, str) and not i.startswith(EXPORT_PREFIX))


def _numcodecs_class(ncid: str) -> type:
    reg = _registry()
    cls = reg.codec_registry.get(ncid)
    if cls is None and ncid in reg.entries:
        cls = reg.entries[ncid].load()
        reg.register_codec(cls, codec_id=ncid)
    if cls is None:
        import difflib

        close = difflib.get_close_matches(ncid, numcodecs_ids(), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise PluginError(f"numcodecs has no codec {ncid!r}{hint} (see `codecbench list codecs --all`)")
    return cls


# --- numcodecs codecs in codecbench --------------------------------------------------------------


class NumcodecsCodec(Codec):
    """A numcodecs codec run as a codecbench codec; subclasses are made per numcodecs id by ``adapter_class``.

    Parameters are the numcodecs codec's own (``numcodecs.get_codec({"id": ..., **params})``).
    ``encode`` returns the numcodecs output as bytes; ``decode`` returns what numcodecs decodes,
    and the harness restores dtype and shape from the frame.
    """

    codec_id: ClassVar[str] = "numcodecs"
    numcodecs_id: ClassVar[str] = ""

    def __init__(self, **params: Any) -> None:
        if not self.numcodecs_id:
            raise CodecError("NumcodecsCodec is a base class: use get_codec('numcodecs:<id>')")
        try:
            self.numcodecs_codec = import_numcodecs().get_codec({"id": self.numcodecs_id, **params})
        except CodecbenchError:
            raise
        except Exception as exc:  # numcodecs raises TypeError/ValueError/RuntimeError on bad parameters
            raise CodecError(f"numcodecs codec {self.numcodecs_id!r} rejects parameters {params}: {exc}") from exc

    @classmethod
    def _signature(cls) -> inspect.Signature:
        return inspect.signature(_numcodecs_class(cls.numcodecs_id).__init__)

    @classmethod
    def param_names(cls) -> list[str]:
        """The numcodecs codec's constructor parameters."""
        if not cls.numcodecs_id:
            return []
        ps = cls._signature().parameters.values()
        return [p.name for p in ps if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """The numcodecs codec's constructor parameters with their defaults."""
        if not cls.numcodecs_id:
            return {}
        sig = cls._signature()
        return {n: sig.parameters[n].default for n in cls.param_names()}

    def get_config(self) -> dict[str, Any]:
        """``{"id": "numcodecs.<id>", **the numcodecs codec's config}``."""
        cfg = dict(self.numcodecs_codec.get_config())
        cfg.pop("id", None)
        return {"id": self.codec_id, **cfg}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Codec:
        """Build from ``get_config()``'s output; numcodecs itself validates the parameters."""
        if "id" in config and config["id"] != cls.codec_id:
            raise CodecError(f"config is for codec {config['id']!r}, not {cls.codec_id!r}")
        return cls(**{k: v for k, v in config.items() if k != "id"})

    def encode(self, data: np.ndarray) -> bytes:
        try:
            out = self.numcodecs_codec.encode(data)
        except Exception as exc:
            raise CodecError(f"numcodecs codec {self.numcodecs_id!r} cannot encode this array: {exc}") from exc
        if isinstance(out, np.ndarray):
            return np.ascontiguousarray(out).tobytes()
        return bytes(out)

    def decode(self, payload: bytes) -> np.ndarray:
        try:
            out = self.numcodecs_codec.decode(payload)
        except Exception as exc:
            raise PayloadError(f"numcodecs codec {self.numcodecs_id!r} cannot decode this body: {exc}") from exc
        if isinstance(out, np.ndarray) and out.dtype.kind not in "fiub":
            raise CodecError(f"numcodecs codec {self.numcodecs_id!r} decoded to dtype {out.dtype}, not a numeric array")
        return out if isinstance(out, np.ndarray) else np.frombuffer(bytes(out), dtype=np.uint8)


_adapters: dict[str, type[NumcodecsCodec]] = {}


def adapter_class(codec_id: str) -> type[NumcodecsCodec]:
    """The codecbench class of ``numcodecs.<id>`` (made once per id); ``PluginError`` if numcodecs has no such codec."""
    if codec_id in _adapters:
        return _adapters[codec_id]
    ncid = codec_id[len(ID_PREFIX) :] if codec_id.startswith(ID_PREFIX) else codec_id
    if ncid in REFUSED_IDS:
        raise PluginError(f"numcodecs codec {ncid!r} is refused: decoding it unpickles the payload, which can run code")
    if ncid.startswith(EXPORT_PREFIX):
        raise PluginError(f"{ncid!r} is a codecbench codec exported to numcodecs; use {ncid[len(EXPORT_PREFIX) :]!r}")
    _numcodecs_class(ncid)  # raises if unknown
    cls = type(
        "Numcodecs_" + re.sub(r"\W", "_", ncid),
        (NumcodecsCodec,),
        {
            "codec_id": ID_PREFIX + ncid,
            "numcodecs_id": ncid,
            "lossless": ncid in LOSSLESS_IDS,
            "__module__": __name__,
            "__doc__": f"numcodecs' {ncid!r} codec run through codecbench's adapter.",
        },
    )
    _adapters[codec_id] = cls
    return cls


def parse_numcodecs_spec(text: str) -> dict[str, Any]:
    """``numcodecs:{"id": "zfpy", "tolerance": 0.01}`` or ``numcodecs:zlib`` -> ``{"id": "numcodecs.zfpy", ...}``."""
    import json

    rest = text.strip()[len(SPEC_PREFIX) :].strip()
    if rest.startswith("{"):
        try:
            cfg = json.loads(rest)
        except json.JSONDecodeError as exc:
            raise CodecError(f"codec spec {text!r}: the part after 'numcodecs:' is not valid JSON: {exc}") from exc
        if not isinstance(cfg, dict) or not isinstance(cfg.get("id"), str) or not cfg["id"]:
            raise CodecError(f'codec spec {text!r}: expected numcodecs:{{"id": ..., params}}')
    elif rest:
        cfg = {"id": rest}
    else:
        raise CodecError(f"codec spec {text!r} names no numcodecs codec; e.g. numcodecs:zlib")
    return {**cfg, "id": ID_PREFIX + cfg["id"]}


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


# --- codecbench codecs in numcodecs --------------------------------------------------------------

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
            from codecbench.plugins import get_codec

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
    _registry().register_codec(cls)
    return cls


def register(codec_id: str) -> None:
    """Register ``codecbench.<codec_id>`` with numcodecs (before reading data written with it)."""
    export_class(codec_id)


def register_all() -> list[str]:
    """Register every installed codecbench codec with numcodecs; return the numcodecs ids registered."""
    from codecbench.plugins import available

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
