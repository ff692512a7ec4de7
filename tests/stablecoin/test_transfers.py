"""Corridor payments on the rail: fees in cents, inclusion, finality, ramps, halts, bad input."""

from __future__ import annotations

import pytest

from services.stablecoin.model import StablecoinWorld


def test_a_receipt_adds_up(contagion) -> None:
    world = StablecoinWorld.from_spec(contagion, seed=1)
    r = world.submit_transfer(1_000_000, "HK->CN", 3600.0, kyc_covered=True)
    assert r.corridor == "HK-CN" and r.chain == "tron" and r.currency == "USD"
    assert r.total_cost_minor == (r.on_ramp_fee_minor + r.capital_control_minor + r.network_fee_minor
                                  + r.off_ramp_fee_minor)  # fmt: skip
    assert r.cost_bps == pytest.approx(r.total_cost_minor / 1_000_000 * 10_000, abs=1e-3)
    assert (
        r.capital_control_minor == 0
    )  # HK has no capital controls; CN's premium is on its on-ramp
    assert r.included_at_s > 3600.0 + 600.0  # after the on-ramp
    assert r.finality_at_s == pytest.approx(r.included_at_s + 19 * 3.0)
    assert r.settle_s == pytest.approx(r.credited_at_s - 3600.0)
    assert r.status == "settled"


def test_capital_controls_and_p2p_cost_more(contagion) -> None:
    world = StablecoinWorld.from_spec(contagion, seed=1)
    from_cn = world.submit_transfer(1_000_000, "CN-HK", 0.0)
    from_hk = world.submit_transfer(1_000_000, "HK-TH", 0.0, kyc_covered=True)
    assert from_cn.capital_control_minor == 15_000  # 150 bp
    assert from_cn.on_ramp_route == "p2p"  # no KYC'd ramps on the mainland
    assert from_cn.cost_bps > from_hk.cost_bps
    assert from_cn.settle_s > from_hk.settle_s


def test_ethereum_fees_rise_with_the_run(contagion) -> None:
    world = StablecoinWorld.from_spec(contagion, seed=1)
    quiet = world.submit_transfer(1_000_000, "HK-AE", 3600.0, chain="ethereum", kyc_covered=True)
    world.advance(16.5 * 3600.0)
    stressed = world.submit_transfer(
        1_000_000, "HK-AE", world.now_s, chain="ethereum", kyc_covered=True
    )
    assert stressed.network_fee_minor > 3 * quiet.network_fee_minor
    assert stressed.token_price < 0.99 and stressed.depeg_exposure_minor > 0


def test_an_exchange_halt_delays_the_ramps(svb) -> None:
    data = svb.model_dump(mode="json")
    data["shocks"].append(
        {"kind": "exchange_halt", "at_h": 10, "exchange": "hk-vatp", "duration_h": 5}
    )
    data["shocks"].append({"kind": "exchange_halt", "at_h": 20, "exchange": "th-exchange"})
    from services.stablecoin.spec import load_stablecoin_spec

    world = StablecoinWorld.from_spec(load_stablecoin_spec(data), seed=1)
    world.advance(11 * 3600.0)
    held = world.submit_transfer(500_000, "HK-AE", 11 * 3600.0, kyc_covered=True)
    assert held.status == "delayed" and held.included_at_s >= 15 * 3600.0
    world.advance(21 * 3600.0)
    stuck = world.submit_transfer(500_000, "AE-TH", 21 * 3600.0, kyc_covered=True)
    assert stuck.status == "stuck" and stuck.settle_s is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amount_minor": 0, "corridor": "HK-CN", "at_s": 0.0}, "amount_minor"),
        ({"amount_minor": 1.5, "corridor": "HK-CN", "at_s": 0.0}, "amount_minor"),
        ({"amount_minor": 100, "corridor": "HKCN", "at_s": 0.0}, "corridor"),
        ({"amount_minor": 100, "corridor": "HK-HK", "at_s": 0.0}, "corridor"),
        ({"amount_minor": 100, "corridor": "HK-US", "at_s": 0.0}, "corridor"),
        ({"amount_minor": 100, "corridor": "HK-CN", "at_s": 0.0, "chain": "solana"}, "chain"),
    ],
)
def test_bad_transfers_name_the_field(svb, kwargs, field) -> None:
    world = StablecoinWorld.from_spec(svb, seed=1)
    with pytest.raises(ValueError, match=f"^{field}"):
        world.submit_transfer(**kwargs)


def test_transfers_cannot_go_back_in_time(svb) -> None:
    world = StablecoinWorld.from_spec(svb, seed=1)
    world.advance(7200.0)
    with pytest.raises(ValueError, match="^at_s"):
        world.submit_transfer(100, "HK-CN", 3600.0)
