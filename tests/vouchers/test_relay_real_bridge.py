"""The bridge relay against the real corridor: CN and HK central-bank nodes and the bridge (each
its own database, real gRPC), so a cross-border voucher payout is a real PvP payment — the payer's
wallet on the CN node is debited, the exporter's wallet on the HK node credited, and every
invariant holds, including after the relay repeats itself (crash before saving its cursor)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

import bridge.invariants  # noqa: F401 - registers the cross-ledger checks
from corridor.invariants import check_all
from corridor.server import channel
from corridor.v1 import bridge_pb2, bridge_pb2_grpc, node_pb2, node_pb2_grpc
from services.vouchers.conditions import Party
from services.vouchers.relay import BridgeRelay
from services.vouchers.service import Redemption, VoucherService
from services.vouchers.templates import trade_finance
from tests.bridge.corridor_fixture import MiniCorridor, start_corridor
from tests.vouchers.helpers import BOL_HASH, T0, facts

PAYOUT_MINOR = 500_000  # CNY 5,000.00 per letter of credit


@pytest.fixture
async def corridor(make_db) -> AsyncIterator[MiniCorridor]:  # type: ignore[no-untyped-def]
    c = await start_corridor(make_db, wallets_per_node=2)
    yield c
    await c.close()


async def _balance(c: MiniCorridor, code: str, wallet: str) -> int:
    async with channel(c.target(code)) as ch:
        w = await node_pb2_grpc.WalletsStub(ch).GetWallet(
            node_pb2.GetWalletRequest(wallet_id=wallet)
        )
    return w.balance.posted_minor


async def _letters_of_credit(vouchers: VoucherService, exporters: list[str]) -> None:
    await vouchers.deposit("importer", "CNY", 10_000_000, "d")
    for n, exporter in enumerate(exporters):
        pid = f"lc-{n}"
        await vouchers.issue(trade_finance(
            program_id=pid, importer_id="importer", exporter_id=exporter, amount_minor=PAYOUT_MINOR,
            bill_of_lading_hash=BOL_HASH, expires_at=T0 + dt.timedelta(days=60),
        ), pid)  # fmt: skip
        paid = await vouchers.redeem(Redemption(pid, "ship", facts(
            amount_minor=PAYOUT_MINOR, payee=Party(exporter, 1),
            evidence={"bill_of_lading": BOL_HASH},
        )))  # fmt: skip
        assert paid.settled


async def test_a_cross_border_payout_is_a_real_pvp_payment_paid_once(
    vouchers: VoucherService, corridor: MiniCorridor
) -> None:
    payer, exporter = corridor.wallets["CN"][0], corridor.wallets["HK"][1]
    payer_before = await _balance(corridor, "CN", payer)
    exporter_before = await _balance(corridor, "HK", exporter)
    await _letters_of_credit(vouchers, [exporter, "hk.w.no-such-wallet"])
    async with channel(corridor.bridge_target) as ch:
        stub = bridge_pb2_grpc.BridgeStub(ch)
        relay = BridgeRelay(vouchers, stub, payer_wallet_id=payer)
        report = await relay.run_once()
        assert (report.settled, report.rejected) == (1, 1)
        async with vouchers.pool.acquire() as conn:
            rows = {r["transfer_id"]: r for r in await conn.fetch(
                "SELECT transfer_id, payment_id, status, reason FROM voucher_bridge_payouts")}  # fmt: skip
        paid, refused = rows["vr:lc-0:ship"], rows["vr:lc-1:ship"]
        assert paid["status"] == "PAYMENT_STATUS_SETTLED"
        assert refused["status"] == "PAYMENT_STATUS_REJECTED" and refused["reason"]
        receipt = await stub.GetPayment(bridge_pb2.GetPaymentRequest(payment_id=paid["payment_id"]))
        assert receipt.status == bridge_pb2.PAYMENT_STATUS_SETTLED
        # The money moved on the real ledgers: CNY left the payer, HKD reached the exporter.
        paid_out = payer_before - await _balance(corridor, "CN", payer)
        received = await _balance(corridor, "HK", exporter) - exporter_before
        assert paid_out >= PAYOUT_MINOR and received > 0
        # A relay that crashed before saving its cursor asks again: the bridge answers with the
        # first receipts (same idempotency keys) and nothing moves twice.
        async with vouchers.pool.acquire() as conn:
            await conn.execute("DELETE FROM voucher_relay_cursors")
        again = await relay.run_once()
        assert (again.settled, again.rejected) == (1, 1)
        assert payer_before - await _balance(corridor, "CN", payer) == paid_out
        assert await _balance(corridor, "HK", exporter) - exporter_before == received
    checks = await check_all(corridor.urls)
    assert all(c.ok for c in checks), [
        f"{c.ledger}: {c.name}: {c.detail}" for c in checks if not c.ok
    ]
