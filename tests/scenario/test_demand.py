"""Demand: seeded, chunk-independent, exact in count, shaped by local time and stress."""

from __future__ import annotations

import time
from dataclasses import fields
from fractions import Fraction

import numpy as np
import pytest

from corridor.scenario import KIND_NAMES, DemandModel, PaymentBatch, load_scenario
from corridor.scenario.calendars import local_hour, local_weekday


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline", {"payments": 60_000})


@pytest.fixture(scope="module")
def week(baseline) -> PaymentBatch:
    return DemandModel(baseline).generate()


def same(a: PaymentBatch, b: PaymentBatch) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))


def test_exact_count_in_time_order_with_sequential_ids(baseline, week) -> None:
    assert len(week) == baseline.payments
    assert np.all(np.diff(week.created_at_s) >= 0)
    assert np.array_equal(week.payment_id, np.arange(len(week)))
    assert week.created_at_s.min() >= 0 and week.created_at_s.max() < baseline.horizon_s


def test_same_seed_same_payments_other_seed_other_payments(baseline, week) -> None:
    assert same(DemandModel(baseline).generate(), week)
    other = DemandModel(baseline, seed=baseline.seed + 1).generate()
    assert len(other) == len(week)  # the count is the scenario's target...
    assert not np.array_equal(other.amount_usd_minor, week.amount_usd_minor)  # ...the draws differ


@pytest.mark.parametrize("chunk_s", [3600.0, 1234.5, 86_400.0])
def test_chunking_does_not_change_the_payments(baseline, week, chunk_s: float) -> None:
    chunks = list(DemandModel(baseline).iter_batches(chunk_s=chunk_s))
    assert same(PaymentBatch.concat(chunks), week)


def test_a_window_is_the_same_as_the_whole_run_filtered(baseline, week) -> None:
    start, end = 1.5 * 86_400 + 100.0, 2 * 86_400 + 7.0
    window = DemandModel(baseline).generate(start, end)
    mask = (week.created_at_s >= start) & (week.created_at_s < end)
    assert len(window) > 0 and same(window, week.take(mask))


def test_corridors_are_consistent_with_jurisdictions(baseline, week) -> None:
    corr = baseline.directed_corridors
    assert np.array_equal(week.from_j, np.array([c.from_index for c in corr])[week.corridor])
    assert np.array_equal(week.to_j, np.array([c.to_index for c in corr])[week.corridor])
    assert np.all(week.from_j != week.to_j)
    shares = np.bincount(week.corridor, minlength=len(corr)) / len(week)
    weights = np.array([c.weight for c in corr])
    np.testing.assert_allclose(shares, weights / weights.sum(), atol=0.01)


def test_payers_and_payees_stay_inside_their_populations(baseline, week) -> None:
    sizes = np.array([j.wallets for j in baseline.jurisdictions])
    corporate = np.array([j.corporate_wallets for j in baseline.jurisdictions])
    assert np.all((week.payer >= 0) & (week.payer < sizes[week.from_j]))
    assert np.all((week.payee >= 0) & (week.payee < sizes[week.to_j]))
    trade = week.kind == KIND_NAMES.index("trade")
    assert np.all(week.payer[trade] < corporate[week.from_j[trade]])  # trade is B2B
    remit = week.kind == KIND_NAMES.index("remittance")
    assert np.all(week.payee[remit] >= corporate[week.to_j[remit]])  # remittances go to people


def test_amounts_convert_exactly_at_the_reference_rate(baseline, week) -> None:
    currencies = [j.currency for j in baseline.jurisdictions]
    for i in range(0, len(week), 997):
        rate = baseline.fx[currencies[week.from_j[i]]]
        exact = Fraction(int(week.amount_usd_minor[i])) * rate
        assert week.amount_minor[i] == int(exact + Fraction(1, 2)), i  # half up, no float


def test_sizes_follow_each_kind(baseline, week) -> None:
    for k, kind in enumerate(baseline.kinds.by_index()):
        usd = week.amount_usd_minor[week.kind == k] / 100
        assert usd.min() >= kind.size.min_usd - 0.01 and usd.max() <= kind.size.max_usd + 0.01
        assert np.median(usd) == pytest.approx(kind.size.median_usd, rel=0.08)


def _distinct_payee_ratio(batch: PaymentBatch) -> float:
    """Among payers with several remittances on one corridor: distinct payees per payment
    (1.0 = never the same payee twice)."""
    remit = batch.take(batch.kind == KIND_NAMES.index("remittance"))
    payer = remit.corridor.astype(np.int64) * 10**7 + remit.payer
    pair = payer * 10**7 + remit.payee
    payers, counts = np.unique(payer, return_counts=True)
    multi = np.isin(payer, payers[counts > 1])
    return len(np.unique(pair[multi])) / multi.sum()


def test_repeat_counterparties_are_common_for_remittances(baseline, week) -> None:
    more = {"payments": 200_000}
    never = load_scenario("baseline", {**more, "kinds.remittance.repeat_counterparty": 0})
    without = _distinct_payee_ratio(DemandModel(never).generate())
    with_repeats = _distinct_payee_ratio(DemandModel(load_scenario("baseline", more)).generate())
    assert without > 0.95  # fresh payees every time
    # Two payments with 2 usual payees and p=0.9 repeat: 1 - 0.9**2 / 4 = 0.80 expected.
    assert with_repeats < 0.85


def test_intraday_pattern_in_the_payers_local_time(baseline, week) -> None:
    cn = baseline.jurisdiction_index("CN")
    offset = baseline.jurisdictions[cn].utc_offset_s
    epoch = week.created_at_s + baseline.start_epoch_s
    trade_cn = (week.kind == KIND_NAMES.index("trade")) & (week.from_j == cn)
    hours = local_hour(epoch[trade_cn], offset)
    weekday = local_weekday(epoch[trade_cn], offset)
    office = (hours >= 9) & (hours < 17)
    assert office.mean() > 0.6  # uniform would be 1/3
    assert (weekday >= 5).mean() < 0.05  # trade stops at the weekend (2/7 if flat)
    remit_cn = (week.kind == KIND_NAMES.index("remittance")) & (week.from_j == cn)
    remit_hours = local_hour(epoch[remit_cn], offset)
    evening = ((remit_hours >= 18) & (remit_hours < 22)).mean()
    night = ((remit_hours >= 1) & (remit_hours < 5)).mean()
    assert evening > 4 * night


def test_time_zones_shift_the_peak(baseline, week) -> None:
    """The same local office hours fall at different UTC hours in CN (+8) and SA (+3)."""
    utc_hour = local_hour(week.created_at_s + baseline.start_epoch_s, 0)
    trade = week.kind == KIND_NAMES.index("trade")
    peaks = {}
    for code in ("CN", "SA"):
        m = trade & (week.from_j == baseline.jurisdiction_index(code))
        peaks[code] = np.bincount(utc_hour[m], minlength=24).argmax()
    assert (peaks["SA"] - peaks["CN"]) % 24 in range(3, 8)


def test_a_surge_multiplies_the_rate() -> None:
    s = load_scenario("dollar-contagion", {"payments": 80_000})
    batch = DemandModel(s).generate()
    surge = next(ev for ev in s.stress if ev.volume_multiplier == 10)
    plateau = (
        surge.at_hour + surge.ramp_hours,
        surge.at_hour + surge.duration_hours - surge.ramp_hours,
    )
    hours = batch.created_at_s / 3600
    # Same hours of the day one day earlier, before any stress.
    in_surge = ((hours >= plateau[0]) & (hours < plateau[1])).sum()
    day_before = ((hours >= plateau[0] - 24) & (hours < plateau[1] - 24)).sum()
    assert 8 < in_surge / day_before < 12


def test_surge_can_target_corridors_and_kinds() -> None:
    s = load_scenario(
        "baseline",
        {
            "payments": 40_000,
            "stress": [
                {"kind": "volume_surge", "at_hour": 24, "duration_hours": 24,
                 "volume_multiplier": 20, "corridors": ["HK-CN"], "kinds": ["trade"]}
            ],
        },
    )  # fmt: skip
    batch = DemandModel(s).generate()
    hk_cn = next(c.index for c in s.directed_corridors if c.code == "HK-CN")
    target = (batch.corridor == hk_cn) & (batch.kind == 0)
    day = (batch.created_at_s // 86_400).astype(int)
    monday, tuesday = (target & (day == 0)).sum(), (target & (day == 1)).sum()
    assert tuesday > 10 * monday
    other = ~target
    assert 0.5 < (other & (day == 1)).sum() / (other & (day == 0)).sum() < 1.5


def test_created_at_us_is_unix_business_time(baseline, week) -> None:
    us = week.created_at_us(baseline.start_at_us)
    assert us[0] >= baseline.start_at_us and np.all(np.diff(us) >= 0)


def test_to_frame_names_codes(baseline, week) -> None:
    frame = week.take(slice(0, 10)).to_frame(baseline)
    assert {"corridor_code", "currency", "kind_name"} <= set(frame.columns)
    assert set(frame["from_code"]) <= {j.code for j in baseline.jurisdictions}


def test_generation_speed() -> None:
    s = load_scenario("baseline", {"payments": 1_000_000})
    model = DemandModel(s)
    started = time.perf_counter()
    n = sum(len(b) for b in model.iter_batches(chunk_s=3600))
    elapsed = time.perf_counter() - started
    print(f"\ndemand: {n:,} payments in {elapsed:.2f} s = {n / elapsed:,.0f} payments/s")
    assert n == 1_000_000
