import grpc
import pytest

from corridor.config import ServiceSettings
from corridor.errors import error_details
from corridor.server import channel
from corridor.v1 import node_pb2, node_pb2_grpc
from services.centralbank.server import create_server


@pytest.fixture
async def cn_node(fresh_db):
    running, node = await create_server(ServiceSettings("cn", database_url=fresh_db), "CN")
    yield running, node
    await running.stop(0)
    node.expiry_task.cancel()
    await node.close()


async def test_issue_open_load_pay(cn_node):
    running, node = cn_node
    async with channel(f"127.0.0.1:{running.port}") as ch:
        cb = node_pb2_grpc.CentralBankStub(ch)
        wl = node_pb2_grpc.WalletsStub(ch)
        await cb.RegisterOperator(node_pb2.RegisterOperatorRequest(operator_id="icbc"))
        await cb.Issue(
            node_pb2.IssueRequest(
                idempotency_key="i1", operator_id="icbc", amount_minor=10**9, currency="CNY"
            )
        )
        a = await wl.OpenWallet(
            node_pb2.OpenWalletRequest(
                idempotency_key="a", operator_id="icbc", kind=1, tier=4, holder_name="A"
            )
        )
        b = await wl.OpenWallet(
            node_pb2.OpenWalletRequest(
                idempotency_key="b", operator_id="icbc", kind=1, tier=2, holder_name="B"
            )
        )
        await wl.LoadWallet(
            node_pb2.LoadWalletRequest(
                idempotency_key="l1", wallet_id=a.wallet_id, amount_minor=900_000, currency="CNY"
            )
        )
        r = await wl.Pay(
            node_pb2.PayRequest(
                idempotency_key="p1",
                from_wallet_id=a.wallet_id,
                to_wallet_id=b.wallet_id,
                amount_minor=150_000,
                currency="CNY",
            )
        )
        assert r.debit_balance.posted_minor == 750_000
        r2 = await wl.Pay(
            node_pb2.PayRequest(
                idempotency_key="p1",
                from_wallet_id=a.wallet_id,
                to_wallet_id=b.wallet_id,
                amount_minor=150_000,
                currency="CNY",
            )
        )
        assert r2.replayed and r2.debit_balance.posted_minor == 750_000
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await wl.Pay(
                node_pb2.PayRequest(
                    idempotency_key="p2",
                    from_wallet_id=a.wallet_id,
                    to_wallet_id=b.wallet_id,
                    amount_minor=200_001,
                    currency="CNY",
                )
            )
        d = error_details(e.value)
        assert (
            d.code == grpc.StatusCode.FAILED_PRECONDITION and d.reason == "TIER_PER_PAYMENT_LIMIT"
        )
        assert d.field == "amount_minor"
