"""PvPCoordinator: atomic settlement across every ledger a payment touches.

Protocol (two-phase commit with presumed abort, batched):
  1. LOG       the payments and their legs are written durably, state PREPARING
  2. PREPARE   every leg is submitted as a PENDING transfer to its ledger (payer's node, bridge,
               payee's node); one batch per ledger per round, legs of one payment on one ledger
               linked (all or nothing there)
  3. DECIDE    commit iff every leg of the payment was accepted; the decision is written durably
               (COMMITTING / ABORTING) — this write is the commit point
  4. RESOLVE   post (or void) every leg, batched per ledger; ids are derived from the leg id
               ("<leg>:post" / "<leg>:void") so a retry by anyone answers EXISTS
  5. DONE      SETTLED / REJECTED
Recovery: on start (and every few seconds) the coordinator finishes what its log says: PREPARING
without a process working on it -> ABORTING; COMMITTING -> post every leg; ABORTING -> void every
leg. A participant whose pending PvP leg outlives its timeout asks the coordinator
(ResolvePayments); an undecided payment is then decided ABORT, so it can never commit later.
Bound: once every process is up, no payment stays in doubt longer than
max(recovery interval, participant timeout + expiry interval) — 30 s + 1 s by default.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg

from corridor import telemetry
from corridor.errors import exhausted

from services.ledger.engine import C, TransferSpec

log = logging.getLogger("corridor.pvp")

PREPARING, COMMITTING, ABORTING, SETTLED, REJECTED = 1, 2, 3, 4, 5
STATE_NAMES = {1: "PREPARING", 2: "COMMITTING", 3: "ABORTING", 4: "SETTLED", 5: "REJECTED"}
_RESOLVED_OK = {C.OK, C.EXISTS, C.PENDING_TRANSFER_ALREADY_POSTED}
_VOIDED_OK = {
    C.OK,
    C.EXISTS,
    C.PENDING_TRANSFER_ALREADY_VOIDED,
    C.PENDING_TRANSFER_EXPIRED,
    C.PENDING_TRANSFER_NOT_FOUND,
}

PVP_MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "pvp decision log",
        """
CREATE TABLE pvp_payments (
    payment_id     text PRIMARY KEY,
    kind           text NOT NULL,
    state          smallint NOT NULL CHECK (state BETWEEN 1 AND 5),
    leg_ledgers    text[] NOT NULL,
    leg_ids        text[] NOT NULL,
    reason         text NOT NULL DEFAULT '',
    receipt        bytea,
    created_at_us  bigint NOT NULL,
    decided_at_us  bigint NOT NULL DEFAULT 0,
    settled_at_us  bigint NOT NULL DEFAULT 0
);
CREATE INDEX pvp_open_idx ON pvp_payments (state) WHERE state IN (1, 2, 3);
""",
    )
]


class Participant(Protocol):
    """A ledger the coordinator can submit batches to (a node over gRPC, or the bridge's own)."""

    name: str

    async def submit(self, specs: Sequence[TransferSpec]) -> list[int]: ...  # noqa: E704


@dataclass
class Leg:
    ledger: str
    spec: TransferSpec


@dataclass
class Intent:
    """One atomic unit: its legs across ledgers, and what to tell the caller."""

    payment_id: str
    kind: str
    legs: list[Leg]
    receipt: Any = None  # a PaymentReceipt being filled in
    on_decided: Callable[[Intent, bool, str], None] | None = None
    codes: list[int] = field(default_factory=list)
    reason: str = ""
    field: str = ""
    committed: bool = False
    state: int = PREPARING
    decided_at_us: int = 0
    settled_at_us: int = 0
    trace_ctx: Any = None  # the caller's trace, for payments sampled for tracing
    replayed: bool = False  # already in the log when this call arrived


ReasonOf = Callable[
    [Intent, int, int], tuple[str, str]
]  # (intent, leg index, code) -> (reason, field)


class PvPCoordinator:
    def __init__(self, pool: asyncpg.Pool, participants: dict[str, Participant], reason_of: ReasonOf,
                 max_batch: int = 2000, max_rounds_in_flight: int = 3) -> None:  # fmt: skip
        self.pool = pool
        self.participants = participants
        self.reason_of = reason_of
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Intent, asyncio.Future[Intent]]] = asyncio.Queue()
        self._rounds = asyncio.Semaphore(max_rounds_in_flight)
        self._in_flight: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self.fault_hook: Callable[[str], Awaitable[None]] | None = None  # tests: crash at a step
        # Unanswered payments admitted at most (bridge/platform.py `_admit`); a few rounds' work,
        # so an accepted payment's latency stays bounded under a surge (BENCHMARKS.md, contagion).
        self.max_queued = int(os.environ.get("CORRIDOR_PVP_MAX_QUEUED", "1000"))
        self.drain_rate_per_s = 2_000.0
        self.round_s = 0.1  # moving average of one settlement round's duration

    async def start(self) -> None:
        try:
            await self.recover()
        except Exception as exc:  # noqa: BLE001 - a node may still be down; periodic recovery retries
            log.warning("start-up recovery incomplete: %s", exc)
        self._loop_task = asyncio.create_task(self._batch_loop())

    async def stop(self) -> None:
        if self._loop_task:
            self._loop_task.cancel()
        for t in list(self._tasks):
            t.cancel()

    async def settle(self, intents: Sequence[Intent]) -> list[Intent]:
        if self._queue.qsize() + len(intents) > self.max_queued:
            # Shed at the door (nothing logged, nothing prepared): RESOURCE_EXHAUSTED + RetryInfo.
            raise exhausted(
                "PVP_QUEUE_FULL",
                f"{self._queue.qsize()} payments queued for settlement; retry shortly",
                retry_after_s=max(0.05, self._queue.qsize() / max(1.0, self.drain_rate_per_s)),
            )
        loop = asyncio.get_running_loop()
        futs = []
        for it in intents:
            fut: asyncio.Future[Intent] = loop.create_future()
            await self._queue.put((it, fut))
            futs.append(fut)
        return list(await asyncio.gather(*futs))

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    async def _batch_loop(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._rounds.acquire()
            task = asyncio.create_task(self._run_round(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_round(self, batch: list[tuple[Intent, asyncio.Future[Intent]]]) -> None:
        try:
            intents = [it for it, _ in batch]
            t0 = time.perf_counter()
            await self._round(intents)
            took = time.perf_counter() - t0
            self.round_s = 0.9 * self.round_s + 0.1 * took
            self.drain_rate_per_s = 0.9 * self.drain_rate_per_s + 0.1 * len(intents) / max(
                1e-6, took
            )
            for it, fut in batch:
                if not fut.done():
                    fut.set_result(it)
        except Exception as exc:  # noqa: BLE001 - surfaced to every caller; log keeps the truth
            log.exception("pvp round failed")
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
        finally:
            for it, _ in batch:
                self._in_flight.discard(it.payment_id)
            self._rounds.release()

    async def _fault(self, step: str) -> None:
        if self.fault_hook is not None:
            await self.fault_hook(step)

    # ------------------------------------------------------------------ one round
    async def _round(self, intents: list[Intent]) -> None:
        now = time.time_ns() // 1000
        for it in intents:
            self._in_flight.add(it.payment_id)
        async with self.pool.acquire() as conn:
            inserted = {
                r[0]
                for r in await conn.fetch(
                    "INSERT INTO pvp_payments (payment_id, kind, state, leg_ledgers, leg_ids, created_at_us)"
                    " SELECT u.pid, u.kind, 1, string_to_array(u.ledgers, ','), string_to_array(u.ids, ','), $5"
                    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(pid, kind, ledgers, ids)"
                    " ON CONFLICT (payment_id) DO NOTHING RETURNING payment_id",
                    [it.payment_id for it in intents], [it.kind for it in intents],
                    [",".join(leg.ledger for leg in it.legs) for it in intents],
                    [",".join(leg.spec.id for leg in it.legs) for it in intents], now,
                )
            }  # fmt: skip
        # A payment already in the log is never prepared again: its legs may be voided or half
        # resolved, and re-preparing would answer EXISTS for them. Report what the log says.
        known = [it for it in intents if it.payment_id not in inserted]
        if known:
            await self._adopt_logged(known)
            intents = [it for it in intents if it.payment_id in inserted]
            if not intents:
                return
        await self._fault("logged")
        with telemetry.phase_spans("pvp.prepare", self._traced(intents)):
            await self._prepare(intents)
        await self._fault("prepared")
        decided = time.time_ns() // 1000
        for it in intents:
            it.committed = all(c in (C.OK, C.EXISTS) for c in it.codes)
            it.state = COMMITTING if it.committed else ABORTING
            it.decided_at_us = decided
            if not it.committed:
                k = next(
                    (
                        i
                        for i, c in enumerate(it.codes)
                        if c not in (C.OK, C.EXISTS, C.LINKED_EVENT_FAILED)
                    ),
                    None,
                )
                if k is not None:
                    it.reason, it.field = self.reason_of(it, k, it.codes[k])
                else:  # no leg refused on its merits: a ledger was unreachable (see _prepare)
                    it.reason = it.reason or "LINKED_EVENT_FAILED"
            if it.on_decided:
                it.on_decided(it, it.committed, it.reason)
        with telemetry.phase_spans("pvp.decide (durable log)", self._traced(intents)):
            written = await self._write_states(intents, decided, only_from=PREPARING)
        lost = [it for it in intents if it.payment_id not in written]
        if lost:  # decided elsewhere meanwhile (a participant's timeout): the log wins
            await self._adopt_logged(lost)
            intents = [it for it in intents if it.payment_id in written]
        await self._fault("decided")
        with telemetry.phase_spans("pvp.resolve", self._traced(intents)):
            unfinished = await self._resolve(intents)
        await self._fault("resolved")
        done = time.time_ns() // 1000
        finished = []
        for it in intents:
            if it.payment_id in unfinished:
                continue  # stays COMMITTING/ABORTING in the log; recovery finishes it
            it.state = SETTLED if it.committed else REJECTED
            it.settled_at_us = done
            finished.append(it)
        if finished:
            await self._write_states(finished, done)

    async def _adopt_logged(self, intents: list[Intent]) -> None:
        """Fill intents from the log's record of the same payments (decision, reason, times)."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT payment_id, state, reason, decided_at_us, settled_at_us FROM pvp_payments"
                " WHERE payment_id = ANY($1::text[])",
                [it.payment_id for it in intents],
            )
        by_id = {r["payment_id"]: r for r in rows}
        for it in intents:
            r = by_id.get(it.payment_id)
            if r is None:
                continue
            it.state = r["state"]
            it.committed = r["state"] in (COMMITTING, SETTLED)
            it.reason = r["reason"]
            it.decided_at_us = r["decided_at_us"]
            it.settled_at_us = r["settled_at_us"]
            it.replayed = True
            if it.receipt is not None:
                _receipt_bytes(it)  # refresh the receipt's status fields from the log's state

    @staticmethod
    def _traced(intents: list[Intent]) -> list[tuple[Any, dict[str, Any]]]:
        return [
            (it.trace_ctx, {"payment_id": it.payment_id, "legs": len(it.legs),
                            "ledgers": ",".join(sorted({leg.ledger for leg in it.legs}))})
            for it in intents if it.trace_ctx is not None
        ]  # fmt: skip

    async def _prepare(self, intents: list[Intent]) -> None:
        by_ledger: dict[str, list[tuple[Intent, int, TransferSpec]]] = {}
        for it in intents:
            it.codes = [0] * len(it.legs)
            per_ledger: dict[str, list[int]] = {}
            for k, leg in enumerate(it.legs):
                per_ledger.setdefault(leg.ledger, []).append(k)
            for ledger, ks in per_ledger.items():
                for n, k in enumerate(ks):
                    spec = it.legs[k].spec
                    spec.pending = True
                    spec.linked = n < len(ks) - 1  # a payment's legs on one ledger: all or nothing
                    by_ledger.setdefault(ledger, []).append((it, k, spec))

        async def run(ledger: str, items: list[tuple[Intent, int, TransferSpec]]) -> None:
            try:
                codes = await self.participants[ledger].submit([s for _, _, s in items])
            except Exception as exc:  # noqa: BLE001 - an unreachable ledger votes no
                log.warning("prepare on %s failed: %s", ledger, exc)
                codes = [C.LINKED_EVENT_FAILED] * len(items)
                for it, _, _ in items:
                    it.reason = it.reason or f"LEDGER_UNAVAILABLE:{ledger}"
            for (it, k, _), code in zip(items, codes, strict=True):
                it.codes[k] = code

        await asyncio.gather(*(run(lg, items) for lg, items in by_ledger.items()))

    async def _resolve(self, intents: list[Intent]) -> set[str]:
        """Post or void every leg. Returns the payments not fully resolved (a ledger could not be
        reached): the log keeps their decision and recovery finishes them."""
        by_ledger: dict[str, list[TransferSpec]] = {}
        for it in intents:
            for k, leg in enumerate(it.legs):
                if not it.committed and it.codes and it.codes[k] not in (C.OK, C.EXISTS):
                    continue  # never prepared here: nothing to void
                tid = leg.spec.id
                spec = (
                    TransferSpec(
                        f"{tid}:post", post_pending_id=tid, kind="pvp", payment_id=it.payment_id
                    )
                    if it.committed
                    else TransferSpec(
                        f"{tid}:void", void_pending_id=tid, kind="pvp", payment_id=it.payment_id
                    )
                )
                by_ledger.setdefault(leg.ledger, []).append(spec)
        return await self._submit_resolutions(by_ledger)

    async def _submit_resolutions(self, by_ledger: dict[str, list[TransferSpec]]) -> set[str]:
        """Submit posts/voids per ledger; returns the payment ids with a leg not yet resolved."""
        unfinished: set[str] = set()

        async def run(ledger: str, specs: list[TransferSpec]) -> None:
            try:
                codes = await self.participants[ledger].submit(specs)
            except Exception as exc:  # noqa: BLE001
                log.warning("resolve on %s failed (%s); recovery will retry", ledger, exc)
                unfinished.update(s.payment_id for s in specs)
                return
            for s, code in zip(specs, codes, strict=True):
                good = _RESOLVED_OK if s.post_pending_id else _VOIDED_OK
                if code not in good:
                    unfinished.add(s.payment_id)
                    log.error("leg %s on %s: %s", s.id, ledger, C(code).name)

        await asyncio.gather(*(run(lg, specs) for lg, specs in by_ledger.items()))
        return unfinished

    async def _write_states(
        self, intents: Sequence[Intent], at_us: int, only_from: int | None = None
    ) -> set[str]:
        cond = "AND p.state = 1" if only_from == PREPARING else ""
        col = "decided_at_us" if only_from == PREPARING else "settled_at_us"
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                f"UPDATE pvp_payments AS p SET state = u.state, reason = u.reason, receipt = u.receipt,"
                f" {col} = $5 FROM unnest($1::text[], $2::smallint[], $3::text[], $4::bytea[])"
                f" AS u(pid, state, reason, receipt) WHERE p.payment_id = u.pid {cond} RETURNING p.payment_id",
                [it.payment_id for it in intents], [it.state for it in intents],
                [it.reason for it in intents], [_receipt_bytes(it) for it in intents], at_us,
            )  # fmt: skip
        return {r[0] for r in rows}

    # ------------------------------------------------------------------ recovery
    async def recover(self, older_than_us: int = 0) -> dict[str, int]:
        """Finish every payment the log says is open (not being worked on by this process)."""
        counts = {"aborted": 0, "posted": 0, "voided": 0}
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT payment_id, state, leg_ledgers, leg_ids FROM pvp_payments"
                " WHERE state IN (1, 2, 3) AND ($1::bigint = 0 OR created_at_us < $1::bigint)",
                older_than_us,
            )
        rows = [r for r in rows if r["payment_id"] not in self._in_flight]
        if not rows:
            return counts
        undecided = [r["payment_id"] for r in rows if r["state"] == PREPARING]
        if undecided:
            async with self.pool.acquire() as conn:
                aborted = await conn.fetch(
                    "UPDATE pvp_payments SET state = 3, reason = 'COORDINATOR_RECOVERY_ABORT',"
                    " decided_at_us = $2 WHERE payment_id = ANY($1::text[]) AND state = 1 RETURNING payment_id",
                    undecided, time.time_ns() // 1000,
                )  # fmt: skip
            counts["aborted"] = len(aborted)
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT payment_id, state, leg_ledgers, leg_ids FROM pvp_payments"
                " WHERE payment_id = ANY($1::text[]) AND state IN (2, 3)",
                [r["payment_id"] for r in rows],
            )
        by_ledger: dict[str, list[TransferSpec]] = {}
        done: dict[int, list[str]] = {SETTLED: [], REJECTED: []}
        for r in rows:
            commit = r["state"] == COMMITTING
            for ledger, tid in zip(r["leg_ledgers"], r["leg_ids"], strict=True):
                spec = (
                    TransferSpec(
                        f"{tid}:post", post_pending_id=tid, kind="pvp", payment_id=r["payment_id"]
                    )
                    if commit
                    else TransferSpec(
                        f"{tid}:void", void_pending_id=tid, kind="pvp", payment_id=r["payment_id"]
                    )
                )
                by_ledger.setdefault(ledger, []).append(spec)
            done[SETTLED if commit else REJECTED].append(r["payment_id"])
            counts["posted" if commit else "voided"] += 1
        unfinished = await self._submit_resolutions(by_ledger)
        if True:
            async with self.pool.acquire() as conn:
                for state, all_ids in done.items():
                    ids = [p for p in all_ids if p not in unfinished]
                    if ids:
                        await conn.execute(
                            "UPDATE pvp_payments SET state = $2, settled_at_us = $3"
                            " WHERE payment_id = ANY($1::text[]) AND state IN (2, 3)",
                            ids, state, time.time_ns() // 1000,
                        )  # fmt: skip
        return counts

    async def decide_for_participant(self, payment_ids: Sequence[str]) -> dict[str, bool]:
        """A participant's leg timed out: answer commit/abort; decide ABORT if still undecided and
        not being worked on. Payments in flight here are left out (the participant asks again)."""
        ids = [p for p in payment_ids if p not in self._in_flight]
        if not ids:
            return {}
        async with self.pool.acquire() as conn:
            await conn.execute(
                "UPDATE pvp_payments SET state = 3, reason = 'PARTICIPANT_TIMEOUT', decided_at_us = $2"
                " WHERE payment_id = ANY($1::text[]) AND state = 1",
                ids, time.time_ns() // 1000,
            )  # fmt: skip
            rows = await conn.fetch(
                "SELECT payment_id, state FROM pvp_payments WHERE payment_id = ANY($1::text[])", ids
            )
        found = {r["payment_id"]: r["state"] in (COMMITTING, SETTLED) for r in rows}
        # Never logged => never decided => presumed abort.
        return {p: found.get(p, False) for p in ids}


def _receipt_bytes(it: Intent) -> bytes | None:
    if it.receipt is None:
        return None
    from corridor.v1 import bridge_pb2

    r = it.receipt
    r.status = {PREPARING: 1, COMMITTING: 2, ABORTING: 3, SETTLED: 4, REJECTED: 5}[it.state]
    r.reason = it.reason
    r.field = it.field
    r.decided_at_us = it.decided_at_us
    r.settled_at_us = it.settled_at_us
    del r.legs[:]
    for k, leg in enumerate(it.legs):
        s = leg.spec
        r.legs.append(
            bridge_pb2.Leg(
                ledger=leg.ledger, transfer_id=s.id, debit_account_id=s.debit_account_id,
                credit_account_id=s.credit_account_id, amount_minor=s.amount_minor, currency=s.currency,
                code=it.codes[k] if k < len(it.codes) else 0,
            )
        )  # fmt: skip
    return r.SerializeToString()


async def resolve_timed_out_legs(engine: Any, ask: Callable[[list[str]], Awaitable[dict[str, bool]]],
                                 limit: int = 1000) -> int:  # fmt: skip
    """Participant side: for PvP legs pending past their timeout, ask the coordinator and apply
    its decision with the same transfer ids the coordinator uses (so whoever is first wins and
    the other gets EXISTS). Undecided payments stay pending until the coordinator answers."""
    rows = [
        r
        for r in await engine.timed_out_pending(time.time_ns() // 1000, limit)
        if r["kind"] == "pvp"
    ]
    if not rows:
        return 0
    decisions = await ask(sorted({r["payment_id"] for r in rows}))
    specs = []
    for r in rows:
        if r["payment_id"] not in decisions:
            continue
        tid = r["id"]
        if decisions[r["payment_id"]]:
            specs.append(
                TransferSpec(
                    f"{tid}:post", post_pending_id=tid, kind="pvp", payment_id=r["payment_id"]
                )
            )
        else:
            specs.append(
                TransferSpec(
                    f"{tid}:void", void_pending_id=tid, kind="pvp", payment_id=r["payment_id"]
                )
            )
    if specs:
        await engine.submit(specs)
    return len(specs)
