from __future__ import annotations

from vigie_audit import charts
from vigie_audit.domain.bias import Cell, ReportConfig, Verdict, build_report, score_bin

HOSTILE = "--><script>alert(1)</script><!--"


def test_a_chart_is_inline_svg_and_carries_no_markup_from_its_labels() -> None:
    cells = [
        Cell(frozenset({"language:xx"}), "review", "allow", Verdict.ACCEPTABLE, score_bin(0.4), 40),
        Cell(frozenset({"language:xx"}), "review", "hide", Verdict.HARMFUL, score_bin(0.9), 40),
        Cell(frozenset({"language:yy"}), "allow", "allow", None, None, 40),
    ]
    report = build_report(cells, ReportConfig(min_group_size=10, bootstrap=20))
    labels = {"language:xx": HOSTILE, "language:yy": "fine"}
    for draw in (charts.flag_rates, charts.overturn_rates, charts.aucs, charts.shadow_differences):
        svg = draw(report, labels)
        assert svg is not None, draw.__name__
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
        assert "<script" not in svg and "-->" not in svg.replace(" -->", ""), draw.__name__


def test_nothing_to_draw_gives_no_chart() -> None:
    empty = build_report([], ReportConfig())
    assert charts.flag_rates(empty, {}) is None
    assert charts.aucs(empty, {}) is None
