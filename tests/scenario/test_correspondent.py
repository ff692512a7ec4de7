"""Correspondent banking: cut-offs, weekends, hops through time zones, T+N, fees."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from corridor.scenario import (
    CorrespondentModel,
    DemandModel,
    PaymentBatch,
    SettlementStatus,
    load_scenario,
)
from tests.scenario.helpers import hours_since_start, one_payment

# baseline starts Monday 2025-03-10 00:00 UTC; Friday is day 4.
FRIDAY, MONDAY = 4, 0


@pytest.fixture(scope="module")
def scenario():
    # No random holds here: these tests are about the clock and the fees.
    return load_scenario(
        "baseline",
        {"rails.correspondent.exception_rate": 0, "rails.correspondent.return_rate": 0},
    )


def settle_at(scenario, batch: PaymentBatch) -> datetime:
    result = CorrespondentModel(scenario).settle(batch)
    assert result.status[0] == SettlementStatus.SETTLED
    return datetime.fromtimestamp(scenario.start_epoch_s + result.settle_s[0], UTC)


def test_after_cutoff_on_friday_settles_after_the_weekend(scenario) -> None:
    # CN -> HK retail, direct (1 hop), T+1. Friday 17:00 Beijing is after the 16:00 cut-off:
    # accepted Monday, value date Tuesday, credited at the HK bank's 09:00 opening.
    late = one_payment(scenario, hours_since_start(FRIDAY, 17, 8), "CN-HK")
    assert settle_at(scenario, late) == datetime(2025, 3, 18, 1, 0, tzinfo=UTC)  # Tue 09:00 HKT
    # The same payment an hour before the cut-off is accepted Friday: credited Monday 09:00.
    early = one_payment(scenario, hours_since_start(FRIDAY, 15, 8), "CN-HK")
    assert settle_at(scenario, early) == datetime(2025, 3, 17, 1, 0, tzinfo=UTC)


def test_weekend_instruction_waits_for_monday(scenario) -> None:
    saturday = one_payment(scenario, hours_since_start(5, 10, 8), "CN-HK")
    assert settle_at(scenario, saturday) == datetime(2025, 3, 18, 1, 0, tzinfo=UTC)


def test_saudi_weekend_is_friday_and_saturday(scenario) -> None:
    # AE -> SA, 2 hops via New York, T+1. Thursday 10:00 Dubai (06:00 UTC), before the cut-off:
    # accepted Thu; forwarded 12:00 UTC; New York accepts Thu (07:00 local) and forwards at
    # 17:00 NY = 22:00 UTC Thu. Riyadh: Friday and Saturday are the weekend, so the value
    # date Thu+1 business day is Sunday; credited Sunday 09:00 Riyadh = 06:00 UTC.
    thursday = one_payment(scenario, hours_since_start(3, 10, 4), "AE-SA")
    assert settle_at(scenario, thursday) == datetime(2025, 3, 16, 6, 0, tzinfo=UTC)


def test_an_intermediary_in_another_time_zone_adds_its_own_cut_off(scenario) -> None:
    # TH -> AE (2 hops). Monday 15:00 Bangkok: accepted Mon, forwarded 16:00 BKK = 09:00 UTC,
    # New York (04:00 local) forwards at 17:00 NY = 22:00 UTC Mon; Dubai opens Tue 09:00
    # = 05:00 UTC and the value date T+1 is Tuesday: Tue 05:00 UTC.
    pay = one_payment(scenario, hours_since_start(MONDAY, 15, 7), "TH-AE")
    assert settle_at(scenario, pay) == datetime(2025, 3, 11, 5, 0, tzinfo=UTC)


def test_trade_waits_for_t_plus_two(scenario) -> None:
    pay = one_payment(scenario, hours_since_start(MONDAY, 10, 8), "CN-HK", kind="trade")
    assert settle_at(scenario, pay) == datetime(2025, 3, 12, 1, 0, tzinfo=UTC)  # Wed 09:00 HKT


def test_a_holiday_at_the_payee_pushes_the_value_date() -> None:
    s = load_scenario(
        "baseline",
        {
            "rails.correspondent.exception_rate": 0,
            "rails.correspondent.return_rate": 0,
            "jurisdictions": [
                {"code": "CN"},
                {"code": "HK", "holidays": ["2025-03-11"]},
                {"code": "TH"},
                {"code": "AE"},
                {"code": "SA"},
            ],
        },
    )
    pay = one_payment(s, hours_since_start(MONDAY, 10, 8), "CN-HK")
    assert settle_at(s, pay) == datetime(2025, 3, 12, 1, 0, tzinfo=UTC)  # Wed, not Tue


def test_remittance_of_200_dollars_costs_what_the_world_bank_reports(scenario) -> None:
    # 2 hops x (US$3.25 + 10 bp of $200) + 300 bp FX margin = US$12.90 = 6.45%.
    pay = one_payment(scenario, 0.0, "TH-AE", kind="remittance", amount_usd_minor=20_000)
    cost = CorrespondentModel(scenario).cost_usd_minor(pay)
    assert cost.tolist() == [1290]
    assert cost.dtype == np.int64


def test_cost_is_integer_and_grows_with_hops(scenario) -> None:
    direct = one_payment(scenario, 0.0, "CN-HK", kind="trade", amount_usd_minor=5_000_000)
    two = one_payment(scenario, 0.0, "CN-TH", kind="trade", amount_usd_minor=5_000_000)
    model = CorrespondentModel(scenario)
    # trade: US$15 + 10 bp per hop, 30 bp FX: 1 hop 1500 + 5000 + 15000; 2 hops twice the hop part.
    assert model.cost_usd_minor(direct).tolist() == [21_500]
    assert model.cost_usd_minor(two).tolist() == [28_000]


def test_holds_and_returns_are_seeded_per_payment() -> None:
    s = load_scenario("baseline", {"payments": 50_000})
    batch = DemandModel(s).generate()
    whole = CorrespondentModel(s).settle(batch)
    halves = [
        CorrespondentModel(s).settle(batch.take(slice(a, b)))
        for a, b in ((0, 20_000), (20_000, None))
    ]
    assert np.array_equal(whole.status, np.concatenate([h.status for h in halves]))
    assert np.array_equal(whole.settle_s, np.concatenate([h.settle_s for h in halves]))
    held = (whole.status == SettlementStatus.DELAYED).mean()
    returned = (whole.status == SettlementStatus.RETURNED).mean()
    assert held == pytest.approx(0.02, abs=0.004) and returned == pytest.approx(0.002, abs=0.001)
    quote = CorrespondentModel(s).quote(batch)
    late = whole.status != SettlementStatus.SETTLED
    assert np.all(whole.settle_s[late] > quote.settle_s[late])
    assert np.array_equal(whole.settle_s[~late], quote.settle_s[~late])


def test_nothing_settles_within_the_hour_and_most_within_three_days() -> None:
    s = load_scenario("baseline", {"payments": 30_000})
    batch = DemandModel(s).generate()
    elapsed_h = CorrespondentModel(s).quote(batch).elapsed_s(batch.created_at_s) / 3600
    assert elapsed_h.min() > 1  # the G20 one-hour target is out of reach for the status quo
    assert np.quantile(elapsed_h, 0.5) < 72
