"""A participant ledger that cannot be reached, deterministically (in-process corridor, the HK
participant swapped for one that fails on purpose): the payment must end with a clear outcome,
the coordinator's log must never say more than the ledgers, and recovery must finish the rest."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

import bridge.invariants  # noqa: F401 - registers the cross-ledger checks
from bridge.pvp import PREPARING
from corridor import invariants
from corridor.server import channel
from corridor.v1 import bridge_pb2, bridge_pb2_grpc
from services.ledger.engine import TransferSpec
from tests.bridge.corridor_fixture import start_corridor
from tests.bridge.process_corridor import read_truth

SETTLED, REJECTED = 4, 5


class FlakyLedger:
    """Wraps a participant; refuses (like a dead node) prepares or posts while told to."""

    def __init__(self, inner, fail_prepare: bool = False, fail_resolve: bool = False) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.name = inner.name
        self.fail_prepare = fail_prepare
        self.fail_resolve = fail_resolve

    async def submit(self, specs: Sequence[TransferSpec]) -> list[int]:
        resolving = any(s.post_pending_id or s.void_pending_id for s in specs)
        if self.fail_resolve if resolving else self.fail_prepare:
            raise ConnectionError("node unreachable (test)")
        return await self.inner.submit(specs)


@pytest.fixture
async def corridor(make_db, monkeypatch):
    monkeypatch.setenv("CORRIDOR_PVP_TIMEOUT_S", "1")
    c = await start_corridor(make_db)
    yield c
    await c.close()


def flaky_hk(c, **kw) -> FlakyLedger:  # type: ignore[no-untyped-def]
    coord = c.platform.coordinator
    flaky = FlakyLedger(coord.participants["HK"], **kw)
    coord.participants["HK"] = flaky
    return flaky


def pay(c, key: str, amount: int = 100_000) -> bridge_pb2.CrossBorderPayRequest:  # type: ignore[no-untyped-def]
    return bridge_pb2.CrossBorderPayRequest(
        idempotency_key=key, payer_jurisdiction="CN", payer_wallet_id=c.wallets["CN"][0],
        payee_jurisdiction="HK", payee_wallet_id=c.wallets["HK"][0], amount_minor=amount,
        currency="CNY",
    )  # fmt: skip


async def all_ok(urls: dict[str, str]) -> None:
    bad = [x for x in await invariants.check_all(urls) if not x.ok]
    assert not bad, bad


async def test_unreachable_payee_ledger_rejects_with_a_clear_reason(corridor):
    c = corridor
    flaky_hk(c, fail_prepare=True)
    async with channel(c.bridge_target) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        resp = await br.CrossBorderPayBatch(
            bridge_pb2.CrossBorderPayBatchRequest(payments=[pay(c, "down-1"), pay(c, "down-2")])
        )
    assert [r.status for r in resp.receipts] == [REJECTED, REJECTED]
    assert {r.reason for r in resp.receipts} == {"LEDGER_UNAVAILABLE:HK"}
    truth = await read_truth(c.urls)
    for r in resp.receipts:
        assert truth[r.payment_id].state == REJECTED and truth[r.payment_id].none_posted
    await all_ok(c.urls)


async def test_log_never_says_settled_before_every_leg_is_posted(corridor):
    """The decision is COMMIT but HK cannot be reached for the post: the log must keep the payment
    COMMITTING (not SETTLED), and the next recovery pass must post HK's leg."""
    c = corridor
    flaky = flaky_hk(c, fail_resolve=True)
    async with channel(c.bridge_target) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        await br.CrossBorderPayBatch(bridge_pb2.CrossBorderPayBatchRequest(payments=[pay(c, "x")]))
    (t,) = [t for t in (await read_truth(c.urls)).values() if t.payment_id.startswith("xb-")]
    assert t.state != SETTLED or t.all_posted, f"log says SETTLED, legs are {t.leg_states}"
    flaky.fail_resolve = False
    await c.platform.coordinator.recover()
    (t,) = [t for t in (await read_truth(c.urls)).values() if t.payment_id.startswith("xb-")]
    assert t.state == SETTLED and t.all_posted
    await all_ok(c.urls)


async def test_periodic_recovery_finishes_an_orphaned_prepare(corridor):
    """A round that died after PREPARE (its process gone, the log says PREPARING) is aborted by the
    periodic pass, which only looks at payments older than a threshold (microseconds since the
    epoch: a bigint)."""
    c = corridor
    coord = c.platform.coordinator

    async def die(step: str) -> None:
        if step == "prepared":
            raise RuntimeError("coordinator died (test)")

    coord.fault_hook = die
    async with channel(c.bridge_target) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        with pytest.raises(Exception):  # noqa: B017 - the call fails with the round
            await br.CrossBorderPay(pay(c, "orphan"))
    coord.fault_hook = None
    (t,) = [t for t in (await read_truth(c.urls)).values() if t.payment_id.startswith("xb-")]
    assert t.state == PREPARING
    counts = await coord.recover(older_than_us=time.time_ns() // 1000 + 1)
    assert counts["aborted"] == 1
    (t,) = [t for t in (await read_truth(c.urls)).values() if t.payment_id.startswith("xb-")]
    assert t.state == REJECTED and t.none_posted
    await all_ok(c.urls)


async def test_retry_while_abort_is_unfinished_moves_nothing(corridor):
    """The coordinator died after PREPARE; recovery decided ABORT and voided CN and BRIDGE legs
    but HK was unreachable. The client retries the same key once HK is back: it must get the
    abort (or wait for it), never a commit of the one leg left pending."""
    c = corridor
    coord = c.platform.coordinator

    async def die(step: str) -> None:
        if step == "prepared":
            raise RuntimeError("coordinator died (test)")

    coord.fault_hook = die
    async with channel(c.bridge_target) as ch:
        br = bridge_pb2_grpc.BridgeStub(ch)
        with pytest.raises(Exception):  # noqa: B017 - the call fails with the round
            await br.CrossBorderPay(pay(c, "half"))
        coord.fault_hook = None
        flaky = flaky_hk(c, fail_resolve=True)
        await coord.recover(older_than_us=time.time_ns() // 1000 + 1)
        flaky.fail_resolve = False
        try:
            await br.CrossBorderPay(pay(c, "half"))
        except Exception:  # noqa: BLE001, S110 - a refusal is a fine answer; the ledgers decide
            pass
    await coord.recover()
    await all_ok(c.urls)
