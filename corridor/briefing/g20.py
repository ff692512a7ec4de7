"""The G20 targets for cross-border payments (end-2027) as checkable arithmetic.

The targets (FSB, October 2021) are the yardstick for every rail in a briefing:

* **Cost, retail**: global average at most 1% of the amount, no corridor above 3%.
* **Cost, remittances**: global average at most 3% for a $200 send (2030), no corridor
  above 5%.
* **Speed**: 75% of payments available to the recipient within 1 hour of initiation,
  the rest within 1 business day.
* **Transparency**: total cost, expected time and status shown to payer and payee.
* **Access**: every end user has at least one electronic option (not a number a run
  can measure; the briefing reports what the rail requires).

A rating is ``meets`` when the target holds, ``near`` when it is missed but within the
band a policymaker would call close (stated per target below), ``misses`` otherwise,
and ``unknown`` when the run has no figure for it. The page pairs each rating with a
glyph and a word, never colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

RETAIL_COST_AVERAGE_MAX = 0.01
RETAIL_COST_CORRIDOR_MAX = 0.03
REMITTANCE_COST_AVERAGE_MAX = 0.03
REMITTANCE_COST_CORRIDOR_MAX = 0.05
SPEED_WITHIN_1H_MIN = 0.75
# "The rest within one business day" means all of them; a run with a handful of
# stragglers (or failures, which never arrive) is counted as meeting it at 99%.
SPEED_WITHIN_1BD_MIN = 0.99
SPEED_WITHIN_1H_NEAR = 0.50
SPEED_WITHIN_1BD_NEAR = 0.90
# Status quo for context: World Bank global average cost of a $200 remittance, Q1 2025.
WORLD_BANK_REMITTANCE_AVERAGE_2025Q1 = 0.0649


class Rating(Enum):
    MEETS = "meets"
    NEAR = "near"
    MISSES = "misses"
    UNKNOWN = "unknown"

    @property
    def glyph(self) -> str:
        return {"meets": "✓", "near": "◐", "misses": "✗", "unknown": "·"}[self.value]

    @property
    def word(self) -> str:
        return {
            "meets": "meets",
            "near": "close",
            "misses": "misses",
            "unknown": "no data",
        }[self.value]


@dataclass(frozen=True)
class Target:
    key: str
    heading: str
    target_text: str


TARGETS: tuple[Target, ...] = (
    Target("cost_retail", "Retail cost", "≤ 1% average, no corridor > 3%"),
    Target("cost_remittance", "Remittance cost", "≤ 3% average, no corridor > 5%"),
    Target("speed_1h", "Within 1 hour", "≥ 75% of payments"),
    Target("speed_1bd", "Within 1 business day", "the rest"),
    Target("transparency", "Transparency", "cost, time and status shown"),
    Target("access", "Access", "an electronic option for all"),
)


def rate_cost(
    average: float | None, worst_corridor: float | None, average_max: float, corridor_max: float
) -> Rating:
    """Cost as a share of the amount. ``near``: the average misses the global target but
    stays under the per-corridor ceiling (or the average holds and one corridor breaks it)."""
    if average is None:
        return Rating.UNKNOWN
    corridor_ok = worst_corridor is None or worst_corridor <= corridor_max
    if average <= average_max and corridor_ok:
        return Rating.MEETS
    if average <= corridor_max:
        return Rating.NEAR
    return Rating.MISSES


def rate_retail_cost(average: float | None, worst_corridor: float | None) -> Rating:
    return rate_cost(average, worst_corridor, RETAIL_COST_AVERAGE_MAX, RETAIL_COST_CORRIDOR_MAX)


def rate_remittance_cost(average: float | None, worst_corridor: float | None) -> Rating:
    return rate_cost(
        average, worst_corridor, REMITTANCE_COST_AVERAGE_MAX, REMITTANCE_COST_CORRIDOR_MAX
    )


def rate_share(share: float | None, target: float, near: float) -> Rating:
    if share is None:
        return Rating.UNKNOWN
    if share >= target:
        return Rating.MEETS
    if share >= near:
        return Rating.NEAR
    return Rating.MISSES


def rate_speed_1h(share: float | None) -> Rating:
    """Share of payments available to the recipient within one hour (``near``: at least half)."""
    return rate_share(share, SPEED_WITHIN_1H_MIN, SPEED_WITHIN_1H_NEAR)


def rate_speed_1bd(share: float | None) -> Rating:
    """Share within one business day (``near``: at least 90%)."""
    return rate_share(share, SPEED_WITHIN_1BD_MIN, SPEED_WITHIN_1BD_NEAR)


def rate_transparency(status_visible: bool | None) -> Rating:
    if status_visible is None:
        return Rating.UNKNOWN
    return Rating.MEETS if status_visible else Rating.MISSES
