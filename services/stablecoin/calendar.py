"""Bank hours on the business clock.

Redemptions, mints, wires and money-fund sales only move while the issuer's banks are open:
weekdays, between an opening and a closing time in the banks' own time zone (daylight saving
included: the SVB weekend straddled the US switch), minus holidays. A weekend is therefore a
two-and-a-half-day redemption lag, which is half of the March 2023 story.

The model asks two questions many times per run, so answers are cached per hour bucket.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HOUR_S = 3600.0


class BankCalendar:
    """Opening hours of one banking system, queried in seconds since the run's start."""

    def __init__(
        self,
        start_at: datetime,
        *,
        timezone: str,
        open_at: time,
        close_at: time,
        weekdays: frozenset[int],
        holidays: frozenset[date],
    ) -> None:
        self.start_at = start_at
        self.zone = ZoneInfo(timezone)
        self.open_at = open_at
        self.close_at = close_at
        self.weekdays = weekdays
        self.holidays = holidays
        self._minute_cache: dict[int, bool] = {}
        self._next_open_cache: dict[int, float] = {}

    def local(self, t_s: float) -> datetime:
        return (self.start_at + timedelta(seconds=t_s)).astimezone(self.zone)

    def is_open(self, t_s: float) -> bool:
        """True if banks are open at ``t_s`` (resolution: one minute)."""
        minute = int(t_s // 60)
        hit = self._minute_cache.get(minute)
        if hit is None:
            hit = self._open_at_local(self.local(minute * 60.0))
            self._minute_cache[minute] = hit
        return hit

    def _open_at_local(self, local: datetime) -> bool:
        if local.weekday() not in self.weekdays or local.date() in self.holidays:
            return False
        now = local.time()
        return self.open_at <= now < self.close_at

    def next_open_s(self, t_s: float) -> float:
        """The first moment at or after ``t_s`` when banks are open (t_s itself if open)."""
        if self.is_open(t_s):
            return t_s
        minute = int(t_s // 60)
        hit = self._next_open_cache.get(minute)
        if hit is None:
            hit = self._next_open_from(minute * 60.0)
            self._next_open_cache[minute] = hit
        return max(hit, t_s)

    def _next_open_from(self, t_s: float) -> float:
        local = self.local(t_s)
        day = local.date()
        for _ in range(30):  # a month without an open day means the calendar is wrong
            if day.weekday() in self.weekdays and day not in self.holidays:
                opening = datetime.combine(day, self.open_at, tzinfo=self.zone)
                if opening >= local:
                    return (opening - self.start_at).total_seconds()
                closing = datetime.combine(day, self.close_at, tzinfo=self.zone)
                if local < closing:
                    return t_s
            day += timedelta(days=1)
        raise ValueError("no bank business day within 30 days: check bank_hours")

    def open_seconds_between(self, t0_s: float, t1_s: float) -> float:
        """Seconds of opening hours inside ``[t0_s, t1_s)``, at one-minute resolution."""
        if t1_s <= t0_s:
            return 0.0
        step = 60.0
        total = 0.0
        t = t0_s
        while t < t1_s:
            nxt = min(t1_s, (int(t // step) + 1) * step)
            if self.is_open(t):
                total += nxt - t
            t = nxt
        return total
