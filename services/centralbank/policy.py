"""Wallet tiers as policy data (policy.yaml), loaded into typed objects in minor units."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from corridor.money import MINOR_UNITS

POLICY_FILE = Path(__file__).with_name("policy.yaml")


@dataclass(frozen=True, slots=True)
class WalletTier:
    tier: int
    how_opened: str
    balance_max_minor: int  # 0 = no limit
    per_payment_max_minor: int
    daily_max_minor: int


@dataclass(frozen=True, slots=True)
class NodePolicy:
    jurisdiction: str
    currency: str
    utc_offset_minutes: int
    tiers: dict[int, WalletTier]


@cache
def load_policy(jurisdiction: str, path: Path = POLICY_FILE) -> NodePolicy:
    doc = yaml.safe_load(path.read_text())
    if jurisdiction not in doc:
        raise ValueError(f"{path}: no policy for jurisdiction {jurisdiction!r}")
    j = doc[jurisdiction]
    scale = 10 ** MINOR_UNITS[j["currency"]]
    tiers = {
        int(n): WalletTier(
            int(n),
            t["how_opened"],
            int(t["balance_max"]) * scale,
            int(t["per_payment_max"]) * scale,
            int(t["daily_max"]) * scale,
        )
        for n, t in j["tiers"].items()
    }
    return NodePolicy(jurisdiction, j["currency"], int(j["utc_offset_minutes"]), tiers)
