"""A corridor for the load-test tests: the services as OS processes on free ports (the fleet
`corridor up` runs), fresh databases on the test PostgreSQL server, a small world set up once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from corridor.fleet import Fleet
from loadtests.benchfleet import bench_corridor
from loadtests.targets import Targets
from loadtests.world import World, prepare_world
from tests.conftest import use_default_security

REPO = Path(__file__).resolve().parents[2]
LOCUSTFILE = REPO / "loadtests" / "locustfile.py"
SERVICES = ["cn", "hk", "bridge", "vouchers", "stablecoin", "supervision"]


@dataclass
class LoadCorridor:
    fleet: Fleet
    targets: Targets
    urls: dict[str, str]  # service -> its database
    world: World
    world_path: Path
    logs: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, **self.targets.to_env()}


def _available(names: list[str]) -> list[str]:
    from corridor.cli import available_services

    present = set(available_services())
    return [n for n in names if n in present]


@pytest.fixture(scope="module")
def load_corridor(
    pg_server_url: str, tmp_path_factory: pytest.TempPathFactory, security_dir: Path
) -> Iterator[LoadCorridor]:
    """As a user runs it: the default security (mTLS + credentials) for the services, the set-up
    and the Locust processes (they inherit this environment); restored after the module."""
    state = tmp_path_factory.mktemp("loadtest")
    names = _available(SERVICES)
    with pytest.MonkeyPatch.context() as mp:
        use_default_security(mp, security_dir)  # before the fleet is planned: it reads them
        with bench_corridor(state, pg_server_url, f"lt{os.getpid()}", names) as started:
            fleet, targets, urls = started
            assert fleet.security.mode == "on"
            world = asyncio.run(prepare_world(targets, "lt", wallets_cap=100))
            path = state / "world.json"
            path.write_text(world.to_json())
            yield LoadCorridor(fleet, targets, urls, world, path, state / "logs")


def locust(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args],
        env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
