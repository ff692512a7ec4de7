"""`corridor bench vouchers`: condition-checked, durably settled redemptions per second.

Measured in one run on this machine, against a baseline taken in the same run (the box is shared):
(a) `baseline_commit_tps`: one transfer per durable commit, the naive way (corridor.bench);
(b) `condition_evals_per_s`: a compiled consumption-voucher condition evaluated in-process;
(c) `redemptions_per_s`: RedeemBatch over real gRPC to the vouchers service running as its own OS
    process -- every redemption evaluated, audited and settled on the ledger with fsync on;
(d) `unary_redemptions_per_s`: one Redeem RPC per payment, for comparison.
Redemptions are seeded (random.Random(7)): 90% allowed, 10% refused by a merchant-category clause.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from corridor import pg
from corridor.bench import baseline_commit_tps, closed_loop, free_port, percentile, security_mode
from corridor.security.credentials import metadata_for
from corridor.server import channel
from corridor.v1 import vouchers_pb2 as pb
from corridor.v1 import vouchers_pb2_grpc
from services.vouchers.conditions import (
    Merchant,
    Party,
    ProgramCounters,
    RedemptionFacts,
    build_context,
)
from services.vouchers.invariants import check_voucher_invariants
from services.vouchers.service import at_us
from services.vouchers.templates import consumption_voucher

PROGRAMS = 200
BATCH = 500
BATCH_CLIENTS = 4
UNARY_CLIENTS = 16
START = dt.datetime(2025, 3, 3, 2, 0, tzinfo=dt.UTC)
GOOD, BAD = "5411", "7995"


def _redeem(rng: random.Random, serial: int) -> Any:
    refused = rng.random() < 0.10
    merchant = f"m-{rng.randrange(500)}"
    return pb.RedeemVoucherRequest(
        idempotency_key=f"b{serial}",
        program_id=f"bench-{rng.randrange(PROGRAMS)}",
        amount_minor=1 + rng.randrange(5_000),
        currency="CNY",
        merchant=pb.VoucherMerchant(
            id=merchant, category=BAD if refused else GOOD, region="440303"
        ),
        payer=pb.VoucherParty(id=f"w-{rng.randrange(10_000)}", tier=3),
        payee=pb.VoucherParty(id=merchant, tier=2),
        business_at_us=at_us(START),
    )


def condition_evals_per_s(seconds: float) -> float:
    """The in-process cost of one decision: build the context, evaluate the compiled condition."""
    program = consumption_voucher(
        program_id="eval", funder_id="gov", amount_minor=10**9, merchant_categories=[GOOD, "5812"],
        regions=["4403"], expires_at=START + dt.timedelta(days=30), per_payment_cap_minor=10**6,
    )  # fmt: skip
    condition = program.compile()
    facts = RedemptionFacts(
        3_000, "CNY", Merchant("m-1", GOOD, "440303"), Party("w-1", 3), Party("m-1", 2), START, {}
    )
    counters = ProgramCounters(10**9, 0, 10**9, 0)
    done, stop_at = 0, time.perf_counter() + seconds
    t0 = time.perf_counter()
    while time.perf_counter() < stop_at:
        for _ in range(1_000):
            condition.evaluate(build_context(facts, counters, program.zone, condition.needs))
        done += 1_000
    return done / (time.perf_counter() - t0)


async def _prepare(stub: Any, md: tuple[tuple[str, str], ...]) -> None:
    await stub.Deposit(
        pb.VoucherDepositRequest(
            idempotency_key="seed", funder_id="gov-bench", amount_minor=10**15, currency="CNY"
        ),
        metadata=md,
    )
    expires = at_us(START + dt.timedelta(days=365))
    await asyncio.gather(
        *(
            stub.IssueProgram(
                pb.IssueProgramRequest(
                    idempotency_key=f"issue-{i}",
                    template=pb.VOUCHER_TEMPLATE_CONSUMPTION_VOUCHER,
                    program=pb.VoucherProgram(
                        program_id=f"bench-{i}", funder_id="gov-bench", amount_minor=10**12,
                        currency="CNY", expires_at_us=expires, per_payment_cap_minor=100_000,
                    ),
                    consumption_voucher=pb.ConsumptionVoucherParams(
                        merchant_categories=[GOOD, "5812"], regions=["4403"]
                    ),
                    business_at_us=at_us(START),
                ),
                metadata=md,
            )
            for i in range(PROGRAMS)
        )
    )  # fmt: skip


async def _measure(target: str, seconds: float) -> dict[str, Any]:
    rng = random.Random(7)
    serial = iter(range(10**12))
    counts = {"evaluated": 0}
    # An operations identity, passed per call like every client's credential (authz.RULES).
    md = metadata_for("admin", "bench")
    async with channel(target) as ch:
        stub = vouchers_pb2_grpc.VouchersStub(ch)
        await _prepare(stub, md)

        async def batch() -> int:
            request = pb.RedeemVoucherBatchRequest(
                redemptions=[_redeem(rng, next(serial)) for _ in range(BATCH)]
            )
            response = await stub.RedeemBatch(request, metadata=md)
            counts["evaluated"] += len(response.results)
            return sum(1 for r in response.results if r.settled)

        async def unary() -> int:
            request = _redeem(rng, next(serial))
            request.merchant.category = GOOD
            await stub.Redeem(request, metadata=md)
            return 1

        await closed_loop(batch, 2, min(1.0, seconds / 4))  # warm-up: caches, accounts
        counts["evaluated"] = 0
        t0 = time.perf_counter()
        batch_rate, batch_lat = await closed_loop(batch, BATCH_CLIENTS, seconds)
        evaluated_rate = counts["evaluated"] / (time.perf_counter() - t0)
        unary_rate, unary_lat = await closed_loop(unary, UNARY_CLIENTS, max(1.0, seconds / 2))
    return {
        "redemptions_per_s": round(batch_rate, 1),
        "evaluations_per_s": round(evaluated_rate, 1),
        "p50_ms": round(percentile(batch_lat, 50), 3),
        "p99_ms": round(percentile(batch_lat, 99), 3),
        "unary_redemptions_per_s": round(unary_rate, 1),
        "unary_p99_ms": round(percentile(unary_lat, 99), 3),
    }


def _start_service(url: str, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable, "-c", "from services.vouchers.server import main; main()",
        "--bind", f"127.0.0.1:{port}", "--database-url", url, "--expire-every-s", "0",
    ]  # fmt: skip
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115 - owned by the child
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)


async def bench_vouchers(seconds: float, state: Path | None = None) -> dict[str, Any]:
    """Run every phase and return the figures (the CLI prints the JSON as its last line)."""
    from corridor.config import state_dir
    from corridor.fleet import wait_healthy

    state = state or state_dir()
    server = pg.server_url(state)
    base_tps, _ = await baseline_commit_tps(
        pg.with_database(server, "corridor_bench_voucher_baseline"), seconds
    )
    evals = await asyncio.to_thread(condition_evals_per_s, min(seconds, 2.0))
    url = pg.with_database(server, "corridor_bench_vouchers")
    await pg.drop_database(url)
    await pg.ensure_database(url)
    port = free_port()
    proc = _start_service(url, port, state / "logs" / "bench-vouchers.log")
    try:
        await asyncio.to_thread(wait_healthy, f"127.0.0.1:{port}", 60, proc)
        figures = await _measure(f"127.0.0.1:{port}", seconds)
    finally:
        proc.terminate()
        proc.wait(15)
    violations = await check_voucher_invariants(url)
    await pg.drop_database(url)
    rate = figures["redemptions_per_s"]
    return {
        "title": f"corridor bench vouchers ({os.cpu_count()} cores, security {security_mode()}, "
        f"{seconds:g}s per phase, "
        f"batch {BATCH} x {BATCH_CLIENTS} clients, {PROGRAMS} programs)",
        **figures,
        "condition_evals_per_s": round(evals, 1),
        "baseline_commit_tps": round(base_tps, 1),
        "redemptions_vs_baseline": round(rate / base_tps, 2) if base_tps else 0.0,
        "invariants_ok": not violations,
    }
