"""Fixtures: a VoucherService on a fresh real PostgreSQL database, driven by a virtual clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from corridor.clock import VirtualClock
from services.vouchers.service import VoucherService, at_us
from tests.vouchers.helpers import T0


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(at_us(T0))


@pytest.fixture
async def vouchers(fresh_db: str, clock: VirtualClock) -> AsyncIterator[VoucherService]:
    service = await VoucherService.open(fresh_db, clock)
    try:
        yield service
    finally:
        await service.close()


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)
