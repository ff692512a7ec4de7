"""A worker process killed mid-sweep: its tasks are rerun, the sweep finishes, same results."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest
from distributed import Client, LocalCluster

from corridor.sweep import SweepOptions, comparable_figures, plan_sweep, run_sweep, seed_list
from tests.sweep.conftest import SCENARIO, SHORT, direct_stablecoin


@pytest.fixture
def cluster():
    """An existing two-worker cluster the sweep joins by address (so its files travel back
    through the scheduler, as on Kubernetes)."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as c, Client(c) as client:  # fmt: skip
        yield c, client


def test_killed_worker_tasks_are_retried_and_results_identical(cluster, tmp_path: Path) -> None:
    local, client = cluster
    pids = client.run(os.getpid)
    plan = plan_sweep(SCENARIO, seed_list(8), {}, SHORT, "model-only")
    killed: dict[str, object] = {}

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for address, keys in client.processing().items():
                if keys and address in pids:
                    os.kill(pids[address], signal.SIGKILL)
                    killed.update(address=address, pid=pids[address], tasks=len(keys))
                    return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    opts = SweepOptions(address=local.scheduler_address, batch_size=1, progress=False)
    outcome = run_sweep(plan, tmp_path / "sweep", opts)
    killer.join()

    assert killed, "no worker was busy to kill"
    assert (
        not psutil.pid_exists(int(killed["pid"]))
        or psutil.Process(int(killed["pid"])).status() == "zombie"
    )
    assert outcome.failed == 0 and len(outcome.rows) == 8
    scenario = plan.combos[0].scenario
    for run in plan.runs:
        summary = json.loads(
            (tmp_path / "sweep" / "runs" / run.run_id / "summary.json").read_text()
        )
        block = {k: v for k, v in summary["stablecoin"].items() if k != "model"}
        assert comparable_figures(block) == comparable_figures(
            direct_stablecoin(scenario, run.seed)
        )
