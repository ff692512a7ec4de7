"""The Vouchers gRPC service over real gRPC (port 0) and a real PostgreSQL ledger."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from corridor.clock import VirtualClock
from corridor.config import ServiceSettings
from corridor.errors import error_details
from corridor.server import channel
from corridor.v1 import common_pb2, vouchers_pb2_grpc
from corridor.v1 import vouchers_pb2 as pb
from services.vouchers.invariants import check_voucher_invariants
from services.vouchers.server import create_server
from services.vouchers.service import at_us
from tests.vouchers.helpers import BOL_HASH, T0

EXPIRES = at_us(T0 + dt.timedelta(days=30))
NOW = at_us(T0)


@pytest.fixture
async def stub(fresh_db: str, clock: VirtualClock) -> AsyncIterator[Any]:
    settings = ServiceSettings(name="vouchers", database_url=fresh_db)
    running, service = await create_server(settings, clock=clock)
    try:
        async with channel(f"127.0.0.1:{running.port}") as ch:
            yield vouchers_pb2_grpc.VouchersStub(ch)
    finally:
        await running.stop(0.5)
        await service.close()
    assert await check_voucher_invariants(fresh_db) == []


async def deposit(stub: Any, funder: str, amount: int = 10_000_000) -> None:
    await stub.Deposit(
        pb.VoucherDepositRequest(
            idempotency_key="d1", funder_id=funder, amount_minor=amount, currency="CNY"
        )
    )


def consumption(program_id: str = "sz-1", **program: Any) -> Any:
    fields = {"funder_id": "gov-sz", "amount_minor": 100_000, "currency": "CNY", **program}
    return pb.IssueProgramRequest(
        idempotency_key=f"issue-{program_id}",
        template=pb.VOUCHER_TEMPLATE_CONSUMPTION_VOUCHER,
        program=pb.VoucherProgram(program_id=program_id, expires_at_us=EXPIRES, **fields),
        consumption_voucher=pb.ConsumptionVoucherParams(merchant_categories=["5411"], regions=["4403"]),
        business_at_us=NOW,
    )  # fmt: skip


def redeem(
    key: str, program_id: str = "sz-1", category: str = "5411", amount: int = 3_000, **more: Any
) -> Any:
    return pb.RedeemVoucherRequest(
        idempotency_key=key,
        program_id=program_id,
        amount_minor=amount,
        currency="CNY",
        merchant=pb.VoucherMerchant(id="m-001", category=category, region="440303"),
        payer=pb.VoucherParty(id="w-alice", tier=3),
        payee=more.pop("payee", pb.VoucherParty(id="m-001", tier=2)),
        business_at_us=NOW,
        **more,
    )


async def rpc_error(call: Any) -> Any:
    with pytest.raises(grpc.RpcError) as caught:
        await call
    return error_details(caught.value)


async def test_issue_redeem_and_refusal_naming_the_clause(stub: Any) -> None:
    await deposit(stub, "gov-sz")
    view = await stub.IssueProgram(consumption())
    assert view.status == pb.VOUCHER_PROGRAM_STATUS_ACTIVE and view.outstanding_minor == 100_000
    names = [(c.name, c.builtin) for c in view.program.clauses]
    assert ("merchant_category", False) in names and ("not_expired", True) in names
    result = await stub.Redeem(redeem("r1"))
    assert result.settled and result.remaining_minor == 97_000
    again = await stub.Redeem(redeem("r1"))
    assert again.replayed and again.seq == result.seq
    error = await rpc_error(stub.Redeem(redeem("r2", category="7995")))
    assert (error.code, error.reason, error.field) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "VOUCHER_CLAUSE_FALSE",
        "merchant_category",
    )
    assert error.metadata["clause"] == "merchant_category"
    error = await rpc_error(stub.Redeem(redeem("r3", program_id="missing")))
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "PROGRAM_NOT_FOUND")


async def test_ill_typed_condition_reports_field_and_position(stub: Any) -> None:
    await deposit(stub, "gov-sz")
    request = pb.IssueProgramRequest(
        idempotency_key="k",
        template=pb.VOUCHER_TEMPLATE_CUSTOM,
        program=pb.VoucherProgram(
            program_id="c-1", funder_id="gov-sz", amount_minor=1_000, currency="CNY", expires_at_us=EXPIRES,
            clauses=[
                pb.VoucherClause(name="ok", cel="amount > 0"),
                pb.VoucherClause(name="bad", cel='amount > 0 &&\n  merchant.category + 1 == "x"'),
            ],
        ),
        business_at_us=NOW,
    )  # fmt: skip
    error = await rpc_error(stub.IssueProgram(request))
    assert (error.code, error.reason, error.field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_CONDITION",
        "program.clauses[1].cel",
    )
    assert (error.metadata["line"], error.metadata["column"]) == ("2", "21")
    assert "no operator + for string and int" in error.message
    error = await rpc_error(stub.GetProgram(pb.GetVoucherProgramRequest(program_id="c-1")))
    assert error.code == grpc.StatusCode.NOT_FOUND


async def test_template_parameter_errors_name_the_field(stub: Any) -> None:
    request = consumption()
    del request.consumption_voucher.merchant_categories[:]
    error = await rpc_error(stub.IssueProgram(request))
    assert (error.code, error.field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "consumption_voucher.merchant_categories",
    )
    error = await rpc_error(stub.IssueProgram(consumption(amount_minor=-5)))
    assert error.field == "program.amount_minor"
    error = await rpc_error(stub.IssueProgram(consumption()))
    assert (error.code, error.reason, error.field) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "FUNDER_HAS_NO_DEPOSIT",
        "program.funder_id",
    )


async def test_redeem_batch_results_in_order(stub: Any) -> None:
    await deposit(stub, "gov-sz")
    await stub.IssueProgram(consumption())
    response = await stub.RedeemBatch(
        pb.RedeemVoucherBatchRequest(
            redemptions=[
                redeem("a"),
                redeem("b", category="0000"),
                redeem("c", amount=10**9),
                redeem("a"),
            ]
        )
    )
    assert [(r.settled, r.failed_clause, r.replayed) for r in response.results] == [
        (True, "", False),
        (False, "merchant_category", False),
        (False, "funds_remaining", False),
        (True, "", True),
    ]
    bad = pb.RedeemVoucherBatchRequest(redemptions=[redeem("x"), redeem("y", amount=0)])
    error = await rpc_error(stub.RedeemBatch(bad))
    assert (error.code, error.field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "redemptions[1].amount_minor",
    )
    error = await rpc_error(
        stub.RedeemBatch(
            pb.RedeemVoucherBatchRequest(redemptions=[redeem("z", evidence={"A": "1"})])
        )
    )
    assert error.field == "evidence['A']"


async def test_expiry_clawback_and_audit_trail(stub: Any) -> None:
    await deposit(stub, "agency")
    subsidy = pb.IssueProgramRequest(
        idempotency_key="s",
        template=pb.VOUCHER_TEMPLATE_SUBSIDY,
        program=pb.VoucherProgram(
            program_id="sub-1", funder_id="agency", amount_minor=20_000, currency="CNY",
            expires_at_us=EXPIRES, holders=["w-alice"], per_payment_cap_minor=5_000,
        ),
        subsidy=pb.SubsidyParams(),
        business_at_us=NOW,
    )  # fmt: skip
    view = await stub.IssueProgram(subsidy)
    assert view.program.clawback_authority == "agency"
    await stub.Redeem(redeem("p1", program_id="sub-1", amount=5_000))
    error = await rpc_error(stub.Redeem(redeem("p2", program_id="sub-1", amount=6_000)))
    assert error.field == "per_payment_cap"
    mallory = (("x-corridor-caller", "authority:mallory"),)
    claw = pb.ClawbackRequest(
        idempotency_key="c1", program_id="sub-1", authority_id="agency", amount_minor=1_000
    )
    error = await rpc_error(stub.Clawback(claw, metadata=mallory))
    assert (error.code, error.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "CALLER_IS_NOT_AUTHORITY",
    )
    error = await rpc_error(
        stub.Clawback(
            pb.ClawbackRequest(idempotency_key="c1", program_id="sub-1"), metadata=mallory
        )
    )
    assert (error.code, error.reason) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "NOT_CLAWBACK_AUTHORITY",
    )
    moved = await stub.Clawback(claw, metadata=(("x-corridor-caller", "authority:agency"),))
    assert (moved.amount_minor, moved.outstanding_minor) == (1_000, 14_000)
    expired = await stub.ExpireDue(pb.ExpireDueRequest(idempotency_key="e", as_of_at_us=EXPIRES))
    assert [(r.program_id, r.amount_minor) for r in expired.refunds] == [("sub-1", 14_000)]
    view = await stub.GetProgram(pb.GetVoucherProgramRequest(program_id="sub-1"))
    assert view.status == pb.VOUCHER_PROGRAM_STATUS_EXPIRED
    assert (view.redeemed_minor, view.clawed_back_minor, view.refunded_minor, view.outstanding_minor) == (
        5_000, 1_000, 14_000, 0,
    )  # fmt: skip
    page = await stub.ListEvaluations(
        pb.ListEvaluationsRequest(program_id="sub-1", page=common_pb2.PageRequest(page_size=1))
    )
    assert [(e.idempotency_key, e.allowed, e.settled) for e in page.evaluations] == [
        ("p1", True, True)
    ]
    rest = await stub.ListEvaluations(
        pb.ListEvaluationsRequest(
            program_id="sub-1",
            page=common_pb2.PageRequest(page_size=10, page_token=page.page.next_page_token),
        )
    )
    assert [(e.idempotency_key, e.failed_clause) for e in rest.evaluations] == [
        ("p2", "per_payment_cap")
    ]
    assert json.loads(rest.evaluations[0].inputs_json)["amount"] == 6_000
    assert rest.page.next_page_token == ""


async def test_trade_finance_over_grpc_feeds_the_bridge(stub: Any) -> None:
    await deposit(stub, "importer")
    request = pb.IssueProgramRequest(
        idempotency_key="lc",
        template=pb.VOUCHER_TEMPLATE_TRADE_FINANCE,
        program=pb.VoucherProgram(
            program_id="lc-1", funder_id="importer", amount_minor=500_000, currency="CNY",
            expires_at_us=EXPIRES, payout_currency="HKD",
        ),
        trade_finance=pb.TradeFinanceParams(exporter_id="exporter", bill_of_lading_hash=BOL_HASH),
        business_at_us=NOW,
    )  # fmt: skip
    view = await stub.IssueProgram(request)
    assert view.program.settlement == pb.VOUCHER_ROUTE_CROSS_BORDER
    exporter = pb.VoucherParty(id="exporter", tier=1)
    error = await rpc_error(
        stub.Redeem(redeem("x1", program_id="lc-1", amount=500_000, payee=exporter))
    )
    assert error.field == "bill_of_lading"
    paid = await stub.Redeem(
        redeem(
            "x2",
            program_id="lc-1",
            amount=500_000,
            payee=exporter,
            evidence={"bill_of_lading": BOL_HASH},
        )
    )
    assert paid.settled
    feed = await stub.ListSettlements(pb.ListVoucherSettlementsRequest())
    assert [(s.party_id, s.route, s.payout_currency, s.amount_minor) for s in feed.settlements] == [
        ("exporter", pb.VOUCHER_ROUTE_CROSS_BORDER, "HKD", 500_000)
    ]


async def test_health_is_serving(fresh_db: str) -> None:
    running, service = await create_server(ServiceSettings(name="vouchers", database_url=fresh_db))
    try:
        async with channel(f"127.0.0.1:{running.port}") as ch:
            health = health_pb2_grpc.HealthStub(ch)
            reply = await health.Check(
                health_pb2.HealthCheckRequest(service="corridor.v1.Vouchers")
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await running.stop(0.5)
        await service.close()
