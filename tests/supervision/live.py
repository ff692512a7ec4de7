"""Helpers for the live supervision tests: a corridor (CN, HK, bridge) plus the supervision
service, all in-process over real gRPC and real PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import asyncpg

from corridor.config import ServiceSettings
from corridor.server import channel
from corridor.v1 import bridge_pb2, node_pb2, node_pb2_grpc, supervision_pb2_grpc
from services.centralbank.server import create_server as create_node
from services.supervision.detectors import DetectorPolicy
from services.supervision.server import SupervisionSettings, create_server
from tests.bridge.corridor_fixture import MiniCorridor

# Live business time is the wall clock; a short assembly window keeps the tests quick.
TEST_SETTINGS = SupervisionSettings(
    detectors=replace(DetectorPolicy(), leg_assembly_s=1.0),
    startup_grace_s=0.5,
    quiet_s=0.3,
    tick_s=0.1,
    feed_batch_size=500,
)


def as_caller(who: str) -> tuple[tuple[str, str], ...]:
    return (("x-corridor-caller", who),)


@dataclass
class LiveSupervision:
    running: Any
    service: Any
    url: str

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.running.port}"

    async def stop(self) -> None:
        await self.running.stop(0)
        await self.service.close()


async def start_supervision(c: MiniCorridor, url: str) -> LiveSupervision:
    nodes = {code: c.target(code) for code in c.nodes}
    running, service = await create_server(
        ServiceSettings("supervision", database_url=url), nodes, c.bridge_target, TEST_SETTINGS
    )
    return LiveSupervision(running, service, url)


async def restart_node(c: MiniCorridor, code: str) -> None:
    """Stop a node (server and database pool) and start it again on the same port."""
    running, node = c.nodes[code]
    port = running.port
    await running.stop(0)
    node.expiry_task.cancel()
    await node.close()
    settings = ServiceSettings(
        code.lower(), bind=f"127.0.0.1:{port}", database_url=c.urls[code.lower()]
    )
    c.nodes[code] = await create_node(settings, code)


async def open_wallets(c: MiniCorridor, code: str, prefix: str, n: int, tier: int = 2) -> list[str]:
    async with channel(c.target(code)) as ch:
        resp = await node_pb2_grpc.WalletsStub(ch).OpenWallets(
            node_pb2.OpenWalletsRequest(
                wallets=[
                    node_pb2.OpenWalletRequest(
                        idempotency_key=f"{prefix}{i}", operator_id="bank-a", kind=1, tier=tier,
                        holder_name=f"{prefix} holder {i}", holder_document=f"ID-{prefix}-{i}",
                    )
                    for i in range(n)
                ]
            )
        )  # fmt: skip
    return list(resp.wallet_ids)


def pay_request(
    key: str, src: str, dst: str, amount_minor: int, currency: str
) -> node_pb2.PayRequest:
    return node_pb2.PayRequest(
        idempotency_key=key, from_wallet_id=src, to_wallet_id=dst, amount_minor=amount_minor,
        currency=currency,
    )  # fmt: skip


def xborder(
    key: str, c: MiniCorridor, src: str, dst: str, amount_minor: int
) -> bridge_pb2.CrossBorderPayRequest:
    return bridge_pb2.CrossBorderPayRequest(
        idempotency_key=key, payer_jurisdiction="CN", payer_wallet_id=src,
        payee_jurisdiction="HK", payee_wallet_id=dst, amount_minor=amount_minor, currency="CNY",
    )  # fmt: skip


async def ledger_rows(url: str) -> list[tuple[int, str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT seq, id FROM transfers ORDER BY seq")
    finally:
        await conn.close()
    return [(r["seq"], r["id"]) for r in rows]


async def mirrored_rows(url: str, ledger: str) -> list[tuple[int, str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT seq, transfer_id FROM postings WHERE ledger = $1 ORDER BY seq", ledger
        )
    finally:
        await conn.close()
    return [(r["seq"], r["transfer_id"]) for r in rows]


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(0.05)


def supervision_stub(ch: Any) -> supervision_pb2_grpc.SupervisionStub:
    return supervision_pb2_grpc.SupervisionStub(ch)
