"""Time axes a reader recognises: "Fri 10 Mar" on a stress timeline, "1 h" and "1 day" on a
settlement-time axis, and the weekends (when banks and issuers do not redeem) shaded."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from corridor.briefing.svgchart import Tick

SECONDS_PER_DAY = 86400.0

# Log-scale settlement axis: the units people say, with 1 hour and 1 day always among them.
SETTLEMENT_TICKS: tuple[Tick, ...] = (
    Tick(0.001, "1 ms"),
    Tick(0.1, "0.1 s"),
    Tick(1, "1 s"),
    Tick(60, "1 min"),
    Tick(3600, "1 h"),
    Tick(SECONDS_PER_DAY, "1 day"),
    Tick(7 * SECONDS_PER_DAY, "1 week"),
    Tick(30 * SECONDS_PER_DAY, "30 days"),
)


def start_datetime(ts: pd.DataFrame | None, started_at: object = None) -> datetime | None:
    """Business time at t_s = 0, from the ``at`` column or the summary's ``started_at``.

    The timestamp keeps its own UTC offset: a run stamped in Hong Kong time (+08:00) has
    its weekends and day boundaries drawn in Hong Kong time, not in UTC."""
    if ts is not None and "at" in ts and "t_s" in ts and len(ts):
        first = pd.to_datetime(ts["at"].iloc[0], errors="coerce")
        t0 = pd.to_numeric(ts["t_s"].iloc[0], errors="coerce")
        if not pd.isna(first) and not pd.isna(t0):
            return (first - pd.Timedelta(seconds=float(t0))).to_pydatetime()
    if isinstance(started_at, str):
        parsed = pd.to_datetime(started_at, errors="coerce")
        if not pd.isna(parsed):
            return parsed.to_pydatetime()
    return None


def day_ticks(days: float, start: datetime | None, max_ticks: int = 9) -> list[Tick]:
    """Ticks at midnights (or whole days since start when the calendar is unknown), x in days."""
    span = max(days, 1e-9)
    step = max(1, int(span // max_ticks) + (1 if span % max_ticks else 0))
    ticks: list[Tick] = []
    if start is None:
        k = 0
        while k <= span + 1e-9:
            ticks.append(Tick(float(k), f"day {k}"))
            k += step
        return ticks
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight < start:
        midnight += timedelta(days=1)
    offset = (midnight - start).total_seconds() / SECONDS_PER_DAY
    k = 0
    while offset + k <= span + 1e-9:
        when = midnight + timedelta(days=k)
        ticks.append(Tick(offset + k, when.strftime("%a %d %b").replace(" 0", " ")))
        k += step
    return ticks


def weekend_spans(days: float, start: datetime | None) -> list[tuple[float, float]]:
    """[start, end) of each Saturday–Sunday in the run, in days since start."""
    if start is None:
        return []
    spans: list[tuple[float, float]] = []
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    k = 0
    while True:
        day = midnight + timedelta(days=k)
        lo = (day - start).total_seconds() / SECONDS_PER_DAY
        if lo > days:
            break
        if day.weekday() == 5:
            spans.append((max(lo, 0.0), min(lo + 2, days)))
        elif day.weekday() == 6 and k == 0:
            spans.append((0.0, min(lo + 1, days)))
        k += 1
    return spans


def intervals_where(xs: list[float], mask: list[bool]) -> list[tuple[float, float]]:
    """Contiguous x intervals where ``mask`` holds (each point holds until the next one)."""
    spans: list[tuple[float, float]] = []
    open_at: float | None = None
    for i, flag in enumerate(mask):
        if flag and open_at is None:
            open_at = xs[i]
        if not flag and open_at is not None:
            spans.append((open_at, xs[i]))
            open_at = None
    if open_at is not None and xs:
        spans.append((open_at, xs[-1]))
    return spans
