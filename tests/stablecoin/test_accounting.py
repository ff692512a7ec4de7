"""Value is conserved: tokens through mint, redeem and trades; dollars through fire sales and shocks.

Identities checked (``StablecoinWorld.audit``), all to the cent:
- supply == holders + venues + arbitrageurs' inventory + redemption queue + API holders
- supply == supply_start + minted - burned
- reserves_mtm == reserves_start + revaluations + cash_in - cash_out - fire_sale_costs
- dollars in the world == dollars at start + new arbitrage capital + API mints - API payouts
  + revaluations - fire-sale costs
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.stablecoin.model import StablecoinWorld
from services.stablecoin.spec import StablecoinSpec, load_stablecoin_spec

HOUR = 3600.0


def _gaps(world: StablecoinWorld) -> dict[str, int]:
    audit = world.audit()
    gaps = {k: v for k, v in audit.items() if k.endswith("gap_minor")}
    gaps["mark_sum_gap_minor"] = audit["reserves"]["mark_sum_gap_minor"]
    return gaps


def _assert_conserved(world: StablecoinWorld) -> None:
    assert all(v == 0 for v in _gaps(world).values()), _gaps(world)


def test_every_preset_conserves_value_at_every_day(svb, contagion, seed_haircut) -> None:
    for spec in (svb, contagion, seed_haircut):
        world = StablecoinWorld.from_spec(spec, seed=3)
        for day in range(1, 8):
            world.advance(day * 86_400.0)
            _assert_conserved(world)


def test_fire_sales_are_booked_and_cost_something(contagion) -> None:
    world = StablecoinWorld.from_spec(contagion, seed=1).run()
    summary = world.summary()
    assert summary["fire_sale_minor"] > 0
    assert summary["fire_sale_by_kind_minor"].get("tbill", 0) > 0
    assert summary["fire_sale_cost_minor"] >= 0
    assert summary["fire_sale_yield_impact_bp_max"] > 0  # BIS WP 1270 feedback on short yields
    assert world.portfolio.revaluation_minor["fire_sale_yield_impact"] < 0
    _assert_conserved(world)


def test_redemptions_burn_tokens_and_pay_dollars_one_for_one(svb) -> None:
    world = StablecoinWorld.from_spec(svb, seed=1).run()
    paid_to_holders = sum(c.redemption_cash_minor for c in world.cohorts)
    burned_for_holders = sum(c.redeemed_minor for c in world.cohorts)
    assert burned_for_holders > 0
    assert paid_to_holders == burned_for_holders  # USDC: no fee
    assert world.issuer.burned_minor == world.issuer.supply_start_minor - world.issuer.supply_minor


SHOCKS = st.one_of(
    st.builds(lambda h, bp: {"kind": "yield_shift", "at_h": h, "bp": bp},
              st.floats(0, 40), st.floats(-100, 400)),
    st.builds(lambda h, pct: {"kind": "assumed_reserve_haircut", "at_h": h, "pct": pct,
                              "applies_to": ["mmf", "deposit"], "label": "test assumption"},
              st.floats(0, 40), st.floats(1, 30)),
    st.builds(lambda h, share, rec: {"kind": "bank_failure", "at_h": h, "bank": "BNY Mellon",
                                     "share": share, "expected_recovery": rec},
              st.floats(0, 40), st.floats(0, 1), st.floats(0, 1)),
    st.builds(lambda h, d: {"kind": "redemption_suspension", "at_h": h, "duration_h": d},
              st.floats(0, 40), st.floats(1, 30)),
    st.builds(lambda h: {"kind": "backstop", "at_h": h, "banks": ["SVB", "BNY Mellon"]}, st.floats(0, 40)),
    st.builds(lambda h: {"kind": "exchange_halt", "at_h": h, "exchange": "coinbase", "duration_h": 10},
              st.floats(0, 40)),
    st.builds(lambda h, a: {"kind": "news", "at_h": h, "alarm": a}, st.floats(0, 40), st.floats(0, 3)),
)  # fmt: skip

API_OPS = st.lists(
    st.tuples(st.sampled_from(["mint", "redeem"]), st.integers(1, 47), st.integers(1, 10**10)),
    max_size=6,
)


def _spec_with(base: StablecoinSpec, shocks: list[dict[str, Any]]) -> StablecoinSpec:
    data = base.model_dump(mode="json")
    data["shocks"] = shocks
    data["days"] = 2
    return load_stablecoin_spec(data)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shocks=st.lists(SHOCKS, max_size=5), ops=API_OPS, seed=st.integers(0, 2**16))
def test_random_shocks_mints_and_redemptions_conserve_value(svb, shocks, ops, seed) -> None:
    world = StablecoinWorld.from_spec(_spec_with(svb, shocks), seed=seed)
    for kind, hour, amount in sorted(ops, key=lambda op: op[1]):
        at = hour * HOUR
        if kind == "mint":
            world.mint("tester", amount, at)
        elif world.api_tokens_minor.get("tester", 0) > 0:
            world.redeem("tester", min(amount, world.api_tokens_minor["tester"]), at)
        _assert_conserved(world)
    world.advance(2 * 86_400.0)
    _assert_conserved(world)
