"""The run's summary: the numbers a briefing quotes, computed from the world's books and rows."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from services.stablecoin.curve import DAY_S
from services.stablecoin.model import COLUMNS, EM_TYPES, bond_math

if TYPE_CHECKING:
    from services.stablecoin.model import StablecoinWorld

_PRICE = COLUMNS.index("price")
_MIN_VENUE = COLUMNS.index("min_venue_price")
_T = COLUMNS.index("t_s")
_COVERAGE = COLUMNS.index("coverage")
_QUEUE = COLUMNS.index("queue_minor")
_IMPACT = COLUMNS.index("yield_impact_bp")
_MIGRATION = COLUMNS.index("migration_share")


def _price_path(world: StablecoinWorld) -> dict[str, Any]:
    rows = world._rows
    step_h = world.step_s / 3600.0
    low = min(rows, key=lambda r: (r[_PRICE], r[_T]))
    below = [r for r in rows[1:] if r[_PRICE] < 0.99]
    first_below = below[0][_T] if below else None
    last_below = below[-1][_T] if below else None
    return {
        "min_price": round(low[_PRICE], 6),
        "min_price_at_s": low[_T],
        "min_price_at": world._iso(low[_T]),
        "min_venue_price": round(min(r[_MIN_VENUE] for r in rows), 6),
        "hours_below_0_99": round(len(below) * step_h, 3),
        "first_below_0_99_at_s": first_below,
        "last_below_0_99_at_s": last_below,
        "final_price": round(rows[-1][_PRICE], 6),
        "venue_min_price": {v.name: round(v.min_price, 6) for v in world.venues},
    }


def _redemptions(world: StablecoinWorld) -> dict[str, Any]:
    issuer = world.issuer
    s0 = issuer.supply_start_minor
    days = max(1, math.ceil(world.now_s / DAY_S - 1e-9))
    by_day = [
        (world.burned_by_day.get(d, 0) - world.minted_by_day.get(d, 0)) / s0 * 100.0
        for d in range(days)
    ]
    requested = [world.requested_by_day.get(d, 0) / s0 * 100.0 for d in range(days)]
    return {
        "net_redemptions_pct_by_day": [round(x, 4) for x in by_day],
        "net_redemptions_pct_4d": round(sum(by_day[:4]), 4),
        "net_redemptions_pct_total": round(sum(by_day), 4),
        "redemption_requests_pct_by_day": [round(x, 4) for x in requested],
        "redemption_requests_pct_4d": round(sum(requested[:4]), 4),
        "supply_start_minor": s0,
        "supply_end_minor": issuer.supply_minor,
        "minted_minor": issuer.minted_minor,
        "burned_minor": issuer.burned_minor,
        "issuer_fees_minor": issuer.fees_minor,
        "redemption_queue_max_minor": max(r[_QUEUE] for r in world._rows),
        "redemption_queue_end_minor": issuer.queue_minor,
        "redemption_wait_max_h": round(issuer.longest_wait_s / 3600.0, 2),
    }


def _reserves(world: StablecoinWorld) -> dict[str, Any]:
    p = world.portfolio
    reval = dict(p.revaluation_minor)
    shock_reval = sum(v for k, v in reval.items() if k != "time")
    coverage = [r[_COVERAGE] for r in world._rows]
    return {
        "reserves_start_mtm_minor": p.mtm_start_minor,
        "reserves_end_mtm_minor": p.mtm_minor,
        "excess_start_minor": p.mtm_start_minor - world.issuer.supply_start_minor,
        "reserve_losses_minor": max(0, -shock_reval) + p.fire_sale_cost_minor,
        "revaluation_by_cause_minor": reval,
        "fire_sale_minor": p.fire_sale_proceeds_minor,
        "fire_sale_cost_minor": p.fire_sale_cost_minor,
        "fire_sale_by_kind_minor": dict(p.fire_sale_by_kind),
        "fire_sale_yield_impact_bp_max": round(max(r[_IMPACT] for r in world._rows), 4),
        "fire_sale_bills_5d_max_minor": p.max_window_bill_sales_minor,
        "fire_sale_extrapolated": p.fire_sale_extrapolated,
        "coverage_min": round(min(coverage), 6),
        "coverage_end": round(coverage[-1], 6),
        "insolvent_at_some_point": min(coverage) < 1.0,
        "reserves_by_category_end_minor": p.by_category(),
        "curve_end_pct": p.curve.snapshot_pct(),
    }


def _holders(world: StablecoinWorld) -> dict[str, Any]:
    final = world.price
    cohorts = []
    by_type: dict[str, int] = defaultdict(int)
    by_jurisdiction: dict[str, int] = defaultdict(int)
    flight: dict[str, int] = defaultdict(int)
    cbdc_by_j: dict[str, int] = defaultdict(int)
    em_loss = 0
    for c in world.cohorts:
        unrealised = math.floor((c.balance_minor + c.queued_minor * 0) * max(0.0, 1.0 - final))
        loss = c.realised_loss_minor + unrealised + c.ramp_cost_minor
        by_type[c.spec.type] += loss
        by_jurisdiction[c.spec.jurisdiction] += loss
        if c.spec.type in EM_TYPES:
            em_loss += loss
        for dest, amount in c.flight_minor.items():
            flight[dest] += amount
            if dest == "cbdc":
                cbdc_by_j[c.spec.jurisdiction] += amount
        cohorts.append({
            "name": c.name, "type": c.spec.type, "jurisdiction": c.spec.jurisdiction,
            "initial_minor": c.initial_minor, "balance_minor": c.balance_minor,
            "exited_pct": round(c.exited_minor / c.initial_minor * 100.0, 4) if c.initial_minor else 0.0,
            "sold_minor": c.sold_minor, "sale_proceeds_minor": c.sale_proceeds_minor,
            "redeemed_minor": c.redeemed_minor, "queued_minor": c.queued_minor,
            "realised_loss_minor": c.realised_loss_minor, "unrealised_loss_minor": unrealised,
            "ramp_cost_minor": c.ramp_cost_minor,
        })  # fmt: skip
    days = max(1, math.ceil(world.now_s / DAY_S - 1e-9))
    return {
        "holders": cohorts,
        "holder_losses_by_type_minor": dict(by_type),
        "holder_losses_by_jurisdiction_minor": dict(by_jurisdiction),
        "em_holder_losses_minor": em_loss,
        "flight_by_destination_minor": dict(flight),
        "cbdc_surge_by_jurisdiction_minor": dict(cbdc_by_j),
        "cbdc_surge_by_day_minor": [world.cbdc_by_day.get(d, 0) for d in range(days)],
        "corridor_migration_share_max": round(max(r[_MIGRATION] for r in world._rows), 4),
    }


def _market(world: StablecoinWorld) -> dict[str, Any]:
    arbs = [
        {
            "name": a.name, "bought_minor": a.bought_minor, "spent_minor": a.spent_minor,
            "minted_minor": a.minted_minor, "cash_end_minor": a.cash_minor,
            "inventory_end_minor": a.inventory_minor + a.queued_minor,
            "replenished_minor": a.replenished_minor,
        }
        for a in world.arbs
    ]  # fmt: skip
    chains = {}
    for name, c in world.chains.items():
        fees = world.transfer_fee_minor_by_chain.get(name, [])
        chains[name] = {
            "fee_market": c.spec.fee_market,
            "base_fee_end": round(c.base_fee, 6),
            "base_fee_max": round(c.base_fee_max, 6),
            "full_blocks": c.full_blocks_total,
            "blocks": c.blocks_total,
            "transfers": c.transfers,
            "transfer_fee_max_minor": c.transfer_fee_max_minor,
            "transfer_fee_mean_minor": round(sum(fees) / len(fees), 2) if fees else None,
            "quiet_transfer_fee_minor": c._fee_minor(
                c.spec.base_fee_ref, c.spec.tips.get(world.spec.transfers.tip_tier, 0.0),
                c.spec.gas_per_transfer,
            ),
        }  # fmt: skip
    return {
        "arbitrageurs": arbs,
        "venues": {v.name: {"price_end": round(v.price, 6), "volume_minor": v.volume_minor,
                            "min_price": round(v.min_price, 6)} for v in world.venues},
        "chains": chains,
        "transfers_submitted": world.transfers_submitted,
    }  # fmt: skip


def build_summary(world: StablecoinWorld) -> dict[str, Any]:
    """Everything a briefing needs about one run, JSON-ready."""
    spec = world.spec
    assumptions = [r.model_dump(mode="json") for r in spec.references]
    assumptions += world.assumption_labels
    if world.portfolio.fire_sale_extrapolated:
        fs = spec.reserves.fire_sale
        assumptions.append({
            "name": "fire-sale yield feedback extrapolated",
            "value": world.portfolio.max_window_bill_sales_minor,
            "kind": "assumption",
            "source": f"BIS WP 1270 estimates rest on flows up to {fs.observed_flow_max_minor} "
                      "minor units over five days; larger sales extrapolate it linearly.",
        })  # fmt: skip
    out: dict[str, Any] = {
        "spec": spec.name,
        "issuer": spec.issuer.name,
        "token": spec.issuer.token,
        "seed": world.seed,
        "start_at": world.start_at.isoformat(),
        "days": round(world.now_s / DAY_S, 4),
        "step_s": world.step_s,
    }
    out |= _price_path(world)
    out |= _redemptions(world)
    out |= _reserves(world)
    out |= _holders(world)
    out |= _market(world)
    out["bond_math"] = bond_math(world.portfolio)
    out["shocks"] = world.shock_log
    out["attestations"] = world.attestations
    out["assumptions"] = assumptions
    out["audit"] = {k: v for k, v in world.audit().items() if k.endswith("gap_minor")}
    return out
