"""How many postings per second the live supervision path keeps pace with.

The path measured is the production one: a CN node (its own OS process, its own database)
commits payments; supervision (this process) streams them with `Ledger.StreamPostings`, converts
them (wallet profiles from the node's KycRegistry), stores them with the cursor in one
transaction, merges the feeds and runs every detector. Two phases:

- **backfill**: `postings` payments are already committed when supervision starts; the clock runs
  until the last one has been judged (catching up after an outage).
- **live**: supervision follows the feed while this process writes `live_postings` more payments
  as fast as the node takes them (PayBatch); the clock runs from the first write until the last
  payment has been judged. Here writing and supervising share this process's CPU.

Traffic is seeded: `wallets` tier-1 wallets (a tenth of them merchants), payers drawn with a
heavy tail, p2p and merchant payments with log-normal amounts, business time 20 ms apart.
`python -m services.supervision.bench --postings 100000 --json`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from corridor import pg
from corridor.config import ServiceSettings
from corridor.fleet import service_argv, wait_healthy
from corridor.server import channel
from corridor.v1 import node_pb2, node_pb2_grpc
from services.supervision.server import SupervisionSettings, create_server

BATCH = 4_000  # payments per PayBatch
SPACING_S = 0.02  # business time between payments


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Traffic:
    """Seeded corridor-like domestic traffic over a fixed set of wallets."""

    def __init__(self, wallets: list[str], merchants: list[str], seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.wallets = wallets
        self.merchants = merchants
        # Heavy-tailed activity: a few wallets pay often, most rarely.
        weights = self.rng.pareto(1.2, len(wallets)) + 0.05
        self.p = weights / weights.sum()
        self.n = 0

    def batch(self, size: int, start_at_us: int) -> list[node_pb2.PayRequest]:
        rng = self.rng
        payers = rng.choice(len(self.wallets), size, p=self.p)
        payees = rng.integers(0, len(self.wallets), size)
        shops = rng.integers(0, len(self.merchants), size)
        merchant = rng.random(size) < 0.15
        amounts = np.clip(rng.lognormal(np.log(200), 1.0, size), 1, 20_000) * 100
        out = []
        for i in range(size):
            src = self.wallets[payers[i]]
            dst = self.merchants[shops[i]] if merchant[i] else self.wallets[payees[i]]
            if dst == src:
                dst = self.wallets[(payers[i] + 1) % len(self.wallets)]
            self.n += 1
            out.append(
                node_pb2.PayRequest(
                    idempotency_key=f"b{self.n}", from_wallet_id=src, to_wallet_id=dst,
                    amount_minor=int(amounts[i]), currency="CNY",
                    kind="merchant" if merchant[i] else "p2p",
                    business_at_us=start_at_us + int(i * SPACING_S * 1e6),
                )
            )  # fmt: skip
        return out


async def _setup(target: str, n_wallets: int) -> tuple[list[str], list[str]]:
    async with channel(target) as ch:
        cb, wl = node_pb2_grpc.CentralBankStub(ch), node_pb2_grpc.WalletsStub(ch)
        await cb.RegisterOperator(node_pb2.RegisterOperatorRequest(operator_id="bank-a"))
        await cb.Issue(node_pb2.IssueRequest(idempotency_key="iss", operator_id="bank-a",
                                             amount_minor=10**14, currency="CNY"))  # fmt: skip
        n_shops = max(1, n_wallets // 10)
        reqs = [
            node_pb2.OpenWalletRequest(
                idempotency_key=f"w{i}", operator_id="bank-a",
                kind=node_pb2.WALLET_KIND_MERCHANT if i < n_shops else node_pb2.WALLET_KIND_PERSONAL,
                tier=1, holder_name=f"holder {i}", merchant_category="5411" if i < n_shops else "",
            )
            for i in range(n_wallets)
        ]  # fmt: skip
        ids: list[str] = []
        for start in range(0, len(reqs), 10_000):
            chunk = node_pb2.OpenWalletsRequest(wallets=reqs[start : start + 10_000])
            ids += (await wl.OpenWallets(chunk)).wallet_ids
        sem = asyncio.Semaphore(64)

        async def load(w: str) -> None:
            async with sem:
                await wl.LoadWallet(node_pb2.LoadWalletRequest(
                    idempotency_key=f"l-{w}", wallet_id=w, amount_minor=10**8, currency="CNY"))  # fmt: skip

        await asyncio.gather(*(load(w) for w in ids))
    return ids[n_shops:], ids[:n_shops]


async def _write(target: str, traffic: Traffic, n: int, start_at_us: int) -> int:
    written = 0
    async with channel(target) as ch:
        wl = node_pb2_grpc.WalletsStub(ch)
        at = start_at_us
        while written < n:
            size = min(BATCH, n - written)
            resp = await wl.PayBatch(node_pb2.PayBatchRequest(payments=traffic.batch(size, at)))
            written += size
            at += int(size * SPACING_S * 1e6)
            _ = resp
    return written


async def _ledger_rows(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM transfers"))
    finally:
        await conn.close()


async def _backend_pids(server_url: str, databases: list[str]) -> list[int]:
    import asyncpg

    conn = await asyncpg.connect(pg.with_database(server_url, "postgres"))
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])", databases
        )
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


def _cpu_s(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of other processes (the node, PostgreSQL backends)."""
    try:
        import psutil
    except ImportError:  # optional: without it only this process's CPU is reported
        return {}
    out = {}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            out[pid] = t.user + t.system
    return out


async def _wait_judged(service: Any, rows: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while service.postings_detected + service.replayed < rows or not service.caught_up():
        if time.monotonic() > deadline:
            raise TimeoutError(f"judged {service.postings_detected} of {rows}")
        await asyncio.sleep(0.01)


async def bench_live(
    server_url: str, postings: int = 100_000, live_postings: int = 40_000, wallets: int = 20_000,
    seed: int = 7,
) -> dict[str, Any]:  # fmt: skip
    node_url = pg.with_database(server_url, "corridor_bench_sup_cn")
    sup_url = pg.with_database(server_url, "corridor_bench_supervision")
    for url in (node_url, sup_url):
        await pg.drop_database(url)
        await pg.ensure_database(url)
    port = _free_port()
    target = f"127.0.0.1:{port}"
    log = Path(tempfile.gettempdir()) / "corridor-bench-supervision-node.log"
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before any measurement
        [*service_argv("cn", port), "--database-url", node_url],
        stdout=open(log, "ab"),  # noqa: SIM115, ASYNC230 - owned by the child
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        await asyncio.to_thread(wait_healthy, target, 60.0, proc)
        people, shops = await _setup(target, wallets)
        traffic = Traffic(people, shops, seed)
        start_us = time.time_ns() // 1000 - int((postings + live_postings) * SPACING_S * 1e6)
        await _write(target, traffic, postings, start_us)
        rows = await _ledger_rows(node_url)

        # --- backfill ------------------------------------------------------------------------
        databases = ["corridor_bench_sup_cn", "corridor_bench_supervision"]
        others0 = _cpu_s([proc.pid, *await _backend_pids(server_url, databases)])
        cpu0, t0 = time.process_time(), time.perf_counter()
        running, service = await create_server(
            ServiceSettings("supervision", database_url=sup_url), {"CN": target}, "",
            SupervisionSettings(startup_grace_s=0.2),
        )  # fmt: skip
        try:
            await _wait_judged(service, rows, 300)
            backfill_s, backfill_cpu = time.perf_counter() - t0, time.process_time() - cpu0
            others1 = _cpu_s([proc.pid, *await _backend_pids(server_url, databases)])
            node_cpu = others1.get(proc.pid, 0.0) - others0.get(proc.pid, 0.0)
            pg_cpu = sum(v - others0.get(k, 0.0) for k, v in others1.items() if k != proc.pid)
            (consumer,) = service.consumers
            stages = {
                "convert_s": round(consumer.convert_s, 2),
                "ingest_s": round(consumer.ingest_s, 2),
                "detect_s": round(service.detect_s, 2),
            }
            # --- live --------------------------------------------------------------------------
            cpu1, t1 = time.process_time(), time.perf_counter()
            live_at = start_us + int(postings * SPACING_S * 1e6)
            await _write(target, traffic, live_postings, live_at)
            rows_live = await _ledger_rows(node_url)
            await _wait_judged(service, rows_live, 300)
            live_s, live_cpu = time.perf_counter() - t1, time.process_time() - cpu1
            alerts = service.alerts_raised
        finally:
            await running.stop(0)
            await service.close()
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
        if proc.poll() is None:
            proc.kill()
    for url in (node_url, sup_url):
        await pg.drop_database(url)
    live_rows = rows_live - rows
    return {
        "title": f"supervision live path: stream -> store -> detect ({os.cpu_count()} cores)",
        "backfill_postings": rows,
        "backfill_s": round(backfill_s, 2),
        "backfill_postings_per_s": round(rows / backfill_s),
        "backfill_postings_per_cpu_s": round(rows / backfill_cpu) if backfill_cpu else 0,
        "backfill_cpu_s_supervision": round(backfill_cpu, 2),
        "backfill_cpu_s_node": round(node_cpu, 2),
        "backfill_cpu_s_postgres": round(pg_cpu, 2),
        "backfill_postings_per_cpu_s_all": round(rows / (backfill_cpu + node_cpu + pg_cpu)),
        **{f"backfill_{k}": v for k, v in stages.items()},
        "live_postings": live_rows,
        "live_s": round(live_s, 2),
        "live_postings_per_s": round(live_rows / live_s),
        "live_cpu_s_incl_writer": round(live_cpu, 2),
        "alerts": alerts,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m services.supervision.bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--postings", type=int, default=100_000, help="backfill payments")
    ap.add_argument("--live-postings", type=int, default=40_000, help="payments written live")
    ap.add_argument("--wallets", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="print the result as one JSON line")
    a = ap.parse_args(argv)
    for name in ("postings", "live_postings", "wallets"):
        if getattr(a, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be >= 1")
    result = asyncio.run(
        bench_live(pg.server_url(), a.postings, a.live_postings, a.wallets, a.seed)
    )
    if a.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>32}: {v}")


if __name__ == "__main__":
    main()
