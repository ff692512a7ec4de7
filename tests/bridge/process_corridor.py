"""The corridor as real OS processes, for fault injection: the CN and HK nodes and the bridge each
run as their own process (as `corridor up` runs them), each ledger a fresh database on the test
PostgreSQL server. A process can be SIGKILLed mid-protocol and restarted with another environment.

Wiring is environment only, exactly what production reads: CORRIDOR_DATABASE_URL_<LEDGER> (the
ledger's own database), CORRIDOR_NODES (the bridge's participants), CORRIDOR_BRIDGE_TARGET (where a
node asks for PvP decisions), CORRIDOR_PVP_TIMEOUT_S (how long a node holds a PvP leg).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from corridor.bench import free_port
from corridor.config import JURISDICTIONS
from corridor.fleet import ServiceProcess, service_argv, wait_healthy
from corridor.server import channel
from corridor.v1 import bridge_pb2, bridge_pb2_grpc, node_pb2, node_pb2_grpc

LPS = ("lp-hk-1", "lp-cn-1", "lp-ae-1")
PAYER_FUNDS_MINOR = 10**8
OPEN_STATES = (1, 2, 3)  # PREPARING, COMMITTING, ABORTING


@dataclass
class ProcessCorridor:
    logs: Path
    urls: dict[str, str]  # ledger name ("cn", "hk", "bridge") -> its database
    base_env: dict[str, str]
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    wallets: dict[str, list[str]] = field(default_factory=dict)
    fundings: int = 0  # coordinator rounds used by seed() (the fault point counts rounds)

    @classmethod
    def plan(cls, logs: Path, urls: dict[str, str], pvp_timeout_s: int = 2) -> ProcessCorridor:
        logs.mkdir(parents=True, exist_ok=True)
        names = [n for n in urls if n != "bridge"] + ["bridge"]
        ports = {n: free_port() for n in names}
        env = {f"CORRIDOR_DATABASE_URL_{n.upper()}": u for n, u in urls.items()}
        env["CORRIDOR_NODES"] = ",".join(
            f"{n.upper()}=127.0.0.1:{ports[n]}" for n in names if n != "bridge"
        )
        env["CORRIDOR_BRIDGE_TARGET"] = f"127.0.0.1:{ports['bridge']}"
        env["CORRIDOR_PVP_TIMEOUT_S"] = str(pvp_timeout_s)
        pc = cls(logs, dict(urls), env)
        for n in names:
            pc.services[n] = ServiceProcess(
                n, ports[n], service_argv(n, ports[n]), logs / f"{n}.log"
            )
        return pc

    def target(self, name: str) -> str:
        return self.services[name].target

    @property
    def codes(self) -> list[str]:
        return [n.upper() for n in self.services if n != "bridge"]

    def spawn(self, name: str, **extra_env: str) -> None:
        s = self.services[name]
        env = {**os.environ, **self.base_env, **extra_env}
        with open(s.log_path, "ab") as log:
            s.proc = subprocess.Popen(
                s.argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    async def wait_ready(self, *names: str, timeout_s: float = 60.0) -> None:
        await asyncio.gather(
            *(
                asyncio.to_thread(wait_healthy, self.target(n), timeout_s, self.services[n].proc)
                for n in names
            )
        )

    async def start(self, name: str, **extra_env: str) -> None:
        self.spawn(name, **extra_env)
        await self.wait_ready(name)

    async def start_all(self, bridge_env: dict[str, str] | None = None) -> None:
        for n in self.services:
            self.spawn(n, **(bridge_env or {}) if n == "bridge" else {})
        await self.wait_ready(*self.services)

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown path runs, the process's memory is lost."""
        proc = self.services[name].proc
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)

    async def wait_exit(self, name: str, timeout_s: float = 30.0) -> int:
        proc = self.services[name].proc
        assert proc is not None
        return await asyncio.to_thread(proc.wait, timeout_s)

    def kill_all(self) -> None:
        """Teardown: the databases are dropped next, so no graceful drain is worth waiting for."""
        for name in self.services:
            self.kill(name)

    def log_tail(self, name: str, lines: int = 40) -> str:
        text = self.services[name].log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    # ------------------------------------------------------------------ seeding
    async def seed(self, wallets_per_node: int = 6, lp_funding_minor: int = 10**10) -> None:
        """Operators (a bank and the liquidity providers) with CBDC reserves, tier-1 wallets with
        PAYER_FUNDS_MINOR each, and every LP's inventory funded onto the platform (one
        coordinator round per funding)."""
        for code in self.codes:
            cur = JURISDICTIONS[code].currency
            async with channel(self.target(code.lower())) as ch:
                cb, wl = node_pb2_grpc.CentralBankStub(ch), node_pb2_grpc.WalletsStub(ch)
                for op in ("bank-a", *LPS):
                    await cb.RegisterOperator(node_pb2.RegisterOperatorRequest(operator_id=op))
                    await cb.Issue(node_pb2.IssueRequest(
                        idempotency_key=f"iss-{op}", operator_id=op,
                        amount_minor=10 * lp_funding_minor, currency=cur))  # fmt: skip

                async def one(i: int, wl: Any = wl, cur: str = cur) -> str:
                    w = await wl.OpenWallet(node_pb2.OpenWalletRequest(
                        idempotency_key=f"w{i}", operator_id="bank-a", kind=2, tier=1,
                        holder_name=f"corp {i}"))  # fmt: skip
                    await wl.LoadWallet(node_pb2.LoadWalletRequest(
                        idempotency_key=f"l{i}", wallet_id=w.wallet_id,
                        amount_minor=PAYER_FUNDS_MINOR, currency=cur))  # fmt: skip
                    return w.wallet_id

                self.wallets[code] = list(
                    await asyncio.gather(*(one(i) for i in range(wallets_per_node)))
                )
        async with channel(self.target("bridge")) as ch:
            br = bridge_pb2_grpc.BridgeStub(ch)
            for code in self.codes:
                cur = JURISDICTIONS[code].currency
                for lp in LPS:
                    await br.FundLiquidity(bridge_pb2.FundLiquidityRequest(
                        idempotency_key=f"fund-{lp}-{code}", liquidity_provider=lp,
                        jurisdiction=code, amount_minor=lp_funding_minor, currency=cur))  # fmt: skip
                    self.fundings += 1

    def payment(self, key: str, amount_minor: int, src: int = 0, dst: int = 0,
                payer: str = "CN", payee: str = "HK") -> bridge_pb2.CrossBorderPayRequest:  # fmt: skip
        return bridge_pb2.CrossBorderPayRequest(
            idempotency_key=key, payer_jurisdiction=payer,
            payer_wallet_id=self.wallets[payer][src % len(self.wallets[payer])],
            payee_jurisdiction=payee,
            payee_wallet_id=self.wallets[payee][dst % len(self.wallets[payee])],
            amount_minor=amount_minor, currency=JURISDICTIONS[payer].currency,
        )  # fmt: skip


# ---------------------------------------------------------------------- reading the ledgers
@dataclass
class PaymentTruth:
    """One payment as the coordinator's log and every ledger's rows tell it."""

    payment_id: str
    state: int
    reason: str
    leg_states: list[int | None]  # per leg, the transfers.state on its ledger (None: no row)

    @property
    def all_posted(self) -> bool:
        return all(s == 3 for s in self.leg_states)  # S_POSTED_FROM_PENDING

    @property
    def none_posted(self) -> bool:
        return all(s in (None, 4, 5) for s in self.leg_states)  # absent, voided or expired


async def read_truth(urls: dict[str, str]) -> dict[str, PaymentTruth]:
    conn = await asyncpg.connect(urls["bridge"])
    try:
        log = await conn.fetch(
            "SELECT payment_id, state, reason, leg_ledgers, leg_ids FROM pvp_payments"
        )
    finally:
        await conn.close()
    wanted: dict[str, list[str]] = {}
    for r in log:
        for ledger, tid in zip(r["leg_ledgers"], r["leg_ids"], strict=True):
            wanted.setdefault(ledger.lower(), []).append(tid)
    states: dict[tuple[str, str], int] = {}
    for ledger, ids in wanted.items():
        c = await asyncpg.connect(urls[ledger])
        try:
            for row in await c.fetch(
                "SELECT id, state FROM transfers WHERE id = ANY($1::text[])", ids
            ):
                states[(ledger, row["id"])] = row["state"]
        finally:
            await c.close()
    return {
        r["payment_id"]: PaymentTruth(
            r["payment_id"],
            r["state"],
            r["reason"],
            [
                states.get((lg.lower(), tid))
                for lg, tid in zip(r["leg_ledgers"], r["leg_ids"], strict=True)
            ],
        )
        for r in log
    }


async def pending_pvp_legs(urls: dict[str, str]) -> dict[str, int]:
    out = {}
    for ledger, url in urls.items():
        c = await asyncpg.connect(url)
        try:
            out[ledger] = await c.fetchval(
                "SELECT count(*) FROM transfers WHERE state = 2 AND kind = 'pvp'"
            )
        finally:
            await c.close()
    return out


async def wait_settled(urls: dict[str, str], timeout_s: float = 30.0) -> dict[str, PaymentTruth]:
    """Until no payment is open in the log and no PvP leg is pending on any ledger."""
    deadline = time.monotonic() + timeout_s
    while True:
        truth = await read_truth(urls)
        pending = await pending_pvp_legs(urls)
        open_ = [t for t in truth.values() if t.state in OPEN_STATES]
        if not open_ and not any(pending.values()):
            return truth
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not settled after {timeout_s}s: {len(open_)} open in the log, pending legs {pending}"
            )
        await asyncio.sleep(0.2)


async def balances(url: str, ids: Sequence[str]) -> dict[str, int]:
    c = await asyncpg.connect(url)
    try:
        rows = await c.fetch(
            "SELECT id, credits_posted - debits_posted AS b FROM accounts WHERE id = ANY($1::text[])",
            list(ids),
        )
    finally:
        await c.close()
    return {r["id"]: r["b"] for r in rows}
