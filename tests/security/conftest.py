"""Security fixtures: a development PKI for the session, a CN node served with mTLS + credentials,
and the credentials of the actors that call it."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from corridor.config import ServiceSettings
from corridor.security.credentials import metadata_for
from corridor.server import RunningServer, channel
from corridor.v1 import ledger_pb2_grpc, node_pb2, node_pb2_grpc
from services.centralbank.node import CentralBankNode
from services.centralbank.server import create_server
from tests.ledger.audit import row_counts

MONEY_TABLES = ("transfers", "accounts", "wallets", "operators", "kyc_identities", "node_audit")


@pytest.fixture
def secure(monkeypatch: pytest.MonkeyPatch, security_dir: Path) -> Path:
    """This test runs with mTLS + credentials (servers and channels read the environment)."""
    monkeypatch.setenv("CORRIDOR_SECURE", "1")
    monkeypatch.setenv("CORRIDOR_SECURITY_DIR", str(security_dir))
    monkeypatch.delenv("CORRIDOR_INSECURE", raising=False)
    monkeypatch.delenv("CORRIDOR_CREDENTIAL", raising=False)
    monkeypatch.delenv("CORRIDOR_IDENTITY", raising=False)
    monkeypatch.delenv("CORRIDOR_SERVICE_IDENTITY", raising=False)
    return security_dir


def central_bank(j: str = "CN") -> tuple[tuple[str, str], ...]:
    return metadata_for("central_bank", f"cb-{j.lower()}", j)


def operator(name: str = "bank-a", j: str = "CN") -> tuple[tuple[str, str], ...]:
    return metadata_for("operator", name, j)


def holder(wallets: list[str], j: str = "CN", name: str = "h1") -> tuple[tuple[str, str], ...]:
    return metadata_for("holder", name, j, wallets)


def admin() -> tuple[tuple[str, str], ...]:
    return metadata_for("admin", "tester")


@dataclass
class SecureNode:
    running: RunningServer
    node: CentralBankNode
    channel: grpc.aio.Channel
    keys: itertools.count = field(default_factory=itertools.count)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.running.port}"

    @property
    def cb(self) -> node_pb2_grpc.CentralBankStub:
        return node_pb2_grpc.CentralBankStub(self.channel)

    @property
    def wl(self) -> node_pb2_grpc.WalletsStub:
        return node_pb2_grpc.WalletsStub(self.channel)

    @property
    def ledger(self) -> ledger_pb2_grpc.LedgerStub:
        return ledger_pb2_grpc.LedgerStub(self.channel)

    def key(self, what: str) -> str:
        return f"{what}-{next(self.keys)}"

    async def counts(self) -> dict[str, int]:
        async with self.node.engine.pool.acquire() as conn:
            return await row_counts(conn, MONEY_TABLES)

    async def audit_actions(self) -> list[str]:
        async with self.node.engine.pool.acquire() as conn:
            return [
                r["action"]
                for r in await conn.fetch("SELECT action FROM security_audit ORDER BY n")
            ]

    async def setup(self, operators: tuple[str, ...] = ("bank-a", "bank-b")) -> None:
        for op in operators:
            await self.cb.RegisterOperator(
                node_pb2.RegisterOperatorRequest(operator_id=op), metadata=central_bank()
            )
            await self.cb.Issue(
                node_pb2.IssueRequest(idempotency_key=self.key("issue"), operator_id=op,
                                      amount_minor=10**9, currency="CNY"),
                metadata=central_bank(),
            )  # fmt: skip

    async def wallet(self, op: str = "bank-a", load_minor: int = 100_000) -> str:
        w = await self.wl.OpenWallet(
            node_pb2.OpenWalletRequest(idempotency_key=self.key("w"), operator_id=op, kind=1,
                                       tier=1, holder_name="Synthetic Holder"),
            metadata=operator(op),
        )  # fmt: skip
        if load_minor:
            await self.wl.LoadWallet(
                node_pb2.LoadWalletRequest(idempotency_key=self.key("load"), wallet_id=w.wallet_id,
                                           amount_minor=load_minor, currency="CNY"),
                metadata=operator(op),
            )  # fmt: skip
        return w.wallet_id

    async def close(self) -> None:
        await self.channel.close()
        await self.running.stop(0)
        self.node.expiry_task.cancel()  # type: ignore[attr-defined]
        await self.node.close()


@pytest.fixture
async def secure_cn(secure: Path, fresh_db: str) -> AsyncIterator[SecureNode]:
    running, node = await create_server(ServiceSettings("cn", database_url=fresh_db), "CN")
    n = SecureNode(running, node, channel(f"127.0.0.1:{running.port}"))
    yield n
    await n.close()


async def status_of(call) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    """Await a call that must fail: (status code, details)."""
    try:
        await call
    except grpc.aio.AioRpcError as e:
        assert "Traceback" not in (e.details() or "")
        return e.code(), e.details() or ""
    raise AssertionError("the call was accepted")
