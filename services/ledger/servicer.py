"""The Ledger gRPC service over a LedgerEngine, plus the proto <-> engine conversions and the one
mapping from result codes to gRPC statuses that every service reuses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc

from corridor.errors import CorridorError, invalid, not_found, precondition
from corridor.money import INT64_MAX, known_currency
from corridor.v1 import common_pb2, ledger_pb2, ledger_pb2_grpc
from services.ledger.engine import (
    MAX_TIMEOUT_S,
    AccountSpec,
    BalanceView,
    C,
    LedgerEngine,
    TransferResult,
    TransferSpec,
)

MAX_BATCH = 8190

# Refusals in words a wallet holder understands (one table for nodes, bridge and vouchers). The
# field each names depends on the request, so callers pair these with their own field names.
REFUSAL_REASONS: dict[int, str] = {
    C.EXCEEDS_CREDITS: "INSUFFICIENT_FUNDS",
    C.EXCEEDS_DEBIT_MAX_PER_TRANSFER: "TIER_PER_PAYMENT_LIMIT",
    C.EXCEEDS_DAILY_DEBIT_MAX: "TIER_DAILY_LIMIT",
    C.EXCEEDS_BALANCE_MAX: "TIER_BALANCE_CAP",
    C.DEBIT_ACCOUNT_FROZEN: "WALLET_FROZEN",
    C.CREDIT_ACCOUNT_FROZEN: "WALLET_FROZEN",
    C.DEBIT_ACCOUNT_NOT_FOUND: "WALLET_NOT_FOUND",
    C.CREDIT_ACCOUNT_NOT_FOUND: "WALLET_NOT_FOUND",
    C.CURRENCY_MISMATCH: "CURRENCY_MISMATCH",
    C.EXISTS_WITH_DIFFERENT_FIELDS: "IDEMPOTENCY_KEY_REUSED",
}


def reasons_with_fields(debit_field: str, credit_field: str) -> dict[int, tuple[str, str]]:
    """REFUSAL_REASONS with the request fields a refusal points at (payer side, payee side)."""
    fields = {
        C.EXCEEDS_CREDITS: "amount_minor",
        C.EXCEEDS_DEBIT_MAX_PER_TRANSFER: "amount_minor",
        C.EXCEEDS_DAILY_DEBIT_MAX: "amount_minor",
        C.EXCEEDS_BALANCE_MAX: credit_field,
        C.DEBIT_ACCOUNT_FROZEN: debit_field,
        C.CREDIT_ACCOUNT_FROZEN: credit_field,
        C.DEBIT_ACCOUNT_NOT_FOUND: debit_field,
        C.CREDIT_ACCOUNT_NOT_FOUND: credit_field,
        C.CURRENCY_MISMATCH: "currency",
        C.EXISTS_WITH_DIFFERENT_FIELDS: "idempotency_key",
    }
    return {code: (reason, fields[code]) for code, reason in REFUSAL_REASONS.items()}


# Where a refused code points in a Transfer message, and the status it maps to.
_CODE_FIELD = {
    C.ID_MUST_NOT_BE_EMPTY: "id",
    C.AMOUNT_MUST_BE_POSITIVE: "amount_minor",
    C.AMOUNT_OVERFLOWS: "amount_minor",
    C.TIMEOUT_OUT_OF_RANGE: "timeout_s",
    C.CURRENCY_UNKNOWN: "currency",
    C.ACCOUNTS_MUST_BE_DIFFERENT: "credit_account_id",
    C.FLAGS_ARE_MUTUALLY_EXCLUSIVE: "pending",
    C.DEBIT_ACCOUNT_NOT_FOUND: "debit_account_id",
    C.CREDIT_ACCOUNT_NOT_FOUND: "credit_account_id",
    C.CURRENCY_MISMATCH: "currency",
    C.PENDING_TRANSFER_NOT_FOUND: "post_pending_id",
    C.EXCEEDS_PENDING_AMOUNT: "amount_minor",
    C.EXISTS_WITH_DIFFERENT_FIELDS: "id",
    C.DEBIT_ACCOUNT_FROZEN: "debit_account_id",
    C.CREDIT_ACCOUNT_FROZEN: "credit_account_id",
    C.EXCEEDS_CREDITS: "amount_minor",
    C.EXCEEDS_DEBITS: "amount_minor",
    C.EXCEEDS_DEBIT_MAX_PER_TRANSFER: "amount_minor",
    C.EXCEEDS_DAILY_DEBIT_MAX: "amount_minor",
    C.EXCEEDS_BALANCE_MAX: "amount_minor",
}
_SHAPE_CODES = {
    C.ID_MUST_NOT_BE_EMPTY,
    C.AMOUNT_MUST_BE_POSITIVE,
    C.AMOUNT_OVERFLOWS,
    C.TIMEOUT_OUT_OF_RANGE,
    C.CURRENCY_UNKNOWN,
    C.ACCOUNTS_MUST_BE_DIFFERENT,
    C.FLAGS_ARE_MUTUALLY_EXCLUSIVE,
    C.CURRENCY_MISMATCH,
}
_NOT_FOUND_CODES = {
    C.DEBIT_ACCOUNT_NOT_FOUND,
    C.CREDIT_ACCOUNT_NOT_FOUND,
    C.PENDING_TRANSFER_NOT_FOUND,
}


def code_error(
    code: int, prefix: str = "", field_map: dict[int, str] | None = None
) -> CorridorError:
    """The gRPC error for a refused transfer code (reason = the code's name)."""
    name = C(code).name
    field_name = (field_map or {}).get(code) or _CODE_FIELD.get(code, "")
    where = f"{prefix}{field_name}"
    message = name.lower().replace("_", " ")
    if code in _SHAPE_CODES:
        return invalid(where, message, reason=name)
    if code in _NOT_FOUND_CODES:
        return not_found(where, message, reason=name)
    if code == C.EXISTS_WITH_DIFFERENT_FIELDS:
        return CorridorError(grpc.StatusCode.ALREADY_EXISTS, name, message, where)
    return precondition(name, message, where)


def validate_transfer(t: ledger_pb2.Transfer, prefix: str = "") -> None:
    """Shape rules checked before anything is queued; raises INVALID_ARGUMENT naming the field."""
    if not t.id:
        raise invalid(f"{prefix}id", "must not be empty (it is the idempotency id)")
    if len(t.id) > 128:
        raise invalid(f"{prefix}id", "must be at most 128 characters")
    if t.post_pending_id and t.void_pending_id:
        raise invalid(
            f"{prefix}void_pending_id", "post_pending_id and void_pending_id are exclusive"
        )
    if (t.post_pending_id or t.void_pending_id) and t.pending:
        raise invalid(f"{prefix}pending", "a phase-two transfer cannot itself be pending")
    if t.post_pending_id or t.void_pending_id:
        if t.amount_minor < 0:
            raise invalid(f"{prefix}amount_minor", "must not be negative")
        if len(t.post_pending_id or t.void_pending_id) > 128:
            name = "post_pending_id" if t.post_pending_id else "void_pending_id"
            raise invalid(f"{prefix}{name}", "must be at most 128 characters")
        return
    if t.amount_minor <= 0:
        raise invalid(f"{prefix}amount_minor", f"must be > 0 (got {t.amount_minor})")
    if not t.currency:
        raise invalid(f"{prefix}currency", "must not be empty")
    if not known_currency(t.currency):
        raise invalid(f"{prefix}currency", f"unknown currency {t.currency!r}")
    if not t.debit_account_id:
        raise invalid(f"{prefix}debit_account_id", "must not be empty")
    if not t.credit_account_id:
        raise invalid(f"{prefix}credit_account_id", "must not be empty")
    if t.debit_account_id == t.credit_account_id:
        raise invalid(f"{prefix}credit_account_id", "must differ from debit_account_id")
    if not 0 <= t.timeout_s <= MAX_TIMEOUT_S:
        raise invalid(f"{prefix}timeout_s", f"must be between 0 and {MAX_TIMEOUT_S} seconds")


def spec_from_pb(t: ledger_pb2.Transfer) -> TransferSpec:
    return TransferSpec(
        id=t.id,
        debit_account_id=t.debit_account_id,
        credit_account_id=t.credit_account_id,
        amount_minor=t.amount_minor,
        currency=t.currency,
        linked=t.linked,
        pending=t.pending,
        timeout_s=t.timeout_s,
        post_pending_id=t.post_pending_id,
        void_pending_id=t.void_pending_id,
        kind=t.kind,
        payment_id=t.payment_id,
        business_at_us=t.business_at_us,
    )


def balance_pb(b: BalanceView | None) -> ledger_pb2.Balance | None:
    if b is None:
        return None
    return ledger_pb2.Balance(
        account_id=b.account_id,
        posted_minor=b.posted_minor,
        available_minor=b.available_minor,
        debits_pending=b.debits_pending,
        credits_pending=b.credits_pending,
    )


def result_pb(index: int, r: TransferResult) -> ledger_pb2.TransferResult:
    return ledger_pb2.TransferResult(
        index=index,
        code=r.code,
        seq=r.seq,
        debit_balance=balance_pb(r.debit),
        credit_balance=balance_pb(r.credit),
    )


_STATE_PB = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}


def transfer_pb(row: Any) -> ledger_pb2.Transfer:
    flags = row["flags"]
    return ledger_pb2.Transfer(
        id=row["id"],
        debit_account_id=row["debit_account_id"],
        credit_account_id=row["credit_account_id"],
        amount_minor=row["amount"],
        currency=row["currency"].strip(),
        linked=bool(flags & 1),
        pending=bool(flags & 2),
        post_pending_id=row["pending_id"] or "" if flags & 4 else "",
        void_pending_id=row["pending_id"] or "" if flags & 8 else "",
        kind=row["kind"],
        payment_id=row["payment_id"],
        business_at_us=row["business_at_us"],
        state=_STATE_PB.get(row["state"], 0),
        seq=row["seq"],
    )


def account_pb(row: Any) -> ledger_pb2.Account:
    return ledger_pb2.Account(
        id=row["id"],
        currency=row["currency"].strip(),
        kind=row["kind"],
        flags=row["flags"],
        debits_pending=row["debits_pending"],
        debits_posted=row["debits_posted"],
        credits_pending=row["credits_pending"],
        credits_posted=row["credits_posted"],
        balance_max_minor=row["balance_max"],
        debit_max_per_transfer_minor=row["debit_max_per_transfer"],
        daily_debit_max_minor=row["daily_debit_max"],
        freeze=row["freeze_mode"],
    )


def page_size(p: common_pb2.PageRequest) -> int:
    if p.page_size < 0 or p.page_size > 1000:
        raise invalid("page.page_size", "must be between 0 and 1000")
    return p.page_size or 100


def page_cursor(p: common_pb2.PageRequest) -> int:
    if not p.page_token:
        return 0
    try:
        cursor = int(p.page_token)
    except ValueError:
        raise invalid("page.page_token", "not a token this service issued") from None
    if not 0 <= cursor <= INT64_MAX:
        raise invalid("page.page_token", "not a token this service issued")
    return cursor


async def submit_checked(
    engine: LedgerEngine, transfers: Sequence[TransferSpec]
) -> list[TransferResult]:
    """Submit through the engine; overload never times out silently (see backpressure)."""
    return await engine.submit(transfers)


class LedgerServicer(ledger_pb2_grpc.LedgerServicer):
    def __init__(self, engine: LedgerEngine, ledger_name: str) -> None:
        self.engine = engine
        self.ledger_name = ledger_name

    async def CreateAccounts(self, request, context):  # type: ignore[no-untyped-def]
        specs = []
        for i, a in enumerate(request.accounts):
            if not a.id:
                raise invalid(f"accounts[{i}].id", "must not be empty")
            if not known_currency(a.currency):
                raise invalid(f"accounts[{i}].currency", f"unknown currency {a.currency!r}")
            if len(a.id) > 128:
                raise invalid(f"accounts[{i}].id", "must be at most 128 characters")
            if a.flags & ~3 or a.flags == 3:
                raise invalid(f"accounts[{i}].flags", "unknown or contradictory flags")
            if a.freeze not in (0, 1, 2):
                raise invalid(f"accounts[{i}].freeze", f"unknown freeze mode {a.freeze}")
            for name in (
                "balance_max_minor",
                "debit_max_per_transfer_minor",
                "daily_debit_max_minor",
            ):
                if getattr(a, name) < 0:
                    raise invalid(f"accounts[{i}].{name}", "must not be negative")
            specs.append(
                AccountSpec(
                    a.id, a.currency, a.kind or "account", a.flags, a.balance_max_minor,
                    a.debit_max_per_transfer_minor, a.daily_debit_max_minor, a.freeze,
                )
            )  # fmt: skip
        codes = await self.engine.create_accounts(specs)
        return ledger_pb2.CreateAccountsResponse(codes=codes)

    async def CreateTransfers(self, request, context):  # type: ignore[no-untyped-def]
        n = len(request.transfers)
        if n == 0 or n > MAX_BATCH:
            raise invalid("transfers", f"a batch holds 1..{MAX_BATCH} transfers (got {n})")
        for i, t in enumerate(request.transfers):
            validate_transfer(t, f"transfers[{i}].")
        results = await submit_checked(self.engine, [spec_from_pb(t) for t in request.transfers])
        return ledger_pb2.CreateTransfersResponse(
            results=[result_pb(i, r) for i, r in enumerate(results)]
        )

    async def CreateTransfer(self, request, context):  # type: ignore[no-untyped-def]
        validate_transfer(request)
        if request.linked:
            raise invalid("linked", "a single transfer cannot open a linked chain")
        (r,) = await submit_checked(self.engine, [spec_from_pb(request)])
        if not r.ok:
            fields = (
                {C.PENDING_TRANSFER_NOT_FOUND: "void_pending_id"}
                if request.void_pending_id
                else None
            )
            raise code_error(r.code, "", fields)
        return result_pb(0, r)

    async def LookupAccounts(self, request, context):  # type: ignore[no-untyped-def]
        if len(request.ids) > MAX_BATCH:
            raise invalid("ids", f"at most {MAX_BATCH} ids")
        rows = await self.engine.lookup_accounts(list(request.ids))
        return ledger_pb2.LookupAccountsResponse(accounts=[account_pb(r) for r in rows])

    async def LookupTransfers(self, request, context):  # type: ignore[no-untyped-def]
        if len(request.ids) > MAX_BATCH:
            raise invalid("ids", f"at most {MAX_BATCH} ids")
        rows = await self.engine.lookup_transfers(list(request.ids))
        return ledger_pb2.LookupTransfersResponse(transfers=[transfer_pb(r) for r in rows])

    async def GetAccountTransfers(self, request, context):  # type: ignore[no-untyped-def]
        if not request.account_id:
            raise invalid("account_id", "must not be empty")
        if not await self.engine.lookup_accounts([request.account_id]):
            raise not_found("account_id", f"no account {request.account_id!r}")
        size = page_size(request.page)
        rows = await self.engine.account_transfers(
            request.account_id, page_cursor(request.page), size
        )
        token = str(rows[-1]["seq"]) if len(rows) == size else ""
        return ledger_pb2.GetAccountTransfersResponse(
            transfers=[transfer_pb(r) for r in rows],
            page=common_pb2.PageResponse(next_page_token=token),
        )

    async def ExpirePending(self, request, context):  # type: ignore[no-untyped-def]
        if request.limit < 0:
            raise invalid("limit", "must not be negative")
        limit = request.limit or 1000
        if request.dry_run:
            import time

            rows = await self.engine.timed_out_pending(time.time_ns() // 1000, limit)
            return ledger_pb2.ExpirePendingResponse(expired=[transfer_pb(r) for r in rows])
        ids = await self.engine.expire_pending(limit=limit)
        rows = await self.engine.lookup_transfers(ids)
        return ledger_pb2.ExpirePendingResponse(expired=[transfer_pb(r) for r in rows])

    async def StreamPostings(self, request, context) -> AsyncIterator[ledger_pb2.PostingBatch]:  # type: ignore[no-untyped-def,override]
        if request.after_seq < 0:
            raise invalid("after_seq", "must not be negative")
        if request.batch_size < 0 or request.batch_size > 10_000:
            raise invalid("batch_size", "must be between 0 and 10000")
        cursor = request.after_seq
        size = request.batch_size or 1000
        while True:
            rows = await self.engine.postings(cursor, size)
            if rows:
                cursor = rows[-1]["seq"]
                yield ledger_pb2.PostingBatch(
                    postings=[transfer_pb(r) for r in rows],
                    last_seq=cursor,
                    ledger=self.ledger_name,
                )
                continue
            if not request.follow:
                return
            await self.engine.wait_for_commit(cursor, 1.0)
            await asyncio.sleep(0)

    async def Echo(self, request, context):  # type: ignore[no-untyped-def]
        return common_pb2.EchoResponse(payload=request.payload)


__all__ = [
    "INT64_MAX",
    "LedgerServicer",
    "account_pb",
    "balance_pb",
    "code_error",
    "result_pb",
    "spec_from_pb",
    "transfer_pb",
    "validate_transfer",
]
