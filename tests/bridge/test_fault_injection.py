"""Fault injection on the PvP protocol with real OS processes (CN node, HK node, bridge).

The coordinator is killed at each protocol step — after the log write, after the prepare votes,
after the decision is durable, after every post/void — through the bridge's fault point
(CORRIDOR_FAULT_STEP: the process exits at once, no cleanup, like SIGKILL). A participant node is
SIGKILLed right after a prepare batch lands on it, and mid-stream under a flow of batches. After
restarts, recovery (coordinator start-up + periodic pass, participants asking for decisions on
timed-out legs) must leave every payment settled on every ledger or voided on every ledger, and
every ledger's invariants (and the cross-ledger backing / atomicity rules) must hold.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import grpc
import pytest

import bridge.invariants  # noqa: F401 - registers the cross-ledger checks
from bridge.platform import payment_id_for
from corridor import invariants
from corridor.server import channel
from corridor.v1 import bridge_pb2, bridge_pb2_grpc
from tests.bridge.process_corridor import (
    LPS,
    PAYER_FUNDS_MINOR,
    PaymentTruth,
    ProcessCorridor,
    balances,
    read_truth,
    wait_settled,
)

SETTLED, REJECTED = 4, 5
N_PAYMENTS = 40


@pytest.fixture
async def corridor(make_db, tmp_path):
    urls = {"cn": await make_db(), "hk": await make_db(), "bridge": await make_db()}
    pc = ProcessCorridor.plan(tmp_path / "logs", urls, pvp_timeout_s=2)
    yield pc
    pc.kill_all()


def batch(
    pc: ProcessCorridor, prefix: str, n: int = N_PAYMENTS
) -> list[bridge_pb2.CrossBorderPayRequest]:
    """n ordinary payments plus one the payer cannot afford (so both outcomes are in flight)."""
    reqs = [pc.payment(f"{prefix}{i}", 10_000 + i, src=i, dst=i) for i in range(n)]
    reqs.append(pc.payment(f"{prefix}-too-big", 2 * PAYER_FUNDS_MINOR, src=1))
    return reqs


def assert_all_or_nothing(truth: dict[str, PaymentTruth]) -> None:
    for t in truth.values():
        assert t.state in (SETTLED, REJECTED), t
        if t.state == SETTLED:
            assert t.all_posted, f"settled but not posted everywhere: {t}"
        else:
            assert t.none_posted, f"rejected but a leg was posted: {t}"


async def assert_invariants(pc: ProcessCorridor) -> None:
    checks = await invariants.check_all(pc.urls)
    bad = [c for c in checks if not c.ok]
    assert not bad, bad
    names = {c.name for c in checks}
    assert {"backing CNY", "backing HKD", "no payment half-settled", "no payment in doubt"} <= names


async def assert_money_matches(pc: ProcessCorridor, reqs, truth, before_cn) -> None:  # type: ignore[no-untyped-def]
    """Each payer paid exactly its settled payments; the payees got exactly the HK legs posted."""
    after_cn = await balances(pc.urls["cn"], pc.wallets["CN"])
    spent: dict[str, int] = {w: 0 for w in pc.wallets["CN"]}
    for r in reqs:
        t = truth.get(payment_id_for(r.idempotency_key))
        if t is not None and t.state == SETTLED:
            spent[r.payer_wallet_id] += r.amount_minor
    assert {w: before_cn[w] - after_cn[w] for w in spent} == spent
    conn = await asyncpg.connect(pc.urls["hk"])
    try:
        credited = await conn.fetchval(
            "SELECT coalesce(sum(amount), 0) FROM transfers WHERE kind = 'pvp' AND state = 3"
            " AND (flags & 2) <> 0 AND credit_account_id LIKE 'hk.w.%'"
        )
        held = await conn.fetchval(
            "SELECT sum(credits_posted - debits_posted) FROM accounts WHERE id LIKE 'hk.w.%'"
        )
    finally:
        await conn.close()
    assert held == credited + PAYER_FUNDS_MINOR * len(pc.wallets["HK"])


# --------------------------------------------------------------------- the coordinator crashes
COORDINATOR_STEPS = [
    # step the bridge dies at, whether the decision was durable (commit) before it died
    ("logged", False),
    ("prepared", False),
    ("decided", True),
    ("resolved", True),
]


async def crash_coordinator_at(pc: ProcessCorridor, step: str, reqs) -> None:  # type: ignore[no-untyped-def]
    """Run one batch into a bridge armed to die at `step` (after the seeding rounds), see it die,
    restart it without the fault (recovery runs before it serves again)."""
    after = len(LPS) * len(pc.codes)
    await pc.start_all({"CORRIDOR_FAULT_STEP": step, "CORRIDOR_FAULT_AFTER": str(after)})
    await pc.seed()
    assert pc.fundings == after
    async with channel(pc.target("bridge")) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as e:
            await br.CrossBorderPayBatch(
                bridge_pb2.CrossBorderPayBatchRequest(payments=reqs(pc)), timeout=30
            )
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE, e.value
    assert await pc.wait_exit("bridge") == 137, pc.log_tail("bridge")
    await pc.start("bridge")


@pytest.mark.parametrize(("step", "committed"), COORDINATOR_STEPS)
async def test_coordinator_killed_at_each_step(corridor, step, committed):
    pc = corridor
    reqs: list[bridge_pb2.CrossBorderPayRequest] = []

    def make(pc: ProcessCorridor) -> list[bridge_pb2.CrossBorderPayRequest]:
        reqs.extend(batch(pc, "p"))
        return reqs

    await crash_coordinator_at(pc, step, make)
    truth = await wait_settled(pc.urls, timeout_s=30)
    assert len(truth) == len(reqs) + pc.fundings
    assert_all_or_nothing(truth)
    outcome = {r.idempotency_key: truth[payment_id_for(r.idempotency_key)] for r in reqs}
    big = outcome.pop("p-too-big")
    assert big.state == REJECTED and big.none_posted
    if committed:  # the decision was durable: recovery must finish it forward
        assert all(t.state == SETTLED for t in outcome.values()), outcome
    else:  # never decided: presumed abort
        assert all(t.state == REJECTED for t in outcome.values()), outcome
        assert {t.reason for t in outcome.values()} == {"COORDINATOR_RECOVERY_ABORT"}
    await assert_money_matches(pc, reqs, truth, {w: PAYER_FUNDS_MINOR for w in pc.wallets["CN"]})
    await assert_invariants(pc)


@pytest.mark.parametrize(
    ("step", "committed"),
    [
        ("prepared", False),
        pytest.param("decided", True, marks=pytest.mark.slow),
    ],
)
async def test_retry_after_crash_replays_the_recovered_outcome(corridor, step, committed):
    """A client that lost its answer in the crash retries with the same keys: it must get the
    recovered outcome, flagged replayed, and nothing may move again."""
    pc = corridor
    reqs: list[bridge_pb2.CrossBorderPayRequest] = []

    def make(pc: ProcessCorridor) -> list[bridge_pb2.CrossBorderPayRequest]:
        reqs.extend(batch(pc, "r", 10))
        return reqs

    await crash_coordinator_at(pc, step, make)
    truth = await wait_settled(pc.urls)
    recovered = {truth[payment_id_for(r.idempotency_key)].state for r in reqs[:-1]}
    assert recovered == {SETTLED if committed else REJECTED}
    cn_before = await balances(pc.urls["cn"], pc.wallets["CN"])
    async with channel(pc.target("bridge")) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        resp = await br.CrossBorderPayBatch(
            bridge_pb2.CrossBorderPayBatchRequest(payments=reqs), timeout=30
        )
    after = await wait_settled(pc.urls)
    assert_all_or_nothing(after)
    await assert_invariants(pc)
    assert await balances(pc.urls["cn"], pc.wallets["CN"]) == cn_before
    for r, rec in zip(reqs, resp.receipts, strict=True):
        t = truth[payment_id_for(r.idempotency_key)]
        assert after[t.payment_id].state == t.state
        assert (rec.payment_id, rec.replayed) == (t.payment_id, True)
        assert rec.status == t.state, (r.idempotency_key, rec.status, t.state)


# --------------------------------------------------------------------- a participant dies
async def first_pending_leg(url: str, timeout_s: float = 20.0) -> None:
    """Return as soon as a PvP leg is pending on this ledger (a prepare batch has landed)."""
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + timeout_s
        while not await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM transfers WHERE state = 2 AND kind = 'pvp')"
        ):
            assert time.monotonic() < deadline, "no prepare batch reached the node"
            await asyncio.sleep(0.002)
    finally:
        await conn.close()


async def pay_quietly(br, reqs):  # type: ignore[no-untyped-def]
    """A batch whose answer may be lost: receipts, or None if the call itself failed."""
    try:
        resp = await br.CrossBorderPayBatch(
            bridge_pb2.CrossBorderPayBatchRequest(payments=reqs), timeout=30
        )
        return list(resp.receipts)
    except grpc.aio.AioRpcError:
        return None


def assert_receipts_tell_the_truth(reqs, receipts, truth) -> None:  # type: ignore[no-untyped-def]
    """What a client was told is what happened: SETTLED means posted everywhere, REJECTED none."""
    for r, rec in zip(reqs, receipts, strict=True):
        t = truth.get(payment_id_for(r.idempotency_key))
        if rec.status == SETTLED:
            assert t is not None and t.state == SETTLED, (rec, t)
        elif rec.status == REJECTED:
            assert t is None or t.state == REJECTED, (rec, t)


async def test_payee_node_killed_right_after_prepare_lands(corridor):
    """HK dies the moment the prepare batch is durable on it, before or after it answered: the
    coordinator either got its yes votes (commit; HK's legs wait, pending, until HK is back and
    asks) or not (abort; HK's orphan legs are voided when it asks after their timeout)."""
    pc = corridor
    await pc.start_all()
    await pc.seed()
    reqs = batch(pc, "a", 300)
    async with channel(pc.target("bridge")) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        call = asyncio.create_task(pay_quietly(br, reqs))
        await first_pending_leg(pc.urls["hk"])
        pc.kill("hk")
        receipts = await call
        await pc.start("hk")
    truth = await wait_settled(pc.urls, timeout_s=30)
    assert_all_or_nothing(truth)
    if receipts is not None:
        assert_receipts_tell_the_truth(reqs, receipts, truth)
    await assert_money_matches(pc, reqs, truth, {w: PAYER_FUNDS_MINOR for w in pc.wallets["CN"]})
    await assert_invariants(pc)


async def settles_again(pc: ProcessCorridor, br, sent: list, timeout_s: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Once the node is back (and the bridge has reconnected), new payments settle again."""
    deadline = time.monotonic() + timeout_s
    for k in range(10_000):
        reqs = [pc.payment(f"after-{k}", 1_000)]
        receipts = await pay_quietly(br, reqs)
        sent.append((reqs, receipts))
        if receipts and receipts[0].status == SETTLED:
            return
        assert time.monotonic() < deadline, receipts
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("victim", ["hk", pytest.param("cn", marks=pytest.mark.slow)])
async def test_participant_killed_mid_stream(corridor, victim):
    """A steady flow of batches; a node is SIGKILLed in the middle and restarted. Batches during
    the outage are refused or lose their answer; nothing is left half-settled."""
    pc = corridor
    await pc.start_all()
    await pc.seed()
    sent: list[tuple[list, list | None]] = []
    stop = asyncio.Event()

    async def stream(br, client: int) -> None:  # type: ignore[no-untyped-def]
        k = 0
        while not stop.is_set():
            reqs = [
                pc.payment(f"s{client}-{k}-{i}", 5_000 + i, src=k + i, dst=i) for i in range(25)
            ]
            sent.append((reqs, await pay_quietly(br, reqs)))
            k += 1

    async with channel(pc.target("bridge")) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        flows = [asyncio.create_task(stream(br, c)) for c in range(2)]
        await asyncio.sleep(1.0)
        pc.kill(victim)
        await asyncio.sleep(0.3)
        await pc.start(victim)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*flows)
        await settles_again(pc, br, sent)
    truth = await wait_settled(pc.urls, timeout_s=30)
    assert_all_or_nothing(truth)
    reasons = {t.reason for t in truth.values() if t.state == REJECTED}
    assert reasons == {f"LEDGER_UNAVAILABLE:{victim.upper()}"}, reasons  # the outage was seen
    every = [r for reqs, _ in sent for r in reqs]
    for reqs, receipts in sent:
        if receipts is not None:
            assert_receipts_tell_the_truth(reqs, receipts, truth)
    await assert_money_matches(pc, every, truth, {w: PAYER_FUNDS_MINOR for w in pc.wallets["CN"]})
    await assert_invariants(pc)
    assert len(await read_truth(pc.urls)) == len(truth)
