"""The state every check family shares: the codec under test, its inputs, and fitted instances.

``ConformanceBase`` builds the cases (the generated table and field, or the user's ``data``, each
also cast to the other float precision; learned codecs get a training split per case) and gives
the checks a fresh instance from the config (as a decoder process builds it), the instance
measured on a case (fitted once per case for learned codecs) and a checked round trip.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from codecbench.codec import Codec
from codecbench.container import compress, decompress
from codecbench.dataset import Dataset
from codecbench.errors import CodecError
from codecbench.plugins import get_codec
from codecbench.testing.inputs import TABLE_COLUMNS, sample_field, sample_table
from codecbench.testing.outcome import Failed, explain


@dataclass
class Case:
    """One input the codec is checked on."""

    name: str
    kind: str
    data: np.ndarray
    columns: list[str] | None
    train: Dataset | None = None


def _as_dataset(item: Any, index: int) -> Dataset:
    if isinstance(item, Dataset):
        return item
    arr = np.asarray(item)
    if arr.ndim == 2:
        return Dataset(f"data[{index}]", arr, kind="table")
    return Dataset(f"data[{index}]", arr, columns=None, kind="field")


def _describe(data: np.ndarray, kind: str) -> str:
    return f"{kind} {data.dtype} {tuple(data.shape)}"


class ConformanceBase:
    """The codec under test, its inputs and fitted instances (see ``Conformance`` for the parameters)."""

    def __init__(
        self,
        codec_or_spec: Codec | type[Codec] | str | dict[str, Any],
        data: Any = None,
        *,
        fields: bool = True,
        tables: bool = True,
        seed: int = 0,
        isolate: bool | None = None,
    ) -> None:
        if isinstance(codec_or_spec, Codec):
            codec = codec_or_spec
        elif isinstance(codec_or_spec, type) and issubclass(codec_or_spec, Codec):
            codec = codec_or_spec()
        else:
            codec = get_codec(codec_or_spec)  # type: ignore[arg-type]
        self.codec = codec
        self.cls: type[Codec] = type(codec)
        self.codec_id: str = getattr(self.cls, "codec_id", "?")
        self.fields = fields
        self.tables = tables
        self.seed = seed
        #: Decode damaged bodies in a forked child, so a crash in native code fails the check instead
        #: of killing the process. Default: where os.fork exists, for codecs that are not learned
        #: (forking after torch has started its thread pools is not safe).
        self.isolate = (hasattr(os, "fork") and not getattr(self.cls, "learned", False)) if isolate is None else isolate
        self.cases = self._make_cases(data)
        self._fitted: dict[str, Codec | BaseException] = {}

    def _make_cases(self, data: Any) -> list[Case]:
        learned = bool(getattr(self.cls, "learned", False))
        datasets: list[Dataset] = []
        if data is None:
            if self.tables:
                datasets.append(Dataset("table", sample_table(seed=self.seed), columns=list(TABLE_COLUMNS)))
            if self.fields:
                datasets.append(Dataset("field", sample_field(seed=self.seed), columns=None, kind="field"))
        else:
            items = list(data) if isinstance(data, list | tuple) else [data]
            datasets = [_as_dataset(item, i) for i, item in enumerate(items)]
        cases: list[Case] = []
        for ds in datasets:
            variants = [ds.data]
            if ds.data.dtype in (np.float32, np.float64):
                other = np.float64 if ds.data.dtype == np.float32 else np.float32
                variants.append(ds.data.astype(other))
            for arr in variants:
                full = Dataset(ds.name, np.ascontiguousarray(arr), columns=ds.columns, kind=ds.kind, meta=ds.meta)
                train = None
                measured = full.data
                if learned:
                    train, test = full.split(0.2, self.seed)
                    measured = test.data
                name = _describe(measured, ds.kind) + (f" '{ds.name}'" if data is not None else "")
                cases.append(Case(name, ds.kind, measured, ds.columns if ds.kind == "table" else None, train))
        if not cases:
            raise CodecError("no inputs to check: pass data, or leave tables or fields enabled")
        return cases

    def config(self) -> dict[str, Any]:
        """The codec's config (``get_config()``); a failure to produce it fails the calling check."""
        try:
            return self.codec.get_config()
        except Exception as exc:
            raise Failed(f"get_config() raised {explain(exc)}") from exc

    def new_instance(self, **overrides: Any) -> Codec:
        """A fresh, unfitted codec from the config (with ``overrides``), as a decoder process builds it."""
        config = {**self.config(), **overrides}
        try:
            return self.cls.from_config(config)
        except Exception as exc:
            raise Failed(f"{self.cls.__name__}.from_config({config!r}) raised {explain(exc)}") from exc

    def _fit(self, codec: Codec, train: Dataset | None, what: str) -> None:
        if train is None:
            return
        try:
            codec.fit(train)
        except Exception as exc:
            raise Failed(f"fit on the training split of {what} raised {explain(exc)}") from exc

    def codec_for(self, case: Case) -> Codec:
        """The instance measured on ``case``: fitted on its training split for learned codecs."""
        if not getattr(self.cls, "learned", False):
            return self.codec
        got = self._fitted.get(case.name)
        if got is None:
            try:
                got = self.new_instance()
                self._fit(got, case.train, case.name)
            except Failed as exc:
                got = exc
            self._fitted[case.name] = got
        if isinstance(got, BaseException):
            raise Failed(str(got))
        return got

    def _round_trip(self, codec: Codec, data: np.ndarray, what: str, decoder: Codec | None = None) -> np.ndarray:
        try:
            payload = compress(codec, data)
        except Exception as exc:
            raise Failed(f"{what}: compress raised {explain(exc)}") from exc
        try:
            out = decompress(decoder or codec, payload)
        except Exception as exc:
            raise Failed(f"{what}: decompress raised {explain(exc)}") from exc
        if out.shape != data.shape or out.dtype != data.dtype:
            raise Failed(f"{what}: decoded {out.dtype} {out.shape}, expected {data.dtype} {data.shape}")
        return out
