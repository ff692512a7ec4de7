"""Every Corridor service in one background event loop (real Postgres, real gRPC on port 0), for
tests that drive them from synchronous code (Hypothesis) — CN and HK nodes, the bridge over
them, vouchers, supervision following their feeds, and the stablecoin rail."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import itertools
import os
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc

from corridor import pg
from corridor.config import ServiceSettings
from corridor.security.config import SecurityConfig
from corridor.security.transport import sync_channel

LEGACY = "x-corridor-caller"
_names = itertools.count()


def _has(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


@dataclass
class Served:
    name: str
    target: str
    urls: list[str]  # databases whose state a refused call must leave unchanged
    tables: tuple[str, ...]  # row counts that must not change on a refusal
    closers: list[Any] = field(default_factory=list)


class ServiceWorld:
    def __init__(self, pg_server_url: str, env: dict[str, str] | None = None) -> None:
        self.server_url = pg_server_url
        self.env = env or {}
        self.security = SecurityConfig.of_mode(
            self.env.get("CORRIDOR_SECURE", "0"),
            Path(self.env.get("CORRIDOR_SECURITY_DIR", "/nonexistent")),
        )
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.served: dict[str, Served] = {}
        self.wallets: dict[str, list[str]] = {}
        self._conns: dict[str, asyncpg.Connection] = {}
        self._dbs: list[str] = []

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> ServiceWorld:
        """Start every service. `env` (e.g. CORRIDOR_SECURE) stays set until stop(): servers read
        it at start, and the in-process services' own outgoing calls read their credential."""
        self.thread.start()
        self._saved = {k: os.environ.get(k) for k in self.env}
        os.environ.update(self.env)
        self.run(self._start(), timeout=240)
        return self

    async def _db(self) -> str:
        url = pg.with_database(self.server_url, f"t_fuzz_{os.getpid()}_{next(_names)}")
        await pg.drop_database(url)
        await pg.ensure_database(url)
        self._dbs.append(url)
        return url

    async def _start(self) -> None:
        from bridge.server import close_platform
        from bridge.server import create_server as create_bridge
        from services.centralbank.server import create_server as create_node

        node_tables = (
            "transfers",
            "accounts",
            "wallets",
            "operators",
            "kyc_identities",
            "node_audit",
        )
        targets = {}
        for code in ("CN", "HK"):
            url = await self._db()
            running, node = await create_node(ServiceSettings(code.lower(), database_url=url), code)
            node.expiry_task.cancel()  # no background writes between a call and its check
            targets[code] = f"127.0.0.1:{running.port}"
            self.served[code] = Served(code, targets[code], [url], node_tables,
                                       [lambda r=running: r.stop(0), node.close])  # fmt: skip
        url = await self._db()
        running, platform = await create_bridge(
            ServiceSettings("bridge", database_url=url), targets
        )
        platform.recovery_task.cancel()
        self.served["bridge"] = Served(
            "bridge", f"127.0.0.1:{running.port}",
            [url, *self.served["CN"].urls, *self.served["HK"].urls], ("accounts",),
            [lambda r=running: r.stop(0), lambda p=platform: close_platform(p)],
        )  # fmt: skip
        if _has("services.vouchers.server"):
            from services.vouchers.server import create_server as create_vouchers

            url = await self._db()
            running, service = await create_vouchers(ServiceSettings("vouchers", database_url=url))
            self.served["vouchers"] = Served("vouchers", f"127.0.0.1:{running.port}", [url],
                                             ("accounts", "voucher_actions"),
                                             [lambda r=running: r.stop(0), service.close])  # fmt: skip
        if _has("services.supervision.server"):
            from services.supervision.server import create_server as create_supervision

            url = await self._db()
            running, service = await create_supervision(
                ServiceSettings("supervision", database_url=url),
                targets,
                self.served["bridge"].target,
            )
            self.served["supervision"] = Served("supervision", f"127.0.0.1:{running.port}", [url],
                                                ("cases",), [lambda r=running: r.stop(0), service.close])  # fmt: skip
        if _has("services.stablecoin.server"):
            from services.stablecoin.server import create_server as create_stablecoin

            running, _ = await create_stablecoin(
                ServiceSettings("stablecoin", extra={"preset": "svb-2023", "seed": "3"})
            )
            self.served["stablecoin"] = Served("stablecoin", f"127.0.0.1:{running.port}", [], (),
                                               [lambda r=running: r.stop(0)])  # fmt: skip

    def stop(self) -> None:
        async def close() -> None:
            for s in reversed(list(self.served.values())):
                for c in s.closers:
                    with contextlib.suppress(Exception):
                        await c()
            for conn in self._conns.values():
                with contextlib.suppress(Exception):
                    await conn.close()
            for url in self._dbs:
                with contextlib.suppress(Exception):
                    await pg.drop_database(url)

        with contextlib.suppress(Exception):
            self.run(close(), timeout=120)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        for k, v in getattr(self, "_saved", {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def channel(self, name: str) -> grpc.Channel:
        return sync_channel(self.served[name].target, self.security)

    # ------------------------------------------------------------------ state
    async def _digest(self, name: str) -> tuple[Any, ...]:
        s = self.served[name]
        out: list[Any] = []
        for url in s.urls:
            conn = self._conns.get(url)
            if conn is None:
                conn = self._conns[url] = await asyncpg.connect(url)
            if await conn.fetchval("SELECT to_regclass('public.accounts') IS NOT NULL"):
                out.append(await conn.fetchval(
                    "SELECT md5(coalesce(string_agg(concat_ws(':', id, debits_posted, credits_posted,"
                    " debits_pending, credits_pending, freeze_mode), ',' ORDER BY id), '')) FROM accounts"
                ))  # fmt: skip
            if url == s.urls[0]:
                for t in s.tables:
                    if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", t):
                        out.append((t, await conn.fetchval(f"SELECT count(*) FROM {t}")))
        return tuple(out)

    def digest(self, name: str) -> tuple[Any, ...]:
        return self.run(self._digest(name))

    # ------------------------------------------------------------------ data to aim at
    def populate(self, md: dict[str, tuple[tuple[str, str], ...]] | None = None) -> None:
        """Operators, issuance, wallets and liquidity, so fuzzed ids hit real rows. `md` gives
        the metadata per actor (credentials when security is on)."""
        from corridor.v1 import bridge_pb2, bridge_pb2_grpc, node_pb2, node_pb2_grpc

        md = md or {}
        for code, cur in (("CN", "CNY"), ("HK", "HKD")):
            with self.channel(code) as ch:
                cb, wl = node_pb2_grpc.CentralBankStub(ch), node_pb2_grpc.WalletsStub(ch)
                cbm = md.get(f"cb-{code}", ((LEGACY, "central_bank:cb"),))
                opm = md.get(f"op-{code}", ((LEGACY, "operator:bank-a"),))
                for op in ("bank-a", "lp-hk-1", "lp-cn-1"):
                    cb.RegisterOperator(
                        node_pb2.RegisterOperatorRequest(operator_id=op), metadata=cbm
                    )
                    cb.Issue(node_pb2.IssueRequest(idempotency_key=f"seed-{op}", operator_id=op,
                                                   amount_minor=10**12, currency=cur), metadata=cbm)  # fmt: skip
                ids = []
                for i in range(4):
                    w = wl.OpenWallet(node_pb2.OpenWalletRequest(idempotency_key=f"w{i}", operator_id="bank-a",
                                                                 kind=1, tier=1 + i % 4, holder_name=f"Synthetic {i}"),
                                      metadata=opm)  # fmt: skip
                    wl.LoadWallet(node_pb2.LoadWalletRequest(idempotency_key=f"l{i}", wallet_id=w.wallet_id,
                                                             amount_minor=5000, currency=cur), metadata=opm)  # fmt: skip
                    ids.append(w.wallet_id)
                self.wallets[code] = ids
        with self.channel("bridge") as ch:
            br = bridge_pb2_grpc.BridgeStub(ch)
            for lp in ("lp-hk-1", "lp-cn-1"):
                for code, cur in (("CN", "CNY"), ("HK", "HKD")):
                    br.FundLiquidity(bridge_pb2.FundLiquidityRequest(
                        idempotency_key=f"fund-{lp}-{code}", liquidity_provider=lp, jurisdiction=code,
                        amount_minor=10**10, currency=cur), metadata=md.get(f"lp-{lp}", ((LEGACY, f"liquidity_provider:{lp}"),)))  # fmt: skip
