"""Locust against the real services: a 10-second headless run, and a master + one worker on
localhost. Both runs go at once (fixture below), against the same corridor, to keep the area fast."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from corridor.bench import free_port
from tests.loadtests.conftest import REPO, LoadCorridor, locust

RUN = ["--headless", "--only-summary", "--stop-timeout", "5", "--corridor-batch", "50"]


@dataclass
class Run:
    returncode: int
    output: str
    summary: dict | None
    files: Path


@dataclass
class Runs:
    headless: Run
    master: Run
    worker_output: str


def _finish(proc: subprocess.Popen[str], summary: Path, files: Path, timeout_s: float) -> Run:
    try:
        output, _ = proc.communicate(timeout=timeout_s)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    data = json.loads(summary.read_text()) if summary.exists() else None
    return Run(proc.returncode, output, data, files)


@pytest.fixture(scope="module")
def runs(load_corridor: LoadCorridor, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    env, world = load_corridor.env(), str(load_corridor.world_path)
    one, mw = tmp_path_factory.mktemp("headless"), tmp_path_factory.mktemp("master")
    headless = locust([*RUN, "-u", "8", "-r", "8", "-t", "10s", "--csv", str(one / "stats"),
                       "--html", str(one / "stats.html"), "--corridor-world", world,
                       "--corridor-summary", str(one / "summary.json")], env, REPO)  # fmt: skip
    port = free_port()
    master = locust([*RUN, "--master", "--expect-workers", "1", "--master-bind-host", "127.0.0.1",
                     "--master-bind-port", str(port), "-u", "4", "-r", "4", "-t", "5s",
                     "--corridor-world", world, "--corridor-summary", str(mw / "summary.json")],
                    env, REPO)  # fmt: skip
    worker = locust(
        ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)], env, REPO
    )
    head = _finish(headless, one / "summary.json", one, 120)
    mast = _finish(master, mw / "summary.json", mw, 120)
    work = _finish(worker, mw / "none", mw, 30)
    return Runs(head, mast, work.output)


def test_headless_run_moves_payments_without_failures(runs: Runs) -> None:
    r = runs.headless
    assert r.summary is not None, r.output[-4000:]
    assert r.returncode == 0, r.output[-4000:]
    s = r.summary
    assert s["requests"] > 0 and s["payments"] > 0
    assert s["failures"] == 0, s["errors"]
    paid = {x["name"].split(" [")[0]: x["payments"] for x in s["rows"] if x["type"] == "grpc"}
    assert paid.get("Wallets/PayBatch", 0) > 0, paid
    assert paid.get("Bridge/CrossBorderPayBatch", 0) > 0, paid
    assert (r.files / "stats_stats.csv").exists() and (r.files / "stats.html").exists()


def test_master_and_one_worker_on_localhost(runs: Runs) -> None:
    r = runs.master
    assert r.summary is not None, r.output[-4000:]
    assert r.returncode == 0, r.output[-4000:]
    s = r.summary
    assert s["workers"] == 1, r.output[-4000:]
    assert s["requests"] > 0 and s["payments"] > 0, s  # made by the worker: a master runs no users
    assert s["failures"] == 0, s["errors"]
    assert "Traceback" not in runs.worker_output, runs.worker_output[-4000:]
