"""Rail choice: cost, speed and availability decide; stress moves payers to safety."""

from __future__ import annotations

import numpy as np
import pytest

from corridor.scenario import (
    KIND_NAMES,
    NO_RAIL,
    DemandModel,
    PaymentBatch,
    Rail,
    RailChoice,
    RailStress,
    load_scenario,
)
from tests.scenario.helpers import hours_since_start, one_payment


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline", {"payments": 40_000})


@pytest.fixture(scope="module")
def batch(baseline) -> PaymentBatch:
    return DemandModel(baseline).generate()


def test_every_rail_is_used_in_a_normal_week(baseline, batch) -> None:
    decision = RailChoice(baseline).choose(batch)
    shares = decision.shares()
    assert set(shares) == {"cbdc", "stablecoin", "correspondent"}
    assert all(0.05 < v < 0.9 for v in shares.values()), shares
    np.testing.assert_allclose(decision.probability.sum(axis=1), 1.0)


def test_choice_respects_probabilities(baseline, batch) -> None:
    decision = RailChoice(baseline).choose(batch)
    expected = decision.probability.mean(axis=0)
    observed = np.bincount(decision.rail, minlength=3) / len(batch)
    np.testing.assert_allclose(observed, expected, atol=0.01)


def test_flight_to_safety_moves_payers_off_the_stablecoin(baseline, batch) -> None:
    choice = RailChoice(baseline)
    calm = choice.choose(batch).shares()
    run = choice.choose(batch, RailStress(peg_discount=0.12, news=1.0)).shares()
    assert run["stablecoin"] < calm["stablecoin"] / 5
    assert run["cbdc"] > calm["cbdc"]
    assert run["correspondent"] > calm["correspondent"]


def test_a_small_discount_already_costs_the_stablecoin_share(baseline, batch) -> None:
    choice = RailChoice(baseline)
    shares = [
        choice.choose(batch, RailStress(peg_discount=d)).shares()["stablecoin"]
        for d in (0, 0.005, 0.02, 0.1)
    ]
    assert shares == sorted(shares, reverse=True) and shares[-1] < shares[0] / 3


def test_same_payment_same_draw_under_any_chunking(baseline, batch) -> None:
    choice = RailChoice(baseline)
    whole = choice.choose(batch).rail
    parts = [
        choice.choose(batch.take(slice(a, b))).rail
        for a, b in ((0, 123), (123, 30_000), (30_000, None))
    ]
    assert np.array_equal(whole, np.concatenate(parts))


def test_the_scheduled_flight_to_safety_shifts_shares_over_the_week() -> None:
    s = load_scenario("dollar-contagion", {"payments": 60_000})
    batch = DemandModel(s).generate()
    decision = RailChoice(s).choose(batch)
    hours = batch.created_at_s / 3600
    before = hours < 12  # the preset's stress starts at hour 12 (Friday noon, with the shocks)
    during = (hours >= 24) & (hours < 96)  # the flight-to-safety plateau (12 h ramps)
    share = lambda m, r: (decision.rail[m] == r).mean()
    assert decision.news[before].max() == 0 and decision.news[during].min() == 1
    # News alone (the engine adds the peg discount from the stablecoin model on top).
    assert share(during, Rail.STABLECOIN) < share(before, Rail.STABLECOIN) / 2
    assert share(during, Rail.CBDC) > share(before, Rail.CBDC) * 1.3  # access boost + news


def test_wallet_access_is_a_fixed_property(baseline, batch) -> None:
    choice = RailChoice(baseline)
    access = choice.quote(batch).access
    key = batch.from_j.astype(np.int64) * 10**7 + batch.payer
    order = np.argsort(key, kind="stable")
    same_wallet = key[order][1:] == key[order][:-1]
    a = access[order]
    assert same_wallet.any()
    assert np.array_equal(a[1:][same_wallet], a[:-1][same_wallet])
    assert access[:, Rail.CBDC].mean() == pytest.approx(0.35, abs=0.02)
    assert access.any(axis=1).all()  # correspondent banking is everyone's fallback


def test_disabled_rail_is_never_chosen(batch) -> None:
    s = load_scenario("baseline", {"payments": 40_000, "rails.stablecoin.enabled": False})
    decision = RailChoice(s).choose(batch)
    assert not (decision.rail == Rail.STABLECOIN).any()


def test_outage_is_avoided_while_it_lasts() -> None:
    s = load_scenario(
        "baseline",
        {
            "payments": 40_000,
            "stress": [
                {"kind": "rail_outage", "rail": "cbdc", "at_hour": 24, "duration_hours": 24}
            ],
        },
    )
    batch = DemandModel(s).generate()
    decision = RailChoice(s).choose(batch)
    day = (batch.created_at_s // 86_400).astype(int)
    cbdc = decision.rail == Rail.CBDC
    assert cbdc[day == 0].mean() > 0.2 and not cbdc[day == 1].any()


def test_no_rail_when_every_option_is_down(baseline) -> None:
    s = load_scenario("baseline", {"rails.cbdc.enabled": False, "rails.stablecoin.enabled": False})
    pay = one_payment(s, 0.0, "CN-HK")
    choice = RailChoice(s)
    assert choice.choose(pay).rail.tolist() == [Rail.CORRESPONDENT]
    s_out = load_scenario(
        "baseline",
        {"rails.cbdc.enabled": False, "rails.stablecoin.enabled": False,
         "stress": [{"kind": "rail_outage", "rail": "correspondent", "at_hour": 0}]},
    )  # fmt: skip
    decision = RailChoice(s_out).choose(one_payment(s_out, 0.0, "CN-HK"))
    assert decision.rail.tolist() == [NO_RAIL] and decision.shares()["none"] == 1.0


def test_bank_hours_close_a_rail_that_is_not_24_7() -> None:
    s = load_scenario("baseline", {"rails.cbdc.available_24_7": False})
    choice = RailChoice(s)
    night = one_payment(s, hours_since_start(1, 3, 8), "CN-HK")
    day = one_payment(s, hours_since_start(1, 11, 8), "CN-HK")
    assert not choice.quote(night).open_now[0, Rail.CBDC]
    assert choice.quote(day).open_now[0, Rail.CBDC]
    # Tuesday 03:00 Beijing: the wait until 09:00 is part of the time to the payee.
    assert choice.quote(night).time_s[0, Rail.CBDC] == pytest.approx(
        6 * 3600 + s.rails.cbdc.settle_s
    )


def test_quotes_are_integer_cents_and_rank_sensibly(baseline) -> None:
    pay = one_payment(baseline, 0.0, "TH-AE", kind="remittance", amount_usd_minor=20_000)
    q = RailChoice(baseline).quote(pay)
    assert q.cost_usd_minor.dtype == np.int64
    cbdc, stable, corr = q.cost_usd_minor[0]
    assert cbdc < stable < corr  # 35 bp < 100 bp + $1 < 6.45%
    assert q.time_s[0, Rail.CBDC] < q.time_s[0, Rail.STABLECOIN] < q.time_s[0, Rail.CORRESPONDENT]


def test_trade_leans_on_banks(baseline, batch) -> None:
    decision = RailChoice(baseline).choose(batch)
    trade = batch.kind == KIND_NAMES.index("trade")
    corr = decision.rail == Rail.CORRESPONDENT
    assert corr[trade].mean() > corr[~trade].mean()


def test_choice_speed(baseline) -> None:
    import time

    s = load_scenario("baseline", {"payments": 200_000})
    batch = DemandModel(s).generate()
    choice = RailChoice(s)
    started = time.perf_counter()
    choice.choose(batch, RailStress(peg_discount=0.01, news=0.5))
    elapsed = time.perf_counter() - started
    print(f"\nrail choice (incl. correspondent quotes): {len(batch) / elapsed:,.0f} payments/s")
