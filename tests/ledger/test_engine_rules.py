"""The ledger engine's rules, one at a time, on a real PostgreSQL.

Every result code of corridor.v1.TransferCode is produced here at least once (a meta-test checks
the coverage), refusals write nothing, two-phase transfers post/partially post/void/expire,
linked chains are all-or-nothing, retries are idempotent, daily limits reset at the
jurisdiction's local midnight, and the database's CHECK constraints refuse what the engine would.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import asyncpg
import pytest

from corridor.v1 import ledger_pb2
from services.ledger.engine import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    FREEZE_FULL,
    FREEZE_RECEIVE_ONLY,
    INT64_MAX,
    AccountSpec,
    C,
    LedgerBusy,
    LedgerEngine,
    TransferResult,
    TransferSpec,
)
from tests.ledger.audit import audit_ledger

FLOOR = DEBITS_MUST_NOT_EXCEED_CREDITS
CODES_SEEN: set[int] = set()  # every code a test in this module asserted (coverage meta-test)
# 2024-03-01 16:00:00 UTC = local midnight in CN (UTC+8) between Mar 1 and Mar 2.
CN_MIDNIGHT_US = 1_709_308_800_000_000
SECOND_US = 1_000_000


def tr(tid: str, debit: str, credit: str, amount: int, currency: str = "CNY", **kw) -> TransferSpec:  # type: ignore[no-untyped-def]
    return TransferSpec(tid, debit, credit, amount, currency, **kw)


def post(tid: str, pending_id: str, amount: int = 0, **kw) -> TransferSpec:  # type: ignore[no-untyped-def]
    return TransferSpec(tid, post_pending_id=pending_id, amount_minor=amount, **kw)


def void(tid: str, pending_id: str, **kw) -> TransferSpec:  # type: ignore[no-untyped-def]
    return TransferSpec(tid, void_pending_id=pending_id, **kw)


def codes(results: list[TransferResult]) -> list[int]:
    CODES_SEEN.update(r.code for r in results)
    return [int(r.code) for r in results]


async def one(engine: LedgerEngine, spec: TransferSpec) -> TransferResult:
    (r,) = await engine.submit([spec])
    CODES_SEEN.add(r.code)
    return r


@dataclass
class Sums:
    dp: int
    dpo: int
    cp: int
    cpo: int
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def posted(self) -> int:
        return self.cpo - self.dpo


async def sums(engine: LedgerEngine, account_id: str) -> Sums:
    (r,) = await engine.lookup_accounts([account_id])
    return Sums(r["debits_pending"], r["debits_posted"], r["credits_pending"], r["credits_posted"])


async def n_transfers(engine: LedgerEngine) -> int:
    async with engine.pool.acquire() as conn:
        return await conn.fetchval("SELECT count(*) FROM transfers")


async def state_of(engine: LedgerEngine, tid: str) -> int:
    (row,) = await engine.lookup_transfers([tid])
    return row["state"]


async def assert_audit_clean(engine: LedgerEngine) -> None:
    async with engine.pool.acquire() as conn:
        assert await audit_ledger(conn) == []


async def open_book(engine: LedgerEngine) -> None:
    """A small book: an unbounded source, floor accounts, frozen, capped and limited ones."""
    await engine.create_accounts(
        [
            AccountSpec("src", "CNY", "issuance"),  # no flags: may go negative
            AccountSpec("w", "CNY", "wallet", FLOOR),
            AccountSpec("x", "CNY", "wallet", FLOOR),
            AccountSpec("hkd", "HKD", "wallet", FLOOR),
            AccountSpec("frozen", "CNY", "wallet", FLOOR),
            AccountSpec("frozen2", "CNY", "wallet", FLOOR),
            AccountSpec("ro", "CNY", "wallet", FLOOR),
            AccountSpec("capped", "CNY", "wallet", FLOOR, balance_max=500),
            AccountSpec("limited", "CNY", "wallet", FLOOR, debit_max_per_transfer=100,
                        daily_debit_max=150),
            AccountSpec("daily", "CNY", "wallet", FLOOR, daily_debit_max=150),
            AccountSpec("credfloor", "CNY", "issuance", CREDITS_MUST_NOT_EXCEED_DEBITS),
            AccountSpec("ovsrc", "CNY", "test"),
            AccountSpec("ovf", "CNY", "test"),
        ]
    )  # fmt: skip
    funded = await engine.submit(
        [
            tr("fund:w", "src", "w", 1000),
            tr("fund:frozen", "src", "frozen", 1000),
            tr("fund:frozen2", "src", "frozen2", 1000),
            tr("fund:ro", "src", "ro", 1000),
            tr("fund:limited", "src", "limited", 10_000),
            tr("fund:daily", "src", "daily", 10_000),
            tr("fund:ovf", "ovsrc", "ovf", INT64_MAX - 5),
        ]
    )
    assert codes(funded) == [C.OK] * 7
    assert await engine.set_freeze("frozen", FREEZE_FULL)
    assert await engine.set_freeze("frozen2", FREEZE_FULL)
    assert await engine.set_freeze("ro", FREEZE_RECEIVE_ONLY)


# A transfer that breaks two rules reports the one that comes first in the engine's order.
# (earlier rule, later rule also broken, the transfer)
PRECEDENCE: list[tuple[str, str, TransferSpec]] = [
    ("ID_MUST_NOT_BE_EMPTY", "FLAGS_ARE_MUTUALLY_EXCLUSIVE",
     TransferSpec("", post_pending_id="p", void_pending_id="p")),
    ("ID_MUST_NOT_BE_EMPTY", "ID too long is the same rule", tr("i" * 129, "w", "x", 1)),
    ("FLAGS_ARE_MUTUALLY_EXCLUSIVE", "AMOUNT_MUST_BE_POSITIVE",
     TransferSpec("f1", post_pending_id="p", void_pending_id="p", amount_minor=-1)),
    ("FLAGS_ARE_MUTUALLY_EXCLUSIVE", "pending phase two",
     TransferSpec("f2", post_pending_id="p", pending=True)),
    ("AMOUNT_MUST_BE_POSITIVE", "CURRENCY_UNKNOWN", tr("a1", "w", "x", 0, "XXX")),
    ("AMOUNT_MUST_BE_POSITIVE", "negative", tr("a2", "w", "x", -7)),
    ("AMOUNT_MUST_BE_POSITIVE", "negative phase two", TransferSpec("a3", post_pending_id="p",
                                                                   amount_minor=-1)),
    ("TIMEOUT_OUT_OF_RANGE", "CURRENCY_UNKNOWN",
     TransferSpec("t1", "w", "x", 5, "XXX", pending=True, timeout_s=2**62)),
    ("AMOUNT_OVERFLOWS", "CURRENCY_UNKNOWN", tr("o1", "w", "x", INT64_MAX + 1, "XXX")),
    ("CURRENCY_UNKNOWN", "ACCOUNTS_MUST_BE_DIFFERENT", tr("c1", "w", "w", 5, "XXX")),
    ("ACCOUNTS_MUST_BE_DIFFERENT", "DEBIT_ACCOUNT_NOT_FOUND", tr("d1", "nope", "nope", 5)),
    ("EXISTS_WITH_DIFFERENT_FIELDS", "DEBIT_ACCOUNT_NOT_FOUND", tr("fund:w", "nope", "x", 5)),
    ("DEBIT_ACCOUNT_NOT_FOUND", "CREDIT_ACCOUNT_NOT_FOUND", tr("n1", "nope1", "nope2", 5)),
    ("CREDIT_ACCOUNT_NOT_FOUND", "CURRENCY_MISMATCH", tr("n2", "hkd", "nope", 5, "CNY")),
    ("CURRENCY_MISMATCH", "DEBIT_ACCOUNT_FROZEN", tr("m1", "frozen", "hkd", 5, "CNY")),
    ("CURRENCY_MISMATCH", "transfer currency differs from both", tr("m2", "w", "x", 5, "HKD")),
    ("PENDING_TRANSFER_NOT_FOUND", "-", post("p1", "no-such-pending")),
    ("PENDING_TRANSFER_NOT_PENDING", "-", void("p2", "fund:w")),
    ("DEBIT_ACCOUNT_FROZEN", "CREDIT_ACCOUNT_FROZEN", tr("z1", "frozen", "frozen2", 5)),
    ("DEBIT_ACCOUNT_FROZEN", "receive-only cannot pay", tr("z2", "ro", "w", 5)),
    ("CREDIT_ACCOUNT_FROZEN", "EXCEEDS_CREDITS", tr("z3", "w", "frozen", 10**6)),
    ("EXCEEDS_CREDITS", "EXCEEDS_DEBITS", tr("e1", "w", "credfloor", 10**6)),
    ("EXCEEDS_DEBITS", "EXCEEDS_DEBIT_MAX_PER_TRANSFER", tr("e2", "limited", "credfloor", 101)),
    ("EXCEEDS_DEBIT_MAX_PER_TRANSFER", "EXCEEDS_DAILY_DEBIT_MAX", tr("e3", "limited", "w", 151)),
    ("EXCEEDS_DAILY_DEBIT_MAX", "EXCEEDS_BALANCE_MAX", tr("e4", "daily", "capped", 600)),
    ("EXCEEDS_BALANCE_MAX", "AMOUNT_OVERFLOWS", tr("e5", "ovsrc", "capped", 600)),
    ("AMOUNT_OVERFLOWS", "-", tr("e6", "ovsrc", "ovf", 10)),
]  # fmt: skip


async def test_each_refusal_in_precedence_order_writes_nothing(engine: LedgerEngine) -> None:
    await open_book(engine)
    before = await n_transfers(engine)
    seq_before = engine.last_seq
    wrong = []
    for expected, also_broken, spec in PRECEDENCE:
        r = await one(engine, spec)
        if r.code != C[expected]:
            wrong.append(f"{spec.id!r} breaks {expected} and {also_broken}: got {C(r.code).name}")
        elif r.code != C.EXISTS_WITH_DIFFERENT_FIELDS and r.seq != 0:
            wrong.append(f"{spec.id!r} refused but got seq {r.seq}")
    assert wrong == []
    assert await n_transfers(engine) == before
    assert engine.last_seq == seq_before
    await assert_audit_clean(engine)


async def test_receive_only_may_receive_but_not_pay(engine: LedgerEngine) -> None:
    await open_book(engine)
    r = await one(engine, tr("to-ro", "w", "ro", 10))
    assert r.code == C.OK and r.credit is not None and r.credit.posted_minor == 1010
    assert (await one(engine, tr("from-ro", "ro", "w", 10))).code == C.DEBIT_ACCOUNT_FROZEN
    assert (await one(engine, tr("to-frozen", "w", "frozen", 10))).code == C.CREDIT_ACCOUNT_FROZEN
    assert await engine.set_freeze("ro", 0)
    assert (await one(engine, tr("from-ro-2", "ro", "w", 10))).code == C.OK


async def test_refusals_return_current_balances_and_ok_returns_balances_after(
    engine: LedgerEngine,
) -> None:
    await open_book(engine)
    r = await one(engine, tr("t1", "w", "x", 300))
    assert r.code == C.OK and r.seq == engine.last_seq
    assert r.debit is not None and r.credit is not None
    assert (r.debit.account_id, r.debit.posted_minor, r.debit.available_minor) == ("w", 700, 700)
    assert (r.credit.account_id, r.credit.posted_minor) == ("x", 300)
    refused = await one(engine, tr("t2", "w", "x", 701))
    assert refused.code == C.EXCEEDS_CREDITS and refused.seq == 0
    assert refused.debit is not None and refused.debit.posted_minor == 700
    assert (await sums(engine, "w")).posted == 700


# ---------------------------------------------------------------------------- two-phase


async def test_pending_reserves_then_post_moves_the_money(engine: LedgerEngine) -> None:
    await open_book(engine)
    r = await one(engine, tr("p", "w", "x", 800, pending=True))
    assert r.code == C.OK and r.debit is not None and r.credit is not None
    assert (r.debit.posted_minor, r.debit.available_minor, r.debit.debits_pending) == (
        1000,
        200,
        800,
    )
    assert (r.credit.posted_minor, r.credit.credits_pending) == (0, 800)
    assert await state_of(engine, "p") == ledger_pb2.TRANSFER_STATE_PENDING
    # The reservation is not spendable twice.
    assert (await one(engine, tr("t", "w", "x", 201))).code == C.EXCEEDS_CREDITS
    done = await one(engine, post("p:post", "p"))
    assert done.code == C.OK
    assert (await sums(engine, "w")) == Sums(0, 800, 0, 1000)
    assert (await sums(engine, "x")) == Sums(0, 0, 0, 800)
    assert await state_of(engine, "p") == ledger_pb2.TRANSFER_STATE_POSTED_FROM_PENDING
    (row,) = await engine.lookup_transfers(["p:post"])
    assert (row["amount"], row["pending_id"], row["debit_account_id"]) == (800, "p", "w")
    await assert_audit_clean(engine)


async def test_partial_post_releases_the_rest(engine: LedgerEngine) -> None:
    await open_book(engine)
    assert (await one(engine, tr("p", "w", "x", 300, pending=True))).code == C.OK
    assert (await one(engine, post("p:too-much", "p", 301))).code == C.EXCEEDS_PENDING_AMOUNT
    r = await one(engine, post("p:post", "p", 120))
    assert r.code == C.OK and r.debit is not None
    assert (r.debit.posted_minor, r.debit.available_minor, r.debit.debits_pending) == (880, 880, 0)
    assert (await sums(engine, "x")) == Sums(0, 0, 0, 120)
    await assert_audit_clean(engine)


async def test_void_restores_and_every_second_resolution_is_refused(engine: LedgerEngine) -> None:
    await open_book(engine)
    for pid in ("p1", "p2"):
        assert (await one(engine, tr(pid, "w", "x", 100, pending=True))).code == C.OK
    assert (await one(engine, void("p1:void", "p1"))).code == C.OK
    w = await sums(engine, "w")
    assert (w.dp, w.posted) == (100, 1000)  # p2 still reserved, p1 released
    assert await state_of(engine, "p1") == ledger_pb2.TRANSFER_STATE_VOIDED
    assert (await one(engine, post("p1:post", "p1"))).code == C.PENDING_TRANSFER_ALREADY_VOIDED
    assert (await one(engine, void("p1:void2", "p1"))).code == C.PENDING_TRANSFER_ALREADY_VOIDED
    assert (await one(engine, post("p2:post", "p2"))).code == C.OK
    assert (await one(engine, post("p2:post2", "p2"))).code == C.PENDING_TRANSFER_ALREADY_POSTED
    assert (await one(engine, void("p2:void", "p2"))).code == C.PENDING_TRANSFER_ALREADY_POSTED
    assert (await sums(engine, "w")) == Sums(0, 100, 0, 1000)
    assert (await sums(engine, "x")) == Sums(0, 0, 0, 100)
    await assert_audit_clean(engine)


async def test_same_batch_pending_then_post_then_second_post(engine: LedgerEngine) -> None:
    await open_book(engine)
    rs = await engine.submit(
        [tr("p", "w", "x", 100, pending=True), post("p:a", "p", 40), post("p:b", "p")]
    )
    assert codes(rs) == [C.OK, C.OK, C.PENDING_TRANSFER_ALREADY_POSTED]
    assert (await sums(engine, "x")).posted == 40
    assert [r.seq for r in rs[:2]] == [rs[0].seq, rs[0].seq + 1]


async def test_expiry_voids_timed_out_pending_only(engine: LedgerEngine) -> None:
    await open_book(engine)
    assert (await one(engine, tr("short", "w", "x", 100, pending=True, timeout_s=1))).code == C.OK
    assert (await one(engine, tr("forever", "w", "x", 50, pending=True))).code == C.OK
    assert (await one(engine, tr("long", "w", "x", 25, pending=True, timeout_s=3600))).code == C.OK
    assert await engine.expire_pending(now_us=time.time_ns() // 1000 - 10 * SECOND_US) == []
    expired = await engine.expire_pending(now_us=time.time_ns() // 1000 + 5 * SECOND_US)
    assert expired == ["short"]
    assert await state_of(engine, "short") == ledger_pb2.TRANSFER_STATE_EXPIRED
    assert await state_of(engine, "forever") == ledger_pb2.TRANSFER_STATE_PENDING
    assert (await sums(engine, "w")).dp == 75
    assert (await one(engine, post("short:post", "short"))).code == C.PENDING_TRANSFER_EXPIRED
    assert (await one(engine, void("short:void", "short"))).code == C.PENDING_TRANSFER_EXPIRED
    assert await engine.expire_pending(now_us=time.time_ns() // 1000 + 5 * SECOND_US) == []
    await assert_audit_clean(engine)


async def test_past_its_timeout_a_pending_stays_resolvable_until_expired(
    engine: LedgerEngine,
) -> None:
    """Timing out does not resolve anything by itself (a PvP leg waits for its coordinator's
    decision): until expiry voids it, a timed-out pending may still be posted or voided once."""
    await open_book(engine)
    for pid in ("p", "q"):
        assert (await one(engine, tr(pid, "w", "x", 100, pending=True, timeout_s=1))).code == C.OK
    await asyncio.sleep(1.05)
    assert (await one(engine, post("p:post", "p"))).code == C.OK
    assert (await one(engine, void("q:void", "q"))).code == C.OK
    assert (await one(engine, void("p:void", "p"))).code == C.PENDING_TRANSFER_ALREADY_POSTED
    assert (await sums(engine, "w")) == Sums(0, 100, 0, 1000)
    assert await engine.expire_pending(now_us=time.time_ns() // 1000 + 5 * SECOND_US) == []


async def test_expiry_of_a_pending_with_a_maximal_id(engine: LedgerEngine) -> None:
    await open_book(engine)
    pid = "p" * 128
    assert (await one(engine, tr(pid, "w", "x", 100, pending=True, timeout_s=1))).code == C.OK
    expired = await engine.expire_pending(now_us=time.time_ns() // 1000 + 5 * SECOND_US)
    assert expired == [pid]
    assert (await sums(engine, "w")).dp == 0


async def test_post_that_would_overflow_is_refused_and_changes_nothing(
    engine: LedgerEngine,
) -> None:
    await engine.create_accounts([AccountSpec(i, "CNY", "test") for i in ("a", "b", "c")])
    assert (await one(engine, tr("big", "a", "b", INT64_MAX - 10))).code == C.OK
    assert (await one(engine, tr("p", "a", "b", 10, pending=True))).code == C.OK
    assert (await one(engine, tr("s", "a", "c", 5))).code == C.OK  # a.debits_posted = MAX - 5
    rs = await engine.submit([tr("s2", "a", "c", 1), post("p:post", "p")])
    assert codes(rs) == [C.OK, C.AMOUNT_OVERFLOWS]
    assert (await sums(engine, "a")) == Sums(10, INT64_MAX - 4, 0, 0)
    await assert_audit_clean(engine)


# ---------------------------------------------------------------------------- linked chains


async def test_linked_chain_is_all_or_nothing(engine: LedgerEngine) -> None:
    await open_book(engine)
    before = await n_transfers(engine)
    rs = await engine.submit(
        [
            tr("solo1", "w", "x", 10),
            tr("c1", "w", "x", 100, linked=True),
            tr("c2", "x", "capped", 50, linked=True),
            tr("c3", "w", "x", 10_000),  # overdraft: the whole chain fails
            tr("solo2", "w", "x", 20),
        ]
    )
    assert codes(rs) == [
        C.OK,
        C.LINKED_EVENT_FAILED,
        C.LINKED_EVENT_FAILED,
        C.EXCEEDS_CREDITS,
        C.OK,
    ]
    assert await n_transfers(engine) == before + 2
    assert await engine.lookup_transfers(["c1", "c2", "c3"]) == []
    assert (await sums(engine, "x")).posted == 30
    assert (await sums(engine, "capped")).posted == 0
    assert rs[4].seq == rs[0].seq + 1  # no gap where the chain was rolled back
    await assert_audit_clean(engine)


async def test_linked_chain_members_see_earlier_members(engine: LedgerEngine) -> None:
    await open_book(engine)
    # x holds nothing; the chain funds it first, then spends from it.
    rs = await engine.submit([tr("c1", "w", "x", 500, linked=True), tr("c2", "x", "capped", 500)])
    assert codes(rs) == [C.OK, C.OK]
    assert (await sums(engine, "x")) == Sums(0, 500, 0, 500)
    rs = await engine.submit(
        [tr("d1", "w", "x", 100, linked=True), tr("d2", "x", "capped", 1)]  # capped is full
    )
    assert codes(rs) == [C.LINKED_EVENT_FAILED, C.EXCEEDS_BALANCE_MAX]
    assert (await sums(engine, "w")).posted == 500


async def test_failed_chain_rolls_back_pending_and_its_resolution(engine: LedgerEngine) -> None:
    await open_book(engine)
    assert (await one(engine, tr("old", "w", "x", 100, pending=True))).code == C.OK
    rs = await engine.submit(
        [
            tr("new", "w", "x", 200, pending=True, linked=True),
            post("old:post", "old", linked=True),
            tr("boom", "w", "nope", 1),
        ]
    )
    assert codes(rs) == [C.LINKED_EVENT_FAILED, C.LINKED_EVENT_FAILED, C.CREDIT_ACCOUNT_NOT_FOUND]
    assert await state_of(engine, "old") == ledger_pb2.TRANSFER_STATE_PENDING
    assert (await sums(engine, "w")) == Sums(100, 0, 0, 1000)
    # Nothing of the chain survived: its ids are free and "old" can still be posted once.
    assert (await one(engine, tr("new", "w", "x", 200, pending=True))).code == C.OK
    assert (await one(engine, post("old:post", "old"))).code == C.OK
    await assert_audit_clean(engine)


async def test_open_chain_fails_only_the_open_chain(engine: LedgerEngine) -> None:
    await open_book(engine)
    rs = await engine.submit(
        [tr("a", "w", "x", 1), tr("b", "w", "x", 2, linked=True), tr("c", "w", "x", 3, linked=True)]
    )
    assert codes(rs) == [C.OK, C.LINKED_EVENT_CHAIN_OPEN, C.LINKED_EVENT_CHAIN_OPEN]
    assert (await sums(engine, "x")).posted == 1


async def test_concurrent_batches_with_chains_commit_independently(engine: LedgerEngine) -> None:
    await open_book(engine)
    batches = [
        [tr(f"g{i}a", "w", "x", 10, linked=True), tr(f"g{i}b", "x", "capped", 10)]
        if i % 3
        else [tr(f"g{i}a", "w", "x", 10, linked=True), tr(f"g{i}b", "x", "nope", 10)]
        for i in range(12)
    ]
    results = await asyncio.gather(*(engine.submit(b) for b in batches))
    for i, rs in enumerate(results):
        want = [C.OK, C.OK] if i % 3 else [C.LINKED_EVENT_FAILED, C.CREDIT_ACCOUNT_NOT_FOUND]
        assert codes(rs) == want, i
    assert (await sums(engine, "capped")).posted == 80
    await assert_audit_clean(engine)


async def test_a_batch_the_database_rejects_does_not_fail_its_group(engine: LedgerEngine) -> None:
    """The group is retried batch by batch, so one bad batch cannot fail the others."""
    await open_book(engine)
    bad = [tr("nul\x00id", "w", "x", 1)]  # PostgreSQL text cannot hold NUL
    got = await asyncio.gather(
        engine.submit([tr("g1", "w", "x", 1)]),
        engine.submit(bad),
        engine.submit([tr("g2", "w", "x", 2)]),
        return_exceptions=True,
    )
    assert isinstance(got[1], Exception)
    assert codes(got[0]) == [C.OK] and codes(got[2]) == [C.OK]  # type: ignore[arg-type]
    assert len(await engine.lookup_transfers(["g1", "g2"])) == 2
    assert (await sums(engine, "x")).posted == 3
    await assert_audit_clean(engine)


# ---------------------------------------------------------------------------- idempotency


async def test_retry_with_same_fields_answers_exists_with_current_balances(
    engine: LedgerEngine,
) -> None:
    await open_book(engine)
    first = await one(engine, tr("t", "w", "x", 100))
    assert first.code == C.OK
    assert (await one(engine, tr("u", "w", "x", 50))).code == C.OK
    again = await one(engine, tr("t", "w", "x", 100))
    assert again.code == C.EXISTS and again.seq == first.seq and again.ok
    assert again.debit is not None and again.debit.posted_minor == 850
    # Idempotency comes before state: a retry after the payer is frozen and drained still
    # answers EXISTS, and never posts twice.
    assert (await one(engine, tr("drain", "w", "x", 850))).code == C.OK
    assert await engine.set_freeze("w", FREEZE_FULL)
    assert (await one(engine, tr("t", "w", "x", 100))).code == C.EXISTS
    assert (await sums(engine, "x")).posted == 1000
    assert len(await engine.lookup_transfers(["t"])) == 1


@pytest.mark.parametrize(
    "changed",
    [
        tr("t", "w", "x", 101),
        tr("t", "w", "capped", 100),
        tr("t", "x", "w", 100),
        tr("t", "w", "x", 100, pending=True),
        tr("t", "hkd", "x", 100, "HKD"),
        post("t", "fund:w"),
    ],
    ids=["amount", "credit", "direction", "pending", "currency", "phase-two"],
)
async def test_retry_with_different_fields_is_refused(
    engine: LedgerEngine, changed: TransferSpec
) -> None:
    await open_book(engine)
    first = await one(engine, tr("t", "w", "x", 100))
    before = await n_transfers(engine)
    r = await one(engine, changed)
    assert r.code == C.EXISTS_WITH_DIFFERENT_FIELDS and r.seq == first.seq
    assert await n_transfers(engine) == before
    assert (await sums(engine, "w")).posted == 900


async def test_phase_two_retries(engine: LedgerEngine) -> None:
    await open_book(engine)
    assert (await one(engine, tr("p", "w", "x", 100, pending=True))).code == C.OK
    assert (await one(engine, post("p:post", "p", 60))).code == C.OK
    assert (await one(engine, post("p:post", "p", 60))).code == C.EXISTS
    assert (await one(engine, post("p:post", "p", 61))).code == C.EXISTS_WITH_DIFFERENT_FIELDS
    assert (await one(engine, void("p:post", "p"))).code == C.EXISTS_WITH_DIFFERENT_FIELDS
    assert (await sums(engine, "x")).posted == 60


async def test_duplicate_id_concurrently_posts_once(engine: LedgerEngine) -> None:
    await open_book(engine)
    rs = await asyncio.gather(*(engine.submit([tr("dup", "w", "x", 7)]) for _ in range(10)))
    flat = [r for batch in rs for r in batch]
    assert sorted(codes(flat)) == [C.OK] + [C.EXISTS] * 9
    in_batch = await engine.submit([tr("dup2", "w", "x", 3), tr("dup2", "w", "x", 3)])
    assert codes(in_batch) == [C.OK, C.EXISTS]
    assert (await sums(engine, "x")).posted == 10


# ---------------------------------------------------------------------------- daily limits


@pytest.fixture
async def cn_engine(fresh_db: str):  # type: ignore[no-untyped-def]
    """An engine whose business day is China's (UTC+8)."""
    e = await LedgerEngine.open(fresh_db, "CN", utc_offset_minutes=480)
    await e.create_accounts(
        [AccountSpec("src", "CNY", "issuance"), AccountSpec("w", "CNY", "wallet", FLOOR,
                                                             daily_debit_max=150),
         AccountSpec("x", "CNY", "wallet", FLOOR)]
    )  # fmt: skip
    assert (await one(e, tr("fund", "src", "w", 10_000))).code == C.OK
    yield e
    await e.close()


async def test_daily_limit_resets_at_local_midnight(cn_engine: LedgerEngine) -> None:
    e = cn_engine
    late = CN_MIDNIGHT_US - SECOND_US  # 23:59:59 in Beijing
    assert (await one(e, tr("a", "w", "x", 100, business_at_us=late))).code == C.OK
    assert (await one(e, tr("b", "w", "x", 51, business_at_us=late))).code == (
        C.EXCEEDS_DAILY_DEBIT_MAX
    )
    assert (await one(e, tr("c", "w", "x", 50, business_at_us=late + 1))).code == C.OK
    # A second later it is the next business day in Beijing (still Mar 1 in UTC).
    assert (await one(e, tr("d", "w", "x", 150, business_at_us=CN_MIDNIGHT_US))).code == C.OK
    assert (await one(e, tr("e", "w", "x", 1, business_at_us=CN_MIDNIGHT_US + 1))).code == (
        C.EXCEEDS_DAILY_DEBIT_MAX
    )
    assert (await sums(e, "x")).posted == 300


async def test_void_gives_back_daily_allowance_and_partial_post_the_rest(
    cn_engine: LedgerEngine,
) -> None:
    e = cn_engine
    at = CN_MIDNIGHT_US + 3600 * SECOND_US
    assert (await one(e, tr("p", "w", "x", 150, pending=True, business_at_us=at))).code == C.OK
    assert (await one(e, tr("t", "w", "x", 1, business_at_us=at))).code == C.EXCEEDS_DAILY_DEBIT_MAX
    assert (await one(e, void("p:void", "p"))).code == C.OK
    assert (await one(e, tr("q", "w", "x", 100, pending=True, business_at_us=at))).code == C.OK
    assert (await one(e, post("q:post", "q", 40))).code == C.OK  # 60 of the allowance returns
    assert (await one(e, tr("u", "w", "x", 110, business_at_us=at))).code == C.OK
    assert (await one(e, tr("v", "w", "x", 1, business_at_us=at))).code == C.EXCEEDS_DAILY_DEBIT_MAX


async def test_back_dated_payment_does_not_reset_todays_usage(cn_engine: LedgerEngine) -> None:
    e = cn_engine
    today = CN_MIDNIGHT_US + 3600 * SECOND_US
    assert (await one(e, tr("a", "w", "x", 150, business_at_us=today))).code == C.OK
    yesterday = today - 86_400 * SECOND_US
    # A back-dated payment counts against the tracked (latest) day: choosing business times can
    # never buy a client more than the daily limit.
    assert (await one(e, tr("b", "w", "x", 10, business_at_us=yesterday))).code == (
        C.EXCEEDS_DAILY_DEBIT_MAX
    )
    assert (await one(e, tr("c", "w", "x", 150, business_at_us=today))).code == (
        C.EXCEEDS_DAILY_DEBIT_MAX
    )
    tomorrow = today + 86_400 * SECOND_US
    assert (await one(e, tr("d", "w", "x", 150, business_at_us=tomorrow))).code == C.OK


# ---------------------------------------------------------------------------- safety net


async def test_check_constraints_refuse_what_the_engine_would(engine: LedgerEngine) -> None:
    await open_book(engine)
    async with engine.pool.acquire() as conn:
        with pytest.raises(asyncpg.CheckViolationError, match="debits_must_not_exceed_credits"):
            await conn.execute(
                "UPDATE accounts SET debits_posted = credits_posted + 1 WHERE id = 'w'"
            )
        with pytest.raises(asyncpg.CheckViolationError, match="debits_must_not_exceed_credits"):
            await conn.execute("UPDATE accounts SET debits_pending = 1001 WHERE id = 'w'")
        with pytest.raises(asyncpg.CheckViolationError, match="credits_must_not_exceed_debits"):
            await conn.execute("UPDATE accounts SET credits_posted = 1 WHERE id = 'credfloor'")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE accounts SET debits_posted = -1 WHERE id = 'src'")
        for amount, debit, credit in ((0, "w", "x"), (-5, "w", "x"), (5, "w", "w")):
            with pytest.raises(asyncpg.CheckViolationError):
                await conn.execute(
                    "INSERT INTO transfers (seq, id, debit_account_id, credit_account_id, amount,"
                    " currency, flags, state, business_at_us) VALUES (999, 'raw', $1, $2, $3,"
                    " 'CNY', 0, 1, 0)",
                    debit, credit, amount,
                )  # fmt: skip
    assert (await sums(engine, "w")) == Sums(0, 0, 0, 1000)
    await assert_audit_clean(engine)


async def test_second_engine_on_the_same_ledger_is_refused(fresh_db: str) -> None:
    first = await LedgerEngine.open(fresh_db, "T")
    try:
        await first.create_accounts([AccountSpec("a", "CNY", "t"), AccountSpec("b", "CNY", "t")])
        assert (await one(first, tr("t1", "a", "b", 5))).code == C.OK
        with pytest.raises(LedgerBusy):
            await LedgerEngine.open(fresh_db, "T")
    finally:
        await first.close()
    # Once the writer is gone, a new one takes over and continues the sequence without a gap.
    second = await LedgerEngine.open(fresh_db, "T")
    try:
        r = await one(second, tr("t2", "a", "b", 5))
        assert r.code == C.OK and r.seq == 2
    finally:
        await second.close()


def test_every_transfer_code_is_exercised(request: pytest.FixtureRequest) -> None:
    """Runs last in this module: each wire code must have been asserted by some test above."""
    wanted = {v for k, v in ledger_pb2.TransferCode.items() if k != "TRANSFER_CODE_UNSPECIFIED"}
    if not CODES_SEEN or request.config.option.keyword:
        pytest.skip("meaningful only when the whole module runs")
    missing = sorted(ledger_pb2.TransferCode.Name(c) for c in wanted - CODES_SEEN)
    assert missing == []
