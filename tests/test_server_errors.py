"""How a service answers what goes wrong inside a handler: a lost database is UNAVAILABLE with a
retry hint (clients retry the same idempotent request), a bug is INTERNAL without its traceback."""

from __future__ import annotations

import asyncpg
import grpc
import pytest

from corridor.errors import error_details
from corridor.server import channel, start_server
from corridor.v1 import common_pb2, ledger_pb2_grpc


class BrokenLedger(ledger_pb2_grpc.LedgerServicer):
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    async def Echo(self, request, context):  # type: ignore[no-untyped-def]
        raise self.exc


async def _echo_failure(exc: Exception) -> grpc.aio.AioRpcError:
    """What a client sees when the server's handler raises `exc`."""
    running = await start_server(
        [(ledger_pb2_grpc.add_LedgerServicer_to_server, BrokenLedger(exc), "corridor.v1.Ledger")]
    )
    try:
        async with channel(f"127.0.0.1:{running.port}") as ch:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await ledger_pb2_grpc.LedgerStub(ch).Echo(common_pb2.EchoRequest(), timeout=5)
        return info.value
    finally:
        await running.stop(0)


@pytest.mark.parametrize(
    "exc",
    [asyncpg.CannotConnectNowError("the database system is starting up"),
     ConnectionRefusedError(111, "Connect call failed"),
     asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")],
)  # fmt: skip
async def test_a_lost_database_is_unavailable_with_a_retry_hint(exc: Exception) -> None:
    err = await _echo_failure(exc)
    assert err.code() == grpc.StatusCode.UNAVAILABLE, err
    details = error_details(err)
    assert details.reason == "DATABASE_UNAVAILABLE" and details.retry_after_s == 1.0


async def test_a_bug_is_internal_and_keeps_its_traceback_to_the_log() -> None:
    err = await _echo_failure(KeyError("x"))
    assert err.code() == grpc.StatusCode.INTERNAL
    assert "Traceback" not in (err.details() or "")


async def test_a_service_this_one_needs_being_down_is_unavailable_too() -> None:
    # What the bridge saw when it asked a restarting node who operates a wallet.
    async with channel("127.0.0.1:1") as dead:
        with pytest.raises(grpc.aio.AioRpcError) as upstream:
            await ledger_pb2_grpc.LedgerStub(dead).Echo(common_pb2.EchoRequest(), timeout=2)
    err = await _echo_failure(upstream.value)
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert error_details(err).reason == "UPSTREAM_UNAVAILABLE"
