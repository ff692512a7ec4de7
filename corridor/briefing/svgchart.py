"""Small, dependency-free SVG charts for the briefing: lines with bands, bars, columns,
quantile boxes and a trace waterfall.

Why hand-written SVG: the briefing must open offline, print crisply and pass a strict
Content-Security-Policy (no scripts, no CDN). Every chart here is a pure function of its
data that returns one ``<svg>`` element, sized by ``viewBox`` so it scales with the page.
Text is left to inherit the page's font; colours are passed in by the caller (the page
uses the Okabe–Ito colour-blind-safe palette).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

import numpy as np

FONT_SIZE = 12.0
SMALL_FONT_SIZE = 11.0
INK = "#1f2328"
MUTED = "#5b6470"
GRID = "#e3e6ea"
AXIS = "#9aa3ad"

Formatter = Callable[[float], str]
# Series may be lists or numpy arrays; NaN marks a gap.
Values = Sequence[float] | np.ndarray


def _fmt_default(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    text = f"{value:.4g}"
    return text


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Approximate rendered width of sans-serif text (no font metrics offline)."""
    narrow = sum(1 for ch in text if ch in "il.,:;'|!1 ()[]")
    return size * (0.58 * (len(text) - narrow) + 0.3 * narrow)


def _x(value: float) -> str:
    """Coordinates rounded to 0.1 px keep the SVG small and diffable."""
    return f"{value:.1f}"


def _finite(value: float | None) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


# --------------------------------------------------------------------------- scales


@dataclass(frozen=True)
class Tick:
    value: float
    label: str


@dataclass(frozen=True)
class AxisSpec:
    """How one axis is drawn. ``lo``/``hi`` default to the data range (0 included for linear
    y axes); ``ticks`` overrides the automatic 1-2-5 ticks."""

    label: str = ""
    lo: float | None = None
    hi: float | None = None
    log: bool = False
    ticks: Sequence[Tick] | None = None
    fmt: Formatter = _fmt_default
    include_zero: bool = True


class Scale:
    """Maps data values to pixels, linearly or on log10."""

    def __init__(self, lo: float, hi: float, px_lo: float, px_hi: float, log: bool = False):
        if log:
            lo = max(lo, 1e-12)
            hi = max(hi, lo * 10)
        if hi == lo:
            hi = lo + 1.0
        self.lo, self.hi, self.px_lo, self.px_hi, self.log = lo, hi, px_lo, px_hi, log

    def _t(self, value: float) -> float:
        if self.log:
            return math.log10(max(value, 1e-12))
        return value

    def __call__(self, value: float) -> float:
        lo, hi = self._t(self.lo), self._t(self.hi)
        frac = (self._t(value) - lo) / (hi - lo)
        frac = min(1.05, max(-0.05, frac))  # clamp outliers just outside the frame
        return self.px_lo + frac * (self.px_hi - self.px_lo)

    def contains(self, value: float) -> bool:
        return self.lo - 1e-12 <= value <= self.hi + 1e-12


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """1-2-5 ticks covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, target)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _nice_bounds(lo: float, hi: float) -> tuple[float, float]:
    ticks = nice_ticks(lo, hi)
    if len(ticks) < 2:
        return lo, hi
    step = ticks[1] - ticks[0]
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step


def _domain(values: Sequence[float], spec: AxisSpec, pad_zero: bool) -> tuple[float, float]:
    finite = [v for v in values if _finite(v) and (not spec.log or v > 0)]
    lo = spec.lo if spec.lo is not None else (min(finite) if finite else 0.0)
    hi = spec.hi if spec.hi is not None else (max(finite) if finite else 1.0)
    if spec.log:
        if spec.lo is None:
            lo = 10 ** math.floor(math.log10(max(lo, 1e-9)))
        if spec.hi is None:
            hi = 10 ** math.ceil(math.log10(max(hi, lo * 10)))
        return lo, hi
    if pad_zero and spec.include_zero and spec.lo is None:
        lo = min(lo, 0.0)
    if hi == lo:
        hi = lo + (abs(lo) * 0.1 or 1.0)
    if spec.lo is None or spec.hi is None:
        nlo, nhi = _nice_bounds(lo, hi)
        lo = lo if spec.lo is not None else nlo
        hi = hi if spec.hi is not None else nhi
    return lo, hi


def _ticks_for(scale: Scale, spec: AxisSpec) -> list[Tick]:
    if spec.ticks is not None:
        return [t for t in spec.ticks if scale.contains(t.value)]
    if scale.log:
        start = math.ceil(math.log10(scale.lo) - 1e-9)
        stop = math.floor(math.log10(scale.hi) + 1e-9)
        return [Tick(10.0**k, spec.fmt(10.0**k)) for k in range(start, stop + 1)]
    return [Tick(v, spec.fmt(v)) for v in nice_ticks(scale.lo, scale.hi)]


# --------------------------------------------------------------------------- svg helpers


def _svg_open(width: float, height: float, title: str, extra_class: str = "") -> str:
    cls = f"chart-svg {extra_class}".strip()
    return (
        f'<svg class="{cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_x(width)} '
        f'{_x(height)}" width="{_x(width)}" height="{_x(height)}" role="img" '
        f'font-size="{FONT_SIZE}" fill="{INK}"><title>{escape(title)}</title>'
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: float = FONT_SIZE,
    colour: str = INK,
    weight: str = "normal",
    baseline: str = "middle",
    halo: bool = False,
) -> str:
    """SVG text; ``halo`` paints a white outline under the glyphs so a label stays legible
    where it crosses a line or a gridline."""
    weight_attr = f' font-weight="{weight}"' if weight != "normal" else ""
    halo_attr = (
        ' stroke="#fff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
        if halo
        else ""
    )
    return (
        f'<text x="{_x(x)}" y="{_x(y)}" text-anchor="{anchor}" dominant-baseline="{baseline}" '
        f'font-size="{size}" fill="{colour}"{weight_attr}{halo_attr}>{escape(text)}</text>'
    )


def _fit(text: str, width: float, size: float) -> str:
    """``text`` shortened with an ellipsis until it fits ``width`` pixels."""
    if text_width(text, size) <= width:
        return text
    while len(text) > 4 and text_width(text + "…", size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _legend(items: Sequence[tuple[str, str]], x: float, y: float, max_width: float) -> str:
    """Swatches and labels in a row (wrapping), top-left of the plot."""
    parts = []
    cx, cy = x, y
    for label, colour in items:
        w = 14 + text_width(label, SMALL_FONT_SIZE) + 16
        if cx + w > x + max_width and cx > x:
            cx, cy = x, cy + 16
        parts.append(
            f'<rect x="{_x(cx)}" y="{_x(cy - 5)}" width="10" height="10" rx="2" fill="{colour}"/>'
        )
        parts.append(_text(cx + 14, cy, label, size=SMALL_FONT_SIZE, colour=MUTED))
        cx += w
    return "".join(parts)


def legend_height(items: Sequence[tuple[str, str]], max_width: float) -> float:
    rows, cx = 1, 0.0
    for label, _ in items:
        w = 14 + text_width(label, SMALL_FONT_SIZE) + 16
        if cx + w > max_width and cx > 0:
            rows, cx = rows + 1, 0.0
        cx += w
    return rows * 16.0


def _spread_labels(positions: list[float], gap: float, lo: float, hi: float) -> list[float]:
    """Push end-of-line labels apart so none overlap (keeps their order)."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = [positions[i] for i in order]
    for i in range(1, len(placed)):
        placed[i] = max(placed[i], placed[i - 1] + gap)
    overflow = placed[-1] - hi if placed else 0
    if overflow > 0:
        placed = [p - overflow for p in placed]
        for i in range(len(placed) - 2, -1, -1):
            placed[i] = min(placed[i], placed[i + 1] - gap)
    placed = [max(lo, p) for p in placed]
    out = [0.0] * len(positions)
    for rank, i in enumerate(order):
        out[i] = placed[rank]
    return out


# --------------------------------------------------------------------------- line chart


@dataclass(frozen=True)
class Line:
    """One series. ``step=True`` draws a staircase (an empirical CDF)."""

    label: str
    xs: Values
    ys: Values
    colour: str
    width: float = 2.0
    dashed: bool = False
    step: bool = False


@dataclass(frozen=True)
class Band:
    """A filled band between ``lows`` and ``highs`` (a quantile fan)."""

    xs: Values
    lows: Values
    highs: Values
    colour: str
    opacity: float = 0.18
    label: str = ""


@dataclass(frozen=True)
class RefLine:
    """A labelled reference line (a target, a threshold) across the plot."""

    value: float
    label: str
    axis: str = "y"
    colour: str = "#444b55"
    below: bool = False


@dataclass(frozen=True)
class Shade:
    """A shaded x interval (e.g. below the peg, or a weekend with banks closed)."""

    start: float
    end: float
    colour: str
    opacity: float = 0.12
    label: str = ""


@dataclass
class _Frame:
    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float
    parts: list[str] = field(default_factory=list)

    @property
    def plot_left(self) -> float:
        return self.left

    @property
    def plot_right(self) -> float:
        return self.width - self.right

    @property
    def plot_top(self) -> float:
        return self.top

    @property
    def plot_bottom(self) -> float:
        return self.height - self.bottom


def _path(points: Sequence[tuple[float, float]], step: bool) -> str:
    out: list[str] = []
    prev: tuple[float, float] | None = None
    for px, py in points:
        if prev is None:
            out.append(f"M{_x(px)},{_x(py)}")
        elif step:
            out.append(f"H{_x(px)}V{_x(py)}")
        else:
            out.append(f"L{_x(px)},{_x(py)}")
        prev = (px, py)
    return "".join(out)


MAX_PATH_POINTS = 900


def decimate(
    points: list[tuple[float, float]], limit: int = MAX_PATH_POINTS
) -> list[tuple[float, float]]:
    """Thin a long series to about ``limit`` points, keeping each bucket's lowest and highest
    value (so a one-minute trough survives a week-long chart) in time order."""
    if len(points) <= limit:
        return points
    size = math.ceil(len(points) / (limit / 2))
    out: list[tuple[float, float]] = []
    for start in range(0, len(points), size):
        bucket = points[start : start + size]
        low = min(range(len(bucket)), key=lambda i: bucket[i][1])
        high = max(range(len(bucket)), key=lambda i: bucket[i][1])
        out.extend(bucket[i] for i in sorted({low, high}))
    return out


def _segments(xs: Values, ys: Values) -> list[list[tuple[float, float]]]:
    """Split a series at missing values so gaps stay gaps."""
    runs: list[list[tuple[float, float]]] = [[]]
    for xv, yv in zip(xs, ys, strict=False):
        if _finite(xv) and _finite(yv):
            runs[-1].append((float(xv), float(yv)))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def line_chart(
    lines: Sequence[Line],
    *,
    title: str,
    x: AxisSpec,
    y: AxisSpec,
    bands: Sequence[Band] = (),
    refs: Sequence[RefLine] = (),
    shades: Sequence[Shade] = (),
    width: float = 640,
    height: float = 250,
    end_labels: bool = True,
    legend: Sequence[tuple[str, str]] = (),
) -> str:
    """Lines over x, with optional quantile bands, reference lines and shaded intervals.

    Lines are labelled at their right end (no legend lookup for the reader) unless
    ``end_labels`` is off; ``legend`` adds swatches above the plot (for bands/shades).
    """
    xs_all = [v for ln in lines for v in ln.xs] + [v for b in bands for v in b.xs]
    ys_all = (
        [v for ln in lines for v in ln.ys]
        + [v for b in bands for v in list(b.lows) + list(b.highs)]
        + [r.value for r in refs if r.axis == "y"]
    )
    label_room = 0.0
    if end_labels and lines:
        label_room = max(text_width(ln.label, SMALL_FONT_SIZE) for ln in lines) + 12
    y_label_room = 14 if y.label else 0
    legend_room = legend_height(legend, width - 80) + 6 if legend else 0
    frame = _Frame(
        width,
        height,
        left=48 + y_label_room,
        right=max(34, label_room),
        top=14 + legend_room,
        bottom=40 if x.label else 26,
    )
    xlo, xhi = _domain(xs_all, AxisSpec(lo=x.lo, hi=x.hi, log=x.log, include_zero=False), False)
    if not x.log and x.lo is None:
        xlo = min(v for v in xs_all if _finite(v)) if any(_finite(v) for v in xs_all) else 0.0
    if not x.log and x.hi is None:
        xhi = max(v for v in xs_all if _finite(v)) if any(_finite(v) for v in xs_all) else 1.0
    ylo, yhi = _domain(ys_all, y, True)
    sx = Scale(xlo, xhi, frame.plot_left, frame.plot_right, x.log)
    sy = Scale(ylo, yhi, frame.plot_bottom, frame.plot_top, y.log)
    parts = [_svg_open(width, height, title)]
    if legend:
        parts.append(_legend(legend, frame.plot_left, 12, width - frame.plot_left - 16))
    for shade in shades:
        x0, x1 = sx(max(shade.start, xlo)), sx(min(shade.end, xhi))
        if x1 > x0:
            parts.append(
                f'<rect x="{_x(x0)}" y="{_x(frame.plot_top)}" width="{_x(x1 - x0)}" '
                f'height="{_x(frame.plot_bottom - frame.plot_top)}" fill="{shade.colour}" '
                f'fill-opacity="{shade.opacity}"/>'
            )
    parts.append(_axes(frame, sx, sy, x, y))
    for band in bands:
        pts_hi = [
            (sx(a), sy(b))
            for a, b in zip(band.xs, band.highs, strict=False)
            if _finite(a) and _finite(b)
        ]
        pts_lo = [
            (sx(a), sy(b))
            for a, b in zip(band.xs, band.lows, strict=False)
            if _finite(a) and _finite(b)
        ]
        if pts_hi and pts_lo:
            poly = " ".join(f"{_x(a)},{_x(b)}" for a, b in pts_hi + pts_lo[::-1])
            parts.append(
                f'<polygon points="{poly}" fill="{band.colour}" fill-opacity="{band.opacity}" '
                f'stroke="none"/>'
            )
    for ref in refs:
        parts.append(_ref_line(frame, sx, sy, ref))
    ends: list[tuple[float, Line]] = []
    for ln in lines:
        for seg in _segments(ln.xs, ln.ys):
            pts = [(sx(a), sy(b)) for a, b in (seg if ln.step else decimate(seg))]
            dash = ' stroke-dasharray="5 4"' if ln.dashed else ""
            parts.append(
                f'<path d="{_path(pts, ln.step)}" fill="none" stroke="{ln.colour}" '
                f'stroke-width="{ln.width}" stroke-linejoin="round" stroke-linecap="round"{dash}/>'
            )
        segs = _segments(ln.xs, ln.ys)
        if segs:
            ends.append((sy(segs[-1][-1][1]), ln))
    if end_labels and ends:
        placed = _spread_labels([e[0] for e in ends], 13, frame.plot_top, frame.plot_bottom)
        for (_, ln), ypos in zip(ends, placed, strict=True):
            parts.append(
                _text(
                    frame.plot_right + 6,
                    ypos,
                    ln.label,
                    size=SMALL_FONT_SIZE,
                    colour=ln.colour,
                    weight="bold",
                    halo=True,
                )
            )
    parts.append("</svg>")
    return "".join(parts)


def _thin_ticks(ticks: list[Tick], sx: Scale) -> list[Tick]:
    """Keep every k-th tick so that no two labels overlap on the axis."""
    if len(ticks) < 2:
        return ticks
    widest = max(text_width(t.label, SMALL_FONT_SIZE) for t in ticks) + 8
    gaps = [abs(sx(b.value) - sx(a.value)) for a, b in itertools.pairwise(ticks)]
    smallest = min(gaps) or 1.0
    step = max(1, math.ceil(widest / smallest))
    return ticks[::step]


def _axes(frame: _Frame, sx: Scale, sy: Scale, x: AxisSpec, y: AxisSpec) -> str:
    parts: list[str] = []
    for tick in _ticks_for(sy, y):
        py = sy(tick.value)
        parts.append(
            f'<line x1="{_x(frame.plot_left)}" x2="{_x(frame.plot_right)}" y1="{_x(py)}" '
            f'y2="{_x(py)}" stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            _text(
                frame.plot_left - 6,
                py,
                tick.label,
                anchor="end",
                size=SMALL_FONT_SIZE,
                colour=MUTED,
            )
        )
    for tick in _thin_ticks(_ticks_for(sx, x), sx):
        px = sx(tick.value)
        parts.append(
            f'<line x1="{_x(px)}" x2="{_x(px)}" y1="{_x(frame.plot_bottom)}" '
            f'y2="{_x(frame.plot_bottom + 4)}" stroke="{AXIS}" stroke-width="1"/>'
        )
        parts.append(
            _text(
                px,
                frame.plot_bottom + 15,
                tick.label,
                anchor="middle",
                size=SMALL_FONT_SIZE,
                colour=MUTED,
            )
        )
    parts.append(
        f'<line x1="{_x(frame.plot_left)}" x2="{_x(frame.plot_right)}" '
        f'y1="{_x(frame.plot_bottom)}" y2="{_x(frame.plot_bottom)}" stroke="{AXIS}"/>'
    )
    if x.label:
        parts.append(
            _text(
                (frame.plot_left + frame.plot_right) / 2,
                frame.height - 8,
                x.label,
                anchor="middle",
                size=SMALL_FONT_SIZE,
                colour=MUTED,
            )
        )
    if y.label:
        cy = (frame.plot_top + frame.plot_bottom) / 2
        parts.append(
            f'<text transform="translate(12,{_x(cy)}) rotate(-90)" text-anchor="middle" '
            f'dominant-baseline="middle" font-size="{SMALL_FONT_SIZE}" fill="{MUTED}">'
            f"{escape(y.label)}</text>"
        )
    return "".join(parts)


def _ref_line(frame: _Frame, sx: Scale, sy: Scale, ref: RefLine) -> str:
    if ref.axis == "y":
        if not sy.contains(ref.value):
            return ""
        py = sy(ref.value)
        return (
            f'<line x1="{_x(frame.plot_left)}" x2="{_x(frame.plot_right)}" y1="{_x(py)}" '
            f'y2="{_x(py)}" stroke="{ref.colour}" stroke-width="1.2" stroke-dasharray="4 3"/>'
            + _text(
                frame.plot_left + 4,
                py + (8 if ref.below else -7),
                ref.label,
                size=SMALL_FONT_SIZE,
                colour=ref.colour,
                halo=True,
            )
        )
    if not sx.contains(ref.value):
        return ""
    px = sx(ref.value)
    return (
        f'<line x1="{_x(px)}" x2="{_x(px)}" y1="{_x(frame.plot_top)}" '
        f'y2="{_x(frame.plot_bottom)}" stroke="{ref.colour}" stroke-width="1.2" '
        f'stroke-dasharray="4 3"/>'
        + _text(
            px + 4,
            frame.plot_top + 6,
            ref.label,
            size=SMALL_FONT_SIZE,
            colour=ref.colour,
            halo=True,
        )
    )


# --------------------------------------------------------------------------- bar chart


@dataclass(frozen=True)
class Bar:
    """One bar of a group. ``value=None`` shows "not in this run" in place of the bar."""

    series: str
    value: float | None
    colour: str
    note: str = ""
    text: str | None = None  # replaces the formatted value in the label


@dataclass(frozen=True)
class BarGroup:
    label: str
    bars: Sequence[Bar]


def _bar_label(bar: Bar, value_fmt: Formatter) -> str:
    assert bar.value is not None
    text = bar.text if bar.text is not None else value_fmt(bar.value)
    return text + (f"  {bar.note}" if bar.note else "")


def bar_chart(
    groups: Sequence[BarGroup],
    *,
    title: str,
    x: AxisSpec,
    value_fmt: Formatter = _fmt_default,
    refs: Sequence[RefLine] = (),
    width: float = 640,
    bar_height: float = 14,
    legend: Sequence[tuple[str, str]] = (),
) -> str:
    """Horizontal grouped bars: one group per category, one bar per series, values labelled."""
    label_room = max((text_width(g.label, FONT_SIZE) for g in groups), default=40) + 14
    note_room = max(
        (
            text_width(_bar_label(b, value_fmt), SMALL_FONT_SIZE)
            for g in groups
            for b in g.bars
            if _finite(b.value)
        ),
        default=40,
    )
    legend_room = legend_height(legend, width - 40) + 8 if legend else 0
    ref_room = 16 if refs else 0
    rows = sum(len(g.bars) for g in groups)
    group_gap = 12
    height = 14 + legend_room + ref_room + rows * (bar_height + 3) + len(groups) * group_gap + 26
    frame = _Frame(
        width,
        height,
        left=min(label_room, width * 0.5),
        right=note_room + 10,
        top=10 + legend_room + ref_room,
        bottom=26,
    )
    values = [b.value for g in groups for b in g.bars if _finite(b.value)]
    values += [r.value for r in refs]
    lo, hi = _domain([v for v in values if v is not None], x, True)
    sx = Scale(lo, hi, frame.plot_left, frame.plot_right, x.log)
    parts = [_svg_open(width, height, title)]
    if legend:
        parts.append(_legend(legend, 12, 12, width - 24))
    for tick in _ticks_for(sx, x):
        px = sx(tick.value)
        parts.append(
            f'<line x1="{_x(px)}" x2="{_x(px)}" y1="{_x(frame.plot_top)}" '
            f'y2="{_x(frame.plot_bottom)}" stroke="{GRID}"/>'
        )
        parts.append(
            _text(
                px,
                frame.plot_bottom + 14,
                tick.label,
                anchor="middle",
                size=SMALL_FONT_SIZE,
                colour=MUTED,
            )
        )
    cy = frame.plot_top + 6
    zero = sx(max(lo, 0.0)) if not x.log else frame.plot_left
    for group in groups:
        group_top = cy
        for bar in group.bars:
            if _finite(bar.value):
                assert bar.value is not None
                px = sx(bar.value)
                x0, x1 = min(zero, px), max(zero, px)
                parts.append(
                    f'<rect x="{_x(x0)}" y="{_x(cy)}" width="{_x(max(x1 - x0, 1.5))}" '
                    f'height="{_x(bar_height)}" rx="2" fill="{bar.colour}"/>'
                )
                parts.append(
                    _text(
                        x1 + 5,
                        cy + bar_height / 2,
                        _bar_label(bar, value_fmt),
                        size=SMALL_FONT_SIZE,
                        colour=INK,
                        halo=True,
                    )
                )
            else:
                parts.append(
                    _text(
                        zero + 4,
                        cy + bar_height / 2,
                        f"{bar.series}: not in this run",
                        size=SMALL_FONT_SIZE,
                        colour=MUTED,
                    )
                )
            cy += bar_height + 3
        mid = (group_top + cy - 3) / 2
        label = _fit(group.label, frame.plot_left - 12, FONT_SIZE)
        parts.append(_text(frame.plot_left - 8, mid, label, anchor="end"))
        cy += group_gap
    parts.append(
        f'<line x1="{_x(zero)}" x2="{_x(zero)}" y1="{_x(frame.plot_top)}" '
        f'y2="{_x(frame.plot_bottom)}" stroke="{AXIS}"/>'
    )
    for ref in refs:
        if sx.contains(ref.value):
            px = sx(ref.value)
            parts.append(
                f'<line x1="{_x(px)}" x2="{_x(px)}" y1="{_x(frame.plot_top - 4)}" '
                f'y2="{_x(frame.plot_bottom)}" stroke="{ref.colour}" stroke-width="1.2" '
                f'stroke-dasharray="4 3"/>'
            )
            parts.append(
                _text(
                    px,
                    frame.plot_top - 10,
                    ref.label,
                    anchor="middle",
                    size=SMALL_FONT_SIZE,
                    colour=ref.colour,
                    halo=True,
                )
            )
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- column chart


@dataclass(frozen=True)
class Column:
    """A vertical bar with an optional interval (e.g. a 95% confidence interval) and a
    sub-label under the axis (e.g. the number of runs behind it)."""

    label: str
    value: float | None
    colour: str
    low: float | None = None
    high: float | None = None
    sublabel: str = ""


def column_chart(
    columns: Sequence[Column],
    *,
    title: str,
    y: AxisSpec,
    x_label: str = "",
    value_fmt: Formatter = _fmt_default,
    width: float = 640,
    height: float = 250,
) -> str:
    """Vertical columns with interval whiskers, value labels and per-column sub-labels."""
    frame = _Frame(width, height, left=58, right=16, top=22, bottom=58 if x_label else 44)
    values = [c.value for c in columns if _finite(c.value)]
    values += [c.high for c in columns if _finite(c.high)]
    lo, hi = _domain([v for v in values if v is not None], y, True)
    sy = Scale(lo, hi, frame.plot_bottom, frame.plot_top, y.log)
    parts = [_svg_open(width, height, title)]
    for tick in _ticks_for(sy, y):
        py = sy(tick.value)
        parts.append(
            f'<line x1="{_x(frame.plot_left)}" x2="{_x(frame.plot_right)}" y1="{_x(py)}" '
            f'y2="{_x(py)}" stroke="{GRID}"/>'
        )
        parts.append(
            _text(
                frame.plot_left - 6,
                py,
                tick.label,
                anchor="end",
                size=SMALL_FONT_SIZE,
                colour=MUTED,
            )
        )
    n = max(1, len(columns))
    slot = (frame.plot_right - frame.plot_left) / n
    col_w = min(64.0, slot * 0.6)
    for i, col in enumerate(columns):
        cx = frame.plot_left + slot * (i + 0.5)
        if _finite(col.value):
            assert col.value is not None
            top = sy(col.value)
            base = sy(max(lo, 0.0))
            parts.append(
                f'<rect x="{_x(cx - col_w / 2)}" y="{_x(min(top, base))}" width="{_x(col_w)}" '
                f'height="{_x(max(abs(base - top), 1.5))}" rx="2" fill="{col.colour}"/>'
            )
            label_y = top - 8
            if _finite(col.low) and _finite(col.high):
                assert col.low is not None and col.high is not None
                ylo, yhi = sy(col.low), sy(col.high)
                parts.append(
                    f'<path d="M{_x(cx)},{_x(ylo)}V{_x(yhi)}M{_x(cx - 6)},{_x(ylo)}H{_x(cx + 6)}'
                    f'M{_x(cx - 6)},{_x(yhi)}H{_x(cx + 6)}" stroke="{INK}" stroke-width="1.2" '
                    f'fill="none"/>'
                )
                label_y = min(label_y, yhi - 8)
            parts.append(
                _text(
                    cx + (col_w / 2 + 4 if _finite(col.high) else 0),
                    label_y,
                    value_fmt(col.value),
                    anchor="start" if _finite(col.high) else "middle",
                    size=SMALL_FONT_SIZE,
                    weight="bold",
                )
            )
        else:
            parts.append(
                _text(
                    cx,
                    frame.plot_bottom - 10,
                    "no runs",
                    anchor="middle",
                    size=SMALL_FONT_SIZE,
                    colour=MUTED,
                )
            )
        parts.append(_text(cx, frame.plot_bottom + 14, col.label, anchor="middle"))
        if col.sublabel:
            parts.append(
                _text(
                    cx,
                    frame.plot_bottom + 29,
                    col.sublabel,
                    anchor="middle",
                    size=SMALL_FONT_SIZE,
                    colour=MUTED,
                )
            )
    parts.append(
        f'<line x1="{_x(frame.plot_left)}" x2="{_x(frame.plot_right)}" '
        f'y1="{_x(frame.plot_bottom)}" y2="{_x(frame.plot_bottom)}" stroke="{AXIS}"/>'
    )
    if x_label:
        parts.append(
            _text(
                (frame.plot_left + frame.plot_right) / 2,
                height - 8,
                x_label,
                anchor="middle",
                size=SMALL_FONT_SIZE,
                colour=MUTED,
            )
        )
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- quantile boxes


@dataclass(frozen=True)
class QuantileRow:
    """Five quantiles (5/25/50/75/95) of one figure across runs, drawn as a box and whiskers."""

    label: str
    q05: float
    q25: float
    q50: float
    q75: float
    q95: float
    colour: str
    note: str = ""


def quantile_chart(
    rows: Sequence[QuantileRow],
    *,
    title: str,
    x: AxisSpec,
    refs: Sequence[RefLine] = (),
    width: float = 640,
    row_height: float = 26,
) -> str:
    """Horizontal box-and-whisker rows: whiskers 5–95%, box 25–75%, tick at the median."""
    label_room = max((text_width(r.label) for r in rows), default=40) + 14
    note_room = max((text_width(r.note, SMALL_FONT_SIZE) for r in rows), default=0) + 14
    bottom = 44 if x.label else 30
    height = 30 + len(rows) * row_height + bottom
    frame = _Frame(width, height, left=label_room, right=note_room, top=24, bottom=bottom)
    values = [v for r in rows for v in (r.q05, r.q95)] + [r.value for r in refs]
    lo, hi = _domain(values, x, not x.log)
    sx = Scale(lo, hi, frame.plot_left, frame.plot_right, x.log)
    parts = [_svg_open(width, height, title)]
    for tick in _ticks_for(sx, x):
        px = sx(tick.value)
        parts.append(
            f'<line x1="{_x(px)}" x2="{_x(px)}" y1="{_x(frame.plot_top)}" '
            f'y2="{_x(frame.plot_bottom)}" stroke="{GRID}"/>'
        )
        parts.append(
            _text(
                px,
                frame.plot_bottom + 14,
                tick.label,
                anchor="middle",
                size=SMALL_FONT_SIZE,
                colour=MUTED,
            )
        )
    for ref in refs:
        if sx.contains(ref.value):
            px = sx(ref.value)
            parts.append(
                f'<line x1="{_x(px)}" x2="{_x(px)}" y1="{_x(frame.plot_top - 4)}" '
                f'y2="{_x(frame.plot_bottom)}" stroke="{ref.colour}" stroke-width="1.2" '
                f'stroke-dasharray="4 3"/>'
            )
            parts.append(
                _text(
                    px,
                    frame.plot_top - 12,
                    ref.label,
                    anchor="middle",
                    size=SMALL_FONT_SIZE,
                    colour=ref.colour,
                )
            )
    for i, row in enumerate(rows):
        cy = frame.plot_top + row_height * (i + 0.5) + 4
        a, b, c, d, e = (sx(v) for v in (row.q05, row.q25, row.q50, row.q75, row.q95))
        parts.append(
            f'<line x1="{_x(a)}" x2="{_x(e)}" y1="{_x(cy)}" y2="{_x(cy)}" '
            f'stroke="{row.colour}" stroke-width="1.5"/>'
            f'<rect x="{_x(b)}" y="{_x(cy - 7)}" width="{_x(max(d - b, 2))}" height="14" rx="2" '
            f'fill="{row.colour}" fill-opacity="0.35" stroke="{row.colour}"/>'
            f'<line x1="{_x(c)}" x2="{_x(c)}" y1="{_x(cy - 9)}" y2="{_x(cy + 9)}" '
            f'stroke="{INK}" stroke-width="2.2"/>'
        )
        parts.append(_text(frame.plot_left - 8, cy, row.label, anchor="end"))
        if row.note:
            parts.append(
                _text(frame.plot_right + 8, cy, row.note, size=SMALL_FONT_SIZE, colour=MUTED)
            )
    if x.label:
        parts.append(
            _text(
                (frame.plot_left + frame.plot_right) / 2,
                height - 4,
                x.label,
                anchor="middle",
                size=SMALL_FONT_SIZE,
                colour=MUTED,
                baseline="auto",
            )
        )
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- waterfall


@dataclass(frozen=True)
class WaterfallBar:
    """One span of a trace: where it starts and ends (ms from the trace start), its depth
    in the call tree, and the service that ran it (for the colour)."""

    label: str
    start_ms: float
    end_ms: float
    colour: str
    depth: int = 0


def waterfall_chart(
    bars: Sequence[WaterfallBar],
    *,
    title: str,
    width: float = 640,
    row_height: float = 20,
    legend: Sequence[tuple[str, str]] = (),
) -> str:
    """A trace waterfall: one row per span, bars offset by start time, indented by depth,
    each labelled with its duration in milliseconds."""
    label_room = min(
        width * 0.45,
        max((text_width(b.label, SMALL_FONT_SIZE) + 10 * b.depth for b in bars), default=60) + 16,
    )
    legend_room = legend_height(legend, width - 24) + 8 if legend else 0
    height = legend_room + 20 + len(bars) * row_height + 28
    frame = _Frame(width, height, left=label_room, right=64, top=legend_room + 16, bottom=28)
    total = max((b.end_ms for b in bars), default=1.0)
    lo = min((b.start_ms for b in bars), default=0.0)
    sx = Scale(min(lo, 0.0), max(total, 1e-3), frame.plot_left, frame.plot_right)
    parts = [_svg_open(width, height, title)]
    if legend:
        parts.append(_legend(legend, 12, 12, width - 24))
    for tick in nice_ticks(sx.lo, sx.hi, 6):
        px = sx(tick)
        parts.append(
            f'<line x1="{_x(px)}" x2="{_x(px)}" y1="{_x(frame.plot_top)}" '
            f'y2="{_x(frame.plot_bottom)}" stroke="{GRID}"/>'
        )
        parts.append(
            _text(
                px,
                frame.plot_bottom + 14,
                f"{_fmt_default(tick)} ms",
                anchor="middle",
                size=SMALL_FONT_SIZE,
                colour=MUTED,
            )
        )
    for i, bar in enumerate(bars):
        cy = frame.plot_top + row_height * i + row_height / 2
        if i % 2 == 0:
            parts.append(
                f'<rect x="0" y="{_x(cy - row_height / 2)}" width="{_x(width)}" '
                f'height="{_x(row_height)}" fill="#f6f7f9"/>'
            )
        x0, x1 = sx(bar.start_ms), sx(bar.end_ms)
        parts.append(
            f'<rect x="{_x(x0)}" y="{_x(cy - 6)}" width="{_x(max(x1 - x0, 2))}" height="12" '
            f'rx="2" fill="{bar.colour}"/>'
        )
        label = _fit(bar.label, label_room - 14 - 10 * bar.depth, SMALL_FONT_SIZE)
        parts.append(_text(8 + 10 * bar.depth, cy, label, size=SMALL_FONT_SIZE))
        parts.append(
            _text(
                max(x1, x0 + 2) + 5,
                cy,
                f"{_fmt_default(round(bar.end_ms - bar.start_ms, 1))} ms",
                size=SMALL_FONT_SIZE,
                colour=MUTED,
            )
        )
    parts.append("</svg>")
    return "".join(parts)
