"""Cross-ledger rules for `corridor check-invariants` (registered on import).

backing    for each currency X: node X's `x.bridge` posted balance
           = the bridge's outstanding X (`bridge.X.issuance` debit balance, posted)
atomicity  no payment half-settled: for every payment in the coordinator's log, either every
           leg is posted or none is; none left pending once decided
"""

from __future__ import annotations

from collections import defaultdict

import asyncpg

from corridor.config import JURISDICTIONS
from corridor.invariants import Check, register


@register
async def bridge_checks(urls: dict[str, str]) -> list[Check]:
    if "bridge" not in urls:
        return []
    out: list[Check] = []
    bconn = await asyncpg.connect(urls["bridge"])
    try:
        if not await bconn.fetchval("SELECT to_regclass('public.pvp_payments') IS NOT NULL"):
            return []
        issued = {
            r["currency"].strip(): r["v"]
            for r in await bconn.fetch(
                "SELECT currency, debits_posted - credits_posted v FROM accounts WHERE kind = 'issuance'"
            )
        }
        log = await bconn.fetch(
            "SELECT payment_id, state, cardinality(leg_ids) n FROM pvp_payments"
        )
        per_payment: dict[str, list[int]] = defaultdict(
            lambda: [0, 0, 0]
        )  # posted, voided, pending
        await _leg_states(bconn, per_payment)
    finally:
        await bconn.close()
    for code, j in JURISDICTIONS.items():
        url = urls.get(code.lower())
        if url is None:
            continue
        conn = await asyncpg.connect(url)
        try:
            held = await conn.fetchval(
                "SELECT credits_posted - debits_posted FROM accounts WHERE id = $1",
                f"{code.lower()}.bridge",
            )
            await _leg_states(conn, per_payment)
        finally:
            await conn.close()
        b = issued.get(j.currency, 0)
        out.append(Check("bridge", f"backing {j.currency}", (held or 0) == b,
                         f"{code.lower()}.bridge holds {held or 0:,}; bridge outstanding {b:,}"))  # fmt: skip
    half, open_ = 0, 0
    for r in log:
        posted, voided, pending = per_payment.get(r["payment_id"], [0, 0, 0])
        if r["state"] in (1, 2, 3):
            open_ += 1
            continue
        if r["state"] == 4 and posted != r["n"]:
            half += 1
        if r["state"] == 5 and (posted or pending):
            half += 1
    out.append(Check("bridge", "no payment half-settled", half == 0,
                     f"{len(log):,} payments in the log; {half} half-settled; {open_} still in flight"))  # fmt: skip
    out.append(
        Check(
            "bridge",
            "no payment in doubt",
            open_ == 0,
            f"{open_} payments not yet decided/resolved",
        )
    )
    return out


async def _leg_states(conn: asyncpg.Connection, acc: dict[str, list[int]]) -> None:
    for r in await conn.fetch(
        "SELECT payment_id, count(*) FILTER (WHERE state = 3) p, count(*) FILTER (WHERE state IN (4, 5)) v,"
        " count(*) FILTER (WHERE state = 2) o FROM transfers WHERE kind = 'pvp' AND (flags & 2) <> 0"
        " GROUP BY payment_id"
    ):
        a = acc[r["payment_id"]]
        a[0] += r["p"]
        a[1] += r["v"]
        a[2] += r["o"]
