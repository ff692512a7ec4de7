"""The US Treasury yield curve and the bond math that prices reserves off it.

Conventions (stated once, used everywhere):

- Yields are decimals (0.045 = 4.5 %), bond-equivalent, on an actual/365 day count.
- A **bill** pays its face at maturity and nothing before; its price per 1 of face is
  ``1 / (1 + y * days / 365)``. Its modified duration is ``(days / 365) / (1 + y * days / 365)``,
  so a 91-day bill loses ~0.25 % for +100 bp: a 20-93-day WAM bill portfolio loses 0.05-0.25 %.
- A **note** pays a semi-annual coupon; its (dirty) price is the present value of the remaining
  coupons and the face discounted at ``y / 2`` per half year, fractional periods allowed. A fresh
  10-year note loses ~7.7 % for +100 bp. That is the whole "bond math, not narrative" argument:
  short bills barely move; only long duration (which payment-stablecoin law forbids) loses near 10 %.

The curve itself is a set of tenor points, linearly interpolated in days and flat beyond the
ends. Three things move it: ``shift`` (a scheduled yield shock, bp by tenor, permanent for the
run) and the fire-sale **impact** overlay (BIS WP 1270: stablecoin outflows push short bill yields
up; decays with a half-life), applied in full up to 91 days and tapering to zero at
``impact_tenor_max_days``.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right

DAY_S = 86_400.0
YEAR_DAYS = 365.0

_TENOR = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dwmy])\s*$", re.IGNORECASE)
_UNIT_DAYS = {"d": 1.0, "w": 7.0, "m": YEAR_DAYS / 12.0, "y": YEAR_DAYS}


def tenor_days(label: str | float) -> float:
    """``"3m"`` -> 91.25, ``"10y"`` -> 3650, ``"1d"`` -> 1; a bare number is already days."""
    if isinstance(label, bool):
        # ValueError (not TypeError): pydantic validators turn it into a located spec error.
        raise ValueError(f"expected a tenor like '3m' or '10y' (got {label!r})")  # noqa: TRY004
    if isinstance(label, int | float):
        if label <= 0:
            raise ValueError(f"a tenor must be positive (got {label!r})")
        return float(label)
    m = _TENOR.match(str(label))
    if not m:
        raise ValueError(f"expected a tenor like '1d', '4w', '3m' or '10y' (got {label!r})")
    days = float(m.group(1)) * _UNIT_DAYS[m.group(2).lower()]
    if days <= 0:
        raise ValueError(f"a tenor must be positive (got {label!r})")
    return days


def bill_price(yield_dec: float, days: float) -> float:
    """Price per 1 of face of a zero-coupon bill with ``days`` to maturity."""
    if days <= 0:
        return 1.0
    return 1.0 / (1.0 + yield_dec * days / YEAR_DAYS)


def note_price(yield_dec: float, coupon_dec: float, years: float, frequency: int = 2) -> float:
    """Dirty price per 1 of face of a coupon note with ``years`` to maturity.

    Cash flows fall every ``1/frequency`` years counted back from maturity; each is discounted at
    ``(1 + y/f) ** (-f * t)``, so a note between coupon dates is priced with fractional periods.
    """
    if years <= 0:
        return 1.0
    per = 1.0 + yield_dec / frequency
    coupon = coupon_dec / frequency
    pv = per ** (-frequency * years)  # the face
    t = years
    while t > 1e-9:
        pv += coupon * per ** (-frequency * t)
        t -= 1.0 / frequency
    return pv


def bill_loss_pct(yield_dec: float, days: float, shift_bp: float) -> float:
    """Percent price change of a bill for a parallel shift (negative = loss)."""
    p0 = bill_price(yield_dec, days)
    return (bill_price(yield_dec + shift_bp / 10_000.0, days) / p0 - 1.0) * 100.0


def note_loss_pct(yield_dec: float, coupon_dec: float, years: float, shift_bp: float) -> float:
    """Percent price change of a note for a parallel shift (negative = loss)."""
    p0 = note_price(yield_dec, coupon_dec, years)
    return (note_price(yield_dec + shift_bp / 10_000.0, coupon_dec, years) / p0 - 1.0) * 100.0


class YieldCurve:
    """Tenor points (days -> decimal yield) plus a shock shift and a fire-sale impact overlay."""

    __slots__ = (
        "_base",
        "_days",
        "_shift",
        "_total",
        "impact_bp",
        "impact_full_days",
        "impact_half_life_s",
        "impact_tenor_max_days",
        "version",
    )

    def __init__(
        self,
        points: dict[float, float],
        *,
        impact_half_life_s: float = 5 * DAY_S,
        impact_full_days: float = 91.0,
        impact_tenor_max_days: float = 365.0,
    ) -> None:
        if not points:
            raise ValueError("a yield curve needs at least one tenor point")
        days = sorted(points)
        self._days = days
        self._base = [points[d] for d in days]
        self._shift = [0.0 for _ in days]  # bp per tenor point
        self._total = list(self._base)  # base + shift, decimal (what pricing reads)
        self.impact_bp = 0.0
        self.impact_half_life_s = impact_half_life_s
        self.impact_full_days = impact_full_days
        self.impact_tenor_max_days = max(impact_tenor_max_days, impact_full_days)
        self.version = 0  # bumped on every change; reserves re-mark when it moves

    @staticmethod
    def _interp(xs: list[float], ys: list[float], x: float) -> float:
        if x <= xs[0]:
            return ys[0]
        if x >= xs[-1]:
            return ys[-1]
        i = bisect_right(xs, x)
        x0, x1 = xs[i - 1], xs[i]
        return ys[i - 1] + (ys[i] - ys[i - 1]) * (x - x0) / (x1 - x0)

    def base_yield(self, days: float) -> float:
        """Yield before any shock or impact."""
        return self._interp(self._days, self._base, days)

    def impact_weight(self, days: float) -> float:
        """Share of the fire-sale impact felt at this tenor (1 for bills, 0 beyond the max)."""
        if days <= self.impact_full_days:
            return 1.0
        if days >= self.impact_tenor_max_days:
            return 0.0
        span = self.impact_tenor_max_days - self.impact_full_days
        return 1.0 - (days - self.impact_full_days) / span

    def yield_at(self, days: float, extra_impact_bp: float = 0.0) -> float:
        """Decimal yield at ``days`` including the shock shift and the fire-sale impact."""
        impact = self.impact_bp + extra_impact_bp
        if impact:
            impact *= self.impact_weight(days)
        return self._interp(self._days, self._total, days) + impact / 10_000.0

    def shift(self, bp_by_days: dict[float, float]) -> None:
        """Add a shock: one entry = a parallel shift; several = interpolated by tenor.

        The shock's tenors join the curve's knots, so base and shift stay exactly piecewise
        linear (a shift given at 3m is exactly that at 3m, whatever the curve's own points)."""
        if not bp_by_days:
            return
        xs = sorted(bp_by_days)
        ys = [bp_by_days[x] for x in xs]
        knots = sorted(set(self._days) | set(xs))
        base = [self._interp(self._days, self._base, d) for d in knots]
        shift = [self._interp(self._days, self._shift, d) + self._interp(xs, ys, d) for d in knots]
        self._days, self._base, self._shift = knots, base, shift
        self._total = [b + s / 10_000.0 for b, s in zip(base, shift)]
        self.version += 1

    def add_impact(self, bp: float) -> None:
        if bp:
            self.impact_bp += bp
            self.version += 1

    def relax(self, dt_s: float) -> None:
        """Let the fire-sale impact decay (markets absorb the flow over days)."""
        if self.impact_bp == 0.0:
            return
        self.impact_bp *= 0.5 ** (dt_s / self.impact_half_life_s)
        if abs(self.impact_bp) < 1e-4:
            self.impact_bp = 0.0
        self.version += 1

    def snapshot_pct(self) -> dict[str, float]:
        """The curve now, percent by tenor point (for reports)."""
        out = {}
        for d in self._days:
            label = f"{d:g}d" if d < 30 else (f"{d / 30.4:.0f}m" if d < 365 else f"{d / 365:.0f}y")
            out[label] = round(self.yield_at(d) * 100.0, 4)
        return out


def modified_duration_bill(yield_dec: float, days: float) -> float:
    """Years; the first-order price sensitivity of a bill."""
    return (days / YEAR_DAYS) / (1.0 + yield_dec * days / YEAR_DAYS)


def decay_factor(dt_s: float, half_life_s: float) -> float:
    return math.exp(-math.log(2.0) * dt_s / half_life_s) if half_life_s > 0 else 0.0
