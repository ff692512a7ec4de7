"""`corridor check-invariants`: verify every ledger database from its own rows.

Per ledger and currency (stated as arithmetic, as TigerBeetle's docs do):
  conservation      sum(debits_posted)  = sum(credits_posted)
                    sum(debits_pending) = sum(credits_pending)
  supply            issued supply (issuance accounts' debit balance) = sum of all other
                    balances, posted + pending
  floors            no account with a must-not-exceed flag is past its floor
  pending sums      each account's *_pending = sum of its transfers still in state PENDING
  idempotency       no transfer id twice; no pending transfer resolved twice
Other components (bridge, vouchers, cross-ledger PvP) register extra checks with `register()`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg


@dataclass(slots=True)
class Check:
    ledger: str
    name: str
    ok: bool
    detail: str = ""


ExtraCheck = Callable[[dict[str, str]], Awaitable[list[Check]]]
_EXTRA: list[ExtraCheck] = []


def register(check: ExtraCheck) -> ExtraCheck:
    """Add a check that sees every ledger's URL (for cross-ledger rules)."""
    _EXTRA.append(check)
    return check


async def check_ledger(url: str, ledger: str) -> list[Check]:
    conn = await asyncpg.connect(url)
    try:
        has = await conn.fetchval("SELECT to_regclass('public.transfers') IS NOT NULL")
        if not has:
            # e.g. the supervision database: not a ledger, nothing to conserve.
            return [Check(ledger, "not a ledger", True, "no transfers table: skipped")]
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return await _checks(conn, ledger)
    finally:
        await conn.close()


async def _checks(conn: asyncpg.Connection, ledger: str) -> list[Check]:
    out: list[Check] = []
    for r in await conn.fetch(
        "SELECT currency, sum(debits_posted) dpo, sum(credits_posted) cpo, sum(debits_pending) dp,"
        " sum(credits_pending) cp, sum(CASE WHEN kind = 'issuance' THEN debits_posted - credits_posted"
        " ELSE 0 END) issued, sum(CASE WHEN kind <> 'issuance' THEN credits_posted + credits_pending"
        " - debits_posted - debits_pending ELSE 0 END) held FROM accounts GROUP BY currency ORDER BY 1"
    ):
        cur = r["currency"].strip()
        out.append(
            Check(ledger, f"conservation {cur}", r["dpo"] == r["cpo"] and r["dp"] == r["cp"],
                  f"debits {int(r['dpo']):,} credits {int(r['cpo']):,}; pending {int(r['dp']):,}/{int(r['cp']):,}")
        )  # fmt: skip
        if r["issued"]:
            # Pending debits of the issuance account (none in practice) would also be held.
            out.append(
                Check(ledger, f"supply {cur}", r["issued"] == r["held"],
                      f"issued {int(r['issued']):,} = held {int(r['held']):,}")
            )  # fmt: skip
    floors = await conn.fetchval(
        "SELECT count(*) FROM accounts WHERE ((flags & 1) <> 0 AND debits_posted + debits_pending"
        " > credits_posted) OR ((flags & 2) <> 0 AND credits_posted + credits_pending > debits_posted)"
    )
    out.append(Check(ledger, "floors", floors == 0, f"{floors} accounts past their floor"))
    bad_pending = await conn.fetchval(
        "WITH p AS (SELECT debit_account_id a, amount, 0 c FROM transfers WHERE state = 2"
        " UNION ALL SELECT credit_account_id, 0, amount FROM transfers WHERE state = 2),"
        " s AS (SELECT a, sum(amount) d, sum(c) c FROM p GROUP BY a)"
        " SELECT count(*) FROM accounts x LEFT JOIN s ON s.a = x.id"
        " WHERE x.debits_pending <> coalesce(s.d, 0) OR x.credits_pending <> coalesce(s.c, 0)"
    )
    out.append(Check(ledger, "pending sums", bad_pending == 0, f"{bad_pending} accounts disagree"))
    orphans = await conn.fetchval(
        "SELECT count(*) FROM transfers t WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id ="
        " t.debit_account_id) OR NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = t.credit_account_id)"
    )
    out.append(
        Check(ledger, "accounts exist", orphans == 0, f"{orphans} transfers name a missing account")
    )
    dup = await conn.fetchval("SELECT count(*) - count(DISTINCT id) FROM transfers")
    twice = await conn.fetchval(
        "SELECT count(*) FROM (SELECT pending_id FROM transfers WHERE pending_id IS NOT NULL"
        " GROUP BY pending_id HAVING count(*) > 1) x"
    )
    out.append(
        Check(ledger, "idempotency", dup == 0 and twice == 0,
              f"{dup} duplicate ids, {twice} pending transfers resolved twice")
    )  # fmt: skip
    return out


async def check_all(urls: dict[str, str]) -> list[Check]:
    checks: list[Check] = []
    for ledger, url in urls.items():
        try:
            checks.extend(await check_ledger(url, ledger))
        except (OSError, asyncpg.PostgresError) as exc:
            checks.append(Check(ledger, "reachable", False, str(exc)))
    for extra in _EXTRA:
        checks.extend(await extra(urls))
    return checks


async def discover_ledgers(server_url: str) -> dict[str, str]:
    """Every corridor_* database on a server, as {ledger name: url}."""
    from corridor.pg import with_database

    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        names = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'corridor\\_%' ORDER BY 1"
        )
    finally:
        await conn.close()
    return {
        n["datname"].removeprefix("corridor_"): with_database(server_url, n["datname"])
        for n in names
    }
