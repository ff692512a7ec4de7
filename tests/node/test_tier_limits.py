"""Wallet tiers on the CN node: every limit is refused with FAILED_PRECONDITION, a machine-readable
reason and the field, and a refusal changes nothing (balances via GetWallet, rows via SQL).

The limits come from the node's own GetPolicy (policy.yaml), so the tests follow the policy data;
each limit is also shown to be exact (the amount at the limit is accepted).
"""

from __future__ import annotations

import grpc
import pytest

from corridor.v1 import ledger_pb2, node_pb2
from services.centralbank.policy import load_policy
from tests.node.conftest import CnNode, refusal

# 2024-03-01 12:00 in Beijing (04:00 UTC): far from the local midnight, so the day is stable.
CN_NOON_US = 1_709_265_600_000_000
DAY_US = 86_400_000_000
TIERS = (2, 3, 4)


async def tier_policy(cn: CnNode, tier: int) -> node_pb2.TierPolicy:
    policy = await cn.cb.GetPolicy(node_pb2.GetPolicyRequest())
    assert (policy.jurisdiction, policy.currency) == ("CN", "CNY")
    (t,) = [t for t in policy.tiers if t.tier == tier]
    yaml_tier = load_policy("CN").tiers[tier]
    assert (t.balance_max_minor, t.per_payment_max_minor, t.daily_max_minor) == (
        yaml_tier.balance_max_minor,
        yaml_tier.per_payment_max_minor,
        yaml_tier.daily_max_minor,
    )
    # A tier with a zero limit would make these tests vacuous.
    assert 0 < t.per_payment_max_minor < t.daily_max_minor < t.balance_max_minor
    return t


async def snapshot(cn: CnNode, *wallets: str) -> tuple:
    views = [await cn.wl.GetWallet(node_pb2.GetWalletRequest(wallet_id=w)) for w in wallets]
    return tuple((v.balance.posted_minor, v.balance.available_minor) for v in views), (
        await cn.counts()
    )


def assert_precondition(d, reason: str, field: str) -> None:  # type: ignore[no-untyped-def]
    assert (d.code, d.reason, d.field) == (grpc.StatusCode.FAILED_PRECONDITION, reason, field)


@pytest.mark.parametrize("tier", TIERS)
async def test_per_payment_limit(cn: CnNode, tier: int) -> None:
    t = await tier_policy(cn, tier)
    await cn.setup_operator()
    payer, payee = await cn.open_wallet(tier), await cn.open_wallet(1)
    await cn.load(payer, t.per_payment_max_minor + 1)
    before = await snapshot(cn, payer, payee)
    d = await refusal(cn.pay(payer, payee, t.per_payment_max_minor + 1))
    assert_precondition(d, "TIER_PER_PAYMENT_LIMIT", "amount_minor")
    assert await snapshot(cn, payer, payee) == before
    await cn.pay(payer, payee, t.per_payment_max_minor)
    assert await cn.posted(payer) == 1
    assert await cn.posted(payee) == t.per_payment_max_minor


@pytest.mark.parametrize("tier", TIERS)
async def test_daily_limit_over_several_payments(cn: CnNode, tier: int) -> None:
    t = await tier_policy(cn, tier)
    await cn.setup_operator()
    payer, payee = await cn.open_wallet(tier), await cn.open_wallet(1)
    await cn.load(payer, t.daily_max_minor + t.per_payment_max_minor)
    used = 0
    while used + t.per_payment_max_minor <= t.daily_max_minor:
        await cn.pay(payer, payee, t.per_payment_max_minor, CN_NOON_US)
        used += t.per_payment_max_minor
    assert used >= 2 * t.per_payment_max_minor  # the cap is crossed by several payments
    before = await snapshot(cn, payer, payee)
    d = await refusal(cn.pay(payer, payee, t.per_payment_max_minor, CN_NOON_US))
    assert_precondition(d, "TIER_DAILY_LIMIT", "amount_minor")
    assert await snapshot(cn, payer, payee) == before
    if t.daily_max_minor > used:  # the rest of the day's allowance is still there, to the unit
        await cn.pay(payer, payee, t.daily_max_minor - used, CN_NOON_US)
    d = await refusal(cn.pay(payer, payee, 1, CN_NOON_US + 3_600_000_000))
    assert_precondition(d, "TIER_DAILY_LIMIT", "amount_minor")
    assert await cn.posted(payee) == t.daily_max_minor
    # The next business day the allowance is back.
    await cn.pay(payer, payee, t.per_payment_max_minor, CN_NOON_US + DAY_US)
    assert await cn.posted(payee) == t.daily_max_minor + t.per_payment_max_minor


@pytest.mark.parametrize("tier", TIERS)
async def test_balance_cap_of_the_payee(cn: CnNode, tier: int) -> None:
    t = await tier_policy(cn, tier)
    await cn.setup_operator()
    payer, payee = await cn.open_wallet(1), await cn.open_wallet(tier)
    await cn.load(payer, 1_000)
    await cn.load(payee, t.balance_max_minor - 10)
    before = await snapshot(cn, payer, payee)
    d = await refusal(cn.pay(payer, payee, 11))
    assert_precondition(d, "TIER_BALANCE_CAP", "to_wallet_id")
    assert await snapshot(cn, payer, payee) == before
    # A load past the cap is refused the same way, naming the LoadWallet field.
    d = await refusal(cn.load(payee, 11))
    assert_precondition(d, "TIER_BALANCE_CAP", "wallet_id")
    assert await snapshot(cn, payer, payee) == before
    await cn.pay(payer, payee, 10)
    assert await cn.posted(payee) == t.balance_max_minor


async def test_pay_batch_refuses_per_payment_and_applies_the_rest(cn: CnNode) -> None:
    t = await tier_policy(cn, 4)
    await cn.setup_operator()
    payer, rich, capped = await cn.open_wallet(4), await cn.open_wallet(1), await cn.open_wallet(4)
    await cn.load(payer, t.per_payment_max_minor * 2)
    await cn.load(rich, t.balance_max_minor * 2)
    await cn.load(capped, t.balance_max_minor)
    before = await cn.counts()
    payments = [
        cn.pay_request(payer, rich, 100, CN_NOON_US),
        cn.pay_request(payer, rich, t.per_payment_max_minor + 1, CN_NOON_US),
        cn.pay_request(rich, capped, 1, CN_NOON_US),
        cn.pay_request(payer, rich, 200, CN_NOON_US),
    ]
    resp = await cn.wl.PayBatch(node_pb2.PayBatchRequest(payments=payments))
    got = [(r.index, r.code, r.reason) for r in resp.results]
    assert got == [
        (0, ledger_pb2.OK, ""),
        (1, ledger_pb2.EXCEEDS_DEBIT_MAX_PER_TRANSFER, "TIER_PER_PAYMENT_LIMIT"),
        (2, ledger_pb2.EXCEEDS_BALANCE_MAX, "TIER_BALANCE_CAP"),
        (3, ledger_pb2.OK, ""),
    ]
    assert resp.results[3].movement.debit_balance.posted_minor == t.per_payment_max_minor * 2 - 300
    assert (await cn.counts())["transfers"] == before["transfers"] + 2
    assert await cn.posted(capped) == t.balance_max_minor


async def test_freeze_full_receive_only_and_unfreeze(cn: CnNode) -> None:
    await cn.setup_operator()
    a, b = await cn.open_wallet(1), await cn.open_wallet(1)
    await cn.load(a, 10_000)
    await cn.load(b, 10_000)

    async def freeze(wallet: str, mode: int) -> None:
        v = await cn.wl.FreezeWallet(
            node_pb2.FreezeWalletRequest(wallet_id=wallet, freeze=mode, reason="case-1")
        )
        assert v.freeze == mode

    audit_before = (await cn.counts())["node_audit"]
    await freeze(a, ledger_pb2.FREEZE_FULL)
    before = await snapshot(cn, a, b)
    assert_precondition(await refusal(cn.pay(a, b, 1)), "WALLET_FROZEN", "from_wallet_id")
    assert_precondition(await refusal(cn.pay(b, a, 1)), "WALLET_FROZEN", "to_wallet_id")
    assert await snapshot(cn, a, b) == before

    await freeze(a, ledger_pb2.FREEZE_RECEIVE_ONLY)
    assert_precondition(await refusal(cn.pay(a, b, 1)), "WALLET_FROZEN", "from_wallet_id")
    await cn.pay(b, a, 5)
    assert await cn.posted(a) == 10_005

    await freeze(a, ledger_pb2.FREEZE_NONE)
    await cn.pay(a, b, 7)
    assert (await cn.posted(a), await cn.posted(b)) == (9_998, 9_998 + 4)
    # Every freeze decision is in the node's audit log.
    assert (await cn.counts())["node_audit"] == audit_before + 3


async def test_load_into_a_frozen_wallet_names_the_wallet_field(cn: CnNode) -> None:
    await cn.setup_operator()
    a = await cn.open_wallet(1)
    await cn.wl.FreezeWallet(
        node_pb2.FreezeWalletRequest(wallet_id=a, freeze=ledger_pb2.FREEZE_FULL)
    )
    before = await cn.counts()
    assert_precondition(await refusal(cn.load(a, 5)), "WALLET_FROZEN", "wallet_id")
    assert await cn.counts() == before
