"""Shared pieces of the sweep tests: a short scenario and its stablecoin runs made directly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from corridor.scenario import Scenario, load_scenario

# The calibration episode, cut to the three days that hold all its shocks: short model runs.
SCENARIO = "svb-2023"
SHORT = {"days": 3}


def plain(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary as it reads back from summary.json."""
    return json.loads(
        json.dumps(summary, default=lambda o: o.isoformat() if hasattr(o, "isoformat") else str(o))
    )


def direct_stablecoin(scenario: Scenario, seed: int) -> dict[str, Any]:
    """The stablecoin world run alone (what `corridor stablecoin run` does), no sweep involved."""
    from services.stablecoin.model import StablecoinWorld

    start = datetime.fromtimestamp(scenario.start_epoch_s, tz=UTC)
    world = StablecoinWorld.from_spec(scenario.stablecoin_spec, seed=seed, start_at=start)
    return plain(world.run(scenario.days).summary())


@pytest.fixture(scope="session")
def short_scenario() -> Scenario:
    return load_scenario(SCENARIO, SHORT)
