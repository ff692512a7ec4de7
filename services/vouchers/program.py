"""A voucher program: who funds it, how much, who may spend it, on what, until when.

A program is issued once and then only read. Its condition is the program's own clauses plus
built-in clauses derived from its fields, evaluated in this order so a refusal names the most
basic rule that failed first:

| clause            | holds when                                                  | from field            |
|-------------------|-------------------------------------------------------------|-----------------------|
| `currency`        | the payment is in the program's currency                    | `currency`            |
| `not_expired`     | business time is before the expiry                          | `expires_at`          |
| `holder`          | the payer is one of the listed holders                      | `holders` (if any)    |
| `beneficiary`     | the payee is one of the listed beneficiaries                | `beneficiaries` (if any) |
| `per_payment_cap` | the payment is at most the cap                              | `per_payment_cap_minor` |
| `cumulative_cap`  | spent so far plus this payment is at most the cap           | `cumulative_cap_minor` |
| `funds_remaining` | the payment is at most what is still locked                 | always                |
| ...               | the program's own clauses, in the order given               | `clauses`             |

Beneficiaries are "listed wallets or a rule": list them in `beneficiaries`, or leave it empty and
let a clause decide (`merchant.category in [...]`, `payee.tier <= 2`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from corridor.money import INT64_MAX, known_currency
from services.vouchers.cel_types import ConditionLimits
from services.vouchers.conditions import (
    Clause,
    CompiledCondition,
    ConditionError,
    cel_string,
    cel_string_list,
    compile_clause,
    compile_condition,
)

SETTLEMENT_DOMESTIC = "domestic"
SETTLEMENT_CROSS_BORDER = "cross_border"
BUILTIN_CLAUSES = (
    "currency",
    "not_expired",
    "holder",
    "beneficiary",
    "per_payment_cap",
    "cumulative_cap",
    "funds_remaining",
)
# Clauses checked by the service before any CEL runs (reported like clauses, in the audit too).
PROGRAM_ACTIVE = "program_active"
MAX_LISTED_WALLETS = 256

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}\Z")


class ProgramError(ValueError):
    """A program that cannot be issued, naming the offending field (`clauses[2].cel` for a
    condition, with the position inside it in `line`/`column`)."""

    def __init__(self, field: str, message: str, line: int = 0, column: int = 0) -> None:
        where = f" at {line}:{column}" if line else ""
        super().__init__(f"{field}{where}: {message}")
        self.field = field
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True, slots=True)
class VoucherProgram:
    """Everything fixed at issue. Amounts are minor units of `currency`; times are business time."""

    program_id: str
    funder_id: str
    amount_minor: int
    currency: str
    expires_at: dt.datetime
    refund_to: str = ""  # defaults to the funder
    clauses: tuple[Clause, ...] = ()
    holders: tuple[str, ...] = ()  # payers allowed to present it; empty = anyone
    beneficiaries: tuple[str, ...] = ()  # payees allowed to be paid; empty = the clauses decide
    per_payment_cap_minor: int = 0  # 0 = no per-payment cap
    cumulative_cap_minor: int = 0  # 0 = the whole amount may be spent
    clawback_authority: str = ""  # the only party that may claw back; empty = nobody
    settlement: str = SETTLEMENT_DOMESTIC
    payout_currency: str = ""  # cross-border: what the payee receives through the bridge
    time_zone: str = "Asia/Shanghai"  # for local.* in the context
    template: str = "custom"
    purpose: str = ""
    metadata: tuple[tuple[str, str], ...] = field(default=())

    @property
    def refund_target(self) -> str:
        return self.refund_to or self.funder_id

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    # -- validation ---------------------------------------------------------------------------

    def validate(self) -> None:
        """Raise `ProgramError` for the first field that cannot be issued."""
        for name in ("program_id", "funder_id"):
            check_party_id(name, getattr(self, name))
        for name in ("refund_to", "clawback_authority"):
            if getattr(self, name):
                check_party_id(name, getattr(self, name))
        if not isinstance(self.amount_minor, int) or not 0 < self.amount_minor <= INT64_MAX:
            raise ProgramError("amount_minor", "must be a positive integer number of minor units")
        if not known_currency(self.currency):
            raise ProgramError("currency", f"unknown currency {self.currency!r}")
        if self.expires_at.tzinfo is None:
            raise ProgramError("expires_at", "must carry a time zone")
        self._validate_lists()
        self._validate_caps()
        self._validate_settlement()
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ProgramError("time_zone", f"unknown IANA time zone {self.time_zone!r}") from None
        for index, clause in enumerate(self.clauses):
            if clause.name in BUILTIN_CLAUSES or clause.name == PROGRAM_ACTIVE:
                raise ProgramError(
                    f"clauses[{index}].name", f"{clause.name!r} is a built-in clause name"
                )

    def _validate_lists(self) -> None:
        for name in ("holders", "beneficiaries"):
            values = getattr(self, name)
            if len(values) > MAX_LISTED_WALLETS:
                raise ProgramError(
                    name, f"at most {MAX_LISTED_WALLETS} wallets; use a rule instead"
                )
            for index, value in enumerate(values):
                check_party_id(f"{name}[{index}]", value)

    def _validate_caps(self) -> None:
        for name in ("per_payment_cap_minor", "cumulative_cap_minor"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ProgramError(
                    name, "must be zero (no cap) or a positive number of minor units"
                )
        if self.cumulative_cap_minor > self.amount_minor:
            raise ProgramError("cumulative_cap_minor", "cannot exceed the program's amount")

    def _validate_settlement(self) -> None:
        if self.settlement not in (SETTLEMENT_DOMESTIC, SETTLEMENT_CROSS_BORDER):
            raise ProgramError("settlement", "must be 'domestic' or 'cross_border'")
        if self.settlement == SETTLEMENT_CROSS_BORDER and not known_currency(self.payout_currency):
            raise ProgramError(
                "payout_currency", "a cross-border program names the payee's currency"
            )
        if self.settlement == SETTLEMENT_DOMESTIC and self.payout_currency not in (
            "",
            self.currency,
        ):
            raise ProgramError("payout_currency", "a domestic program pays out in its own currency")

    # -- the condition ------------------------------------------------------------------------

    def builtin_clauses(self) -> list[Clause]:
        expiry = self.expires_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        clauses = [
            Clause("currency", f"currency == {cel_string(self.currency)}"),
            Clause("not_expired", f'now < timestamp("{expiry}")'),
        ]
        if self.holders:
            clauses.append(Clause("holder", f"payer.id in {cel_string_list(self.holders)}"))
        if self.beneficiaries:
            clauses.append(
                Clause("beneficiary", f"payee.id in {cel_string_list(self.beneficiaries)}")
            )
        if self.per_payment_cap_minor:
            clauses.append(Clause("per_payment_cap", f"amount <= {self.per_payment_cap_minor}"))
        if self.cumulative_cap_minor:
            clauses.append(
                Clause("cumulative_cap", f"spent + amount <= {self.cumulative_cap_minor}")
            )
        clauses.append(Clause("funds_remaining", "amount <= remaining"))
        return clauses

    def compile(self, limits: ConditionLimits | None = None) -> CompiledCondition:
        """Validate the program and compile its whole condition once; `ProgramError` on failure.

        The program's own clauses are held to `limits`; built-in clauses are generated from
        validated fields and may carry long wallet lists, so they get room for those."""
        self.validate()
        limits = limits or ConditionLimits()
        try:
            own = compile_condition(self.clauses, limits=limits) if self.clauses else None
        except ConditionError as exc:
            raise self._locate(exc) from exc
        room = _room_for_lists(limits)
        builtins = [compile_clause(clause, limits=room) for clause in self.builtin_clauses()]
        return CompiledCondition([*builtins, *(own.clauses if own else ())])

    def _locate(self, exc: ConditionError) -> ProgramError:
        for index, clause in enumerate(self.clauses):
            if clause.name == exc.clause:
                return ProgramError(f"clauses[{index}].cel", exc.message, exc.line, exc.column)
        return ProgramError("clauses", exc.message, exc.line, exc.column)

    # -- storage ------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["expires_at"] = self.expires_at.astimezone(dt.UTC).isoformat()
        data["clauses"] = [{"name": c.name, "cel": c.cel} for c in self.clauses]
        data["holders"] = list(self.holders)
        data["beneficiaries"] = list(self.beneficiaries)
        data["metadata"] = dict(self.metadata)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VoucherProgram:
        values = dict(data)
        values["expires_at"] = dt.datetime.fromisoformat(values["expires_at"])
        values["clauses"] = tuple(Clause(c["name"], c["cel"]) for c in values["clauses"])
        values["holders"] = tuple(values["holders"])
        values["beneficiaries"] = tuple(values["beneficiaries"])
        values["metadata"] = tuple(sorted(values.get("metadata", {}).items()))
        return cls(**values)

    def fingerprint(self) -> str:
        """A digest of the definition: a retried issue must describe the same program."""
        canonical = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def check_party_id(name: str, value: str) -> None:
    """Wallet, party and program ids: short, pseudonymous, safe inside ledger account ids."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise ProgramError(name, "must be 1-64 characters: letters, digits, '_', '.', ':', '-'")


def _room_for_lists(limits: ConditionLimits) -> ConditionLimits:
    """Limits for generated built-in clauses: room for MAX_LISTED_WALLETS quoted ids."""
    return dataclasses.replace(
        limits,
        max_source_chars=max(limits.max_source_chars, MAX_LISTED_WALLETS * 70 + 64),
        max_nodes=max(limits.max_nodes, MAX_LISTED_WALLETS + 16),
        max_literal_elements=max(limits.max_literal_elements, MAX_LISTED_WALLETS),
        max_cost=max(limits.max_cost, MAX_LISTED_WALLETS + 16),
    )
