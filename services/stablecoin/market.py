"""The secondary market: liquidity venues and the arbitrageurs who tie them to the issuer.

**Venues.** Each venue is a liquidity curve in the Uniswap-v3 style: capital placed between two
prices (``positions``); within a price range of total liquidity ``L`` the virtual reserves obey
``x * y = L**2`` with ``sqrt(price) = y / L``. Selling ``dx`` tokens moves ``1/sqrt(p)`` up by
``dx / L`` and pays ``L * (sqrt(p) - sqrt(p'))`` dollars; crossing a range edge switches to the
next range's liquidity. This is exact for AMM pools and a fair stand-in for an order book's depth
(`kind: orderbook`). Below the lowest range there is nothing left to buy tokens with, so a thin
venue can print far below the others (0.81 on one venue in March 2023 while the aggregate was
0.87). Balances are integer cents; every payout is rounded down, so a venue never pays out more
than its curve says.

**Arbitrageurs.** They buy tokens below what they expect to be paid for them and redeem at the
issuer (or mint at par and sell above par). What they bid is their valuation, not par::

    bid = 1 - exposed * ((1 - w) * (1 - V_base) + w * (1 - V_tail))
          - carry - aversion * inventory / capital

where ``V_base`` is the believed backing per token (frozen deposits at expected recovery),
``V_tail`` the backing if frozen money is lost and a further ``tail_haircut`` hits,
``w = tail_probability * min(1, alarm)``, ``carry = hurdle/day * days until they can redeem``
(a weekend is ~2.5 days), and the last term is the discount they need to hold more inventory.
Because the issuer pays par while reserves last, only the share
``exposed = 1 - exp(-wait_days / exposure_days)`` of the expected loss counts: in bank hours an
arbitrageur is paid within hours and bids near par even when reserves are short; at Friday's
close the wait jumps to two and a half days and the bid falls.
They spend only the dollars they have on the venues (wired in during bank hours only) and get
them back when the issuer pays their redemptions. That limited, risk-priced capacity is what lets
a run push the price far below the value of the reserves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from services.stablecoin.spec import ArbitrageurSpec, LiquidityPositionSpec, VenueSpec


def position_liquidity(p: LiquidityPositionSpec) -> float:
    """Liquidity ``L`` of a position whose value at par is ``value_minor``."""
    return p.value_minor / (2.0 - math.sqrt(p.price_low) - 1.0 / math.sqrt(p.price_high))


class LiquidityVenue:
    """One venue's liquidity curve and integer balances."""

    def __init__(self, spec: VenueSpec) -> None:
        self.name = spec.name
        self.kind = spec.kind
        self.chain = spec.chain
        self.fee = spec.fee_bps / 10_000.0
        self.flow_share = spec.flow_share
        edges = sorted(
            {p.price_low for p in spec.positions} | {p.price_high for p in spec.positions}
        )
        self._lo = edges[:-1]
        self._hi = edges[1:]
        liq = [position_liquidity(p) for p in spec.positions]
        self._liq = [
            sum(
                lq for p, lq in zip(spec.positions, liq) if p.price_low <= lo and hi <= p.price_high
            )
            for lo, hi in zip(self._lo, self._hi)
        ]
        self.price = 1.0
        tokens = sum(
            lq * (1.0 - 1.0 / math.sqrt(p.price_high)) for p, lq in zip(spec.positions, liq)
        )
        usd = sum(lq * (1.0 - math.sqrt(p.price_low)) for p, lq in zip(spec.positions, liq))
        self.token_minor = math.floor(tokens)
        self.usd_minor = math.floor(usd)
        self.depth_minor = sum(p.value_minor for p in spec.positions)
        self.volume_minor = 0
        self.min_price = 1.0

    @property
    def floor_price(self) -> float:
        return self._lo[0]

    @property
    def ceiling_price(self) -> float:
        return self._hi[-1]

    def _segment(self, price: float, going_down: bool) -> int:
        for i, (lo, hi) in enumerate(zip(self._lo, self._hi)):
            if (lo < price <= hi) if going_down else (lo <= price < hi):
                return i
        return 0 if price <= self._lo[0] else len(self._lo) - 1

    def sell_tokens(self, dx_minor: int) -> tuple[int, int]:
        """Sell up to ``dx_minor`` tokens; returns (dollars paid, tokens taken)."""
        if dx_minor <= 0 or self.price <= self._lo[0] + 1e-12:
            return 0, 0
        remaining = dx_minor * (1.0 - self.fee)
        s = math.sqrt(self.price)
        usd = 0.0
        i = self._segment(self.price, going_down=True)
        while remaining > 0 and i >= 0:
            lo, liq = self._lo[i], self._liq[i]
            s_lo = math.sqrt(lo)
            if liq <= 0:
                s, i = s_lo, i - 1
                continue
            room = liq * (1.0 / s_lo - 1.0 / s)
            if remaining <= room:
                s_new = 1.0 / (1.0 / s + remaining / liq)
                usd += liq * (s - s_new)
                s, remaining = s_new, 0.0
                break
            usd += liq * (s - s_lo)
            remaining -= room
            s, i = s_lo, i - 1
        taken = dx_minor if remaining <= 0 else math.ceil((dx_minor * (1 - self.fee) - remaining)
                                                          / (1.0 - self.fee))  # fmt: skip
        paid = min(math.floor(usd), self.usd_minor)
        self.price = s * s
        self.token_minor += taken
        self.usd_minor -= paid
        self.volume_minor += paid
        return paid, taken

    def buy_tokens(self, dy_minor: int) -> tuple[int, int]:
        """Spend up to ``dy_minor`` dollars on tokens; returns (tokens received, dollars taken)."""
        if dy_minor <= 0 or self.price >= self._hi[-1] - 1e-12:
            return 0, 0
        remaining = dy_minor * (1.0 - self.fee)
        s = math.sqrt(self.price)
        tokens = 0.0
        i = self._segment(self.price, going_down=False)
        n = len(self._lo)
        while remaining > 0 and i < n:
            hi, liq = self._hi[i], self._liq[i]
            s_hi = math.sqrt(hi)
            if liq <= 0:
                s, i = s_hi, i + 1
                continue
            room = liq * (s_hi - s)
            if remaining <= room:
                s_new = s + remaining / liq
                tokens += liq * (1.0 / s - 1.0 / s_new)
                s, remaining = s_new, 0.0
                break
            tokens += liq * (1.0 / s - 1.0 / s_hi)
            remaining -= room
            s, i = s_hi, i + 1
        taken = dy_minor if remaining <= 0 else math.ceil((dy_minor * (1 - self.fee) - remaining)
                                                          / (1.0 - self.fee))  # fmt: skip
        got = min(math.floor(tokens), self.token_minor)
        self.price = s * s
        self.usd_minor += taken
        self.token_minor -= got
        self.volume_minor += taken
        return got, taken

    def usd_to_reach(self, target: float) -> int:
        """Dollars a buyer must spend to lift the price to ``target`` (0 if already there)."""
        if target <= self.price:
            return 0
        target = min(target, self._hi[-1])
        s, s_t = math.sqrt(self.price), math.sqrt(target)
        need = 0.0
        i = self._segment(self.price, going_down=False)
        while i < len(self._lo) and s < s_t:
            s_end = min(math.sqrt(self._hi[i]), s_t)
            need += self._liq[i] * (s_end - s)
            s, i = s_end, i + 1
        return math.ceil(need / (1.0 - self.fee))

    def tokens_to_reach(self, target: float) -> int:
        """Tokens a seller must sell to push the price down to ``target``."""
        if target >= self.price:
            return 0
        target = max(target, self._lo[0])
        s, s_t = math.sqrt(self.price), math.sqrt(target)
        need = 0.0
        i = self._segment(self.price, going_down=True)
        while i >= 0 and s > s_t:
            s_end = max(math.sqrt(self._lo[i]), s_t)
            need += self._liq[i] * (1.0 / s_end - 1.0 / s)
            s, i = s_end, i - 1
        return math.ceil(need / (1.0 - self.fee))


@dataclass
class ArbitrageContext:
    """What arbitrageurs know at a step."""

    v_base: float  # believed backing per token, capped at 1
    v_tail: float  # backing in the bad case
    alarm: float
    wait_days: float  # until a redemption submitted now would be paid
    issuer_open: bool  # redemptions accepted (bank hours not required to queue)
    mint_open: bool  # banks open and minting enabled
    redeem_fee: float
    mint_fee: float
    bank_open: bool
    pays_par: bool = True  # the issuer pays 1.00 while reserves last (first come, first served)


@dataclass
class Arbitrageur:
    spec: ArbitrageurSpec
    cash_minor: int = 0
    inventory_minor: int = 0  # tokens held, waiting to be redeemed
    queued_minor: int = 0  # tokens in the issuer's redemption queue
    bought_minor: int = 0
    spent_minor: int = 0
    minted_minor: int = 0
    replenished_minor: int = 0
    pnl_realised_minor: int = 0
    history: list[float] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    def bid(self, ctx: ArbitrageContext) -> float:
        """The most this arbitrageur pays per token now (see the module docstring)."""
        s = self.spec
        w = s.tail_probability * min(1.0, ctx.alarm)
        tail_value = ctx.v_tail * (1.0 - s.tail_haircut_pct / 100.0)
        expected_loss = (1.0 - w) * (1.0 - ctx.v_base) + w * (1.0 - tail_value)
        # Paid at par while reserves last: a short wait exposes little of the expected loss.
        exposed = 1.0 - math.exp(-ctx.wait_days / s.exposure_days) if ctx.pays_par else 1.0
        value = 1.0 - exposed * expected_loss
        carry = s.hurdle_pct_per_day / 100.0 * ctx.wait_days
        inventory = (self.inventory_minor + self.queued_minor) / s.capital_minor
        return value * (1.0 - ctx.redeem_fee) - carry - s.inventory_aversion_pct / 100.0 * inventory

    def buy_below_value(self, venues: list[LiquidityVenue], ctx: ArbitrageContext,
                        chunks: int = 4) -> int:  # fmt: skip
        """Buy from the cheapest venues up to the bid, in chunks so the bid can fall with
        inventory; returns tokens bought."""
        if self.cash_minor <= 0 or min(v.price for v in venues) >= self.bid(ctx):
            return 0
        got_total = 0
        chunk = max(1, self.cash_minor // chunks)
        for _ in range(chunks):
            bid = self.bid(ctx)
            budget = min(chunk, self.cash_minor)
            if budget <= 0:
                break
            spent_chunk = 0
            for v in sorted(venues, key=lambda v: v.price):
                if v.price >= bid or spent_chunk >= budget:
                    break
                spend = min(budget - spent_chunk, v.usd_to_reach(bid))
                got, taken = v.buy_tokens(spend)
                spent_chunk += taken
                got_total += got
                self.inventory_minor += got
            self.cash_minor -= spent_chunk
            self.spent_minor += spent_chunk
            if spent_chunk < budget:
                break  # every venue is at the bid already
        self.bought_minor += got_total
        return got_total

    def sell_above_value(self, venues: list[LiquidityVenue], ask: float) -> int:
        """Sell inventory where the price is above what redemption would pay; returns tokens sold."""
        sold_total = 0
        if self.inventory_minor <= 0:
            return 0
        for v in sorted(venues, key=lambda v: -v.price):
            if self.inventory_minor <= 0 or v.price <= ask:
                break
            qty = min(self.inventory_minor, v.tokens_to_reach(ask))
            paid, taken = v.sell_tokens(qty)
            self.inventory_minor -= taken
            self.cash_minor += paid
            sold_total += taken
        return sold_total
