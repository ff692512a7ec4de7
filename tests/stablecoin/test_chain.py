"""Chains: capacity per block, the EIP-1559 fee rule, a fee-ordered mempool, finality, Tron energy."""

from __future__ import annotations

import itertools

import pytest

from services.stablecoin.chain import Chain
from services.stablecoin.spec import ChainSpec


def chain(preset: str, **over) -> Chain:
    return Chain(preset, ChainSpec.model_validate({"preset": preset, **over}))


def test_quiet_markets_cost_cents_and_finality_follows_the_design() -> None:
    eth, tron = chain("ethereum"), chain("tron")
    assert eth.base_fee == pytest.approx(0.5)
    assert 1 <= eth.transfer_fee_minor_now("standard") < 100  # cents
    assert 180 <= tron.transfer_fee_minor_now("standard") <= 210  # ~$1.9 at 100 sun
    assert 390 <= chain("tron", base_fee_ref=210.0).transfer_fee_minor_now("standard") <= 420
    eth_inc = eth.include(0.0, "standard")
    assert eth_inc.finality_at_s - eth_inc.included_at_s == pytest.approx(64 * 12.0)  # ~12.8 min
    tron_inc = tron.include(0.0, "standard")
    assert tron_inc.finality_at_s - tron_inc.included_at_s == pytest.approx(19 * 3.0)  # ~1 min


def test_base_fee_never_moves_more_than_an_eighth_per_block() -> None:
    for load in (0.05, 0.5, 3.0, 50.0):
        c = chain("ethereum")
        c.set_stress_gas(load * c.target - c.spec.background_load * c.target)
        fees = [c.base_fee_after(j) for j in range(400)]
        for a, b in itertools.pairwise(fees):
            assert 0.875 - 1e-9 <= b / a <= 1.125 + 1e-9


def test_the_closed_form_tracks_block_by_block_eip1559() -> None:
    c = chain("ethereum")
    c.set_stress_gas(1.5 * c.target)  # demand 2.5x the target at the reference fee
    b = c.base_fee
    for j in range(1, 200):
        used = min(c.demand(b), c.limit)
        b *= 1.0 + (used - c.target) / (8.0 * c.target)  # the EIP-1559 rule itself
        assert c.base_fee_after(j) == pytest.approx(b, rel=0.12)
    assert c.base_fee_after(400) == pytest.approx(0.5 * 2.5, rel=1e-3)  # clears at the target


def test_congestion_prices_transfers_above_twenty_dollars() -> None:
    c = chain("ethereum")  # $3,500 ETH: ~90 gwei makes a 65k-gas transfer cost $20
    c.set_stress_gas(250 * c.target)
    c.advance(3600.0)
    assert c.base_fee > 90
    assert c.transfer_fee_minor_now("standard") > 2_000
    assert c.base_fee_max >= c.base_fee


def test_full_blocks_serve_high_tips_first() -> None:
    c = chain("ethereum")
    c.set_stress_gas(7 * c.target)  # demand 8x target: blocks full until the fee catches up
    fast = c.include(0.0, "fast")
    low = c.include(0.0, "low")
    standard = c.include(0.0, "standard")
    assert fast.block_number == 1  # the top tier (20 % of demand) fits in the 2x-target limit
    assert low.block_number > fast.block_number
    assert standard.block_number > fast.block_number
    assert low.base_fee > fast.base_fee  # waited while the base fee climbed
    assert low.fee_minor > 0 and low.wait_blocks >= 10


def test_a_block_never_holds_more_than_its_limit() -> None:
    c = chain("ethereum", gas_limit_per_block=650_000, gas_target_per_block=325_000,
              background_load=0.5)  # fmt: skip
    blocks: dict[int, int] = {}
    for _ in range(60):
        inc = c.include(0.0, "fast")
        blocks[inc.block_number] = blocks.get(inc.block_number, 0) + c.spec.gas_per_transfer
    for number, gas in blocks.items():
        background = min(c.demand(c.base_fee_after(number - 1)), c.limit)
        assert gas + background <= c.limit + 1e-6, number
    assert len(blocks) > 1  # the queue spilled over into later blocks


def test_tron_queues_first_in_first_out_when_demand_exceeds_capacity() -> None:
    c = chain("tron", gas_limit_per_block=650_000, gas_target_per_block=650_000)
    c.set_stress_gas(0.5 * c.target)  # demand 1.5x capacity: a backlog builds
    c.advance(30.0)  # 10 blocks
    assert c.backlog_gas == pytest.approx(0.5 * 650_000 * 10)
    first = c.include(30.0, "standard")
    second = c.include(30.0, "standard")
    assert second.block_number >= first.block_number > c.block_at(30.0) + 1
    assert first.fee_minor == second.fee_minor  # no fee auction on Tron
    assert c.pending_gas() > 0


def test_including_before_the_chain_clock_is_an_error() -> None:
    c = chain("tron")
    c.advance(100.0)
    with pytest.raises(ValueError, match="before"):
        c.include(50.0, "standard")
