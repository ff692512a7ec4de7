"""Small builders shared by the scenario tests."""

from __future__ import annotations

import numpy as np

from corridor.scenario import KIND_NAMES, PaymentBatch, Scenario


def one_payment(
    scenario: Scenario,
    created_at_s: float,
    corridor: str,
    kind: str = "retail",
    amount_usd_minor: int = 20_000,
    payment_id: int = 0,
    payer: int = 50_000,
) -> PaymentBatch:
    """A hand-made single payment on a directed corridor like 'CN-HK'."""
    c = next(c for c in scenario.directed_corridors if c.code == corridor)
    return PaymentBatch(
        payment_id=np.array([payment_id], np.int64),
        created_at_s=np.array([created_at_s], np.float64),
        corridor=np.array([c.index], np.int16),
        from_j=np.array([c.from_index], np.int8),
        to_j=np.array([c.to_index], np.int8),
        kind=np.array([KIND_NAMES.index(kind)], np.int8),  # type: ignore[arg-type]
        amount_usd_minor=np.array([amount_usd_minor], np.int64),
        amount_minor=np.array([amount_usd_minor], np.int64),
        payer=np.array([payer], np.int64),
        payee=np.array([1], np.int64),
    )


def hours_since_start(day: int, hour: float, utc_offset_h: float) -> float:
    """Seconds since a Monday-00:00-UTC start for local (day from Monday=0, hour)."""
    return (day * 24 + hour - utc_offset_h) * 3600.0
