"""The briefing for one run: the question, the rails against the G20 targets, the stress,
supervision, one traced payment, and the assumptions and caveats behind it all.

Every chart title is a takeaway computed from the run's data ("Stablecoin fell to 0.871;
below 0.99 for 41 h"), so the page can be read from its headings alone in five minutes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from corridor.briefing import bondmath, g20, humanize
from corridor.briefing import document as doc
from corridor.briefing import svgchart as sc
from corridor.briefing.results import (
    KINDS,
    RunResults,
    dig,
    hours_below,
    num,
    rail_name,
    rail_short,
    sentence,
)
from corridor.briefing.timeaxis import (
    SECONDS_PER_DAY,
    SETTLEMENT_TICKS,
    day_ticks,
    intervals_where,
    start_datetime,
    weekend_spans,
)
from corridor.briefing.traces import Span, as_call_tree, payment_trace

PEG_THRESHOLD = 0.99
MAX_WATERFALL_SPANS = 40
# Chart widths in SVG units: a half-width figure renders at about 1:1 on a 1280-px screen
# and on A4 landscape, so 12-px chart text stays 12 px.
HALF = 520
WIDE = 1040


# --------------------------------------------------------------------------- rail figures


@dataclass
class RailFigures:
    """One rail's headline figures: from summary.json where it has them, else derived from
    payments.csv. Costs are shares of the amount (0.01 = 1%)."""

    rail: str
    payments: float | None = None
    settled: float | None = None
    failed: float | None = None
    cost_all: float | None = None
    cost_by_kind: dict[str, float] = field(default_factory=dict)
    worst_corridor_by_kind: dict[str, tuple[str, float]] = field(default_factory=dict)
    within_1h: float | None = None
    within_1bd: float | None = None
    p50_s: float | None = None
    p99_s: float | None = None
    status_visible: bool | None = None
    access: str | None = None
    liquidity_locked_minor: float | None = None


def _settled_mask(frame: pd.DataFrame) -> pd.Series:
    if "status" in frame:
        return frame["status"].astype(str).str.lower().eq("settled")
    return pd.Series(True, index=frame.index)


def rail_figures(run: RunResults) -> dict[str, RailFigures]:
    out: dict[str, RailFigures] = {}
    payments = run.payments
    for rail in run.rails_present():
        block = dig(run.summary, "rails", rail) or {}
        fig = RailFigures(rail=rail)
        fig.payments, fig.settled, fig.failed = (
            num(block, "payments"),
            num(block, "settled"),
            num(block, "failed"),
        )
        bps = num(block, "cost_bps_mean")
        fig.cost_all = bps / 10_000 if bps is not None else None
        fig.within_1h, fig.within_1bd = (
            num(block, "share_within_1h"),
            num(block, "share_within_1bd"),
        )
        fig.p50_s, fig.p99_s = num(block, "p50_settle_s"), num(block, "p99_settle_s")
        visible = dig(block, "status_visible")
        fig.status_visible = visible if isinstance(visible, bool) else None
        access = dig(block, "access")
        fig.access = str(access) if access not in (None, "") else None
        fig.liquidity_locked_minor = num(block, "liquidity_locked")
        if payments is not None and "rail" in payments:
            _fill_from_payments(fig, payments[payments["rail"].astype(str) == rail])
        out[rail] = fig
    return out


def _fill_from_payments(fig: RailFigures, rows: pd.DataFrame) -> None:
    """Per-kind costs and worst corridors always come from the payments; counts and speed
    only when the summary did not give them."""
    if rows.empty:
        return
    settled = _settled_mask(rows)
    if fig.payments is None:
        fig.payments = float(len(rows))
        fig.settled = float(settled.sum())
        fig.failed = float(len(rows) - settled.sum())
    if "cost_bps" in rows:
        priced = rows[settled & rows["cost_bps"].notna()]
        if fig.cost_all is None and len(priced):
            fig.cost_all = float(priced["cost_bps"].mean()) / 10_000
        if "kind" in priced:
            for kind, group in priced.groupby(priced["kind"].astype(str)):
                fig.cost_by_kind[str(kind)] = float(group["cost_bps"].mean()) / 10_000
                if "corridor" in group and group["corridor"].notna().any():
                    per_corridor = group.groupby("corridor")["cost_bps"].mean() / 10_000
                    fig.worst_corridor_by_kind[str(kind)] = (
                        str(per_corridor.idxmax()),
                        float(per_corridor.max()),
                    )
    if "settle_s" in rows:
        times = rows["settle_s"].where(settled)
        n = len(rows)
        if fig.within_1h is None:
            fig.within_1h = float((times <= 3600).sum() / n)
        if fig.within_1bd is None:
            fig.within_1bd = float((times <= SECONDS_PER_DAY).sum() / n)
        ok = times.dropna()
        if fig.p50_s is None and len(ok):
            fig.p50_s = float(ok.quantile(0.5))
        if fig.p99_s is None and len(ok):
            fig.p99_s = float(ok.quantile(0.99))


# --------------------------------------------------------------------------- masthead + lede


def _scenario_title(run: RunResults) -> str:
    scenario = dig(run.summary, "scenario")
    if isinstance(scenario, str) and scenario.strip():
        return scenario_title(scenario)
    return f"Corridor run in {run.directory.name}"


# Words a scenario slug spells in lower case that a title spells in capitals.
_ACRONYMS = frozenset(
    {"aml", "bis", "cbdc", "cny", "eod", "fx", "gbp", "hkd", "pvp", "svb", "usd", "usdc",
     "usdt", "cn", "hk", "th", "ae", "sa", "g20", "uk", "us", "eu"}
)  # fmt: skip


def scenario_title(slug: str) -> str:
    """A scenario slug as a title: "svb-2023" -> "SVB 2023", "aml-typologies" -> "AML
    typologies", "dollar-contagion" -> "Dollar contagion"."""
    words = slug.replace("_", " ").replace("-", " ").split()
    text = " ".join(w.upper() if w.lower() in _ACRONYMS else w for w in words)
    return text[:1].upper() + text[1:]


def masthead(run: RunResults) -> str:
    s = run.summary
    meta: list[str] = []
    started = dig(s, "started_at")
    if isinstance(started, str) and started:
        meta.append(f"started {escape(started[:16].replace('T', ' '))}")
    if num(s, "days") is not None:
        meta.append(f"{humanize.number(num(s, 'days'), 2)} days simulated")
    if num(s, "payments") is not None:
        meta.append(f"{humanize.count(num(s, 'payments'))} payments")
    if isinstance(dig(s, "mode"), str):
        meta.append(f"{escape(str(dig(s, 'mode')))} mode")
    if num(s, "seed") is not None:
        meta.append(f"seed {int(num(s, 'seed') or 0)}")
    if num(s, "wall_s") is not None:
        meta.append(f"ran in {humanize.duration(num(s, 'wall_s'))}")
    invariants = dig(s, "invariants", "ok")
    if invariants is True:
        meta.append('<span class="badge meets">✓ ledger invariants held</span>')
    elif invariants is False:
        meta.append('<span class="badge misses">✗ ledger invariants violated</span>')
    spans = "".join(f"<span>{m}</span>" for m in meta)
    return (
        '<header><div class="kicker">Corridor · policy briefing</div>'
        f'<h1>{escape(_scenario_title(run))}</h1><p class="meta">{spans}</p></header>'
    )


def lede(run: RunResults, rails: dict[str, RailFigures]) -> str:
    question = dig(run.summary, "question")
    q_html = (
        f'<p class="question">{escape(question)}</p>'
        if isinstance(question, str) and question.strip()
        else doc.absent_block("The question this run answers")
    )
    findings = key_findings(run, rails)
    f_html = doc.findings_list(findings) if findings else doc.absent_block("Findings")
    return (
        f'<section id="question" class="lede"><div><div class="label">The question</div>{q_html}'
        f'</div><div id="findings"><div class="label">In brief</div>{f_html}</div></section>'
    )


def key_findings(run: RunResults, rails: dict[str, RailFigures]) -> list[tuple[str, str]]:
    """Four to six sentences a reader could repeat in a meeting, each from the data."""
    out: list[tuple[str, str]] = []
    timed = [r for r in rails.values() if r.within_1h is not None]
    if timed:
        ranked = sorted(timed, key=lambda r: -(r.within_1h or 0))
        parts = [
            f"{escape(rail_name(r.rail))} <b>{humanize.percent(r.within_1h)}</b>" for r in ranked
        ]
        meeting = [r for r in ranked if g20.rate_speed_1h(r.within_1h) is g20.Rating.MEETS]
        verdict = (
            f"only {escape(rail_name(meeting[0].rail))} meets the 75% target"
            if len(meeting) == 1
            else f"{len(meeting)} rails meet the 75% target"
            if meeting
            else "no rail meets the 75% target"
        )
        out.append((f"Delivered within 1 hour: {', '.join(parts)} — {verdict}.", doc.GREEN))
    costed = [r for r in rails.values() if r.cost_all is not None]
    if costed:
        ranked = sorted(costed, key=lambda r: r.cost_all or 0)
        parts = [
            f"{escape(rail_name(r.rail))} <b>{humanize.percent(r.cost_all)}</b>" for r in ranked
        ]
        out.append(
            (
                (
                    f"Average cost: {', '.join(parts)} of the amount "
                    "(G20: ≤ 1% retail, ≤ 3% remittances)."
                ),
                doc.ORANGE,
            )
        )
    stable = dig(run.summary, "stablecoin")
    low = num(stable, "min_price")
    if low is not None:
        below = num(stable, "hours_below_0_99")
        redeemed = num(stable, "net_redemptions_pct_4d")
        text = f"The stablecoin fell to <b>{humanize.price(low)}</b>"
        if below is not None:
            text += f" and spent <b>{humanize.hours(below)}</b> below 0.99"
        if redeemed is not None:
            text += (
                f"; net redemptions <b>{humanize.percent(redeemed / 100)}</b> of supply in 4 days"
            )
        out.append((text + ".", doc.VERMILLION))
    peak = _cbdc_peak_tps(run)
    if peak is not None:
        mean = num(run.summary, "throughput", "cbdc_mean_tps")
        tail = f" (mean {humanize.rate_per_second(mean)})" if mean is not None else ""
        out.append(
            (
                (
                    f"The CBDC corridor carried the surge at up to <b>{humanize.count(peak)} "
                    f"payments/s</b>{tail}."
                ),
                doc.BLUE,
            )
        )
    pens = _penetration(run)
    if pens:
        parts = [f"{escape(rail_name(r))} <b>{humanize.percent(v)}</b>" for r, v in pens.items()]
        out.append((f"Share of flows the supervisor could see: {', '.join(parts)}.", doc.PURPLE))
    if dig(run.summary, "invariants", "ok") is False:
        out.insert(
            0,
            (
                (
                    "<b>Ledger invariants were violated in this run</b>: treat every figure "
                    "below with suspicion."
                ),
                doc.VERMILLION,
            ),
        )
    return out


# --------------------------------------------------------------------------- scorecard


def scorecard(rails: dict[str, RailFigures]) -> str:
    if not rails:
        return doc.section(
            "scorecard",
            "Rails against the G20 targets for 2027",
            doc.absent_block("Per-rail figures (summary.json rails, payments.csv)"),
        )
    head = '<th scope="col">Rail</th>' + "".join(
        f'<th scope="col">{escape(t.heading)}<small>{escape(t.target_text)}</small></th>'
        for t in g20.TARGETS
    )
    body = "".join(_scorecard_row(fig) for fig in rails.values())
    note = (
        "✓ meets the target · ◐ close (cost: average above target but under the per-corridor "
        "ceiling; speed: ≥ 50% within 1 h, ≥ 90% within a business day) · ✗ misses. Cost is the "
        "mean cost of settled payments as a share of the amount; failed payments count as not "
        "delivered. Status quo for remittances: World Bank global average "
        f"{humanize.percent(g20.WORLD_BANK_REMITTANCE_AVERAGE_2025Q1)} (Q1 2025)."
    )
    table = (
        f'<table class="scorecard"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        f'<p class="note">{escape(note)}</p>'
    )
    return doc.section("scorecard", "Rails against the G20 targets for 2027", table)


def _cost_cell(fig: RailFigures, kind: str, rate: Any) -> str:
    avg = fig.cost_by_kind.get(kind)
    worst = fig.worst_corridor_by_kind.get(kind)
    detail = f"worst: {worst[0]} {humanize.percent(worst[1])}" if worst else ""
    if avg is None and fig.cost_all is not None and not fig.cost_by_kind:
        # No per-kind split in this run: rate the all-payments average, and say so.
        return doc.rating_cell(
            rate(fig.cost_all, None), humanize.percent(fig.cost_all), "all payment kinds"
        )
    if avg is None:
        return doc.rating_cell(g20.Rating.UNKNOWN, humanize.MISSING, f"no {kind} payments")
    return doc.rating_cell(rate(avg, worst[1] if worst else None), humanize.percent(avg), detail)


def _scorecard_row(fig: RailFigures) -> str:
    colour = doc.rail_colour(fig.rail)
    count = ""
    if fig.payments is not None:
        failed = f", {humanize.count(fig.failed)} failed" if fig.failed else ""
        count = f"<small>{humanize.count(fig.payments)} payments{failed}</small>"
    cells = [
        _cost_cell(fig, "retail", g20.rate_retail_cost),
        _cost_cell(fig, "remittance", g20.rate_remittance_cost),
        doc.rating_cell(
            g20.rate_speed_1h(fig.within_1h),
            humanize.percent(fig.within_1h),
            f"median {humanize.duration(fig.p50_s)}" if fig.p50_s is not None else "",
        ),
        doc.rating_cell(
            g20.rate_speed_1bd(fig.within_1bd),
            humanize.percent(fig.within_1bd),
            f"99th pct {humanize.duration(fig.p99_s)}" if fig.p99_s is not None else "",
        ),
        doc.rating_cell(
            g20.rate_transparency(fig.status_visible),
            {True: "shown", False: "not shown", None: humanize.MISSING}[fig.status_visible],
            "to payer and payee" if fig.status_visible else "",
        ),
        doc.rating_cell(g20.Rating.UNKNOWN, fig.access or humanize.MISSING, "", text=True),
    ]
    return (
        f'<tr data-rail="{escape(fig.rail)}"><th scope="row"><span class="swatch" '
        f'style="background:{colour}"></span>{escape(rail_name(fig.rail))}{count}</th>'
        + "".join(cells)
        + "</tr>"
    )


# --------------------------------------------------------------------------- speed and cost


def settlement_figure(run: RunResults, rails: dict[str, RailFigures]) -> str:
    payments = run.payments
    if payments is None or not {"rail", "settle_s"} <= set(payments.columns):
        return doc.absent_figure(
            "fig-settlement",
            "Settlement time per rail",
            "Per-payment settlement times (payments.csv)",
        )
    lines: list[sc.Line] = []
    times_all: list[float] = []
    counts: list[str] = []
    for rail in rails:
        rows = payments[payments["rail"].astype(str) == rail]
        if rows.empty:
            continue
        times = rows["settle_s"].where(_settled_mask(rows)).dropna()
        times = times[times >= 0].to_numpy(dtype=float)
        counts.append(f"{rail_name(rail)} {humanize.count(len(rows))}")
        if len(times) == 0:
            continue
        times_all.extend([float(times.min()), float(times.max())])
        lines.append(_cdf_line(rail, np.sort(times), len(rows)))
    if not lines:
        return doc.absent_figure(
            "fig-settlement", "Settlement time per rail", "Settled payments with a settlement time"
        )
    lo = 10 ** math.floor(math.log10(max(min(times_all), 0.001)))
    hi = max(max(times_all) * 1.3, 2 * SECONDS_PER_DAY)
    lines = [_extend_to(line, lo, hi) for line in lines]
    svg = sc.line_chart(
        lines,
        title="Share of payments delivered within a given time, per rail",
        x=sc.AxisSpec(
            label="time from initiation to funds available (log scale)",
            lo=lo,
            hi=hi,
            log=True,
            ticks=SETTLEMENT_TICKS,
        ),
        y=sc.AxisSpec(lo=0, hi=1, fmt=lambda v: f"{v * 100:.0f}%"),
        refs=[
            sc.RefLine(0.75, "G20: 75% within 1 hour"),
            sc.RefLine(3600, "", axis="x"),
            sc.RefLine(SECONDS_PER_DAY, "", axis="x"),
        ],
        width=HALF,
    )
    return doc.Figure(
        "fig-settlement",
        _speed_takeaway(rails),
        "Cumulative share of each rail's payments available to the recipient; a curve that "
        "crosses the dashed 75% line left of 1 h meets the G20 speed target.",
        svg,
        f"Source: {run.source('payments')} · n = {', '.join(counts)} payments; failed payments "
        "never arrive, so a curve tops out below 100%.",
    ).html()


def _cdf_line(rail: str, sorted_times: np.ndarray, total: int) -> sc.Line:
    """The empirical CDF sampled on a log grid (a few hundred points, not one per payment)."""
    lo = max(float(sorted_times[0]), 1e-3)
    hi = max(float(sorted_times[-1]), lo * 1.01)
    grid = np.geomspace(lo * 0.999, hi * 1.001, 180)
    shares = np.searchsorted(sorted_times, grid, side="right") / total
    return sc.Line(
        rail_name(rail), grid.tolist(), shares.tolist(), doc.rail_colour(rail), step=True
    )


def _extend_to(line: sc.Line, lo: float, hi: float) -> sc.Line:
    """Run a CDF flat from 0 at the axis start and at its final share to the axis end."""
    xs, ys = list(line.xs), list(line.ys)
    return sc.Line(line.label, [lo, *xs, hi], [0.0, *ys, ys[-1]], line.colour, step=True)


def _speed_takeaway(rails: dict[str, RailFigures]) -> str:
    timed = sorted(
        (r for r in rails.values() if r.within_1h is not None), key=lambda r: -(r.within_1h or 0)
    )
    if not timed:
        return "Settlement time per rail"
    best, worst = timed[0], timed[-1]
    lead = (
        f"{sentence(rail_short(best.rail))} delivers {humanize.percent(best.within_1h)} "
        "within 1 hour"
    )
    if best is worst:
        return f"{lead} (G20 target: 75%)"
    return f"{lead}, {rail_short(worst.rail)} {humanize.percent(worst.within_1h)} (target: 75%)"


def cost_figure(run: RunResults, rails: dict[str, RailFigures]) -> str:
    kinds = [k for k in KINDS if any(k in f.cost_by_kind for f in rails.values())]
    kinds += sorted({k for f in rails.values() for k in f.cost_by_kind} - set(kinds))
    if kinds:
        groups = [
            sc.BarGroup(
                kind.capitalize() if kind != "trade" else "Trade (wholesale)",
                [
                    sc.Bar(rail_name(f.rail), f.cost_by_kind.get(kind), doc.rail_colour(f.rail))
                    for f in rails.values()
                ],
            )
            for kind in kinds
        ]
        source = f"Source: {run.source('payments')} · mean cost of settled payments by kind"
    elif any(f.cost_all is not None for f in rails.values()):
        groups = [
            sc.BarGroup(
                "All payments",
                [
                    sc.Bar(rail_name(f.rail), f.cost_all, doc.rail_colour(f.rail))
                    for f in rails.values()
                ],
            )
        ]
        source = "Source: summary.json (cost_bps_mean); no per-kind split in this run"
    else:
        return doc.absent_figure("fig-cost", "Cost per rail", "Payment costs")
    legend = [(rail_name(f.rail), doc.rail_colour(f.rail)) for f in rails.values()]
    svg = sc.bar_chart(
        groups,
        title="Average cost per payment as a share of the amount, by kind and rail",
        x=sc.AxisSpec(fmt=lambda v: f"{v * 100:g}%"),
        value_fmt=humanize.percent,
        refs=[
            sc.RefLine(g20.RETAIL_COST_AVERAGE_MAX, "1% retail"),
            sc.RefLine(g20.REMITTANCE_COST_AVERAGE_MAX, "3% remittance"),
        ],
        legend=legend,
        width=HALF,
    )
    return doc.Figure(
        "fig-cost",
        _cost_takeaway(rails),
        "Mean cost paid by sender and receiver (fees, FX spread, network fees), "
        "as a share of the amount; dashed lines are the G20 averages.",
        svg,
        source,
    ).html()


def _cost_takeaway(rails: dict[str, RailFigures]) -> str:
    costed = sorted(
        (r for r in rails.values() if r.cost_all is not None), key=lambda r: r.cost_all or 0
    )
    if not costed:
        return "Cost per rail"
    cheap, dear = costed[0], costed[-1]
    lead = f"{sentence(rail_short(dear.rail))} costs {humanize.percent(dear.cost_all)} on average"
    if cheap is dear:
        return lead
    ratio = (dear.cost_all or 0) / cheap.cost_all if cheap.cost_all else None
    if ratio and ratio >= 1.5:
        return (
            f"{lead}, {humanize.number(ratio, 2)}× {rail_short(cheap.rail)} "
            f"({humanize.percent(cheap.cost_all)})"
        )
    return f"{lead}; {rail_short(cheap.rail)} {humanize.percent(cheap.cost_all)}"


# --------------------------------------------------------------------------- the stress


def _time_axis(run: RunResults) -> tuple[np.ndarray, sc.AxisSpec, list[sc.Shade]]:
    ts = run.timeseries
    assert ts is not None
    days = ts["t_s"].to_numpy(dtype=float) / SECONDS_PER_DAY
    start = start_datetime(ts, dig(run.summary, "started_at"))
    span = float(days.max()) if len(days) else 1.0
    axis = sc.AxisSpec(
        lo=float(days.min()) if len(days) else 0.0, hi=span, ticks=day_ticks(span, start)
    )
    shades = [sc.Shade(a, b, "#8c96a0", 0.14) for a, b in weekend_spans(span, start)]
    return days, axis, shades


def peg_figures(run: RunResults) -> str:
    stable = dig(run.summary, "stablecoin")
    price = run.timeseries_column("stablecoin_price")
    if price is None:
        peg = doc.absent_figure(
            "fig-peg",
            "Stablecoin peg through the stress",
            "The stablecoin price path (timeseries.csv stablecoin_price)",
        )
    else:
        peg = _peg_chart(run, price, stable)
    redemptions = run.timeseries_column("redemptions_cum_pct")
    if redemptions is None:
        red = doc.absent_figure(
            "fig-redemptions",
            "Redemptions through the stress",
            "Cumulative net redemptions (timeseries.csv redemptions_cum_pct)",
        )
    else:
        red = _redemptions_chart(run, redemptions, stable)
    return peg + red


def _peg_chart(run: RunResults, price: pd.Series, stable: Any) -> str:
    days, x_axis, weekends = _time_axis(run)
    values = price.to_numpy(dtype=float)
    low = num(stable, "min_price")
    low = low if low is not None else float(np.nanmin(values))
    below_h = num(stable, "hours_below_0_99")
    if below_h is None:
        below_h = hours_below(run.timeseries, "stablecoin_price", PEG_THRESHOLD)
    mask = [bool(v < PEG_THRESHOLD) for v in values]
    depeg = [sc.Shade(a, b, doc.VERMILLION, 0.13) for a, b in intervals_where(days.tolist(), mask)]
    y_lo = math.floor((min(low, PEG_THRESHOLD) - 0.01) * 50) / 50
    svg = sc.line_chart(
        [sc.Line("price", days, values, doc.VERMILLION)],
        title="Stablecoin secondary-market price through the stress",
        x=x_axis,
        y=sc.AxisSpec(
            lo=y_lo,
            hi=max(1.005, float(np.nanmax(values)) + 0.003),
            fmt=lambda v: f"{v:.2f}",
            include_zero=False,
        ),
        refs=[
            sc.RefLine(PEG_THRESHOLD, "0.99", colour="#8a3a00", below=True),
            sc.RefLine(1.0, "par", colour="#444b55"),
        ],
        width=HALF,
        shades=weekends + depeg,
        end_labels=False,
        legend=[("below 0.99", "#f2c4a8"), ("weekend: banks closed", "#d5dae0")]
        if weekends
        else [("below 0.99", "#f2c4a8")],
    )
    takeaway = f"Stablecoin fell to {humanize.price(low)}"
    if below_h is not None:
        takeaway += f"; below 0.99 for {humanize.hours(below_h)}"
    final = num(stable, "final_price")
    final = final if final is not None else float(values[~np.isnan(values)][-1])
    venue = num(stable, "min_venue_price")
    venue_text = (
        f" (lowest single venue {humanize.price(venue)})"
        if venue is not None and venue < low - 0.0005
        else ""
    )
    return doc.Figure(
        "fig-peg",
        takeaway,
        f"Aggregate secondary-market price, US$ per token{venue_text}; ended at "
        f"{humanize.price(final)}. For scale, USDC in March 2023 (SVB): low ≈ 0.87 (one venue "
        "0.81), below 0.99 for ≈ 2–2.5 days.",
        svg,
        f"Source: {run.source('timeseries')} · n = {humanize.count(len(values))} observations",
    ).html()


def _redemptions_chart(run: RunResults, redemptions: pd.Series, stable: Any) -> str:
    days, x_axis, weekends = _time_axis(run)
    pct = redemptions.to_numpy(dtype=float) / 100.0
    four_day = num(stable, "net_redemptions_pct_4d")
    if four_day is None:
        in_window = pct[days <= 4.0]
        four_day = float(np.nanmax(in_window)) * 100 if len(in_window) else None
    svg = sc.line_chart(
        [sc.Line("redeemed", days, pct, doc.VERMILLION)],
        title="Cumulative net redemptions as a share of initial supply",
        x=x_axis,
        y=sc.AxisSpec(fmt=lambda v: f"{v * 100:g}%"),
        shades=weekends,
        end_labels=False,
        width=HALF,
    )
    final = float(pct[~np.isnan(pct)][-1])
    takeaway = (
        f"Holders redeemed {humanize.percent(four_day / 100)} of supply in 4 days"
        if four_day is not None
        else f"Holders redeemed {humanize.percent(final)} of supply"
    )
    return doc.Figure(
        "fig-redemptions",
        takeaway,
        f"Cumulative net redemptions at the issuer and ramps, share of supply at the start; "
        f"{humanize.percent(final)} by the end. USDC/SVB 2023: ≈ 11% in 4 days.",
        svg,
        f"Source: {run.source('timeseries')} · n = {humanize.count(len(pct))} observations",
    ).html()


def _cbdc_peak_tps(run: RunResults) -> float | None:
    peak = num(run.summary, "throughput", "cbdc_peak_tps")
    if peak is None:
        col = run.timeseries_column("cbdc_tps")
        peak = float(col.max()) if col is not None else None
    return peak


def _when(run: RunResults, day: float) -> str:
    """A moment in the run, in the words a reader uses: "on Sat 11 Mar at 14:00"."""
    start = start_datetime(run.timeseries, dig(run.summary, "started_at"))
    if start is None:
        return f"on day {humanize.number(day, 2)}"
    moment = start + pd.Timedelta(days=day)
    return f"on {moment.strftime('%a %d %b').replace(' 0', ' ')} at {moment.strftime('%H:%M')}"


def throughput_figures(run: RunResults) -> str:
    tps = run.timeseries_column("cbdc_tps")
    if tps is None:
        first = doc.absent_figure(
            "fig-throughput",
            "CBDC corridor throughput during the surge",
            "Achieved CBDC throughput (timeseries.csv cbdc_tps)",
        )
    else:
        days, x_axis, weekends = _time_axis(run)
        values = tps.to_numpy(dtype=float)
        peak = _cbdc_peak_tps(run) or float(np.nanmax(values))
        mean = num(run.summary, "throughput", "cbdc_mean_tps")
        mean = mean if mean is not None else float(np.nanmean(values))
        peak_at = _when(run, float(days[int(np.nanargmax(values))]))
        svg = sc.line_chart(
            [sc.Line("CBDC", days, values, doc.BLUE)],
            title="Achieved CBDC service throughput, payments per second",
            x=x_axis,
            y=sc.AxisSpec(fmt=lambda v: f"{v:,.0f}"),
            shades=weekends,
            end_labels=False,
            width=HALF,
        )
        first = doc.Figure(
            "fig-throughput",
            f"The CBDC corridor peaked at {humanize.count(peak)} payments/s (mean "
            f"{humanize.count(mean)}/s)",
            f"Payments per second the services completed in each interval; the peak came "
            f"{peak_at}.",
            svg,
            f"Source: {run.source('timeseries')} cbdc_tps · n = {humanize.count(len(values))} intervals",
        ).html()
    return first + _rail_share_figure(run)


def _rail_share_figure(run: RunResults) -> str:
    cols = {
        r: run.timeseries_column(f"{r}_payments") for r in ("cbdc", "stablecoin", "correspondent")
    }
    present = {r: c for r, c in cols.items() if c is not None}
    if len(present) < 2:
        return doc.absent_figure(
            "fig-rail-share",
            "Where the payments went",
            "Payments per rail over time (timeseries.csv *_payments)",
        )
    days, x_axis, weekends = _time_axis(run)
    frame = pd.DataFrame({r: c.fillna(0).to_numpy(dtype=float) for r, c in present.items()})
    # Smooth over ~1/24 of the run so the story is not lost in interval noise.
    window = max(1, len(frame) // 24)
    smooth = frame.rolling(window, min_periods=1).mean()
    totals = smooth.sum(axis=1).replace(0, np.nan)
    shares = smooth.div(totals, axis=0)
    lines = [sc.Line(rail_name(r), days, shares[r].to_numpy(), doc.rail_colour(r)) for r in present]
    svg = sc.line_chart(
        lines,
        title="Share of corridor payments by rail",
        x=x_axis,
        y=sc.AxisSpec(lo=0, hi=1, fmt=lambda v: f"{v * 100:.0f}%"),
        shades=weekends,
        width=HALF,
    )
    takeaway = "Where the payments went"
    if "cbdc" in shares:
        head = shares["cbdc"].iloc[: max(1, len(shares) // 8)].mean()
        peak = shares["cbdc"].max()
        if peak - head >= 0.02:
            takeaway = (
                f"CBDC's share of payments rose from {humanize.percent(head)} to a peak "
                f"of {humanize.percent(peak)}"
            )
        else:
            takeaway = f"CBDC's share of payments held near {humanize.percent(head)}"
    total = int(frame.to_numpy().sum())
    return doc.Figure(
        "fig-rail-share",
        takeaway,
        "Each rail's share of the corridor's payments per interval (smoothed); flows leave the "
        "stablecoin as its price breaks.",
        svg,
        f"Source: {run.source('timeseries')} · n = {humanize.count(total)} payments in "
        f"{humanize.count(len(frame))} intervals",
    ).html()


# --------------------------------------------------------------------------- supervision


def _penetration(run: RunResults) -> dict[str, float]:
    block = dig(run.summary, "supervision", "rails")
    if not isinstance(block, Mapping):
        return {}
    out = {}
    for rail, data in block.items():
        value = num(data, "penetration_rate")
        if value is not None:
            out[str(rail)] = value
    return out


def supervision_figure(run: RunResults) -> str:
    block = dig(run.summary, "supervision", "rails")
    if not isinstance(block, Mapping) or not block:
        return doc.absent_figure(
            "fig-supervision",
            "Supervision penetration",
            "Supervision results (summary.json supervision)",
            wide=True,
        )
    rails = [str(r) for r in block]
    groups = [
        sc.BarGroup(
            "Flows seen by the supervisor",
            [
                sc.Bar(
                    rail_name(r),
                    num(block, r, "penetration_rate"),
                    doc.rail_colour(r),
                    text=humanize.percent(num(block, r, "penetration_rate")),
                )
                for r in rails
            ],
        )
    ]
    typologies = sorted(
        {
            str(t)
            for r in rails
            for t in (dig(block, r, "typologies") or {})
            if isinstance(dig(block, r, "typologies"), Mapping)
        }
    )
    for typ in typologies:
        bars = []
        for r in rails:
            scores = dig(block, r, "typologies", typ)
            recall, delay = num(scores, "recall"), num(scores, "detection_delay_s")
            note = " · ".join(
                p
                for p in (
                    f"recall {humanize.number(recall, 2)}" if recall is not None else "",
                    f"found after {humanize.duration(delay)}" if delay is not None else "",
                )
                if p
            )
            f1 = num(scores, "f1")
            bars.append(
                sc.Bar(
                    rail_name(r),
                    f1,
                    doc.rail_colour(r),
                    f"({note})" if note else "",
                    text=f"F1 {humanize.number(f1, 2)}",
                )
            )
        groups.append(sc.BarGroup(f"Detecting {typ.replace('_', ' ')}", bars))
    svg = sc.bar_chart(
        groups,
        title="Supervision penetration and detection quality by rail",
        x=sc.AxisSpec(lo=0, hi=1, fmt=lambda v: f"{v:.1f}"),
        value_fmt=lambda v: humanize.number(v, 2),
        legend=[(rail_name(r), doc.rail_colour(r)) for r in rails],
        width=WIDE,
    )
    pens = _penetration(run)
    if len(pens) >= 2:
        ranked = sorted(pens.items(), key=lambda kv: -kv[1])
        takeaway = (
            f"The supervisor saw {humanize.percent(ranked[0][1])} of "
            f"{rail_name(ranked[0][0])} flows, {humanize.percent(ranked[-1][1])} on the "
            f"{rail_name(ranked[-1][0])} rail"
        )
    elif pens:
        rail, value = next(iter(pens.items()))
        takeaway = f"The supervisor saw {humanize.percent(value)} of {rail_name(rail)} flows"
    else:
        takeaway = "Supervision: detection quality by rail"
    alerts = ""
    if run.alerts is not None and "rail" in run.alerts:
        per = run.alerts["rail"].astype(str).value_counts()
        alerts = "; alerts raised: " + ", ".join(
            f"{rail_name(r)} {humanize.count(int(n))}" for r, n in per.items()
        )
    return doc.Figure(
        "fig-supervision",
        takeaway,
        "Penetration: share of the rail's value flows that reach the supervisor's flow graph. "
        "F1 (0–1) scores each AML typology detector against the typologies injected into the run.",
        svg,
        f"Source: summary.json supervision{alerts}",
        wide=True,
    ).html()


# --------------------------------------------------------------------------- trace


def trace_figure(run: RunResults) -> str:
    heading = "One payment, traced end to end"
    if run.traces_path is None:
        return doc.absent_figure("fig-trace", heading, "Traces (traces.jsonl)", wide=True)
    wanted = dig(run.summary, "example_payment_id")
    wanted = str(wanted) if wanted not in (None, "") else None
    shown, spans = payment_trace(run.traces_path, wanted)
    if not spans:
        return doc.absent_figure(
            "fig-trace", heading, "A trace carrying corridor.payment_id", wide=True
        )
    tree = as_call_tree(spans)
    truncated = len(tree) > MAX_WATERFALL_SPANS
    tree = tree[:MAX_WATERFALL_SPANS]
    t0 = min(s.start_ns for s in spans)
    services = list(dict.fromkeys(s.service for s, _ in tree))
    colours = {
        svc: doc.SERVICE_COLOURS[i % len(doc.SERVICE_COLOURS)] for i, svc in enumerate(services)
    }
    bars = [
        sc.WaterfallBar(
            f"{s.service} · {s.name}",
            (s.start_ns - t0) / 1e6,
            (s.end_ns - t0) / 1e6,
            colours[s.service],
            depth,
        )
        for s, depth in tree
    ]
    total_ms = (max(s.end_ns for s in spans) - t0) / 1e6
    svg = sc.waterfall_chart(
        bars,
        title=f"Trace of payment {shown}",
        legend=[(svc, colours[svc]) for svc in services],
        width=WIDE,
    )
    own = self_times_ms(spans)
    slowest = max(spans, key=lambda s: own[s.span_id])
    takeaway = (
        f"Payment {shown}: {humanize.number(total_ms, 3)} ms end to end across "
        f"{len(services)} services; most time in {slowest.service} {slowest.name} "
        f"({humanize.number(own[slowest.span_id], 2)} ms of its own)"
    )
    subtitle = _payment_line(run, shown)
    if wanted and shown != wanted:
        subtitle += f" (example_payment_id {wanted} is not in traces.jsonl; showing {shown}.)"
    source = f"Source: traces.jsonl (OTLP JSON) · {len(spans)} spans"
    if truncated:
        source += f", first {MAX_WATERFALL_SPANS} shown"
    return doc.Figure("fig-trace", takeaway, subtitle, svg, source, wide=True).html()


def self_times_ms(spans: list[Span]) -> dict[str, float]:
    """Each span's own time: its duration minus the time covered by its children (where
    latency actually goes, rather than which span merely encloses the others)."""
    children: dict[str, list[Span]] = {}
    for span in spans:
        children.setdefault(span.parent_span_id, []).append(span)
    out: dict[str, float] = {}
    for span in spans:
        covered, cursor = 0, span.start_ns
        for child in sorted(children.get(span.span_id, []), key=lambda c: c.start_ns):
            lo, hi = max(child.start_ns, cursor), min(child.end_ns, span.end_ns)
            if hi > lo:
                covered += hi - lo
                cursor = hi
        out[span.span_id] = max(0, span.end_ns - span.start_ns - covered) / 1e6
    return out


def _payment_line(run: RunResults, payment_id: str | None) -> str:
    base = "Each bar is one span: where it starts, how long it took, which service ran it."
    p = run.payments
    if payment_id is None or p is None or "payment_id" not in p:
        return base
    rows = p[p["payment_id"].astype(str) == payment_id]
    if rows.empty:
        return base
    row = rows.iloc[0]
    bits = []
    if "kind" in row and isinstance(row["kind"], str):
        bits.append(f"a {row['kind']} payment")
    if "corridor" in row and isinstance(row["corridor"], str):
        bits.append(f"on {row['corridor']}")
    if "rail" in row and isinstance(row["rail"], str):
        bits.append(f"by {rail_name(row['rail'])}")
    if "amount_usd_minor" in row and humanize.is_number(row["amount_usd_minor"]):
        bits.append(f"of {humanize.usd_minor(float(row['amount_usd_minor']))}")
    if "cost_bps" in row and humanize.is_number(row["cost_bps"]):
        bits.append(f"costing {humanize.bps_as_percent(float(row['cost_bps']))}")
    return (" ".join(bits)[:1].upper() + " ".join(bits)[1:] + ". " + base) if bits else base


# --------------------------------------------------------------------------- assumptions


def _seed_claim(assumptions: list[Mapping[str, Any]]) -> tuple[Mapping[str, Any] | None, float]:
    """The run's seed-claim assumption (if any) and the loss it claims (default 12%)."""
    for item in assumptions:
        if str(item.get("kind", "")).lower() == "seed-claim":
            value = item.get("value")
            loss = bondmath.SEED_CLAIM_LOSS
            if isinstance(value, int | float) and humanize.is_number(value):
                loss = float(value) if abs(float(value)) <= 1 else float(value) / 100
            elif isinstance(value, str) and value.strip().endswith("%"):
                try:
                    loss = float(value.strip().rstrip("%")) / 100
                except ValueError:
                    pass
            return item, abs(loss)
    return None, bondmath.SEED_CLAIM_LOSS


def assumptions_section(run: RunResults) -> str:
    raw = dig(run.summary, "assumptions")
    assumptions = [a for a in raw if isinstance(a, Mapping)] if isinstance(raw, list) else []
    claim, claimed_loss = _seed_claim(assumptions)
    run_losses = bondmath.losses_from_run(dig(run.summary, "stablecoin", "bond_math"), claimed_loss)
    losses = run_losses or bondmath.losses_for_shock(seed_claim=claimed_loss)
    bills = losses[1].loss
    if run_losses is not None:
        basis = "Price change for +100 bp on this run's yield curve and reserve portfolio. "
        source = "Source: summary.json stablecoin.bond_math (the run's own pricing)"
    else:
        basis = (
            "Price change for +100 bp: bills priced as zero-coupon at 4.3%, the 10-year note "
            "as a 4.25% semi-annual coupon at par. "
        )
        source = "Source: bond pricing in corridor.briefing.bondmath"
    assumptions += _stablecoin_assumptions(run, assumptions)
    svg = sc.bar_chart(
        [
            sc.BarGroup(
                r.label,
                [
                    sc.Bar(
                        r.label,
                        r.loss,
                        doc.VERMILLION if i == 0 else doc.BLUE,
                        text=r.text or humanize.percent(r.loss),
                    )
                ],
            )
            for i, r in enumerate(losses)
        ],
        title="Loss in value for a +100 bp rise in yields",
        x=sc.AxisSpec(
            fmt=lambda v: f"{v * 100:g}%",
            ticks=[sc.Tick(v, f"{v * 100:g}%") for v in (0, 0.05, 0.10, 0.15)],
        ),
        value_fmt=humanize.percent,
        width=390,
        bar_height=16,
    )
    ratio = claimed_loss / bills if bills else float("nan")
    used = (
        f"This run states it as a labelled seed claim ({claim.get('name', 'seed claim')} = "
        f"{claim.get('value')}), so figures that depend on it show the narrative, not bond math."
        if claim is not None
        else "This run's assumptions do not include the seed claim; reserves are priced with "
        "duration math."
    )
    bond = doc.Figure(
        "fig-bondmath",
        f"The seed's {humanize.percent(claimed_loss)} haircut is {humanize.number(ratio, 2)}× "
        f"what bond math gives a 3-month bill",
        basis + used,
        svg,
        f"{source}; seed claim from the project narrative. Peg-breaking losses come from risky "
        "reserve assets, failed banks, fire-sale costs and redemption lags instead.",
    ).html()
    if assumptions:
        rows = [
            [
                f"<b>{escape(str(a.get('name', '')))}</b>",
                escape(_assumption_value(a.get("value"))),
                (
                    f'<span class="kind {escape(str(a.get("kind", "")).lower())}">'
                    f"{escape(str(a.get('kind', '')))}</span>"
                ),
                escape(str(a.get("source", ""))),
            ]
            for a in assumptions
        ]
        table = doc.plain_table(["Assumption", "Value", "Kind", "Source"], rows, set())
    else:
        table = doc.absent_block("The scenario's assumptions (summary.json assumptions)")
    body = f'<div class="two wide-right"><div class="callout">{bond}</div><div>{table}</div></div>'
    return doc.section("assumptions", "Assumptions: what is fact, what is assumed", body)


def _stablecoin_assumptions(
    run: RunResults, already: list[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The stablecoin model's own labelled references (``summary.stablecoin.assumptions``),
    less any the scenario already lists under the same name."""
    raw = dig(run.summary, "stablecoin", "assumptions")
    if not isinstance(raw, list):
        return []
    seen = {str(a.get("name", "")).strip().lower() for a in already}
    extra = []
    for item in raw:
        if isinstance(item, Mapping) and str(item.get("name", "")).strip().lower() not in seen:
            seen.add(str(item.get("name", "")).strip().lower())
            extra.append(item)
    return extra


def _assumption_value(value: Any) -> str:
    if humanize.is_number(value):
        return humanize.number(float(value), 4) if not float(value).is_integer() else f"{value:,}"
    if isinstance(value, list | dict):
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return "" if value is None else str(value)


def caveats_section(run: RunResults) -> str:
    raw = dig(run.summary, "caveats")
    items = (
        [str(c) for c in raw if isinstance(c, str | int | float)] if isinstance(raw, list) else []
    )
    body = (
        '<ol class="caveats">' + "".join(f"<li>{escape(c)}</li>" for c in items) + "</ol>"
        if items
        else doc.absent_block("Caveats (summary.json caveats)")
    )
    return doc.section("caveats", "Caveats", body)


def footer(run: RunResults) -> str:
    names = [p.name for p in sorted(run.directory.iterdir()) if p.is_file()]
    notes = "".join(f"<li>{escape(n)}</li>" for n in run.notes)
    return (
        f"<footer>Generated by <code>corridor brief</code> from <code>{escape(str(run.directory))}"
        f"</code> ({escape(', '.join(names))}). Figures are simulation outputs, not forecasts."
        + (f"<ul>{notes}</ul>" if notes else "")
        + "</footer>"
    )


def render_run_page(run: RunResults) -> str:
    rails = rail_figures(run)
    body = "".join(
        [
            masthead(run),
            lede(run, rails),
            scorecard(rails),
            doc.section(
                "speed-cost",
                "Speed and cost",
                f'<div class="figures">{settlement_figure(run, rails)}'
                f"{cost_figure(run, rails)}</div>",
            ),
            doc.section(
                "stress",
                "The stress: stablecoin peg, redemptions and the CBDC surge",
                f'<div class="figures">{peg_figures(run)}{throughput_figures(run)}</div>',
            ),
            doc.section(
                "supervision",
                "Supervision",
                f'<div class="figures">{supervision_figure(run)}</div>',
            ),
            doc.section(
                "trace", "One payment, traced", f'<div class="figures">{trace_figure(run)}</div>'
            ),
            assumptions_section(run),
            caveats_section(run),
            footer(run),
        ]
    )
    return doc.page(f"Corridor briefing — {_scenario_title(run)}", body)
