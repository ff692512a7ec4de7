"""The supervision database: feeds, flow-graph queries, alerts and the reveal audit log (asyncpg).

Tables
- `postings`: every posting of every ledger feed, unique on (ledger, seq). Ingest is idempotent
  (a re-sent batch changes nothing) and refuses a ledger that rewrites history (same seq,
  different transfer) or skips postings (a gap after the cursor). Two-phase rows (`phase`
  pending / voided) are kept so the mirror is complete; queries read posted rows only.
- `feed_cursors`: per ledger, the last seq ingested: where to resume the feed after a restart.
- `alerts`: what the detectors raised, with subjects, evidence and the jurisdictions of the
  subjects (a supervisor's scope).
- `cases`: investigations a supervisor opened on wallets of its jurisdiction.
- `reveal_audit`: controllable anonymity's audit trail: every identity reveal, every refusal,
  every freeze order and case event (`action`). Append-only (a trigger rejects UPDATE, DELETE and
  TRUNCATE) and hash-chained: each row's hash is sha256(previous hash || its canonical content),
  so any edit made around the trigger breaks `verify_reveal_chain`.

Flow-graph queries work on *payment edges*: a payment's originator -> beneficiary, legs joined by
payment_id, institutional accounts (tier 0 on central-bank ledgers and the bridge) left out, as in
`flows.FlowAssembler`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from services.supervision.detectors import Alert
from services.supervision.postings import BRIDGE, Posting, account_jurisdiction

SCHEMA = """
CREATE TABLE IF NOT EXISTS postings (
    ledger              text    NOT NULL,
    seq                 bigint  NOT NULL CHECK (seq >= 0),
    transfer_id         text    NOT NULL,
    payment_id          text    NOT NULL DEFAULT '',
    debit_account       text    NOT NULL,
    credit_account      text    NOT NULL,
    amount_minor        bigint  NOT NULL CHECK (amount_minor > 0),
    currency            text    NOT NULL,
    kind                text    NOT NULL,
    business_at         double precision NOT NULL,
    debit_jurisdiction  text    NOT NULL DEFAULT '',
    credit_jurisdiction text    NOT NULL DEFAULT '',
    debit_tier          smallint NOT NULL DEFAULT 0 CHECK (debit_tier BETWEEN 0 AND 4),
    credit_tier         smallint NOT NULL DEFAULT 0 CHECK (credit_tier BETWEEN 0 AND 4),
    merchant_category   text    NOT NULL DEFAULT '',
    phase               text    NOT NULL DEFAULT 'posted'
                        CHECK (phase IN ('posted', 'pending', 'voided')),
    PRIMARY KEY (ledger, seq)
);
ALTER TABLE postings ADD COLUMN IF NOT EXISTS phase text NOT NULL DEFAULT 'posted';
CREATE INDEX IF NOT EXISTS postings_payment ON postings (payment_id) WHERE payment_id <> '';
CREATE INDEX IF NOT EXISTS postings_debit ON postings (debit_account, business_at);
CREATE INDEX IF NOT EXISTS postings_credit ON postings (credit_account, business_at);
CREATE INDEX IF NOT EXISTS postings_time ON postings (business_at);
CREATE INDEX IF NOT EXISTS postings_transfer ON postings (transfer_id);

CREATE TABLE IF NOT EXISTS feed_cursors (
    ledger   text   PRIMARY KEY,
    last_seq bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS alerts (
    alert_id  text PRIMARY KEY,
    typology  text NOT NULL,
    score     double precision NOT NULL CHECK (score BETWEEN 0 AND 1),
    subjects  text[] NOT NULL,
    evidence  text[] NOT NULL,
    raised_at double precision NOT NULL,
    rail      text NOT NULL,
    jurisdictions text[] NOT NULL DEFAULT '{}'
);
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS jurisdictions text[] NOT NULL DEFAULT '{}';
CREATE INDEX IF NOT EXISTS alerts_subjects ON alerts USING gin (subjects);
CREATE INDEX IF NOT EXISTS alerts_jurisdictions ON alerts USING gin (jurisdictions);

CREATE SEQUENCE IF NOT EXISTS case_numbers;
CREATE TABLE IF NOT EXISTS cases (
    case_id      text PRIMARY KEY,
    jurisdiction text NOT NULL,
    opened_by    text NOT NULL,
    wallets      text[] NOT NULL CHECK (cardinality(wallets) > 0),
    reason       text NOT NULL CHECK (reason <> ''),
    alert_id     text NOT NULL DEFAULT '',
    opened_at    double precision NOT NULL,
    closed_at    double precision
);
CREATE INDEX IF NOT EXISTS cases_wallets ON cases USING gin (wallets);

CREATE TABLE IF NOT EXISTS reveal_audit (
    n            bigserial PRIMARY KEY,
    at           double precision NOT NULL,
    supervisor   text  NOT NULL,
    jurisdiction text  NOT NULL,
    wallet       text  NOT NULL,
    reason       text  NOT NULL CHECK (reason <> ''),
    case_id      text  NOT NULL DEFAULT '',
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL UNIQUE,
    action       text  NOT NULL DEFAULT 'reveal',
    detail       text  NOT NULL DEFAULT ''
);
ALTER TABLE reveal_audit ADD COLUMN IF NOT EXISTS action text NOT NULL DEFAULT 'reveal';
ALTER TABLE reveal_audit ADD COLUMN IF NOT EXISTS detail text NOT NULL DEFAULT '';
CREATE OR REPLACE FUNCTION reveal_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'reveal_audit is append-only (% refused)', TG_OP;
END $$;
DROP TRIGGER IF EXISTS reveal_audit_no_change ON reveal_audit;
CREATE TRIGGER reveal_audit_no_change BEFORE UPDATE OR DELETE ON reveal_audit
    FOR EACH ROW EXECUTE FUNCTION reveal_audit_append_only();
DROP TRIGGER IF EXISTS reveal_audit_no_truncate ON reveal_audit;
CREATE TRIGGER reveal_audit_no_truncate BEFORE TRUNCATE ON reveal_audit
    FOR EACH STATEMENT EXECUTE FUNCTION reveal_audit_append_only();
"""

# Payment edges within [$since, $until]: single-leg postings between end parties, and for
# multi-leg payments the first end party debited -> the last end party credited.
_EDGES = """
    SELECT debit_account AS src, credit_account AS dst, amount_minor, currency,
           business_at, transfer_id AS flow_id
      FROM postings
     WHERE payment_id = '' AND phase = 'posted' AND business_at BETWEEN {since} AND {until}
       AND (debit_tier > 0 OR ledger LIKE 'CHAIN:%')
       AND (credit_tier > 0 OR ledger LIKE 'CHAIN:%')
    UNION ALL
    SELECT o.debit_account, d.credit_account, o.amount_minor, o.currency, d.business_at,
           o.payment_id
      FROM (SELECT DISTINCT ON (payment_id) payment_id, debit_account, amount_minor, currency
              FROM postings
             WHERE payment_id <> '' AND phase = 'posted'
               AND business_at BETWEEN {since} AND {until}
               AND (debit_tier > 0 OR ledger LIKE 'CHAIN:%')
             ORDER BY payment_id, business_at, ledger, seq) o
      JOIN (SELECT DISTINCT ON (payment_id) payment_id, credit_account, business_at
              FROM postings
             WHERE payment_id <> '' AND phase = 'posted'
               AND business_at BETWEEN {since} AND {until}
               AND (credit_tier > 0 OR ledger LIKE 'CHAIN:%')
             ORDER BY payment_id, business_at DESC, ledger DESC, seq DESC) d
        USING (payment_id)
     WHERE o.debit_account <> d.credit_account
"""


class FeedError(ValueError):
    """A feed batch the store refuses; nothing of the batch was written."""


class AuditChainBroken(RuntimeError):
    def __init__(self, n: int) -> None:
        super().__init__(f"reveal audit hash chain broken at entry {n}")
        self.n = n


@dataclass(frozen=True, slots=True)
class Counterparty:
    wallet: str
    hops: int  # shortest number of payment edges from the start wallet


@dataclass(frozen=True, slots=True)
class JurisdictionFlow:
    source: str  # originator's jurisdiction (a chain name for chain addresses)
    destination: str
    currency: str  # the originator's currency
    payments: int
    amount_minor: int


@dataclass(frozen=True, slots=True)
class RevealRecord:
    """One entry of the audit log (a reveal, a refusal, a freeze order, a case event)."""

    n: int
    at: float
    supervisor: str  # who acted
    jurisdiction: str  # the acting supervisor's jurisdiction
    wallet: str  # what it was about: a wallet, a payment, a case
    reason: str
    case_id: str
    prev_hash: str  # hex
    hash: str  # hex
    action: str = "reveal"  # reveal | refused | reveal_failed | freeze | freeze_failed | case_*
    detail: str = ""  # refusal reason code, reveal basis, freeze mode


@dataclass(frozen=True, slots=True)
class Case:
    """An investigation: while open, its wallets' identities may be revealed to its
    jurisdiction's supervisors whatever the amounts."""

    case_id: str
    jurisdiction: str
    opened_by: str
    wallets: list[str]
    reason: str
    alert_id: str
    opened_at: float
    closed_at: float | None

    @property
    def open(self) -> bool:
        return self.closed_at is None


_GENESIS = b"\x00" * 32
_COLUMNS = (
    "ledger, seq, transfer_id, payment_id, debit_account, credit_account, amount_minor, currency, "
    "kind, business_at, debit_jurisdiction, credit_jurisdiction, debit_tier, credit_tier, "
    "merchant_category, phase"
)


_COLUMN_NAMES = [c.strip() for c in _COLUMNS.split(",")]


def _row(p: Posting) -> tuple:  # type: ignore[type-arg]
    return (
        p.ledger, p.seq, p.transfer_id, p.payment_id, p.debit_account, p.credit_account,
        p.amount_minor, p.currency, p.kind, float(p.business_at), p.debit_jurisdiction,
        p.credit_jurisdiction, p.debit_tier, p.credit_tier, p.merchant_category, p.phase,
    )  # fmt: skip


def _reveal_hash(prev: bytes, at: float, supervisor: str, jurisdiction: str, wallet: str,
                 reason: str, case_id: str, action: str = "reveal", detail: str = "") -> bytes:  # fmt: skip
    fields = [repr(float(at)), supervisor, jurisdiction, wallet, reason, case_id]
    if action != "reveal" or detail:
        # Entries other than a plain reveal also bind what happened; a plain reveal hashes as
        # it always has, so chains written before refusals were logged still verify.
        fields += [action, detail]
    body = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(prev + body.encode()).digest()


def subject_jurisdictions(subjects: Sequence[str]) -> list[str]:
    """The jurisdictions whose supervisors may see an alert about these subjects."""
    out = {account_jurisdiction(s) for s in subjects}
    return sorted(j for j in out if j and j != BRIDGE)


def _posting(r: asyncpg.Record) -> Posting:
    return Posting(
        r["ledger"], r["seq"], r["transfer_id"], r["payment_id"], r["debit_account"],
        r["credit_account"], r["amount_minor"], r["currency"], r["kind"], r["business_at"],
        r["debit_jurisdiction"], r["credit_jurisdiction"], r["debit_tier"], r["credit_tier"],
        r["merchant_category"], r["phase"],
    )  # fmt: skip


def _record(r: asyncpg.Record) -> RevealRecord:
    return RevealRecord(
        r["n"], r["at"], r["supervisor"], r["jurisdiction"], r["wallet"], r["reason"],
        r["case_id"], bytes(r["prev_hash"]).hex(), bytes(r["hash"]).hex(), r["action"],
        r["detail"],
    )  # fmt: skip


def _case(r: asyncpg.Record) -> Case:
    return Case(
        r["case_id"], r["jurisdiction"], r["opened_by"], list(r["wallets"]), r["reason"],
        r["alert_id"], r["opened_at"], r["closed_at"],
    )  # fmt: skip


class SupervisionStore:
    """Supervision's own database (one per supervisor; ledgers keep theirs)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str, *, min_size: int = 1, max_size: int = 4) -> SupervisionStore:
        """Connect and create the schema if needed (idempotent)."""
        pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size)
        async with pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock(7212)")  # one migrator at a time
            try:
                await conn.execute(SCHEMA)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(7212)")
        return cls(pool)

    async def close(self) -> None:
        await self.pool.close()

    # --- feeds -------------------------------------------------------------------------------
    async def ingest(self, ledger: str, postings: Sequence[Posting]) -> int:
        """Store one ledger's feed batch and advance its cursor, in one transaction.

        Idempotent: postings already stored are skipped. Raises FeedError when the batch mixes
        ledgers, is out of order, leaves a gap after the cursor, or rewrites a stored posting.
        Returns how many postings were new."""
        if not postings:
            return 0
        seqs = [p.seq for p in postings]
        if any(p.ledger != ledger for p in postings):
            raise FeedError(f"ledger: batch for {ledger!r} holds postings of another ledger")
        if any(b != a + 1 for a, b in itertools.pairwise(seqs)):
            raise FeedError(f"seq: batch of {ledger!r} is not contiguous and increasing")
        async with self.pool.acquire() as conn, conn.transaction():
            # Safe without a synchronous commit: postings and cursor commit together, so a
            # commit lost in a crash only rewinds the cursor and the ledger sends them again.
            await conn.execute("SET LOCAL synchronous_commit = off")
            await conn.execute(
                "INSERT INTO feed_cursors (ledger, last_seq) VALUES ($1, 0) "
                "ON CONFLICT (ledger) DO NOTHING",
                ledger,
            )
            last = await conn.fetchval(
                "SELECT last_seq FROM feed_cursors WHERE ledger = $1 FOR UPDATE", ledger
            )
            if seqs[0] > last + 1:
                raise FeedError(f"seq: gap in {ledger!r} feed: stored up to {last}, got {seqs[0]}")
            seen = [p for p in postings if p.seq <= last]
            if seen:  # a re-sent part: must match what is stored, and is not stored again
                rewritten = await conn.fetchval(
                    "SELECT min(u.seq) FROM unnest($2::bigint[], $3::text[]) AS u(seq, "
                    "transfer_id) LEFT JOIN postings p ON p.ledger = $1 AND p.seq = u.seq "
                    "WHERE p.transfer_id IS DISTINCT FROM u.transfer_id",
                    ledger, [p.seq for p in seen], [p.transfer_id for p in seen],
                )  # fmt: skip
                if rewritten is not None:
                    raise FeedError(
                        f"seq: {ledger!r} posting {rewritten} differs from the stored one"
                    )
            fresh = postings[len(seen) :]
            if fresh:
                await conn.copy_records_to_table(
                    "postings", records=[_row(p) for p in fresh], columns=_COLUMN_NAMES
                )
                await conn.execute(
                    "UPDATE feed_cursors SET last_seq = $2 WHERE ledger = $1", ledger, seqs[-1]
                )
            return len(fresh)

    async def cursor(self, ledger: str) -> int:
        """Last seq stored for `ledger` (0: nothing yet): resume the feed after it."""
        value = await self.pool.fetchval(
            "SELECT last_seq FROM feed_cursors WHERE ledger = $1", ledger
        )
        return int(value or 0)

    async def cursors(self) -> dict[str, int]:
        rows = await self.pool.fetch("SELECT ledger, last_seq FROM feed_cursors ORDER BY ledger")
        return {r["ledger"]: r["last_seq"] for r in rows}

    # --- alerts ------------------------------------------------------------------------------
    async def save_alerts(self, alerts: Sequence[Alert]) -> int:
        """Store alerts (an alert id already stored is skipped); returns how many were new."""
        if not alerts:
            return 0
        rows = await self.pool.fetch(
            "INSERT INTO alerts (alert_id, typology, score, subjects, evidence, raised_at, rail, "
            "jurisdictions) SELECT a.id, a.typology, a.score, "
            "ARRAY(SELECT json_array_elements_text(a.subjects::json)), "
            "ARRAY(SELECT json_array_elements_text(a.evidence::json)), a.raised_at, a.rail, "
            "ARRAY(SELECT json_array_elements_text(a.jurisdictions::json)) "
            "FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[], $5::text[], "
            "$6::float8[], $7::text[], $8::text[]) AS a(id, typology, score, subjects, evidence, "
            "raised_at, rail, jurisdictions) ON CONFLICT (alert_id) DO NOTHING RETURNING alert_id",
            [a.alert_id for a in alerts],
            [a.typology for a in alerts],
            [a.score for a in alerts],
            [json.dumps(a.subjects) for a in alerts],
            [json.dumps(a.evidence) for a in alerts],
            [a.raised_at for a in alerts],
            [a.rail for a in alerts],
            [json.dumps(subject_jurisdictions(a.subjects)) for a in alerts],
        )
        return len(rows)

    async def alerts(
        self,
        *,
        typology: str | None = None,
        subject: str | None = None,
        since: float = 0.0,
        jurisdiction: str | None = None,
        limit: int | None = None,
    ) -> list[Alert]:
        """Alerts in raised order; `jurisdiction` keeps those with a subject there; `limit`
        keeps the newest."""
        rows = await self.pool.fetch(
            "SELECT * FROM (SELECT * FROM alerts WHERE ($1::text IS NULL OR typology = $1) "
            "AND ($2::text IS NULL OR subjects @> ARRAY[$2]) AND raised_at >= $3 "
            "AND ($4::text IS NULL OR jurisdictions @> ARRAY[$4]) "
            "ORDER BY raised_at DESC, alert_id DESC LIMIT $5) a ORDER BY raised_at, alert_id",
            typology,
            subject,
            since,
            jurisdiction,
            limit,
        )
        return [
            Alert(
                r["alert_id"],
                r["typology"],
                r["score"],
                list(r["subjects"]),
                list(r["evidence"]),
                r["raised_at"],
                r["rail"],
            )
            for r in rows
        ]

    # --- flow graph --------------------------------------------------------------------------
    async def payment_path(self, payment_id: str) -> list[Posting]:
        """Every leg of one payment across all ledgers, in business-time order. A single-leg
        payment (no payment_id) is found by its transfer id."""
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM postings WHERE payment_id = $1 "
            "ORDER BY business_at, ledger, seq",
            payment_id,
        )
        if not rows:
            rows = await self.pool.fetch(
                f"SELECT {_COLUMNS} FROM postings WHERE payment_id = '' AND transfer_id = $1 "
                "ORDER BY business_at, ledger, seq",
                payment_id,
            )
        return [_posting(r) for r in rows]

    async def counterparties(
        self,
        wallet: str,
        hops: int = 2,
        *,
        since: float = float("-inf"),
        until: float = float("inf"),
        limit: int = 1_000,
        walk_prefix: str = "",
    ) -> list[Counterparty]:
        """Wallets within `hops` payment edges of `wallet` (either direction), in
        [since, until], nearest first (recursive CTE over payment edges).

        With `walk_prefix` (e.g. "cn.") the walk only continues from accounts with that prefix:
        a wallet elsewhere is reached and reported but never walked through (a supervisor's
        scope ends at its border)."""
        if not 1 <= hops <= 6:
            raise ValueError(f"hops must be 1..6 (got {hops})")
        rows = await self.pool.fetch(
            "WITH RECURSIVE edges AS ("
            + _EDGES.format(since="$2", until="$3")
            + "), links AS (SELECT src AS a, dst AS b FROM edges "
            "UNION SELECT dst, src FROM edges), "
            "walk(wallet, hops) AS (SELECT $1::text, 0 UNION "
            "SELECT l.b, w.hops + 1 FROM walk w JOIN links l ON l.a = w.wallet "
            "WHERE w.hops < $4 AND starts_with(w.wallet, $6)) "
            "SELECT wallet, min(hops) AS hops FROM walk WHERE wallet <> $1 "
            "GROUP BY wallet ORDER BY 2, 1 LIMIT $5",
            wallet,
            since,
            until,
            hops,
            limit,
            walk_prefix,
        )
        return [Counterparty(r["wallet"], r["hops"]) for r in rows]

    async def jurisdiction_flows(
        self, since: float = float("-inf"), until: float = float("inf")
    ) -> list[JurisdictionFlow]:
        """Cross-border payments in [since, until] summed by (source, destination, currency).

        A payment runs from its originator (the first end party debited: a wallet or a chain
        address) to its beneficiary (the last end party credited), whatever order the legs
        committed in on their ledgers; liquidity moved between institutions (an operator funding
        the bridge) is not a payment and is left out."""
        rows = await self.pool.fetch(
            "WITH o AS (SELECT DISTINCT ON (payment_id) payment_id, amount_minor, currency, "
            "COALESCE(NULLIF(debit_jurisdiction, ''), ledger) AS source FROM postings "
            "WHERE payment_id <> '' AND phase = 'posted' AND business_at BETWEEN $1 AND $2 "
            "AND (debit_tier > 0 OR ledger LIKE 'CHAIN:%') "
            "ORDER BY payment_id, business_at, ledger, seq), "
            "d AS (SELECT DISTINCT ON (payment_id) payment_id, "
            "COALESCE(NULLIF(credit_jurisdiction, ''), ledger) AS destination FROM postings "
            "WHERE payment_id <> '' AND phase = 'posted' AND business_at BETWEEN $1 AND $2 "
            "AND (credit_tier > 0 OR ledger LIKE 'CHAIN:%') "
            "ORDER BY payment_id, business_at DESC, ledger DESC, seq DESC) "
            "SELECT source, destination, currency, count(*) AS payments, "
            "sum(amount_minor)::bigint AS amount_minor FROM o JOIN d USING (payment_id) "
            "WHERE source <> destination GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            since,
            until,
        )
        return [
            JurisdictionFlow(
                r["source"], r["destination"], r["currency"], r["payments"], r["amount_minor"]
            )
            for r in rows
        ]

    # --- scope helpers -----------------------------------------------------------------------
    async def postings_by_transfer(
        self, transfer_ids: Sequence[str], ledgers: Sequence[str]
    ) -> list[Posting]:
        """Postings with these transfer ids on these ledgers (evidence a supervisor may see)."""
        if not transfer_ids:
            return []
        rows = await self.pool.fetch(
            f"SELECT {_COLUMNS} FROM postings WHERE transfer_id = ANY($1::text[]) "
            "AND ledger = ANY($2::text[]) ORDER BY business_at, ledger, seq",
            list(transfer_ids),
            list(ledgers),
        )
        return [_posting(r) for r in rows]

    async def largest_posting(self, wallet: str, payment_id: str = "") -> Posting | None:
        """The wallet's largest posted leg (in `payment_id` only, when given); None if none.
        The basis of an amount-triggered reveal."""
        row = await self.pool.fetchrow(
            f"SELECT {_COLUMNS} FROM postings WHERE phase = 'posted' "
            "AND (debit_account = $1 OR credit_account = $1) "
            "AND ($2 = '' OR payment_id = $2 OR transfer_id = $2) "
            "ORDER BY amount_minor DESC, business_at LIMIT 1",
            wallet,
            payment_id,
        )
        return None if row is None else _posting(row)

    async def replay_postings(self, since: float, limit: int) -> list[Posting]:
        """Posted postings from business time `since` on, at most the newest `limit`, in
        business-time order: what a restarted service feeds its detectors to rebuild their
        sliding windows."""
        rows = await self.pool.fetch(
            f"SELECT * FROM (SELECT {_COLUMNS} FROM postings WHERE phase = 'posted' "
            "AND business_at >= $1 ORDER BY business_at DESC, ledger DESC, seq DESC LIMIT $2) p "
            "ORDER BY business_at, ledger, seq",
            since,
            limit,
        )
        return [_posting(r) for r in rows]

    async def latest_business_at(self) -> float | None:
        return await self.pool.fetchval("SELECT max(business_at) FROM postings")

    # --- cases -------------------------------------------------------------------------------
    async def open_case(
        self, *, jurisdiction: str, opened_by: str, wallets: Sequence[str], reason: str,
        at: float, alert_id: str = "",
    ) -> Case:  # fmt: skip
        if not wallets:
            raise ValueError("wallets: a case names at least one wallet")
        if not reason.strip():
            raise ValueError("reason: a case must state why")
        row = await self.pool.fetchrow(
            "INSERT INTO cases (case_id, jurisdiction, opened_by, wallets, reason, alert_id, "
            "opened_at) VALUES ($1 || '-' || lpad(nextval('case_numbers')::text, 6, '0'), "
            "$1, $2, $3, $4, $5, $6) RETURNING *",
            jurisdiction, opened_by, list(dict.fromkeys(wallets)), reason, alert_id, at,
        )  # fmt: skip
        return _case(row)

    async def close_case(self, case_id: str, at: float) -> Case | None:
        """Close an open case (closing a closed case changes nothing); None if unknown."""
        row = await self.pool.fetchrow(
            "UPDATE cases SET closed_at = COALESCE(closed_at, $2) WHERE case_id = $1 RETURNING *",
            case_id,
            at,
        )
        return None if row is None else _case(row)

    async def case(self, case_id: str) -> Case | None:
        row = await self.pool.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)
        return None if row is None else _case(row)

    # --- controllable anonymity: the audit log -----------------------------------------------
    async def record_audit(
        self,
        *,
        action: str,
        supervisor: str,
        jurisdiction: str,
        wallet: str,
        reason: str,
        at: float,
        case_id: str = "",
        detail: str = "",
    ) -> RevealRecord:
        """Append one entry to the hash-chained audit log (serialised by a table lock)."""
        if not reason.strip():
            raise ValueError("reason: an audited action must state why")
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("LOCK TABLE reveal_audit IN SHARE ROW EXCLUSIVE MODE")
            prev = await conn.fetchval("SELECT hash FROM reveal_audit ORDER BY n DESC LIMIT 1")
            prev = bytes(prev) if prev is not None else _GENESIS
            digest = _reveal_hash(prev, at, supervisor, jurisdiction, wallet, reason, case_id,
                                  action, detail)  # fmt: skip
            n = await conn.fetchval(
                "INSERT INTO reveal_audit (at, supervisor, jurisdiction, wallet, reason, case_id, "
                "prev_hash, hash, action, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                " RETURNING n",
                at, supervisor, jurisdiction, wallet, reason, case_id, prev, digest, action, detail,
            )  # fmt: skip
        return RevealRecord(n, at, supervisor, jurisdiction, wallet, reason, case_id,
                            prev.hex(), digest.hex(), action, detail)  # fmt: skip

    async def record_reveal(
        self,
        *,
        supervisor: str,
        jurisdiction: str,
        wallet: str,
        reason: str,
        at: float,
        case_id: str = "",
    ) -> RevealRecord:
        """Append one identity reveal to the hash-chained audit log."""
        if not reason.strip():
            raise ValueError("reason: a reveal must state why")
        return await self.record_audit(
            action="reveal", supervisor=supervisor, jurisdiction=jurisdiction, wallet=wallet,
            reason=reason, at=at, case_id=case_id,
        )  # fmt: skip

    async def reveal_log(
        self, wallet: str | None = None, *, about: str | None = None
    ) -> list[RevealRecord]:
        """Audit entries, oldest first; `wallet` keeps one subject; `about="CN"` keeps entries
        by CN's supervisors and entries about CN accounts (attempts on them from elsewhere)."""
        rows = await self.pool.fetch(
            "SELECT * FROM reveal_audit WHERE ($1::text IS NULL OR wallet = $1) "
            "AND ($2::text IS NULL OR jurisdiction = $2 OR starts_with(wallet, lower($2) || '.')) "
            "ORDER BY n",
            wallet,
            about,
        )
        return [_record(r) for r in rows]

    async def verify_reveal_chain(self) -> int:
        """Recompute the chain from genesis; returns the entries verified, raises
        AuditChainBroken at the first entry whose link or content does not match."""
        prev = _GENESIS
        count = 0
        async with self.pool.acquire() as conn, conn.transaction():
            async for r in conn.cursor("SELECT * FROM reveal_audit ORDER BY n"):
                expected = _reveal_hash(prev, r["at"], r["supervisor"], r["jurisdiction"],
                                        r["wallet"], r["reason"], r["case_id"], r["action"],
                                        r["detail"])  # fmt: skip
                if bytes(r["prev_hash"]) != prev or bytes(r["hash"]) != expected:
                    raise AuditChainBroken(r["n"])
                prev = expected
                count += 1
        return count

    # --- live service helpers ----------------------------------------------------------------
    async def business_times(self, ledger: str, transfer_ids: Sequence[str]) -> dict[str, float]:
        """Business time of stored postings of one ledger, by transfer id (a post or void
        inherits its pending transfer's time: when the payer paid, not when it settled)."""
        if not transfer_ids:
            return {}
        rows = await self.pool.fetch(
            "SELECT transfer_id, business_at FROM postings WHERE ledger = $1 "
            "AND transfer_id = ANY($2::text[])",
            ledger,
            list(transfer_ids),
        )
        return {r["transfer_id"]: r["business_at"] for r in rows}

    async def visible_transfer_ids(
        self, transfer_ids: Sequence[str], jurisdiction: str
    ) -> set[str]:
        """The transfer ids a supervisor of `jurisdiction` may see: postings on its ledger, and
        bridge legs of payments with a leg on its ledger."""
        if not transfer_ids:
            return set()
        rows = await self.pool.fetch(
            "SELECT DISTINCT p.transfer_id FROM postings p WHERE p.transfer_id = ANY($1::text[]) "
            "AND (p.ledger = $2 OR (p.ledger = 'BRIDGE' AND p.payment_id <> '' AND EXISTS "
            "(SELECT 1 FROM postings q WHERE q.payment_id = p.payment_id AND q.ledger = $2)))",
            list(transfer_ids),
            jurisdiction,
        )
        return {r["transfer_id"] for r in rows}

    async def save_new_alerts(self, alerts: Sequence[Alert], cooldown_s: float) -> int:
        """Save alerts, skipping any whose (typology, primary subject) already has an alert
        within `cooldown_s`: the detectors' own cooldown, kept across restarts (a restarted
        service replays recent postings and raises some alerts again)."""
        fresh: list[Alert] = []
        for a in alerts:
            dup = await self.pool.fetchval(
                "SELECT 1 FROM alerts WHERE typology = $1 AND subjects[1] = $2 "
                "AND abs(raised_at - $3) < $4 LIMIT 1",
                a.typology,
                a.subjects[0] if a.subjects else "",
                a.raised_at,
                cooldown_s,
            )
            if dup is None and all(
                not (b.typology == a.typology and b.subjects[:1] == a.subjects[:1]
                     and abs(b.raised_at - a.raised_at) < cooldown_s)
                for b in fresh
            ):  # fmt: skip
                fresh.append(a)
        return await self.save_alerts(fresh)
