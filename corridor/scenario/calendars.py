"""Local clocks and banking calendars, vectorised over arrays of business times.

Times are float seconds since the Unix epoch (UTC). Each jurisdiction has a fixed UTC
offset (none of CN, HK, TH, AE, SA observes daylight saving), a weekend and holidays.
Local calendar days are integers (days since 1970-01-01 in local time), so numpy's
business-day functions (``np.busday_offset``) do the weekend/holiday arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
from numpy.typing import NDArray

from corridor.scenario.schema import WEEKDAYS, Weekday

DAY_S = 86_400
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


class BankingCalendar:
    """When banks in one place are open, as a fixed UTC offset plus a business-day calendar."""

    def __init__(
        self,
        utc_offset_s: int,
        weekend: Sequence[Weekday],
        holidays: Sequence[date] = (),
        open_h: float = 9.0,
        close_h: float = 17.0,
        cutoff_h: float = 16.0,
    ) -> None:
        self.utc_offset_s = int(utc_offset_s)
        weekmask = "".join("0" if d in weekend else "1" for d in WEEKDAYS)
        if weekmask == "0000000":
            raise ValueError("a banking calendar needs at least one business day a week")
        self.busdays = np.busdaycalendar(
            weekmask=weekmask, holidays=np.array(list(holidays), dtype="datetime64[D]")
        )
        self.open_s = open_h * 3600.0
        self.close_s = close_h * 3600.0
        self.cutoff_s = cutoff_h * 3600.0

    # ---- local time

    def local_day(self, epoch_s: NDArray[np.float64]) -> NDArray[np.int64]:
        return np.floor_divide(epoch_s + self.utc_offset_s, DAY_S).astype(np.int64)

    def local_seconds(self, epoch_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Seconds since local midnight."""
        return np.mod(epoch_s + self.utc_offset_s, DAY_S)

    def day_start_epoch(self, day: NDArray[np.int64]) -> NDArray[np.float64]:
        """The UTC instant of local midnight starting ``day``."""
        return day.astype(np.float64) * DAY_S - self.utc_offset_s

    # ---- business days

    def is_busday(self, day: NDArray[np.int64]) -> NDArray[np.bool_]:
        return np.is_busday(day.astype("datetime64[D]"), busdaycal=self.busdays)

    def roll_forward(
        self, day: NDArray[np.int64], n: int | NDArray[np.int64] = 0
    ) -> NDArray[np.int64]:
        """The business day ``n`` business days after ``day`` (rolled forward first)."""
        rolled = np.busday_offset(
            day.astype("datetime64[D]"), n, roll="forward", busdaycal=self.busdays
        )
        return rolled.astype(np.int64)

    def accept_day(self, epoch_s: NDArray[np.float64]) -> NDArray[np.int64]:
        """The business day an instruction received at ``epoch_s`` is processed.

        Before the cut-off on a business day: that day. After it, or on a weekend or
        holiday: the next business day.
        """
        day = self.local_day(epoch_s)
        late = self.local_seconds(epoch_s) >= self.cutoff_s
        return self.roll_forward(day + late)

    def next_open(self, epoch_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """``epoch_s`` if banks are open then, else the next opening instant."""
        day = self.local_day(epoch_s)
        sec = self.local_seconds(epoch_s)
        open_now = self.is_busday(day) & (sec >= self.open_s) & (sec < self.close_s)
        today_later = self.is_busday(day) & (sec < self.open_s)
        next_day = self.roll_forward(np.where(today_later, day, day + 1))
        opening = self.day_start_epoch(next_day) + self.open_s
        return np.where(open_now, epoch_s, opening)

    def is_open(self, epoch_s: NDArray[np.float64]) -> NDArray[np.bool_]:
        sec = self.local_seconds(epoch_s)
        return self.is_busday(self.local_day(epoch_s)) & (sec >= self.open_s) & (sec < self.close_s)


def local_weekday(epoch_s: NDArray[np.float64], utc_offset_s: int) -> NDArray[np.int64]:
    """Monday = 0 ... Sunday = 6, in local time."""
    day = np.floor_divide(epoch_s + utc_offset_s, DAY_S).astype(np.int64)
    return (day + _EPOCH_WEEKDAY) % 7


def local_hour(epoch_s: NDArray[np.float64], utc_offset_s: int) -> NDArray[np.int64]:
    return (np.mod(epoch_s + utc_offset_s, DAY_S) // 3600).astype(np.int64)
