"""`corridor chaos`: a soak under faults. Mixed domestic and cross-border payments run against
the real services (separate OS processes, mTLS + credentials by default) while random services
are SIGKILLed and restarted every few seconds and PostgreSQL itself is stopped hard
(`pg_ctl stop -m immediate`, a crash) and restarted.

Clients behave as the corridor expects of them: every payment has an idempotency key and is
retried with the same key after any retryable answer (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL,
RESOURCE_EXHAUSTED...) until it gets a definitive one. A payment is *acknowledged* when a call
answered OK (domestic) or SETTLED (cross-border). Afterwards, with the faults stopped and every
in-doubt payment resolved, it reports:

  lost          acknowledged payments whose postings are not in the ledgers (must be 0)
  half_settled  cross-border payments with some legs posted and others not (must be 0)
  invariants    `corridor check-invariants` on every ledger (must hold)

The last line printed is JSON: acknowledged, lost, half_settled, kills, invariants_ok, and more.

After a PostgreSQL restart the services are left running: the ledger engine's writer reconnects
on its own (re-taking the single-writer lock, answering UNAVAILABLE meanwhile) and the pools
replace dead connections, which is what this soak exercises. `--restart-after-pg` restores the
older behaviour (the harness plays a liveness probe and restarts every service; counted as
`restarts_after_pg`).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc

from corridor import pg
from corridor.config import JURISDICTIONS
from corridor.security.config import SecurityConfig
from corridor.security.credentials import metadata_for

RETRYABLE = {
    grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED,
    grpc.StatusCode.CANCELLED,
}  # fmt: skip
COMMITTING, SETTLED, REJECTED = 2, 4, 5
OPERATOR, LPS = "bank-a", ("lp-hk-1", "lp-cn-1")
FUND_MINOR = 10**12


@dataclass
class ChaosOptions:
    minutes: float = 10.0
    kill_every_s: float = 3.0
    pg_restart_every_s: float = 60.0
    services: tuple[str, ...] = ("cn", "hk", "bridge")
    workers: int = 12
    wallets: int = 40
    cross_border_share: float = 0.4
    seed: int = 1
    secure: bool = True
    state: Path | None = None
    keep: bool = False
    restart_after_pg: bool = False  # restart every service after a PostgreSQL restart


@dataclass
class Tally:
    attempted: int = 0
    acked_domestic: dict[str, list[str]] = field(default_factory=dict)  # node -> transfer ids
    acked_cross_border: list[str] = field(default_factory=list)  # payment ids
    refused: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)  # every non-OK status seen
    retries: int = 0
    unresolved: int = 0
    kills: int = 0
    pg_restarts: int = 0
    restarts_after_pg: int = 0
    acknowledged_at_last_pg_restart: int = 0
    fault_log: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> int:
        return sum(len(v) for v in self.acked_domestic.values()) + len(self.acked_cross_border)


class ChaosSoak:
    def __init__(self, opts: ChaosOptions, say: Any = print) -> None:
        self.o = opts
        self.say = say
        self.rng = random.Random(opts.seed)
        self.tally = Tally()
        self.state = opts.state or Path(tempfile.mkdtemp(prefix="corridor-chaos-", dir="/tmp"))
        self.state.mkdir(parents=True, exist_ok=True)
        self.state.chmod(0o755)  # embedded PostgreSQL runs as an unprivileged user under root
        mode = "1" if opts.secure else "0"
        self.security = SecurityConfig.of_mode(mode, self.state / "security")
        self.nodes = [s.upper() for s in opts.services if s.upper() in JURISDICTIONS]
        self.fleet: Any = None
        self.server_url = ""
        self.wallet_ids: dict[str, list[str]] = {}
        self.stop_load = asyncio.Event()

    # ------------------------------------------------------------------ plumbing
    def _channel(self, name: str) -> grpc.aio.Channel:
        from corridor.security.transport import aio_channel
        from corridor.server import CHANNEL_OPTIONS

        return aio_channel(self.fleet.get(name).target, CHANNEL_OPTIONS, self.security)

    def _md(self, role: str, subject: str, jurisdiction: str = "") -> Any:
        return metadata_for(role, subject, jurisdiction, config=self.security)

    async def _until_done(self, make_call: Any) -> tuple[Any, grpc.StatusCode | None, str]:
        """Retry (same request, same key) until a definitive answer, or give up at the deadline."""
        delay = 0.05
        give_up = time.monotonic() + 120
        while True:
            try:
                return await make_call(), None, ""
            except grpc.aio.AioRpcError as exc:
                self.tally.statuses[exc.code().name] += 1
                if exc.code() not in RETRYABLE:
                    from corridor.errors import error_details

                    return None, exc.code(), error_details(exc).reason or exc.code().name
            if time.monotonic() > give_up:
                self.tally.unresolved += 1
                return None, grpc.StatusCode.UNAVAILABLE, "GAVE_UP"
            self.tally.retries += 1
            await asyncio.sleep(delay)
            delay = min(1.0, delay * 2)

    # ------------------------------------------------------------------ set-up
    def start(self) -> None:
        from corridor.bench import free_port
        from corridor.fleet import Fleet
        from corridor.security.pki import ensure_dev_pki

        self.server_url = pg.embedded_server_url(self.state)
        if self.security.enabled:
            ensure_dev_pki(self.security.require_directory(), list(self.o.services))
        names = list(self.o.services)
        self.fleet = Fleet.plan(self.state, self.server_url, names, {n: free_port() for n in names})
        self.fleet.security = self.security
        self.fleet.extra_env = {"CORRIDOR_PVP_TIMEOUT_S": "5", "OTEL_TRACES_SAMPLER": "always_off"}
        self.fleet.start()

    async def setup(self) -> None:
        from corridor.v1 import bridge_pb2, bridge_pb2_grpc, node_pb2, node_pb2_grpc

        for code in self.nodes:
            cur = JURISDICTIONS[code].currency
            async with self._channel(code.lower()) as ch:
                cb, wl = node_pb2_grpc.CentralBankStub(ch), node_pb2_grpc.WalletsStub(ch)
                cbm, opm = (
                    self._md("central_bank", f"cb-{code.lower()}", code),
                    self._md("operator", OPERATOR, code),
                )
                for op in (OPERATOR, *LPS):
                    await cb.RegisterOperator(
                        node_pb2.RegisterOperatorRequest(operator_id=op), metadata=cbm
                    )
                    await cb.Issue(node_pb2.IssueRequest(idempotency_key=f"chaos-{op}", operator_id=op,
                                                         amount_minor=FUND_MINOR, currency=cur), metadata=cbm)  # fmt: skip
                reqs = [node_pb2.OpenWalletRequest(idempotency_key=f"chaos-w{i}", operator_id=OPERATOR, kind=node_pb2.WALLET_KIND_PERSONAL,
                                                   tier=1, holder_name=f"Synthetic {code}-{i}")
                        for i in range(self.o.wallets)]  # fmt: skip
                ids = list(
                    (
                        await wl.OpenWallets(
                            node_pb2.OpenWalletsRequest(wallets=reqs), metadata=opm
                        )
                    ).wallet_ids
                )
                for w in ids:
                    await wl.LoadWallet(node_pb2.LoadWalletRequest(idempotency_key=f"chaos-load-{w}", wallet_id=w,
                                                                   amount_minor=FUND_MINOR // (4 * self.o.wallets),
                                                                   currency=cur), metadata=opm)  # fmt: skip
                self.wallet_ids[code] = ids
        if "bridge" in self.o.services:
            async with self._channel("bridge") as ch:
                br = bridge_pb2_grpc.BridgeStub(ch)
                for lp in LPS:
                    for code in self.nodes:
                        await br.FundLiquidity(bridge_pb2.FundLiquidityRequest(
                            idempotency_key=f"chaos-fund-{lp}-{code}", liquidity_provider=lp, jurisdiction=code,
                            amount_minor=FUND_MINOR // 4, currency=JURISDICTIONS[code].currency),
                            metadata=self._md("liquidity_provider", lp))  # fmt: skip

    # ------------------------------------------------------------------ load
    async def _worker(self, wid: int) -> None:
        from corridor.v1 import bridge_pb2, bridge_pb2_grpc, node_pb2, node_pb2_grpc

        rng = random.Random(self.o.seed * 1000 + wid)
        chans = {n.lower(): self._channel(n.lower()) for n in self.nodes}
        cross = "bridge" in self.o.services and len(self.nodes) >= 2
        if cross:
            chans["bridge"] = self._channel("bridge")
        everywhere = ",".join(self.nodes)
        n = 0
        try:
            while not self.stop_load.is_set():
                n += 1
                key = f"chaos-{self.o.seed}-{wid}-{n}"
                self.tally.attempted += 1
                if cross and rng.random() < self.o.cross_border_share:
                    a, b = rng.sample(self.nodes, 2)
                    req = bridge_pb2.CrossBorderPayRequest(
                        idempotency_key=key, payer_jurisdiction=a, payer_wallet_id=rng.choice(self.wallet_ids[a]),
                        payee_jurisdiction=b, payee_wallet_id=rng.choice(self.wallet_ids[b]),
                        amount_minor=rng.randint(1, 10_000), currency=JURISDICTIONS[a].currency,
                        max_slippage_bps=500, purpose="retail")  # fmt: skip
                    stub = bridge_pb2_grpc.BridgeStub(chans["bridge"])
                    md = self._md("operator", OPERATOR, everywhere)
                    rec, _code, reason = await self._until_done(
                        lambda s=stub, r=req, m=md: s.CrossBorderPay(r, metadata=m, timeout=10)
                    )
                    if rec is not None and rec.status == COMMITTING:
                        # Decided (durably) but not yet posted everywhere: as binding as SETTLED,
                        # so it counts as acknowledged and must be settled at the end.
                        self.tally.acked_cross_border.append(rec.payment_id)
                    elif rec is not None and rec.status == SETTLED:
                        self.tally.acked_cross_border.append(rec.payment_id)
                    elif rec is not None:
                        self.tally.refused[rec.reason or f"STATUS_{rec.status}"] += 1
                    else:
                        self.tally.refused[reason] += 1
                else:
                    j = rng.choice(self.nodes)
                    frm, to = rng.sample(self.wallet_ids[j], 2)
                    pay = node_pb2.PayRequest(idempotency_key=key, from_wallet_id=frm, to_wallet_id=to,
                                              amount_minor=rng.randint(1, 10_000),
                                              currency=JURISDICTIONS[j].currency)  # fmt: skip
                    wallets = node_pb2_grpc.WalletsStub(chans[j.lower()])
                    md = self._md("operator", OPERATOR, j)
                    mv, _code, reason = await self._until_done(
                        lambda s=wallets, r=pay, m=md: s.Pay(r, metadata=m, timeout=10)
                    )
                    if mv is not None:
                        self.tally.acked_domestic.setdefault(j, []).append(mv.transfer_id)
                    else:
                        self.tally.refused[reason] += 1
        finally:
            for ch in chans.values():
                await ch.close()

    # ------------------------------------------------------------------ faults
    async def _restart(self, name: str) -> None:
        """Start a killed service again; a node whose previous process still holds its ledger
        lock in PostgreSQL exits at once (LedgerBusy): try again until it is serving."""
        for attempt in range(30):
            try:
                await asyncio.to_thread(self.fleet.restart, name, 60.0)
                return
            except (RuntimeError, TimeoutError) as exc:
                self.tally.fault_log.append(f"restart {name} attempt {attempt + 1}: {exc}")
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self.fleet.kill, name)
                await asyncio.sleep(0.5)
        raise RuntimeError(f"{name} did not come back after 30 attempts")

    async def _kill_one(self) -> None:
        name = self.rng.choice(list(self.o.services))
        await asyncio.to_thread(self.fleet.kill, name)
        self.tally.kills += 1
        await asyncio.sleep(self.rng.uniform(0.0, 1.0))
        await self._restart(name)

    def _pg_ctl(self, *args: str) -> None:
        """pg_ctl as the server's owner. Not through pgserver's helper: it switches user inside
        a forked child, and a fork in a process running gRPC threads aborts (grpc's fork
        handlers); `runuser` lets subprocess use vfork/exec instead."""
        srv = pg._EMBEDDED[str((self.state / "pg").resolve())]
        from pgserver._commands import POSTGRES_BIN_PATH

        argv = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(srv.pgdata), *args]  # type: ignore[attr-defined]
        user = getattr(srv, "system_user", None)
        if user:
            argv = ["runuser", "-u", user, "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=60)

    async def _restart_postgres(self) -> None:
        srv = pg._EMBEDDED[str((self.state / "pg").resolve())]
        socket_dir = srv.get_postmaster_info().socket_dir  # type: ignore[attr-defined]
        log = srv.pgdata / "log"  # type: ignore[attr-defined]
        await asyncio.to_thread(self._pg_ctl, "-w", "-m", "immediate", "stop")
        self.tally.pg_restarts += 1
        self.tally.acknowledged_at_last_pg_restart = self.tally.acknowledged
        await asyncio.sleep(self.rng.uniform(0.5, 1.5))
        await asyncio.to_thread(
            self._pg_ctl, "-w", "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(log), "start"
        )
        if not self.o.restart_after_pg:
            return  # the services reconnect on their own (see module doc)
        for name in self.o.services:
            await asyncio.to_thread(self.fleet.kill, name)
        for name in self.o.services:
            await self._restart(name)
            self.tally.restarts_after_pg += 1

    async def _faults(self, until: float) -> None:
        next_pg = time.monotonic() + self.o.pg_restart_every_s
        while time.monotonic() < until:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.o.kill_every_s)
            if time.monotonic() >= until:
                break
            if self.o.pg_restart_every_s > 0 and time.monotonic() >= next_pg:
                await self._restart_postgres()
                next_pg = time.monotonic() + self.o.pg_restart_every_s
            else:
                await self._kill_one()

    # ------------------------------------------------------------------ run and check
    async def drive(self) -> None:
        await self.setup()
        seconds = self.o.minutes * 60
        t0 = time.monotonic()
        workers = [asyncio.create_task(self._worker(i)) for i in range(self.o.workers)]
        faults = asyncio.create_task(self._faults(t0 + seconds))
        last = t0
        while time.monotonic() - t0 < seconds:
            await asyncio.sleep(1)
            if time.monotonic() - last >= 15:
                last = time.monotonic()
                self.say(f"  {time.monotonic() - t0:5.0f}s  attempted {self.tally.attempted:,}  "
                         f"acknowledged {self.tally.acknowledged:,}  kills {self.tally.kills}  "
                         f"pg restarts {self.tally.pg_restarts}")  # fmt: skip
        await faults
        self.stop_load.set()
        await asyncio.gather(*workers)
        for s in self.fleet.services:  # everything up for recovery
            if s.proc is None or s.proc.poll() is not None:
                await self._restart(s.name)

    async def settle(self, timeout_s: float = 120.0) -> list[Any]:
        """Wait until every in-doubt payment is resolved (recovery and leg timeouts); returns the
        final invariant checks."""
        from corridor import invariants

        for module in ("bridge.invariants", "services.vouchers.invariants"):
            with contextlib.suppress(ImportError):
                __import__(module)
        deadline = time.monotonic() + timeout_s
        while True:
            checks = await invariants.check_all(await self._ledgers())
            if all(c.ok for c in checks) or time.monotonic() > deadline:
                return checks
            await asyncio.sleep(2)

    async def _ledgers(self) -> dict[str, str]:
        from corridor.invariants import discover_ledgers

        return await discover_ledgers(self.server_url)

    async def lost_and_half(self) -> tuple[int, int, list[str]]:
        urls = await self._ledgers()
        lost: list[str] = []
        for code, ids in self.tally.acked_domestic.items():
            conn = await asyncpg.connect(urls[code.lower()])
            try:
                found = {r["id"] for r in await conn.fetch(
                    "SELECT id FROM transfers WHERE id = ANY($1::text[]) AND state = 1", ids)}  # fmt: skip
            finally:
                await conn.close()
            lost += [i for i in ids if i not in found]
        half = 0
        if "bridge" in urls:
            conn = await asyncpg.connect(urls["bridge"])
            try:
                states = {r["payment_id"]: (r["state"], r["n"]) for r in await conn.fetch(
                    "SELECT payment_id, state, cardinality(leg_ids) n FROM pvp_payments")}  # fmt: skip
                legs = await _leg_states(conn)
            finally:
                await conn.close()
            for code in self.nodes:
                conn = await asyncpg.connect(urls[code.lower()])
                try:
                    for pid, (p, v, o) in (await _leg_states(conn)).items():
                        a = legs.setdefault(pid, [0, 0, 0])
                        a[0], a[1], a[2] = a[0] + p, a[1] + v, a[2] + o
                finally:
                    await conn.close()
            lost += [
                p for p in self.tally.acked_cross_border if states.get(p, (0, 0))[0] != SETTLED
            ]
            for pid, (state, n) in states.items():
                posted, _voided, pending = legs.get(pid, [0, 0, 0])
                if (state == SETTLED and posted != n) or (
                    state == REJECTED and (posted or pending)
                ):
                    half += 1
                if state in (1, 2, 3) and posted and posted != n:
                    half += 1
        return len(lost), half, lost[:10]

    def close(self) -> None:
        if self.fleet is not None:
            self.fleet.stop()
        if self.tally.pg_restarts:  # pgserver's handle knows only the first postmaster
            with contextlib.suppress(Exception):
                self._pg_ctl("-w", "-m", "fast", "stop")
        with contextlib.suppress(Exception):
            pg.stop_embedded()
        if not self.o.keep:
            shutil.rmtree(self.state, ignore_errors=True)


async def _leg_states(conn: asyncpg.Connection) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for r in await conn.fetch(
        "SELECT payment_id, count(*) FILTER (WHERE state = 3) p, count(*) FILTER (WHERE state IN (4, 5)) v,"
        " count(*) FILTER (WHERE state = 2) o FROM transfers WHERE kind = 'pvp' AND (flags & 2) <> 0"
        " GROUP BY payment_id"
    ):
        out[r["payment_id"]] = [r["p"], r["v"], r["o"]]
    return out


def run_chaos(opts: ChaosOptions, say: Any = print) -> dict[str, Any]:
    soak = ChaosSoak(opts, say)
    t0 = time.monotonic()
    try:
        say(f"chaos: {', '.join(opts.services)} as processes (security {soak.security.mode}), "
            f"{opts.minutes:g} min, a kill every ~{opts.kill_every_s:g}s, PostgreSQL restart every "
            f"{opts.pg_restart_every_s:g}s; state in {soak.state}")  # fmt: skip
        soak.start()

        async def main() -> dict[str, Any]:
            await soak.drive()
            say("faults stopped; waiting for every in-doubt payment to resolve...")
            checks = await soak.settle()
            lost, half, examples = await soak.lost_and_half()
            t = soak.tally
            return {
                "acknowledged": t.acknowledged,
                "acknowledged_domestic": sum(len(v) for v in t.acked_domestic.values()),
                "acknowledged_cross_border": len(t.acked_cross_border),
                "lost": lost,
                "lost_examples": examples,
                "half_settled": half,
                "kills": t.kills,
                "pg_restarts": t.pg_restarts,
                "restarts_after_pg": t.restarts_after_pg,
                # Payments acknowledged after the last PostgreSQL crash: the services recovered.
                "acknowledged_since_last_pg_restart": t.acknowledged
                - t.acknowledged_at_last_pg_restart,
                "invariants_ok": all(c.ok for c in checks),
                "invariants_failed": [
                    f"{c.ledger}: {c.name}: {c.detail}" for c in checks if not c.ok
                ],
                "attempted": t.attempted,
                "refused": dict(t.refused.most_common(8)),
                "retries": t.retries,
                "unresolved": t.unresolved,
                "statuses_seen": dict(t.statuses),
                "security": soak.security.mode,
                "minutes": opts.minutes,
            }

        result = asyncio.run(main())
    finally:
        soak.close()
    result["wall_s"] = round(time.monotonic() - t0, 1)
    return result
