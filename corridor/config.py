"""Jurisdictions, currencies, ports and per-service settings, read once at start."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    code: str  # ISO-3166 alpha-2: CN, HK, TH, AE, SA
    currency: str  # the CBDC's ISO-4217 code
    name: str
    default_port: int
    utc_offset_minutes: int


JURISDICTIONS: dict[str, Jurisdiction] = {
    j.code: j
    for j in (
        Jurisdiction("CN", "CNY", "People's Bank of China (e-CNY)", 50051, 480),
        Jurisdiction("HK", "HKD", "Hong Kong Monetary Authority (e-HKD)", 50052, 480),
        Jurisdiction("TH", "THB", "Bank of Thailand (digital baht)", 50053, 420),
        Jurisdiction("AE", "AED", "Central Bank of the UAE (digital dirham)", 50054, 240),
        Jurisdiction("SA", "SAR", "Saudi Central Bank (digital riyal)", 50055, 180),
    )
}

SERVICE_PORTS: dict[str, int] = {
    **{j.code.lower(): j.default_port for j in JURISDICTIONS.values()},
    "bridge": 50060,
    "vouchers": 50061,
    "supervision": 50062,
    "stablecoin": 50063,
}


def jurisdiction(code: str) -> Jurisdiction:
    """The jurisdiction for a code, or a ValueError that lists the valid ones."""
    try:
        return JURISDICTIONS[code.upper()]
    except KeyError:
        valid = ", ".join(JURISDICTIONS)
        raise ValueError(f"unknown jurisdiction {code!r}; expected one of {valid}") from None


def state_dir() -> Path:
    """Where `corridor up` keeps the embedded database, logs and pid files."""
    return Path(os.environ.get("CORRIDOR_HOME", ".corridor")).resolve()


@dataclass(slots=True)
class ServiceSettings:
    """What every service process reads at start."""

    name: str  # e.g. "cn", "bridge"
    bind: str = "127.0.0.1:0"
    database_url: str = ""
    # OTel service name; standard OTEL_* variables configure export and sampling.
    service_name: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.service_name:
            self.service_name = os.environ.get("OTEL_SERVICE_NAME", f"corridor-{self.name}")
