"""netCDF-4 files (``loader: {format: netcdf, variables: [...]}``), read with h5netcdf.

A netCDF-4 file is an HDF5 file underneath (``format: hdf5`` opens it too, as raw datasets); this
reader follows the netCDF conventions instead. It takes ``variables`` (names or glob patterns): one
variable of any shape is a field (or a table when it is 2-D or 1-D and the entry says ``kind:
table``); several 1-D variables along one dimension are the columns of a table, in the order named.

With ``mask_and_scale`` (the default), values equal to a variable's ``_FillValue`` or
``missing_value`` become NaN, and packed values are unpacked as ``raw * scale_factor + add_offset``
in the dtype of those attributes (CF conventions); each variable's ``units`` attribute is returned in
``extra['file_units']`` (the registry entry's ``units`` take precedence), its stored dtype in
``extra['source_dtypes']``. Needs ``pip install 'codecbench[hdf5]'`` (h5py and h5netcdf).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from codecbench.data.names import select_names
from codecbench.errors import DatasetError


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return " ".join(_text(v) for v in value.ravel().tolist())
    return str(value)


def unpack(raw: np.ndarray, attrs: Any) -> np.ndarray:
    """CF decoding of one variable: fill and missing values to NaN, then ``raw * scale_factor + add_offset``."""
    mask = np.zeros(raw.shape, dtype=bool)
    for key in ("_FillValue", "missing_value"):
        if key in attrs:
            fill = np.asarray(attrs[key]).ravel()
            if raw.dtype.kind == "f":
                fill = fill[~np.isnan(fill.astype(np.float64))]  # NaN fills are NaN already
            mask |= np.isin(raw, fill)
    scale, offset = attrs.get("scale_factor"), attrs.get("add_offset")
    if scale is not None or offset is not None:
        packed = [np.asarray(a).dtype for a in (scale, offset) if a is not None]
        dtype = np.result_type(*packed)
        dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
        out = raw.astype(dtype)
        if scale is not None:
            out *= np.asarray(scale, dtype=dtype).reshape(())
        if offset is not None:
            out += np.asarray(offset, dtype=dtype).reshape(())
    elif mask.any():
        out = raw.astype(raw.dtype if raw.dtype.kind == "f" else np.float64)
    else:
        return raw
    out[mask] = np.nan
    return out


def load_netcdf(path: Path, opts: dict[str, Any]) -> tuple[np.ndarray, list[str] | None, dict[str, Any]]:
    """The ``variables`` of a netCDF-4 file as one array (see the module docstring)."""
    try:
        import h5netcdf
    except ImportError:
        raise DatasetError("reading netCDF-4 files needs h5netcdf: pip install 'codecbench[hdf5]'") from None
    try:
        f = h5netcdf.File(path, "r")
    except Exception as exc:  # h5py/h5netcdf raise OSError, ValueError...
        raise DatasetError(
            f"{path.name}: not a readable netCDF-4 file ({type(exc).__name__}: {exc}); netCDF-3 (classic) files "
            "are not HDF5 and are not supported: convert them with `nccopy -k nc4`"
        ) from None
    arrays: list[np.ndarray] = []
    dims: list[tuple[str, ...]] = []
    extra: dict[str, Any] = {"file_units": {}, "source_dtypes": {}}
    with f:
        names = select_names(opts["variables"], list(f.variables), path, "variable")
        for name in names:
            var = f.variables[name]
            raw = np.asarray(var[...])
            if raw.dtype.kind not in "fiub":
                raise DatasetError(f"{path.name}: variable {name!r} holds {raw.dtype}, not numbers")
            attrs = var.attrs
            arrays.append(unpack(raw, attrs) if opts.get("mask_and_scale", True) else raw)
            dims.append(tuple(var.dimensions))
            extra["source_dtypes"][name] = raw.dtype.name
            if "units" in attrs:
                extra["file_units"][name] = _text(attrs["units"])
    if len(arrays) == 1:
        data = arrays[0]
        if data.ndim == 1:
            return data, names, extra
        if len(names) == 1 and names[0] in extra["file_units"]:
            extra["file_units"]["value"] = extra["file_units"][names[0]]
        return data, None, extra
    if any(len(d) != 1 for d in dims) or len(set(dims)) != 1:
        shown = ", ".join(f"{n} {d}" for n, d in zip(names, dims))
        raise DatasetError(
            f"{path.name}: a table of several variables needs 1-D variables along one dimension; got {shown}"
        )
    data = (
        np.stack(arrays, axis=1)
        if len({a.dtype for a in arrays}) == 1
        else np.stack([a.astype(np.float64) for a in arrays], axis=1)
    )
    return data, names, extra
