"""Registration and configuration checks: the entry point loads this very class, defaults work, and
``get_config``/``from_config`` describe the codec completely (same payload from the rebuilt codec).
"""

from __future__ import annotations

import inspect
import json

import numpy as np

from codecbench import plugins
from codecbench.codec import CONTRACT_VERSION
from codecbench.errors import CodecbenchError
from codecbench.testing.base import ConformanceBase
from codecbench.testing.outcome import Failed, explain, json_normal, json_ok


class RegistrationChecks(ConformanceBase):
    """Checks ``registration`` and ``config_round_trip``."""

    def check_registration(self) -> str:
        """Registered under the entry point with the same class, default construction, contract version."""

        cid = getattr(self.cls, "codec_id", None)
        if not isinstance(cid, str) or not cid:
            raise Failed(f"{self.cls.__name__} has no codec_id string class attribute")
        for attr in ("lossless", "learned"):
            if not isinstance(getattr(self.cls, attr, None), bool):
                value = getattr(self.cls, attr, None)
                raise Failed(f"{self.cls.__name__}.{attr} must be True or False, not {value!r}")
        version = getattr(self.cls, "contract_version", None)
        if version != CONTRACT_VERSION:
            raise Failed(
                f"{self.cls.__name__}.contract_version is {version!r}; this codecbench implements codec "
                f"contract version {CONTRACT_VERSION}"
            )
        if cid not in plugins.available():
            plugins.refresh()  # installed after this process first looked?
        if cid not in plugins.available():
            raise Failed(
                f"codec {cid!r} is not registered under the 'codecbench.codecs' entry point. Add to your "
                f'pyproject.toml:\n    [project.entry-points."codecbench.codecs"]\n    {cid} = '
                f'"{self.cls.__module__}:{self.cls.__qualname__}"\nand reinstall the package (pip install -e .)'
            )
        try:
            registered = plugins.get_codec_class(cid)
        except CodecbenchError as exc:
            raise Failed(f"get_codec_class({cid!r}) failed: {exc}") from exc
        if registered is not self.cls:
            raise Failed(
                f"the entry point {cid!r} loads {registered.__module__}.{registered.__qualname__}, not the checked "
                f"class {self.cls.__module__}.{self.cls.__qualname__}"
            )
        missing = [n for n, d in self.cls.param_defaults().items() if d is inspect.Parameter.empty]
        if missing:
            raise Failed(
                f"constructor parameters {', '.join(missing)} have no default; every parameter needs one so that "
                f"get_codec({cid!r}) works"
            )
        try:
            default = plugins.get_codec(cid)
        except Exception as exc:
            raise Failed(f"get_codec({cid!r}) raised {explain(exc)}") from exc
        if type(default) is not self.cls:
            raise Failed(f"get_codec({cid!r}) returned a {type(default).__name__}, not a {self.cls.__name__}")
        return f"entry point {cid!r} -> {self.cls.__module__}:{self.cls.__qualname__}"

    def check_config_round_trip(self) -> str:
        """get_config is complete and JSON-safe; from_config of it rebuilds an equal codec, same payload."""
        config = self.config()
        if not isinstance(config, dict):
            raise Failed(f"get_config() returned {type(config).__name__}, not a dict")
        if config.get("id") != self.codec_id:
            raise Failed(f"get_config()['id'] is {config.get('id')!r}, expected the codec_id {self.codec_id!r}")
        missing = [n for n in self.cls.param_names() if n not in config]
        if missing:
            raise Failed(f"get_config() leaves out constructor parameters {', '.join(missing)}")
        try:
            text = json.dumps(config, allow_nan=False)
        except (TypeError, ValueError) as exc:
            bad = [k for k, v in config.items() if not json_ok(v)]
            raise Failed(
                f"get_config() is not JSON-serialisable ({exc}); parameters {', '.join(bad) or '?'} must be plain "
                f"int/float/str/bool/None/list/dict (no numpy scalars, tuples of objects, NaN)"
            ) from exc
        from_json = json.loads(text)
        try:
            rebuilt = self.cls.from_config(from_json)
        except Exception as exc:
            raise Failed(f"from_config({from_json!r}) raised {explain(exc)}") from exc
        try:
            again = json_normal(rebuilt.get_config())
        except Exception as exc:
            raise Failed(f"the rebuilt codec's get_config() raised {explain(exc)}") from exc
        if again != from_json:
            raise Failed(
                f"the config does not round-trip: get_config() gave {from_json!r}, the codec rebuilt from it "
                f"gives {again!r}"
            )
        case = self.cases[0]
        codec = self.codec_for(case)
        if self.cls.learned:
            try:
                rebuilt.load_fitted(codec.save_fitted())
            except Exception as exc:
                raise Failed(f"load_fitted(save_fitted()) on the rebuilt codec raised {explain(exc)}") from exc
        try:
            p1 = codec.encode(np.ascontiguousarray(case.data))
            p2 = rebuilt.encode(np.ascontiguousarray(case.data))
        except Exception as exc:
            raise Failed(f"{case.name}: encode raised {explain(exc)}") from exc
        if bytes(p1) != bytes(p2):
            raise Failed(
                f"{case.name}: the codec rebuilt from its config encodes differently ({len(p2)} bytes vs "
                f"{len(p1)}): some setting that changes the output is not a constructor parameter stored "
                f"under its own name"
            )
        return f"config {text}"
