"""The voucher invariants catch what they claim to catch (each check can fail), and plug into
`corridor check-invariants`."""

from __future__ import annotations

import datetime as dt

import asyncpg

from corridor import invariants
from services.ledger.engine import TransferSpec
from services.vouchers import ledger as vl
from services.vouchers.invariants import RULES, check_voucher_invariants, voucher_checks
from services.vouchers.service import Redemption, VoucherService
from services.vouchers.templates import subsidy
from tests.vouchers.helpers import T0, facts


async def subsidised(service: VoucherService) -> None:
    await service.deposit("agency", "CNY", 1_000_000, "d")
    program = subsidy(
        program_id="sub",
        agency_id="agency",
        recipients=["w-alice"],
        amount_minor=50_000,
        per_payment_cap_minor=5_000,
        expires_at=T0 + dt.timedelta(days=30),
    )
    await service.issue(program, "sub")
    assert (await service.redeem(Redemption("sub", "ok", facts()))).settled


async def test_a_healthy_ledger_passes_every_rule(vouchers: VoucherService) -> None:
    await subsidised(vouchers)
    checks = await voucher_checks({"vouchers": vouchers.engine.dsn, "cn": "unused"})
    assert [c.name for c in checks] == [f"voucher {rule}" for rule in RULES]
    assert all(c.ok for c in checks)
    assert voucher_checks in invariants._EXTRA  # registered for `corridor check-invariants`
    assert await voucher_checks({"cn": "unused"}) == []


async def test_bypassing_the_service_is_caught(vouchers: VoucherService) -> None:
    await subsidised(vouchers)
    escrow, payee = vl.escrow_account("sub"), vl.party_account("m-001", "CNY")
    # A payout that skipped the condition: over the cap, after expiry, with no evaluation row.
    rogue = TransferSpec(
        "vr:sub:rogue", escrow, payee, 9_000, "CNY", kind=vl.KIND_REDEEM, payment_id="sub",
        business_at_us=int((T0 + dt.timedelta(days=31)).timestamp() * 1_000_000),
    )  # fmt: skip
    sideways = TransferSpec("side", escrow, payee, 1_000, "CNY", kind="p2p", payment_id="x")
    assert all(r.ok for r in await vouchers.engine.submit([rogue, sideways]))
    conn = await asyncpg.connect(vouchers.engine.dsn)
    try:
        await conn.execute("UPDATE voucher_programs SET status = 'expired'")
    finally:
        await conn.close()
    broken = {v.rule for v in await check_voucher_invariants(vouchers.engine.dsn)}
    assert broken == {"conservation", "escrow kinds", "closed", "caps", "expiry", "audit"}
    checks = {c.name: c.ok for c in await voucher_checks({"vouchers": vouchers.engine.dsn})}
    assert checks["voucher audit"] is False and checks["voucher payees"] is True
