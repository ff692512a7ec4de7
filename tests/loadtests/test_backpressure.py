"""Overload is shed with RESOURCE_EXHAUSTED + RetryInfo; accepted work is never dropped.

A bridge whose PvP queue holds at most PVP_MAX_QUEUED payments (CORRIDOR_PVP_MAX_QUEUED) gets a
burst of concurrent batches. Some are shed; each shed answer carries RetryInfo > 0. Then the
ledgers are read: every payment answered SETTLED is settled in the coordinator's log with its legs
posted on both nodes, and no payment of a shed batch left any trace. The open-loop generator,
overloading the same bridge, backs off per RetryInfo instead of hammering it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import grpc
import pytest

from corridor.errors import error_details
from corridor.server import channel
from corridor.v1 import bridge_pb2, bridge_pb2_grpc
from loadtests.benchfleet import bench_corridor
from loadtests.contagion import audit_ledgers
from loadtests.openloop import Ledgerbook, OpenLoopGenerator, Phase
from loadtests.world import World, prepare_world

PVP_MAX_QUEUED = 10
BATCH = 10
BURST = 40


@pytest.fixture(scope="module")
def tight_bridge(
    pg_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, dict[str, str]]]:
    """CN, HK and a bridge whose PvP queue holds PVP_MAX_QUEUED payments (a corridor of its own:
    starting three services is quicker than restarting the shared bridge twice)."""
    state = tmp_path_factory.mktemp("backpressure")
    env = {"CORRIDOR_PVP_MAX_QUEUED": str(PVP_MAX_QUEUED)}
    with bench_corridor(
        state, pg_server_url, f"bp{os.getpid()}", ["cn", "hk", "bridge"], env
    ) as started:
        _, targets, urls = started
        yield asyncio.run(prepare_world(targets, "bp", wallets_cap=100)), urls


def _payments(world: World, burst: int, size: int) -> list[list[bridge_pb2.CrossBorderPayRequest]]:
    cn, hk = world.nodes["CN"], world.nodes["HK"]
    return [
        [
            bridge_pb2.CrossBorderPayRequest(
                idempotency_key=f"burst-{b}-{i}",
                payer_jurisdiction="CN",
                payer_wallet_id=cn.wallets[(b + i) % len(cn.wallets)],
                payee_jurisdiction="HK",
                payee_wallet_id=hk.wallets[i % len(hk.wallets)],
                amount_minor=1_000_00 + i,
                currency="CNY",
            )
            for i in range(size)
        ]
        for b in range(burst)
    ]


async def test_a_burst_is_shed_with_retry_info_and_nothing_accepted_is_lost(
    tight_bridge: tuple[World, dict[str, str]],
) -> None:
    world, urls = tight_bridge
    assert world.bridge is not None
    book = Ledgerbook()
    shed_delays: list[float] = []
    reasons: set[str] = set()
    async with channel(world.bridge) as ch:
        stub = bridge_pb2_grpc.BridgeStub(ch)

        async def send(batch: list[bridge_pb2.CrossBorderPayRequest]) -> None:
            try:
                resp = await stub.CrossBorderPayBatch(
                    bridge_pb2.CrossBorderPayBatchRequest(payments=batch), timeout=60
                )
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, exc
                d = error_details(exc)
                shed_delays.append(d.retry_after_s)
                reasons.add(d.reason)
                book.rejected_keys.extend(p.idempotency_key for p in batch)
                return
            for rec in resp.receipts:
                assert rec.status == bridge_pb2.PAYMENT_STATUS_SETTLED, rec
                book.acked.append(rec.payment_id)

        await asyncio.gather(*(send(b) for b in _payments(world, BURST, BATCH)))
    assert shed_delays, "no batch was shed: the queue bound did not bite"
    assert book.acked, "every batch was shed"
    assert all(d > 0 for d in shed_delays), shed_delays
    assert reasons <= {"PVP_QUEUE_FULL"}, reasons
    assert len(book.acked) + len(book.rejected_keys) == BURST * BATCH
    audit = await audit_ledgers(book, urls, world)
    assert audit == {"lost": 0, "rejected_present": 0}


async def test_the_open_loop_client_backs_off_and_the_audit_balances(
    tight_bridge: tuple[World, dict[str, str]],
) -> None:
    world, urls = tight_bridge
    gen = OpenLoopGenerator(world, seed=11, gateways=4, tick_s=0.02, run_tag="bp-open")
    try:
        st = await gen.run(Phase("overload", rate_tps=3_000, seconds=2.0))
    finally:
        await gen.close()
    assert st.rejected > 0 and st.retry_after_s and min(st.retry_after_s) > 0
    assert st.deferred > 0, "the gateways never held back after being told to retry later"
    assert st.error_count == 0, (st.errors, st.refused)
    assert st.offered == st.settled + st.rejected + st.deferred
    audit = await audit_ledgers(gen.book, urls, world)
    assert audit == {"lost": 0, "rejected_present": 0}
