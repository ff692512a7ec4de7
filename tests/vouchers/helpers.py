"""Builders shared by the voucher tests: a redemption with sensible defaults, overridable."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.vouchers.conditions import (
    Merchant,
    Party,
    ProgramCounters,
    RedemptionFacts,
    build_context,
)
from services.vouchers.program import VoucherProgram

T0 = dt.datetime(2025, 3, 3, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Shanghai
GROCERY = "5411"
LUOHU = "440303"
BOL_HASH = "3f" * 32


def facts(**overrides: Any) -> RedemptionFacts:
    values: dict[str, Any] = {
        "amount_minor": 3_000,
        "currency": "CNY",
        "merchant": Merchant("m-001", GROCERY, LUOHU),
        "payer": Party("w-alice", 3),
        "payee": Party("m-001", 2),
        "business_at": T0,
        "evidence": {},
    }
    values.update(overrides)
    return RedemptionFacts(**values)


def counters(issued: int = 100_000, spent: int = 0, redemptions: int = 0) -> ProgramCounters:
    return ProgramCounters(issued, spent, issued - spent, redemptions)


def context_for(program: VoucherProgram, spent: int = 0, **overrides: Any) -> dict[str, Any]:
    return build_context(facts(**overrides), counters(program.amount_minor, spent), program.zone)
