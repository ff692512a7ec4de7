"""The audit log is append-only (the database refuses changes) and tamper-evident (verify finds
edits and deletions made by someone who switched the refusal off)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import asyncpg
import pytest

from corridor.security import audit


@pytest.fixture
async def log_db(fresh_db: str):
    conn = await asyncpg.connect(fresh_db)
    # a node's own audit table, as services/centralbank/node.py creates it
    await conn.execute(
        "CREATE TABLE node_audit (seq bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(),"
        " actor text NOT NULL, action text NOT NULL, subject text NOT NULL,"
        " detail text NOT NULL DEFAULT '')"
    )
    await audit.install(conn)
    await audit.install(conn)  # idempotent
    for i in range(5):
        await audit.append(conn, "central_bank:cb-cn@CN", "issue", "bank-a", f"amount={i} ünï|:")
    await conn.execute(
        "INSERT INTO node_audit (actor, action, subject, detail) VALUES"
        " ('supervisor:CN/a', 'freeze:FREEZE_FULL', 'cn.w.1', 'case 7')"
    )
    yield conn
    await conn.close()


async def _tamper(conn: asyncpg.Connection, sql: str) -> None:
    """What a superuser can do: switch the refusal triggers off for one statement."""
    async with conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(sql)


async def test_chain_verifies_and_matches_the_python_hash(log_db):
    rep = await audit.verify(log_db, "t")
    assert rep.ok and rep.entries == 6, rep
    rows = await log_db.fetch("SELECT * FROM security_audit ORDER BY n")
    prev = audit.GENESIS
    for r in rows:
        assert r["prev_hash"] == prev
        assert r["hash"] == audit.entry_hash(r["n"], r["at_us"], r["actor"], r["action"],
                                             r["subject"], r["detail"], prev)  # fmt: skip
        prev = r["hash"]
    assert rows[-1]["detail"].endswith("[node_audit 1]")  # the node's own row joined the chain


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE security_audit SET detail = 'x' WHERE n = 2",
        "DELETE FROM security_audit WHERE n = 2",
        "TRUNCATE security_audit",
        "UPDATE security_audit_head SET n = 0",
        "DELETE FROM security_audit_head",
        "UPDATE node_audit SET detail = 'nothing to see'",
        "DELETE FROM node_audit",
    ],
)
async def test_the_database_refuses_changes(log_db, sql):
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await log_db.execute(sql)
    assert (await audit.verify(log_db)).ok


@pytest.mark.parametrize(
    "sql, broken_at, words",
    [
        ("UPDATE security_audit SET detail = 'amount=999' WHERE n = 3", 3, "altered"),
        ("UPDATE security_audit SET actor = 'admin:x' WHERE n = 1", 1, "altered"),
        ("DELETE FROM security_audit WHERE n = 2", 2, "missing"),
        ("DELETE FROM security_audit WHERE n >= 5", 5, "removed"),
        ("UPDATE security_audit SET at_us = at_us + 1 WHERE n = 4", 4, "altered"),
    ],
)
async def test_verify_finds_edits_and_deletions_that_bypass_the_triggers(
    log_db, sql, broken_at, words
):
    await _tamper(log_db, sql)
    rep = await audit.verify(log_db)
    assert not rep.ok and rep.broken_at == broken_at and words in rep.problem, rep


async def test_verify_finds_a_recomputed_chain_with_a_rewound_head(log_db):
    # Deleting the newest entries and moving the head back is caught only by an earlier anchor.
    await _tamper(log_db, "DELETE FROM security_audit WHERE n = 6")
    await _tamper(
        log_db,
        "UPDATE security_audit_head SET n = 5, hash = (SELECT hash FROM security_audit WHERE n = 5)",
    )
    await _tamper(log_db, "DELETE FROM node_audit")
    rep = await audit.verify(log_db, "t")
    assert rep.ok  # internally consistent...
    problems = audit.check_anchors_dict({"t": {"n": 6, "hash": "f" * 64}}, [rep], {"t": None})
    assert problems and "previous verify saw 6" in problems[0]  # ...but shorter than anchored


@pytest.mark.parametrize(
    "sql, words",
    [
        ("UPDATE node_audit SET detail = 'nothing to see'", "altered"),
        ("DELETE FROM node_audit", "deleted"),
        (
            "INSERT INTO node_audit (actor, action, subject) VALUES ('x', 'freeze:FREEZE_NONE', 'w')",
            "not in the chain",
        ),
    ],
)
async def test_the_nodes_own_audit_rows_are_held_to_the_chain(log_db, sql, words):
    await _tamper(log_db, sql)
    rep = await audit.verify(log_db)
    assert not rep.ok and words in rep.problem, rep


async def test_concurrent_appends_keep_one_chain(fresh_db):
    import asyncio

    pool = await asyncpg.create_pool(fresh_db, min_size=4, max_size=8)
    try:
        await audit.install(pool)
        await asyncio.gather(*(audit.append(pool, "a", "issue", "s", str(i)) for i in range(60)))
        async with pool.acquire() as conn:
            rep = await audit.verify(conn)
        assert rep.ok and rep.entries == 60
    finally:
        await pool.close()


def test_cli_verify_exits_nonzero_and_names_the_entry(tmp_path, pg_server_url):
    import asyncio

    from corridor import pg

    url = pg.with_database(pg_server_url, f"corridor_audittest_{os.getpid()}")

    async def prepare(tamper: bool) -> None:
        await pg.ensure_database(url)
        conn = await asyncpg.connect(url)
        try:
            await audit.install(conn)
            if not tamper:
                for i in range(3):
                    await audit.append(conn, "central_bank:cb", "issue", "bank-a", str(i))
            else:
                await _tamper(conn, "UPDATE security_audit SET detail = '7' WHERE n = 2")
        finally:
            await conn.close()

    cli = [sys.executable, "-c", "from corridor.cli import main; main()", "audit", "verify",
           "--database-url", pg_server_url, "--json", "--anchors", str(tmp_path / "anchors.json"), "--only", f"audittest_{os.getpid()}"]  # fmt: skip
    try:
        asyncio.run(prepare(False))
        ok = subprocess.run(cli, check=False, capture_output=True, text=True, timeout=120)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert (tmp_path / "anchors.json").exists()
        asyncio.run(prepare(True))
        bad = subprocess.run(cli, check=False, capture_output=True, text=True, timeout=120)
        assert bad.returncode == 1, bad.stdout + bad.stderr
        mine = [r for r in json.loads(bad.stdout.strip().splitlines()[-1])["logs"]
                if r["database"] == f"audittest_{os.getpid()}"]  # fmt: skip
        assert mine[0]["broken_at"] == 2 and "altered" in mine[0]["problem"]
        assert "Traceback" not in bad.stderr
    finally:
        asyncio.run(pg.drop_database(url))
