"""An independent audit of a ledger database from its own rows: the money-safety tests' oracle.

It re-derives every account's four running sums from the append-only transfer log and checks
the double-entry invariants (stated as arithmetic, as TigerBeetle's docs do):

  conservation   per currency: sum(debits_posted) = sum(credits_posted),
                               sum(debits_pending) = sum(credits_pending)
  floors         an account flagged debits-must-not-exceed-credits never pays more than it holds
  log = sums     each account's sums equal what its transfer rows add up to
  resolution     a pending transfer is resolved at most once, and its state matches its resolution
  idempotency    no transfer id twice

Deliberately written without the engine's code, so a bug there cannot hide itself here.
"""

from __future__ import annotations

from typing import Any

# Transfer flag bits as stored (see services/ledger/engine.py; restated on purpose).
PENDING, POST, VOID = 2, 4, 8

_SUMS_FROM_LOG = """
WITH moves AS (
    -- posted movement: a plain transfer or the posting of a pending one (not the reservation,
    -- not a void)
    SELECT debit_account_id AS id, amount AS dpo, 0::bigint AS cpo, 0::bigint AS dp,
           0::bigint AS cp FROM transfers WHERE flags & 10 = 0
    UNION ALL
    SELECT credit_account_id, 0, amount, 0, 0 FROM transfers WHERE flags & 10 = 0
    -- reservations still open
    UNION ALL
    SELECT debit_account_id, 0, 0, amount, 0 FROM transfers WHERE flags & 2 = 2 AND state = 2
    UNION ALL
    SELECT credit_account_id, 0, 0, 0, amount FROM transfers WHERE flags & 2 = 2 AND state = 2
), sums AS (
    SELECT id, sum(dpo) AS dpo, sum(cpo) AS cpo, sum(dp) AS dp, sum(cp) AS cp
    FROM moves GROUP BY id
)
SELECT a.id, a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending,
       coalesce(s.dpo, 0) AS log_dpo, coalesce(s.cpo, 0) AS log_cpo,
       coalesce(s.dp, 0) AS log_dp, coalesce(s.cp, 0) AS log_cp
FROM accounts a LEFT JOIN sums s USING (id)
WHERE a.debits_posted <> coalesce(s.dpo, 0) OR a.credits_posted <> coalesce(s.cpo, 0)
   OR a.debits_pending <> coalesce(s.dp, 0) OR a.credits_pending <> coalesce(s.cp, 0)
"""

_BAD_RESOLUTIONS = """
SELECT p.id, p.state, p.amount, r.id AS rid, r.flags AS rflags, r.amount AS ramount
FROM transfers p LEFT JOIN transfers r ON r.pending_id = p.id
WHERE p.flags & 2 = 2 AND NOT (
       (p.state = 2 AND r.id IS NULL)
    OR (p.state = 3 AND r.flags & 4 = 4 AND r.amount <= p.amount)
    OR (p.state IN (4, 5) AND r.flags & 8 = 8 AND r.amount = p.amount))
"""


async def audit_ledger(conn: Any) -> list[str]:
    """Every invariant violation found in the ledger behind `conn` (empty when all hold)."""
    out: list[str] = []
    for r in await conn.fetch(
        "SELECT currency, sum(debits_posted) AS dpo, sum(credits_posted) AS cpo,"
        " sum(debits_pending) AS dp, sum(credits_pending) AS cp FROM accounts GROUP BY currency"
    ):
        if r["dpo"] != r["cpo"] or r["dp"] != r["cp"]:
            out.append(f"conservation broken in {r['currency']}: {dict(r)}")
    for r in await conn.fetch(
        "SELECT id, debits_posted, debits_pending, credits_posted FROM accounts"
        " WHERE flags & 1 = 1 AND debits_posted::numeric + debits_pending > credits_posted"
    ):
        out.append(f"floor breached: {dict(r)}")
    for r in await conn.fetch(_SUMS_FROM_LOG):
        out.append(f"running sums differ from the transfer log: {dict(r)}")
    for r in await conn.fetch(
        "SELECT pending_id, count(*) AS n FROM transfers WHERE flags & 12 <> 0"
        " GROUP BY pending_id HAVING count(*) > 1"
    ):
        out.append(f"pending transfer resolved twice: {dict(r)}")
    for r in await conn.fetch(_BAD_RESOLUTIONS):
        out.append(f"pending state disagrees with its resolution: {dict(r)}")
    for r in await conn.fetch("SELECT id FROM transfers GROUP BY id HAVING count(*) > 1"):
        out.append(f"transfer id stored twice: {r['id']}")
    return out


async def row_counts(conn: Any, tables: tuple[str, ...]) -> dict[str, int]:
    """Row count per table that exists (to prove a refused request wrote nothing)."""
    counts: dict[str, int] = {}
    for t in tables:
        if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", t):
            counts[t] = await conn.fetchval(f"SELECT count(*) FROM {t}")
    return counts
