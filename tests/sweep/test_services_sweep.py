"""A small services-mode sweep on the local cluster: two runs at once (their own databases on
one PostgreSQL, their own ports), each equal to `corridor simulate` run alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from corridor.sweep import (
    ServicesOptions,
    SweepOptions,
    comparable_figures,
    flatten,
    plan_sweep,
    run_sweep,
)
from corridor.sweep.figures import is_excluded

pytestmark = pytest.mark.usefixtures("default_security")  # what a user runs: mTLS + credentials

PAYMENTS, DAYS, WALLETS = 200, 3, 100  # svb-2023's shocks all fall in its first three days


def _simulate_alone(out: Path, seed: int, database_url: str) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "corridor.cli", "simulate", "--scenario", "svb-2023", "--seed", str(seed),
            "--payments", str(PAYMENTS), "--days", str(DAYS), "--wallets-cap", str(WALLETS),
            "--out", str(out), "--no-brief"]  # fmt: skip
    env = {
        **os.environ,
        "CORRIDOR_DATABASE_URL": database_url,
        "CORRIDOR_HOME": str(out.parent / "home"),
    }
    return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sweep_rows_match_simulate_run_alone(
    tmp_path: Path, pg_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORRIDOR_DATABASE_URL", pg_server_url)
    alone = _simulate_alone(tmp_path / "alone", 2, pg_server_url)  # runs beside the sweep
    plan = plan_sweep("svb-2023", [1, 2], {}, {"payments": PAYMENTS, "days": DAYS}, "services")
    opts = SweepOptions(workers=2, services=ServicesOptions(wallets_cap=WALLETS), progress=False)
    outcome = run_sweep(plan, tmp_path / "sweep", opts)
    _, err = alone.communicate(timeout=240)
    assert alone.returncode == 0, err.decode()[-2000:]

    assert [r["status"] for r in outcome.rows] == ["ok", "ok"], [
        r.get("reason") for r in outcome.rows
    ]
    runs = pd.read_parquet(tmp_path / "sweep" / "runs.parquet")
    assert list(runs["mode"]) == ["services", "services"] and list(runs["seed"]) == [1, 2]
    assert runs["rails.cbdc.payments"].gt(0).all() and runs["invariants.ok"].all()

    solo = json.loads((tmp_path / "alone" / "summary.json").read_text())
    swept = json.loads(
        (tmp_path / "sweep" / "runs" / plan.runs[1].run_id / "summary.json").read_text()
    )
    assert comparable_figures(swept) == comparable_figures(solo)
    # The row holds the same figures as the run's own summary.json.
    row = runs.iloc[1].to_dict()
    for name, value in flatten(solo).items():
        if not is_excluded(name) and name != "seed":
            assert row[name] == value or (pd.isna(row[name]) and value is None), name
    # The two runs differ (seeded), and each used its own databases and ports.
    first = json.loads(
        (tmp_path / "sweep" / "runs" / plan.runs[0].run_id / "summary.json").read_text()
    )
    assert first["rails"]["cbdc"]["payments"] != swept["rails"]["cbdc"]["payments"] or (
        first["stablecoin"]["min_price"] != swept["stablecoin"]["min_price"]
    )
