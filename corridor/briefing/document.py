"""The page around the charts: palette, typography, print layout and small HTML pieces.

One self-contained HTML file: inline CSS, inline SVG, no scripts, no fonts or images
fetched from anywhere (a Content-Security-Policy forbids it, so a stray reference shows up
as a console error in the render test rather than a silent network call).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from corridor.briefing.g20 import Rating

# Okabe–Ito: distinguishable with the common colour-vision deficiencies, and in greyscale
# print the three rails differ in lightness too.
BLUE = "#0072B2"
VERMILLION = "#D55E00"
ORANGE = "#E69F00"
GREEN = "#009E73"
SKY = "#56B4E9"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"
GREY = "#6E7781"
INK = "#1f2328"

RAIL_COLOURS: dict[str, str] = {
    "cbdc": BLUE,
    "stablecoin": VERMILLION,
    "correspondent": GREY,
}
SERVICE_COLOURS: tuple[str, ...] = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, GREY)


def rail_colour(rail: str) -> str:
    return RAIL_COLOURS.get(rail, PURPLE)


ABSENT = "not in this run"

CSS = """
:root {
  --ink: #1f2328; --muted: #5b6470; --rule: #e3e6ea; --wash: #f6f7f9; --accent: #0072B2;
  --meets: #00785a; --meets-bg: #e2f3ec; --near: #8a5a00; --near-bg: #fdf0d5;
  --misses: #b34700; --misses-bg: #fbe5d9; --unknown-bg: #f1f2f4;
}
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 "Liberation Sans", "Helvetica Neue", Arial, sans-serif;
  font-variant-numeric: tabular-nums;
}
main { max-width: 1120px; margin: 0 auto; padding: 36px 44px 56px; }
h1, h2, h3 { font-family: "Liberation Serif", Georgia, "Times New Roman", serif; font-weight: 700;
  letter-spacing: -0.01em; }
h1 { font-size: 34px; line-height: 1.15; margin: 4px 0 10px; }
h2 { font-size: 21px; margin: 38px 0 12px; padding-top: 14px; border-top: 2px solid var(--ink); }
h3 { font-size: 16.5px; line-height: 1.3; margin: 0 0 2px; }
p { margin: 0 0 10px; }
.kicker { text-transform: uppercase; letter-spacing: 0.12em; font-size: 12px; color: var(--accent);
  font-weight: 700; }
.meta { color: var(--muted); font-size: 13.5px; }
.meta span + span::before { content: "·"; margin: 0 8px; color: #b0b7bf; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12.5px;
  font-weight: 700; }
.badge.meets { background: var(--meets-bg); color: var(--meets); }
.badge.misses { background: var(--misses-bg); color: var(--misses); }
.badge.near { background: var(--near-bg); color: var(--near); }
.lede { display: grid; grid-template-columns: 1fr 1.25fr; gap: 36px; margin-top: 22px; }
.question { font-family: "Liberation Serif", Georgia, serif; font-size: 21px; line-height: 1.35;
  margin: 0; padding: 6px 0 6px 18px; border-left: 4px solid var(--accent); }
.label { font-size: 12px; text-transform: uppercase; letter-spacing: 0.1em; color: var(--muted);
  font-weight: 700; margin-bottom: 6px; }
ul.findings { margin: 0; padding: 0; list-style: none; }
ul.findings li { padding: 7px 0 7px 24px; border-bottom: 1px solid var(--rule); position: relative; }
ul.findings li:last-child { border-bottom: 0; }
ul.findings li::before { content: ""; position: absolute; left: 4px; top: 14px; width: 9px;
  height: 9px; border-radius: 50%; background: var(--dot, var(--accent)); }
ul.findings b { font-weight: 700; }
table { border-collapse: collapse; width: 100%; }
table.scorecard th, table.scorecard td { padding: 9px 10px; vertical-align: top; text-align: left; }
table.scorecard thead th { font-size: 12.5px; color: var(--muted); font-weight: 700;
  border-bottom: 2px solid var(--ink); }
table.scorecard thead th small { display: block; font-weight: normal; }
table.scorecard tbody th { font-weight: 700; white-space: nowrap; border-bottom: 1px solid var(--rule); }
table.scorecard tbody th .swatch { display: inline-block; width: 10px; height: 10px;
  border-radius: 2px; margin-right: 7px; }
table.scorecard tbody th small { display: block; font-weight: normal; color: var(--muted); }
td.cell { border-bottom: 1px solid #fff; border-left: 3px solid #fff; }
td.cell .v { font-size: 17px; font-weight: 700; }
td.cell .g { font-size: 15px; font-weight: 700; margin-left: 7px; }
td.cell small { display: block; color: var(--muted); font-size: 12px; }
td.cell.meets { background: var(--meets-bg); } td.cell.meets .g { color: var(--meets); }
td.cell.near { background: var(--near-bg); } td.cell.near .g { color: var(--near); }
td.cell.misses { background: var(--misses-bg); } td.cell.misses .g { color: var(--misses); }
td.cell.unknown { background: var(--unknown-bg); color: var(--muted); }
td.cell.text .v { font-size: 13.5px; font-weight: normal; }
.note { color: var(--muted); font-size: 12.5px; margin-top: 8px; }
.figures { display: grid; grid-template-columns: 1fr 1fr; gap: 30px 40px; }
figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
figure.wide { grid-column: 1 / -1; }
figure .sub { color: var(--muted); font-size: 13px; margin: 0 0 8px; }
figure svg { display: block; width: 100%; height: auto; }
figure .source { color: var(--muted); font-size: 11.5px; margin-top: 4px; }
.absent { color: var(--muted); background: var(--wash); border-radius: 6px; padding: 14px 16px;
  font-size: 13.5px; margin: 6px 0 0; }
.callout { background: var(--wash); border-radius: 8px; padding: 16px 18px; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 30px 40px; align-items: start; }
.two.wide-right { grid-template-columns: minmax(0, 0.85fr) minmax(0, 1.15fr); }
table.plain th, table.plain td { padding: 6px 8px; border-bottom: 1px solid var(--rule);
  text-align: left; vertical-align: top; font-size: 13.5px; }
table.plain th { font-size: 12px; color: var(--muted); border-bottom: 2px solid var(--ink); }
table.plain td.num { text-align: right; white-space: nowrap; }
.kind { display: inline-block; font-size: 11px; font-weight: 700; text-transform: uppercase;
  letter-spacing: 0.06em; padding: 1px 6px; border-radius: 4px; white-space: nowrap; }
.kind.fact { background: #e6f0f8; color: #005a8c; }
.kind.assumption { background: var(--near-bg); color: var(--near); }
.kind.seed-claim { background: var(--misses-bg); color: var(--misses); }
ol.caveats { margin: 0; padding-left: 20px; } ol.caveats li { margin-bottom: 6px; }
footer { margin-top: 40px; padding-top: 12px; border-top: 1px solid var(--rule); color: var(--muted);
  font-size: 12px; }
code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.9em; }
@media (max-width: 900px) {
  .figures, .lede, .two { grid-template-columns: 1fr; }
  main { padding: 24px 18px; }
}
@page { size: A4 landscape; margin: 10mm 12mm; }
@media print {
  body { font-size: 13px; }
  main { max-width: none; padding: 0; }
  h1 { font-size: 30px; }
  h2 { margin: 22px 0 10px; break-after: avoid; page-break-after: avoid; }
  figure, tr, .callout, #scorecard, .lede { break-inside: avoid; page-break-inside: avoid; }
}
"""


@dataclass(frozen=True)
class Figure:
    """A chart with its takeaway title (computed from the data), a subtitle saying how to
    read it, and its source (including how many points or runs are behind it)."""

    fig_id: str
    takeaway: str
    subtitle: str
    svg: str
    source: str
    wide: bool = False

    def html(self) -> str:
        cls = "chart wide" if self.wide else "chart"
        return (
            f'<figure class="{cls}" id="{escape(self.fig_id)}"><figcaption>'
            f"<h3>{escape(self.takeaway)}</h3>"
            f'<p class="sub">{escape(self.subtitle)}</p></figcaption>{self.svg}'
            f'<p class="source">{escape(self.source)}</p></figure>'
        )


def absent_figure(fig_id: str, heading: str, what: str, wide: bool = False) -> str:
    """A figure slot for data the run did not produce: says so, plainly."""
    cls = "wide" if wide else ""
    return (
        f'<figure class="{cls} missing" id="{escape(fig_id)}"><figcaption><h3>{escape(heading)}'
        f'</h3></figcaption><p class="absent">{escape(what)}: {ABSENT}.</p></figure>'
    )


def absent_block(what: str) -> str:
    return f'<p class="absent">{escape(what)}: {ABSENT}.</p>'


def section(section_id: str, heading: str, body: str) -> str:
    return f'<section id="{escape(section_id)}"><h2>{escape(heading)}</h2>{body}</section>'


def rating_cell(rating: Rating, value: str, detail: str = "", text: bool = False) -> str:
    cls = f"cell {rating.value}" + (" text" if text else "")
    glyph = (
        f'<span class="g" title="{rating.word}">{rating.glyph}</span>'
        if rating is not Rating.UNKNOWN and not text
        else ""
    )
    detail_html = f"<small>{escape(detail)}</small>" if detail else ""
    return f'<td class="{cls}"><span class="v">{escape(value)}</span>{glyph}{detail_html}</td>'


def findings_list(items: Iterable[tuple[str, str]]) -> str:
    """Bulleted findings; each item is (html, dot colour). The html is built by the caller
    from escaped pieces."""
    lis = "".join(f'<li style="--dot:{colour}">{text}</li>' for text, colour in items)
    return f'<ul class="findings">{lis}</ul>'


def plain_table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    """A simple table; cells are pre-escaped HTML."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="plain"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def page(title: str, body: str) -> str:
    """The whole document. The CSP forbids every fetch and every script."""
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="corridor brief">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )
