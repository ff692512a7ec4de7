"""FX price discovery on the platform — the gap the mBridge pilot banks reported.

Two mechanisms, selectable per currency pair (operating rules in bridge/policy.yaml):

* RFQ: each liquidity-provider bank quotes a two-way price around the reference mid: a base
  spread, widened as its inventory of the currency it sells runs down (inventory skew). Every
  quote carries an expiry; the best rate for the payer wins.
* AMM: a constant-product pool per pair (Project Mariana's design for wholesale-CBDC FX): price
  impact grows with size relative to pool depth, and the pool's reserves are liquidity locked.

Rates are exact fractions (`FxRate`); amounts are integer minor units rounded DOWN for the payee,
the remainder staying with the liquidity provider (accounted, never lost).
"""

from __future__ import annotations

import functools
import itertools
import time
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from corridor.money import MINOR_UNITS, FxRate

# Reference rates, units of currency per 1 USD (late-2025 levels; HKD, AED and SAR are pegged).
REFERENCE_USD_RATES: dict[str, str] = {
    "USD": "1",
    "CNY": "7.10",
    "HKD": "7.80",
    "THB": "32.50",
    "AED": "3.6725",
    "SAR": "3.75",
}


def mid_rate(base: str, quote: str, usd_rates: dict[str, str] = REFERENCE_USD_RATES) -> FxRate:
    """Units of `quote` per unit of `base` through USD, exact."""
    if usd_rates is REFERENCE_USD_RATES:
        return _reference_mid(base, quote)
    r = Fraction(Decimal(usd_rates[quote])) / Fraction(Decimal(usd_rates[base]))
    return FxRate(base, quote, r)


@functools.cache
def _reference_mid(base: str, quote: str) -> FxRate:
    r = Fraction(Decimal(REFERENCE_USD_RATES[quote])) / Fraction(Decimal(REFERENCE_USD_RATES[base]))
    return FxRate(base, quote, r)


@functools.lru_cache(maxsize=65_536)
def _spread_rate(base: str, quote: str, centi_bps: int) -> FxRate:
    """The mid less a spread of centi_bps hundredths of a basis point (cached: few distinct)."""
    mid = _reference_mid(base, quote)
    return FxRate(base, quote, mid.rate * Fraction(1_000_000 - centi_bps, 1_000_000))


def to_usd_minor(amount_minor: int, currency: str) -> int:
    out, _ = mid_rate(currency, "USD").convert(amount_minor)
    return out


@dataclass
class LiquidityProvider:
    """A bank that quotes FX on the platform from its inventory of wholesale CBDC."""

    name: str
    spread_bps: int  # half-spread it charges around the mid at full inventory
    skew_bps: int  # extra spread as inventory of the sold currency falls to zero
    inventory_minor: dict[str, int] = field(default_factory=dict)  # what the bridge ledger says
    target_minor: dict[str, int] = field(default_factory=dict)  # inventory it aims to hold

    def quote(self, base: str, quote: str, amount_minor: int) -> tuple[FxRate, int, float] | None:
        """(rate, payee amount, slippage bps) to sell `quote` for `base`, or None if it can't."""
        have = self.inventory_minor.get(quote, 0)
        if have <= 0:
            return None
        target = max(1, self.target_minor.get(quote, have or 1))
        depletion = max(0.0, 1.0 - have / target)
        skew = self.skew_bps * depletion
        rate = _spread_rate(base, quote, self.spread_bps * 100 + round(skew * 100))
        out, _ = rate.convert(amount_minor)
        if out <= 0 or out > have:
            return None
        return rate, out, float(skew)


@dataclass
class AmmPool:
    """Constant-product pool x*y=k for one pair; fee taken on the input."""

    base: str
    quote: str
    reserve_base: int
    reserve_quote: int
    fee_bps: int = 5

    @property
    def pair(self) -> str:
        return f"{self.base}/{self.quote}"

    def swap_out(self, currency_in: str, amount_in: int) -> int:
        x, y = (
            (self.reserve_base, self.reserve_quote)
            if currency_in == self.base
            else (self.reserve_quote, self.reserve_base)
        )
        net = amount_in * (10_000 - self.fee_bps)
        return (y * net) // (x * 10_000 + net)

    def apply(self, currency_in: str, amount_in: int, amount_out: int) -> None:
        if currency_in == self.base:
            self.reserve_base += amount_in
            self.reserve_quote -= amount_out
        else:
            self.reserve_quote += amount_in
            self.reserve_base -= amount_out


@dataclass(frozen=True, slots=True)
class FxQuote:
    quote_id: str
    provider: str  # LP name, or "amm:<pair>"
    mode: int  # 1 RFQ, 2 AMM
    base: str
    quote: str
    rate: FxRate
    mid: FxRate
    amount_minor: int
    payee_amount_minor: int
    fee_minor: int
    slippage_bps: float
    expires_at_us: int
    liquidity_locked_minor: int

    @property
    def spread_bps(self) -> float:
        return float((1 - self.rate.rate / self.mid.rate) * 10_000)


class FxDesk:
    """Prices conversions for the coordinator: RFQ across LPs, or the pair's AMM pool."""

    def __init__(self, providers: list[LiquidityProvider], pools: list[AmmPool], amm_pairs: set[str],
                 fee_bps: int, quote_ttl_s: float = 30.0) -> None:  # fmt: skip
        self.providers = {p.name: p for p in providers}
        self.pools = {p.pair: p for p in pools}
        self.amm_pairs = amm_pairs
        self.fee_bps = fee_bps
        self.quote_ttl_s = quote_ttl_s
        self._quotes: dict[str, FxQuote] = {}
        self._ids = itertools.count(1)

    def pool_for(self, base: str, quote: str) -> AmmPool | None:
        return self.pools.get(f"{base}/{quote}") or self.pools.get(f"{quote}/{base}")

    def mode_for(self, base: str, quote: str) -> int:
        pairs = {f"{base}/{quote}", f"{quote}/{base}"}
        return 2 if pairs & self.amm_pairs and self.pool_for(base, quote) else 1

    def fee(self, amount_minor: int) -> int:
        return amount_minor * self.fee_bps // 10_000

    def price(
        self, base: str, quote: str, amount_minor: int, now_us: int | None = None
    ) -> FxQuote | None:
        """Best executable price for sending amount_minor of base; None if no liquidity."""
        now_us = now_us or time.time_ns() // 1000
        fee = self.fee(amount_minor)
        net = amount_minor - fee
        mid = mid_rate(base, quote)
        mid_out, _ = mid.convert(net)
        if self.mode_for(base, quote) == 2:
            pool = self.pool_for(base, quote)
            assert pool is not None
            out = pool.swap_out(base, net)
            if out <= 0:
                return None
            rate = FxRate(base, quote, Fraction(out, 1) / Fraction(net) / _scale(base, quote))
            slip = float((1 - Fraction(out, max(1, mid_out))) * 10_000) if mid_out else 0.0
            locked = pool.reserve_quote if pool.quote == quote else pool.reserve_base
            return self._make(
                f"amm:{pool.pair}",
                2,
                base,
                quote,
                rate,
                mid,
                amount_minor,
                out,
                fee,
                slip,
                locked,
                now_us,
            )
        best: tuple[FxRate, int, float, LiquidityProvider] | None = None
        for lp in self.providers.values():
            q = lp.quote(base, quote, net)
            if q and (best is None or q[1] > best[1]):
                best = (*q, lp)
        if best is None:
            return None
        rate, out, slip, lp = best
        locked = sum(p.inventory_minor.get(quote, 0) for p in self.providers.values())
        return self._make(
            lp.name, 1, base, quote, rate, mid, amount_minor, out, fee, slip, locked, now_us
        )

    def _make(self, provider: str, mode: int, base: str, quote: str, rate: FxRate, mid: FxRate,
              amount: int, out: int, fee: int, slip: float, locked: int, now_us: int) -> FxQuote:  # fmt: skip
        return FxQuote(
            f"q-{next(self._ids)}-{now_us}", provider, mode, base, quote, rate, mid, amount, out, fee,
            slip, now_us + int(self.quote_ttl_s * 1e6), locked,
        )  # fmt: skip

    def remember(self, q: FxQuote) -> FxQuote:
        self._quotes[q.quote_id] = q
        if len(self._quotes) > 100_000:  # drop the oldest half; quotes live seconds
            for k in list(self._quotes)[:50_000]:
                del self._quotes[k]
        return q

    def recall(self, quote_id: str) -> FxQuote | None:
        return self._quotes.get(quote_id)

    def reserve(self, q: FxQuote) -> None:
        """Book the liquidity a prepared payment will use (released by `release` on abort)."""
        if q.mode == 2:
            pool = self.pool_for(q.base, q.quote)
            assert pool is not None
            pool.apply(q.base, q.amount_minor - q.fee_minor, q.payee_amount_minor)
        else:
            lp = self.providers[q.provider]
            lp.inventory_minor[q.quote] = lp.inventory_minor.get(q.quote, 0) - q.payee_amount_minor
            net = q.amount_minor - q.fee_minor
            lp.inventory_minor[q.base] = lp.inventory_minor.get(q.base, 0) + net

    def release(self, q: FxQuote) -> None:
        if q.mode == 2:
            pool = self.pool_for(q.base, q.quote)
            assert pool is not None
            pool.apply(q.quote, q.payee_amount_minor, q.amount_minor - q.fee_minor)
        else:
            lp = self.providers[q.provider]
            lp.inventory_minor[q.quote] = lp.inventory_minor.get(q.quote, 0) + q.payee_amount_minor
            lp.inventory_minor[q.base] = lp.inventory_minor.get(q.base, 0) - (
                q.amount_minor - q.fee_minor
            )


def _scale(base: str, quote: str) -> Fraction:
    return Fraction(10 ** MINOR_UNITS[quote], 10 ** MINOR_UNITS[base])


def spread_cost_minor(q: FxQuote) -> int:
    """What the FX leg cost the payer versus the mid, in the payer's minor units (rounded up)."""
    net = q.amount_minor - q.fee_minor
    mid_value_of_payout = Fraction(q.payee_amount_minor) / (q.mid.rate * _scale(q.base, q.quote))
    cost = Fraction(net) - mid_value_of_payout
    return max(0, -((-cost.numerator) // cost.denominator))
