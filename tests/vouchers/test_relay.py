"""The bridge relay's own bookkeeping (what it sends, cursor, one delivery per payout) over real
gRPC against a recording Bridge service; the same relay against the real nodes and bridge (a real
PvP payment per payout) is tests/vouchers/test_relay_real_bridge.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from corridor.server import channel
from corridor.v1 import bridge_pb2, bridge_pb2_grpc
from services.vouchers.conditions import Party
from services.vouchers.relay import BridgeRelay
from services.vouchers.service import Redemption, VoucherService
from services.vouchers.templates import consumption_voucher, trade_finance
from tests.vouchers.helpers import BOL_HASH, T0, facts


class RecordingBridge(bridge_pb2_grpc.BridgeServicer):
    """Settles every payment except to wallets named *.w.closed; idempotent on the key."""

    def __init__(self) -> None:
        self.receipts: dict[str, Any] = {}
        self.payments: list[Any] = []
        self.calls = 0

    async def CrossBorderPayBatch(self, request, context):  # type: ignore[no-untyped-def]
        self.calls += 1
        self.payments.extend(request.payments)
        out = []
        for p in request.payments:
            if p.idempotency_key not in self.receipts:
                closed = p.payee_wallet_id.endswith(".closed")
                self.receipts[p.idempotency_key] = bridge_pb2.PaymentReceipt(
                    payment_id=f"xb-{len(self.receipts)}",
                    status=bridge_pb2.PAYMENT_STATUS_REJECTED
                    if closed
                    else bridge_pb2.PAYMENT_STATUS_SETTLED,
                    reason="WALLET_NOT_FOUND" if closed else "",
                    payer_jurisdiction=p.payer_jurisdiction,
                    payee_jurisdiction=p.payee_jurisdiction,
                    amount_minor=p.amount_minor,
                    currency=p.currency,
                )
            out.append(self.receipts[p.idempotency_key])
        return bridge_pb2.CrossBorderPayBatchResponse(receipts=out)


@pytest.fixture
async def bridge() -> AsyncIterator[tuple[Any, RecordingBridge]]:
    fake = RecordingBridge()
    server = grpc.aio.server()
    bridge_pb2_grpc.add_BridgeServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with channel(f"127.0.0.1:{port}") as ch:
            yield bridge_pb2_grpc.BridgeStub(ch), fake
    finally:
        await server.stop(0)


async def test_relay_pays_cross_border_redemptions_once_in_ledger_order(
    vouchers: VoucherService, bridge
) -> None:  # type: ignore[no-untyped-def]
    stub, fake = bridge
    await vouchers.deposit("importer", "CNY", 10_000_000, "d")
    await vouchers.deposit("gov", "CNY", 10_000_000, "d")
    expires = T0 + dt.timedelta(days=60)
    for pid, exporter in (("lc-1", "hk.w.exporter"), ("lc-2", "hk.w.closed")):
        program = trade_finance(
            program_id=pid, importer_id="importer", exporter_id=exporter, amount_minor=500_000,
            bill_of_lading_hash=BOL_HASH, expires_at=expires,
        )  # fmt: skip
        await vouchers.issue(program, pid)
    domestic = consumption_voucher(
        program_id="sz", funder_id="gov", amount_minor=10_000, merchant_categories=["5411"],
        regions=["4403"], expires_at=expires,
    )  # fmt: skip
    await vouchers.issue(domestic, "sz")
    documents = {"bill_of_lading": BOL_HASH}
    await vouchers.redeem(Redemption("sz", "pos", facts()))
    for pid, exporter in (("lc-1", "hk.w.exporter"), ("lc-2", "hk.w.closed")):
        paid = await vouchers.redeem(
            Redemption(
                pid,
                "ship",
                facts(amount_minor=500_000, payee=Party(exporter, 1), evidence=documents),
            )
        )
        assert paid.settled
    relay = BridgeRelay(vouchers, stub, payer_wallet_id="cn.w.voucher-operator")
    report = await relay.run_once()
    assert (report.settled, report.rejected) == (1, 1)
    asked = fake.receipts
    assert set(asked) == {"vr:lc-1:ship", "vr:lc-2:ship"}
    assert report.cursor == (await vouchers.settlements())[-1].seq
    again = await relay.run_once()
    assert (again.settled, again.rejected, fake.calls) == (0, 0, 1)  # nothing new, nothing re-sent
    async with vouchers.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT transfer_id, status, reason FROM voucher_bridge_payouts ORDER BY 1"
        )
    assert [tuple(r) for r in rows] == [
        ("vr:lc-1:ship", "PAYMENT_STATUS_SETTLED", ""),
        ("vr:lc-2:ship", "PAYMENT_STATUS_REJECTED", "WALLET_NOT_FOUND"),
    ]


async def test_relay_sends_what_the_bridge_needs(vouchers: VoucherService, bridge) -> None:  # type: ignore[no-untyped-def]
    stub, fake = bridge
    await vouchers.deposit("importer", "CNY", 10_000_000, "d")
    program = trade_finance(
        program_id="lc-9", importer_id="importer", exporter_id="hk.w.x", amount_minor=70_000,
        bill_of_lading_hash=BOL_HASH, expires_at=T0 + dt.timedelta(days=9),
    )  # fmt: skip
    await vouchers.issue(program, "lc-9")
    await vouchers.redeem(
        Redemption(
            "lc-9",
            "k",
            facts(
                amount_minor=70_000, payee=Party("hk.w.x", 1), evidence={"bill_of_lading": BOL_HASH}
            ),
        )
    )
    await BridgeRelay(vouchers, stub, payer_wallet_id="cn.w.op").run_once()
    (payment,) = fake.payments
    assert (payment.payer_jurisdiction, payment.payer_wallet_id, payment.payee_jurisdiction) == (
        "CN",
        "cn.w.op",
        "HK",
    )
    assert (payment.payee_wallet_id, payment.amount_minor, payment.currency) == (
        "hk.w.x",
        70_000,
        "CNY",
    )
    assert payment.idempotency_key == "vr:lc-9:k" and payment.purpose == "trade"
