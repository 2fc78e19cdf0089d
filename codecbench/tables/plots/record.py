"""One record's figures: per variable the distributions, residual and response; field slices; jet quantities.

``record_figures(record, recon)``: for one record, per variable: original and reconstructed
distributions, the residual (reconstructed - original) and the response ((reconstructed -
original) / original) with mean and RMS written on them (Baler's definitions); for fields a slice
image; for jet tables the energy of each jet from (pt, eta, phi, m) and, where the dataset knows
each jet's event (``meta["event_index"]``), the invariant mass of each event's two leading jets
(``codecbench.measure.jets``). ``plot_record`` re-runs a stored record
(``codecbench.tables.plots.reconstruct``) and writes its figures. Labels carry the units the
dataset's ``meta["units"]`` gives.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from codecbench.dataset import Dataset
from codecbench.measure.jets import four_vectors, jet_columns, leading_pairs, pair_mass
from codecbench.tables.plots.figure import RC, new_figure, require_matplotlib, safe_name, save_figure
from codecbench.tables.plots.reconstruct import Reconstruction, find_record, reconstruct

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


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
    with mpl.rc_context(RC):
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
    with mpl.rc_context(RC):
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
    with mpl.rc_context(RC), PdfPages(pdf_path) as pdf:
        for _, fig in figs:
            pdf.savefig(fig)
    paths.append(pdf_path)
    return paths
