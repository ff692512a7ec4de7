"""Money: integer minor units; FX conversion exact, rounding down, remainder accounted for."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.fx import mid_rate, spread_cost_minor
from corridor.money import FxRate, Money, format_minor


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["CNY", "HKD", "THB", "AED", "SAR"]),
       st.sampled_from(["CNY", "HKD", "THB", "AED", "SAR", "USD"]))  # fmt: skip
def test_convert_is_exact_and_rounds_down(amount, base, quote):
    rate = mid_rate(base, quote)
    whole, rest = rate.convert(amount)
    assert isinstance(whole, int) and 0 <= rest < 1
    # whole + remainder is the exact value, to the last fraction of a minor unit
    assert Fraction(whole) + rest == Fraction(amount) * rate.rate  # all five have 2 decimals


def test_money_refuses_floats_and_unknown_currencies():
    with pytest.raises(TypeError):
        Money(1.5, "CNY")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(1, "XXX")
    with pytest.raises(ValueError):
        Money.of("1.234", "CNY")
    assert Money.of("12.34", "CNY") == Money(1234, "CNY")
    assert format_minor(-123456, "HKD") == "-1,234.56 HKD"


def test_reference_cross_rate_and_inverse():
    r = mid_rate("CNY", "HKD")
    assert r.decimal(6) == Decimal("1.098592")
    assert (r.rate * r.inverse().rate) == 1
    assert FxRate.parse("CNY", "USD", "0.1408").rate == Fraction(1408, 10000)


def test_spread_cost_is_what_the_payer_lost_against_the_mid():
    from bridge.fx import FxDesk, LiquidityProvider

    lp = LiquidityProvider(
        "lp",
        spread_bps=10,
        skew_bps=0,
        inventory_minor={"HKD": 10**12},
        target_minor={"HKD": 10**12},
    )
    desk = FxDesk([lp], [], set(), fee_bps=0)
    q = desk.price("CNY", "HKD", 1_000_000)
    assert q is not None
    # 10 bp of 1,000,000 = 1,000 minor units, plus at most one unit of rounding.
    assert 1_000 <= spread_cost_minor(q) <= 1_001
