"""Issuer rules: bank hours, FIFO queue, gates, suspension, pro-rata payouts, attestations."""

from __future__ import annotations

from services.stablecoin.curve import DAY_S
from services.stablecoin.model import StablecoinWorld
from services.stablecoin.spec import StablecoinSpec, load_stablecoin_spec

HOUR = 3600.0


def _variant(spec: StablecoinSpec, change) -> StablecoinSpec:
    data = spec.model_dump(mode="json")
    change(data)
    return load_stablecoin_spec(data)


def test_nothing_is_paid_on_the_weekend(svb) -> None:
    world = StablecoinWorld.from_spec(svb, seed=1)
    world.advance(24 * HOUR)  # Saturday 00:00 UTC
    burned_friday = world.issuer.burned_minor
    world.advance(84 * HOUR)  # Monday 12:00 UTC, an hour before New York opens
    assert world.issuer.burned_minor == burned_friday
    assert world.issuer.queue_minor > 0
    world.advance(90 * HOUR)
    assert world.issuer.burned_minor > burned_friday


def test_a_daily_gate_caps_payouts(svb) -> None:
    gated = _variant(
        svb, lambda d: d["issuer"]["redemption"].update(gate={"max_per_day_pct_supply": 1.0})
    )
    world = StablecoinWorld.from_spec(gated, seed=1).run()
    cap = 0.01 * gated.issuer.supply_minor
    assert max(world.issuer.paid_by_day.values()) <= cap
    assert world.summary()["net_redemptions_pct_4d"] <= 4.0 + 1e-9


def test_a_liquidity_gate_suspends_payouts_when_cash_runs_low(contagion) -> None:
    gated = _variant(contagion, lambda d: d["issuer"]["redemption"].update(
        gate={"suspend_below_liquid_pct": 5.0}))  # fmt: skip
    free = StablecoinWorld.from_spec(contagion, seed=1).run()
    world = StablecoinWorld.from_spec(gated, seed=1).run()
    assert world.issuer.gated_steps > 0 and free.issuer.gated_steps == 0
    assert world.issuer.burned_minor < free.issuer.burned_minor
    # Cash-like reserves start below 5 % of supply: nothing is paid until maturing bills refill them.
    assert world.burned_by_day.get(0, 0) == 0 < free.burned_by_day[0]


def test_a_suspension_sends_everyone_to_the_market(svb) -> None:
    suspended = _variant(svb, lambda d: d["shocks"].append(
        {"kind": "redemption_suspension", "at_h": 16.75, "duration_h": 48}))  # fmt: skip
    base = StablecoinWorld.from_spec(svb, seed=1).run().summary()
    world = StablecoinWorld.from_spec(suspended, seed=1).run()
    s = world.summary()
    assert s["redemption_requests_pct_by_day"][1] == 0.0  # nothing lodged on Saturday
    assert s["min_price"] < base["min_price"]


def test_pro_rata_payouts_below_full_coverage(svb) -> None:
    pro_rata = _variant(
        svb, lambda d: d["issuer"]["redemption"].update(pays_par_when_insolvent=False)
    )
    world = StablecoinWorld.from_spec(pro_rata, seed=1)
    world.advance(20 * HOUR)  # after SVB fails, Friday afternoon in New York
    paid = sum(c.redemption_cash_minor for c in world.cohorts)
    burned = sum(c.redeemed_minor for c in world.cohorts)
    assert 0 < paid < burned  # each request paid at the coverage ratio, not par
    assert world.issuer.coverage() >= 0.97


def test_attestations_report_reserves_against_tokens(contagion) -> None:
    world = StablecoinWorld.from_spec(contagion, seed=1)
    first = world.attestations[0]
    assert first["tokens_outstanding_minor"] == 17_450_000_000_000
    assert abs(first["excess_minor"] - 670_000_000_000) < 100  # the 3.9 % excess (ladder rounding)
    assert 40 <= first["bill_wam_days"] <= 50  # a 1-93-day ladder
    world.advance(2 * DAY_S)
    last = world.attestations[-1]
    assert last["excess_minor"] < 0  # the crash ate the excess
    assert set(last["reserves_by_category_minor"]) >= {"treasury_bills", "gold", "bitcoin"}
