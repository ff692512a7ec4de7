"""`corridor bench contagion`: does the CBDC corridor collapse when the dollar-contagion surge hits?

In one run, against its own nodes (CN, HK) and bridge, each an OS process on free ports with
bench-only databases, driven by the open-loop generator (`loadtests.openloop`):

1. capacity: step the offered corridor rate up (x`growth` per step) until p99 (of settled
   payments, from arrival) exceeds 1 s or goodput falls under 90% of offered; one refining step
   between the last pass and the first failure. `capacity_tps` = the highest rate that passed.
2. steady: half the capacity.
3. surge: ten times the steady rate (five times capacity). The flight to safety shifts the mix:
   a fixed domestic background (Wallets.PayBatch on the same nodes) keeps running while the
   corridor's share of the traffic jumps from about 2/3 to about 19/20.
4. recovery: back to the steady rate.
5. audit: every payment answered SETTLED must be SETTLED in the bridge's log with its payer and
   payee legs posted on the nodes (`lost` counts those that are not); every payment in a batch
   answered RESOURCE_EXHAUSTED must be absent (`rejected_present`).

No congestion collapse means: `surge_vs_capacity` (goodput during the surge / capacity) >= 0.9,
`p99_ms_surge` <= 1000, `errors` = 0, `lost` = 0 - overload shed with RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from rich.console import Console

from corridor import pg
from corridor.bench import percentile
from loadtests.benchfleet import bench_corridor
from loadtests.openloop import Ledgerbook, OpenLoopGenerator, Phase, PhaseStats
from loadtests.targets import Targets
from loadtests.world import World, prepare_world

SERVICES = ["cn", "hk", "bridge"]
TAG = "bench_contagion"

# Queue bounds the bench runs the services with (see BENCHMARKS.md "contagion" for why).
# The coordinator counts only its queue against CORRIDOR_PVP_MAX_QUEUED, not the up to three
# rounds of min(queue, 2000) payments in flight, so accepted work waits about
# (max_queued + 3 x rounds) / drain rate. Measured here: 1500 -> surge p99 18.6 s; 100 -> surge
# goodput 0.74 x capacity (RetryInfo of ~1 s idles the clients); 300 -> goodput 1.17 x capacity,
# p99 ~3 s. The code default (20,000) is ~40 s of work at this box's capacity.
PVP_MAX_QUEUED = 300
LEDGER_MAX_QUEUED = 100_000


@dataclass(frozen=True)
class ContagionSettings:
    seed: int = 7
    step_s: float = 5.0
    start_tps: float = 300.0
    growth: float = 1.5
    max_steps: int = 9
    steady_s: float = 15.0
    surge_s: float = 20.0
    recovery_s: float = 6.0
    surge_factor: float = 10.0
    domestic_tps: float = 200.0
    gateways: int = 8  # client banks, each batching its own arrivals and backing off alone
    tick_s: float = 0.05  # how often a gateway sends what has arrived
    p99_limit_ms: float = 1000.0
    goodput_floor: float = 0.9
    pvp_max_queued: int = PVP_MAX_QUEUED
    ledger_max_queued: int = LEDGER_MAX_QUEUED
    # plan_cache_mode of the bench databases; "" measures PostgreSQL's default. (Before commit
    # 7e251d1 the engine's `transfers WHERE id = ANY($1)` lookup could run a cached sequential-scan
    # plan and throughput decayed as the ledger grew; "force_custom_plan" was the workaround.)
    plan_cache_mode: str = ""


def p99(stats: PhaseStats) -> float:
    return percentile(stats.latencies_ms, 99)


def sustains(stats: PhaseStats, rate: float, s: ContagionSettings) -> bool:
    """The corridor sustains `rate` if p99 stays under the limit, at least 90% of what was
    offered settled, and nothing failed or was shed."""
    return (
        stats.settled >= s.goodput_floor * stats.offered
        and p99(stats) <= s.p99_limit_ms
        and stats.error_count == 0
        and stats.rejected + stats.deferred == 0
        and stats.offered > 0
    )


class ContagionBench:
    def __init__(self, settings: ContagionSettings, console: Console) -> None:
        self.s = settings
        self.console = console
        self.steps: list[dict[str, Any]] = []
        self.phases: dict[str, PhaseStats] = {}

    # ------------------------------------------------------------------ phases
    async def _phase(self, gen: OpenLoopGenerator, phase: Phase) -> PhaseStats:
        with self.console.status(
            f"{phase.name}: offering {phase.rate_tps:,.0f} corridor payments/s"
            f" + {phase.domestic_tps:,.0f} domestic/s for {phase.seconds:g} s..."
        ):
            st = await gen.run(phase)
        self.console.print(
            f"  {phase.name:<16} offered {phase.rate_tps:8,.0f}/s  goodput {st.goodput_tps():8,.0f}/s"
            f"  p99 {p99(st):7,.0f} ms  rejected {st.rejected:7,}  deferred {st.deferred:7,}"
            f"  errors {st.error_count}"
        )
        return st

    async def find_capacity(self, gen: OpenLoopGenerator) -> float:
        s = self.s
        rate, passed, failed = s.start_tps, 0.0, 0.0
        for _ in range(s.max_steps):
            st = await self._phase(
                gen, Phase(f"capacity {rate:,.0f}", rate, s.step_s, s.domestic_tps)
            )
            ok = sustains(st, rate, s)
            self.steps.append(_step_row(rate, st, ok))
            if ok:
                passed = rate
                rate *= s.growth
            else:
                failed = rate
                if passed:
                    break
                rate /= s.growth * s.growth  # even the first step failed: start lower
                if rate < 10:
                    break
        if passed and failed:
            mid = math.sqrt(passed * failed)
            st = await self._phase(
                gen, Phase(f"capacity {mid:,.0f}", mid, s.step_s, s.domestic_tps)
            )
            ok = sustains(st, mid, s)
            self.steps.append(_step_row(mid, st, ok))
            if ok:
                passed = mid
        return passed

    async def drive(self, targets: Targets, urls: dict[str, str]) -> dict[str, Any]:
        s = self.s
        with self.console.status("opening wallets, issuing CBDC, funding liquidity providers..."):
            world = await prepare_world(targets, TAG, wallets_cap=1000)
        gen = OpenLoopGenerator(world, seed=s.seed, gateways=s.gateways, tick_s=s.tick_s,
                               run_tag=f"c{int(time.time())}")  # fmt: skip
        try:
            await self._phase(gen, Phase("warm-up", s.start_tps / 2, 3.0, s.domestic_tps))
            capacity = await self.find_capacity(gen)
            if capacity <= 0:
                raise RuntimeError("the corridor sustained none of the offered rates")
            steady = capacity / 2
            surge = steady * s.surge_factor
            self.phases["steady"] = await self._phase(
                gen, Phase("steady", steady, s.steady_s, s.domestic_tps)
            )
            self.phases["surge"] = await self._phase(
                gen, Phase("surge", surge, s.surge_s, s.domestic_tps)
            )
            self.phases["recovery"] = await self._phase(
                gen, Phase("recovery", steady, s.recovery_s, s.domestic_tps)
            )
        finally:
            await gen.close()
        with self.console.status("auditing every acknowledged payment against the ledgers..."):
            audit = await audit_ledgers(gen.book, urls, world)
        return self._result(capacity, steady, surge, audit, gen.book)

    # ------------------------------------------------------------------ result
    def _result(self, capacity: float, steady: float, surge: float, audit: dict[str, int],
                book: Ledgerbook) -> dict[str, Any]:  # fmt: skip
        st, su, rc = self.phases["steady"], self.phases["surge"], self.phases["recovery"]
        all_phases = list(self.phases.values())
        goodput = su.goodput_tps()
        errors = sum(p.error_count for p in all_phases) + sum(x["errors"] for x in self.steps)
        ratio = goodput / capacity if capacity else 0.0
        goals = {
            "surge_vs_capacity >= 0.9": ratio >= 0.9,
            "p99_ms_surge <= 1000": p99(su) <= 1000,
            "errors = 0": errors == 0,
            "lost = 0": audit["lost"] == 0,
        }
        return {
            "title": f"corridor bench contagion ({os.cpu_count()} cores; CN, HK nodes + bridge as "
            f"processes; seed {self.s.seed}; CORRIDOR_PVP_MAX_QUEUED={self.s.pvp_max_queued})",
            "load_average_1m": round(os.getloadavg()[0], 2),
            "capacity_tps": round(capacity, 1),
            "steady_tps": round(steady, 1),
            "surge_offered_tps": round(surge, 1),
            "surge_goodput_tps": round(goodput, 1),
            "surge_vs_capacity": round(ratio, 3),
            "p50_ms_steady": round(percentile(st.latencies_ms, 50), 1),
            "p99_ms_steady": round(p99(st), 1),
            "p50_ms_surge": round(percentile(su.latencies_ms, 50), 1),
            "p99_ms_surge": round(p99(su), 1),
            "p99_ms_recovery": round(p99(rc), 1),
            "domestic_tps": self.s.domestic_tps,
            "domestic_p99_ms_surge": round(percentile(su.domestic_latencies_ms, 99), 1),
            "rejected": sum(p.rejected + p.domestic_rejected for p in all_phases),
            "deferred": sum(p.deferred + p.domestic_deferred for p in all_phases),
            "retry_after_ms_median": round(
                percentile([x * 1000 for p in all_phases for x in p.retry_after_s], 50), 1
            ),
            "errors": errors,
            "error_kinds": _merge_errors(all_phases),
            "acknowledged": len(book.acked) + sum(len(v) for v in book.domestic_acked.values()),
            "lost": audit["lost"],
            "rejected_present": audit["rejected_present"],
            "plan_cache_mode": self.s.plan_cache_mode or "default",
            "pvp_max_queued": self.s.pvp_max_queued,
            "ledger_max_queued": self.s.ledger_max_queued,
            "goals_met": all(goals.values()),
            "goals": goals,
            "capacity_steps": self.steps,
        }


def _step_row(rate: float, st: PhaseStats, ok: bool) -> dict[str, Any]:
    return {
        "offered_tps": round(rate, 1),
        "goodput_tps": round(st.goodput_tps(), 1),
        "p99_ms": round(p99(st), 1),
        "rejected": st.rejected + st.deferred,
        "errors": st.error_count,
        "sustained": ok,
    }


def _merge_errors(phases: list[PhaseStats]) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in phases:
        for k, v in (*p.errors.items(), *p.refused.items()):
            out[k] = out.get(k, 0) + v
    return out


# ---------------------------------------------------------------------- the audit
async def audit_ledgers(
    book: Ledgerbook, urls: dict[str, str], world: World, settle_wait_s: float = 40.0
) -> dict[str, int]:
    """Count acknowledged payments absent from the ledgers, and shed ones present.

    A settled payment must be SETTLED in the coordinator's log and have every leg posted on its
    ledger. A leg still pending is given up to `settle_wait_s` (a node holds a PvP leg until its
    timeout, then asks the coordinator) before it counts as lost."""
    deadline = time.monotonic() + settle_wait_s
    while True:
        lost, pending = await _settled_missing(book.acked, urls)
        if not pending or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    conn = await asyncpg.connect(urls["bridge"])
    try:
        from bridge.platform import payment_id_for

        shed = [payment_id_for(k) for k in book.rejected_keys]
        present = await conn.fetchval(
            "SELECT count(*) FROM pvp_payments WHERE payment_id = ANY($1::text[])", shed
        )
    finally:
        await conn.close()
    for code, ids in book.domestic_acked.items():
        found = await _count_transfers(urls[code.lower()], ids, states=(1,))
        lost += len(ids) - found
    for code, ids in book.domestic_rejected.items():
        present += await _count_transfers(urls[code.lower()], ids, states=None)
    return {"lost": lost + pending, "rejected_present": int(present)}


async def _settled_missing(acked: list[str], urls: dict[str, str]) -> tuple[int, int]:
    """(lost, still pending) among acknowledged cross-border payments."""
    if not acked:
        return 0, 0
    conn = await asyncpg.connect(urls["bridge"])
    try:
        rows = await conn.fetch(
            "SELECT payment_id, state, leg_ledgers, leg_ids FROM pvp_payments"
            " WHERE payment_id = ANY($1::text[])",
            acked,
        )
    finally:
        await conn.close()
    lost = len(set(acked)) - sum(1 for r in rows if r["state"] == 4)
    legs: dict[str, list[str]] = {}
    for r in rows:
        if r["state"] != 4:
            continue
        for ledger, tid in zip(r["leg_ledgers"], r["leg_ids"], strict=True):
            legs.setdefault(ledger.lower(), []).append(tid)
    pending = 0
    for ledger, ids in legs.items():
        c = await asyncpg.connect(urls[ledger])
        try:
            states = await c.fetch(
                "SELECT state, count(*) AS n FROM transfers WHERE id = ANY($1::text[]) GROUP BY state",
                ids,
            )
        finally:
            await c.close()
        by_state = {r["state"]: r["n"] for r in states}
        pending += by_state.get(2, 0)
        lost += len(ids) - by_state.get(3, 0) - by_state.get(2, 0)  # absent, voided or expired
    return lost, pending


async def _count_transfers(url: str, ids: list[str], states: tuple[int, ...] | None) -> int:
    if not ids:
        return 0
    c = await asyncpg.connect(url)
    try:
        if states is None:
            return int(
                await c.fetchval("SELECT count(*) FROM transfers WHERE id = ANY($1::text[])", ids)
            )
        return int(
            await c.fetchval(
                "SELECT count(*) FROM transfers WHERE id = ANY($1::text[]) AND state = ANY($2::smallint[])",
                ids,
                list(states),
            )
        )
    finally:
        await c.close()


# ---------------------------------------------------------------------- entry point
def run_contagion_bench(
    state: Path, settings: ContagionSettings, console: Console
) -> dict[str, Any]:
    server = pg.server_url(state)
    env = {
        "CORRIDOR_PVP_MAX_QUEUED": str(settings.pvp_max_queued),
        "CORRIDOR_LEDGER_MAX_QUEUED": str(settings.ledger_max_queued),
        # Figures are about the payment path: no span export from the services.
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "",
        "CORRIDOR_TRACE_FILE": "",
    }
    bench = ContagionBench(settings, console)
    db = {"plan_cache_mode": settings.plan_cache_mode} if settings.plan_cache_mode else {}
    console.print("starting the CN and HK nodes and the bridge (separate processes)...")
    tag = f"{TAG}_{os.getpid()}"  # two benches at once never share databases
    with bench_corridor(state / "bench-contagion", server, tag, SERVICES, env,
                        database_settings=db) as (_, targets, urls):  # fmt: skip
        return asyncio.run(bench.drive(targets, urls))
