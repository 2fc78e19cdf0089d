"""Figures without pyplot: slide-sized matplotlib figures, saved as PNG and PDF, with file-safe names.

matplotlib (``pip install 'codecbench[plot]'``) is imported only when a figure is made, and figures
are drawn on ``matplotlib.figure.Figure`` directly (no pyplot, no global backend switch), so
plotting works headless and does not disturb a notebook's backend. Figures are sized for a 16:9
slide (10 x 5.625 inches; PNG at 150 dpi).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codecbench.errors import CodecbenchError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

#: Figure size in inches (16:9, a slide) and the PNG resolution.
SLIDE_SIZE = (10.0, 5.625)
PNG_DPI = 150
#: matplotlib settings of every figure (font sizes; PDF fonts embedded as TrueType).
RC = {
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
    with mpl.rc_context(RC):
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
    with mpl.rc_context(RC):
        for fmt in formats:
            path = out / f"{stem}.{fmt}"
            fig.savefig(path, dpi=PNG_DPI if fmt == "png" else None, format=fmt)
            paths.append(path)
    return paths


def safe_name(text: str) -> str:
    """A file-name-safe version of ``text``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("_") or "x"
