"""The stablecoin comparator's specification: everything a run needs, in one validated object.

A spec states the issuer (supply, bank hours, mint/redeem terms, liquidity policy), its reserve
portfolio (instruments priced off a yield curve), the chains the token lives on, the secondary
market (venues with liquidity curves, arbitrageurs), the holders (cohorts with run behaviour),
exchanges and on/off-ramps per jurisdiction, and the shocks with their times, so an episode
replays from a file alone. The scenario engine embeds it as the ``stablecoin:`` section of a
scenario; presets live in ``presets/*.yaml``.

Units are in the names: ``*_minor`` integer US cents (one token = 100 minor units, redeemable
1:1 for cents), ``*_bps`` basis points, ``*_pct`` percent, ``*_s`` seconds, ``*_h`` hours,
``*_days`` days, ``*_gwei`` / ``*_sun`` native fee units. Every model forbids unknown keys, so a
typo is an error, and every error names its dotted field (``shocks[2].bp``) and, when the spec
came from a file, the file and line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from services.stablecoin.curve import tenor_days

PRESETS_DIR = Path(__file__).parent / "presets"
JURISDICTION = r"^[A-Z]{2}$"

Pct = Annotated[float, Field(ge=0.0, le=100.0)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
Minor = Annotated[int, Field(ge=0)]


class SpecError(ValueError):
    """A stablecoin spec that cannot be used: where (file, line), which field, and why."""

    def __init__(self, path: str, field: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.field = field
        self.message = message
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


# --------------------------------------------------------------------------- issuer


class BankHoursSpec(_Spec):
    """When the issuer's banks move money (redemptions paid, mints funded, funds sold)."""

    timezone: str = Field("America/New_York", description="IANA zone of the banks' hours.")
    open: time = Field(time(9, 0), description="Local opening time, e.g. '09:00'.")
    close: time = Field(time(17, 0), description="Local closing time (exclusive), e.g. '17:00'.")
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4],
        description="Open days, 0 = Monday ... 6 = Sunday.",
        min_length=1,
    )
    holidays: list[date] = Field(default_factory=list, description="Closed dates (local).")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name like 'America/New_York')")
        return v

    @model_validator(mode="after")
    def _order(self) -> BankHoursSpec:
        if self.close <= self.open:
            raise ValueError("close must be after open")
        return self


class GateSpec(_Spec):
    """Optional limits an issuer may impose on redemptions (gates)."""

    max_per_day_pct_supply: float | None = Field(
        None, gt=0, le=100, description="Pay out at most this % of start supply per day."
    )
    suspend_below_liquid_pct: float | None = Field(
        None, ge=0, le=100,
        description="Suspend redemptions while same-day liquid reserves are below this % of supply.",
    )  # fmt: skip


class RedemptionSpec(_Spec):
    """Terms on which direct counterparties turn tokens back into dollars at the issuer."""

    min_minor: Minor = Field(10_000_000, description="Minimum request (Tether: $100k).")
    fee_bps: float = Field(0.0, ge=0, le=1000, description="Fee on the amount redeemed, bp.")
    capacity_per_hour_minor: int = Field(
        200_000_000_000, gt=0, description="Operational payout capacity while banks are open."
    )
    direct_counterparties: int = Field(
        100, ge=1, description="How many firms can redeem directly (context for the briefing)."
    )
    suspended: bool = Field(False, description="Redemptions closed from the start.")
    pays_par_when_insolvent: bool = Field(
        True,
        description="Keep paying 1.00 while reserves fall short (first come, first served); "
        "false pays each request at the coverage ratio.",
    )
    gate: GateSpec | None = Field(None, description="Optional redemption gates.")


class MintSpec(_Spec):
    """Terms on which direct counterparties create tokens against dollars."""

    enabled: bool = Field(True, description="Minting open at all.")
    min_minor: Minor = Field(10_000_000, description="Minimum mint.")
    fee_bps: float = Field(0.0, ge=0, le=1000, description="Fee on the amount minted, bp.")
    capacity_per_hour_minor: int = Field(
        100_000_000_000, gt=0, description="Mint capacity while banks are open."
    )


class LiquidityPolicySpec(_Spec):
    """How the issuer holds and raises cash."""

    settlement_bank: str = Field(
        description="Bank (a deposit instrument) where mint cash lands and payouts leave."
    )
    waterfall: list[str] = Field(
        default_factory=lambda: [
            "deposit", "mmf", "repo", "tbill", "note",
            "gold", "bitcoin", "commercial_paper", "corporate_bonds", "other", "secured_loans",
        ],
        description="Order in which instrument kinds are turned into cash to pay redemptions.",
    )  # fmt: skip
    buffer_target_pct: float = Field(
        5.0, ge=0, le=100, description="Cash kept at banks, % of supply; above it is reinvested."
    )
    reinvest_tenor_days: int = Field(
        91, ge=1, le=366, description="Tenor of new bills bought with excess cash / maturities."
    )
    reinvest: bool = Field(True, description="Reinvest excess cash on calm business mornings.")


class IssuerSpec(_Spec):
    """The USD stablecoin issuer."""

    name: str = Field(min_length=1, description="Issuer (e.g. 'Circle', 'large offshore issuer').")
    token: str = Field("USDX", min_length=1, description="Token symbol.")
    supply_minor: int = Field(gt=0, description="Tokens outstanding at start, US cents.")
    bank_hours: BankHoursSpec = Field(default_factory=lambda: BankHoursSpec.model_validate({}))
    redemption: RedemptionSpec = Field(default_factory=lambda: RedemptionSpec.model_validate({}))
    mint: MintSpec = Field(default_factory=lambda: MintSpec.model_validate({}))
    liquidity: LiquidityPolicySpec


# --------------------------------------------------------------------------- reserves


class CurveSpec(_Spec):
    """The Treasury curve reserves are priced off."""

    yields_pct: dict[str, float] = Field(
        description="Yield in percent by tenor label ('1d', '1m', '3m', '6m', '1y', '2y', '10y').",
        min_length=1,
    )
    as_of: str = Field("", description="Date and source of the curve.")

    @field_validator("yields_pct")
    @classmethod
    def _tenors(cls, v: dict[str, float]) -> dict[str, float]:
        for label, y in v.items():
            tenor_days(label)
            if not -5.0 <= y <= 30.0:
                raise ValueError(f"yield for {label} must be between -5 and 30 percent (got {y})")
        return v

    def points(self) -> dict[float, float]:
        return {tenor_days(k): y / 100.0 for k, y in self.yields_pct.items()}


class _Instrument(_Spec):
    name: str = Field("", description="Label in attestations (defaults to the kind).")
    sale_cost_bps: float = Field(
        0.5, ge=0, le=500, description="Bid-ask cost of selling, bp of value sold."
    )


class TBillSpec(_Instrument):
    """One Treasury bill position."""

    kind: Literal["tbill"] = "tbill"
    face_minor: int = Field(gt=0, description="Face value paid at maturity.")
    maturity_days: float = Field(gt=0, le=366, description="Days to maturity at start.")


class TBillLadderSpec(_Instrument):
    """Bills spread evenly by maturity (a weighted average maturity, WAM, of (min+max)/2)."""

    kind: Literal["tbill_ladder"] = "tbill_ladder"
    value_minor: int = Field(gt=0, description="Market value at start across the ladder.")
    min_days: float = Field(1.0, gt=0, le=366, description="Shortest maturity, days.")
    max_days: float = Field(93.0, gt=0, le=366, description="Longest maturity (GENIUS: <= 93).")
    rungs: int = Field(13, ge=1, le=60, description="Number of maturities (e.g. weekly).")

    @model_validator(mode="after")
    def _range(self) -> TBillLadderSpec:
        if self.max_days < self.min_days:
            raise ValueError("max_days must be >= min_days")
        return self


class NoteSpec(_Instrument):
    """A coupon Treasury note (long duration: not allowed for GENIUS-Act reserves)."""

    kind: Literal["note"] = "note"
    face_minor: int = Field(gt=0, description="Face value.")
    coupon_pct: float = Field(
        ge=0, le=20, description="Annual coupon, percent, paid semi-annually."
    )
    maturity_years: float = Field(gt=0, le=30, description="Years to maturity at start.")


class RepoSpec(_Instrument):
    """Overnight reverse repo against Treasuries: cash back every morning."""

    kind: Literal["repo"] = "repo"
    value_minor: int = Field(gt=0, description="Cash lent overnight.")
    rate_pct: float = Field(4.5, ge=-1, le=30, description="Overnight repo rate, percent.")


class MmfSpec(_Instrument):
    """Government money-market fund shares (stable NAV, same-day liquidity in bank hours)."""

    kind: Literal["mmf"] = "mmf"
    value_minor: int = Field(gt=0, description="Shares at NAV 1.00.")
    fund: str = Field("government MMF", description="Fund name (e.g. Circle Reserve Fund).")
    yield_pct: float = Field(4.5, ge=-1, le=30, description="Fund yield, percent.")
    same_day_pct: float = Field(
        100.0, ge=0, le=100, description="Share of the holding redeemable for same-day cash."
    )


class DepositSpec(_Instrument):
    """Cash at a named bank (can be frozen by a bank failure)."""

    kind: Literal["deposit"] = "deposit"
    bank: str = Field(min_length=1, description="Bank name, referenced by shocks.")
    value_minor: int = Field(ge=0, description="Balance.")


RiskyKind = Literal[
    "bitcoin", "gold", "secured_loans", "commercial_paper", "corporate_bonds", "other"
]


class RiskyAssetSpec(_Instrument):
    """A non-Treasury reserve asset: price risk plus a finite market to sell into."""

    kind: RiskyKind
    value_minor: int = Field(gt=0, description="Market value at start.")
    market_depth_per_day_minor: int = Field(
        gt=0, description="What can be sold in a day before the price moves by impact_pct_at_depth."
    )
    impact_pct_at_depth: float = Field(
        2.0, ge=0, le=100, description="Price impact (%) of selling one day's depth (linear)."
    )
    liquidation_days: float = Field(
        1.0, gt=0, le=3650, description="Fastest full liquidation (loans: long)."
    )


Instrument = Annotated[
    TBillSpec | TBillLadderSpec | NoteSpec | RepoSpec | MmfSpec | DepositSpec | RiskyAssetSpec,
    Field(discriminator="kind"),
]


class FireSaleSpec(_Spec):
    """Yield feedback from selling bills (BIS WP 1270), beyond which it is an assumption."""

    outflow_bp_per_billion: float = Field(
        1.6, ge=0, le=100,
        description="3-month yield rise per $1B of bills sold: BIS WP 1270 finds a $3.5B "
        "five-day inflow lowers 3m yields 2-2.5 bp and outflows move them 2-3x as much.",
    )  # fmt: skip
    observed_flow_max_minor: int = Field(
        350_000_000_000,
        gt=0,
        description="Largest flow the estimate rests on ($3.5B); beyond it results are extrapolated.",
    )
    half_life_days: float = Field(5.0, gt=0, le=365, description="Decay of the impact.")
    full_impact_days: float = Field(91.0, gt=0, description="Tenors up to here feel it in full.")
    impact_tenor_max_days: float = Field(365.0, gt=0, description="No impact beyond this tenor.")


class ReservesSpec(_Spec):
    """The reserve portfolio and the market it is priced in."""

    curve: CurveSpec
    instruments: list[Instrument] = Field(min_length=1)
    fire_sale: FireSaleSpec = Field(default_factory=lambda: FireSaleSpec.model_validate({}))


# --------------------------------------------------------------------------- chains

CHAIN_PRESETS: dict[str, dict[str, Any]] = {
    # Ethereum mainnet: 12 s slots, finality after two epochs (64 blocks, ~12.8 min), EIP-1559.
    # A USDT/USDC transfer ~65k gas; cents in quiet markets (0.5 gwei at $3,500/ETH ~ $0.11),
    # > $20 in the May 2022 congestion (~150 gwei at $2,000).
    "ethereum": {
        "fee_market": "eip1559",
        "block_time_s": 12.0,
        "finality_blocks": 64,
        "gas_limit_per_block": 36_000_000,
        "gas_target_per_block": 18_000_000,
        "base_fee_ref": 0.5,
        "demand_elasticity": 1.0,
        "background_load": 1.0,
        "native_usd": 3_500.0,
        "gas_per_transfer": 65_000,
        "gas_per_swap": 150_000,
        "tips": {"low": 0.01, "standard": 0.1, "fast": 2.0},
        "tip_shares": {"low": 0.3, "standard": 0.5, "fast": 0.2},
        "bandwidth_fee_usd": 0.0,
        "replacement_window_blocks": 6,
    },
    # Tron: 3 s blocks, 'solidified' after 19 blocks (~1 min); ~100+ tx/s average load. Fees are
    # energy bought with TRX at a governance-set price, not an auction: a USDT transfer to a holder
    # ~65k energy; at 100 sun/energy (since Aug 2025) and $0.29/TRX ~ $1.9, at 210 sun ~ $4.0.
    # Capacity: the ~2,000 tx/s the network claims (an assumption; observed load is far lower).
    "tron": {
        "fee_market": "tron_energy",
        "block_time_s": 3.0,
        "finality_blocks": 19,
        "gas_limit_per_block": 390_000_000,
        "gas_target_per_block": 19_500_000,
        "base_fee_ref": 100.0,
        "demand_elasticity": 1.0,
        "background_load": 1.0,
        "native_usd": 0.29,
        "gas_per_transfer": 65_000,
        "gas_per_swap": 130_000,
        "tips": {"standard": 0.0},
        "tip_shares": {"standard": 1.0},
        "bandwidth_fee_usd": 0.10,
        "replacement_window_blocks": 20,
    },
}


class ChainSpec(_Spec):
    """A public chain the token lives on. ``preset`` fills every field not given."""

    preset: Literal["ethereum", "tron"] = Field(description="Start from these DESIGN.md figures.")
    fee_market: Literal["eip1559", "tron_energy"] = Field(
        description="eip1559: base fee moves with block fullness (+-12.5 %/block), tips order the "
        "mempool; tron_energy: fixed energy price, FIFO queue when demand exceeds capacity."
    )
    block_time_s: float = Field(gt=0, le=600, description="Seconds between blocks.")
    finality_blocks: int = Field(ge=0, le=10_000, description="Blocks until final.")
    gas_limit_per_block: int = Field(gt=0, description="Hard capacity per block (gas / energy).")
    gas_target_per_block: int = Field(gt=0, description="EIP-1559 target (Tron: average load).")
    base_fee_ref: float = Field(
        gt=0, description="Quiet-market base fee (gwei; Tron: energy price in sun)."
    )
    demand_elasticity: float = Field(
        gt=0, le=10, description="How background gas demand falls as the fee rises (power law)."
    )
    background_load: float = Field(
        ge=0, le=100, description="Background demand / target at the reference fee (1 = target)."
    )
    native_usd: float = Field(gt=0, description="USD price of the native coin (ETH / TRX).")
    gas_per_transfer: int = Field(gt=0, description="Gas (energy) of one token transfer.")
    gas_per_swap: int = Field(gt=0, description="Gas (energy) of one AMM swap.")
    tips: dict[str, float] = Field(
        description="Priority fee tiers (gwei); the mempool orders by these.", min_length=1
    )
    tip_shares: dict[str, float] = Field(
        description="Share of background demand bidding each tip tier.", min_length=1
    )
    bandwidth_fee_usd: float = Field(ge=0, description="Flat extra per transfer (Tron bandwidth).")
    replacement_window_blocks: int = Field(
        ge=1, description="Blocks a priced-out transaction waits before it is re-bid or dropped."
    )

    @model_validator(mode="before")
    @classmethod
    def _fill_from_preset(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("preset") in CHAIN_PRESETS:
            return {**CHAIN_PRESETS[str(data["preset"])], **data}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ChainSpec:
        if self.gas_target_per_block > self.gas_limit_per_block:
            raise ValueError("gas_target_per_block must not exceed gas_limit_per_block")
        if set(self.tips) != set(self.tip_shares):
            raise ValueError("tips and tip_shares must name the same tiers")
        if abs(sum(self.tip_shares.values()) - 1.0) > 1e-6:
            raise ValueError("tip_shares must sum to 1")
        return self


# --------------------------------------------------------------------------- market


class LiquidityPositionSpec(_Spec):
    """Liquidity placed between two prices (Uniswap-v3 style; order books approximated so)."""

    price_low: float = Field(gt=0, lt=10, description="Lower price bound, USD per token.")
    price_high: float = Field(gt=0, lt=10, description="Upper price bound.")
    value_minor: int = Field(gt=0, description="Capital in the position valued at par.")

    @model_validator(mode="after")
    def _range(self) -> LiquidityPositionSpec:
        if not self.price_low < 1.0 < self.price_high:
            raise ValueError("a position must straddle par: price_low < 1 < price_high")
        return self


class VenueSpec(_Spec):
    """One place the token trades against dollars (or a dollar-like coin)."""

    name: str = Field(min_length=1, description="Venue name (arbitrageurs may refer to it).")
    kind: Literal["amm", "orderbook"] = Field(
        "amm", description="For reports; the math is the same."
    )
    chain: str = Field(description="Chain the trades settle on (congestion), or 'offchain'.")
    fee_bps: float = Field(1.0, ge=0, le=1000, description="Trading fee, bp of the input.")
    flow_share: float = Field(gt=0, description="Relative share of holders' sell flow routed here.")
    positions: list[LiquidityPositionSpec] = Field(min_length=1)


class ArbitrageurSpec(_Spec):
    """Traders who buy below par and redeem at the issuer (or mint and sell above par)."""

    name: str = Field(min_length=1, description="Label in results.")
    capital_minor: int = Field(gt=0, description="Dollars on hand to buy tokens.")
    issuer_access: bool = Field(True, description="A direct counterparty of the issuer.")
    replenish_per_hour_minor: Minor = Field(
        0, description="New dollars wired in per open bank hour (not on weekends)."
    )
    hurdle_pct_per_day: float = Field(
        0.5, ge=0, le=100, description="Return demanded per day capital is locked until redemption."
    )
    tail_probability: Share = Field(
        0.3, description="Weight on the bad case per unit of alarm (capped at alarm 1)."
    )
    tail_haircut_pct: Pct = Field(
        5.0, description="Extra loss in the bad case beyond frozen and crashed assets."
    )
    inventory_aversion_pct: float = Field(
        5.0, ge=0, le=100, description="Discount demanded when inventory equals all capital."
    )
    venues: list[str] = Field(
        default_factory=list, description="Venues they trade on (names); empty = all venues."
    )
    exposure_days: float = Field(
        1.0, gt=0, le=365,
        description="A wait of this many days exposes a redeemer to ~63% of the issuer's losses "
        "(paid at par while reserves last: the quicker the payout, the smaller the risk).",
    )  # fmt: skip


class MarketSpec(_Spec):
    """Secondary market: venues and arbitrageurs."""

    venues: list[VenueSpec] = Field(min_length=1)
    arbitrageurs: list[ArbitrageurSpec] = Field(default_factory=list)
    avg_ticket_minor: int = Field(
        5_000_000, gt=0, description="Average on-chain trade size, for counting transactions."
    )
    stress_gas_multiplier: float = Field(
        3.0, ge=0, le=100,
        description="On-chain transactions per run trade (transfers to venues, liquidations, ...).",
    )  # fmt: skip


# --------------------------------------------------------------------------- holders

HolderType = Literal[
    "em_household", "em_firm", "exchange", "exchange_customers", "bank", "central_bank",
    "institution", "defi_trader", "us_retail",
]  # fmt: skip
FLIGHT_DESTINATIONS = ("cbdc", "other_stablecoin", "usd_mmf", "local_deposits", "usd_bank")


class HolderSpec(_Spec):
    """A cohort of token holders who behave alike (aggregated, not one agent per wallet)."""

    name: str = Field(min_length=1, description="Cohort name (unique; news shocks may target it).")
    type: HolderType = Field(description="Who they are (losses are reported by type).")
    jurisdiction: str = Field(pattern=JURISDICTION, description="Where they are (CN, HK, ...).")
    chain: str = Field(description="Chain their tokens sit on.")
    balance_minor: Minor = Field(description="Tokens held at start.")
    issuer_access: bool = Field(False, description="Can redeem directly at the issuer.")
    exchange: str | None = Field(
        None, description="Exchange that converts for them at par (while not halted)."
    )
    run_share: Share = Field(
        0.2, description="Most of the balance this cohort would ever pull in a run."
    )
    hazard_per_h: float = Field(
        0.05, ge=0, le=10, description="Exit hazard per hour per unit of stress."
    )
    news_sensitivity: float = Field(1.0, ge=0, le=100, description="Weight on alarm (news).")
    price_sensitivity: float = Field(1.0, ge=0, le=100, description="Weight on the discount.")
    herd_sensitivity: float = Field(
        1.0, ge=0, le=100, description="Weight on others' recent exits."
    )
    flight: dict[str, float] = Field(
        default_factory=lambda: {"usd_bank": 1.0},
        description=f"Where exit proceeds go, shares over {', '.join(FLIGHT_DESTINATIONS)}.",
    )

    @field_validator("flight")
    @classmethod
    def _flight(cls, v: dict[str, float]) -> dict[str, float]:
        for k, share in v.items():
            if k not in FLIGHT_DESTINATIONS:
                raise ValueError(
                    f"unknown destination {k!r} (use {', '.join(FLIGHT_DESTINATIONS)})"
                )
            if share < 0:
                raise ValueError(f"share for {k} must be >= 0")
        if abs(sum(v.values()) - 1.0) > 1e-6:
            raise ValueError("flight shares must sum to 1")
        return v


class BehaviourSpec(_Spec):
    """How stress turns into exits (shared by every cohort)."""

    run_threshold_price: float = Field(
        0.99, gt=0.5, le=1.0,
        description="Below this price exits accelerate (Fed staff: redemptions accelerate below 0.99).",
    )  # fmt: skip
    slope_above_threshold: float = Field(
        0.5, ge=0, le=100, description="Stress per cent of discount while above the threshold."
    )
    accel_below_threshold: float = Field(
        2.0, ge=0, le=100, description="Extra stress per cent below the threshold."
    )
    shortfall_weight: float = Field(
        0.5, ge=0, le=100,
        description="Stress per 1 % that believed reserves fall short of tokens: paid at par first "
        "come, first served, the last to leave bears the hole, so a known shortfall is a reason to run.",
    )  # fmt: skip
    alarm_half_life_h: float = Field(12.0, gt=0, le=720, description="How fast news fades.")
    herd_window_h: float = Field(24.0, gt=0, le=720, description="Window of others' exits.")
    herd_per_pct_supply: float = Field(
        0.1, ge=0, le=100, description="Stress per 1 % of supply exited within the window."
    )
    noise_sigma: float = Field(
        0.25, ge=0, le=3, description="Log-normal noise on each cohort's hazard each step."
    )
    backstop_hazard_cut: Share = Field(
        0.9, description="Share of exit hazard removed by a credible backstop."
    )
    migration_per_stress: float = Field(
        0.15, ge=0, le=10,
        description="Share of corridor payers leaving the rail per unit of stress (capped at 1).",
    )  # fmt: skip


# --------------------------------------------------------------------------- exchanges, ramps


class ExchangeSpec(_Spec):
    """A venue/custodian that converts for customers and runs fiat ramps."""

    name: str = Field(
        min_length=1, description="Exchange name (holders, ramps, halts refer to it)."
    )
    jurisdiction: str = Field(pattern=JURISDICTION, description="Where it is licensed/operates.")
    par_conversion: bool = Field(
        False, description="Swaps the token 1:1 for dollars for its customers (then redeems)."
    )


class RampSpec(_Spec):
    """Local currency <-> token in one jurisdiction."""

    exchange: str | None = Field(None, description="Exchange operating the ramp (halts stop it).")
    chain: str | None = Field(None, description="Preferred chain for transfers from here.")
    on_fee_bps: float = Field(50.0, ge=0, le=2000, description="Fiat -> token fee, bp.")
    off_fee_bps: float = Field(50.0, ge=0, le=2000, description="Token -> fiat fee, bp.")
    fixed_fee_minor: Minor = Field(0, description="Fixed fee per ramp leg, US cents.")
    on_delay_s: float = Field(600.0, ge=0, description="Fiat -> token time (KYC'd user).")
    off_delay_s: float = Field(600.0, ge=0, description="Token -> fiat time (KYC'd user).")
    kyc_coverage: Share = Field(
        0.8, description="Share of users with a KYC'd account at a regulated ramp."
    )
    p2p_fee_bps: float = Field(
        150.0, ge=0, le=5000, description="Fee via P2P/OTC for users without one, bp."
    )
    p2p_delay_s: float = Field(3600.0, ge=0, description="Extra time via P2P/OTC.")
    capital_control_premium_bps: float = Field(
        0.0, ge=0, le=5000,
        description="Extra cost of buying dollar tokens where capital controls bind, bp.",
    )  # fmt: skip
    source: str = Field("", description="Where the figures come from (or 'assumption').")


class TransferSpec(_Spec):
    """Defaults for corridor payments carried by the rail."""

    default_chain: str = Field(description="Chain used when a ramp names none.")
    tip_tier: str = Field("standard", description="Priority tier wallets bid.")


# --------------------------------------------------------------------------- shocks


class _Shock(_Spec):
    at_h: float | None = Field(None, ge=0, description="Hours after start.")
    at: datetime | None = Field(None, description="Absolute time (UTC if no zone).")
    alarm: float | None = Field(None, ge=0, le=10, description="News impact (default per kind).")
    note: str = Field("", description="What happened.")
    source: str = Field("", description="Where the figure comes from.")

    @model_validator(mode="after")
    def _one_time(self) -> _Shock:
        if (self.at_h is None) == (self.at is None):
            raise ValueError("give exactly one of at_h (hours after start) or at (a date-time)")
        return self

    def at_s(self, start_at: datetime) -> float:
        if self.at_h is not None:
            return self.at_h * 3600.0
        assert self.at is not None
        at = self.at if self.at.tzinfo else self.at.replace(tzinfo=UTC)
        return (at - start_at).total_seconds()


class YieldShiftShock(_Shock):
    """Treasury yields jump: a parallel ``bp`` or a shift by tenor."""

    kind: Literal["yield_shift"] = "yield_shift"
    bp: float | None = Field(None, ge=-1000, le=2000, description="Parallel shift, bp.")
    bp_by_tenor: dict[str, float] | None = Field(
        None, description="Shift by tenor label ('3m': 150, '10y': 100), interpolated."
    )

    @model_validator(mode="after")
    def _one_shape(self) -> YieldShiftShock:
        if (self.bp is None) == (self.bp_by_tenor is None):
            raise ValueError("give exactly one of bp or bp_by_tenor")
        for label, v in (self.bp_by_tenor or {}).items():
            tenor_days(label)
            if not -1000 <= v <= 2000:
                raise ValueError(f"shift for {label} must be between -1000 and 2000 bp")
        return self

    def shift_by_days(self) -> dict[float, float]:
        if self.bp is not None:
            return {1.0: self.bp}
        return {tenor_days(k): v for k, v in (self.bp_by_tenor or {}).items()}


class AssetCrashShock(_Shock):
    """A risky reserve asset's price falls (Bitcoin, gold, loans, paper)."""

    kind: Literal["asset_crash"] = "asset_crash"
    asset: str = Field(description="Instrument kind (bitcoin, gold, ...) or instrument name.")
    pct: float = Field(gt=0, le=100, description="Fall in percent.")


class BankFailureShock(_Shock):
    """A reserve bank fails: a share of the issuer's deposits there is frozen."""

    kind: Literal["bank_failure"] = "bank_failure"
    bank: str = Field(description="Bank name, as in a deposit instrument.")
    share: Share = Field(1.0, description="Share of the deposits frozen (e.g. the uninsured part).")
    expected_recovery: Share = Field(
        0.5, description="What the market (and the mark) expects back from the frozen part."
    )


class RedemptionSuspensionShock(_Shock):
    """The issuer stops accepting redemptions."""

    kind: Literal["redemption_suspension"] = "redemption_suspension"
    duration_h: float | None = Field(None, gt=0, description="Hours; none = until a backstop.")


class BackstopShock(_Shock):
    """Authorities (or the issuer's owners) guarantee the frozen money."""

    kind: Literal["backstop"] = "backstop"
    banks: list[str] = Field(
        default_factory=list, description="Banks whose deposits are made whole."
    )
    calm: Share = Field(0.8, description="Share of alarm removed by the announcement.")
    lift_suspension: bool = Field(True, description="Reopen redemptions if suspended.")


class ExchangeHaltShock(_Shock):
    """An exchange halts conversions and fiat ramps."""

    kind: Literal["exchange_halt"] = "exchange_halt"
    exchange: str = Field(description="The exchange that halts.")
    duration_h: float | None = Field(None, gt=0, description="Hours; none = rest of the run.")


class AssumedHaircutShock(_Shock):
    """An assumed fall in reserve value, stated, not derived (e.g. the seed's 12 %)."""

    kind: Literal["assumed_reserve_haircut"] = "assumed_reserve_haircut"
    pct: float = Field(gt=0, le=100, description="Haircut in percent.")
    applies_to: list[str] = Field(
        default_factory=lambda: ["tbill", "note"], min_length=1,
        description="Instrument kinds or names the haircut applies to.",
    )  # fmt: skip
    label: str = Field(
        min_length=1, description="Why this number (shown in every result as an assumption)."
    )


class NewsShock(_Shock):
    """News that alarms some holders (e.g. an emerging-market currency sell-off)."""

    kind: Literal["news"] = "news"
    targets: list[str] = Field(
        default_factory=list, description="Holder names, types or jurisdictions; empty = all."
    )


Shock = Annotated[
    YieldShiftShock | AssetCrashShock | BankFailureShock | RedemptionSuspensionShock
    | BackstopShock | ExchangeHaltShock | AssumedHaircutShock | NewsShock,
    Field(discriminator="kind"),
]  # fmt: skip

DEFAULT_ALARM = {
    "yield_shift": 0.2,
    "asset_crash": 0.5,
    "bank_failure": 1.0,
    "redemption_suspension": 0.6,
    "backstop": 0.0,
    "exchange_halt": 0.3,
    "assumed_reserve_haircut": 0.5,
    "news": 0.5,
}


class ReferenceSpec(_Spec):
    """A figure the spec rests on, with its source (carried to the briefing)."""

    name: str = Field(min_length=1, description="What the figure is.")
    value: Any = Field(description="The figure.")
    source: str = Field(min_length=1, description="Where it comes from.")
    kind: Literal["fact", "assumption", "seed-claim", "calibrated"] = "fact"


# --------------------------------------------------------------------------- the spec


class StablecoinSpec(_Spec):
    """A complete stablecoin-rail episode."""

    name: str = Field(min_length=1, description="Slug, e.g. svb-2023.")
    description: str = Field("", description="What the episode is.")
    start_at: datetime = Field(description="Business start time (UTC if no zone).")
    step_s: float = Field(900.0, ge=60, le=3600, description="Model step, seconds.")
    days: float = Field(7.0, gt=0, le=90, description="Default run length, days.")
    issuer: IssuerSpec
    reserves: ReservesSpec
    chains: dict[str, ChainSpec] = Field(min_length=1)
    market: MarketSpec
    holders: list[HolderSpec] = Field(min_length=1)
    behaviour: BehaviourSpec = Field(default_factory=lambda: BehaviourSpec.model_validate({}))
    exchanges: list[ExchangeSpec] = Field(default_factory=list)
    ramps: dict[str, RampSpec] = Field(default_factory=dict)
    transfers: TransferSpec
    shocks: list[Shock] = Field(default_factory=list)
    references: list[ReferenceSpec] = Field(default_factory=list)

    @field_validator("start_at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return v if v.tzinfo else v.replace(tzinfo=UTC)

    @field_validator("ramps")
    @classmethod
    def _codes(cls, v: dict[str, RampSpec]) -> dict[str, RampSpec]:
        for code in v:
            if not re.fullmatch(JURISDICTION, code):
                raise ValueError(f"{code!r} is not a two-letter jurisdiction code")
        return v

    def references_by_kind(self, kind: str) -> list[ReferenceSpec]:
        return [r for r in self.references if r.kind == kind]


# --------------------------------------------------------------------------- loading

Loc = tuple[str | int, ...]


def dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_TAGS = {
    "tbill", "tbill_ladder", "note", "repo", "mmf", "deposit", "bitcoin", "gold", "secured_loans",
    "commercial_paper", "corporate_bonds", "other", "yield_shift", "asset_crash", "bank_failure",
    "redemption_suspension", "backstop", "exchange_halt", "assumed_reserve_haircut", "news",
}  # fmt: skip


def _clean_loc(loc: tuple[Any, ...]) -> Loc:
    """Drop pydantic's union-tag segments (``shocks.0.yield_shift.bp`` -> ``shocks[0].bp``)."""
    out: list[str | int] = []
    for i, part in enumerate(loc):
        if i > 0 and isinstance(loc[i - 1], int) and part in _TAGS:
            continue
        if isinstance(part, str) and part.startswith(("function-", "tagged-union")):
            continue
        out.append(part)
    return tuple(out)


def _line_for(lines: Mapping[Loc, int] | None, loc: Loc) -> int | None:
    if not lines:
        return None
    for n in range(len(loc), -1, -1):
        hit = lines.get(loc[:n])
        if hit is not None:
            return hit
    return None


def _deep_merge(base: Any, over: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        merged = dict(base)
        for k, v in over.items():
            merged[k] = _deep_merge(base[k], v) if k in base else v
        return merged
    return over


def load_stablecoin_spec(
    data: Mapping[str, Any],
    source: str = "<spec>",
    *,
    lines: Mapping[Loc, int] | None = None,
    field_prefix: str = "",
) -> StablecoinSpec:
    """Validate a spec dict; raise `SpecError` naming the file, line and dotted field.

    ``data`` may start with ``preset: NAME``: the named preset is loaded and ``data`` is laid
    over it (mappings merged key by key, lists replaced), so a scenario states only what differs.
    ``lines`` maps field paths (tuples) to 1-based lines when the caller tracked them;
    ``field_prefix`` (e.g. ``"stablecoin"``) is put in front of every reported field.
    """

    def err(loc: Loc, message: str) -> SpecError:
        field = dotted(loc)
        if field_prefix:
            field = f"{field_prefix}.{field}" if field else field_prefix
        return SpecError(source, field, message, _line_for(lines, loc))

    if not isinstance(data, Mapping):
        raise err((), f"the stablecoin spec must be a mapping (got {type(data).__name__})")
    payload = dict(data)
    preset = payload.pop("preset", None)
    if preset is not None:
        if preset not in list_presets():
            raise err(
                ("preset",), f"unknown preset {preset!r} (choose from {', '.join(list_presets())})"
            )
        payload = _deep_merge(_read_preset_data(str(preset)), payload)
    try:
        spec = StablecoinSpec.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = _clean_loc(tuple(first["loc"]))
        msg = first["msg"]
        if first["type"] == "extra_forbidden":
            msg = f"unknown field {loc[-1]!r}" if loc else msg
        elif first["type"] == "missing":
            msg = "required field is missing"
        elif "input" in first and first["type"] not in ("model_type",):
            given = first["input"]
            if not isinstance(given, dict | list):
                msg += f" (got {given!r})"
        more = len(exc.errors()) - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise err(loc, msg) from None
    problem = check_references(spec)
    if problem:
        raise err(*problem)
    return spec


def check_references(spec: StablecoinSpec) -> tuple[Loc, str] | None:
    """Cross-field checks: every name a field refers to must exist, balances must add up."""
    chains = set(spec.chains)
    banks = {i.bank for i in spec.reserves.instruments if isinstance(i, DepositSpec)}
    exchanges = {e.name for e in spec.exchanges}
    kinds = {i.kind for i in spec.reserves.instruments}
    if "tbill_ladder" in kinds:
        kinds.add("tbill")  # a ladder is made of bills
    names = {i.name for i in spec.reserves.instruments if i.name}
    holder_keys = (
        {h.name for h in spec.holders} | {h.type for h in spec.holders}
        | {h.jurisdiction for h in spec.holders}
    )  # fmt: skip

    def unknown(what: str, value: str, known: set[str]) -> str:
        listed = ", ".join(sorted(known)) or "none defined"
        return f"unknown {what} {value!r} (known: {listed})"

    liq = spec.issuer.liquidity
    if liq.settlement_bank not in banks:
        return ("issuer", "liquidity", "settlement_bank"), unknown(
            "bank", liq.settlement_bank, banks
        )
    for i, v in enumerate(spec.market.venues):
        if v.chain != "offchain" and v.chain not in chains:
            return ("market", "venues", i, "chain"), unknown("chain", v.chain, chains)
        for j, p in enumerate(v.positions):
            if p.price_high <= p.price_low:
                return ("market", "venues", i, "positions", j), "price_high must exceed price_low"
    venue_names = {v.name for v in spec.market.venues}
    for i, a in enumerate(spec.market.arbitrageurs):
        for j, name in enumerate(a.venues):
            if name not in venue_names:
                return ("market", "arbitrageurs", i, "venues", j), unknown(
                    "venue", name, venue_names
                )
    seen: set[str] = set()
    for i, h in enumerate(spec.holders):
        if h.name in seen:
            return ("holders", i, "name"), f"duplicate holder name {h.name!r}"
        seen.add(h.name)
        if h.chain not in chains:
            return ("holders", i, "chain"), unknown("chain", h.chain, chains)
        if h.exchange is not None and h.exchange not in exchanges:
            return ("holders", i, "exchange"), unknown("exchange", h.exchange, exchanges)
    for code, ramp in spec.ramps.items():
        if ramp.exchange is not None and ramp.exchange not in exchanges:
            return ("ramps", code, "exchange"), unknown("exchange", ramp.exchange, exchanges)
        if ramp.chain is not None and ramp.chain not in chains:
            return ("ramps", code, "chain"), unknown("chain", ramp.chain, chains)
    if spec.transfers.default_chain not in chains:
        return ("transfers", "default_chain"), unknown(
            "chain", spec.transfers.default_chain, chains
        )
    for name, chain in spec.chains.items():
        if spec.transfers.tip_tier not in chain.tips and chain.fee_market == "eip1559":
            return ("transfers", "tip_tier"), unknown(f"tip tier on {name}", spec.transfers.tip_tier,
                                                      set(chain.tips))  # fmt: skip
    held = sum(h.balance_minor for h in spec.holders)
    if held > spec.issuer.supply_minor:
        return ("holders",), (
            f"holders' balances ({held}) exceed issuer.supply_minor ({spec.issuer.supply_minor})"
        )
    horizon_s = spec.days * 86_400.0
    for i, s in enumerate(spec.shocks):
        at_s = s.at_s(spec.start_at)
        if at_s < 0:
            return ("shocks", i, "at"), "is before start_at"
        if at_s > horizon_s:
            field = "at_h" if s.at_h is not None else "at"
            return ("shocks", i, field), f"is after the run ends ({spec.days:g} days)"
        if isinstance(s, BankFailureShock) and s.bank not in banks:
            return ("shocks", i, "bank"), unknown("bank", s.bank, banks)
        if isinstance(s, BackstopShock):
            for j, b in enumerate(s.banks):
                if b not in banks:
                    return ("shocks", i, "banks", j), unknown("bank", b, banks)
        if isinstance(s, AssetCrashShock) and s.asset not in kinds | names:
            return ("shocks", i, "asset"), unknown("reserve asset", s.asset, kinds | names)
        if isinstance(s, ExchangeHaltShock) and s.exchange not in exchanges:
            return ("shocks", i, "exchange"), unknown("exchange", s.exchange, exchanges)
        if isinstance(s, AssumedHaircutShock):
            for j, target in enumerate(s.applies_to):
                if target not in kinds | names:
                    return ("shocks", i, "applies_to", j), unknown(
                        "reserve asset", target, kinds | names
                    )
        if isinstance(s, NewsShock):
            for j, t in enumerate(s.targets):
                if t not in holder_keys:
                    return ("shocks", i, "targets", j), unknown("holder", t, holder_keys)
    return None


# --------------------------------------------------------------------------- YAML files


class _SpecYamlLoader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 surprises: ``17:00`` stays text (not 1020 seconds), ``NO``
    stays text (not false); ints and floats as in YAML 1.2 (underscores allowed)."""


_SpecYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if not tag.endswith((":bool", ":int", ":float"))]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SpecYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_SpecYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789")
)
_SpecYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*\.(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+)$"
    ),
    list("-+0123456789."),
)
_SpecYamlLoader.add_constructor(
    "tag:yaml.org,2002:int",
    lambda loader, node: int(str(loader.construct_scalar(node)).replace("_", "")),
)
_SpecYamlLoader.add_constructor(
    "tag:yaml.org,2002:float",
    lambda loader, node: float(str(loader.construct_scalar(node)).replace("_", "")),
)


def _index_lines(node: yaml.Node, loc: Loc, out: dict[Loc, int]) -> None:
    out[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            out[loc + (key,)] = key_node.start_mark.line + 1
            _index_lines(value_node, loc + (key,), out)
            out[loc + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, loc + (i,), out)


def read_yaml(text: str, source: str) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML and remember the line of every key and list item."""
    try:
        node = yaml.compose(text, Loader=_SpecYamlLoader)
        data = yaml.load(text, Loader=_SpecYamlLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise SpecError(source, "", f"YAML syntax error: {exc.problem}", line) from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return data, lines


def load_spec_file(path: str | Path) -> StablecoinSpec:
    """Load a spec from a YAML file: either the section alone or a scenario with ``stablecoin:``.

    A ``.json`` file is read as JSON: what `write_spec_file` writes (a resolved spec, no preset
    left to expand), so a service started on it runs exactly the episode its writer held."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(str(p), "", f"cannot read: {exc.strerror}") from None
    lines: dict[Loc, int] = {}
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(str(p), "", f"JSON syntax error: {exc.msg}", exc.lineno) from None
    else:
        data, lines = read_yaml(text, str(p))
    if isinstance(data, dict) and "stablecoin" in data and "issuer" not in data:
        section = data["stablecoin"]
        sub = {k[1:]: v for k, v in lines.items() if k[:1] == ("stablecoin",)}
        return load_stablecoin_spec(section, str(p), lines=sub, field_prefix="stablecoin")
    if not isinstance(data, dict):
        raise SpecError(str(p), "", "the file must be a mapping (a stablecoin spec)", 1)
    return load_stablecoin_spec(data, str(p), lines=lines)


def write_spec_file(spec: StablecoinSpec, path: str | Path) -> Path:
    """Write a validated spec as JSON that `load_spec_file` reads back to an equal spec.

    Every field is written (defaults and expanded presets included) and floats keep all their
    digits, so the reader need not share the writer's presets or defaults."""
    p = Path(path)
    p.write_text(json.dumps(spec.model_dump(mode="json"), indent=1) + "\n", encoding="utf-8")
    return p


def list_presets() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def read_preset_data(name: str, _seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """A preset's raw data with any ``preset:`` it builds on laid underneath (no ``preset`` key)."""
    if name in _seen:
        raise SpecError(
            name, "preset", f"presets build on each other in a cycle: {' -> '.join(_seen)}"
        )
    data, _ = read_yaml((PRESETS_DIR / f"{name}.yaml").read_text(encoding="utf-8"), name)
    data = dict(data)
    base = data.pop("preset", None)
    if isinstance(base, str) and base in list_presets():
        data = _deep_merge(read_preset_data(base, (*_seen, name)), data)
    return data


_read_preset_data = read_preset_data


def load_preset(name: str) -> StablecoinSpec:
    """One of the shipped presets: svb-2023, dollar-contagion, seed-haircut."""
    if name not in list_presets():
        raise SpecError("<preset>", "preset", f"unknown preset {name!r} (choose from "
                                               f"{', '.join(list_presets())})")  # fmt: skip
    return load_spec_file(PRESETS_DIR / f"{name}.yaml")
