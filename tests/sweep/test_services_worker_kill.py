"""A worker killed in the middle of a services run: the run's own processes (the wrapper, the
simulator and its six services) go with it, and the retry on another worker makes the run from
scratch."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest

from corridor.sweep import ServicesOptions, SweepOptions, plan_sweep, run_sweep


def _processes_of(out: Path) -> list[psutil.Process]:
    """Live processes started for runs in ``out`` (their CORRIDOR_HOME is inside it)."""
    found = []
    for proc in psutil.process_iter():
        try:
            home = proc.environ().get("CORRIDOR_HOME", "")
            if home.startswith(str(out)) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


@pytest.mark.slow
def test_killed_worker_takes_its_services_with_it(
    tmp_path: Path, pg_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORRIDOR_DATABASE_URL", pg_server_url)
    out = (tmp_path / "sweep").resolve()
    plan = plan_sweep("svb-2023", [1], {}, {"payments": 200, "days": 3}, "services")
    logs = out / "runs" / plan.runs[0].run_id / ".corridor" / "logs"
    killed: dict[str, int] = {}

    def kill_the_worker_once_services_are_up() -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not (logs / "bridge.log").exists():
            time.sleep(0.05)
        time.sleep(2.0)
        running = _processes_of(out)
        wrapper = next(p for p in running if "corridor.sweep.child" in " ".join(p.cmdline()))
        killed["processes"] = len(running)
        killed["worker"] = wrapper.ppid()
        os.kill(wrapper.ppid(), signal.SIGKILL)

    killer = threading.Thread(target=kill_the_worker_once_services_are_up)
    killer.start()
    opts = SweepOptions(workers=2, services=ServicesOptions(wallets_cap=100), progress=False)
    outcome = run_sweep(plan, out, opts)
    killer.join()
    assert killed["processes"] >= 3  # the wrapper, the simulator, services
    assert [r["status"] for r in outcome.rows] == ["ok"]
    assert int(outcome.rows[0]["worker"].rsplit(":", 1)[1]) != killed["worker"]
    deadline = time.monotonic() + 30
    while _processes_of(out) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_of(out) == []
