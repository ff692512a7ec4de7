"""Voucher invariants, checked from the vouchers database's own rows (never from the service's
memory): what `corridor check-invariants` adds for the vouchers ledger.

Per program P, with sums over the ledger's transfers whose payment_id is P:

    conservation   issued = redeemed + refunded + clawed_back + outstanding
                   (outstanding = P's escrow balance, credits_posted - debits_posted; no pending)
    escrow kinds   only `voucher_issue` credits an escrow; only redeem/refund/claw-back debit it
    funding        an active, expired or clawed-back program was funded with exactly its amount;
                   a rejected one with nothing
    closed         an expired or clawed-back program has nothing outstanding
    caps           no redemption above the per-payment cap; redeemed <= the cumulative cap
    expiry         no redemption at or after the program's expiry (business time)
    payees         refunds go only to the refund target, claw-backs only to the named authority
    audit          every redemption transfer has an evaluation row that allowed it
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from corridor.invariants import Check, register


@dataclass(frozen=True, slots=True)
class Violation:
    program_id: str
    rule: str
    detail: str


RULES = ("conservation", "escrow kinds", "funding", "closed", "caps", "expiry", "payees", "audit")

_PROGRAM_SUMS = """
SELECT p.program_id, p.definition, p.status, p.amount_minor, p.expires_at_us,
       a.credits_posted - a.debits_posted AS outstanding,
       coalesce(a.debits_pending, 0) + coalesce(a.credits_pending, 0) AS pending,
       coalesce(s.issued, 0) AS issued, coalesce(s.redeemed, 0) AS redeemed,
       coalesce(s.refunded, 0) AS refunded, coalesce(s.clawed_back, 0) AS clawed_back,
       coalesce(s.max_redeem, 0) AS max_redeem, coalesce(s.late, 0) AS late
FROM voucher_programs p
LEFT JOIN accounts a ON a.id = 'vouchers.escrow.' || p.program_id
LEFT JOIN (
    SELECT payment_id,
           sum(amount) FILTER (WHERE kind = 'voucher_issue') AS issued,
           sum(amount) FILTER (WHERE kind = 'voucher_redeem') AS redeemed,
           sum(amount) FILTER (WHERE kind = 'voucher_refund') AS refunded,
           sum(amount) FILTER (WHERE kind = 'voucher_clawback') AS clawed_back,
           max(amount) FILTER (WHERE kind = 'voucher_redeem') AS max_redeem,
           count(*) FILTER (WHERE kind = 'voucher_redeem' AND business_at_us >= x.expires_at_us) AS late
    FROM transfers t JOIN voucher_programs x ON x.program_id = t.payment_id
    GROUP BY payment_id
) s ON s.payment_id = p.program_id
ORDER BY p.program_id
"""

_WRONG_KINDS = """
SELECT substr(credit_account_id, 17) AS program_id, kind, count(*) AS n FROM transfers
WHERE credit_account_id LIKE 'vouchers.escrow.%' AND kind <> 'voucher_issue' GROUP BY 1, 2
UNION ALL
SELECT substr(debit_account_id, 17), kind, count(*) FROM transfers
WHERE debit_account_id LIKE 'vouchers.escrow.%'
  AND kind NOT IN ('voucher_redeem', 'voucher_refund', 'voucher_clawback') GROUP BY 1, 2
UNION ALL
SELECT payment_id, kind, count(*) FROM transfers
WHERE kind IN ('voucher_issue', 'voucher_redeem', 'voucher_refund', 'voucher_clawback')
  AND NOT (debit_account_id = 'vouchers.escrow.' || payment_id
           OR credit_account_id = 'vouchers.escrow.' || payment_id)
GROUP BY 1, 2
"""

_UNAUDITED = """
SELECT t.payment_id AS program_id, count(*) AS n FROM transfers t
WHERE t.kind = 'voucher_redeem'
  AND NOT EXISTS (SELECT 1 FROM voucher_evaluations e WHERE e.transfer_id = t.id AND e.allowed)
GROUP BY 1
"""

_PAYEES = """
SELECT t.payment_id AS program_id, t.kind, t.credit_account_id FROM transfers t
JOIN voucher_programs p ON p.program_id = t.payment_id
WHERE (t.kind = 'voucher_refund' AND t.credit_account_id <> 'vouchers.party.'
         || coalesce(nullif(p.definition->>'refund_to', ''), p.funder_id) || '.' || p.currency)
   OR (t.kind = 'voucher_clawback' AND t.credit_account_id <> 'vouchers.party.'
         || (p.definition->>'clawback_authority') || '.' || p.currency)
"""


async def check_voucher_invariants(dsn: str) -> list[Violation]:
    """Every violation of the voucher invariants in one database (empty when all hold)."""
    conn = await asyncpg.connect(dsn)
    try:
        has = await conn.fetchval("SELECT to_regclass('public.voucher_programs') IS NOT NULL")
        if not has:
            return [Violation("", "schema", "no voucher tables in this database")]
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return await _violations(conn)
    finally:
        await conn.close()


async def _violations(conn: asyncpg.Connection) -> list[Violation]:
    found: list[Violation] = []
    for row in await conn.fetch(_PROGRAM_SUMS):
        found.extend(_program_violations(row))
    for row in await conn.fetch(_WRONG_KINDS):
        found.append(
            Violation(row["program_id"], "escrow kinds", f"{row['n']} {row['kind']} transfers")
        )
    for row in await conn.fetch(_UNAUDITED):
        found.append(
            Violation(
                row["program_id"], "audit", f"{row['n']} redemptions without an allowing evaluation"
            )
        )
    for row in await conn.fetch(_PAYEES):
        found.append(
            Violation(row["program_id"], "payees", f"{row['kind']} paid {row['credit_account_id']}")
        )
    return found


def _program_violations(row: Any) -> list[Violation]:
    pid = row["program_id"]
    definition = json.loads(row["definition"])
    issued, redeemed, refunded, clawed = (
        int(row[k]) for k in ("issued", "redeemed", "refunded", "clawed_back")
    )
    outstanding = int(row["outstanding"] or 0)
    out: list[Violation] = []
    if issued != redeemed + refunded + clawed + outstanding or row["pending"]:
        out.append(
            Violation(
                pid,
                "conservation",
                f"issued {issued} != redeemed {redeemed} + refunded {refunded} + clawed back {clawed}"
                f" + outstanding {outstanding} (pending {row['pending']})",
            )
        )
    status = row["status"]
    expected = {"rejected": 0, "issuing": None}.get(status, row["amount_minor"])
    if expected is not None and issued != expected:
        out.append(
            Violation(pid, "funding", f"{status} program funded with {issued}, expected {expected}")
        )
    if status in ("expired", "clawed_back") and outstanding != 0:
        out.append(Violation(pid, "closed", f"{status} program still holds {outstanding}"))
    per_payment, cumulative = (
        definition.get("per_payment_cap_minor", 0),
        definition.get("cumulative_cap_minor", 0),
    )
    if per_payment and row["max_redeem"] > per_payment:
        out.append(
            Violation(
                pid, "caps", f"a redemption of {row['max_redeem']} exceeds the cap {per_payment}"
            )
        )
    if cumulative and redeemed > cumulative:
        out.append(
            Violation(pid, "caps", f"redeemed {redeemed} exceeds the cumulative cap {cumulative}")
        )
    if row["late"]:
        out.append(Violation(pid, "expiry", f"{row['late']} redemptions at or after expiry"))
    return out


@register
async def voucher_checks(urls: dict[str, str]) -> list[Check]:
    """`corridor check-invariants` plug-in: the rules above for the `vouchers` ledger."""
    url = urls.get("vouchers")
    if url is None:
        return []
    try:
        violations = await check_voucher_invariants(url)
    except (OSError, asyncpg.PostgresError) as exc:
        return [Check("vouchers", "voucher programs", False, str(exc))]
    checks = []
    for rule in RULES:
        broken = [v for v in violations if v.rule == rule]
        detail = "; ".join(f"{v.program_id}: {v.detail}" for v in broken[:5])
        checks.append(
            Check("vouchers", f"voucher {rule}", not broken, detail or "holds for every program")
        )
    extra = [v for v in violations if v.rule not in RULES]
    if extra:
        checks.append(Check("vouchers", "voucher schema", False, extra[0].detail))
    return checks
