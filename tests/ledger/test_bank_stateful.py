"""The bank-style property test: the REAL Ledger gRPC API against a plain-dict model.

`LedgerBankMachine` (a Hypothesis RuleBasedStateMachine) opens a small book per example and then
transfers, reserves (pending), posts, partially posts, voids, expires (advancing the clock), sends
linked batches (some with a deliberately failing member), plain batches, and retries with the
same idempotency id (identical, and with different fields). The model predicts every result code
and the balances returned with each result; after every step the invariants are checked against
what the server answers: each balance equals the model, debits = credits per currency, no floor
or cap is breached, every acknowledged transfer exists exactly once with its amount.

The machine runs in a worker thread with a synchronous gRPC channel while the server runs on the
test's event loop. Each example gets its own id namespace on one ledger, so examples are
independent without a database per example.

`test_concurrent_clients_keep_the_books` hammers the same server from many asyncio clients at once
and then audits the database directly (conservation, floors, log = sums, exactly-once).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, ClassVar

import asyncpg
import grpc
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from corridor.errors import error_details
from corridor.server import channel
from corridor.v1 import ledger_pb2, ledger_pb2_grpc
from services.ledger.engine import LedgerEngine
from tests.ledger.audit import audit_ledger
from tests.ledger.conftest import LedgerUnderTest

C = ledger_pb2  # the wire enum: C.OK, C.EXCEEDS_CREDITS, ...
FLOOR = ledger_pb2.ACCOUNT_FLAG_DEBITS_MUST_NOT_EXCEED_CREDITS
CURRENCIES = ("CNY", "HKD")
CAP = 6_000
HOUR_US = 3_600_000_000
EXAMPLES = itertools.count()


# ---------------------------------------------------------------------------- the model


@dataclass
class ModelAccount:
    currency: str
    floor: bool
    balance_max: int = 0
    dp: int = 0
    dpo: int = 0
    cp: int = 0
    cpo: int = 0

    def view(self) -> tuple[int, int, int, int]:
        """(posted, available, debits_pending, credits_pending), as a Balance message says."""
        posted = self.cpo - self.dpo
        return posted, posted - self.dp, self.dp, self.cp


@dataclass
class ModelPending:
    debit: str
    credit: str
    amount: int
    expirable: bool
    state: str = "pending"  # pending | posted | voided | expired


@dataclass
class Acked:
    """An acknowledged transfer as the ledger must store it."""

    request: ledger_pb2.Transfer
    debit: str
    credit: str
    amount: int
    seq: int


@dataclass
class BankModel:
    accounts: dict[str, ModelAccount] = field(default_factory=dict)
    pendings: dict[str, ModelPending] = field(default_factory=dict)

    def apply(self, t: ledger_pb2.Transfer) -> tuple[int, str, str, int]:
        """Apply one transfer if the rules allow; (code, debit, credit, stored amount)."""
        if t.post_pending_id or t.void_pending_id:
            return self._resolve(t)
        d, c = self.accounts.get(t.debit_account_id), self.accounts.get(t.credit_account_id)
        if d is None:
            return C.DEBIT_ACCOUNT_NOT_FOUND, "", "", 0
        if c is None:
            return C.CREDIT_ACCOUNT_NOT_FOUND, "", "", 0
        a = t.amount_minor
        if d.currency != t.currency or c.currency != t.currency:
            return C.CURRENCY_MISMATCH, "", "", 0
        if d.floor and d.dp + d.dpo + a > d.cpo:
            return C.EXCEEDS_CREDITS, "", "", 0
        if c.balance_max and c.cpo + c.cp - c.dpo + a > c.balance_max:
            return C.EXCEEDS_BALANCE_MAX, "", "", 0
        if t.pending:
            d.dp += a
            c.cp += a
            self.pendings[t.id] = ModelPending(
                t.debit_account_id, t.credit_account_id, a, t.timeout_s > 0
            )
        else:
            d.dpo += a
            c.cpo += a
        return C.OK, t.debit_account_id, t.credit_account_id, a

    def _resolve(self, t: ledger_pb2.Transfer) -> tuple[int, str, str, int]:
        pid = t.post_pending_id or t.void_pending_id
        p = self.pendings.get(pid)
        if p is None:
            return C.PENDING_TRANSFER_NOT_FOUND, "", "", 0
        refused = {
            "posted": C.PENDING_TRANSFER_ALREADY_POSTED,
            "voided": C.PENDING_TRANSFER_ALREADY_VOIDED,
            "expired": C.PENDING_TRANSFER_EXPIRED,
        }.get(p.state)
        if refused:
            return refused, "", "", 0
        amount = t.amount_minor or p.amount
        if t.post_pending_id and amount > p.amount:
            return C.EXCEEDS_PENDING_AMOUNT, "", "", 0
        d, c = self.accounts[p.debit], self.accounts[p.credit]
        d.dp -= p.amount
        c.cp -= p.amount
        if t.post_pending_id:
            d.dpo += amount
            c.cpo += amount
            p.state = "posted"
        else:
            amount = p.amount
            p.state = "voided"
        return C.OK, p.debit, p.credit, amount


def _view(b: ledger_pb2.Balance) -> tuple[int, int, int, int]:
    return b.posted_minor, b.available_minor, b.debits_pending, b.credits_pending


def _sums(a: ledger_pb2.Account) -> tuple[int, int, int, int]:
    return a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted


# ---------------------------------------------------------------------------- the machine


class LedgerBankMachine(RuleBasedStateMachine):
    """Set by the test before running: where the server is, and its loop and engine."""

    target: ClassVar[str] = ""
    loop: ClassVar[asyncio.AbstractEventLoop]
    engine: ClassVar[LedgerEngine]

    wallets = Bundle("wallets")
    pendings = Bundle("pendings")

    def __init__(self) -> None:
        super().__init__()
        self.ns = f"e{next(EXAMPLES)}"
        self.channel = grpc.insecure_channel(self.target)
        self.stub = ledger_pb2_grpc.LedgerStub(self.channel)
        self.model = BankModel()
        self.acked: dict[str, Acked] = {}
        self.sources: dict[str, str] = {}
        self.counter = itertools.count()

    def teardown(self) -> None:
        self.channel.close()

    def new_id(self, what: str) -> str:
        return f"{self.ns}.{what}{next(self.counter)}"

    # ------------------------------------------------------------------ talking to the server
    def submit(self, transfers: list[ledger_pb2.Transfer]) -> list[ledger_pb2.TransferResult]:
        resp = self.stub.CreateTransfers(
            ledger_pb2.CreateTransfersRequest(transfers=transfers), timeout=10
        )
        assert [r.index for r in resp.results] == list(range(len(transfers)))
        return list(resp.results)

    def submit_predicted(self, transfers: list[ledger_pb2.Transfer]) -> list[int]:
        """Submit a batch; the model predicts every code and the balances after each."""
        chain: list[ledger_pb2.Transfer] = []
        expected: list[tuple[int, str, str, int, Any]] = []
        for t in transfers:
            chain.append(t)
            if t.linked:
                continue
            expected.extend(self._predict_chain(chain))
            chain = []
        assert not chain, "the machine never sends an open chain here"
        results = self.submit(transfers)
        got = [r.code for r in results]
        assert got == [e[0] for e in expected], (
            f"codes {[C.TransferCode.Name(c) for c in got]} != model "
            f"{[C.TransferCode.Name(e[0]) for e in expected]}"
        )
        for t, r, (code, debit, credit, amount, views) in zip(
            transfers, results, expected, strict=True
        ):
            if code != C.OK:
                assert r.seq == 0
                continue
            assert r.seq > 0
            assert (_view(r.debit_balance), _view(r.credit_balance)) == views, t.id
            self.acked[t.id] = Acked(t, debit, credit, amount, r.seq)
        return got

    def _predict_chain(
        self, chain: list[ledger_pb2.Transfer]
    ) -> list[tuple[int, str, str, int, Any]]:
        """All-or-nothing: apply to a copy; keep the copy only if every member succeeds."""
        trial = copy.deepcopy(self.model)
        out = []
        for k, t in enumerate(chain):
            code, debit, credit, amount = trial.apply(t)
            if code != C.OK:
                failed: list[tuple[int, str, str, int, Any]] = [
                    (C.LINKED_EVENT_FAILED, "", "", 0, None) for _ in chain
                ]
                failed[k] = (code, "", "", 0, None)
                return failed
            views = (trial.accounts[debit].view(), trial.accounts[credit].view())
            out.append((code, debit, credit, amount, views))
        self.model = trial
        return out

    def move(
        self, debit: str, credit: str, amount: int, currency: str = "", **kw: Any
    ) -> ledger_pb2.Transfer:
        cur = currency or self.model.accounts[debit].currency
        return ledger_pb2.Transfer(
            id=self.new_id(kw.pop("what", "t")),
            debit_account_id=debit,
            credit_account_id=credit,
            amount_minor=amount,
            currency=cur,
            **kw,
        )

    # ------------------------------------------------------------------ rules
    @initialize(target=wallets)
    def open_book(self) -> Any:
        specs = []
        for cur in CURRENCIES:
            src = f"{self.ns}.{cur}.src"  # no flags: an issuance-like account that may go negative
            self.sources[cur] = src
            specs.append(ledger_pb2.Account(id=src, currency=cur, kind="issuance"))
            for name in ("a", "b", "c"):
                specs.append(
                    ledger_pb2.Account(id=f"{self.ns}.{cur}.{name}", currency=cur, flags=FLOOR)
                )
        specs.append(
            ledger_pb2.Account(
                id=f"{self.ns}.CNY.cap", currency="CNY", flags=FLOOR, balance_max_minor=CAP
            )
        )
        resp = self.stub.CreateAccounts(ledger_pb2.CreateAccountsRequest(accounts=specs))
        assert list(resp.codes) == [ledger_pb2.ACCOUNT_OK] * len(specs)
        again = self.stub.CreateAccounts(ledger_pb2.CreateAccountsRequest(accounts=specs[:1]))
        assert list(again.codes) == [ledger_pb2.ACCOUNT_EXISTS]
        for s in specs:
            self.model.accounts[s.id] = ModelAccount(
                s.currency, bool(s.flags & FLOOR), s.balance_max_minor
            )
        wallets = [s for s in specs if s.flags & FLOOR]
        # Every wallet starts with money, so most steps move something from the first step on.
        opening = [
            self.move(self.sources[s.currency], s.id, CAP // 2 if s.balance_max_minor else 8_000,
                      what="open")
            for s in wallets
        ]  # fmt: skip
        assert self.submit_predicted(opening) == [C.OK] * len(opening)
        return multiple(*(s.id for s in wallets))

    @rule(account=wallets, amount=st.integers(1, 5_000))
    def fund(self, account: str, amount: int) -> None:
        cur = self.model.accounts[account].currency
        self.submit_predicted([self.move(self.sources[cur], account, amount, what="fund")])

    @rule(
        debit=wallets,
        credit=wallets,
        amount=st.integers(1, 4_000),
        wrong_currency=st.booleans(),
    )
    def transfer(self, debit: str, credit: str, amount: int, wrong_currency: bool) -> None:
        cur = self.model.accounts[debit].currency
        if wrong_currency:
            cur = next(c for c in CURRENCIES if c != cur)
        t = self.move(debit, credit, amount, cur)
        if debit != credit:
            self.submit_predicted([t])
            return
        # Bad input refuses the whole request, names the field, and writes nothing.
        try:
            self.submit([t])
        except grpc.RpcError as e:
            d = error_details(e)  # type: ignore[arg-type]
            assert d.code == grpc.StatusCode.INVALID_ARGUMENT
            assert d.field == "transfers[0].credit_account_id"
        else:
            raise AssertionError("a transfer to the same account was accepted")

    @rule(
        target=pendings,
        debit=wallets,
        credit=wallets,
        amount=st.integers(1, 4_000),
        expirable=st.booleans(),
    )
    def reserve(self, debit: str, credit: str, amount: int, expirable: bool) -> Any:
        if debit == credit:
            return multiple()
        t = self.move(
            debit, credit, amount, what="p", pending=True, timeout_s=3600 if expirable else 0
        )
        (code,) = self.submit_predicted([t])
        return t.id if code == C.OK else multiple()

    @rule(target=pendings, pid=consumes(pendings), percent=st.sampled_from([0, 30, 100, 150]))
    def post(self, pid: str, percent: int) -> Any:
        p = self.model.pendings[pid]
        amount = p.amount * percent // 100  # 0 = "the pending amount"; 150% must be refused
        t = ledger_pb2.Transfer(id=self.new_id("post"), post_pending_id=pid, amount_minor=amount)
        (code,) = self.submit_predicted([t])
        return pid if code == C.EXCEEDS_PENDING_AMOUNT else multiple()

    @rule(pid=consumes(pendings))
    def void(self, pid: str) -> None:
        self.submit_predicted([ledger_pb2.Transfer(id=self.new_id("void"), void_pending_id=pid)])

    @precondition(lambda self: any(p.state != "pending" for p in self.model.pendings.values()))
    @rule(data=st.data(), as_post=st.booleans())
    def resolve_again(self, data: st.DataObject, as_post: bool) -> None:
        done = sorted(k for k, p in self.model.pendings.items() if p.state != "pending")
        pid = data.draw(st.sampled_from(done))
        t = ledger_pb2.Transfer(id=self.new_id("again"))
        if as_post:
            t.post_pending_id = pid
        else:
            t.void_pending_id = pid
        (code,) = self.submit_predicted([t])
        assert code != C.OK

    @rule()
    def advance_clock_and_expire(self) -> None:
        """Two hours later: every expirable pending (timeout 1 h) of this example expires."""
        later = time.time_ns() // 1000 + 2 * HOUR_US
        fut = asyncio.run_coroutine_threadsafe(self.engine.expire_pending(now_us=later), self.loop)
        expired = {i for i in fut.result(timeout=30) if i.startswith(f"{self.ns}.")}
        want = {
            pid for pid, p in self.model.pendings.items() if p.state == "pending" and p.expirable
        }
        assert expired == want
        for pid in want:
            p = self.model.pendings[pid]
            p.state = "expired"
            self.model.accounts[p.debit].dp -= p.amount
            self.model.accounts[p.credit].cp -= p.amount

    @rule(
        data=st.data(),
        size=st.integers(2, 4),
        sabotage=st.sampled_from(["none", "overdraft", "unknown-account", "mismatch"]),
    )
    def linked_batch(self, data: st.DataObject, size: int, sabotage: str) -> None:
        ids = sorted(self.model.accounts)
        members = []
        for _ in range(size):
            debit, credit = data.draw(st.lists(st.sampled_from(ids), min_size=2, max_size=2,
                                               unique=True))  # fmt: skip
            members.append(self.move(debit, credit, data.draw(st.integers(1, 3_000)), linked=True))
        if sabotage != "none":
            k = data.draw(st.integers(0, size - 1))
            bad = members[k]
            if sabotage == "overdraft":
                floor = sorted(i for i, a in self.model.accounts.items() if a.floor)
                bad.debit_account_id = data.draw(st.sampled_from(floor))
                acct = self.model.accounts[bad.debit_account_id]
                bad.currency = acct.currency
                bad.credit_account_id = self.sources[acct.currency]
                bad.amount_minor = acct.cpo + 10_000_000  # more than any prefix can fund
            elif sabotage == "unknown-account":
                bad.credit_account_id = f"{self.ns}.nope"
            else:
                bad.currency = "HKD" if bad.currency == "CNY" else "CNY"
        members[-1].linked = False
        got = self.submit_predicted(members)
        assert got.count(C.OK) in (0, size)
        if sabotage != "none":
            assert C.OK not in got

    @rule(data=st.data())
    def plain_batch(self, data: st.DataObject) -> None:
        """Unlinked members fail independently, in order."""
        ids = sorted(self.model.accounts)
        members = []
        for _ in range(data.draw(st.integers(2, 5))):
            debit, credit = data.draw(st.lists(st.sampled_from(ids), min_size=2, max_size=2,
                                               unique=True))  # fmt: skip
            members.append(self.move(debit, credit, data.draw(st.integers(1, 3_000))))
        self.submit_predicted(members)

    @precondition(lambda self: bool(self.acked))
    @rule(data=st.data())
    def retry_same(self, data: st.DataObject) -> None:
        tid = data.draw(st.sampled_from(sorted(self.acked)))
        a = self.acked[tid]
        t = ledger_pb2.Transfer()
        t.CopyFrom(a.request)
        t.linked = False
        (r,) = self.submit([t])
        assert r.code == C.EXISTS and r.seq == a.seq
        d, c = self.model.accounts[a.debit], self.model.accounts[a.credit]
        assert (_view(r.debit_balance), _view(r.credit_balance)) == (d.view(), c.view())

    @precondition(lambda self: bool(self.acked))
    @rule(data=st.data())
    def retry_different(self, data: st.DataObject) -> None:
        tid = data.draw(st.sampled_from(sorted(self.acked)))
        a = self.acked[tid]
        t = ledger_pb2.Transfer()
        t.CopyFrom(a.request)
        t.linked = False
        if t.post_pending_id:
            t.void_pending_id, t.post_pending_id = t.post_pending_id, ""
        elif t.void_pending_id:
            t.post_pending_id, t.void_pending_id = t.void_pending_id, ""
        else:
            t.amount_minor += 1
        (r,) = self.submit([t])
        assert r.code == C.EXISTS_WITH_DIFFERENT_FIELDS and r.seq == a.seq

    # ------------------------------------------------------------------ invariants
    @invariant()
    def books_balance(self) -> None:
        if not self.model.accounts:
            return
        ids = sorted(self.model.accounts)
        got = self.stub.LookupAccounts(ledger_pb2.LookupAccountsRequest(ids=ids), timeout=10)
        assert [a.id for a in got.accounts] == ids
        per_currency: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for a in got.accounts:
            m = self.model.accounts[a.id]
            assert _sums(a) == (m.dp, m.dpo, m.cp, m.cpo), a.id
            for k, v in enumerate(_sums(a)):
                per_currency[a.currency][k] += v
            if a.flags & FLOOR:
                assert a.debits_posted + a.debits_pending <= a.credits_posted, a.id
            if a.balance_max_minor:
                assert a.credits_posted + a.credits_pending - a.debits_posted <= a.balance_max_minor
        for cur, (dp, dpo, cp, cpo) in per_currency.items():
            assert dpo == cpo and dp == cp, cur

    @invariant()
    def acknowledged_exist_once(self) -> None:
        if not self.acked:
            return
        ids = sorted(self.acked)
        got = self.stub.LookupTransfers(ledger_pb2.LookupTransfersRequest(ids=ids), timeout=10)
        assert sorted(t.id for t in got.transfers) == ids
        for t in got.transfers:
            a = self.acked[t.id]
            assert (t.debit_account_id, t.credit_account_id, t.amount_minor, t.seq) == (
                a.debit,
                a.credit,
                a.amount,
                a.seq,
            ), t.id


LedgerBankMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


async def test_bank_state_machine(ledger_server: LedgerUnderTest) -> None:
    machine = type(
        "LedgerBankMachineUnderTest",
        (LedgerBankMachine,),
        {
            "target": ledger_server.target,
            "loop": asyncio.get_running_loop(),
            "engine": ledger_server.engine,
        },
    )
    await asyncio.to_thread(
        run_state_machine_as_test, machine, settings=LedgerBankMachine.TestCase.settings
    )
    conn = await asyncpg.connect(ledger_server.dsn)
    try:
        assert await audit_ledger(conn) == []
    finally:
        await conn.close()


# ---------------------------------------------------------------------------- concurrency

N_CLIENTS = 8
OPS_PER_CLIENT = 40


@dataclass
class Books:
    """What the clients were told (acknowledged) — the ledger must match it exactly."""

    acked: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    pendings: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    resolutions: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    refusals: int = 0


async def _client(
    target: str, i: int, wallets: dict[str, list[str]], sources: dict[str, str], books: Books
) -> None:
    rng = random.Random(7_000 + i)
    mine: list[tuple[ledger_pb2.Transfer, int]] = []  # acknowledged, with seq: retried later
    n = itertools.count()

    def tid(what: str) -> str:
        return f"c{i}.{what}{next(n)}"

    def move(what: str, pending: bool = False) -> ledger_pb2.Transfer:
        cur = rng.choice(list(wallets))
        debit, credit = rng.sample(wallets[cur], 2)
        if what == "fund":
            debit = sources[cur]
        return ledger_pb2.Transfer(
            id=tid(what), debit_account_id=debit, credit_account_id=credit,
            amount_minor=rng.randint(1, 3_000), currency=cur, pending=pending,
        )  # fmt: skip

    async with channel(target) as ch:
        stub = ledger_pb2_grpc.LedgerStub(ch)
        for _ in range(OPS_PER_CLIENT):
            op = rng.choices(
                ["move", "fund", "pending", "post", "void", "linked", "retry"],
                weights=[5, 2, 3, 2, 2, 2, 2],
            )[0]
            batch: list[ledger_pb2.Transfer]
            if op in ("move", "fund"):
                batch = [move(op)]
            elif op == "pending":
                batch = [move("p", pending=True)]
            elif op in ("post", "void") and books.pendings:
                pid = rng.choice(sorted(books.pendings))  # maybe another client's, maybe resolved
                t = ledger_pb2.Transfer(id=tid(op))
                if op == "post":
                    t.post_pending_id = pid
                    t.amount_minor = rng.choice([0, max(1, books.pendings[pid][2] // 2)])
                else:
                    t.void_pending_id = pid
                batch = [t]
            elif op == "linked":
                batch = [move("l") for _ in range(rng.randint(2, 3))]
                for t in batch[:-1]:
                    t.linked = True
                if rng.random() < 0.3:
                    batch[-1].credit_account_id = "nope"
            elif op == "retry" and mine:
                original, seq = rng.choice(mine)
                resp = await stub.CreateTransfers(
                    ledger_pb2.CreateTransfersRequest(transfers=[original])
                )
                (r,) = resp.results
                assert r.code == C.EXISTS and r.seq == seq, original.id
                continue
            else:
                batch = [move("move")]
            resp = await stub.CreateTransfers(ledger_pb2.CreateTransfersRequest(transfers=batch))
            got = [r.code for r in resp.results]
            if any(t.linked for t in batch):
                assert got.count(C.OK) in (0, len(batch)), got
            for t, r in zip(batch, resp.results, strict=True):
                if r.code != C.OK:
                    books.refusals += 1
                    assert r.seq == 0
                    continue
                one = ledger_pb2.Transfer()
                one.CopyFrom(t)
                one.linked = False
                mine.append((one, r.seq))
                pid = t.post_pending_id or t.void_pending_id
                if pid:
                    debit, credit, amount = books.pendings[pid]
                    stored = t.amount_minor or amount if t.post_pending_id else amount
                    books.acked[t.id] = (debit, credit, stored)
                    books.resolutions[pid].append("post" if t.post_pending_id else "void")
                    continue
                books.acked[t.id] = (t.debit_account_id, t.credit_account_id, t.amount_minor)
                if t.pending:
                    books.pendings[t.id] = books.acked[t.id]


async def test_concurrent_clients_keep_the_books(ledger_server: LedgerUnderTest) -> None:
    wallets = {cur: [f"{cur}.w{k}" for k in range(5)] for cur in CURRENCIES}
    sources = {cur: f"{cur}.src" for cur in CURRENCIES}
    accounts = [ledger_pb2.Account(id=s, currency=c, kind="issuance") for c, s in sources.items()]
    for cur, ids in wallets.items():
        accounts += [ledger_pb2.Account(id=w, currency=cur, flags=FLOOR) for w in ids]
    books = Books()
    async with channel(ledger_server.target) as ch:
        stub = ledger_pb2_grpc.LedgerStub(ch)
        await stub.CreateAccounts(ledger_pb2.CreateAccountsRequest(accounts=accounts))
        seed = [
            ledger_pb2.Transfer(id=f"seed.{w}", debit_account_id=sources[cur],
                                credit_account_id=w, amount_minor=5_000, currency=cur)
            for cur, ids in wallets.items() for w in ids
        ]  # fmt: skip
        resp = await stub.CreateTransfers(ledger_pb2.CreateTransfersRequest(transfers=seed))
        assert [r.code for r in resp.results] == [C.OK] * len(seed)
        for t in seed:
            books.acked[t.id] = (t.debit_account_id, t.credit_account_id, t.amount_minor)

    await asyncio.gather(
        *(_client(ledger_server.target, i, wallets, sources, books) for i in range(N_CLIENTS))
    )
    assert books.refusals > 0 and len(books.acked) > N_CLIENTS * 10  # the test did contend

    conn = await asyncpg.connect(ledger_server.dsn)
    try:
        assert await audit_ledger(conn) == []
        rows = await conn.fetch(
            "SELECT id, debit_account_id, credit_account_id, amount, state FROM transfers"
        )
        stored = {
            r["id"]: (r["debit_account_id"], r["credit_account_id"], r["amount"]) for r in rows
        }
        assert len(rows) == len(stored)  # exactly once
        assert stored == books.acked  # every acknowledged transfer, nothing unacknowledged
        state = {r["id"]: r["state"] for r in rows}
        for pid in books.pendings:
            done = books.resolutions.get(pid, [])
            assert len(done) <= 1, (pid, done)  # racing post/void: one winner
            want = {(): ledger_pb2.TRANSFER_STATE_PENDING,
                    ("post",): ledger_pb2.TRANSFER_STATE_POSTED_FROM_PENDING,
                    ("void",): ledger_pb2.TRANSFER_STATE_VOIDED}[tuple(done)]  # fmt: skip
            assert state[pid] == want, pid
    finally:
        await conn.close()
