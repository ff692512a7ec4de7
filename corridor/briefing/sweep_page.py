"""The ensemble briefing for a parameter sweep: what happens across many runs, not one.

One run is an anecdote. A sweep over shock sizes and seeds answers "how likely" and
"how bad": fan charts of the peg path and redemptions (5/25/50/75/95% bands across runs),
settlement-time quantiles per rail, and the probability of a lasting depeg (below 0.99
for more than 24 hours) for each shock size, with a 95% interval. Every figure says how
many runs are behind it; runs that did not complete are counted and listed, never mixed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

from corridor.briefing import document as doc
from corridor.briefing import g20, humanize
from corridor.briefing import svgchart as sc
from corridor.briefing.results import (
    RAILS,
    BriefingError,
    RunResults,
    SweepResults,
    dig,
    hours_below,
    load_run,
    rail_name,
    rail_short,
    sentence,
)
from corridor.briefing.run_page import (
    HALF,
    WIDE,
    assumptions_section,
    caveats_section,
    scenario_title,
)
from corridor.briefing.timeaxis import (
    SECONDS_PER_DAY,
    SETTLEMENT_TICKS,
    day_ticks,
    start_datetime,
    weekend_spans,
)

PEG_THRESHOLD = 0.99
DEPEG_HOURS = 24.0
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
GRID_POINTS = 240
Z_95 = 1.959964


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion: honest at 0/n and n/n, where
    the textbook normal interval collapses to a point."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def param_label(name: str) -> str:
    """``param.stablecoin.shocks.0.bp`` -> "stablecoin shock (bp)"."""
    parts = [p for p in name.removeprefix("param.").split(".") if not p.isdigit()]
    unit = parts.pop() if len(parts) > 1 and parts[-1] in {"bp", "pct", "s", "days"} else ""
    words = " ".join(p.replace("_", " ") for p in parts)
    words = words.replace("shocks", "shock")
    return f"{words} ({unit})" if unit else words


def param_value(name: str, value: object) -> str:
    if humanize.is_number(value):
        assert isinstance(value, int | float)
        text = f"{value:g}"
        return f"{text} bp" if name.endswith(("bp", "_bp")) else text
    return str(value)


# --------------------------------------------------------------------------- per-run paths


@dataclass
class RunPaths:
    """The time series of every completed run, resampled onto one grid (days since start)."""

    days: np.ndarray
    price: np.ndarray  # runs x grid, NaN where a run has no data
    redemptions: np.ndarray
    run_ids: list[str]
    calendar_start: object  # a datetime when every run started at the same moment, else None
    hours_below: dict[str, float]


def _resample(t_days: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    keep = np.isfinite(t_days) & np.isfinite(values)
    if keep.sum() < 2:
        return np.full(len(grid), np.nan)
    t, v = t_days[keep], values[keep]
    out = np.interp(grid, t, v)
    out[(grid < t.min()) | (grid > t.max())] = np.nan
    return out


def load_paths(sweep: SweepResults) -> RunPaths | None:
    series: list[tuple[str, pd.DataFrame]] = []
    starts = set()
    for run_id, path in sweep.ok_run_dirs():
        csv = path / "timeseries.csv"
        if not csv.is_file():
            continue
        try:
            frame = pd.read_csv(
                csv, usecols=lambda c: c in {"t_s", "at", "stablecoin_price", "redemptions_cum_pct"}
            )
        except Exception:  # noqa: BLE001 - one unreadable run is skipped, and counted
            sweep.notes.append(f"{run_id}: timeseries.csv could not be read")
            continue
        if "t_s" not in frame or frame.empty:
            continue
        frame["t_s"] = pd.to_numeric(frame["t_s"], errors="coerce")
        frame = frame.dropna(subset=["t_s"]).sort_values("t_s")
        series.append((run_id, frame))
        starts.add(start_datetime(frame))
    if not series:
        return None
    end = max(float(f["t_s"].max()) for _, f in series) / SECONDS_PER_DAY
    grid = np.linspace(0.0, end, GRID_POINTS)
    price: list[np.ndarray] = []
    red: list[np.ndarray] = []
    below: dict[str, float] = {}
    for run_id, frame in series:
        t = frame["t_s"].to_numpy(dtype=float) / SECONDS_PER_DAY
        for name, sink in (("stablecoin_price", price), ("redemptions_cum_pct", red)):
            values = (
                pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
                if name in frame
                else np.full(len(t), np.nan)
            )
            sink.append(_resample(t, values, grid))
        hours = hours_below(frame, "stablecoin_price", PEG_THRESHOLD)
        if hours is not None:
            below[run_id] = hours
    calendar = next(iter(starts)) if len(starts) == 1 else None
    return RunPaths(
        grid, np.array(price), np.array(red) / 100.0, [r for r, _ in series], calendar, below
    )


def _quantile_bands(matrix: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]] | None:
    """Per grid point: how many runs have data, and the five quantiles across them."""
    counts = np.isfinite(matrix).sum(axis=0)
    if matrix.size == 0 or counts.max() == 0:
        return None
    safe = np.where(np.isfinite(matrix), matrix, np.nan)
    with np.errstate(all="ignore"):
        cols = np.where(counts > 0)[0]
        quantiles = [np.full(matrix.shape[1], np.nan) for _ in QUANTILES]
        qs = np.nanquantile(safe[:, cols], QUANTILES, axis=0)
        for i in range(len(QUANTILES)):
            quantiles[i][cols] = qs[i]
    return counts, quantiles


# --------------------------------------------------------------------------- figures


def _x_axis(paths: RunPaths) -> tuple[sc.AxisSpec, list[sc.Shade]]:
    end = float(paths.days[-1]) if len(paths.days) else 1.0
    start = paths.calendar_start
    ticks = day_ticks(end, start)  # type: ignore[arg-type]
    shades = [sc.Shade(a, b, "#8c96a0", 0.14) for a, b in weekend_spans(end, start)]  # type: ignore[arg-type]
    return sc.AxisSpec(lo=0.0, hi=end, ticks=ticks), shades


def _shock_medians(sweep: SweepResults, paths: RunPaths, matrix: np.ndarray) -> list[sc.Line]:
    """Median path per swept shock value (at most five), as thin labelled lines."""
    shock = sweep.shock_param
    if shock is None or "run_id" not in sweep.runs:
        return []
    by_run = dict(zip(sweep.runs["run_id"].astype(str), sweep.runs[shock], strict=False))
    values = sorted({by_run[r] for r in paths.run_ids if r in by_run})
    if not 2 <= len(values) <= 5:
        return []
    ramp = ("#9ecae1", "#6baed6", "#3182bd", "#08519c", "#08306b")
    colours = ramp[-len(values) :]  # the darker end: visible over the vermillion bands
    lines = []
    for value, colour in zip(values, colours, strict=False):
        rows = [i for i, r in enumerate(paths.run_ids) if by_run.get(r) == value]
        with np.errstate(all="ignore"):
            median = np.nanmedian(matrix[rows], axis=0)
        label = f"{param_value(shock, value)} (n={len(rows)})"
        lines.append(sc.Line(label, paths.days, median, colour, width=1.4, dashed=True))
    return lines


def fan_figure(
    sweep: SweepResults,
    paths: RunPaths | None,
    which: str,
) -> str:
    is_price = which == "price"
    fig_id = "fig-peg-fan" if is_price else "fig-redemptions-fan"
    heading = "Stablecoin peg across runs" if is_price else "Redemptions across runs"
    matrix = None if paths is None else (paths.price if is_price else paths.redemptions)
    bands = _quantile_bands(matrix) if matrix is not None and len(matrix) else None
    if paths is None or matrix is None or bands is None:
        what = "stablecoin_price" if is_price else "redemptions_cum_pct"
        return doc.absent_figure(
            fig_id, heading, f"Per-run time series (runs/*/timeseries.csv {what})"
        )
    counts, (q05, q25, q50, q75, q95) = bands
    n_runs = int(np.isfinite(matrix).any(axis=1).sum())
    x_axis, weekends = _x_axis(paths)
    colour = doc.VERMILLION
    lines = [sc.Line(f"median of {n_runs}", paths.days, q50, "#7a2e00", width=2.2)]
    lines += _shock_medians(sweep, paths, matrix)
    band_list = [
        sc.Band(paths.days, q05, q95, colour, 0.16),
        sc.Band(paths.days, q25, q75, colour, 0.30),
    ]
    legend = [("5–95% of runs", "#f7d3bf"), ("25–75%", "#eeaa86")]
    with np.errstate(all="ignore"):
        per_run = np.nanmin(matrix, axis=1) if is_price else np.nanmax(matrix, axis=1)
    per_run = per_run[np.isfinite(per_run)]
    if is_price:
        lo = float(np.nanmin(q05))
        y = sc.AxisSpec(
            lo=math.floor((min(lo, PEG_THRESHOLD) - 0.01) * 50) / 50,
            hi=max(1.005, float(np.nanmax(q95)) + 0.003),
            fmt=lambda v: f"{v:.2f}",
            include_zero=False,
        )
        refs = [sc.RefLine(PEG_THRESHOLD, "0.99", colour="#8a3a00", below=True)]
        takeaway = (
            f"Median trough {humanize.price(float(np.median(per_run)))}; in the worst 5% of "
            f"runs below {humanize.price(float(np.quantile(per_run, 0.05)))}"
        )
        subtitle = (
            "Secondary-market price across runs: bands hold 50% and 90% of runs at each "
            "moment; dashed lines are the median path for each shock size."
        )
    else:
        y = sc.AxisSpec(fmt=lambda v: f"{v * 100:g}%")
        refs = []
        takeaway = (
            f"By the end, a median run had redeemed {humanize.percent(float(np.median(per_run)))}"
            f" of supply (90% of runs: {humanize.percent(float(np.quantile(per_run, 0.05)))}–"
            f"{humanize.percent(float(np.quantile(per_run, 0.95)))})"
        )
        subtitle = (
            "Cumulative net redemptions as a share of initial supply, across runs; "
            "dashed lines: median for each shock size."
        )
    svg = sc.line_chart(
        lines,
        title=heading,
        x=x_axis,
        y=y,
        bands=band_list,
        refs=refs,
        shades=weekends,
        legend=legend,
        width=HALF,
        height=270,
    )
    source = (
        f"Source: runs/*/timeseries.csv · n = {n_runs} completed runs "
        f"(at least {int(counts[counts > 0].min())} behind every point)"
    )
    return doc.Figure(fig_id, takeaway, subtitle, svg, source).html()


def depeg_table(sweep: SweepResults, paths: RunPaths | None) -> pd.DataFrame | None:
    """One row per completed run: the shock value and whether the peg broke for > 24 h."""
    ok = sweep.ok_runs
    hours = sweep.column("stablecoin.hours_below_0_99")
    source = "runs.parquet stablecoin.hours_below_0_99"
    if hours is None and paths is not None and "run_id" in ok:
        hours = ok["run_id"].astype(str).map(paths.hours_below)
        hours = pd.to_numeric(hours, errors="coerce")
        source = "runs/*/timeseries.csv (hours with stablecoin_price < 0.99)"
    if hours is None or hours.notna().sum() == 0:
        return None
    shock = sweep.shock_param
    frame = pd.DataFrame(
        {
            "shock": ok[shock] if shock else "all runs",
            "hours": hours,
        }
    ).dropna(subset=["hours"])
    frame["depeg"] = frame["hours"] > DEPEG_HOURS
    frame.attrs["source"] = source
    return frame


def depeg_figure(sweep: SweepResults, paths: RunPaths | None) -> str:
    heading = "Probability of a lasting depeg"
    table = depeg_table(sweep, paths)
    if table is None or table.empty:
        return doc.absent_figure(
            "fig-depeg", heading, "Hours below 0.99 per run (stablecoin.hours_below_0_99)"
        )
    shock = sweep.shock_param
    columns, pieces = [], []
    for value, group in table.groupby("shock", sort=True):
        n, k = len(group), int(group["depeg"].sum())
        lo, hi = wilson_interval(k, n)
        label = param_value(shock, value) if shock else str(value)
        columns.append(sc.Column(label, k / n, doc.VERMILLION, lo, hi, f"{k} of {n} runs"))
        pieces.append((label, k, n))
    svg = sc.column_chart(
        columns,
        title=heading,
        y=sc.AxisSpec(lo=0, hi=1, fmt=lambda v: f"{v * 100:.0f}%"),
        x_label=param_label(shock) if shock else "",
        value_fmt=humanize.percent,
        width=HALF,
        height=270,
    )
    first, last = pieces[0], pieces[-1]
    if len(pieces) == 1:
        takeaway = f"The peg broke (below 0.99 for over 24 h) in {first[1]} of {first[2]} runs"
    else:
        takeaway = (
            f"Below 0.99 for over 24 h: {humanize.percent(first[1] / first[2])} of runs "
            f"at {first[0]}, {humanize.percent(last[1] / last[2])} at {last[0]}"
        )
    n_total = len(table)
    return doc.Figure(
        "fig-depeg",
        takeaway,
        "Share of runs in which the stablecoin spent more than 24 hours below 0.99, per shock "
        "size; whiskers are 95% Wilson intervals (few runs, wide intervals).",
        svg,
        f"Source: {table.attrs['source']} · n = {n_total} completed runs",
    ).html()


def hours_below_figure(sweep: SweepResults, paths: RunPaths | None) -> str:
    """The distribution behind the probability: how long each run stayed below 0.99, per
    shock size, against the 24-hour line."""
    heading = "Time below 0.99 per run"
    table = depeg_table(sweep, paths)
    if table is None or table.empty:
        return doc.absent_figure("fig-hours-below", heading, "Hours below 0.99 per run")
    shock = sweep.shock_param
    rows, medians = [], []
    for value, group in table.groupby("shock", sort=True):
        label = param_value(shock, value) if shock else str(value)
        q = np.quantile(group["hours"].to_numpy(dtype=float), QUANTILES)
        rows.append(
            sc.QuantileRow(
                label,
                float(q[0]),
                float(q[1]),
                float(q[2]),
                float(q[3]),
                float(q[4]),
                colour=doc.VERMILLION,
                note=f"median {humanize.hours(float(q[2]))} · n = {len(group)}",
            )
        )
        medians.append((label, float(q[2])))
    svg = sc.quantile_chart(
        rows,
        title=heading,
        x=sc.AxisSpec(lo=0, label="hours below 0.99 in the run", fmt=lambda v: f"{v:g} h"),
        refs=[sc.RefLine(DEPEG_HOURS, "24 h", colour="#8a3a00")],
        width=HALF,
        row_height=34,
    )
    first, last = medians[0], medians[-1]
    takeaway = f"A median run spent {humanize.hours(first[1])} below 0.99 at {first[0]}" + (
        f", {humanize.hours(last[1])} at {last[0]}" if len(medians) > 1 else ""
    )
    return doc.Figure(
        "fig-hours-below",
        takeaway,
        "Each run's total time below 0.99, per shock size: whiskers hold 90% of runs, the box "
        "the middle half, the tick the median run; right of the dashed line counts as a depeg.",
        svg,
        f"Source: {table.attrs['source']} · n = {len(table)} completed runs",
    ).html()


def settlement_quantiles_figure(sweep: SweepResults) -> str:
    heading = "Settlement time across runs"
    rows: list[sc.QuantileRow] = []
    medians: list[tuple[str, float, int]] = []
    counts = []
    for rail in _rails(sweep):
        for stat, label in (("p50_settle_s", "median"), ("p99_settle_s", "99th pct")):
            values = sweep.column(f"rails.{rail}.{stat}")
            if values is None:
                continue
            v = values.dropna().to_numpy(dtype=float)
            v = v[v > 0]
            if len(v) == 0:
                continue
            q = np.quantile(v, QUANTILES)
            rows.append(
                sc.QuantileRow(
                    f"{rail_name(rail)} · {label}",
                    float(q[0]),
                    float(q[1]),
                    float(q[2]),
                    float(q[3]),
                    float(q[4]),
                    colour=doc.rail_colour(rail),
                    note=f"{humanize.duration(float(q[2]))} · n = {len(v)}",
                )
            )
            counts.append(len(v))
            if stat == "p50_settle_s":
                medians.append((rail, float(np.median(v)), len(v)))
    if not rows:
        return doc.absent_figure(
            "fig-settlement-quantiles",
            heading,
            "Per-run settlement times (rails.*.p50_settle_s)",
            wide=True,
        )
    lo = min(r.q05 for r in rows)
    hi = max(r.q95 for r in rows)
    svg = sc.quantile_chart(
        rows,
        title=heading,
        x=sc.AxisSpec(
            lo=10 ** math.floor(math.log10(max(lo, 1e-3))),
            hi=max(hi * 1.5, 2 * SECONDS_PER_DAY),
            log=True,
            ticks=SETTLEMENT_TICKS,
            label="time to funds available (log scale)",
        ),
        refs=[sc.RefLine(3600, "1 hour"), sc.RefLine(SECONDS_PER_DAY, "1 day")],
        width=WIDE,
    )
    takeaway = "Median settlement across runs: " + ", ".join(
        f"{rail_short(rail)} {humanize.duration(value)}" for rail, value, _ in medians
    )
    return doc.Figure(
        "fig-settlement-quantiles",
        sentence(takeaway),
        "For each rail, each run's median and 99th-percentile settlement time; the box spans "
        "the middle half of runs, whiskers 90%, the black tick is the median run.",
        svg,
        f"Source: runs.parquet rails.*.p50_settle_s / p99_settle_s · n = "
        f"{min(counts)}–{max(counts)} completed runs per row"
        if min(counts) != max(counts)
        else f"Source: runs.parquet rails.*.p50_settle_s / p99_settle_s · n = {counts[0]} "
        "completed runs per row",
        wide=True,
    ).html()


def _rails(sweep: SweepResults) -> list[str]:
    found = {
        c.split(".")[1] for c in sweep.runs.columns if c.startswith("rails.") and c.count(".") >= 2
    }
    return [r for r in RAILS if r in found] + sorted(found - set(RAILS))


# --------------------------------------------------------------------------- scorecard


def _ensemble_cell(values: pd.Series | None, rate, fmt) -> str:  # type: ignore[no-untyped-def]
    if values is None or values.dropna().empty:
        return doc.rating_cell(g20.Rating.UNKNOWN, humanize.MISSING)
    v = values.dropna()
    met = sum(rate(float(x)) is g20.Rating.MEETS for x in v)
    median = float(v.median())
    return doc.rating_cell(rate(median), fmt(median), f"met in {met} of {len(v)} runs")


def ensemble_scorecard(sweep: SweepResults) -> str:
    rails = _rails(sweep)
    n_ok = int(sweep.ok_mask.sum())
    if not rails or n_ok == 0:
        return doc.section(
            "scorecard",
            "Rails against the G20 targets, across runs",
            doc.absent_block("Per-rail figures in runs.parquet (rails.*)"),
        )
    head = (
        '<th scope="col">Rail</th><th scope="col">Average cost<small>≤ 1% retail, ≤ 3% '
        'remittance</small></th><th scope="col">Within 1 hour<small>≥ 75% of payments'
        '</small></th><th scope="col">Within 1 business day<small>the rest</small></th>'
        '<th scope="col">Transparency<small>cost, time and status shown</small></th>'
    )
    body = []
    for rail in rails:
        cost = sweep.column(f"rails.{rail}.cost_bps_mean")
        cost = cost / 10_000 if cost is not None else None
        visible = sweep.ok_runs.get(f"rails.{rail}.status_visible")
        if visible is not None and visible.notna().any():
            shown = bool(visible.dropna().astype(bool).all())
            transparency = doc.rating_cell(
                g20.rate_transparency(shown), "shown" if shown else "not shown"
            )
        else:
            transparency = doc.rating_cell(g20.Rating.UNKNOWN, humanize.MISSING)
        body.append(
            f'<tr><th scope="row"><span class="swatch" style="background:'
            f'{doc.rail_colour(rail)}"></span>{escape(rail_name(rail))}</th>'
            + _ensemble_cell(cost, lambda c: g20.rate_retail_cost(c, None), humanize.percent)
            + _ensemble_cell(
                sweep.column(f"rails.{rail}.share_within_1h"), g20.rate_speed_1h, humanize.percent
            )
            + _ensemble_cell(
                sweep.column(f"rails.{rail}.share_within_1bd"), g20.rate_speed_1bd, humanize.percent
            )
            + transparency
            + "</tr>"
        )
    note = (
        f"Each cell: the median across {n_ok} completed runs, rated ✓ meets · ◐ close · "
        "✗ misses, and in how many runs the target was met. Cost is each run's mean cost of "
        "all payment kinds, rated against the retail target."
    )
    table = (
        f'<table class="scorecard"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
        f'</tbody></table><p class="note">{escape(note)}</p>'
    )
    return doc.section("scorecard", "Rails against the G20 targets, across runs", table)


# --------------------------------------------------------------------------- page


def _representative_run(sweep: SweepResults) -> RunResults | None:
    """The first completed run with a readable summary: the source of the question, the
    assumptions and the caveats, which every run of one scenario shares."""
    for run_id, path in sweep.ok_run_dirs():
        if not (path / "summary.json").is_file():
            continue
        try:
            run = load_run(path, strict=False)
        except BriefingError as exc:
            sweep.notes.append(f"{run_id}: {exc}")
            continue
        if run.has_summary:
            return run
    return None


def masthead(sweep: SweepResults, rep: RunResults | None) -> str:
    runs = sweep.runs
    n, n_ok = len(runs), int(sweep.ok_mask.sum())
    scenario = dig(rep.summary, "scenario") if rep else None
    title = scenario_title(str(scenario)) if scenario else f"Sweep in {sweep.directory.name}"
    meta = [f"{n} runs", f"{n_ok} completed"]
    if n - n_ok:
        meta.append(f'<span class="badge misses">{n - n_ok} did not complete</span>')
    for name in sweep.swept_params:
        values = sorted(runs[name].dropna().unique().tolist())
        shown = ", ".join(param_value(name, v) for v in values[:6])
        meta.append(
            f"swept {escape(param_label(name))}: {escape(shown)}" + ("…" if len(values) > 6 else "")
        )
    if "seed" in runs:
        meta.append(f"{runs['seed'].nunique()} seeds")
    if "mode" in runs and runs["mode"].nunique() == 1:
        meta.append(f"{escape(str(runs['mode'].iloc[0]))} mode")
    spans = "".join(f"<span>{m}</span>" for m in meta)
    return (
        '<header><div class="kicker">Corridor · ensemble briefing</div>'
        f'<h1>{escape(title)}: {n_ok} runs</h1><p class="meta">{spans}</p></header>'
    )


def ensemble_findings(sweep: SweepResults, paths: RunPaths | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    table = depeg_table(sweep, paths)
    if table is not None and not table.empty:
        shock = sweep.shock_param
        parts = []
        for value, group in table.groupby("shock", sort=True):
            label = param_value(shock, value) if shock else str(value)
            parts.append(f"{int(group['depeg'].sum())} of {len(group)} at {escape(label)}")
        out.append(
            (
                f"A depeg below 0.99 lasting over 24 h: <b>{'; '.join(parts)}</b> runs.",
                doc.VERMILLION,
            )
        )
    if paths is not None:
        with np.errstate(all="ignore"):
            troughs = np.nanmin(paths.price, axis=1)
        troughs = troughs[np.isfinite(troughs)]
        if len(troughs):
            out.append(
                (
                    (
                        f"Median trough <b>{humanize.price(float(np.median(troughs)))}</b>; 90% of runs "
                        f"between {humanize.price(float(np.quantile(troughs, 0.05)))} and "
                        f"{humanize.price(float(np.quantile(troughs, 0.95)))} (n = {len(troughs)})."
                    ),
                    doc.ORANGE,
                )
            )
    parts = []
    for rail in _rails(sweep):
        share = sweep.column(f"rails.{rail}.share_within_1h")
        if share is not None:
            v = share.dropna()
            met = int((v >= g20.SPEED_WITHIN_1H_MIN).sum())
            parts.append(f"{escape(rail_short(rail))} in <b>{met} of {len(v)}</b>")
    if parts:
        out.append(("Met the 1-hour speed target: " + ", ".join(parts) + " runs.", doc.GREEN))
    failed = sweep.runs[~sweep.ok_mask]
    if len(failed):
        reasons = failed["reason"].astype(str).value_counts() if "reason" in failed else None
        top = f": {escape(str(reasons.index[0]))}" if reasons is not None and len(reasons) else ""
        out.append(
            (
                (
                    f"<b>{len(failed)} run(s) did not complete</b> and are left out of every "
                    f"figure{top}."
                ),
                doc.GREY,
            )
        )
    return out


def runs_section(sweep: SweepResults) -> str:
    runs = sweep.runs
    failed = runs[~sweep.ok_mask]
    parts = []
    shock = sweep.shock_param
    if shock:
        counts = runs.groupby(shock).apply(
            lambda g: (int(sweep.ok_mask[g.index].sum()), len(g)), include_groups=False
        )
        rows = [[escape(param_value(shock, v)), f"{ok}", f"{n}"] for v, (ok, n) in counts.items()]
        parts.append(doc.plain_table([param_label(shock), "Completed", "Runs"], rows, {1, 2}))
    if len(failed):
        rows = [
            [
                escape(str(r.get("run_id", i))),
                escape(str(r.get("status", ""))),
                escape(str(r.get("reason", ""))),
            ]
            for i, r in failed.iterrows()
        ]
        parts.append(doc.plain_table(["Run", "Status", "Reason"], rows, set()))
    else:
        parts.append('<p class="note">Every run completed.</p>')
    return doc.section(
        "runs",
        "The runs behind the figures",
        f'<div class="two"><div>{parts[0]}</div><div>{"".join(parts[1:])}</div></div>'
        if len(parts) > 1
        else parts[0],
    )


def render_sweep_page(sweep: SweepResults) -> str:
    rep = _representative_run(sweep)
    paths = load_paths(sweep)
    question = dig(rep.summary, "question") if rep else None
    q_html = (
        f'<p class="question">{escape(question)}</p>'
        if isinstance(question, str)
        else doc.absent_block("The question this sweep answers")
    )
    findings = ensemble_findings(sweep, paths)
    lede = (
        f'<section id="question" class="lede"><div><div class="label">The question</div>'
        f'{q_html}</div><div id="findings"><div class="label">In brief</div>'
        f"{doc.findings_list(findings) if findings else doc.absent_block('Findings')}"
        "</div></section>"
    )
    stress = (
        f'<div class="figures">{depeg_figure(sweep, paths)}{hours_below_figure(sweep, paths)}'
        f"{fan_figure(sweep, paths, 'price')}{fan_figure(sweep, paths, 'redemptions')}</div>"
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in sweep.notes)
    rep_note = (
        f" Assumptions and caveats are those of run {escape(rep.directory.name)}; the swept "
        "parameters differ between runs."
        if rep
        else ""
    )
    body = "".join(
        [
            masthead(sweep, rep),
            lede,
            ensemble_scorecard(sweep),
            doc.section("stress", "The stress across runs", stress),
            doc.section(
                "settlement",
                "Speed across runs",
                f'<div class="figures">{settlement_quantiles_figure(sweep)}</div>',
            ),
            runs_section(sweep),
            assumptions_section(rep)
            if rep
            else doc.section(
                "assumptions", "Assumptions", doc.absent_block("A completed run's assumptions")
            ),
            caveats_section(rep)
            if rep
            else doc.section("caveats", "Caveats", doc.absent_block("A completed run's caveats")),
            f"<footer>Generated by <code>corridor brief</code> from <code>"
            f"{escape(str(sweep.directory))}</code> (runs.parquet and runs/*/).{rep_note}"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</footer>",
        ]
    )
    return doc.page(f"Corridor ensemble briefing — {sweep.directory.name}", body)
