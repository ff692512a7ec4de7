"""The bridge relay: pays cross-border voucher redemptions through the mBridge-style bridge.

A cross-border redemption settles on the vouchers ledger into `vouchers.bridge.<C>` (the money has
left the voucher and is owed abroad) and appears in the settlement feed. The relay follows that
feed in ledger order and asks the bridge to pay it payment-versus-payment from the voucher
operator's wallet on the payer's node to the payee's wallet abroad, in `payout_currency`.

Delivery is at least once and safe to repeat: the bridge's idempotency key is the redemption's
transfer id, so a relay that crashes between the bridge's answer and saving its cursor asks again
and gets the first receipt back. Each receipt (settled or rejected, with the bridge's reason) is
recorded in `voucher_bridge_payouts`; the cursor only moves past what has a receipt.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from corridor.config import JURISDICTIONS
from corridor.v1 import bridge_pb2
from services.vouchers.program import SETTLEMENT_CROSS_BORDER
from services.vouchers.service import SettlementInstruction, VoucherService

log = logging.getLogger("corridor.vouchers.relay")

RELAY_NAME = "bridge"
_JURISDICTION_OF = {j.currency: j.code for j in JURISDICTIONS.values()}


@dataclass(frozen=True, slots=True)
class RelayReport:
    settled: int
    rejected: int
    cursor: int


class BridgeRelay:
    """Follows the vouchers settlement feed and pays its cross-border payouts via the bridge.

    `bridge` is a `BridgeStub` (anything with `CrossBorderPayBatch`); `payer_wallet_id` is the
    voucher operator's wallet on `payer_jurisdiction`'s node, which funds the payouts."""

    def __init__(
        self,
        service: VoucherService,
        bridge: Any,
        payer_wallet_id: str,
        payer_jurisdiction: str = "CN",
        max_slippage_bps: int = 100,
    ) -> None:
        self.service = service
        self.bridge = bridge
        self.payer_wallet_id = payer_wallet_id
        self.payer_jurisdiction = payer_jurisdiction
        self.max_slippage_bps = max_slippage_bps

    async def cursor(self) -> int:
        async with self.service.pool.acquire() as conn:
            seq = await conn.fetchval(
                "SELECT seq FROM voucher_relay_cursors WHERE name = $1", RELAY_NAME
            )
        return int(seq or 0)

    async def run_once(self, limit: int = 500) -> RelayReport:
        """Deliver the next page of the feed; returns what happened and the new cursor."""
        cursor = await self.cursor()
        page = await self.service.settlements(cursor, limit)
        payouts = [s for s in page if s.route == SETTLEMENT_CROSS_BORDER]
        settled = rejected = 0
        if payouts:
            response = await self.bridge.CrossBorderPayBatch(
                bridge_pb2.CrossBorderPayBatchRequest(payments=[self._payment(s) for s in payouts])
            )
            receipts = list(response.receipts)
            await self._record(payouts, receipts)
            settled = sum(r.status == bridge_pb2.PAYMENT_STATUS_SETTLED for r in receipts)
            rejected = len(receipts) - settled
        if page:
            cursor = page[-1].seq
            await self._save_cursor(cursor)
        return RelayReport(settled, rejected, cursor)

    async def run_forever(self, every_s: float = 0.5) -> None:
        while True:
            try:
                report = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # logged; the same page is retried (idempotent at the bridge)
                log.exception("bridge relay pass failed")
                report = RelayReport(0, 0, 0)
            if not (report.settled or report.rejected):
                await asyncio.sleep(every_s)

    def _payment(self, s: SettlementInstruction) -> Any:
        return bridge_pb2.CrossBorderPayRequest(
            idempotency_key=s.transfer_id,
            payer_jurisdiction=self.payer_jurisdiction,
            payer_wallet_id=self.payer_wallet_id,
            payee_jurisdiction=_JURISDICTION_OF.get(s.payout_currency, ""),
            payee_wallet_id=s.party_id,
            amount_minor=s.amount_minor,
            currency=s.currency,
            max_slippage_bps=self.max_slippage_bps,
            purpose="trade",
            business_at_us=s.business_at_us,
        )

    async def _record(self, payouts: list[SettlementInstruction], receipts: list[Any]) -> None:
        rows = [
            (
                s.transfer_id,
                s.program_id,
                r.payment_id,
                bridge_pb2.PaymentStatus.Name(r.status),
                r.reason,
            )
            for s, r in zip(payouts, receipts, strict=True)
        ]
        async with self.service.pool.acquire() as conn:
            await conn.executemany(
                "INSERT INTO voucher_bridge_payouts (transfer_id, program_id, payment_id, status, reason)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (transfer_id) DO UPDATE SET"
                " payment_id = excluded.payment_id, status = excluded.status, reason = excluded.reason,"
                " attempts = voucher_bridge_payouts.attempts + 1",
                rows,
            )

    async def _save_cursor(self, seq: int) -> None:
        async with self.service.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO voucher_relay_cursors (name, seq) VALUES ($1, $2)"
                " ON CONFLICT (name) DO UPDATE SET seq = greatest(voucher_relay_cursors.seq, excluded.seq)",
                RELAY_NAME,
                seq,
            )
