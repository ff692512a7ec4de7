"""`corridor bench pvp`: atomic cross-border payments per second through the real services.

The CN node, the HK node and the bridge run as separate OS processes (as `corridor up` runs them)
on bench-only databases of the embedded PostgreSQL (dropped afterwards). This process is the load
generator. Each payment is CN wallet (e-CNY) -> HK wallet (e-HKD): five legs on three ledgers,
prepared as pending transfers, the decision logged durably, then posted — every leg final or none.

Phases (each `seconds` long):
  (a) baseline   one transfer per durable commit on the ledger schema, measured in the same run
                 (`corridor.bench.baseline_commit_tps`): what a naive design would get here
  (b) closed     `clients` concurrent CrossBorderPayBatch calls of `batch_size` payments
                 -> pvp_per_s, p50_ms, p99_ms (a payment's latency is its batch call's latency)
  (c) half load  open loop: batches fired on a timer at half the rate measured in (b), latency
                 measured from each batch's scheduled start (no coordinated omission)
                 -> p99_ms_half_load
Then every ledger's invariants and the cross-ledger rules (backing, no half-settled payment) are
checked on what the run wrote.

CORRIDOR_BENCH_PROFILE=<dir>: the bridge runs under cProfile and times each PvP step; the profile
(`bridge.prof`) and step timings (`pvp_steps.json`) land in <dir> and are summarised in the result.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from corridor import pg
from corridor.bench import baseline_commit_tps, closed_loop, free_port, percentile, security_mode
from corridor.config import JURISDICTIONS
from corridor.fleet import Fleet, ServiceProcess
from corridor.scenario.services import central_bank, liquidity_provider, operator
from corridor.server import channel
from corridor.v1 import bridge_pb2, bridge_pb2_grpc, ledger_pb2, node_pb2, node_pb2_grpc

WALLETS_PER_NODE = 2_000
LPS = ("lp-hk-1", "lp-cn-1", "lp-ae-1")
LP_FUNDING_MINOR = 10**15  # deep inventories: liquidity is not what this bench measures
WALLET_FUNDING_MINOR = 10**11
LEDGERS = ("cn", "hk", "bridge")


# ----------------------------------------------------------------------------- the services
class BenchFleet:
    """CN, HK and the bridge as OS processes on bench-only databases (a `corridor.fleet.Fleet`)."""

    def __init__(self, state: Path, server_url: str, profile_dir: Path | None) -> None:
        self.urls = {n: pg.with_database(server_url, f"corridor_bench_pvp_{n}") for n in LEDGERS}
        self.fleet = Fleet.plan(state, server_url, list(LEDGERS), {n: free_port() for n in LEDGERS})
        for sp in self.fleet.services:
            sp.log_path = sp.log_path.with_name(f"bench-pvp-{sp.name}.log")
        if profile_dir is not None:
            bridge = self.fleet.get("bridge")
            bridge.argv = [
                sys.executable, "-c", "from bridge.bench import serve_profiled_bridge as s; s()",
                str(profile_dir), "--bind", bridge.target,
            ]  # fmt: skip
        self.fleet.extra_env = {
            **{f"CORRIDOR_DATABASE_URL_{n.upper()}": u for n, u in self.urls.items()},
            # A closed-loop throughput bench keeps clients x batch payments in flight by design:
            # admission control (bridge/platform.py `_admit`) is measured by `bench contagion`.
            "CORRIDOR_PVP_MAX_QUEUED": os.environ.get("CORRIDOR_PVP_MAX_QUEUED", "100000"),
        }

    @property
    def services(self) -> dict[str, ServiceProcess]:
        return {sp.name: sp for sp in self.fleet.services}

    def target(self, name: str) -> str:
        return self.fleet.get(name).target

    async def reset_databases(self) -> None:
        for url in self.urls.values():
            await pg.drop_database(url)
            await pg.ensure_database(url)

    async def drop_databases(self) -> None:
        for url in self.urls.values():
            await pg.drop_database(url)

    def start(self) -> None:
        self.fleet.start()

    def stop(self) -> None:
        self.fleet.stop(grace_s=30)


# ----------------------------------------------------------------------------- seeding
async def _gather_limited(make: list[Callable[[], Awaitable[Any]]], limit: int = 32) -> list[Any]:
    """Run the calls `make` creates, at most `limit` at a time (a grpc.aio call starts when it
    is created, so callers pass factories)."""
    sem = asyncio.Semaphore(limit)

    async def one(f: Callable[[], Awaitable[Any]]) -> Any:
        async with sem:
            return await f()

    return list(await asyncio.gather(*(one(f) for f in make)))


async def seed(fleet: BenchFleet, wallets_per_node: int) -> dict[str, list[str]]:
    """Operators with reserves, tier-1 (full KYC, no limits) wallets, payers funded through one
    treasury wallet and a PayBatch, and every LP's inventory funded onto the platform."""
    wallets: dict[str, list[str]] = {}
    for code in ("CN", "HK"):
        cur = JURISDICTIONS[code].currency
        async with channel(fleet.target(code.lower())) as ch:
            cb, wl = node_pb2_grpc.CentralBankStub(ch), node_pb2_grpc.WalletsStub(ch)
            for op in ("bank-a", *LPS):
                await cb.RegisterOperator(node_pb2.RegisterOperatorRequest(operator_id=op),
                                          metadata=central_bank(code))  # fmt: skip
                await cb.Issue(node_pb2.IssueRequest(idempotency_key=f"iss-{op}", operator_id=op,
                                                     amount_minor=4 * LP_FUNDING_MINOR, currency=cur),
                               metadata=central_bank(code))  # fmt: skip
            md = operator(code)
            opened = await _gather_limited([
                lambda i=i, wl=wl, md=md: wl.OpenWallet(node_pb2.OpenWalletRequest(
                    idempotency_key=f"bw{i}", operator_id="bank-a", kind=2, tier=1, holder_name=f"bench {i}"),
                    metadata=md)
                for i in range(wallets_per_node + 1)
            ])  # fmt: skip
            treasury, *rest = (w.wallet_id for w in opened)
            wallets[code] = rest
            if code == "CN":
                await wl.LoadWallet(node_pb2.LoadWalletRequest(
                    idempotency_key="treasury", wallet_id=treasury,
                    amount_minor=WALLET_FUNDING_MINOR * wallets_per_node, currency=cur), metadata=operator(code))  # fmt: skip
                for start in range(0, len(rest), 5_000):
                    resp = await wl.PayBatch(node_pb2.PayBatchRequest(payments=[
                        node_pb2.PayRequest(idempotency_key=f"fund-{w}", from_wallet_id=treasury, to_wallet_id=w,
                                            amount_minor=WALLET_FUNDING_MINOR, currency=cur)
                        for w in rest[start : start + 5_000]
                    ]), metadata=operator(code))  # fmt: skip
                    assert all(r.code == ledger_pb2.OK for r in resp.results), (
                        "funding the bench wallets failed"
                    )
    async with channel(fleet.target("bridge")) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        for code in ("CN", "HK"):
            for lp in LPS:
                await br.FundLiquidity(bridge_pb2.FundLiquidityRequest(
                    idempotency_key=f"bench-{lp}-{code}", liquidity_provider=lp, jurisdiction=code,
                    amount_minor=LP_FUNDING_MINOR, currency=JURISDICTIONS[code].currency),
                    metadata=liquidity_provider(lp))  # fmt: skip
    return wallets


# ----------------------------------------------------------------------------- where CPU goes
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu_s(pid: int, with_reaped_children: bool = False) -> float:
    """utime + stime of a process (every thread), from /proc; 0.0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: exited backends
    return ticks / _TICK


def _children(ppid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == ppid:
                    out.append(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


class CpuMeter:
    """CPU seconds used by each part of the system (bridge, nodes, PostgreSQL, this load
    generator) between two snapshots: on a shared 2-core machine, CPU per payment — not wall
    time — says what the design can reach when it has the cores to itself."""

    def __init__(self, fleet: BenchFleet, pg_data_dir: Path | None) -> None:
        self.pids = {n: s.proc.pid for n, s in fleet.services.items() if s.proc is not None}
        self.postmaster = 0
        if pg_data_dir is not None and (pg_data_dir / "postmaster.pid").exists():
            self.postmaster = int((pg_data_dir / "postmaster.pid").read_text().split()[0])

    def snapshot(self) -> dict[str, float]:
        snap = {n: _proc_cpu_s(pid) for n, pid in self.pids.items()}
        t = os.times()
        snap["client"] = t.user + t.system
        if self.postmaster:
            # Backends serve one database each ("postgres: <user> <db> ..."): attribute them to
            # their ledger; background processes (WAL writer, checkpointer...) are shared.
            snap.update({"pg_cn": 0.0, "pg_hk": 0.0, "pg_bridge": 0.0})
            snap["pg_shared"] = _proc_cpu_s(self.postmaster, True)
            for child in _children(self.postmaster):
                try:
                    title = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").split()
                except OSError:
                    continue
                client_backend = len(title) > 3 and (b"[local]" in title or b"(" in title[3])
                if not client_backend:
                    snap["pg_shared"] += _proc_cpu_s(child)
                    continue
                ledger = title[2].decode().removeprefix("corridor_bench_pvp_")
                if f"pg_{ledger}" in snap:  # other databases on the server are not ours
                    snap[f"pg_{ledger}"] += _proc_cpu_s(child)
        return snap

    def loop_times(self) -> dict[str, tuple[float, float]]:
        """Per service, its main thread's (seconds on a CPU, seconds runnable but waiting for
        one), from /proc/<pid>/schedstat: the event loop lives on the main thread."""
        out = {}
        for n, pid in self.pids.items():
            try:
                run_ns, wait_ns, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
            except (OSError, ValueError):
                continue
            out[n] = (int(run_ns) / 1e9, int(wait_ns) / 1e9)
        return out

    @staticmethod
    def loop_shares(
        before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]], wall_s: float
    ) -> dict[str, float]:
        """% of the phase each service's event loop ran, and % it sat runnable without a CPU
        (the machine's other load). Running + waiting near 100% = that loop is the bottleneck."""
        out = {}
        for n in sorted(before.keys() & after.keys()):
            out[f"{n}_loop_running_pct"] = round(100 * (after[n][0] - before[n][0]) / wall_s, 1)
            out[f"{n}_loop_waiting_cpu_pct"] = round(100 * (after[n][1] - before[n][1]) / wall_s, 1)
        return out

    @staticmethod
    def per_payment_ms(
        before: dict[str, float], after: dict[str, float], payments: int
    ) -> dict[str, float]:
        return {k: round(1000 * (after[k] - before[k]) / max(1, payments), 3) for k in before}


# ----------------------------------------------------------------------------- load
class PaymentSource:
    """Fresh CN->HK payments between random wallets (seeded), each with a unique key."""

    def __init__(self, wallets: dict[str, list[str]], seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.payers, self.payees = wallets["CN"], wallets["HK"]
        self.keys = itertools.count()
        self.run = f"{time.time_ns():x}"

    def batch(self, n: int) -> bridge_pb2.CrossBorderPayBatchRequest:
        rng = self.rng
        return bridge_pb2.CrossBorderPayBatchRequest(payments=[
            bridge_pb2.CrossBorderPayRequest(
                idempotency_key=f"{self.run}-{next(self.keys)}", payer_jurisdiction="CN",
                payer_wallet_id=rng.choice(self.payers), payee_jurisdiction="HK",
                payee_wallet_id=rng.choice(self.payees), amount_minor=rng.randrange(100, 100_000),
                currency="CNY", purpose="trade",
            )
            for _ in range(n)
        ])  # fmt: skip


async def open_loop(
    send: Callable[[int], Awaitable[int]], rate_per_s: float, batch: int, seconds: float
) -> tuple[float, list[float]]:
    """Fire a batch every batch/rate seconds regardless of answers; latency from each batch's
    scheduled start. Returns (settled per second, latencies ms)."""
    interval = batch / rate_per_s
    lat: list[float] = []
    done = 0

    async def one(scheduled: float) -> None:
        nonlocal done
        n = await send(batch)
        done += n
        lat.append((time.perf_counter() - scheduled) * 1000)

    t0 = time.perf_counter()
    tasks = []
    for k in range(max(1, int(seconds / interval))):
        scheduled = t0 + k * interval
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    return done / max(time.perf_counter() - t0, len(tasks) * interval), lat


async def load_phases(fleet: BenchFleet, wallets: dict[str, list[str]], seconds: float,
                      batch_size: int, clients: int, meter: CpuMeter) -> dict[str, Any]:  # fmt: skip
    source = PaymentSource(wallets)
    refused: dict[str, int] = {}
    payer = operator("CN,HK")  # bank-a pays for its holders (credential minted once, cached)
    async with channel(fleet.target("bridge")) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)

        async def send(n: int) -> int:
            resp = await br.CrossBorderPayBatch(source.batch(n), timeout=120, metadata=payer)
            ok = 0
            for r in resp.receipts:
                if r.status == bridge_pb2.PAYMENT_STATUS_SETTLED:
                    ok += 1
                else:
                    refused[r.reason] = refused.get(r.reason, 0) + 1
            return ok

        await closed_loop(lambda: send(batch_size), clients, min(2.0, seconds / 2))  # warm-up
        refused.clear()
        cpu0, loop0, t0 = meter.snapshot(), meter.loop_times(), time.perf_counter()
        rate, lat = await closed_loop(lambda: send(batch_size), clients, seconds)
        wall = time.perf_counter() - t0
        cpu = CpuMeter.per_payment_ms(cpu0, meter.snapshot(), round(rate * wall))
        loops = CpuMeter.loop_shares(loop0, meter.loop_times(), wall)
        half = rate / 2
        # ~50 batches a second at half load (at least 1 payment each) so p99 has samples.
        open_batch = max(1, min(batch_size, round(half / 50)))
        half_rate, half_lat = await open_loop(send, half, open_batch, seconds)
    return {"rate": rate, "lat": lat, "half": half, "half_rate": half_rate, "cpu": cpu, "loops": loops,
            "half_lat": half_lat, "open_batch": open_batch, "refused": refused}  # fmt: skip


async def invariants_ok(urls: dict[str, str]) -> tuple[bool, list[str]]:
    import bridge.invariants  # noqa: F401 - registers the cross-ledger checks
    from corridor.invariants import check_all

    checks = await check_all(urls)
    return all(c.ok for c in checks), [
        f"{c.ledger}: {c.name}: {c.detail}" for c in checks if not c.ok
    ]


# ----------------------------------------------------------------------------- the bench
def run_pvp_bench(
    state: Path, seconds: float, batch_size: int, clients: int, console: Console,
    wallets_per_node: int = WALLETS_PER_NODE,
) -> dict[str, Any]:  # fmt: skip
    """Run the three phases (module doc) and return the figures; the last line of
    `corridor bench pvp --json` is this dict (title aside)."""
    load_at_start = os.getloadavg()[0]
    server = pg.server_url(state)
    profile = os.environ.get("CORRIDOR_BENCH_PROFILE", "")
    profile_dir = Path(profile).resolve() if profile else None
    if profile_dir:
        profile_dir.mkdir(parents=True, exist_ok=True)
    base_url = pg.with_database(server, "corridor_bench_pvp_baseline")
    with console.status("(a) baseline: one transfer per durable commit..."):
        base_tps, base_lat = asyncio.run(baseline_commit_tps(base_url, seconds))
    fleet = BenchFleet(state, server, profile_dir)
    asyncio.run(fleet.reset_databases())
    try:
        with console.status("starting CN, HK and the bridge as separate processes..."):
            fleet.start()
        with console.status(f"seeding {wallets_per_node:,} wallets per node and the LPs..."):
            wallets = asyncio.run(seed(fleet, wallets_per_node))
        with console.status("(b) closed loop, (c) open loop at half the rate..."):
            pg_dir = None if os.environ.get("CORRIDOR_DATABASE_URL") else state / "pg"
            meter = CpuMeter(fleet, pg_dir)
            r = asyncio.run(load_phases(fleet, wallets, seconds, batch_size, clients, meter))
        fleet.stop()  # the profiled bridge writes its profile on a clean exit
        with console.status("checking every ledger's invariants..."):
            ok, bad = asyncio.run(invariants_ok(fleet.urls))
    finally:
        fleet.stop()
        asyncio.run(fleet.drop_databases())
    rate = r["rate"]
    out: dict[str, Any] = {
        "title": f"corridor bench pvp ({os.cpu_count()} cores, security {security_mode()}, {seconds:g}s per phase, "
        f"batch {batch_size}, {clients} clients, CN->HK, 5 legs on 3 ledgers per payment)",
        "pvp_per_s": round(rate, 1),
        "p50_ms": round(percentile(r["lat"], 50), 3),
        "p99_ms": round(percentile(r["lat"], 99), 3),
        "half_load_per_s": round(r["half"], 1),
        "half_load_achieved_per_s": round(r["half_rate"], 1),
        "half_load_batch": r["open_batch"],
        "p50_ms_half_load": round(percentile(r["half_lat"], 50), 3),
        "p99_ms_half_load": round(percentile(r["half_lat"], 99), 3),
        "baseline_commit_tps": round(base_tps, 1),
        "baseline_p50_ms": round(statistics.median(base_lat), 3) if base_lat else 0.0,
        "pvp_vs_baseline": round(rate / base_tps, 2) if base_tps else 0.0,
        "ledger_transfers_per_s": round(rate * 10, 1),  # 5 legs prepared + 5 posted
        "refused": sum(r["refused"].values()),
        # CPU per settled payment in each process during (b), and the rate the system's own CPU
        # would allow if it had every core of this machine to itself (load generator excluded).
        **{f"cpu_ms_per_pvp_{k}": v for k, v in r["cpu"].items()},
        "cpu_bound_pvp_per_s": round(
            1000
            * (os.cpu_count() or 1)
            / max(1e-9, sum(v for k, v in r["cpu"].items() if k != "client")),
            1,
        ),
        **r["loops"],
        "loadavg_1m_at_start": round(load_at_start, 2),
        "invariants_ok": ok,
    }
    if r["refused"]:
        out["refused_reasons"] = json.dumps(r["refused"], sort_keys=True)
    if bad:
        out["invariant_failures"] = "; ".join(bad)
    if profile_dir:
        out.update(_profile_summary(profile_dir))
    return out


# ----------------------------------------------------------------------------- profiling
def serve_profiled_bridge() -> None:
    """Entry point of the bridge under CORRIDOR_BENCH_PROFILE: cProfile over the event loop's
    thread, and wall time per PvP step (log, prepare per ledger, decide, resolve, done)."""
    import cProfile

    from bridge import pvp
    from bridge.server import main

    out_dir = Path(sys.argv[1])
    steps: dict[str, list[float]] = {}

    def timed(name: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await fn(*a, **kw)
            finally:
                steps.setdefault(name, []).append(time.perf_counter() - t0)

        return wrapper

    coord = pvp.PvPCoordinator
    for name in ("_round", "_prepare", "_resolve", "_write_states"):
        setattr(coord, name, timed(name, getattr(coord, name)))
    from bridge import platform

    platform.BridgePlatform.pay = timed("pay", platform.BridgePlatform.pay)  # type: ignore[method-assign]
    platform.RemoteLedger.submit = timed("remote_submit", platform.RemoteLedger.submit)  # type: ignore[method-assign]
    platform.LocalLedger.submit = timed("bridge_ledger_submit", platform.LocalLedger.submit)  # type: ignore[method-assign]
    prof = cProfile.Profile()
    try:
        prof.runcall(main, sys.argv[2:])
    finally:
        prof.dump_stats(str(out_dir / "bridge.prof"))
        summary = {
            k: {"calls": len(v), "total_s": round(sum(v), 3), "mean_ms": round(1000 * sum(v) / len(v), 2)}
            for k, v in steps.items()
        }  # fmt: skip
        (out_dir / "pvp_steps.json").write_text(json.dumps(summary, indent=2))


def _profile_summary(profile_dir: Path) -> dict[str, Any]:
    import io
    import pstats

    out: dict[str, Any] = {"profile_dir": str(profile_dir)}
    steps = profile_dir / "pvp_steps.json"
    if steps.exists():
        out["pvp_steps"] = steps.read_text().replace("\n", " ")
    prof = profile_dir / "bridge.prof"
    if prof.exists():
        buf = io.StringIO()
        pstats.Stats(str(prof), stream=buf).sort_stats("tottime").print_stats(25)
        (profile_dir / "bridge_top.txt").write_text(buf.getvalue())
        out["profile_top"] = str(profile_dir / "bridge_top.txt")
    return out
