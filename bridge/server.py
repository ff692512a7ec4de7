"""gRPC front of the bridge: Bridge + its own Ledger service on one port."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from corridor import pg, telemetry
from corridor.config import ServiceSettings
from corridor.errors import invalid, not_found
from corridor.server import RunningServer, serve_until_signalled, start_server
from corridor.v1 import bridge_pb2, bridge_pb2_grpc, ledger_pb2_grpc
from bridge.platform import BridgePlatform, LocalLedger, OperatingRules, RemoteLedger, node_targets
from bridge.pvp import PVP_MIGRATIONS
from services.ledger.engine import LedgerEngine
from services.ledger.schema import migrate
from services.ledger.servicer import LedgerServicer

log = logging.getLogger("corridor.bridge")


class BridgeServicer(bridge_pb2_grpc.BridgeServicer):
    def __init__(self, platform: BridgePlatform) -> None:
        self.p = platform

    async def RequestQuote(self, request, context):  # type: ignore[no-untyped-def]
        q = self.p.quote(request.from_currency, request.to_currency, request.amount_minor)
        return bridge_pb2.FxQuote(
            quote_id=q.quote_id, liquidity_provider=q.provider, mode=q.mode, from_currency=q.base,
            to_currency=q.quote, rate=str(q.rate.decimal(8)), mid_rate=str(q.mid.decimal(8)),
            spread_bps=q.spread_bps, slippage_bps=q.slippage_bps, amount_minor=q.amount_minor,
            payee_amount_minor=q.payee_amount_minor, fee_minor=q.fee_minor, expires_at_us=q.expires_at_us,
            liquidity_locked_minor=q.liquidity_locked_minor,
        )  # fmt: skip

    async def CrossBorderPay(self, request, context):  # type: ignore[no-untyped-def]
        (receipt,) = await self.p.pay([request], raise_single=True)
        return receipt

    async def CrossBorderPayBatch(self, request, context):  # type: ignore[no-untyped-def]
        n = len(request.payments)
        if n == 0 or n > 8000:
            raise invalid("payments", f"a batch holds 1..8000 payments (got {n})")
        return bridge_pb2.CrossBorderPayBatchResponse(
            receipts=await self.p.pay(list(request.payments), False)
        )

    async def GetPayment(self, request, context):  # type: ignore[no-untyped-def]
        if not request.payment_id:
            raise invalid("payment_id", "must not be empty")
        rec = await self.p.get_payment(request.payment_id)
        if rec is None:
            raise not_found("payment_id", f"no payment {request.payment_id!r}")
        return rec

    async def ResolvePayments(self, request, context):  # type: ignore[no-untyped-def]
        if len(request.payment_ids) > 10_000:
            raise invalid("payment_ids", "at most 10000 ids")
        decided = await self.p.coordinator.decide_for_participant(list(request.payment_ids))
        return bridge_pb2.ResolvePaymentsResponse(
            decisions=[bridge_pb2.Decision(payment_id=k, commit=v) for k, v in decided.items()]
        )

    async def FundLiquidity(self, request, context):  # type: ignore[no-untyped-def]
        return await self.p.move_liquidity(request, onto=True)

    async def WithdrawLiquidity(self, request, context):  # type: ignore[no-untyped-def]
        return await self.p.move_liquidity(request, onto=False)

    async def GetFxMarket(self, request, context):  # type: ignore[no-untyped-def]
        return self.p.market()

    async def RunEndOfDaySweep(self, request, context):  # type: ignore[no-untyped-def]
        if not request.idempotency_key:
            raise invalid("idempotency_key", "must not be empty")
        return bridge_pb2.EndOfDaySweepResponse(
            sweeps=await self.p.end_of_day_sweep(request.idempotency_key, request.jurisdiction)
        )


async def create_server(
    settings: ServiceSettings, nodes: dict[str, str] | None = None
) -> tuple[RunningServer, BridgePlatform]:
    url = settings.database_url or pg.ledger_url("bridge")
    await pg.ensure_database(url)
    engine = await LedgerEngine.open(url, "BRIDGE")
    async with engine.pool.acquire() as conn:
        await migrate(conn, "pvp", PVP_MIGRATIONS)
    participants = {"BRIDGE": LocalLedger(engine)}
    for code, target in (nodes or node_targets()).items():
        participants[code] = RemoteLedger(code, target)
    platform = BridgePlatform(engine, OperatingRules.load(), participants)
    _install_fault_point(platform)
    await platform.open_accounts()
    # Recovery before serving: every in-doubt payment in the log is finished first (nodes that
    # are down are retried by the periodic recovery below).
    await platform.coordinator.start()
    running = await start_server(
        [
            (
                bridge_pb2_grpc.add_BridgeServicer_to_server,
                BridgeServicer(platform),
                "corridor.v1.Bridge",
            ),
            (
                ledger_pb2_grpc.add_LedgerServicer_to_server,
                LedgerServicer(engine, "BRIDGE"),
                "corridor.v1.Ledger",
            ),
        ],
        settings.bind,
    )
    platform.recovery_task = asyncio.create_task(_recover_forever(platform))  # type: ignore[attr-defined]
    return running, platform


def _install_fault_point(platform: BridgePlatform) -> None:
    """Fault-injection tests only: with CORRIDOR_FAULT_STEP=<logged|prepared|decided|resolved>
    the process exits at once (no cleanup, like SIGKILL) the first time a round reaches that step
    after CORRIDOR_FAULT_AFTER rounds (default 0) have passed it."""
    step = os.environ.get("CORRIDOR_FAULT_STEP", "")
    if not step:
        return
    passes = int(os.environ.get("CORRIDOR_FAULT_AFTER", "0"))

    async def crash(at: str) -> None:
        nonlocal passes
        if at == step:
            if passes == 0:
                log.warning("fault injection: exiting at step %r", at)
                os._exit(137)
            passes -= 1

    platform.coordinator.fault_hook = crash


async def _recover_forever(platform: BridgePlatform, every_s: float = 5.0) -> None:
    import time

    while True:
        await asyncio.sleep(every_s)
        try:
            # Only payments older than a round can be stuck; younger ones are still in flight.
            await platform.coordinator.recover(
                older_than_us=time.time_ns() // 1000 - int(every_s * 1e6)
            )
        except Exception as exc:  # noqa: BLE001 - a node may be down; try again later
            log.warning("recovery pass failed: %s", exc)


async def close_platform(platform: BridgePlatform) -> None:
    platform.recovery_task.cancel()  # type: ignore[attr-defined]
    await platform.coordinator.stop()
    for p in platform.participants.values():
        if isinstance(p, RemoteLedger):
            await p.close()
    await platform.engine.close()


async def run(bind: str, database_url: str = "") -> None:
    settings = ServiceSettings(name="bridge", bind=bind, database_url=database_url)
    telemetry.init_tracing(settings.service_name)
    running, platform = await create_server(settings)
    print(f"corridor bridge serving on port {running.port}", flush=True)
    await serve_until_signalled(running, [lambda: close_platform(platform)])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="corridor bridge", description="Run the mBridge-style platform."
    )
    ap.add_argument("--bind", default="127.0.0.1:50060")
    ap.add_argument("--database-url", default="")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(run(a.bind, a.database_url))
