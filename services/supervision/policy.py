"""`DetectorPolicy`: every threshold the AML detectors use, in one documented, typed place.

Defaults are illustrative supervisory settings, not any regulator's published rules; every field
is configurable (`dataclasses.replace(policy, fan_in_min_senders=12)`). Amount thresholds that
compare value across currencies are in CNY-equivalent *major* units (`*_cny`): detectors convert
each flow with `cny_per_major` for scoring only; no money is ever moved with these floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from corridor.money import MINOR_UNITS

HOUR_S = 3_600.0
DAY_S = 86_400.0

# Round reference rates, CNY per one major unit; for scoring, not settlement.
DEFAULT_CNY_PER_MAJOR: Mapping[str, float] = MappingProxyType(
    {
        "CNY": 1.0,
        "HKD": 0.92,
        "THB": 0.20,
        "AED": 1.96,
        "SAR": 1.92,
        "USD": 7.20,
        "USDT": 7.20,
        "USDC": 7.20,
    }
)

# Stablecoins use 6 decimals on both chains; fiat exponents come from corridor.money.
DEFAULT_MINOR_EXPONENT: Mapping[str, int] = MappingProxyType({**MINOR_UNITS, "USDT": 6, "USDC": 6})

# Reporting thresholds (major units) that structuring tries to stay under: the PBOC large-value
# threshold for CNY, cash-transaction reporting levels elsewhere, and USD 10,000 for dollar tokens
# (the level at which ramps file currency-transaction reports).
DEFAULT_REPORTING_THRESHOLDS_MAJOR: Mapping[str, tuple[int, ...]] = MappingProxyType(
    {
        "CNY": (50_000,),
        "HKD": (120_000,),
        "THB": (2_000_000,),
        "AED": (55_000,),
        "SAR": (60_000,),
        "USD": (10_000,),
        "USDT": (10_000,),
        "USDC": (10_000,),
    }
)


def node_tier_caps_minor() -> dict[tuple[str, int], int]:
    """Per-payment caps of each wallet tier, read from the central-bank nodes' own policy data
    (services/centralbank/policy.yaml) so supervision and the ledgers never disagree."""
    from services.centralbank.policy import load_policy

    caps: dict[tuple[str, int], int] = {}
    for jurisdiction in ("CN", "HK", "TH", "AE", "SA"):
        node = load_policy(jurisdiction)
        for tier in node.tiers.values():
            if tier.per_payment_max_minor > 0:
                caps[(node.currency, tier.tier)] = tier.per_payment_max_minor
    return caps


@dataclass(frozen=True)
class DetectorPolicy:
    """Thresholds and windows of the streaming AML detectors (all windows in business seconds)."""

    # --- value normalisation and feed assembly -------------------------------------------------
    cny_per_major: Mapping[str, float] = field(default_factory=lambda: DEFAULT_CNY_PER_MAJOR)
    minor_exponent: Mapping[str, int] = field(default_factory=lambda: DEFAULT_MINOR_EXPONENT)
    # Legs sharing a payment_id are joined into one payer -> payee flow once no new leg has
    # arrived for this long. Every flow waits the same delay, so flows reach the detectors in
    # business-time order; it is also the floor of every detection delay.
    leg_assembly_s: float = 120.0

    # --- who is who ---------------------------------------------------------------------------
    # Attributed service addresses/accounts (licensed exchanges, ramps, payment processors): their
    # legitimate fan-in/fan-out is not a typology. Supplied by the supervisor, like chain labels.
    known_services: frozenset[str] = frozenset()
    # Watch-listed (sanctioned / designated) wallets and addresses, as pseudonymous ids.
    watch_list: frozenset[str] = frozenset()

    # --- alerting -----------------------------------------------------------------------------
    # One alert per (typology, primary subject) per cooldown: a ring keeps one open alert.
    alert_cooldown_s: float = DAY_S

    # --- structuring: many payments just under a tier cap or a reporting threshold -------------
    reporting_thresholds_major: Mapping[str, tuple[int, ...]] = field(
        default_factory=lambda: DEFAULT_REPORTING_THRESHOLDS_MAJOR
    )
    # (currency, tier) -> per-payment cap in minor units; default read from the nodes' policy.
    tier_per_payment_caps_minor: Mapping[tuple[str, int], int] = field(
        default_factory=node_tier_caps_minor
    )
    structuring_band: float = 0.10  # "just under" = within 10% below the threshold
    structuring_window_s: float = 3 * DAY_S
    structuring_payer_min_count: int = 3  # near-threshold payments by one payer
    structuring_collector_min_count: int = 4  # near-threshold payments into one payee...
    structuring_collector_min_senders: int = 2  # ...from at least this many payers

    # --- shared wallet history ------------------------------------------------------------------
    # How far back per-wallet inflow/outflow history is kept; also the conduit lookback.
    activity_horizon_s: float = 3 * DAY_S

    # --- conduits: a wallet whose outflows over the horizon match its third-party inflows -------
    conduit_ratio_low: float = 0.7  # paid out >= 70% of recent third-party inflow...
    conduit_ratio_high: float = 1.25  # ...and not much more than came in

    # --- fan-in: many distinct payers into one wallet ------------------------------------------
    fan_window_s: float = DAY_S
    fan_in_min_senders: int = 8
    fan_in_min_value_cny: float = 20_000.0
    fan_in_min_conduit_share: float = 0.5  # share of payers that are conduits

    # --- fan-out: one wallet pays many, who move the money on ----------------------------------
    fan_out_min_receivers: int = 8
    fan_out_min_value_cny: float = 20_000.0
    onward_window_s: float = 12 * HOUR_S
    onward_ratio: float = 0.7  # a receiver moved >= 70% of what it got onward in the window
    fan_out_min_onward_share: float = 0.5

    # --- cycles / round-tripping ---------------------------------------------------------------
    cycle_window_s: float = 7 * DAY_S
    cycle_min_length: int = 3  # 2-cycles are everyday trade netting without invoice data
    cycle_max_length: int = 6
    cycle_min_value_cny: float = 10_000.0
    cycle_hop_ratio_low: float = 0.7  # each hop carries 70%..105% of the previous one
    cycle_hop_ratio_high: float = 1.05
    cycle_min_jurisdictions: int = 2  # CBDC: must cross a border
    cycle_min_jurisdictions_chain: int = 1  # chain addresses have no jurisdiction
    cycle_search_budget: int = 2_000  # edge expansions per closing flow

    # --- rapid pass-through -------------------------------------------------------------------
    pass_through_window_s: float = 30 * 60.0
    pass_through_min_value_cny: float = 10_000.0
    # Forwards 95%..101% of what came in: a conduit keeps at most a small cut and adds nothing
    # of its own (the 1% absorbs FX rounding between reference rates).
    pass_through_ratio_low: float = 0.95
    pass_through_ratio_high: float = 1.01
    # ...to at most this many payees; paying out to many at once is a disbursement (payroll,
    # fan-out), judged by the fan-out detector.
    pass_through_max_payees: int = 3

    # --- scatter-gather: one source -> several intermediaries -> one collector -----------------
    scatter_window_s: float = 3 * DAY_S
    scatter_min_intermediaries: int = 4
    scatter_min_value_cny: float = 2_000.0  # per forwarded leg
    scatter_forward_ratio_low: float = 0.5
    scatter_forward_ratio_high: float = 1.1

    # --- velocity anomalies -------------------------------------------------------------------
    velocity_window_s: float = HOUR_S
    velocity_min_count: int = 15  # outgoing payments in one window
    velocity_peak_factor: float = 1.5  # ...and this many times the wallet's own earlier peak
    # ...hammering few payees: payments per distinct payee. A batch with one payment per payee
    # (payroll, a supplier run) is a disbursement, not a drain or cap-splitting.
    velocity_min_repeat: float = 2.0

    # --- watch-list parties -------------------------------------------------------------------
    watch_exposure_window_s: float = DAY_S
    watch_exposure_ratio_low: float = 0.5  # a 1-hop wallet passing on listed money
    watch_exposure_ratio_high: float = 1.1

    # --- voucher misuse: merchant pays the voucher value back to the holder --------------------
    voucher_window_s: float = 2 * DAY_S
    voucher_cashback_ratio_low: float = 0.7
    voucher_cashback_ratio_high: float = 1.0
    voucher_min_cashbacks: int = 2  # distinct holders cashed out by one merchant

    def unit_value_cny(self, currency: str) -> float:
        """CNY-equivalent value of one minor unit of `currency` (unknown currency: 0)."""
        rate = self.cny_per_major.get(currency)
        if rate is None:
            return 0.0
        return rate / 10 ** self.minor_exponent.get(currency, 2)

    def near_thresholds_minor(self, currency: str, payer_tier: int) -> tuple[int, ...]:
        """Thresholds (minor units of `currency`) a payment by a wallet of `payer_tier` may be
        structured under: the currency's reporting thresholds and the tier's per-payment cap."""
        scale = 10 ** self.minor_exponent.get(currency, 2)
        out = [t * scale for t in self.reporting_thresholds_major.get(currency, ())]
        cap = self.tier_per_payment_caps_minor.get((currency, payer_tier))
        if cap:
            out.append(cap)
        return tuple(sorted(set(out)))
