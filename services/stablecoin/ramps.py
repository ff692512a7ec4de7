"""On- and off-ramps: local currency <-> dollar token, one set of terms per jurisdiction.

A corridor payment on the stablecoin rail is three legs: the payer's ramp buys tokens with local
currency (on-ramp), the chain moves them, the payee's ramp sells them for local currency
(off-ramp). A user with an account at a regulated ramp (``kyc_coverage`` of users) pays its fee
and waits its delay; everyone else goes through P2P/OTC desks, dearer and slower. Where capital
controls bind, buying dollar tokens with local currency costs a premium on top. An exchange halt
stops the ramps that exchange runs until the halt ends.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from services.stablecoin.spec import RampSpec

_CORRIDOR = re.compile(r"^\s*([A-Za-z]{2})\s*(?:->|-|>|_|/|:|→)\s*([A-Za-z]{2})\s*$")


def parse_corridor(corridor: str) -> tuple[str, str]:
    """``"HK-CN"``, ``"HK->CN"``, ``"hk/cn"`` -> ``("HK", "CN")``."""
    m = _CORRIDOR.match(corridor or "")
    if not m:
        raise ValueError(
            f"corridor: expected two jurisdiction codes like 'HK-CN' (got {corridor!r})"
        )
    src, dst = m.group(1).upper(), m.group(2).upper()
    if src == dst:
        raise ValueError(f"corridor: a corridor joins two jurisdictions (got {corridor!r})")
    return src, dst


@dataclass(frozen=True, slots=True)
class RampLeg:
    """One ramp leg of a payment."""

    jurisdiction: str
    direction: str  # "on" | "off"
    route: str  # "regulated" | "p2p"
    fee_minor: int
    capital_control_minor: int
    delay_s: float


def _bps(amount_minor: int, bps: float) -> int:
    return math.ceil(amount_minor * bps / 10_000.0) if bps else 0


def ramp_leg(code: str, ramp: RampSpec, direction: str, amount_minor: int, kyc: bool) -> RampLeg:
    """Fees and time of one leg for a payment of ``amount_minor`` US cents."""
    base_bps = ramp.on_fee_bps if direction == "on" else ramp.off_fee_bps
    base_delay = ramp.on_delay_s if direction == "on" else ramp.off_delay_s
    if kyc:
        fee = _bps(amount_minor, base_bps) + ramp.fixed_fee_minor
        delay = base_delay
    else:
        fee = _bps(amount_minor, ramp.p2p_fee_bps) + ramp.fixed_fee_minor
        delay = base_delay + ramp.p2p_delay_s
    premium = _bps(amount_minor, ramp.capital_control_premium_bps) if direction == "on" else 0
    return RampLeg(code, direction, "regulated" if kyc else "p2p", fee, premium, delay)
