"""A run's summary.json as one row of runs.parquet, and which figures are reproducible.

Flattening: nested objects become dotted column names (``rails.cbdc.p50_settle_s``,
``stablecoin.min_price``), the names the ensemble briefing reads. A *figure* is a number or a
yes/no; lists of numbers become ``name.0``, ``name.1``...; text and lists of objects (holders,
shocks, invariant checks) stay in the run's own summary.json.

Determinism contract. A run is a pure function of (scenario, parameters, seed) except for what
the wall clock measures. In services mode the CBDC payments settle through real processes, so
their settlement time is the measured latency of this machine, and throughput and run time are
measurements too. Those figures, and the payment ids (the ledger's ids are derived from the
run's directory, so two copies of one run in two places get different ids), are listed in
WALL_CLOCK_FIGURES (and SETTLEMENT_ORDER_FIGURES, below); every other figure must be
identical wherever the run ran — alone with `corridor simulate`, in a local sweep, or on a
cluster.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping
from typing import Any

WALL_CLOCK_FIGURES: tuple[str, ...] = (
    "wall_s",  # the run's elapsed time
    "throughput.*",  # CBDC payments per second through the real services, and their wall time
    "rails.cbdc.p50_settle_s",  # CBDC settlement = measured gRPC + PostgreSQL latency
    "rails.cbdc.p99_settle_s",
    "rails.cbdc.share_within_1h",  # computed from the measured latency (always 1.0 in practice)
    "rails.cbdc.share_within_1bd",
    "example_payment_id",  # ids of traced payments: derived from the run directory, not a figure
    "example_payment_ids.*",
)
# Not read off the wall clock, but decided by timing all the same: the real bridge prices a
# CBDC payment off its AMM pool as the payments settled before it left it, and which payments
# share a PvP round (and so see the same pool) depends on how its queue fills — on timing. Two
# copies of a run can then differ in a few CBDC payments' FX cost (seen: 1 of 2,000 payments,
# and 11; the mean cost moved by 0.0006-0.004 bp) and the ledger totals that the invariant
# checks quote move with them (one minor unit). Rails chosen, counts, statuses, every other
# rail's costs and every check's verdict are identical. Reported to the bridge's owners.
SETTLEMENT_ORDER_FIGURES: tuple[str, ...] = (
    "rails.cbdc.cost_bps_mean",
    "invariants.checks.*.detail",
)
EXCLUDED_FIGURES: tuple[str, ...] = WALL_CLOCK_FIGURES + SETTLEMENT_ORDER_FIGURES
MAX_LIST = 64  # longer lists of numbers stay in summary.json only


def flatten(summary: Mapping[str, Any], *, text: bool = False) -> dict[str, Any]:
    """Dotted leaves of ``summary``: numbers and booleans (and strings when ``text``)."""
    out: dict[str, Any] = {}
    _walk(summary, "", out, text)
    return out


def _walk(value: Any, prefix: str, out: dict[str, Any], text: bool) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _walk(v, f"{prefix}{k}.", out, text)
    elif isinstance(value, (list, tuple)):
        # Rows keep short lists of numbers; the comparison (text) keeps every list.
        if text or (len(value) <= MAX_LIST and all(_scalar(v, text) for v in value)):
            for i, v in enumerate(value):
                _walk(v, f"{prefix}{i}.", out, text)
    elif _scalar(value, text) and prefix:
        out[prefix[:-1]] = value


def _scalar(value: Any, text: bool) -> bool:
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, (int, float)):
        return True
    return text and isinstance(value, str)


def is_excluded(name: str) -> bool:
    """True for a figure outside the determinism contract (EXCLUDED_FIGURES)."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in EXCLUDED_FIGURES)


def comparable_figures(summary: Mapping[str, Any]) -> dict[str, Any]:
    """Every leaf of a summary (text included) that must not depend on where or when the run
    ran: the determinism contract above (all but EXCLUDED_FIGURES). NaN is stored as None, so
    it compares equal to NaN."""
    return {
        k: (None if isinstance(v, float) and math.isnan(v) else v)
        for k, v in flatten(summary, text=True).items()
        if not is_excluded(k)
    }


def summary_row(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of one summary.json as runs.parquet columns (the row's own identity
    columns — run_id, seed, mode, status — are set by the caller and win)."""
    return flatten(summary)
