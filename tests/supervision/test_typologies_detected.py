"""Each typology is detected on a small planted case written out by hand."""

from __future__ import annotations

import itertools

from services.supervision.world import CHAINS

from .feeds import DAY_S, HOUR_S, MINUTE_S, START, Feed, of, run


def test_structuring_repeated_payments_just_under_the_reporting_threshold() -> None:
    f = Feed()
    payer, payee = f.wallet("CN", 2), f.wallet("CN", 2)
    f.load(payer, f.yuan(150_000), START - HOUR_S)
    for i, amount in enumerate((48_000, 49_500, 47_200)):
        f.pay(payer, payee, f.yuan(amount), START + i * 10 * HOUR_S)
    alerts = of(run(f.postings()), "structuring")
    assert alerts and alerts[0].subjects[0] == payer.id
    assert len(alerts[0].evidence) == 3


def test_structuring_smurfs_converge_just_under_the_tier3_cap() -> None:
    f = Feed()
    collector = f.wallet("CN", 2)
    smurfs = [f.wallet("CN", 3) for _ in range(4)]
    for i, s in enumerate(smurfs):
        f.load(s, f.yuan(5_000), START - HOUR_S)
        f.pay(s, collector, f.yuan(4_800 + 10 * i), START + i * HOUR_S)
    alerts = of(run(f.postings()), "structuring")
    assert alerts and alerts[0].subjects[0] == collector.id
    assert {s.id for s in smurfs} <= set(alerts[0].subjects)


def test_fan_in_of_mules_forwarding_what_victims_sent_them() -> None:
    f = Feed()
    collector = f.wallet("CN", 2)
    for i in range(10):
        victim, mule = f.wallet("CN", 2), f.wallet("CN", 3)
        f.pay(victim, mule, f.yuan(3_000), START + i * 10 * MINUTE_S)
        f.pay(mule, collector, f.yuan(2_950), START + HOUR_S + i * 10 * MINUTE_S)
    alerts = of(run(f.postings()), "fan_in")
    assert len(alerts) == 1 and alerts[0].subjects[0] == collector.id
    assert alerts[0].raised_at <= START + HOUR_S + 9 * 10 * MINUTE_S + 5 * MINUTE_S


def test_fan_out_to_mules_who_cash_out() -> None:
    f = Feed()
    source, distributor = f.wallet("CN", 1), f.wallet("CN", 1)
    f.load(source, f.yuan(100_000), START - 2 * HOUR_S)
    f.pay(source, distributor, f.yuan(100_000), START - HOUR_S)
    for i in range(10):
        mule = f.wallet("CN", 2)
        f.pay(distributor, mule, f.yuan(8_000), START + i * 5 * MINUTE_S)
        f.redeem(mule, f.yuan(7_800), START + 2 * HOUR_S + i * MINUTE_S)
    alerts = of(run(f.postings()), "fan_out")
    assert len(alerts) == 1 and alerts[0].subjects[0] == distributor.id
    assert alerts[0].raised_at >= START + 2 * HOUR_S  # needs the receivers' onward movement


def test_cycle_round_trip_across_three_jurisdictions() -> None:
    f = Feed()
    a, b, c = f.wallet("CN", 1), f.wallet("HK", 1), f.wallet("TH", 1)
    f.load(a, f.yuan(500_000), START - HOUR_S)
    f.pay(a, b, f.yuan(500_000), START)
    hkd = f.convert(f.yuan(500_000), "CNY", "HKD") * 98 // 100
    f.pay(b, c, hkd, START + 5 * HOUR_S)
    thb = f.convert(hkd, "HKD", "THB") * 98 // 100
    f.pay(c, a, thb, START + 10 * HOUR_S)
    alerts = of(run(f.postings()), "cycle")
    assert len(alerts) == 1
    assert set(alerts[0].subjects) == {a.id, b.id, c.id}
    assert len(alerts[0].evidence) == 12  # three cross-border payments, four legs each


def test_rapid_pass_through_within_minutes() -> None:
    f = Feed()
    source, conduit, sink = f.wallet("CN", 1), f.wallet("CN", 1), f.wallet("HK", 1)
    f.load(source, f.yuan(200_000), START - HOUR_S)
    f.pay(source, conduit, f.yuan(200_000), START)
    f.pay(conduit, sink, f.yuan(197_000), START + 6 * MINUTE_S)
    alerts = of(run(f.postings()), "pass_through")
    assert len(alerts) == 1 and alerts[0].subjects[0] == conduit.id


def test_scatter_gather_through_five_intermediaries() -> None:
    f = Feed()
    source, collector = f.wallet("CN", 1), f.wallet("CN", 2)
    f.load(source, f.yuan(60_000), START - HOUR_S)
    for i in range(5):
        middle = f.wallet("CN", 2)
        f.pay(source, middle, f.yuan(12_000), START + i * 20 * MINUTE_S)
        f.pay(middle, collector, f.yuan(11_500), START + (3 + i) * HOUR_S)
    alerts = of(run(f.postings()), "scatter_gather")
    assert len(alerts) == 1 and alerts[0].subjects[:2] == [collector.id, source.id]


def test_velocity_burst_from_a_quiet_wallet() -> None:
    f = Feed()
    wallet = f.wallet("CN", 2)
    receivers = [f.wallet("CN", 3), f.wallet("CN", 3)]
    f.load(wallet, f.yuan(40_000), START - DAY_S)
    for i in range(20):
        f.pay(wallet, receivers[i % 2], f.yuan(1_000 + 37 * i), START + i * 90.0)
    alerts = of(run(f.postings()), "velocity")
    assert len(alerts) == 1 and alerts[0].subjects[0] == wallet.id


def test_watch_list_direct_and_one_hop() -> None:
    f = Feed()
    listed, funder, hop, payee = (f.wallet("CN", 2) for _ in range(4))
    f.pay(funder, listed, f.yuan(20_000), START)
    f.pay(listed, hop, f.yuan(10_000), START + HOUR_S)
    f.pay(hop, payee, f.yuan(9_500), START + 3 * HOUR_S)
    alerts = of(run(f.postings(), watch_list=frozenset({listed.id})), "watch_list")
    assert [a.subjects[0] for a in alerts] == [listed.id, hop.id]
    assert alerts[0].score == 1.0 and alerts[1].score < 1.0


def test_voucher_cash_back_by_a_colluding_merchant() -> None:
    f = Feed()
    merchant = f.wallet("CN", 1)
    holders = [f.wallet("CN", 3) for _ in range(3)]
    for i, h in enumerate(holders):
        f.grant_voucher(h, f.yuan(500), START - DAY_S)
        f.pay(h, merchant, f.yuan(500), START + i * HOUR_S, "voucher", "grocery")
        f.pay(merchant, h, f.yuan(440), START + i * HOUR_S + 20 * MINUTE_S)
    alerts = of(run(f.postings()), "voucher_misuse")
    assert len(alerts) == 1 and alerts[0].subjects[0] == merchant.id


def test_stablecoin_peel_chain_is_pass_through() -> None:
    f = Feed()
    chain = CHAINS[0]
    hops = [f.address(chain) for _ in range(4)]
    tokens = 50_000 * 10**6
    for i, (a, b) in enumerate(itertools.pairwise(hops)):
        f.chain_transfer(a, b, tokens, START + i * 4 * MINUTE_S)
        tokens = tokens * 99 // 100
    alerts = of(run(f.postings()), "pass_through")
    assert {a.subjects[0] for a in alerts} == {hops[1].id, hops[2].id}
    assert {a.rail for a in alerts} == {"stablecoin"}


def test_stablecoin_structuring_under_the_usd_10k_threshold() -> None:
    f = Feed()
    chain = CHAINS[1]
    payer, payee = f.address(chain), f.address(chain)
    for i in range(4):
        f.chain_transfer(payer, payee, (9_900 - 10 * i) * 10**6, START + i * 3 * HOUR_S)
    alerts = of(run(f.postings()), "structuring")
    assert alerts and alerts[0].subjects[0] == payer.id and alerts[0].rail == "stablecoin"
