"""corridor.v1.StablecoinRail over real gRPC (port 0): every RPC, idempotency, rich errors,
health and reflection."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from corridor.config import ServiceSettings
from corridor.errors import error_details
from corridor.server import channel
from corridor.v1 import stablecoin_pb2 as pb
from corridor.v1 import stablecoin_pb2_grpc
from services.stablecoin.server import create_server

HOUR = 3600.0


@pytest.fixture
async def stub() -> AsyncIterator[Any]:
    settings = ServiceSettings(name="stablecoin", extra={"preset": "svb-2023", "seed": "3"})
    running, _service = await create_server(settings)
    try:
        async with channel(f"127.0.0.1:{running.port}") as ch:
            health = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest())
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            rail = stablecoin_pb2_grpc.StablecoinRailStub(ch)
            rail.channel = ch  # for the reflection test
            yield rail
    finally:
        await running.stop(0.5)


async def _error(call: Any) -> Any:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return error_details(info.value)


async def test_health_and_reflection_list_the_service(stub: Any) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    refl = reflection_pb2_grpc.ServerReflectionStub(stub.channel)

    async def one() -> AsyncIterator[Any]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    async for response in refl.ServerReflectionInfo(one()):
        names = {s.name for s in response.list_services_response.service}
        assert "corridor.v1.StablecoinRail" in names
        break


async def test_advance_market_transfer_and_summary(stub: Any) -> None:
    market = (await stub.Advance(pb.StablecoinAdvanceRequest(to_s=36 * HOUR))).market
    assert market.now_s == 36 * HOUR and market.price < 0.95  # Saturday of the SVB weekend
    assert {v.name for v in market.venues} >= {"curve-3pool"}
    assert {c.name for c in market.chains} == {"ethereum", "tron"}
    assert not market.bank_open and market.redemption_queue_minor > 0

    request = pb.StablecoinSubmitTransferRequest(
        idempotency_key="t-1", amount_minor=1_000_000, corridor="HK-AE",
        kyc_route=pb.STABLECOIN_KYC_ROUTE_REGULATED,
    )  # fmt: skip
    receipt = (await stub.SubmitTransfer(request)).receipt
    assert receipt.corridor == "HK-AE" and receipt.currency == "USD"
    assert receipt.status == pb.STABLECOIN_TRANSFER_STATUS_SETTLED
    assert receipt.total_cost_minor == (receipt.on_ramp_fee_minor + receipt.capital_control_minor
                                        + receipt.network_fee_minor + receipt.off_ramp_fee_minor)  # fmt: skip
    assert receipt.HasField("settle_s") and receipt.settle_s > 0
    again = (await stub.SubmitTransfer(request)).receipt
    assert again == receipt  # the retry returns the first receipt, not a second transfer

    reused = pb.StablecoinSubmitTransferRequest(
        idempotency_key="t-1", amount_minor=5, corridor="HK-AE"
    )
    err = await _error(stub.SubmitTransfer(reused))
    assert err.code == grpc.StatusCode.ALREADY_EXISTS and err.reason == "IDEMPOTENCY_KEY_REUSED"

    await stub.Advance(pb.StablecoinAdvanceRequest(to_s=7 * 24 * HOUR))
    summary = await stub.GetSummary(pb.StablecoinGetSummaryRequest())
    assert summary.spec == "svb-2023" and summary.seed == 3
    assert [row.ok for row in summary.calibration] == [True, True, True]
    assert json.loads(summary.summary_json)["audit"]["token_gap_minor"] == 0


async def test_mint_and_redeem_in_bank_hours(stub: Any) -> None:
    closed = await _error(stub.Mint(pb.StablecoinMintRequest(
        idempotency_key="m-0", owner="mm-1", amount_minor=50_000_000, at_s=2 * HOUR)))  # fmt: skip
    assert closed.code == grpc.StatusCode.FAILED_PRECONDITION and closed.reason == "MINT_CLOSED"

    mint = pb.StablecoinMintRequest(idempotency_key="m-1", owner="mm-1", amount_minor=50_000_000,
                                    at_s=15 * HOUR)  # Friday 10:00 New York  # fmt: skip
    minted = await stub.Mint(mint)
    assert minted.tokens_minor == 50_000_000 and minted.balance_minor == 50_000_000
    assert (await stub.Mint(mint)).balance_minor == 50_000_000  # a retry mints nothing more

    too_much = await _error(stub.Redeem(pb.StablecoinRedeemRequest(
        idempotency_key="r-0", owner="mm-1", amount_minor=60_000_000)))  # fmt: skip
    assert too_much.reason == "INSUFFICIENT_TOKENS" and too_much.field == "amount_minor"

    redeemed = await stub.Redeem(pb.StablecoinRedeemRequest(
        idempotency_key="r-1", owner="mm-1", amount_minor=20_000_000))  # fmt: skip
    assert redeemed.balance_minor == 30_000_000 and redeemed.expected_wait_days < 1.0
    await stub.Advance(pb.StablecoinAdvanceRequest(to_s=16 * HOUR))
    paid = await stub.Redeem(pb.StablecoinRedeemRequest(
        idempotency_key="r-2", owner="mm-1", amount_minor=1_000_000))  # fmt: skip
    assert paid.paid_minor == 20_000_000  # the first request was paid at par in bank hours


@pytest.mark.parametrize(
    ("request_", "code", "field", "reason"),
    [
        (pb.StablecoinSubmitTransferRequest(idempotency_key="x", amount_minor=0, corridor="HK-CN"),
         grpc.StatusCode.INVALID_ARGUMENT, "amount_minor", "INVALID_FIELD"),
        (pb.StablecoinSubmitTransferRequest(idempotency_key="x", amount_minor=10, corridor="HK"),
         grpc.StatusCode.INVALID_ARGUMENT, "corridor", "INVALID_FIELD"),
        (pb.StablecoinSubmitTransferRequest(idempotency_key="x", amount_minor=10, corridor="HK-CN",
                                            chain="solana"),
         grpc.StatusCode.INVALID_ARGUMENT, "chain", "INVALID_FIELD"),
        (pb.StablecoinSubmitTransferRequest(amount_minor=10, corridor="HK-CN"),
         grpc.StatusCode.INVALID_ARGUMENT, "idempotency_key", "INVALID_FIELD"),
    ],
)  # fmt: skip
async def test_bad_requests_name_the_field(stub: Any, request_, code, field, reason) -> None:
    err = await _error(stub.SubmitTransfer(request_))
    assert (err.code, err.field, err.reason) == (code, field, reason)


async def test_the_clock_never_runs_backwards(stub: Any) -> None:
    await stub.Advance(pb.StablecoinAdvanceRequest(to_s=10 * HOUR))
    err = await _error(stub.Advance(pb.StablecoinAdvanceRequest(to_s=5 * HOUR)))
    assert err.code == grpc.StatusCode.FAILED_PRECONDITION
    assert err.reason == "BUSINESS_TIME_IN_PAST" and err.field == "to_s"
