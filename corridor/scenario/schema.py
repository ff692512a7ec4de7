"""The scenario file schema: what a Corridor simulation run is made of.

A scenario states a policy question and the world in which to answer it: the jurisdictions
and their currencies and time zones, the corridors that carry payments between them, the
kinds of payment with their sizes and daily/weekly rhythms, the three rails a payer can
choose from (the CBDC corridor, a USD-stablecoin rail, correspondent banking), how payers
choose, reference FX rates, the stablecoin comparator's own specification, supervision
typologies to inject, a stress schedule, and the assumptions (each labelled a fact, an
assumption or a seed-claim, with a source) that a briefing must print beside its results.

Every model forbids unknown keys, so a typo is an error rather than a silently ignored
setting. Every field has a default except ``name`` and ``question``, so a file states only
what differs from the normal week. Partial sections (``kinds``, ``patterns``, ``fx``, the
per-kind rail tables, a jurisdiction given only by ``code``) are laid over the defaults.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from corridor.money import MINOR_UNITS

KindName = Literal["trade", "retail", "remittance"]
RailName = Literal["cbdc", "stablecoin", "correspondent"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
AssumptionKind = Literal["fact", "assumption", "seed-claim"]
StressKind = Literal["flight_to_safety", "volume_surge", "rail_outage"]

KIND_NAMES: tuple[KindName, ...] = ("trade", "retail", "remittance")
RAIL_NAMES: tuple[RailName, ...] = ("cbdc", "stablecoin", "correspondent")
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# (location inside the scenario, human reason) pairs from cross-field checks.
Problem = tuple[tuple[str | int, ...], str]


# --------------------------------------------------------------------------- value types


def _weekend_sat_sun() -> list[Weekday]:
    return ["sat", "sun"]


def _trade_leans_on_banks() -> dict[KindName, dict[RailName, float]]:
    return {"trade": {"correspondent": 1.5}}


def _per_rail(cbdc: float, stablecoin: float, correspondent: float) -> dict[RailName, float]:
    return {"cbdc": cbdc, "stablecoin": stablecoin, "correspondent": correspondent}


# Value parsers raise ValueError even for a wrong type: pydantic reports a ValueError as a
# validation error at the field, whereas a TypeError would escape as a traceback.


def _parse_hour(value: Any) -> float:
    """A local time of day as hours: ``16``, ``16.5`` or ``"16:30"``."""
    if isinstance(value, bool):
        raise ValueError(f"expected an hour of day like 16 or '16:30' (got {value!r})")  # noqa: TRY004
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
        if not m:
            raise ValueError(f"expected an hour of day like 16 or '16:30' (got {value!r})")
        hours = int(m.group(1)) + int(m.group(2)) / 60.0
    elif isinstance(value, int | float):
        hours = float(value)
    else:
        raise ValueError(f"expected an hour of day like 16 or '16:30' (got {value!r})")  # noqa: TRY004
    if not 0.0 <= hours <= 24.0:
        raise ValueError(f"must be between 0 and 24 (got {value!r})")
    return hours


def _parse_utc_offset(value: Any) -> int:
    """A fixed UTC offset as minutes: ``"+08:00"``, ``"UTC+8"``, ``8`` or ``5.5``."""
    minutes: float
    if isinstance(value, bool):
        raise ValueError(f"expected a UTC offset like '+08:00' (got {value!r})")  # noqa: TRY004
    if isinstance(value, int | float):
        minutes = float(value) * 60.0
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*(?:UTC)?\s*([+-])(\d{1,2})(?::?(\d{2}))?\s*", value)
        if not m:
            raise ValueError(f"expected a UTC offset like '+08:00' (got {value!r})")
        sign = -1 if m.group(1) == "-" else 1
        minutes = sign * (int(m.group(2)) * 60 + int(m.group(3) or 0))
    else:
        raise ValueError(f"expected a UTC offset like '+08:00' (got {value!r})")  # noqa: TRY004
    if minutes % 15 or not -12 * 60 <= minutes <= 14 * 60:
        raise ValueError(f"must be a whole quarter-hour between -12:00 and +14:00 (got {value!r})")
    return int(minutes)


def _format_utc_offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _parse_rate(value: Any) -> Fraction:
    """A reference FX rate (units of currency per 1 USD) as an exact fraction.

    Accepts an integer ratio ``"71/10"``, a decimal string ``"7.10"``, an int, or a YAML
    float (taken by its shortest decimal spelling, so ``7.1`` means exactly 71/10).
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a rate like '7.10' or '71/10' (got {value!r})")  # noqa: TRY004
    try:
        if isinstance(value, Fraction):
            rate = value
        elif isinstance(value, int):
            rate = Fraction(value)
        elif isinstance(value, float | Decimal):
            rate = Fraction(Decimal(repr(value)) if isinstance(value, float) else value)
        elif isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?(\s*/\s*\d+)?\s*", value):
            rate = Fraction(value.replace(" ", ""))
        else:
            raise ValueError
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"expected a rate like '7.10' or '71/10' (got {value!r})") from None
    if rate <= 0:
        raise ValueError(f"must be > 0 (got {value!r})")
    return rate


def _format_rate(rate: Fraction) -> str:
    """Exact decimal when the fraction has one, else the integer ratio."""
    den = rate.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den == 1:
        return str(Decimal(rate.numerator) / Decimal(rate.denominator))
    return f"{rate.numerator}/{rate.denominator}"


def parse_start_at(value: Any) -> Any:
    """ISO datetime in UTC; naive values are read as UTC, others converted to UTC."""
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected an ISO datetime like 2025-03-10T00:00:00Z (got {value!r})")
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


HourOfDay = Annotated[float, BeforeValidator(_parse_hour)]
UtcOffsetMinutes = Annotated[
    int, PlainValidator(_parse_utc_offset), PlainSerializer(_format_utc_offset, return_type=str)
]
FxRate = Annotated[
    Fraction, PlainValidator(_parse_rate), PlainSerializer(_format_rate, return_type=str)
]
UsdAmount = Annotated[Decimal, Field(ge=0, decimal_places=2)]
Share = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]


def _overlay(default: Any, given: Any) -> Any:
    """``given`` laid over ``default``: mappings merge key by key, anything else replaces."""
    if isinstance(default, dict) and isinstance(given, dict):
        merged = dict(default)
        for key, value in given.items():
            merged[key] = _overlay(default.get(key), value) if key in default else value
        return merged
    return given


class ScenarioModel(BaseModel):
    """Base for every scenario section: unknown keys are errors, aliases and names both work."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --------------------------------------------------------------------------- jurisdictions

KNOWN_JURISDICTIONS: dict[str, dict[str, Any]] = {
    # Fixed offsets: none of the five observes daylight saving time.
    "CN": {"currency": "CNY", "utc_offset": "+08:00", "weekend": ["sat", "sun"],
           "wallets": 400_000, "corporate_wallets": 40_000},
    "HK": {"currency": "HKD", "utc_offset": "+08:00", "weekend": ["sat", "sun"],
           "wallets": 150_000, "corporate_wallets": 20_000},
    "TH": {"currency": "THB", "utc_offset": "+07:00", "weekend": ["sat", "sun"],
           "wallets": 150_000, "corporate_wallets": 15_000},
    # The UAE moved its working week to Monday-Friday on 1 Jan 2022.
    "AE": {"currency": "AED", "utc_offset": "+04:00", "weekend": ["sat", "sun"],
           "wallets": 120_000, "corporate_wallets": 15_000},
    # Saudi Arabia's weekend is Friday-Saturday.
    "SA": {"currency": "SAR", "utc_offset": "+03:00", "weekend": ["fri", "sat"],
           "wallets": 100_000, "corporate_wallets": 10_000},
}  # fmt: skip


class Jurisdiction(ScenarioModel):
    """A jurisdiction with its own central bank, currency, clock and banking day."""

    code: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. CN.")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code of its CBDC.")
    currency_exponent: int = Field(
        2, ge=0, le=4, description="Minor units per major unit as a power of ten (2: cents)."
    )
    utc_offset: UtcOffsetMinutes = Field(
        description="Fixed offset from UTC, e.g. '+08:00' (no daylight saving modelled)."
    )
    weekend: list[Weekday] = Field(
        default_factory=_weekend_sat_sun, description="Non-business weekdays."
    )
    holidays: list[date] = Field(default_factory=list, description="Bank holidays (local dates).")
    bank_open: HourOfDay = Field(9.0, description="Local hour banks open (credits posted).")
    bank_close: HourOfDay = Field(17.0, description="Local hour banks close.")
    cutoff: HourOfDay = Field(
        16.0, description="Local cut-off for same-day cross-border instructions."
    )
    wallets: int = Field(
        100_000, gt=0, description="Synthetic wallet population (payers/payees drawn from it)."
    )
    corporate_wallets: int = Field(
        10_000, gt=0, description="How many of the wallets (the first ones) are corporate."
    )

    @model_validator(mode="before")
    @classmethod
    def _known_defaults(cls, data: Any) -> Any:
        # A known code alone (`- code: CN`) brings its currency, clock and weekend.
        if isinstance(data, dict) and data.get("code") in KNOWN_JURISDICTIONS:
            return {**KNOWN_JURISDICTIONS[data["code"]], **data}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Jurisdiction:
        if self.corporate_wallets >= self.wallets:
            raise ValueError(
                f"corporate_wallets ({self.corporate_wallets}) must be < wallets ({self.wallets})"
            )
        if not self.bank_open < self.bank_close:
            raise ValueError("bank_open must be before bank_close")
        return self

    @property
    def utc_offset_s(self) -> int:
        return self.utc_offset * 60


def _default_jurisdictions() -> list[Jurisdiction]:
    return [Jurisdiction.model_validate({"code": code}) for code in KNOWN_JURISDICTIONS]


# --------------------------------------------------------------------------- corridors


class Corridor(ScenarioModel):
    """A payment corridor from one jurisdiction to another and its relative volume."""

    from_: str = Field(alias="from", description="Payer jurisdiction code.")
    to: str = Field(description="Payee jurisdiction code.")
    weight: float = Field(gt=0, description="Relative share of all payments (any scale).")
    both_ways: bool = Field(
        False, description="Also create the reverse corridor with the same weight and mix."
    )
    kinds: dict[KindName, Share] | None = Field(
        None, description="Mix of payment kinds on this corridor; default: the kinds' shares."
    )


def _corridor(a: str, b: str, weight: float) -> Corridor:
    return Corridor.model_validate({"from": a, "to": b, "weight": weight, "both_ways": True})


def _default_corridors() -> list[Corridor]:
    # Illustrative relative weights (an assumption): CN<->HK dominates, as in CIPS/CNH flows.
    pairs = [("CN", "HK", 30), ("CN", "TH", 8), ("CN", "AE", 6), ("CN", "SA", 4),
             ("HK", "TH", 2), ("HK", "AE", 2), ("HK", "SA", 1), ("TH", "AE", 1),
             ("TH", "SA", 0.5), ("AE", "SA", 2)]  # fmt: skip
    return [_corridor(a, b, w) for a, b, w in pairs]


class DirectedCorridor(BaseModel):
    """One direction of a corridor, as the demand and rail models index it."""

    index: int
    code: str  # "CN-HK"
    from_index: int
    to_index: int
    weight: float
    kind_shares: tuple[float, float, float]  # normalised, in KIND_NAMES order
    source: int  # index of the `corridors` entry it came from


# --------------------------------------------------------------------------- payment kinds


class SizeDistribution(ScenarioModel):
    """Lognormal payment size in USD, clipped to [min_usd, max_usd]."""

    median_usd: float = Field(gt=0, description="Median size in USD (exp of the log-mean).")
    sigma: float = Field(ge=0, le=5, description="Standard deviation of log(size).")
    min_usd: float = Field(1.0, gt=0, description="Smallest payment in USD.")
    max_usd: float = Field(1e9, gt=0, description="Largest payment in USD.")

    @model_validator(mode="after")
    def _ordered(self) -> SizeDistribution:
        if not self.min_usd <= self.median_usd <= self.max_usd:
            raise ValueError("need min_usd <= median_usd <= max_usd")
        return self


class PaymentKind(ScenarioModel):
    """A kind of payment: its share of the count, its sizes and its counterparties."""

    share: Share = Field(description="Share of payments by count (relative to the other kinds).")
    size: SizeDistribution = Field(description="Size distribution in USD.")
    repeat_counterparty: Probability = Field(
        description="Probability a payer pays one of its usual counterparties."
    )
    usual_counterparties: int = Field(
        ge=1, le=1000, description="How many usual counterparties each payer has."
    )
    activity_skew: float = Field(
        ge=1, le=10, description="Concentration of activity on few wallets (1: uniform)."
    )


DEFAULT_KINDS: dict[str, dict[str, Any]] = {
    # Assumptions: trade is few, large, corporate-to-corporate and repetitive; retail is
    # many small purchases from merchants; remittances cluster near $200-300 (the World
    # Bank's $200 benchmark) and go to a couple of relatives.
    "trade": {"share": 0.2, "size": {"median_usd": 20_000, "sigma": 1.4, "min_usd": 100,
              "max_usd": 20_000_000}, "repeat_counterparty": 0.85, "usual_counterparties": 5,
              "activity_skew": 2.0},
    "retail": {"share": 0.5, "size": {"median_usd": 60, "sigma": 1.0, "min_usd": 1,
               "max_usd": 20_000}, "repeat_counterparty": 0.3, "usual_counterparties": 10,
               "activity_skew": 1.5},
    "remittance": {"share": 0.3, "size": {"median_usd": 250, "sigma": 0.7, "min_usd": 10,
                   "max_usd": 10_000}, "repeat_counterparty": 0.9, "usual_counterparties": 2,
                   "activity_skew": 1.2},
}  # fmt: skip


class Kinds(ScenarioModel):
    """The three payment kinds; a file may give only the fields it changes."""

    trade: PaymentKind
    retail: PaymentKind
    remittance: PaymentKind

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, data: Any) -> Any:
        return _overlay(DEFAULT_KINDS, data) if isinstance(data, dict) else data

    def by_index(self) -> tuple[PaymentKind, PaymentKind, PaymentKind]:
        return (self.trade, self.retail, self.remittance)


# --------------------------------------------------------------------------- activity patterns


class ActivityPattern(ScenarioModel):
    """When a kind of payment is made, in the payer's local time."""

    intraday: list[Share] = Field(
        min_length=24, max_length=24, description="24 relative weights by local hour 0..23."
    )
    weekly: list[Share] = Field(
        default_factory=lambda: [1.0] * 7,
        min_length=7,
        max_length=7,
        description="7 relative weights by local weekday, Monday first.",
    )
    weekend_factor: float = Field(
        1.0, ge=0, description="Extra multiplier on the payer's weekend days and holidays."
    )

    @field_validator("intraday", "weekly")
    @classmethod
    def _some_activity(cls, v: list[float]) -> list[float]:
        if sum(v) <= 0:
            raise ValueError("at least one weight must be > 0")
        return v


DEFAULT_PATTERNS: dict[str, dict[str, Any]] = {
    # Trade follows office hours on business days; retail peaks at lunch and in the
    # evening and rises at weekends; remittances are sent after work and at weekends.
    "trade": {"intraday": [0.05, 0.03, 0.03, 0.03, 0.03, 0.05, 0.1, 0.3, 0.8, 1.6, 1.7, 1.6,
                           1.0, 1.2, 1.5, 1.5, 1.4, 0.8, 0.4, 0.2, 0.1, 0.1, 0.05, 0.05],
              "weekend_factor": 0.1},
    "retail": {"intraday": [0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.6, 0.9, 1.0, 1.2, 1.3,
                            1.5, 1.2, 1.1, 1.1, 1.2, 1.3, 1.5, 1.6, 1.6, 1.3, 0.9, 0.5],
               "weekend_factor": 1.2},
    "remittance": {"intraday": [0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0,
                                1.1, 1.0, 1.0, 1.0, 1.1, 1.3, 1.6, 1.8, 1.8, 1.5, 1.0, 0.5],
                   "weekend_factor": 1.4},
}  # fmt: skip


class Patterns(ScenarioModel):
    """Intraday and weekly rhythm per payment kind."""

    trade: ActivityPattern
    retail: ActivityPattern
    remittance: ActivityPattern

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, data: Any) -> Any:
        return _overlay(DEFAULT_PATTERNS, data) if isinstance(data, dict) else data

    def by_index(self) -> tuple[ActivityPattern, ActivityPattern, ActivityPattern]:
        return (self.trade, self.retail, self.remittance)


# --------------------------------------------------------------------------- rails


class CbdcRail(ScenarioModel):
    """The mBridge-style CBDC corridor: PvP in central-bank money, seconds, 24/7."""

    enabled: bool = Field(True, description="Offer this rail to payers.")
    fee_bps: float = Field(10.0, ge=0, description="Platform and operator fees, in bp of amount.")
    fx_spread_bps: float = Field(
        25.0, ge=0, description="FX liquidity provider spread on the bridge, in bp."
    )
    fixed_fee_usd: UsdAmount = Field(Decimal(0), description="Fixed fee per payment, USD.")
    settle_s: float = Field(10.0, gt=0, description="Initiation to payee credit, seconds.")
    available_24_7: bool = Field(
        True, description="Open around the clock; if false, only in the payer's bank hours."
    )


class StablecoinRail(ScenarioModel):
    """Routing parameters of the USD-stablecoin rail (the rail's own model: `stablecoin:`)."""

    enabled: bool = Field(True, description="Offer this rail to payers.")
    on_ramp_bps: float = Field(50.0, ge=0, description="Fiat-to-token fee at the payer, bp.")
    off_ramp_bps: float = Field(50.0, ge=0, description="Token-to-fiat fee at the payee, bp.")
    network_fee_usd: UsdAmount = Field(
        Decimal("1.00"), description="Chain fee per transfer in quiet markets, USD."
    )
    finality_s: float = Field(60.0, gt=0, description="Time to final settlement on chain, s.")
    ramp_s: float = Field(900.0, ge=0, description="On- plus off-ramp processing time, s.")
    ramps_24_7: bool = Field(
        True, description="Ramps run around the clock; if false, only in the payer's bank hours."
    )


class Intermediary(ScenarioModel):
    """The correspondent bank(s) in the middle of a multi-hop chain (e.g. USD clearing)."""

    name: str = Field("US", description="Label of the clearing centre.")
    utc_offset: UtcOffsetMinutes = Field(-300, description="Its UTC offset (New York: -05:00).")
    weekend: list[Weekday] = Field(default_factory=_weekend_sat_sun)
    holidays: list[date] = Field(default_factory=list)
    cutoff: HourOfDay = Field(17.0, description="Local cut-off for same-day forwarding.")


DEFAULT_FIXED_FEE_PER_HOP = {
    "trade": Decimal("15.00"),
    "retail": Decimal("3.25"),
    "remittance": Decimal("3.25"),
}
DEFAULT_FX_MARGIN_BPS = {"trade": 30.0, "retail": 250.0, "remittance": 300.0}
DEFAULT_SETTLEMENT_DAYS = {"trade": 2, "retail": 1, "remittance": 1}


class CorrespondentRail(ScenarioModel):
    """The status quo: a chain of banks, each batching at its cut-off, value date T+N."""

    enabled: bool = Field(True, description="Offer this rail to payers.")
    hops: int = Field(2, ge=1, le=5, description="Bank-to-bank legs on a corridor by default.")
    hops_by_corridor: dict[str, Annotated[int, Field(ge=1, le=5)]] = Field(
        default_factory=lambda: {"CN-HK": 1},
        description="Per-corridor hops; 'CN-HK' covers both directions.",
    )
    fee_bps_per_hop: float = Field(10.0, ge=0, description="Ad valorem fee per leg, bp.")
    fixed_fee_usd_per_hop: dict[KindName, UsdAmount] = Field(
        default_factory=lambda: dict(DEFAULT_FIXED_FEE_PER_HOP),  # type: ignore[arg-type]
        description="Fixed fee per leg by kind, USD.",
    )
    fx_margin_bps: dict[KindName, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: dict(DEFAULT_FX_MARGIN_BPS),  # type: ignore[arg-type]
        description="FX margin over the reference rate by kind, bp (charged once).",
    )
    settlement_days: dict[KindName, Annotated[int, Field(ge=0, le=5)]] = Field(
        default_factory=lambda: dict(DEFAULT_SETTLEMENT_DAYS),  # type: ignore[arg-type]
        description="Value date T+N in business days by kind.",
    )
    intermediary: Intermediary = Field(default_factory=lambda: Intermediary.model_validate({}))
    exception_rate: Probability = Field(
        0.02, description="Share of payments held for repair/compliance (delayed)."
    )
    return_rate: Probability = Field(0.002, description="Share of payments returned unpaid.")
    exception_delay_days: int = Field(
        1, ge=1, le=10, description="Business days a held payment is delayed."
    )

    @field_validator("fixed_fee_usd_per_hop", "fx_margin_bps", "settlement_days", mode="before")
    @classmethod
    def _over_kind_defaults(cls, v: Any, info: ValidationInfo) -> Any:
        tables: dict[str, dict[str, Any]] = {
            "fixed_fee_usd_per_hop": dict(DEFAULT_FIXED_FEE_PER_HOP),
            "fx_margin_bps": dict(DEFAULT_FX_MARGIN_BPS),
            "settlement_days": dict(DEFAULT_SETTLEMENT_DAYS),
        }
        defaults = tables[info.field_name or ""]
        return {**defaults, **v} if isinstance(v, dict) else v


class Rails(ScenarioModel):
    """The three rails a payer may choose from."""

    cbdc: CbdcRail = Field(default_factory=lambda: CbdcRail.model_validate({}))
    stablecoin: StablecoinRail = Field(default_factory=lambda: StablecoinRail.model_validate({}))
    correspondent: CorrespondentRail = Field(
        default_factory=lambda: CorrespondentRail.model_validate({})
    )


# --------------------------------------------------------------------------- rail choice


class FlightToSafety(ScenarioModel):
    """How stress moves payers between rails (utility terms of the logit)."""

    peg_discount_per_pct: float = Field(
        -1.5,
        le=0,
        description="Extra stablecoin utility per 1% below par, beyond its cost (fear).",
    )
    news: dict[RailName, float] = Field(
        default_factory=lambda: _per_rail(1.0, -3.0, 0.5),
        description="Utility per unit of flight-to-safety intensity, by rail.",
    )
    cbdc_access_boost: Probability = Field(
        0.0, description="Extra share of payers with CBDC access at intensity 1 (fast onboarding)."
    )

    @field_validator("news", mode="before")
    @classmethod
    def _over_news_defaults(cls, v: Any) -> Any:
        base = {"cbdc": 1.0, "stablecoin": -3.0, "correspondent": 0.5}
        return {**base, **v} if isinstance(v, dict) else v


class RailChoiceSpec(ScenarioModel):
    """A multinomial logit over the rails a payer can use, with seeded draws."""

    cost_per_pct: float = Field(
        -1.0, le=0, description="Utility per 1% of the amount paid in total cost."
    )
    time_per_log_hour: float = Field(
        -0.5, le=0, description="Utility per ln(1 + hours until the payee is credited)."
    )
    unavailable: float = Field(
        -6.0, le=0, description="Utility of a rail that is closed right now (payer must wait)."
    )
    asc: dict[RailName, float] = Field(
        default_factory=lambda: _per_rail(0.0, 0.0, 0.0),
        description="Alternative-specific constants (habit, trust, integration).",
    )
    asc_by_kind: dict[KindName, dict[RailName, float]] = Field(
        default_factory=_trade_leans_on_banks,
        description="Extra constants by kind (trade finance stays with banks).",
    )
    access: dict[RailName, Probability] = Field(
        default_factory=lambda: _per_rail(0.35, 0.25, 1.0),
        description="Share of payer wallets able to use each rail.",
    )
    stress: FlightToSafety = Field(default_factory=lambda: FlightToSafety.model_validate({}))

    @field_validator("asc", "access", mode="before")
    @classmethod
    def _over_rail_defaults(cls, v: Any, info: ValidationInfo) -> Any:
        base: dict[str, float] = (
            {"cbdc": 0.0, "stablecoin": 0.0, "correspondent": 0.0}
            if info.field_name == "asc"
            else {"cbdc": 0.35, "stablecoin": 0.25, "correspondent": 1.0}
        )
        return {**base, **v} if isinstance(v, dict) else v


# --------------------------------------------------------------------------- the rest

DEFAULT_FX: dict[str, str] = {
    # Reference rates, units per USD. HKD, AED and SAR are pegs (HKD band 7.75-7.85);
    # CNY and THB are illustrative 2025 levels (assumptions).
    "CNY": "7.10",
    "HKD": "7.80",
    "THB": "32.50",
    "AED": "3.6725",
    "SAR": "3.75",
}


class Typology(ScenarioModel):
    """An AML typology to inject (the supervision service defines the names)."""

    name: str = Field(min_length=1, description="Typology name, e.g. fan_out, cycle.")
    weight: float = Field(1.0, gt=0, description="Relative share among injected typologies.")
    params: dict[str, Any] = Field(default_factory=dict, description="Typology parameters.")

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data


class Supervision(ScenarioModel):
    """Typology injection for the supervision service to detect."""

    injection_rate: Probability = Field(
        0.0, description="Share of payments that belong to injected typologies."
    )
    typologies: list[Typology] = Field(default_factory=list)


class StressEvent(ScenarioModel):
    """A scheduled stress: a flight to safety, a volume surge or a rail outage."""

    kind: StressKind = Field(description="flight_to_safety | volume_surge | rail_outage.")
    at_hour: float = Field(ge=0, description="Start, in hours after start_at.")
    duration_hours: float = Field(24.0, gt=0, description="How long it lasts.")
    ramp_hours: float = Field(0.0, ge=0, description="Linear ramp in and out (within duration).")
    intensity: Probability = Field(
        1.0, description="Flight-to-safety intensity (news) at the plateau."
    )
    volume_multiplier: float = Field(
        1.0, gt=0, description="Multiplier on payment volume at the plateau."
    )
    rail: RailName | None = Field(None, description="The rail that is down (rail_outage).")
    corridors: list[str] | None = Field(
        None, description="Directed corridors affected ('CN-HK'); default all."
    )
    kinds: list[KindName] | None = Field(None, description="Payment kinds affected; default all.")
    label: str = Field("", description="What happens, for the briefing.")

    @model_validator(mode="after")
    def _consistent(self) -> StressEvent:
        if self.kind == "rail_outage" and self.rail is None:
            raise ValueError("a rail_outage needs `rail`")
        if 2 * self.ramp_hours > self.duration_hours:
            raise ValueError("ramp_hours in and out must fit in duration_hours")
        return self


class Assumption(ScenarioModel):
    """A number the results rest on, labelled by how much to trust it."""

    name: str = Field(min_length=1)
    value: Any = Field(description="The figure (number or text).")
    source: str = Field("", description="Where it comes from.")
    kind: AssumptionKind = Field(
        "assumption", description="fact | assumption | seed-claim (the seed narrative's claim)."
    )


# --------------------------------------------------------------------------- the scenario


class Scenario(ScenarioModel):
    """A complete, validated scenario (see corridor/scenario/README.md).

    Frozen: derived views (``directed_corridors``) are cached, so change a scenario by
    loading it again with overrides, not by assignment.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Slug, e.g. svb-2023.")
    question: str = Field(min_length=1, description="The policy question the briefing opens with.")
    description: str = Field("", description="What the scenario does, in a paragraph.")
    start_at: Annotated[datetime, BeforeValidator(parse_start_at)] = Field(
        datetime(2025, 3, 10, tzinfo=UTC), description="Business start time, UTC (a Monday)."
    )
    days: float = Field(7.0, gt=0, le=366, description="Simulated days.")
    seed: int = Field(1, ge=0, description="Seed for every random draw of the run.")
    payments: int = Field(100_000, ge=0, description="Total payments over the run (surges incl.).")
    jurisdictions: list[Jurisdiction] = Field(default_factory=_default_jurisdictions, min_length=2)
    corridors: list[Corridor] = Field(default_factory=_default_corridors, min_length=1)
    kinds: Kinds = Field(default_factory=lambda: Kinds.model_validate({}))
    patterns: Patterns = Field(default_factory=lambda: Patterns.model_validate({}))
    rails: Rails = Field(default_factory=lambda: Rails.model_validate({}))
    rail_choice: RailChoiceSpec = Field(default_factory=lambda: RailChoiceSpec.model_validate({}))
    fx: dict[str, FxRate] = Field(
        default_factory=lambda: {k: _parse_rate(v) for k, v in DEFAULT_FX.items()},
        description="Reference rates, units of currency per 1 USD.",
    )
    stablecoin: dict[str, Any] | None = Field(
        None, description="The stablecoin comparator's spec (validated by its own loader)."
    )
    supervision: Supervision | None = Field(None, description="Typology injection (optional).")
    stress: list[StressEvent] = Field(default_factory=list, description="Stress schedule.")
    assumptions: list[Assumption] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)

    # The stablecoin team's validated spec object, when its loader is importable.
    _stablecoin_spec: Any = PrivateAttr(default=None)
    _source: str = PrivateAttr(default="<memory>")

    @field_validator("fx", mode="before")
    @classmethod
    def _over_fx_defaults(cls, v: Any) -> Any:
        return {**DEFAULT_FX, **v} if isinstance(v, dict) else v

    @field_validator("fx")
    @classmethod
    def _currency_codes(cls, v: dict[str, Fraction]) -> dict[str, Fraction]:
        for code in v:
            if not re.fullmatch(r"[A-Z]{3}", code):
                raise ValueError(f"{code!r} is not an ISO 4217 currency code")
        return v

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> Scenario:
        # The loader defers these to report each at its own line; direct use raises here.
        if info.context and info.context.get("defer_cross_checks"):
            return self
        problems = self.cross_check()
        if problems:
            raise ValueError("; ".join(f"{_dotted(loc)}: {msg}" for loc, msg in problems))
        return self

    # ---- checks that span sections; each problem names the field it belongs to

    def cross_check(self) -> list[Problem]:
        problems: list[Problem] = []
        codes = [j.code for j in self.jurisdictions]
        for i, j in enumerate(self.jurisdictions):
            if codes.index(j.code) != i:
                problems.append((("jurisdictions", i, "code"), f"duplicate jurisdiction {j.code}"))
            if j.currency in MINOR_UNITS and j.currency_exponent != MINOR_UNITS[j.currency]:
                problems.append(
                    (("jurisdictions", i, "currency_exponent"),
                     (f"{j.currency} has {MINOR_UNITS[j.currency]} minor-unit digits, not "
                      f"{j.currency_exponent}"))
                )  # fmt: skip
            if j.currency not in self.fx:
                problems.append(
                    (("fx",), f"no reference rate for {j.currency} (jurisdiction {j.code})")
                )
        seen: dict[tuple[str, str], int] = {}
        for i, c in enumerate(self.corridors):
            for field, code in (("from", c.from_), ("to", c.to)):
                if code not in codes:
                    problems.append(
                        (("corridors", i, field), _unknown(code, codes, "jurisdiction"))
                    )
            if c.from_ == c.to:
                problems.append((("corridors", i, "to"), "a corridor must join two jurisdictions"))
            if c.kinds is not None and sum(c.kinds.values()) <= 0:
                problems.append((("corridors", i, "kinds"), "at least one share must be > 0"))
            directions = [(c.from_, c.to)] + ([(c.to, c.from_)] if c.both_ways else [])
            for d in directions:
                if d in seen:
                    problems.append(
                        (("corridors", i),
                         f"corridor {d[0]}-{d[1]} already given at corridors[{seen[d]}]")
                    )  # fmt: skip
                seen.setdefault(d, i)
        if sum(k.share for k in self.kinds.by_index()) <= 0:
            problems.append((("kinds",), "at least one kind must have share > 0"))
        pair_codes = {f"{a}-{b}" for a in codes for b in codes if a != b}
        # The default table names CN-HK; only a table the file states must fit its corridors.
        stated = "hops_by_corridor" in self.rails.correspondent.model_fields_set
        for key in self.rails.correspondent.hops_by_corridor if stated else ():
            if key not in pair_codes:
                problems.append(
                    (("rails", "correspondent", "hops_by_corridor", key),
                     _unknown(key, sorted(pair_codes), "corridor"))
                )  # fmt: skip
        directed = {f"{a}-{b}" for a, b in seen}
        horizon_h = self.days * 24
        for i, ev in enumerate(self.stress):
            if ev.at_hour >= horizon_h:
                problems.append(
                    (("stress", i, "at_hour"),
                     (f"starts after the run ends (hour {ev.at_hour:g} >= {horizon_h:g}); "
                      "move the event or lengthen `days`"))
                )  # fmt: skip
            for k, code in enumerate(ev.corridors or []):
                if code not in directed:
                    problems.append(
                        (
                            ("stress", i, "corridors", k),
                            _unknown(code, sorted(directed), "corridor"),
                        )
                    )
        return problems

    # ---- derived views used by the models

    @property
    def start_epoch_s(self) -> float:
        """start_at as seconds since the Unix epoch (business time origin of the run)."""
        return self.start_at.timestamp()

    @property
    def start_at_us(self) -> int:
        """start_at in unix microseconds (the shared core's business-time unit)."""
        return int(self.start_at.timestamp()) * 1_000_000 + self.start_at.microsecond

    @property
    def horizon_s(self) -> float:
        return self.days * 86_400.0

    @property
    def source(self) -> str:
        """The file (or preset) the scenario was loaded from."""
        return self._source

    @property
    def stablecoin_spec(self) -> Any:
        """The stablecoin team's validated spec, or the raw ``stablecoin`` dict."""
        return self._stablecoin_spec if self._stablecoin_spec is not None else self.stablecoin

    def jurisdiction_index(self, code: str) -> int:
        return [j.code for j in self.jurisdictions].index(code)

    @cached_property
    def directed_corridors(self) -> list[DirectedCorridor]:
        """Corridors expanded to one entry per direction, in file order."""
        default_shares = [k.share for k in self.kinds.by_index()]
        out: list[DirectedCorridor] = []
        for src, c in enumerate(self.corridors):
            mix = [(c.kinds or {}).get(n, 0.0) for n in KIND_NAMES] if c.kinds else default_shares
            total = sum(mix)
            shares = (mix[0] / total, mix[1] / total, mix[2] / total)
            ends = [(c.from_, c.to)] + ([(c.to, c.from_)] if c.both_ways else [])
            for a, b in ends:
                out.append(
                    DirectedCorridor(
                        index=len(out),
                        code=f"{a}-{b}",
                        from_index=self.jurisdiction_index(a),
                        to_index=self.jurisdiction_index(b),
                        weight=c.weight,
                        kind_shares=shares,
                        source=src,
                    )
                )
        return out


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def _unknown(value: str, known: list[str], what: str) -> str:
    import difflib

    close = difflib.get_close_matches(value, known, n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known[:12])})"
    return f"unknown {what} {value!r}{hint}"
