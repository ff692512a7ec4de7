import grpc
import pytest

from corridor import invariants
from corridor.errors import error_details
from corridor.server import channel
from corridor.v1 import bridge_pb2, bridge_pb2_grpc, node_pb2, node_pb2_grpc
from tests.bridge.corridor_fixture import start_corridor

import bridge.invariants  # noqa: F401 - registers the cross-ledger checks


@pytest.fixture
async def corridor(make_db):
    c = await start_corridor(make_db)
    yield c
    await c.close()


def pay(c, key, amount=100_000, src=0, dst=0, **kw):
    return bridge_pb2.CrossBorderPayRequest(
        idempotency_key=key,
        payer_jurisdiction="CN",
        payer_wallet_id=c.wallets["CN"][src],
        payee_jurisdiction="HK",
        payee_wallet_id=c.wallets["HK"][dst],
        amount_minor=amount,
        currency="CNY",
        **kw,
    )


async def test_cross_border_payment_settles_on_every_ledger(corridor):
    c = corridor
    async with channel(c.bridge_target) as ch, channel(c.target("HK")) as hk:
        br = bridge_pb2_grpc.BridgeStub(ch)
        r = await br.CrossBorderPay(pay(c, "k1", 1_000_000))
        assert r.status == bridge_pb2.PAYMENT_STATUS_SETTLED
        assert r.payee_currency == "HKD" and r.payee_amount_minor > 0
        assert {leg.ledger for leg in r.legs} == {"CN", "BRIDGE", "HK"}
        assert r.fee_minor == 1_000_000 * 5 // 10_000
        assert 0 < r.total_cost_bps < 50
        w = await node_pb2_grpc.WalletsStub(hk).GetWallet(
            node_pb2.GetWalletRequest(wallet_id=c.wallets["HK"][0])
        )
        assert w.balance.posted_minor == 10**7 + r.payee_amount_minor
        again = await br.CrossBorderPay(pay(c, "k1", 1_000_000))
        assert again.replayed and again.payment_id == r.payment_id
        got = await br.GetPayment(bridge_pb2.GetPaymentRequest(payment_id=r.payment_id))
        assert (
            got.status == bridge_pb2.PAYMENT_STATUS_SETTLED
            and got.settled_at_us >= got.created_at_us
        )
    checks = await invariants.check_all(c.urls)
    assert all(x.ok for x in checks), [x for x in checks if not x.ok]


async def test_refusals_change_nothing(corridor):
    c = corridor
    async with channel(c.bridge_target) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await br.CrossBorderPay(pay(c, "big", 10**9))  # more than the wallet holds
        d = error_details(e.value)
        assert d.code == grpc.StatusCode.FAILED_PRECONDITION and d.reason == "INSUFFICIENT_FUNDS"
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await br.CrossBorderPay(pay(c, "bad", 100, quote_id="nope"))
        assert error_details(e.value).reason == "QUOTE_UNKNOWN"
        bad = pay(c, "pair", 100)
        bad.payee_jurisdiction = "CN"
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await br.CrossBorderPay(bad)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_details(e.value).field == "payee_jurisdiction"
    checks = await invariants.check_all(c.urls)
    assert all(x.ok for x in checks), [x for x in checks if not x.ok]
