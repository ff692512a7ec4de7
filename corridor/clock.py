"""Business time. Simulations drive a virtual clock; live mode (Locust, `corridor up`) uses wall time.

Every record carries business time in unix microseconds (`*_at_us`)."""

from __future__ import annotations

import time
from dataclasses import dataclass


class WallClock:
    def now_us(self) -> int:
        return time.time_ns() // 1000


@dataclass(slots=True)
class VirtualClock:
    """A clock the scenario engine advances; nothing in a model reads the wall clock."""

    now_at_us: int

    def now_us(self) -> int:
        return self.now_at_us

    def advance_to(self, at_us: int) -> None:
        if at_us < self.now_at_us:
            raise ValueError("business time never runs backwards")
        self.now_at_us = at_us


def business_day(at_us: int, utc_offset_minutes: int) -> int:
    """Days since the epoch in the jurisdiction's local calendar (daily limits reset at midnight)."""
    return (at_us // 1_000_000 + utc_offset_minutes * 60) // 86_400
