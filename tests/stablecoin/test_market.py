"""Venues (liquidity curves) and arbitrageurs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.stablecoin.market import ArbitrageContext, Arbitrageur, LiquidityVenue
from services.stablecoin.spec import ArbitrageurSpec, VenueSpec


def venue(*positions: tuple[float, float, int], fee_bps: float = 0.0) -> LiquidityVenue:
    return LiquidityVenue(VenueSpec.model_validate({
        "name": "v", "chain": "offchain", "flow_share": 1.0, "fee_bps": fee_bps,
        "positions": [{"price_low": lo, "price_high": hi, "value_minor": v} for lo, hi, v in positions],
    }))  # fmt: skip


def test_selling_lowers_the_price_along_the_curve() -> None:
    v = venue((0.9, 1.1, 1_000_000_000))
    paid, taken = v.sell_tokens(100_000_000)
    assert taken == 100_000_000
    assert 0.9 < v.price < 1.0
    assert v.price * 100_000_000 < paid < 100_000_000  # filled between the end price and par


def test_a_drained_venue_stops_at_its_lowest_range() -> None:
    v = venue((0.9, 1.1, 100_000_000))
    _paid, taken = v.sell_tokens(10**12)
    assert v.price == pytest.approx(0.9)
    assert taken < 10**12 and v.usd_minor >= 0
    assert v.sell_tokens(1_000) == (0, 0)


def test_targets_are_reached_exactly() -> None:
    v = venue((0.99, 1.01, 500_000_000), (0.7, 1.4, 200_000_000), fee_bps=5)
    v.sell_tokens(v.tokens_to_reach(0.85))
    assert v.price == pytest.approx(0.85, abs=1e-6)
    v.buy_tokens(v.usd_to_reach(0.995))
    assert v.price == pytest.approx(0.995, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 5 * 10**9)), max_size=20))
def test_balances_stay_integer_and_never_negative(trades) -> None:
    v = venue((0.995, 1.005, 300_000_000), (0.8, 1.25, 300_000_000), fee_bps=4)
    for sell, amount in trades:
        if sell:
            v.sell_tokens(amount)
        else:
            v.buy_tokens(amount)
        assert isinstance(v.usd_minor, int) and isinstance(v.token_minor, int)
        assert v.usd_minor >= 0 and v.token_minor >= 0
        assert 0.8 - 1e-9 <= v.price <= 1.25 + 1e-9


def _arb(**over) -> Arbitrageur:
    spec = ArbitrageurSpec.model_validate({"name": "a", "capital_minor": 1_000_000_000, **over})
    return Arbitrageur(spec, cash_minor=spec.capital_minor)


def _ctx(**over) -> ArbitrageContext:
    base = {"v_base": 1.0, "v_tail": 1.0, "alarm": 0.0, "wait_days": 0.05, "issuer_open": True,
                "mint_open": True, "redeem_fee": 0.0, "mint_fee": 0.0, "bank_open": True}  # fmt: skip
    return ArbitrageContext(**{**base, **over})


def test_a_weekend_wait_and_a_frozen_bank_lower_the_bid() -> None:
    a = _arb(tail_probability=0.5, tail_haircut_pct=5, hurdle_pct_per_day=1.0)
    calm = a.bid(_ctx())
    friday_afternoon = a.bid(_ctx(v_base=0.985, v_tail=0.92, alarm=1.0, wait_days=0.1))
    saturday = a.bid(_ctx(v_base=0.985, v_tail=0.92, alarm=1.0, wait_days=2.5))
    assert calm > 0.999
    assert saturday < friday_afternoon - 0.05  # the weekend, not the loss, moves the price
    assert friday_afternoon > 0.98  # paid at par within hours: little of the loss is at risk


def test_inventory_lowers_the_bid_and_capital_limits_buying() -> None:
    v = venue((0.95, 1.05, 2_000_000_000), (0.5, 2.0, 500_000_000))
    v.sell_tokens(1_500_000_000)
    low = v.price
    a = _arb(capital_minor=100_000_000, inventory_aversion_pct=5)
    bought = a.buy_below_value([v], _ctx(wait_days=1.0))
    assert bought > 0 and a.cash_minor >= 0
    assert low < v.price < 1.0  # lifted, but a small arbitrageur cannot restore par
    assert math.isclose(a.spent_minor + a.cash_minor, 100_000_000)
