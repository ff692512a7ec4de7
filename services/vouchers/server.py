"""gRPC front of the vouchers service (corridor.v1.Vouchers).

`create_server(settings)` -> (RunningServer, VoucherService); `main()` adds signal handling only.
The servicer converts messages to the domain (`service.py`) and back; errors are raised as
`CorridorError` and mapped once by the shared interceptor. A refused redemption is
FAILED_PRECONDITION with reason VOUCHER_CLAUSE_FALSE / VOUCHER_CLAUSE_ERROR / PROGRAM_CLOSED and
the failing clause's name as the field (PreconditionFailure.subject) and in ErrorInfo metadata.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import os
from typing import Any

from corridor import pg, telemetry
from corridor.clock import WallClock
from corridor.config import SERVICE_PORTS, ServiceSettings
from corridor.errors import CorridorError, invalid, not_found, permission_denied, precondition
from corridor.server import (
    RunningServer,
    channel,
    current_caller,
    serve_until_signalled,
    start_server,
)
from corridor.v1 import bridge_pb2_grpc, common_pb2, vouchers_pb2, vouchers_pb2_grpc
from services.ledger.engine import C
from services.ledger.servicer import page_cursor, page_size
from services.vouchers import templates
from services.vouchers.conditions import Clause, Merchant, Party, RedemptionFacts
from services.vouchers.program import (
    SETTLEMENT_CROSS_BORDER,
    SETTLEMENT_DOMESTIC,
    ProgramError,
    VoucherProgram,
)
from services.vouchers.relay import BridgeRelay
from services.vouchers.service import (
    EvaluationRecord,
    ProgramView,
    Redemption,
    RedemptionOutcome,
    SettlementInstruction,
    VoucherService,
    at_us,
    from_us,
)

log = logging.getLogger("corridor.vouchers")
pb = vouchers_pb2

SERVICE_NAME = "corridor.v1.Vouchers"
_STATUS = {
    "issuing": pb.VOUCHER_PROGRAM_STATUS_ISSUING,
    "active": pb.VOUCHER_PROGRAM_STATUS_ACTIVE,
    "rejected": pb.VOUCHER_PROGRAM_STATUS_REJECTED,
    "expired": pb.VOUCHER_PROGRAM_STATUS_EXPIRED,
    "clawed_back": pb.VOUCHER_PROGRAM_STATUS_CLAWED_BACK,
}
_ROUTE = {
    SETTLEMENT_DOMESTIC: pb.VOUCHER_ROUTE_DOMESTIC,
    SETTLEMENT_CROSS_BORDER: pb.VOUCHER_ROUTE_CROSS_BORDER,
}
_ROUTE_NAME = {v: k for k, v in _ROUTE.items()}
_TEMPLATE = {
    "custom": pb.VOUCHER_TEMPLATE_CUSTOM,
    "consumption_voucher": pb.VOUCHER_TEMPLATE_CONSUMPTION_VOUCHER,
    "prepaid_escrow": pb.VOUCHER_TEMPLATE_PREPAID_ESCROW,
    "subsidy": pb.VOUCHER_TEMPLATE_SUBSIDY,
    "trade_finance": pb.VOUCHER_TEMPLATE_TRADE_FINANCE,
}
_REFUSAL_REASON = {
    "clause_false": "VOUCHER_CLAUSE_FALSE",
    "evaluation_error": "VOUCHER_CLAUSE_ERROR",
    "program_closed": "PROGRAM_CLOSED",
}
_PROGRAM_FIELDS = {f.name for f in dataclasses.fields(VoucherProgram)}
# Domain field names that differ from the message's.
_RENAMED = {"expires_at": "expires_at_us", "business_at": "business_at_us"}


# --- messages -> domain -----------------------------------------------------------------------


def _time(micros: int, field_name: str) -> dt.datetime:
    try:
        return from_us(micros)
    except OverflowError:
        raise invalid(field_name, "out of range") from None


def program_from_pb(request: Any) -> VoucherProgram:
    """The program an IssueProgramRequest describes (a template's, or the custom one given)."""
    p = request.program
    common: dict[str, Any] = {
        "program_id": p.program_id,
        "expires_at": _time(p.expires_at_us, "program.expires_at_us"),
        "currency": p.currency or "CNY",
    }
    template = request.template or pb.VOUCHER_TEMPLATE_CUSTOM
    params = request.WhichOneof("params") or ""
    expected = {v: k for k, v in _TEMPLATE.items()}.get(template, "")
    if template != pb.VOUCHER_TEMPLATE_CUSTOM and params != expected:
        raise invalid(
            expected or "template", f"the {expected or 'chosen'} template needs its parameters"
        )
    try:
        if template == pb.VOUCHER_TEMPLATE_CUSTOM:
            return _custom(p, common)
        return _from_template(request, p, common, params)
    except ProgramError as exc:
        raise _field_error(exc, params) from exc


def _custom(p: Any, common: dict[str, Any]) -> VoucherProgram:
    route = _ROUTE_NAME.get(p.settlement, SETTLEMENT_DOMESTIC)
    return VoucherProgram(
        **common,
        funder_id=p.funder_id,
        amount_minor=p.amount_minor,
        refund_to=p.refund_to,
        clauses=tuple(Clause(c.name, c.cel) for c in p.clauses),
        holders=tuple(p.holders),
        beneficiaries=tuple(p.beneficiaries),
        per_payment_cap_minor=p.per_payment_cap_minor,
        cumulative_cap_minor=p.cumulative_cap_minor,
        clawback_authority=p.clawback_authority,
        settlement=route,
        payout_currency=p.payout_currency,
        time_zone=p.time_zone or "Asia/Shanghai",
        purpose=p.purpose,
    )


def _from_template(request: Any, p: Any, common: dict[str, Any], params: str) -> VoucherProgram:
    if params == "consumption_voucher":
        c = request.consumption_voucher
        hours = (c.opening_hour_start, c.opening_hour_end) if c.opening_hour_end else None
        program = templates.consumption_voucher(
            **common, funder_id=p.funder_id, amount_minor=p.amount_minor,
            merchant_categories=list(c.merchant_categories), regions=list(c.regions),
            holders=list(p.holders), per_payment_cap_minor=p.per_payment_cap_minor,
            opening_hours=hours,
        )  # fmt: skip
    elif params == "prepaid_escrow":
        e = request.prepaid_escrow
        program = templates.prepaid_escrow(
            **common, customer_id=p.funder_id, provider_id=e.provider_id,
            session_price_minor=e.session_price_minor, sessions=e.sessions,
            evidence_kind=e.evidence_kind or "service_record", regulator_id=p.clawback_authority,
        )  # fmt: skip
    elif params == "subsidy":
        s = request.subsidy
        program = templates.subsidy(
            **common, agency_id=p.funder_id, recipients=list(p.holders), amount_minor=p.amount_minor,
            per_payment_cap_minor=p.per_payment_cap_minor,
            merchant_categories=list(s.merchant_categories), max_payee_tier=s.max_payee_tier,
        )  # fmt: skip
    else:
        t = request.trade_finance
        program = templates.trade_finance(
            **common, importer_id=p.funder_id, exporter_id=t.exporter_id,
            amount_minor=p.amount_minor, bill_of_lading_hash=t.bill_of_lading_hash,
            payout_currency=p.payout_currency or "HKD",
            other_documents={k: (v or None) for k, v in t.other_documents.items()},
            exporter_region=t.exporter_region,
        )  # fmt: skip
    return dataclasses.replace(program, purpose=p.purpose or program.purpose)


def _field_error(exc: ProgramError, params: str) -> CorridorError:
    head = exc.field.split("[")[0].split(".")[0]
    name = _RENAMED.get(exc.field, exc.field)
    where = f"program.{name}" if head in _PROGRAM_FIELDS else f"{params or 'program'}.{name}"
    error = invalid(where, exc.message, reason="INVALID_PROGRAM")
    if exc.line:
        error.reason = "INVALID_CONDITION"
        error.message = f"{exc.line}:{exc.column}: {exc.message}"
        error.metadata = {"line": str(exc.line), "column": str(exc.column)}
    return error


def redemption_from_pb(r: Any, now_us: int) -> Redemption:
    m = r.merchant
    facts = RedemptionFacts(
        amount_minor=r.amount_minor,
        currency=r.currency or "CNY",
        merchant=Merchant(m.id, m.category, m.region),
        payer=Party(r.payer.id, r.payer.tier),
        payee=Party(r.payee.id, r.payee.tier),
        business_at=_time(r.business_at_us or now_us, "business_at_us"),
        evidence=dict(r.evidence),
    )
    return Redemption(r.program_id, r.idempotency_key, facts)


# --- domain -> messages -----------------------------------------------------------------------


def program_pb(view: ProgramView) -> Any:
    p = view.program
    return pb.VoucherProgram(
        program_id=p.program_id,
        funder_id=p.funder_id,
        amount_minor=p.amount_minor,
        currency=p.currency,
        expires_at_us=at_us(p.expires_at),
        refund_to=p.refund_target,
        clauses=[pb.VoucherClause(name=n, cel=c, builtin=b) for n, c, b in view.clauses],
        holders=list(p.holders),
        beneficiaries=list(p.beneficiaries),
        per_payment_cap_minor=p.per_payment_cap_minor,
        cumulative_cap_minor=p.cumulative_cap_minor,
        clawback_authority=p.clawback_authority,
        settlement=_ROUTE[p.settlement],
        payout_currency=p.payout_currency or p.currency,
        time_zone=p.time_zone,
        purpose=p.purpose,
        template=_TEMPLATE.get(p.template, pb.VOUCHER_TEMPLATE_CUSTOM),
    )


def view_pb(view: ProgramView) -> Any:
    return pb.VoucherProgramView(
        program=program_pb(view),
        status=_STATUS[view.status],
        issued_minor=view.issued_minor,
        redeemed_minor=view.redeemed_minor,
        refunded_minor=view.refunded_minor,
        clawed_back_minor=view.clawed_back_minor,
        outstanding_minor=view.outstanding_minor,
        redemptions=view.redemptions,
        issued_at_us=view.issued_at_us,
        replayed=view.replayed,
    )


def result_pb(o: RedemptionOutcome) -> Any:
    return pb.RedemptionResult(
        program_id=o.program_id,
        idempotency_key=o.idempotency_key,
        settled=o.settled,
        amount_minor=o.amount_minor,
        failed_clause=o.failed_clause,
        reason=o.reason,
        detail=o.detail,
        transfer_id=o.transfer_id,
        seq=o.seq,
        remaining_minor=o.remaining_minor,
        replayed=o.replayed,
    )


def evaluation_pb(e: EvaluationRecord) -> Any:
    return pb.VoucherEvaluation(
        seq=e.seq,
        program_id=e.program_id,
        idempotency_key=e.idempotency_key,
        amount_minor=e.amount_minor,
        business_at_us=e.business_at_us,
        inputs_json=json.dumps(e.inputs, sort_keys=True),
        allowed=e.allowed,
        failed_clause=e.failed_clause,
        reason=e.reason,
        detail=e.detail,
        settled=e.settled,
        transfer_seq=e.transfer_seq,
        ledger_code=e.ledger_code,
    )


def payout_pb(s: SettlementInstruction) -> Any:
    return pb.VoucherPayout(
        seq=s.seq,
        transfer_id=s.transfer_id,
        program_id=s.program_id,
        kind=s.kind,
        party_id=s.party_id,
        amount_minor=s.amount_minor,
        currency=s.currency,
        route=_ROUTE.get(s.route, pb.VOUCHER_ROUTE_DOMESTIC),
        payout_currency=s.payout_currency,
        business_at_us=s.business_at_us,
    )


def refusal_error(o: RedemptionOutcome) -> CorridorError:
    """A refused single redemption as FAILED_PRECONDITION naming the clause."""
    meta = {"program_id": o.program_id, "clause": o.failed_clause, "detail": o.detail[:200]}
    if o.reason == "program_not_found":
        return not_found("program_id", f"no voucher program {o.program_id!r}", "PROGRAM_NOT_FOUND")
    if o.reason == "ledger_refused":
        return precondition(
            C(o.ledger_code).name, f"the ledger refused the payout: {o.detail}", "payee.id", **meta
        )
    reason = _REFUSAL_REASON.get(o.reason, "VOUCHER_CLAUSE_FALSE")
    message = f"clause {o.failed_clause!r} refused the redemption ({o.reason}): {o.detail}"
    return precondition(reason, message, o.failed_clause, **meta)


# --- the servicer -----------------------------------------------------------------------------


class VouchersServicer(vouchers_pb2_grpc.VouchersServicer):
    def __init__(self, service: VoucherService) -> None:
        self.service = service

    async def Deposit(self, request, context):  # type: ignore[no-untyped-def]
        moved = await self.service.deposit(
            request.funder_id,
            request.currency or "CNY",
            request.amount_minor,
            request.idempotency_key,
            request.business_at_us,
        )
        return pb.VoucherDepositResponse(
            transfer_id=moved.transfer_id,
            balance_minor=moved.balance_minor,
            seq=moved.seq,
            replayed=moved.replayed,
        )

    async def IssueProgram(self, request, context):  # type: ignore[no-untyped-def]
        program = program_from_pb(request)
        try:
            view = await self.service.issue(
                program, request.idempotency_key, request.business_at_us
            )
        except CorridorError as exc:
            if exc.field and exc.field.split("[")[0].split(".")[0] in _PROGRAM_FIELDS:
                exc.field = f"program.{_RENAMED.get(exc.field, exc.field)}"
            raise
        return view_pb(view)

    async def Redeem(self, request, context):  # type: ignore[no-untyped-def]
        redemption = redemption_from_pb(request, self.service.now_us())
        outcome = await self.service.redeem(redemption)
        if not outcome.settled:
            raise refusal_error(outcome)
        return result_pb(outcome)

    async def RedeemBatch(self, request, context):  # type: ignore[no-untyped-def]
        now = self.service.now_us()
        redemptions = [redemption_from_pb(r, now) for r in request.redemptions]
        try:
            outcomes = await self.service.redeem_batch(redemptions)
        except CorridorError as exc:
            exc.field = _RENAMED.get(exc.field, exc.field).replace(
                ".business_at", ".business_at_us"
            )
            raise
        return pb.RedeemVoucherBatchResponse(results=[result_pb(o) for o in outcomes])

    async def ExpireDue(self, request, context):  # type: ignore[no-untyped-def]
        refunds = await self.service.expire_due(request.as_of_at_us)
        return pb.ExpireDueResponse(
            refunds=[
                pb.VoucherRefund(
                    program_id=r.program_id,
                    transfer_id=r.transfer_id,
                    amount_minor=r.amount_minor,
                    seq=r.seq,
                )
                for r in refunds
            ]
        )

    async def Clawback(self, request, context):  # type: ignore[no-untyped-def]
        caller = current_caller()
        authority = request.authority_id or caller.subject
        if caller.subject and request.authority_id and caller.subject != request.authority_id:
            raise permission_denied(
                "CALLER_IS_NOT_AUTHORITY", "authority_id must be the caller itself"
            )
        moved = await self.service.clawback(
            request.program_id,
            authority,
            request.idempotency_key,
            request.amount_minor,
            request.reason,
            request.business_at_us,
        )
        return pb.ClawbackResponse(
            transfer_id=moved.transfer_id,
            amount_minor=moved.amount_minor,
            seq=moved.seq,
            outstanding_minor=moved.balance_minor,
            replayed=moved.replayed,
        )

    async def GetProgram(self, request, context):  # type: ignore[no-untyped-def]
        return view_pb(await self.service.get_program(request.program_id))

    async def ListEvaluations(self, request, context):  # type: ignore[no-untyped-def]
        size = page_size(request.page)
        rows = await self.service.list_evaluations(
            request.program_id, page_cursor(request.page), size
        )
        token = str(rows[-1].seq) if len(rows) == size else ""
        return pb.ListEvaluationsResponse(
            evaluations=[evaluation_pb(e) for e in rows],
            page=common_pb2.PageResponse(next_page_token=token),
        )

    async def ListSettlements(self, request, context):  # type: ignore[no-untyped-def]
        size = page_size(request.page)
        rows = await self.service.settlements(page_cursor(request.page), size)
        token = str(rows[-1].seq) if len(rows) == size else ""
        return pb.ListVoucherSettlementsResponse(
            settlements=[payout_pb(s) for s in rows],
            page=common_pb2.PageResponse(next_page_token=token),
        )


# --- bootstrap --------------------------------------------------------------------------------


async def create_server(
    settings: ServiceSettings, bind: str | None = None, clock: Any = None
) -> tuple[RunningServer, VoucherService]:
    """Open the vouchers ledger and serve it. The caller stops the server, then calls
    `service.close()` (which also cancels the expiry loop). With `expire_every_s` in
    settings.extra (> 0), expiry runs on the business clock in the background."""
    url = settings.database_url or pg.ledger_url("vouchers")
    await pg.ensure_database(url)
    service = await VoucherService.open(url, clock or WallClock())
    try:
        running = await start_server(
            [
                (
                    vouchers_pb2_grpc.add_VouchersServicer_to_server,
                    VouchersServicer(service),
                    SERVICE_NAME,
                )
            ],
            bind or settings.bind,
        )
    except BaseException:
        await service.close()
        raise
    every_s = float(settings.extra.get("expire_every_s", "0") or 0)
    if every_s > 0:
        service.background(_expire_forever(service, every_s))
    bridge_target = settings.extra.get("bridge_target", "")
    payer_wallet = settings.extra.get("bridge_payer_wallet_id", "")
    if bridge_target and payer_wallet:
        service.background(_relay_forever(service, bridge_target, payer_wallet))
    return running, service


async def _relay_forever(service: VoucherService, target: str, payer_wallet_id: str) -> None:
    """Pay cross-border redemptions through the bridge (see relay.py) until the service closes."""
    async with channel(target) as ch:
        relay = BridgeRelay(service, bridge_pb2_grpc.BridgeStub(ch), payer_wallet_id)
        await relay.run_forever()


async def _expire_forever(service: VoucherService, every_s: float) -> None:
    """Expiry driven by the business clock: refund whatever has expired, every `every_s`."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await service.expire_due()
        except asyncio.CancelledError:
            raise
        except Exception:  # logged, retried on the next tick
            log.exception("expiry sweep failed")


async def run(bind: str, database_url: str = "", expire_every_s: float = 1.0) -> None:
    extra = {
        "expire_every_s": str(expire_every_s),
        # Set by `corridor up` for the bridge; the wallet is the voucher operator's on the CN node.
        "bridge_target": os.environ.get("CORRIDOR_BRIDGE_TARGET", ""),
        "bridge_payer_wallet_id": os.environ.get("CORRIDOR_VOUCHERS_BRIDGE_WALLET", ""),
    }
    settings = ServiceSettings(name="vouchers", bind=bind, database_url=database_url, extra=extra)
    telemetry.init_tracing(settings.service_name)
    running, service = await create_server(settings)
    print(f"corridor vouchers serving on port {running.port}", flush=True)
    await serve_until_signalled(running, [service.close])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="corridor vouchers", description="Run the vouchers service.")
    ap.add_argument("--bind", default=f"127.0.0.1:{SERVICE_PORTS['vouchers']}", help="host:port")
    ap.add_argument("--database-url", default="", help="PostgreSQL URL of the vouchers ledger")
    ap.add_argument(
        "--expire-every-s", type=float, default=1.0, help="expiry sweep period (0 = off)"
    )
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(a.bind, a.database_url, a.expire_every_s))
