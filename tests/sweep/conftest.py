"""Shared pieces of the sweep tests: a short scenario and its stablecoin runs made directly."""

from __future__ import annotations

import json
import logging
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


@pytest.fixture(scope="session")
def cluster_address():
    """An existing two-worker cluster, joined by address: its files travel back through the
    scheduler as on Kubernetes (and one cluster start serves several tests)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster:  # fmt: skip
        yield cluster.scheduler_address
