"""The model cache: a learned codec fitted once per (config, training rows, library versions).

Entries live in ``$CODECBENCH_CACHE_DIR/models`` (or the user cache): the ``save_fitted()`` blob and
a JSON file with its sha256, the fit time and the config. An entry is used only if the blob
matches its recorded sha256; a damaged one is refitted. Parameters a codec lists in
``encode_params`` are left out of the key, so settings that differ only in them share one model.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from codecbench._version import __version__
from codecbench.codec import Codec
from codecbench.data.files import atomic_write_text
from codecbench.dataset import Dataset
from codecbench.errors import CodecbenchError
from codecbench.measure.timing import time_once


def model_cache_dir() -> Path:
    """Where fitted models are cached: ``$CODECBENCH_CACHE_DIR/models`` or the user cache dir."""
    root = os.environ.get("CODECBENCH_CACHE_DIR")
    if not root:
        import platformdirs

        root = platformdirs.user_cache_dir("codecbench")
    return Path(root) / "models"


def _model_key(config: dict[str, Any], train: Dataset, encode_params: tuple[str, ...] = ()) -> str:
    from importlib import metadata

    def v(d: str) -> str | None:
        try:
            return metadata.version(d)
        except metadata.PackageNotFoundError:
            return None

    key = {
        "config": {k: v for k, v in config.items() if k not in encode_params},
        "train_sha256": train.sha256(),
        "split": train.meta.get("split"),
        "versions": [__version__, v("torch"), v("nflows"), np.__version__],
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:32]


def fit_cached(codec: Codec, config: dict[str, Any], train: Dataset, refit: bool = False) -> tuple[float, str]:
    """Fit (or load from the model cache) a learned codec; returns (fit seconds, "hit"|"miss"|"refit")."""
    cache = model_cache_dir()
    key = _model_key(config, train, tuple(getattr(codec, "encode_params", ())))
    blob_path, meta_path = cache / f"{key}.bin", cache / f"{key}.json"
    if not refit and blob_path.exists() and meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text())
            blob = blob_path.read_bytes()
            if hashlib.sha256(blob).hexdigest() == meta.get("sha256"):
                codec.load_fitted(blob)
                return float(meta["fit_s"]), "hit"
        except (OSError, ValueError, KeyError, CodecbenchError):
            pass  # a damaged cache entry is ignored and refitted
    fit_s, _ = time_once(lambda: codec.fit(train))
    blob = codec.save_fitted()
    cache.mkdir(parents=True, exist_ok=True)
    tmp = blob_path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(blob)
    os.replace(tmp, blob_path)
    atomic_write_text(
        meta_path, json.dumps({"fit_s": fit_s, "sha256": hashlib.sha256(blob).hexdigest(), "config": config})
    )
    return fit_s, "refit" if refit else "miss"
