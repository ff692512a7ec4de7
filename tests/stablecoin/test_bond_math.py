"""Bond math, not narrative: the reserve losses a yield shock really causes."""

from __future__ import annotations

import pytest

from services.stablecoin.curve import (
    YieldCurve,
    bill_loss_pct,
    bill_price,
    note_loss_pct,
    note_price,
    tenor_days,
)
from services.stablecoin.model import StablecoinWorld


def test_three_month_bill_loses_about_a_quarter_percent_for_100bp() -> None:
    loss = bill_loss_pct(0.045, 91.0, 100.0)
    assert -0.26 < loss < -0.23


def test_ten_year_note_loses_about_seven_point_seven_percent_for_100bp() -> None:
    loss = note_loss_pct(0.0425, 0.0425, 10.0, 100.0)
    assert -7.9 < loss < -7.5


def test_genius_act_bill_portfolio_loses_between_five_and_twenty_five_bp() -> None:
    # A 20-93-day WAM portfolio: 0.05-0.25 % for +100 bp (DESIGN.md §6).
    assert -0.06 < bill_loss_pct(0.045, 20.0, 100.0) < -0.05
    assert -0.26 < bill_loss_pct(0.045, 93.0, 100.0) < -0.24


def test_a_par_note_prices_at_par_and_bills_pull_to_par() -> None:
    assert note_price(0.04, 0.04, 10.0) == pytest.approx(1.0, abs=1e-12)
    assert bill_price(0.05, 0.0) == 1.0
    assert bill_price(0.05, 10.0) > bill_price(0.05, 90.0)


def test_the_seed_claim_needs_a_duration_of_about_twelve_years() -> None:
    # Only very long paper loses ~12 % for +100 bp; a bill is two orders of magnitude away.
    assert (
        note_loss_pct(0.045, 0.045, 30.0, 100.0) < -12.0 < note_loss_pct(0.045, 0.045, 10.0, 100.0)
    )


def test_tenor_labels() -> None:
    assert tenor_days("10y") == 3650
    assert tenor_days("3m") == pytest.approx(91.25)
    assert tenor_days(7) == 7.0
    with pytest.raises(ValueError, match="tenor"):
        tenor_days("3q")


def test_shift_by_tenor_interpolates_and_impact_tapers() -> None:
    curve = YieldCurve({30.0: 0.04, 365.0: 0.04, 3650.0: 0.04})
    curve.shift({91.0: 150.0, 3650.0: 50.0})
    assert curve.yield_at(91.0) == pytest.approx(0.055)
    assert curve.yield_at(3650.0) == pytest.approx(0.045)
    curve.add_impact(10.0)
    assert curve.yield_at(30.0) == pytest.approx(0.055 + 0.001)  # full impact on bills
    assert curve.yield_at(3650.0) == pytest.approx(0.045)  # none beyond a year
    curve.relax(5 * 86_400.0)  # one half-life
    assert curve.impact_bp == pytest.approx(5.0)


def test_the_contagion_preset_loses_little_on_bills_and_much_on_risky_assets(contagion) -> None:
    world = StablecoinWorld.from_spec(contagion, seed=1)
    world.advance(15 * 3600.0)  # after the +150 bp shift and the crashes
    reval = world.portfolio.revaluation_minor
    bills = 13_500_000_000_000
    assert -0.004 * bills < reval["yield_shift"] < -0.0005 * bills  # ~0.1-0.4 % of $135B
    # 50 % of $9.9B Bitcoin + 20 % of $12.9B gold ~ $7.5B, more than the $6.7B excess.
    assert reval["asset_crash"] == pytest.approx(-753_000_000_000, rel=1e-6)
    assert -reval["asset_crash"] > 670_000_000_000
