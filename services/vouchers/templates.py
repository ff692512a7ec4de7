"""Templates for the programmable uses of e-CNY piloted in China.

Each template turns a few business parameters into a `VoucherProgram` whose clauses say, in CEL,
what the pilot's rule was. Parameters are spliced in as quoted CEL literals (`cel_string`), never
as raw text, so a merchant category cannot smuggle an expression into a condition.

- `consumption_voucher`: local-government consumption vouchers / "red packets" (Shenzhen, Suzhou,
  Chengdu 2020-): spend only at merchants of listed categories in listed regions, before expiry;
  whatever is unspent returns to the funder.
- `prepaid_escrow`: prepaid-fund supervision for education, fitness and similar services
  (e.g. Beijing, Chengdu): the customer's prepayment stays locked and is released to the provider
  one session at a time, each against evidence that the session was delivered.
- `subsidy`: a targeted subsidy (e.g. agricultural inputs, elderly care) that listed recipients
  can spend, each payment under a cap, optionally only in listed categories; the granting agency
  may claw back misused funds.
- `trade_finance`: a conditional trade payment: the importer's payment is released to the
  exporter only against the agreed shipping documents (bill-of-lading hash), and settles
  cross-border through the bridge in the exporter's currency.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from services.vouchers.conditions import Clause, cel_string, cel_string_list
from services.vouchers.program import SETTLEMENT_CROSS_BORDER, ProgramError, VoucherProgram

SHA256_HEX = re.compile(r"[0-9a-f]{64}\Z")
_SHA256_PATTERN = "^[0-9a-f]{64}$"


def _evidence_clause(kind: str, expected_hash: str | None) -> Clause:
    """A document must be presented; with a known hash, it must be exactly that document."""
    if expected_hash is not None and not SHA256_HEX.match(expected_hash):
        raise ProgramError(
            f"evidence.{kind}", "expected hash must be 64 lowercase hex digits (SHA-256)"
        )
    present = f"has(evidence.{kind})"
    if expected_hash is None:
        return Clause(kind, f"{present} && evidence.{kind}.matches({cel_string(_SHA256_PATTERN)})")
    return Clause(kind, f"{present} && evidence.{kind} == {cel_string(expected_hash)}")


def consumption_voucher(
    *,
    program_id: str,
    funder_id: str,
    amount_minor: int,
    merchant_categories: Sequence[str],
    regions: Sequence[str],
    expires_at: dt.datetime,
    holders: Sequence[str] = (),
    per_payment_cap_minor: int = 0,
    currency: str = "CNY",
    opening_hours: tuple[int, int] | None = None,
) -> VoucherProgram:
    """Spend at listed merchant categories in listed regions before expiry (refund to funder).

    `regions` match `merchant.region` by prefix, so '4403' covers every district of Shenzhen
    ('440303' Luohu, '440304' Futian...). `opening_hours=(9, 21)` also restricts local time."""
    if not merchant_categories:
        raise ProgramError("merchant_categories", "list at least one merchant category")
    if not regions:
        raise ProgramError("regions", "list at least one region")
    clauses = [
        Clause("merchant_category", f"merchant.category in {cel_string_list(merchant_categories)}"),
        Clause(
            "merchant_region",
            f"{cel_string_list(regions)}.exists(r, merchant.region.startsWith(r))",
        ),
    ]
    if opening_hours is not None:
        start, end = opening_hours
        if not 0 <= start < end <= 24:
            raise ProgramError("opening_hours", "must be (start, end) with 0 <= start < end <= 24")
        clauses.append(Clause("business_hours", f"local.hour >= {start} && local.hour < {end}"))
    return VoucherProgram(
        program_id=program_id,
        funder_id=funder_id,
        amount_minor=amount_minor,
        currency=currency,
        expires_at=expires_at,
        clauses=tuple(clauses),
        holders=tuple(holders),
        per_payment_cap_minor=per_payment_cap_minor,
        template="consumption_voucher",
        purpose="consumption voucher: listed merchant categories and regions, before expiry",
    )


def prepaid_escrow(
    *,
    program_id: str,
    customer_id: str,
    provider_id: str,
    session_price_minor: int,
    sessions: int,
    expires_at: dt.datetime,
    evidence_kind: str = "service_record",
    regulator_id: str = "",
    currency: str = "CNY",
) -> VoucherProgram:
    """The customer prepays `sessions` sessions; each release pays the provider one session's
    price against a delivery record (the hash of the signed attendance/service record).
    Unused sessions return to the customer at expiry; the regulator may claw back (e.g. when
    the provider closes)."""
    if session_price_minor <= 0:
        raise ProgramError("session_price_minor", "must be positive")
    if sessions <= 0:
        raise ProgramError("sessions", "must be positive")
    clauses = (
        Clause("one_session", f"amount == {session_price_minor}"),
        _evidence_clause(evidence_kind, None),
    )
    return VoucherProgram(
        program_id=program_id,
        funder_id=customer_id,
        amount_minor=session_price_minor * sessions,
        currency=currency,
        expires_at=expires_at,
        refund_to=customer_id,
        clauses=clauses,
        holders=(customer_id,),
        beneficiaries=(provider_id,),
        clawback_authority=regulator_id,
        template="prepaid_escrow",
        purpose=f"prepaid-fund escrow: {sessions} sessions released one at a time on delivery",
    )


def subsidy(
    *,
    program_id: str,
    agency_id: str,
    recipients: Sequence[str],
    amount_minor: int,
    per_payment_cap_minor: int,
    expires_at: dt.datetime,
    merchant_categories: Sequence[str] = (),
    max_payee_tier: int = 0,
    currency: str = "CNY",
) -> VoucherProgram:
    """Listed recipients spend the subsidy, each payment at most the cap, optionally only in
    listed merchant categories and only to payees of at least a given KYC tier (1 is strongest).
    The agency funds it, gets the unspent rest back, and may claw back."""
    if not recipients:
        raise ProgramError("recipients", "list at least one recipient wallet")
    if per_payment_cap_minor <= 0:
        raise ProgramError("per_payment_cap_minor", "a subsidy needs a per-payment cap")
    clauses = []
    if merchant_categories:
        clauses.append(
            Clause(
                "merchant_category", f"merchant.category in {cel_string_list(merchant_categories)}"
            )
        )
    if max_payee_tier:
        if not 1 <= max_payee_tier <= 4:
            raise ProgramError("max_payee_tier", "e-CNY wallet tiers are 1..4")
        clauses.append(Clause("payee_kyc", f"payee.tier <= {max_payee_tier}"))
    return VoucherProgram(
        program_id=program_id,
        funder_id=agency_id,
        amount_minor=amount_minor,
        currency=currency,
        expires_at=expires_at,
        clauses=tuple(clauses),
        holders=tuple(recipients),
        per_payment_cap_minor=per_payment_cap_minor,
        clawback_authority=agency_id,
        template="subsidy",
        purpose="subsidy: listed recipients, capped per payment, claw-back by the agency",
    )


def trade_finance(
    *,
    program_id: str,
    importer_id: str,
    exporter_id: str,
    amount_minor: int,
    bill_of_lading_hash: str,
    expires_at: dt.datetime,
    payout_currency: str = "HKD",
    currency: str = "CNY",
    other_documents: Mapping[str, str | None] | None = None,
    exporter_region: str = "",
) -> VoucherProgram:
    """Pay the exporter the full amount once, against the agreed bill of lading (and any other
    documents, each a kind -> expected SHA-256 hash, or None for "any well-formed hash").
    Settles cross-border through the bridge into `payout_currency`."""
    clauses = [
        Clause("full_amount", f"amount == {amount_minor}"),
        _evidence_clause("bill_of_lading", bill_of_lading_hash),
    ]
    for kind, expected in (other_documents or {}).items():
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", kind):
            raise ProgramError(
                "other_documents", f"document kind {kind!r} must be a lowercase name"
            )
        clauses.append(_evidence_clause(kind, expected))
    if exporter_region:
        clauses.append(
            Clause("exporter_region", f"merchant.region == {cel_string(exporter_region)}")
        )
    return VoucherProgram(
        program_id=program_id,
        funder_id=importer_id,
        amount_minor=amount_minor,
        currency=currency,
        expires_at=expires_at,
        refund_to=importer_id,
        clauses=tuple(clauses),
        beneficiaries=(exporter_id,),
        settlement=SETTLEMENT_CROSS_BORDER,
        payout_currency=payout_currency,
        template="trade_finance",
        purpose="conditional trade payment released on the bill of lading, settled cross-border",
    )


TEMPLATES = {
    "consumption_voucher": consumption_voucher,
    "prepaid_escrow": prepaid_escrow,
    "subsidy": subsidy,
    "trade_finance": trade_finance,
}
