"""Text building blocks of every table: number formatting, Markdown, HTML and LaTeX tables, HTML pages.

Shared by the leaderboard, the budget tables, ``compare`` and the report, so the same number is
written the same way everywhere (4 significant digits, ``inf``, ``-`` for a missing value).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

_INTEGER_COLUMNS = frozenset({"raw_bytes", "payload_bytes", "aux_bytes", "n_values", "peak_mem_bytes"})


def format_number(v: Any, column: str = "") -> str:
    """A compact, deterministic text for one value: 4 significant digits, ``inf``, ``-`` for NaN."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else ""
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if column in _INTEGER_COLUMNS and v.is_integer():
            return str(int(v))
        if v == 0:
            return "0"
        if 1e-3 <= abs(v) < 1e6:
            return f"{v:.4g}"
        return f"{v:.3g}"
    return str(v)


def format_std(std: float) -> str:
    """A standard deviation as the ``± std`` part of a cell: 2 significant digits."""
    if std == 0:
        return "0"
    if 1e-3 <= abs(std) < 100:
        return f"{std:.2g}"
    return f"{std:.0f}" if 100 <= abs(std) < 1e6 else f"{std:.1e}"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown pipe table."""
    lines = ["| " + " | ".join(_md_escape(h) for h in headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_md_escape(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def html_table(headers: Sequence[str], rows: Sequence[Sequence[str]], row_classes: Sequence[str] | None = None) -> str:
    """An HTML ``<table>`` (escaped text, no attributes but classes)."""
    out = [
        '<table class="cb">',
        "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr></thead>",
    ]
    out.append("<tbody>")
    for i, r in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters; ``±`` and ``inf`` become math."""
    out = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)
    return out.replace("±", r"$\pm$").replace("-inf", r"$-\infty$").replace("inf", r"$\infty$")


def latex_table(headers: Sequence[str], rows: Sequence[Sequence[str]], caption: str = "") -> str:
    """A booktabs ``tabular`` inside a ``table`` float (needs ``\\usepackage{booktabs}``)."""
    spec = "".join("l" if h in ("pareto", "codec", "setting", "split", "note") else "r" for h in headers)
    lines = [r"\begin{table}[htbp]", r"\centering", r"\small"]
    if caption:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    lines += [rf"\begin{{tabular}}{{{spec}}}", r"\toprule"]
    lines.append(" & ".join(latex_escape(h) for h in headers) + r" \\")
    lines.append(r"\midrule")
    lines += [" & ".join(latex_escape(c) for c in r) + r" \\" for r in rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


HTML_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em; color: #222; }
table.cb { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
table.cb th, table.cb td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
table.cb th { background: #f0f0f0; }
table.cb td:nth-child(-n+3) { text-align: left; }
tr.pareto td { background: #e8f5e9; font-weight: 600; }
tr.failed td { color: #b00020; }
p.legend { color: #555; font-size: 0.9em; }
img.plot { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
""".strip()


def html_page(title: str, body: str) -> str:
    """A complete, self-contained HTML page (inline CSS, no external assets)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{HTML_STYLE}\n</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )
