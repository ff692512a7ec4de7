"""Posting feeds end to end: every ledger's outbox mirrored into supervision exactly once, across
restarts of the supervision service and of a node, while payments keep flowing."""

from __future__ import annotations

import asyncio
import contextlib
import itertools

import grpc
import pytest

from corridor.server import channel
from corridor.v1 import bridge_pb2_grpc, node_pb2_grpc, supervision_pb2
from tests.bridge.corridor_fixture import start_corridor

from .live import (
    as_caller,
    eventually,
    ledger_rows,
    mirrored_rows,
    pay_request,
    restart_node,
    start_supervision,
    supervision_stub,
    xborder,
)


@pytest.fixture
async def corridor(make_db):
    c = await start_corridor(make_db, wallets_per_node=3)
    yield c
    await c.close()


async def _keep_paying(c, stop: asyncio.Event, cn_up: asyncio.Event) -> int:
    """Domestic payments on both nodes and cross-border ones, until told to stop. Refusals and
    outages are expected (a node is restarted underneath); every attempt has a fresh key."""
    keys = itertools.count()
    done = 0
    while not stop.is_set():
        k = next(keys)
        for code, cur in (("CN", "CNY"), ("HK", "HKD")):
            if code == "CN" and not cn_up.is_set():
                continue
            w = c.wallets[code]
            with contextlib.suppress(grpc.aio.AioRpcError):
                async with channel(c.target(code)) as ch:
                    await node_pb2_grpc.WalletsStub(ch).Pay(
                        pay_request(f"k{k}", w[k % 3], w[(k + 1) % 3], 100 + k, cur), timeout=2
                    )
                    done += 1
        if k % 4 == 0 and cn_up.is_set():
            with contextlib.suppress(grpc.aio.AioRpcError):
                async with channel(c.bridge_target) as ch:
                    await bridge_pb2_grpc.BridgeStub(ch).CrossBorderPay(
                        xborder(f"x{k}", c, c.wallets["CN"][k % 3], c.wallets["HK"][0], 5_000),
                        timeout=5,
                    )
                    done += 1
        await asyncio.sleep(0.01)
    return done


async def test_feeds_resume_after_restarting_either_side_without_gaps_or_duplicates(
    corridor, make_db
):
    c = corridor
    url = await make_db()
    stop, cn_up = asyncio.Event(), asyncio.Event()
    cn_up.set()
    payer = asyncio.create_task(_keep_paying(c, stop, cn_up))
    try:
        first = await start_supervision(c, url)
        await eventually(lambda: _ingested(first, 40))
        await first.stop()  # mid-stream, payments still flowing

        second = await start_supervision(c, url)
        await eventually(lambda: _ingested(second, 20))
        cn_up.clear()
        await asyncio.sleep(0.05)
        await restart_node(c, "CN")  # the CN feed breaks under supervision
        cn_up.set()
        await eventually(lambda: _reconnected(second, "CN"))
        await asyncio.sleep(0.5)
    finally:
        stop.set()
        paid = await payer
    assert paid > 40

    async def mirrored() -> bool:
        for code in ("cn", "hk", "bridge"):
            if await mirrored_rows(url, code.upper()) != await ledger_rows(c.urls[code]):
                return False
        return True

    await eventually(mirrored, timeout_s=15)
    for code in ("cn", "hk", "bridge"):
        rows = await mirrored_rows(url, code.upper())
        assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1))  # no gap, no duplicate
    # Each posting the second instance ingested was judged by its detectors exactly once.
    await second.service.wait_caught_up(10)
    assert second.service.postings_detected == second.service.postings_ingested > 0
    async with channel(second.target) as ch:
        status = await supervision_stub(ch).GetFeedStatus(
            supervision_pb2.GetFeedStatusRequest(), metadata=as_caller("supervisor:CN")
        )
    by_ledger = {f.ledger: f for f in status.feeds}
    assert set(by_ledger) == {"CN", "HK", "BRIDGE"}
    for code in ("cn", "hk", "bridge"):
        f = by_ledger[code.upper()]
        assert f.connected and f.caught_up
        assert f.stored_seq == f.detected_seq == len(await ledger_rows(c.urls[code]))
    assert by_ledger["CN"].reconnects >= 1
    await second.stop()


async def _ingested(live, n: int) -> bool:
    return live.service.postings_ingested >= n


async def _reconnected(live, ledger: str) -> bool:
    f = live.service.feeds[ledger]
    return f.connected and f.reconnects >= 1
