"""Benchmarks measured against baselines taken in the same run (the machine is shared and noisy).

`corridor bench ledger`: the ledger node runs as its own OS process (as in production); the load
generator is this process. Figures are throughput (per second) and latency percentiles (ms).
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console

from corridor import pg
from corridor.server import channel
from corridor.v1 import common_pb2, ledger_pb2, ledger_pb2_grpc

N_ACCOUNTS = 10_000
FUND = 10**12


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(q / 100 * (len(values) - 1)))))
    return values[k]


async def closed_loop(
    op: Callable[[], Awaitable[int]], clients: int, seconds: float
) -> tuple[float, list[float]]:
    """Run `clients` concurrent loops of op() for `seconds`; returns (units/s, latencies ms).
    op returns how many units (transfers) it completed."""
    lat: list[float] = []
    done = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            n = await op()  # read `done` only after the await: no lost updates
            done += n
            lat.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return done / (time.perf_counter() - t0), lat


async def baseline_commit_tps(
    url: str, seconds: float, connections: int = 8
) -> tuple[float, list[float]]:
    """One transfer per durable commit on the ledger schema, the way a naive service would do it:
    lock both accounts, check, update each, insert the row, commit. `connections` in parallel."""
    from services.ledger.engine import LedgerEngine

    await pg.drop_database(url)
    await pg.ensure_database(url)
    engine = await LedgerEngine.open(url, "baseline")
    await _fund(engine, "CNY")
    await engine.close()
    conns = [await asyncpg.connect(url) for _ in range(connections)]
    seq = iter(range(10**9, 2 * 10**9))
    idle = list(conns)

    async def one() -> int:
        conn = idle.pop()
        try:
            a, b = random.sample(range(N_ACCOUNTS), 2)
            da, cb = f"b{a}", f"b{b}"
            async with conn.transaction():
                rows = await conn.fetch(
                    "SELECT id, debits_posted, credits_posted FROM accounts WHERE id = ANY($1::text[])"
                    " ORDER BY id FOR UPDATE",
                    [da, cb],
                )
                bal = {r["id"]: r["credits_posted"] - r["debits_posted"] for r in rows}
                if bal[da] < 1:
                    return 0
                await conn.execute(
                    "UPDATE accounts SET debits_posted = debits_posted + 1 WHERE id = $1", da
                )
                await conn.execute(
                    "UPDATE accounts SET credits_posted = credits_posted + 1 WHERE id = $1", cb
                )
                await conn.execute(
                    "INSERT INTO transfers (seq, id, debit_account_id, credit_account_id, amount, currency,"
                    " flags, state, business_at_us) VALUES ($1,$2,$3,$4,1,'CNY',0,1,$5)",
                    next(seq), uuid.uuid4().hex, da, cb, time.time_ns() // 1000,
                )  # fmt: skip
            return 1
        finally:
            idle.append(conn)

    try:
        return await closed_loop(one, connections, seconds)
    finally:
        for c in conns:
            await c.close()
        await pg.drop_database(url)


async def _fund(engine: Any, currency: str, prefix: str = "b") -> None:
    from services.ledger.engine import AccountSpec, TransferSpec

    await engine.create_accounts([AccountSpec(f"{prefix}.issuance", currency, "issuance", 2)])
    await engine.create_accounts(
        [AccountSpec(f"{prefix}{i}", currency, "wallet", 1) for i in range(N_ACCOUNTS)]
    )
    for start in range(0, N_ACCOUNTS, 5000):
        await engine.submit(
            [
                TransferSpec(f"fund{i}", f"{prefix}.issuance", f"{prefix}{i}", FUND, currency)
                for i in range(start, min(N_ACCOUNTS, start + 5000))
            ]
        )


def _transfer(rng: random.Random) -> ledger_pb2.Transfer:
    a, b = rng.sample(range(N_ACCOUNTS), 2)
    return ledger_pb2.Transfer(
        id=uuid.uuid4().hex, debit_account_id=f"b{a}", credit_account_id=f"b{b}",
        amount_minor=1 + rng.randrange(1000), currency="CNY", kind="p2p",
    )  # fmt: skip


async def grpc_phases(target: str, seconds: float, batch_size: int, clients: int) -> dict[str, Any]:
    from corridor.security.credentials import metadata_for

    rng = random.Random(7)
    res: dict[str, Any] = {}
    # An operations identity for raw ledger transfers (authz.RULES), passed per call like any
    # client's credential (a signed token when security is on, the default); every phase pays
    # the same per-call security cost, so unary_vs_echo isolates the ledger's own work.
    md = metadata_for("admin", "bench")
    async with channel(target) as ch:
        stub = ledger_pb2_grpc.LedgerStub(ch)
        payload = common_pb2.EchoRequest(payload=b"x" * 64)

        async def echo() -> int:
            await stub.Echo(payload, metadata=md)
            return 1

        async def unary() -> int:
            r = await stub.CreateTransfer(_transfer(rng), metadata=md)
            return 1 if r.code == ledger_pb2.OK else 0

        async def batch() -> int:
            req = ledger_pb2.CreateTransfersRequest(
                transfers=[_transfer(rng) for _ in range(batch_size)]
            )
            r = await stub.CreateTransfers(req, metadata=md)
            return sum(1 for x in r.results if x.code == ledger_pb2.OK)

        await closed_loop(echo, clients, 0.5)  # warm-up
        res["echo"] = await closed_loop(echo, clients, seconds)
        res["unary"] = await closed_loop(unary, clients, seconds)
        res["batch"] = await closed_loop(batch, 4, seconds)
    return res


async def _setup_ledger(url: str) -> None:
    from services.ledger.engine import LedgerEngine

    await pg.drop_database(url)
    await pg.ensure_database(url)
    engine = await LedgerEngine.open(url, "bench")
    await _fund(engine, "CNY")
    await engine.close()


def run_ledger_bench(
    state: Path, seconds: float, batch_size: int, clients: int, console: Console
) -> dict[str, Any]:
    from corridor.fleet import ServiceProcess, wait_healthy

    server = pg.server_url(state)
    bench_url = pg.with_database(server, "corridor_bench_ledger")
    base_url = pg.with_database(server, "corridor_bench_baseline")
    with console.status("(a) baseline: one transfer per durable commit..."):
        base_tps, base_lat = asyncio.run(baseline_commit_tps(base_url, seconds))
    with console.status("preparing the bench ledger (10,000 funded accounts)..."):
        asyncio.run(_setup_ledger(bench_url))
    port = free_port()
    import subprocess
    import sys

    logs = state / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    sp = ServiceProcess("bench-ledger", port, [
        sys.executable, "-c", "from corridor.bench import serve_bench_ledger; serve_bench_ledger()",
        bench_url, f"127.0.0.1:{port}"], logs / "bench-ledger.log")  # fmt: skip
    proc = subprocess.Popen(sp.argv, stdout=open(sp.log_path, "ab"), stderr=subprocess.STDOUT)  # noqa: SIM115
    try:
        wait_healthy(sp.target, 30, proc)
        with console.status("(b) echo, (c) unary CreateTransfer, (d) batch CreateTransfers..."):
            r = asyncio.run(grpc_phases(sp.target, seconds, batch_size, clients))
    finally:
        proc.terminate()
        proc.wait(10)
    echo_rps, echo_lat = r["echo"]
    unary_tps, unary_lat = r["unary"]
    batch_tps, batch_lat = r["batch"]
    asyncio.run(pg.drop_database(bench_url))
    return {
        "title": f"corridor bench ledger ({os.cpu_count()} cores, {seconds:g}s per phase, "
        f"batch {batch_size}, {clients} unary clients)",
        "baseline_commit_tps": round(base_tps, 1),
        "baseline_p50_ms": round(statistics.median(base_lat), 3) if base_lat else 0.0,
        "echo_rps": round(echo_rps, 1),
        "echo_p99_ms": round(percentile(echo_lat, 99), 3),
        "unary_tps": round(unary_tps, 1),
        "unary_p50_ms": round(percentile(unary_lat, 50), 3),
        "unary_p99_ms": round(percentile(unary_lat, 99), 3),
        "batch_tps": round(batch_tps, 1),
        "batch_p50_ms": round(percentile(batch_lat, 50), 3),
        "batch_p99_ms": round(percentile(batch_lat, 99), 3),
        "batch_vs_baseline": round(batch_tps / base_tps, 2) if base_tps else 0.0,
        "unary_vs_echo": round(unary_tps / echo_rps, 3) if echo_rps else 0.0,
    }


def security_mode() -> str:
    """What the bench ran with (`on` = mTLS + credentials, the default; `off` = --insecure)."""
    from corridor.security.config import SecurityConfig

    return SecurityConfig.from_env().mode


def serve_bench_ledger() -> None:
    """Entry point of the bench's ledger process: a Ledger service over one engine."""
    import sys

    from corridor.server import serve_until_signalled, start_server
    from services.ledger.engine import LedgerEngine
    from services.ledger.servicer import LedgerServicer

    url, bind = sys.argv[1], sys.argv[2]

    async def run() -> None:
        engine = await LedgerEngine.open(url, "bench")
        running = await start_server(
            [
                (
                    ledger_pb2_grpc.add_LedgerServicer_to_server,
                    LedgerServicer(engine, "BENCH"),
                    "corridor.v1.Ledger",
                )
            ],
            bind,
        )
        await serve_until_signalled(running, [engine.close])

    asyncio.run(run())
