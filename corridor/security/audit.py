"""The privileged-action audit log: append-only and hash-chained, one chain per service database.

Every issuance, redemption, freeze, identity reveal, policy change and claw-back is appended to
`security_audit` — by the server interceptor *before* the action runs (so no privileged action
exists without its entry; a refused attempt is followed by an `…:refused` entry), and by a
trigger that mirrors every row the node writes to its own `node_audit` (freezes, KYC reveals),
in the same transaction.

Entry n holds hash_n = sha256(n, at_us, actor, action, subject, detail, hash_{n-1}) over a
length-prefixed encoding (`<len>:<text>|…`, the same in SQL and Python), with hash_0 = 64 zeros.
The database refuses UPDATE, DELETE and TRUNCATE on the log (triggers), and `verify()` recomputes
every hash, so an edit or deletion that bypasses the triggers (a superuser disabling them) is
still found, with the first broken entry named. A one-row `security_audit_head` (n, hash),
updated in the same transaction as each append, catches removal of the newest entries; anchors
recorded by `corridor audit verify` catch a rewrite of the whole chain since the last verify.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

GENESIS = "0" * 64
_INSTALL_LOCK = 0x436F7272_41756474  # "CorrAudt": serialises the DDL below across processes

DDL = r"""
CREATE TABLE IF NOT EXISTS security_audit (
    n         bigint PRIMARY KEY,
    at_us     bigint NOT NULL,
    actor     text   NOT NULL,
    action    text   NOT NULL,
    subject   text   NOT NULL DEFAULT '',
    detail    text   NOT NULL DEFAULT '',
    prev_hash text   NOT NULL,
    hash      text   NOT NULL
);
CREATE TABLE IF NOT EXISTS security_audit_head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    n    bigint  NOT NULL,
    hash text    NOT NULL
);
INSERT INTO security_audit_head (one, n, hash) VALUES (true, 0, repeat('0', 64))
    ON CONFLICT (one) DO NOTHING;

CREATE OR REPLACE FUNCTION security_audit_lp(v text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$ SELECT length(v)::text || ':' || v $$;

CREATE OR REPLACE FUNCTION security_audit_hash(
    n bigint, at_us bigint, actor text, action text, subject text, detail text, prev text
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(
        security_audit_lp(n::text) || '|' || security_audit_lp(at_us::text) || '|' ||
        security_audit_lp(actor) || '|' || security_audit_lp(action) || '|' ||
        security_audit_lp(subject) || '|' || security_audit_lp(detail) || '|' ||
        security_audit_lp(prev), 'UTF8')), 'hex')
$$;

-- Appending: the head row lock orders concurrent appends (held to commit, so the chain order
-- is the commit order and a rolled-back append leaves no gap).
CREATE OR REPLACE FUNCTION security_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE h record;
BEGIN
    SELECT n, hash INTO h FROM security_audit_head WHERE one FOR UPDATE;
    NEW.n := h.n + 1;
    NEW.prev_hash := h.hash;
    IF NEW.at_us IS NULL THEN
        NEW.at_us := (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
    END IF;
    NEW.hash := security_audit_hash(NEW.n, NEW.at_us, NEW.actor, NEW.action, NEW.subject,
                                    NEW.detail, NEW.prev_hash);
    UPDATE security_audit_head SET n = NEW.n, hash = NEW.hash WHERE one;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION security_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The chain trigger itself moves the head (nested, depth 2); nothing else may.
    IF TG_TABLE_NAME = 'security_audit_head' AND TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only (% on % refused)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE TRIGGER security_audit_append BEFORE INSERT ON security_audit
    FOR EACH ROW EXECUTE FUNCTION security_audit_chain();
CREATE OR REPLACE TRIGGER security_audit_no_change BEFORE UPDATE OR DELETE ON security_audit
    FOR EACH ROW EXECUTE FUNCTION security_audit_refuse();
CREATE OR REPLACE TRIGGER security_audit_no_truncate BEFORE TRUNCATE ON security_audit
    FOR EACH STATEMENT EXECUTE FUNCTION security_audit_refuse();
CREATE OR REPLACE TRIGGER security_audit_head_guard BEFORE UPDATE OR DELETE ON security_audit_head
    FOR EACH ROW EXECUTE FUNCTION security_audit_refuse();
CREATE OR REPLACE TRIGGER security_audit_head_no_truncate BEFORE TRUNCATE ON security_audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION security_audit_refuse();
"""

# A node's own audit table (freezes, KYC reveals) joins the chain: every row is mirrored, in the
# same transaction, and the table itself becomes append-only.
NODE_AUDIT_DDL = r"""
CREATE OR REPLACE FUNCTION security_audit_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO security_audit (actor, action, subject, detail)
        VALUES (NEW.actor, NEW.action, NEW.subject,
                NEW.detail || ' [' || TG_TABLE_NAME || ' ' || NEW.seq || ']');
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER security_audit_mirror AFTER INSERT ON node_audit
    FOR EACH ROW EXECUTE FUNCTION security_audit_mirror();
CREATE OR REPLACE TRIGGER security_audit_no_change BEFORE UPDATE OR DELETE ON node_audit
    FOR EACH ROW EXECUTE FUNCTION security_audit_refuse();
CREATE OR REPLACE TRIGGER security_audit_no_truncate BEFORE TRUNCATE ON node_audit
    FOR EACH STATEMENT EXECUTE FUNCTION security_audit_refuse();
"""


def _lp(v: str) -> str:
    return f"{len(v)}:{v}"


def entry_hash(
    n: int, at_us: int, actor: str, action: str, subject: str, detail: str, prev: str
) -> str:
    """The same function as the database's `security_audit_hash` (tests hold them equal)."""
    text = "|".join(_lp(x) for x in (str(n), str(at_us), actor, action, subject, detail, prev))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def install(pool_or_conn: Any) -> None:
    """Create the log in this database (idempotent; safe from several processes)."""
    async with _conn(pool_or_conn) as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _INSTALL_LOCK)
        await conn.execute(DDL)
        if await conn.fetchval("SELECT to_regclass('public.node_audit') IS NOT NULL"):
            await conn.execute(NODE_AUDIT_DDL)


async def append(pool_or_conn: Any, actor: str, action: str, subject: str, detail: str) -> int:
    """Append one entry; returns its position n."""
    async with _conn(pool_or_conn) as conn:
        return await conn.fetchval(
            "INSERT INTO security_audit (actor, action, subject, detail, prev_hash, hash)"
            " VALUES ($1, $2, $3, $4, '', '') RETURNING n",
            actor[:200], action[:100], subject[:300], detail[:2000],
        )  # fmt: skip


class _conn:
    """`async with _conn(pool or connection) as conn`."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self._acquired: Any = None

    async def __aenter__(self) -> asyncpg.Connection:
        if isinstance(self.target, asyncpg.Pool):
            self._acquired = self.target.acquire()
            return await self._acquired.__aenter__()
        return self.target

    async def __aexit__(self, *exc: object) -> None:
        if self._acquired is not None:
            await self._acquired.__aexit__(*exc)


# ----------------------------------------------------------------------------- verification
@dataclass
class ChainReport:
    database: str
    ok: bool
    entries: int = 0
    head_n: int = 0
    head_hash: str = ""
    broken_at: int = 0  # first entry that does not verify (0 = none)
    problem: str = ""
    actions: dict[str, int] = field(default_factory=dict)


async def verify(conn: asyncpg.Connection, database: str = "") -> ChainReport:
    """Recompute the chain; report the first entry that was edited, removed or reordered."""
    if not await conn.fetchval("SELECT to_regclass('public.security_audit') IS NOT NULL"):
        return ChainReport(database, True, problem="no audit log in this database")
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        return await _verify_snapshot(conn, ChainReport(database, True))


async def _verify_snapshot(conn: asyncpg.Connection, rep: ChainReport) -> ChainReport:
    prev, expect_n = GENESIS, 1
    mirrored: dict[int, tuple[str, str, str, str]] = {}
    async for r in conn.cursor(
        "SELECT n, at_us, actor, action, subject, detail, prev_hash, hash"
        " FROM security_audit ORDER BY n",
        prefetch=2000,
    ):
        n = r["n"]
        if n != expect_n:
            return _broken(rep, expect_n, f"entry {expect_n} is missing (next present: {n})")
        if r["prev_hash"] != prev:
            return _broken(rep, n, f"entry {n} does not link to entry {n - 1}")
        want = entry_hash(n, r["at_us"], r["actor"], r["action"], r["subject"], r["detail"], prev)
        if r["hash"] != want:
            return _broken(rep, n, f"entry {n} was altered (its hash does not match its content)")
        kind = r["action"].split(":")[0]
        rep.actions[kind] = rep.actions.get(kind, 0) + 1
        tag = _mirror_tag(r["detail"])
        if tag is not None:
            mirrored[tag] = (r["actor"], r["action"], r["subject"], r["detail"])
        prev, expect_n = r["hash"], n + 1
    rep.entries = expect_n - 1
    head = await conn.fetchrow("SELECT n, hash FROM security_audit_head")
    rep.head_n, rep.head_hash = (head["n"], head["hash"]) if head else (0, GENESIS)
    if head is None or head["n"] != rep.entries or head["hash"] != prev:
        return _broken(
            rep, rep.entries + 1, f"the newest entries were removed (head says {rep.head_n})"
        )
    if await conn.fetchval("SELECT to_regclass('public.node_audit') IS NOT NULL"):
        problem = await _check_node_audit(conn, mirrored)
        if problem:
            rep.ok, rep.problem = False, problem
    return rep


def _mirror_tag(detail: str) -> int | None:
    if not detail.endswith("]") or " [node_audit " not in detail:
        return None
    try:
        return int(detail.rsplit(" [node_audit ", 1)[1][:-1])
    except ValueError:
        return None


async def _check_node_audit(
    conn: asyncpg.Connection, mirrored: dict[int, tuple[str, str, str, str]]
) -> str:
    """Every node_audit row must equal its chained mirror, and every mirror must have its row."""
    seen: set[int] = set()
    for r in await conn.fetch("SELECT seq, actor, action, subject, detail FROM node_audit"):
        m = mirrored.get(r["seq"])
        want = (r["actor"], r["action"], r["subject"], f"{r['detail']} [node_audit {r['seq']}]")
        if m is None:
            return f"node_audit row {r['seq']} is not in the chain (inserted around it)"
        if m != want:
            return f"node_audit row {r['seq']} was altered after it was chained"
        seen.add(r["seq"])
    missing = sorted(set(mirrored) - seen)
    if missing:
        return f"node_audit row {missing[0]} was deleted (its chained entry remains)"
    return ""


def _broken(rep: ChainReport, n: int, problem: str) -> ChainReport:
    rep.ok, rep.broken_at, rep.problem = False, n, problem
    return rep


# ----------------------------------------------------------------------------- anchors
def check_anchors_dict(
    old: dict[str, dict[str, Any]], reports: list[ChainReport], anchors_at: dict[str, str | None]
) -> list[str]:
    """Compare with what a previous verify saw: the log must be at least as long, and the entry
    anchored then must still hold the same hash. `anchors_at` maps database -> the hash stored
    now at the anchored position."""
    problems = []
    for rep in reports:
        a = old.get(rep.database)
        if not a or not a.get("n"):
            continue
        if rep.entries < a["n"]:
            problems.append(
                f"{rep.database}: the log has {rep.entries} entries, a previous verify saw {a['n']}"
            )
        elif anchors_at.get(rep.database) != a["hash"]:
            problems.append(
                f"{rep.database}: entry {a['n']} differs from when it was last verified"
            )
    return problems


def write_anchors(path: Path, reports: list[ChainReport]) -> None:
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update({r.database: {"n": r.entries, "hash": r.head_hash} for r in reports if r.ok})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True))


async def verify_server(
    server_url: str, anchors: Path | None = None, only: str = ""
) -> list[ChainReport]:
    """Verify the log of every corridor_* database on a server (`only`: names containing it),
    and the anchors a previous verify left, if kept; then anchor what was seen."""
    from corridor.invariants import discover_ledgers

    reports: list[ChainReport] = []
    at_anchor: dict[str, str | None] = {}
    old = json.loads(anchors.read_text()) if anchors and anchors.exists() else {}
    for name, url in (await discover_ledgers(server_url)).items():
        if only and only not in name:
            continue
        conn = await asyncpg.connect(url)
        try:
            rep = await verify(conn, name)
            if rep.problem == "no audit log in this database":
                continue
            a = old.get(name, {})
            if a.get("n"):
                at_anchor[name] = await conn.fetchval(
                    "SELECT hash FROM security_audit WHERE n = $1", a["n"]
                )
        finally:
            await conn.close()
        reports.append(rep)
    if anchors is not None:
        for problem in check_anchors_dict(old, reports, at_anchor):
            db = problem.split(":", 1)[0]
            for rep in reports:
                if rep.database == db and rep.ok:
                    rep.ok, rep.problem = False, problem
        if all(r.ok for r in reports):
            write_anchors(anchors, reports)
    return reports
