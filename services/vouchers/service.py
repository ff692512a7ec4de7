"""The vouchers service: issue, redeem, expire and claw back programmable vouchers.

One `VoucherService` owns the vouchers ledger (its own database, written through the shared
`LedgerEngine`, whose advisory lock makes this process the ledger's only writer). That is what
lets it keep each program's counters in memory and decide redemptions of one program strictly one
after another, with no database round trip between reading the counters and reserving the amount.

A redemption batch, step by step:
1. shape checks (bad input names the field; nothing is written);
2. replays: a key already answered returns its first outcome, never a second posting;
3. for each redemption, in order and without yielding to other tasks: build the context, evaluate
   the compiled condition, and if it holds *reserve* the amount in the program's counters;
4. write one audit row per evaluation (one COPY, one commit) -- before any money moves;
5. submit the escrow -> payee transfers to the ledger engine (group commit with other batches);
6. release reservations the ledger refused (a frozen payee, say), and answer.
A refusal moves nothing: it only leaves its audit row.

Counters are derived, not stored: at start-up (or first use) a program's issued, redeemed,
refunded and clawed-back sums are read from the ledger's transfers by `payment_id`; afterwards the
service keeps them current as its own transfers commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import grpc

from corridor.clock import WallClock
from corridor.errors import CorridorError, invalid, not_found, permission_denied, precondition
from corridor.money import INT64_MAX, known_currency
from corridor.v1 import ledger_pb2
from services.ledger.engine import C, LedgerEngine, TransferResult, TransferSpec
from services.ledger.schema import migrate
from services.vouchers import ledger as vl
from services.vouchers.cel_types import ConditionLimits
from services.vouchers.conditions import (
    CompiledCondition,
    ContextError,
    ProgramCounters,
    RedemptionFacts,
    Verdict,
    build_context,
)
from services.vouchers.program import (
    BUILTIN_CLAUSES,
    PROGRAM_ACTIVE,
    SETTLEMENT_CROSS_BORDER,
    ProgramError,
    VoucherProgram,
    check_party_id,
)
from services.vouchers.schema import VOUCHER_MIGRATIONS

log = logging.getLogger("corridor.vouchers")

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_KEY_CHARS = 60
MAX_BATCH = 5_000
# Coalesced single redemptions in flight at once: two, so one batch's audit write overlaps the
# other's ledger commit.
MAX_DRAINERS = 2
RECENT_OUTCOMES = 200_000
_KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*\Z")

STATUS_ISSUING, STATUS_ACTIVE, STATUS_REJECTED = "issuing", "active", "rejected"
STATUS_EXPIRED, STATUS_CLAWED_BACK = "expired", "clawed_back"
# In memory only: closing while in-flight redemptions drain, then expired / clawed_back.
STATUS_CLOSING = "closing"

REASON_CLAUSE_FALSE = "clause_false"
REASON_EVALUATION_ERROR = "evaluation_error"
REASON_PROGRAM_CLOSED = "program_closed"
REASON_PROGRAM_NOT_FOUND = "program_not_found"
REASON_LEDGER_REFUSED = "ledger_refused"


def at_us(moment: dt.datetime) -> int:
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


def from_us(micros: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=micros)


# --- what callers send and get back -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Redemption:
    """One payment out of a program. `idempotency_key` is unique per program."""

    program_id: str
    idempotency_key: str
    facts: RedemptionFacts


@dataclass(frozen=True, slots=True)
class RedemptionOutcome:
    """Settled, or refused with the clause that failed (`reason` says how)."""

    program_id: str
    idempotency_key: str
    settled: bool
    amount_minor: int
    failed_clause: str = ""
    reason: str = ""
    detail: str = ""
    transfer_id: str = ""
    seq: int = 0
    remaining_minor: int = 0
    replayed: bool = False
    ledger_code: int = 0


@dataclass(frozen=True, slots=True)
class ProgramView:
    """A program as issued, with its ledger-derived counters. Invariant:
    issued = redeemed + refunded + clawed_back + outstanding."""

    program: VoucherProgram
    status: str
    issued_minor: int
    redeemed_minor: int
    refunded_minor: int
    clawed_back_minor: int
    outstanding_minor: int
    redemptions: int
    clauses: tuple[tuple[str, str, bool], ...]  # (name, cel, built-in?)
    issued_at_us: int
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class MovementOutcome:
    """A deposit, expiry refund or claw-back as it landed on the ledger."""

    program_id: str
    transfer_id: str
    amount_minor: int
    seq: int
    balance_minor: int = 0  # the funder's deposit balance (deposit) / outstanding (others)
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """One audit row: what the condition saw, what it said, and what the ledger did."""

    seq: int
    program_id: str
    idempotency_key: str
    amount_minor: int
    business_at_us: int
    inputs: dict[str, Any]
    allowed: bool
    failed_clause: str
    reason: str
    detail: str
    settled: bool
    transfer_seq: int
    ledger_code: int


@dataclass(frozen=True, slots=True)
class SettlementInstruction:
    """A committed payout, in ledger order: what a node or the bridge must now pay.
    `route` is domestic (pay the party's wallet on the node) or cross_border (through the bridge
    into `payout_currency`). The posting `seq` is the resumable cursor."""

    seq: int
    transfer_id: str
    program_id: str
    kind: str
    party_id: str
    amount_minor: int
    currency: str
    route: str
    payout_currency: str
    business_at_us: int


@dataclass(slots=True)
class ProgramState:
    """A program's live counters (committed + reserved by redemptions in flight)."""

    program: VoucherProgram
    condition: CompiledCondition
    status: str
    issued_at_us: int
    issued: int = 0
    redeemed: int = 0
    refunded: int = 0
    clawed_back: int = 0
    redemptions: int = 0
    inflight: int = 0
    drained: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def remaining(self) -> int:
        return self.issued - self.redeemed - self.refunded - self.clawed_back

    def view(self, replayed: bool = False) -> ProgramView:
        builtin = set(BUILTIN_CLAUSES)
        return ProgramView(
            self.program,
            STATUS_ACTIVE if self.status == STATUS_CLOSING else self.status,
            self.issued,
            self.redeemed,
            self.refunded,
            self.clawed_back,
            self.remaining,
            self.redemptions,
            tuple((c.name, c.source, c.name in builtin) for c in self.condition.clauses),
            self.issued_at_us,
            replayed,
        )

    def begin(self) -> None:
        self.inflight += 1
        self.drained.clear()

    def end(self) -> None:
        self.inflight -= 1
        if self.inflight == 0:
            self.drained.set()


@dataclass(slots=True)
class _Pending:
    """A redemption decided in this batch, awaiting its audit row and ledger result."""

    index: int
    request: Redemption
    state: ProgramState | None
    verdict: Verdict
    counters: ProgramCounters
    transfer: TransferSpec | None = None
    outcome: RedemptionOutcome | None = None


class VoucherService:
    """The domain of the vouchers service; the gRPC servicer is a thin layer over it."""

    def __init__(
        self,
        engine: LedgerEngine,
        pool: asyncpg.Pool,
        audit_pool: asyncpg.Pool,
        clock: Any = None,
        limits: ConditionLimits | None = None,
    ) -> None:
        self.engine = engine
        self.pool = pool
        self.audit_pool = audit_pool
        self.clock = clock or WallClock()
        self.limits = limits or ConditionLimits()
        self._states: dict[str, ProgramState] = {}
        self._loading: dict[str, asyncio.Future[None]] = {}
        self._accounts: set[str] = set()
        self._inflight_keys: dict[tuple[str, str], asyncio.Future[RedemptionOutcome]] = {}
        self._recent: OrderedDict[tuple[str, str], RedemptionOutcome] = OrderedDict()
        self._issue_lock = asyncio.Lock()
        self._accounts_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._queue: list[tuple[Redemption, asyncio.Future[RedemptionOutcome]]] = []
        self._drainers = 0

    # -- lifecycle ----------------------------------------------------------------------------

    @classmethod
    async def open(
        cls, dsn: str, clock: Any = None, limits: ConditionLimits | None = None
    ) -> VoucherService:
        """Open the vouchers ledger (migrations, single-writer lock) and repair statuses."""
        await _tune_planner(dsn)
        engine = await LedgerEngine.open(dsn, "vouchers")
        pools: list[asyncpg.Pool] = []
        try:
            async with engine.pool.acquire() as conn:
                await migrate(conn, "vouchers", VOUCHER_MIGRATIONS)
            pools.append(await asyncpg.create_pool(dsn, min_size=1, max_size=4))
            pools.append(
                await asyncpg.create_pool(
                    dsn, min_size=1, max_size=4, server_settings={"synchronous_commit": "off"}
                )
            )
        except BaseException:
            for pool in pools:
                await pool.close()
            await engine.close()
            raise
        service = cls(engine, pools[0], pools[1], clock, limits)
        await service._recover()
        return service

    def background(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run work (e.g. the expiry loop) until `close()`."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        queued, self._queue = self._queue, []
        for _, future in queued:
            if not future.done():
                future.set_exception(RuntimeError("the vouchers service is closing; retry"))
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.audit_pool.close()
        await self.pool.close()
        await self.engine.close()

    async def _recover(self) -> None:
        """Bring cached statuses in line with the ledger after a crash: a program whose funding
        committed is active, one whose refund committed is expired; an audit row that says
        "allowed" but has no transfer was abandoned (its redemption can be retried)."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE voucher_programs p SET status = 'active' WHERE status = 'issuing'"
                " AND EXISTS (SELECT 1 FROM transfers t WHERE t.id = 'vi:' || p.program_id)"
            )
            await conn.execute(
                "UPDATE voucher_programs p SET status = 'expired' WHERE status = 'active'"
                " AND EXISTS (SELECT 1 FROM transfers t WHERE t.id = 'vx:' || p.program_id)"
            )

    def now_us(self) -> int:
        return int(self.clock.now_us())

    # -- accounts -----------------------------------------------------------------------------

    async def _ensure_accounts(self, specs: Iterable[Any]) -> None:
        """Create the accounts not yet known. One creation at a time, in id order: two
        overlapping concurrent inserts could otherwise deadlock on each other's keys."""
        wanted = {s.id: s for s in specs if s.id not in self._accounts}
        if not wanted:
            return
        async with self._accounts_lock:
            missing = [wanted[i] for i in sorted(wanted) if i not in self._accounts]
            if not missing:
                return
            codes = await self.engine.create_accounts(missing)
            for spec, code in zip(missing, codes, strict=True):
                if code not in (ledger_pb2.ACCOUNT_OK, ledger_pb2.ACCOUNT_EXISTS):
                    raise RuntimeError(f"account {spec.id} exists with different fields")
                self._accounts.add(spec.id)

    # -- deposit ------------------------------------------------------------------------------

    async def deposit(
        self,
        funder_id: str,
        currency: str,
        amount_minor: int,
        idempotency_key: str,
        business_at_us: int = 0,
    ) -> MovementOutcome:
        """Credit a funder's deposit balance: its e-CNY has reached the voucher operator's omnibus
        account on the node. Programs are funded from this balance, never on credit."""
        _check_party("funder_id", funder_id)
        _check_key("idempotency_key", idempotency_key)
        _check_amount("amount_minor", amount_minor)
        if not known_currency(currency):
            raise invalid("currency", f"unknown currency {currency!r}")
        at = business_at_us or self.now_us()
        await self._ensure_accounts(
            [vl.omnibus_spec(currency), vl.funder_spec(funder_id, currency)]
        )
        transfer_id = vl.deposit_transfer_id(funder_id, idempotency_key)
        spec = TransferSpec(
            transfer_id,
            vl.omnibus_account(currency),
            vl.funder_account(funder_id, currency),
            amount_minor,
            currency,
            kind=vl.KIND_DEPOSIT,
            payment_id=f"deposit:{funder_id}",
            business_at_us=at,
        )
        (result,) = await self.engine.submit([spec])
        _raise_for_code(result, "amount_minor")
        if result.code == C.OK:
            await self._record_action(
                funder_id, "deposit", funder_id, amount_minor, transfer_id, "", at
            )
        balance = result.credit.available_minor if result.credit else 0
        return MovementOutcome(
            "", transfer_id, amount_minor, result.seq, balance, result.code == C.EXISTS
        )

    # -- issue --------------------------------------------------------------------------------

    async def issue(
        self, program: VoucherProgram, idempotency_key: str, business_at_us: int = 0
    ) -> ProgramView:
        """Check and compile the condition, then lock the amount: funder -> escrow.

        Idempotent on `idempotency_key`: a retry describing the same program returns it (even if
        the first attempt died before funding, which is then completed); a different program under
        the same key or id is ALREADY_EXISTS."""
        _check_key("idempotency_key", idempotency_key)
        try:
            program.compile(self.limits)
        except ProgramError as exc:
            raise _program_error(exc) from exc
        at = business_at_us or self.now_us()
        async with self._issue_lock:
            row = await self._find_program(program, idempotency_key)
            if row is None:
                if program.expires_at <= from_us(at):
                    raise invalid("expires_at", "the program would already be expired at issue")
                row = await self._claim_program(program, idempotency_key, at)
            if row["status"] not in (STATUS_ISSUING, STATUS_REJECTED):
                state = await self._state(program.program_id)
                assert state is not None
                return state.view(replayed=True)
            await self._fund(program, row["issued_at_us"])
            # Counters come from the ledger, so the program is (re)loaded from it once funded.
            self._states.pop(program.program_id, None)
            loaded = await self._state(program.program_id)
            assert loaded is not None
            return loaded.view()

    async def _find_program(self, program: VoucherProgram, key: str) -> asyncpg.Record | None:
        """The program already issued under this id or key -- which must be this very program."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT program_id, idempotency_key, fingerprint, status, issued_at_us"
                " FROM voucher_programs WHERE program_id = $1 OR idempotency_key = $2"
                " ORDER BY (program_id = $1) DESC LIMIT 1",
                program.program_id,
                key,
            )
        if row is None:
            return None
        if row["program_id"] != program.program_id:
            raise _already_exists("idempotency_key", "this key already issued another program")
        if row["idempotency_key"] != key:
            raise _already_exists(
                "program_id", "a program with this id was issued under another key"
            )
        if row["fingerprint"] != program.fingerprint():
            raise _already_exists("idempotency_key", "this key already issued a different program")
        return row

    async def _claim_program(self, program: VoucherProgram, key: str, at: int) -> asyncpg.Record:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO voucher_programs (program_id, idempotency_key, fingerprint, definition,"
                " funder_id, currency, amount_minor, template, status, issued_at_us, expires_at_us)"
                " VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, 'issuing', $9, $10)",
                program.program_id, key, program.fingerprint(), json.dumps(program.to_json()),
                program.funder_id, program.currency, program.amount_minor, program.template, at,
                at_us(program.expires_at),
            )  # fmt: skip
        row = await self._find_program(program, key)
        assert row is not None
        return row

    async def _fund(self, program: VoucherProgram, issued_at_us: int) -> None:
        currency = program.currency
        funder = vl.funder_account(program.funder_id, currency)
        if not await self.engine.lookup_accounts([funder]):
            await self._set_status(program.program_id, STATUS_REJECTED)
            raise precondition(
                "FUNDER_HAS_NO_DEPOSIT",
                f"{program.funder_id} has deposited no {currency}",
                "funder_id",
            )
        await self._ensure_accounts(
            [vl.escrow_spec(program.program_id, currency), *self._payout_specs(program)]
        )
        spec = TransferSpec(
            vl.issue_transfer_id(program.program_id),
            funder,
            vl.escrow_account(program.program_id),
            program.amount_minor,
            currency,
            kind=vl.KIND_ISSUE,
            payment_id=program.program_id,
            business_at_us=issued_at_us,
        )
        (result,) = await self.engine.submit([spec])
        if not result.ok:
            await self._set_status(program.program_id, STATUS_REJECTED)
            if result.code == C.EXCEEDS_CREDITS:
                available = result.debit.available_minor if result.debit else 0
                raise precondition(
                    "INSUFFICIENT_FUNDS",
                    f"the funder's deposit ({available} minor units) cannot lock {program.amount_minor}",
                    "amount_minor",
                )
            _raise_for_code(result, "amount_minor")
        await self._set_status(program.program_id, STATUS_ACTIVE)
        if result.code == C.OK:
            await self._record_action(
                program.program_id,
                "issue",
                program.funder_id,
                program.amount_minor,
                spec.id,
                "",
                issued_at_us,
            )

    def _payout_specs(self, program: VoucherProgram) -> list[Any]:
        currency = program.currency
        specs = [vl.party_spec(program.refund_target, currency)]
        if program.clawback_authority:
            specs.append(vl.party_spec(program.clawback_authority, currency))
        if program.settlement == SETTLEMENT_CROSS_BORDER:
            specs.append(vl.bridge_spec(currency))
        specs += [vl.party_spec(b, currency) for b in program.beneficiaries]
        return specs

    async def _set_status(self, program_id: str, status: str, closed_at_us: int = 0) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "UPDATE voucher_programs SET status = $2, closed_at_us = $3 WHERE program_id = $1",
                program_id,
                status,
                closed_at_us,
            )

    # -- program state ------------------------------------------------------------------------

    async def _state(self, program_id: str) -> ProgramState | None:
        states = await self._states_for([program_id])
        return states.get(program_id)

    async def _states_for(self, program_ids: Iterable[str]) -> dict[str, ProgramState]:
        wanted = set(program_ids)
        todo = [p for p in wanted if p not in self._states and p not in self._loading]
        waits = {self._loading[p] for p in wanted if p in self._loading}
        if todo:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            for p in todo:
                self._loading[p] = future
            try:
                await self._load(todo)
                future.set_result(None)
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()  # retrieved: the waiters re-raise it
                raise
            finally:
                for p in todo:
                    self._loading.pop(p, None)
        for wait in waits:
            await asyncio.shield(wait)
        return {p: self._states[p] for p in wanted if p in self._states}

    async def _load(self, program_ids: list[str]) -> None:
        """Definitions from voucher_programs; counters from the ledger's transfers."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT program_id, definition, status, issued_at_us FROM voucher_programs"
                " WHERE program_id = ANY($1::text[])",
                program_ids,
            )
            sums = await conn.fetch(
                "SELECT payment_id, kind, count(*) AS n, sum(amount) AS total FROM transfers"
                " WHERE payment_id = ANY($1::text[]) GROUP BY payment_id, kind",
                program_ids,
            )
        totals: dict[str, dict[str, tuple[int, int]]] = {}
        for s in sums:
            totals.setdefault(s["payment_id"], {})[s["kind"]] = (int(s["n"]), int(s["total"]))
        for row in rows:
            if row["program_id"] in self._states:
                continue
            program = VoucherProgram.from_json(json.loads(row["definition"]))
            state = ProgramState(
                program, program.compile(self.limits), row["status"], row["issued_at_us"]
            )
            state.drained.set()
            kinds = totals.get(program.program_id, {})
            state.issued = kinds.get(vl.KIND_ISSUE, (0, 0))[1]
            state.redemptions, state.redeemed = kinds.get(vl.KIND_REDEEM, (0, 0))
            state.refunded = kinds.get(vl.KIND_REFUND, (0, 0))[1]
            state.clawed_back = kinds.get(vl.KIND_CLAWBACK, (0, 0))[1]
            self._states[program.program_id] = state

    async def get_program(self, program_id: str) -> ProgramView:
        state = await self._state(program_id)
        if state is None:
            raise not_found("program_id", f"no voucher program {program_id!r}")
        return state.view()

    # -- redeem -------------------------------------------------------------------------------

    async def redeem(self, redemption: Redemption) -> RedemptionOutcome:
        """Redeem one payment. Concurrent single redemptions are coalesced into shared batches
        (group commit at the voucher layer): one replay lookup, one audit write and one ledger
        submission for all of them, instead of one each."""
        _check_redemption(redemption, "")
        future: asyncio.Future[RedemptionOutcome] = asyncio.get_running_loop().create_future()
        self._queue.append((redemption, future))
        if self._drainers < MAX_DRAINERS:
            self._drainers += 1
            self.background(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    outcomes = await self.redeem_batch([r for r, _ in batch])
                except BaseException as exc:  # every caller in the batch sees the failure
                    failure = exc if isinstance(exc, Exception) else RuntimeError("service closing")
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(failure)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if not future.done():
                        future.set_result(outcome)
        finally:
            self._drainers -= 1

    async def redeem_batch(self, redemptions: Sequence[Redemption]) -> list[RedemptionOutcome]:
        """Redeem many payments (possibly of many programs) in one audit write and one ledger
        batch. Each succeeds or is refused on its own; one outcome per redemption, in order."""
        if not redemptions:
            return []
        if len(redemptions) > MAX_BATCH:
            raise invalid("redemptions", f"at most {MAX_BATCH} redemptions per batch")
        for index, r in enumerate(redemptions):
            _check_redemption(r, f"redemptions[{index}]." if len(redemptions) > 1 else "")
        states = await self._states_for({r.program_id for r in redemptions})
        replays = await self._replays(redemptions)
        pending, waits, outcomes = self._decide(redemptions, states, replays)
        await self._settle(pending)
        for item in pending:
            assert item.outcome is not None
            outcomes[item.index] = item.outcome
        for index, wait in waits.items():
            first = await asyncio.shield(wait)
            outcomes[index] = _as_replay(first)
        return [o for o in outcomes if o is not None]

    async def _replays(
        self, redemptions: Sequence[Redemption]
    ) -> dict[tuple[str, str], RedemptionOutcome]:
        """Outcomes already final for these keys (the audit trail joined with the ledger)."""
        keys = [(r.program_id, r.idempotency_key) for r in redemptions]
        unseen = [k for k in keys if k not in self._recent and k not in self._inflight_keys]
        if not unseen:
            return {}
        async with self.pool.acquire() as conn:
            # One index probe per key (LATERAL ... LIMIT 1): never a scan of the whole trail.
            rows = await conn.fetch(
                "SELECT k.p AS program_id, k.r AS redemption_key, x.allowed, x.failed_clause,"
                " x.reason, x.detail, x.amount_minor, x.transfer_id, x.ledger_code,"
                " t.seq AS transfer_seq"
                " FROM unnest($1::text[], $2::text[]) AS k(p, r)"
                " CROSS JOIN LATERAL (SELECT * FROM voucher_evaluations e"
                "   WHERE e.program_id = k.p AND e.redemption_key = k.r"
                "   ORDER BY e.seq DESC LIMIT 1) x"
                " LEFT JOIN LATERAL (SELECT seq FROM transfers"
                "   WHERE id = x.transfer_id AND x.allowed LIMIT 1) t ON true",
                [k[0] for k in unseen],
                [k[1] for k in unseen],
            )
        found: dict[tuple[str, str], RedemptionOutcome] = {}
        for row in rows:
            settled = row["transfer_seq"] is not None
            final = settled or not row["allowed"] or row["ledger_code"] != 0
            if not final:
                continue  # abandoned by a crash before the ledger commit: decide again
            found[(row["program_id"], row["redemption_key"])] = RedemptionOutcome(
                row["program_id"],
                row["redemption_key"],
                settled,
                row["amount_minor"],
                row["failed_clause"],
                row["reason"] or (REASON_LEDGER_REFUSED if row["ledger_code"] else ""),
                row["detail"],
                row["transfer_id"] if settled else "",
                row["transfer_seq"] or 0,
                replayed=True,
                ledger_code=row["ledger_code"],
            )
        return found

    def _decide(
        self,
        redemptions: Sequence[Redemption],
        states: dict[str, ProgramState],
        replays: dict[tuple[str, str], RedemptionOutcome],
    ) -> tuple[
        list[_Pending], dict[int, asyncio.Future[RedemptionOutcome]], list[RedemptionOutcome | None]
    ]:
        """Evaluate in order and reserve what is allowed. Never awaits: the counters one
        redemption sees include every redemption decided before it, in this batch or another."""
        loop = asyncio.get_running_loop()
        outcomes: list[RedemptionOutcome | None] = [None] * len(redemptions)
        waits: dict[int, asyncio.Future[RedemptionOutcome]] = {}
        pending: list[_Pending] = []
        try:
            for index, request in enumerate(redemptions):
                key = (request.program_id, request.idempotency_key)
                first = self._recent.get(key) or replays.get(key)
                if first is not None:
                    outcomes[index] = _as_replay(first)
                    continue
                if key in self._inflight_keys:
                    waits[index] = self._inflight_keys[key]
                    continue
                self._inflight_keys[key] = loop.create_future()
                pending.append(self._evaluate(index, request, states.get(request.program_id)))
        except BaseException:
            for item in pending:
                self._inflight_keys.pop(
                    (item.request.program_id, item.request.idempotency_key), None
                )
                if item.transfer is not None:
                    _release(item)
            raise
        return pending, waits, outcomes

    def _evaluate(self, index: int, request: Redemption, state: ProgramState | None) -> _Pending:
        facts = request.facts
        if state is None:
            verdict = Verdict(False, PROGRAM_ACTIVE, REASON_PROGRAM_NOT_FOUND, "no such program")
            return _Pending(index, request, None, verdict, ProgramCounters(0, 0, 0, 0))
        counters = ProgramCounters(state.issued, state.redeemed, state.remaining, state.redemptions)
        if state.status != STATUS_ACTIVE:
            verdict = Verdict(
                False, PROGRAM_ACTIVE, REASON_PROGRAM_CLOSED, f"program is {state.status}"
            )
            return _Pending(index, request, state, verdict, counters)
        condition = state.condition
        context = build_context(facts, counters, state.program.zone, condition.needs)
        verdict = condition.evaluate(context)
        item = _Pending(index, request, state, verdict, counters)
        if verdict.allowed:
            program = state.program
            state.redeemed += facts.amount_minor
            state.redemptions += 1
            state.begin()
            credit = (
                vl.bridge_account(program.currency)
                if program.settlement == SETTLEMENT_CROSS_BORDER
                else vl.party_account(facts.payee.id, program.currency)
            )
            item.transfer = TransferSpec(
                vl.redeem_transfer_id(program.program_id, request.idempotency_key),
                vl.escrow_account(program.program_id),
                credit,
                facts.amount_minor,
                program.currency,
                kind=vl.KIND_REDEEM,
                payment_id=program.program_id,
                business_at_us=at_us(facts.business_at),
            )
        return item

    async def _settle(self, pending: list[_Pending]) -> None:
        """Audit first, then the ledger; always resolve every in-flight key."""
        try:
            if pending:
                await self._write_audit(pending)
                await self._submit(pending)
        except BaseException:
            for item in pending:
                if item.transfer is not None and item.outcome is None and item.state is not None:
                    _release(item)
            raise
        finally:
            for item in pending:
                key = (item.request.program_id, item.request.idempotency_key)
                future = self._inflight_keys.pop(key, None)
                if future is None or future.done():
                    continue
                if item.outcome is not None:
                    future.set_result(item.outcome)
                    self._remember(key, item.outcome)
                else:
                    future.set_exception(RuntimeError("redemption failed; retry with the same key"))
                    future.exception()

    async def _write_audit(self, pending: list[_Pending]) -> None:
        rows = []
        for item in pending:
            r, v = item.request, item.verdict
            rows.append(
                (
                    r.program_id,
                    r.idempotency_key,
                    vl.redeem_transfer_id(r.program_id, r.idempotency_key),
                    r.facts.payee.id,
                    r.facts.amount_minor,
                    at_us(r.facts.business_at),
                    _inputs_json(r.facts, item.counters),
                    v.allowed,
                    v.failed_clause,
                    v.reason,
                    v.detail[:500],
                )
            )
        if any(item.transfer is not None for item in pending):
            # The audit pool commits without waiting for fsync. PostgreSQL flushes its WAL in
            # order, so this COPY (one statement, one implicit transaction, one round trip) is
            # durable no later than the ledger commit that follows it: the audit row of a settled
            # redemption never needs an fsync of its own.
            async with self.audit_pool.acquire() as conn:
                await conn.copy_records_to_table(
                    "voucher_evaluations", records=rows, columns=AUDIT_COLUMNS
                )
            return
        # Refusals only: nothing follows to carry the commit, so it is made durable itself.
        async with self.audit_pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit = on")
            await conn.copy_records_to_table(
                "voucher_evaluations", records=rows, columns=AUDIT_COLUMNS
            )

    async def _submit(self, pending: list[_Pending]) -> None:
        moving = [item for item in pending if item.transfer is not None]
        for item in pending:
            if item.transfer is None:
                item.outcome = _refusal(item)
        if not moving:
            return
        await self._ensure_accounts(
            vl.party_spec(item.request.facts.payee.id, item.state.program.currency)  # type: ignore[union-attr]
            for item in moving
            if item.state is not None and item.state.program.settlement != SETTLEMENT_CROSS_BORDER
        )
        results = await self.engine.submit([item.transfer for item in moving])  # type: ignore[misc]
        refused: list[tuple[int, str]] = []
        for item, result in zip(moving, results, strict=True):
            state = item.state
            assert state is not None and item.transfer is not None
            if result.ok:
                if result.code == C.EXISTS:  # settled before a crash: count it once
                    state.redeemed -= item.transfer.amount_minor
                    state.redemptions -= 1
                state.end()
                item.outcome = RedemptionOutcome(
                    item.request.program_id,
                    item.request.idempotency_key,
                    True,
                    item.transfer.amount_minor,
                    transfer_id=item.transfer.id,
                    seq=result.seq,
                    remaining_minor=state.remaining,
                    replayed=result.code == C.EXISTS,
                )
            else:
                _release(item)
                refused.append((int(result.code), item.transfer.id))
                item.outcome = RedemptionOutcome(
                    item.request.program_id,
                    item.request.idempotency_key,
                    False,
                    item.transfer.amount_minor,
                    reason=REASON_LEDGER_REFUSED,
                    detail=C(result.code).name,
                    remaining_minor=state.remaining,
                    ledger_code=int(result.code),
                )
        if refused:
            await self._mark_ledger_refusals(refused)

    async def _mark_ledger_refusals(self, refused: list[tuple[int, str]]) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "UPDATE voucher_evaluations e SET ledger_code = u.code"
                " FROM unnest($1::int[], $2::text[]) AS u(code, transfer_id)"
                " WHERE e.transfer_id = u.transfer_id AND e.allowed AND e.ledger_code = 0",
                [c for c, _ in refused],
                [t for _, t in refused],
            )

    def _remember(self, key: tuple[str, str], outcome: RedemptionOutcome) -> None:
        self._recent[key] = outcome
        if len(self._recent) > RECENT_OUTCOMES:
            self._recent.popitem(last=False)

    # -- expiry -------------------------------------------------------------------------------

    async def expire_due(self, as_of_us: int = 0, limit: int = 1_000) -> list[MovementOutcome]:
        """Refund every active program whose expiry is at or before `as_of_us` (business time;
        default: the clock): outstanding -> refund target, then the program is closed."""
        as_of = as_of_us or self.now_us()
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT program_id FROM voucher_programs WHERE status = 'active'"
                " AND expires_at_us <= $1 ORDER BY expires_at_us, program_id LIMIT $2",
                as_of,
                limit,
            )
        states = await self._states_for([r["program_id"] for r in rows])
        closing = [s for s in states.values() if s.status == STATUS_ACTIVE]
        for state in closing:
            state.status = STATUS_CLOSING  # from here on, redemptions are refused
        return [o for o in await asyncio.gather(*(self._refund(s, as_of) for s in closing)) if o]

    async def _refund(self, state: ProgramState, as_of: int) -> MovementOutcome | None:
        await state.drained.wait()
        program = state.program
        amount = state.remaining
        transfer_id = vl.refund_transfer_id(program.program_id)
        seq = 0
        if amount > 0:
            spec = TransferSpec(
                transfer_id,
                vl.escrow_account(program.program_id),
                vl.party_account(program.refund_target, program.currency),
                amount,
                program.currency,
                kind=vl.KIND_REFUND,
                payment_id=program.program_id,
                business_at_us=max(as_of, at_us(program.expires_at)),
            )
            await self._ensure_accounts([vl.party_spec(program.refund_target, program.currency)])
            try:
                (result,) = await self.engine.submit([spec])
            except BaseException:
                state.status = STATUS_ACTIVE  # the next sweep tries again
                raise
            if not result.ok:
                state.status = STATUS_ACTIVE
                log.error(
                    "refund of %s refused by the ledger: %s",
                    program.program_id,
                    C(result.code).name,
                )
                return None
            state.refunded += amount
            seq = result.seq
            await self._record_action(
                program.program_id,
                "expire",
                "clock",
                amount,
                transfer_id,
                "expired",
                spec.business_at_us,
            )
        state.status = STATUS_EXPIRED
        await self._set_status(program.program_id, STATUS_EXPIRED, as_of)
        return MovementOutcome(program.program_id, transfer_id if amount else "", amount, seq, 0)

    # -- claw-back ----------------------------------------------------------------------------

    async def clawback(
        self,
        program_id: str,
        authority_id: str,
        idempotency_key: str,
        amount_minor: int = 0,
        reason: str = "",
        business_at_us: int = 0,
    ) -> MovementOutcome:
        """Move outstanding funds to the program's named claw-back authority, and only to it.
        `amount_minor` 0 claws back everything and closes the program."""
        _check_key("idempotency_key", idempotency_key)
        if amount_minor < 0:
            raise invalid("amount_minor", "must be >= 0 (0 = everything outstanding)")
        state = await self._state(program_id)
        if state is None:
            raise not_found("program_id", f"no voucher program {program_id!r}")
        program = state.program
        if not program.clawback_authority or authority_id != program.clawback_authority:
            raise permission_denied(
                "NOT_CLAWBACK_AUTHORITY",
                f"only the program's named claw-back authority may claw back {program_id}",
            )
        transfer_id = vl.clawback_transfer_id(program_id, idempotency_key)
        existing = await self.engine.lookup_transfers([transfer_id])
        if existing:
            row = existing[0]
            return MovementOutcome(
                program_id, transfer_id, row["amount"], row["seq"], state.remaining, True
            )
        if state.status != STATUS_ACTIVE:
            raise precondition("PROGRAM_CLOSED", f"program is {state.status}", PROGRAM_ACTIVE)
        full = amount_minor == 0
        if full:
            state.status = STATUS_CLOSING
            await state.drained.wait()
        amount = state.remaining if full else amount_minor
        if amount > state.remaining or amount == 0:
            if full:
                state.status = STATUS_ACTIVE
            raise precondition(
                "EXCEEDS_OUTSTANDING",
                f"{amount} exceeds the outstanding {state.remaining}",
                "amount_minor",
            )
        state.clawed_back += amount
        at = business_at_us or self.now_us()
        spec = TransferSpec(
            transfer_id,
            vl.escrow_account(program_id),
            vl.party_account(authority_id, program.currency),
            amount,
            program.currency,
            kind=vl.KIND_CLAWBACK,
            payment_id=program_id,
            business_at_us=at,
        )
        try:
            (result,) = await self.engine.submit([spec])
        except BaseException:
            state.clawed_back -= amount
            state.status = STATUS_ACTIVE
            raise
        if not result.ok:
            state.clawed_back -= amount
            state.status = STATUS_ACTIVE
            _raise_for_code(result, "amount_minor")
        await self._record_action(
            program_id, "clawback", authority_id, amount, transfer_id, reason, at
        )
        if full:
            state.status = STATUS_CLAWED_BACK
            await self._set_status(program_id, STATUS_CLAWED_BACK, at)
        return MovementOutcome(
            program_id, transfer_id, amount, result.seq, state.remaining, result.code == C.EXISTS
        )

    # -- reads --------------------------------------------------------------------------------

    async def list_evaluations(
        self, program_id: str, after_seq: int = 0, limit: int = 100
    ) -> list[EvaluationRecord]:
        """The audit trail of one program, oldest first, from a cursor."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT e.*, t.seq AS transfer_seq FROM voucher_evaluations e"
                " LEFT JOIN LATERAL (SELECT seq FROM transfers"
                "   WHERE id = e.transfer_id AND e.allowed LIMIT 1) t ON true"
                " WHERE e.program_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3",
                program_id,
                after_seq,
                max(1, min(limit, 1_000)),
            )
        return [
            EvaluationRecord(
                r["seq"],
                r["program_id"],
                r["redemption_key"],
                r["amount_minor"],
                r["business_at_us"],
                json.loads(r["inputs"]),
                r["allowed"],
                r["failed_clause"],
                r["reason"],
                r["detail"],
                r["transfer_seq"] is not None,
                r["transfer_seq"] or 0,
                r["ledger_code"],
            )
            for r in rows
        ]

    async def settlements(
        self, after_seq: int = 0, limit: int = 1_000
    ) -> list[SettlementInstruction]:
        """Committed payouts (redemptions, refunds, claw-backs) in ledger order after a cursor:
        the durable, resumable feed a node connector or the bridge relay follows."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT t.seq, t.id, t.payment_id, t.kind, t.amount, t.currency, t.credit_account_id,"
                " t.business_at_us, e.payee_id, p.definition->>'settlement' AS route,"
                " p.definition->>'payout_currency' AS payout_currency"
                " FROM transfers t JOIN voucher_programs p ON p.program_id = t.payment_id"
                " LEFT JOIN LATERAL (SELECT payee_id FROM voucher_evaluations"
                "   WHERE transfer_id = t.id AND allowed LIMIT 1) e ON true"
                " WHERE t.seq > $1 AND t.kind = ANY($2::text[]) ORDER BY t.seq LIMIT $3",
                after_seq,
                list(vl.ESCROW_DEBIT_KINDS),
                max(1, min(limit, 10_000)),
            )
        return [_instruction(r) for r in rows]

    async def _record_action(
        self,
        program_id: str,
        action: str,
        actor: str,
        amount: int,
        transfer_id: str,
        reason: str,
        at: int,
    ) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO voucher_actions (program_id, action, actor, amount_minor, transfer_id,"
                " reason, business_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                program_id, action, actor, amount, transfer_id, reason[:500], at,
            )  # fmt: skip


AUDIT_COLUMNS = (
    "program_id",
    "redemption_key",
    "transfer_id",
    "payee_id",
    "amount_minor",
    "business_at_us",
    "inputs",
    "allowed",
    "failed_clause",
    "reason",
    "detail",
)


# --- helpers ----------------------------------------------------------------------------------


async def _tune_planner(dsn: str) -> None:
    """Tell PostgreSQL this database's random reads are cheap (SSD: random_page_cost 1.1).

    With the default of 4 the planner answers the ledger engine's per-group id lookup
    (`transfers WHERE id = ANY(500..2000 ids)`) with a sequential scan while `transfers` holds
    tens of thousands of rows: a full scan per batch, measured here as a 2-5x loss in
    redemptions/s. Set on the database before the engine connects, so every connection gets it;
    a role that may not alter the database keeps the server's setting."""
    conn = await asyncpg.connect(dsn)
    try:
        if float(await conn.fetchval("SELECT current_setting('random_page_cost')")) > 1.1:
            name = await conn.fetchval("SELECT quote_ident(current_database())")
            await conn.execute(f"ALTER DATABASE {name} SET random_page_cost = 1.1")
    except asyncpg.PostgresError as exc:
        log.warning("could not tune random_page_cost on the vouchers database: %s", exc)
    finally:
        await conn.close()


def _instruction(r: asyncpg.Record) -> SettlementInstruction:
    currency = r["currency"].strip()
    redeem = r["kind"] == vl.KIND_REDEEM
    route = r["route"] if redeem else "domestic"
    # A redemption pays its payee; a refund or claw-back pays the party its account names.
    party = r["payee_id"] if redeem else _party_of(r["credit_account_id"])
    payout = r["payout_currency"] if route == SETTLEMENT_CROSS_BORDER else currency
    return SettlementInstruction(
        r["seq"],
        r["id"],
        r["payment_id"],
        r["kind"],
        party or "",
        r["amount"],
        currency,
        route,
        payout or currency,
        r["business_at_us"],
    )


def _party_of(account_id: str) -> str:
    prefix = "vouchers.party."
    if account_id.startswith(prefix):
        return account_id[len(prefix) :].rsplit(".", 1)[0]
    return ""


def _release(item: _Pending) -> None:
    state, transfer = item.state, item.transfer
    assert state is not None and transfer is not None
    state.redeemed -= transfer.amount_minor
    state.redemptions -= 1
    state.end()


def _refusal(item: _Pending) -> RedemptionOutcome:
    v = item.verdict
    remaining = item.state.remaining if item.state else 0
    return RedemptionOutcome(
        item.request.program_id,
        item.request.idempotency_key,
        False,
        item.request.facts.amount_minor,
        v.failed_clause,
        v.reason,
        v.detail,
        remaining_minor=remaining,
    )


def _as_replay(first: RedemptionOutcome) -> RedemptionOutcome:
    if first.replayed:
        return first
    return RedemptionOutcome(
        first.program_id,
        first.idempotency_key,
        first.settled,
        first.amount_minor,
        first.failed_clause,
        first.reason,
        first.detail,
        first.transfer_id,
        first.seq,
        first.remaining_minor,
        True,
        first.ledger_code,
    )


def _inputs_json(facts: RedemptionFacts, counters: ProgramCounters) -> str:
    return json.dumps(
        {
            "amount": facts.amount_minor,
            "currency": facts.currency,
            "merchant": {
                "id": facts.merchant.id,
                "category": facts.merchant.category,
                "region": facts.merchant.region,
            },
            "payer": {"id": facts.payer.id, "tier": facts.payer.tier},
            "payee": {"id": facts.payee.id, "tier": facts.payee.tier},
            "now": facts.business_at.astimezone(dt.UTC).isoformat(),
            "evidence": dict(facts.evidence),
            "spent": counters.spent_minor,
            "remaining": counters.remaining_minor,
            "issued": counters.issued_minor,
            "redemptions": counters.redemptions,
        },
        separators=(",", ":"),
    )


def _check_key(field_name: str, key: str) -> None:
    if not key or len(key) > MAX_KEY_CHARS or not _KEY_RE.match(key):
        raise invalid(
            field_name, f"1-{MAX_KEY_CHARS} characters: letters, digits, '_', '.', ':', '-'"
        )


def _check_party(field_name: str, party: str) -> None:
    try:
        check_party_id(field_name, party)
    except ProgramError as exc:
        raise invalid(field_name, exc.message) from None


def _check_amount(field_name: str, amount: int) -> None:
    if not isinstance(amount, int) or not 0 < amount <= INT64_MAX:
        raise invalid(field_name, "must be a positive number of minor units")


def _check_redemption(r: Redemption, prefix: str) -> None:
    _check_key(f"{prefix}idempotency_key", r.idempotency_key)
    if not r.program_id:
        raise invalid(f"{prefix}program_id", "required")
    _check_amount(f"{prefix}amount_minor", r.facts.amount_minor)
    _check_party(f"{prefix}payee.id", r.facts.payee.id)
    if r.facts.payer.id:
        _check_party(f"{prefix}payer.id", r.facts.payer.id)
    for name, tier in (("payer.tier", r.facts.payer.tier), ("payee.tier", r.facts.payee.tier)):
        if not 0 <= tier <= 4:
            raise invalid(f"{prefix}{name}", "e-CNY wallet tiers are 1..4 (0 = unknown)")
    try:
        build_context(r.facts, ProgramCounters(0, 0, 0, 0), dt.UTC, frozenset())  # type: ignore[arg-type]
    except ContextError as exc:
        raise invalid(f"{prefix}{exc.field}", exc.message) from None


def _program_error(exc: ProgramError) -> CorridorError:
    error = invalid(exc.field, exc.message, reason="INVALID_PROGRAM")
    if exc.line:
        error.reason = "INVALID_CONDITION"
        error.metadata = {"line": str(exc.line), "column": str(exc.column)}
        error.message = f"{exc.line}:{exc.column}: {exc.message}"
    return error


def _already_exists(field_name: str, message: str) -> CorridorError:
    return CorridorError(
        grpc.StatusCode.ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED", message, field_name
    )


def _raise_for_code(result: TransferResult, field_name: str) -> None:
    if result.ok:
        return
    from services.ledger.servicer import code_error

    raise code_error(
        result.code, "", {c: field_name for c in (C.EXCEEDS_CREDITS, C.EXCEEDS_DEBITS)}
    )
