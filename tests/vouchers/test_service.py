"""The vouchers service on a real PostgreSQL ledger: every template end to end, refusals that move
nothing, idempotency, races (double redemption, redemption vs expiry), claw-back, restart."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import grpc
import pytest

from corridor.errors import CorridorError
from services.ledger.engine import FREEZE_FULL
from services.vouchers import ledger as vl
from services.vouchers.conditions import Clause, Merchant, Party
from services.vouchers.invariants import check_voucher_invariants
from services.vouchers.program import VoucherProgram
from services.vouchers.service import Redemption, VoucherService, at_us
from services.vouchers.templates import consumption_voucher, prepaid_escrow, subsidy, trade_finance
from tests.vouchers.conftest import days
from tests.vouchers.helpers import BOL_HASH, T0, facts

SEEDS = Merchant("m-seeds", "5261", "440303")


async def funded(service: VoucherService, funder: str, amount: int = 10_000_000) -> None:
    await service.deposit(funder, "CNY", amount, f"dep-{funder}-{amount}")


def grocery_voucher(program_id: str = "sz-1", amount: int = 100_000, **changes) -> VoucherProgram:  # type: ignore[no-untyped-def]
    program = consumption_voucher(
        program_id=program_id,
        funder_id="gov-sz",
        amount_minor=amount,
        merchant_categories=["5411"],
        regions=["4403"],
        expires_at=T0 + days(30),
    )
    return dataclasses.replace(program, **changes)


async def issued(service: VoucherService, program: VoucherProgram) -> None:
    await funded(service, program.funder_id)
    view = await service.issue(program, f"issue-{program.program_id}")
    assert view.status == "active" and view.outstanding_minor == program.amount_minor


def error_of(caught: pytest.ExceptionInfo[CorridorError]) -> tuple[grpc.StatusCode, str, str]:
    return caught.value.code, caught.value.reason, caught.value.field


async def assert_invariants(service: VoucherService) -> None:
    assert await check_voucher_invariants(service.engine.dsn) == []


# --- templates end to end ---------------------------------------------------------------------


async def test_consumption_voucher_end_to_end(vouchers: VoucherService) -> None:
    await issued(vouchers, grocery_voucher())
    first = await vouchers.redeem(Redemption("sz-1", "r1", facts(amount_minor=30_000)))
    assert first.settled and first.remaining_minor == 70_000
    refused = await vouchers.redeem(
        Redemption("sz-1", "r2", facts(merchant=Merchant("m-2", "5999", "440303")))
    )
    assert (refused.settled, refused.failed_clause) == (False, "merchant_category")
    view = await vouchers.get_program("sz-1")
    assert (view.redeemed_minor, view.outstanding_minor, view.redemptions) == (30_000, 70_000, 1)
    late = await vouchers.redeem(Redemption("sz-1", "r3", facts(business_at=T0 + days(31))))
    assert late.failed_clause == "not_expired"
    refunds = await vouchers.expire_due(at_us(T0 + days(30)))
    assert [(r.program_id, r.amount_minor) for r in refunds] == [("sz-1", 70_000)]
    view = await vouchers.get_program("sz-1")
    assert (view.status, view.refunded_minor, view.outstanding_minor) == ("expired", 70_000, 0)
    after = await vouchers.redeem(Redemption("sz-1", "r4", facts()))
    assert (after.failed_clause, after.reason) == ("program_active", "program_closed")
    funder = await vouchers.engine.lookup_accounts([vl.party_account("gov-sz", "CNY")])
    assert funder[0]["posted"] == 70_000  # the refund target got the remainder
    await assert_invariants(vouchers)


async def test_prepaid_escrow_releases_per_delivered_session(vouchers: VoucherService) -> None:
    program = prepaid_escrow(
        program_id="gym-1",
        customer_id="w-alice",
        provider_id="m-gym",
        session_price_minor=15_000,
        sessions=4,
        expires_at=T0 + days(90),
        regulator_id="sports-bureau",
    )
    await issued(vouchers, program)
    gym = {"payee": Party("m-gym", 2), "amount_minor": 15_000}
    for n in range(3):
        done = await vouchers.redeem(
            Redemption("gym-1", f"s{n}", facts(**gym, evidence={"service_record": f"{n:064x}"}))
        )
        assert done.settled
    undelivered = await vouchers.redeem(Redemption("gym-1", "s3", facts(**gym)))
    assert undelivered.failed_clause == "service_record"
    # The gym closes: the regulator claws back what is left for the customer.
    with pytest.raises(CorridorError) as caught:
        await vouchers.clawback("gym-1", "m-gym", "cb-1")
    assert error_of(caught)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "NOT_CLAWBACK_AUTHORITY")
    back = await vouchers.clawback("gym-1", "sports-bureau", "cb-1", reason="provider closed")
    assert back.amount_minor == 15_000 and back.balance_minor == 0
    view = await vouchers.get_program("gym-1")
    assert (view.status, view.redeemed_minor, view.clawed_back_minor) == (
        "clawed_back",
        45_000,
        15_000,
    )
    provider = await vouchers.engine.lookup_accounts([vl.party_account("m-gym", "CNY")])
    assert provider[0]["posted"] == 45_000
    await assert_invariants(vouchers)


async def test_subsidy_per_payment_cap_and_partial_clawback(vouchers: VoucherService) -> None:
    program = subsidy(
        program_id="agri-1",
        agency_id="agri-bureau",
        recipients=["w-alice"],
        amount_minor=20_000,
        per_payment_cap_minor=5_000,
        expires_at=T0 + days(60),
        merchant_categories=["5261"],
    )
    await issued(vouchers, program)
    ok = await vouchers.redeem(
        Redemption("agri-1", "p1", facts(merchant=SEEDS, amount_minor=5_000))
    )
    assert ok.settled
    over = await vouchers.redeem(
        Redemption("agri-1", "p2", facts(merchant=SEEDS, amount_minor=6_000))
    )
    assert over.failed_clause == "per_payment_cap"
    stranger = await vouchers.redeem(
        Redemption("agri-1", "p3", facts(merchant=SEEDS, payer=Party("w-mallory", 4)))
    )
    assert stranger.failed_clause == "holder"
    part = await vouchers.clawback("agri-1", "agri-bureau", "misuse-1", amount_minor=10_000)
    assert part.balance_minor == 5_000
    with pytest.raises(CorridorError) as caught:
        await vouchers.clawback("agri-1", "agri-bureau", "misuse-2", amount_minor=6_000)
    assert error_of(caught) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "EXCEEDS_OUTSTANDING",
        "amount_minor",
    )
    assert (await vouchers.get_program("agri-1")).status == "active"
    again = await vouchers.clawback("agri-1", "agri-bureau", "misuse-1", amount_minor=10_000)
    assert again.replayed and (await vouchers.get_program("agri-1")).clawed_back_minor == 10_000
    await vouchers.expire_due(at_us(T0 + days(61)))
    view = await vouchers.get_program("agri-1")
    assert (view.redeemed_minor, view.clawed_back_minor, view.refunded_minor) == (
        5_000,
        10_000,
        5_000,
    )
    await assert_invariants(vouchers)


async def test_trade_finance_settles_cross_border_on_the_bill_of_lading(
    vouchers: VoucherService,
) -> None:
    program = trade_finance(
        program_id="lc-1",
        importer_id="corp-importer",
        exporter_id="corp-exporter",
        amount_minor=1_250_000,
        bill_of_lading_hash=BOL_HASH,
        expires_at=T0 + days(120),
    )
    await issued(vouchers, program)
    exporter = {"payee": Party("corp-exporter", 1), "amount_minor": 1_250_000}
    forged = await vouchers.redeem(
        Redemption("lc-1", "x1", facts(**exporter, evidence={"bill_of_lading": "00" * 32}))
    )
    assert forged.failed_clause == "bill_of_lading"
    paid = await vouchers.redeem(
        Redemption("lc-1", "x2", facts(**exporter, evidence={"bill_of_lading": BOL_HASH}))
    )
    assert paid.settled and paid.remaining_minor == 0
    feed = [s for s in await vouchers.settlements() if s.program_id == "lc-1"]
    assert [(s.route, s.party_id, s.payout_currency, s.amount_minor) for s in feed] == [
        ("cross_border", "corp-exporter", "HKD", 1_250_000)
    ]
    bridge = await vouchers.engine.lookup_accounts([vl.bridge_account("CNY")])
    assert bridge[0]["posted"] == 1_250_000
    await assert_invariants(vouchers)


# --- issue ------------------------------------------------------------------------------------


async def test_issue_needs_a_deposit_that_covers_it(vouchers: VoucherService) -> None:
    program = grocery_voucher(amount=50_000)
    with pytest.raises(CorridorError) as caught:
        await vouchers.issue(program, "k1")
    assert error_of(caught) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "FUNDER_HAS_NO_DEPOSIT",
        "funder_id",
    )
    await vouchers.deposit("gov-sz", "CNY", 20_000, "d1")
    with pytest.raises(CorridorError) as caught:
        await vouchers.issue(program, "k1")
    assert error_of(caught) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "INSUFFICIENT_FUNDS",
        "amount_minor",
    )
    refused = await vouchers.redeem(Redemption("sz-1", "r1", facts()))
    assert (refused.failed_clause, refused.reason) == ("program_active", "program_closed")
    await vouchers.deposit("gov-sz", "CNY", 30_000, "d2")
    view = await vouchers.issue(program, "k1")  # the same key completes the issue
    assert (view.status, view.issued_minor) == ("active", 50_000)
    assert (await vouchers.issue(program, "k1")).replayed
    await assert_invariants(vouchers)


async def test_issue_refuses_an_ill_typed_condition_and_writes_nothing(
    vouchers: VoucherService,
) -> None:
    await funded(vouchers, "gov-sz")
    program = grocery_voucher(clauses=(Clause("typo", "merchant.category == 5411"),))
    with pytest.raises(CorridorError) as caught:
        await vouchers.issue(program, "k1")
    code, reason, field = error_of(caught)
    assert (code, reason, field) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_CONDITION",
        "clauses[0].cel",
    )
    assert caught.value.metadata == {"line": "1", "column": "19"}
    with pytest.raises(CorridorError) as caught:
        await vouchers.get_program("sz-1")
    assert caught.value.code == grpc.StatusCode.NOT_FOUND


async def test_issue_refuses_a_condition_that_would_blow_up_its_cost(
    vouchers: VoucherService,
) -> None:
    await funded(vouchers, "gov-sz")
    numbers = "[" + ", ".join(str(i) for i in range(150)) + "]"
    looping = Clause("spin", f"{numbers}.all(x, {numbers}.all(y, x + y >= 0))")
    with pytest.raises(CorridorError) as caught:
        await vouchers.issue(grocery_voucher(clauses=(looping,)), "k1")
    assert error_of(caught) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_CONDITION",
        "clauses[0].cel",
    )
    assert "worst-case evaluation cost" in caught.value.message


async def test_an_idempotency_key_names_one_program(vouchers: VoucherService) -> None:
    await issued(vouchers, grocery_voucher())
    with pytest.raises(CorridorError) as caught:
        await vouchers.issue(grocery_voucher(amount=999), "issue-sz-1")
    assert error_of(caught)[:2] == (grpc.StatusCode.ALREADY_EXISTS, "IDEMPOTENCY_KEY_REUSED")
    with pytest.raises(CorridorError) as caught:
        await vouchers.issue(grocery_voucher(), "another-key")
    assert error_of(caught)[2] == "program_id"
    late_retry = await vouchers.issue(grocery_voucher(), "issue-sz-1", at_us(T0 + days(45)))
    assert late_retry.replayed  # the first result, even once the program could no longer be issued
    with pytest.raises(CorridorError) as caught:
        await vouchers.issue(grocery_voucher("sz-2"), "k2", at_us(T0 + days(45)))
    assert error_of(caught) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "expires_at")


# --- redemption rules -------------------------------------------------------------------------


async def test_cumulative_cap_and_partial_redemptions(vouchers: VoucherService) -> None:
    await issued(vouchers, grocery_voucher(cumulative_cap_minor=10_000))
    outcomes = await vouchers.redeem_batch(
        [Redemption("sz-1", f"r{i}", facts(amount_minor=3_000)) for i in range(5)]
    )
    assert [o.settled for o in outcomes] == [True, True, True, False, False]
    assert {o.failed_clause for o in outcomes[3:]} == {"cumulative_cap"}
    assert (await vouchers.get_program("sz-1")).redeemed_minor == 9_000
    await assert_invariants(vouchers)


async def test_a_batch_mixes_programs_and_refusals_independently(vouchers: VoucherService) -> None:
    await issued(vouchers, grocery_voucher("a"))
    await issued(vouchers, grocery_voucher("b"))
    outcomes = await vouchers.redeem_batch(
        [
            Redemption("a", "1", facts()),
            Redemption("nope", "1", facts()),
            Redemption("b", "1", facts(merchant=Merchant("m", "5411", "110101"))),
            Redemption("b", "2", facts()),
        ]
    )
    assert [(o.settled, o.failed_clause) for o in outcomes] == [
        (True, ""),
        (False, "program_active"),
        (False, "merchant_region"),
        (True, ""),
    ]
    assert outcomes[1].reason == "program_not_found"


async def test_bad_redemption_input_names_the_field(vouchers: VoucherService) -> None:
    await issued(vouchers, grocery_voucher())
    bad = [
        (Redemption("sz-1", "", facts()), "idempotency_key"),
        (Redemption("sz-1", "k", facts(amount_minor=0)), "amount_minor"),
        (Redemption("sz-1", "k", facts(evidence={"Bad": "x"})), "evidence['Bad']"),
        (Redemption("sz-1", "k", facts(payee=Party("m 1", 2))), "payee.id"),
        (Redemption("sz-1", "k", facts(business_at=dt.datetime(2025, 1, 1))), "business_at"),
    ]
    for redemption, field in bad:
        with pytest.raises(CorridorError) as caught:
            await vouchers.redeem(redemption)
        assert error_of(caught) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", field)
    with pytest.raises(CorridorError) as caught:
        await vouchers.redeem_batch([Redemption("sz-1", "ok", facts()), bad[1][0]])
    assert caught.value.field == "redemptions[1].amount_minor"
    assert (await vouchers.get_program("sz-1")).redemptions == 0  # nothing moved


async def test_a_ledger_refusal_releases_the_reservation(vouchers: VoucherService) -> None:
    await issued(vouchers, grocery_voucher())
    await vouchers.redeem(Redemption("sz-1", "warm", facts(amount_minor=1)))
    await vouchers.engine.set_freeze(vl.party_account("m-001", "CNY"), FREEZE_FULL)
    frozen = await vouchers.redeem(Redemption("sz-1", "r1", facts()))
    assert (frozen.settled, frozen.reason, frozen.detail) == (
        False,
        "ledger_refused",
        "CREDIT_ACCOUNT_FROZEN",
    )
    assert (await vouchers.get_program("sz-1")).outstanding_minor == 99_999
    trail = await vouchers.list_evaluations("sz-1")
    assert [(e.idempotency_key, e.allowed, e.settled, e.ledger_code != 0) for e in trail] == [
        ("warm", True, True, False),
        ("r1", True, False, True),
    ]
    again = await vouchers.redeem(Redemption("sz-1", "r1", facts()))
    assert again.replayed and again.reason == "ledger_refused"


# --- audit ------------------------------------------------------------------------------------


async def test_every_evaluation_is_audited_with_its_inputs(vouchers: VoucherService) -> None:
    await issued(vouchers, grocery_voucher())
    await vouchers.redeem(Redemption("sz-1", "ok", facts(evidence={"receipt": "ab"})))
    await vouchers.redeem(Redemption("sz-1", "no", facts(merchant=Merchant("m", "7995", "440303"))))
    trail = await vouchers.list_evaluations("sz-1")
    assert [(e.idempotency_key, e.allowed, e.failed_clause, e.settled) for e in trail] == [
        ("ok", True, "", True),
        ("no", False, "merchant_category", False),
    ]
    assert trail[0].inputs["evidence"] == {"receipt": "ab"}
    assert trail[1].inputs["merchant"]["category"] == "7995"
    assert trail[1].inputs["spent"] == 3_000  # what the condition saw
    page = await vouchers.list_evaluations("sz-1", after_seq=trail[0].seq, limit=1)
    assert [e.idempotency_key for e in page] == ["no"]
    assert await vouchers.list_evaluations("other") == []


# --- races ------------------------------------------------------------------------------------


async def test_double_redemption_race_settles_once(vouchers: VoucherService) -> None:
    await issued(vouchers, grocery_voucher())
    same = Redemption("sz-1", "twice", facts(amount_minor=40_000))
    outcomes = await asyncio.gather(
        *(vouchers.redeem(same) for _ in range(10)),
        vouchers.redeem_batch([same, same]),
    )
    flat = [o for item in outcomes for o in (item if isinstance(item, list) else [item])]
    assert len({(o.settled, o.transfer_id, o.seq) for o in flat}) == 1 and flat[0].settled
    assert sum(not o.replayed for o in flat) == 1
    view = await vouchers.get_program("sz-1")
    assert (view.redeemed_minor, view.redemptions) == (40_000, 1)
    await assert_invariants(vouchers)


async def test_racing_for_the_last_funds_never_overspends(vouchers: VoucherService) -> None:
    await issued(vouchers, grocery_voucher(amount=10_000))
    outcomes = await asyncio.gather(
        *(vouchers.redeem(Redemption("sz-1", f"r{i}", facts(amount_minor=3_000))) for i in range(8))
    )
    assert sum(o.settled for o in outcomes) == 3
    assert {o.failed_clause for o in outcomes if not o.settled} == {"funds_remaining"}
    await assert_invariants(vouchers)


@pytest.mark.parametrize("redeem_first", [True, False])
async def test_redemption_racing_expiry(vouchers: VoucherService, redeem_first: bool) -> None:
    await issued(vouchers, grocery_voucher())
    just_before = T0 + days(30) - dt.timedelta(seconds=1)
    batch = [Redemption("sz-1", f"r{i}", facts(business_at=just_before)) for i in range(20)]
    expiry = vouchers.expire_due(at_us(T0 + days(30)))
    redeem = vouchers.redeem_batch(batch)
    results = await asyncio.gather(*((redeem, expiry) if redeem_first else (expiry, redeem)))
    outcomes = results[0] if redeem_first else results[1]
    settled = sum(o.settled for o in outcomes)
    assert settled in (0, 20)
    if not settled:
        assert {o.failed_clause for o in outcomes} == {"program_active"}
    view = await vouchers.get_program("sz-1")
    assert view.status == "expired" and view.outstanding_minor == 0
    assert view.redeemed_minor + view.refunded_minor == 100_000
    assert view.redeemed_minor == 3_000 * settled
    await assert_invariants(vouchers)


# --- restart ----------------------------------------------------------------------------------


async def test_restart_rederives_counters_and_replays_first_outcomes(fresh_db: str, clock) -> None:  # type: ignore[no-untyped-def]
    first = await VoucherService.open(fresh_db, clock)
    try:
        await issued(first, grocery_voucher())
        settled = await first.redeem(Redemption("sz-1", "ok", facts()))
        refused = await first.redeem(Redemption("sz-1", "no", facts(amount_minor=10**6)))
    finally:
        await first.close()
    second = await VoucherService.open(fresh_db, clock)
    try:
        view = await second.get_program("sz-1")
        assert (view.redeemed_minor, view.outstanding_minor, view.redemptions) == (3_000, 97_000, 1)
        again = await second.redeem_batch(
            [Redemption("sz-1", "ok", facts()), Redemption("sz-1", "no", facts(amount_minor=1))]
        )
        assert [(o.settled, o.seq, o.failed_clause, o.replayed) for o in again] == [
            (True, settled.seq, "", True),
            (False, 0, refused.failed_clause, True),
        ]
        await assert_invariants(second)
    finally:
        await second.close()
