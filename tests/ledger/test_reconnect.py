"""The single writer survives losing its database connection (a PostgreSQL restart or a killed
backend): the batch in flight answers UNAVAILABLE, the writer reconnects and re-takes its lock,
and the next batch commits with the feed position continuing where it was."""

import asyncio

import asyncpg
import grpc
import pytest

from corridor.errors import CorridorError
from services.ledger.engine import AccountSpec, C, LedgerEngine, TransferSpec


async def test_writer_reconnects_after_its_connection_is_killed(fresh_db):
    e = await LedgerEngine.open(fresh_db, "t")
    try:
        await e.create_accounts(
            [AccountSpec("src", "CNY", "issuance"), AccountSpec("a", "CNY", "wallet", 1)]
        )
        (r,) = await e.submit([TransferSpec("t1", "src", "a", 100, "CNY")])
        assert r.code == C.OK and r.seq == 1
        admin = await asyncpg.connect(fresh_db)
        pid = await admin.fetchval(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database ="
            " (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
        await admin.close()
        with pytest.raises(CorridorError) as err:
            await e.submit([TransferSpec("t2", "src", "a", 5, "CNY")])
        assert err.value.code == grpc.StatusCode.UNAVAILABLE
        for _ in range(50):  # the writer reconnects in the background of the next batch
            try:
                (r2,) = await e.submit([TransferSpec("t2", "src", "a", 5, "CNY")])
                break
            except CorridorError:
                await asyncio.sleep(0.1)
        assert r2.code in (C.OK, C.EXISTS) and r2.seq == 2
        (a,) = await e.lookup_accounts(["a"])
        assert a["credits_posted"] == 105
    finally:
        await e.close()
