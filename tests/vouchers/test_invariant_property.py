"""Property: under any interleaving of issue, redeem, expire and claw-back -- run concurrently --
every program keeps issued = redeemed + refunded + clawed_back + outstanding on the ledger, and the
service's counters match what it acknowledged to callers (nothing acknowledged is missing, nothing
is counted twice)."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corridor import pg
from corridor.clock import VirtualClock
from corridor.errors import CorridorError
from services.vouchers.conditions import Merchant, Party
from services.vouchers.invariants import check_voucher_invariants
from services.vouchers.program import VoucherProgram
from services.vouchers.service import Redemption, VoucherService, at_us
from services.vouchers.templates import consumption_voucher, prepaid_escrow, subsidy
from tests.vouchers.helpers import T0, facts

EXPIRY = T0 + dt.timedelta(days=10)
_examples = itertools.count()


def programs(prefix: str) -> list[VoucherProgram]:
    return [
        consumption_voucher(
            program_id=f"{prefix}p0", funder_id="gov", amount_minor=20_000, merchant_categories=["5411"],
            regions=["44"], expires_at=EXPIRY, per_payment_cap_minor=6_000,
        ),
        subsidy(
            program_id=f"{prefix}p1", agency_id="agency", recipients=["w-alice"], amount_minor=15_000,
            per_payment_cap_minor=5_000, expires_at=EXPIRY + dt.timedelta(days=5),
        ),
        prepaid_escrow(
            program_id=f"{prefix}p2", customer_id="w-alice", provider_id="m-001", session_price_minor=4_000,
            sessions=4, expires_at=EXPIRY + dt.timedelta(days=20), regulator_id="bureau",
        ),
    ]  # fmt: skip


AUTHORITIES = ("", "agency", "bureau")

redeem_op = st.tuples(
    st.just("redeem"),
    st.integers(0, 2),  # program
    st.integers(0, 7),  # key (repeats are retries)
    st.sampled_from([1_000, 4_000, 5_000, 7_000]),
    st.integers(0, 25),  # business day offset
)
operation = st.one_of(
    redeem_op,
    st.tuples(st.just("batch"), st.lists(redeem_op, min_size=1, max_size=6)),
    st.tuples(st.just("expire"), st.integers(0, 40)),
    st.tuples(
        st.just("clawback"),
        st.integers(0, 2),
        st.sampled_from([0, 2_000]),
        st.booleans(),
        st.integers(0, 2),
    ),
    st.tuples(st.just("issue"), st.integers(0, 2)),
)


def redemption(prefix: str, op: tuple[Any, ...]) -> Redemption:
    _, index, key, amount, day = op
    return Redemption(
        f"{prefix}p{index}",
        f"k{key}",
        facts(
            amount_minor=amount,
            business_at=T0 + dt.timedelta(days=day),
            payee=Party("m-001", 2),
            merchant=Merchant("m-001", "5411", "440303"),
            evidence={"service_record": "ab" * 32},
        ),
    )


class Model:
    """What callers were told: settled redemption and claw-back amounts, by key."""

    def __init__(self) -> None:
        self.redeemed: dict[str, dict[str, int]] = defaultdict(dict)
        self.clawed: dict[str, dict[str, int]] = defaultdict(dict)

    def saw(self, outcome: Any) -> None:
        if outcome.settled:
            known = self.redeemed[outcome.program_id].setdefault(
                outcome.idempotency_key, outcome.amount_minor
            )
            assert known == outcome.amount_minor, "a retry answered a different amount"


async def run(
    service: VoucherService, prefix: str, op: tuple[Any, ...], model: Model, issued: set[str]
) -> None:
    kind = op[0]
    if kind == "redeem":
        model.saw(await service.redeem(redemption(prefix, op)))
    elif kind == "batch":
        for outcome in await service.redeem_batch([redemption(prefix, o) for o in op[1]]):
            model.saw(outcome)
    elif kind == "expire":
        await service.expire_due(at_us(T0 + dt.timedelta(days=op[1])))
    elif kind == "clawback":
        _, index, amount, right, key = op
        pid = f"{prefix}p{index}"
        authority = AUTHORITIES[index] if right else "mallory"
        try:
            moved = await service.clawback(pid, authority, f"c{key}", amount)
        except CorridorError:
            return  # refused: wrong authority, closed, or more than outstanding
        model.clawed[pid].setdefault(moved.transfer_id, moved.amount_minor)
    elif kind == "issue":
        program = programs(prefix)[op[1]]
        await service.issue(program, f"issue-{program.program_id}")
        issued.add(program.program_id)


async def scenario(url: str, prefix: str, rounds: list[list[tuple[Any, ...]]]) -> None:
    """One example: fresh program ids (prefix) on the test's database, a fresh service."""
    service = await VoucherService.open(url, VirtualClock(at_us(T0)))
    model, issued = Model(), set()
    try:
        for funder in ("gov", "agency", "w-alice"):
            await service.deposit(funder, "CNY", 1_000_000, f"seed-{prefix}")
        for ops in rounds:
            await asyncio.gather(*(run(service, prefix, op, model, issued) for op in ops))
            assert await check_voucher_invariants(url) == []
            for pid in issued:
                view = await service.get_program(pid)
                assert view.redeemed_minor == sum(model.redeemed[pid].values())
                assert view.clawed_back_minor == sum(model.clawed[pid].values())
                total = view.redeemed_minor + view.refunded_minor + view.clawed_back_minor
                assert view.issued_minor == total + view.outstanding_minor
    finally:
        await service.close()


@pytest.fixture(scope="module")
def property_db(pg_server_url: str) -> Iterator[str]:
    url = pg.with_database(pg_server_url, f"prop_{os.getpid()}")
    asyncio.run(pg.drop_database(url))
    asyncio.run(pg.ensure_database(url))
    yield url
    asyncio.run(pg.drop_database(url))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.lists(operation, min_size=1, max_size=5), min_size=1, max_size=6))
def test_voucher_invariant_under_random_interleavings(property_db: str, rounds) -> None:  # type: ignore[no-untyped-def]
    prefix = f"x{next(_examples)}-"
    rounds = [[("issue", 0), ("issue", 1), ("issue", 2)], *rounds]
    asyncio.run(scenario(property_db, prefix, rounds))
