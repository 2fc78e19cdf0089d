"""The ``Dataset`` model: a float array plus what is known about it, and its train/test split."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from codecbench.errors import DatasetError


@dataclass
class Dataset:
    """A named float array with its column names (tables) and metadata.

    ``kind`` is ``"table"`` (2-D, rows x variables, ``columns`` names the variables) or ``"field"``
    (an N-d array such as time x y x x, ``columns`` is None). ``meta`` holds the source, units,
    license, notes, and after ``split`` which rows were kept.
    """

    name: str
    data: np.ndarray
    columns: list[str] | None = None
    kind: str = "table"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ("table", "field"):
            raise DatasetError(f"dataset {self.name!r}: kind must be 'table' or 'field', not {self.kind!r}")
        if not isinstance(self.data, np.ndarray):
            raise DatasetError(f"dataset {self.name!r}: data must be a numpy array")
        if self.kind == "table":
            if self.data.ndim != 2:
                raise DatasetError(f"dataset {self.name!r}: a table must be 2-D, got shape {self.data.shape}")
            if self.columns is None:
                self.columns = [f"x{i}" for i in range(self.data.shape[1])]
            if len(self.columns) != self.data.shape[1]:
                raise DatasetError(
                    f"dataset {self.name!r}: {len(self.columns)} column names for {self.data.shape[1]} columns"
                )

    @property
    def variables(self) -> list[str]:
        """Variable names as the metrics report them: the columns, or ``["value"]`` for a field."""
        return list(self.columns) if self.kind == "table" and self.columns else ["value"]

    @property
    def n_values(self) -> int:
        """Number of values in the array."""
        return int(self.data.size)

    def sha256(self) -> str:
        """SHA-256 of the array's bytes (with dtype and shape), identifying exactly what was measured."""
        h = hashlib.sha256()
        h.update(f"{self.data.dtype.str}{self.data.shape}".encode())
        h.update(np.ascontiguousarray(self.data).tobytes())
        return h.hexdigest()

    def split(self, test_fraction: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
        """Split along the first axis (rows, or time steps of a field) into (train, test).

        The permutation is drawn from ``numpy.random.default_rng(seed)``; both parts keep their
        rows in original order. ``meta["split"]`` records the fraction, seed and row counts.
        """
        if not 0.0 < test_fraction < 1.0:
            raise DatasetError(f"test_fraction must be between 0 and 1, not {test_fraction}")
        n = self.data.shape[0]
        n_test = max(1, int(round(n * test_fraction)))
        if n - n_test < 1:
            raise DatasetError(f"dataset {self.name!r} has {n} rows along its first axis: too few to split")
        perm = np.random.default_rng(seed).permutation(n)
        test_idx = np.sort(perm[:n_test])
        train_idx = np.sort(perm[n_test:])
        info = {"test_fraction": test_fraction, "seed": seed, "n_rows": n}
        idx_hash = hashlib.sha256(test_idx.astype("<i8").tobytes()).hexdigest()[:16]
        train = replace(
            self,
            data=np.ascontiguousarray(self.data[train_idx]),
            meta={**self.meta, "split": {**info, "part": "train", "n_part": len(train_idx), "test_rows_sha": idx_hash}},
        )
        test = replace(
            self,
            data=np.ascontiguousarray(self.data[test_idx]),
            meta={**self.meta, "split": {**info, "part": "test", "n_part": len(test_idx), "test_rows_sha": idx_hash}},
        )
        return train, test
