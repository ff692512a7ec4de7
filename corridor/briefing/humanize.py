"""Numbers written for a reader, not a parser.

A deputy governor reads "1.2 m payments", "0.4%", "41 h" and "$3.3 bn"; never
"1234567", "0.00412" or "147600.0". Every function here accepts ``None`` (a figure
that is not in the run) and returns an em dash for it, so a section never fails on
a missing number.
"""

from __future__ import annotations

import math

MISSING = "—"

_SECONDS_PER_MINUTE = 60.0
_SECONDS_PER_HOUR = 3600.0
_SECONDS_PER_DAY = 86400.0


def is_number(value: object) -> bool:
    """True for a finite int/float (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _significant(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant figures, without scientific notation."""
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def count(value: float | None) -> str:
    """A count of things: 950 -> "950", 12_345 -> "12,345", 3_400_000 -> "3.4 m"."""
    if not is_number(value):
        return MISSING
    assert value is not None
    size = abs(value)
    if size >= 1e9:
        return f"{_significant(value / 1e9, 3)} bn"
    if size >= 1e6:
        return f"{_significant(value / 1e6, 3)} m"
    if size >= 100 or float(value).is_integer():
        return f"{round(value):,}"
    return _significant(value, 3)


def number(value: float | None, digits: int = 3) -> str:
    """A plain quantity to ``digits`` significant figures (prices, F1 scores, rates)."""
    if not is_number(value):
        return MISSING
    assert value is not None
    return _significant(float(value), digits)


def price(value: float | None) -> str:
    """A stablecoin price in dollars per token: 0.8712 -> "0.871", 1.0 -> "1.000"."""
    if not is_number(value):
        return MISSING
    assert value is not None
    return f"{value:.3f}"


def percent(share: float | None, digits: int = 2) -> str:
    """A share (0..1) as a percentage: 0.753 -> "75%", 0.0041 -> "0.41%", 1.0 -> "100%"."""
    if not is_number(share):
        return MISSING
    assert share is not None
    pct = share * 100.0
    if pct == 0:
        return "0%"
    if abs(pct) >= 99.5 and abs(pct) < 100:
        # Never round 99.7% up to "100%": the difference is the point of a target.
        return f"{math.floor(pct * 10) / 10:.1f}%"
    if abs(pct) >= 10:
        return f"{pct:.0f}%"
    return f"{_significant(pct, digits)}%"


def bps_as_percent(bps: float | None) -> str:
    """A cost in basis points shown as a percentage of the amount: 41 bp -> "0.41%"."""
    if not is_number(bps):
        return MISSING
    assert bps is not None
    return percent(bps / 10_000.0)


def duration(seconds: float | None) -> str:
    """A duration chosen in the unit a person would say: 0.18 s, 42 s, 13 min, 2.5 h, 1.6 days."""
    if not is_number(seconds):
        return MISSING
    assert seconds is not None
    s = float(seconds)
    if s < 1:
        return f"{_significant(s * 1000, 2)} ms"
    if s < _SECONDS_PER_MINUTE:
        return f"{_significant(s, 2)} s"
    if s < _SECONDS_PER_HOUR:
        return f"{_significant(s / _SECONDS_PER_MINUTE, 2)} min"
    if s < 2 * _SECONDS_PER_DAY:
        return f"{_significant(s / _SECONDS_PER_HOUR, 2)} h"
    return f"{_significant(s / _SECONDS_PER_DAY, 2)} days"


def hours(value: float | None) -> str:
    """A number of hours: 41.2 -> "41 h", 2.5 -> "2.5 h"."""
    if not is_number(value):
        return MISSING
    assert value is not None
    return f"{_significant(float(value), 2)} h"


def usd_minor(amount_minor: float | None) -> str:
    """US dollars given in cents (integer minor units): 330_000_000_000 -> "$3.3 bn"."""
    if not is_number(amount_minor):
        return MISSING
    assert amount_minor is not None
    dollars = amount_minor / 100.0
    size = abs(dollars)
    if size >= 1e9:
        return f"${_significant(dollars / 1e9, 3)} bn"
    if size >= 1e6:
        return f"${_significant(dollars / 1e6, 3)} m"
    if size >= 1e3:
        return f"${_significant(dollars / 1e3, 3)} k"
    return f"${dollars:,.2f}"


def rate_per_second(value: float | None) -> str:
    """A throughput: 1234.5 -> "1,235/s"."""
    if not is_number(value):
        return MISSING
    assert value is not None
    if abs(value) >= 100:
        return f"{round(value):,}/s"
    return f"{_significant(float(value), 2)}/s"
