"""Plots of stored results: rate-distortion curves, and per-record residual/response histograms.

Needs matplotlib (``pip install 'codecbench[plot]'``); it is imported only when a plot is made, and
figures are drawn on ``matplotlib.figure.Figure`` directly (no pyplot, no global backend switch), so
plotting works headless and does not disturb a notebook's backend.

- ``rate_distortion_figure(frame, dataset)``: effective ratio (solid) and ratio (dashed, where aux
  bytes make them differ) against worst ``rel_rms`` on a log axis, one line per codec, the Pareto
  front highlighted, lossless codecs as horizontal lines (their error is 0).
- ``record_figures(record, recon)``: for one record, per variable: original and reconstructed
  distributions, the residual (reconstructed - original) and the response ((reconstructed -
  original) / original) with mean and RMS written on them; for fields a slice image; for jet
  tables the energy of each jet from (pt, eta, phi, m) and, where the dataset knows each jet's
  event (``meta["event_index"]``), the invariant mass of each event's two leading jets.
- ``reconstruct(record)``: re-runs a record's codec on its dataset with the public API (fitting
  learned codecs on the training split the record names) to get the reconstruction to plot.

Figures are sized for a 16:9 slide (10 x 5.625 inches; PNG at 150 dpi) and labelled with the units
the dataset's ``meta["units"]`` gives.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from codecbench.errors import CodecbenchError, ConfigError
from codecbench.measure.jets import four_vectors, jet_columns, leading_pairs, pair_mass

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from codecbench.dataset import Dataset

#: Figure size in inches (16:9, a slide) and the PNG resolution.
SLIDE_SIZE = (10.0, 5.625)
PNG_DPI = 150

_RC = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "figure.titlesize": 13,
    "pdf.fonttype": 42,
}


def require_matplotlib() -> Any:
    """Import matplotlib or raise a CodecbenchError that names the extra to install."""
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401
    except ImportError as exc:
        raise CodecbenchError(
            f"plotting needs matplotlib ({exc}); install it with: pip install 'codecbench[plot]'"
        ) from None
    return matplotlib


def new_figure(ncols: int = 1, nrows: int = 1, constrained: bool = True, **kwargs: Any) -> tuple[Figure, Any]:
    """A slide-sized figure with a grid of axes: constrained layout, or fixed margins (faster to draw)."""
    mpl = require_matplotlib()
    with mpl.rc_context(_RC):
        fig = mpl.figure.Figure(figsize=SLIDE_SIZE, layout="constrained" if constrained else None)
        axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
        if not constrained:
            fig.subplots_adjust(left=0.065, right=0.985, bottom=0.13, top=0.87, wspace=0.3)
    return fig, axes


def save_figure(
    fig: Figure, out_dir: str | os.PathLike[str], stem: str, formats: Sequence[str] = ("png", "pdf")
) -> list[Path]:
    """Write ``fig`` as ``out_dir/stem.<format>`` for each format; returns the paths."""
    mpl = require_matplotlib()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with mpl.rc_context(_RC):
        for fmt in formats:
            path = out / f"{stem}.{fmt}"
            fig.savefig(path, dpi=PNG_DPI if fmt == "png" else None, format=fmt)
            paths.append(path)
    return paths


def safe_name(text: str) -> str:
    """A file-name-safe version of ``text``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "x"


# --- rate-distortion curves ----------------------------------------------------------------------


def rate_distortion_figure(frame: pd.DataFrame, dataset: str) -> Figure:
    """Effective ratio (and ratio, dashed) against worst rel_rms for every codec on ``dataset``.

    ``frame`` is a leaderboard frame (``codecbench.leaderboard.leaderboard``). Repeated
    measurements draw error bars of one standard deviation.
    """
    mpl = require_matplotlib()
    part = frame[(frame["dataset"] == dataset) & (frame["status"] == "ok")]
    if part.empty:
        raise ConfigError(f"no ok records for dataset {dataset!r} to plot")
    fig, axes = new_figure()
    ax = axes[0, 0]
    with mpl.rc_context(_RC):
        cmap = mpl.colormaps["tab10"]
        lossy = part[part["worst_rel_rms"] > 0]
        lossless = part[part["worst_rel_rms"] == 0]
        # the Pareto front of lossy settings, drawn first as a wide band behind the curves
        front = lossy[lossy["pareto"]].sort_values("worst_rel_rms")
        if len(front) >= 1:
            ax.plot(
                front["worst_rel_rms"], front["effective_ratio"], color="#ffcc80", lw=9, alpha=0.7,
                solid_capstyle="round", zorder=1, label="Pareto front",
            )  # fmt: skip
        any_dashed = False
        for i, codec in enumerate(sorted(part["codec"].unique())):
            color = cmap(i % 10)
            rows = lossy[lossy["codec"] == codec].sort_values("worst_rel_rms")
            if len(rows):
                x, y = rows["worst_rel_rms"].to_numpy(float), rows["effective_ratio"].to_numpy(float)
                xerr = np.nan_to_num(rows.get("worst_rel_rms_std", pd.Series(np.nan, rows.index)).to_numpy(float))
                yerr = np.nan_to_num(rows.get("effective_ratio_std", pd.Series(np.nan, rows.index)).to_numpy(float))
                ax.errorbar(
                    x, y, xerr=xerr, yerr=yerr, color=color, marker="o", ms=5, lw=1.8, capsize=2, label=codec, zorder=3
                )
                r = rows["ratio"].to_numpy(float)
                if np.any(np.abs(r - y) > 1e-3 * np.abs(y)):
                    ax.plot(x, r, color=color, ls="--", lw=1.2, marker=".", zorder=2)
                    any_dashed = True
                ax.scatter(
                    x[rows["pareto"].to_numpy(bool)], y[rows["pareto"].to_numpy(bool)], s=110, facecolors="none",
                    edgecolors="black", lw=1.2, zorder=4,
                )  # fmt: skip
            ll = lossless[lossless["codec"] == codec]
            if len(ll):
                best = ll["effective_ratio"].max()
                ax.axhline(best, color=color, ls=":", lw=1.8, zorder=2, label=f"{codec} (lossless, best {best:.3g})")
        ax.set_xscale("log")
        if len(lossy) == 0:
            ax.set_xlim(1e-6, 1.0)
        ys = part["effective_ratio"].to_numpy(float)
        ys = ys[np.isfinite(ys) & (ys > 0)]
        if len(ys) and ys.max() / ys.min() > 10:
            ax.set_yscale("log")
        ax.set_xlabel("worst rel_rms  (residual RMS / std, worst variable)")
        ax.set_ylabel("effective ratio = raw / (payload + aux)")
        n_values = part["n_values"].dropna()
        sub = f" ({int(n_values.max()):,} values)" if len(n_values) else ""
        ax.set_title(f"{dataset}{sub}: rate-distortion")
        ax.grid(True, which="major", alpha=0.3)
        ax.grid(True, which="minor", alpha=0.1)
        handles, labels = ax.get_legend_handles_labels()
        if any_dashed:
            handles.append(mpl.lines.Line2D([], [], color="gray", ls="--"))
            labels.append("ratio without aux bytes")
        handles.append(mpl.lines.Line2D([], [], ls="", marker="o", ms=10, mfc="none", mec="black"))
        labels.append("Pareto-optimal setting")
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def plot_results(
    *result_dirs: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    aggregate: str = "newest",
    formats: Sequence[str] = ("png", "pdf"),
) -> list[Path]:
    """A rate-distortion figure per dataset of the result directories, as ``rd_<dataset>.png/.pdf``."""
    from codecbench.leaderboard import leaderboard

    frame = leaderboard(*result_dirs, aggregate=aggregate)
    paths: list[Path] = []
    for ds in sorted(frame.loc[frame["status"] == "ok", "dataset"].unique()):
        fig = rate_distortion_figure(frame, ds)
        paths += save_figure(fig, out_dir, f"rd_{safe_name(ds)}", formats)
    if not paths:
        raise ConfigError("no ok records to plot")
    return paths


# --- one record ----------------------------------------------------------------------------------


@dataclass
class Reconstruction:
    """The measured data of one record and the codec's reconstruction of it."""

    dataset: Dataset
    original: np.ndarray
    reconstructed: np.ndarray
    event_index: np.ndarray | None = None
    payload_bytes: int | None = None
    notes: list[str] = field(default_factory=list)


def find_record(result_dirs: Iterable[str | os.PathLike[str]], task_id: str) -> dict[str, Any]:
    """The record with ``task_id`` (or a unique prefix of it) in the result directories."""
    from codecbench.runner.store import load_records

    records = load_records(*result_dirs)
    hits = [r for r in records if str(r.get("task_id", "")).startswith(task_id)]
    exact = [r for r in hits if r.get("task_id") == task_id]
    hits = exact or hits
    if len({r["task_id"] for r in hits}) > 1:
        raise ConfigError(f"task id prefix {task_id!r} matches {len(hits)} records; give more characters")
    if not hits:
        ids = [str(r.get("task_id")) for r in records]
        close = difflib.get_close_matches(task_id, ids, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"no record with task id {task_id!r} in {len(records)} records{hint}")
    # the same task in several directories: the newest
    return sorted(hits, key=lambda r: str(r.get("timestamp") or ""))[-1]


def _test_rows(n_rows: int, test_fraction: float, seed: int) -> np.ndarray:
    """Row indices of the test part, obtained from ``Dataset.split`` itself on an index column."""
    from codecbench.dataset import Dataset

    idx = Dataset("rows", np.arange(n_rows, dtype=np.float64)[:, None])
    return idx.split(test_fraction, seed)[1].data[:, 0].astype(np.int64)


def _fit(codec: Any, config: dict[str, Any], train: Dataset) -> None:
    try:  # the runner's model cache: a record measured on this machine is not retrained
        from codecbench.runner.models import fit_cached as cached_fit
    except ImportError:  # pragma: no cover
        codec.fit(train)
        return
    cached_fit(codec, config, train, False)


def reconstruct(record: dict[str, Any], dataset: Dataset | None = None) -> Reconstruction:
    """Re-run the record's codec on its dataset and return the original and reconstructed arrays.

    The dataset is ``dataset`` or ``load_dataset(record["dataset"])``; a record measured on the
    test split is re-split with its ``split_info``; a learned codec is fitted on the training
    split (or on the ``fit_on`` dataset's training split), through the runner's model cache when
    the same fit is there. Differences from the record (dataset checksum, payload size, e.g. of a
    model trained again non-deterministically) are listed in ``notes``.
    """
    from codecbench import compress, decompress, get_codec, load_dataset

    if record.get("status") != "ok":
        raise ConfigError(f"record {record.get('task_id')} failed ({record.get('error')}); there is nothing to plot")
    if dataset is None:
        dataset = load_dataset(record["dataset"], **(record.get("dataset_params") or {}))
    notes: list[str] = []
    sha = dataset.meta.get("sha256") or dataset.sha256()
    if record.get("dataset_sha256") and sha != record["dataset_sha256"]:
        notes.append("the dataset's sha256 differs from the record's")
    config = record["config"]
    codec = get_codec(config)
    n_rows = dataset.data.shape[0]
    rows = np.arange(n_rows)
    measured = train = dataset
    if record.get("split") == "test":
        info = record.get("split_info") or {}
        tf, seed = float(info.get("test_fraction", 0.2)), int(info.get("seed", record.get("seed") or 0))
        train, measured = dataset.split(tf, seed)
        rows = _test_rows(n_rows, tf, seed)
    if getattr(codec, "learned", False):
        fit_on = record.get("fit_on")
        if fit_on and fit_on != record["dataset"]:
            finfo = record.get("fit_split_info") or {}
            train, _ = load_dataset(fit_on).split(
                float(finfo.get("test_fraction", 0.2)), int(finfo.get("seed", record.get("seed") or 0))
            )
        _fit(codec, config, train)
    original = np.ascontiguousarray(measured.data)
    payload = compress(codec, original)
    recon = decompress(codec, payload)
    if record.get("payload_bytes") is not None and len(payload) != record["payload_bytes"]:
        notes.append(f"re-run payload {len(payload):,} bytes, record {int(record['payload_bytes']):,} bytes")
    ev = dataset.meta.get("event_index")
    event_index = None
    if ev is not None:
        ev = np.asarray(ev)
        if len(ev) == n_rows:
            event_index = ev[rows]
        elif len(ev) == original.shape[0]:
            event_index = ev
    return Reconstruction(measured, original, np.asarray(recon), event_index, len(payload), notes)


# --- histograms ----------------------------------------------------------------------------------


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if x.size else math.nan


def _robust_range(x: np.ndarray, lo_q: float = 0.5, hi_q: float = 99.5) -> tuple[float, float]:
    if x.size == 0:
        return -1.0, 1.0
    lo, hi = np.percentile(x, [lo_q, hi_q])
    if not hi > lo:
        lo, hi = float(x.min()), float(x.max())
    if not hi > lo:
        pad = max(abs(lo) * 1e-3, 1e-12)
        lo, hi = lo - pad, hi + pad
    return float(lo), float(hi)


def _unit(units: Any, name: str) -> str:
    if isinstance(units, dict):
        return str(units.get(name) or "")
    return str(units or "") if isinstance(units, str) else ""


def _label(name: str, unit: str) -> str:
    return f"{name} [{unit}]" if unit else name


def _stat_box(ax: Any, lines: list[str]) -> None:
    ax.text(
        0.97, 0.95, "\n".join(lines), transform=ax.transAxes, ha="right", va="top", fontsize=9, family="monospace",
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85, "edgecolor": "#bbb"},
    )  # fmt: skip


def comparison_figure(
    original: np.ndarray, reconstructed: np.ndarray, name: str, unit: str = "", title: str = "", footer: str = ""
) -> Figure:
    """Three panels for one quantity: distributions, residual and response, with mean and RMS on each.

    residual = reconstructed - original; response = residual / original over original != 0
    (Baler's definitions). Non-finite values are left out. Histogram ranges cover the 0.5 to 99.5
    percentiles; the count outside is written on the panel, and mean and RMS use every value.
    """
    mpl = require_matplotlib()
    o = np.asarray(original, dtype=np.float64).ravel()
    r = np.asarray(reconstructed, dtype=np.float64).ravel()
    keep = np.isfinite(o) & np.isfinite(r)
    o, r = o[keep], r[keep]
    res = r - o
    nz = o != 0
    resp = res[nz] / o[nz]
    fig, axes = new_figure(3, constrained=False)
    a0, a1, a2 = axes[0]
    with mpl.rc_context(_RC):
        lo, hi = _robust_range(np.concatenate([o, r]), 0.1, 99.9)
        bins = np.linspace(lo, hi, 81)
        u = f" {unit}" if unit else ""
        label_o = f"original\nmean {np.mean(o):.4g}{u}\nRMS {_rms(o):.4g}{u}" if o.size else "original"
        label_r = f"reconstructed\nmean {np.mean(r):.4g}{u}\nRMS {_rms(r):.4g}{u}" if r.size else "reconstructed"
        c_o, _, _ = a0.hist(o, bins=bins, histtype="stepfilled", color="#90caf9", label=label_o)
        a0.hist(r, bins=bins, histtype="step", color="#d32f2f", lw=1.4, label=label_r)
        positive = c_o[c_o > 0]
        if positive.size and positive.max() / np.median(positive) > 30:
            a0.set_yscale("log")
        a0.set_xlabel(_label(name, unit))
        a0.set_ylabel("entries")
        a0.legend(loc="best", fontsize=8, framealpha=0.85)
        for ax, values, xlabel, color, what in (
            (a1, res, _label("residual", unit), "#7e57c2", "residual"),
            (a2, resp, "response", "#2e7d32", "response"),
        ):
            lo, hi = _robust_range(values)
            ax.hist(values, bins=np.linspace(lo, hi, 81), histtype="stepfilled", color=color, alpha=0.75)
            ax.set_xlabel(xlabel)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3), useMathText=True)
            outside = int(np.count_nonzero((values < lo) | (values > hi)))
            uu = u if what == "residual" else ""
            lines = [f"mean {np.mean(values) if values.size else math.nan:.3g}{uu}", f"RMS  {_rms(values):.3g}{uu}"]
            if outside:
                lines.append(f"{outside:,} outside shown range")
            if what == "response" and (~nz).sum():
                lines.append(f"{int((~nz).sum()):,} zeros left out")
            _stat_box(ax, lines)
        a1.set_title("residual = recon - orig", fontsize=10)
        a2.set_title("response = (recon - orig) / orig", fontsize=10)
        if title:
            fig.suptitle(title)
            if "\n" in title:
                fig.subplots_adjust(top=0.8)
        if footer:
            fig.text(0.005, 0.008, footer, ha="left", va="bottom", fontsize=8, color="#555")
    return fig


def field_slice_figure(
    original: np.ndarray, reconstructed: np.ndarray, unit: str = "", title: str = ""
) -> Figure | None:
    """Original, reconstructed and residual of the first 2-D slice of a field (None for 1-D data)."""
    o, r = np.asarray(original), np.asarray(reconstructed)
    if o.ndim < 2:
        return None
    while o.ndim > 2:
        o, r = o[0], r[0]
    mpl = require_matplotlib()
    fig, axes = new_figure(3)
    with mpl.rc_context(_RC):
        vmin, vmax = np.nanmin(o), np.nanmax(o)
        for ax, img, label in ((axes[0, 0], o, "original"), (axes[0, 1], r, "reconstructed")):
            im = ax.imshow(img, vmin=vmin, vmax=vmax, cmap="viridis", origin="lower")
            ax.set_title(label)
            fig.colorbar(im, ax=ax, shrink=0.6, label=unit or None)
        res = r.astype(np.float64) - o.astype(np.float64)
        lim = float(np.nanmax(np.abs(res))) or 1e-12
        im = axes[0, 2].imshow(res, cmap="RdBu_r", vmin=-lim, vmax=lim, origin="lower")
        axes[0, 2].set_title("residual")
        fig.colorbar(im, ax=axes[0, 2], shrink=0.6, label=unit or None)
        for ax in axes[0]:
            ax.set_xticks([])
            ax.set_yticks([])
        if title:
            fig.suptitle(title)
    return fig


def record_figures(record: dict[str, Any], recon: Reconstruction) -> list[tuple[str, Figure]]:
    """The figures of one record: (file stem, figure) per variable, field slice and jet quantity."""
    ds = recon.dataset
    units = ds.meta.get("units")
    setting = record.get("setting") or "defaults"
    head = f"{ds.name}: {record.get('codec')} ({setting})"
    ratio = record.get("effective_ratio")
    footer = f"task {record.get('task_id')}"
    if isinstance(ratio, (int, float)):
        footer += f" · effective ratio {ratio:.4g} · worst rel_rms {record.get('worst_rel_rms') or 0:.3g}"
    if recon.notes:
        footer += " · " + "; ".join(recon.notes)
    figs: list[tuple[str, Figure]] = []
    o, r = recon.original, recon.reconstructed.reshape(recon.original.shape)
    if ds.kind == "table":
        for j, name in enumerate(ds.columns or []):
            unit = _unit(units, name)
            figs.append(
                (f"var_{safe_name(name)}", comparison_figure(o[:, j], r[:, j], name, unit, f"{head} — {name}", footer))
            )
        four_o = four_vectors(o, ds.columns or [])
        four_r = four_vectors(r, ds.columns or [])
        if four_o is not None and four_r is not None:
            cols = jet_columns(ds.columns or [])
            e_unit = _unit(units, (ds.columns or [])[cols["pt"] if "pt" in cols else cols["e"]])
            if {"pt", "eta", "phi", "mass"} <= cols.keys():
                title = f"{head} — jet energy E = sqrt((pt cosh eta)^2 + m^2)"
                figs.append(
                    ("jet_energy", comparison_figure(four_o[0], four_r[0], "jet energy E", e_unit, title, footer))
                )
            if recon.event_index is not None:
                # the same two jets before and after (the original's leading pair), so the residual is
                # the compression error of m_jj itself; how often the reconstructed pt would pick
                # another pair is counted separately
                events, i1, i2 = leading_pairs(four_o[4], recon.event_index)
                _, j1, j2 = leading_pairs(four_r[4], recon.event_index)
                swapped = int(
                    np.count_nonzero(
                        (np.minimum(i1, i2) != np.minimum(j1, j2)) | (np.maximum(i1, i2) != np.maximum(j1, j2))
                    )
                )
                title = (
                    f"{head} — invariant mass of each event's two leading jets\n"
                    f"({len(events):,} events; leading pair changed by compression in {swapped:,})"
                )
                fig = comparison_figure(
                    pair_mass(four_o, i1, i2), pair_mass(four_r, i1, i2), "m_jj", e_unit, title, footer
                )
                figs.append(("dijet_mass", fig))
    else:
        unit = _unit(units, "value")
        figs.append(("var_value", comparison_figure(o, r, "value", unit, f"{head} — value", footer)))
        sl = field_slice_figure(o, r, unit, f"{head} — first slice")
        if sl is not None:
            figs.append(("field_slice", sl))
    return figs


def plot_record(
    result_dirs: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
    task_id: str,
    out_dir: str | os.PathLike[str],
    dataset: Dataset | None = None,
) -> list[Path]:
    """Re-run one record and write its figures: a PNG per figure plus one multi-page PDF.

    Files: ``record_<task>_<what>.png`` and ``record_<task>.pdf`` (every figure, one per page,
    like the Baler tool's comparison.pdf).
    """
    mpl = require_matplotlib()
    from matplotlib.backends.backend_pdf import PdfPages

    dirs = [result_dirs] if isinstance(result_dirs, (str, os.PathLike)) else list(result_dirs)
    record = find_record(dirs, task_id)
    figs = record_figures(record, reconstruct(record, dataset))
    stem = f"record_{safe_name(str(record['task_id']))[:16]}"
    out = Path(out_dir)
    paths: list[Path] = []
    for name, fig in figs:
        paths += save_figure(fig, out, f"{stem}_{name}", ("png",))
    pdf_path = out / f"{stem}.pdf"
    with mpl.rc_context(_RC), PdfPages(pdf_path) as pdf:
        for _, fig in figs:
            pdf.savefig(fig)
    paths.append(pdf_path)
    return paths
