"""report: one self-contained HTML page that parses and holds every table and the plots."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

import pytest
from leaderboard_records import make_record, toy_records, write_run
from typer.testing import CliRunner

from codecbench.codec import ConfigError
from codecbench.tables.report import build_report


class _Page(HTMLParser):
    """Collects tables (as lists of rows of cell text), image sources, links and headings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.images: list[str] = []
        self.links: list[str] = []
        self.scripts = 0
        self.headings: list[str] = []
        self._cell: list[str] | None = None
        self._heading: list[str] | None = None
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in ("img", "meta", "br", "link"):
            self.stack.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(a.get("src", ""))
        elif tag in ("a", "link"):
            self.links.append(a.get("href", ""))
        elif tag == "script":
            self.scripts += 1
        elif tag in ("h2", "h3"):
            self._heading = []

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> after {self.stack[-3:]}"
        self.stack.pop()
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell or []))
            self._cell = None
        elif tag in ("h2", "h3"):
            self.headings.append("".join(self._heading or []))
            self._heading = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._heading is not None:
            self._heading.append(data)


def _parse(page: str) -> _Page:
    p = _Page()
    p.feed(page)
    p.close()
    assert p.stack == [], f"unclosed tags: {p.stack}"
    return p


def _two_dataset_run(tmp_path):
    recs = toy_records()
    recs += [
        make_record("zstd", dataset="cfd", effective_ratio=1.2, lossless=True),
        make_record("trunc", dataset="cfd", params={"bits": 8}, effective_ratio=4.0, worst_rel_rms=2e-3),
        make_record("trunc", dataset="cfd", params={"bits": 12}, effective_ratio=2.5, worst_rel_rms=1e-4),
    ]
    return write_run(tmp_path / "run", recs)


def test_report_is_one_parseable_file_with_every_table(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    run = _two_dataset_run(tmp_path)
    page = build_report(run, budgets=["worst_rel_rms=1e-3"])
    p = _parse(page)
    # run info, toy leaderboard, toy curve summary (ae vs trunc), cfd leaderboard, budget toy, budget cfd,
    # failed tasks
    assert len(p.tables) == 7
    assert {"toy", "cfd", "run", "error budget", "failed tasks"} <= set(p.headings)
    toy = next(t for t in p.tables if t[0][:3] == ["pareto", "codec", "setting"] and len(t) == 11)
    starred = {(r[1], r[2]) for r in toy[1:] if r[0] == "*"}
    assert starred == {
        ("flow", "bits=13"),
        ("trunc", "bits=8"),
        ("trunc", "bits=10"),
        ("trunc", "bits=12"),
        ("zstd", "level=19"),
    }
    failed = p.tables[-1]
    assert failed[0] == ["dataset", "codec", "setting", "stage", "error"] and failed[1][1] == "broken"
    cfd_budget, toy_budget = [t for t in p.tables if t[0][:2] == ["rank", "codec"]]  # datasets in name order
    assert cfd_budget[1][:3] == ["1", "trunc", "bits=12"] and toy_budget[1][:3] == ["1", "trunc", "bits=10"]
    assert {tuple(r[:2]) for r in toy_budget[-2:]} == {("-", "broken"), ("-", "flow")}
    # self-contained: two embedded PNG plots (one per dataset), no script, no external link or image
    assert len(p.images) == 2
    for src in p.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert p.scripts == 0 and all(h.startswith("#") for h in p.links)
    assert "<link" not in page and "http://" not in page and "https://" not in page


def test_report_without_plots_needs_no_matplotlib_and_lists_the_run(tmp_path) -> None:
    run = _two_dataset_run(tmp_path)
    p = _parse(build_report(run, include_plots=False))
    assert p.images == [] and len(p.tables) == 5
    run_table = p.tables[0]
    assert run_table[0][0] == "run" and run_table[1][0] == "run" and run_table[1][-1] == "codecbench run"
    with pytest.raises(ConfigError, match="no result directory"):
        build_report()


def test_cli_report_writes_the_file(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from codecbench.cli import app

    run = _two_dataset_run(tmp_path)
    out = tmp_path / "sub" / "report.html"
    res = CliRunner().invoke(app, ["report", str(run), "-o", str(out), "--budget", "pt.rel_rms=1e-3"])
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output
    p = _parse(out.read_text(encoding="utf-8"))
    assert len(p.tables) == 7 and len(p.images) == 2
    res = CliRunner().invoke(app, ["report", str(run), "-o", str(out), "--budget", "nope=1"])
    assert res.exit_code == 1 and "unknown budget key" in res.output
