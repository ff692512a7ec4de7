"""What a server knows that its authorisation rules need: which ledger it is (`here`), who
operates a wallet, and where to append audit entries.

`discover(servicers)` reads this off the servicers registered with `start_server()` — a node
(CentralBank/Wallets over a `CentralBankNode`), the bridge (over a `BridgePlatform`), the vouchers
service, or a bare Ledger — so services need no security code of their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import grpc

from corridor.security import audit

log = logging.getLogger("corridor.security")


class ServerResources:
    """Defaults for a server with nothing to look up (a bare ledger, a stateless service)."""

    here = ""
    audit_pool: Any = None

    async def wallet_operators(self, jurisdiction: str, wallet_ids: list[str]) -> dict[str, str]:
        """{wallet id: operator id} for the wallets that exist (unknown ids are absent)."""
        return {}

    async def start(self) -> None:
        if self.audit_pool is not None:
            await audit.install(self.audit_pool)

    async def audit(self, actor: str, action: str, subject: str, detail: str) -> None:
        if self.audit_pool is None:
            return
        await audit.append(self.audit_pool, actor, action, subject, detail)


class _OperatorCache:
    """wallet -> operator never changes once a wallet exists, so answers are kept (bounded)."""

    def __init__(self, limit: int = 200_000) -> None:
        self.known: dict[str, str] = {}
        self.limit = limit

    def split(self, ids: Iterable[str]) -> tuple[dict[str, str], list[str]]:
        hit, miss = {}, []
        for w in dict.fromkeys(ids):
            op = self.known.get(w)
            if op is None:
                miss.append(w)
            else:
                hit[w] = op
        return hit, miss

    def add(self, found: dict[str, str]) -> None:
        if len(self.known) + len(found) > self.limit:
            self.known.clear()
        self.known.update(found)


class NodeResources(ServerResources):
    def __init__(self, node: Any) -> None:
        self.node = node
        self.here = node.policy.jurisdiction
        self.audit_pool = node.engine.pool
        self._cache = _OperatorCache()

    async def wallet_operators(self, jurisdiction: str, wallet_ids: list[str]) -> dict[str, str]:
        if jurisdiction != self.here:
            return {}
        hit, miss = self._cache.split(wallet_ids)
        if miss:
            async with self.node.engine.pool.acquire() as conn:
                rows = await conn.fetch(
                    "SELECT wallet_id, operator_id FROM wallets WHERE wallet_id = ANY($1::text[])",
                    miss,
                )
            found = {r["wallet_id"]: r["operator_id"] for r in rows}
            self._cache.add(found)
            hit.update(found)
        return hit


class BridgeResources(ServerResources):
    """The bridge asks a payer's node who operates the wallet (Wallets.GetWallet, cached)."""

    here = "BRIDGE"

    def __init__(self, platform: Any) -> None:
        self.platform = platform
        self.audit_pool = platform.engine.pool
        self._cache = _OperatorCache()
        self._stubs: dict[str, Any] = {}

    def _stub(self, jurisdiction: str) -> Any:
        from corridor.v1 import node_pb2_grpc

        if jurisdiction not in self._stubs:
            remote = self.platform.participants.get(jurisdiction)
            ch = getattr(remote, "_channel", None)
            if ch is None:
                return None
            self._stubs[jurisdiction] = node_pb2_grpc.WalletsStub(ch)
        return self._stubs[jurisdiction]

    async def wallet_operators(self, jurisdiction: str, wallet_ids: list[str]) -> dict[str, str]:
        from corridor.v1 import node_pb2

        hit, miss = self._cache.split(wallet_ids)
        stub = self._stub(jurisdiction) if miss else None
        if not miss or stub is None:
            return hit
        sem = asyncio.Semaphore(32)
        found: dict[str, str] = {}

        async def one(w: str) -> None:
            async with sem:
                try:
                    v = await stub.GetWallet(node_pb2.GetWalletRequest(wallet_id=w), timeout=10)
                except grpc.aio.AioRpcError as exc:
                    if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                        return
                    raise
                found[w] = v.operator_id

        await asyncio.gather(*(one(w) for w in miss))
        self._cache.add(found)
        hit.update(found)
        return hit


class PoolResources(ServerResources):
    def __init__(self, here: str, pool: Any) -> None:
        self.here = here
        self.audit_pool = pool


def discover(servicers: Iterable[Any]) -> ServerResources:
    """The richest description the registered servicers allow."""
    found: ServerResources | None = None
    ledger_name = ""
    for s in servicers:
        node = getattr(s, "node", None)
        if node is not None and hasattr(node, "policy") and hasattr(node, "engine"):
            return NodeResources(node)
        platform = getattr(s, "p", None)
        if platform is not None and hasattr(platform, "coordinator"):
            found = BridgeResources(platform)
        service = getattr(s, "service", None)
        if found is None and service is not None and hasattr(service, "engine"):
            pool = getattr(service, "pool", None) or getattr(service.engine, "pool", None)
            found = PoolResources("VOUCHERS", pool)
        ledger_name = ledger_name or getattr(s, "ledger_name", "")
    if found is not None:
        return found
    res = ServerResources()
    res.here = ledger_name.upper()
    return res
