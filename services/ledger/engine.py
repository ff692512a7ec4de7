"""The ledger engine: one implementation for every central-bank node, the bridge and vouchers.

Data model (after TigerBeetle): an account holds four running sums — debits_pending,
debits_posted, credits_pending, credits_posted — plus flags and limits; a transfer moves an
amount from a debit account to a credit account of the same currency. Two-phase transfers
reserve (pending) and later post or void; linked transfers succeed or fail together.

Write path (single writer per ledger, group commit):
  callers `submit()` batches -> one queue -> the writer drains every queued batch into ONE
  database transaction: lock the touched accounts in id order (SELECT ... FOR UPDATE), look up
  idempotency ids and pending transfers, apply every transfer in order in memory with every
  per-transfer check, COPY the new transfer rows, one aggregated balance UPDATE from unnest,
  COMMIT (durable: fsync and synchronous_commit stay on) -> resolve every caller's future.
The database's CHECK constraints stay on as a safety net; if the group transaction ever fails,
each batch is retried alone so one bad batch cannot fail the others.

The writer holds a session advisory lock on its database: a second engine on the same ledger
is refused, so `seq` (the posting feed's order) is assigned without gaps or races.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

import asyncpg
import grpc

from corridor import pg
from corridor.clock import business_day
from corridor.errors import CorridorError, exhausted
from corridor.money import INT64_MAX, known_currency
from corridor.v1 import ledger_pb2
from services.ledger.schema import migrate

log = logging.getLogger("corridor.ledger")

# Result codes are the wire enum (corridor.v1.TransferCode); names say which rule broke.
ResultCode = IntEnum("ResultCode", dict(ledger_pb2.TransferCode.items()))  # type: ignore[misc]
C = ResultCode

# Account flags.
DEBITS_MUST_NOT_EXCEED_CREDITS = 1
CREDITS_MUST_NOT_EXCEED_DEBITS = 2
# Freeze modes.
FREEZE_NONE, FREEZE_RECEIVE_ONLY, FREEZE_FULL = 0, 1, 2
# Transfer flags (stored bit set).
F_LINKED, F_PENDING, F_POST, F_VOID, F_EXPIRE = 1, 2, 4, 8, 16
# Transfer states.
S_POSTED, S_PENDING, S_POSTED_FROM_PENDING, S_VOIDED, S_EXPIRED = 1, 2, 3, 4, 5

ADVISORY_LOCK_KEY = 0x434F5252  # "CORR"
MAX_TIMEOUT_S = 366 * 86_400  # a pending transfer waits at most a year
MAX_GROUP_TRANSFERS = 16_384
WRITER_SETTINGS = {"random_page_cost": "1.1", "enable_seqscan": "off"}
_CONNECTION_ERRORS = pg.CONNECTION_ERRORS


@dataclass(slots=True)
class AccountSpec:
    id: str
    currency: str
    kind: str
    flags: int = 0
    balance_max: int = 0
    debit_max_per_transfer: int = 0
    daily_debit_max: int = 0
    freeze: int = FREEZE_NONE


@dataclass(slots=True)
class TransferSpec:
    id: str
    debit_account_id: str = ""
    credit_account_id: str = ""
    amount_minor: int = 0
    currency: str = ""
    linked: bool = False
    pending: bool = False
    timeout_s: int = 0
    post_pending_id: str = ""
    void_pending_id: str = ""
    kind: str = ""
    payment_id: str = ""
    business_at_us: int = 0


@dataclass(slots=True)
class BalanceView:
    account_id: str
    posted_minor: int
    available_minor: int
    debits_pending: int
    credits_pending: int


@dataclass(slots=True)
class TransferResult:
    code: int
    seq: int = 0
    debit: BalanceView | None = None
    credit: BalanceView | None = None

    @property
    def ok(self) -> bool:
        return self.code in (C.OK, C.EXISTS)


@dataclass(slots=True)
class _Account:
    """In-memory row during a group transaction."""

    id: str
    currency: str
    flags: int
    dp: int
    dpo: int
    cp: int
    cpo: int
    balance_max: int
    debit_max: int
    daily_max: int
    daily_day: int
    daily_used: int
    freeze: int
    dirty: bool = False

    def snapshot(self) -> tuple[int, int, int, int, int, int, bool]:
        return (self.dp, self.dpo, self.cp, self.cpo, self.daily_day, self.daily_used, self.dirty)

    def restore(self, s: tuple[int, int, int, int, int, int, bool]) -> None:
        self.dp, self.dpo, self.cp, self.cpo, self.daily_day, self.daily_used, self.dirty = s

    def view(self) -> BalanceView:
        posted = self.cpo - self.dpo
        return BalanceView(self.id, posted, posted - self.dp, self.dp, self.cp)


@dataclass(slots=True)
class _Stored:
    """A transfer already in the ledger (or earlier in this group)."""

    seq: int
    debit: str
    credit: str
    amount: int
    currency: str
    flags: int
    pending_id: str | None
    state: int
    timeout_at_us: int
    business_at_us: int


@dataclass
class _Request:
    transfers: Sequence[TransferSpec]
    future: asyncio.Future[list[TransferResult]]


@dataclass
class _Group:
    """Everything one group transaction reads and writes."""

    accounts: dict[str, _Account]
    stored: dict[str, _Stored]  # by transfer id: existing rows + rows created in this group
    new_rows: list[tuple] = field(default_factory=list)
    state_changes: dict[str, int] = field(default_factory=dict)  # pending id -> new state


ACCOUNT_COLUMNS = (
    "id, currency, flags, debits_pending, debits_posted, credits_pending, credits_posted,"
    " balance_max, debit_max_per_transfer, daily_debit_max, daily_debit_day, daily_debit_used,"
    " freeze_mode"
)
TRANSFER_COLUMNS = (
    "seq",
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "currency",
    "flags",
    "pending_id",
    "state",
    "timeout_at_us",
    "kind",
    "payment_id",
    "business_at_us",
)


class LedgerBusy(Exception):
    """Another engine already writes this ledger."""


class LedgerEngine:
    def __init__(self, dsn: str, name: str, utc_offset_minutes: int = 0) -> None:
        self.dsn = dsn
        self.name = name
        self.utc_offset_minutes = utc_offset_minutes
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._writer: asyncpg.Connection | None = None
        self._pool: asyncpg.Pool | None = None
        self._task: asyncio.Task[None] | None = None
        self._next_seq = 1
        self._committed = asyncio.Condition()
        self.last_seq = 0
        self.queued_transfers = 0
        # Backpressure: beyond this many queued transfers new batches get RESOURCE_EXHAUSTED.
        self.max_queued_transfers = int(os.environ.get("CORRIDOR_LEDGER_MAX_QUEUED", "100000"))
        self.drain_rate_per_s = 20_000.0  # moving estimate of committed transfers per second

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    async def open(
        cls, dsn: str, name: str = "ledger", utc_offset_minutes: int = 0
    ) -> LedgerEngine:
        """Connect, migrate, take the single-writer lock and start the writer task."""
        self = cls(dsn, name, utc_offset_minutes)
        # Batches look rows up by `id = ANY($1)`: with a few thousand ids the planner may choose a
        # sequential scan of the whole transfers table (measured 2-5x slower on bench ledgers).
        # Index lookups are always right for the writer's point queries.
        self._writer = await asyncpg.connect(dsn, server_settings=WRITER_SETTINGS)
        await migrate(self._writer)
        got = await self._writer.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY)
        if not got:
            await self._writer.close()
            raise LedgerBusy(f"ledger {name!r} is already being written by another process")
        self.last_seq = await self._writer.fetchval("SELECT coalesce(max(seq), 0) FROM transfers")
        self._next_seq = self.last_seq + 1
        self._pool = await asyncpg.create_pool(
            dsn, min_size=1, max_size=4, server_settings={"random_page_cost": "1.1"}
        )
        self._task = asyncio.create_task(self._write_loop(), name=f"ledger-writer-{name}")
        return self

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pool:
            await self._pool.close()
        if self._writer:
            await self._writer.close()

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None
        return self._pool

    # ------------------------------------------------------------------ accounts
    async def create_accounts(self, specs: Sequence[AccountSpec]) -> list[int]:
        """Create accounts (one statement for the batch); returns an AccountCode per spec:
        OK, EXISTS (identical), or EXISTS_WITH_DIFFERENT_FIELDS."""
        if not specs:
            return []
        async with self.pool.acquire() as conn, conn.transaction():
            created = {
                r[0]
                for r in await conn.fetch(
                    "INSERT INTO accounts (id, currency, kind, flags, balance_max,"
                    " debit_max_per_transfer, daily_debit_max, freeze_mode)"
                    " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[],"
                    " $6::bigint[], $7::bigint[], $8::smallint[])"
                    " ON CONFLICT (id) DO NOTHING RETURNING id",
                    [s.id for s in specs], [s.currency for s in specs], [s.kind for s in specs],
                    [s.flags for s in specs], [s.balance_max for s in specs],
                    [s.debit_max_per_transfer for s in specs], [s.daily_debit_max for s in specs],
                    [s.freeze for s in specs],
                )
            }  # fmt: skip
            others = [s.id for s in specs if s.id not in created]
            old = {
                r["id"]: (r["currency"].strip(), r["kind"], r["flags"])
                for r in await conn.fetch(
                    "SELECT id, currency, kind, flags FROM accounts WHERE id = ANY($1::text[])", others
                )
            } if others else {}  # fmt: skip
        codes: list[int] = []
        seen: set[str] = set()
        for s in specs:
            if s.id in created and s.id not in seen:
                codes.append(ledger_pb2.ACCOUNT_OK)
            elif old.get(s.id, (s.currency, s.kind, s.flags)) == (s.currency, s.kind, s.flags):
                codes.append(ledger_pb2.ACCOUNT_EXISTS)
            else:
                codes.append(ledger_pb2.ACCOUNT_EXISTS_WITH_DIFFERENT_FIELDS)
            seen.add(s.id)
        return codes

    async def set_freeze(self, account_id: str, freeze: int) -> bool:
        """Freeze or unfreeze; effective for every transfer committed after this returns."""
        async with self.pool.acquire() as conn:
            r = await conn.execute(
                "UPDATE accounts SET freeze_mode = $2 WHERE id = $1", account_id, freeze
            )
        return r.endswith(" 1")

    async def set_limits(
        self, account_id: str, balance_max: int, debit_max: int, daily_max: int
    ) -> bool:
        async with self.pool.acquire() as conn:
            r = await conn.execute(
                "UPDATE accounts SET balance_max=$2, debit_max_per_transfer=$3, daily_debit_max=$4"
                " WHERE id = $1",
                account_id, balance_max, debit_max, daily_max,
            )  # fmt: skip
        return r.endswith(" 1")

    async def lookup_accounts(self, ids: Sequence[str]) -> list[dict]:
        """A consistent snapshot (one statement) of posted and pending sums, in request order."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch("SELECT * FROM accounts WHERE id = ANY($1::text[])", list(ids))
        by_id = {}
        for r in rows:
            d = dict(r)
            # In Python: the difference of two bigints may not fit a bigint.
            d["posted"] = r["credits_posted"] - r["debits_posted"]
            d["available"] = d["posted"] - r["debits_pending"]
            by_id[r["id"]] = d
        return [by_id[i] for i in ids if i in by_id]

    # ------------------------------------------------------------------ reads
    async def lookup_transfers(self, ids: Sequence[str]) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch("SELECT * FROM transfers WHERE id = ANY($1::text[])", list(ids))
        by_id = {r["id"]: r for r in rows}
        return [by_id[i] for i in ids if i in by_id]

    async def account_transfers(
        self, account_id: str, after_seq: int, limit: int
    ) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(
                "SELECT * FROM ("
                " SELECT * FROM transfers WHERE debit_account_id = $1 AND seq > $2"
                " UNION ALL"
                " SELECT * FROM transfers WHERE credit_account_id = $1 AND seq > $2) t"
                " ORDER BY seq LIMIT $3",
                account_id, after_seq, limit,
            )  # fmt: skip

    async def postings(self, after_seq: int, limit: int) -> list[asyncpg.Record]:
        """The posting feed: transfers in commit order after a cursor."""
        async with self.pool.acquire() as conn:
            return await conn.fetch(
                "SELECT * FROM transfers WHERE seq > $1 ORDER BY seq LIMIT $2", after_seq, limit
            )

    async def wait_for_commit(self, after_seq: int, timeout_s: float) -> None:
        """Wait until a commit moves last_seq beyond after_seq (for following feeds)."""
        async with self._committed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._committed.wait_for(lambda: self.last_seq > after_seq), timeout_s
                )

    async def timed_out_pending(self, now_us: int, limit: int) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await conn.fetch(
                "SELECT * FROM transfers WHERE state = 2 AND timeout_at_us > 0"
                " AND timeout_at_us <= $1 ORDER BY timeout_at_us LIMIT $2",
                now_us, limit,
            )  # fmt: skip

    async def expire_pending(
        self,
        now_us: int | None = None,
        limit: int = 1000,
        exclude_kinds: tuple[str, ...] = ("pvp",),
    ) -> list[str]:
        """Void every pending transfer whose timeout has passed (wall clock). Returns their ids.

        Kinds in `exclude_kinds` (PvP legs) are never expired unilaterally: their participant asks
        the coordinator for the decision instead (bridge.pvp.resolve_timed_out_legs)."""
        now_us = now_us or time.time_ns() // 1000
        rows = [
            r for r in await self.timed_out_pending(now_us, limit) if r["kind"] not in exclude_kinds
        ]
        if not rows:
            return []
        specs = [
            TransferSpec(id=_expire_id(r["id"]), void_pending_id=r["id"], kind="expire")
            for r in rows
        ]
        results = await self.submit(specs, _expire=True)
        return [r["id"] for r, res in zip(rows, results, strict=True) if res.code == C.OK]

    # ------------------------------------------------------------------ writes
    async def submit(
        self, transfers: Sequence[TransferSpec], _expire: bool = False
    ) -> list[TransferResult]:
        """Apply a batch (in order; linked chains all-or-nothing); one result per transfer.

        Returns after the batch is durably committed."""
        if not transfers:
            return []
        if self.queued_transfers + len(transfers) > self.max_queued_transfers and not _expire:
            # Shed load at the door: a request refused now is never half-done, and one accepted is
            # never dropped. Retry after roughly the time to drain the queue.
            raise exhausted(
                "LEDGER_QUEUE_FULL",
                f"ledger {self.name} has {self.queued_transfers} transfers queued; retry shortly",
                retry_after_s=max(0.05, self.queued_transfers / max(1.0, self.drain_rate_per_s)),
            )
        if _expire:
            transfers = [_ExpireSpec(t) for t in transfers]  # type: ignore[misc]
        fut: asyncio.Future[list[TransferResult]] = asyncio.get_running_loop().create_future()
        self.queued_transfers += len(transfers)
        await self._queue.put(_Request(transfers, fut))
        return await fut

    async def _write_loop(self) -> None:
        while True:
            first = await self._queue.get()
            requests = [first]
            n = len(first.transfers)
            while n < MAX_GROUP_TRANSFERS and not self._queue.empty():
                req = self._queue.get_nowait()
                requests.append(req)
                n += len(req.transfers)
            t0 = time.perf_counter()
            await self._commit_group(requests)
            self.queued_transfers -= n
            rate = n / max(1e-6, time.perf_counter() - t0)
            self.drain_rate_per_s = 0.9 * self.drain_rate_per_s + 0.1 * rate

    async def _commit_group(self, requests: list[_Request]) -> None:
        live = [r for r in requests if not r.future.cancelled()]
        if not live:
            return
        try:
            results = await self._apply_in_transaction(live)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - sorted below: connection loss or a bad batch
            if not isinstance(exc, _CONNECTION_ERRORS) and not (
                self._writer and self._writer.is_closed()
            ):
                await self._isolate(live, exc)
                return
            # The database went away (restart, network). Whether the group committed is unknown:
            # answer UNAVAILABLE (clients retry with the same ids and get EXISTS if it did), then
            # reconnect, re-take the single-writer lock and re-read the feed position.
            log.warning("ledger %s lost its database (%s); reconnecting", self.name, exc)
            err = CorridorError(grpc.StatusCode.UNAVAILABLE, "LEDGER_DATABASE_UNAVAILABLE",
                                f"ledger {self.name}: database unavailable; retry with the same ids")  # fmt: skip
            for r in live:
                if not r.future.done():
                    r.future.set_exception(err)
            await self._reconnect()
            return
        for req, res in zip(live, results, strict=True):
            if not req.future.done():
                req.future.set_result(res)
        async with self._committed:
            self._committed.notify_all()

    async def _isolate(self, live: list[_Request], exc: Exception) -> None:
        """A group failed for a reason other than the connection: retry each batch alone so one
        bad batch cannot fail the others; a lone failing batch gets the error."""
        if len(live) > 1:
            log.warning("group commit failed (%s); retrying %d batches alone", exc, len(live))
            for r in live:
                await self._commit_group([r])
            return
        log.error("batch failed: %s", exc, exc_info=exc)
        if not live[0].future.done():
            live[0].future.set_exception(exc)

    async def _reconnect(self) -> None:
        """Re-open the writer connection (with backoff) and re-take the single-writer lock."""
        delay = 0.2
        while True:
            if self._writer is not None:
                with contextlib.suppress(Exception):
                    self._writer.terminate()
            try:
                self._writer = await asyncpg.connect(self.dsn, server_settings=WRITER_SETTINGS)
                if not await self._writer.fetchval(
                    "SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY
                ):
                    raise LedgerBusy(f"ledger {self.name!r} is now written by another process")
                self.last_seq = await self._writer.fetchval(
                    "SELECT coalesce(max(seq), 0) FROM transfers"
                )
                self._next_seq = self.last_seq + 1
                log.info("ledger %s reconnected at seq %d", self.name, self.last_seq)
                return
            except LedgerBusy:
                raise
            except Exception as exc:  # noqa: BLE001 - keep trying while the database is away
                log.warning("ledger %s: database still unavailable (%s)", self.name, exc)
                await asyncio.sleep(delay)
                delay = min(2.0, delay * 2)

    async def _apply_in_transaction(self, requests: list[_Request]) -> list[list[TransferResult]]:
        conn = self._writer
        assert conn is not None
        ids: set[str] = set()
        pending_ids: set[str] = set()
        for req in requests:
            for t in req.transfers:
                ids.add(t.id)
                if t.post_pending_id or t.void_pending_id:
                    pending_ids.add(t.post_pending_id or t.void_pending_id)
        seq_start = self._next_seq
        async with conn.transaction():
            stored: dict[str, _Stored] = {}
            lookup = list(ids | pending_ids)
            for r in await conn.fetch(
                "SELECT seq, id, debit_account_id, credit_account_id, amount, currency, flags,"
                " pending_id, state, timeout_at_us, business_at_us"
                " FROM transfers WHERE id = ANY($1::text[])",
                lookup,
            ):
                stored[r[1]] = _Stored(
                    r[0], r[2], r[3], r[4], r[5].strip(), r[6], r[7], r[8], r[9], r[10]
                )
            account_ids: set[str] = set()
            for req in requests:
                for t in req.transfers:
                    if t.post_pending_id or t.void_pending_id:
                        p = stored.get(t.post_pending_id or t.void_pending_id)
                        if p:
                            account_ids.add(p.debit)
                            account_ids.add(p.credit)
                    else:
                        account_ids.add(t.debit_account_id)
                        account_ids.add(t.credit_account_id)
            accounts: dict[str, _Account] = {}
            for r in await conn.fetch(
                f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ANY($1::text[])"
                " ORDER BY id FOR UPDATE",
                list(account_ids),
            ):
                accounts[r[0]] = _Account(r[0], r[1].strip(), *r[2:])
            group = _Group(accounts, stored)
            now_us = time.time_ns() // 1000
            all_results = [self._apply_batch(group, req.transfers, now_us) for req in requests]
            if group.new_rows:
                await conn.copy_records_to_table(
                    "transfers", records=group.new_rows, columns=TRANSFER_COLUMNS
                )
            dirty = [a for a in accounts.values() if a.dirty]
            if dirty:
                await conn.execute(
                    "UPDATE accounts AS a SET debits_pending = u.dp, debits_posted = u.dpo,"
                    " credits_pending = u.cp, credits_posted = u.cpo,"
                    " daily_debit_day = u.dday, daily_debit_used = u.dused"
                    " FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[],"
                    " $5::bigint[], $6::int[], $7::bigint[]) AS u(id, dp, dpo, cp, cpo, dday, dused)"
                    " WHERE a.id = u.id",
                    [a.id for a in dirty], [a.dp for a in dirty], [a.dpo for a in dirty],
                    [a.cp for a in dirty], [a.cpo for a in dirty],
                    [a.daily_day for a in dirty], [a.daily_used for a in dirty],
                )  # fmt: skip
            if group.state_changes:
                await conn.execute(
                    "UPDATE transfers AS t SET state = u.state"
                    " FROM unnest($1::text[], $2::smallint[]) AS u(id, state) WHERE t.id = u.id",
                    list(group.state_changes),
                    list(group.state_changes.values()),
                )
        # Committed: only now advance the in-memory cursor (a failed group reuses its seqs).
        self._next_seq = seq_start + len(group.new_rows)
        self.last_seq = self._next_seq - 1
        return all_results

    # ------------------------------------------------------------------ rules
    def _apply_batch(
        self, g: _Group, transfers: Sequence[TransferSpec], now_us: int
    ) -> list[TransferResult]:
        results: list[TransferResult] = []
        i = 0
        n = len(transfers)
        while i < n:
            # A chain is a run of linked transfers closed by the first unlinked one.
            j = i
            while j < n and transfers[j].linked:
                j += 1
            if j == n:  # chain never closed
                if transfers[i].linked:
                    for _ in range(i, n):
                        results.append(TransferResult(C.LINKED_EVENT_CHAIN_OPEN))
                    break
            chain = transfers[i : j + 1]
            if len(chain) == 1:
                results.append(self._apply_one(g, chain[0], now_us))
            else:
                results.extend(self._apply_chain(g, chain, now_us))
            i = j + 1
        return results

    def _apply_chain(
        self, g: _Group, chain: Sequence[TransferSpec], now_us: int
    ) -> list[TransferResult]:
        saved_accounts = {k: a.snapshot() for k, a in g.accounts.items()}
        saved_rows = len(g.new_rows)
        saved_states = dict(g.state_changes)
        added_ids: list[str] = []
        out: list[TransferResult] = []
        for k, t in enumerate(chain):
            before = t.id in g.stored
            res = self._apply_one(g, t, now_us)
            if not before and t.id in g.stored:
                added_ids.append(t.id)
            if res.code not in (C.OK, C.EXISTS):
                for key, snap in saved_accounts.items():
                    g.accounts[key].restore(snap)
                del g.new_rows[saved_rows:]
                g.state_changes.clear()
                g.state_changes.update(saved_states)
                for tid in added_ids:
                    g.stored.pop(tid, None)
                failed = [TransferResult(C.LINKED_EVENT_FAILED) for _ in chain]
                failed[k] = res
                return failed
            out.append(res)
        return out

    def _apply_one(self, g: _Group, t: TransferSpec, now_us: int) -> TransferResult:
        code = _validate_shape(t)
        if code:
            return TransferResult(code)
        prior = g.stored.get(t.id)
        if prior is not None:
            return self._existing(g, t, prior)
        if t.post_pending_id or t.void_pending_id:
            return self._resolve_pending(g, t, now_us)
        return self._move(g, t, now_us)

    def _existing(self, g: _Group, t: TransferSpec, s: _Stored) -> TransferResult:
        if t.post_pending_id or t.void_pending_id:
            same = s.pending_id == (t.post_pending_id or t.void_pending_id) and (
                bool(s.flags & F_POST) == bool(t.post_pending_id)
            )
            same = same and (t.amount_minor in (0, s.amount) or bool(s.flags & F_VOID))
        else:
            same = (s.debit, s.credit, s.amount, s.currency) == (
                t.debit_account_id,
                t.credit_account_id,
                t.amount_minor,
                t.currency,
            ) and bool(s.flags & F_PENDING) == t.pending
        if not same:
            return TransferResult(C.EXISTS_WITH_DIFFERENT_FIELDS, s.seq)
        d, c = g.accounts.get(s.debit), g.accounts.get(s.credit)
        return TransferResult(C.EXISTS, s.seq, d.view() if d else None, c.view() if c else None)

    def _resolve_pending(self, g: _Group, t: TransferSpec, now_us: int) -> TransferResult:
        pid = t.post_pending_id or t.void_pending_id
        p = g.stored.get(pid)
        if p is None:
            return TransferResult(C.PENDING_TRANSFER_NOT_FOUND)
        if not p.flags & F_PENDING:
            return TransferResult(C.PENDING_TRANSFER_NOT_PENDING)
        state = g.state_changes.get(pid, p.state)
        if state in (S_POSTED_FROM_PENDING,):
            return TransferResult(C.PENDING_TRANSFER_ALREADY_POSTED)
        if state == S_VOIDED:
            return TransferResult(C.PENDING_TRANSFER_ALREADY_VOIDED)
        if state == S_EXPIRED:
            return TransferResult(C.PENDING_TRANSFER_EXPIRED)
        # A pending transfer past its timeout can still be posted until it is voided: for a PvP
        # leg only the coordinator's decision may void it (see bridge/pvp.py), otherwise a
        # participant timing out alone could leave a payment half-settled.
        expiring = isinstance(t, _ExpireSpec)
        amount = t.amount_minor or p.amount
        if t.post_pending_id and amount > p.amount:
            return TransferResult(C.EXCEEDS_PENDING_AMOUNT)
        d, c = g.accounts[p.debit], g.accounts[p.credit]
        if t.post_pending_id and max(d.dpo, c.cpo) + amount > INT64_MAX:
            return TransferResult(C.AMOUNT_OVERFLOWS, 0, d.view(), c.view())
        d.dp -= p.amount
        c.cp -= p.amount
        if t.post_pending_id:
            d.dpo += amount
            c.cpo += amount
            if amount < p.amount and d.daily_day == business_day(
                p.business_at_us, self.utc_offset_minutes
            ):
                d.daily_used = max(0, d.daily_used - (p.amount - amount))
            new_state, flags = S_POSTED_FROM_PENDING, F_POST
        else:
            if d.daily_day == business_day(p.business_at_us, self.utc_offset_minutes):
                d.daily_used = max(0, d.daily_used - p.amount)
            amount = p.amount
            new_state, flags = (S_EXPIRED, F_VOID | F_EXPIRE) if expiring else (S_VOIDED, F_VOID)
        d.dirty = c.dirty = True
        g.state_changes[pid] = new_state
        return self._record(g, t, p.debit, p.credit, amount, p.currency, flags, pid, new_state, 0)

    def _move(self, g: _Group, t: TransferSpec, now_us: int) -> TransferResult:
        d = g.accounts.get(t.debit_account_id)
        c = g.accounts.get(t.credit_account_id)
        if d is None:
            return TransferResult(C.DEBIT_ACCOUNT_NOT_FOUND)
        if c is None:
            return TransferResult(C.CREDIT_ACCOUNT_NOT_FOUND)
        if d.currency != t.currency or c.currency != t.currency:
            return TransferResult(C.CURRENCY_MISMATCH, 0, d.view(), c.view())
        if d.freeze != FREEZE_NONE:
            return TransferResult(C.DEBIT_ACCOUNT_FROZEN, 0, d.view(), c.view())
        if c.freeze == FREEZE_FULL:
            return TransferResult(C.CREDIT_ACCOUNT_FROZEN, 0, d.view(), c.view())
        amt = t.amount_minor
        if d.flags & DEBITS_MUST_NOT_EXCEED_CREDITS and d.dp + d.dpo + amt > d.cpo:
            return TransferResult(C.EXCEEDS_CREDITS, 0, d.view(), c.view())
        if c.flags & CREDITS_MUST_NOT_EXCEED_DEBITS and c.cp + c.cpo + amt > c.dpo:
            return TransferResult(C.EXCEEDS_DEBITS, 0, d.view(), c.view())
        if d.debit_max and amt > d.debit_max:
            return TransferResult(C.EXCEEDS_DEBIT_MAX_PER_TRANSFER, 0, d.view(), c.view())
        at_us = t.business_at_us or now_us
        day = business_day(at_us, self.utc_offset_minutes)
        # Only the latest business day's use is tracked. A back-dated transfer counts against that
        # day (never resets it): a client choosing business times can never spend more than the
        # daily limit per tracked day.
        day = max(day, d.daily_day)
        used = d.daily_used if d.daily_day == day else 0
        if d.daily_max and used + amt > d.daily_max:
            return TransferResult(C.EXCEEDS_DAILY_DEBIT_MAX, 0, d.view(), c.view())
        if c.balance_max and c.cpo + c.cp - c.dpo + amt > c.balance_max:
            return TransferResult(C.EXCEEDS_BALANCE_MAX, 0, d.view(), c.view())
        if max(d.dp, d.dpo, c.cp, c.cpo) + amt > INT64_MAX:
            return TransferResult(C.AMOUNT_OVERFLOWS, 0, d.view(), c.view())
        if t.pending:
            d.dp += amt
            c.cp += amt
            state, flags = S_PENDING, F_PENDING
        else:
            d.dpo += amt
            c.cpo += amt
            state, flags = S_POSTED, 0
        if d.daily_max:
            d.daily_day, d.daily_used = day, used + amt
        d.dirty = c.dirty = True
        timeout_at = now_us + t.timeout_s * 1_000_000 if t.pending and t.timeout_s > 0 else 0
        return self._record(g, t, d.id, c.id, amt, t.currency, flags, None, state, timeout_at)

    def _record(
        self, g: _Group, t: TransferSpec, debit: str, credit: str, amount: int, currency: str,
        flags: int, pending_id: str | None, state: int, timeout_at_us: int,
    ) -> TransferResult:  # fmt: skip
        seq = self._next_seq + len(g.new_rows)
        if t.linked:
            flags |= F_LINKED
        at_us = t.business_at_us or time.time_ns() // 1000
        g.new_rows.append(
            (seq, t.id, debit, credit, amount, currency, flags, pending_id, state, timeout_at_us,
             t.kind, t.payment_id, at_us)
        )  # fmt: skip
        g.stored[t.id] = _Stored(
            seq, debit, credit, amount, currency, flags, pending_id, state, timeout_at_us, at_us
        )
        return TransferResult(C.OK, seq, g.accounts[debit].view(), g.accounts[credit].view())


class _ExpireSpec(TransferSpec):
    """Marks a void issued by expiry (recorded as EXPIRED, allowed past the timeout)."""

    __slots__ = ()

    def __init__(self, t: TransferSpec) -> None:
        super().__init__(id=t.id, void_pending_id=t.void_pending_id, kind=t.kind)


def _expire_id(pending_id: str) -> str:
    """Id of the void that expires a pending transfer (fits the 128-char limit for any id)."""
    tid = f"expire:{pending_id}"
    if len(tid) <= 128:
        return tid
    import hashlib

    return f"expire:#{hashlib.sha256(pending_id.encode()).hexdigest()}"


def _validate_shape(t: TransferSpec) -> int:
    """Rules that need no ledger state, in precedence order. 0 when the shape is fine."""
    if not t.id or len(t.id) > 128:
        return C.ID_MUST_NOT_BE_EMPTY
    phase_two = bool(t.post_pending_id) + bool(t.void_pending_id)
    if phase_two > 1 or (phase_two and t.pending):
        return C.FLAGS_ARE_MUTUALLY_EXCLUSIVE
    if phase_two:
        if t.amount_minor < 0:
            return C.AMOUNT_MUST_BE_POSITIVE
        return 0
    if t.amount_minor <= 0:
        return C.AMOUNT_MUST_BE_POSITIVE
    if not 0 <= t.timeout_s <= MAX_TIMEOUT_S:
        return C.TIMEOUT_OUT_OF_RANGE
    if t.amount_minor > INT64_MAX:
        return C.AMOUNT_OVERFLOWS
    if not known_currency(t.currency):
        return C.CURRENCY_UNKNOWN
    if t.debit_account_id == t.credit_account_id:
        return C.ACCOUNTS_MUST_BE_DIFFERENT
    return 0
