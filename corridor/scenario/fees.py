"""Integer fee arithmetic shared by the rail models.

Fee *rates* are configured in basis points (floats are fine for a rate); fee *amounts* are
integer minor units. A rate is first fixed to hundredths of a basis point, then applied to
the integer amount with round-half-up, so no money amount is ever a float.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from numpy.typing import ArrayLike, NDArray

_CENTI_BPS_PER_UNIT = 1_000_000  # 1.0 == 10_000 bps == 1_000_000 hundredths of a bp
_INT64_SAFE = 2**62


def bps_to_centi(bps: ArrayLike) -> NDArray[np.int64]:
    """A rate in basis points as integer hundredths of a basis point."""
    return np.rint(np.asarray(bps, dtype=np.float64) * 100.0).astype(np.int64)


def fee_minor(amount_minor: ArrayLike, bps: ArrayLike) -> NDArray[np.int64]:
    """``amount_minor * bps / 10_000`` in integer minor units, rounded half up.

    Amounts up to ~4.6e12 minor units (US$46bn) at rates up to 100% stay inside int64.
    """
    amount = np.asarray(amount_minor, dtype=np.int64)
    centi = bps_to_centi(bps)
    if amount.size and int(np.abs(amount).max()) * max(int(np.abs(centi).max()), 1) > _INT64_SAFE:
        raise OverflowError("fee_minor: amount x rate exceeds int64; split the payment")
    half = _CENTI_BPS_PER_UNIT // 2
    return (amount * centi + half) // _CENTI_BPS_PER_UNIT


def usd_to_minor(amount: Decimal | int | str) -> int:
    """US dollars (a Decimal with at most two places) as integer cents."""
    cents = Decimal(amount) * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} USD has more than two decimal places")
    return int(cents)
