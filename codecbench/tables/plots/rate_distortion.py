"""Rate-distortion figures: effective ratio against worst ``rel_rms``, one line per codec, per dataset.

``rate_distortion_figure(frame, dataset)``: effective ratio (solid) and ratio (dashed, where aux
bytes make them differ) against worst ``rel_rms`` on a log axis, the Pareto front highlighted,
lossless codecs as horizontal lines (their error is 0), error bars of one std for repeats, and the
memoryless limit of the run's ``worst_rel_rms`` targets (``frame.attrs["limits"]``) as a black
dashed line: its ratio at the worst ``rel_rms`` its quantizer reaches, one point per target.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from codecbench.errors import ConfigError
from codecbench.tables.leaderboard import leaderboard
from codecbench.tables.plots.figure import RC, new_figure, require_matplotlib, safe_name, save_figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure


def rate_distortion_figure(frame: pd.DataFrame, dataset: str) -> Figure:
    """Effective ratio (and ratio, dashed) against worst rel_rms for every codec on ``dataset``.

    ``frame`` is a leaderboard frame (``codecbench.tables.leaderboard.leaderboard``). Repeated
    measurements draw error bars of one standard deviation.
    """
    mpl = require_matplotlib()
    part = frame[(frame["dataset"] == dataset) & (frame["status"] == "ok")]
    if part.empty:
        raise ConfigError(f"no ok records for dataset {dataset!r} to plot")
    fig, axes = new_figure()
    ax = axes[0, 0]
    with mpl.rc_context(RC):
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
        for label, pts in limit_curves(frame.attrs.get("limits", []), dataset).items():
            ax.plot(pts[:, 0], pts[:, 1], color="black", ls="--", lw=1.4, marker="x", zorder=5, label=label)
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


def limit_curves(limits: list[dict], dataset: str) -> dict[str, np.ndarray]:
    """(worst rel_rms, ratio) points of the ``worst_rel_rms`` limit rows of ``dataset``, by rows measured."""
    by_rows: dict[str, list[tuple[float, float]]] = {}
    for row in limits:
        if row.get("dataset") != dataset or row.get("status") != "ok" or row["target"]["metric"] != "worst_rel_rms":
            continue
        worst = max((v["rel_rms"] for v in row.get("variables", {}).values()), default=float("nan"))
        by_rows.setdefault(str(row.get("split")), []).append((worst, float(row["ratio"])))
    several = len(by_rows) > 1
    return {
        f"memoryless limit{f' ({split} rows)' if several else ''}": np.array(sorted(pts))
        for split, pts in by_rows.items()
    }


def plot_results(
    *result_dirs: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    aggregate: str = "newest",
    formats: Sequence[str] = ("png", "pdf"),
) -> list[Path]:
    """A rate-distortion figure per dataset of the result directories, as ``rd_<dataset>.png/.pdf``."""
    frame = leaderboard(*result_dirs, aggregate=aggregate)
    paths: list[Path] = []
    for ds in sorted(frame.loc[frame["status"] == "ok", "dataset"].unique()):
        fig = rate_distortion_figure(frame, ds)
        paths += save_figure(fig, out_dir, f"rd_{safe_name(ds)}", formats)
    if not paths:
        raise ConfigError("no ok records to plot")
    return paths
