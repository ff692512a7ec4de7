"""Concurrency on the bridge's hot accounts, idempotent retries, and refusals that write nothing.

A liquidity provider's inventory is the hot account of cross-border payments: every CN->HK payment
quoted by lp-hk-1 debits `bridge.HKD.lp.lp-hk-1`. Here lp-hk-1 is the only HKD liquidity on the
platform and holds enough for a fraction of the payments sent concurrently, so inventory is the
bottleneck: no overdraft, no deadlock, conservation, and every refused payment says
LP_LIQUIDITY_INSUFFICIENT and moved nothing.
"""

from __future__ import annotations

import asyncio
import itertools

import asyncpg
import grpc
import pytest

import bridge.invariants  # noqa: F401 - registers the cross-ledger checks
from bridge.platform import payment_id_for
from corridor import invariants
from corridor.errors import error_details
from corridor.server import channel
from corridor.v1 import bridge_pb2, bridge_pb2_grpc
from tests.bridge.corridor_fixture import LPS, start_corridor
from tests.bridge.process_corridor import read_truth

SETTLED, REJECTED = 4, 5
HOT = "lp-hk-1"
HOT_ACCOUNT = f"bridge.HKD.lp.{HOT}"
INVENTORY_MINOR = 2_000_000  # HKD 20,000: room for ~90 payments of CNY 200
WALLET_FUNDS_MINOR = 2 * 10**6


@pytest.fixture
async def corridor(make_db):
    c = await start_corridor(make_db, lp_funding_minor=INVENTORY_MINOR, wallets_per_node=8,
                             wallet_funding_minor=WALLET_FUNDS_MINOR)  # fmt: skip
    yield c
    await c.close()


@pytest.fixture
async def hot_lp(corridor):
    """Withdraw every other LP's HKD: lp-hk-1's inventory is the only HKD on the platform."""
    c = corridor
    async with channel(c.bridge_target) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        for lp in LPS:
            if lp != HOT:
                await br.WithdrawLiquidity(bridge_pb2.FundLiquidityRequest(
                    idempotency_key=f"out-{lp}", liquidity_provider=lp, jurisdiction="HK",
                    amount_minor=INVENTORY_MINOR, currency="HKD"))  # fmt: skip
    return c


def pay(c, key: str, amount: int = 20_000, src: int = 0, dst: int = 0, **kw):  # type: ignore[no-untyped-def]
    return bridge_pb2.CrossBorderPayRequest(
        idempotency_key=key, payer_jurisdiction="CN",
        payer_wallet_id=c.wallets["CN"][src % len(c.wallets["CN"])], payee_jurisdiction="HK",
        payee_wallet_id=c.wallets["HK"][dst % len(c.wallets["HK"])], amount_minor=amount,
        currency="CNY", **kw,
    )  # fmt: skip


async def accounts(url: str) -> dict[str, tuple[int, int, int, int]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT id, debits_posted, credits_posted, debits_pending, credits_pending FROM accounts"
        )
    finally:
        await conn.close()
    return {r["id"]: tuple(r.values())[1:] for r in rows}  # type: ignore[misc]


async def snapshot(urls: dict[str, str]) -> dict[str, object]:
    """Every balance on every ledger, and the coordinator's log size."""
    snap: dict[str, object] = {k: await accounts(u) for k, u in urls.items()}
    snap["log"] = len(await read_truth(urls))
    return snap


async def all_ok(urls: dict[str, str]) -> None:
    bad = [x for x in await invariants.check_all(urls) if not x.ok]
    assert not bad, bad


async def market_inventory(br, lp: str, currency: str) -> int:  # type: ignore[no-untyped-def]
    m = await br.GetFxMarket(bridge_pb2.GetFxMarketRequest())
    (pos,) = [p for p in m.positions if p.liquidity_provider == lp and p.currency == currency]
    return pos.available_minor


# --------------------------------------------------------------------- the hot account
async def test_concurrent_batches_drain_one_lp_without_overdraft(hot_lp):
    c = hot_lp
    keys = itertools.count()
    batches = [
        [pay(c, f"hot-{next(keys)}", src=b + i, dst=i) for i in range(20)] for b in range(16)
    ]
    before = await accounts(c.urls["cn"])
    async with channel(c.bridge_target) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        calls = [
            br.CrossBorderPayBatch(bridge_pb2.CrossBorderPayBatchRequest(payments=b))
            for b in batches
        ]
        responses = await asyncio.wait_for(asyncio.gather(*calls), timeout=60)  # no deadlock
        desk_view = await market_inventory(br, HOT, "HKD")
    receipts = [r for resp in responses for r in resp.receipts]
    assert len(receipts) == 320
    settled = [r for r in receipts if r.status == SETTLED]
    rejected = [r for r in receipts if r.status == REJECTED]
    assert len(settled) + len(rejected) == len(receipts)
    assert settled and rejected, "inventory must be the bottleneck"
    assert {r.liquidity_provider for r in settled} == {HOT}
    assert {r.reason for r in rejected} == {"LP_LIQUIDITY_INSUFFICIENT"}
    # The LP paid out exactly the settled payouts and never went below zero.
    paid_out = sum(r.payee_amount_minor for r in settled)
    assert paid_out <= INVENTORY_MINOR
    dpo, cpo, dp, cp = (await accounts(c.urls["bridge"]))[HOT_ACCOUNT]
    assert (cpo - dpo, dp, cp) == (INVENTORY_MINOR - paid_out, 0, 0)
    assert desk_view == INVENTORY_MINOR - paid_out  # the desk's book agrees with the ledger
    # Rejected payments moved nothing: payers paid exactly their settled payments.
    truth = await read_truth(c.urls)
    for r in rejected:
        t = truth.get(r.payment_id)
        assert t is None or (t.state == REJECTED and t.none_posted), t
    after = await accounts(c.urls["cn"])
    spent = {w: 0 for w in c.wallets["CN"]}
    by_id = {payment_id_for(p.idempotency_key): p for b in batches for p in b}
    for r in settled:
        spent[by_id[r.payment_id].payer_wallet_id] += r.amount_minor
    for w, amount in spent.items():
        assert (after[w][1] - after[w][0]) == (before[w][1] - before[w][0]) - amount
    await all_ok(c.urls)


async def test_quotes_beyond_inventory_are_refused_by_the_ledger(hot_lp):
    """Quotes do not reserve liquidity: many executable quotes for most of the inventory each.
    Paid concurrently, the bridge ledger's floor on the LP account is the last line: at most one
    of them fits, the rest are refused LP_LIQUIDITY_INSUFFICIENT, legs voided everywhere."""
    c = hot_lp
    amount = 1_200_000  # CNY 12,000 -> ~HKD 13,150: 65% of the inventory
    async with channel(c.bridge_target) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        quotes = [
            await br.RequestQuote(
                bridge_pb2.QuoteRequest(from_currency="CNY", to_currency="HKD", amount_minor=amount)
            )
            for _ in range(6)
        ]
        assert {q.liquidity_provider for q in quotes} == {HOT}
        calls = [
            br.CrossBorderPayBatch(
                bridge_pb2.CrossBorderPayBatchRequest(
                    payments=[pay(c, f"q-{i}", amount, src=i, dst=i, quote_id=q.quote_id)]
                )
            )
            for i, q in enumerate(quotes)
        ]
        responses = await asyncio.wait_for(asyncio.gather(*calls), timeout=60)
        desk_view = await market_inventory(br, HOT, "HKD")
    receipts = [resp.receipts[0] for resp in responses]
    settled = [r for r in receipts if r.status == SETTLED]
    assert len(settled) == 1
    assert {r.reason for r in receipts if r.status == REJECTED} == {"LP_LIQUIDITY_INSUFFICIENT"}
    truth = await read_truth(c.urls)
    for r in receipts:
        t = truth[r.payment_id]  # refused by the ledger, so in the log
        assert t.all_posted if r.status == SETTLED else t.none_posted
    dpo, cpo, dp, _ = (await accounts(c.urls["bridge"]))[HOT_ACCOUNT]
    assert cpo - dpo == INVENTORY_MINOR - settled[0].payee_amount_minor >= 0 and dp == 0
    assert desk_view == cpo - dpo
    await all_ok(c.urls)


# --------------------------------------------------------------------- idempotent retries
async def test_same_keys_from_many_tasks_settle_once(corridor):
    c = corridor
    keys = [f"idem-{i}" for i in range(30)]
    before = await snapshot(c.urls)

    def batch(order: list[str]) -> bridge_pb2.CrossBorderPayBatchRequest:
        return bridge_pb2.CrossBorderPayBatchRequest(
            payments=[
                pay(c, k, 10_000 + int(k.split("-")[1]), src=int(k.split("-")[1])) for k in order
            ]
        )

    orders = [keys, keys[::-1], keys[10:] + keys[:10], keys + keys[:5], keys[::2] + keys[1::2]]
    async with channel(c.bridge_target) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        first = await asyncio.wait_for(
            asyncio.gather(*(br.CrossBorderPayBatch(batch(o)) for o in orders)), timeout=60
        )
        again = await br.CrossBorderPayBatch(batch(keys))
    per_key: dict[str, list[bridge_pb2.PaymentReceipt]] = {}
    for order, resp in zip(orders, first, strict=True):
        assert len(resp.receipts) == len(order)
        for k, r in zip(order, resp.receipts, strict=True):
            per_key.setdefault(k, []).append(r)
    for k, rs in per_key.items():
        assert {r.payment_id for r in rs} == {payment_id_for(k)}
        assert {r.status for r in rs} == {SETTLED}
        assert sum(not r.replayed for r in rs) == 1, (k, [r.replayed for r in rs])
    assert all(r.replayed and r.status == SETTLED for r in again.receipts)
    truth = await read_truth(c.urls)
    assert len(truth) == before["log"] + len(keys)  # one payment per key
    after = await accounts(c.urls["cn"])
    for i, w in enumerate(c.wallets["CN"]):
        paid = sum(10_000 + j for j in range(len(keys)) if j % len(c.wallets["CN"]) == i)
        b = before["cn"][w]  # type: ignore[index]
        assert (b[1] - b[0]) - (after[w][1] - after[w][0]) == paid
    await all_ok(c.urls)


# --------------------------------------------------------------------- refusals write nothing
async def test_expired_quote_is_failed_precondition_and_writes_nothing(corridor):
    c = corridor
    c.platform.rules.quote_ttl_s = 0.05
    c.platform.desk.quote_ttl_s = 0.05
    async with channel(c.bridge_target) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        q = await br.RequestQuote(
            bridge_pb2.QuoteRequest(from_currency="CNY", to_currency="HKD", amount_minor=50_000)
        )
        await asyncio.sleep(0.2)
        before = await snapshot(c.urls)
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await br.CrossBorderPay(pay(c, "late", 50_000, quote_id=q.quote_id))
        d = error_details(e.value)
        assert (d.code, d.reason, d.field) == (
            grpc.StatusCode.FAILED_PRECONDITION, "QUOTE_EXPIRED", "quote_id",
        )  # fmt: skip
        resp = await br.CrossBorderPayBatch(bridge_pb2.CrossBorderPayBatchRequest(
            payments=[pay(c, "late-b", 50_000, quote_id=q.quote_id)]))  # fmt: skip
        assert (resp.receipts[0].status, resp.receipts[0].reason) == (REJECTED, "QUOTE_EXPIRED")
        assert resp.receipts[0].field == "payments[0].quote_id"
    assert await snapshot(c.urls) == before


BAD_PAIRS = [  # (what is changed in a valid CN->HK request, the field the error must name)
    ({"payee_jurisdiction": "CN"}, "payee_jurisdiction"),  # same jurisdiction: not cross-border
    ({"payee_jurisdiction": "ZZ"}, "payee_jurisdiction"),  # no such jurisdiction
    ({"currency": "USD"}, "currency"),  # a CN payer pays in CNY
    ({"payee_wallet_id": "cn.w.x"}, "payee_wallet_id"),  # not a wallet of the payee's node
]


async def test_unsupported_pair_is_invalid_argument_and_writes_nothing(corridor):
    c = corridor
    before = await snapshot(c.urls)
    async with channel(c.bridge_target) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        for change, field in BAD_PAIRS:
            req = pay(c, "bad-pair")
            for k, v in change.items():
                setattr(req, k, v)
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await br.CrossBorderPay(req)
            d = error_details(e.value)
            assert (d.code, d.field) == (grpc.StatusCode.INVALID_ARGUMENT, field), change
            resp = await br.CrossBorderPayBatch(
                bridge_pb2.CrossBorderPayBatchRequest(payments=[pay(c, "ok-1"), req])
            )
            assert resp.receipts[1].status == REJECTED, change
            assert resp.receipts[1].field == f"payments[1].{field}"
        for frm, to in (("CNY", "USD"), ("CNY", "CNY"), ("XXX", "HKD")):
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await br.RequestQuote(
                    bridge_pb2.QuoteRequest(from_currency=frm, to_currency=to, amount_minor=100)
                )
            assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert error_details(e.value).reason == "UNSUPPORTED_PAIR"
    # Only the one valid payment (sent with every bad one, settled once) changed anything.
    after = await snapshot(c.urls)
    assert after["log"] == before["log"] + 1
    ok = await read_truth(c.urls)
    assert ok[payment_id_for("ok-1")].state == SETTLED


async def test_not_enough_lp_liquidity_is_a_clear_error(hot_lp):
    c = hot_lp
    before = await snapshot(c.urls)
    async with channel(c.bridge_target) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        too_much = 5_000_000  # CNY 50,000 -> ~HKD 55,000 > the HKD 20,000 on the platform
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await br.RequestQuote(bridge_pb2.QuoteRequest(from_currency="CNY", to_currency="HKD",
                                                          amount_minor=too_much))  # fmt: skip
        d = error_details(e.value)
        assert (d.code, d.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "LP_LIQUIDITY_INSUFFICIENT",
        )
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await br.CrossBorderPay(pay(c, "whale", too_much))
        d = error_details(e.value)
        assert (d.code, d.reason, d.field) == (
            grpc.StatusCode.FAILED_PRECONDITION, "LP_LIQUIDITY_INSUFFICIENT", "amount_minor",
        )  # fmt: skip
        assert "HKD" in d.message
    assert await snapshot(c.urls) == before


# --------------------------------------------------------------------- the AMM pair
async def test_amm_pair_cny_thb_settles_and_reports_slippage(make_db):
    c = await start_corridor(make_db, codes=("CN", "HK", "TH"), wallet_funding_minor=10**9)
    try:
        async with channel(c.bridge_target) as ch:
            br = bridge_pb2_grpc.BridgeStub(ch)
            # Pool depth CNY 1m / THB ~4.58m (the reference mid), funded by lp-cn-1 on both nodes.
            for j, cur, amount in (("CN", "CNY", 100_000_000), ("TH", "THB", 457_746_479)):
                await br.FundLiquidity(bridge_pb2.FundLiquidityRequest(
                    idempotency_key=f"pool-{j}", liquidity_provider="amm:CNY/THB:lp-cn-1",
                    jurisdiction=j, amount_minor=amount, currency=cur))  # fmt: skip
            pool0 = (await br.GetFxMarket(bridge_pb2.GetFxMarketRequest())).pools[0]

            def to_th(key: str, amount: int, **kw):  # type: ignore[no-untyped-def]
                return bridge_pb2.CrossBorderPayRequest(
                    idempotency_key=key, payer_jurisdiction="CN", payer_wallet_id=c.wallets["CN"][0],
                    payee_jurisdiction="TH", payee_wallet_id=c.wallets["TH"][0],
                    amount_minor=amount, currency="CNY", **kw,
                )  # fmt: skip

            small = await br.RequestQuote(bridge_pb2.QuoteRequest(
                from_currency="CNY", to_currency="THB", amount_minor=100_000))  # fmt: skip
            big = await br.RequestQuote(bridge_pb2.QuoteRequest(
                from_currency="CNY", to_currency="THB", amount_minor=10_000_000))  # fmt: skip
            assert small.mode == big.mode == bridge_pb2.FX_MODE_AMM
            assert 0 <= small.slippage_bps < big.slippage_bps  # price impact grows with size
            assert big.slippage_bps > 50  # 10% of the pool's depth moves the price
            r = await br.CrossBorderPay(to_th("amm-1", 10_000_000, quote_id=big.quote_id))
            assert r.status == SETTLED and r.fx_mode == bridge_pb2.FX_MODE_AMM
            assert r.payee_currency == "THB" and r.payee_amount_minor == big.payee_amount_minor
            assert {leg.ledger for leg in r.legs} == {"CN", "BRIDGE", "TH"}
            assert r.total_cost_bps > big.slippage_bps  # the payer bears the price impact
            with pytest.raises(grpc.aio.AioRpcError) as e:
                await br.CrossBorderPay(to_th("amm-2", 10_000_000, max_slippage_bps=10))
            assert error_details(e.value).reason == "SLIPPAGE_EXCEEDED"
            pool1 = (await br.GetFxMarket(bridge_pb2.GetFxMarketRequest())).pools[0]
        # The pool took the CNY in and paid the THB out; its constant product did not shrink.
        assert pool1.reserve_base_minor > pool0.reserve_base_minor
        assert pool1.reserve_quote_minor == pool0.reserve_quote_minor - r.payee_amount_minor
        k0 = pool0.reserve_base_minor * pool0.reserve_quote_minor
        assert pool1.reserve_base_minor * pool1.reserve_quote_minor >= k0
        await all_ok(c.urls)
    finally:
        await c.close()
