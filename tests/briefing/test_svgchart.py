"""The chart primitives produce well-formed SVG, whatever the data look like."""

import math
import re
import xml.etree.ElementTree as ET

from corridor.briefing import svgchart as sc

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox", "").startswith("0 0 ")
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_line_chart_with_band_refs_and_gaps() -> None:
    xs = [0, 1, 2, 3, 4]
    svg = sc.line_chart(
        [sc.Line("price <p&l>", xs, [1.0, 0.98, math.nan, 0.9, 0.97], "#D55E00")],
        title='A "quoted" & <escaped> title',
        x=sc.AxisSpec(),
        y=sc.AxisSpec(include_zero=False),
        bands=[sc.Band(xs, [0.9] * 5, [1.0] * 5, "#D55E00")],
        refs=[sc.RefLine(0.99, "0.99")],
        shades=[sc.Shade(1, 2, "#888")],
    )
    root = parse(svg)
    assert "price <p&l>" in texts(root)
    # The NaN splits the series into two paths rather than drawing "nan" coordinates.
    assert not re.search(r"\bnan\b", svg, re.IGNORECASE)
    paths = [p for p in root.iter(f"{SVG}path") if p.get("stroke") == "#D55E00"]
    assert len(paths) == 2
    assert root.find(f"{SVG}polygon") is not None


def test_log_axis_uses_given_ticks_within_range() -> None:
    svg = sc.line_chart(
        [sc.Line("cdf", [1, 10, 100, 1000], [0.1, 0.5, 0.9, 1.0], "#0072B2", step=True)],
        title="cdf",
        x=sc.AxisSpec(
            lo=1,
            hi=1000,
            log=True,
            ticks=[sc.Tick(1, "1 s"), sc.Tick(60, "1 min"), sc.Tick(3600, "1 h")],
        ),
        y=sc.AxisSpec(lo=0, hi=1),
    )
    labels = texts(parse(svg))
    assert "1 s" in labels and "1 min" in labels
    assert "1 h" not in labels  # outside the axis range


def test_bar_chart_marks_missing_values_in_words() -> None:
    svg = sc.bar_chart(
        [
            sc.BarGroup(
                "Retail", [sc.Bar("CBDC", 0.003, "#0072B2"), sc.Bar("Stable", None, "#D55E00")]
            )
        ],
        title="cost",
        x=sc.AxisSpec(),
        refs=[sc.RefLine(0.01, "1%")],
    )
    labels = texts(parse(svg))
    assert "Stable: not in this run" in labels
    assert "Retail" in labels


def test_column_quantile_and_waterfall_charts_parse() -> None:
    parse(
        sc.column_chart(
            [
                sc.Column("50 bp", 0.25, "#D55E00", 0.05, 0.7, "1 of 4 runs"),
                sc.Column("x", None, "#000"),
            ],
            title="p",
            y=sc.AxisSpec(lo=0, hi=1),
            x_label="shock",
        )
    )
    parse(
        sc.quantile_chart(
            [sc.QuantileRow("CBDC", 1, 2, 3, 4, 5, "#0072B2", "n = 4")],
            title="q",
            x=sc.AxisSpec(log=True, label="time"),
            refs=[sc.RefLine(3600, "1 h")],
        )
    )
    root = parse(
        sc.waterfall_chart(
            [
                sc.WaterfallBar("svc · a", 0, 10, "#0072B2"),
                sc.WaterfallBar("svc · b", 2, 8, "#E69F00", 1),
            ],
            title="w",
            legend=[("svc", "#0072B2")],
        )
    )
    assert "6 ms" in texts(root)


def test_charts_survive_empty_data() -> None:
    parse(sc.line_chart([], title="empty", x=sc.AxisSpec(), y=sc.AxisSpec()))
    parse(sc.bar_chart([], title="empty", x=sc.AxisSpec()))
    parse(sc.waterfall_chart([], title="empty"))


def test_nice_ticks_cover_the_range_in_round_steps() -> None:
    assert sc.nice_ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ticks = sc.nice_ticks(0.86, 1.0)
    assert ticks[0] >= 0.86 and ticks[-1] <= 1.0 and len(ticks) >= 3


def test_long_series_are_thinned_but_keep_their_extremes() -> None:
    n = 20_000
    ys = [1.0] * n
    ys[12_345] = 0.87  # a one-interval trough
    points = list(zip(range(n), ys, strict=True))
    thinned = sc.decimate(points, limit=500)
    assert len(thinned) <= 520
    assert (12_345, 0.87) in thinned
    assert [x for x, _ in thinned] == sorted(x for x, _ in thinned)
