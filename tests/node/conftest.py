"""A CN central-bank node under test: real Postgres, real gRPC on port 0, and a small client."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest

from corridor.config import ServiceSettings
from corridor.errors import ErrorDetails, error_details
from corridor.server import RunningServer, channel
from corridor.v1 import ledger_pb2_grpc, node_pb2, node_pb2_grpc
from services.centralbank.node import CentralBankNode
from services.centralbank.server import create_server
from tests.ledger.audit import row_counts

NODE_TABLES = ("transfers", "accounts", "wallets", "operators", "kyc_identities", "node_audit")
OPERATOR = "icbc"


@dataclass
class CnNode:
    running: RunningServer
    node: CentralBankNode
    dsn: str
    channel: grpc.aio.Channel
    cb: node_pb2_grpc.CentralBankStub = field(init=False)
    wl: node_pb2_grpc.WalletsStub = field(init=False)
    ledger: ledger_pb2_grpc.LedgerStub = field(init=False)
    keys: itertools.count = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.cb = node_pb2_grpc.CentralBankStub(self.channel)
        self.wl = node_pb2_grpc.WalletsStub(self.channel)
        self.ledger = ledger_pb2_grpc.LedgerStub(self.channel)

    @classmethod
    async def start(cls, dsn: str) -> CnNode:
        running, node = await create_server(ServiceSettings("cn", database_url=dsn), "CN")
        return cls(running, node, dsn, channel(f"127.0.0.1:{running.port}"))

    async def close(self) -> None:
        await self.channel.close()
        await self.running.stop(0)
        self.node.expiry_task.cancel()  # type: ignore[attr-defined]
        await self.node.close()

    def key(self, what: str) -> str:
        return f"{what}-{next(self.keys)}"

    async def counts(self) -> dict[str, int]:
        async with self.node.engine.pool.acquire() as conn:
            return await row_counts(conn, NODE_TABLES)

    async def setup_operator(self, operator_id: str = OPERATOR, issue_minor: int = 10**12) -> None:
        await self.cb.RegisterOperator(node_pb2.RegisterOperatorRequest(operator_id=operator_id))
        await self.cb.Issue(
            node_pb2.IssueRequest(
                idempotency_key=self.key("issue"), operator_id=operator_id,
                amount_minor=issue_minor, currency="CNY",
            )
        )  # fmt: skip

    async def open_wallet(self, tier: int = 1, operator_id: str = OPERATOR) -> str:
        w = await self.wl.OpenWallet(
            node_pb2.OpenWalletRequest(
                idempotency_key=self.key("w"), operator_id=operator_id, kind=1, tier=tier,
                holder_name="Holder",
            )
        )  # fmt: skip
        assert w.tier == tier
        return w.wallet_id

    async def load(self, wallet_id: str, amount_minor: int) -> node_pb2.MovementResponse:
        return await self.wl.LoadWallet(
            node_pb2.LoadWalletRequest(
                idempotency_key=self.key("load"), wallet_id=wallet_id,
                amount_minor=amount_minor, currency="CNY",
            )
        )  # fmt: skip

    def pay_request(
        self, frm: str, to: str, amount_minor: int, business_at_us: int = 0, key: str = ""
    ) -> node_pb2.PayRequest:
        return node_pb2.PayRequest(
            idempotency_key=key or self.key("pay"), from_wallet_id=frm, to_wallet_id=to,
            amount_minor=amount_minor, currency="CNY", business_at_us=business_at_us,
        )  # fmt: skip

    async def pay(self, frm: str, to: str, amount_minor: int, business_at_us: int = 0) -> None:
        await self.wl.Pay(self.pay_request(frm, to, amount_minor, business_at_us))

    async def posted(self, wallet_id: str) -> int:
        w = await self.wl.GetWallet(node_pb2.GetWalletRequest(wallet_id=wallet_id))
        return w.balance.posted_minor


async def refusal(call) -> ErrorDetails:  # type: ignore[no-untyped-def]
    """Await a call that must fail; its decoded rich error."""
    try:
        await call
    except grpc.aio.AioRpcError as e:
        d = error_details(e)
        assert "Traceback" not in d.message and 'File "' not in d.message, d.message
        return d
    raise AssertionError("the call was accepted")


@pytest.fixture
async def cn(fresh_db: str) -> AsyncIterator[CnNode]:
    node = await CnNode.start(fresh_db)
    yield node
    await node.close()
