"""Loader options (issue 13 item 7) and the netCDF-4 loader (issue 13 item 20).

Files are written by the tests into a data directory put on ``CODECBENCH_DATA_PATH``, and a user
registry names them with their sha256.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from codecbench.data.load import load_dataset
from codecbench.errors import ConfigError, DatasetError

COLUMNS = ["pt", "eta", "phi", "mass", "energy"]
TABLE = (np.arange(50, dtype=np.float32).reshape(10, 5) + 1) / 4


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entries: dict) -> Path:
    monkeypatch.setenv("CODECBENCH_DATA_PATH", str(tmp_path))
    reg = tmp_path / "reg.yaml"
    reg.write_text(yaml.safe_dump({"datasets": entries}))
    return reg


def test_npz_columns_select_and_order_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    np.savez(tmp_path / "jets.npz", data=TABLE, columns=np.array(COLUMNS))
    loader = {"format": "npz", "key": "data", "columns_key": "columns", "columns": ["mass", "pt", "en*"]}
    reg = _registry(
        tmp_path, monkeypatch, {"j": {"file": "jets.npz", "sha256": _sha(tmp_path / "jets.npz"), "loader": loader}}
    )
    ds = load_dataset("j", registry=reg)
    assert ds.columns == ["mass", "pt", "energy"]
    np.testing.assert_array_equal(ds.data, TABLE[:, [3, 0, 4]])
    bad = {**loader, "columns": ["mass", "ptt"]}
    reg = _registry(
        tmp_path, monkeypatch, {"j": {"file": "jets.npz", "sha256": _sha(tmp_path / "jets.npz"), "loader": bad}}
    )
    with pytest.raises(DatasetError, match=r"jets\.npz: no column 'ptt'; closest: pt"):
        load_dataset("j", registry=reg)


def test_npy_and_hdf5_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    h5py = pytest.importorskip("h5py")
    np.save(tmp_path / "t.npy", TABLE)
    with h5py.File(tmp_path / "t.h5", "w") as f:
        f.create_dataset("jets", data=TABLE).attrs["cols"] = np.array(COLUMNS, dtype=h5py.string_dtype())
        f.create_dataset("plain", data=TABLE)
    entries = {
        "npy": {
            "file": "t.npy",
            "sha256": _sha(tmp_path / "t.npy"),
            "loader": {"format": "npy", "columns": ["x4", "x1"]},
        },
        "h5": {
            "file": "t.h5",
            "sha256": _sha(tmp_path / "t.h5"),
            "loader": {"format": "hdf5", "key": "jets", "columns_key": "cols", "columns": ["phi", "eta"]},
        },
        "h5plain": {
            "file": "t.h5",
            "sha256": _sha(tmp_path / "t.h5"),
            "loader": {"format": "hdf5", "key": "plain", "columns": ["x2"]},
        },
    }
    reg = _registry(tmp_path, monkeypatch, entries)
    npy = load_dataset("npy", registry=reg)
    assert npy.columns == ["x4", "x1"] and np.array_equal(npy.data, TABLE[:, [4, 1]])
    h5 = load_dataset("h5", registry=reg)
    assert h5.columns == ["phi", "eta"] and np.array_equal(h5.data, TABLE[:, [2, 1]])
    plain = load_dataset("h5plain", registry=reg)  # 2-D without names: the columns are x0, x1, ...
    assert plain.columns == ["x2"] and np.array_equal(plain.data, TABLE[:, [2]])


def test_unknown_loader_options_name_the_allowed_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from codecbench.data.options import LOADER_OPTIONS

    np.save(tmp_path / "t.npy", TABLE)
    for fmt, opts in LOADER_OPTIONS.items():
        loader = {"format": fmt, **{k: "x" for k, o in opts.items() if o.required}, "bogus": 1}
        reg = _registry(
            tmp_path, monkeypatch, {"t": {"file": "t.npy", "sha256": _sha(tmp_path / "t.npy"), "loader": loader}}
        )
        listing = ", ".join(sorted(opts)) or "none"
        with pytest.raises(
            ConfigError, match=rf"field 'loader': the {fmt} loader has no option 'bogus'; its options: {listing}"
        ):
            load_dataset("t", registry=reg)


def test_text_keys_copy_text_arrays_into_meta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    np.savez(tmp_path / "g.npz", data=TABLE, generator=np.array("Pythia 8.318, seed 7"))
    loader = {"format": "npz", "key": "data", "text_keys": ["generator", "absent"]}
    reg = _registry(
        tmp_path, monkeypatch, {"g": {"file": "g.npz", "sha256": _sha(tmp_path / "g.npz"), "loader": loader}}
    )
    assert load_dataset("g", registry=reg).meta["file_info"] == {"generator": "Pythia 8.318, seed 7"}


# --- netCDF-4 -----------------------------------------------------------------------------------


def _write_netcdf(path: Path) -> dict[str, np.ndarray]:
    """A small wind-farm style file: 1-D variables along `time`, one packed, one with fill values; a 2-D field."""
    h5netcdf = pytest.importorskip("h5netcdf")
    speed = np.array([3.5, 7.25, -999.0, 11.0, 5.5, 9.0], dtype=np.float32)
    packed = np.array([0, 10, 20, -32767, 40, 50], dtype=np.int16)  # power = 100 + 0.5 * raw, -32767 = fill
    temp = np.array([280.5, 281.0, 1e20, 282.25, 283.0, 284.5], dtype=np.float64)
    grid = np.arange(12, dtype=np.float32).reshape(3, 4)
    with h5netcdf.File(path, "w") as f:
        f.dimensions = {"time": 6, "lat": 3, "lon": 4}
        v = f.create_variable("wind_speed", ("time",), "f4", fillvalue=np.float32(-999.0))
        v[...] = speed
        v.attrs["units"] = "m s-1"
        v = f.create_variable("power", ("time",), "i2", fillvalue=np.int16(-32767))
        v[...] = packed
        v.attrs["scale_factor"] = np.float32(0.5)
        v.attrs["add_offset"] = np.float32(100.0)
        v.attrs["units"] = "kW"
        v = f.create_variable("temperature", ("time",), "f8")
        v[...] = temp
        v.attrs["missing_value"] = 1e20
        v.attrs["units"] = "K"
        v = f.create_variable("pressure", ("lat", "lon"), "f4")
        v[...] = grid
        v.attrs["units"] = "hPa"
    return {"speed": speed, "packed": packed, "temp": temp, "grid": grid}


def test_netcdf_table_honours_fill_values_packing_and_units(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _write_netcdf(tmp_path / "farm.nc")
    sha = _sha(tmp_path / "farm.nc")
    entry = {
        "file": "farm.nc",
        "sha256": sha,
        "dtype": "float64",
        "loader": {"format": "netcdf", "variables": ["wind_speed", "power", "temperature"]},
        "units": {"temperature": "kelvin"},  # the registry's units take precedence over the file's
    }
    reg = _registry(tmp_path, monkeypatch, {"farm": entry})
    ds = load_dataset("farm", registry=reg)
    assert ds.columns == ["wind_speed", "power", "temperature"] and ds.data.shape == (6, 3)
    speed, power, temp = ds.data.T
    np.testing.assert_array_equal(np.isnan(speed), [False, False, True, False, False, False])
    np.testing.assert_array_equal(speed[~np.isnan(speed)], raw["speed"][[0, 1, 3, 4, 5]])
    np.testing.assert_allclose(power, [100.0, 105.0, 110.0, np.nan, 120.0, 125.0])  # 100 + 0.5 * raw
    assert np.isnan(temp[2]) and temp[0] == 280.5
    assert ds.meta["units"] == {"wind_speed": "m s-1", "power": "kW", "temperature": "kelvin"}
    assert ds.meta["source_dtypes"] == {"wind_speed": "float32", "power": "int16", "temperature": "float64"}

    raw_entry = {**entry, "loader": {**entry["loader"], "mask_and_scale": False}, "units": {}}
    reg = _registry(tmp_path, monkeypatch, {"farm": raw_entry})
    assert load_dataset("farm", registry=reg).data[3, 1] == -32767  # as stored


def test_netcdf_field_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _write_netcdf(tmp_path / "farm.nc")
    sha = _sha(tmp_path / "farm.nc")
    entries = {
        "p": {
            "kind": "field",
            "file": "farm.nc",
            "sha256": sha,
            "loader": {"format": "netcdf", "variables": "pressure"},
        },
        "mixed": {"file": "farm.nc", "sha256": sha, "loader": {"format": "netcdf", "variables": ["power", "pressure"]}},
        "typo": {"file": "farm.nc", "sha256": sha, "loader": {"format": "netcdf", "variables": ["wind_sped"]}},
    }
    reg = _registry(tmp_path, monkeypatch, entries)
    p = load_dataset("p", registry=reg)
    assert p.kind == "field" and np.array_equal(p.data, raw["grid"]) and p.meta["units"] == {"value": "hPa"}
    with pytest.raises(DatasetError, match=r"needs 1-D variables along one dimension; got power \('time',\), pressure"):
        load_dataset("mixed", registry=reg)
    with pytest.raises(DatasetError, match=r"farm\.nc: no variable 'wind_sped'; closest: wind_speed"):
        load_dataset("typo", registry=reg)


def test_a_netcdf4_file_is_hdf5_underneath(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the README says: `format: hdf5` opens the same file, as raw stored values (no unpacking)."""
    raw = _write_netcdf(tmp_path / "farm.nc")
    entry = {"file": "farm.nc", "sha256": _sha(tmp_path / "farm.nc"), "loader": {"format": "hdf5", "key": "power"}}
    reg = _registry(tmp_path, monkeypatch, {"h": entry})
    np.testing.assert_array_equal(load_dataset("h", registry=reg).data[:, 0], raw["packed"].astype(np.float32))


def test_netcdf_3_files_are_refused_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("h5netcdf")
    (tmp_path / "classic.nc").write_bytes(b"CDF\x01" + b"\x00" * 60)
    entry = {
        "file": "classic.nc",
        "sha256": _sha(tmp_path / "classic.nc"),
        "loader": {"format": "netcdf", "variables": "x"},
    }
    reg = _registry(tmp_path, monkeypatch, {"c": entry})
    with pytest.raises(DatasetError, match="not a readable netCDF-4 file.*netCDF-3"):
        load_dataset("c", registry=reg)
