"""Flattening a summary into a row, and the determinism contract's exclusions."""

from __future__ import annotations

from corridor.sweep import WALL_CLOCK_FIGURES, comparable_figures, flatten

SUMMARY = {
    "scenario": "x",
    "seed": 3,
    "wall_s": 12.5,
    "payments": 300,
    "rails": {
        "cbdc": {"payments": 10, "p50_settle_s": 0.05, "cost_bps_mean": 12.0, "status_visible": True,
                 "failure_reasons": {"NO_LIQUIDITY": 2}},
        "stablecoin": {"p50_settle_s": 6000.0},
    },
    "throughput": {"cbdc_mean_tps": 30.0},
    "stablecoin": {"min_price": 0.88, "net_redemptions_pct_by_day": [1.0, 2.5], "holders": [{"name": "a"}]},
    "example_payment_ids": ["xb-1", "xb-2"],
    "invariants": {"ok": True, "checks": [{"name": "conservation", "ok": True, "detail": "debits 7 credits 7"}]},
}  # fmt: skip


def test_figures_are_dotted_numbers_and_booleans() -> None:
    row = flatten(SUMMARY)
    assert row["rails.cbdc.p50_settle_s"] == 0.05
    assert row["rails.cbdc.status_visible"] is True
    assert row["rails.cbdc.failure_reasons.NO_LIQUIDITY"] == 2
    assert row["stablecoin.net_redemptions_pct_by_day.1"] == 2.5
    assert "scenario" not in row and "stablecoin.holders.0.name" not in row
    assert "example_payment_ids.0" not in row


def test_comparable_figures_leave_out_exactly_the_timing_dependent_ones() -> None:
    figures = comparable_figures(SUMMARY)
    for gone in (
        "wall_s",
        "throughput.cbdc_mean_tps",
        "rails.cbdc.p50_settle_s",
        "example_payment_ids.0",
    ):
        assert gone not in figures
    # The stablecoin rail's settle time is business time from the model: it must match.
    assert figures["rails.stablecoin.p50_settle_s"] == 6000.0
    assert figures["rails.cbdc.payments"] == 10
    assert "rails.cbdc.cost_bps_mean" not in figures  # priced by the bridge's settlement order
    assert figures["stablecoin.holders.0.name"] == "a"
    assert "rails.cbdc.p50_settle_s" in " ".join(WALL_CLOCK_FIGURES)
    # Invariant checks: each one's verdict is compared, the totals its text quotes are not.
    assert figures["invariants.checks.0.ok"] is True and "invariants.checks.0.detail" not in figures
