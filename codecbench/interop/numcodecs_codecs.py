"""numcodecs codecs run as codecbench codecs: the adapter, and numcodecs imported safely.

**numcodecs codecs in codecbench.** Any codec in numcodecs' registry runs in codecbench by spec::

    codecbench run --codecs 'numcodecs:{"id": "zfpy", "tolerance": 0.01}'
    codecbench run --codecs numcodecs:zlib --set numcodecs.zlib.level=9
    get_codec('numcodecs:{"id": "zfpy", "tolerance": 0.01}')
    get_codec({"id": "numcodecs.zfpy", "tolerance": 0.01})

The codecbench id of a wrapped codec is ``numcodecs.<its numcodecs id>``; its parameters are the
numcodecs codec's own. ``list codecs --all`` lists them. Only a known set of numcodecs ids is
flagged lossless (``LOSSLESS_IDS``: the compressors and shuffles), so the harness checks those bit
for bit; every other one is measured as lossy.

**numcodecs 0.16 with zfpy 1.0.1.post0.** numcodecs parses zfpy's version as integers, and the
``post0`` release makes ``import numcodecs`` raise ``ValueError`` (and with it ``import zarr``).
``import_numcodecs()`` works around that by retrying the import with the version strings reduced
to their numeric release part. Importing this module runs it, so ``import codecbench.interop.numcodecs``
before ``import numcodecs`` or ``import zarr`` is enough.

This module depends on the codec contract only: the registry (``codecbench.plugins``) imports it
to resolve ``numcodecs.<id>`` ids and ``numcodecs:`` specs. The other direction (codecbench codecs
exported to numcodecs) needs the registry and lives in ``codecbench.interop.numcodecs``.
"""

from __future__ import annotations

import importlib.metadata as _md
import inspect
import json
import re
import sys
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from codecbench.codec import Codec
from codecbench.errors import CodecbenchError, CodecError, PayloadError, PluginError

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


def numcodecs_registry() -> Any:
    """numcodecs' codec registry module (``numcodecs.registry``), numcodecs imported safely."""
    return import_numcodecs().registry


def numcodecs_ids() -> list[str]:
    """The ids in numcodecs' registry (registered classes and entry points), without our own exports."""
    reg = numcodecs_registry()
    ids = set(reg.codec_registry) | set(reg.entries)
    return sorted(i for i in ids if isinstance(i, str) and not i.startswith(EXPORT_PREFIX))


def _numcodecs_class(ncid: str) -> type:
    reg = numcodecs_registry()
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
