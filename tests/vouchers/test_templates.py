"""The four piloted uses, as programs: each template's clauses allow and refuse what the pilot did."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from services.vouchers.conditions import Clause, Merchant, Party
from services.vouchers.program import ProgramError, VoucherProgram
from services.vouchers.templates import consumption_voucher, prepaid_escrow, subsidy, trade_finance
from tests.vouchers.helpers import BOL_HASH, GROCERY, T0, context_for

EXPIRY = T0 + dt.timedelta(days=30)


def refusal(program: VoucherProgram, spent: int = 0, **overrides) -> str:  # type: ignore[no-untyped-def]
    verdict = program.compile().evaluate(context_for(program, spent, **overrides))
    return verdict.failed_clause


def shenzhen_voucher(**overrides) -> VoucherProgram:  # type: ignore[no-untyped-def]
    params = {
        "program_id": "sz-2025-spring",
        "funder_id": "gov-shenzhen",
        "amount_minor": 20_000,
        "merchant_categories": [GROCERY, "5812"],
        "regions": ["4403"],
        "expires_at": EXPIRY,
        "holders": ["w-alice"],
        "per_payment_cap_minor": 10_000,
    }
    params.update(overrides)
    return consumption_voucher(**params)


def test_consumption_voucher() -> None:
    program = shenzhen_voucher()
    assert refusal(program) == ""
    assert refusal(program, merchant=Merchant("m-9", "5999", "440303")) == "merchant_category"
    assert refusal(program, merchant=Merchant("m-9", GROCERY, "310101")) == "merchant_region"
    assert refusal(program, business_at=EXPIRY) == "not_expired"
    assert refusal(program, payer=Party("w-bob", 3)) == "holder"
    assert refusal(program, amount_minor=10_001) == "per_payment_cap"
    assert refusal(program, spent=18_000) == "funds_remaining"
    assert refusal(program, currency="HKD") == "currency"


def test_consumption_voucher_opening_hours_use_local_time() -> None:
    program = shenzhen_voucher(opening_hours=(9, 21))
    assert refusal(program) == ""  # 10:00 in Shenzhen
    night = T0.replace(hour=14)  # 22:00 in Shenzhen
    assert refusal(program, business_at=night) == "business_hours"
    with pytest.raises(ProgramError, match="opening_hours"):
        shenzhen_voucher(opening_hours=(21, 9))


def test_prepaid_escrow_releases_one_session_per_delivery_record() -> None:
    program = prepaid_escrow(
        program_id="gym-123",
        customer_id="w-alice",
        provider_id="m-gym",
        session_price_minor=15_000,
        sessions=10,
        expires_at=EXPIRY,
        regulator_id="edu-bureau",
    )
    assert program.amount_minor == 150_000
    delivery = {"service_record": "ab" * 32}
    base = {"payee": Party("m-gym", 2), "amount_minor": 15_000, "evidence": delivery}
    assert refusal(program, **base) == ""
    assert refusal(program, **{**base, "evidence": {}}) == "service_record"
    assert (
        refusal(program, **{**base, "evidence": {"service_record": "not-a-hash"}})
        == "service_record"
    )
    assert refusal(program, **{**base, "amount_minor": 30_000}) == "one_session"
    assert refusal(program, **{**base, "payee": Party("m-other", 2)}) == "beneficiary"
    assert refusal(program, spent=150_000, **base) == "funds_remaining"
    assert program.clawback_authority == "edu-bureau"


def test_subsidy_caps_each_payment() -> None:
    program = subsidy(
        program_id="agri-2025",
        agency_id="agri-bureau",
        recipients=["w-alice", "w-carol"],
        amount_minor=500_000,
        per_payment_cap_minor=5_000,
        expires_at=EXPIRY,
        merchant_categories=["5261"],
        max_payee_tier=2,
    )
    seeds = Merchant("m-seeds", "5261", "440303")
    assert refusal(program, merchant=seeds, amount_minor=5_000) == ""
    assert refusal(program, merchant=seeds, amount_minor=5_001) == "per_payment_cap"
    assert refusal(program, merchant=seeds, payer=Party("w-dave", 1)) == "holder"
    assert refusal(program, amount_minor=100) == "merchant_category"
    assert refusal(program, merchant=seeds, payee=Party("m-seeds", 4)) == "payee_kyc"
    assert program.clawback_authority == "agri-bureau"
    with pytest.raises(ProgramError, match="per_payment_cap_minor"):
        subsidy(
            program_id="x",
            agency_id="a",
            recipients=["w"],
            amount_minor=1,
            per_payment_cap_minor=0,
            expires_at=EXPIRY,
        )


def test_trade_finance_releases_on_the_agreed_bill_of_lading_cross_border() -> None:
    program = trade_finance(
        program_id="lc-7781",
        importer_id="corp-sz-importer",
        exporter_id="corp-hk-exporter",
        amount_minor=1_250_000,
        bill_of_lading_hash=BOL_HASH,
        expires_at=EXPIRY,
        other_documents={"inspection_certificate": None},
    )
    assert (program.settlement, program.payout_currency) == ("cross_border", "HKD")
    exporter = Party("corp-hk-exporter", 1)
    documents = {"bill_of_lading": BOL_HASH, "inspection_certificate": "cd" * 32}
    good = {"payee": exporter, "amount_minor": 1_250_000, "evidence": documents}
    assert refusal(program, **good) == ""
    forged = {**documents, "bill_of_lading": "00" * 32}
    assert refusal(program, **{**good, "evidence": forged}) == "bill_of_lading"
    missing = {"bill_of_lading": BOL_HASH}
    assert refusal(program, **{**good, "evidence": missing}) == "inspection_certificate"
    assert refusal(program, **{**good, "amount_minor": 1_000}) == "full_amount"
    with pytest.raises(ProgramError, match="SHA-256"):
        trade_finance(
            program_id="x",
            importer_id="i",
            exporter_id="e",
            amount_minor=1,
            bill_of_lading_hash="XYZ",
            expires_at=EXPIRY,
        )


def test_template_parameters_cannot_inject_cel() -> None:
    program = shenzhen_voucher(merchant_categories=['5411"] || true || ["'])
    assert refusal(program) == "merchant_category"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount_minor": 0}, "amount_minor"),
        ({"currency": "XXX"}, "currency"),
        ({"program_id": "has space"}, "program_id"),
        ({"expires_at": dt.datetime(2026, 1, 1)}, "expires_at"),
        ({"cumulative_cap_minor": 10**9}, "cumulative_cap_minor"),
        ({"settlement": "moon"}, "settlement"),
        ({"settlement": "cross_border"}, "payout_currency"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"clauses": (Clause("currency", "true"),)}, "clauses[0].name"),
        ({"holders": tuple(f"w{i}" for i in range(300))}, "holders"),
    ],
)
def test_program_validation_names_the_field(changes, field) -> None:  # type: ignore[no-untyped-def]
    program = VoucherProgram(
        program_id="p-1", funder_id="f", amount_minor=100, currency="CNY", expires_at=EXPIRY
    )
    with pytest.raises(ProgramError) as caught:
        dataclasses.replace(program, **changes).compile()
    assert caught.value.field == field


def test_a_bad_clause_is_located_in_the_program() -> None:
    program = shenzhen_voucher()
    typo = Clause("typo", "merchant.regoin == 'x'")
    broken = dataclasses.replace(program, clauses=(*program.clauses, typo))
    with pytest.raises(ProgramError) as caught:
        broken.compile()
    assert (caught.value.field, caught.value.line, caught.value.column) == ("clauses[2].cel", 1, 9)


def test_program_round_trips_through_json() -> None:
    program = shenzhen_voucher()
    again = VoucherProgram.from_json(program.to_json())
    assert again == program
    assert again.fingerprint() == program.fingerprint()
