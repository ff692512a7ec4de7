"""The dollar-contagion load shape as data: steady -> a x10 surge in which the mix shifts from the
stablecoin rail to the CBDC corridor -> recovery.

Kept free of Locust and grpc imports so the CLI and the tests can reason about the schedule;
`loadtests/shapes.py` turns it into a Locust `LoadTestShape`.

The mix shift works through pacing, not through user classes: every user belongs to a rail, and
a stage says what share of corridor demand each rail carries (`cbdc_share`; the stablecoin rail
gets the rest). A user's wait between calls is its base wait scaled by (share in the steady
stage / share now), so when the surge multiplies the users by ten and the CBDC share goes from
0.5 to 0.9, the CBDC corridor's calls grow x18 and the stablecoin rail's x2 — total corridor
demand x10, nine tenths of it on the CBDC corridor. Rails outside the corridor story (domestic
payments, vouchers, supervision queries) keep their pace and grow with the user count.
"""

from __future__ import annotations

from dataclasses import dataclass

CORRIDOR_RAIL = "cbdc-corridor"
STABLECOIN_RAIL = "stablecoin"
NEUTRAL_RAIL = "neutral"


@dataclass(frozen=True)
class Stage:
    name: str
    end_s: float  # seconds since the test started
    users: int
    spawn_rate: float  # users started (or stopped) per second on entering the stage
    cbdc_share: float  # share of corridor demand on the CBDC corridor (stablecoin: the rest)


STEADY_SHARE = 0.5
SHARES = {"steady": STEADY_SHARE, "surge": 0.9, "recovery": 0.6}


def contagion_stages(minutes: float, base_users: int, surge_factor: int = 10) -> list[Stage]:
    """Steady for 30% of the run, surge (x`surge_factor` users, ramped in ~5% of the run) for
    40%, recovery at the base user count for the last 30%."""
    if minutes <= 0:
        raise ValueError(f"minutes must be > 0 (got {minutes})")
    if base_users < 1:
        raise ValueError(f"users must be >= 1 (got {base_users})")
    total = minutes * 60.0
    ramp_s = max(1.0, 0.05 * total)
    surge_users = base_users * surge_factor
    return [
        Stage("steady", 0.3 * total, base_users, float(base_users), SHARES["steady"]),
        Stage(
            "surge", 0.7 * total, surge_users, (surge_users - base_users) / ramp_s, SHARES["surge"]
        ),
        Stage(
            "recovery", total, base_users, (surge_users - base_users) / ramp_s, SHARES["recovery"]
        ),
    ]


def stage_at(stages: list[Stage], run_time_s: float) -> Stage | None:
    """The stage running at `run_time_s`, or None once the last one has ended."""
    for st in stages:
        if run_time_s < st.end_s:
            return st
    return None


def pace(rail: str, stage_name: str) -> float:
    """Multiplier of a user's base wait in a stage (smaller = more calls)."""
    share = SHARES.get(stage_name, STEADY_SHARE)
    if rail == CORRIDOR_RAIL:
        return STEADY_SHARE / share
    if rail == STABLECOIN_RAIL:
        return (1 - STEADY_SHARE) / max(1e-6, 1 - share)
    return 1.0
